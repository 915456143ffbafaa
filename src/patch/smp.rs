//! Strategic merge, with the semantics of Kustomize v5.5.0 (kyaml's merge2, list items
//! from the patch first).
//!
//! `merge(dest, patch, position)` returns the merged value, or `None` when the patch
//! deletes it. Maps merge field by field (`null` deletes, `$patch: delete|replace|merge`
//! directives), lists merge by the keys the schema gives (patch items first, then the
//! remaining items of the target) or are replaced when the schema says nothing. Kustomize
//! does not honour `$setElementOrder`, `$deleteFromPrimitiveList` or `$retainKeys`: they
//! are copied through as ordinary fields, and so they are here.

use super::schema::{Merge, Position};
use crate::error::{Error, Result};
use crate::yaml::{Map, Value};

const DIRECTIVE: &str = "$patch";

/// What a `$patch` directive asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    None,
    Delete,
    Replace,
    Merge,
}

fn directive_of(v: &Value) -> Result<Directive> {
    match v.as_str() {
        Some("delete") => Ok(Directive::Delete),
        Some("replace") => Ok(Directive::Replace),
        Some("merge") => Ok(Directive::Merge),
        other => Err(Error::new(format!(
            "unknown patch strategy `{}`",
            other
                .map(str::to_string)
                .unwrap_or_else(|| v.scalar_text().unwrap_or_default())
        ))
        .with_help("`$patch` takes `delete`, `replace` or `merge`")),
    }
}

/// Merge `patch` into `dest` (absent when `None`) at schema position `pos`.
pub fn merge(
    dest: Option<Value>,
    patch: &Value,
    pos: &Position,
    how: &Merge,
) -> Result<Option<Value>> {
    // Kustomize refuses to merge a map, a list and a scalar into one another ("wrong node
    // kind"); null on either side is a deletion or an addition.
    let shape = |v: &Value| match v {
        Value::Null => None,
        Value::Map(_) => Some("a map"),
        Value::Seq(_) => Some("a list"),
        _ => Some("a scalar"),
    };
    let directive = matches!(patch, Value::Map(m) if m.contains_key(DIRECTIVE));
    if let (Some(d), Some(p)) = (dest.as_ref().and_then(shape), shape(patch))
        && d != p
        && !directive
    {
        return Err(Error::new(format!(
            "the patch has {p} where the target has {d} at `{}`",
            MISMATCH_ROOT
        ))
        .with_help("a strategic merge patch must keep each field's shape (map, list or scalar); use `$patch: replace` or a JSON patch to change it"));
    }
    match patch {
        Value::Null => Ok(None),
        Value::Map(p) => merge_map(dest, p, pos, how),
        Value::Seq(p) => merge_seq(dest, p, pos, how),
        scalar => Ok(Some(scalar.clone())),
    }
}

/// Where a shape mismatch is reported before the fields above it are known.
const MISMATCH_ROOT: &str = "\u{0}";

/// Put `field` in front of the path of a shape-mismatch error coming up from below it.
fn under(field: &str, mut e: Error) -> Error {
    if e.message.contains(MISMATCH_ROOT) {
        e.message = e.message.replace(MISMATCH_ROOT, field);
    } else if let Some(i) = e.message.rfind(" at `") {
        let at = i + " at `".len();
        e.message.insert_str(at, &format!("{field}."));
    }
    e
}

fn merge_map(
    dest: Option<Value>,
    patch: &Map,
    pos: &Position,
    how: &Merge,
) -> Result<Option<Value>> {
    let directive = match patch.get(DIRECTIVE) {
        Some(v) => directive_of(v)?,
        None => Directive::None,
    };
    let mut fields = patch.clone();
    fields.shift_remove(DIRECTIVE);
    match directive {
        Directive::Delete => return Ok(None),
        Directive::Replace => return Ok(Some(Value::Map(fields))),
        Directive::None | Directive::Merge => {}
    }
    if matches!(how, Merge::Replace) {
        return Ok(Some(Value::Map(fields)));
    }
    let mut out = match dest {
        Some(Value::Map(m)) => m,
        _ => Map::default(),
    };
    for (k, pv) in &fields {
        let (child_how, child_pos) = pos.field(k);
        let current = out.get(k).cloned();
        let merged = merge(current, pv, &child_pos, &child_how).map_err(|e| {
            if e.message.starts_with("the patch has ") {
                under(k, e)
            } else {
                e
            }
        })?;
        match merged {
            Some(v) => {
                out.insert(k.clone(), v);
            }
            None => {
                out.shift_remove(k);
            }
        }
    }
    Ok(Some(Value::Map(out)))
}

