//! JSON patches (RFC 6902): `add`, `remove`, `replace`, `move`, `copy`, `test`.
//!
//! Applied atomically per patch: the operations run on a copy and the copy replaces the
//! document only when every operation succeeded. Pointers use RFC 6901 escaping (`~0`,
//! `~1`); `-` appends to an array. A failing operation is an error naming its index and
//! path, as evanphx/json-patch (which Kustomize uses) would refuse it.

use crate::error::{Error, Result};
use crate::yaml::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub op: String,
    pub path: String,
    pub from: Option<String>,
    pub value: Option<Value>,
}

/// Read the operations of a patch document (a list of maps).
pub fn parse_ops(doc: &Value) -> Result<Vec<Op>> {
    let Value::Seq(items) = doc else {
        return Err(Error::new("a JSON patch must be a list of operations")
            .with_help("write `- op: replace` / `path: /spec/replicas` / `value: 3` entries"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let s = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
            let op = s("op").ok_or_else(|| {
                Error::new(format!("JSON patch operation {i} has no `op`"))
                    .with_help("each operation needs `op` and `path`")
            })?;
            let path = s("path").ok_or_else(|| {
                Error::new(format!("JSON patch operation {i} (`{op}`) has no `path`"))
                    .with_help("each operation needs `op` and `path`")
            })?;
            if !["add", "remove", "replace", "move", "copy", "test"].contains(&op.as_str()) {
                return Err(
                    Error::new(format!("JSON patch operation {i} has unknown op `{op}`"))
                        .with_help("use add, remove, replace, move, copy or test"),
                );
            }
            Ok(Op {
                from: s("from"),
                value: item.get("value").cloned(),
                op,
                path,
            })
        })
        .collect()
}

/// Apply all operations to `doc`, or none of them; a failure carries the op's index.
pub fn apply(doc: &mut Value, ops: &[Op]) -> std::result::Result<(), Box<(usize, Error)>> {
    let mut work = doc.clone();
    for (i, op) in ops.iter().enumerate() {
        apply_one(&mut work, op).map_err(|e| {
            let err = Error::new(format!(
                "JSON patch operation {i} (`{}` at `{}`) failed: {}",
                op.op, op.path, e.message
            ))
            .with_help(
                e.help
                    .unwrap_or_else(|| "check the path against the target resource".to_string()),
            );
            Box::new((i, err))
        })?;
    }
    *doc = work;
    Ok(())
}

fn tokens(pointer: &str) -> Result<Vec<String>> {
    crate::pointer::tokens(pointer).ok_or_else(|| {
        Error::new(format!("`{pointer}` is not a JSON pointer"))
            .with_help("JSON pointers start with `/`, e.g. `/spec/replicas`")
    })
}

/// An array index as Kustomize's json-patch library reads it: negative indices count from
/// the end; `add` may also address one past the end (`-` or `len`, `-1` appends).
fn index(token: &str, len: usize, for_add: bool) -> Result<usize> {
    if for_add && token == "-" {
        return Ok(len);
    }
    let i: i64 = token
        .parse()
        .map_err(|_| Error::new(format!("`{token}` is not an array index")))?;
    let size = if for_add { len + 1 } else { len };
    let j = if i < 0 {
        size.checked_sub(usize::try_from(i.unsigned_abs()).unwrap_or(usize::MAX))
    } else {
        usize::try_from(i).ok()
    };
    j.filter(|j| *j < size).ok_or_else(|| {
        Error::new(format!(
            "array index {token} is out of bounds (length {len})"
        ))
    })
}

/// The container a pointer's parent names; every step must exist.
fn parent_mut<'a>(doc: &'a mut Value, toks: &[String]) -> Result<&'a mut Value> {
    let mut cur = doc;
    for t in toks {
        cur = match cur {
            Value::Map(m) => m
                .get_mut(t)
                .ok_or_else(|| Error::new(format!("the target has no field `{t}`")))?,
            Value::Seq(s) => {
                let i = index(t, s.len(), false)?;
                &mut s[i]
            }
            _ => return Err(Error::new(format!("cannot descend into a scalar at `{t}`"))),
        };
    }
    Ok(cur)
}

/// The value at a pointer, for `copy` and `test`: a missing key of an existing map reads
/// as null (as in Kustomize's library); a missing parent or index is an error.
fn get(doc: &mut Value, toks: &[String]) -> Result<Value> {
    let Some((last, parent)) = toks.split_last() else {
        return Ok(doc.clone());
    };
    match parent_mut(doc, parent)? {
        Value::Map(m) => Ok(m.get(last).cloned().unwrap_or(Value::Null)),
        Value::Seq(s) => Ok(s[index(last, s.len(), false)?].clone()),
        _ => Err(Error::new("cannot read a field of a scalar")),
    }
}

