//! `--output json`: one JSON object per finding, one per line (what `--error-format json`
//! printed, with more fields), then `{"summary": …}` with `--summary`.

use super::Report;
use crate::validate::Severity;

pub fn lines(report: &Report) -> String {
    let mut out = String::new();
    for v in report.violations {
        let (file, line, col, rendered) = report.place(v);
        let entry = report.entries.get(v.doc);
        let mut o = serde_json::json!({
            "severity": match v.severity { Severity::Error => "error", Severity::Warning => "warning" },
            "rule": v.rule,
            "resource": v.resource,
            "apiVersion": entry.map(|e| e.api_version),
            "namespace": v.namespace,
            "path": v.path,
            "message": v.message,
            "help": v.help,
            "file": (!file.is_empty()).then_some(file),
            "line": line,
            "column": col,
        });
        if let Some((l, c)) = rendered {
            o["rendered"] = serde_json::json!({
                "output": report.groups.get(entry.map_or(0, |e| e.group)),
                "line": l,
                "column": c,
            });
        }
        out.push_str(&o.to_string());
        out.push('\n');
    }
    if report.summary {
        out.push_str(&serde_json::json!({ "summary": report.summary().json() }).to_string());
        out.push('\n');
    }
    out
}
