//! The built-in transformers: the one table that says which kustomization fields and which
//! plugin kinds configure each, and in what order a kustomization's fields run.
//!
//! Kustomize runs a kustomization's built-in transformers in a fixed order whatever the
//! order of fields in the file: patchesStrategicMerge, patches, namespace, namePrefix,
//! nameSuffix, labels (each `labels` entry, then commonLabels), commonAnnotations,
//! patchesJson6902, replicas, images, replacements. `BUILT_INS` lists them in that order.
//! Each reads its configuration through the same reader whether a kustomization field or a
//! `transformers:` plugin document (`apiVersion: builtin`) wrote it: the two differ only in
//! how strictly their types are read (`load::field_types::Dialect`, checked before they get
//! here) and where the field specs come from (the built-in tables, or the plugin's
//! `fieldSpecs`).

use super::config::Config;
use super::fieldspec::{FieldSpec, split_path};
use super::plugins::PluginConfig;
use super::{Transformer, affix, images, labels, namespace, patches, replacements, replicas};
use crate::error::{Error, Result};
use crate::load::{Kustomization, Loader};
use crate::yaml::{Map, Value};

/// The transformers one configuration makes.
pub type Made = Vec<Box<dyn Transformer>>;

/// What a built-in's readers see: the layer's kustomization (its directory, for the files
/// a patch names, and its locations, for errors), the loader and the layer's field specs.
pub struct Layer<'a> {
    pub k: &'a Kustomization,
    pub loader: &'a Loader,
    /// `--strict`: a patch target that matches nothing is an error.
    pub strict: bool,
    pub config: &'a Config,
}

/// One built-in transformer.
pub struct BuiltIn {
    /// The kustomization fields that configure it, in the order they run.
    pub fields: &'static [&'static str],
    /// The plugin kinds (`transformers:` entries) that configure it.
    pub plugins: &'static [&'static str],
    /// The transformers a kustomization's fields ask for (none when the fields are empty).
    pub from_fields: fn(&Layer) -> Result<Made>,
    /// The transformers a plugin configuration of one of `plugins` makes.
    pub from_plugin: fn(&PluginConfig, &str, &Layer) -> Result<Made>,
}

/// The built-ins in the order Kustomize runs a kustomization's fields.
pub static BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        fields: &["patchesStrategicMerge"],
        plugins: &["PatchStrategicMergeTransformer"],
        from_fields: strategic_merge_fields,
        from_plugin: strategic_merge_plugin,
    },
    BuiltIn {
        fields: &["patches"],
        plugins: &["PatchTransformer"],
        from_fields: patches_fields,
        from_plugin: patches_plugin,
    },
    BuiltIn {
        fields: &["namespace"],
        plugins: &["NamespaceTransformer"],
        from_fields: namespace_fields,
        from_plugin: namespace_plugin,
    },
    BuiltIn {
        fields: &["namePrefix", "nameSuffix"],
        plugins: &[
            "PrefixSuffixTransformer",
            "PrefixTransformer",
            "SuffixTransformer",
        ],
        from_fields: affix_fields,
        from_plugin: affix_plugin,
    },
    BuiltIn {
        fields: &["labels", "commonLabels"],
        plugins: &["LabelTransformer"],
        from_fields: labels_fields,
        from_plugin: map_entries_plugin,
    },
    BuiltIn {
        fields: &["commonAnnotations"],
        plugins: &["AnnotationsTransformer"],
        from_fields: annotations_fields,
        from_plugin: map_entries_plugin,
    },
    BuiltIn {
        fields: &["patchesJson6902"],
        plugins: &["PatchJson6902Transformer"],
        from_fields: json6902_fields,
        from_plugin: json6902_plugin,
    },
    BuiltIn {
        fields: &["replicas"],
        plugins: &["ReplicaCountTransformer"],
        from_fields: replicas_fields,
        from_plugin: replicas_plugin,
    },
    BuiltIn {
        fields: &["images", "imageTags"],
        plugins: &["ImageTagTransformer"],
        from_fields: images_fields,
        from_plugin: images_plugin,
    },
    BuiltIn {
        fields: &["replacements"],
        plugins: &["ReplacementTransformer"],
        from_fields: replacements_fields,
        from_plugin: replacements_plugin,
    },
];

