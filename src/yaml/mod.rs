//! The document model and its YAML reader and printer.
//!
//! Kustomize reads YAML with go-yaml v3 and prints through a JSON round trip with go-yaml v2.
//! `Value` is the JSON-like tree in between: scalars are already typed the way go-yaml v3
//! resolves them (so `0777` is the integer 511 and `"0777"` stays a string), maps keep their
//! insertion order (the printer sorts keys the way go-yaml v2 does). `parse` turns text into
//! documents that remember the line they start on; `print` writes one document exactly as
//! `kubectl kustomize` prints it.

pub mod annotations;
mod build;
pub mod errors;
mod locate;
mod parse;
mod print;
mod scalar;

pub use locate::locate;
pub use parse::{
    AliasBudget, Document, Look, PathSeg, StringStyle, Texts, YamlError, parse_documents,
    parse_documents_in, parse_kustomization_in, parse_objects_in, parse_patch_written_in,
    parse_string_styles_in, parse_yaml11_in,
};
#[cfg(any(test, feature = "fuzzing"))]
pub use print::json_round_trip;
pub use print::{prints_plain, to_yaml_string};
pub use scalar::{is_yaml11_only_bool, plain_is_string, plain_scalar, refolded};

/// `raw` read as a YAML scalar (`3` a number, `"x"` the string x, `true` a boolean), or the
/// string itself when it reads as anything else (a map, a list, invalid YAML): how `--set`,
/// `values` layers and Argo CD parameters type a text.
pub fn scalar_or_string(raw: &str) -> Value {
    match parse_documents(raw)
        .ok()
        .and_then(|d| d.into_iter().next())
        .map(|d| d.value)
    {
        Some(
            v @ (Value::Null
            | Value::Bool(_)
            | Value::Int(_)
            | Value::UInt(_)
            | Value::Float(_)
            | Value::Str(_)),
        ) => v,
        _ => Value::Str(raw.to_string()),
    }
}

/// A JSON value as a YAML one (numbers as Go's decoder keeps them: integers exact, others
/// float64).
pub fn from_json(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            _ => Value::Float(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(a) => Value::Seq(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Value::Map(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}

/// A YAML value as JSON (a float JSON cannot hold, NaN or infinite, becomes null).
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::UInt(u) => serde_json::Value::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Str(s) => serde_json::Value::String(s.clone()),
        Value::Seq(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => {
            serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

/// A short description of a value's type for messages.
pub fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::UInt(_) => "a number",
        Value::Float(_) => "a number",
        Value::Str(_) => "a string",
        Value::Seq(_) => "a list",
        Value::Map(_) => "a map",
    }
}

/// Whether kubectl can print `c`: its JSON encoder escapes C0 controls, but leaves DEL, the
/// C1 controls (except NEL) and U+FFFE/U+FFFF raw, and its YAML reader then refuses them.
pub fn unprintable(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
}

/// The first character of `s` kubectl cannot print, if any (a byte scan first: such
/// characters start with 0x7f, 0xc2 or 0xef in UTF-8).
pub fn first_unprintable(s: &str) -> Option<char> {
    if !s.bytes().any(|b| matches!(b, 0x7f | 0xc2 | 0xef)) {
        return None;
    }
    s.chars().find(|c| unprintable(*c))
}

/// The path and character of the first string (key or value) in `v` kubectl cannot print.
pub fn find_unprintable(v: &Value, path: &mut Vec<String>) -> Option<char> {
    match v {
        Value::Str(s) => first_unprintable(s),
        Value::Seq(items) => items.iter().enumerate().find_map(|(i, item)| {
            path.push(i.to_string());
            let found = find_unprintable(item, path);
            if found.is_none() {
                path.pop();
            }
            found
        }),
        Value::Map(m) => m.iter().find_map(|(k, item)| {
            path.push(k.clone());
            let found = first_unprintable(k).or_else(|| find_unprintable(item, path));
            if found.is_none() {
                path.pop();
            }
            found
        }),
        _ => None,
    }
}

/// The first document of `text` (tests only).
#[cfg(test)]
pub(crate) fn test_doc(text: &str) -> Value {
    parse_documents(text).expect("yaml").remove(0).value
}

use indexmap::IndexMap;

/// A mapping whose keys keep insertion order.
pub type Map = IndexMap<String, Value, rustc_hash::FxBuildHasher>;

/// One node of a document.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` that still fits 64 bits.
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Value>),
    Map(Map),
}

impl Value {
    /// The value as JSON (a float JSON cannot hold, NaN or infinite, becomes null).
    ///
    /// ```
    /// let docs = strata::parse_documents("a: [1, x]\n", "in.yaml".as_ref()).unwrap();
    /// assert_eq!(docs[0].value.to_json(), serde_json::json!({"a": [1, "x"]}));
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        to_json(self)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value at `key` when this is a map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.as_map_mut().and_then(|m| m.get_mut(key))
    }

    /// The string at a path of map keys, if every step exists.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        let mut cur = self;
        for k in path {
            cur = cur.get(k)?;
        }
        cur.as_str()
    }

    /// A scalar as the text kustomize would see (`3`, `true`, `abc`); `None` for collections.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Value::Null => Some(String::new()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::UInt(u) => Some(u.to_string()),
            Value::Float(f) => Some(print::format_float(*f)),
            Value::Str(s) => Some(s.clone()),
            Value::Seq(_) | Value::Map(_) => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
