//! Environments: every directory under `<root>/overlays/` holding a kustomization.
//!
//! `environments` finds them (named by their path under `overlays/`, sorted), `render_all`
//! builds the chosen ones in parallel with one shared `Loader` (so a shared base is read
//! once), and `write_atomically` writes `<out>/<env>.yaml` only when every environment
//! succeeded: each file goes to a temporary name first and is renamed into place.

use crate::error::{Error, Result};
use crate::load::Loader;
use crate::load::kustomization::FILE_NAMES;
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
pub fn environments(root: &Path) -> Result<Vec<Environment>> {
    let overlays = root.join("overlays");
    if !overlays.is_dir() {
        return Err(Error::new(format!(
            "no `overlays/` directory in `{}`",
            root.display()
        ))
        .with_help("run `strata render` at a project root holding `base/` and `overlays/`, or pass `--root DIR`"));
    }
    let mut out = Vec::new();
    collect(&overlays, &overlays, &mut out)?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn collect(overlays: &Path, dir: &Path, out: &mut Vec<Environment>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::new(format!("cannot read `{}`: {e}", dir.display())))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
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
        collect(overlays, &d, out)?;
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
pub fn render_all(
    envs: &[Environment],
    options: &BuildOptions,
    loader: &Loader,
) -> std::result::Result<Vec<Output>, Vec<Error>> {
    let results: Vec<Result<Output>> = envs
        .par_iter()
        .map(|e| {
            build(&e.dir, options, loader)
                .map_err(|err| err.context(format!("environment `{}`", e.name)))
        })
        .collect();
    let mut outputs = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(o) => outputs.push(o),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(outputs)
    } else {
        Err(errors)
    }
}

/// Write `files` (relative name, content) into `dir`: all of them or none.
pub fn write_atomically(dir: &Path, files: &[(String, String)]) -> Result<()> {
    let io = |what: &str, p: &Path, e: std::io::Error| {
        Error::new(format!("cannot {what} `{}`: {e}", p.display()))
            .with_help("check that the output directory is writable")
    };
    std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    let mut temps = Vec::new();
    for (name, content) in files {
        let target = dir.join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        }
        let tmp = target.with_extension(format!("yaml.tmp-{}", std::process::id()));
        if let Err(e) = std::fs::write(&tmp, content) {
            for (t, _) in &temps {
                let _ = std::fs::remove_file(t);
            }
            return Err(io("write", &tmp, e));
        }
        temps.push((tmp, target));
    }
    for (tmp, target) in &temps {
        std::fs::rename(tmp, target).map_err(|e| io("rename into", target, e))?;
    }
    Ok(())
}
