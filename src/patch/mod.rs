//! Patches: strategic merge and JSON 6902, and how a patch finds its resources.
//!
//! A patch document is classified as Kustomize does: a list of operations is a JSON patch,
//! maps are strategic-merge patches, an empty document is no patch at all. A strategic
//! merge patch without a target applies to the one resource whose current or previous id
//! is the patch's own; with a target it applies to every selected resource and never
//! renames it (unless `allowNameChange`/`allowKindChange`).

pub mod json6902;
pub mod schema;
pub mod selector;
pub mod smp;
mod written;

use crate::error::{Error, Result, closest};
use crate::resource::{Gvk, ResId, ResMap, Resource};
use crate::yaml::{Map, Value};
use schema::{Merge, Position};

/// The content of one patch.
#[derive(Debug, Clone)]
pub enum Body {
    /// Strategic-merge patches, one per document.
    Smp(Vec<Value>),
    Json(Vec<json6902::Op>),
    /// Only whitespace or comments.
    Empty,
}

/// Classify parsed patch documents.
pub fn classify(docs: Vec<Value>) -> Result<Body> {
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    match docs.as_slice() {
        [] => Ok(Body::Empty),
        [Value::Seq(_)] => Ok(Body::Json(json6902::parse_ops(&docs[0])?)),
        _ if docs.iter().all(|d| matches!(d, Value::Map(_))) => Ok(Body::Smp(docs)),
        _ => Err(Error::new("a patch must be a strategic merge patch (maps) or a JSON patch (a list of operations)")
            .with_help("write the patch as a partial resource with apiVersion, kind and metadata.name, or as `- op: …` entries")),
    }
}

/// The id a strategic merge patch names.
pub fn patch_id(patch: &Value) -> ResId {
    let s = |p: &[&str]| patch.str_at(p).unwrap_or("").to_string();
    ResId {
        gvk: Gvk::from_api_version(&s(&["apiVersion"]), &s(&["kind"])),
        name: s(&["metadata", "name"]),
        namespace: s(&["metadata", "namespace"]),
    }
}

/// The resources whose current or any previous id is `id`.
pub fn matching_any_id(rm: &ResMap, id: &ResId) -> Vec<usize> {
    rm.items
        .iter()
        .enumerate()
        .filter(|(_, r)| r.all_ids().any(|x| x.same_object(id)))
        .map(|(i, _)| i)
        .collect()
}

/// An error for a patch whose resource does not exist, naming the closest resource.
pub fn no_target(rm: &ResMap, id: &ResId, source: &str) -> Error {
    let names: Vec<String> = rm
        .items
        .iter()
        .map(|r| format!("{}/{}", r.kind(), r.name()))
        .collect();
    let wanted = format!("{}/{}", id.gvk.kind, id.name);
    let help = match closest(&wanted, names.iter().map(String::as_str)) {
        Some(c) => format!("the closest resource is `{c}`; check the patch's apiVersion, kind, name and namespace"),
        None => "check the patch's apiVersion, kind, metadata.name and namespace against the resources of the build".to_string(),
    };
    Error::new(format!(
        "strategic merge patch {source} matches no resource: nothing is {} `{}`{}",
        id.gvk.api_version(),
        wanted,
        if id.namespace.is_empty() {
            String::new()
        } else {
            format!(" in namespace `{}`", id.namespace)
        }
    ))
    .with_help(help)
}

