//! Helm's command-line values beyond `a.b=v`: list indices (`--set list[0].name=x`, as
//! Helm: a missing index pads the list with nulls), `--set-json path=JSON` and
//! `--set-file path=FILE` (the file's text as a string).
//!
//! An assignment without an index goes to `Values::set` unchanged. One with an index
//! replaces the list it walks into, whole, attributed to the flag: the maps above it
//! merge as every layer does. The builder applies indexed assignments at every layer over
//! what that layer sees (a list usually comes from the base's `values.yaml`, below the
//! environment where the command line's values enter).

use crate::error::{Error, Result};
use crate::template::Values;
use crate::template::values::Source;
use crate::yaml::{self, Map, Value};

/// How the right-hand side of an assignment becomes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `--set`: YAML scalars (`3` is a number), `{a,b}` a list.
    Typed,
    /// `--set-string`
    Str,
    /// `--set-json`
    Json,
    /// `--set-file`
    File,
}

impl Kind {
    fn flag(self) -> &'static str {
        match self {
            Kind::Typed => "--set",
            Kind::Str => "--set-string",
            Kind::Json => "--set-json",
            Kind::File => "--set-file",
        }
    }
}

/// One step of a path: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The most a list index may pad a list to (Helm has no limit; a typo of `a[1000000000]`
/// would allocate gigabytes).
const MAX_INDEX: usize = 65_536;

/// Apply `expr` to `values` as the flag `kind` says.
pub fn apply(values: &Values, expr: &str, kind: Kind) -> Result<Values> {
    let assignments = match kind {
        // Helm: `a={"x": 1},b=[2]` is two assignments; a comma inside the JSON is its own.
        Kind::Json => split_json(expr),
        // One assignment per flag: commas belong to the file name.
        Kind::File => vec![expr.to_string()],
        Kind::Typed | Kind::Str => {
            if !has_index(expr) {
                return values.set(expr, kind == Kind::Str);
            }
            split_top(expr)
        }
    };
    let mut out = values.clone();
    for a in assignments {
        out = assign(&out, &a, kind)?;
    }
    Ok(out)
}

/// Whether an assignment of `expr` has a list index in its path.
pub fn has_index(expr: &str) -> bool {
    split_top(expr).iter().any(|a| first_has_index(a))
}

fn first_has_index(expr: &str) -> bool {
    let mut prev = '\0';
    for c in expr.chars() {
        if c == '=' && prev != '\\' {
            return false;
        }
        if c == '[' && prev != '\\' {
            return true;
        }
        prev = c;
    }
    false
}

/// `--set-json` assignments as Helm reads them: a key up to `=`, one JSON value, then a
/// comma and the next assignment. Text that does not read so is one assignment, whose JSON
/// error is then reported.
pub fn split_json(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    loop {
        let Some(eq) = rest.find('=') else {
            return vec![expr.to_string()];
        };
        let value = &rest[eq + 1..];
        let mut values = serde_json::Deserializer::from_str(value).into_iter::<serde_json::Value>();
        if !matches!(values.next(), Some(Ok(_))) {
            return vec![expr.to_string()];
        }
        let end = eq + 1 + values.byte_offset();
        out.push(rest[..end].to_string());
        match rest[end..].trim_start().strip_prefix(',') {
            Some(next) if !next.trim().is_empty() => rest = next.trim_start(),
            _ if rest[end..].trim().is_empty() => return out,
            _ => return vec![expr.to_string()],
        }
    }
}

/// Split at commas outside `{}` and `[]`.
fn split_top(expr: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut depth = 0i32;
    let mut prev = '\0';
    for c in expr.chars() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' if depth == 0 && prev != '\\' => {
                out.push(String::new());
                prev = c;
                continue;
            }
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
        prev = c;
    }
    out
}

fn usage(kind: Kind, a: &str, what: &str) -> Error {
    Error::new(format!("`{} {a}` {what}", kind.flag())).with_help(match kind {
        Kind::Json => "write `--set-json 'path.to.key={\"a\": 1}'`",
        Kind::File => "write `--set-file path.to.key=FILE`",
        _ => "write `--set path.to.key=value` or `--set list[0].key=value`",
    })
}

