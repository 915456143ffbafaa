//! Objects that name another object: Ingress and Gateway API route backends (a Service and
//! its port), HorizontalPodAutoscaler scale targets, RoleBinding ServiceAccounts.

use super::{Found, Index, namespace, path, suggest};
use crate::yaml::Value;

pub(super) fn check<'a>(index: &Index<'a>, found: &mut Found<'a, '_>, i: usize) {
    let v = found.docs[i].value;
    let ns = namespace(v);
    let api = v.str_at(&["apiVersion"]).unwrap_or("");
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    match (group, v.str_at(&["kind"]).unwrap_or("")) {
        ("networking.k8s.io" | "extensions", "Ingress") => ingress(index, found, i, v, ns),
        ("gateway.networking.k8s.io", kind) if kind.ends_with("Route") => {
            route(index, found, i, v, ns)
        }
        ("autoscaling", "HorizontalPodAutoscaler") => scale_target(index, found, i, v, ns),
        ("rbac.authorization.k8s.io", "RoleBinding") => role_binding(index, found, i, v, ns),
        _ => {}
    }
}

/// A port of a backend: a number or a name.
enum Port<'v> {
    Number(i64),
    Name(&'v str),
}

/// Warn when Service `name` is missing, or has no port `port`. `at` is the path of the
/// field naming the Service; `port_at` that of the port.
#[allow(clippy::too_many_arguments)]
fn backend<'a>(
    index: &Index<'a>,
    found: &mut Found,
    i: usize,
    ns: &'a str,
    name: &'a str,
    port: Option<Port>,
    at: Vec<String>,
    port_at: Vec<String>,
) {
    let Some(spec) = index.service(ns, name) else {
        let help = suggest(
            "Service",
            name,
            ns,
            index.names("Service", ns),
            &format!("add Service `{name}` to the render or fix the name"),
        );
        found.warn(
            i,
            "missing-service",
            at,
            format!("Service `{name}` is not in the render"),
            help,
        );
        return;
    };
    let ports = spec.get("ports").and_then(Value::as_seq);
    let (Some(port), Some(ports)) = (port, ports) else {
        return;
    };
    let has = ports.iter().any(|p| match &port {
        Port::Number(n) => p.get("port") == Some(&Value::Int(*n)),
        Port::Name(s) => p.str_at(&["name"]) == Some(*s),
    });
    if has {
        return;
    }
    let listed: Vec<String> = ports
        .iter()
        .map(|p| {
            match (
                p.get("port").and_then(Value::scalar_text),
                p.str_at(&["name"]),
            ) {
                (Some(n), Some(s)) => format!("{n} (`{s}`)"),
                (Some(n), None) => n,
                (None, _) => "?".into(),
            }
        })
        .collect();
    let shown = match port {
        Port::Number(n) => n.to_string(),
        Port::Name(s) => format!("`{s}`"),
    };
    found.warn(
        i,
        "missing-service-port",
        port_at,
        format!("Service `{name}` has no port {shown}"),
        format!("its ports are {}", listed.join(", ")),
    );
}

fn ingress<'a>(index: &Index<'a>, found: &mut Found, i: usize, v: &'a Value, ns: &'a str) {
    let Some(spec) = v.get("spec") else {
        return;
    };
    let mut backends: Vec<(Vec<String>, &Value)> = Vec::new();
    for key in ["defaultBackend", "backend"] {
        if let Some(b) = spec.get(key) {
            backends.push((path(&["spec", key]), b));
        }
    }
    for (r, rule) in spec
        .get("rules")
        .and_then(Value::as_seq)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let paths = rule
            .get("http")
            .and_then(|h| h.get("paths"))
            .and_then(Value::as_seq);
        for (p, item) in paths.into_iter().flatten().enumerate() {
            if let Some(b) = item.get("backend") {
                let at = path(&[
                    "spec",
                    "rules",
                    &r.to_string(),
                    "http",
                    "paths",
                    &p.to_string(),
                    "backend",
                ]);
                backends.push((at, b));
            }
        }
    }
    for (at, b) in backends {
        let join = |more: &[&str]| {
            let mut out = at.clone();
            out.extend(more.iter().map(|s| s.to_string()));
            out
        };
        if let Some(service) = b.get("service") {
            let Some(name) = service.str_at(&["name"]) else {
                continue;
            };
            let number = service.get("port").and_then(|p| p.get("number"));
            let (port, port_at) = match (number, service.str_at(&["port", "name"])) {
                (Some(Value::Int(n)), _) => {
                    (Some(Port::Number(*n)), join(&["service", "port", "number"]))
                }
                (_, Some(s)) => (Some(Port::Name(s)), join(&["service", "port", "name"])),
                _ => (None, Vec::new()),
            };
            backend(
                index,
                found,
                i,
                ns,
                name,
                port,
                join(&["service", "name"]),
                port_at,
            );
        } else if let Some(name) = b.str_at(&["serviceName"]) {
            let port = match b.get("servicePort") {
                Some(Value::Int(n)) => Some(Port::Number(*n)),
                Some(Value::Str(s)) => Some(Port::Name(s)),
                _ => None,
            };
            backend(
                index,
                found,
                i,
                ns,
                name,
                port,
                join(&["serviceName"]),
                join(&["servicePort"]),
            );
        }
    }
}

