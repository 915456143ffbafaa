//! `helmCharts:` — inflate Helm charts by delegating to a `helm` binary, as
//! `kustomize --enable-helm` does.
//!
//! Without `--enable-helm` a kustomization with `helmCharts` is refused (Kustomize refuses
//! it too). With it, a chart missing from `helmGlobals.chartHome` (default `charts/`) is
//! pulled with `helm pull`, the chart's values are merged with `valuesInline` as
//! `valuesMerge` says (`override` by default), and `helm template` renders the resources,
//! which join the layer like generated objects. No helm binary: a clear error.
//!
//! Everything a chart entry holds reaches `helm` as an argument: each value is checked for
//! its shape, passed as `--flag=value`, and the release and chart come after `--`, so a
//! `releaseName: --post-renderer=./x` can never become an option. Values files go through
//! the load restrictor, the values strata writes go to a `tempfile`, helm plugins are
//! switched off and helm runs under a timeout.

use crate::error::{Error, Result};
use crate::load::kustomization::describe;
use crate::load::{Kustomization, Loader};
use crate::resource::{Origin, Resource};
use crate::yaml::{Map, Value, parse_documents_in, to_yaml_string};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How (and whether) charts are inflated.
#[derive(Debug, Clone, Default)]
pub struct HelmOptions {
    pub enabled: bool,
    /// The helm binary (`helm` on PATH unless `--helm-command` names another).
    pub command: Option<String>,
    /// How long one helm command may run (`--helm-timeout`; default 120 s).
    pub timeout: Option<std::time::Duration>,
}

