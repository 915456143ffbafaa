//! Reference checks: what one render names but does not contain.
//!
//! A schema cannot see that a Service selects no pods or that a Deployment mounts a
//! ConfigMap nobody creates; both render, apply, and break at run time. Within each group
//! of documents (one render), this module indexes what exists (objects by kind, namespace
//! and name; pod templates and their labels; Service ports) and warns about:
//! - a Service whose selector matches no pod template, a PodDisruptionBudget likewise
//!   (`pods.rs`);
//! - a ConfigMap or Secret named by a volume, `envFrom` or `env.valueFrom` and not marked
//!   `optional` (`pods.rs`; Secrets that cert-manager, External Secrets or Sealed Secrets
//!   objects in the render produce count as present);
//! - an Ingress or Gateway API route backend naming a missing Service or port, a
//!   HorizontalPodAutoscaler targeting nothing, a RoleBinding to a missing ServiceAccount
//!   of its own namespace (`targets.rs`).
//!
//! Each warning points at the referencing field and names the closest existing name.
//! Pod templates are those of workloads (`spec.template`, `spec.jobTemplate.spec.template`,
//! custom resources included) and Pods. What a render does not manage is not checked, so
//! that a partial render (a kubebuilder `config/rbac`) or objects made elsewhere stay
//! quiet: selectors only where the render has pod templates in that namespace, Secrets and
//! ServiceAccounts only where it has some of that kind (Secrets often come from a vault, a
//! controller or `kubectl create secret`); `kube-root-ca.crt` exists in every namespace.
//! An object an operator creates at run time is still not in the render, which is why
//! these are warnings.

mod pods;
mod targets;

use super::{Doc, Severity, Violation};
use crate::yaml::{Map, Value};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;

/// The reference warnings of every group of `docs`, in document order.
pub fn check(docs: &[Doc]) -> Vec<Violation> {
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, d) in docs.iter().enumerate() {
        groups.entry(d.group).or_default().push(i);
    }
    let mut out = Vec::new();
    for members in groups.values() {
        let index = Index::new(docs, members);
        let mut found = Found {
            docs,
            out: &mut out,
        };
        for (n, &i) in members.iter().enumerate() {
            pods::check(&index, &mut found, i, index.templates[n]);
            targets::check(&index, &mut found, i);
        }
    }
    out.sort_by_key(|v| v.doc);
    out
}

/// Collects warnings.
struct Found<'a, 'o> {
    docs: &'a [Doc<'a>],
    out: &'o mut Vec<Violation>,
}

impl Found<'_, '_> {
    fn warn(
        &mut self,
        doc: usize,
        rule: &'static str,
        path: Vec<String>,
        message: String,
        help: String,
    ) {
        self.out.push(Violation::of(
            &self.docs[doc],
            doc,
            Severity::Warning,
            rule,
            path,
            message,
            Some(help),
        ));
    }
}

/// A pod template: the labels its pods get.
struct Pod<'a> {
    namespace: &'a str,
    labels: Option<&'a Map>,
    /// `Deployment/web`
    owner: String,
}

/// A document's pod template: the path to it and its value (metadata and spec).
type Template<'a> = Option<(&'static [&'static str], &'a Value)>;

/// What one render contains.
struct Index<'a> {
    /// Names by kind and namespace, in input order (for suggestions).
    names: FxHashMap<(&'a str, &'a str), Vec<&'a str>>,
    /// Every (kind, namespace, name).
    ids: FxHashSet<(&'a str, &'a str, &'a str)>,
    pods: Vec<Pod<'a>>,
    /// Pod templates by namespace, label key and label value.
    by_label: FxHashMap<(&'a str, &'a str, &'a str), Vec<usize>>,
    /// A Service's `spec` by namespace and name.
    services: FxHashMap<(&'a str, &'a str), &'a Value>,
    /// Namespaces with a pod template.
    pod_namespaces: FxHashSet<&'a str>,
    /// The pod template of each member document, in order.
    templates: Vec<Template<'a>>,
}

/// The namespace an object lives in (`default` when it names none).
fn namespace(v: &Value) -> &str {
    match v.str_at(&["metadata", "namespace"]) {
        Some(ns) if !ns.is_empty() => ns,
        _ => "default",
    }
}

/// Where a document's pod template is, if it has one.
fn pod_template(v: &Value) -> Template<'_> {
    const PATHS: [(&[&str], &[&str]); 2] = [
        (&["template"], &["spec", "template"]),
        (
            &["jobTemplate", "spec", "template"],
            &["spec", "jobTemplate", "spec", "template"],
        ),
    ];
    match v.str_at(&["kind"]) {
        Some("Pod") => return Some((&[], v)),
        Some("PodTemplate") => return v.get("template").map(|t| (&["template"][..], t)),
        _ => {}
    }
    let spec = v.get("spec")?;
    for (within, full) in PATHS {
        let mut t = Some(spec);
        for k in within {
            t = t.and_then(|t| t.get(k));
        }
        if let Some(t) = t.filter(|t| t.get("spec").and_then(|s| s.get("containers")).is_some()) {
            return Some((full, t));
        }
    }
    None
}