/// Apply a strategic merge patch to one resource, keeping its name, kind and namespace
/// unless the patch may change them.
pub fn apply_smp(
    r: &mut Resource,
    patch: &Value,
    allow_name: bool,
    allow_kind: bool,
    custom: Option<&std::sync::Arc<schema::Custom>>,
    written: &smp::Written,
) -> Result<()> {
    let (name, ns, kind) = (
        r.name().to_string(),
        r.namespace().to_string(),
        r.kind().to_string(),
    );
    if allow_name || allow_kind {
        r.store_previous_id();
    }
    let pos = Position::root_with(&r.gvk(), custom);
    let aliased = r.alias_snapshot();
    // How the target's strings were written is in its file (not for generated objects).
    let tracked = !written.texts.is_empty() || !written.strings.is_empty();
    let origin = (r.origin.configured_by.is_none() && r.source_styles && tracked)
        .then(|| (r.origin.file.clone(), r.origin.line));
    let source = origin.as_ref().map(|(f, l)| (f.as_path(), *l));
    let empties = empty_fields(&r.doc, std::mem::take(&mut r.empty_nulls), &pos);
    let overrides = std::mem::take(&mut r.style_overrides);
    let mut walk = smp::Walk::with_source(written, source, &overrides);
    let merged = smp::merge(
        Some(std::mem::take(&mut r.doc)),
        patch,
        &pos,
        &Merge::Plain,
        &mut walk,
    )?;
    let added = std::mem::take(&mut walk.added);
    let folded = std::mem::take(&mut walk.folded);
    drop(walk);
    for (path, raw) in folded {
        r.folded_raw.retain(|(p, _)| *p != path);
        r.folded_raw.push((path, raw));
    }
    r.style_overrides = overrides;
    r.style_overrides.extend(added);
    r.doc = merged.unwrap_or(Value::Map(Map::default()));
    let quoted = smp::yaml11_quoted(&r.doc, patch, &r.style_overrides);
    r.style_overrides.extend(quoted);
    // Kustomize's merge walks the whole target and drops every field whose value was empty
    // in the source (`key:`); an explicit `null` stays. Lists are walked only when they
    // merge by key, so an empty field inside any other list stays too.
    for (steps, original) in empties {
        match steps {
            Some(steps) => clear_empty(&mut r.doc, &steps),
            None => r.empty_nulls.push(original),
        }
    }
    if r.doc.as_map().is_none_or(|m| m.is_empty()) {
        return Ok(());
    }
    r.sync_aliases(aliased);
    // An annotations map the patch emptied is dropped, as Kustomize drops it.
    if let Some(Value::Map(meta)) = r.doc.get_mut("metadata")
        && matches!(meta.get("annotations"), Some(Value::Map(a)) if a.is_empty())
    {
        meta.shift_remove("annotations");
    }
    if !allow_kind && let Some(m) = r.doc.as_map_mut() {
        m.insert("kind".to_string(), Value::Str(kind));
    }
    if !allow_name {
        r.set_name(&name);
    }
    if ns.is_empty() {
        if let Some(Value::Map(meta)) = r.doc.get_mut("metadata") {
            meta.shift_remove("namespace");
        }
    } else {
        r.set_namespace(&ns);
    }
    Ok(())
}

/// The labels and annotations of a strategic merge patch as strings: each value's written
/// text (`texts`, from `yaml::parse_patch_texts_in`), `""` for a collection. Kustomize reads
/// them so for `patchesStrategicMerge` and targeted patches; a null is then the text
/// `"null"` (or `"~"`), not a deletion.
pub fn stringify_metadata(patch: &mut Value, texts: &[(Vec<crate::yaml::PathSeg>, String)]) {
    use crate::yaml::PathSeg;
    let Some(Value::Map(meta)) = patch.get_mut("metadata") else {
        return;
    };
    for field in ["labels", "annotations"] {
        let Some(Value::Map(m)) = meta.get_mut(field) else {
            continue;
        };
        for (key, v) in m.iter_mut() {
            let path = [
                PathSeg::Key("metadata".into()),
                PathSeg::Key(field.into()),
                PathSeg::Key(key.clone()),
            ];
            // A timestamp reads as a string of another text: the recorded text wins.
            let written = texts.iter().find(|(p, _)| p.as_slice() == path);
            let text = match (&*v, written) {
                (Value::Map(_) | Value::Seq(_), _) => String::new(),
                (_, Some((_, t))) => t.clone(),
                (Value::Str(_), None) => continue,
                (Value::Null, None) => "null".to_string(),
                (other, None) => other.scalar_text().unwrap_or_default(),
            };
            *v = Value::Str(text);
        }
    }
}

