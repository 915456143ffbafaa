//! `replacements:` — copy a field of one resource into fields of others.
//!
//! A replacement reads `source.fieldPath` (default `metadata.name`) from the one resource
//! its source selects, optionally picks a `delimiter`-separated part of it, and writes it
//! to every `fieldPaths` entry of every resource a target selects (`select` and `reject`
//! match exactly, as in Kustomize v5.5.0, against current and previous ids).
//! Field paths are dot-separated with `[key=value]` list selectors, indices and `*`.

use super::Transformer;
use crate::error::{Error, Location, Result};
use crate::fieldpath::{lookup, split_path, split_target_path, visit};
use crate::load::{Kustomization, Loader};
use crate::patch::selector::{Requirement, matches, parse_selector};
use crate::resource::{ResId, ResMap, Resource};
use crate::yaml::{Map, Value};

/// Group, version, kind, name and namespace (blank = any) plus label/annotation selectors.
#[derive(Debug, Clone, Default)]
pub struct Select {
    exact: [String; 5],
    labels: Vec<Requirement>,
    annotations: Vec<Requirement>,
    text: String,
}

const SELECT_FIELDS: [&str; 5] = ["group", "version", "kind", "name", "namespace"];

impl Select {
    fn read(m: &Map) -> Result<Select> {
        let mut s = Select::default();
        let mut text = Vec::new();
        for (i, f) in SELECT_FIELDS.iter().enumerate() {
            let v = m.get(*f).and_then(Value::scalar_text).unwrap_or_default();
            if !v.is_empty() {
                text.push(format!("{f}={v}"));
            }
            s.exact[i] = v;
        }
        let sel = |f: &str| m.get(f).and_then(Value::scalar_text).unwrap_or_default();
        s.labels = parse_selector(&sel("labelSelector"))?;
        s.annotations = parse_selector(&sel("annotationSelector"))?;
        s.text = text.join(", ");
        Ok(s)
    }

    fn is_empty_id(&self) -> bool {
        self.exact.iter().all(String::is_empty)
    }

    fn id_matches(&self, id: &ResId) -> bool {
        let values = [
            id.gvk.group.as_str(),
            id.gvk.version.as_str(),
            id.gvk.kind.as_str(),
            id.name.as_str(),
            id.namespace.as_str(),
        ];
        (0..5).all(|i| {
            if self.exact[i].is_empty() {
                return true;
            }
            let ns_alt = if i == 4 {
                id.effective_namespace()
            } else {
                values[i]
            };
            self.exact[i] == values[i] || self.exact[i] == ns_alt
        })
    }

    fn meta_matches(&self, r: &Resource) -> bool {
        matches(&self.labels, r.meta_map("labels"))
            && matches(&self.annotations, r.meta_map("annotations"))
    }

