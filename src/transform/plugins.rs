//! `generators:`, `transformers:` and `validators:` entries that configure Kustomize's
//! built-in plugins (`apiVersion: builtin`).
//!
//! Each configuration becomes the same generator or transformer the kustomization fields
//! make, with the plugin's own `fieldSpecs` where it has them. Anything that is not a
//! built-in plugin — an exec, container or Go plugin — is refused: strata runs no code
//! from a repository.

use super::Transformer;
use super::config::Config;
use super::generators::{self, Generated};
use crate::error::{Error, Location, Result};
use crate::load::{Kustomization, Loader};
use crate::resource::{Origin, Resource};
use crate::yaml::{Map, Value};

/// One plugin configuration document and where it came from.
pub struct PluginConfig {
    pub doc: Map,
    /// The file that configured it, relative to the build root (for annotations).
    pub configured_in: String,
    /// The entry of the kustomization that names it.
    pub at: Location,
    /// The file it was read from, as parsed, and its document's index there (for errors
    /// at the field's own line); `None` for an inline or generated configuration.
    pub within: Option<(
        std::path::PathBuf,
        std::sync::Arc<crate::load::ParsedFile>,
        usize,
    )>,
}

/// What `transformerAnnotations` say about a plugin.
#[derive(Debug, Clone, Default)]
pub struct PluginMeta {
    pub configured_in: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// Where the plugin's configuration is, for an error its transformer meets.
    pub at: Option<Location>,
}

/// A field of the plugin's `metadata` as text.
pub(super) fn meta(c: &PluginConfig, field: &str) -> Option<String> {
    c.doc
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::scalar_text)
}

fn kind_of(c: &PluginConfig) -> Result<String> {
    let api = c
        .doc
        .get("apiVersion")
        .and_then(Value::scalar_text)
        .unwrap_or_default();
    let kind = c
        .doc
        .get("kind")
        .and_then(Value::scalar_text)
        .unwrap_or_default();
    if api != "builtin" {
        return Err(Error::new(format!(
            "plugin `{api}` `{kind}`{} is not a built-in plugin; strata runs no external code from a repository",
            meta(c, "name").map(|n| format!(" ({n})")).unwrap_or_default()
        ))
        .at(c.at.clone())
        .with_help("exec, container and Go plugins are refused; use `apiVersion: builtin` plugins or kustomization fields")
        .with_kind(crate::error::ErrorKind::Restricted));
    }
    Ok(kind)
}

/// A built-in plugin's configuration checked against its types and read as Kustomize
/// decodes it (`load::field_types::check_plugin`).
fn checked(c: &PluginConfig, kind: &str) -> Result<PluginConfig> {
    let doc = crate::load::field_types::check_plugin(kind, &c.doc).map_err(|m| {
        let path: Vec<&str> = m.path.iter().map(String::as_str).collect();
        Error::new(format!("{kind} configuration: {}", m.message))
            .at(c.locate(&path))
            .with_help(m.help)
    })?;
    Ok(PluginConfig {
        doc,
        configured_in: c.configured_in.clone(),
        at: c.at.clone(),
        within: c.within.clone(),
    })
}

impl PluginConfig {
    /// Where the field at `path` is: in the plugin's own file when it is read as written (a
    /// template's lines are those of its output), else the entry that names the plugin.
    pub fn locate(&self, path: &[&str]) -> Location {
        self.within
            .as_ref()
            .filter(|(file, _, _)| !crate::template::is_template(file))
            .and_then(|(file, parsed, index)| {
                let (line, col, offset) = crate::yaml::locate(&parsed.text, *index, path)?;
                Some(Location {
                    file: file.clone(),
                    line,
                    col,
                    offset,
                })
            })
            .unwrap_or_else(|| self.at.clone())
    }
}

