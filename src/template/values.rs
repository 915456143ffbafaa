//! Values: the layered, typed inputs of templates, each leaf remembering where it came from.
//!
//! A `Values` is the tree templates see plus a shadow tree of origins. Layers combine with
//! `overlay` (Helm semantics: maps merge recursively, lists and scalars replace, an explicit
//! `null` deletes the key). Origins are cheap to carry — a shared source and a path — and
//! the line is looked up only when an error or `strata values` asks for it.

use crate::error::{Error, Result};
use crate::yaml::{self, Map, Value};
use indexmap::IndexMap;
use std::sync::Arc;

/// Where values come from: a file (with its text, for line look-ups) or a `--set`.
#[derive(Debug, PartialEq, Eq)]
pub struct Source {
    pub display: String,
    pub text: Option<String>,
    /// The file on disk, when the values came from one.
    pub file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone)]
enum Shadow {
    Leaf { src: Arc<Source>, path: Vec<String> },
    Map(IndexMap<String, Shadow>),
}

#[derive(Debug, Clone)]
pub struct Values {
    pub tree: Map,
    shadow: IndexMap<String, Shadow>,
}

impl Default for Values {
    fn default() -> Values {
        Values::empty()
    }
}

fn shadow_of(v: &Value, src: &Arc<Source>, path: &mut Vec<String>) -> Shadow {
    match v {
        Value::Map(m) => Shadow::Map(
            m.iter()
                .map(|(k, child)| {
                    path.push(k.clone());
                    let s = shadow_of(child, src, path);
                    path.pop();
                    (k.clone(), s)
                })
                .collect(),
        ),
        _ => Shadow::Leaf {
            src: src.clone(),
            path: path.clone(),
        },
    }
}

