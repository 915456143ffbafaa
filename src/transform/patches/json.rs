//! A JSON 6902 patch on one object, as Kustomize applies it (annotations typed while it runs,
//! strings after it, the JSON round trip on numbers), and where each operation is written.

use super::Patch;
use crate::error::{Error, Location, Result};
use crate::patch::json6902;
use crate::yaml::{self, Value};

/// A JSON patch on a resource, as Kustomize applies it: the resource always has
/// `metadata.annotations` while the patch runs (Kustomize's own annotations are there), the
/// result goes through its JSON round trip, and annotation values come back as strings.
pub(super) fn apply_json(
    r: &mut crate::resource::Resource,
    ops: &[json6902::Op],
) -> Result<(), Box<(usize, Error)>> {
    // Kustomize reads the object as JSON first: a misfit value fails here.
    r.check_misfits().map_err(|e| Box::new((ops.len(), e)))?;
    // Annotations are typed nodes until the end of a Kustomize build, so the patch (and the
    // JSON round trip) sees `0x1F` as the number 31: put the typed values back first.
    let typed = std::mem::take(&mut r.typed_annotations);
    // The JSON round trip bakes the printed form of folded scalars in, and makes every node
    // new (no place shares a value with another any more).
    r.folded_raw.clear();
    r.aliases.clear();
    r.source_styles = false;
    r.style_overrides.clear();
    // ... and writes every null out as `null`: no field is empty any more.
    r.empty_nulls.clear();
    let doc = &mut r.doc;
    if let Some(Value::Map(meta)) = doc.get_mut("metadata") {
        match meta.get_mut("annotations") {
            Some(Value::Map(annotations)) => {
                for (key, text, value) in typed {
                    if let Some(v) = annotations.get_mut(&key)
                        && v.as_str() == Some(text.as_str())
                    {
                        *v = value;
                    }
                }
            }
            Some(_) => {}
            None => {
                meta.insert("annotations".into(), Value::Map(yaml::Map::default()));
            }
        }
    }
    let result = json6902::apply(doc, ops);
    if let Some(Value::Map(meta)) = doc.get_mut("metadata") {
        // Kustomize reads annotations back as a string map: an empty one, or one the patch
        // made something other than a map, is gone; a list is read as key, value pairs.
        if let Some(Value::Seq(items)) = meta.get("annotations") {
            let pairs = annotation_pairs(items).map_err(|e| Box::new((ops.len(), e)))?;
            meta.insert("annotations".into(), Value::Map(pairs));
        }
        match meta.get("annotations") {
            Some(Value::Map(a)) if !a.is_empty() => {}
            Some(_) => {
                meta.shift_remove("annotations");
            }
            None => {}
        }
        if let Some(Value::Map(annotations)) = meta.get_mut("annotations") {
            for value in annotations.values_mut() {
                let text = match &*value {
                    Value::Str(_) => continue,
                    Value::Null => "null".to_string(),
                    Value::Seq(_) | Value::Map(_) => String::new(),
                    scalar => scalar.scalar_text().unwrap_or_default(),
                };
                *value = Value::Str(text);
            }
        }
    }
    result?;
    // Kustomize needs a name after the patch: a string, or a number or boolean it prints.
    let name = doc.get("metadata").and_then(|m| m.get("name"));
    if matches!(
        name,
        None | Some(Value::Null | Value::Map(_) | Value::Seq(_))
    ) || name.and_then(Value::as_str) == Some("")
    {
        let e = Error::new("the patch leaves the resource without a `metadata.name`").with_help(
            "a JSON patch may change `/metadata/name` to another name, not remove or empty it",
        );
        return Err(Box::new((ops.len(), e)));
    }
    json_round_trip(doc);
    Ok(())
}

/// Annotations a JSON patch made a list, as kyaml reads a sequence node as a map: items in
/// key, value pairs; a pair whose key is a collection is skipped.
fn annotation_pairs(items: &[Value]) -> Result<yaml::Map> {
    if items.len() % 2 == 1 {
        return Err(Error::new(format!(
            "the patch makes `metadata.annotations` a list of {} items",
            items.len()
        ))
        .with_help("annotations are a map of strings: `/metadata/annotations/<key>` adds one"));
    }
    let mut out = yaml::Map::default();
    for pair in items.chunks(2) {
        let value = match &pair[1] {
            Value::Str(s) => s.clone(),
            Value::Null => "null".to_string(),
            Value::Map(_) | Value::Seq(_) => String::new(),
            scalar => scalar.scalar_text().unwrap_or_default(),
        };
        match &pair[0] {
            Value::Str(k) => {
                out.insert(k.clone(), Value::Str(value));
            }
            Value::Map(_) | Value::Seq(_) => {}
            other => {
                return Err(Error::new(format!(
                    "the patch makes `metadata.annotations` a list with the key `{}`, not a string",
                    other.scalar_text().unwrap_or_default()
                ))
                .with_help(
                    "annotations are a map of strings: `/metadata/annotations/<key>` adds one",
                ));
            }
        }
    }
    Ok(out)
}

/// Numbers after Kustomize's JSON round trip: integers beyond 2^53 come back as the
/// nearest float64 (`9007199254740993` is `9007199254740992`).
#[allow(
    clippy::cast_precision_loss,
    reason = "the loss is the point: Go's JSON decoding makes these numbers float64"
)]
pub(super) fn json_round_trip(v: &mut Value) {
    const EXACT: u64 = 1 << 53;
    match v {
        Value::Int(i) if i.unsigned_abs() > EXACT => *v = Value::Float(*i as f64),
        Value::UInt(u) if *u > EXACT => *v = Value::Float(*u as f64),
        Value::Seq(items) => items.iter_mut().for_each(json_round_trip),
        Value::Map(m) => m.values_mut().for_each(json_round_trip),
        _ => {}
    }
}

/// Where operation `op` of a JSON patch file is written.
pub(super) fn op_location(p: &Patch, op: usize) -> Option<Location> {
    let file = p.file.as_ref()?;
    let text = crate::fs::read_text(file).ok()?;
    let (line, col, offset) = yaml::locate(&text, 0, &[&op.to_string()])?;
    Some(Location {
        file: file.clone(),
        line,
        col,
        offset,
    })
}
