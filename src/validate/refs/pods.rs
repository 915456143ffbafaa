//! Pods and what they need: selectors that must match a pod template (Service,
//! PodDisruptionBudget) and the ConfigMaps and Secrets a pod template mounts or reads.

use super::{Found, Index, namespace, path, pod_template, suggest};
use crate::patch::selector::{Requirement, matches};
use crate::yaml::{Map, Value};

pub(super) fn check(index: &Index, found: &mut Found, i: usize) {
    let v = found.docs[i].value;
    let ns = namespace(v);
    match (v.str_at(&["kind"]), v.str_at(&["apiVersion"])) {
        (Some("Service"), Some("v1")) => service(index, found, i, v, ns),
        (Some("PodDisruptionBudget"), Some(api)) if api.starts_with("policy/") => {
            disruption_budget(index, found, i, v, ns)
        }
        _ => {}
    }
    if let Some((prefix, template)) = pod_template(v)
        && let Some(spec) = template.get("spec")
    {
        config_refs(index, found, i, ns, spec, &join(&path(&prefix), &["spec"]));
    }
}

/// The closest pod template to a selector: the one matching most of its labels. Help text
/// and the selector key to point at.
fn closest_template(index: &Index, ns: &str, selector: &Map) -> (String, Option<String>) {
    let score = |labels: Option<&Map>| {
        selector
            .iter()
            .filter(|(k, v)| labels.and_then(|l| l.get(k.as_str())) == Some(*v))
            .count()
    };
    let mut best: Option<(usize, &super::Pod)> = None;
    for p in index.pods.iter().filter(|p| p.namespace == ns) {
        let s = score(p.labels);
        if best.is_none_or(|(b, _)| s > b) {
            best = Some((s, p));
        }
    }
    let Some((_, best)) = best else {
        return (
            format!("the render has no pod template in namespace `{ns}`"),
            selector.keys().next().cloned(),
        );
    };
    // The first selector label the closest template does not have as selected.
    let labels = best.labels;
    let miss = selector
        .iter()
        .find(|(k, v)| labels.and_then(|l| l.get(k.as_str())) != Some(*v));
    match miss {
        Some((k, _)) => match labels
            .and_then(|l| l.get(k.as_str()))
            .and_then(Value::as_str)
        {
            Some(actual) => (
                format!(
                    "did you mean `{k}: {actual}`? (the pod template of {})",
                    best.owner
                ),
                Some(k.clone()),
            ),
            None => (
                format!(
                    "the closest pod template, of {}, has no label `{k}`",
                    best.owner
                ),
                Some(k.clone()),
            ),
        },
        None => (String::new(), None),
    }
}

fn service(index: &Index, found: &mut Found, i: usize, v: &Value, ns: &str) {
    if v.str_at(&["spec", "type"]) == Some("ExternalName") {
        return;
    }
    let Some(selector) = v
        .get("spec")
        .and_then(|s| s.get("selector"))
        .and_then(Value::as_map)
    else {
        return;
    };
    if selector.is_empty() || index.selected(ns, selector) {
        return;
    }
    let (help, key) = closest_template(index, ns, selector);
    let mut at = path(&["spec", "selector"]);
    at.extend(key);
    let text = selector
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.scalar_text().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(", ");
    found.warn(
        i,
        "service-selector",
        &at,
        format!("the selector `{text}` matches no pod template in the render"),
        help,
    );
}

/// A label selector (`matchLabels` and `matchExpressions`) as requirements.
fn requirements(selector: &Value) -> Vec<Requirement> {
    let mut out = Vec::new();
    for (k, v) in selector
        .get("matchLabels")
        .and_then(Value::as_map)
        .into_iter()
        .flatten()
    {
        out.push(Requirement::Equals(
            k.clone(),
            v.scalar_text().unwrap_or_default(),
        ));
    }
    for e in selector
        .get("matchExpressions")
        .and_then(Value::as_seq)
        .into_iter()
        .flatten()
    {
        let key = e.str_at(&["key"]).unwrap_or("").to_string();
        let values: Vec<String> = e
            .get("values")
            .and_then(Value::as_seq)
            .into_iter()
            .flatten()
            .filter_map(Value::scalar_text)
            .collect();
        out.push(match e.str_at(&["operator"]).unwrap_or("") {
            "In" => Requirement::In(key, values),
            "NotIn" => Requirement::NotIn(key, values),
            "Exists" => Requirement::Exists(key),
            _ => Requirement::NotExists(key),
        });
    }
    out
}

