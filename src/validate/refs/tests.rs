use super::check;
use crate::validate::{Doc, Severity};
use crate::yaml::parse_documents;

const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web, tier: front}}\n    spec:\n      volumes:\n      - {name: c, configMap: {name: web-confg}}\n      - {name: s, secret: {secretName: web-tls}}\n      - {name: o, configMap: {name: maybe, optional: true}}\n      containers:\n      - name: web\n        image: web\n        envFrom: [{configMapRef: {name: web-env}}]\n        env:\n        - {name: A, valueFrom: {secretKeyRef: {name: web-db, key: password}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config-5h2k8f7g9c, namespace: shop}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: web-db-creds, namespace: shop}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 80}]\n";

/// (rule, path, a piece of the help) of every warning of a render.
fn warnings(text: &str) -> Vec<(String, String, String)> {
    let parsed = parse_documents(text).expect("yaml");
    let docs: Vec<Doc> = parsed
        .iter()
        .map(|d| Doc {
            value: &d.value,
            file: None,
            line: d.line,
            source: None,
            group: 0,
        })
        .collect();
    check(&docs)
        .into_iter()
        .map(|v| {
            assert_eq!(v.severity, Severity::Warning);
            (v.rule.to_string(), v.path, v.help.unwrap_or_default())
        })
        .collect()
}

fn has(found: &[(String, String, String)], rule: &str, path: &str, help: &str) -> bool {
    found
        .iter()
        .any(|(r, p, h)| r == rule && p == path && h.contains(help))
}

#[test]
fn config_maps_and_secrets_must_be_in_the_render() {
    let w = warnings(WEB);
    let t = "spec.template.spec";
    assert!(
        has(
            &w,
            "missing-configmap",
            &format!("{t}.volumes.0.configMap.name"),
            "did you mean `web-config`?"
        ),
        "{w:?}"
    );
    assert!(has(
        &w,
        "missing-secret",
        &format!("{t}.volumes.1.secret.secretName"),
        "the closest Secret in namespace `shop` is `web-db-creds`"
    ));
    assert!(has(
        &w,
        "missing-configmap",
        &format!("{t}.containers.0.envFrom.0.configMapRef.name"),
        "closest ConfigMap"
    ));
    assert!(has(
        &w,
        "missing-secret",
        &format!("{t}.containers.0.env.0.valueFrom.secretKeyRef.name"),
        ""
    ));
    assert_eq!(w.len(), 4, "optional references are not checked: {w:?}");
    let mut complete = WEB.to_string();
    for (kind, name) in [
        ("ConfigMap", "web-env"),
        ("Secret", "web-db"),
        ("ConfigMap", "web-confg"),
    ] {
        complete.push_str(&format!(
            "---\napiVersion: v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: shop}}\n"
        ));
    }
    complete.push_str("---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c, namespace: shop}\nspec: {secretName: web-tls}\n");
    assert_eq!(warnings(&complete), Vec::new());
    // A render without Secrets in the namespace gets them from elsewhere.
    let no_secrets = WEB.replace(
        "kind: Secret\nmetadata: {name: web-db-creds, namespace: shop}",
        "kind: Secret\nmetadata: {name: web-db-creds, namespace: elsewhere}",
    );
    assert!(
        !warnings(&no_secrets)
            .iter()
            .any(|w| w.0 == "missing-secret")
    );
    let root_ca = WEB.replace("name: web-confg}", "name: kube-root-ca.crt}");
    assert!(!warnings(&root_ca).iter().any(|w| w.1.contains("volumes.0")));
}

#[test]
fn selectors_must_match_a_pod_template() {
    let typo = WEB.replace("selector: {app: web}", "selector: {app: wbe}");
    let w = warnings(&typo);
    assert!(
        has(
            &w,
            "service-selector",
            "spec.selector.app",
            "did you mean `app: web`? (the pod template of Deployment/web)"
        ),
        "{w:?}"
    );
    let other_ns = WEB.replace(
        "metadata: {name: web, namespace: shop}\nspec:\n  selector: {app",
        "metadata: {name: web, namespace: other}\nspec:\n  selector: {app",
    );
    assert!(
        !warnings(&other_ns)
            .iter()
            .any(|w| w.0 == "service-selector"),
        "a namespace without pod templates is not this render's to check"
    );
    let pdb = "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web, tier: back}}\n";
    let w = warnings(&format!("{WEB}{pdb}"));
    assert!(
        has(
            &w,
            "pdb-selector",
            "spec.selector.matchLabels.tier",
            "did you mean `tier: front`?"
        ),
        "{w:?}"
    );
    let exprs = pdb.replace(
        "{matchLabels: {app: web, tier: back}}",
        "{matchExpressions: [{key: tier, operator: In, values: [front]}]}",
    );
    assert!(
        !warnings(&format!("{WEB}{exprs}"))
            .iter()
            .any(|w| w.0 == "pdb-selector")
    );
}

#[test]
fn backends_scale_targets_and_bindings() {
    let more = "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\nspec:\n  rules:\n  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: wbe, port: {number: 80}}}}\n      - {path: /a, pathType: Prefix, backend: {service: {name: web, port: {name: https}}}}\n      - {path: /b, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: shop}\nspec:\n  rules:\n  - backendRefs: [{name: web, port: 8080}, {name: api, namespace: elsewhere}]\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: shop}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: webb}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: web, namespace: shop}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects:\n- {kind: ServiceAccount, name: web, namespace: shop}\n- {kind: ServiceAccount, name: default}\n- {kind: ServiceAccount, name: x, namespace: other}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api, namespace: shop}\n";
    let w: Vec<_> = warnings(&format!("{WEB}{more}"))
        .into_iter()
        .filter(|w| !w.0.starts_with("missing-configmap") && !w.0.starts_with("missing-secret"))
        .collect();
    let rules = "spec.rules.0.http.paths";
    assert!(
        has(
            &w,
            "missing-service",
            &format!("{rules}.0.backend.service.name"),
            "did you mean `web`?"
        ),
        "{w:?}"
    );
    assert!(has(
        &w,
        "missing-service-port",
        &format!("{rules}.1.backend.service.port.name"),
        "its ports are 80 (`http`)"
    ));
    assert!(has(
        &w,
        "missing-service-port",
        "spec.rules.0.backendRefs.0.port",
        ""
    ));
    assert!(has(
        &w,
        "missing-scale-target",
        "spec.scaleTargetRef.name",
        "did you mean `web`?"
    ));
    assert!(has(
        &w,
        "missing-serviceaccount",
        "subjects.0.name",
        "the closest ServiceAccount in namespace `shop` is `api`"
    ));
    assert_eq!(w.len(), 5, "{w:?}");
}

#[test]
fn groups_are_separate_renders() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\nspec: {containers: [{name: web, image: web}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: api, labels: {app: api}}\nspec: {containers: [{name: api, image: api}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}}\n";
    let parsed = parse_documents(text).expect("yaml");
    let docs = |groups: [usize; 3]| -> Vec<Doc> {
        parsed
            .iter()
            .zip(groups)
            .map(|(d, group)| Doc {
                value: &d.value,
                file: None,
                line: d.line,
                source: None,
                group,
            })
            .collect()
    };
    assert!(check(&docs([0, 0, 0])).is_empty());
    let split = check(&docs([0, 1, 1]));
    assert!(
        split
            .iter()
            .any(|v| v.rule == "service-selector" && v.doc == 2),
        "{split:?}"
    );
}
