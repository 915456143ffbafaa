//! `helmCharts:` — inflate Helm charts by delegating to a `helm` binary, as
//! `kustomize --enable-helm` does.
//!
//! Without `--enable-helm` a kustomization with `helmCharts` is refused (Kustomize refuses
//! it too). With it, a chart missing from `helmGlobals.chartHome` (default `charts/`) is
//! pulled with `helm pull`, the chart's values are merged with `valuesInline` as
//! `valuesMerge` says (`override` by default), and `helm template` renders the resources,
//! which join the layer like generated objects. No helm binary: a clear error.

use crate::error::{Error, Result};
use crate::load::Kustomization;
use crate::load::kustomization::describe;
use crate::resource::{Origin, Resource};
use crate::yaml::{Map, Value, parse_documents, to_yaml_string};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How (and whether) charts are inflated.
#[derive(Debug, Clone, Default)]
pub struct HelmOptions {
    pub enabled: bool,
    /// The helm binary (`helm` on PATH unless `--helm-command` names another).
    pub command: Option<String>,
}

const CHART_FIELDS: &[&str] = &[
    "name",
    "version",
    "repo",
    "releaseName",
    "namespace",
    "additionalValuesFiles",
    "valuesFile",
    "valuesInline",
    "valuesMerge",
    "includeCRDs",
    "skipHooks",
    "apiVersions",
    "kubeVersion",
    "nameTemplate",
    "skipTests",
    "devel",
];

/// Render every chart of the kustomization.
pub fn inflate(
    k: &Kustomization,
    opts: &HelmOptions,
    configured_in: &str,
) -> Result<Vec<Resource>> {
    let Some(charts) = k.get("helmCharts") else {
        return Ok(Vec::new());
    };
    if !opts.enabled {
        return Err(k
            .error(&["helmCharts"], "`helmCharts` needs `--enable-helm`")
            .with_help(
                "pass `--enable-helm` to inflate charts with a `helm` binary, as kustomize does",
            ));
    }
    let Value::Seq(items) = charts else {
        return Err(k
            .error(
                &["helmCharts"],
                format!("`helmCharts` must be a list, found {}", describe(charts)),
            )
            .with_help("write one `- name: chart` entry per chart"));
    };
    let globals = match k.get("helmGlobals") {
        Some(g) => k.strict_struct(&["helmGlobals"], g, &["chartHome", "configHome"])?,
        None => Map::default(),
    };
    let chart_home = k.dir.join(
        globals
            .get("chartHome")
            .and_then(Value::as_str)
            .unwrap_or("charts"),
    );
    let helm = opts.command.clone().unwrap_or_else(|| "helm".to_string());
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        let at = ["helmCharts", idx.as_str()];
        let c = k.strict_struct(&at, item, CHART_FIELDS)?;
        let s = |f: &str| c.get(f).and_then(Value::scalar_text).unwrap_or_default();
        let flag = |f: &str| matches!(c.get(f), Some(Value::Bool(true)));
        let name = s("name");
        if name.is_empty() {
            return Err(k
                .error(&at, "a helm chart needs a `name`")
                .with_help("add `name: my-chart`"));
        }
        let version = s("version");
        let chart_dir = if version.is_empty() {
            chart_home.join(&name)
        } else {
            chart_home.join(format!("{name}-{version}")).join(&name)
        };
        let run = |args: &[String]| -> Result<Vec<u8>> {
            let mut cmd = Command::new(&helm);
            cmd.args(args).current_dir(&k.dir);
            if let Some(h) = globals.get("configHome").and_then(Value::as_str) {
                let home = k.dir.join(h);
                cmd.env("HELM_CONFIG_HOME", &home)
                    .env("HELM_CACHE_HOME", home.join(".cache"))
                    .env("HELM_DATA_HOME", home.join(".data"));
            }
            let output = cmd.output().map_err(|e| {
                k.error(&at, format!("cannot run `{helm}`: {e}"))
                    .with_help("install helm, or name it with `--helm-command PATH`")
            })?;
            if !output.status.success() {
                return Err(k
                    .error(
                        &at,
                        format!(
                            "`{helm} {}` failed: {}",
                            args.join(" "),
                            String::from_utf8_lossy(&output.stderr).trim()
                        ),
                    )
                    .with_help("check the chart's name, version, repo and values"));
            }
            Ok(output.stdout)
        };
        if !chart_dir.is_dir() {
            let repo = s("repo");
            if repo.is_empty() {
                return Err(k
                    .error(
                        &at,
                        format!(
                            "chart `{name}` is not in `{}` and has no `repo`",
                            chart_home.display()
                        ),
                    )
                    .with_help("vendor the chart under the chart home, or add `repo:`"));
            }
            let untar = chart_dir.parent().unwrap_or(&chart_home).to_path_buf();
            let mut args: Vec<String> = vec![
                "pull".into(),
                "--untar".into(),
                "--untardir".into(),
                untar.display().to_string(),
            ];
            args.extend(["--repo".into(), repo, name.clone()]);
            if !version.is_empty() {
                args.extend(["--version".into(), version.clone()]);
            }
            run(&args)?;
        }
        let values = merged_values(k, &at, &c, &chart_dir)?;
        let values_file = std::env::temp_dir().join(format!(
            "strata-helm-values-{}-{i}.yaml",
            std::process::id()
        ));
        std::fs::write(&values_file, to_yaml_string(&Value::Map(values)))
            .map_err(|e| Error::new(format!("cannot write helm values: {e}")))?;
        let release = if s("releaseName").is_empty() {
            "release-name".to_string()
        } else {
            s("releaseName")
        };
        let mut args: Vec<String> =
            vec!["template".into(), release, chart_dir.display().to_string()];
        if !s("namespace").is_empty() {
            args.extend(["--namespace".into(), s("namespace")]);
        }
        if !s("nameTemplate").is_empty() {
            args.extend(["--name-template".into(), s("nameTemplate")]);
        }
        args.extend(["--values".into(), values_file.display().to_string()]);
        if let Some(Value::Seq(files)) = c.get("additionalValuesFiles") {
            for f in files.iter().filter_map(Value::scalar_text) {
                args.extend(["--values".into(), k.dir.join(f).display().to_string()]);
            }
        }
        if let Some(Value::Seq(versions)) = c.get("apiVersions") {
            for v in versions.iter().filter_map(Value::scalar_text) {
                args.extend(["--api-versions".into(), v]);
            }
        }
        if !s("kubeVersion").is_empty() {
            args.extend(["--kube-version".into(), s("kubeVersion")]);
        }
        if flag("includeCRDs") {
            args.push("--include-crds".into());
        }
        if flag("skipTests") {
            args.push("--skip-tests".into());
        }
        if flag("skipHooks") {
            args.push("--no-hooks".into());
        }
        if flag("devel") {
            args.push("--devel".into());
        }
        let rendered = run(&args);
        let _ = std::fs::remove_file(&values_file);
        let text = String::from_utf8(rendered?)
            .map_err(|_| k.error(&at, "helm printed something that is not UTF-8"))?;
        let docs = parse_documents(&text).map_err(|e| {
            k.error(
                &at,
                format!(
                    "helm output is not valid YAML: {} (line {})",
                    e.message, e.line
                ),
            )
            .with_help("run `helm template` by hand to see the chart's output")
        })?;
        for d in docs.into_iter().filter(|d| !d.value.is_null()) {
            let origin = Origin {
                file: k.file.clone(),
                line: d.line,
                display_path: String::new(),
                configured_by: Some((
                    configured_in.to_string(),
                    "HelmChartInflationGenerator".into(),
                    Some(name.clone()),
                )),
            };
            out.push(Resource::new(d.value, origin));
        }
    }
    Ok(out)
}

