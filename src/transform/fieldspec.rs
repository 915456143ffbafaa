//! Field specs: which fields of which kinds a transformer touches, and how to reach them.
//!
//! The facts live in `fieldspecs.txt` (Kustomize v5.5.0's built-in tables, in our own
//! line format) and are parsed once. `walk` follows a spec's path through a document the way
//! Kustomize's field-spec filter does: sequences are visited element by element, a missing
//! field is created only when the spec says `create` (never through a `[]` sequence hop),
//! and a null found where a map or sequence is expected becomes an empty one.

use crate::error::{Error, Result};
use crate::resource::Gvk;
use crate::yaml::{Map, Value};
use std::sync::OnceLock;

const TABLE: &str = include_str!("fieldspecs.txt");

/// A selector over group, version and kind (blank = any) and a path to a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub path: Vec<String>,
    pub create: bool,
}

/// Objects of kind `target` are referred to by name from the `referrers` fields.
#[derive(Debug, Clone, PartialEq)]
pub struct NameRef {
    pub target: FieldSpec,
    pub referrers: Vec<FieldSpec>,
}

impl FieldSpec {
    pub fn new(gvk_selector: (&str, &str, &str), path: &str, create: bool) -> FieldSpec {
        FieldSpec {
            group: gvk_selector.0.to_string(),
            version: gvk_selector.1.to_string(),
            kind: gvk_selector.2.to_string(),
            path: split_path(path),
            create,
        }
    }

    /// Whether the selector part matches `gvk` (blank parts match anything).
    pub fn selects(&self, gvk: &Gvk) -> bool {
        (self.group.is_empty() || self.group == gvk.group)
            && (self.version.is_empty() || self.version == gvk.version)
            && (self.kind.is_empty() || self.kind == gvk.kind)
    }

    pub fn path_string(&self) -> String {
        self.path.join("/")
    }
}

/// Split a field-spec path on `/` (a `\/` stays inside the segment).
pub fn split_path(path: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                chars.next();
                if let Some(s) = out.last_mut() {
                    s.push('/')
                }
            }
            '/' => out.push(String::new()),
            c => {
                if let Some(s) = out.last_mut() {
                    s.push(c)
                }
            }
        }
    }
    out
}

struct Tables {
    specs: Vec<(String, FieldSpec)>,
    refs: Vec<NameRef>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut specs = Vec::new();
        let mut refs: Vec<NameRef> = Vec::new();
        for line in TABLE.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                [first, ..] if first.starts_with('#') => {}
                ["ref", target, referrer, path] => {
                    let target = selector(target, "");
                    let referrer = selector(referrer, path);
                    match refs.last_mut() {
                        Some(last) if last.target == target => last.referrers.push(referrer),
                        _ => refs.push(NameRef {
                            target,
                            referrers: vec![referrer],
                        }),
                    }
                }
                [table, sel, path, rest @ ..] => {
                    let mut spec = selector(sel, path);
                    spec.create = rest.contains(&"create");
                    specs.push((table.to_string(), spec));
                }
                _ => {}
            }
        }
        Tables { specs, refs }
    })
}

fn selector(sel: &str, path: &str) -> FieldSpec {
    let mut parts = sel.splitn(3, '/');
    let mut next = |any: &str| match parts.next() {
        Some(p) if p != any => p.to_string(),
        _ => String::new(),
    };
    let group = next("-");
    let version = next("-");
    let kind = next("*");
    FieldSpec {
        group,
        version,
        kind,
        path: if path.is_empty() {
            Vec::new()
        } else {
            split_path(path)
        },
        create: false,
    }
}

/// The built-in specs of one table (`prefix`, `namespace`, `labels`, `metalabels`,
/// `annotations`, `images`, `replicas`, `vars`).
pub fn table(name: &str) -> Vec<FieldSpec> {
    tables()
        .specs
        .iter()
        .filter(|(t, _)| t == name)
        .map(|(_, s)| s.clone())
        .collect()
}

/// The name-reference table, grouped by referred kind, in Kustomize's order.
pub fn name_references() -> &'static [NameRef] {
    &tables().refs
}

/// What to create at the end of a path when the field is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    Scalar,
    Map,
}

