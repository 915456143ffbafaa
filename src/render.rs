//! Environments: every directory under `<root>/overlays/` holding a kustomization.
//!
//! `environments` finds them (named by their path under `overlays/`, sorted), `render`
//! builds the chosen ones in parallel with one shared `Loader` (so a shared base is read
//! once), and `write_atomically` writes `<out>/<env>.yaml` only when every environment
//! succeeded: each file goes to a temporary name first and is renamed into place.

use crate::error::{Error, Result};
use crate::load::Loader;
use crate::load::kustomization::FILE_NAMES;
use crate::project::Environments;
use crate::{BuildOptions, Output, build};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// An environment: its name (`dev`, `prod/eu`) and directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub name: String,
    pub dir: PathBuf,
}

/// All environments of the project at `root`, sorted by name.
///
/// The walk follows a symlinked directory only when it leads to a directory inside the
/// project that the walk has not seen: `overlays/usr -> /usr` is not walked, and
/// `overlays/self -> .` does not multiply the environments.
///
/// Where they are is `overlays/` unless the project's `strata.yaml` says otherwise
/// (`environments: envs/`, or a pattern such as `clusters/*`).
pub fn environments(root: &Path) -> Result<Vec<Environment>> {
    let project = crate::project::Project::load(root)?;
    let spec = project.environments;
    let (base, pattern) = match &spec {
        Environments::Dir(d) => (root.join(d), None),
        Environments::Glob(g) => {
            // The part before the first `*` names the environments' parent.
            let fixed: Vec<&str> = g.split('/').take_while(|s| !s.contains('*')).collect();
            let rest: Vec<&str> = g.split('/').skip(fixed.len()).collect();
            (root.join(fixed.join("/")), Some(rest))
        }
    };
    if !base.is_dir() {
        let (message, help) = match &project.file {
            None => (
                format!("no `overlays/` directory in `{}`", root.display()),
                "run `strata render` at a project root holding `base/` and `overlays/`, or pass `--root DIR` (a `strata.yaml` there can name another directory: `environments: envs/`)".to_string(),
            ),
            Some(_) => (
                format!(
                    "no `{}` directory in `{}`, where `strata.yaml` puts the environments",
                    base.strip_prefix(root).unwrap_or(&base).display(),
                    root.display()
                ),
                "fix `environments:` in `strata.yaml`".to_string(),
            ),
        };
        let mut err = Error::new(message).with_help(help);
        if let Some(f) = &project.file {
            err = err.in_file(f);
        }
        return Err(err);
    }
    let real_root = crate::fs::real(root)?.unwrap_or_else(|| root.to_path_buf());
    if let Some(pattern) = pattern {
        let mut out = Vec::new();
        matching(&real_root, &base, &base, &pattern, &mut out);
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out.dedup_by(|a, b| a.name == b.name);
        return Ok(out);
    }
    let overlays = base;
    let mut seen = std::collections::HashSet::new();
    if let Ok(Some(real)) = crate::fs::real(&overlays) {
        seen.insert(real);
    }
    let mut out = Vec::new();
    collect(&real_root, &overlays, &overlays, &mut seen, &mut out)?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The directories below `dir` matching `pattern` (one segment per level, `*` a wildcard)
/// that hold a kustomization. A symlink is followed only into the project.
fn matching(root: &Path, base: &Path, dir: &Path, pattern: &[&str], out: &mut Vec<Environment>) {
    let Some((first, rest)) = pattern.split_first() else {
        if FILE_NAMES.iter().any(|f| dir.join(f).is_file()) {
            let name = dir
                .strip_prefix(base)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            if !name.is_empty() {
                out.push(Environment {
                    name,
                    dir: dir.to_path_buf(),
                });
            }
        }
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<std::fs::DirEntry> = entries.filter_map(std::result::Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::path);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || !crate::project::wildcard(first, &name) {
            continue;
        }
        let path = entry.path();
        let inside = match crate::fs::real(&path) {
            Ok(Some(r)) => r.is_dir() && r.starts_with(root),
            _ => false,
        };
        if inside {
            matching(root, base, &path, rest, out);
        }
    }
}

/// Whether `root` is a project: it has `overlays/` or a `strata.yaml`.
pub fn is_project(root: &Path) -> bool {
    root.join("overlays").is_dir() || root.join(crate::project::FILE).is_file()
}

fn collect(
    root: &Path,
    overlays: &Path,
    dir: &Path,
    seen: &mut std::collections::HashSet<PathBuf>,
    out: &mut Vec<Environment>,
) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::new(format!("cannot read `{}`: {e}", dir.display())))?;
    // Sorted first: which of two links to one directory is kept must not depend on the
    // order the file system lists them in.
    let mut entries: Vec<std::fs::DirEntry> = entries.filter_map(std::result::Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::path);
    let mut dirs: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let Ok(t) = entry.file_type() else { continue };
        let path = entry.path();
        let real = if t.is_symlink() {
            match crate::fs::real(&path) {
                Ok(Some(r)) if r.is_dir() && r.starts_with(root) => r,
                _ => continue,
            }
        } else if t.is_dir() {
            crate::fs::real(&path)
                .ok()
                .flatten()
                .unwrap_or_else(|| path.clone())
        } else {
            continue;
        };
        if seen.insert(real) {
            dirs.push(path);
        }
    }
    for d in dirs {
        if FILE_NAMES.iter().any(|f| d.join(f).is_file()) {
            let name = d
                .strip_prefix(overlays)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            out.push(Environment {
                name,
                dir: d.clone(),
            });
        }
        collect(root, overlays, &d, seen, out)?;
    }
    Ok(())
}

