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
    let helm = Helm {
        k,
        opts,
        command: opts.command.clone().unwrap_or_else(|| "helm".to_string()),
        config_home,
        // Helm plugins run code; a chart repository may not bring any.
        no_plugins: tempfile::tempdir()
            .map_err(|e| Error::new(format!("cannot create a temporary directory: {e}")))?,
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        let at = ["helmCharts", idx.as_str()];
        let c = k.strict_struct(&at, item, CHART_FIELDS)?;
        let chart = Chart::read(k, &at, &c)?;
        let chart_dir = if chart.version.is_empty() {
            chart_home.join(&chart.name)
        } else {
            chart_home
                .join(format!("{}-{}", chart.name, chart.version))
                .join(&chart.name)
        };
        if !chart_dir.is_dir() {
            helm.pull(&at, &chart, &chart_home, &chart_dir)?;
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
        let args = template_args(k, loader, &at, &c, &chart, values_file.path(), &chart_dir)?;
        let rendered = helm.run(&at, &args);
        drop(values_file);
        out.extend(resources(
            k,
            loader,
            &at,
            &rendered?,
            &chart.name,
            configured_in,
        )?);
    }
    Ok(out)
}

/// The fields of a chart entry that reach `helm` as arguments, each checked for its shape.
struct Chart {
    name: String,
    version: String,
    release: String,
    namespace: String,
    repo: String,
    kube_version: String,
    name_template: String,
}

impl Chart {
    fn read(k: &Kustomization, at: &[&str], c: &Map) -> Result<Chart> {
        let s = |f: &str| c.get(f).and_then(Value::scalar_text).unwrap_or_default();
        let name = s("name");
        if name.is_empty() {
            return Err(k
                .error(at, "a helm chart needs a `name`")
                .with_help("add `name: my-chart`"));
        }
        let chart = Chart {
            name,
            version: s("version"),
            release: s("releaseName"),
            namespace: s("namespace"),
            repo: s("repo"),
            kube_version: s("kubeVersion"),
            name_template: s("nameTemplate"),
        };
        let checked = |field: &str, value: &str, ok: fn(&str) -> bool, what: &str| {
            checked(k, at, field, value, ok, what)
        };
        checked("name", &chart.name, chart_name, "chart name")?;
        checked("version", &chart.version, plain_word, "chart version")?;
        checked(
            "releaseName",
            &chart.release,
            release_name,
            "release name (lower-case DNS name)",
        )?;
        checked("namespace", &chart.namespace, dns_label, "namespace name")?;
        checked(
            "repo",
            &chart.repo,
            repo_url,
            "chart repository URL (https or oci)",
        )?;
        checked(
            "kubeVersion",
            &chart.kube_version,
            plain_word,
            "Kubernetes version",
        )?;
        checked(
            "nameTemplate",
            &chart.name_template,
            no_option,
            "name template",
        )?;
        Ok(chart)
    }
}

/// A chart entry's `field` must be empty or pass `ok`: it reaches `helm` as an argument.
fn checked(
    k: &Kustomization,
    at: &[&str],
    field: &str,
    value: &str,
    ok: fn(&str) -> bool,
    what: &str,
) -> Result<()> {
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
}

/// The helm binary as a kustomization runs it: in its directory, with no plugins, the
/// configured homes and the timeout.
struct Helm<'a> {
    k: &'a Kustomization,
    opts: &'a HelmOptions,
    command: String,
    config_home: Option<PathBuf>,
    no_plugins: tempfile::TempDir,
}

impl Helm<'_> {
    /// Run helm with `args`; its standard output.
    fn run(&self, at: &[&str], args: &[String]) -> Result<Vec<u8>> {
        let (k, helm) = (self.k, &self.command);
        let mut cmd = Command::new(helm);
        cmd.args(args)
            .current_dir(&k.dir)
            .env("HELM_PLUGINS", self.no_plugins.path());
        if let Some(home) = &self.config_home {
            cmd.env("HELM_CONFIG_HOME", home)
                .env("HELM_CACHE_HOME", home.join(".cache"))
                .env("HELM_DATA_HOME", home.join(".data"));
        }
        let output = crate::process::run(cmd, self.opts.timeout(), helm, "--helm-timeout")
            .map_err(|e| {
                let help = e.help.clone().unwrap_or_default();
                k.error(at, e.message)
                    .with_help(if help.starts_with("install") {
                        "install helm, or name it with `--helm-command PATH`".to_string()
                    } else {
                        help
                    })
            })?;
        if !output.status.success() {
            return Err(k
                .error(
                    at,
                    format!(
                        "`{helm} {}` failed: {}",
                        args.join(" "),
                        String::from_utf8_lossy(&output.stderr).trim()
                    ),
                )
                .with_help("check the chart's name, version, repo and values"));
        }
        Ok(output.stdout)
    }

    /// `helm pull` a chart missing from the chart home into it.
    fn pull(&self, at: &[&str], chart: &Chart, chart_home: &Path, chart_dir: &Path) -> Result<()> {
        if chart.repo.is_empty() {
            return Err(self
                .k
                .error(
                    at,
                    format!(
                        "chart `{}` is not in `{}` and has no `repo`",
                        chart.name,
                        chart_home.display()
                    ),
                )
                .with_help("vendor the chart under the chart home, or add `repo:`"));
        }
        let untar = chart_dir.parent().unwrap_or(chart_home).to_path_buf();
        let mut args: Vec<String> = vec![
            "pull".into(),
            "--untar".into(),
            format!("--untardir={}", untar.display()),
            format!("--repo={}", chart.repo),
        ];
        if !chart.version.is_empty() {
            args.push(format!("--version={}", chart.version));
        }
        args.extend(["--".into(), chart.name.clone()]);
        self.run(at, &args).map(|_| ())
    }
}

