//! The text report: errors and warnings as diagnostics with a snippet of the field's line,
//! on standard error (warnings first, each once). `plain` is the same as `error:` and
//! `warning:` lines without snippets, for `--report FILE`.

use super::Report;
use crate::Error;
use crate::cli::report;
use crate::error::Location;
use crate::validate::{Severity, Violation};

/// Help, plus where a field only in the rendered output came from.
fn help(report: &Report, v: &Violation) -> Option<String> {
    if !v.rendered {
        return v.help.clone();
    }
    let file = report.entries.get(v.doc).map(|e| &*e.file).unwrap_or("");
    let note = if file.ends_with(".j2") {
        format!("the field is in the output of template `{file}`")
    } else if file.is_empty() {
        "a patch or transformer set this field (a generator made the resource)".to_string()
    } else {
        format!("a patch or transformer set this field (the resource comes from `{file}`)")
    };
    Some(match &v.help {
        Some(h) => format!("{h}; {note}"),
        None => note,
    })
}

/// `file:line:col`, `<stdin>:line:col` or `<rendered overlays/prod>:line:col`.
fn place(report: &Report, v: &Violation) -> String {
    let entry = report.entries.get(v.doc);
    let name = if v.rendered {
        entry
            .and_then(|e| report.rendered.get(e.group))
            .and_then(Option::as_ref)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    } else {
        entry.map(|e| e.file.to_string()).unwrap_or_default()
    };
    if name.is_empty() {
        return String::new();
    }
    format!("{name}:{}:{}: ", v.line.max(1), v.col.max(1))
}

fn warning_line(report: &Report, v: &Violation) -> String {
    let mut line = format!(
        "warning: {}{}: {}\n",
        place(report, v),
        v.subject(),
        v.message
    );
    if let Some(h) = help(report, v) {
        line.push_str(&format!("  help: {h}\n"));
    }
    line
}

/// The environments' findings at one place of a shared source file, with the same message:
/// one finding, naming the environments (their namespaces may differ; the place does not).
fn shared<'a>(report: &'a Report, errors: Vec<&'a Violation>) -> Vec<(Violation, Vec<&'a str>)> {
    let mut out: Vec<(Violation, Vec<&str>)> = Vec::new();
    let label = |v: &Violation| {
        report
            .entries
            .get(v.doc)
            .and_then(|e| report.groups.get(e.group))
            .map_or("", String::as_str)
    };
    for v in errors {
        let same = |seen: &Violation| {
            !v.rendered
                && !seen.rendered
                && v.file.is_some()
                && (
                    &seen.file,
                    seen.line,
                    seen.col,
                    &seen.message,
                    &seen.help,
                    &seen.resource,
                ) == (&v.file, v.line, v.col, &v.message, &v.help, &v.resource)
        };
        match out.iter_mut().find(|(seen, _)| same(seen)) {
            Some((seen, envs)) => {
                if seen.namespace != v.namespace {
                    seen.namespace.clear();
                }
                envs.push(label(v));
            }
            None => out.push((v.clone(), vec![label(v)])),
        }
    }
    out
}

/// Print the findings on standard error: warnings first (each once), then every error.
pub fn print(report: &Report) {
    let mut seen = std::collections::HashSet::new();
    for v in report
        .violations
        .iter()
        .filter(|v| v.severity == Severity::Warning)
    {
        if seen.insert(warning_line(report, v)) {
            show(report, v, &[], Severity::Warning);
        }
    }
    let errors: Vec<&Violation> = report
        .violations
        .iter()
        .filter(|v| v.severity == Severity::Error)
        .collect();
    let grouped = if report.unit.0 == "environment" {
        shared(report, errors)
    } else {
        errors
            .into_iter()
            .map(|v| (v.clone(), Vec::new()))
            .collect()
    };
    for (v, envs) in &grouped {
        show(report, v, envs, Severity::Error);
    }
}

/// One finding as a diagnostic: at the field's line in its source file, in standard input
/// or in the rendered stream.
fn show(report: &Report, v: &Violation, envs: &[&str], severity: Severity) {
    let mut message = format!("{}: {}", v.subject(), v.message);
    if envs.len() > 1 {
        let names: Vec<String> = envs.iter().map(|e| format!("`{e}`")).collect();
        message = format!("environments {}: {message}", names.join(", "));
    }
    let mut e = Error::new(message);
    if let Some(h) = help(report, v) {
        e = e.with_help(h);
    }
    let print_in = |e: &Error, source: Option<(String, String)>| match severity {
        Severity::Warning => report::print_warning_in(e, source),
        _ => report::print_in(e, source),
    };
    let entry = report.entries.get(v.doc);
    let located = |file: std::path::PathBuf| Location {
        file,
        line: v.line.max(1),
        col: v.col.max(1),
        offset: 0,
    };
    if v.rendered {
        let rendered = entry
            .and_then(|e| report.rendered.get(e.group))
            .and_then(Option::as_ref);
        if let Some(r) = rendered {
            e = e.at(located(r.name.clone().into()));
            print_in(&e, Some((r.name.clone(), r.text.clone())));
            return;
        }
    }
    match (&v.file, report.stdin) {
        (Some(f), _) => {
            e = e.at(located(f.clone()));
            match severity {
                Severity::Warning => report::print_warning(&e),
                _ => report::print(&e),
            }
        }
        (None, Some(text)) => {
            e = e.at(located("<stdin>".into()));
            print_in(&e, Some(("<stdin>".into(), text.to_string())));
        }
        (None, None) => print_in(&e, None),
    }
}

/// The findings as plain lines (`error: file:line:col: …`, then `help:`), and the summary
/// with `--summary`.
pub fn plain(report: &Report) -> String {
    let mut out = String::new();
    for v in report.violations {
        if v.severity == Severity::Warning {
            out.push_str(&warning_line(report, v));
            continue;
        }
        out.push_str(&format!(
            "error: {}{}: {}\n",
            place(report, v),
            v.subject(),
            v.message
        ));
        if let Some(h) = help(report, v) {
            out.push_str(&format!("  help: {h}\n"));
        }
    }
    if report.summary {
        out.push_str(&report.summary().text());
    }
    out
}
