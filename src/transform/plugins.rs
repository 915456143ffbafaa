//! `generators:`, `transformers:` and `validators:` entries that configure Kustomize's
//! built-in plugins (`apiVersion: builtin`).
//!
//! Each configuration becomes the same generator or transformer the kustomization fields
//! make, with the plugin's own `fieldSpecs` where it has them. Anything that is not a
//! built-in plugin — an exec, container or Go plugin — is refused: strata runs no code
//! from a repository.

use super::config::Config;
use super::fieldspec::{FieldSpec, split_path};
use super::generators::{self, Generated};
use super::{Transformer, affix, images, labels, namespace, replicas};
use crate::error::{Error, Location, Result};
use crate::load::{Kustomization, Loader};
use crate::resource::{Origin, Resource};
use crate::yaml::{Map, Value};

/// One plugin configuration document and where it came from.
pub struct PluginConfig {
    pub doc: Map,
    /// The file that configured it, relative to the build root (for annotations).
    pub configured_in: String,
    pub at: Location,
}

/// What `transformerAnnotations` say about a plugin.
#[derive(Debug, Clone, Default)]
pub struct PluginMeta {
    pub configured_in: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

fn meta(c: &PluginConfig, field: &str) -> Option<String> {
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
        .with_help("exec, container and Go plugins are refused; use `apiVersion: builtin` plugins or kustomization fields"));
    }
    Ok(kind)
}

