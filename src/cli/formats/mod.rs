//! Validation reports: what was validated and what was found, in the format CI wants.
//!
//! A `Report` lists every validated resource (`Entry`: its id, file, line and group — the
//! file for `strata validate`, the build or environment for `--validate`) and the
//! violations. `text` prints diagnostics; `json` (one object per finding per line, as
//! `--error-format json` always printed), `junit` (a test case per resource) and `sarif`
//! (SARIF 2.1.0 for code scanning) return a document for standard output or `--report`.
//! Locations in reports are always in a real file: a finding placed in the rendered output
//! reports the resource's own line in its source file, and the rendered line beside it.

mod json;
mod junit;
mod sarif;
mod summary;
pub mod text;

use super::args::Format;
use crate::validate::{Severity, Violation};
use std::path::Path;
use std::rc::Rc;

pub use summary::Summary;

/// One validated resource.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
    /// The source file as shown to the user (`<stdin>`; empty when generated).
    pub file: Rc<str>,
    /// The line its document starts on.
    pub line: usize,
    /// The index into `Report::groups`.
    pub group: usize,
    /// Not checked against a schema.
    pub skipped: bool,
}

impl Entry<'_> {
    /// `Deployment/web` or `Deployment/web (namespace shop)`.
    pub fn title(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{} (namespace {})", self.kind, self.name, self.namespace)
        }
    }
}

/// A rendered stream some findings point into.
pub struct Rendered {
    /// `<rendered overlays/prod>`
    pub name: String,
    pub text: String,
}

pub struct Report<'a> {
    pub entries: Vec<Entry<'a>>,
    pub violations: &'a [Violation],
    /// Group names: files for `strata validate`, builds or environments for `--validate`.
    pub groups: Vec<String>,
    /// The rendered output of a group, when a finding points into it.
    pub rendered: Vec<Option<Rendered>>,
    /// Standard input's text, when it was read.
    pub stdin: Option<&'a str>,
    /// How many inputs (files, builds or environments: `unit` names them).
    pub files: usize,
    /// The singular and plural of what `files` counts.
    pub unit: (&'static str, &'static str),
    pub summary: bool,
}

impl Report<'_> {
    pub fn errors(&self) -> usize {
        self.violations
            .iter()
            .filter(|v| v.severity == Severity::Error)
            .count()
    }

    /// Where a finding is in a real file: its file (shown) and line, and the rendered line
    /// when the field is only in the rendered output.
    pub fn place(&self, v: &Violation) -> (String, usize, usize, Option<(usize, usize)>) {
        let entry = self.entries.get(v.doc);
        let file = entry.map(|e| e.file.to_string()).unwrap_or_default();
        if v.rendered {
            let line = entry.map_or(1, |e| e.line);
            (file, line, 1, Some((v.line, v.col.max(1))))
        } else {
            (file, v.line.max(1), v.col.max(1), None)
        }
    }

    pub fn summary(&self) -> Summary {
        Summary::of(self)
    }

    /// The report as a document (machine formats; text is plain lines).
    pub fn document(&self, format: Format) -> String {
        match format {
            Format::Text => text::plain(self),
            Format::Json => json::lines(self),
            Format::Junit => junit::xml(self),
            Format::Sarif => sarif::log(self),
        }
    }
}

/// The format of `--report FILE` when `--report-format` is not given.
pub fn format_of(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") | Some("jsonl") => Format::Json,
        Some("xml") => Format::Junit,
        Some("sarif") => Format::Sarif,
        _ => Format::Text,
    }
}