fn parse_path(kind: Kind, a: &str, path: &str) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    let mut key = String::new();
    let mut chars = path.chars().peekable();
    let mut after_index = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars
                .peek()
                .is_some_and(|n| matches!(n, '.' | '[' | '=' | ',')) =>
            {
                key.extend(chars.next());
            }
            '.' => {
                if key.is_empty() && !after_index {
                    return Err(usage(kind, a, "has an empty key"));
                }
                if !key.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut key)));
                }
                after_index = false;
            }
            '[' => {
                if !key.is_empty() {
                    steps.push(Step::Key(std::mem::take(&mut key)));
                } else if steps.is_empty() {
                    return Err(usage(kind, a, "starts with an index: values are a map"));
                }
                let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
                let i: usize = digits.parse().map_err(|_| {
                    usage(
                        kind,
                        a,
                        &format!("has the index `[{digits}]`, not a number"),
                    )
                })?;
                if i > MAX_INDEX {
                    return Err(usage(
                        kind,
                        a,
                        &format!("has the index {i}, above the limit {MAX_INDEX}"),
                    ));
                }
                steps.push(Step::Index(i));
                after_index = true;
            }
            c => {
                if after_index {
                    return Err(usage(kind, a, "needs a `.` after `]`"));
                }
                key.push(c);
            }
        }
    }
    if !key.is_empty() {
        steps.push(Step::Key(key));
    } else if !after_index {
        return Err(usage(kind, a, "has an empty key"));
    }
    Ok(steps)
}

/// A `--set` right-hand side: YAML scalars typed, `{a,b}` a list, anything else a string.
fn typed(raw: &str) -> Value {
    if let Some(inner) = raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        if inner.is_empty() {
            return Value::Seq(Vec::new());
        }
        return Value::Seq(inner.split(',').map(|x| typed(x.trim())).collect());
    }
    yaml::scalar_or_string(raw)
}

fn assign(values: &Values, a: &str, kind: Kind) -> Result<Values> {
    let Some((path, raw)) = split_eq(a) else {
        return Err(usage(kind, a, "is not `key=value`"));
    };
    let steps = parse_path(kind, a, &path)?;
    let value = match kind {
        Kind::Typed => typed(&raw),
        Kind::Str => Value::Str(raw.clone()),
        Kind::Json => {
            let j: serde_json::Value = serde_json::from_str(&raw)
                .map_err(|e| usage(kind, a, &format!("is not JSON: {e}")))?;
            yaml::from_json(&j)
        }
        Kind::File => {
            let file = std::path::Path::new(&raw);
            Value::Str(crate::fs::read_text(file).map_err(|e| {
                Error::new(format!("`--set-file {a}`: {}", e.message))
                    .with_help("the file is read relative to the working directory")
            })?)
        }
    };
    // The layer: maps down to the first list, which is replaced whole.
    let first_index = steps.iter().position(|s| matches!(s, Step::Index(_)));
    let (keys, rest) = match first_index {
        Some(i) => steps.split_at(i - 1),
        None => (&steps[..steps.len() - 1], &steps[steps.len() - 1..]),
    };
    let Some(Step::Key(last)) = rest.first() else {
        return Err(usage(kind, a, "has an empty key"));
    };
    let current = {
        let mut cur = Some(Value::Map(values.tree.clone()));
        for s in keys.iter().chain(std::iter::once(&rest[0])) {
            cur = match (cur, s) {
                (Some(Value::Map(mut m)), Step::Key(k)) => m.shift_remove(k),
                _ => None,
            };
        }
        cur
    };
    let replaced = put(current, &rest[1..], value);
    let mut leaf = Map::default();
    leaf.insert(last.clone(), replaced);
    for s in keys.iter().rev() {
        let Step::Key(k) = s else { continue };
        let mut m = Map::default();
        m.insert(k.clone(), Value::Map(leaf));
        leaf = m;
    }
    let layer = Values::from_map(
        leaf,
        Source {
            display: format!("{} {a}", kind.flag()),
            text: None,
            file: None,
        },
    );
    Ok(values.overlay(&layer))
}