/// A list-level `$patch` directive: an element that is a map holding only `$patch`.
fn list_directive(patch: &[Value]) -> Result<(Directive, Vec<Value>)> {
    let mut directive = Directive::None;
    let mut rest = Vec::with_capacity(patch.len());
    for item in patch {
        if let Value::Map(m) = item
            && m.len() == 1
            && let Some(d) = m.get(DIRECTIVE)
        {
            directive = directive_of(d)?;
            continue;
        }
        rest.push(item.clone());
    }
    Ok((directive, rest))
}

fn merge_seq(
    dest: Option<Value>,
    patch: &[Value],
    pos: &Position,
    how: &Merge,
) -> Result<Option<Value>> {
    let (directive, items) = list_directive(patch)?;
    match directive {
        Directive::Delete => return Ok(None),
        Directive::Replace => return Ok(Some(Value::Seq(items))),
        Directive::None | Directive::Merge => {}
    }
    let dest = match dest {
        Some(Value::Seq(d)) => d,
        _ => Vec::new(),
    };
    match how {
        Merge::Keyed(keys) => {
            let keys = keys.list();
            if keys.len() == 1 {
                merge_keyed(dest, &items, keys[0], pos).map(Some)
            } else {
                merge_multi_keyed(dest, &items, &keys, pos).map(Some)
            }
        }
        Merge::Primitive => Ok(Some(Value::Seq(merge_primitive(dest, &items)))),
        Merge::Plain | Merge::Replace => Ok(Some(Value::Seq(items))),
    }
}

fn key_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::scalar_text)
}

/// Merge one element: the merged value (with its key fields kept), or `None` if deleted.
fn merge_element(
    dest: Option<Value>,
    patch: Option<&Value>,
    keys: &[(&str, Value)],
    pos: &Position,
) -> Result<Option<Value>> {
    let merged = match patch {
        Some(p) => merge(dest, p, pos, &Merge::Plain)?,
        None => dest,
    };
    let Some(Value::Map(mut m)) = merged else {
        return Ok(merged);
    };
    if m.is_empty() {
        return Ok(None);
    }
    for (k, v) in keys {
        if !m.contains_key(*k) {
            m.insert(k.to_string(), v.clone());
        }
    }
    Ok(Some(Value::Map(m)))
}

