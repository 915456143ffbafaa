//! Schemas of custom resources, taken from the CustomResourceDefinitions in a render (or
//! given with `--crds`).
//!
//! A CRD's `spec.versions[].schema.openAPIV3Schema` becomes a JSON Schema: null is admitted
//! everywhere (the API server prunes null fields, or keeps them when `nullable`), and
//! `x-kubernetes-int-or-string` admits an integer or a string,
//! `x-kubernetes-preserve-unknown-fields` keeps unknown fields allowed even when strict.
//! The object's `apiVersion`, `kind` and `metadata` are always allowed.

use super::bundle::strictify;
use crate::yaml::Value;
use crate::yaml::to_json;
use serde_json::{Map as JMap, Value as J, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Schemas of custom resources by `group/version/Kind` (compiled lazily).
#[derive(Default)]
pub struct Crds {
    schemas: HashMap<String, J>,
    /// Validators by (`group/version/Kind`, strict), compiled on first use.
    compiled: Mutex<HashMap<(String, bool), Compiled>>,
}

type Compiled = Result<Arc<jsonschema::Validator>, String>;

impl Crds {
    /// Add every served version of a CRD document (others are ignored).
    pub fn add(&mut self, doc: &Value) {
        if doc.str_at(&["kind"]) != Some("CustomResourceDefinition") {
            return;
        }
        let Some(group) = doc.str_at(&["spec", "group"]) else {
            return;
        };
        let Some(kind) = doc.str_at(&["spec", "names", "kind"]) else {
            return;
        };
        let versions = doc
            .get("spec")
            .and_then(|s| s.get("versions"))
            .and_then(Value::as_seq);
        for v in versions.into_iter().flatten() {
            let Some(name) = v.get("name").and_then(Value::as_str) else {
                continue;
            };
            let schema = v
                .get("schema")
                .and_then(|s| s.get("openAPIV3Schema"))
                .or_else(|| {
                    doc.get("spec")
                        .and_then(|s| s.get("validation"))
                        .and_then(|s| s.get("openAPIV3Schema"))
                });
            let Some(schema) = schema else { continue };
            self.schemas
                .insert(format!("{group}/{name}/{kind}"), convert(&to_json(schema)));
        }
    }

    /// A validator for `apiVersion`/`kind`, if a CRD defines it (compiled once per kind
    /// and strictness).
    pub fn validator(&self, api_version: &str, kind: &str, strict: bool) -> Option<Compiled> {
        let key = format!("{api_version}/{kind}");
        let schema = self.schemas.get(&key)?;
        let mut compiled = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        let entry = compiled
            .entry((key, strict))
            .or_insert_with(|| compile(schema, strict));
        Some(entry.clone())
    }
}

fn compile(schema: &J, strict: bool) -> Compiled {
    let mut s = schema.clone();
    if let J::Object(m) = &mut s {
        let props = m
            .entry("properties")
            .or_insert_with(|| J::Object(JMap::new()));
        if let J::Object(p) = props {
            p.insert("apiVersion".into(), json!({"type": "string"}));
            p.insert("kind".into(), json!({"type": "string"}));
            p.insert("metadata".into(), json!({"type": "object"}));
        }
    }
    if strict {
        strictify(&mut s);
    }
    jsonschema::validator_for(&s)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

/// OpenAPI v3 (Kubernetes structural schema) → JSON Schema.
pub fn convert(v: &J) -> J {
    match v {
        J::Object(m) => {
            let mut out = JMap::new();
            for (k, child) in m {
                let converted = match k.as_str() {
                    "properties" | "patternProperties" | "$defs" | "definitions" => match child {
                        J::Object(props) => {
                            J::Object(props.iter().map(|(n, s)| (n.clone(), convert(s))).collect())
                        }
                        other => other.clone(),
                    },
                    "items" | "additionalProperties" | "not" => convert(child),
                    "allOf" | "anyOf" | "oneOf" => match child {
                        J::Array(items) => J::Array(items.iter().map(convert).collect()),
                        other => other.clone(),
                    },
                    "nullable" | "x-kubernetes-int-or-string" => continue,
                    _ => child.clone(),
                };
                out.insert(k.clone(), converted);
            }
            // The API server prunes a null field before validating a custom resource
            // (unless the field is `nullable`, which keeps it): null is accepted either way.
            if m.get("x-kubernetes-int-or-string").and_then(J::as_bool) == Some(true) {
                out.remove("type");
                out.insert(
                    "anyOf".into(),
                    json!([{"type": "integer"}, {"type": "string"}, {"type": "null"}]),
                );
            }
            match out.get("type").cloned() {
                Some(J::String(t)) => {
                    out.insert("type".into(), json!([t, "null"]));
                }
                Some(J::Array(mut types)) if !types.contains(&json!("null")) => {
                    types.push(json!("null"));
                    out.insert("type".into(), J::Array(types));
                }
                _ => {}
            }
            J::Object(out)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_extensions() {
        let s = json!({
            "type": "object",
            "properties": {
                "port": {"x-kubernetes-int-or-string": true},
                "note": {"type": "string", "nullable": true},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
            }
        });
        let mut c = convert(&s);
        strictify(&mut c);
        let v = jsonschema::validator_for(&c).expect("compiles");
        assert!(v.is_valid(&json!({"port": 80, "note": null, "free": {"any": 1}})));
        assert!(v.is_valid(&json!({"port": "http"})));
        assert!(
            v.is_valid(&json!({"port": null, "free": null})),
            "null is pruned"
        );
        assert!(!v.is_valid(&json!({"port": true})));
        assert!(!v.is_valid(&json!({"extra": 1})));
    }
}
