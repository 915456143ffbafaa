//! Strategic-merge metadata: how each list of each built-in kind merges.
//!
//! Kustomize takes `x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy` and
//! `x-kubernetes-list-map-keys` (the last winning) from the Kubernetes v1.21.2 OpenAPI
//! document it embeds. Only kinds that document knows, at their exact apiVersion, get
//! keyed merges; everything else (custom resources, `extensions/v1beta1` workloads) has its
//! lists replaced. This module holds the type graph from each kind's root down to the 47
//! annotated fields, as a small table of `(type, field) → (type, list kind)`.
//!
//! A kustomization's `openapi: {path: schema.json}` replaces this knowledge with the given
//! definitions (OpenAPI v2, with `x-kubernetes-group-version-kind` and the patch
//! extensions), exactly as Kustomize does: kinds and `$ref`s the file does not define then
//! have their lists replaced — built-in kinds included (checked with kubectl).

use crate::error::{Error, Result};
use crate::resource::Gvk;
use crate::yaml::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Merge keys: from the built-in table or from a custom schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keys {
    Static(&'static [&'static str]),
    Owned(Arc<Vec<String>>),
}

impl Keys {
    pub fn list(&self) -> Vec<&str> {
        match self {
            Keys::Static(k) => k.to_vec(),
            Keys::Owned(k) => k.iter().map(String::as_str).collect(),
        }
    }
}

/// How a field merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merge {
    /// A plain field: maps merge recursively, lists are replaced.
    Plain,
    /// A list of maps merged by these keys.
    Keyed(Keys),
    /// A list of scalars merged as a set (`finalizers`).
    Primitive,
    /// A map replaced whole (`patchStrategy: replace`).
    Replace,
}

