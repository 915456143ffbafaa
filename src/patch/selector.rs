//! Patch targets: which resources a `target:` selects.
//!
//! `group`, `version`, `kind`, `name` and `namespace` are regular expressions anchored at
//! both ends; name and namespace match the original or the current value (so a patch
//! written against a base still finds its resource after a prefix). `labelSelector` and
//! `annotationSelector` use Kubernetes label-selector syntax (`a=b`, `a!=b`, `a in (x,y)`,
//! `a notin (x)`, `a`, `!a`).

use crate::error::{Error, Result};
use crate::resource::Resource;
use crate::yaml::{Map, Value};
use regex::Regex;

/// The fields a `target:` may have.
pub const FIELDS: &[&str] = &[
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
];

#[derive(Debug, Clone)]
pub struct Target {
    pub group: Option<Regex>,
    pub version: Option<Regex>,
    pub kind: Option<Regex>,
    pub name: Option<Regex>,
    pub namespace: Option<Regex>,
    pub labels: Vec<Requirement>,
    pub annotations: Vec<Requirement>,
    /// The selector as written, for messages.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

fn anchored(field: &str, pattern: &str) -> Result<Option<Regex>> {
    if pattern.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{pattern})$"))
        .map(Some)
        .map_err(|e| {
            Error::new(format!(
                "target `{field}` is not a valid regular expression: {e}"
            ))
            .with_help("target fields are regular expressions; escape special characters")
        })
}

impl Target {
    pub fn from_map(m: &Map) -> Result<Target> {
        let s = |k: &str| m.get(k).and_then(Value::scalar_text).unwrap_or_default();
        let mut text = Vec::new();
        for k in FIELDS {
            if !s(k).is_empty() {
                text.push(format!("{k}={}", s(k)));
            }
        }
        Ok(Target {
            group: anchored("group", &s("group"))?,
            version: anchored("version", &s("version"))?,
            kind: anchored("kind", &s("kind"))?,
            name: anchored("name", &s("name"))?,
            namespace: anchored("namespace", &s("namespace"))?,
            labels: parse_selector(&s("labelSelector"))?,
            annotations: parse_selector(&s("annotationSelector"))?,
            text: text.join(", "),
        })
    }

    pub fn selects(&self, r: &Resource) -> bool {
        let cur = r.id();
        let org = r.orig_id();
        let m = |re: &Option<Regex>, a: &str, b: &str| {
            re.as_ref()
                .is_none_or(|re| re.is_match(a) || re.is_match(b))
        };
        let one = |re: &Option<Regex>, a: &str| re.as_ref().is_none_or(|re| re.is_match(a));
        m(
            &self.namespace,
            org.effective_namespace(),
            cur.effective_namespace(),
        ) && m(&self.name, &org.name, &cur.name)
            && one(&self.group, &cur.gvk.group)
            && one(&self.version, &cur.gvk.version)
            && one(&self.kind, &cur.gvk.kind)
            && matches(&self.labels, r.meta_map("labels"))
            && matches(&self.annotations, r.meta_map("annotations"))
    }
}

/// Whether a label (or annotation) map satisfies every requirement.
pub fn matches(reqs: &[Requirement], map: Option<&Map>) -> bool {
    let get = |k: &str| map.and_then(|m| m.get(k)).and_then(Value::scalar_text);
    reqs.iter().all(|r| match r {
        Requirement::Equals(k, v) => get(k).as_deref() == Some(v.as_str()),
        Requirement::NotEquals(k, v) => get(k).as_deref() != Some(v.as_str()),
        Requirement::In(k, vs) => get(k).is_some_and(|x| vs.contains(&x)),
        Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.contains(&x)),
        Requirement::Exists(k) => get(k).is_some(),
        Requirement::NotExists(k) => get(k).is_none(),
    })
}

/// Parse a Kubernetes label selector.
pub fn parse_selector(text: &str) -> Result<Vec<Requirement>> {
    let mut out = Vec::new();
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    let bad = |p: &str| {
        Error::new(format!("invalid selector requirement `{}`", p.trim())).with_help(
            "use `key=value`, `key!=value`, `key in (a,b)`, `key notin (a)`, `key` or `!key`",
        )
    };
    for p in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        let set = |op: &str| -> Option<(String, Vec<String>)> {
            let (k, rest) = p.split_once(op)?;
            let rest = rest.trim();
            let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
            Some((
                k.trim().to_string(),
                inner.split(',').map(|v| v.trim().to_string()).collect(),
            ))
        };
        let req = if let Some((k, v)) = set(" notin ") {
            Requirement::NotIn(k, v)
        } else if let Some((k, v)) = set(" in ") {
            Requirement::In(k, v)
        } else if let Some((k, v)) = p.split_once("!=") {
            Requirement::NotEquals(k.trim().to_string(), v.trim().to_string())
        } else if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
            Requirement::Equals(k.trim().to_string(), v.trim().to_string())
        } else if let Some(k) = p.strip_prefix('!') {
            Requirement::NotExists(k.trim().to_string())
        } else if p.contains(char::is_whitespace) || p.contains('(') {
            return Err(bad(p));
        } else {
            Requirement::Exists(p.to_string())
        };
        out.push(req);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        use Requirement::*;
        assert_eq!(
            parse_selector("app=web, tier!=db,env in (dev, qa),x notin (y),has,!not")
                .expect("parses"),
            vec![
                Equals("app".into(), "web".into()),
                NotEquals("tier".into(), "db".into()),
                In("env".into(), vec!["dev".into(), "qa".into()]),
                NotIn("x".into(), vec!["y".into()]),
                Exists("has".into()),
                NotExists("not".into()),
            ]
        );
        assert!(parse_selector("a b").is_err());
        assert!(parse_selector("").expect("empty").is_empty());
    }
}
