//! Transformer configuration: the field-spec tables a build uses.
//!
//! It starts as Kustomize's built-in tables and grows with each layer's `configurations:`
//! files (custom field specs for custom kinds) and `crds:` (name references declared by
//! CRD schemas). As in Kustomize, a layer's configuration also holds what the layers it
//! includes added, so the name-reference and var fix-ups at the top see all of it.

use super::fieldspec::{FieldSpec, NameRef, name_references, split_path, table};
use crate::error::{Error, Result};
use crate::resource::Gvk;
use crate::yaml::Value;
use std::sync::{Arc, OnceLock};

/// Table names, as Kustomize's `TransformerConfig` fields are named.
pub const TABLES: &[&str] = &[
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "templateLabels",
    "commonAnnotations",
    "images",
    "replicas",
    "varReference",
];

#[derive(Debug, Clone)]
pub struct Config {
    data: Arc<Data>,
    /// Whether `configurations:` or `crds:` changed it (otherwise it is the shared built-in).
    custom: bool,
    /// The `openapi:` schema of this layer (or of the layer that includes it): merge keys
    /// of custom resources for strategic merge patches.
    pub openapi: Option<Arc<crate::patch::schema::Custom>>,
}

#[derive(Debug, Clone)]
struct Data {
    specs: Vec<(&'static str, FieldSpec)>,
    refs: Vec<NameRef>,
}

impl Default for Config {
    fn default() -> Config {
        Config::builtin()
    }
}

impl Config {
    /// Kustomize's built-in configuration (built once, shared).
    pub fn builtin() -> Config {
        static BUILTIN: OnceLock<Arc<Data>> = OnceLock::new();
        Config {
            data: BUILTIN.get_or_init(|| Arc::new(Data::builtin())).clone(),
            custom: false,
            openapi: None,
        }
    }

    /// The name-reference table.
    pub fn refs(&self) -> &[NameRef] {
        &self.data.refs
    }

    pub fn table(&self, name: &str) -> Vec<FieldSpec> {
        self.data.table(name)
    }

    /// Add what another configuration has that this one lacks.
    pub fn merge(&mut self, other: &Config) {
        if !other.custom || Arc::ptr_eq(&self.data, &other.data) {
            return;
        }
        Arc::make_mut(&mut self.data).merge(&other.data);
        self.custom = true;
    }

    /// Add a `configurations:` file.
    pub fn add_file(&mut self, doc: &Value) -> Result<()> {
        self.custom = true;
        Arc::make_mut(&mut self.data).add_file(doc)
    }

    /// Add a `crds:` definitions file.
    pub fn add_crds(&mut self, doc: &Value) -> Result<()> {
        self.custom = true;
        Arc::make_mut(&mut self.data).add_crds(doc)
    }
}

impl Data {
    fn builtin() -> Data {
        let mut c = Data {
            specs: Vec::new(),
            refs: name_references().to_vec(),
        };
        let meta = table("metalabels");
        for (name, specs) in [
            ("namePrefix", table("prefix")),
            ("nameSuffix", table("prefix")),
            ("namespace", table("namespace")),
            (
                "commonLabels",
                meta.iter().cloned().chain(table("labels")).collect(),
            ),
            ("templateLabels", meta),
            ("commonAnnotations", table("annotations")),
            ("images", table("images")),
            ("replicas", table("replicas")),
            ("varReference", table("vars")),
        ] {
            for s in specs {
                c.add(name, s);
            }
        }
        c
    }

    /// The specs of one table.
    fn table(&self, name: &str) -> Vec<FieldSpec> {
        self.specs
            .iter()
            .filter(|(t, _)| *t == name)
            .map(|(_, s)| s.clone())
            .collect()
    }

    fn add(&mut self, name: &str, spec: FieldSpec) {
        let Some(name) = TABLES.iter().find(|t| **t == name) else {
            return;
        };
        let same = |s: &FieldSpec| {
            s.group == spec.group
                && s.version == spec.version
                && s.kind == spec.kind
                && s.path == spec.path
        };
        if !self.specs.iter().any(|(t, s)| t == name && same(s)) {
            self.specs.push((name, spec));
        }
    }

    fn add_ref(&mut self, target: FieldSpec, referrers: Vec<FieldSpec>) {
        let same_target = |t: &FieldSpec| {
            t.group == target.group && t.version == target.version && t.kind == target.kind
        };
        match self.refs.iter_mut().find(|r| same_target(&r.target)) {
            Some(r) => {
                for f in referrers {
                    if !r.referrers.contains(&f) {
                        r.referrers.push(f);
                    }
                }
            }
            None => self.refs.push(NameRef { target, referrers }),
        }
    }

    fn merge(&mut self, other: &Data) {
        for (t, s) in &other.specs {
            self.add(t, s.clone());
        }
        for r in &other.refs {
            self.add_ref(r.target.clone(), r.referrers.clone());
        }
    }

