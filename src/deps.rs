//! What an environment's render reads: `strata deps` and the first step of `strata affected`.
//!
//! `reads` runs a build under `fs::record`, which notes every file the build reads
//! (kustomization files, resources, patches, generator sources, values files and schemas,
//! templates and what they include). With a `Loader` whose `plan_only` is set the build reads
//! the same files without building anything (resource files, patch and replacement files
//! and generator sources are noted, not parsed, where their entries are plain; no
//! transformer runs; helm is not run, its chart directory and values files are noted), which
//! is what makes `affected` cheap. `Deps` sorts the result into local files, the layers the
//! render builds, and remote bases named `URL@ref`. The test in `tests/diff.rs` checks that a
//! plan lists exactly the files a full build reads.

use crate::error::Result;
use crate::load::kustomization::FILE_NAMES;
use crate::load::{Kustomization, Loader, remote};
use crate::yaml::Value;
use crate::{BuildOptions, Output};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Files whose appearance in a layer changes its render although no build read them.
const LAYER_FILES: &[&str] = &["values.yaml", "values.schema.json"];

/// What one environment's render reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deps {
    /// Local files (and vendored helm chart directories) the render reads: absolute, real
    /// paths as the build opened them, sorted.
    pub files: Vec<PathBuf>,
    /// The layers (directories of the kustomization files read), sorted.
    pub layers: Vec<PathBuf>,
    /// Remote bases and files, `URL@ref` (`https://host/org/repo//path@v1`), sorted.
    pub remotes: Vec<String>,
}

/// Build `dir` on a pool of `threads` threads of its own, noting every file read. The
/// loader must be fresh: files a shared loader already cached are not read again.
pub fn reads(
    dir: &Path,
    options: &BuildOptions,
    loader: &Loader,
    threads: usize,
) -> Result<(Output, BTreeSet<PathBuf>)> {
    let (output, files) = crate::fs::record(threads, || crate::build(dir, options, loader))?;
    Ok((output?, files))
}

/// The dependencies of the build of `dir` (see `reads`; use a fresh loader with
/// `plan_only` set unless the objects are wanted too).
pub fn deps(dir: &Path, options: &BuildOptions, loader: &Loader, threads: usize) -> Result<Deps> {
    let (_, read) = reads(dir, options, loader, threads)?;
    Ok(classify(read, loader))
}

/// Sort the files a build read into local files, layers and remote entries.
pub fn classify(read: BTreeSet<PathBuf>, loader: &Loader) -> Deps {
    let cache = loader.remote.cache_root();
    let cache_real = crate::fs::real(&cache).ok().flatten();
    let fetched =
        |p: &Path| p.starts_with(&cache) || cache_real.as_ref().is_some_and(|c| p.starts_with(c));
    let files: Vec<PathBuf> = read.into_iter().filter(|p| !fetched(p)).collect();
    let layers: BTreeSet<PathBuf> = files
        .iter()
        .filter(|f| {
            f.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| FILE_NAMES.contains(&n))
        })
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    let remotes: BTreeSet<String> = loader
        .fetches
        .entries()
        .iter()
        .map(|e| shown_remote(e))
        .collect();
    Deps {
        files,
        layers: layers.into_iter().collect(),
        remotes: remotes.into_iter().collect(),
    }
}

/// A remote entry as `URL@ref` (`repo//path@ref`; a plain file is its URL).
pub fn shown_remote(entry: &str) -> String {
    match remote::parse(entry) {
        Ok(remote::Remote::Git {
            repo,
            path,
            git_ref,
            ..
        }) => {
            let at = if git_ref.is_empty() {
                "HEAD"
            } else {
                git_ref.as_str()
            };
            if path.is_empty() {
                format!("{repo}@{at}")
            } else {
                format!("{repo}//{path}@{at}")
            }
        }
        Ok(remote::Remote::File { url }) => url,
        Err(_) => entry.to_string(),
    }
}

impl Deps {
    /// Whether a change to the file at `path` (absolute) can change the render: it is a file
    /// the render reads (or lies in a chart directory it reads), or it is a kustomization,
    /// `values.yaml` or `values.schema.json` that appears or disappears in one of its layers.
    pub fn touches(&self, path: &Path) -> bool {
        if self
            .files
            .binary_search_by(|f| f.as_path().cmp(path))
            .is_ok()
        {
            return true;
        }
        // A chart directory covers everything below it.
        if self.files.iter().any(|f| path.starts_with(f)) {
            return true;
        }
        let (Some(parent), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str()))
        else {
            return false;
        };
        (FILE_NAMES.contains(&name) || LAYER_FILES.contains(&name))
            && self
                .layers
                .binary_search_by(|l| l.as_path().cmp(parent))
                .is_ok()
    }
}

