//! One document against its schema: the built-in schema of its `apiVersion`/`kind`, or the
//! CRD that defines it; removed and deprecated API versions first.
//!
//! jsonschema's errors become violations with a rule, the field path as segments, and a
//! message in strata's voice (`expected integer, found the string `three``). The line is
//! the document's; `locate.rs` moves it to the field.

use super::{Doc, Missing, Severity, ValidateOptions, Violation, apis, bundle, crd};
use crate::yaml::to_json;
use jsonschema::error::ValidationErrorKind;

/// The violations of document `i`, and whether it went unchecked (no schema, or skipped).
pub(super) fn check(
    i: usize,
    d: &Doc,
    bundle: &bundle::Bundle,
    crds: &crd::Crds,
    opts: &ValidateOptions,
    minor: u32,
) -> (Vec<Violation>, bool) {
    let api = d.value.str_at(&["apiVersion"]).unwrap_or("");
    let kind = d.value.str_at(&["kind"]).unwrap_or("");
    let violation =
        |severity, rule, segments: Vec<String>, message: String, help: Option<String>| {
            Violation::of(d, i, severity, rule, segments, message, help)
        };
    if api.is_empty() || kind.is_empty() {
        return (
            vec![violation(
                Severity::Error,
                "missing-kind",
                Vec::new(),
                "missing `apiVersion` or `kind`".into(),
                Some("every Kubernetes object names its apiVersion and kind".into()),
            )],
            true,
        );
    }
    if opts.skip_kinds.iter().any(|k| k == kind) {
        return (Vec::new(), true);
    }
    let mut out = Vec::new();
    if let Some((v, removed)) = api_change(d, i, api, kind, minor, opts) {
        out.push(v);
        if removed {
            return (out, true);
        }
    }
    let validator = match bundle.definition(api, kind) {
        Some(def) => bundle.validator(def, opts.strict).map_err(|e| e.message),
        None => match crds.validator(api, kind, opts.strict) {
            Some(v) => v,
            None => {
                out.extend(no_schema(d, i, api, kind, bundle, opts));
                return (out, true);
            }
        },
    };
    let validator = match validator {
        Ok(v) => v,
        Err(e) => {
            out.push(violation(
                Severity::Error,
                "bad-schema",
                Vec::new(),
                e,
                Some("fix the CustomResourceDefinition's schema".into()),
            ));
            return (out, true);
        }
    };
    let instance = to_json(d.value);
    for e in validator.iter_errors(&instance) {
        out.push(schema_violation(d, i, &e, opts));
    }
    (out, false)
}

/// A removed API version (an error, and nothing more to check) or a deprecated one (a
/// warning): `(violation, removed)`.
fn api_change(
    d: &Doc,
    i: usize,
    api: &str,
    kind: &str,
    minor: u32,
    opts: &ValidateOptions,
) -> Option<(Violation, bool)> {
    let violation = |severity, rule, message: String, help: String| {
        Violation::of(
            d,
            i,
            severity,
            rule,
            vec!["apiVersion".into()],
            message,
            Some(help),
        )
    };
    match apis::change(api, kind, minor)? {
        apis::Change::Removed { since, replacement } => {
            let help = if replacement.is_empty() {
                format!("{kind} no longer exists; remove it or replace it with its successor")
            } else {
                format!("use `apiVersion: {replacement}`")
            };
            let message = format!(
                "`{api}` {kind} was removed in Kubernetes 1.{since} (validating for {})",
                opts.kube_version
            );
            Some((
                violation(Severity::Error, "removed-api", message, help),
                true,
            ))
        }
        apis::Change::Deprecated {
            removal,
            replacement,
        } => {
            let help = if replacement.is_empty() {
                format!("plan to remove {kind}")
            } else {
                format!("move to `apiVersion: {replacement}`")
            };
            let message =
                format!("`{api}` {kind} is deprecated and removed in Kubernetes 1.{removal}");
            Some((
                violation(Severity::Warning, "deprecated-api", message, help),
                false,
            ))
        }
    }
}

/// No schema for the document: an error, a warning or nothing, as `--missing-schemas` says.
fn no_schema(
    d: &Doc,
    i: usize,
    api: &str,
    kind: &str,
    bundle: &bundle::Bundle,
    opts: &ValidateOptions,
) -> Option<Violation> {
    let known = bundle.versions_of(kind);
    let (message, help) = if known.is_empty() {
        (
            format!("no schema for `{api}` {kind} (not a built-in kind, and no CRD in the input)"),
            "include its CustomResourceDefinition, pass `--crds FILE`, or `--skip-kinds`"
                .to_string(),
        )
    } else {
        (
            format!("Kubernetes {} has no `{api}` {kind}", opts.kube_version),
            format!("{kind} is served as {}", known.join(", ")),
        )
    };
    let severity = match opts.missing {
        Missing::Ignore => return None,
        Missing::Warn if known.is_empty() => Severity::Warning,
        _ => Severity::Error,
    };
    Some(Violation::of(
        d,
        i,
        severity,
        "no-schema",
        Vec::new(),
        message,
        Some(help),
    ))
}

/// One of jsonschema's errors as a violation in strata's voice.
fn schema_violation(
    d: &Doc,
    i: usize,
    e: &jsonschema::ValidationError<'_>,
    opts: &ValidateOptions,
) -> Violation {
    let mut segments = crate::pointer::tokens(&e.instance_path().to_string()).unwrap_or_default();
    let (rule, message, help) = match e.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let field = unexpected.first().cloned().unwrap_or_default();
            segments.push(field.clone());
            (
                "unknown-field",
                format!("unknown field `{field}`"),
                Some(if opts.strict {
                    "remove it or fix its spelling (`--allow-unknown-fields` accepts unknown fields)".to_string()
                } else {
                    "remove it or fix its spelling".to_string()
                }),
            )
        }
        ValidationErrorKind::Type { kind } => {
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
                "wrong-type",
                format!("expected {expected}, found {found}"),
                Some("fix the value's type (quotes make a string)".to_string()),
            )
        }
        ValidationErrorKind::Required { .. } => (
            "required-field",
            e.to_string(),
            Some("add the missing field".to_string()),
        ),
        _ => ("schema", e.to_string(), None),
    };
    Violation::of(d, i, Severity::Error, rule, segments, message, help)
}
