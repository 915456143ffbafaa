//! What a build does once, at the top: fix name references, drop local-config objects,
//! add build-metadata annotations and put the resources in output order.
//!
//! The legacy order is Kustomize's: a kind rank (Namespace first … webhooks last, or the
//! kustomization's `legacySortOptions`), then group_version_kind, then namespace and name.
//! `fifo` keeps the input order.

use crate::error::{Error, Result};
use crate::resource::{ResMap, Resource};
use crate::transform::config::Config;
use crate::transform::vars::{self, Var};
use crate::transform::{hash, name_reference};
use crate::yaml::{Map, Value};
use std::collections::HashMap;

/// The `--reorder` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reorder {
    /// Not given: the kustomization's `sortOptions`, else legacy.
    #[default]
    Unspecified,
    Legacy,
    None,
}

const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";

pub fn finish(
    mut rm: ResMap,
    vars: &[Var],
    config: &Config,
    build_metadata: &[String],
    sort_options: Option<&Value>,
    reorder: Reorder,
    warnings: &mut Vec<crate::warning::Warning>,
) -> Result<Vec<Resource>> {
    for r in &mut rm.items {
        r.check_misfits()?;
    }
    hash::add_suffixes(&mut rm);
    name_reference::fix(&mut rm, config.refs())?;
    let unused = vars::resolve(&mut rm, vars, &config.table("varReference"))?;
    if !unused.is_empty() {
        warnings.push(
            crate::warning::Warning::new(
                format!(
                    "warning: vars defined but never used: {}",
                    unused.join(", ")
                ),
                format!(
                    "vars defined but never used: {}",
                    unused
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_help("remove them, or reference them as `$(NAME)`")
            .ours(),
        );
    }
    // Kustomize keeps a local-config object only when the annotation is exactly `false`.
    // Two objects with one id (a patch renamed one onto the other) fail here, once hash
    // suffixes are added (an included layer's ids are checked when it joins its parent).
    rm.drop_local(
        |r| match r.meta_map("annotations").and_then(|a| a.get(LOCAL_CONFIG)) {
            None => false,
            Some(v) => v.as_str() != Some("false"),
        },
    )?;
    // What kubectl cannot print (DEL, C1 controls, U+FFFE/FFFF) fails its build.
    for r in &rm.items {
        let mut path = Vec::new();
        if let Some(c) = crate::yaml::find_unprintable(&r.doc, &mut path) {
            return Err(crate::error::Error::new(format!(
                "{} holds the control character U+{:04X} at `{}`, which kubectl cannot print",
                r.id(),
                c as u32,
                path.join(".")
            ))
            .at(crate::error::Location {
                file: r.origin.file.clone(),
                line: r.origin.line.max(1),
                col: 1,
                offset: 0,
            })
            .with_help("remove the character, or encode the value (e.g. base64 in binaryData)"));
        }
    }
    let has = |m: &str| build_metadata.iter().any(|x| x == m);
    for r in &mut rm.items {
        strings_annotations(r);
        annotate(
            r,
            has("originAnnotations"),
            has("transformerAnnotations"),
            has("managedByLabel"),
        );
    }
    match order(sort_options, reorder)? {
        None => Ok(rm.items),
        Some((first, last)) => {
            // The sort rebuilds Kustomize's map: a local-config object left beside one with
            // its id (see `ResMap::drop_local`) fails here.
            rm.check_unique()?;
            let mut items = rm.items;
            legacy_sort(&mut items, &first, &last);
            Ok(items)
        }
    }
}

type Ranks = (Vec<String>, Vec<String>);

/// `None` for input order, else the orderFirst/orderLast kind lists of the legacy sort.
fn order(sort_options: Option<&Value>, reorder: Reorder) -> Result<Option<Ranks>> {
    let defaults = || {
        (
            ORDER_FIRST.iter().map(|s| s.to_string()).collect(),
            ORDER_LAST.iter().map(|s| s.to_string()).collect(),
        )
    };
    let Some(opts) = sort_options.filter(|v| !v.is_null()) else {
        return Ok(match reorder {
            Reorder::None => None,
            _ => Some(defaults()),
        });
    };
    match opts.get("order").and_then(Value::as_str) {
        Some("fifo") => Ok(None),
        Some("legacy") => {
            let Some(legacy) = opts.get("legacySortOptions").filter(|v| !v.is_null()) else {
                return Ok(Some(defaults()));
            };
            let list = |f: &str| -> Vec<String> {
                legacy
                    .get(f)
                    .and_then(Value::as_seq)
                    .map(|s| s.iter().filter_map(Value::scalar_text).collect())
                    .unwrap_or_default()
            };
            Ok(Some((list("orderFirst"), list("orderLast"))))
        }
        other => Err(Error::new(format!(
            "sortOptions.order must be `legacy` or `fifo`, found `{}`",
            other.unwrap_or("")
        ))
        .with_help("set `sortOptions: {order: legacy}` or `{order: fifo}`")),
    }
}

fn legacy_sort(items: &mut Vec<Resource>, first: &[String], last: &[String]) {
    // Kinds listed first rank below 0 in their order, those listed last above it.
    let at = |i: usize| i64::try_from(i).unwrap_or(i64::MAX);
    let mut rank: HashMap<&str, i64> = HashMap::new();
    for (i, k) in first.iter().enumerate() {
        rank.insert(k, at(i) - at(first.len()));
    }
    for (i, k) in last.iter().enumerate() {
        rank.insert(k, 1 + at(i));
    }
    let mut keyed: Vec<(i64, String, String, usize)> = items
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let id = r.id();
            (
                rank.get(id.gvk.kind.as_str()).copied().unwrap_or(0),
                id.gvk.sort_string(),
                id.legacy_sort_string(),
                i,
            )
        })
        .collect();
    keyed.sort();
    // Move the resources into their new places (no copies).
    let mut slots: Vec<Option<Resource>> = std::mem::take(items).into_iter().map(Some).collect();
    *items = keyed
        .into_iter()
        .filter_map(|(_, _, _, i)| slots[i].take())
        .collect();
}

