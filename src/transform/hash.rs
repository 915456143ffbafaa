//! Name suffixes for generated ConfigMaps and Secrets, identical to Kustomize's.
//!
//! The suffix is the SHA-256 of Go's compact, key-sorted JSON of
//! `{"data":…,"kind":…,"name":""}` (plus `binaryData`, and for Secrets `type` and
//! `stringData`), its first ten hex digits with `0 1 3 a e` mapped to `g h k m t` (so the
//! suffix never looks like a number or a word). It is added once, at the top of the
//! build, after every merge and transformer, and the name-reference fix-up follows it.

use crate::resource::ResMap;
use crate::yaml::Value;
use sha2::{Digest, Sha256};

pub fn add_suffixes(rm: &mut ResMap) {
    for r in &mut rm.items {
        if !r.needs_hash {
            continue;
        }
        let suffix = hash(&r.doc);
        let name = format!("{}-{suffix}", r.name());
        r.store_previous_id();
        r.set_name(&name);
    }
}

/// The ten-character suffix for a ConfigMap or Secret document.
pub fn hash(doc: &Value) -> String {
    let kind = doc.str_at(&["kind"]).unwrap_or("");
    let mut fields: Vec<(&str, String)> = Vec::new();
    if let Some(b) = doc
        .get("binaryData")
        .and_then(Value::as_map)
        .filter(|m| !m.is_empty())
    {
        fields.push(("binaryData", json_map(b)));
    }
    // An absent `data` is an empty string; a present one, even `{}` (a generated Secret
    // always has it; a patch can empty a ConfigMap's), is its JSON.
    let data = doc.get("data").and_then(Value::as_map).map(json_map);
    fields.push(("data", data.unwrap_or_else(|| "\"\"".to_string())));
    fields.push(("kind", json_string(kind)));
    fields.push(("name", json_string("")));
    if kind == "Secret" {
        if let Some(s) = doc
            .get("stringData")
            .and_then(Value::as_map)
            .filter(|m| !m.is_empty())
        {
            fields.push(("stringData", json_map(s)));
        }
        fields.push(("type", json_string(doc.str_at(&["type"]).unwrap_or(""))));
    }
    let json = format!(
        "{{{}}}",
        fields
            .iter()
            .map(|(k, v)| format!("{}:{v}", json_string(k)))
            .collect::<Vec<_>>()
            .join(",")
    );
    let digest = Sha256::digest(json.as_bytes());
    digest
        .iter()
        .flat_map(|b| [b >> 4, b & 15])
        .take(10)
        .map(|n| match n {
            0 => 'g',
            1 => 'h',
            3 => 'k',
            10 => 'm',
            14 => 't',
            n => char::from_digit(u32::from(n), 16).unwrap_or('0'),
        })
        .collect()
}

fn json_map(m: &crate::yaml::Map) -> String {
    let mut entries: Vec<(&String, String)> = m.iter().map(|(k, v)| (k, json_value(v))).collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    format!(
        "{{{}}}",
        entries
            .iter()
            .map(|(k, v)| format!("{}:{v}", json_string(k)))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// A value as Go's `encoding/json` writes what Kustomize decoded: a patch can put a
/// boolean or a number in a generated map, and the hash sees it as one.
fn json_value(v: &Value) -> String {
    match v {
        Value::Str(s) => json_string(s),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Map(m) => json_map(m),
        Value::Seq(items) => format!(
            "[{}]",
            items.iter().map(json_value).collect::<Vec<_>>().join(",")
        ),
        number => number.scalar_text().unwrap_or_default(),
    }
}

/// A string as Go's `encoding/json` writes it (HTML-safe escaping).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    #[test]
    fn go_json_strings() {
        assert_eq!(
            json_string("a<b>&\"c\"\n"),
            "\"a\\u003cb\\u003e\\u0026\\\"c\\\"\\n\""
        );
    }

    #[test]
    fn suffix_alphabet() {
        let doc = parse_documents("kind: ConfigMap\ndata: {a: b}\n")
            .expect("yaml")
            .remove(0)
            .value;
        let h = hash(&doc);
        assert_eq!(h.len(), 10);
        assert!(h.chars().all(|c| !matches!(c, '0' | '1' | '3' | 'a' | 'e')));
    }
}