impl<'a> Index<'a> {
    fn new(docs: &'a [Doc<'a>], members: &[usize]) -> Index<'a> {
        let n = members.len();
        let mut index = Index {
            names: FxHashMap::default(),
            ids: FxHashSet::with_capacity_and_hasher(n, Default::default()),
            pods: Vec::new(),
            by_label: FxHashMap::with_capacity_and_hasher(n, Default::default()),
            services: FxHashMap::default(),
            pod_namespaces: FxHashSet::default(),
            templates: Vec::with_capacity(n),
        };
        for &i in members {
            let v = docs[i].value;
            let template = pod_template(v);
            index.templates.push(template);
            let (Some(kind), Some(name)) = (v.str_at(&["kind"]), v.str_at(&["metadata", "name"]))
            else {
                continue;
            };
            let ns = namespace(v);
            index.add(kind, ns, name);
            if let Some(secret) = produced_secret(v) {
                index.add("Secret", ns, secret);
            }
            if kind == "Service"
                && let Some(spec) = v.get("spec")
            {
                index.services.insert((ns, name), spec);
            }
            if let Some((_, template)) = template {
                let labels = template
                    .get("metadata")
                    .and_then(|m| m.get("labels"))
                    .and_then(Value::as_map);
                let at = index.pods.len();
                index.pod_namespaces.insert(ns);
                for (k, val) in labels.into_iter().flatten() {
                    if let Some(val) = val.as_str() {
                        index
                            .by_label
                            .entry((ns, k.as_str(), val))
                            .or_default()
                            .push(at);
                    }
                }
                index.pods.push(Pod {
                    namespace: ns,
                    labels,
                    owner: format!("{kind}/{name}"),
                });
            }
        }
        index
    }

    fn add(&mut self, kind: &'a str, ns: &'a str, name: &'a str) {
        self.names.entry((kind, ns)).or_default().push(name);
        self.ids.insert((kind, ns, name));
    }

    fn names(&self, kind: &'a str, ns: &'a str) -> &[&'a str] {
        self.names.get(&(kind, ns)).map_or(&[], Vec::as_slice)
    }

    /// The `spec` of Service `name` in `ns`.
    fn service(&self, ns: &'a str, name: &'a str) -> Option<&'a Value> {
        self.services.get(&(ns, name)).copied()
    }

    /// Whether the render has a pod template in `ns`.
    fn has_pods(&self, ns: &str) -> bool {
        self.pod_namespaces.contains(ns)
    }

    fn has(&self, kind: &'a str, ns: &'a str, name: &'a str) -> bool {
        self.ids.contains(&(kind, ns, name))
    }

    /// The pod templates of `ns` that have one `key: value` of `labels`: the fewest such
    /// (the most selective label), or `None` when `labels` has no string pair.
    fn candidates(&self, ns: &'a str, labels: &'a Map) -> Option<&[usize]> {
        labels
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
            .map(|(k, v)| {
                self.by_label
                    .get(&(ns, k, v))
                    .map_or(&[][..], Vec::as_slice)
            })
            .min_by_key(|c| c.len())
    }

    /// Whether a pod template of `ns` has every `key: value` of `labels`.
    fn selected(&self, ns: &'a str, labels: &'a Map) -> bool {
        let Some(candidates) = self.candidates(ns, labels) else {
            return false;
        };
        candidates.iter().any(|&p| {
            labels.iter().all(|(k, v)| {
                self.pods[p]
                    .labels
                    .and_then(|l| l.get(k.as_str()))
                    .is_some_and(|l| l == v)
            })
        })
    }
}

/// The Secret another object in the render creates: a cert-manager Certificate's
/// `spec.secretName`, an ExternalSecret's target, a SealedSecret's name.
fn produced_secret(v: &Value) -> Option<&str> {
    let group = v.str_at(&["apiVersion"])?.split('/').next()?;
    match (group, v.str_at(&["kind"])?) {
        ("cert-manager.io", "Certificate") => v.str_at(&["spec", "secretName"]),
        ("external-secrets.io", "ExternalSecret") => v
            .str_at(&["spec", "target", "name"])
            .or_else(|| v.str_at(&["metadata", "name"])),
        ("bitnami.com", "SealedSecret") => v
            .str_at(&["spec", "template", "metadata", "name"])
            .or_else(|| v.str_at(&["metadata", "name"])),
        _ => None,
    }
}

/// A generated name's stem: `app-config-5h2k8f7g9c` → `app-config` (the name a
/// kustomization gives its generator, and the one a user writes).
fn stem(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((stem, hash))
            if hash.len() == 10 && hash.bytes().all(|b| b"2456789bcdfghkmt".contains(&b)) =>
        {
            stem
        }
        _ => name,
    }
}

/// The existing name closest to `name`, and whether it is close enough to be a typo. A
/// generated name (`app-config-5h2k8f7g9c`) is offered by its stem when that is closer:
/// it is the name the kustomization gives.
fn nearest<'n>(name: &str, candidates: &[&'n str]) -> Option<(&'n str, bool)> {
    let len = name.chars().count();
    let mut best: Option<(usize, &'n str)> = None;
    for c in candidates.iter().flat_map(|c| [*c, stem(c)]) {
        // The distance is at least the difference in length: skip what cannot be closer.
        if best.is_some_and(|(d, _)| c.chars().count().abs_diff(len) >= d) {
            continue;
        }
        let d = strsim::levenshtein(name, c);
        if best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(d, c)| (c, d <= (len / 3).max(2)))
}

/// `help:` for a reference to a missing `kind` `name`.
fn suggest(kind: &str, name: &str, ns: &str, candidates: &[&str], otherwise: &str) -> String {
    match nearest(name, candidates) {
        Some((c, true)) => format!("did you mean `{c}`?"),
        Some((c, false)) => {
            format!("{otherwise} (the closest {kind} in namespace `{ns}` is `{c}`)")
        }
        None => format!("{otherwise} (the render has no {kind} in namespace `{ns}`)"),
    }
}

/// Path segments from string literals and indexes.
fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// `base` followed by `more`.
fn join(base: &[&str], more: &[&str]) -> Vec<String> {
    base.iter().chain(more).map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests;