/// One step towards an empty field, by key in a map or by merge-key values in a list.
enum Step {
    Key(String),
    Element(Vec<(String, Option<String>)>),
}

/// For each recorded empty field: the steps that reach it through maps and lists merged by
/// key (`None` when a list on the way is not merged by key, so the merge never walks it).
fn empty_fields(
    doc: &Value,
    paths: Vec<Vec<crate::yaml::PathSeg>>,
    root: &Position,
) -> Vec<(Option<Vec<Step>>, Vec<crate::yaml::PathSeg>)> {
    use crate::yaml::PathSeg;
    paths
        .into_iter()
        .map(|path| {
            let mut steps = Vec::with_capacity(path.len());
            let (mut cur, mut pos, mut how) = (Some(doc), root.clone(), Merge::Plain);
            for seg in &path {
                match seg {
                    PathSeg::Key(k) => {
                        let (h, p) = pos.field(k);
                        cur = cur.and_then(|v| v.get(k));
                        (how, pos) = (h, p);
                        steps.push(Step::Key(k.clone()));
                    }
                    PathSeg::Index(i) => {
                        let Merge::Keyed(keys) = &how else {
                            return (None, path);
                        };
                        let Some(item) = cur.and_then(Value::as_seq).and_then(|s| s.get(*i)) else {
                            return (None, path);
                        };
                        let values = keys
                            .list()
                            .iter()
                            .map(|k| (k.to_string(), item.get(k).and_then(Value::scalar_text)))
                            .collect();
                        steps.push(Step::Element(values));
                        cur = Some(item);
                        how = Merge::Plain;
                    }
                }
            }
            (Some(steps), path)
        })
        .collect()
}

/// Remove the field `steps` lead to if it is still null.
fn clear_empty(doc: &mut Value, steps: &[Step]) {
    let Some((Step::Key(last), parents)) = steps.split_last() else {
        return;
    };
    let mut cur = doc;
    for step in parents {
        let next = match (step, cur) {
            (Step::Key(k), Value::Map(m)) => m.get_mut(k),
            (Step::Element(keys), Value::Seq(items)) => items.iter_mut().find(|item| {
                keys.iter()
                    .all(|(k, v)| item.get(k).and_then(Value::scalar_text) == *v)
            }),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    // Annotations were made text at load: an empty one is `""` by now.
    let in_annotations = matches!(parents.last(), Some(Step::Key(k)) if k == "annotations");
    if let Value::Map(m) = cur {
        let empty = match m.get(last) {
            Some(Value::Null) => true,
            Some(Value::Str(s)) => in_annotations && s.is_empty(),
            _ => false,
        };
        if empty {
            m.shift_remove(last);
        }
    }
}

/// A copy of `patch` that names `r`, so a targeted patch renames what it patches only
/// when its options allow it.
pub fn retarget(
    patch: &Value,
    r: &Resource,
    allow_name: bool,
    allow_kind: bool,
    texts: &[(Vec<crate::yaml::PathSeg>, String)],
) -> Value {
    let mut p = patch.clone();
    // Kustomize copies the patch's labels and annotations through its string-map accessors
    // (`CopyMergeMetaDataFieldsFrom`): a targeted patch's `team: null` is the string
    // `"null"`, not a deletion, and `1.10` is `"1.10"`.
    stringify_metadata(&mut p, texts);
    let root = crate::resource::ensure_map(&mut p);
    if !allow_kind {
        root.insert("apiVersion".to_string(), Value::Str(r.gvk().api_version()));
        root.insert("kind".to_string(), Value::Str(r.kind().to_string()));
    }
    let meta =
        crate::resource::ensure_map(root.entry("metadata".to_string()).or_insert(Value::Null));
    if !allow_name {
        meta.insert("name".to_string(), Value::Str(r.name().to_string()));
    }
    if r.namespace().is_empty() {
        meta.shift_remove("namespace");
    } else {
        meta.insert(
            "namespace".to_string(),
            Value::Str(r.namespace().to_string()),
        );
    }
    p
}
