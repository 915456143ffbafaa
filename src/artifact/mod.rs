//! Flux artifacts: a rendered environment packed as the OCI artifact Flux's
//! source-controller pulls (`OCIRepository`) and kustomize-controller applies.
//!
//! An environment's artifact holds one file, `manifests.yaml`, the exact stream
//! `strata render ENV` prints, so Flux (which generates a kustomization from the `.yaml`
//! files it finds) applies precisely what strata rendered and nothing else. `pack` makes the
//! reproducible layer, `manifest` the config and manifest, `reference` checks addresses,
//! `auth` finds credentials, `push` speaks the distribution API. `write_files` writes
//! `strata artifact build` output: all files or none.

pub mod auth;
pub mod manifest;
pub mod pack;
pub mod push;
pub mod reference;

use crate::Output;
use crate::error::{Error, Result};
use std::path::Path;

/// The file an environment's artifact holds.
pub const MANIFESTS: &str = "manifests.yaml";

/// The files of an environment's artifact; an empty stream is an error unless `allow_empty`
/// (Flux would prune everything it applied from the artifact).
pub fn files(env: &str, output: &Output, allow_empty: bool) -> Result<Vec<(String, Vec<u8>)>> {
    if output.resources.is_empty() && !allow_empty {
        let help = "pass `--allow-empty` to ship an empty artifact (Flux then deletes everything it applied from it)";
        return Err(Error::new(format!("environment `{env}` renders no objects")).with_help(help));
    }
    Ok(vec![(MANIFESTS.to_string(), output.yaml().into_bytes())])
}

/// Write `files` (relative `/` names, bytes) under `dir`: every file goes to a temporary
/// name first and is renamed into place only when all were written.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    let io = |what: &str, p: &Path, e: std::io::Error| {
        Error::new(format!("cannot {what} `{}`: {e}", p.display()))
            .with_help("check that the output directory is writable")
    };
    let mut temps = Vec::new();
    let cleanup = |temps: &[(std::path::PathBuf, std::path::PathBuf)]| {
        for (t, _) in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    for (name, content) in files {
        pack::check_name(name)?;
        let target = dir.join(name);
        let parent = target.parent().unwrap_or(dir);
        if let Err(e) = std::fs::create_dir_all(parent) {
            cleanup(&temps);
            return Err(io("create", parent, e));
        }
        let file_name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let tmp = parent.join(format!(".{file_name}.tmp-{}", std::process::id()));
        if let Err(e) = std::fs::write(&tmp, content) {
            cleanup(&temps);
            return Err(io("write", &tmp, e));
        }
        temps.push((tmp, target));
    }
    for (tmp, target) in &temps {
        std::fs::rename(tmp, target).map_err(|e| io("rename into", target, e))?;
    }
    Ok(())
}