impl Values {
    pub fn empty() -> Values {
        Values {
            tree: Map::default(),
            shadow: IndexMap::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Values from a map, all attributed to `src`.
    pub(crate) fn from_map(tree: Map, src: Source) -> Values {
        let src = Arc::new(src);
        let shadow = match shadow_of(&Value::Map(tree.clone()), &src, &mut Vec::new()) {
            Shadow::Map(m) => m,
            Shadow::Leaf { .. } => IndexMap::new(),
        };
        Values { tree, shadow }
    }

    /// Parse a values file (`display` is how messages name it).
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn from_file(display: &str, text: String) -> Result<Values> {
        Values::from_path(None, display, text)
    }

    /// Parse a values file read from `file`.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn from_path(
        file: Option<&std::path::Path>,
        display: &str,
        text: String,
    ) -> Result<Values> {
        Values::from_path_in(file, display, text, &yaml::AliasBudget::default())
    }

    /// Parse a values file read from `file`, drawing on a build's alias budget.
    pub(crate) fn from_path_in(
        file: Option<&std::path::Path>,
        display: &str,
        text: String,
        aliases: &yaml::AliasBudget,
    ) -> Result<Values> {
        let docs = yaml::parse_documents_in(&text, false, aliases).map_err(|e| match file {
            Some(file) => yaml::errors::yaml_error_in(file, &text, e),
            None => Error::new(format!("{display}:{}:{}: {}", e.line, e.col, e.message)).with_help(
                e.help
                    .clone()
                    .unwrap_or_else(|| "values files are YAML maps of settings".to_string()),
            ),
        })?;
        let tree = match docs.into_iter().find(|d| !d.value.is_null()) {
            None => Map::default(),
            Some(yaml::Document {
                value: Value::Map(m),
                ..
            }) => m,
            Some(d) => {
                let e = Error::new(format!(
                    "values must be a map, found {}",
                    yaml::describe(&d.value)
                ))
                .with_help("write `key: value` settings at the top level");
                return Err(match file {
                    Some(file) => e.at(crate::error::Location {
                        file: file.to_path_buf(),
                        line: d.line,
                        col: 1,
                        offset: d.offset,
                    }),
                    None => e.context(display),
                });
            }
        };
        Ok(Values::from_map(
            tree,
            Source {
                display: display.to_string(),
                text: Some(text),
                file: file.map(std::path::Path::to_path_buf),
            },
        ))
    }

    /// `over` laid on `self`: maps merge, everything else from `over` wins, `null` deletes.
    pub(crate) fn overlay(&self, over: &Values) -> Values {
        let mut tree = self.tree.clone();
        let mut shadow = self.shadow.clone();
        merge_into(&mut tree, &mut shadow, &over.tree, &over.shadow);
        Values { tree, shadow }
    }

    /// Apply a `--set` (typed) or `--set-string` assignment: `a.b.c=value`, `\.` escapes a
    /// dot, commas separate several assignments, `{x,y}` is a list.
    pub(crate) fn set(&self, expr: &str, as_string: bool) -> Result<Values> {
        let mut out = self.clone();
        for assignment in split_unescaped(expr, ',') {
            let Some((path, raw)) = split_once_unescaped(&assignment, '=') else {
                return Err(
                    Error::new(format!("`--set {assignment}` is not `key=value`"))
                        .with_help("write `--set path.to.key=value`"),
                );
            };
            let keys: Vec<String> = split_unescaped(&path, '.')
                .into_iter()
                .map(|k| k.replace("\\.", "."))
                .collect();
            if keys.iter().any(String::is_empty) {
                return Err(Error::new(format!("`--set {assignment}` has an empty key"))
                    .with_help("write `--set path.to.key=value`"));
            }
            let value = parse_set_value(&raw, as_string);
            let mut leaf = value;
            for k in keys.iter().rev() {
                let mut m = Map::default();
                m.insert(k.clone(), leaf);
                leaf = Value::Map(m);
            }
            let Value::Map(tree) = leaf else { continue };
            let flag = if as_string { "--set-string" } else { "--set" };
            let layer = Values::from_map(
                tree,
                Source {
                    display: format!("{flag} {assignment}"),
                    text: None,
                    file: None,
                },
            );
            merge_into(&mut out.tree, &mut out.shadow, &layer.tree, &layer.shadow);
        }
        Ok(out)
    }

    /// `file:line` (or `--set …`) for the value at `path`, or its nearest parent.
    pub(crate) fn origin(&self, path: &[String]) -> Option<String> {
        let mut cur = &self.shadow;
        let mut found: Option<&Shadow> = None;
        for k in path {
            match cur.get(k) {
                Some(Shadow::Map(m)) => cur = m,
                Some(leaf @ Shadow::Leaf { .. }) => {
                    found = Some(leaf);
                    break;
                }
                None => return None,
            }
        }
        match found {
            Some(Shadow::Leaf { src, path }) => Some(describe(src, path)),
            _ => None,
        }
    }

    /// The values without explicit nulls (a null deletes in the layers below; templates and
    /// schemas of this layer see the key as absent).
    pub(crate) fn without_nulls(&self) -> Values {
        fn strip(tree: &mut Map, shadow: &mut IndexMap<String, Shadow>) {
            tree.retain(|_, v| !v.is_null());
            shadow.retain(|k, _| tree.contains_key(k));
            for (k, v) in tree.iter_mut() {
                if let (Value::Map(m), Some(Shadow::Map(s))) = (v, shadow.get_mut(k)) {
                    strip(m, s);
                }
            }
        }
        let mut out = self.clone();
        strip(&mut out.tree, &mut out.shadow);
        out
    }

    /// The file position of the value at `path`, when it came from a file.
    pub(crate) fn location(&self, path: &[String]) -> Option<crate::error::Location> {
        let mut cur = &self.shadow;
        for k in path {
            match cur.get(k)? {
                Shadow::Map(m) => cur = m,
                Shadow::Leaf { src, path } => {
                    let refs: Vec<&str> = path.iter().map(String::as_str).collect();
                    let (line, col, offset) = yaml::locate(src.text.as_deref()?, 0, &refs)?;
                    return Some(crate::error::Location {
                        file: src.file.clone()?,
                        line,
                        col,
                        offset,
                    });
                }
            }
        }
        None
    }

    /// The merged values as YAML, each leaf followed by `# file:line`.
    pub fn annotated(&self) -> String {
        let mut out = String::new();
        annotate(&self.tree, &self.shadow, 0, &mut out);
        out
    }
}

fn describe(src: &Source, path: &[String]) -> String {
    match &src.text {
        Some(text) => {
            let refs: Vec<&str> = path.iter().map(String::as_str).collect();
            match yaml::locate(text, 0, &refs) {
                Some((line, _, _)) => format!("{}:{line}", src.display),
                None => src.display.clone(),
            }
        }
        None => src.display.clone(),
    }
}

fn annotate(tree: &Map, shadow: &IndexMap<String, Shadow>, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    for (k, v) in tree {
        match (v, shadow.get(k)) {
            (Value::Map(m), Some(Shadow::Map(s))) if !m.is_empty() => {
                let key = yaml::to_yaml_string(&Value::Map(
                    std::iter::once((k.clone(), Value::Null)).collect(),
                ));
                let key = key.trim_end().trim_end_matches("null").trim_end();
                out.push_str(&format!("{pad}{key}\n"));
                annotate(m, s, depth + 1, out);
            }
            _ => {
                let text = yaml::to_yaml_string(&Value::Map(
                    std::iter::once((k.clone(), v.clone())).collect(),
                ));
                let origin = match shadow.get(k) {
                    Some(Shadow::Leaf { src, path }) => describe(src, path),
                    _ => String::new(),
                };
                for (i, line) in text.lines().enumerate() {
                    if i == 0 && !origin.is_empty() {
                        out.push_str(&format!("{pad}{line}  # {origin}\n"));
                    } else {
                        out.push_str(&format!("{pad}{line}\n"));
                    }
                }
            }
        }
    }
}

fn merge_into(
    tree: &mut Map,
    shadow: &mut IndexMap<String, Shadow>,
    over: &Map,
    over_shadow: &IndexMap<String, Shadow>,
) {
    for (k, v) in over {
        let os = over_shadow.get(k);
        match v {
            Value::Null => {
                tree.shift_remove(k);
                shadow.shift_remove(k);
            }
            Value::Map(om) => {
                if let (Some(Value::Map(bm)), Some(Shadow::Map(bs)), Some(Shadow::Map(oss))) =
                    (tree.get_mut(k), shadow.get_mut(k), os)
                {
                    merge_into(bm, bs, om, oss);
                    continue;
                }
                // A map replacing a scalar (or a new key): nulls inside it still delete.
                let mut fresh = Map::default();
                let mut fresh_shadow = IndexMap::new();
                if let Some(Shadow::Map(oss)) = os {
                    merge_into(&mut fresh, &mut fresh_shadow, om, oss);
                }
                tree.insert(k.clone(), Value::Map(fresh));
                shadow.insert(k.clone(), Shadow::Map(fresh_shadow));
            }
            other => {
                tree.insert(k.clone(), other.clone());
                if let Some(s) = os {
                    shadow.insert(k.clone(), s.clone());
                }
            }
        }
    }
}

fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut depth = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(&n) = chars.peek()
                    && n == sep
                {
                    if let Some(last) = out.last_mut() {
                        last.push('\\');
                        last.push(n);
                    }
                    chars.next();
                    continue;
                }
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
            '{' => {
                depth += 1;
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
            '}' => {
                depth -= 1;
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
            c if c == sep && depth == 0 => out.push(String::new()),
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    if sep == ',' {
        out.into_iter().map(|s| s.replace("\\,", ",")).collect()
    } else {
        out
    }
}

fn split_once_unescaped(s: &str, sep: char) -> Option<(String, String)> {
    let mut prev = '\0';
    for (i, c) in s.char_indices() {
        if c == sep && prev != '\\' {
            return Some((s[..i].to_string(), s[i + c.len_utf8()..].to_string()));
        }
        prev = c;
    }
    None
}

fn parse_set_value(raw: &str, as_string: bool) -> Value {
    if let Some(inner) = raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        let items = if inner.is_empty() {
            Vec::new()
        } else {
            inner
                .split(',')
                .map(|x| parse_set_value(x.trim(), as_string))
                .collect()
        };
        return Value::Seq(items);
    }
    if as_string {
        return Value::Str(raw.to_string());
    }
    yaml::scalar_or_string(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(display: &str, text: &str) -> Values {
        Values::from_file(display, text.to_string()).expect("values")
    }

    #[test]
    fn overlay_semantics() {
        let base = vals(
            "base/values.yaml",
            "replicas: 1\nimage: {repo: web, tag: '1'}\nports: [80, 443]\ningress: {enabled: true}\n",
        );
        let prod = vals(
            "prod/values.yaml",
            "replicas: 5\nimage: {tag: '2'}\nports: [8080]\ningress: null\n",
        );
        let v = base.overlay(&prod);
        let want = vals(
            "x",
            "replicas: 5\nimage: {repo: web, tag: '2'}\nports: [8080]\n",
        )
        .tree;
        assert_eq!(v.tree, want);
        assert_eq!(
            v.origin(&["replicas".into()]).as_deref(),
            Some("prod/values.yaml:1")
        );
        assert_eq!(
            v.origin(&["image".into(), "repo".into()]).as_deref(),
            Some("base/values.yaml:2")
        );
    }

    #[test]
    fn set_expressions() {
        let v = Values::empty()
            .set("replicas=3", false)
            .and_then(|v| v.set("image.tag=1.10", true))
            .and_then(|v| v.set("a\\.b=x,list={a,b}", false))
            .expect("sets");
        assert_eq!(v.tree.get("replicas"), Some(&Value::Int(3)));
        assert_eq!(
            v.tree.get("image").and_then(|i| i.get("tag")),
            Some(&Value::Str("1.10".into()))
        );
        assert_eq!(v.tree.get("a.b"), Some(&Value::Str("x".into())));
        assert_eq!(
            v.tree.get("list"),
            Some(&Value::Seq(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            v.origin(&["replicas".into()]).as_deref(),
            Some("--set replicas=3")
        );
    }
}
