//! The parameters an Application sets (`spec.source.plugin.parameters`), read from
//! `ARGOCD_APP_PARAMETERS`.
//!
//! Argo CD passes them twice: as one JSON array (`[{"name": …, "string"|"array"|"map": …}]`)
//! and as `PARAM_<NAME>` variables whose names are upper-cased with every character outside
//! `[A-Z0-9_]` turned into `_`. The variables lose information (`image.tag` and `image-tag`
//! are both `PARAM_IMAGE_TAG`, and a map's keys are mangled too), so strata reads the JSON
//! only. The Application is input like any other: names are checked for their shape, every
//! parameter has exactly one value, and counts and sizes are bounded.

use crate::error::{Error, Result, closest};
use std::collections::BTreeMap;

/// The most parameters one Application may set.
pub const MAX_PARAMETERS: usize = 256;
/// The most items of one array or map parameter.
pub const MAX_ITEMS: usize = 1024;
/// The longest name (of a parameter or a map key) and the longest value, in bytes.
pub const MAX_NAME: usize = 253;
pub const MAX_VALUE: usize = 64 << 10;

/// One parameter's value: Argo CD's three collection types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    String(String),
    Array(Vec<String>),
    Map(BTreeMap<String, String>),
}

impl ParamValue {
    pub fn kind(&self) -> &'static str {
        match self {
            ParamValue::String(_) => "string",
            ParamValue::Array(_) => "array",
            ParamValue::Map(_) => "map",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub value: ParamValue,
}

/// Whether `name` may name a parameter or a map key: letters, digits, `_`, `-`, `.` and `/`
/// (a values path such as `image.tag` or `replica-count`; `\.` for a dot inside a key), not
/// starting with `.`, `-` or `/`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with(['.', '-', '/'])
        && !name.contains("..")
        && !name.replace("\\.", "").contains('\\')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '\\'))
}

fn name_error(what: &str, name: &str) -> Error {
    let shown: String = name.chars().take(64).collect();
    Error::new(format!("{what} `{}` is not a valid name", shown.escape_debug())).with_help(
        "names are letters, digits, `_`, `-`, `.` and `/` (a values path such as `image.tag`), at most 253 characters",
    )
}

/// A value: at most 64 KiB, no control characters but newline and tab.
fn check_value(param: &str, v: &str) -> Result<()> {
    if v.len() > MAX_VALUE {
        return Err(Error::new(format!(
            "parameter `{param}` has a value of {} bytes",
            v.len()
        ))
        .with_help("a parameter value may be at most 64 KiB; put large values in a values file"));
    }
    if let Some(c) = v
        .chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(Error::new(format!(
            "parameter `{param}` holds the control character `{}`",
            c.escape_unicode()
        ))
        .with_help("parameter values are text; remove the control character"));
    }
    Ok(())
}

/// The `array` of parameter `name`: strings, at most `MAX_ITEMS`.
fn array_value(
    name: &str,
    v: &serde_json::Value,
    bad: &dyn Fn(String) -> Error,
) -> Result<ParamValue> {
    let serde_json::Value::Array(a) = v else {
        return Err(bad(format!("`{name}`: `array` is not an array")));
    };
    if a.len() > MAX_ITEMS {
        return Err(
            Error::new(format!("parameter `{name}` has {} items", a.len()))
                .with_help(format!("an array parameter has at most {MAX_ITEMS} items")),
        );
    }
    let mut items = Vec::with_capacity(a.len());
    for x in a {
        let serde_json::Value::String(s) = x else {
            return Err(bad(format!("`{name}`: an array item is not a string")));
        };
        check_value(name, s)?;
        items.push(s.clone());
    }
    Ok(ParamValue::Array(items))
}

/// The `map` of parameter `name`: string values under valid keys, at most `MAX_ITEMS`.
fn map_value(
    name: &str,
    v: &serde_json::Value,
    bad: &dyn Fn(String) -> Error,
) -> Result<ParamValue> {
    let serde_json::Value::Object(m) = v else {
        return Err(bad(format!("`{name}`: `map` is not an object")));
    };
    if m.len() > MAX_ITEMS {
        return Err(
            Error::new(format!("parameter `{name}` has {} entries", m.len()))
                .with_help(format!("a map parameter has at most {MAX_ITEMS} entries")),
        );
    }
    let mut entries = BTreeMap::new();
    for (k, x) in m {
        if !valid_name(k) {
            return Err(name_error(&format!("key of parameter `{name}`"), k));
        }
        let serde_json::Value::String(s) = x else {
            return Err(bad(format!("`{name}`: the value of `{k}` is not a string")));
        };
        check_value(name, s)?;
        entries.insert(k.clone(), s.clone());
    }
    Ok(ParamValue::Map(entries))
}