/// Lists merged by one key: patch items first (in patch order), then the target's other
/// items, then target items without the key.
fn merge_keyed(dest: Vec<Value>, patch: &[Value], key: &str, pos: &Position) -> Result<Value> {
    // Patch items without the key are kept where they stand among the patch's items.
    enum Slot<'a> {
        Key(String),
        Bare(&'a Value),
    }
    let mut order: Vec<Slot> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for v in patch {
        match key_of(v, key) {
            Some(k) if !seen.contains(&k) => {
                seen.push(k.clone());
                order.push(Slot::Key(k));
            }
            Some(_) => {}
            None => order.push(Slot::Bare(v)),
        }
    }
    for v in &dest {
        if let Some(k) = key_of(v, key)
            && !seen.contains(&k)
        {
            seen.push(k.clone());
            order.push(Slot::Key(k));
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for slot in &order {
        match slot {
            Slot::Bare(p) => {
                if let Some(v) = merge(None, p, pos, &Merge::Plain)? {
                    out.push(v);
                }
            }
            Slot::Key(k) => {
                let d = dest
                    .iter()
                    .find(|v| key_of(v, key).as_ref() == Some(k))
                    .cloned();
                let p = patch.iter().find(|v| key_of(v, key).as_ref() == Some(k));
                let key_value = d
                    .as_ref()
                    .or(p)
                    .and_then(|v| v.get(key))
                    .cloned()
                    .unwrap_or(Value::Null);
                if let Some(v) = merge_element(d, p, &[(key, key_value)], pos)? {
                    out.push(v);
                }
            }
        }
    }
    out.extend(dest.into_iter().filter(|v| key_of(v, key).is_none()));
    Ok(Value::Seq(out))
}

/// Lists merged by several keys (container ports: `containerPort` and `protocol`), as
/// Kustomize v5.5.0 does it: items that carry only some keys merge by those, patch items
/// first; items carrying every key keep the target's order, merged in place, with new
/// patch items before them; a patch item whose first key matches a target item that lacks
/// the other keys is dropped.
fn merge_multi_keyed(
    dest: Vec<Value>,
    patch: &[Value],
    keys: &[&str],
    pos: &Position,
) -> Result<Value> {
    let full = |v: &Value| keys.iter().all(|k| key_of(v, k).is_some());
    let same = |a: &Value, b: &Value, ks: &[&str]| ks.iter().all(|k| key_of(a, k) == key_of(b, k));
    let present = |v: &Value| -> Vec<&str> {
        keys.iter()
            .copied()
            .filter(|k| key_of(v, k).is_some())
            .collect()
    };

    // Partial-key items: merged by the keys they carry, patch items first.
    let mut partial: Vec<Value> = Vec::new();
    let mut consumed = vec![false; dest.len()];
    for p in patch.iter().filter(|v| !full(v)) {
        let ks = present(p);
        if ks.is_empty() {
            continue;
        }
        let found = dest
            .iter()
            .enumerate()
            .find(|(i, d)| !consumed[*i] && same(d, p, &ks));
        let d = found.map(|(i, d)| {
            consumed[i] = true;
            d.clone()
        });
        let kv: Vec<(&str, Value)> = ks
            .iter()
            .map(|k| (*k, p.get(k).cloned().unwrap_or(Value::Null)))
            .collect();
        if let Some(v) = merge_element(d, Some(p), &kv, pos)? {
            partial.push(v);
        }
    }
    for (i, d) in dest.iter().enumerate() {
        if !consumed[i] && !full(d) {
            partial.push(d.clone());
        }
    }

    // Full-key items: the target's order, merged in place; new ones first.
    let mut fresh = Vec::new();
    let mut merged_full: Vec<Option<Value>> = dest
        .iter()
        .enumerate()
        .map(|(i, d)| (full(d) && !consumed[i]).then(|| d.clone()))
        .collect();
    for p in patch.iter().filter(|v| full(v)) {
        match dest
            .iter()
            .enumerate()
            .position(|(i, d)| full(d) && !consumed[i] && same(d, p, keys))
        {
            Some(i) => {
                let kv: Vec<(&str, Value)> = keys
                    .iter()
                    .map(|k| (*k, p.get(k).cloned().unwrap_or(Value::Null)))
                    .collect();
                merged_full[i] = merge_element(merged_full[i].take(), Some(p), &kv, pos)?;
            }
            None => {
                let first_key_taken = dest.iter().any(|d| !full(d) && same(d, p, &keys[..1]));
                if !first_key_taken {
                    let kv: Vec<(&str, Value)> = keys
                        .iter()
                        .map(|k| (*k, p.get(k).cloned().unwrap_or(Value::Null)))
                        .collect();
                    if let Some(v) = merge_element(None, Some(p), &kv, pos)? {
                        fresh.push(v);
                    }
                }
            }
        }
    }
    let mut out = partial;
    out.extend(fresh);
    out.extend(merged_full.into_iter().flatten());
    Ok(Value::Seq(out))
}

/// Lists of scalars merged as sets: the patch's items first, then the target's others.
fn merge_primitive(dest: Vec<Value>, patch: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for v in patch.iter().chain(dest.iter()) {
        let t = v.scalar_text().unwrap_or_default();
        if !seen.contains(&t) {
            seen.push(t);
            out.push(v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Gvk;
    use crate::yaml::test_doc as doc;

    fn apply(api: &str, kind: &str, dest: &str, patch: &str) -> Option<Value> {
        let pos = Position::root(&Gvk::from_api_version(api, kind));
        merge(Some(doc(dest)), &doc(patch), &pos, &Merge::Plain).expect("merges")
    }

    #[test]
    fn table() {
        let deploy = |containers: &str| {
            format!("spec:\n  template:\n    spec:\n      containers: {containers}\n")
        };
        let cases: &[(&str, &str, String, String, String)] = &[
            // maps merge, null deletes
            (
                "v1",
                "ConfigMap",
                "data: {a: '1', b: '2'}\n".into(),
                "data: {b: null, c: '3'}\n".into(),
                "data: {a: '1', c: '3'}\n".into(),
            ),
            // keyed list: patch items first, then the rest
            (
                "apps/v1",
                "Deployment",
                deploy("[{name: a, image: a}, {name: b, image: b}]"),
                deploy("[{name: b, image: b2}, {name: c, image: c}]"),
                deploy("[{name: b, image: b2}, {name: c, image: c}, {name: a, image: a}]"),
            ),
            // element delete
            (
                "apps/v1",
                "Deployment",
                deploy("[{name: a, image: a}, {name: b, image: b}]"),
                deploy("[{name: a, $patch: delete}]"),
                deploy("[{name: b, image: b}]"),
            ),
            // list replace directive
            (
                "apps/v1",
                "Deployment",
                deploy("[{name: a, image: a}, {name: b, image: b}]"),
                deploy("[{$patch: replace}, {name: c, image: c}]"),
                deploy("[{name: c, image: c}]"),
            ),
            // no schema: lists are replaced
            (
                "example.com/v1",
                "Foo",
                deploy("[{name: a, image: a}]"),
                deploy("[{name: b}]"),
                deploy("[{name: b}]"),
            ),
            // map replace directive
            (
                "v1",
                "ConfigMap",
                "data: {a: '1'}\n".into(),
                "data: {$patch: replace, b: '2'}\n".into(),
                "data: {b: '2'}\n".into(),
            ),
            // primitive merge list
            (
                "v1",
                "ConfigMap",
                "metadata: {finalizers: [a, b]}\n".into(),
                "metadata: {finalizers: [c, a]}\n".into(),
                "metadata: {finalizers: [c, a, b]}\n".into(),
            ),
            // directives kustomize does not honour pass through
            (
                "v1",
                "ConfigMap",
                "data: {a: '1'}\n".into(),
                "data: {$retainKeys: [a]}\n".into(),
                "data: {a: '1', $retainKeys: [a]}\n".into(),
            ),
        ];
        for (api, kind, dest, patch, want) in cases {
            let got = apply(api, kind, dest, patch).expect("kept");
            assert_eq!(got, doc(want), "{kind}: {dest} + {patch}");
        }
    }

    #[test]
    fn multi_key_ports_match_kustomize() {
        let ports = |p: &str| {
            format!("spec:\n  template:\n    spec:\n      containers: [{{name: x, ports: {p}}}]\n")
        };
        for (dest, patch, want) in [
            (
                "[{containerPort: 80}]",
                "[{containerPort: 82}]",
                "[{containerPort: 82}, {containerPort: 80}]",
            ),
            (
                "[{containerPort: 80, protocol: TCP}, {containerPort: 81, protocol: TCP}]",
                "[{containerPort: 81, protocol: TCP, name: n}, {containerPort: 83, protocol: TCP}]",
                "[{containerPort: 83, protocol: TCP}, {containerPort: 80, protocol: TCP}, {containerPort: 81, protocol: TCP, name: n}]",
            ),
            (
                "[{containerPort: 80}, {containerPort: 81, protocol: UDP}]",
                "[{containerPort: 81, protocol: UDP, name: u}, {containerPort: 82}]",
                "[{containerPort: 82}, {containerPort: 80}, {containerPort: 81, protocol: UDP, name: u}]",
            ),
            (
                "[{containerPort: 80}, {containerPort: 81}]",
                "[{containerPort: 81, name: n}]",
                "[{containerPort: 81, name: n}, {containerPort: 80}]",
            ),
            (
                "[{containerPort: 80}, {containerPort: 81}]",
                "[{containerPort: 81, protocol: UDP}]",
                "[{containerPort: 80}, {containerPort: 81}]",
            ),
        ] {
            let got = apply("apps/v1", "Deployment", &ports(dest), &ports(patch)).expect("kept");
            assert_eq!(got, doc(&ports(want)), "{dest} + {patch}");
        }
    }

    #[test]
    fn whole_resource_delete() {
        assert_eq!(
            apply("v1", "ConfigMap", "data: {a: '1'}\n", "$patch: delete\n"),
            None
        );
    }
}
