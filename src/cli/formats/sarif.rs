//! `--output sarif`: a SARIF 2.1.0 log, which GitHub code scanning turns into annotations
//! on the pull request. One run; the tool's rules are strata's validation rules; a result
//! per finding, located in the source file (a finding only in the rendered output is
//! located at its resource and says where in the output it is).

use super::Report;
use crate::validate::{RULES, Severity};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

pub fn log(report: &Report) -> String {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|(id, text)| {
            serde_json::json!({
                "id": id,
                "shortDescription": { "text": text },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = report
        .violations
        .iter()
        .map(|v| {
            let (file, line, col, rendered) = report.place(v);
            let mut text = format!("{}: {}", v.subject(), v.message);
            if let Some((l, c)) = rendered {
                let output = report
                    .entries
                    .get(v.doc)
                    .and_then(|e| report.groups.get(e.group))
                    .cloned()
                    .unwrap_or_default();
                text.push_str(&format!(
                    " (set by a patch or transformer: line {l}, column {c} of the rendered output of {output})"
                ));
            }
            if let Some(h) = &v.help {
                text.push_str(&format!("; help: {h}"));
            }
            let uri = if file == "<stdin>" {
                "stdin".to_string()
            } else {
                file.replace('\\', "/")
            };
            let logical = serde_json::json!([{
                "fullyQualifiedName": if v.path.is_empty() { v.resource.clone() } else { format!("{}:{}", v.resource, v.path) },
                "kind": "object",
            }]);
            // A generated object has no file: only its logical location.
            let location = if file.is_empty() {
                serde_json::json!({ "logicalLocations": logical })
            } else {
                serde_json::json!({
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri },
                        "region": { "startLine": line, "startColumn": col },
                    },
                    "logicalLocations": logical,
                })
            };
            serde_json::json!({
                "ruleId": v.rule,
                "ruleIndex": RULES.iter().position(|(id, _)| *id == v.rule).unwrap_or(0),
                "level": match v.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": { "text": text },
                "locations": [location],
            })
        })
        .collect();
    let mut run = serde_json::json!({
        "tool": {
            "driver": {
                "name": "strata",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }
        },
        "results": results,
    });
    if report.summary {
        run["properties"] = serde_json::json!({ "summary": report.summary().json() });
    }
    let log = serde_json::json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    });
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}
