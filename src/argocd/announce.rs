//! `strata argocd parameters`: the parameter announcements Argo CD shows in the UI's
//! Parameters tab (a JSON array of `{name, title, tooltip, required, itemType,
//! collectionType, string | array | map}`).
//!
//! A project root announces `env` with its environments in the tooltip. The values the
//! chosen layer accepts follow, one parameter per top-level key, from `values.schema.json`
//! where a layer has one (title, description, required) and from the merged values
//! (current value, and the file and line it comes from): a scalar is a `string`
//! parameter, a list of scalars an `array`, a map a `map` of its leaves by dotted path.
//! Last come `valueFiles` and `set`. What the UI sends back is what `generate` reads
//! (`request`): a parameter named after a value sets that value.

use super::Plan;
use super::layers::{Layers, text_of};
use super::request::RESERVED;
use crate::yaml::{Map, Value};
use serde_json::{Value as J, json};
use std::collections::BTreeMap;

fn param(
    name: &str,
    title: &str,
    tooltip: String,
    required: bool,
    kind: &str,
) -> serde_json::Map<String, J> {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), J::from(name));
    m.insert("title".into(), J::from(title));
    m.insert("tooltip".into(), J::from(tooltip));
    m.insert("required".into(), J::from(required));
    m.insert("itemType".into(), J::from("string"));
    m.insert("collectionType".into(), J::from(kind));
    m
}

/// A map's scalar leaves by dotted path (a `.` inside a key written `\.`); lists and
/// nulls inside it are left out (they are set with `set`).
fn leaves(m: &Map, prefix: &str, out: &mut BTreeMap<String, String>) {
    for (k, v) in m {
        let key = format!("{prefix}{}", k.replace('.', "\\."));
        match v {
            Value::Map(inner) => leaves(inner, &format!("{key}."), out),
            other => {
                if let Some(t) = text_of(other) {
                    out.insert(key, t);
                }
            }
        }
    }
}

fn schema_text(schema: Option<&J>, field: &str) -> Option<String> {
    schema
        .and_then(|s| s.get(field))
        .and_then(J::as_str)
        .map(str::to_string)
}

/// The announcements for an application: `envs` of its project root (empty for a plain
/// kustomization), `chosen` the environment the request names, `plan` the layer whose
/// values to announce (none when no environment is chosen yet).
pub fn announcements(
    envs: &[String],
    chosen: Option<&str>,
    plan: Option<&Plan>,
    layers: Option<&Layers>,
) -> J {
    let mut out: Vec<J> = Vec::new();
    if !envs.is_empty() {
        let mut p = param(
            "env",
            "Environment",
            format!(
                "the environment to render, one of: {} (the directories under overlays/)",
                envs.join(", ")
            ),
            chosen.is_none(),
            "string",
        );
        if let Some(c) = chosen {
            p.insert("string".into(), J::from(c));
        }
        out.push(J::Object(p));
    }
    if let (Some(_), Some(layers)) = (plan, layers) {
        let merged = layers.merged();
        let mut keys: Vec<String> = merged.tree.keys().cloned().collect();
        let mut required: Vec<String> = Vec::new();
        for (_, s) in &layers.schemas {
            if let Some(props) = s.get("properties").and_then(J::as_object) {
                let mut extra: Vec<&String> = props.keys().filter(|k| !keys.contains(k)).collect();
                extra.sort();
                keys.extend(extra.into_iter().cloned());
            }
            if let Some(r) = s.get("required").and_then(J::as_array) {
                required.extend(r.iter().filter_map(J::as_str).map(str::to_string));
            }
        }
        for key in keys {
            if RESERVED.contains(&key.as_str()) || !super::params::valid_name(&key) {
                continue;
            }
            let path = vec![key.clone()];
            let schema = layers.schema(&path);
            let title = schema_text(schema, "title").unwrap_or_else(|| key.clone());
            let value = merged.tree.get(&key);
            let origin = match value {
                Some(Value::Map(m)) => first_leaf_origin(&merged, &key, m),
                _ => merged.origin(&path),
            };
            let mut tooltip = schema_text(schema, "description").unwrap_or_default();
            if let Some(o) = origin {
                if !tooltip.is_empty() {
                    tooltip.push(' ');
                }
                tooltip.push_str(&format!("(from {o})"));
            }
            let schema_type = schema_text(schema, "type");
            let kind = match (value, schema_type.as_deref()) {
                (Some(Value::Map(_)), _) | (None | Some(Value::Null), Some("object")) => "map",
                (Some(Value::Seq(_)), _) | (None | Some(Value::Null), Some("array")) => "array",
                _ => "string",
            };
            let mut p = param(&key, &title, tooltip, required.contains(&key), kind);
            match value {
                Some(Value::Map(m)) => {
                    let mut flat = BTreeMap::new();
                    leaves(m, "", &mut flat);
                    p.insert("map".into(), json!(flat));
                }
                Some(Value::Seq(items)) => {
                    let texts: Vec<String> = items.iter().filter_map(text_of).collect();
                    p.insert("array".into(), json!(texts));
                }
                Some(v) => {
                    if let Some(t) = text_of(v) {
                        p.insert("string".into(), J::from(t));
                    }
                }
                None => {}
            }
            out.push(J::Object(p));
        }
    }
    let mut files = param(
        "valueFiles",
        "Values files",
        "values files laid over the environment's values, relative to the application's path"
            .into(),
        false,
        "array",
    );
    files.insert("array".into(), json!([]));
    out.push(J::Object(files));
    let mut set = param(
        "set",
        "Set values",
        "assignments `path.to.key=value`, applied last (as `strata render --set`)".into(),
        false,
        "array",
    );
    set.insert("array".into(), json!([]));
    out.push(J::Object(set));
    J::Array(out)
}

