//! Strategic-merge metadata: how each list of each built-in kind merges.
//!
//! Kustomize takes `x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy` and
//! `x-kubernetes-list-map-keys` (the last winning) from the Kubernetes v1.21.2 OpenAPI
//! document it embeds. Only kinds that document knows, at their exact apiVersion, get
//! keyed merges; everything else (custom resources, `extensions/v1beta1` workloads) has its
//! lists replaced. This module holds the type graph from each kind's root down to the 47
//! annotated fields, as a small table of `(type, field) → (type, list kind)`.

use crate::resource::Gvk;

/// How a field merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// A plain field: maps merge recursively, lists are replaced.
    Plain,
    /// A list of maps merged by these keys.
    Keyed(&'static [&'static str]),
    /// A list of scalars merged as a set (`finalizers`).
    Primitive,
    /// A map replaced whole (`patchStrategy: replace`).
    Replace,
}

/// `(type, field, child type, merge)`; `""` as child type means "no further known fields".
const FIELDS: &[(&str, &str, &str, Merge)] = &[
    ("ObjectMeta", "finalizers", "", Merge::Primitive),
    ("ObjectMeta", "ownerReferences", "", Merge::Keyed(&["uid"])),
    ("PodTemplateSpec", "metadata", "ObjectMeta", Merge::Plain),
    ("PodTemplateSpec", "spec", "PodSpec", Merge::Plain),
    (
        "PodSpec",
        "containers",
        "Container",
        Merge::Keyed(&["name"]),
    ),
    (
        "PodSpec",
        "initContainers",
        "Container",
        Merge::Keyed(&["name"]),
    ),
    (
        "PodSpec",
        "ephemeralContainers",
        "EphemeralContainer",
        Merge::Keyed(&["name"]),
    ),
    ("PodSpec", "volumes", "", Merge::Keyed(&["name"])),
    ("PodSpec", "imagePullSecrets", "", Merge::Keyed(&["name"])),
    ("PodSpec", "hostAliases", "", Merge::Keyed(&["ip"])),
    (
        "PodSpec",
        "topologySpreadConstraints",
        "",
        Merge::Keyed(&["topologyKey", "whenUnsatisfiable"]),
    ),
    ("Container", "env", "", Merge::Keyed(&["name"])),
    (
        "Container",
        "ports",
        "",
        Merge::Keyed(&["containerPort", "protocol"]),
    ),
    (
        "Container",
        "volumeMounts",
        "",
        Merge::Keyed(&["mountPath"]),
    ),
    (
        "Container",
        "volumeDevices",
        "",
        Merge::Keyed(&["devicePath"]),
    ),
    ("EphemeralContainer", "env", "", Merge::Keyed(&["name"])),
    (
        "EphemeralContainer",
        "volumeMounts",
        "",
        Merge::Keyed(&["mountPath"]),
    ),
    (
        "EphemeralContainer",
        "volumeDevices",
        "",
        Merge::Keyed(&["devicePath"]),
    ),
    ("Pod", "spec", "PodSpec", Merge::Plain),
    ("Pod", "status", "PodStatus", Merge::Plain),
    ("PodStatus", "conditions", "", Merge::Keyed(&["type"])),
    ("PodStatus", "podIPs", "", Merge::Keyed(&["ip"])),
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
    ("Status", "conditions", "", Merge::Keyed(&["type"])),
    ("Service", "spec", "ServiceSpec", Merge::Plain),
    ("Service", "status", "Status", Merge::Plain),
    (
        "ServiceSpec",
        "ports",
        "",
        Merge::Keyed(&["port", "protocol"]),
    ),
    ("ServiceAccount", "secrets", "", Merge::Keyed(&["name"])),
    ("Node", "spec", "NodeSpec", Merge::Plain),
    ("Node", "status", "NodeStatus", Merge::Plain),
    ("NodeSpec", "podCIDRs", "", Merge::Primitive),
    ("NodeStatus", "addresses", "", Merge::Keyed(&["type"])),
    ("NodeStatus", "conditions", "", Merge::Keyed(&["type"])),
    ("Webhooks", "webhooks", "", Merge::Keyed(&["name"])),
    ("PodDisruptionBudget", "spec", "PdbSpec", Merge::Plain),
    ("PodDisruptionBudget", "status", "Status", Merge::Plain),
    ("PdbSpec", "selector", "", Merge::Replace),
    ("CSINode", "spec", "CSINodeSpec", Merge::Plain),
    ("CSINodeSpec", "drivers", "", Merge::Keyed(&["name"])),
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

/// The schema position of a field: `None` when the kind or the path is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position(Option<&'static str>);

impl Position {
    /// The root of a resource of this kind.
    pub fn root(gvk: &Gvk) -> Position {
        let api = gvk.api_version();
        if let Some((_, _, t)) = ROOTS.iter().find(|(a, k, _)| *a == api && *k == gvk.kind) {
            return Position(Some(t));
        }
        let plain = PLAIN_KINDS
            .iter()
            .any(|(a, kinds)| *a == api && kinds.contains(&gvk.kind.as_str()));
        Position(plain.then_some("Known"))
    }

    /// How `field` of this position merges, and the position below it.
    pub fn field(self, field: &str) -> (Merge, Position) {
        let Some(t) = self.0 else {
            return (Merge::Plain, Position(None));
        };
        if field == "metadata" && is_root(t) {
            return (Merge::Plain, Position(Some("ObjectMeta")));
        }
        match FIELDS.iter().find(|(ty, f, _, _)| *ty == t && *f == field) {
            Some((_, _, child, merge)) => {
                let child = if child.is_empty() {
                    Some("Known")
                } else {
                    Some(*child)
                };
                (*merge, Position(child))
            }
            None => (Merge::Plain, Position(Some("Known"))),
        }
    }
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
            ("apps/v1", "Deployment", &c[..], Merge::Keyed(&["name"])),
            ("extensions/v1beta1", "Deployment", &c[..], Merge::Plain),
            ("v1", "Deployment", &c[..], Merge::Plain),
            ("example.com/v1", "Foo", &c[..], Merge::Plain),
            (
                "v1",
                "Pod",
                &["spec", "containers", "env"][..],
                Merge::Keyed(&["name"]),
            ),
            (
                "batch/v1",
                "CronJob",
                &["spec", "jobTemplate", "spec", "template", "spec", "volumes"][..],
                Merge::Keyed(&["name"]),
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
                Merge::Keyed(&["port", "protocol"]),
            ),
        ] {
            assert_eq!(merge_at(api, kind, path), want, "{api} {kind} {path:?}");
        }
    }
}
