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
pub use super::written::{Walk, Written};
use crate::error::{Error, Result};
use crate::yaml::{Look, Map, PathSeg, StringStyle, Value};

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
    walk: &mut Walk<'_>,
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
        Value::Map(p) => merge_map(dest, p, pos, how, walk),
        Value::Seq(p) => merge_seq(dest, p, pos, how, walk),
        scalar => Ok(Some(walk.scalar(dest.as_ref(), scalar))),
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
    walk: &mut Walk<'_>,
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
    // kyaml walks the target's fields the patch does not name too: their keyed lists are
    // merged with nothing, which drops items repeated by key.
    for (k, v) in out.iter_mut() {
        if !fields.contains_key(k) {
            let (child_how, child_pos) = pos.field(k);
            normalize(v, &child_pos, &child_how);
        }
    }
    for (k, pv) in &fields {
        let (child_how, child_pos) = pos.field(k);
        let current = out.get(k).cloned();
        let merged = walk
            .enter(PathSeg::Key(k.clone()), PathSeg::Key(k.clone()), |w| {
                merge(current, pv, &child_pos, &child_how, w)
            })
            .map_err(|e| {
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
/// Returns the directive, the other items, and each one's index in the patch.
fn list_directive(patch: &[Value]) -> Result<(Directive, Vec<Value>, Vec<usize>)> {
    let mut directive = Directive::None;
    let mut rest = Vec::with_capacity(patch.len());
    let mut at = Vec::with_capacity(patch.len());
    for (i, item) in patch.iter().enumerate() {
        if let Value::Map(m) = item
            && m.len() == 1
            && let Some(d) = m.get(DIRECTIVE)
        {
            directive = directive_of(d)?;
            continue;
        }
        rest.push(item.clone());
        at.push(i);
    }
    Ok((directive, rest, at))
}

fn merge_seq(
    dest: Option<Value>,
    patch: &[Value],
    pos: &Position,
    how: &Merge,
    walk: &mut Walk<'_>,
) -> Result<Option<Value>> {
    let (directive, items, at) = list_directive(patch)?;
    match directive {
        Directive::Delete => return Ok(None),
        Directive::Replace => return Ok(Some(Value::Seq(items))),
        Directive::None | Directive::Merge => {}
    }
    let missing = !matches!(dest, Some(Value::Seq(_)));
    let dest = match dest {
        Some(Value::Seq(d)) => d,
        _ => Vec::new(),
    };
    match how {
        // kyaml starts from the patch's own list when the target has none, and walks it.
        // (The patch merged with itself: no target style to take on.)
        Merge::Keyed(keys) if missing => merge_associative(
            items.clone(),
            &items,
            &at,
            &keys.list(),
            pos,
            &mut Walk::new(Written::NONE),
        )
        .map(Some),
        Merge::Keyed(keys) => {
            merge_associative(dest, &items, &at, &keys.list(), pos, walk).map(Some)
        }
        Merge::Primitive => Ok(Some(Value::Seq(merge_primitive(&dest, &items)))),
        Merge::Plain | Merge::Replace => Ok(Some(Value::Seq(items))),
    }
}

/// After a merge kyaml has double-quoted the strings of the target that YAML 1.1 reads as
/// booleans (`yes`, `off`) in the parts the patch did not name (a patch's own such strings
/// are quoted already, but take the target's style where they land in place): the paths
/// (through maps) of those not already known so.
pub fn yaml11_quoted(doc: &Value, patch: &Value, known: &[StringStyle]) -> Vec<StringStyle> {
    fn walk<'v>(
        v: &'v Value,
        patch: Option<&Value>,
        path: &mut Vec<&'v str>,
        known: &[StringStyle],
        out: &mut Vec<StringStyle>,
    ) {
        match v {
            Value::Map(m) => {
                for (k, child) in m {
                    let p = match patch {
                        Some(Value::Map(pm)) => pm.get(k),
                        _ => None,
                    };
                    // A field the patch replaced with a scalar or a list is its own.
                    if p.is_some_and(|p| !matches!(p, Value::Map(_))) {
                        continue;
                    }
                    path.push(k);
                    walk(child, p, path, known, out);
                    path.pop();
                }
            }
            Value::Str(s) if patch.is_none() && crate::yaml::is_yaml11_only_bool(s) => {
                let at: Vec<PathSeg> = path.iter().map(|k| PathSeg::Key((*k).into())).collect();
                let look = known.iter().rev().find(|(p, _, _)| *p == at);
                if !look.is_some_and(|(_, _, l)| *l != Look::Plain) {
                    out.push((at, String::new(), Look::Quoted));
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, Some(patch), &mut Vec::new(), known, &mut out);
    out
}

/// Lists merged by keys (containers by `name`, ports by `containerPort` and `protocol`),
/// exactly as kyaml's associative-list walk does it for Kustomize, quirks included.
///
/// The key tuples of the patch's items and then the target's items (a missing key is `""`;
/// with several keys, tuples that differ only where one is empty are unified) are walked in
/// that order: each picks the target item and the patch item matching its keys, merges
/// them, and sets the result into a new list, replacing an item with the same keys or
/// appending. The target's items are then laid over that list one by one in their order:
/// an item lacking a key is appended as it is, one with all keys replaces its match or is
/// appended (with several keys, items matching its keys are removed first). An empty
/// result of a merge deletes the item from the target.
fn merge_associative(
    dest: Vec<Value>,
    patch: &[Value],
    at: &[usize],
    keys: &[&str],
    pos: &Position,
    walk: &mut Walk<'_>,
) -> Result<Value> {
    let mut values_list: Vec<Vec<String>> = Vec::new();
    for item in patch.iter().chain(dest.iter()) {
        let t = tuple(item, keys);
        if !values_list.contains(&t) {
            values_list.push(t);
        }
    }
    if keys.len() > 1 {
        merge_values(&mut values_list);
    }
    let mut dest = dest;
    let mut items: Vec<Value> = Vec::new();
    let mut valid_keys: Vec<&str> = keys.to_vec();
    for values in &values_list {
        let (vk, vv) = validate_keys(&values_list, values, keys);
        valid_keys.clone_from(&vk);
        let (k2, v2) = validate_keys(std::slice::from_ref(&vv), &vv, &vk);
        let di = element_list(&dest, &k2, &v2);
        let d = di.map(|i| dest[i].clone());
        let p = element_list(patch, &k2, &v2);
        let mut val = match p {
            Some(i) => walk.enter(
                PathSeg::Index(at[i]),
                PathSeg::Index(di.unwrap_or(usize::MAX)),
                |w| merge(d, &patch[i], pos, &Merge::Plain, w),
            )?,
            None => d.map(|mut v| {
                normalize(&mut v, pos, &Merge::Plain);
                v
            }),
        };
        let gone = match &val {
            None | Some(Value::Null) => true,
            Some(Value::Map(m)) => m.is_empty(),
            _ => false,
        };
        if gone {
            element_setter(&mut dest, None, &vk, &vv);
            continue;
        }
        if let Some(Value::Map(m)) = &mut val {
            for (i, key) in vk.iter().enumerate() {
                if !m.contains_key(*key) && !vv[i].is_empty() {
                    m.insert((*key).to_string(), crate::yaml::plain_scalar(&vv[i]));
                }
            }
        }
        // kyaml merges into the target's own item: the target list holds the result too.
        if let (Some(i), Some(v)) = (di, &val) {
            dest[i] = v.clone();
        }
        element_setter(&mut items, val, &vk, &vv);
    }
    if !values_list.is_empty() {
        dest = append_list_node(items, dest, &valid_keys);
    }
    Ok(Value::Seq(dest))
}

/// A part of the target no patch field reaches, walked as kyaml walks it: maps field by
/// field, lists merged by key with an empty patch, lists of scalars as sets.
fn normalize(v: &mut Value, pos: &Position, how: &Merge) {
    match (v, how) {
        (Value::Map(m), _) => {
            for (k, child) in m.iter_mut() {
                let (child_how, child_pos) = pos.field(k);
                normalize(child, &child_pos, &child_how);
            }
        }
        (v @ Value::Seq(_), Merge::Keyed(keys)) => {
            let Value::Seq(items) = std::mem::take(v) else {
                return;
            };
            *v = merge_associative(
                items,
                &[],
                &[],
                &keys.list(),
                pos,
                &mut Walk::new(Written::NONE),
            )
            .unwrap_or_else(|_| Value::Seq(Vec::new()));
        }
        (v @ Value::Seq(_), Merge::Primitive) => {
            let Value::Seq(items) = std::mem::take(v) else {
                return;
            };
            *v = Value::Seq(merge_primitive(&items, &[]));
        }
        _ => {}
    }
}

/// The text kyaml compares for a field: the scalar's text, `""` for anything else.
fn node_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        other => other.scalar_text().unwrap_or_default(),
    }
}

/// An item's values for the keys; a missing, null or empty field is `""`.
fn tuple(item: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| item.get(k).map(node_text).unwrap_or_default())
        .collect()
}

/// kyaml's `mergeValues`: tuples that agree wherever both have a value, and agree somewhere,
/// become one (the empty parts filled from the other).
fn merge_values(list: &mut [Vec<String>]) {
    for i in 0..list.len() {
        for j in 0..list.len() {
            if let Some(m) = match_values(&list[i], &list[j]) {
                list[i].clone_from(&m);
                list[j] = m;
            }
        }
    }
}

fn match_values(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            out.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if !x.is_empty() {
            out.push(x.clone());
        } else {
            out.push(y.clone());
        }
    }
    common.then_some(out)
}

/// kyaml's `validateKeys`: only the keys some tuple has a value for take part.
fn validate_keys<'k>(
    list: &[Vec<String>],
    values: &[String],
    keys: &[&'k str],
) -> (Vec<&'k str>, Vec<String>) {
    let valid: Vec<bool> = (0..keys.len())
        .map(|i| list.iter().any(|t| t.get(i).is_some_and(|v| !v.is_empty())))
        .collect();
    if !valid.iter().any(|v| *v) {
        return (keys.to_vec(), values.to_vec());
    }
    let vk = keys
        .iter()
        .zip(&valid)
        .filter(|(_, ok)| **ok)
        .map(|(k, _)| *k)
        .collect();
    let vv = values
        .iter()
        .enumerate()
        .filter(|(i, v)| !v.is_empty() || valid.get(*i).copied().unwrap_or(false))
        .map(|(_, v)| v.clone())
        .collect();
    (vk, vv)
}

/// kyaml's `ElementList`: the first map item whose fields `keys[i]` hold exactly `values[i]`.
fn element_list(list: &[Value], keys: &[&str], values: &[String]) -> Option<usize> {
    list.iter().position(|item| {
        matches!(item, Value::Map(_))
            && keys.iter().zip(values).all(|(k, v)| {
                item.get(k)
                    .is_some_and(|f| !f.is_null() && node_text(f) == *v)
            })
    })
}

/// kyaml's `FieldMatcher` as `ElementSetter` uses it: the field must be there, and hold
/// `value` unless `value` is empty.
fn field_matches(item: &Value, key: &str, value: &str) -> bool {
    if key.is_empty() {
        return !matches!(item, Value::Map(_) | Value::Seq(_)) && node_text(item) == value;
    }
    match item.get(key) {
        Some(f) => value.is_empty() || node_text(f) == value,
        None => false,
    }
}

/// kyaml's `ElementSetter`: replace the items matching `keys`/`values` with `element` (or
/// remove them when it is `None`), appending it when none matched. Empty items are dropped;
/// with no values, every non-matching item is dropped too (as kyaml does).
fn element_setter(list: &mut Vec<Value>, element: Option<Value>, keys: &[&str], values: &[String]) {
    let keys: Vec<&str> = if keys.is_empty() {
        vec![""]
    } else {
        keys.to_vec()
    };
    let mapping_setter = !keys[0].is_empty() && values.first().is_some_and(|v| !v.is_empty());
    let mut found_any = false;
    let mut out = Vec::with_capacity(list.len() + 1);
    for item in list.drain(..) {
        let empty = match &item {
            Value::Null => true,
            Value::Map(m) => m.is_empty(),
            _ => false,
        };
        if empty {
            continue;
        }
        if !matches!(item, Value::Map(_)) && mapping_setter {
            out.push(item);
            continue;
        }
        // kyaml keeps the last match result for keys beyond the values it was given.
        let mut last = false;
        let mut found = true;
        for (j, key) in keys.iter().enumerate() {
            if let Some(v) = values.get(j) {
                last = field_matches(&item, key, v);
            }
            if !last {
                found = false;
                break;
            }
        }
        if !found {
            if !values.is_empty() {
                out.push(item);
            }
            continue;
        }
        found_any = true;
        if let Some(e) = &element {
            out.push(e.clone());
        }
    }
    *list = out;
    if let Some(e) = element
        && !e.is_null()
        && !found_any
    {
        list.push(e);
    }
}

/// kyaml's `appendListNode`: lay the target's items over the merged patch items.
fn append_list_node(mut dst: Vec<Value>, src: Vec<Value>, keys: &[&str]) -> Vec<Value> {
    for item in src {
        if keys.first().is_none_or(|k| k.is_empty()) {
            let text = node_text(&item);
            element_setter(&mut dst, Some(item), &[""], &[text]);
            continue;
        }
        let mut v = Vec::with_capacity(keys.len());
        for key in keys {
            match item.get(key) {
                // No key: appended as it is (once for every key it lacks).
                None => dst.push(item.clone()),
                Some(f) => v.push(node_text(f)),
            }
        }
        if keys.len() > 1 {
            element_setter(&mut dst, None, keys, &v);
        }
        element_setter(&mut dst, Some(item), keys, &v);
    }
    dst
}

/// Lists of scalars merged as sets: the patch's items first, then the target's others.
fn merge_primitive(dest: &[Value], patch: &[Value]) -> Vec<Value> {
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
        merge(
            Some(doc(dest)),
            &doc(patch),
            &pos,
            &Merge::Plain,
            &mut Walk::new(Written::NONE),
        )
        .expect("merges")
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