/// Pick the named environments (all when `names` is empty); an unknown name is an error.
pub fn select(all: Vec<Environment>, names: &[String]) -> Result<Vec<Environment>> {
    if names.is_empty() {
        return Ok(all);
    }
    names
        .iter()
        .map(|n| {
            all.iter().find(|e| e.name == *n).cloned().ok_or_else(|| {
                let known: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
                let mut err = Error::new(format!("unknown environment `{n}`"));
                err = match crate::error::closest(n, known.iter().copied()) {
                    Some(c) => err.with_help(format!(
                        "did you mean `{c}`? environments: {}",
                        known.join(", ")
                    )),
                    None => err.with_help(format!("environments: {}", known.join(", "))),
                };
                err
            })
        })
        .collect()
}

/// Build every environment in parallel; all errors are returned, in environment order.
///
/// The same error in several environments (a broken base they share) is returned once,
/// naming them all.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let root = tempfile::tempdir()?;
/// let write = |p: &str, text: &str| -> std::io::Result<()> {
///     let p = root.path().join(p);
///     std::fs::create_dir_all(p.parent().unwrap())?;
///     std::fs::write(p, text)
/// };
/// write("base/kustomization.yaml", "resources:\n- cm.yaml\n")?;
/// write("base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n")?;
/// for env in ["dev", "prod"] {
///     write(
///         &format!("overlays/{env}/kustomization.yaml"),
///         &format!("namespace: {env}\nresources:\n- ../../base\n"),
///     )?;
/// }
/// let envs = strata::environments(root.path())?;
/// let names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
/// assert_eq!(names, ["dev", "prod"]);
/// let loader = strata::Loader::default();
/// let outputs = strata::render(&envs, &Default::default(), &loader)
///     .map_err(|errors| errors[0].clone())?;
/// assert!(outputs[1].yaml().contains("namespace: prod"));
/// # Ok(())
/// # }
/// ```
pub fn render(
    envs: &[Environment],
    options: &BuildOptions,
    loader: &Loader,
) -> std::result::Result<Vec<Output>, Vec<Error>> {
    render_all_with(envs, options, loader, &|| {})
}