/// Visit the field(s) at `path` below `node`, calling `set` on each.
pub fn walk(
    node: &mut Value,
    path: &[String],
    create: Option<Create>,
    set: &mut dyn FnMut(&mut Value) -> Result<()>,
) -> Result<()> {
    if path.iter().all(String::is_empty) {
        return Err(empty_path());
    }
    walk_at(node, path, create, &mut Vec::new(), &mut |v, _| set(v))
}

/// A field spec without a `path` that selects an object: there is no field to set, and
/// Kustomize fails ("cannot set or create an empty field name").
pub fn empty_path() -> Error {
    Error::new("a field spec with no `path` selects an object: there is no field to set")
        .with_help("give each `fieldSpecs` entry a `path`, such as `metadata/labels`")
}

/// `walk`, telling `set` the concrete path of each field it visits (list items by index).
pub fn walk_at(
    node: &mut Value,
    path: &[String],
    create: Option<Create>,
    at: &mut Vec<crate::yaml::PathSeg>,
    set: &mut dyn FnMut(&mut Value, &[crate::yaml::PathSeg]) -> Result<()>,
) -> Result<()> {
    let Some((first, rest)) = path.split_first() else {
        return set(node, at);
    };
    match node {
        Value::Null => Ok(()),
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                at.push(crate::yaml::PathSeg::Index(i));
                walk_at(item, path, create, at, set)?;
                at.pop();
            }
            Ok(())
        }
        Value::Map(map) => {
            let (name, is_seq) = match first.strip_suffix("[]") {
                Some(n) => (n, true),
                None => (first.as_str(), false),
            };
            let make: Option<Value> = match create {
                Some(_) if is_seq => None,
                None => None,
                Some(kind) if rest.is_empty() => Some(match kind {
                    Create::Scalar => Value::Str(String::new()),
                    Create::Map => Value::Map(Map::default()),
                }),
                Some(_) => Some(Value::Map(Map::default())),
            };
            let field = match (map.contains_key(name), make.clone()) {
                (true, _) => map.get_mut(name),
                (false, Some(v)) => {
                    map.insert(name.to_string(), v);
                    map.get_mut(name)
                }
                (false, None) => None,
            };
            let Some(field) = field else {
                return Ok(());
            };
            if field.is_null() {
                if is_seq {
                    *field = Value::Seq(Vec::new());
                } else if let Some(v) = make {
                    *field = v;
                }
            }
            at.push(crate::yaml::PathSeg::Key(name.to_string()));
            let r = walk_at(field, rest, create, at, set);
            at.pop();
            r
        }
        _ => Err(Error::new(format!(
            "expected sequence or mapping node at `{}`",
            path.join("/")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::test_doc as doc;

    #[test]
    fn tables_load() {
        assert_eq!(table("prefix").len(), 1);
        assert!(
            table("labels")
                .iter()
                .any(|s| s.kind == "Service" && s.create)
        );
        let cm = name_references()
            .iter()
            .find(|r| r.target.kind == "ConfigMap")
            .expect("configmap refs");
        assert!(cm.referrers.iter().any(|s| s.kind == "Deployment"));
    }

    #[test]
    fn walk_visits_sequences_and_creates() {
        let mut v = doc("spec:\n  containers:\n  - image: a\n  - image: b\n");
        let mut seen = Vec::new();
        walk(
            &mut v,
            &split_path("spec/containers[]/image"),
            None,
            &mut |n| {
                seen.push(n.clone());
                Ok(())
            },
        )
        .expect("walk");
        assert_eq!(seen, vec![Value::from("a"), Value::from("b")]);

        let mut v = doc("kind: X\n");
        walk(
            &mut v,
            &split_path("metadata/labels"),
            Some(Create::Map),
            &mut |n| {
                assert_eq!(n, &Value::Map(Map::default()));
                Ok(())
            },
        )
        .expect("walk");
        assert!(v.get("metadata").and_then(|m| m.get("labels")).is_some());

        // never create through a sequence hop
        let mut v = doc("kind: X\n");
        walk(
            &mut v,
            &split_path("spec/volumeClaimTemplates[]/metadata/labels"),
            Some(Create::Map),
            &mut |_| Ok(()),
        )
        .expect("walk");
        assert_eq!(
            v.get("spec").and_then(|s| s.get("volumeClaimTemplates")),
            None
        );
    }
}
