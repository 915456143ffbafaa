//! Where a violation points: the line of the offending field, not of its document.
//!
//! A document read by `strata validate` carries its text: the field is looked up there. A
//! build's resources went through patches and transformers, so their field is looked up in
//! the file the resource was read from (`Locator`), and used only when it is there as it
//! was rendered: a wrong value must have the same value in the source, an unknown or
//! misnamed field must exist there. Otherwise a patch or transformer produced the field,
//! and it is placed in the rendered output instead (`in_rendered`), the source file still
//! named. A template (`.j2`) is not YAML before rendering: its field is the one line that
//! sets the key (with the rendered value, for a wrong value), when there is exactly one.
//! Source files are read and parsed once, and only when a violation needs them.

use super::{Doc, Source, Violation};
use crate::yaml::{self, Document, Value};
use std::collections::HashMap;
use std::path::PathBuf;

/// The line and column of `segments` in a document's source, or of the longest prefix of
/// it that the source has (the whole document for none).
fn nearest(src: &Source, segments: &[String]) -> (usize, usize) {
    for n in (0..=segments.len()).rev() {
        if let Some(place) = exact(src, &segments[..n]) {
            return place;
        }
    }
    (src.line, src.col)
}

/// The line and column of exactly `segments` in a document's source.
fn exact(src: &Source, segments: &[String]) -> Option<(usize, usize)> {
    let path: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (line, col, _) = yaml::locate(src.text, 0, &path)?;
    Some(if line == 1 {
        (src.line, src.col + col - 1)
    } else {
        (src.line + line - 1, col)
    })
}

/// Place the violations of documents that carry their source at their field.
pub fn in_documents(violations: &mut [Violation], docs: &[Doc]) {
    for v in violations {
        if let Some(src) = docs.get(v.doc).and_then(|d| d.source.as_ref()) {
            (v.line, v.col) = nearest(src, &v.segments);
        }
    }
}