/// In a plan (`Loader::plan_only`): note what helm would read for the `helmCharts` of `k`,
/// without running it: each vendored chart directory, `valuesFile` and
/// `additionalValuesFiles`.
pub fn note_charts(k: &Kustomization, loader: &Loader) -> Result<()> {
    let Some(Value::Seq(charts)) = k.get("helmCharts") else {
        return Ok(());
    };
    let home = k
        .get("helmGlobals")
        .and_then(|g| g.get("chartHome"))
        .and_then(Value::as_str)
        .unwrap_or("charts");
    let note = |entry: &str| -> Result<()> {
        if let Some(found) = loader.find(&k.dir, Path::new(entry))? {
            let (crate::fs::Found::File(p) | crate::fs::Found::Dir(p)) = found;
            crate::fs::note(&p);
        }
        Ok(())
    };
    for c in charts {
        let s = |f: &str| c.get(f).and_then(Value::scalar_text).unwrap_or_default();
        let name = s("name");
        if name.is_empty() || name.contains("..") {
            continue;
        }
        let version = s("version");
        let chart = if version.is_empty() {
            format!("{home}/{name}")
        } else {
            format!("{home}/{name}-{version}/{name}")
        };
        note(&chart)?;
        let values = s("valuesFile");
        if !values.is_empty() {
            note(&values)?;
        }
        if let Some(Value::Seq(files)) = c.get("additionalValuesFiles") {
            for f in files.iter().filter_map(Value::scalar_text) {
                note(&f)?;
            }
        }
    }
    Ok(())
}

/// In a plan: read the file `path` of the layer `k` as its build would (`None`: there is no
/// such file, or it is a directory: the caller falls back to the real thing). A template is
/// rendered, for what it includes; any other file is noted.
fn note_file(k: &Kustomization, loader: &Loader, path: &str) -> Result<Option<()>> {
    let Some(crate::fs::Found::File(file)) = loader.find(&k.dir, Path::new(path))? else {
        return Ok(None);
    };
    match (&k.ctx, crate::template::is_template(&file)) {
        (Some(ctx), true) => {
            loader.text(&file, ctx)?;
        }
        (None, true) => return Ok(None),
        _ => crate::fs::note(&file),
    }
    Ok(Some(()))
}

