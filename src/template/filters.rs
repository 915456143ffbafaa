//! The filters templates get beyond minijinja's own, under their strata names and under
//! the names Helm users know from Sprig where the meaning is the same.
//!
//! | strata | Helm/Sprig | what |
//! |---|---|---|
//! | `toyaml` | `toYaml` | a value as YAML, as kustomize would print it |
//! | `fromyaml` | `fromYaml` | YAML text → a value (an error, not Helm's `Error` key, on bad input) |
//! | `tojson` (minijinja) | `toJson` | `toJson` writes as Go does: keys sorted, `<>&` escaped |
//! | `fromjson` | `fromJson` | JSON text → a value |
//! | `b64encode`, `b64decode` | `b64enc`, `b64dec` | base64 (`codec`) |
//! | `indent`, `nindent` | same | indent every line (`nindent` starts with a line break) |
//! | `quote`, `squote` | same | `"…"` with escapes; `'…'` with `'` doubled, as YAML reads it |
//! | `trunc` | same | the first `n` characters (the last `-n` when negative) |
//! | `trim_prefix`, `trim_suffix` | `trimPrefix`, `trimSuffix` | remove one prefix/suffix |
//! | `sha256` | `sha256sum` | hex SHA-256 of the text |
//! | `required` | same | the value, or an error with the message when it is empty |
//!
//! `default`, `upper`, `lower`, `trim`, `replace`, `title`, `join` are minijinja's and read
//! as Sprig's do in a pipeline (`values.x | default('d')`). Every filter that can grow its
//! input checks the size before it allocates (`--max-template-output`).

use super::render::{from_template, text_of, to_template};
use crate::yaml::{self, Map, Value};
use minijinja::value::Value as J;
use minijinja::{Environment, Error, ErrorKind};
use sha2::{Digest, Sha256};

type Result<T> = std::result::Result<T, Error>;

/// The names of the filters `register` adds (for suggestions on an unknown filter).
pub const NAMES: &[&str] = &[
    "toyaml",
    "toYaml",
    "fromyaml",
    "fromYaml",
    "toJson",
    "fromjson",
    "fromJson",
    "b64encode",
    "b64enc",
    "b64decode",
    "b64dec",
    "indent",
    "nindent",
    "quote",
    "squote",
    "trunc",
    "trim_prefix",
    "trimPrefix",
    "trim_suffix",
    "trimSuffix",
    "sha256",
    "sha256sum",
    "required",
];

/// Add strata's filters and their Helm names to `env`; `max` is the output limit.
pub fn register(env: &mut Environment<'static>, max: usize) {
    for name in ["toyaml", "toYaml"] {
        env.add_filter(name, toyaml);
    }
    for name in ["fromyaml", "fromYaml"] {
        env.add_filter(name, fromyaml);
    }
    env.add_filter("toJson", to_go_json);
    for name in ["fromjson", "fromJson"] {
        env.add_filter(name, fromjson);
    }
    for name in ["b64encode", "b64enc"] {
        env.add_filter(name, |s: String| crate::codec::encode(s.as_bytes(), false));
    }
    for name in ["b64decode", "b64dec"] {
        env.add_filter(name, |s: String| -> Result<String> {
            crate::codec::decode_lenient(&s)
                .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "not valid base64"))
        });
    }
    env.add_filter("indent", move |s: String, n: usize| indent(&s, n, max));
    env.add_filter("nindent", move |s: String, n: usize| {
        indent(&s, n, max).map(|t| format!("\n{t}"))
    });
    env.add_filter("quote", |v: J| quote(&text_of(&v)));
    env.add_filter("squote", |v: J| {
        format!("'{}'", text_of(&v).replace('\'', "''"))
    });
    env.add_filter("trunc", |v: J, n: i64| trunc(&text_of(&v), n));
    for name in ["trim_prefix", "trimPrefix"] {
        env.add_filter(name, |v: J, prefix: String| {
            let s = text_of(&v);
            s.strip_prefix(prefix.as_str()).unwrap_or(&s).to_string()
        });
    }
    for name in ["trim_suffix", "trimSuffix"] {
        env.add_filter(name, |v: J, suffix: String| {
            let s = text_of(&v);
            s.strip_suffix(suffix.as_str()).unwrap_or(&s).to_string()
        });
    }
    for name in ["sha256", "sha256sum"] {
        env.add_filter(name, |s: String| {
            Sha256::digest(s.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        });
    }
    env.add_filter("required", |v: J, message: Option<String>| -> Result<J> {
        let empty = v.is_undefined() || v.is_none() || v.as_str() == Some("");
        if empty {
            Err(Error::new(
                ErrorKind::InvalidOperation,
                message.unwrap_or_else(|| "a required value is missing".to_string()),
            ))
        } else {
            Ok(v)
        }
    });
}