    fn has_meta(&self) -> bool {
        !self.labels.is_empty() || !self.annotations.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
struct Options {
    delimiter: String,
    index: i64,
    create: bool,
}

impl Options {
    fn read(v: Option<&Value>) -> Options {
        let Some(m) = v.and_then(Value::as_map) else {
            return Options::default();
        };
        Options {
            delimiter: m
                .get("delimiter")
                .and_then(Value::scalar_text)
                .unwrap_or_default(),
            index: match m.get("index") {
                Some(Value::Int(i)) => *i,
                _ => 0,
            },
            create: matches!(m.get("create"), Some(Value::Bool(true))),
        }
    }
}

struct Target {
    select: Select,
    reject: Vec<Select>,
    field_paths: Vec<String>,
    options: Options,
}

pub struct Replacement {
    source: Select,
    source_path: String,
    source_options: Options,
    targets: Vec<Target>,
    at: Location,
}

pub struct Replacements {
    pub list: Vec<Replacement>,
}

/// Read one replacement (`source` and `targets`).
pub fn parse(v: &Value, at: Location) -> Result<Replacement> {
    let err = |m: String| Error::new(m).at(at.clone());
    let Some(m) = v.as_map() else {
        return Err(
            err("a replacement must be a map with `source` and `targets`".into())
                .with_help("write `source:` and `targets:` under each entry"),
        );
    };
    for k in m.keys() {
        if !["source", "targets"].contains(&k.as_str()) {
            return Err(err(format!("unknown field `{k}` in replacement"))
                .with_help("a replacement has `source` and `targets`"));
        }
    }
    let source = m.get("source").and_then(Value::as_map).ok_or_else(|| {
        err("a replacement needs a `source`".into())
            .with_help("add `source:` with the kind and name to copy from")
    })?;
    let targets = m.get("targets").and_then(Value::as_seq).ok_or_else(|| {
        err("a replacement needs `targets`".into())
            .with_help("add `targets:` with `select` and `fieldPaths`")
    })?;
    let mut parsed = Vec::new();
    for t in targets {
        let t = t
            .as_map()
            .ok_or_else(|| err("a replacement target must be a map".into()))?;
        let select = t.get("select").and_then(Value::as_map).ok_or_else(|| {
            err("a replacement target needs `select`".into())
                .with_help("add `select:` with at least a kind")
        })?;
        let reject = match t.get("reject") {
            Some(Value::Seq(r)) => r
                .iter()
                .filter_map(Value::as_map)
                .map(Select::read)
                .collect::<Result<Vec<_>>>()
                .map_err(|e| e.at(at.clone()))?,
            _ => Vec::new(),
        };
        let mut field_paths: Vec<String> = t
            .get("fieldPaths")
            .and_then(Value::as_seq)
            .map(|s| s.iter().filter_map(Value::scalar_text).collect())
            .unwrap_or_default();
        if field_paths.is_empty() {
            field_paths.push("metadata.name".into());
        }
        parsed.push(Target {
            select: Select::read(select).map_err(|e| e.at(at.clone()))?,
            reject,
            field_paths,
            options: Options::read(t.get("options")),
        });
    }
    Ok(Replacement {
        source: Select::read(source).map_err(|e| e.at(at.clone()))?,
        source_path: source
            .get("fieldPath")
            .and_then(Value::scalar_text)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "metadata.name".into()),
        source_options: Options::read(source.get("options")),
        targets: parsed,
        at,
    })
}

/// The value a scalar target takes, as Kustomize sets it: the target keeps its type and
/// the new text must be of that type (`1.0` cannot go into an integer field); a field the
/// replacement created takes the source's value, or, when a delimiter cut the value, the
/// type its text reads as (`1.0` is a number there).
fn retyped(target: &Value, new: &Value, plain: bool) -> std::result::Result<Value, String> {
    let text = new.scalar_text().unwrap_or_default();
    match target {
        Value::Null if plain => Ok(crate::yaml::plain_scalar(&text)),
        Value::Null => Ok(new.clone()),
        Value::Str(_) => Ok(Value::Str(text)),
        other => {
            let read = crate::yaml::plain_scalar(&text);
            let fits = matches!(
                (other, &read),
                (Value::Bool(_), Value::Bool(_))
                    | (
                        Value::Int(_) | Value::UInt(_),
                        Value::Int(_) | Value::UInt(_)
                    )
                    | (
                        Value::Float(_),
                        Value::Int(_) | Value::UInt(_) | Value::Float(_)
                    )
            );
            if fits {
                Ok(read)
            } else {
                Err(format!(
                    "cannot put `{text}` into a field that holds {} (`{}`)",
                    crate::load::kustomization::describe(other),
                    other.scalar_text().unwrap_or_default()
                ))
            }
        }
    }
}

impl Replacement {
    fn apply(&self, rm: &mut ResMap) -> Result<()> {
        let value = self.source_value(rm)?;
        for t in &self.targets {
            for r in rm.items.iter_mut() {
                if !t.selects(r) {
                    continue;
                }
                for fp in &t.field_paths {
                    self.set(t, r, fp, &value)?;
                }
            }
        }
        Ok(())
    }

    fn err(&self, m: String) -> Error {
        Error::new(m).at(self.at.clone())
    }

