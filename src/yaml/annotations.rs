//! Annotations as Kustomize keeps them: the written text of each value.
//!
//! Kustomize reads `metadata.annotations` through a string map of the YAML nodes' own text,
//! so an annotation is what was written (`2001-12-14`, `1.50`, `0x1F`, `true`), not what it
//! reads as, and a collection is `""`. The reader records the written texts
//! (`Document::annotation_texts`); `settle` turns every annotation of an object (the
//! document, or the items of a List) into that text and returns what each was typed as,
//! because a JSON patch sees the typed value (Kustomize keeps the nodes until the end).

use super::{Document, PathSeg, Value};

/// One annotation that was not written as a string: its path, what it read as, its text.
pub type Typed = (Vec<PathSeg>, Value, String);

/// Turn the annotations of `doc` into strings; returns each one whose typed value was not
/// already that string.
#[cfg(test)]
pub fn settle(doc: &mut Document) -> Vec<Typed> {
    settle_as(doc, false)
}

/// `settle` for a strategic merge patch: a null annotation stays null (it deletes), though
/// it is listed with its text. The loader settles every file this way; a resource's nulls
/// become their text when the resource is made.
pub fn settle_patch(doc: &mut Document) -> Vec<Typed> {
    settle_as(doc, true)
}

fn settle_as(doc: &mut Document, keep_nulls: bool) -> Vec<Typed> {
    let mut typed = Vec::new();
    let texts = std::mem::take(&mut doc.annotation_texts);
    let mut prefix = Vec::new();
    settle_object(&mut doc.value, &texts, &mut prefix, &mut typed, keep_nulls);
    typed
}

fn settle_object(
    v: &mut Value,
    texts: &[(Vec<PathSeg>, String)],
    prefix: &mut Vec<PathSeg>,
    typed: &mut Vec<Typed>,
    keep_nulls: bool,
) {
    let Value::Map(m) = v else { return };
    let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind.ends_with("List")
        && let Some(Value::Seq(items)) = m.get_mut("items")
    {
        for (i, item) in items.iter_mut().enumerate() {
            prefix.push(PathSeg::Key("items".into()));
            prefix.push(PathSeg::Index(i));
            settle_object(item, texts, prefix, typed, keep_nulls);
            prefix.truncate(prefix.len() - 2);
        }
        return;
    }
    let Some(Value::Map(annotations)) = m
        .get_mut("metadata")
        .and_then(|meta| meta.get_mut("annotations"))
    else {
        return;
    };
    for (key, value) in annotations.iter_mut() {
        let mut path = prefix.clone();
        path.extend([
            PathSeg::Key("metadata".into()),
            PathSeg::Key("annotations".into()),
            PathSeg::Key(key.clone()),
        ]);
        let text = match &*value {
            Value::Seq(_) | Value::Map(_) => String::new(),
            other => texts
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, t)| t.clone())
                .unwrap_or_else(|| other.scalar_text().unwrap_or_default()),
        };
        if keep_nulls && value.is_null() {
            typed.push((path, Value::Null, text));
        } else if *value != Value::Str(text.clone()) {
            let was = std::mem::replace(value, Value::Str(text.clone()));
            typed.push((path, was, text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled(text: &str) -> (Value, Vec<Typed>) {
        let mut doc = super::super::parse_objects_in(text, &Default::default())
            .expect("yaml")
            .remove(0);
        let typed = settle(&mut doc);
        (doc.value, typed)
    }

    #[test]
    fn annotations_keep_their_written_text() {
        let (v, typed) = settled(
            "kind: X\nmetadata:\n  annotations: {a: 1e-3, b: true, c: 2001-12-14, d: ~, f: 0x1F, g: 1.50, h: [1], j: \"q}\"}\n",
        );
        let a = v
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .expect("annotations");
        for (k, want) in [
            ("a", "1e-3"),
            ("b", "true"),
            ("c", "2001-12-14"),
            ("d", "~"),
            ("f", "0x1F"),
            ("g", "1.50"),
            ("h", ""),
            ("j", "q}"),
        ] {
            assert_eq!(a.get(k).and_then(Value::as_str), Some(want), "{k}");
        }
        assert!(typed.iter().any(|(_, t, _)| *t == Value::Int(31)));
        let (v, _) = settled(
            "kind: List\nitems:\n- kind: X\n  metadata:\n    annotations:\n      t: &x 12\n      u: *x\n      w: !!int 13\n",
        );
        let a = v
            .get("items")
            .and_then(|i| i.as_seq())
            .and_then(|s| s.first())
            .and_then(|i| i.get("metadata"))
            .and_then(|m| m.get("annotations"))
            .expect("item");
        assert_eq!(a.get("t").and_then(Value::as_str), Some("12"));
        assert_eq!(a.get("u").and_then(Value::as_str), Some("12"));
        assert_eq!(a.get("w").and_then(Value::as_str), Some("13"));
    }
}
