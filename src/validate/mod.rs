//! Validation: catch the bad manifest before the cluster does.
//!
//! Each document is checked against the schema of its `apiVersion`/`kind` for the target
//! Kubernetes version (embedded bundles, `bundle.rs`) or the CRD that defines it
//! (`crd.rs`), in parallel (`schema.rs`). Unknown fields are errors unless
//! `allow_unknown_fields` (the API server's strict field validation). Removed API versions
//! are errors naming the replacement, deprecated ones warnings (`apis.rs`). Within one
//! render, references between objects are checked too (`refs.rs`: a Service selecting no
//! pods, a missing ConfigMap, …), as warnings. Every finding is a `Violation` (data: a rule,
//! the document, the field path), in input order; `locate.rs` finds the line of its field.

pub mod apis;
pub mod bundle;
pub mod crd;
pub mod inputs;
pub mod locate;
pub mod refs;
mod schema;

use crate::error::Result;
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
    /// Strict field validation: an unknown field is an error.
    pub strict: bool,
    pub missing: Missing,
    pub skip_kinds: Vec<String>,
    /// CRD documents given with `--crds`.
    pub crds: Vec<Value>,
    /// Check references between the objects of a render (`refs.rs`).
    pub references: bool,
    /// Every warning is an error.
    pub warnings_as_errors: bool,
}

impl Default for ValidateOptions {
    fn default() -> ValidateOptions {
        ValidateOptions {
            kube_version: bundle::newest().to_string(),
            strict: true,
            missing: Missing::Warn,
            skip_kinds: Vec::new(),
            crds: Vec::new(),
            references: false,
            warnings_as_errors: false,
        }
    }
}

/// The text a document was read from, so that a field's own line can be found.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The document's text (from its first line to the next document).
    pub text: &'a str,
    /// The line and column (1-based) `text` starts at in its file.
    pub line: usize,
    pub col: usize,
}

impl<'a> Source<'a> {
    /// The text of `doc` (one of `docs`, as `yaml::parse_documents` returned them) in `text`.
    pub fn of(text: &'a str, docs: &[crate::yaml::Document], index: usize) -> Source<'a> {
        let start = docs.get(index).map_or(0, |d| d.offset).min(text.len());
        let end = docs
            .get(index + 1)
            .map_or(text.len(), |d| d.offset)
            .clamp(start, text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        Source {
            text: &text[start..end],
            line: docs.get(index).map_or(1, |d| d.line),
            col: text[line_start..start].chars().count() + 1,
        }
    }
}

/// A document to validate and where it came from.
#[derive(Debug, Clone)]
pub struct Doc<'a> {
    pub value: &'a Value,
    pub file: Option<PathBuf>,
    /// The line the document starts on in `file`.
    pub line: usize,
    /// Its text, when the document is exactly what was read (`strata validate`); a build's
    /// resources leave it out and `locate::Locator` reads their files when needed.
    pub source: Option<Source<'a>>,
    /// Documents of one render share a group: references are checked within a group.
    pub group: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone)]
pub struct Violation {
    pub severity: Severity,
    /// A stable id for reports (`unknown-field`, `missing-configmap`, …; see `RULES`).
    pub rule: &'static str,
    /// The index of the document in the validated input.
    pub doc: usize,
    /// `Deployment/web`
    pub resource: String,
    pub namespace: String,
    /// Dotted field path (`spec.replicas`), empty for the whole object.
    pub path: String,
    /// The same path as keys and list indexes.
    pub segments: Vec<String>,
    pub message: String,
    pub help: Option<String>,
    /// The source file of the document (`None`: standard input).
    pub file: Option<PathBuf>,
    /// 1-based line and column: in `file`, or in the rendered output when `rendered`.
    pub line: usize,
    pub col: usize,
    /// The field is not in the source file (a patch or transformer produced it): `line` and
    /// `col` are in the rendered output of the document's group.
    pub rendered: bool,
}

/// Every rule a violation can have, with a one-line description (SARIF lists them).
pub const RULES: &[(&str, &str)] = &[
    ("unknown-field", "a field the schema does not have"),
    ("wrong-type", "a value of the wrong type"),
    ("required-field", "a required field is missing"),
    ("schema", "a value the schema does not allow"),
    ("missing-kind", "a document without `apiVersion` or `kind`"),
    ("removed-api", "an API version Kubernetes no longer serves"),
    ("deprecated-api", "an API version Kubernetes will remove"),
    (
        "no-schema",
        "a kind with neither a built-in schema nor a CRD",
    ),
    ("bad-schema", "a schema that cannot be compiled"),
    (
        "service-selector",
        "a Service whose selector matches no pod template",
    ),
    (
        "missing-configmap",
        "a ConfigMap reference to a ConfigMap not in the render",
    ),
    (
        "missing-secret",
        "a Secret reference to a Secret not in the render",
    ),
    (
        "missing-service",
        "a backend naming a Service not in the render",
    ),
    (
        "missing-service-port",
        "a backend naming a port its Service does not have",
    ),
    (
        "missing-scale-target",
        "a HorizontalPodAutoscaler whose target is not in the render",
    ),
    (
        "pdb-selector",
        "a PodDisruptionBudget whose selector matches no pod template",
    ),
    (
        "missing-serviceaccount",
        "a RoleBinding to a ServiceAccount not in the render",
    ),
];

