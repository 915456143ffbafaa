//! Validation against Kubernetes schemas: catch the bad manifest before the cluster does.
//!
//! Each document is checked against the schema of its `apiVersion`/`kind` for the target
//! Kubernetes version (embedded bundles, see `bundle.rs`) or the CRD that defines it
//! (`crd.rs`). Strict by default, as the API server's strict field validation: an unknown
//! field is an error. Removed API versions are errors naming the replacement, deprecated
//! ones are warnings. Documents are validated in parallel and every violation is kept, in
//! input order.

pub mod apis;
pub mod bundle;
pub mod crd;

use crate::error::{Error, Result};
use crate::template::schema::to_json;
use crate::yaml::Value;
use rayon::prelude::*;
use std::path::PathBuf;

/// What to do with a kind that has neither a built-in schema nor a CRD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Missing {
    #[default]
    Warn,
    Error,
    Ignore,
}

#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// `1.NN`; default the newest shipped.
    pub kube_version: String,
    pub strict: bool,
    pub missing: Missing,
    pub skip_kinds: Vec<String>,
    /// CRD documents given with `--crds`.
    pub crds: Vec<Value>,
}

impl Default for ValidateOptions {
    fn default() -> ValidateOptions {
        ValidateOptions {
            kube_version: bundle::newest().to_string(),
            strict: true,
            missing: Missing::Warn,
            skip_kinds: Vec::new(),
            crds: Vec::new(),
        }
    }
}

