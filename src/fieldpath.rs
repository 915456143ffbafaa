//! Field paths as Kustomize's replacements write them (`spec.template.spec.containers.[name=web].image`,
//! `metadata.annotations.[a.b/c]`, `spec.ports.0`, `*`): split into segments, looked up
//! (sources), visited with missing parts created (targets). Values only: the replacement
//! transformer and the resource model both walk documents this way.

use crate::yaml::{Map, Value};

/// Split a field path on dots, keeping `[...]` segments whole. Empty segments are dropped:
/// a replacement *source* path is lenient (`.metadata.namespace`, the form kubebuilder
/// writes, and even `data..v` read `data.v`).
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = split_raw(path);
    out.retain(|s| !s.is_empty());
    out
}

/// A replacement *target* path as kyaml splits it: one leading `.` is allowed, any other
/// empty segment (`a..b`, `..a`, `.`) is an error, as in kubectl. A trailing `.` is kept as
/// a flag: kubectl creates the field then (with `create`) if it is missing, and mangles it
/// if it exists; strata creates it, or refuses.
pub fn split_target_path(path: &str) -> std::result::Result<(Vec<String>, bool), String> {
    let mut parts = split_raw(path);
    if parts.len() > 1 && parts[0].is_empty() {
        parts.remove(0);
    }
    let trailing = parts.len() > 1 && parts.last().is_some_and(String::is_empty);
    if trailing {
        parts.pop();
    }
    if parts.iter().any(String::is_empty) {
        return Err(format!("the field path `{path}` has an empty segment"));
    }
    Ok((parts, trailing))
}

fn split_raw(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The value at a path (for sources).
pub fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(v);
    };
    let next = match v {
        Value::Map(m) => m
            .get(first.trim_start_matches('[').trim_end_matches(']'))
            .or_else(|| m.get(first))?,
        Value::Seq(items) => {
            if let Some((k, val)) = list_selector(first) {
                items
                    .iter()
                    .find(|i| i.get(k).and_then(Value::scalar_text).as_deref() == Some(val))?
            } else {
                items.get(first.parse::<usize>().ok()?)?
            }
        }
        _ => return None,
    };
    lookup(next, rest)
}

fn list_selector(seg: &str) -> Option<(&str, &str)> {
    seg.strip_prefix('[')?.strip_suffix(']')?.split_once('=')
}

/// Whether a value a replacement could not type is still at `path` of `v`.
pub fn holds(v: &mut Value, path: &[String], text: &str) -> bool {
    let mut hit = false;
    visit(v, path, None, &mut |node| {
        hit |= node.as_str() == Some(text);
    });
    hit
}

/// Visit every node at `path`, creating missing parts when `create` is given.
pub fn visit(
    v: &mut Value,
    path: &[String],
    create: Option<&Value>,
    f: &mut dyn FnMut(&mut Value),
) -> bool {
    let Some((first, rest)) = path.split_first() else {
        f(v);
        return true;
    };
    match v {
        Value::Map(m) => {
            if first == "*" {
                let mut any = false;
                for (_, child) in m.iter_mut() {
                    any |= visit(child, rest, create, f);
                }
                return any;
            }
            let key = match first.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                Some(inner) if !inner.contains('=') => inner.to_string(),
                _ => first.clone(),
            };
            if !m.contains_key(&key) {
                let Some(leaf) = create else { return false };
                let fresh = if rest.is_empty() {
                    match leaf {
                        Value::Map(_) => Value::Map(Map::default()),
                        Value::Seq(_) => Value::Seq(Vec::new()),
                        // A created scalar field: its type comes from the value set in it.
                        _ => Value::Null,
                    }
                } else if rest[0].starts_with('[') && rest[0].contains('=')
                    || rest[0].parse::<usize>().is_ok()
                {
                    Value::Seq(Vec::new())
                } else {
                    Value::Map(Map::default())
                };
                m.insert(key.clone(), fresh);
            }
            match m.get_mut(&key) {
                Some(child) => visit(child, rest, create, f),
                None => false,
            }
        }
        Value::Seq(items) => {
            if first == "*" || first == "[*]" {
                let mut any = false;
                for item in items.iter_mut() {
                    any |= visit(item, rest, create, f);
                }
                return any;
            }
            if let Some((k, val)) = list_selector(first) {
                let mut any = false;
                for item in items.iter_mut() {
                    if item.get(k).and_then(Value::scalar_text).as_deref() == Some(val) {
                        any |= visit(item, rest, create, f);
                    }
                }
                if !any && create.is_some() {
                    let mut m = Map::default();
                    m.insert(k.to_string(), Value::Str(val.to_string()));
                    items.push(Value::Map(m));
                    let last = items.len() - 1;
                    return visit(&mut items[last], rest, create, f);
                }
                return any;
            }
            match first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(item) => visit(item, rest, create, f),
                None => false,
            }
        }
        Value::Null if create.is_some() => {
            *v = Value::Map(Map::default());
            visit(v, path, create, f)
        }
        _ => false,
    }
}