fn toyaml(v: &J) -> String {
    let value = from_template(v);
    match &value {
        Value::Map(_) | Value::Seq(_) => {
            let mut root = Map::default();
            root.insert("v".into(), value.clone());
            // Print inside a wrapper to reuse the document printer, then unwrap one level.
            let doc = yaml::to_yaml_string(&Value::Map(root));
            let body: Vec<&str> = doc.lines().skip(1).collect();
            let indent = body
                .iter()
                .map(|l| l.len() - l.trim_start().len())
                .filter(|n| *n > 0)
                .min()
                .unwrap_or(0);
            let indent = if matches!(value, Value::Seq(_)) {
                0
            } else {
                indent
            };
            match &value {
                Value::Map(m) if m.is_empty() => "{}".to_string(),
                Value::Seq(s) if s.is_empty() => "[]".to_string(),
                _ => body
                    .iter()
                    .map(|l| l.get(indent..).unwrap_or(l))
                    .collect::<Vec<_>>()
                    .join("\n"),
            }
        }
        scalar => {
            let mut root = Map::default();
            root.insert("v".into(), scalar.clone());
            let doc = yaml::to_yaml_string(&Value::Map(root));
            doc.strip_prefix("v: ")
                .unwrap_or(&doc)
                .trim_end_matches('\n')
                .to_string()
        }
    }
}

/// Indent every line of `s` by `n` spaces; the size is checked before anything is
/// allocated, so `indent(100000000000)` is an error, not an abort.
fn indent(s: &str, n: usize, max: usize) -> std::result::Result<String, minijinja::Error> {
    let lines = s.split('\n').count();
    let size = n
        .checked_mul(lines)
        .and_then(|pad| pad.checked_add(s.len()));
    if size.is_none_or(|size| size > max) {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "indenting {lines} lines by {n} spaces exceeds the template output limit of {max} bytes (`--max-template-output`)"
            ),
        ));
    }
    let pad = " ".repeat(n);
    Ok(s.split('\n')
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n"))
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn fromyaml(s: &str) -> Result<J> {
    let docs = yaml::parse_documents(s).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("fromyaml: not YAML: {} (line {})", e.message, e.line),
        )
    })?;
    Ok(docs
        .first()
        .map(|d| to_template(&d.value))
        .unwrap_or_else(|| to_template(&Value::Map(Map::default()))))
}

fn fromjson(s: &str) -> Result<J> {
    let json: serde_json::Value = serde_json::from_str(s).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("fromjson: not JSON: {e}"),
        )
    })?;
    Ok(to_template(&yaml::from_json(&json)))
}

/// JSON as Go's `json.Marshal` writes it (Helm's `toJson`): compact, map keys sorted,
/// `<`, `>`, `&`, U+2028 and U+2029 escaped.
fn to_go_json(v: &J) -> Result<String> {
    let json = crate::yaml::to_json(&from_template(v));
    let text = serde_json::to_string(&sorted(json))
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("toJson: {e}")))?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Maps with their keys in byte order, at every depth.
fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<_> = m.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

/// Sprig's `trunc`: the first `n` characters, or the last `-n` when `n` is negative.
fn trunc(s: &str, n: i64) -> String {
    let len = s.chars().count();
    let k = usize::try_from(n.unsigned_abs())
        .unwrap_or(usize::MAX)
        .min(len);
    if n >= 0 {
        s.chars().take(k).collect()
    } else {
        s.chars().skip(len - k).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(src: &str) -> std::result::Result<String, Error> {
        let mut env = Environment::new();
        register(&mut env, 1 << 20);
        let values = yaml::from_json(&serde_json::json!({
            "name": "web",
            "labels": {"b": "2", "a": "<1>"},
            "ports": [80, 443],
        }));
        let values = to_template(&values);
        env.render_str(src, minijinja::context! { values => values })
    }

    #[test]
    fn helm_names_work_as_in_helm() {
        for (src, want) in [
            ("{{ values.labels | toYaml }}", "a: <1>\nb: \"2\""),
            (
                "{{ values.labels | toJson }}",
                r#"{"a":"\u003c1\u003e","b":"2"}"#,
            ),
            ("{{ values.ports | toJson }}", "[80,443]"),
            ("{{ 'hi' | b64enc }}|{{ 'aGk=' | b64dec }}", "aGk=|hi"),
            ("{{ 'a: [1, 2]' | fromYaml | toJson }}", r#"{"a":[1,2]}"#),
            ("{{ ('{\"x\": {\"y\": 1}}' | fromJson).x.y }}", "1"),
            (
                "{{ values.name | quote }} {{ \"it's\" | squote }}",
                "\"web\" 'it''s'",
            ),
            (
                "{{ 'abcdef' | trunc(3) }} {{ 'abcdef' | trunc(-2) }} {{ 'ab' | trunc(9) }}",
                "abc ef ab",
            ),
            (
                "{{ 'v1.2' | trimPrefix('v') }} {{ 'a.yaml' | trim_suffix('.yaml') }}",
                "1.2 a",
            ),
            ("{{ 'a' | sha256sum | trunc(8) }}", "ca978112"),
            ("x:{{ 'a\nb' | nindent(2) }}", "x:\n  a\n  b"),
        ] {
            assert_eq!(
                render(src).as_deref().map_err(|e| e.to_string()),
                Ok(want),
                "{src}"
            );
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        for src in [
            "{{ 'a: [' | fromYaml }}",
            "{{ '{' | fromJson }}",
            "{{ '%%' | b64dec }}",
            "{{ none | required('set it') }}",
        ] {
            assert!(render(src).is_err(), "{src}");
        }
    }
}