/// The built-in a plugin kind configures.
pub fn by_plugin(kind: &str) -> Option<&'static BuiltIn> {
    BUILT_INS.iter().find(|b| b.plugins.contains(&kind))
}

fn strategic_merge_fields(l: &Layer) -> Result<Made> {
    let mut out: Made = Vec::new();
    if let Some(mut p) = patches::strategic_merge(l.k, l.loader, l.strict)?
        && !p.patches.is_empty()
    {
        p.openapi = l.config.openapi.clone();
        out.push(Box::new(p));
    }
    Ok(out)
}

fn patches_fields(l: &Layer) -> Result<Made> {
    let mut out: Made = Vec::new();
    if let Some(mut p) = patches::entries(l.k, l.loader, patches::Field::Patches, l.strict)? {
        p.openapi = l.config.openapi.clone();
        for one in p.per_entry() {
            out.push(Box::new(one));
        }
    }
    Ok(out)
}

fn json6902_fields(l: &Layer) -> Result<Made> {
    let mut out: Made = Vec::new();
    if let Some(p) = patches::entries(l.k, l.loader, patches::Field::Json6902, l.strict)? {
        for one in p.per_entry() {
            out.push(Box::new(one));
        }
    }
    Ok(out)
}

fn namespace_fields(l: &Layer) -> Result<Made> {
    Ok(match l.k.string("namespace")?.filter(|s| !s.is_empty()) {
        Some(ns) => vec![Box::new(namespace::Namespace {
            namespace: ns,
            specs: l.config.table("namespace"),
            unset_only: false,
            subjects: namespace::Subjects::DefaultOnly,
        })],
        None => Vec::new(),
    })
}

fn affix_fields(l: &Layer) -> Result<Made> {
    let mut out: Made = Vec::new();
    for (side, field) in [
        (affix::Side::Prefix, "namePrefix"),
        (affix::Side::Suffix, "nameSuffix"),
    ] {
        if let Some(text) = l.k.string(field)?.filter(|s| !s.is_empty()) {
            out.push(Box::new(affix::Affix {
                side,
                text,
                specs: l.config.table(field),
            }));
        }
    }
    Ok(out)
}

/// Each `labels` entry, then commonLabels (an instance whenever either field has
/// something, even if commonLabels itself is empty), as Kustomize runs them.
fn labels_fields(l: &Layer) -> Result<Made> {
    let mut out: Made = Vec::new();
    let entries = seq(l.k, "labels");
    for entry in &entries {
        out.push(Box::new(label_entry(entry, l.config)));
    }
    let common = labels::pairs(l.k.get("commonLabels"));
    if !entries.is_empty() || !common.is_empty() {
        out.push(Box::new(labels::MapEntries {
            kind: "LabelTransformer",
            pairs: common,
            specs: l.config.table("commonLabels"),
        }));
    }
    Ok(out)
}

fn annotations_fields(l: &Layer) -> Result<Made> {
    let pairs = labels::pairs(l.k.get("commonAnnotations"));
    Ok(if pairs.is_empty() {
        Vec::new()
    } else {
        vec![Box::new(labels::MapEntries {
            kind: "AnnotationsTransformer",
            pairs,
            specs: l.config.table("commonAnnotations"),
        })]
    })
}

/// One `labels:` entry: its pairs reach `metadata.labels`, plus templates with
/// `includeTemplates`, plus selectors with `includeSelectors`, plus its own `fields`.
fn label_entry(entry: &Value, config: &Config) -> labels::MapEntries {
    let flag = |f: &str| matches!(entry.get(f), Some(Value::Bool(true)));
    let mut specs = if flag("includeSelectors") {
        config.table("commonLabels")
    } else {
        let mut s = vec![FieldSpec::new(("", "", ""), "metadata/labels", true)];
        if flag("includeTemplates") {
            s = labels::merge_specs(s, config.table("templateLabels"));
        }
        s
    };
    if let Some(fields) = entry.get("fields") {
        specs = labels::merge_specs(field_specs(Some(fields)), specs);
    }
    labels::MapEntries {
        kind: "LabelTransformer",
        pairs: labels::pairs(entry.get("pairs")),
        specs,
    }
}

