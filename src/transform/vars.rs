//! `vars:` (deprecated) — `$(NAME)` references filled from fields of other resources.
//!
//! A var names an object (`objref`) and a field of it (`fieldref.fieldpath`, default
//! `metadata.name`). Each layer ties its vars (and those of the layers it includes) to the
//! object they name, by current or previous id; at the top, after renames and name
//! references, every `$(NAME)` in the fields of Kustomize's var-reference table is
//! replaced (`$$` escapes a dollar; a string that is exactly `$(NAME)` takes the value's
//! type). A var whose object is missing is an error; a var never used is a warning.

use super::fieldspec::{FieldSpec, walk};
use crate::error::{Error, Location, Result};
use crate::resource::{Gvk, ResMap};
use crate::yaml::Value;

#[derive(Debug, Clone)]
pub struct Var {
    pub name: String,
    pub api_version: String,
    pub kind: String,
    pub obj_name: String,
    pub namespace: String,
    pub field_path: String,
    pub at: Location,
}

/// Read the `vars:` of a kustomization.
pub fn read(k: &crate::load::Kustomization) -> Result<Vec<Var>> {
    let Some(v) = k.get("vars") else {
        return Ok(Vec::new());
    };
    let Value::Seq(items) = v else {
        return Err(k
            .error(&["vars"], "`vars` must be a list")
            .with_help("write one `- name: …` entry per var"));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        let at = ["vars", idx.as_str()];
        let m = k.strict_struct(&at, item, &["name", "objref", "fieldref"])?;
        // Kustomize decodes vars with Go's JSON decoder: every key matches whatever its case
        // (`fieldref.fieldpath`, `objRef.APIVersion`, …).
        let nested = |field: &str, allowed: &[&str]| -> Result<Option<crate::yaml::Map>> {
            match m.get(field).filter(|v| !v.is_null()) {
                None => Ok(None),
                Some(v) => {
                    let mut fat = at.to_vec();
                    fat.push(field);
                    k.strict_struct(&fat, v, allowed).map(Some)
                }
            }
        };
        let objref = nested(
            "objref",
            &[
                "apiVersion",
                "group",
                "version",
                "kind",
                "name",
                "namespace",
            ],
        )?;
        let fieldref = nested("fieldref", &["fieldPath"])?;
        let s = |v: Option<&crate::yaml::Map>, f: &str| {
            v.and_then(|v| v.get(f))
                .and_then(Value::scalar_text)
                .unwrap_or_default()
        };
        let name = m
            .get("name")
            .and_then(Value::scalar_text)
            .unwrap_or_default();
        if name.is_empty() {
            return Err(k
                .error(&at, "a var needs a `name`")
                .with_help("add `name: MY_VAR`"));
        }
        let objref = objref.as_ref();
        let field_path = s(fieldref.as_ref(), "fieldPath");
        let mut api_version = s(objref, "apiVersion");
        if api_version.is_empty() {
            let (group, version) = (s(objref, "group"), s(objref, "version"));
            api_version = match (group.is_empty(), version.is_empty()) {
                (true, _) => version,
                (false, true) => format!("{group}/"),
                (false, false) => format!("{group}/{version}"),
            };
        }
        out.push(Var {
            name,
            api_version,
            kind: s(objref, "kind"),
            obj_name: s(objref, "name"),
            namespace: s(objref, "namespace"),
            field_path: if field_path.is_empty() {
                "metadata.name".into()
            } else {
                field_path
            },
            at: k.location(&at),
        });
    }
    Ok(out)
}

/// Tie vars to the one object each names (by current or previous id), at every layer; a
/// var already tied to an object in an included layer stays with it.
pub fn bind(rm: &mut ResMap, vars: &[Var]) -> Result<()> {
    for v in vars {
        if rm.items.iter().any(|r| r.ref_vars.contains(&v.name)) {
            continue;
        }
        let want = Gvk::from_api_version(&v.api_version, &v.kind);
        let matches: Vec<usize> = rm
            .items
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                // The objref's kind, group and version must all be the object's, as
                // Kustomize compares them (an objref without `apiVersion` binds nothing).
                r.all_ids().any(|id| {
                    id.name == v.obj_name
                        && want.kind == id.gvk.kind
                        && want.group == id.gvk.group
                        && want.version == id.gvk.version
                        && (v.namespace.is_empty()
                            || v.namespace == id.namespace
                            || v.namespace == id.effective_namespace())
                })
            })
            .map(|(i, _)| i)
            .collect();
        match matches.as_slice() {
            [i] => {
                let r = &mut rm.items[*i];
                if !r.ref_vars.contains(&v.name) {
                    r.ref_vars.push(v.name.clone());
                }
            }
            [] => {}
            many => {
                return Err(Error::new(format!(
                    "found {} objects for var `{}` ({} `{}`); it cannot choose",
                    many.len(),
                    v.name,
                    v.kind,
                    v.obj_name
                ))
                .at(v.at.clone())
                .with_help("add `namespace` or `apiVersion` to the var's objref"));
            }
        }
    }
    Ok(())
}