/// The value at `segments` (map keys and list indexes).
fn value_at<'a>(mut v: &'a Value, segments: &[String]) -> Option<&'a Value> {
    for s in segments {
        v = match v {
            Value::Map(m) => m.get(s.as_str())?,
            Value::Seq(items) => items.get(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Violations about a value (rather than a field's presence): its source must agree.
fn about_value(rule: &str) -> bool {
    matches!(rule, "wrong-type" | "schema")
}

struct ParsedFile {
    text: String,
    /// `None` when the text is not YAML as it is (a template).
    docs: Option<Vec<Document>>,
}

/// Finds a build's violations in the files their resources were read from.
#[derive(Default)]
pub struct Locator {
    files: HashMap<PathBuf, Option<ParsedFile>>,
}

fn is_template(file: &std::path::Path) -> bool {
    file.extension().is_some_and(|e| e == "j2")
}

/// A field of a template (whose text is not YAML before rendering): the one line that
/// sets its key (`key:` or `- key:`), to the rendered value itself for a wrong value.
fn in_template(text: &str, v: &Violation, rendered: Option<&Value>) -> Option<(usize, usize)> {
    let key = v.segments.last().filter(|k| k.parse::<usize>().is_err())?;
    let value = match rendered.and_then(Value::scalar_text) {
        Some(t) if about_value(v.rule) => Some(t),
        _ if about_value(v.rule) => return None,
        _ => None,
    };
    let mut found = None;
    for (n, line) in text.lines().enumerate() {
        let body = line.trim_start();
        let body = body.strip_prefix("- ").unwrap_or(body).trim_start();
        let Some(rest) = body.strip_prefix(key.as_str()) else {
            continue;
        };
        if !rest.trim_start().starts_with(':') {
            continue;
        }
        let written = rest.trim_start()[1..]
            .split(" #")
            .next()
            .unwrap_or("")
            .trim();
        let written = written.trim_matches(|c| c == '"' || c == '\'');
        if value.as_ref().is_some_and(|t| written != t) {
            continue;
        }
        if found.is_some() {
            return None;
        }
        found = Some((n + 1, line.len() - body.len() + 1));
    }
    found
}

impl Locator {
    /// Move `v` to its field's line in the source file of `d` (the document it is about, as
    /// rendered). `false` when the source does not have the field as rendered: a patch or
    /// transformer produced it, and the caller places it with `in_rendered`.
    pub fn in_source_file(&mut self, v: &mut Violation, d: &Doc) -> bool {
        let Some(file) = d.file.clone() else {
            return false;
        };
        let parsed = self.files.entry(file.clone()).or_insert_with(|| {
            let text = std::fs::read_to_string(&file).ok()?;
            let docs = yaml::parse_documents(&text).ok();
            Some(ParsedFile { text, docs })
        });
        let Some(parsed) = parsed else {
            return false;
        };
        let template = is_template(&file);
        let found = parsed.docs.as_ref().and_then(|docs| {
            // The document that starts on the resource's line, if it is still the same kind
            // (a template's lines can differ from its rendered text's).
            let index = docs.iter().position(|s| {
                s.line == d.line && s.value.str_at(&["kind"]) == d.value.str_at(&["kind"])
            })?;
            if about_value(v.rule)
                && value_at(&docs[index].value, &v.segments) != value_at(d.value, &v.segments)
            {
                return None;
            }
            exact(&Source::of(&parsed.text, docs, index), &v.segments)
        });
        let found = match found {
            None if template => in_template(&parsed.text, v, value_at(d.value, &v.segments)),
            found => found,
        };
        match found {
            Some((line, col)) => {
                (v.line, v.col) = (line, col);
                true
            }
            None => false,
        }
    }
}

/// The documents of a rendered stream (`---` between documents, as strata prints it).
pub fn rendered_documents(stream: &str) -> Vec<Source<'_>> {
    let mut out = Vec::new();
    let (mut start, mut line, mut at) = (0, 1, 1);
    let mut offset = 0;
    for l in stream.split_inclusive('\n') {
        if l.trim_end() == "---" {
            out.push(Source {
                text: &stream[start..offset],
                line: at,
                col: 1,
            });
            start = offset + l.len();
            at = line + 1;
        }
        offset += l.len();
        line += 1;
    }
    out.push(Source {
        text: &stream[start..],
        line: at,
        col: 1,
    });
    out
}

/// Place `v` at its field in the rendered document `rendered` (one of `rendered_documents`).
pub fn in_rendered(v: &mut Violation, rendered: &Source) {
    (v.line, v.col) = nearest(rendered, &v.segments);
    v.rendered = true;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Severity;

    fn violation(rule: &'static str, path: &str) -> Violation {
        let value = Value::Null;
        let d = Doc {
            value: &value,
            file: None,
            line: 1,
            source: None,
            group: 0,
        };
        Violation::of(
            &d,
            0,
            Severity::Error,
            rule,
            path.split('.').map(str::to_string).collect(),
            String::new(),
            None,
        )
    }

    #[test]
    fn fields_are_found_in_their_document() {
        let text =
            "a: 1\n---\n# c\nkind: X\nspec:\n  items:\n  - name: a\n  - {name: b, port: x}\n";
        let docs = yaml::parse_documents(text).expect("yaml");
        let src = Source::of(text, &docs, 1);
        assert_eq!((src.line, src.col), (4, 1));
        for (path, want) in [
            ("spec.items.1.port", (8, 15)),
            ("spec.items.0.name", (7, 5)),
            ("spec.missing.deeper", (5, 1)),
            ("kind", (4, 1)),
        ] {
            assert_eq!(
                nearest(&src, &violation("schema", path).segments),
                want,
                "{path}"
            );
        }
    }

    #[test]
    fn rendered_streams_split_into_documents() {
        let stream = "kind: A\n---\nkind: B\nspec:\n  x: 1\n---\nkind: C\n";
        let docs = rendered_documents(stream);
        assert_eq!(docs.len(), 3);
        let mut v = violation("schema", "spec.x");
        in_rendered(&mut v, &docs[1]);
        assert_eq!((v.line, v.col, v.rendered), (5, 3, true));
    }

    #[test]
    fn a_changed_value_is_placed_in_the_rendered_output() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("d.yaml");
        std::fs::write(
            &file,
            "kind: Deployment\nspec:\n  replicas: 3\n  paused: x\n",
        )
        .expect("write");
        let rendered = yaml::parse_documents(
            "kind: Deployment\nspec:\n  replicas: three\n  paused: x\n  extra: 1\n",
        )
        .expect("yaml")
        .remove(0)
        .value;
        let d = Doc {
            value: &rendered,
            file: Some(file),
            line: 1,
            source: None,
            group: 0,
        };
        let mut locator = Locator::default();
        let mut same = violation("wrong-type", "spec.paused");
        assert!(locator.in_source_file(&mut same, &d));
        assert_eq!((same.line, same.col), (4, 3));
        let mut changed = violation("wrong-type", "spec.replicas");
        assert!(
            !locator.in_source_file(&mut changed, &d),
            "a patch changed it"
        );
        let mut added = violation("unknown-field", "spec.extra");
        assert!(!locator.in_source_file(&mut added, &d), "a patch added it");
    }

    #[test]
    fn template_fields_are_found_by_their_key() {
        let text = "kind: Deployment\nspec:\n  replicas: {{ values.replicas }}\n  extra: 1\n  template:\n    spec:\n      containers:\n      - name: {{ values.name }}\n        imagePullPolicy: 7\n{%- if x %}\n      - name: b\n{%- endif %}\n";
        let rendered = yaml::parse_documents("kind: Deployment\nspec:\n  replicas: three\n  extra: 1\n  template:\n    spec:\n      containers:\n      - {name: a, imagePullPolicy: 7}\n")
            .expect("yaml")
            .remove(0)
            .value;
        let at = |rule, path: &str| {
            let v = violation(rule, path);
            in_template(text, &v, value_at(&rendered, &v.segments))
        };
        assert_eq!(at("unknown-field", "spec.extra"), Some((4, 3)));
        assert_eq!(
            at(
                "wrong-type",
                "spec.template.spec.containers.0.imagePullPolicy"
            ),
            Some((9, 9))
        );
        assert_eq!(
            at("wrong-type", "spec.replicas"),
            None,
            "the value comes from values"
        );
        assert_eq!(
            at("schema", "spec.template.spec.containers.0.name"),
            None,
            "two lines set it"
        );
    }
}