/// Parse `ARGOCD_APP_PARAMETERS` (absent or `null`: no parameters).
pub fn parse(json: &str) -> Result<Vec<Parameter>> {
    let bad = |why: String| {
        Error::new(format!(
            "`ARGOCD_APP_PARAMETERS` is not a parameter list: {why}"
        ))
        .with_help("`spec.source.plugin.parameters` takes items `{name, string | array | map}`")
    };
    let raw: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let items = match raw {
        serde_json::Value::Null => return Ok(Vec::new()),
        serde_json::Value::Array(items) => items,
        _ => return Err(bad("not a JSON array".into())),
    };
    if items.len() > MAX_PARAMETERS {
        return Err(Error::new(format!(
            "the Application sets {} parameters",
            items.len()
        ))
        .with_help(format!(
            "at most {MAX_PARAMETERS} parameters; put the rest in a values file (`valueFiles`)"
        )));
    }
    let mut out: Vec<Parameter> = Vec::with_capacity(items.len());
    for item in items {
        let serde_json::Value::Object(obj) = item else {
            return Err(bad("an item is not an object".into()));
        };
        let name = match obj.get("name") {
            Some(serde_json::Value::String(n)) => n.clone(),
            _ => return Err(bad("an item has no `name`".into())),
        };
        if !valid_name(&name) {
            return Err(name_error("parameter", &name));
        }
        if out.iter().any(|p| p.name == name) {
            return Err(Error::new(format!("parameter `{name}` is set twice"))
                .with_help("set each parameter once in `spec.source.plugin.parameters`"));
        }
        let mut values = Vec::new();
        for (key, v) in &obj {
            match key.as_str() {
                "name" => {}
                "string" => match v {
                    serde_json::Value::String(s) => {
                        check_value(&name, s)?;
                        values.push(ParamValue::String(s.clone()));
                    }
                    _ => return Err(bad(format!("`{name}`: `string` is not a string"))),
                },
                "array" => values.push(array_value(&name, v, &bad)?),
                "map" => values.push(map_value(&name, v, &bad)?),
                other => {
                    let mut err = Error::new(format!(
                        "parameter `{name}` has an unknown field `{}`",
                        other.escape_debug()
                    ));
                    err = match closest(other, ["string", "array", "map"]) {
                        Some(c) => err.with_help(format!("did you mean `{c}`?")),
                        None => err.with_help(
                            "a parameter has `name` and one of `string`, `array`, `map`",
                        ),
                    };
                    return Err(err);
                }
            }
        }
        let value = match values.len() {
            1 => values.remove(0),
            0 => {
                return Err(Error::new(format!("parameter `{name}` has no value"))
                    .with_help("give it a `string`, an `array` or a `map`, or remove it"));
            }
            _ => {
                return Err(
                    Error::new(format!("parameter `{name}` has {} values", values.len()))
                        .with_help("give a parameter one of `string`, `array` or `map`"),
                );
            }
        };
        out.push(Parameter { name, value });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_kinds_parse() {
        let p = parse(
            r#"[{"name":"env","string":"prod"},{"name":"set","array":["a=1","b.c=2"]},
                {"name":"values","map":{"image.tag":"v2","replica-count":"3"}}]"#,
        )
        .unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].value, ParamValue::String("prod".into()));
        assert_eq!(
            p[1].value,
            ParamValue::Array(vec!["a=1".into(), "b.c=2".into()])
        );
        let ParamValue::Map(m) = &p[2].value else {
            panic!()
        };
        assert_eq!(m["image.tag"], "v2");
        assert_eq!(parse("null").unwrap(), vec![]);
        assert_eq!(parse("[]").unwrap(), vec![]);
        // Argo CD marshals an empty map or array as `{}` / `[]`: they are values.
        let p = parse(r#"[{"name":"set","array":[]},{"name":"values","map":{}}]"#).unwrap();
        assert_eq!(p[0].value, ParamValue::Array(vec![]));
    }

    #[test]
    fn hostile_or_malformed_parameters_are_refused() {
        for (json, want) in [
            (r#"{"name":"x"}"#, "not a JSON array"),
            (r#"[{"string":"x"}]"#, "no `name`"),
            (r#"[{"name":"x"}]"#, "has no value"),
            (
                r#"[{"name":"x","string":"a","array":["b"]}]"#,
                "has 2 values",
            ),
            (r#"[{"name":"x","strng":"a"}]"#, "did you mean `string`"),
            (r#"[{"name":"--set","string":"a"}]"#, "not a valid name"),
            (r#"[{"name":"a b","string":"a"}]"#, "not a valid name"),
            (r#"[{"name":"../x","string":"a"}]"#, "not a valid name"),
            (
                r#"[{"name":"x","string":"a"},{"name":"x","string":"b"}]"#,
                "set twice",
            ),
            (
                r#"[{"name":"x","string":"a\u001b[31m"}]"#,
                "control character",
            ),
            (r#"[{"name":"x","map":{"a=b":"c"}}]"#, "not a valid name"),
            (r#"[{"name":"x","array":[1]}]"#, "not a string"),
        ] {
            let err = parse(json).unwrap_err();
            assert!(
                err.message.contains(want) || err.help.as_deref().unwrap_or("").contains(want),
                "{json}: {} / {:?}",
                err.message,
                err.help
            );
        }
        let many: Vec<String> = (0..=MAX_PARAMETERS)
            .map(|i| format!(r#"{{"name":"p{i}","string":"v"}}"#))
            .collect();
        assert!(parse(&format!("[{}]", many.join(","))).is_err());
        let long = "x".repeat(MAX_VALUE + 1);
        assert!(parse(&format!(r#"[{{"name":"p","string":"{long}"}}]"#)).is_err());
    }

    #[test]
    fn names_allow_values_paths() {
        for ok in [
            "env",
            "image.tag",
            "replica-count",
            "a_b",
            "team/app",
            "x1",
            "a\\.b",
        ] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "", ".x", "a..b", "a b", "a=b", "-", "--set", "/etc", "a\nb", "é", "a\\b",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
