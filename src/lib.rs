//! strata: a Kubernetes manifest rendering engine, Kustomize-compatible.
//!
//! The library never prints: `build` turns a kustomization directory into the exact stream
//! `kubectl kustomize` prints (plus its warnings), `render` does it for every environment of
//! a project. The pipeline is the module layout: `load` → `resolve` (which runs
//! `transform`) → `emit`. Errors are data (`error::Error`); the binary's `cli` module is the
//! only place that prints them.

pub mod argocd;
pub mod artifact;
pub mod codec;
pub mod deps;
pub mod diff;
pub mod emit;
pub mod error;
pub mod fieldpath;
pub mod fs;
#[doc(hidden)]
pub mod fuzzing;
pub mod git;
pub mod http;
pub mod load;
pub mod patch;
pub mod pointer;
pub mod process;
pub mod project;
pub mod render;
pub mod resolve;
pub mod resource;
pub mod schema;
pub mod template;
pub mod transform;
pub mod trust;
pub mod validate;
pub mod warning;
pub mod yaml;

pub use error::{Error, Result};
pub use load::{LoadRestrictor, Loader};
pub use resolve::{BuildOptions, Reorder};
pub use warning::Warning;

use std::path::Path;

/// A finished build: the manifest stream and the warnings Kustomize would print.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub resources: Vec<resource::Resource>,
    pub warnings: Vec<Warning>,
}

impl Output {
    pub fn yaml(&self) -> String {
        emit::to_yaml(&self.resources)
    }

    /// Write the manifest stream to `out` as it is printed (same bytes as `yaml`).
    pub fn write_yaml(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        emit::write_yaml(&self.resources, out)
    }
}

/// Build the kustomization in `dir`, as `kubectl kustomize dir` does.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// std::fs::write(
///     dir.path().join("kustomization.yaml"),
///     "namePrefix: prod-\nresources:\n- cm.yaml\n",
/// )?;
/// std::fs::write(
///     dir.path().join("cm.yaml"),
///     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  k: v\n",
/// )?;
/// let out = strata::build(dir.path(), &strata::BuildOptions::default(), &strata::Loader::default())?;
/// assert_eq!(
///     out.yaml(),
///     "apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  name: prod-app\n"
/// );
/// # Ok(())
/// # }
/// ```
///
/// A failure is an `Error` naming the file and line, with one line of help:
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("kustomization.yaml"), "resources:\n- missing.yaml\n").unwrap();
/// let e = strata::build(dir.path(), &Default::default(), &Default::default()).unwrap_err();
/// assert_eq!(e.location.as_ref().map(|l| l.line), Some(2));
/// assert!(e.message.contains("missing.yaml") && e.help.is_some());
/// ```
pub fn build(dir: &Path, options: &BuildOptions, loader: &Loader) -> Result<Output> {
    let (acc, metadata, sort_options) = resolve::Builder::new(loader, dir, options).run()?;
    let mut warnings = acc.warnings;
    if loader.plan_only {
        return Ok(Output {
            resources: Vec::new(),
            warnings,
        });
    }
    let resources = resolve::finish(
        acc.resources,
        &acc.vars,
        &acc.config,
        &metadata,
        sort_options.as_ref(),
        options.reorder,
        &mut warnings,
    )?;
    Ok(Output {
        resources,
        warnings,
    })
}
