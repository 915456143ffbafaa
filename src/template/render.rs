//! Rendering `.j2` files with minijinja.
//!
//! One environment per process holds every template, compiled once per file and reused by
//! every environment and layer that renders it. Undefined values are errors (`default`,
//! `is defined` and `if` still work), and the filters Helm users know are there: `toyaml`,
//! `indent`/`nindent`, `quote`, `b64encode`/`b64decode`, `sha256`, `required`.
//! Errors come back with the template file, line, the expression and, for an undefined
//! value, the closest key that does exist.

use super::Ctx;
use crate::error::{Error, Location, Result, closest};
use crate::yaml::{self, Map, Value};
use minijinja::value::{Value as J, ValueKind};
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{OnceLock, RwLock};

fn environment() -> &'static RwLock<Environment<'static>> {
    static ENV: OnceLock<RwLock<Environment<'static>>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        // Output is YAML text; minijinja would JSON-escape `*.yaml.j2` by default.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        // Booleans print as YAML and Helm write them (`true`, not Jinja's `True`).
        env.set_formatter(|out, state, value| {
            if value.kind() == ValueKind::Bool {
                out.write_str(if value.is_true() { "true" } else { "false" })
                    .map_err(|_| minijinja::Error::new(ErrorKind::WriteFailure, "cannot write"))
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        env.add_filter("toyaml", toyaml);
        env.add_filter("indent", |s: String, n: usize| indent(&s, n));
        env.add_filter("nindent", |s: String, n: usize| {
            format!("\n{}", indent(&s, n))
        });
        env.add_filter("quote", |v: J| quote(&text_of(&v)));
        env.add_filter("b64encode", |s: String| {
            crate::transform::generators::base64(s.as_bytes(), false)
        });
        env.add_filter(
            "b64decode",
            |s: String| -> std::result::Result<String, minijinja::Error> {
                decode_base64(&s).ok_or_else(|| {
                    minijinja::Error::new(ErrorKind::InvalidOperation, "not valid base64")
                })
            },
        );
        env.add_filter("sha256", |s: String| {
            Sha256::digest(s.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        });
        env.add_filter(
            "required",
            |v: J, message: Option<String>| -> std::result::Result<J, minijinja::Error> {
                let empty = v.is_undefined() || v.is_none() || v.as_str() == Some("");
                if empty {
                    Err(minijinja::Error::new(
                        ErrorKind::InvalidOperation,
                        message.unwrap_or_else(|| "a required value is missing".to_string()),
                    ))
                } else {
                    Ok(v)
                }
            },
        );
        RwLock::new(env)
    })
}

/// My value → a template value.
pub fn to_template(v: &Value) -> J {
    match v {
        Value::Null => J::from(()),
        Value::Bool(b) => J::from(*b),
        Value::Int(i) => J::from(*i),
        Value::UInt(u) => J::from(*u),
        Value::Float(f) => J::from(*f),
        Value::Str(s) => J::from(s.clone()),
        Value::Seq(items) => items.iter().map(to_template).collect(),
        Value::Map(m) => J::from_pairs(
            m.iter()
                .map(|(k, v)| (J::from(k.clone()), to_template(v)))
                .collect::<Vec<_>>(),
        ),
    }
}

/// A template value → my value (for `toyaml`).
pub fn from_template(v: &J) -> Value {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Bool(v.is_true()),
        ValueKind::Number => match v.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(f64::try_from(v.clone()).unwrap_or(0.0)),
        },
        ValueKind::String => Value::Str(v.as_str().unwrap_or("").to_string()),
        ValueKind::Map => {
            let mut m = Map::default();
            if let Ok(keys) = v.try_iter() {
                for k in keys {
                    let child = v.get_item(&k).unwrap_or_default();
                    m.insert(text_of(&k), from_template(&child));
                }
            }
            Value::Map(m)
        }
        _ => match v.try_iter() {
            Ok(items) => Value::Seq(items.map(|i| from_template(&i)).collect()),
            Err(_) => Value::Str(v.to_string()),
        },
    }
}

fn text_of(v: &J) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