/// Generators configured by plugin documents.
pub fn generators(
    k: &Kustomization,
    loader: &Loader,
    configs: &[PluginConfig],
) -> Result<Vec<Generated>> {
    let mut out = Vec::new();
    for c in configs {
        let kind = kind_of(c)?;
        let c = &checked(c, &kind)?;
        let origin = Origin {
            file: k.file.clone(),
            line: c.at.line,
            display_path: String::new(),
            configured_by: Some((c.configured_in.clone(), kind.clone(), meta(c, "name"))),
        };
        match kind.as_str() {
            "ConfigMapGenerator" | "SecretGenerator" => {
                out.push(generators::from_plugin_config(
                    k,
                    loader,
                    &["generators"],
                    &c.doc,
                    origin,
                )?);
            }
            "IAMPolicyGenerator" => out.push(iam_policy(c, origin)?),
            other => {
                return Err(Error::new(format!(
                    "`{other}` is not a built-in generator strata knows"
                ))
                .at(c.at.clone())
                .with_help(
                    "built-in generators: ConfigMapGenerator, SecretGenerator, IAMPolicyGenerator",
                ));
            }
        }
    }
    Ok(out)
}

/// GKE workload identity: a ServiceAccount annotated with its Google service account.
fn iam_policy(c: &PluginConfig, origin: Origin) -> Result<Generated> {
    let s = |a: &str, b: &str| {
        c.doc
            .get(a)
            .and_then(|m| m.get(b))
            .and_then(Value::scalar_text)
            .unwrap_or_default()
    };
    if c.doc.get("cloud").and_then(Value::scalar_text).as_deref() != Some("gke") {
        return Err(Error::new("IAMPolicyGenerator supports only `cloud: gke`")
            .at(c.at.clone())
            .with_help("set `cloud: gke`"));
    }
    let mut annotations = Map::default();
    annotations.insert(
        "iam.gke.io/gcp-service-account".into(),
        Value::Str(format!(
            "{}@{}.iam.gserviceaccount.com",
            s("serviceAccount", "name"),
            s("serviceAccount", "projectId")
        )),
    );
    let mut metadata = Map::default();
    metadata.insert("annotations".into(), Value::Map(annotations));
    metadata.insert("name".into(), Value::Str(s("kubernetesService", "name")));
    let ns = s("kubernetesService", "namespace");
    if !ns.is_empty() {
        metadata.insert("namespace".into(), Value::Str(ns));
    }
    let mut doc = Map::default();
    doc.insert("apiVersion".into(), Value::Str("v1".into()));
    doc.insert("kind".into(), Value::Str("ServiceAccount".into()));
    doc.insert("metadata".into(), Value::Map(metadata));
    Ok(Generated {
        resource: Resource::new(Value::Map(doc), origin),
        behavior: generators::Behavior::Create,
        at: crate::load::kustomization::Spot::Known(c.at.clone()),
    })
}

/// Transformers configured by plugin documents, each with what annotations say of it.
pub fn transformers(
    k: &Kustomization,
    loader: &Loader,
    strict: bool,
    config: &Config,
    configs: &[PluginConfig],
) -> Result<Vec<(Box<dyn Transformer>, PluginMeta)>> {
    let layer = super::builtins::Layer {
        k,
        loader,
        strict,
        config,
    };
    let mut out: Vec<(Box<dyn Transformer>, PluginMeta)> = Vec::new();
    for c in configs {
        let kind = kind_of(c)?;
        let c = &checked(c, &kind)?;
        let pm = PluginMeta {
            configured_in: c.configured_in.clone(),
            name: meta(c, "name"),
            namespace: meta(c, "namespace"),
            at: Some(c.locate(&["kind"])),
        };
        let Some(built_in) = super::builtins::by_plugin(&kind) else {
            let known: Vec<&str> = super::builtins::BUILT_INS
                .iter()
                .flat_map(|b| b.plugins.iter().copied())
                .collect();
            return Err(Error::new(format!(
                "`{kind}` is not a built-in transformer strata knows"
            ))
            .at(c.at.clone())
            .with_help(format!("built-in transformers: {}", known.join(", "))));
        };
        let made = (built_in.from_plugin)(c, &kind, &layer)?;
        for t in made {
            out.push((t, pm.clone()));
        }
    }
    Ok(out)
}