/// `(type, field, child type, merge)`; `""` as child type means "no further known fields".
const FIELDS: &[(&str, &str, &str, Merge)] = &[
    ("ObjectMeta", "finalizers", "", Merge::Primitive),
    (
        "ObjectMeta",
        "ownerReferences",
        "",
        Merge::Keyed(Keys::Static(&["uid"])),
    ),
    ("PodTemplateSpec", "metadata", "ObjectMeta", Merge::Plain),
    ("PodTemplateSpec", "spec", "PodSpec", Merge::Plain),
    (
        "PodSpec",
        "containers",
        "Container",
        Merge::Keyed(Keys::Static(&["name"])),
    ),
    (
        "PodSpec",
        "initContainers",
        "Container",
        Merge::Keyed(Keys::Static(&["name"])),
    ),
    (
        "PodSpec",
        "ephemeralContainers",
        "EphemeralContainer",
        Merge::Keyed(Keys::Static(&["name"])),
    ),
    (
        "PodSpec",
        "volumes",
        "",
        Merge::Keyed(Keys::Static(&["name"])),
    ),
    (
        "PodSpec",
        "imagePullSecrets",
        "",
        Merge::Keyed(Keys::Static(&["name"])),
    ),
    (
        "PodSpec",
        "hostAliases",
        "",
        Merge::Keyed(Keys::Static(&["ip"])),
    ),
    (
        "PodSpec",
        "topologySpreadConstraints",
        "",
        Merge::Keyed(Keys::Static(&["topologyKey", "whenUnsatisfiable"])),
    ),
    (
        "Container",
        "env",
        "",
        Merge::Keyed(Keys::Static(&["name"])),
    ),
    (
        "Container",
        "ports",
        "",
        Merge::Keyed(Keys::Static(&["containerPort", "protocol"])),
    ),
    (
        "Container",
        "volumeMounts",
        "",
        Merge::Keyed(Keys::Static(&["mountPath"])),
    ),
    (
        "Container",
        "volumeDevices",
        "",
        Merge::Keyed(Keys::Static(&["devicePath"])),
    ),
    (
        "EphemeralContainer",
        "env",
        "",
        Merge::Keyed(Keys::Static(&["name"])),
    ),
    (
        "EphemeralContainer",
        "volumeMounts",
        "",
        Merge::Keyed(Keys::Static(&["mountPath"])),
    ),
    (
        "EphemeralContainer",
        "volumeDevices",
        "",
        Merge::Keyed(Keys::Static(&["devicePath"])),
    ),
    ("Pod", "spec", "PodSpec", Merge::Plain),
    ("Pod", "status", "PodStatus", Merge::Plain),
    (
        "PodStatus",
        "conditions",
        "",
        Merge::Keyed(Keys::Static(&["type"])),
    ),
    (
        "PodStatus",
        "podIPs",
        "",
        Merge::Keyed(Keys::Static(&["ip"])),
    ),
    ("PodTemplate", "template", "PodTemplateSpec", Merge::Plain),
    ("Workload", "spec", "WorkloadSpec", Merge::Plain),
    ("Workload", "status", "Status", Merge::Plain),
    ("WorkloadSpec", "template", "PodTemplateSpec", Merge::Plain),
    ("Deployment", "spec", "DeploymentSpec", Merge::Plain),
    ("Deployment", "status", "Status", Merge::Plain),
    (
        "DeploymentSpec",
        "template",
        "PodTemplateSpec",
        Merge::Plain,
    ),
    ("StatefulSet", "spec", "StatefulSetSpec", Merge::Plain),
    ("StatefulSet", "status", "Status", Merge::Plain),
    (
        "StatefulSetSpec",
        "template",
        "PodTemplateSpec",
        Merge::Plain,
    ),
    (
        "StatefulSetSpec",
        "volumeClaimTemplates",
        "Claim",
        Merge::Plain,
    ),
    ("Claim", "metadata", "ObjectMeta", Merge::Plain),
    ("CronJob", "spec", "CronJobSpec", Merge::Plain),
    (
        "CronJobSpec",
        "jobTemplate",
        "JobTemplateSpec",
        Merge::Plain,
    ),
    ("JobTemplateSpec", "metadata", "ObjectMeta", Merge::Plain),
    ("JobTemplateSpec", "spec", "WorkloadSpec", Merge::Plain),
    (
        "Status",
        "conditions",
        "",
        Merge::Keyed(Keys::Static(&["type"])),
    ),
    ("Service", "spec", "ServiceSpec", Merge::Plain),
    ("Service", "status", "Status", Merge::Plain),
    (
        "ServiceSpec",
        "ports",
        "",
        Merge::Keyed(Keys::Static(&["port", "protocol"])),
    ),
    (
        "ServiceAccount",
        "secrets",
        "",
        Merge::Keyed(Keys::Static(&["name"])),
    ),
    ("Node", "spec", "NodeSpec", Merge::Plain),
    ("Node", "status", "NodeStatus", Merge::Plain),
    ("NodeSpec", "podCIDRs", "", Merge::Primitive),
    (
        "NodeStatus",
        "addresses",
        "",
        Merge::Keyed(Keys::Static(&["type"])),
    ),
    (
        "NodeStatus",
        "conditions",
        "",
        Merge::Keyed(Keys::Static(&["type"])),
    ),
    (
        "Webhooks",
        "webhooks",
        "",
        Merge::Keyed(Keys::Static(&["name"])),
    ),
    ("PodDisruptionBudget", "spec", "PdbSpec", Merge::Plain),
    ("PodDisruptionBudget", "status", "Status", Merge::Plain),
    ("PdbSpec", "selector", "", Merge::Replace),
    ("CSINode", "spec", "CSINodeSpec", Merge::Plain),
    (
        "CSINodeSpec",
        "drivers",
        "",
        Merge::Keyed(Keys::Static(&["name"])),
    ),
];

/// Root type of each kind the v1.21.2 document knows, by exact apiVersion.
const ROOTS: &[(&str, &str, &str)] = &[
    ("v1", "Pod", "Pod"),
    ("v1", "PodTemplate", "PodTemplate"),
    ("v1", "ReplicationController", "Workload"),
    ("v1", "Service", "Service"),
    ("v1", "ServiceAccount", "ServiceAccount"),
    ("v1", "Node", "Node"),
    ("v1", "Namespace", "Status"),
    ("v1", "PersistentVolumeClaim", "Workload"),
    ("v1", "ComponentStatus", "Status"),
    ("apps/v1", "Deployment", "Deployment"),
    ("apps/v1", "ReplicaSet", "Workload"),
    ("apps/v1", "DaemonSet", "Workload"),
    ("apps/v1", "StatefulSet", "StatefulSet"),
    ("batch/v1", "Job", "Workload"),
    ("batch/v1", "CronJob", "CronJob"),
    ("batch/v1beta1", "CronJob", "CronJob"),
    ("policy/v1", "PodDisruptionBudget", "PodDisruptionBudget"),
    (
        "policy/v1beta1",
        "PodDisruptionBudget",
        "PodDisruptionBudget",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "Webhooks",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "Webhooks",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
        "Webhooks",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
        "Webhooks",
    ),
    ("storage.k8s.io/v1", "CSINode", "CSINode"),
    ("storage.k8s.io/v1beta1", "CSINode", "CSINode"),
];