/// The strings of field `f` of a map (a string or a list of strings); `None` for any other
/// shape.
fn strings(m: &Value, f: &str) -> Option<Vec<String>> {
    match m.get(f) {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Str(s)) => Some(vec![s.clone()]),
        Some(Value::Seq(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(_) => None,
    }
}

/// In a plan: note the sources of the layer's `configMapGenerator` and `secretGenerator`
/// entries (`envs`, `env`, `files`) without generating. False when an entry is not plain
/// (a directory source, a missing file, an odd shape): the caller generates for real.
pub fn note_generator_sources(k: &Kustomization, loader: &Loader) -> Result<bool> {
    for field in ["configMapGenerator", "secretGenerator"] {
        let items = match k.get(field) {
            None => continue,
            Some(Value::Seq(items)) => items,
            Some(_) => return Ok(false),
        };
        for item in items {
            if item.as_map().is_none() {
                return Ok(false);
            }
            let (Some(envs), Some(env), Some(files)) = (
                strings(item, "envs"),
                strings(item, "env"),
                strings(item, "files"),
            ) else {
                return Ok(false);
            };
            let files = files.iter().map(|f| match f.split_once('=') {
                Some((_, path)) => path.to_string(),
                None => f.clone(),
            });
            for path in envs.into_iter().chain(env).chain(files) {
                if note_file(k, loader, &path)?.is_none() {
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}

/// In a plan: note the files of the layer's patches (`patches`, `patchesJson6902`,
/// `patchesStrategicMerge`) and `replacements` without configuring its transformers. False
/// when an entry is not plain (a missing file, an odd shape): the caller configures for real.
pub fn note_transformer_files(k: &Kustomization, loader: &Loader) -> Result<bool> {
    for field in ["patches", "patchesJson6902", "replacements"] {
        let items = match k.get(field) {
            None => continue,
            Some(Value::Seq(items)) => items,
            Some(_) => return Ok(false),
        };
        for item in items {
            match item.get("path") {
                None | Some(Value::Null) => {}
                Some(Value::Str(path)) => {
                    if note_file(k, loader, path)?.is_none() {
                        return Ok(false);
                    }
                }
                Some(_) => return Ok(false),
            }
        }
    }
    match k.get("patchesStrategicMerge") {
        None => {}
        Some(Value::Seq(items)) => {
            for item in items {
                let Value::Str(s) = item else {
                    return Ok(false);
                };
                // As the patch transformer tells an inline patch from a path.
                let inline =
                    s.contains('\n') || (s.contains(": ") && !k.dir.join(s.trim()).is_file());
                if !inline && note_file(k, loader, s.trim())?.is_none() {
                    return Ok(false);
                }
            }
        }
        Some(_) => return Ok(false),
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_are_shown_with_their_ref() {
        for (entry, want) in [
            (
                "https://github.com/org/repo//deploy/base?ref=v1",
                "https://github.com/org/repo//deploy/base@v1",
            ),
            (
                "git@github.com:org/repo.git",
                "git@github.com:org/repo.git@HEAD",
            ),
            (
                "https://example.com/manifests/app.yaml",
                "https://example.com/manifests/app.yaml",
            ),
        ] {
            assert_eq!(shown_remote(entry), want, "{entry}");
        }
    }

    #[test]
    fn a_change_touches_read_files_chart_directories_and_new_layer_files() {
        let d = Deps {
            files: vec![
                PathBuf::from("/r/base/deployment.yaml"),
                PathBuf::from("/r/base/kustomization.yaml"),
                PathBuf::from("/r/charts/web"),
            ],
            layers: vec![PathBuf::from("/r/base")],
            remotes: Vec::new(),
        };
        for (path, want) in [
            ("/r/base/deployment.yaml", true),
            ("/r/base/values.yaml", true),
            ("/r/base/kustomization.yml", true),
            ("/r/charts/web/templates/svc.yaml", true),
            ("/r/base/README.md", false),
            ("/r/base/sub/values.yaml", false),
            ("/r/charts/webapp/Chart.yaml", false),
        ] {
            assert_eq!(d.touches(Path::new(path)), want, "{path}");
        }
    }

    /// Files a full build of `dir` reads, and those a plan reads; `None` when the build fails.
    fn full_and_plan(dir: &Path) -> Option<(BTreeSet<PathBuf>, BTreeSet<PathBuf>)> {
        let options = crate::BuildOptions::default();
        let full = crate::Loader::default();
        let (_, read) = reads(dir, &options, &full, 2).ok()?;
        let mut plan = crate::Loader::default();
        plan.plan_only = true;
        let planned = deps(dir, &options, &plan, 2).unwrap_or_else(|e| {
            panic!(
                "{}: the build works but its plan fails: {}",
                dir.display(),
                e.message
            )
        });
        Some((read, planned.files.into_iter().collect()))
    }

    #[test]
    fn deps_are_exactly_the_files_a_build_reads() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut dirs: Vec<PathBuf> = vec![
            root.join("overlays/prod"),
            root.join("tests/diff/envs/overlays/old"),
            root.join("tests/diff/envs/overlays/new"),
        ];
        for d in ["examples", "tests/fixtures"] {
            let Ok(entries) = std::fs::read_dir(root.join(d)) else {
                continue;
            };
            let mut found: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            found.sort();
            for case in found {
                let input = case.join("input");
                dirs.push(if input.is_dir() { input } else { case });
            }
        }
        let conformance = root.join("../shared/conformance/kustomize");
        if conformance.is_dir() {
            let mut cases: Vec<PathBuf> = std::fs::read_dir(&conformance)
                .expect("corpus")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("case.json").is_file())
                .collect();
            cases.sort();
            for case in cases {
                let run = std::fs::read_to_string(case.join("case.json"))
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .and_then(|v| v["run"].as_str().map(str::to_string))
                    .unwrap_or_else(|| "input".to_string());
                dirs.push(case.join(run));
            }
        } else {
            assert!(
                std::env::var_os("STRATA_REQUIRE_CORPORA").is_none(),
                "../shared/conformance/kustomize is required"
            );
            eprintln!("skipped: ../shared/conformance/kustomize");
        }
        let mut compared = 0;
        for dir in dirs.iter().filter(|d| d.is_dir()) {
            let Some((read, planned)) = full_and_plan(dir) else {
                continue;
            };
            assert_eq!(
                planned,
                read,
                "{}: the plan lists other files than the build reads",
                dir.display()
            );
            compared += 1;
        }
        assert!(compared >= 3, "{compared} builds compared");
        eprintln!("deps compared with the files read on {compared} builds");
    }

    #[test]
    fn deps_of_a_template_include_the_values_and_what_it_includes() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        std::fs::create_dir_all(r.join("base")).expect("mkdir");
        std::fs::create_dir_all(r.join("overlays/dev")).expect("mkdir");
        std::fs::write(
            r.join("base/kustomization.yaml"),
            "resources:\n- cm.yaml.j2\n",
        )
        .expect("write");
        std::fs::write(r.join("base/values.yaml"), "name: web\n").expect("write");
        std::fs::write(
            r.join("base/cm.yaml.j2"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ values.name }}\ndata:\n  {% include \"part.j2\" %}\n",
        )
        .expect("write");
        std::fs::write(r.join("base/part.j2"), "a: b\n").expect("write");
        std::fs::write(
            r.join("overlays/dev/kustomization.yaml"),
            "resources:\n- ../../base\n",
        )
        .expect("write");
        std::fs::write(r.join("overlays/dev/values.yaml"), "name: dev-web\n").expect("write");
        let Some((read, planned)) = full_and_plan(&r.join("overlays/dev")) else {
            panic!("the templated project builds");
        };
        assert_eq!(planned, read);
        let names: Vec<String> = read
            .iter()
            .map(|p| {
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string()
            })
            .collect();
        for want in ["cm.yaml.j2", "part.j2", "values.yaml"] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
    }
}