/// The arguments of `helm template` for a chart entry: every option as `--flag=value`, the
/// release and the chart after `--`.
fn template_args(
    k: &Kustomization,
    loader: &Loader,
    at: &[&str],
    c: &Map,
    chart: &Chart,
    values_file: &Path,
    chart_dir: &Path,
) -> Result<Vec<String>> {
    let flag = |f: &str| matches!(c.get(f), Some(Value::Bool(true)));
    let mut args: Vec<String> = vec!["template".into()];
    if !chart.namespace.is_empty() {
        args.push(format!("--namespace={}", chart.namespace));
    }
    if !chart.name_template.is_empty() {
        args.push(format!("--name-template={}", chart.name_template));
    }
    args.push(format!("--values={}", values_file.display()));
    if let Some(Value::Seq(files)) = c.get("additionalValuesFiles") {
        for (j, f) in files.iter().filter_map(Value::scalar_text).enumerate() {
            let jdx = j.to_string();
            let mut fat = at.to_vec();
            fat.extend(["additionalValuesFiles", jdx.as_str()]);
            let Some(file) = loader
                .file(&k.dir, &f)
                .map_err(|e| e.at(k.location(&fat)))?
            else {
                return Err(k
                    .error(&fat, format!("values file `{f}` does not exist"))
                    .with_kind(crate::error::ErrorKind::NotFound)
                    .with_help("paths are relative to the kustomization's directory"));
            };
            args.push(format!("--values={}", file.display()));
        }
    }
    if let Some(Value::Seq(versions)) = c.get("apiVersions") {
        for v in versions.iter().filter_map(Value::scalar_text) {
            checked(k, at, "apiVersions", &v, plain_word, "API version")?;
            args.push(format!("--api-versions={v}"));
        }
    }
    if !chart.kube_version.is_empty() {
        args.push(format!("--kube-version={}", chart.kube_version));
    }
    for (field, option) in [
        ("includeCRDs", "--include-crds"),
        ("skipTests", "--skip-tests"),
        ("skipHooks", "--no-hooks"),
        ("devel", "--devel"),
    ] {
        if flag(field) {
            args.push(option.into());
        }
    }
    let release = if chart.release.is_empty() {
        "release-name".to_string()
    } else {
        chart.release.clone()
    };
    args.extend(["--".into(), release, chart_dir.display().to_string()]);
    Ok(args)
}

/// The objects `helm template` printed, as generated by the chart entry.
fn resources(
    k: &Kustomization,
    loader: &Loader,
    at: &[&str],
    rendered: &[u8],
    name: &str,
    configured_in: &str,
) -> Result<Vec<Resource>> {
    let text = std::str::from_utf8(rendered)
        .map_err(|_| k.error(at, "helm printed something that is not UTF-8"))?;
    let docs = parse_documents_in(text, false, &loader.aliases).map_err(|e| {
        k.error(
            at,
            format!(
                "helm output is not valid YAML: {} (line {})",
                e.message, e.line
            ),
        )
        .with_help("run `helm template` by hand to see the chart's output")
    })?;
    Ok(docs
        .into_iter()
        .filter(|d| !d.value.is_null())
        .map(|d| {
            let origin = Origin {
                file: k.file.clone(),
                line: d.line,
                display_path: String::new(),
                configured_by: Some((
                    configured_in.to_string(),
                    "HelmChartInflationGenerator".into(),
                    Some(name.to_string()),
                )),
            };
            Resource::new(d.value, origin)
        })
        .collect())
}

/// A directory named by a helm field, resolved on disk and kept inside the layer's root
/// (unless the load restrictor is off). It need not exist yet (`helm pull` fills it).
fn inside(k: &Kustomization, loader: &Loader, at: &[&str], entry: &str) -> Result<PathBuf> {
    let joined = k.dir.join(entry);
    let real = crate::fs::real(&joined)
        .map_err(|e| e.at(k.location(at)))?
        .unwrap_or_else(|| crate::fs::normalize(&joined));
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
    if let Some(real) = crate::fs::real(chart_dir).map_err(|e| e.at(k.location(at)))? {
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
                let real = crate::fs::real(&path)
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
                    .with_kind(crate::error::ErrorKind::NotFound)
                    .with_help("paths are relative to the kustomization's directory"));
            }
            found
        }
        None => loader
            .file(chart_dir, "values.yaml")
            .map_err(|e| e.at(k.location(at)))?,
    };
    let base = if let Some(file) = file {
        let text = crate::fs::read_text(&file).map_err(|e| e.at(k.location(at)))?;
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
