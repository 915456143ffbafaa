//! The Argo CD config management plugin: Argo CD's environment → render options, and the
//! parameters the plugin announces to the UI.
//!
//! Argo CD runs a plugin command in a copy of the repository, in the application's
//! directory, with the Application described by environment variables (`env`). `request`
//! reads the parameters and `plugin.env` entries into render options; `plan` decides what
//! to build: an environment of a project root (`overlays/<env>`) or the kustomization in
//! the application's directory; `announce` describes the values that layer accepts. The
//! command line (`cli/argocd.rs`) adds the deadline, validation and the refusal of an
//! empty stream.

pub mod announce;
pub mod env;
pub mod layers;
pub mod params;
pub mod request;

use crate::error::{Error, Result};
use crate::load::Loader;
use crate::load::kustomization::FILE_NAMES;
use crate::resolve::ValuesOptions;
use crate::template::Values;
use request::Request;
use std::path::{Path, PathBuf};

/// What to build for an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The kustomization directory.
    pub dir: PathBuf,
    /// The environment's name, for a project root.
    pub env: Option<String>,
    /// The environments of the project root (empty for a plain kustomization).
    pub environments: Vec<String>,
}

fn has_kustomization(dir: &Path) -> bool {
    FILE_NAMES.iter().any(|f| dir.join(f).is_file())
}

/// The environments of a project root at `app` (none when it has no `overlays/` and no
/// `strata.yaml`).
pub fn environments(app: &Path) -> Result<Vec<crate::render::Environment>> {
    if !crate::render::is_project(app) {
        return Ok(Vec::new());
    }
    crate::render::environments(app)
}

/// Decide what to build for the application in `app`: the environment the request names,
/// else the kustomization in `app`. `need` says whether an environment must be chosen
/// when `app` is a project root without a kustomization of its own (`generate`: yes;
/// `parameters`: no, it announces the choice instead).
pub fn plan(app: &Path, req: &Request, need: bool) -> Result<Option<Plan>> {
    let envs = environments(app)?;
    let names: Vec<String> = envs.iter().map(|e| e.name.clone()).collect();
    if let Some(name) = &req.env {
        if envs.is_empty() {
            return Err(Error::new(format!(
                "the environment `{name}` was asked for, but the application's directory has no `overlays/`"
            ))
            .with_help("point the Application's `path` at the project root holding `overlays/`, or drop the `env` parameter"));
        }
        let chosen = crate::render::select(envs, std::slice::from_ref(name))?;
        return Ok(chosen.into_iter().next().map(|e| Plan {
            dir: e.dir,
            env: Some(e.name),
            environments: names,
        }));
    }
    if has_kustomization(app) {
        return Ok(Some(Plan {
            dir: app.to_path_buf(),
            env: None,
            environments: names,
        }));
    }
    if !envs.is_empty() {
        if !need {
            return Ok(None);
        }
        return Err(Error::new("no environment chosen").with_help(format!(
            "set the parameter `env` (or `plugin.env` STRATA_ENV) to one of: {}",
            names.join(", ")
        )));
    }
    Err(
        Error::new("the application's directory holds neither a kustomization nor `overlays/`")
            .with_help(
                "point the Application's `path` at a kustomization directory or a project root",
            ),
    )
}

/// The values options of a request: the project's values files (`strata.yaml`, already
/// checked), its value files, the `STRATA_VALUES` and parameter layers (typed against the
/// values the layers have without them) and `set`.
pub fn values_options(
    req: &Request,
    plan: &Plan,
    app: &Path,
    root: &Path,
    loader: &Loader,
    project_files: &[PathBuf],
) -> Result<ValuesOptions> {
    let mut files = project_files.to_vec();
    for f in &req.value_files {
        files.push(request::value_file(app, root, f)?);
    }
    let env_layer = request::env_values_layer(req, &loader.aliases)?;
    let mut layers = Vec::new();
    if !req.assignments.is_empty() {
        let found = layers::walk(&plan.dir, app, loader);
        let mut current = found.merged();
        for f in &files {
            let text = crate::load::read_text(f)?;
            let v = Values::from_path_in(Some(f), &f.display().to_string(), text, &loader.aliases)
                .map_err(|e| e.in_file(f))?;
            current = current.overlay(&v);
        }
        if let Some(e) = &env_layer {
            current = current.overlay(e);
        }
        layers.push(request::parameter_layer(req, &current, &found)?);
    }
    Ok(ValuesOptions {
        files,
        set: req.set.clone(),
        layers: env_layer.into_iter().chain(layers).collect(),
        ..ValuesOptions::default()
    })
}