    /// Add a `configurations:` file (`nameReference`, `commonLabels`, `images`, …).
    fn add_file(&mut self, doc: &Value) -> Result<()> {
        let Some(m) = doc.as_map() else {
            return Err(
                Error::new("a configurations file must be a map of field-spec tables").with_help(
                    "use keys such as `nameReference`, `commonLabels`, `images`, `varReference`",
                ),
            );
        };
        for (key, value) in m {
            let items = value.as_seq().cloned().unwrap_or_default();
            if key == "nameReference" {
                for item in &items {
                    let target = spec_of(item, "");
                    let referrers = item
                        .get("fieldSpecs")
                        .and_then(Value::as_seq)
                        .map(|fs| fs.iter().map(|f| spec_of(f, &text(f, "path"))).collect())
                        .unwrap_or_default();
                    self.add_ref(target, referrers);
                }
            } else if let Some(name) = TABLES.iter().find(|t| **t == key.as_str()) {
                // Kustomize lets a user's specs cover the built-in ones: a built-in spec
                // whose selector also selects a user spec with the same path is dropped
                // (so `namePrefix: [{path: metadata/name, kind: Foo}]` prefixes only Foo).
                let user: Vec<FieldSpec> =
                    items.iter().map(|i| spec_of(i, &text(i, "path"))).collect();
                let covered = |d: &FieldSpec| {
                    user.iter().any(|u| {
                        u.path == d.path
                            && (d.group.is_empty() || d.group == u.group)
                            && (d.version.is_empty() || d.version == u.version)
                            && (d.kind.is_empty() || d.kind == u.kind)
                    })
                };
                let kept: Vec<(&'static str, FieldSpec)> = self
                    .specs
                    .drain(..)
                    .filter(|(t, d)| t != name || !covered(d))
                    .collect();
                self.specs = kept;
                for u in user {
                    self.add(name, u);
                }
            } else {
                return Err(
                    Error::new(format!("unknown table `{key}` in a configurations file"))
                        .with_help(format!(
                            "known tables: nameReference, {}",
                            TABLES.join(", ")
                        )),
                );
            }
        }
        Ok(())
    }

    /// Add the name references (and label, annotation and identity fields) a CRD
    /// definitions file (OpenAPI definitions keyed by type name) declares.
    fn add_crds(&mut self, doc: &Value) -> Result<()> {
        let Some(defs) = doc.as_map() else {
            return Err(
                Error::new("a crds file must be a map of OpenAPI definitions")
                    .with_help("each key names a type; its `Schema.properties` declare the fields"),
            );
        };
        for (name, def) in defs {
            let props = def.get("Schema").and_then(|s| s.get("properties"));
            if props.and_then(|p| p.get("kind")).is_none() {
                continue;
            }
            let kind = name.rsplit('.').next().unwrap_or(name).to_string();
            let mut seen = Vec::new();
            self.crd_type(defs, name, &kind, &mut Vec::new(), &mut seen);
        }
        Ok(())
    }

    fn crd_type(
        &mut self,
        defs: &crate::yaml::Map,
        ty: &str,
        kind: &str,
        path: &mut Vec<String>,
        seen: &mut Vec<String>,
    ) {
        if seen.iter().any(|s| s == ty) {
            return;
        }
        seen.push(ty.to_string());
        let Some(props) = defs
            .get(ty)
            .and_then(|d| d.get("Schema"))
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_map)
        else {
            seen.pop();
            return;
        };
        let mut names: Vec<&String> = props.keys().collect();
        names.sort();
        for prop in names {
            let p = &props[prop];
            path.push(prop.clone());
            let fs = |path: &[String]| FieldSpec {
                group: String::new(),
                version: String::new(),
                kind: kind.to_string(),
                path: path.to_vec(),
                create: false,
            };
            if p.get("x-kubernetes-annotation").is_some() {
                self.add("commonAnnotations", fs(path));
            }
            if p.get("x-kubernetes-label-selector").is_some() {
                self.add("commonLabels", fs(path));
            }
            if p.get("x-kubernetes-identity").is_some() {
                self.add("namePrefix", fs(path));
            }
            if let (Some(version), Some(target_kind)) = (
                p.get("x-kubernetes-object-ref-api-version")
                    .and_then(Value::scalar_text),
                p.get("x-kubernetes-object-ref-kind")
                    .and_then(Value::scalar_text),
            ) {
                let key = p
                    .get("x-kubernetes-object-ref-name-key")
                    .and_then(Value::scalar_text)
                    .unwrap_or_else(|| "name".to_string());
                let mut full = path.clone();
                full.push(key);
                let target = FieldSpec {
                    group: String::new(),
                    version,
                    kind: target_kind,
                    path: Vec::new(),
                    create: false,
                };
                self.add_ref(target, vec![fs(&full)]);
            }
            if let Some(r) = p.get("$ref").and_then(Value::scalar_text) {
                self.crd_type(defs, &r, kind, path, seen);
            }
            path.pop();
        }
        seen.pop();
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::scalar_text).unwrap_or_default()
}

fn spec_of(v: &Value, path: &str) -> FieldSpec {
    let (group, version) = match v.get("apiVersion").and_then(Value::scalar_text) {
        Some(av) => {
            let gvk = Gvk::from_api_version(&av, "");
            (gvk.group, gvk.version)
        }
        None => (text(v, "group"), text(v, "version")),
    };
    FieldSpec {
        group,
        version,
        kind: text(v, "kind"),
        path: if path.is_empty() {
            Vec::new()
        } else {
            split_path(path)
        },
        create: matches!(v.get("create"), Some(Value::Bool(true))),
    }
}
