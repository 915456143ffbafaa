//! JSON schemas for editors (`strata schema project|values|kustomization`): the YAML
//! language server completes and checks a file against the schema a comment names.
//!
//! The kustomization schema is made from the field table strata checks files with
//! (`load::field_types`), so the editor and the build agree on every field and type. The
//! values schema of a layer is its `values.schema.json` when it has one, else the shape
//! of its `values.yaml` (every key, typed as written; other keys allowed).

use crate::error::{Error, Result};
use crate::load::field_types::{T, top};
use crate::load::kustomization::FIELDS;
use crate::yaml::Value;
use serde_json::{Value as Json, json};
use std::path::Path;

const DRAFT: &str = "http://json-schema.org/draft-07/schema#";

fn of(t: T) -> Json {
    match t {
        T::Str => json!({"type": "string"}),
        T::Bool => json!({"type": "boolean"}),
        T::Int => json!({"type": "integer"}),
        T::Any => json!({}),
        T::StrList => json!({"type": "array", "items": {"type": "string"}}),
        T::StrMap => {
            json!({"type": "object", "additionalProperties": {"type": ["string", "null"]}})
        }
        T::BoolMap => {
            json!({"type": "object", "additionalProperties": {"type": ["boolean", "null"]}})
        }
        T::List(inner) => json!({"type": "array", "items": of(*inner)}),
        T::Obj(fields) => {
            let props: serde_json::Map<String, Json> = fields
                .iter()
                .map(|(f, t)| (f.to_string(), of(*t)))
                .collect();
            json!({"type": "object", "properties": props, "additionalProperties": false})
        }
    }
}

/// The schema of `kustomization.yaml`.
pub fn kustomization() -> Json {
    let props: serde_json::Map<String, Json> =
        FIELDS.iter().map(|f| (f.to_string(), of(top(f)))).collect();
    json!({
        "$schema": DRAFT,
        "title": "kustomization.yaml (strata, Kustomize v5.5)",
        "type": "object",
        "properties": props,
        "additionalProperties": false,
    })
}

/// The schema of `strata.yaml`.
pub fn project() -> Json {
    let paths = json!({
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}}
        ]
    });
    json!({
        "$schema": DRAFT,
        "title": "strata.yaml, the strata project file",
        "type": "object",
        "properties": {
            "environments": {
                "type": "string",
                "description": "Where the environments are: a directory (every directory below it holding a kustomization; default `overlays/`) or a pattern with `*` (`clusters/*`)",
                "default": "overlays/"
            },
            "kubeVersion": {
                "type": "string",
                "pattern": "^v?[0-9]+\\.[0-9]+",
                "description": "Kubernetes version to validate for (`--kube-version`), quoted: \"1.30\""
            },
            "validate": {"type": "boolean", "description": "Validate every render (`--validate`)"},
            "crds": {"description": "CRD files or directories for validation (`--crds`)", "oneOf": paths["oneOf"].clone()},
            "values": {"description": "Values files applied to every environment before `-f` files (`--values`)", "oneOf": paths["oneOf"].clone()},
            "jobs": {"type": "integer", "minimum": 1, "description": "Parallel jobs (`-j`)"}
        },
        "additionalProperties": false,
    })
}

fn shape(v: &Value) -> Json {
    match v {
        Value::Null => json!({}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Int(_) | Value::UInt(_) => json!({"type": "integer"}),
        Value::Float(_) => json!({"type": "number"}),
        Value::Str(_) => json!({"type": "string"}),
        Value::Seq(_) => json!({"type": "array"}),
        Value::Map(m) => {
            let props: serde_json::Map<String, Json> =
                m.iter().map(|(k, v)| (k.clone(), shape(v))).collect();
            json!({"type": "object", "properties": props})
        }
    }
}

/// The values schema of the layer in `dir`.
pub fn values(dir: &Path) -> Result<Json> {
    let own = dir.join("values.schema.json");
    if own.is_file() {
        let text = crate::fs::read_text(&own)?;
        return serde_json::from_str(&text).map_err(|e| {
            Error::new(format!("`values.schema.json` is not JSON: {e}"))
                .in_file(&own)
                .with_help("values.schema.json is a JSON Schema document")
        });
    }
    let file = dir.join("values.yaml");
    if !file.is_file() {
        return Err(Error::new(format!(
            "`{}` has neither `values.schema.json` nor `values.yaml`",
            dir.display()
        ))
        .with_help("pass the directory of a layer holding values"));
    }
    let text = crate::fs::read_text(&file)?;
    let docs = crate::yaml::parse_documents(&text)
        .map_err(|e| crate::yaml::errors::yaml_error(&file, e))?;
    let value = docs
        .into_iter()
        .next()
        .map(|d| d.value)
        .unwrap_or(Value::Null);
    let mut schema = shape(&value);
    if let Json::Object(m) = &mut schema {
        m.insert("$schema".into(), json!(DRAFT));
        m.insert(
            "title".into(),
            json!(format!("values of {}", dir.display())),
        );
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    #[test]
    fn schemas_accept_what_strata_accepts() {
        let k = super::kustomization();
        let v = jsonschema::validator_for(&k).expect("a schema");
        assert!(v.is_valid(&serde_json::json!({"resources": ["a.yaml"], "namePrefix": "x-"})));
        assert!(!v.is_valid(&serde_json::json!({"resourcse": ["a.yaml"]})));
        assert!(!v.is_valid(&serde_json::json!({"replicas": [{"name": "a", "count": "3"}]})));
        let p = super::project();
        let v = jsonschema::validator_for(&p).expect("a schema");
        assert!(v.is_valid(&serde_json::json!({"environments": "envs/", "jobs": 2})));
        assert!(!v.is_valid(&serde_json::json!({"environment": "envs/"})));
    }
}
