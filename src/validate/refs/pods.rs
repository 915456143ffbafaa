//! Pods and what they need: selectors that must match a pod template (Service,
//! PodDisruptionBudget) and the ConfigMaps and Secrets a pod template mounts or reads.
//!
//! Paths are built only for a warning: most references resolve, and this runs on every
//! document of a render.

use super::{Found, Index, Pod, Template, join, namespace, path, suggest};
use crate::patch::selector::{Requirement, matches};
use crate::yaml::{Map, Value};

pub(super) fn check<'a>(
    index: &Index<'a>,
    found: &mut Found<'a, '_>,
    i: usize,
    template: Template<'a>,
) {
    let v = found.docs[i].value;
    let ns = namespace(v);
    match (v.str_at(&["kind"]), v.str_at(&["apiVersion"])) {
        (Some("Service"), Some("v1")) => service(index, found, i, v, ns),
        (Some("PodDisruptionBudget"), Some(api)) if api.starts_with("policy/") => {
            disruption_budget(index, found, i, v, ns)
        }
        _ => {}
    }
    if let Some((prefix, template)) = template
        && let Some(spec) = template.get("spec")
    {
        config_refs(index, found, i, ns, spec, prefix);
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
    let mut best: Option<(usize, &Pod)> = None;
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

fn service<'a>(index: &Index<'a>, found: &mut Found, i: usize, v: &'a Value, ns: &'a str) {
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
    if selector.is_empty() || !index.has_pods(ns) || index.selected(ns, selector) {
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
        at,
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

fn disruption_budget<'a>(
    index: &Index<'a>,
    found: &mut Found,
    i: usize,
    v: &'a Value,
    ns: &'a str,
) {
    let Some(selector) = v.get("spec").and_then(|s| s.get("selector")) else {
        return;
    };
    let reqs = requirements(selector);
    // An empty selector selects every pod of the namespace.
    if reqs.is_empty() || !index.has_pods(ns) {
        return;
    }
    // The pods `matchLabels` narrows to, or every pod of the namespace.
    let labels = selector.get("matchLabels").and_then(Value::as_map);
    let selected = match labels.and_then(|l| index.candidates(ns, l)) {
        Some(candidates) => candidates
            .iter()
            .any(|&p| matches(&reqs, index.pods[p].labels)),
        None => index
            .pods
            .iter()
            .any(|p| p.namespace == ns && matches(&reqs, p.labels)),
    };
    if selected {
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
        at,
        "the selector matches no pod template in the render".into(),
        help,
    );
}

/// The document's ConfigMap and Secret references, checked against what the render has.
struct Refs<'i, 'a, 'f, 'o> {
    index: &'i Index<'a>,
    found: &'f mut Found<'a, 'o>,
    doc: usize,
    ns: &'a str,
}

impl<'a> Refs<'_, 'a, '_, '_> {
    /// The reference `holder.field` to a `kind` (`at()`: the path of `holder`).
    fn check(
        &mut self,
        holder: Option<&'a Value>,
        kind: &'static str,
        field: &str,
        at: &dyn Fn() -> Vec<String>,
    ) {
        let Some(holder) = holder else {
            return;
        };
        let Some(name) = holder.get(field).and_then(Value::as_str) else {
            return;
        };
        let (index, ns) = (self.index, self.ns);
        if holder.get("optional") == Some(&Value::Bool(true))
            || index.has(kind, ns, name)
            || (kind == "ConfigMap" && name == "kube-root-ca.crt")
            || (kind == "Secret" && index.names(kind, ns).is_empty())
        {
            return;
        }
        let mut full = at();
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
        self.found.warn(
            self.doc,
            rule,
            full,
            format!("{kind} `{name}` is not in the render"),
            help,
        );
    }
}

fn items<'v>(v: &'v Value, key: &str) -> impl Iterator<Item = (usize, &'v Value)> {
    v.get(key)
        .and_then(Value::as_seq)
        .into_iter()
        .flatten()
        .enumerate()
}

/// Volumes, `envFrom` and `env[].valueFrom` of the pod spec of the template at `prefix`.
fn config_refs<'a>(
    index: &Index<'a>,
    found: &mut Found<'a, '_>,
    i: usize,
    ns: &'a str,
    spec: &'a Value,
    prefix: &[&str],
) {
    let mut refs = Refs {
        index,
        found,
        doc: i,
        ns,
    };
    let at = |more: &[&str]| {
        let mut p = join(prefix, &["spec"]);
        p.extend(more.iter().map(|s| s.to_string()));
        p
    };
    for (n, vol) in items(spec, "volumes") {
        let n = &n.to_string();
        refs.check(vol.get("configMap"), "ConfigMap", "name", &|| {
            at(&["volumes", n, "configMap"])
        });
        refs.check(vol.get("secret"), "Secret", "secretName", &|| {
            at(&["volumes", n, "secret"])
        });
        let Some(projected) = vol.get("projected") else {
            continue;
        };
        for (s, source) in items(projected, "sources") {
            let s = &s.to_string();
            let base = ["volumes", n, "projected", "sources", s];
            refs.check(source.get("configMap"), "ConfigMap", "name", &|| {
                at(&[&base[..], &["configMap"]].concat())
            });
            refs.check(source.get("secret"), "Secret", "name", &|| {
                at(&[&base[..], &["secret"]].concat())
            });
        }
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (c, container) in items(spec, list) {
            let c = &c.to_string();
            for (e, from) in items(container, "envFrom") {
                let e = &e.to_string();
                refs.check(from.get("configMapRef"), "ConfigMap", "name", &|| {
                    at(&[list, c, "envFrom", e, "configMapRef"])
                });
                refs.check(from.get("secretRef"), "Secret", "name", &|| {
                    at(&[list, c, "envFrom", e, "secretRef"])
                });
            }
            for (e, env) in items(container, "env") {
                let Some(from) = env.get("valueFrom") else {
                    continue;
                };
                let e = &e.to_string();
                let key_ref = |kind: &str| at(&[list, c, "env", e, "valueFrom", kind]);
                refs.check(from.get("configMapKeyRef"), "ConfigMap", "name", &|| {
                    key_ref("configMapKeyRef")
                });
                refs.check(from.get("secretKeyRef"), "Secret", "name", &|| {
                    key_ref("secretKeyRef")
                });
            }
        }
    }
}