fn replicas_fields(l: &Layer) -> Result<Made> {
    let mut out: Made = Vec::new();
    for (i, entry) in seq(l.k, "replicas").iter().enumerate() {
        let made = replicas::from_entry(Some(entry), l.config.table("replicas")).map_err(|m| {
            let at = l.k.location(&["replicas", &i.to_string(), m.field]);
            m.error().at(at)
        })?;
        out.push(Box::new(made));
    }
    Ok(out)
}

/// `images:` (and the old `imageTags:`) entries, one transformer each.
fn images_fields(l: &Layer) -> Result<Made> {
    let mut out: Made = Vec::new();
    let mut entries = seq(l.k, "images");
    entries.extend(seq(l.k, "imageTags"));
    for (i, entry) in entries.iter().enumerate() {
        let spec = images::ImageSpec::from_entry(Some(entry));
        out.push(Box::new(
            images::Images::new(spec, l.config.table("images")).map_err(|e| {
                let mut at = l.k.location(&["images", &i.to_string(), "name"]);
                at.col = at.col.max(1);
                e.at(at)
            })?,
        ));
    }
    Ok(out)
}

fn replacements_fields(l: &Layer) -> Result<Made> {
    Ok(match replacements::from_kustomization(l.k, l.loader)? {
        Some(r) => vec![Box::new(r)],
        None => Vec::new(),
    })
}

/// The entries of a field that holds a list (its type was checked when the kustomization
/// was read).
fn seq(k: &Kustomization, field: &str) -> Vec<Value> {
    k.get(field)
        .and_then(Value::as_seq)
        .cloned()
        .unwrap_or_default()
}

