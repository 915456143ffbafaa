//! API versions Kubernetes removed or deprecated, with their replacements.
//!
//! A manifest still using `extensions/v1beta1` Ingress renders fine and fails only when
//! the cluster rejects it; strata says so at render time, naming the replacement.

/// (apiVersion, kind, replacement apiVersion or "" when the kind is gone, deprecated in,
/// removed in) — versions as (1, minor).
pub const CHANGES: &[(&str, &str, &str, u32, u32)] = &[
    (
        "extensions/v1beta1",
        "Ingress",
        "networking.k8s.io/v1",
        14,
        22,
    ),
    (
        "networking.k8s.io/v1beta1",
        "Ingress",
        "networking.k8s.io/v1",
        19,
        22,
    ),
    (
        "networking.k8s.io/v1beta1",
        "IngressClass",
        "networking.k8s.io/v1",
        19,
        22,
    ),
    ("extensions/v1beta1", "Deployment", "apps/v1", 9, 16),
    ("extensions/v1beta1", "DaemonSet", "apps/v1", 9, 16),
    ("extensions/v1beta1", "ReplicaSet", "apps/v1", 9, 16),
    (
        "extensions/v1beta1",
        "NetworkPolicy",
        "networking.k8s.io/v1",
        9,
        16,
    ),
    ("extensions/v1beta1", "PodSecurityPolicy", "", 10, 16),
    ("apps/v1beta1", "Deployment", "apps/v1", 9, 16),
    ("apps/v1beta1", "StatefulSet", "apps/v1", 9, 16),
    ("apps/v1beta2", "Deployment", "apps/v1", 9, 16),
    ("apps/v1beta2", "DaemonSet", "apps/v1", 9, 16),
    ("apps/v1beta2", "ReplicaSet", "apps/v1", 9, 16),
    ("apps/v1beta2", "StatefulSet", "apps/v1", 9, 16),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
        "admissionregistration.k8s.io/v1",
        16,
        22,
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
        "admissionregistration.k8s.io/v1",
        16,
        22,
    ),
    (
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        "apiextensions.k8s.io/v1",
        16,
        22,
    ),
    (
        "apiregistration.k8s.io/v1beta1",
        "APIService",
        "apiregistration.k8s.io/v1",
        19,
        22,
    ),
    (
        "authentication.k8s.io/v1beta1",
        "TokenReview",
        "authentication.k8s.io/v1",
        19,
        22,
    ),
    (
        "authorization.k8s.io/v1beta1",
        "SubjectAccessReview",
        "authorization.k8s.io/v1",
        19,
        22,
    ),
    (
        "certificates.k8s.io/v1beta1",
        "CertificateSigningRequest",
        "certificates.k8s.io/v1",
        19,
        22,
    ),
    (
        "coordination.k8s.io/v1beta1",
        "Lease",
        "coordination.k8s.io/v1",
        19,
        22,
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRole",
        "rbac.authorization.k8s.io/v1",
        17,
        22,
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRoleBinding",
        "rbac.authorization.k8s.io/v1",
        17,
        22,
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "Role",
        "rbac.authorization.k8s.io/v1",
        17,
        22,
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "RoleBinding",
        "rbac.authorization.k8s.io/v1",
        17,
        22,
    ),
    (
        "scheduling.k8s.io/v1beta1",
        "PriorityClass",
        "scheduling.k8s.io/v1",
        14,
        22,
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSIDriver",
        "storage.k8s.io/v1",
        19,
        22,
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSINode",
        "storage.k8s.io/v1",
        17,
        22,
    ),
    (
        "storage.k8s.io/v1beta1",
        "StorageClass",
        "storage.k8s.io/v1",
        6,
        22,
    ),
    (
        "storage.k8s.io/v1beta1",
        "VolumeAttachment",
        "storage.k8s.io/v1",
        13,
        22,
    ),
    ("batch/v1beta1", "CronJob", "batch/v1", 21, 25),
    (
        "discovery.k8s.io/v1beta1",
        "EndpointSlice",
        "discovery.k8s.io/v1",
        21,
        25,
    ),
    ("events.k8s.io/v1beta1", "Event", "events.k8s.io/v1", 19, 25),
    (
        "autoscaling/v2beta1",
        "HorizontalPodAutoscaler",
        "autoscaling/v2",
        22,
        25,
    ),
    (
        "autoscaling/v2beta2",
        "HorizontalPodAutoscaler",
        "autoscaling/v2",
        23,
        26,
    ),
    ("policy/v1beta1", "PodDisruptionBudget", "policy/v1", 21, 25),
    ("policy/v1beta1", "PodSecurityPolicy", "", 21, 25),
    (
        "node.k8s.io/v1beta1",
        "RuntimeClass",
        "node.k8s.io/v1",
        20,
        25,
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "FlowSchema",
        "flowcontrol.apiserver.k8s.io/v1",
        23,
        26,
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
        "flowcontrol.apiserver.k8s.io/v1",
        23,
        26,
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "FlowSchema",
        "flowcontrol.apiserver.k8s.io/v1",
        26,
        29,
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "PriorityLevelConfiguration",
        "flowcontrol.apiserver.k8s.io/v1",
        26,
        29,
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "FlowSchema",
        "flowcontrol.apiserver.k8s.io/v1",
        29,
        32,
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "PriorityLevelConfiguration",
        "flowcontrol.apiserver.k8s.io/v1",
        29,
        32,
    ),
    (
        "storage.k8s.io/v1beta1",
        "CSIStorageCapacity",
        "storage.k8s.io/v1",
        24,
        27,
    ),
];

/// What happened to an API by Kubernetes 1.`minor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Removed {
        since: u32,
        replacement: &'static str,
    },
    Deprecated {
        removal: u32,
        replacement: &'static str,
    },
}

pub fn change(api_version: &str, kind: &str, minor: u32) -> Option<Change> {
    let (_, _, replacement, deprecated, removed) = CHANGES
        .iter()
        .find(|(a, k, _, _, _)| *a == api_version && *k == kind)?;
    if minor >= *removed {
        Some(Change::Removed {
            since: *removed,
            replacement,
        })
    } else if minor >= *deprecated {
        Some(Change::Deprecated {
            removal: *removed,
            replacement,
        })
    } else {
        None
    }
}