/// `value` put at `steps` inside `current` (lists padded with nulls, maps created).
fn put(current: Option<Value>, steps: &[Step], value: Value) -> Value {
    let Some((first, rest)) = steps.split_first() else {
        return value;
    };
    match first {
        Step::Index(i) => {
            let mut list = match current {
                Some(Value::Seq(l)) => l,
                _ => Vec::new(),
            };
            if list.len() <= *i {
                list.resize(*i + 1, Value::Null);
            }
            let old = std::mem::replace(&mut list[*i], Value::Null);
            list[*i] = put(Some(old), rest, value);
            Value::Seq(list)
        }
        Step::Key(k) => {
            let mut map = match current {
                Some(Value::Map(m)) => m,
                _ => Map::default(),
            };
            let old = map.shift_remove(k);
            let new = put(old, rest, value);
            map.insert(k.clone(), new);
            Value::Map(map)
        }
    }
}

fn split_eq(s: &str) -> Option<(String, String)> {
    let mut prev = '\0';
    for (i, c) in s.char_indices() {
        if c == '=' && prev != '\\' {
            return Some((s[..i].to_string(), s[i + 1..].to_string()));
        }
        prev = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Values {
        Values::from_file(
            "values.yaml",
            "servers:\n- name: a\n  port: 80\n- name: b\nimage: {tag: x}\n".to_string(),
        )
        .expect("values")
    }

    fn yaml_of(v: &Values) -> String {
        yaml::to_yaml_string(&Value::Map(v.tree.clone()))
    }

    #[test]
    fn list_indices_set_json_and_strings() {
        for (expr, kind, want) in [
            (
                "servers[0].port=8080",
                Kind::Typed,
                "image:\n  tag: x\nservers:\n- name: a\n  port: 8080\n- name: b\n",
            ),
            (
                "servers[3]=c",
                Kind::Typed,
                "image:\n  tag: x\nservers:\n- name: a\n  port: 80\n- name: b\n- null\n- c\n",
            ),
            (
                "new[0].x=1,image.tag=y",
                Kind::Typed,
                "image:\n  tag: \"y\"\nnew:\n- x: 1\nservers:\n- name: a\n  port: 80\n- name: b\n",
            ),
            (
                "image={\"tag\": \"z\", \"pull\": [1, true]}",
                Kind::Json,
                "image:\n  pull:\n  - 1\n  - true\n  tag: z\nservers:\n- name: a\n  port: 80\n- name: b\n",
            ),
            (
                "servers[1].port=81",
                Kind::Str,
                "image:\n  tag: x\nservers:\n- name: a\n  port: 80\n- name: b\n  port: \"81\"\n",
            ),
        ] {
            let v = apply(&base(), expr, kind).expect(expr);
            assert_eq!(yaml_of(&v), want, "{expr}");
        }
        let v = apply(&base(), "servers[0].port=8080", Kind::Typed).expect("set");
        assert_eq!(
            v.origin(&["servers".to_string()]).as_deref(),
            Some("--set servers[0].port=8080")
        );
        assert_eq!(
            v.origin(&["image".to_string(), "tag".to_string()])
                .as_deref(),
            Some("values.yaml:5")
        );
        for bad in ["[0]=x", "a[x]=1", "a[99999999]=1", "a[0]b=1", "a..b[0]=1"] {
            assert!(apply(&base(), bad, Kind::Typed).is_err(), "{bad}");
        }
        assert!(apply(&base(), "a={", Kind::Json).is_err());
        // Several JSON assignments in one flag, as Helm takes them.
        let v = apply(
            &base(),
            r#"image={"tag": "z", "m": [1, 2]},extra=3"#,
            Kind::Json,
        )
        .expect("two assignments");
        assert_eq!(
            yaml_of(&v),
            "extra: 3\nimage:\n  m:\n  - 1\n  - 2\n  tag: z\nservers:\n- name: a\n  port: 80\n- name: b\n"
        );
        assert_eq!(
            split_json(r#"a={"x": ","},b="y,z""#),
            vec![r#"a={"x": ","}"#.to_string(), r#"b="y,z""#.to_string()]
        );
        assert_eq!(split_json("a=1,"), vec!["a=1,".to_string()]);
        assert!(apply(&base(), "a=1,b", Kind::Json).is_err());
    }
}