fn specs(c: &PluginConfig) -> Vec<FieldSpec> {
    c.doc
        .get("fieldSpecs")
        .and_then(Value::as_seq)
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    let s = |k: &str| f.get(k).and_then(Value::scalar_text).unwrap_or_default();
                    FieldSpec {
                        group: s("group"),
                        version: s("version"),
                        kind: s("kind"),
                        path: split_path(&s("path")),
                        create: matches!(f.get("create"), Some(Value::Bool(true))),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn string_pairs(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.scalar_text().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

/// A kustomization that holds only `fields`, for reusing the field parsers on a plugin's
/// configuration (errors still point at the kustomization).
fn as_fields(k: &Kustomization, fields: &[(&str, Value)]) -> Kustomization {
    let mut copy = k.clone();
    copy.fields = std::sync::Arc::new(
        fields
            .iter()
            .map(|(f, v)| (f.to_string(), v.clone()))
            .collect(),
    );
    copy
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
    let mut out: Vec<(Box<dyn Transformer>, PluginMeta)> = Vec::new();
    for c in configs {
        let kind = kind_of(c)?;
        let pm = PluginMeta {
            configured_in: c.configured_in.clone(),
            name: meta(c, "name"),
            namespace: meta(c, "namespace"),
        };
        let made = match direct(c, &kind)? {
            Some(made) => made,
            None => through_fields(k, loader, strict, config, c, &kind)?,
        };
        for t in made {
            out.push((t, pm.clone()));
        }
    }
    Ok(out)
}

/// The transformers made directly from their plugin document; `None` for a kind that is
/// configured through its kustomization field.
fn direct(c: &PluginConfig, kind: &str) -> Result<Option<Vec<Box<dyn Transformer>>>> {
    let text = |f: &str| {
        c.doc
            .get(f)
            .and_then(Value::scalar_text)
            .unwrap_or_default()
    };
    let mut made: Vec<Box<dyn Transformer>> = Vec::new();
    match kind {
        "NamespaceTransformer" => {
            let subjects =
                namespace::Subjects::parse(&text("setRoleBindingSubjects")).map_err(|m| {
                    Error::new(m)
                        .at(c.at.clone())
                        .with_help("use `defaultOnly`, `allServiceAccounts` or `none`")
                })?;
            made.push(Box::new(namespace::Namespace {
                namespace: meta(c, "namespace").unwrap_or_default(),
                specs: specs(c),
                unset_only: matches!(c.doc.get("unsetOnly"), Some(Value::Bool(true))),
                subjects,
            }));
        }
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            for (side, field) in [
                (affix::Side::Prefix, "prefix"),
                (affix::Side::Suffix, "suffix"),
            ] {
                if c.doc.contains_key(field) {
                    made.push(Box::new(affix::Affix {
                        side,
                        text: text(field),
                        specs: specs(c),
                    }));
                }
            }
        }
        "LabelTransformer" | "AnnotationsTransformer" => {
            let (name, field) = if kind == "LabelTransformer" {
                ("LabelTransformer", "labels")
            } else {
                ("AnnotationsTransformer", "annotations")
            };
            made.push(Box::new(labels::MapEntries {
                kind: name,
                pairs: string_pairs(c.doc.get(field)),
                specs: specs(c),
            }));
        }
        "ImageTagTransformer" => {
            let t = c.doc.get("imageTag");
            let s = |f: &str| {
                t.and_then(|t| t.get(f))
                    .and_then(Value::scalar_text)
                    .unwrap_or_default()
            };
            let spec = images::ImageSpec {
                name: s("name"),
                new_name: s("newName"),
                new_tag: s("newTag"),
                digest: s("digest"),
                tag_suffix: s("tagSuffix"),
            };
            made.push(Box::new(
                images::Images::new(spec, specs(c)).map_err(|e| e.at(c.at.clone()))?,
            ));
        }
        "ReplicaCountTransformer" => {
            let r = c.doc.get("replica");
            made.push(Box::new(replicas::Replicas {
                name: r
                    .and_then(|r| r.get("name"))
                    .and_then(Value::scalar_text)
                    .unwrap_or_default(),
                count: replicas::count_of(r.and_then(|r| r.get("count"))).map_err(|m| {
                    Error::new(m)
                        .at(c.at.clone())
                        .with_help("write the count without quotes, e.g. `count: 3`")
                })?,
                specs: specs(c),
            }));
        }
        _ => return Ok(None),
    }
    Ok(Some(made))
}

/// The patch and replacement transformers, configured as their kustomization field is
/// (`patches`, `patchesStrategicMerge`, `patchesJson6902`, `replacements`): one reading
/// of their files and checks, whichever way they are written.
fn through_fields(
    k: &Kustomization,
    loader: &Loader,
    strict: bool,
    config: &Config,
    c: &PluginConfig,
    kind: &str,
) -> Result<Vec<Box<dyn Transformer>>> {
    let get = |f: &str| c.doc.get(f).cloned().unwrap_or(Value::Null);
    let mut made: Vec<Box<dyn Transformer>> = Vec::new();
    match kind {
        "PatchTransformer" => {
            let mut entry = Map::default();
            for f in ["path", "patch", "target", "options"] {
                if c.doc.contains_key(f) {
                    entry.insert(f.to_string(), get(f));
                }
            }
            let fake = as_fields(k, &[("patches", Value::Seq(vec![Value::Map(entry)]))]);
            made.extend(super::configured(&fake, loader, strict, config)?);
        }
        "PatchStrategicMergeTransformer" => {
            let mut items: Vec<Value> = c
                .doc
                .get("paths")
                .and_then(Value::as_seq)
                .cloned()
                .unwrap_or_default();
            if let Some(p) = c.doc.get("patches").and_then(Value::scalar_text) {
                items.push(Value::Str(p));
            }
            let fake = as_fields(k, &[("patchesStrategicMerge", Value::Seq(items))]);
            made.extend(super::configured(&fake, loader, strict, config)?);
        }
        "PatchJson6902Transformer" => {
            let mut entry = Map::default();
            entry.insert("target".into(), get("target"));
            if c.doc.contains_key("path") {
                entry.insert("path".into(), get("path"));
            }
            if let Some(op) = c.doc.get("jsonOp") {
                entry.insert("patch".into(), op.clone());
            }
            let fake = as_fields(
                k,
                &[("patchesJson6902", Value::Seq(vec![Value::Map(entry)]))],
            );
            made.extend(super::configured(&fake, loader, strict, config)?);
        }
        "ReplacementTransformer" => {
            let fake = as_fields(k, &[("replacements", get("replacements"))]);
            made.extend(super::configured(&fake, loader, strict, config)?);
        }
        other => {
            return Err(Error::new(format!("`{other}` is not a built-in transformer strata knows"))
                    .at(c.at.clone())
                    .with_help("built-in transformers include PatchTransformer, NamespaceTransformer, PrefixSuffixTransformer, LabelTransformer, ImageTagTransformer, ReplacementTransformer"));
        }
    }
    Ok(made)
}