impl HelmOptions {
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout.unwrap_or(std::time::Duration::from_secs(120))
    }
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
    loader: &Loader,
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
    let home_entry = globals
        .get("chartHome")
        .and_then(Value::as_str)
        .unwrap_or("charts");
    let chart_home = inside(k, loader, &["helmGlobals", "chartHome"], home_entry)?;
    let config_home = match globals.get("configHome").and_then(Value::as_str) {
        Some(h) => Some(inside(k, loader, &["helmGlobals", "configHome"], h)?),
        None => None,
    };
    // Helm plugins run code; a chart repository may not bring any.
    let no_plugins = tempfile::tempdir()
        .map_err(|e| Error::new(format!("cannot create a temporary directory: {e}")))?;
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
        let checked = |field: &str, value: &str, ok: fn(&str) -> bool, what: &str| {
            if value.is_empty() || ok(value) {
                return Ok(());
            }
            let mut fat = at.to_vec();
            fat.push(field);
            Err(k
                .error(&fat, format!("`{value}` is not a valid {what}"))
                .with_help(format!(
                    "`{field}` must be a {what}; it reaches `helm` as an argument"
                )))
        };
        checked("name", &name, chart_name, "chart name")?;
        let version = s("version");
        checked("version", &version, plain_word, "chart version")?;
        let release = s("releaseName");
        checked(
            "releaseName",
            &release,
            release_name,
            "release name (lower-case DNS name)",
        )?;
        checked("namespace", &s("namespace"), dns_label, "namespace name")?;
        checked(
            "repo",
            &s("repo"),
            repo_url,
            "chart repository URL (https or oci)",
        )?;
        checked(
            "kubeVersion",
            &s("kubeVersion"),
            plain_word,
            "Kubernetes version",
        )?;
        checked(
            "nameTemplate",
            &s("nameTemplate"),
            no_option,
            "name template",
        )?;
        let chart_dir = if version.is_empty() {
            chart_home.join(&name)
        } else {
            chart_home.join(format!("{name}-{version}")).join(&name)
        };
        let run = |args: &[String]| -> Result<Vec<u8>> {
            let mut cmd = Command::new(&helm);
            cmd.args(args)
                .current_dir(&k.dir)
                .env("HELM_PLUGINS", no_plugins.path());
            if let Some(home) = &config_home {
                cmd.env("HELM_CONFIG_HOME", home)
                    .env("HELM_CACHE_HOME", home.join(".cache"))
                    .env("HELM_DATA_HOME", home.join(".data"));
            }
            let output = crate::process::run(cmd, opts.timeout(), &helm, "--helm-timeout")
                .map_err(|e| {
                    let help = e.help.clone().unwrap_or_default();
                    k.error(&at, e.message)
                        .with_help(if help.starts_with("install") {
                            "install helm, or name it with `--helm-command PATH`".to_string()
                        } else {
                            help
                        })
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
                format!("--untardir={}", untar.display()),
                format!("--repo={repo}"),
            ];
            if !version.is_empty() {
                args.push(format!("--version={version}"));
            }
            args.extend(["--".into(), name.clone()]);
            run(&args)?;
        }
        check_chart_links(k, loader, &at, &chart_dir)?;
        let values = merged_values(k, loader, &at, &c, &chart_dir)?;
        // A file of our own, with a name nobody can predict or share.
        let mut values_file = tempfile::Builder::new()
            .prefix("strata-helm-values-")
            .suffix(".yaml")
            .tempfile()
            .map_err(|e| Error::new(format!("cannot write helm values: {e}")))?;
        std::io::Write::write_all(
            &mut values_file,
            to_yaml_string(&Value::Map(values)).as_bytes(),
        )
        .map_err(|e| Error::new(format!("cannot write helm values: {e}")))?;
        let release = if release.is_empty() {
            "release-name".to_string()
        } else {
            release
        };
        let mut args: Vec<String> = vec!["template".into()];
        if !s("namespace").is_empty() {
            args.push(format!("--namespace={}", s("namespace")));
        }
        if !s("nameTemplate").is_empty() {
            args.push(format!("--name-template={}", s("nameTemplate")));
        }
        args.push(format!("--values={}", values_file.path().display()));
        if let Some(Value::Seq(files)) = c.get("additionalValuesFiles") {
            for (j, f) in files.iter().filter_map(Value::scalar_text).enumerate() {
                let jdx = j.to_string();
                let fat = [
                    "helmCharts",
                    idx.as_str(),
                    "additionalValuesFiles",
                    jdx.as_str(),
                ];
                let Some(file) = loader
                    .file(&k.dir, &f)
                    .map_err(|e| e.at(k.location(&fat)))?
                else {
                    return Err(k
                        .error(&fat, format!("values file `{f}` does not exist"))
                        .with_help("paths are relative to the kustomization's directory"));
                };
                args.push(format!("--values={}", file.display()));
            }
        }
        if let Some(Value::Seq(versions)) = c.get("apiVersions") {
            for v in versions.iter().filter_map(Value::scalar_text) {
                checked("apiVersions", &v, plain_word, "API version")?;
                args.push(format!("--api-versions={v}"));
            }
        }
        if !s("kubeVersion").is_empty() {
            args.push(format!("--kube-version={}", s("kubeVersion")));
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
        args.extend(["--".into(), release, chart_dir.display().to_string()]);
        let rendered = run(&args);
        drop(values_file);
        let text = String::from_utf8(rendered?)
            .map_err(|_| k.error(&at, "helm printed something that is not UTF-8"))?;
        let docs = parse_documents_in(&text, false, &loader.aliases).map_err(|e| {
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

/// A directory named by a helm field, resolved on disk and kept inside the layer's root
/// (unless the load restrictor is off). It need not exist yet (`helm pull` fills it).
fn inside(k: &Kustomization, loader: &Loader, at: &[&str], entry: &str) -> Result<PathBuf> {
    let joined = k.dir.join(entry);
    let real = crate::load::fs::real(&joined)
        .map_err(|e| e.at(k.location(at)))?
        .unwrap_or_else(|| crate::load::normalize(&joined));
    loader
        .check_restriction(&k.dir, &real)
        .map_err(|e| e.at(k.location(at)))?;
    Ok(real)
}

/// helm reads a chart's files itself, following symbolic links: a link in the chart that
/// leads outside the layer's root would bring that file into the output.
fn check_chart_links(
    k: &Kustomization,
    loader: &Loader,
    at: &[&str],
    chart_dir: &Path,
) -> Result<()> {
    if let Some(real) = crate::load::fs::real(chart_dir).map_err(|e| e.at(k.location(at)))? {
        loader
            .check_restriction(&k.dir, &real)
            .map_err(|e| e.at(k.location(at)))?;
    }
    let mut stack = vec![chart_dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(std::result::Result::ok) {
            seen += 1;
            if seen > 100_000 {
                return Err(k
                    .error(at, "the chart holds more than 100000 files")
                    .with_help("vendor a smaller chart"));
            }
            let path = entry.path();
            let Ok(t) = entry.file_type() else { continue };
            if t.is_symlink() {
                let real = crate::load::fs::real(&path)
                    .map_err(|e| e.at(k.location(at)))?
                    .unwrap_or_else(|| path.clone());
                loader.check_restriction(&k.dir, &real).map_err(|e| {
                    e.at(k.location(at)).context(format!(
                        "chart link `{}`",
                        path.strip_prefix(&k.dir).unwrap_or(&path).display()
                    ))
                })?;
            } else if t.is_dir() {
                stack.push(path);
            }
        }
    }
    Ok(())
}

/// Argument shapes: nothing from a kustomization may read as an option.
fn no_option(s: &str) -> bool {
    !s.starts_with('-') && !s.chars().any(char::is_control)
}

fn plain_word(s: &str) -> bool {
    no_option(s)
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '.' | '-' | '+' | '_' | '/' | '~' | '^' | '<' | '>' | '=' | '*' | ' ' | ','
                )
        })
}

fn chart_name(s: &str) -> bool {
    no_option(s)
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn dns_label(s: &str) -> bool {
    s.len() <= 63
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn release_name(s: &str) -> bool {
    s.len() <= 53
        && s.split('.').all(|part| {
            !part.is_empty()
                && !part.starts_with('-')
                && !part.ends_with('-')
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

fn repo_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("oci://"))
        && !s.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// The chart's values (or `valuesFile`) combined with `valuesInline` per `valuesMerge`.
fn merged_values(
    k: &Kustomization,
    loader: &Loader,
    at: &[&str],
    c: &Map,
    chart_dir: &Path,
) -> Result<Map> {
    let file: Option<PathBuf> = match c.get("valuesFile").and_then(Value::as_str) {
        Some(f) => {
            let mut vat = at.to_vec();
            vat.push("valuesFile");
            let found = loader.file(&k.dir, f).map_err(|e| e.at(k.location(&vat)))?;
            if found.is_none() {
                return Err(k
                    .error(&vat, format!("values file `{f}` does not exist"))
                    .with_help("paths are relative to the kustomization's directory"));
            }
            found
        }
        None => loader
            .file(chart_dir, "values.yaml")
            .map_err(|e| e.at(k.location(at)))?,
    };
    let base = if let Some(file) = file {
        let text = crate::load::fs::read_text(&file).map_err(|e| e.at(k.location(at)))?;
        parse_documents_in(&text, false, &loader.aliases)
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