    /// The value at the source's field path (cut by its delimiter): the source must select
    /// exactly one object.
    fn source_value(&self, rm: &ResMap) -> Result<Value> {
        let sources: Vec<usize> = rm
            .items
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.all_ids().any(|id| self.source.id_matches(&id)) && self.source.meta_matches(r)
            })
            .map(|(i, _)| i)
            .collect();
        let src = match sources.as_slice() {
            [i] => *i,
            [] => {
                return Err(self
                    .err(format!(
                        "replacement source ({}) selects nothing",
                        self.source.text
                    ))
                    .with_help(
                        "check the source's kind and name against the resources of this kustomization",
                    ));
            }
            _ => {
                return Err(self
                    .err(format!(
                        "replacement source ({}) selects {} resources",
                        self.source.text,
                        sources.len()
                    ))
                    .with_help(
                        "add a name or namespace to the source so it selects one resource",
                    ));
            }
        };
        let path = split_path(&self.source_path);
        let mut value = lookup(&rm.items[src].doc, &path)
            .filter(|v| !v.is_null())
            .cloned()
            .ok_or_else(|| {
                self.err(format!(
                    "fieldPath `{}` is missing for replacement source {}",
                    self.source_path,
                    rm.items[src].id()
                ))
                .with_help("check the field path; lists take `[name=x]` or an index")
            })?;
        // Kustomize reads the node's raw value: a re-folded scalar is its raw text here.
        if path
            .iter()
            .all(|seg| !seg.starts_with('[') && seg.parse::<usize>().is_err())
        {
            let keys: Vec<&str> = path.iter().map(String::as_str).collect();
            if let Some(raw) = rm.items[src].folded_at(&keys, &value) {
                value = Value::Str(raw.to_string());
            }
        }
        if !self.source_options.delimiter.is_empty() {
            let text = value.scalar_text().ok_or_else(|| {
                self.err("delimiter option can only be used with scalar nodes".into())
            })?;
            let parts: Vec<&str> = text.split(self.source_options.delimiter.as_str()).collect();
            let i = self.source_options.index;
            let Some(part) = usize::try_from(i).ok().and_then(|i| parts.get(i)) else {
                return Err(self.err(format!(
                    "options.index {i} is out of bounds for value `{text}`"
                )));
            };
            value = Value::Str((*part).to_string());
        }
        Ok(value)
    }

    /// Put `value` at the field path `fp` of the target object `r`.
    fn set(&self, t: &Target, r: &mut Resource, fp: &str, value: &Value) -> Result<()> {
        let (path, trailing) = split_target_path(fp).map_err(|m| {
            self.err(m)
                .with_help("write the path as `a.b.c` (one leading `.` is allowed)")
        })?;
        if trailing && (!t.options.create || lookup(&r.doc, &path).is_some()) {
            return Err(self
                .err(format!("the field path `{fp}` ends with `.`"))
                .with_help("remove the final `.`: kubectl cannot find (or overwrites wrongly) a field named so"));
        }
        let create = t.options.create.then_some(value);
        let mut failure = None;
        let mut misfit = None;
        let aliased = r.alias_snapshot();
        let plain = !self.source_options.delimiter.is_empty() || !t.options.delimiter.is_empty();
        let found = visit(&mut r.doc, &path, create, &mut |node| {
            let mut v = value.clone();
            if !t.options.delimiter.is_empty() {
                let Some(current) = node.scalar_text() else {
                    failure =
                        Some("delimiter option can only be used with scalar nodes".to_string());
                    return;
                };
                let new = v.scalar_text().unwrap_or_default();
                v = Value::Str(spliced(
                    &current,
                    &new,
                    &t.options.delimiter,
                    t.options.index,
                ));
            }
            *node = match (&*node, &v) {
                (Value::Map(_) | Value::Seq(_), _) | (_, Value::Map(_) | Value::Seq(_)) => v,
                (target, v) => match retyped(target, v, plain) {
                    Ok(x) => x,
                    // Kustomize keeps the text in a node of the old type: the build fails
                    // only if it is still there when the object is read (a later patch may
                    // set a good value).
                    Err(e) => {
                        let text = v.scalar_text().unwrap_or_default();
                        misfit = Some((text.clone(), e));
                        Value::Str(text)
                    }
                },
            };
        });
        if let Some(f) = failure {
            return Err(self.err(f));
        }
        if let Some((text, e)) = misfit {
            r.misfits.push(crate::resource::Misfit {
                path: path.clone(),
                text,
                error: self.err(e),
            });
        }
        r.sync_aliases(aliased);
        if !found {
            let what = if t.options.create {
                "find or create"
            } else {
                "find"
            };
            return Err(self
                .err(format!(
                    "unable to {what} field `{fp}` in replacement target {}",
                    r.id()
                ))
                .with_help("add `options: {create: true}` to create it, or fix the field path"));
        }
        Ok(())
    }
}