/// A plugin's `fieldSpecs` (or a `labels:` entry's `fields`).
fn field_specs(v: Option<&Value>) -> Vec<FieldSpec> {
    v.and_then(Value::as_seq)
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

fn text(c: &PluginConfig, field: &str) -> String {
    c.doc
        .get(field)
        .and_then(Value::scalar_text)
        .unwrap_or_default()
}

fn namespace_plugin(c: &PluginConfig, _kind: &str, _l: &Layer) -> Result<Made> {
    let subjects = namespace::Subjects::parse(&text(c, "setRoleBindingSubjects")).map_err(|m| {
        Error::new(m)
            .at(c.locate(&["setRoleBindingSubjects"]))
            .with_help("use `defaultOnly`, `allServiceAccounts` or `none`")
    })?;
    Ok(vec![Box::new(namespace::Namespace {
        namespace: super::plugins::meta(c, "namespace").unwrap_or_default(),
        specs: field_specs(c.doc.get("fieldSpecs")),
        unset_only: matches!(c.doc.get("unsetOnly"), Some(Value::Bool(true))),
        subjects,
    })])
}

fn affix_plugin(c: &PluginConfig, _kind: &str, _l: &Layer) -> Result<Made> {
    let mut out: Made = Vec::new();
    for (side, field) in [
        (affix::Side::Prefix, "prefix"),
        (affix::Side::Suffix, "suffix"),
    ] {
        if c.doc.contains_key(field) {
            out.push(Box::new(affix::Affix {
                side,
                text: text(c, field),
                specs: field_specs(c.doc.get("fieldSpecs")),
            }));
        }
    }
    Ok(out)
}

/// LabelTransformer (`labels:`) and AnnotationsTransformer (`annotations:`).
fn map_entries_plugin(c: &PluginConfig, kind: &str, _l: &Layer) -> Result<Made> {
    let (kind, field) = if kind == "LabelTransformer" {
        ("LabelTransformer", "labels")
    } else {
        ("AnnotationsTransformer", "annotations")
    };
    Ok(vec![Box::new(labels::MapEntries {
        kind,
        pairs: labels::pairs(c.doc.get(field)),
        specs: field_specs(c.doc.get("fieldSpecs")),
    })])
}

fn images_plugin(c: &PluginConfig, _kind: &str, _l: &Layer) -> Result<Made> {
    let spec = images::ImageSpec::from_entry(c.doc.get("imageTag"));
    let made = images::Images::new(spec, field_specs(c.doc.get("fieldSpecs")))
        .map_err(|e| e.at(c.locate(&["imageTag", "name"])))?;
    Ok(vec![Box::new(made)])
}

fn replicas_plugin(c: &PluginConfig, _kind: &str, _l: &Layer) -> Result<Made> {
    let made = replicas::from_entry(c.doc.get("replica"), field_specs(c.doc.get("fieldSpecs")))
        .map_err(|m| {
            let field = m.field;
            m.error()
                .context(format!("`replica.{field}`"))
                .at(c.at.clone())
        })?;
    Ok(vec![Box::new(made)])
}

/// A kustomization that holds only `fields`, for reading a patch or replacement plugin's
/// configuration as its kustomization field is read (its files and checks; errors point
/// at the kustomization that names the plugin).
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

/// `built` run on `l`'s kustomization holding only `fields` (from the plugin `c`). An error
/// the readers place in the kustomization (where these fields are not written) is placed at
/// the first of the plugin's fields `at` that it writes instead.
fn through(
    c: &PluginConfig,
    at: &[&str],
    l: &Layer,
    fields: &[(&str, Value)],
    built: fn(&Layer) -> Result<Made>,
) -> Result<Made> {
    let fake = as_fields(l.k, fields);
    built(&Layer { k: &fake, ..*l }).map_err(|e| {
        if e.location.as_ref().is_some_and(|loc| loc.file == l.k.file) {
            let field = at
                .iter()
                .find(|f| c.doc.contains_key(**f))
                .unwrap_or(&at[0]);
            e.at(c.locate(&[field]))
        } else {
            e
        }
    })
}

fn get(c: &PluginConfig, f: &str) -> Value {
    c.doc.get(f).cloned().unwrap_or(Value::Null)
}

fn patches_plugin(c: &PluginConfig, _kind: &str, l: &Layer) -> Result<Made> {
    let mut entry = Map::default();
    for f in ["path", "patch", "target", "options"] {
        if c.doc.contains_key(f) {
            entry.insert(f.to_string(), get(c, f));
        }
    }
    through(
        c,
        &["patch", "path"],
        l,
        &[("patches", Value::Seq(vec![Value::Map(entry)]))],
        patches_fields,
    )
}

fn strategic_merge_plugin(c: &PluginConfig, _kind: &str, l: &Layer) -> Result<Made> {
    let mut items: Vec<Value> = c
        .doc
        .get("paths")
        .and_then(Value::as_seq)
        .cloned()
        .unwrap_or_default();
    if let Some(p) = c.doc.get("patches").and_then(Value::scalar_text) {
        items.push(Value::Str(p));
    }
    through(
        c,
        &["paths", "patches"],
        l,
        &[("patchesStrategicMerge", Value::Seq(items))],
        strategic_merge_fields,
    )
}

fn json6902_plugin(c: &PluginConfig, _kind: &str, l: &Layer) -> Result<Made> {
    let mut entry = Map::default();
    entry.insert("target".into(), get(c, "target"));
    if c.doc.contains_key("path") {
        entry.insert("path".into(), get(c, "path"));
    }
    if let Some(op) = c.doc.get("jsonOp") {
        entry.insert("patch".into(), op.clone());
    }
    through(
        c,
        &["jsonOp", "path"],
        l,
        &[("patchesJson6902", Value::Seq(vec![Value::Map(entry)]))],
        json6902_fields,
    )
}

fn replacements_plugin(c: &PluginConfig, _kind: &str, l: &Layer) -> Result<Made> {
    through(
        c,
        &["replacements"],
        l,
        &[("replacements", get(c, "replacements"))],
        replacements_fields,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plugin_kind_has_its_config_type_and_every_field_is_known() {
        for b in BUILT_INS {
            for kind in b.plugins {
                assert!(
                    crate::load::field_types::plugin(kind).is_some(),
                    "{kind} has no configuration type in load::field_types"
                );
                assert!(std::ptr::eq(by_plugin(kind).expect("found"), b), "{kind}");
            }
            for f in b.fields {
                assert!(
                    crate::load::kustomization::FIELDS.contains(f),
                    "`{f}` is not a kustomization field"
                );
            }
        }
        assert!(by_plugin("HelmChartInflationGenerator").is_none());
    }
}