/// Kinds the document knows that have no annotated field below `metadata`.
const PLAIN_KINDS: &[(&str, &[&str])] = &[
    (
        "v1",
        &[
            "ConfigMap",
            "Secret",
            "Endpoints",
            "LimitRange",
            "ResourceQuota",
            "PersistentVolume",
            "Event",
            "Binding",
        ],
    ),
    ("apps/v1", &["ControllerRevision"]),
    (
        "rbac.authorization.k8s.io/v1",
        &["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"],
    ),
    (
        "networking.k8s.io/v1",
        &["Ingress", "IngressClass", "NetworkPolicy"],
    ),
    ("networking.k8s.io/v1beta1", &["Ingress", "IngressClass"]),
    ("extensions/v1beta1", &["Ingress"]),
    ("autoscaling/v1", &["HorizontalPodAutoscaler"]),
    ("autoscaling/v2beta1", &["HorizontalPodAutoscaler"]),
    ("autoscaling/v2beta2", &["HorizontalPodAutoscaler"]),
    (
        "storage.k8s.io/v1",
        &["StorageClass", "CSIDriver", "VolumeAttachment"],
    ),
    ("scheduling.k8s.io/v1", &["PriorityClass"]),
    ("apiextensions.k8s.io/v1", &["CustomResourceDefinition"]),
    ("apiregistration.k8s.io/v1", &["APIService"]),
    ("policy/v1beta1", &["PodSecurityPolicy"]),
];

/// Definitions from a kustomization's `openapi: {path: …}` file.
#[derive(Debug, Default)]
pub struct Custom {
    defs: HashMap<String, Value>,
    /// `apiVersion/Kind` → definition name.
    index: HashMap<String, String>,
}

impl Custom {
    /// Read an OpenAPI v2 document (`definitions`, or v3 `components.schemas`).
    pub fn from_doc(doc: &Value) -> Result<Custom> {
        let defs = doc
            .get("definitions")
            .or_else(|| doc.get("components").and_then(|c| c.get("schemas")))
            .and_then(Value::as_map)
            .ok_or_else(|| {
                Error::new("the openapi schema has no `definitions`").with_help(
                    "give an OpenAPI v2 document whose `definitions` carry `x-kubernetes-group-version-kind`",
                )
            })?;
        let mut index = HashMap::new();
        for (name, def) in defs {
            let gvks = def
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_seq);
            for gvk in gvks.into_iter().flatten() {
                let s = |k: &str| gvk.get(k).and_then(Value::scalar_text).unwrap_or_default();
                let api = if s("group").is_empty() {
                    s("version")
                } else {
                    format!("{}/{}", s("group"), s("version"))
                };
                index.insert(format!("{api}/{}", s("kind")), name.clone());
            }
        }
        Ok(Custom {
            defs: defs.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            index,
        })
    }

    fn position_of_ref(self: &Arc<Self>, r: &str) -> Position {
        let name = r.rsplit('/').next().unwrap_or(r);
        if self.defs.contains_key(name) {
            Position(Pos::Custom(self.clone(), name.to_string()))
        } else {
            Position(Pos::Unknown)
        }
    }
}

#[derive(Debug, Clone)]
enum Pos {
    Unknown,
    Builtin(&'static str),
    Custom(Arc<Custom>, String),
}

/// The schema position of a field: unknown when the kind or the path is unknown.
#[derive(Debug, Clone)]
pub struct Position(Pos);

impl Position {
    /// The root of a resource of this kind.
    #[cfg(test)]
    pub fn root(gvk: &Gvk) -> Position {
        Position::root_with(gvk, None)
    }

    /// The root of a resource; with a custom schema, only that schema counts.
    pub fn root_with(gvk: &Gvk, custom: Option<&Arc<Custom>>) -> Position {
        let api = gvk.api_version();
        if let Some(c) = custom {
            return match c.index.get(&format!("{api}/{}", gvk.kind)) {
                Some(name) => Position(Pos::Custom(c.clone(), name.clone())),
                None => Position(Pos::Unknown),
            };
        }
        if let Some((_, _, t)) = ROOTS.iter().find(|(a, k, _)| *a == api && *k == gvk.kind) {
            return Position(Pos::Builtin(t));
        }
        let plain = PLAIN_KINDS
            .iter()
            .any(|(a, kinds)| *a == api && kinds.contains(&gvk.kind.as_str()));
        Position(if plain {
            Pos::Builtin("Known")
        } else {
            Pos::Unknown
        })
    }