impl Violation {
    /// A violation of `doc` (fields from its id) at `segments`, placed at the document's line.
    pub fn of(
        d: &Doc,
        doc: usize,
        severity: Severity,
        rule: &'static str,
        segments: Vec<String>,
        message: String,
        help: Option<String>,
    ) -> Violation {
        let kind = d.value.str_at(&["kind"]).unwrap_or("");
        Violation {
            severity,
            rule,
            doc,
            resource: format!(
                "{}/{}",
                if kind.is_empty() { "?" } else { kind },
                d.value.str_at(&["metadata", "name"]).unwrap_or("")
            ),
            namespace: d
                .value
                .str_at(&["metadata", "namespace"])
                .unwrap_or("")
                .to_string(),
            path: segments.join("."),
            segments,
            message,
            help,
            file: d.file.clone(),
            line: d.line,
            col: 0,
            rendered: false,
        }
    }

    /// `Deployment/web in namespace `a` at `spec.x``: what the violation is about.
    pub fn subject(&self) -> String {
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
        format!("{}{ns}{at}", self.resource)
    }
}

/// What validation found, and which documents it could not check.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub violations: Vec<Violation>,
    /// Per document: not checked against a schema (skipped kind, or no schema).
    pub skipped: Vec<bool>,
}

fn minor(version: &str) -> u32 {
    version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// Validate documents; violations come back in input order (schema findings first, then
/// references), located in the documents' sources when they have one.
///
/// ```
/// use strata::{Doc, Severity, Source, ValidateOptions, validate};
/// let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: http\n";
/// let docs = strata::parse_documents(text, "svc.yaml".as_ref()).unwrap();
/// let source = Some(Source::of(text, &docs, 0));
/// let doc = Doc { value: &docs[0].value, file: None, line: 1, source, group: 0 };
/// let found = validate(&[doc], &ValidateOptions::default()).unwrap();
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].severity, Severity::Error);
/// assert!(found[0].message.contains("expected integer"), "{}", found[0].message);
/// assert_eq!((found[0].line, found[0].path.as_str()), (7, "spec.ports.0.port"));
/// ```
pub fn validate(docs: &[Doc], opts: &ValidateOptions) -> Result<Vec<Violation>> {
    validate_docs(docs, opts).map(|o| o.violations)
}

/// `validate`, also saying which documents had no schema to check against.
pub fn validate_docs(docs: &[Doc], opts: &ValidateOptions) -> Result<Outcome> {
    let bundle = bundle::bundle(&opts.kube_version)?;
    let mut crds = crd::Crds::default();
    for c in &opts.crds {
        crds.add(c);
    }
    for d in docs {
        crds.add(d.value);
    }
    let m = minor(&opts.kube_version);
    // Reference checks are serial: they overlap the parallel schema checks.
    let (per_doc, references) = rayon::join(
        || -> Vec<(Vec<Violation>, bool)> {
            docs.par_iter()
                .enumerate()
                .map(|(i, d)| schema::check(i, d, &bundle, &crds, opts, m))
                .collect()
        },
        || {
            if opts.references {
                refs::check(docs)
            } else {
                Vec::new()
            }
        },
    );
    let skipped = per_doc.iter().map(|(_, s)| *s).collect();
    let mut violations: Vec<Violation> = per_doc.into_iter().flat_map(|(v, _)| v).collect();
    violations.extend(references);
    if opts.warnings_as_errors {
        for v in &mut violations {
            v.severity = Severity::Error;
        }
    }
    locate::in_documents(&mut violations, docs);
    Ok(Outcome {
        violations,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    pub(crate) fn check_text(text: &str, opts: &ValidateOptions) -> Vec<Violation> {
        let parsed = parse_documents(text).expect("yaml");
        let refs: Vec<Doc> = parsed
            .iter()
            .enumerate()
            .map(|(i, d)| Doc {
                value: &d.value,
                file: None,
                line: d.line,
                source: Some(Source::of(text, &parsed, i)),
                group: 0,
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
        assert_eq!(
            (v[0].path.as_str(), v[0].rule),
            ("spec.replicas", "wrong-type")
        );
        assert_eq!((v[0].line, v[0].col), (5, 3));
        let unknown = ok.replace("spec:\n  selector", "spec:\n  replicaz: 2\n  selector");
        let v = check_text(&unknown, &opts);
        assert_eq!(v[0].message, "unknown field `replicaz`");
        assert_eq!((v[0].line, v[0].rule), (5, "unknown-field"));
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
                .any(|v| v.message.contains("containers") && v.rule == "required-field")
        );
    }

    #[test]
    fn properties_named_description_are_properties() {
        let opts = ValidateOptions::default();
        let pc = "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 1000\ndescription: for the important pods\n";
        assert!(
            check_text(pc, &opts).is_empty(),
            "{:?}",
            check_text(pc, &opts)
        );
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: foos.example.com}\nspec:\n  group: example.com\n  names: {kind: Foo, plural: foos}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    additionalPrinterColumns:\n    - {name: Size, type: integer, jsonPath: .spec.size, description: how big}\n    schema:\n      openAPIV3Schema:\n        type: object\n        description: a foo\n        properties:\n          spec: {type: object, description: what it is}\n";
        assert!(
            check_text(crd, &opts).is_empty(),
            "{:?}",
            check_text(crd, &opts)
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
        let promoted = ValidateOptions {
            warnings_as_errors: true,
            ..ValidateOptions::default()
        };
        assert_eq!(check_text(foo, &promoted)[0].severity, Severity::Error);
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
        assert_eq!(
            (v[0].path.as_str(), v[0].doc, v[0].line),
            ("spec.size", 1, 25)
        );
    }
}