/// Add `more` to `all`, refusing a var defined twice.
pub fn merge(all: &mut Vec<Var>, more: Vec<Var>) -> Result<()> {
    for v in more {
        if all.iter().any(|x| x.name == v.name) {
            return Err(
                Error::new(format!("var `{}` is defined more than once", v.name))
                    .at(v.at)
                    .with_help("give each var a distinct name"),
            );
        }
        all.push(v);
    }
    Ok(())
}

/// The value at a dotted field path (`spec.ports[0].port` or `spec.ports.0.port`).
fn field_value<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = doc;
    for seg in path.split('.') {
        let (key, indices) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        if !key.is_empty() {
            cur = match cur {
                Value::Seq(items) => items.get(key.parse::<usize>().ok()?)?,
                other => other.get(key)?,
            };
        }
        for idx in indices.split('[').filter(|s| !s.is_empty()) {
            let i: usize = idx.trim_end_matches(']').parse().ok()?;
            cur = cur.as_seq()?.get(i)?;
        }
    }
    Some(cur)
}

/// Replace `$(NAME)` references at the top of the build. Returns the names never used.
pub fn resolve(rm: &mut ResMap, vars: &[Var], specs: &[FieldSpec]) -> Result<Vec<String>> {
    if vars.is_empty() {
        return Ok(Vec::new());
    }
    let mut sorted: Vec<&Var> = vars.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut values: Vec<(String, Value)> = Vec::new();
    for v in sorted {
        let holder = rm
            .items
            .iter()
            .find(|r| r.ref_vars.contains(&v.name))
            .ok_or_else(|| {
                Error::new(format!(
                    "var `{}` cannot be mapped to a field in the set of known resources",
                    v.name
                ))
                .at(v.at.clone())
                .with_help(format!(
                    "no {} `{}` is part of the build",
                    v.kind, v.obj_name
                ))
            })?;
        let value = field_value(&holder.doc, &v.field_path)
            .filter(|x| !matches!(x, Value::Map(_) | Value::Seq(_)))
            .cloned()
            .ok_or_else(|| {
                Error::new(format!(
                    "field `{}` of {} does not exist (var `{}`)",
                    v.field_path,
                    holder.id(),
                    v.name
                ))
                .at(v.at.clone())
                .with_help("check the var's `fieldref.fieldpath`")
            })?;
        values.push((v.name.clone(), value));
    }
    let mut used = vec![false; values.len()];
    for r in &mut rm.items {
        let gvk = r.gvk();
        for spec in specs {
            if !spec.selects(&gvk) {
                continue;
            }
            walk(&mut r.doc, &spec.path, None, &mut |node| {
                expand_node(node, &values, &mut used);
                Ok(())
            })?;
        }
    }
    Ok(values
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|((n, _), _)| n.clone())
        .collect())
}

fn expand_node(node: &mut Value, values: &[(String, Value)], used: &mut [bool]) {
    match node {
        Value::Str(s) => *node = expand(s, values, used),
        Value::Map(m) => {
            for (_, v) in m.iter_mut() {
                if let Value::Str(s) = v {
                    *v = expand(s, values, used);
                }
            }
        }
        Value::Seq(items) => {
            for v in items.iter_mut() {
                if let Value::Str(s) = v {
                    *v = expand(s, values, used);
                }
            }
        }
        _ => {}
    }
}

/// Expand `$(NAME)` in `s`; a string that is one reference takes the value itself.
pub fn expand(s: &str, values: &[(String, Value)], used: &mut [bool]) -> Value {
    let lookup = |name: &str| values.iter().position(|(n, _)| n == name);
    if let Some(name) = s.strip_prefix("$(").and_then(|r| r.strip_suffix(')'))
        && !name.contains(['(', ')', '$'])
        && let Some(i) = lookup(name)
    {
        used[i] = true;
        return values[i].1.clone();
    }
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            if b[i + 1] == b'$' {
                out.push('$');
                i += 2;
                continue;
            }
            if b[i + 1] == b'('
                && let Some(end) = s[i + 2..].find(')')
            {
                let name = &s[i + 2..i + 2 + end];
                if let Some(j) = lookup(name) {
                    used[j] = true;
                    out.push_str(&values[j].1.scalar_text().unwrap_or_default());
                    i += end + 3;
                    continue;
                }
            }
        }
        let ch = s[i..].chars().next().unwrap_or('\0');
        out.push(ch);
        i += ch.len_utf8();
    }
    Value::Str(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion() {
        let values = vec![
            ("A".to_string(), Value::Str("x".into())),
            ("N".to_string(), Value::Int(3)),
        ];
        let mut used = vec![false; 2];
        assert_eq!(
            expand("$(A)-$(B)", &values, &mut used),
            Value::Str("x-$(B)".into())
        );
        assert_eq!(expand("$(N)", &values, &mut used), Value::Int(3));
        assert_eq!(
            expand("$$(A) $(N)", &values, &mut used),
            Value::Str("$(A) 3".into())
        );
        assert_eq!(used, vec![true, true]);
    }
}