/// Kustomize ends a build by setting every object's annotations again as strings (it
/// removes its internal ones): a value a transformer made a number or a boolean is its text
/// (a replacement's `2` is `"2"`), a collection `""`.
fn strings_annotations(r: &mut Resource) {
    let Some(Value::Map(annotations)) = r
        .doc
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    else {
        return;
    };
    for value in annotations.values_mut() {
        let text = match &*value {
            Value::Str(_) => continue,
            Value::Map(_) | Value::Seq(_) => String::new(),
            Value::Null => "null".to_string(),
            scalar => scalar.scalar_text().unwrap_or_default(),
        };
        *value = Value::Str(text);
    }
}

fn annotate(r: &mut Resource, origin: bool, transformations: bool, managed_by: bool) {
    if origin {
        let text = match &r.origin.configured_by {
            None => format!("path: {}\n", r.origin.display_path),
            Some((configured_in, kind, name)) => {
                let mut t = format!(
                    "configuredIn: {configured_in}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}\n"
                );
                if let Some(n) = name {
                    t.push_str(&format!("  name: {n}\n"));
                }
                t
            }
        };
        set_meta_entry(r, "annotations", "config.kubernetes.io/origin", text);
    }
    if transformations && !r.transformations.is_empty() {
        let mut text = String::new();
        for t in &r.transformations {
            text.push_str(&format!(
                "- configuredIn: {}\n  configuredBy:\n    apiVersion: builtin\n    kind: {}\n",
                t.configured_in, t.kind
            ));
            if let Some(n) = &t.name {
                text.push_str(&format!("    name: {n}\n"));
            }
            if let Some(ns) = &t.namespace {
                text.push_str(&format!("    namespace: {ns}\n"));
            }
        }
        set_meta_entry(
            r,
            "annotations",
            "alpha.config.kubernetes.io/transformations",
            text,
        );
    }
    if managed_by {
        set_meta_entry(
            r,
            "labels",
            "app.kubernetes.io/managed-by",
            // kubectl's embedded Kustomize has no module version: it writes `(devel)`.
            "kustomize-(devel)".to_string(),
        );
    }
}

fn set_meta_entry(r: &mut Resource, field: &str, key: &str, value: String) {
    let meta = r.metadata_mut();
    let entry = meta.entry(field.to_string()).or_insert(Value::Null);
    if !matches!(entry, Value::Map(_)) {
        *entry = Value::Map(Map::default());
    }
    if let Value::Map(m) = entry {
        m.insert(key.to_string(), Value::Str(value));
    }
}