/// The chart's values (or `valuesFile`) combined with `valuesInline` per `valuesMerge`.
fn merged_values(k: &Kustomization, at: &[&str], c: &Map, chart_dir: &Path) -> Result<Map> {
    let file: PathBuf = match c.get("valuesFile").and_then(Value::as_str) {
        Some(f) => k.dir.join(f),
        None => chart_dir.join("values.yaml"),
    };
    let base = if file.is_file() {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| k.error(at, format!("cannot read `{}`: {e}", file.display())))?;
        parse_documents(&text)
            .map_err(|e| {
                k.error(
                    at,
                    format!("`{}` is not valid YAML: {}", file.display(), e.message),
                )
            })?
            .into_iter()
            .next()
            .and_then(|d| d.value.as_map().cloned())
            .unwrap_or_default()
    } else {
        Map::default()
    };
    let inline = c
        .get("valuesInline")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    match c
        .get("valuesMerge")
        .and_then(Value::as_str)
        .unwrap_or("override")
    {
        "replace" => Ok(if inline.is_empty() { base } else { inline }),
        "merge" => Ok(deep_merge(inline, &base)),
        "override" | "" => Ok(deep_merge(base, &inline)),
        other => Err(k
            .error(at, format!("unknown valuesMerge `{other}`"))
            .with_help("use `override`, `merge` or `replace`")),
    }
}

/// `over` laid on `base`: maps merge recursively, everything else from `over` wins.
fn deep_merge(mut base: Map, over: &Map) -> Map {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Map(b)), Value::Map(o)) => {
                let merged = deep_merge(std::mem::take(b), o);
                *b = merged;
            }
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
    base
}
