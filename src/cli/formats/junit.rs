//! `--output junit`: JUnit XML, as GitLab and Jenkins read it. A test suite per group (file
//! or environment), a test case per resource: failed with its errors, skipped when no schema
//! checked it; warnings go to the case's `system-err`.

use super::Report;
use crate::validate::Severity;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

pub fn xml(report: &Report) -> String {
    // Findings per resource, in order.
    let mut per_doc: Vec<Vec<&crate::validate::Violation>> = vec![Vec::new(); report.entries.len()];
    for v in report.violations {
        if let Some(list) = per_doc.get_mut(v.doc) {
            list.push(v);
        }
    }
    let describe = |v: &crate::validate::Violation| {
        let (file, line, col, rendered) = report.place(v);
        let also = rendered
            .map(|(l, c)| format!(" (rendered output line {l}, column {c})"))
            .unwrap_or_default();
        let help = v
            .help
            .as_ref()
            .map(|h| format!("\nhelp: {h}"))
            .unwrap_or_default();
        format!(
            "{file}:{line}:{col}: {}: {}{also}{help}",
            v.subject(),
            v.message
        )
    };
    let mut suites = String::new();
    let (mut all_tests, mut all_failures, mut all_skipped) = (0, 0, 0);
    for (g, group) in report.groups.iter().enumerate() {
        let mut cases = String::new();
        let (mut tests, mut failures, mut skipped) = (0, 0, 0);
        for (e, found) in report
            .entries
            .iter()
            .zip(&per_doc)
            .filter(|(e, _)| e.group == g)
        {
            tests += 1;
            let errors: Vec<_> = found
                .iter()
                .filter(|v| v.severity == Severity::Error)
                .collect();
            let warnings: Vec<_> = found
                .iter()
                .filter(|v| v.severity == Severity::Warning)
                .collect();
            cases.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\">\n",
                escape(&e.title()),
                escape(group),
                escape(&e.file),
                e.line
            ));
            if let Some(first) = errors.first() {
                failures += 1;
                let body: Vec<String> = errors.iter().map(|v| describe(v)).collect();
                cases.push_str(&format!(
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                    escape(&format!("{}: {}", first.subject(), first.message)),
                    first.rule,
                    escape(&body.join("\n"))
                ));
            } else if e.skipped {
                skipped += 1;
                cases.push_str("      <skipped message=\"no schema checked this resource\"/>\n");
            }
            if !warnings.is_empty() {
                let body: Vec<String> = warnings
                    .iter()
                    .map(|v| format!("warning: {}", describe(v)))
                    .collect();
                cases.push_str(&format!(
                    "      <system-err>{}</system-err>\n",
                    escape(&body.join("\n"))
                ));
            }
            cases.push_str("    </testcase>\n");
        }
        suites.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n{cases}  </testsuite>\n",
            escape(group)
        ));
        all_tests += tests;
        all_failures += failures;
        all_skipped += skipped;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"strata validate\" tests=\"{all_tests}\" failures=\"{all_failures}\" errors=\"0\" skipped=\"{all_skipped}\">\n{suites}</testsuites>\n"
    )
}