impl Target {
    /// Whether the target takes object `r`: selected by any of its ids, rejected by none.
    fn selects(&self, r: &Resource) -> bool {
        if !self.select.meta_matches(r)
            || self
                .reject
                .iter()
                .any(|x| x.has_meta() && x.meta_matches(r))
        {
            return false;
        }
        let ids: Vec<ResId> = r.all_ids().collect();
        let rejected = ids.iter().any(|id| {
            self.reject
                .iter()
                .any(|x| !x.is_empty_id() && x.id_matches(id))
        });
        !rejected && ids.iter().any(|id| self.select.id_matches(id))
    }
}

/// `current` split at `delimiter` with part `index` replaced by `new` (before the first
/// part when negative, after the last when past it), joined again.
fn spliced(current: &str, new: &str, delimiter: &str, index: i64) -> String {
    let mut parts: Vec<String> = current.split(delimiter).map(str::to_string).collect();
    match usize::try_from(index) {
        Err(_) => parts.insert(0, new.to_string()),
        Ok(i) if i >= parts.len() => parts.push(new.to_string()),
        Ok(i) => parts[i] = new.to_string(),
    }
    parts.join(delimiter)
}

/// `replacements:` entries, inline or from `path:` files (one replacement or a list).
pub fn from_kustomization(k: &Kustomization, loader: &Loader) -> Result<Option<Replacements>> {
    let entries: Vec<Value> = match k.get("replacements") {
        Some(Value::Seq(items)) => items.clone(),
        _ => Vec::new(),
    };
    if entries.is_empty() {
        return Ok(None);
    }
    let mut list = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let idx = i.to_string();
        let at = k.location(&["replacements", &idx]);
        match entry.get("path").and_then(Value::as_str) {
            Some(path) => {
                let Some(file) = loader.file(&k.dir, path).map_err(|e| e.at(at.clone()))? else {
                    return Err(
                        Error::new(format!("replacement file `{path}` does not exist"))
                            .with_kind(crate::error::ErrorKind::NotFound)
                            .at(at)
                            .with_help("paths are relative to the kustomization's directory"),
                    );
                };
                let docs = loader.documents(&file, k.ctx.as_deref())?;
                for (doc, line, _) in &docs.docs {
                    let here = crate::error::Location {
                        file: file.clone(),
                        line: *line,
                        col: 1,
                        offset: 0,
                    };
                    match doc {
                        Value::Seq(items) => {
                            for item in items {
                                list.push(parse(item, here.clone())?);
                            }
                        }
                        other => list.push(parse(other, here)?),
                    }
                }
            }
            None => list.push(parse(entry, at)?),
        }
    }
    Ok(Some(Replacements { list }))
}

impl Transformer for Replacements {
    fn kind(&self) -> &'static str {
        "ReplacementTransformer"
    }

    fn transform(
        &self,
        rm: &mut ResMap,
        _warnings: &mut Vec<crate::warning::Warning>,
    ) -> Result<()> {
        for r in &self.list {
            r.apply(rm)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    #[test]
    fn paths() {
        assert_eq!(
            split_path("spec.containers.[name=a.b].image"),
            vec!["spec", "containers", "[name=a.b]", "image"]
        );
        let doc = parse_documents("spec:\n  c:\n  - name: x\n    image: i\n")
            .expect("yaml")
            .remove(0)
            .value;
        assert_eq!(
            lookup(&doc, &split_path("spec.c.[name=x].image")),
            Some(&Value::from("i"))
        );
        assert_eq!(
            lookup(&doc, &split_path("spec.c.0.name")),
            Some(&Value::from("x"))
        );
    }
}
