//! `namespace:` — put every namespaced object in one namespace.
//!
//! As Kustomize does: `metadata.namespace` is set on every object its schema does not know
//! as cluster-scoped; a core `Namespace` object is renamed to the namespace; RoleBinding and
//! ClusterRoleBinding subjects named `default` get the namespace (other subjects follow
//! their ServiceAccount through the name-reference fix-up); the spec's other fields
//! (APIService, CRD conversion webhooks) are set from the field-spec table.
//!
//! As a `transformers:` plugin (`NamespaceTransformer`) it also takes `unsetOnly` (set only
//! what is missing or empty; an explicit `null` counts as set) and `setRoleBindingSubjects`
//! (`defaultOnly`, `allServiceAccounts` or `none`); without a namespace it does nothing.

use super::Transformer;
use super::fieldspec::{Create, FieldSpec, walk};
use crate::error::Result;
use crate::resource::ResMap;
use crate::yaml::Value;

pub struct Namespace {
    pub namespace: String,
    pub specs: Vec<FieldSpec>,
    /// Set only fields that are missing or empty.
    pub unset_only: bool,
    pub subjects: Subjects,
}

/// Which RoleBinding subjects get the namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subjects {
    /// Subjects named `default` (of any kind): the `namespace:` field's behaviour.
    DefaultOnly,
    /// Every subject of kind ServiceAccount.
    AllServiceAccounts,
    None,
}

impl Subjects {
    /// `setRoleBindingSubjects` as Kustomize reads it.
    pub fn parse(s: &str) -> std::result::Result<Subjects, String> {
        match s {
            "" | "defaultOnly" => Ok(Subjects::DefaultOnly),
            "allServiceAccounts" => Ok(Subjects::AllServiceAccounts),
            "none" => Ok(Subjects::None),
            other => Err(format!(
                "invalid value `{other}` for setRoleBindingSubjects: must be one of `defaultOnly`, `none` or `allServiceAccounts`"
            )),
        }
    }
}

/// Whether a field counts as unset for `unsetOnly`: missing, an empty string, or a value
/// left empty in the source (`namespace:`); an explicit `null` is set.
fn unset(v: Option<&Value>, written_empty: bool) -> bool {
    match v {
        None => true,
        Some(Value::Str(s)) => s.is_empty(),
        Some(Value::Null) => written_empty,
        Some(_) => false,
    }
}

impl Transformer for Namespace {
    fn kind(&self) -> &'static str {
        "NamespaceTransformer"
    }

    fn transform(
        &self,
        rm: &mut ResMap,
        _warnings: &mut Vec<crate::warning::Warning>,
    ) -> Result<()> {
        if self.namespace.is_empty() {
            return Ok(());
        }
        for r in &mut rm.items {
            if r.doc.as_map().is_none_or(|m| m.is_empty()) {
                continue;
            }
            r.store_previous_id();
            let gvk = r.gvk();
            let ns = Value::Str(self.namespace.clone());
            let written_empty = r.empty_nulls.iter().any(|p| {
                matches!(p.as_slice(), [crate::yaml::PathSeg::Key(a), crate::yaml::PathSeg::Key(b)] if a == "metadata" && b == "namespace")
            });
            let current = r.doc.get("metadata").and_then(|m| m.get("namespace"));
            if !gvk.is_cluster_scoped() && (!self.unset_only || unset(current, written_empty)) {
                r.set_namespace(&self.namespace);
            }
            if (gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding")
                && let Some(Value::Seq(subjects)) = r.doc.get_mut("subjects")
            {
                for s in subjects.iter_mut() {
                    let Value::Map(m) = s else { continue };
                    let chosen = match self.subjects {
                        Subjects::DefaultOnly => {
                            m.get("name").and_then(Value::as_str) == Some("default")
                        }
                        Subjects::AllServiceAccounts => {
                            m.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                        }
                        Subjects::None => false,
                    };
                    if chosen && (!self.unset_only || unset(m.get("namespace"), false)) {
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
                    if !self.unset_only || unset(Some(node), false) {
                        *node = ns.clone();
                    }
                    Ok(())
                })?;
            }
        }
        rm.check_unique()
    }
}