/// `render`, calling `done` as each environment finishes (for a progress bar).
pub fn render_all_with(
    envs: &[Environment],
    options: &BuildOptions,
    loader: &Loader,
    done: &(dyn Fn() + Sync),
) -> std::result::Result<Vec<Output>, Vec<Error>> {
    let results: Vec<Result<Output>> = envs
        .par_iter()
        .map(|e| {
            let r = build(&e.dir, options, loader);
            done();
            r
        })
        .collect();
    let mut outputs = Vec::new();
    let mut errors: Vec<(Error, Vec<&str>)> = Vec::new();
    for (r, env) in results.into_iter().zip(envs) {
        match r {
            Ok(o) => outputs.push(o),
            Err(e) => {
                for e in e.flatten() {
                    match errors.iter_mut().find(|(seen, _)| *seen == e) {
                        Some((_, names)) => names.push(&env.name),
                        None => errors.push((e, vec![&env.name])),
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        return Ok(outputs);
    }
    Err(errors
        .into_iter()
        .map(|(e, names)| {
            let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            match names.as_slice() {
                [one] => e.context(format!("environment {one}")),
                many => e.context(format!("environments {}", many.join(", "))),
            }
        })
        .collect())
}

/// Write `files` (relative path, content) into `dir`: all of them or none.
///
/// Every file is first written to a temporary file beside its target and flushed to disk;
/// only when all are written are they renamed into place, each keeping a link to the file
/// it replaces. If a rename fails, the files already replaced get their old content back
/// and the new ones are removed. Temporary files are removed on every failure path, and
/// the directories are flushed at the end. Names must be relative paths of plain
/// components: nothing is written outside `dir`.
pub fn write_atomically(dir: &Path, files: &[(String, String)]) -> Result<()> {
    let io = |what: &str, p: &Path, e: &std::io::Error| {
        Error::new(format!(
            "cannot {what} `{}`: {}",
            p.display(),
            crate::fs::reason(e)
        ))
        .with_help("check that the output directory is writable and has space")
        .with_kind(crate::error::ErrorKind::Io)
    };
    for (name, _) in files {
        let plain = !name.is_empty()
            && Path::new(name)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            return Err(Error::new(format!(
                "`{name}` is not a file name inside the output directory"
            ))
            .with_help("output file names must be relative paths without `..`"));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| io("create", dir, &e))?;
    let mut staged = Vec::with_capacity(files.len());
    let mut dirs = std::collections::BTreeSet::from([dir.to_path_buf()]);
    for (name, content) in files {
        let target = dir.join(name);
        let parent = target.parent().unwrap_or(dir).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(|e| io("create", &parent, &e))?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".strata-").suffix(".tmp");
        // Readable as any other file a command writes (tempfile's default is 0600); the
        // umask still applies.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let mut tmp = builder
            .tempfile_in(&parent)
            .map_err(|e| io("create a file in", &parent, &e))?;
        std::io::Write::write_all(&mut tmp, content.as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| io("write", &target, &e))?;
        dirs.insert(parent);
        staged.push((tmp.into_temp_path(), target));
    }
    // Commit: keep what each target held, then rename the new file over it.
    let mut done: Vec<(PathBuf, Option<tempfile::TempPath>)> = Vec::new();
    for (tmp, target) in staged {
        let backup = match backup_of(&target) {
            Ok(b) => b,
            Err(e) => {
                roll_back(done);
                return Err(io("keep the previous", &target, &e));
            }
        };
        if let Err(e) = tmp.persist(&target) {
            roll_back(done);
            return Err(io("rename into", &target, &e.error));
        }
        done.push((target, backup));
    }
    for d in &dirs {
        if let Ok(f) = std::fs::File::open(d) {
            let _ = f.sync_all();
        }
    }
    // The backups are temporary paths: dropping them removes them.
    drop(done);
    Ok(())
}

/// A temporary second name for the file at `target`, if there is one (a hard link, or a
/// copy where links are not possible).
fn backup_of(target: &Path) -> std::io::Result<Option<tempfile::TempPath>> {
    if !target.exists() {
        return Ok(None);
    }
    let parent = target.parent().unwrap_or(Path::new("."));
    let path = tempfile::Builder::new()
        .prefix(".strata-old-")
        .tempfile_in(parent)?
        .into_temp_path();
    std::fs::remove_file(&path)?;
    if std::fs::hard_link(target, &path).is_err() {
        std::fs::copy(target, &path)?;
    }
    Ok(Some(path))
}

/// Undo the renames already made: restore each replaced file, remove each new one.
fn roll_back(done: Vec<(PathBuf, Option<tempfile::TempPath>)>) {
    for (target, backup) in done.into_iter().rev() {
        match backup {
            Some(b) => {
                let _ = b.persist(&target);
            }
            None => {
                let _ = std::fs::remove_file(&target);
            }
        }
    }
}