/// `spec.rules[].backendRefs[]` of HTTPRoute, GRPCRoute, TCPRoute, …: Services of the
/// route's own namespace (a cross-namespace reference needs a ReferenceGrant: not checked).
fn route<'a>(index: &Index<'a>, found: &mut Found, i: usize, v: &'a Value, ns: &'a str) {
    let rules = v
        .get("spec")
        .and_then(|s| s.get("rules"))
        .and_then(Value::as_seq);
    for (r, rule) in rules.into_iter().flatten().enumerate() {
        let refs = rule.get("backendRefs").and_then(Value::as_seq);
        for (b, item) in refs.into_iter().flatten().enumerate() {
            let group = item.str_at(&["group"]).unwrap_or("");
            let kind = item.str_at(&["kind"]).unwrap_or("Service");
            let other_ns = item.str_at(&["namespace"]).is_some_and(|n| n != ns);
            let Some(name) = item.str_at(&["name"]) else {
                continue;
            };
            if !group.is_empty() || kind != "Service" || other_ns {
                continue;
            }
            let at = |leaf: &str| {
                path(&[
                    "spec",
                    "rules",
                    &r.to_string(),
                    "backendRefs",
                    &b.to_string(),
                    leaf,
                ])
            };
            let port = match item.get("port") {
                Some(Value::Int(n)) => Some(Port::Number(*n)),
                _ => None,
            };
            backend(index, found, i, ns, name, port, at("name"), at("port"));
        }
    }
}

fn scale_target<'a>(index: &Index<'a>, found: &mut Found, i: usize, v: &'a Value, ns: &'a str) {
    let (Some(kind), Some(name)) = (
        v.str_at(&["spec", "scaleTargetRef", "kind"]),
        v.str_at(&["spec", "scaleTargetRef", "name"]),
    ) else {
        return;
    };
    if index.has(kind, ns, name) {
        return;
    }
    let help = suggest(
        kind,
        name,
        ns,
        index.names(kind, ns),
        &format!("add {kind} `{name}` to the render or fix `scaleTargetRef`"),
    );
    found.warn(
        i,
        "missing-scale-target",
        path(&["spec", "scaleTargetRef", "name"]),
        format!("{kind} `{name}` is not in the render"),
        help,
    );
}

/// ServiceAccount subjects of the binding's own namespace (`default` always exists), where
/// the render has ServiceAccounts.
fn role_binding<'a>(index: &Index<'a>, found: &mut Found, i: usize, v: &'a Value, ns: &'a str) {
    let subjects = v.get("subjects").and_then(Value::as_seq);
    for (s, subject) in subjects.into_iter().flatten().enumerate() {
        if subject.str_at(&["kind"]) != Some("ServiceAccount") {
            continue;
        }
        let Some(name) = subject.str_at(&["name"]) else {
            continue;
        };
        let subject_ns = subject
            .str_at(&["namespace"])
            .filter(|n| !n.is_empty())
            .unwrap_or(ns);
        let accounts = index.names("ServiceAccount", ns);
        if subject_ns != ns || name == "default" || accounts.is_empty() || accounts.contains(&name)
        {
            continue;
        }
        let help = suggest(
            "ServiceAccount",
            name,
            ns,
            index.names("ServiceAccount", ns),
            &format!("add ServiceAccount `{name}` to the render or fix the subject"),
        );
        found.warn(
            i,
            "missing-serviceaccount",
            path(&["subjects", &s.to_string(), "name"]),
            format!("ServiceAccount `{name}` is not in the render"),
            help,
        );
    }
}
