//! Transformers and the one place their order is decided.
//!
//! Kustomize runs a kustomization's built-in transformers in a fixed order whatever the
//! order of fields in the file: patchesStrategicMerge, patches, namespace, namePrefix,
//! nameSuffix, labels (each `labels` entry, then commonLabels), commonAnnotations,
//! patchesJson6902, replicas, images, replacements. `configured` reads a kustomization and
//! returns the transformers it asks for, in that order: one per `patches`, `labels`,
//! `patchesJson6902`, `replicas` and `images` entry, and none for an empty field.

pub mod affix;
pub mod config;
pub mod fieldspec;
pub mod generators;
pub mod hash;
pub mod helm;
pub mod images;
pub mod labels;
pub mod name_reference;
pub mod namespace;
pub mod patches;
pub mod plugins;
pub mod replacements;
pub mod replicas;
pub mod vars;

use crate::error::{Error, Result};
use crate::load::kustomization::describe;
use crate::load::{Kustomization, Loader};
use crate::resource::ResMap;
use crate::yaml::Value;

/// One built-in transformer.
pub trait Transformer: Send + Sync {
    /// Kustomize's name for it, as `transformerAnnotations` prints it.
    fn kind(&self) -> &'static str;
    fn transform(&self, rm: &mut ResMap, warnings: &mut Vec<crate::warning::Warning>)
    -> Result<()>;
}

/// Fields that later stages will implement; until then strata refuses them rather than
/// render something different from Kustomize.
const NOT_YET: &[&str] = &["helmChartInflationGenerator"];

/// Refuse fields strata cannot render yet, naming the field and its line.
pub fn check_supported(k: &Kustomization) -> Result<()> {
    for f in NOT_YET {
        if k.has(f) {
            return Err(k
                .error(
                    &[f],
                    format!("`{f}` is not supported by this version of strata yet"),
                )
                .with_help("render this kustomization with `kubectl kustomize` for now"));
        }
    }
    Ok(())
}

/// The transformers a kustomization configures, in Kustomize's order.
pub fn configured(
    k: &Kustomization,
    loader: &Loader,
    strict: bool,
    config: &config::Config,
) -> Result<Vec<Box<dyn Transformer>>> {
    let mut out: Vec<Box<dyn Transformer>> = Vec::new();
    if let Some(mut p) = patches::strategic_merge(k, loader, strict)?
        && !p.patches.is_empty()
    {
        p.openapi = config.openapi.clone();
        out.push(Box::new(p));
    }
    if let Some(mut p) = patches::entries(k, loader, patches::Field::Patches, strict)? {
        p.openapi = config.openapi.clone();
        for one in p.per_entry() {
            out.push(Box::new(one));
        }
    }
    if let Some(ns) = k.string("namespace")?.filter(|s| !s.is_empty()) {
        out.push(Box::new(namespace::Namespace {
            namespace: ns,
            specs: config.table("namespace"),
            unset_only: false,
            subjects: namespace::Subjects::DefaultOnly,
        }));
    }
    if let Some(p) = k.string("namePrefix")?.filter(|s| !s.is_empty()) {
        out.push(Box::new(affix::Affix {
            side: affix::Side::Prefix,
            text: p,
            specs: config.table("namePrefix"),
        }));
    }
    if let Some(s) = k.string("nameSuffix")?.filter(|s| !s.is_empty()) {
        out.push(Box::new(affix::Affix {
            side: affix::Side::Suffix,
            text: s,
            specs: config.table("nameSuffix"),
        }));
    }
    // Kustomize runs each `labels` entry, then commonLabels (an instance whenever either
    // field has something, even if commonLabels itself is empty).
    let label_entries = seq(k, "labels")?;
    for (i, entry) in label_entries.iter().enumerate() {
        let entry = Value::Map(k.strict_struct(
            &["labels", &i.to_string()],
            entry,
            &["pairs", "includeSelectors", "includeTemplates", "fields"],
        )?);
        out.push(Box::new(label_entry(k, i, &entry, config)?));
    }
    let common = k.string_map(&["commonLabels"], k.get("commonLabels"))?;
    if !label_entries.is_empty() || !common.is_empty() {
        out.push(Box::new(labels::MapEntries {
            kind: "LabelTransformer",
            pairs: common,
            specs: config.table("commonLabels"),
        }));
    }
    let annotations = k.string_map(&["commonAnnotations"], k.get("commonAnnotations"))?;
    if !annotations.is_empty() {
        out.push(Box::new(labels::MapEntries {
            kind: "AnnotationsTransformer",
            pairs: annotations,
            specs: config.table("commonAnnotations"),
        }));
    }
    if let Some(p) = patches::entries(k, loader, patches::Field::Json6902, strict)? {
        for one in p.per_entry() {
            out.push(Box::new(one));
        }
    }
    out.extend(replica_entries(k, config)?);
    out.extend(image_entries(k, config)?);
    if let Some(r) = replacements(k, loader)? {
        out.push(Box::new(r));
    }
    Ok(out)
}