    /// How `field` of this position merges, and the position below it.
    pub fn field(&self, field: &str) -> (Merge, Position) {
        match &self.0 {
            Pos::Unknown => (Merge::Plain, Position(Pos::Unknown)),
            Pos::Builtin(t) => {
                if field == "metadata" && is_root(t) {
                    return (Merge::Plain, Position(Pos::Builtin("ObjectMeta")));
                }
                match FIELDS.iter().find(|(ty, f, _, _)| ty == t && *f == field) {
                    Some((_, _, child, merge)) => {
                        let child = if child.is_empty() { "Known" } else { child };
                        (merge.clone(), Position(Pos::Builtin(child)))
                    }
                    None => (Merge::Plain, Position(Pos::Builtin("Known"))),
                }
            }
            Pos::Custom(c, name) => custom_field(c, name, field),
        }
    }
}

fn custom_field(c: &Arc<Custom>, name: &str, field: &str) -> (Merge, Position) {
    let prop = c
        .defs
        .get(name)
        .and_then(|d| d.get("properties"))
        .and_then(|p| p.get(field));
    let Some(prop) = prop else {
        return (Merge::Plain, Position(Pos::Unknown));
    };
    let strategy = prop
        .get("x-kubernetes-patch-strategy")
        .and_then(Value::as_str)
        .unwrap_or("");
    let list_keys: Vec<String> = prop
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_seq)
        .map(|s| s.iter().filter_map(Value::scalar_text).collect())
        .unwrap_or_default();
    let merge_key = prop
        .get("x-kubernetes-patch-merge-key")
        .and_then(Value::scalar_text);
    let is_array = prop.get("type").and_then(Value::as_str) == Some("array");
    let merge = if strategy.split(',').any(|s| s == "merge") {
        if !list_keys.is_empty() {
            Merge::Keyed(Keys::Owned(Arc::new(list_keys)))
        } else if let Some(k) = merge_key {
            Merge::Keyed(Keys::Owned(Arc::new(vec![k])))
        } else {
            Merge::Primitive
        }
    } else if strategy.split(',').any(|s| s == "replace") && !is_array {
        Merge::Replace
    } else {
        Merge::Plain
    };
    let reference = prop
        .get("$ref")
        .or_else(|| prop.get("items").and_then(|i| i.get("$ref")))
        .and_then(Value::as_str);
    let child = match reference {
        Some(r) => c.position_of_ref(r),
        None => Position(Pos::Unknown),
    };
    (merge, child)
}

fn is_root(t: &str) -> bool {
    t == "Known" || ROOTS.iter().any(|(_, _, r)| *r == t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merge_at(api: &str, kind: &str, path: &[&str]) -> Merge {
        let mut pos = Position::root(&Gvk::from_api_version(api, kind));
        let mut merge = Merge::Plain;
        for f in path {
            (merge, pos) = pos.field(f);
        }
        merge
    }

    #[test]
    fn merge_keys_by_kind_and_path() {
        let c = ["spec", "template", "spec", "containers"];
        for (api, kind, path, want) in [
            (
                "apps/v1",
                "Deployment",
                &c[..],
                Merge::Keyed(Keys::Static(&["name"])),
            ),
            ("extensions/v1beta1", "Deployment", &c[..], Merge::Plain),
            ("v1", "Deployment", &c[..], Merge::Plain),
            ("example.com/v1", "Foo", &c[..], Merge::Plain),
            (
                "v1",
                "Pod",
                &["spec", "containers", "env"][..],
                Merge::Keyed(Keys::Static(&["name"])),
            ),
            (
                "batch/v1",
                "CronJob",
                &["spec", "jobTemplate", "spec", "template", "spec", "volumes"][..],
                Merge::Keyed(Keys::Static(&["name"])),
            ),
            (
                "v1",
                "ConfigMap",
                &["metadata", "finalizers"][..],
                Merge::Primitive,
            ),
            (
                "policy/v1",
                "PodDisruptionBudget",
                &["spec", "selector"][..],
                Merge::Replace,
            ),
            (
                "v1",
                "Service",
                &["spec", "ports"][..],
                Merge::Keyed(Keys::Static(&["port", "protocol"])),
            ),
        ] {
            assert_eq!(merge_at(api, kind, path), want, "{api} {kind} {path:?}");
        }
    }
}