fn disruption_budget(index: &Index, found: &mut Found, i: usize, v: &Value, ns: &str) {
    let Some(selector) = v.get("spec").and_then(|s| s.get("selector")) else {
        return;
    };
    let reqs = requirements(selector);
    // An empty selector selects every pod of the namespace.
    if reqs.is_empty()
        || index
            .pods
            .iter()
            .any(|p| p.namespace == ns && matches(&reqs, p.labels))
    {
        return;
    }
    let mut at = path(&["spec", "selector"]);
    let help = match selector.get("matchLabels").and_then(Value::as_map) {
        Some(labels) if !labels.is_empty() => {
            let (help, key) = closest_template(index, ns, labels);
            at.push("matchLabels".into());
            at.extend(key);
            help
        }
        _ => format!("no pod template in namespace `{ns}` matches its `matchExpressions`"),
    };
    found.warn(
        i,
        "pdb-selector",
        &at,
        "the selector matches no pod template in the render".into(),
        help,
    );
}

/// A reference to a ConfigMap or Secret at `at` + `field` inside `holder`.
#[allow(clippy::too_many_arguments)]
fn reference(
    index: &Index,
    found: &mut Found,
    i: usize,
    ns: &str,
    holder: &Value,
    kind: &str,
    field: &str,
    at: &[String],
) {
    let Some(name) = holder.get(field).and_then(Value::as_str) else {
        return;
    };
    if holder.get("optional") == Some(&Value::Bool(true)) || index.has(kind, ns, name) {
        return;
    }
    let mut full = at.to_vec();
    full.push(field.into());
    let rule = if kind == "ConfigMap" {
        "missing-configmap"
    } else {
        "missing-secret"
    };
    let help = suggest(
        kind,
        name,
        ns,
        index.names(kind, ns),
        &format!("add {kind} `{name}` to the render, or mark the reference `optional: true`"),
    );
    found.warn(
        i,
        rule,
        &full,
        format!("{kind} `{name}` is not in the render"),
        help,
    );
}

fn join(base: &[String], more: &[&str]) -> Vec<String> {
    let mut out = base.to_vec();
    out.extend(more.iter().map(|s| s.to_string()));
    out
}

fn seq<'v>(v: &'v Value, key: &str) -> impl Iterator<Item = (String, &'v Value)> {
    v.get(key)
        .and_then(Value::as_seq)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(n, item)| (n.to_string(), item))
}

/// Volumes, `envFrom` and `env[].valueFrom` of the pod spec at `at`.
fn config_refs(index: &Index, found: &mut Found, i: usize, ns: &str, spec: &Value, at: &[String]) {
    let mut check = |holder: Option<&Value>, kind: &str, field: &str, at: Vec<String>| {
        if let Some(h) = holder {
            reference(index, found, i, ns, h, kind, field, &at);
        }
    };
    for (n, vol) in seq(spec, "volumes") {
        let base = join(at, &["volumes", &n]);
        check(
            vol.get("configMap"),
            "ConfigMap",
            "name",
            join(&base, &["configMap"]),
        );
        check(
            vol.get("secret"),
            "Secret",
            "secretName",
            join(&base, &["secret"]),
        );
        let Some(projected) = vol.get("projected") else {
            continue;
        };
        for (s, source) in seq(projected, "sources") {
            let b = join(&base, &["projected", "sources", &s]);
            check(
                source.get("configMap"),
                "ConfigMap",
                "name",
                join(&b, &["configMap"]),
            );
            check(
                source.get("secret"),
                "Secret",
                "name",
                join(&b, &["secret"]),
            );
        }
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (c, container) in seq(spec, list) {
            let base = join(at, &[list, &c]);
            for (e, from) in seq(container, "envFrom") {
                let b = join(&base, &["envFrom", &e]);
                check(
                    from.get("configMapRef"),
                    "ConfigMap",
                    "name",
                    join(&b, &["configMapRef"]),
                );
                check(
                    from.get("secretRef"),
                    "Secret",
                    "name",
                    join(&b, &["secretRef"]),
                );
            }
            for (e, env) in seq(container, "env") {
                let Some(from) = env.get("valueFrom") else {
                    continue;
                };
                let b = join(&base, &["env", &e, "valueFrom"]);
                check(
                    from.get("configMapKeyRef"),
                    "ConfigMap",
                    "name",
                    join(&b, &["configMapKeyRef"]),
                );
                check(
                    from.get("secretKeyRef"),
                    "Secret",
                    "name",
                    join(&b, &["secretKeyRef"]),
                );
            }
        }
    }
}