/// `replicas:` entries, one transformer each.
fn replica_entries(
    k: &Kustomization,
    config: &config::Config,
) -> Result<Vec<Box<dyn Transformer>>> {
    let mut out: Vec<Box<dyn Transformer>> = Vec::new();
    for (i, entry) in seq(k, "replicas")?.iter().enumerate() {
        let entry = &Value::Map(k.strict_struct(
            &["replicas", &i.to_string()],
            entry,
            &["name", "count"],
        )?);
        let at = |f: &str| vec!["replicas".to_string(), i.to_string(), f.to_string()];
        let name = entry.get("name").and_then(Value::as_str).ok_or_else(|| {
            located(k, &at("name"), "a `replicas` entry needs a `name`")
                .with_help("write `- name: my-deployment` and `count: 3`")
        })?;
        let count = replicas::count_of(entry.get("count")).map_err(|m| {
            located(k, &at("count"), m).with_help("write the count without quotes, e.g. `count: 3`")
        })?;
        out.push(Box::new(replicas::Replicas {
            name: name.to_string(),
            count,
            specs: config.table("replicas"),
        }));
    }
    Ok(out)
}

/// `images:` (and the old `imageTags:`) entries, one transformer each.
fn image_entries(k: &Kustomization, config: &config::Config) -> Result<Vec<Box<dyn Transformer>>> {
    let mut out: Vec<Box<dyn Transformer>> = Vec::new();
    let mut image_entries = seq(k, "images")?;
    image_entries.extend(seq(k, "imageTags")?);
    for (i, entry) in image_entries.iter().enumerate() {
        let entry = &Value::Map(k.strict_struct(
            &["images", &i.to_string()],
            entry,
            &["name", "newName", "newTag", "digest", "tagSuffix"],
        )?);
        let field = |f: &str| -> Result<String> {
            match entry.get(f) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::Str(s)) => Ok(s.clone()),
                Some(other) => Err(located(
                    k,
                    &["images".to_string(), i.to_string(), f.to_string()],
                    format!("image `{f}` must be a string, found {}", describe(other)),
                )
                .with_help(format!(
                    "quote the value: `{f}: \"{}\"`",
                    other.scalar_text().unwrap_or_default()
                ))),
            }
        };
        let spec = images::ImageSpec {
            name: field("name")?,
            new_name: field("newName")?,
            new_tag: field("newTag")?,
            digest: field("digest")?,
            tag_suffix: field("tagSuffix")?,
        };
        out.push(Box::new(
            images::Images::new(spec, config.table("images")).map_err(|e| {
                let mut l = k.location(&["images", &i.to_string(), "name"]);
                l.col = l.col.max(1);
                e.at(l)
            })?,
        ));
    }
    Ok(out)
}

/// `replacements:` entries, inline or from `path:` files (one replacement or a list).
fn replacements(k: &Kustomization, loader: &Loader) -> Result<Option<replacements::Replacements>> {
    let entries = seq(k, "replacements")?;
    if entries.is_empty() {
        return Ok(None);
    }
    let mut list = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let idx = i.to_string();
        let at = k.location(&["replacements", &idx]);
        match entry.get("path").and_then(Value::as_str) {
            Some(path) => {
                let Some(file) = loader.file(&k.dir, path).map_err(|e| e.at(at.clone()))? else {
                    return Err(
                        Error::new(format!("replacement file `{path}` does not exist"))
                            .with_kind(crate::error::ErrorKind::NotFound)
                            .at(at)
                            .with_help("paths are relative to the kustomization's directory"),
                    );
                };
                let docs = loader.documents(&file, k.ctx.as_deref())?;
                for (doc, line, _) in &docs.docs {
                    let here = crate::error::Location {
                        file: file.clone(),
                        line: *line,
                        col: 1,
                        offset: 0,
                    };
                    match doc {
                        Value::Seq(items) => {
                            for item in items {
                                list.push(replacements::parse(item, here.clone())?);
                            }
                        }
                        other => list.push(replacements::parse(other, here)?),
                    }
                }
            }
            None => list.push(replacements::parse(entry, at)?),
        }
    }
    Ok(Some(replacements::Replacements { list }))
}

fn located(k: &Kustomization, path: &[String], msg: impl Into<String>) -> Error {
    let refs: Vec<&str> = path.iter().map(String::as_str).collect();
    k.error(&refs, msg)
}

fn seq(k: &Kustomization, field: &str) -> Result<Vec<Value>> {
    match k.get(field) {
        None => Ok(Vec::new()),
        Some(Value::Seq(items)) => Ok(items.clone()),
        Some(other) => Err(k
            .error(
                &[field],
                format!("`{field}` must be a list, found {}", describe(other)),
            )
            .with_help(format!("write `{field}:` followed by `- ` entries"))),
    }
}

fn label_entry(
    k: &Kustomization,
    i: usize,
    entry: &Value,
    config: &config::Config,
) -> Result<labels::MapEntries> {
    let idx = i.to_string();
    let flag = |f: &str| matches!(entry.get(f), Some(Value::Bool(true)));
    let pairs = k.string_map(&["labels", &idx, "pairs"], entry.get("pairs"))?;
    let mut specs = if flag("includeSelectors") {
        config.table("commonLabels")
    } else {
        let mut s = vec![fieldspec::FieldSpec::new(
            ("", "", ""),
            "metadata/labels",
            true,
        )];
        if flag("includeTemplates") {
            s = labels::merge_specs(s, config.table("templateLabels"));
        }
        s
    };
    if let Some(Value::Seq(fields)) = entry.get("fields") {
        let custom = fields
            .iter()
            .map(|f| {
                let s = |n: &str| f.get(n).and_then(Value::as_str).unwrap_or("");
                fieldspec::FieldSpec::new(
                    (s("group"), s("version"), s("kind")),
                    s("path"),
                    matches!(f.get("create"), Some(Value::Bool(true))),
                )
            })
            .collect();
        specs = labels::merge_specs(custom, specs);
    }
    Ok(labels::MapEntries {
        kind: "LabelTransformer",
        pairs,
        specs,
    })
}