fn add(doc: &mut Value, toks: &[String], value: Value) -> Result<()> {
    let Some((last, parent)) = toks.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent_mut(doc, parent)? {
        Value::Map(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Seq(s) => {
            let i = index(last, s.len(), true)?;
            s.insert(i, value);
            Ok(())
        }
        _ => Err(Error::new("cannot add a field to a scalar")),
    }
}

/// `replace`: in a map the key is set whether or not it was there (Kustomize's library
/// does not check it); in a list the index must exist.
fn replace(doc: &mut Value, toks: &[String], value: Value) -> Result<()> {
    let Some((last, parent)) = toks.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent_mut(doc, parent)? {
        Value::Map(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Seq(s) => {
            let i = index(last, s.len(), false)?;
            s[i] = value;
            Ok(())
        }
        _ => Err(Error::new("cannot replace a field of a scalar")),
    }
}

fn remove(doc: &mut Value, toks: &[String]) -> Result<Value> {
    let Some((last, parent)) = toks.split_last() else {
        return Ok(std::mem::replace(doc, Value::Null));
    };
    match parent_mut(doc, parent)? {
        Value::Map(m) => m
            .shift_remove(last)
            .ok_or_else(|| Error::new(format!("the target has no field `{last}` to remove"))),
        Value::Seq(s) => {
            let i = index(last, s.len(), false)?;
            Ok(s.remove(i))
        }
        _ => Err(Error::new("cannot remove a field of a scalar")),
    }
}

fn apply_one(doc: &mut Value, op: &Op) -> Result<()> {
    let toks = tokens(&op.path)?;
    // A missing `value` is null, as in Kustomize's library.
    let value = || op.value.clone().unwrap_or(Value::Null);
    let from = || {
        op.from
            .as_deref()
            .ok_or_else(|| {
                Error::new("the operation has no `from`").with_help("add a `from:` pointer")
            })
            .and_then(tokens)
    };
    match op.op.as_str() {
        "add" => add(doc, &toks, value()),
        "remove" => remove(doc, &toks).map(|_| ()),
        "replace" => replace(doc, &toks, value()),
        "move" => {
            let f = from()?;
            let v = remove(doc, &f)?;
            add(doc, &toks, v)
        }
        "copy" => {
            let v = get(doc, &from()?)?;
            add(doc, &toks, v)
        }
        "test" => {
            let want = value();
            let got = get(doc, &toks)?;
            if got == want {
                Ok(())
            } else {
                Err(Error::new(format!(
                    "test failed: found `{}`",
                    got.scalar_text()
                        .unwrap_or_else(|| "a collection".to_string())
                )))
            }
        }
        other => Err(Error::new(format!("unknown op `{other}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::test_doc as doc;

    #[test]
    fn ops() {
        for (start, ops, want) in [
            (
                "a: 1\n",
                "- {op: add, path: /b, value: 2}\n",
                Some("a: 1\nb: 2\n"),
            ),
            (
                "a: [1, 2]\n",
                "- {op: add, path: /a/-, value: 3}\n",
                Some("a: [1, 2, 3]\n"),
            ),
            (
                "a: [1, 2]\n",
                "- {op: add, path: /a/0, value: 0}\n",
                Some("a: [0, 1, 2]\n"),
            ),
            ("a: 1\nb: 2\n", "- {op: remove, path: /a}\n", Some("b: 2\n")),
            (
                "a: 1\n",
                "- {op: replace, path: /a, value: x}\n",
                Some("a: x\n"),
            ),
            (
                "a: 1\n",
                "- {op: replace, path: /b, value: x}\n",
                Some("a: 1\nb: x\n"),
            ),
            ("a: 1\n", "- {op: replace, path: /b/c, value: x}\n", None),
            (
                "a: [1, 2]\n",
                "- {op: add, path: /a/-1, value: 3}\n- {op: replace, path: /a/-1, value: 4}\n",
                Some("a: [1, 2, 4]\n"),
            ),
            ("a: [1, 2]\n", "- {op: add, path: /a/5, value: 3}\n", None),
            (
                "a: {}\n",
                "- {op: copy, from: /a/missing, path: /b}\n- {op: add, path: /c}\n",
                Some("a: {}\nb: null\nc: null\n"),
            ),
            (
                "a: {x: 1}\n",
                "- {op: move, from: /a/x, path: /y}\n",
                Some("a: {}\ny: 1\n"),
            ),
            (
                "a: {x: 1}\n",
                "- {op: copy, from: /a/x, path: /y}\n",
                Some("a: {x: 1}\ny: 1\n"),
            ),
            (
                "a/b: 1\n",
                "- {op: replace, path: /a~1b, value: 2}\n",
                Some("a/b: 2\n"),
            ),
            (
                "a: 1\n",
                "- {op: test, path: /a, value: 1}\n- {op: add, path: /t, value: ok}\n",
                Some("a: 1\nt: ok\n"),
            ),
            (
                "a: 1\n",
                "- {op: add, path: /t, value: ok}\n- {op: test, path: /a, value: 2}\n",
                None,
            ),
        ] {
            let mut d = doc(start);
            let ops = parse_ops(&doc(ops)).expect("ops");
            let r = apply(&mut d, &ops).map_err(|b| b.1);
            match want {
                Some(w) => {
                    r.expect("applies");
                    assert_eq!(d, doc(w), "{start}");
                }
                None => {
                    assert!(r.is_err(), "{start} should fail");
                    assert_eq!(d, doc(start), "atomic");
                }
            }
        }
    }
}