/// A document to validate and where it came from.
#[derive(Debug, Clone)]
pub struct Doc<'a> {
    pub value: &'a Value,
    pub file: Option<PathBuf>,
    pub line: usize,
    /// The text of its file and the document's index there (to find a field's own line).
    pub source: Option<(&'a str, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone)]
pub struct Violation {
    pub severity: Severity,
    /// `Deployment/web`
    pub resource: String,
    pub namespace: String,
    /// Dotted field path (`spec.replicas`), empty for the whole object.
    pub path: String,
    pub message: String,
    pub help: Option<String>,
    pub file: Option<PathBuf>,
    pub line: usize,
}

impl Violation {
    pub fn to_error(&self) -> Error {
        let ns = if self.namespace.is_empty() {
            String::new()
        } else {
            format!(" in namespace `{}`", self.namespace)
        };
        let at = if self.path.is_empty() {
            String::new()
        } else {
            format!(" at `{}`", self.path)
        };
        let mut e = Error::new(format!("{}{ns}{at}: {}", self.resource, self.message));
        if let Some(f) = &self.file {
            e = e.at(crate::error::Location {
                file: f.clone(),
                line: self.line.max(1),
                col: 1,
                offset: 0,
            });
        }
        match &self.help {
            Some(h) => e.with_help(h.clone()),
            None => e,
        }
    }

    /// One JSON line for `--error-format json`.
    pub fn to_json_line(&self) -> String {
        serde_json::json!({
            "severity": match self.severity { Severity::Error => "error", Severity::Warning => "warning" },
            "resource": self.resource,
            "namespace": self.namespace,
            "path": self.path,
            "message": self.message,
            "help": self.help,
            "file": self.file.as_ref().map(|f| f.display().to_string()),
            "line": self.line,
        })
        .to_string()
    }
}

fn minor(version: &str) -> u32 {
    version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// Validate documents; violations come back in input order.
pub fn validate(docs: &[Doc], opts: &ValidateOptions) -> Result<Vec<Violation>> {
    let bundle = bundle::bundle(&opts.kube_version)?;
    let mut crds = crd::Crds::default();
    for c in &opts.crds {
        crds.add(c);
    }
    for d in docs {
        crds.add(d.value);
    }
    let m = minor(&opts.kube_version);
    let per_doc: Vec<Vec<Violation>> = docs
        .par_iter()
        .map(|d| check(d, &bundle, &crds, opts, m))
        .collect();
    Ok(per_doc.into_iter().flatten().collect())
}

fn check(
    d: &Doc,
    bundle: &bundle::Bundle,
    crds: &crd::Crds,
    opts: &ValidateOptions,
    minor: u32,
) -> Vec<Violation> {
    let api = d.value.str_at(&["apiVersion"]).unwrap_or("");
    let kind = d.value.str_at(&["kind"]).unwrap_or("");
    let name = d.value.str_at(&["metadata", "name"]).unwrap_or("");
    let violation =
        |severity, path: String, message: String, help: Option<String>, line: usize| Violation {
            severity,
            resource: format!("{}/{}", if kind.is_empty() { "?" } else { kind }, name),
            namespace: d
                .value
                .str_at(&["metadata", "namespace"])
                .unwrap_or("")
                .to_string(),
            path,
            message,
            help,
            file: d.file.clone(),
            line,
        };
    if api.is_empty() || kind.is_empty() {
        return vec![violation(
            Severity::Error,
            String::new(),
            "missing `apiVersion` or `kind`".into(),
            Some("every Kubernetes object names its apiVersion and kind".into()),
            d.line,
        )];
    }
    if opts.skip_kinds.iter().any(|k| k == kind) {
        return Vec::new();
    }
    let mut out = Vec::new();
    match apis::change(api, kind, minor) {
        Some(apis::Change::Removed { since, replacement }) => {
            let help = if replacement.is_empty() {
                format!("{kind} no longer exists; remove it or replace it with its successor")
            } else {
                format!("use `apiVersion: {replacement}`")
            };
            out.push(violation(
                Severity::Error,
                "apiVersion".into(),
                format!(
                    "`{api}` {kind} was removed in Kubernetes 1.{since} (validating for {})",
                    opts.kube_version
                ),
                Some(help),
                field_line(d, &["apiVersion"]),
            ));
            return out;
        }
        Some(apis::Change::Deprecated {
            removal,
            replacement,
        }) => {
            out.push(violation(
                Severity::Warning,
                "apiVersion".into(),
                format!("`{api}` {kind} is deprecated and removed in Kubernetes 1.{removal}"),
                Some(if replacement.is_empty() {
                    format!("plan to remove {kind}")
                } else {
                    format!("move to `apiVersion: {replacement}`")
                }),
                field_line(d, &["apiVersion"]),
            ));
        }
        None => {}
    }
    let validator = match bundle.definition(api, kind) {
        Some(def) => bundle.validator(def, opts.strict).map_err(|e| e.message),
        None => match crds.validator(api, kind, opts.strict) {
            Some(v) => v,
            None => {
                let known = bundle.versions_of(kind);
                let (message, help) = if known.is_empty() {
                    (
                        format!("no schema for `{api}` {kind} (not a built-in kind, and no CRD in the input)"),
                        "include its CustomResourceDefinition, pass `--crds FILE`, or `--skip-kinds`".to_string(),
                    )
                } else {
                    (
                        format!("Kubernetes {} has no `{api}` {kind}", opts.kube_version),
                        format!("{kind} is served as {}", known.join(", ")),
                    )
                };
                let severity = match opts.missing {
                    Missing::Ignore => return out,
                    Missing::Warn if known.is_empty() => Severity::Warning,
                    _ => Severity::Error,
                };
                out.push(violation(
                    severity,
                    String::new(),
                    message,
                    Some(help),
                    d.line,
                ));
                return out;
            }
        },
    };
    let validator = match validator {
        Ok(v) => v,
        Err(e) => {
            out.push(violation(Severity::Error, String::new(), e, None, d.line));
            return out;
        }
    };
    let instance = to_json(d.value);
    for e in validator.iter_errors(&instance) {
        let segments: Vec<String> = e
            .instance_path()
            .to_string()
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let (path, message, help, line) = match e.kind() {
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                let field = unexpected.first().cloned().unwrap_or_default();
                let mut full = segments.clone();
                full.push(field.clone());
                let line = field_line(d, &full.iter().map(String::as_str).collect::<Vec<_>>());
                (
                    full.join("."),
                    format!("unknown field `{field}`"),
                    Some(if opts.strict {
                        "remove it or fix its spelling (strict validation; `--no-strict` allows unknown fields)".to_string()
                    } else {
                        "remove it or fix its spelling".to_string()
                    }),
                    line,
                )
            }
            _ => {
                let line = field_line(d, &segments.iter().map(String::as_str).collect::<Vec<_>>());
                let (message, help) = match e.kind() {
                    jsonschema::error::ValidationErrorKind::Type { kind } => {
                        let expected = format!("{kind:?}")
                            .to_lowercase()
                            .replace("single(", "")
                            .replace("multiple(", "")
                            .replace(['(', ')', '[', ']'], "")
                            .split(", ")
                            .filter(|t| *t != "null")
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                            .join(" or ");
                        let found = match e.instance().as_ref() {
                            serde_json::Value::String(s) => format!("the string `{s}`"),
                            serde_json::Value::Number(n) => format!("the number `{n}`"),
                            serde_json::Value::Bool(b) => format!("`{b}`"),
                            serde_json::Value::Array(_) => "a list".to_string(),
                            serde_json::Value::Object(_) => "a map".to_string(),
                            serde_json::Value::Null => "null".to_string(),
                        };
                        (
                            format!("expected {expected}, found {found}"),
                            Some("fix the value's type (quotes make a string)".to_string()),
                        )
                    }
                    jsonschema::error::ValidationErrorKind::Required { .. } => {
                        (e.to_string(), Some("add the missing field".to_string()))
                    }
                    _ => (e.to_string(), None),
                };
                (segments.join("."), message, help, line)
            }
        };
        out.push(violation(Severity::Error, path, message, help, line));
    }
    out
}

/// The line of a field in the document's source file, or the document's first line.
fn field_line(d: &Doc, path: &[&str]) -> usize {
    let Some((text, index)) = d.source else {
        return d.line;
    };
    let mut p: Vec<&str> = path.to_vec();
    while !p.is_empty() {
        if let Some((line, _, _)) = crate::yaml::locate(text, index, &p) {
            return line;
        }
        p.pop();
    }
    d.line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    fn check_text(text: &str, opts: &ValidateOptions) -> Vec<Violation> {
        let docs: Vec<Value> = parse_documents(text)
            .expect("yaml")
            .into_iter()
            .map(|d| d.value)
            .collect();
        let refs: Vec<Doc> = docs
            .iter()
            .map(|v| Doc {
                value: v,
                file: None,
                line: 1,
                source: None,
            })
            .collect();
        validate(&refs, opts).expect("validates")
    }

    #[test]
    fn built_in_kinds() {
        let opts = ValidateOptions::default();
        let ok = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: web, image: web}]\n";
        assert!(check_text(ok, &opts).is_empty());
        let wrong_type = ok.replace("spec:\n  selector", "spec:\n  replicas: three\n  selector");
        let v = check_text(&wrong_type, &opts);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].path, "spec.replicas");
        let unknown = ok.replace("spec:\n  selector", "spec:\n  replicaz: 2\n  selector");
        let v = check_text(&unknown, &opts);
        assert_eq!(v[0].message, "unknown field `replicaz`");
        let loose = ValidateOptions {
            strict: false,
            ..ValidateOptions::default()
        };
        assert!(check_text(&unknown, &loose).is_empty());
        let missing = ok.replace(
            "      containers: [{name: web, image: web}]\n",
            "      volumes: []\n",
        );
        assert!(
            check_text(&missing, &opts)
                .iter()
                .any(|v| v.message.contains("containers"))
        );
    }

    #[test]
    fn removed_and_unknown_kinds() {
        let opts = ValidateOptions::default();
        let v = check_text(
            "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\n",
            &opts,
        );
        assert!(
            v[0].message.contains("removed in Kubernetes 1.22")
                && v[0].help.as_deref() == Some("use `apiVersion: networking.k8s.io/v1`")
        );
        let foo = "apiVersion: example.com/v1\nkind: Foo\nmetadata: {name: f}\n";
        assert_eq!(check_text(foo, &opts)[0].severity, Severity::Warning);
        let err = ValidateOptions {
            missing: Missing::Error,
            ..ValidateOptions::default()
        };
        assert_eq!(check_text(foo, &err)[0].severity, Severity::Error);
        let ignore = ValidateOptions {
            missing: Missing::Ignore,
            ..ValidateOptions::default()
        };
        assert!(check_text(foo, &ignore).is_empty());
    }

    #[test]
    fn custom_resources_follow_their_crd() {
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: foos.example.com}\nspec:\n  group: example.com\n  names: {kind: Foo, plural: foos}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            required: [size]\n            properties:\n              size: {type: integer}\n";
        let opts = ValidateOptions::default();
        let good = format!(
            "{crd}---\napiVersion: example.com/v1\nkind: Foo\nmetadata: {{name: f}}\nspec: {{size: 3}}\n"
        );
        assert!(
            check_text(&good, &opts).is_empty(),
            "{:?}",
            check_text(&good, &opts)
        );
        let bad = format!(
            "{crd}---\napiVersion: example.com/v1\nkind: Foo\nmetadata: {{name: f}}\nspec: {{size: big}}\n"
        );
        let v = check_text(&bad, &opts);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].path, "spec.size");
    }
}
