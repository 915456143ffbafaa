//! The layers an application includes, walked without rendering anything: their own
//! `values.yaml` and `values.schema.json`.
//!
//! A parameter arrives as text and an announcement shows text, but the values they stand
//! for live in whichever layer defines them (often the base, several directories away from
//! the environment). This walk follows `resources` and `components` entries that are local
//! directories, from the application's layer down, reading each layer's values and schema
//! through the `Loader` (so the same files, the same symlink rules). It is a best effort
//! for typing and describing: a layer it cannot read is skipped, and the build that
//! follows reports the error properly.

use crate::load::Loader;
use crate::load::remote::is_remote;
use crate::template::{Ctx, Values};
use crate::yaml::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How deep the walk goes (the build's own limit is `--max-depth`).
const MAX_DEPTH: usize = 64;
/// How many layers it reads at most.
const MAX_LAYERS: usize = 4096;

/// What the walk found.
#[derive(Default)]
pub struct Layers {
    /// Each layer's own values, in the order the walk met them (the top layer first).
    pub values: Vec<Values>,
    /// Each layer's schema (display name and JSON), in the same order.
    pub schemas: Vec<(String, serde_json::Value)>,
}

impl Layers {
    /// The values as the innermost layer sees them: every layer's own values, inner
    /// layers under outer ones (an approximation when branches disagree).
    pub fn merged(&self) -> Values {
        let mut acc = Values::empty();
        for v in self.values.iter().rev() {
            acc = acc.overlay(v);
        }
        acc
    }

    /// Whether a schema declares the value at `path` a string.
    pub fn is_string(&self, path: &[String]) -> bool {
        self.schemas.iter().any(|(_, s)| {
            schema_at(s, path).is_some_and(|s| s.get("type") == Some(&"string".into()))
        })
    }

    /// The schema of the value at `path`, from the first schema that describes it.
    pub fn schema(&self, path: &[String]) -> Option<&serde_json::Value> {
        self.schemas.iter().find_map(|(_, s)| schema_at(s, path))
    }
}

/// The subschema at `path` (through `properties`, and `additionalProperties` when it is a
/// schema).
pub fn schema_at<'a>(
    schema: &'a serde_json::Value,
    path: &[String],
) -> Option<&'a serde_json::Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(schema);
    };
    let next = schema
        .get("properties")
        .and_then(|p| p.get(first))
        .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))?;
    schema_at(next, rest)
}

/// Walk the layers from `top`; files are named relative to `shown_from`.
pub fn walk(top: &Path, shown_from: &Path, loader: &Loader) -> Layers {
    let mut out = Layers::default();
    let mut seen = HashSet::new();
    let base = crate::fs::real(shown_from)
        .ok()
        .flatten()
        .unwrap_or_else(|| shown_from.to_path_buf());
    visit(top, &base, loader, 0, &mut seen, &mut out);
    out
}

fn visit(
    dir: &Path,
    shown_from: &Path,
    loader: &Loader,
    depth: usize,
    seen: &mut HashSet<PathBuf>,
    out: &mut Layers,
) {
    if depth > MAX_DEPTH || seen.len() >= MAX_LAYERS {
        return;
    }
    let Ok(Some(real)) = crate::fs::real(dir) else {
        return;
    };
    if !real.is_dir() || !seen.insert(real.clone()) {
        return;
    }
    if let Some(v) = read_in(&real, "values.yaml", loader).and_then(|(file, text)| {
        let display = crate::fs::relative_to(&real.join("values.yaml"), shown_from);
        Values::from_path_in(Some(&file), &display, text, &loader.aliases).ok()
    }) {
        out.values.push(v);
    }
    if let Some(json) = read_in(&real, "values.schema.json", loader)
        .and_then(|(_, text)| serde_json::from_str::<serde_json::Value>(&text).ok())
    {
        let display = crate::fs::relative_to(&real.join("values.schema.json"), shown_from);
        out.schemas.push((display, json));
    }
    let ctx = Arc::new(Ctx::new(Arc::new(Values::empty()), "", &real));
    let Ok(k) = loader.kustomization(&real, &ctx) else {
        return;
    };
    for field in ["resources", "components", "bases"] {
        for entry in k.string_list(field).unwrap_or_default() {
            if is_remote(&entry) {
                continue;
            }
            let path = real.join(&entry);
            if path.is_dir() {
                visit(&path, shown_from, loader, depth + 1, seen, out);
            }
        }
    }
}

/// The file `name` of the layer `dir` and its text, if the loader may read it.
fn read_in(dir: &Path, name: &str, loader: &Loader) -> Option<(PathBuf, String)> {
    if !loader.has_file(dir, name) {
        return None;
    }
    let file = loader.file(dir, name).ok()??;
    let text = crate::load::read_text(&file).ok()?;
    Some((file, text))
}

/// A scalar as the text a parameter would carry (`3`, `true`, `1.10`); `None` for maps,
/// lists and null.
pub fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(
            crate::yaml::to_yaml_string(&Value::Float(*f))
                .trim()
                .to_string(),
        ),
        Value::Str(s) => Some(s.clone()),
        Value::Null | Value::Seq(_) | Value::Map(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_finds_the_base_values_and_schema_below_an_environment() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("base")).unwrap();
        std::fs::create_dir_all(root.join("overlays/prod")).unwrap();
        std::fs::write(root.join("base/kustomization.yaml"), "resources: []\n").unwrap();
        std::fs::write(
            root.join("base/values.yaml"),
            "image:\n  tag: 1.0.0\nreplicas: 1\n",
        )
        .unwrap();
        std::fs::write(
            root.join("base/values.schema.json"),
            r#"{"properties":{"image":{"properties":{"tag":{"type":"string"}}}}}"#,
        )
        .unwrap();
        std::fs::write(
            root.join("overlays/prod/kustomization.yaml"),
            "resources:\n- ../../base\n- https://example.com/x.yaml\n",
        )
        .unwrap();
        std::fs::write(root.join("overlays/prod/values.yaml"), "replicas: 5\n").unwrap();
        let loader = Loader::default();
        let layers = walk(&root.join("overlays/prod"), root, &loader);
        assert_eq!(layers.values.len(), 2);
        let merged = layers.merged();
        let y = crate::yaml::to_yaml_string(&Value::Map(merged.tree.clone()));
        assert!(y.contains("replicas: 5") && y.contains("tag: 1.0.0"), "{y}");
        assert!(layers.is_string(&["image".into(), "tag".into()]));
        assert!(!layers.is_string(&["replicas".into()]));
        assert_eq!(
            merged.origin(&["image".into(), "tag".into()]).as_deref(),
            Some("base/values.yaml:2")
        );
    }
}
