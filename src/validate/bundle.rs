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
    #[cfg(test)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// The Python of the environment kubernetes-validate is installed in (beside the
    /// `kubernetes-validate` script `STRATA_KUBERNETES_VALIDATE` names, which `.ci/run`
    /// sets).
    fn venv_python() -> Option<std::path::PathBuf> {
        let bin = std::path::PathBuf::from(std::env::var_os("STRATA_KUBERNETES_VALIDATE")?);
        let dir = bin.parent()?;
        ["python3", "python"]
            .iter()
            .map(|p| dir.join(p))
            .find(|p| p.exists())
    }

    fn require(what: &str) {
        assert!(
            std::env::var_os("STRATA_REQUIRE_CORPORA").is_none(),
            "{what} is required"
        );
        eprintln!("skipped: {what}");
    }

    /// The property names of every schema node of a definition, by its path.
    fn property_names(
        node: &serde_json::Value,
        path: &str,
        out: &mut BTreeMap<String, BTreeSet<String>>,
    ) {
        let Some(m) = node.as_object() else { return };
        for (k, v) in m {
            match (k.as_str(), v) {
                (
                    "properties" | "patternProperties" | "$defs" | "definitions",
                    serde_json::Value::Object(named),
                ) => {
                    if k == "properties" {
                        out.insert(path.to_string(), named.keys().cloned().collect());
                    }
                    for (name, s) in named {
                        property_names(s, &format!("{path}/{k}/{name}"), out);
                    }
                }
                ("items" | "additionalProperties" | "not", _) => {
                    property_names(v, &format!("{path}/{k}"), out)
                }
                ("allOf" | "anyOf" | "oneOf", serde_json::Value::Array(items)) => {
                    for (i, s) in items.iter().enumerate() {
                        property_names(s, &format!("{path}/{k}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn bundles_keep_every_property_of_their_source() {
        let Some(python) = venv_python() else {
            return require(
                "kubernetes-validate (STRATA_KUBERNETES_VALIDATE; .ci/run installs it)",
            );
        };
        let out = std::process::Command::new(&python)
            .args([
                "-c",
                "import kubernetes_validate, os; print(os.path.dirname(kubernetes_validate.__file__))",
            ])
            .output()
            .expect("python runs");
        assert!(out.status.success(), "kubernetes_validate imports");
        let package = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let (mut definitions, mut with_properties) = (0, 0);
        for version in versions() {
            let source: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(format!(
                    "{package}/kubernetes-json-schema/v{version}.0-local/_definitions.json"
                ))
                .expect("the package's definitions"),
            )
            .expect("JSON");
            let bundle = bundle(version).expect("bundle");
            let ours = bundle.definitions();
            let theirs = source["$defs"].as_object().expect("$defs");
            assert_eq!(
                ours.as_object().map(|o| o.len()),
                Some(theirs.len()),
                "{version}: the bundle has other definitions"
            );
            for (name, def) in theirs {
                let (mut want, mut got) = (BTreeMap::new(), BTreeMap::new());
                property_names(def, "", &mut want);
                property_names(&ours[name.as_str()], "", &mut got);
                assert_eq!(
                    got, want,
                    "{version}: {name} has other properties than its source"
                );
                definitions += 1;
                with_properties += usize::from(!want.is_empty());
            }
        }
        eprintln!(
            "{definitions} definitions ({with_properties} with properties) keep every property"
        );
    }
}
