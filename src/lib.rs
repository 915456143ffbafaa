//! strata: a Kubernetes manifest rendering engine, Kustomize-compatible.
//!
//! The API is small and never prints:
//! - [`build`] turns a kustomization directory into the exact stream `kubectl kustomize`
//!   prints, plus its warnings ([`Output`]);
//! - [`environments`] and [`render`] do it for every environment of a project;
//! - [`values`] shows what each layer's templates see;
//! - [`validate`] checks documents ([`parse_documents`]) against Kubernetes schemas;
//! - [`diff`] compares two builds object by object;
//! - [`run`] is the `strata` command line itself.
//!
//! Every failure is an [`Error`] naming the file and line, with one line of help. The
//! modules behind these (the pipeline `load` → `resolve`, which runs `transform` → `emit`;
//! ARCHITECTURE.md maps them) are private to the crate; the `cli` module is the only place
//! that prints.

mod argocd;
mod artifact;
mod cli;
mod codec;
mod deps;
mod diff;
mod emit;
mod error;
mod fieldpath;
mod fs;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod git;
mod http;
mod load;
mod patch;
mod pointer;
mod process;
mod project;
mod render;
mod resolve;
mod resource;
mod schema;
mod template;
mod transform;
mod trust;
mod validate;
mod warning;
mod yaml;

pub use diff::{Change, DiffOptions, Hunk, Line, Status, Tag};
pub use error::{Error, ErrorKind, Location, Result};
pub use load::{LoadRestrictor, Loader};
pub use render::{Environment, environments, render};
pub use resolve::{BuildOptions, Limits, Reorder, ValuesOptions};
pub use template::Values;
pub use transform::helm::HelmOptions;
pub use validate::{Doc, Missing, Severity, Source, ValidateOptions, Violation, validate};
pub use warning::Warning;
pub use yaml::{Document, Map, Value};

use std::path::{Path, PathBuf};

/// The `strata` command line, as the binary runs it: reads the arguments and the
/// environment, prints, and returns the exit code (0 success, 1 an error, 2 a usage error,
/// as the README's "Exit codes" say).
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     strata::run()
/// }
/// ```
pub fn run() -> std::process::ExitCode {
    cli::run()
}

/// Read every YAML document of `text` as Kustomize reads a resource file (go-yaml v3
/// rules); `file` names the text in an error.
///
/// ```
/// let docs = strata::parse_documents("a: 1\n---\nb: [x]\n", "in.yaml".as_ref()).unwrap();
/// assert_eq!((docs.len(), docs[1].line), (2, 3));
/// assert_eq!(docs[0].value.get("a"), Some(&strata::Value::Int(1)));
/// let e = strata::parse_documents("a: [1\n", "in.yaml".as_ref()).unwrap_err();
/// assert_eq!(e.location.map(|l| l.line), Some(2));
/// ```
pub fn parse_documents(text: &str, file: &Path) -> Result<Vec<Document>> {
    yaml::parse_documents(text).map_err(|e| yaml::errors::yaml_error_in(file, text, e))
}

/// The differences between two builds, object by object (paired by kind, namespace and
/// name, a renamed ConfigMap with its old name), each with unified-diff hunks.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  k: v\n";
/// std::fs::write(dir.path().join("cm.yaml"), cm)?;
/// std::fs::write(dir.path().join("kustomization.yaml"), "resources: [cm.yaml]\n")?;
/// let old = strata::build(dir.path(), &Default::default(), &Default::default())?;
/// std::fs::write(dir.path().join("cm.yaml"), cm.replace("k: v", "k: w"))?;
/// let new = strata::build(dir.path(), &Default::default(), &Default::default())?;
/// let changes = strata::diff(&old, &new, &Default::default());
/// assert_eq!(changes.len(), 1);
/// assert_eq!((changes[0].status, changes[0].title()), (strata::Status::Changed, "ConfigMap/app".into()));
/// # Ok(())
/// # }
/// ```
pub fn diff(old: &Output, new: &Output, options: &DiffOptions) -> Vec<Change> {
    diff::resources(&old.resources, &new.resources, options)
}

/// The values the templates of each layer of `dir`'s build see, as `strata values` shows
/// them: the top layer first, then every other layer by path. `env` is the environment's
/// name as templates see it. Nothing is built.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("values.yaml"), "replicas: 1\n")?;
/// std::fs::write(dir.path().join("kustomization.yaml"), "resources: []\n")?;
/// let options = strata::ValuesOptions { set: vec!["replicas=3".into()], ..Default::default() };
/// let layers = strata::values(dir.path(), "dev", &options)?;
/// assert_eq!(layers[0].1.tree.get("replicas"), Some(&strata::Value::Int(3)));
/// # Ok(())
/// # }
/// ```
pub fn values(dir: &Path, env: &str, options: &ValuesOptions) -> Result<Vec<(PathBuf, Values)>> {
    let mut loader = Loader::default();
    loader.plan_only = true;
    let record = resolve::ValuesRecord::default();
    let build_options = BuildOptions {
        values: options.clone(),
        env: Some(env.to_string()),
        record_values: Some(record.clone()),
        ..BuildOptions::default()
    };
    build(dir, &build_options, &loader)?;
    let mut seen = record.lock().map(|r| r.clone()).unwrap_or_default();
    // Layers note themselves under `resolve::absolute`.
    let top = resolve::absolute(dir);
    // Layers built in parallel noted themselves in any order: sort, the top first.
    seen.sort_by(|a, b| (a.0 != top, &a.0).cmp(&(b.0 != top, &b.0)));
    seen.dedup_by(|a, b| a.0 == b.0 && a.1.annotated() == b.1.annotated());
    Ok(seen)
}

/// A finished build: the manifest stream and the warnings Kustomize would print.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub(crate) resources: Vec<resource::Resource>,
    pub warnings: Vec<Warning>,
}

impl Output {
    /// The objects of the stream, in printed order.
    pub fn objects(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.resources.iter().map(|r| &r.doc)
    }

    /// The manifest stream as `kubectl kustomize` prints it.
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
