//! `strata init [--templated] DIR`: a new project, `base/` (a Deployment and a Service) and
//! `overlays/dev`, `staging`, `prod`, that renders and validates as written. With
//! `--templated` the Deployment is a `.j2` template reading `values.yaml` files, which the
//! overlays override. Nothing is overwritten: a DIR that holds `base/` or `overlays/`
//! already is an error.

use super::report::shown;
use crate::Error;

const ENVS: [&str; 3] = ["dev", "staging", "prod"];

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
      - name: app
        image: nginx:1.27
        ports:
        - containerPort: 80
";

const DEPLOYMENT_J2: &str = "\
# A template: only files ending in .j2 are templated. `values` is the merge of the
# values.yaml files from this layer up to the environment (outermost wins).
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: {{ values.replicas }}
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
      - name: app
        image: {{ values.image.repository }}:{{ values.image.tag }}
        ports:
        - containerPort: 80
        env:
        - name: ENVIRONMENT
          value: {{ env }}
";

const SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: app
spec:
  selector:
    app: app
  ports:
  - port: 80
    targetPort: 80
";

/// The files of a new project, relative to its directory.
pub fn files(templated: bool) -> Vec<(String, String)> {
    let deployment = if templated {
        "deployment.yaml.j2"
    } else {
        "deployment.yaml"
    };
    let mut files = vec![
        (
            "base/kustomization.yaml".to_string(),
            format!("resources:\n- {deployment}\n- service.yaml\n"),
        ),
        ("base/service.yaml".to_string(), SERVICE.to_string()),
    ];
    if templated {
        files.push((
            "base/deployment.yaml.j2".to_string(),
            DEPLOYMENT_J2.to_string(),
        ));
        files.push((
            "base/values.yaml".to_string(),
            "replicas: 1\nimage:\n  repository: nginx\n  tag: \"1.27\"\n".to_string(),
        ));
    } else {
        files.push(("base/deployment.yaml".to_string(), DEPLOYMENT.to_string()));
    }
    for env in ENVS {
        let mut k = format!("resources:\n- ../../base\nnamespace: app-{env}\n");
        if env == "prod" && !templated {
            k.push_str("replicas:\n- name: app\n  count: 3\n");
        }
        files.push((format!("overlays/{env}/kustomization.yaml"), k));
        if templated && env == "prod" {
            files.push((
                "overlays/prod/values.yaml".to_string(),
                "replicas: 3\n".to_string(),
            ));
        }
    }
    files.sort();
    files
}

pub fn run(i: &super::args::InitCmd) -> Result<(), Vec<Error>> {
    for existing in ["base", "overlays"] {
        let p = i.dir.join(existing);
        if p.exists() {
            return Err(vec![
                Error::new(format!("`{}` exists already", shown(&p)))
                    .with_help("`strata init` writes a new project: pick an empty directory"),
            ]);
        }
    }
    let files = files(i.templated);
    crate::render::write_atomically(&i.dir, &files).map_err(|e| vec![e])?;
    if !super::warnings::quiet() {
        let dir = shown(&i.dir);
        let at = if dir == "." || dir.is_empty() {
            String::new()
        } else {
            format!(" --root {dir}")
        };
        eprintln!(
            "created {} files in {}; render them with `strata render{at} -o rendered/`",
            files.len(),
            if dir.is_empty() { "." } else { &dir }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_environment_has_a_kustomization() {
        for templated in [false, true] {
            let files = super::files(templated);
            for env in super::ENVS {
                let k = format!("overlays/{env}/kustomization.yaml");
                assert!(files.iter().any(|(p, _)| *p == k), "{k}");
            }
        }
    }
}
