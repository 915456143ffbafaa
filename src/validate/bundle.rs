//! The embedded Kubernetes schemas: one compressed bundle per minor version.
//!
//! `schemas/k8s-1.NN.json.zz` (made by `scripts/gen_schemas.py` from kubernetes-validate)
//! holds the definitions of one Kubernetes version and an `apiVersion/kind → definition`
//! index. A bundle is decompressed on first use; a validator per (kind, strictness) is
//! compiled on first use and cached, so a build pays only for the kinds it has.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};

const BUNDLES: &[(&str, &[u8])] = &[
    ("1.25", include_bytes!("../../schemas/k8s-1.25.json.zz")),
    ("1.26", include_bytes!("../../schemas/k8s-1.26.json.zz")),
    ("1.27", include_bytes!("../../schemas/k8s-1.27.json.zz")),
    ("1.28", include_bytes!("../../schemas/k8s-1.28.json.zz")),
    ("1.29", include_bytes!("../../schemas/k8s-1.29.json.zz")),
    ("1.30", include_bytes!("../../schemas/k8s-1.30.json.zz")),
    ("1.31", include_bytes!("../../schemas/k8s-1.31.json.zz")),
    ("1.32", include_bytes!("../../schemas/k8s-1.32.json.zz")),
    ("1.33", include_bytes!("../../schemas/k8s-1.33.json.zz")),
    ("1.34", include_bytes!("../../schemas/k8s-1.34.json.zz")),
    ("1.35", include_bytes!("../../schemas/k8s-1.35.json.zz")),
    ("1.36", include_bytes!("../../schemas/k8s-1.36.json.zz")),
    ("1.37", include_bytes!("../../schemas/k8s-1.37.json.zz")),
];

/// The Kubernetes versions strata has schemas for, oldest first.
pub fn versions() -> Vec<&'static str> {
    BUNDLES.iter().map(|(v, _)| *v).collect()
}

pub fn newest() -> &'static str {
    BUNDLES.last().map(|(v, _)| *v).unwrap_or("1.37")
}

/// One Kubernetes version's schemas.
pub struct Bundle {
    pub version: String,
    index: HashMap<String, String>,
    defs: serde_json::Value,
    compiled: Mutex<HashMap<(String, bool), Arc<jsonschema::Validator>>>,
}

/// The bundle for `version` (`1.30`), loaded once per process.
pub fn bundle(version: &str) -> Result<Arc<Bundle>> {
    static LOADED: OnceLock<Mutex<HashMap<String, Arc<Bundle>>>> = OnceLock::new();
    let loaded = LOADED.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = loaded.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(b) = map.get(version) {
        return Ok(b.clone());
    }
    let Some((_, bytes)) = BUNDLES.iter().find(|(v, _)| *v == version) else {
        return Err(
            Error::new(format!("no schemas for Kubernetes {version}")).with_help(format!(
                "use --kube-version with one of {}",
                versions().join(", ")
            )),
        );
    };
    let mut text = Vec::new();
    flate2::read::ZlibDecoder::new(*bytes)
        .read_to_end(&mut text)
        .map_err(|e| {
            Error::new(format!(
                "the embedded schemas for {version} are damaged: {e}"
            ))
        })?;
    let mut doc: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        Error::new(format!(
            "the embedded schemas for {version} are damaged: {e}"
        ))
    })?;
    let index = doc
        .get("index")
        .and_then(|i| i.as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let defs = doc
        .get_mut("defs")
        .map(serde_json::Value::take)
        .unwrap_or_default();
    let b = Arc::new(Bundle {
        version: version.to_string(),
        index,
        defs,
        compiled: Mutex::new(HashMap::new()),
    });
    map.insert(version.to_string(), b.clone());
    Ok(b)
}

/// The definition names a schema refers to.
fn collect_refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                if k == "$ref" {
                    if let Some(name) = child.as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
                        out.push(name.to_string());
                    }
                } else {
                    collect_refs(child, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

/// Add `additionalProperties: false` to every object schema with properties, unless it
/// preserves unknown fields: Kubernetes' strict field validation.
pub fn strictify(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (_, child) in m.iter_mut() {
                strictify(child);
            }
            let preserve = m
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(|p| p.as_bool())
                == Some(true);
            if m.contains_key("properties") && !m.contains_key("additionalProperties") && !preserve
            {
                m.insert(
                    "additionalProperties".into(),
                    serde_json::Value::Bool(false),
                );
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strictify),
        _ => {}
    }
}

impl Bundle {
    /// The definition name for `apiVersion/kind`, if the version has it.
    pub fn definition(&self, api_version: &str, kind: &str) -> Option<&str> {
        self.index
            .get(&format!("{api_version}/{kind}"))
            .map(String::as_str)
    }

    /// Every definition by name (`io.k8s.api.apps.v1.Deployment`), documentation stripped.
    pub fn definitions(&self) -> &serde_json::Value {
        &self.defs
    }

    /// Whether any version of `kind` exists in this bundle (for better messages).
    pub fn versions_of(&self, kind: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .index
            .keys()
            .filter(|k| k.rsplit('/').next() == Some(kind))
            .map(|k| {
                k.rsplit_once('/')
                    .map(|(a, _)| a.to_string())
                    .unwrap_or_default()
            })
            .collect();
        v.sort();
        v
    }

    /// The compiled validator of a definition (cached).
    pub fn validator(&self, definition: &str, strict: bool) -> Result<Arc<jsonschema::Validator>> {
        let key = (definition.to_string(), strict);
        if let Some(v) = self
            .compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(v.clone());
        }
        // Only the definitions this kind reaches go into its schema: compiling is then
        // proportional to the kind, not to the whole API.
        let mut needed = vec![definition.to_string()];
        let mut subset = serde_json::Map::new();
        while let Some(name) = needed.pop() {
            if subset.contains_key(&name) {
                continue;
            }
            let Some(def) = self.defs.get(&name) else {
                continue;
            };
            collect_refs(def, &mut needed);
            subset.insert(name, def.clone());
        }
        let mut defs = serde_json::Value::Object(subset);
        if strict {
            strictify(&mut defs);
        }
        let schema = serde_json::json!({
            "$ref": format!("#/$defs/{definition}"),
            "$defs": defs,
        });
        let v = Arc::new(jsonschema::validator_for(&schema).map_err(|e| {
            Error::new(format!("cannot compile the schema of `{definition}`: {e}"))
        })?);
        self.compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, v.clone());
        Ok(v)
    }
}
