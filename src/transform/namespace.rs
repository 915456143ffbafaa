//! `namespace:` — put every namespaced object in one namespace.
//!
//! As Kustomize does: `metadata.namespace` is set on every object its schema does not know
//! as cluster-scoped; a core `Namespace` object is renamed to the namespace; RoleBinding and
//! ClusterRoleBinding subjects named `default` get the namespace (other subjects follow
//! their ServiceAccount through the name-reference fix-up); the spec's other fields
//! (APIService, CRD conversion webhooks) are set from the field-spec table.

use super::Transformer;
use super::fieldspec::{Create, FieldSpec, walk};
use crate::error::Result;
use crate::resource::ResMap;
use crate::yaml::Value;

pub struct Namespace {
    pub namespace: String,
    pub specs: Vec<FieldSpec>,
}

impl Transformer for Namespace {
    fn kind(&self) -> &'static str {
        "NamespaceTransformer"
    }

    fn transform(&self, rm: &mut ResMap, _warnings: &mut Vec<String>) -> Result<()> {
        for r in &mut rm.items {
            if r.doc.as_map().is_none_or(|m| m.is_empty()) {
                continue;
            }
            r.store_previous_id();
            let gvk = r.gvk();
            let ns = Value::Str(self.namespace.clone());
            if !gvk.is_cluster_scoped() {
                r.set_namespace(&self.namespace);
            }
            if (gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding")
                && let Some(Value::Seq(subjects)) = r.doc.get_mut("subjects")
            {
                for s in subjects.iter_mut() {
                    if let Value::Map(m) = s
                        && m.get("name").and_then(Value::as_str) == Some("default")
                    {
                        m.insert("namespace".to_string(), ns.clone());
                    }
                }
            }
            for spec in &self.specs {
                if !spec.selects(&gvk) || spec.path_string() == "metadata/namespace" {
                    continue;
                }
                // A Namespace object is renamed only when it is the core, cluster-scoped kind.
                if spec.kind == "Namespace" && !gvk.is_cluster_scoped() {
                    continue;
                }
                let create = spec.create.then_some(Create::Scalar);
                walk(&mut r.doc, &spec.path, create, &mut |node| {
                    *node = ns.clone();
                    Ok(())
                })?;
            }
        }
        rm.check_unique()
    }
}