fn first_leaf_origin(merged: &crate::template::Values, key: &str, m: &Map) -> Option<String> {
    let mut path = vec![key.to_string()];
    let mut cur = m;
    loop {
        let (k, v) = cur.iter().next()?;
        path.push(k.clone());
        match v {
            Value::Map(inner) => cur = inner,
            _ => {
                return merged
                    .origin(&path)
                    .map(|o| o.rsplit_once(':').map_or(o.clone(), |(f, _)| f.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Loader;

    #[test]
    fn environments_values_and_schema_are_announced() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("base")).unwrap();
        std::fs::create_dir_all(root.join("overlays/prod")).unwrap();
        std::fs::write(root.join("base/kustomization.yaml"), "resources: []\n").unwrap();
        std::fs::write(
            root.join("base/values.yaml"),
            "image:\n  repository: r\n  tag: 1.0.0\nreplicas: 1\nports: [80, 443]\n",
        )
        .unwrap();
        std::fs::write(
            root.join("base/values.schema.json"),
            r#"{"required":["replicas"],"properties":{"replicas":{"type":"integer","title":"Replicas","description":"pods to run"},"debug":{"type":"boolean"}}}"#,
        )
        .unwrap();
        std::fs::write(
            root.join("overlays/prod/kustomization.yaml"),
            "resources:\n- ../../base\n",
        )
        .unwrap();
        std::fs::write(root.join("overlays/prod/values.yaml"), "replicas: 5\n").unwrap();
        let loader = Loader::default();
        let plan = Plan {
            dir: root.join("overlays/prod"),
            env: Some("prod".into()),
            environments: vec!["prod".into()],
        };
        let found = crate::argocd::layers::walk(&plan.dir, root, &loader);
        let a = announcements(&["prod".into()], Some("prod"), Some(&plan), Some(&found));
        let by: BTreeMap<String, J> = a
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap().to_string(), p.clone()))
            .collect();
        assert_eq!(by["env"]["string"], "prod");
        assert!(by["env"]["tooltip"].as_str().unwrap().contains("prod"));
        assert_eq!(by["replicas"]["string"], "5");
        assert_eq!(by["replicas"]["title"], "Replicas");
        assert_eq!(by["replicas"]["required"], true);
        assert_eq!(
            by["replicas"]["tooltip"],
            "pods to run (from overlays/prod/values.yaml:1)"
        );
        assert_eq!(by["image"]["collectionType"], "map");
        assert_eq!(by["image"]["map"]["tag"], "1.0.0");
        assert_eq!(by["image"]["tooltip"], "(from base/values.yaml)");
        assert_eq!(by["ports"]["array"], json!(["80", "443"]));
        assert_eq!(by["debug"]["collectionType"], "string");
        assert!(by.contains_key("valueFiles") && by.contains_key("set"));
        // Without a chosen environment: `env` is required and no values are announced.
        let a = announcements(&["dev".into(), "prod".into()], None, None, None);
        assert_eq!(a.as_array().unwrap().len(), 3);
        assert_eq!(a[0]["required"], true);
    }
}
