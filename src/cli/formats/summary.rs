//! `--summary`: resources per kind, valid, invalid and skipped (as kubeconform counts them).
//!
//! A resource is invalid when it has an error, skipped when no schema checked it (a kind in
//! `--skip-kinds`, or without a schema), valid otherwise (warnings allowed).

use super::Report;
use crate::validate::Severity;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub resources: usize,
    pub valid: usize,
    pub invalid: usize,
    pub skipped: usize,
}

impl Counts {
    fn add(&mut self, invalid: bool, skipped: bool) {
        self.resources += 1;
        if invalid {
            self.invalid += 1;
        } else if skipped {
            self.skipped += 1;
        } else {
            self.valid += 1;
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "resources": self.resources,
            "valid": self.valid,
            "invalid": self.invalid,
            "skipped": self.skipped,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub files: usize,
    pub unit: (&'static str, &'static str),
    pub total: Counts,
    pub kinds: BTreeMap<String, Counts>,
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    pub fn of(report: &Report) -> Summary {
        let mut invalid = vec![false; report.entries.len()];
        let mut s = Summary {
            files: report.files,
            unit: report.unit,
            ..Summary::default()
        };
        for v in report.violations {
            match v.severity {
                Severity::Error => {
                    s.errors += 1;
                    if let Some(i) = invalid.get_mut(v.doc) {
                        *i = true;
                    }
                }
                Severity::Warning => s.warnings += 1,
            }
        }
        for (e, bad) in report.entries.iter().zip(invalid) {
            let kind = if e.kind.is_empty() { "?" } else { e.kind };
            s.total.add(bad, e.skipped);
            s.kinds
                .entry(kind.to_string())
                .or_default()
                .add(bad, e.skipped);
        }
        s
    }

    /// `Summary: 12 resources in 3 files: 10 valid, 1 invalid, 1 skipped (2 errors, 1 warning)`
    /// (or `in 2 environments`, `in 1 build`)
    /// and a line per kind.
    pub fn text(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let t = &self.total;
        let mut out = format!(
            "Summary: {} in {}: {} valid, {} invalid, {} skipped ({}, {})\n",
            plural(t.resources, "resource", "resources"),
            plural(self.files, self.unit.0, self.unit.1),
            t.valid,
            t.invalid,
            t.skipped,
            plural(self.errors, "error", "errors"),
            plural(self.warnings, "warning", "warnings"),
        );
        let width = self.kinds.keys().map(String::len).max().unwrap_or(4).max(4);
        out.push_str(&format!(
            "  {:width$}  {:>9}  {:>5}  {:>7}  {:>7}\n",
            "kind", "resources", "valid", "invalid", "skipped"
        ));
        for (kind, c) in &self.kinds {
            out.push_str(&format!(
                "  {kind:width$}  {:>9}  {:>5}  {:>7}  {:>7}\n",
                c.resources, c.valid, c.invalid, c.skipped
            ));
        }
        out
    }

    pub fn json(&self) -> serde_json::Value {
        let mut v = self.total.json();
        v["files"] = self.files.into();
        v["errors"] = self.errors.into();
        v["warnings"] = self.warnings.into();
        v["kinds"] = self
            .kinds
            .iter()
            .map(|(k, c)| (k.clone(), c.json()))
            .collect::<serde_json::Map<_, _>>()
            .into();
        v
    }
}