fn toyaml(v: J) -> String {
    let value = from_template(&v);
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

fn indent(s: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    s.split('\n')
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
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

fn decode_base64(s: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8(out).ok()
}

/// Render `source` (the text of `file`) with the layer's values.
pub fn render(file: &Path, display: &str, source: &str, ctx: &Ctx) -> Result<String> {
    let name = file.display().to_string();
    let lock = environment();
    let known = lock
        .read()
        .map(|env| env.get_template(&name).is_ok())
        .unwrap_or(false);
    if !known {
        let mut env = lock.write().unwrap_or_else(|p| p.into_inner());
        if env.get_template(&name).is_err() {
            env.add_template_owned(name.clone(), source.to_string())
                .map_err(|e| template_error(file, display, source, &e, ctx))?;
        }
    }
    let env = lock.read().unwrap_or_else(|p| p.into_inner());
    let template = env
        .get_template(&name)
        .map_err(|e| template_error(file, display, source, &e, ctx))?;
    let context = J::from_pairs(vec![
        (
            J::from("values"),
            to_template(&Value::Map(ctx.values.tree.clone())),
        ),
        (J::from("env"), J::from(ctx.env.clone())),
    ]);
    template
        .render(context)
        .map_err(|e| template_error(file, display, source, &e, ctx))
}

fn template_error(
    file: &Path,
    display: &str,
    source: &str,
    e: &minijinja::Error,
    ctx: &Ctx,
) -> Error {
    let line = e.line().unwrap_or(1);
    let expr = e
        .range()
        .and_then(|r| source.get(r))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let loc = Location {
        file: file.to_path_buf(),
        line,
        col: 1,
        offset: 0,
    };
    match e.kind() {
        ErrorKind::UndefinedError => {
            let expr = expr.unwrap_or_else(|| "a value".to_string());
            let help = suggest(&expr, ctx).unwrap_or_else(|| {
                "define it in a values.yaml on this layer's inclusion path, pass `--set`, or use `| default(...)`".to_string()
            });
            Error::new(format!("undefined value `{expr}` in template {display}"))
                .at(loc)
                .with_help(help)
        }
        ErrorKind::SyntaxError => Error::new(format!(
            "template syntax error in {display}: {}",
            e.detail().unwrap_or("invalid syntax")
        ))
        .at(loc)
        .with_help("check the `{{ }}` and `{% %}` tags on this line"),
        _ => {
            let what = e
                .detail()
                .map(str::to_string)
                .unwrap_or_else(|| e.kind().to_string());
            let expr = expr.map(|x| format!(" in `{x}`")).unwrap_or_default();
            Error::new(format!("template {display} failed{expr}: {what}"))
                .at(loc)
                .with_help("check the values this template uses")
        }
    }
}

/// For `values.image.tagg`: "did you mean `values.image.tag`?"
fn suggest(expr: &str, ctx: &Ctx) -> Option<String> {
    let path: String = expr
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.'))
        .collect();
    let mut parts: Vec<&str> = path.split('.').collect();
    if parts.first() != Some(&"values") || parts.len() < 2 {
        return None;
    }
    parts.remove(0);
    let (last, parents) = parts.split_last()?;
    let mut cur = &ctx.values.tree;
    for p in parents {
        cur = cur.get(*p)?.as_map()?;
    }
    let near = closest(last, cur.keys().map(String::as_str))?;
    let mut full = vec!["values"];
    full.extend(parents.iter().copied());
    full.push(near);
    Some(format!("did you mean `{}`?", full.join(".")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Values;
    use std::sync::Arc;

    fn ctx(values: &str) -> Ctx {
        Ctx::new(
            Arc::new(Values::from_file("values.yaml", values.to_string()).expect("values")),
            "dev",
        )
    }

    #[test]
    fn renders_with_filters() {
        let c = ctx("name: web\nports: [80, 443]\nlabels: {a: b}\n");
        let src = "n: {{ values.name | quote }}\nenv: {{ env }}\nports:{{ values.ports | toyaml | nindent(2) }}\nx: {{ values.missing | default('d') }}\nh: {{ 'a' | sha256 }}\nb: {{ 'hi' | b64encode }}\n";
        let out = render(Path::new("/t/a.yaml.j2"), "a.yaml.j2", src, &c).expect("renders");
        assert_eq!(
            out,
            "n: \"web\"\nenv: dev\nports:\n  - 80\n  - 443\nx: d\nh: ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\nb: aGk=\n"
        );
    }

    #[test]
    fn undefined_values_are_errors_with_suggestions() {
        let c = ctx("image: {tag: '1'}\n");
        let err = render(
            Path::new("/t/b.yaml.j2"),
            "b.yaml.j2",
            "a: 1\nimage: {{ values.image.tagg }}\n",
            &c,
        )
        .expect_err("undefined");
        assert_eq!(err.location.expect("located").line, 2);
        assert_eq!(
            err.help.as_deref(),
            Some("did you mean `values.image.tag`?")
        );
        assert!(err.message.contains("values.image.tagg"), "{}", err.message);
    }

    #[test]
    fn required_fails_with_message() {
        let c = ctx("a: 1\n");
        let err = render(
            Path::new("/t/c.yaml.j2"),
            "c.yaml.j2",
            "x: {{ values.b | required('set b') }}\n",
            &c,
        )
        .expect_err("required");
        assert!(err.message.contains("set b"), "{}", err.message);
    }
}
