//! Reading from disk: kustomization files and the YAML documents of resource files.
//!
//! The `Loader` reads and parses each file at most once per process (environments share
//! their bases), enforces the load restrictor, and turns documents into `Resource`s that
//! remember their file and line. `kind: List` documents are flattened here.

pub mod field_types;
pub mod kustomization;
pub mod remote;

use crate::error::{Error, Location, Result};
use crate::fs;
pub use crate::fs::{normalize, relative_to};
use crate::resource::{Origin, Resource};
use crate::template::{Ctx, is_template};
use crate::yaml::{self, Value};
pub use kustomization::Kustomization;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Whether files referenced by a kustomization must lie inside its directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadRestrictor {
    #[default]
    RootOnly,
    None,
}

/// A parsed file: its text and its non-empty documents (value, start line, index in file),
/// with each document's empty map values (see `yaml::Document::empty_nulls`).
pub struct ParsedFile {
    pub text: String,
    pub docs: Vec<(Value, usize, usize)>,
    pub empty_nulls: Vec<Vec<Vec<yaml::PathSeg>>>,
    /// Per document: the annotations that were typed before they became their text.
    pub typed_annotations: Vec<Vec<yaml::annotations::Typed>>,
    /// Per document: raw values of re-folded scalars (see `yaml::Document::folded_raw`).
    pub folded_raw: Vec<Vec<(Vec<yaml::PathSeg>, String)>>,
}

type Docs = Arc<ParsedFile>;

#[derive(Default)]
pub struct Loader {
    pub restrictor: LoadRestrictor,
    /// Keep parsed files for later builds in this process (`render` shares bases between
    /// environments); a single build reads each file once and needs no cache.
    pub cache_files: bool,
    pub(crate) remote: remote::RemoteOptions,
    /// The remote entries this process fetched.
    pub(crate) fetches: remote::Fetches,
    /// The compiled templates, one environment per layer.
    pub(crate) templates: crate::template::render::Templates,
    /// How far YAML aliases may expand, over every file this loader parses.
    pub(crate) aliases: yaml::AliasBudget,
    /// Read what a build reads, build nothing (`strata deps`): resource files are noted,
    /// not parsed (templates are still rendered, for the files they include), and no
    /// transformer runs; layers that yield plugin configurations are still built. A build
    /// with this loader returns no objects.
    pub(crate) plan_only: bool,
    files: Mutex<HashMap<(PathBuf, u64), Docs>>,
    /// With `cache_files`: parsed files by the hash of their (rendered) text, so that two
    /// copies of a tree (a revision and the working tree, `strata diff --rev`) parse each
    /// unchanged file once. A hit is checked against the text.
    by_text: Mutex<HashMap<u64, Docs>>,
    kustomizations: Mutex<HashMap<(PathBuf, u64), Arc<Kustomization>>>,
    schemas: Mutex<HashMap<PathBuf, Arc<crate::template::schema::Schema>>>,
    /// Directory listings (file names), read once: layer lookups need several names.
    listings: Mutex<HashMap<PathBuf, Arc<Vec<String>>>>,
}

impl Loader {
    pub fn new(restrictor: LoadRestrictor) -> Loader {
        Loader {
            restrictor,
            ..Loader::default()
        }
    }

    /// The names of the files in `dir` (cached; empty when it cannot be read).
    pub(crate) fn listing(&self, dir: &Path) -> Arc<Vec<String>> {
        if let Some(l) = lock(&self.listings).get(dir) {
            return l.clone();
        }
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.file_type().map(|t| !t.is_dir()).unwrap_or(false))
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        let l = Arc::new(names);
        lock(&self.listings).insert(dir.to_path_buf(), l.clone());
        l
    }

    /// Whether `dir` holds a file named `name` (from the cached listing).
    pub(crate) fn has_file(&self, dir: &Path, name: &str) -> bool {
        self.listing(dir)
            .binary_search_by(|n| n.as_str().cmp(name))
            .is_ok()
    }

    /// The kustomization file in `dir`, or an error saying none (or several) exist.
    pub(crate) fn find_kustomization(&self, dir: &Path) -> Result<PathBuf> {
        let listing = self.listing(dir);
        let found: Vec<PathBuf> = kustomization::FILE_NAMES
            .iter()
            .filter(|n| listing.binary_search_by(|x| x.as_str().cmp(n)).is_ok())
            .map(|n| dir.join(n))
            .collect();
        match found.len() {
            0 => Err(Error::new(format!(
                "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{}'",
                dir.display()
            ))
            .with_help("a layer is a directory holding a kustomization file")
            .with_kind(crate::error::ErrorKind::NotFound)),
            1 => {
                let file = found.into_iter().next().unwrap_or_default();
                // Read through its name (its directory is the layer's root), but only once
                // the real file is known to be a regular file inside the root.
                match self.find(dir, &file)? {
                    Some(fs::Found::File(_)) => Ok(file),
                    _ => Err(Error::new(format!("`{}` is not a file", file.display()))
                        .in_file(&file)
                        .with_help("a kustomization file must be a regular file")),
                }
            }
            _ => Err(Error::new(format!(
                "found multiple kustomization files in directory '{}'",
                dir.display()
            ))
            .with_help("keep one of `kustomization.yaml`, `kustomization.yml` and `Kustomization`")),
        }
    }

    /// Read and check the kustomization of `dir` (cached; a `kustomization.yaml.j2` is
    /// rendered with the layer's values first).
    pub(crate) fn kustomization(&self, dir: &Path, ctx: &Arc<Ctx>) -> Result<Arc<Kustomization>> {
        let file = self.find_kustomization(dir)?;
        let key = (file.clone(), if is_template(&file) { ctx.key() } else { 0 });
        let cached = lock(&self.kustomizations).get(&key).cloned();
        let k = match cached {
            Some(k) => k,
            None => {
                let text = self.text(&file, ctx)?;
                let k = Arc::new(
                    Kustomization::parse_in(&file, text, &self.aliases)
                        .map_err(|e| e.or_kind(crate::error::ErrorKind::Kustomization))?,
                );
                lock(&self.kustomizations).insert(key, k.clone());
                k
            }
        };
        let mut with_ctx = (*k).clone();
        with_ctx.ctx = Some(ctx.clone());
        Ok(Arc::new(with_ctx))
    }

    /// A file's text, rendered first when it is a `.j2` template.
    pub(crate) fn text(&self, file: &Path, ctx: &Ctx) -> Result<String> {
        let text = read_text(file)?;
        if !is_template(file) {
            return Ok(text);
        }
        let display = file.display().to_string();
        crate::template::render::render(
            &self.templates,
            self.restrictor == LoadRestrictor::RootOnly,
            file,
            &display,
            &text,
            ctx,
        )
    }

    /// A layer's `values.schema.json`, compiled once per process.
    pub(crate) fn schema(
        &self,
        file: &Path,
        display: &str,
    ) -> Result<Arc<crate::template::schema::Schema>> {
        if let Some(s) = lock(&self.schemas).get(file) {
            return Ok(s.clone());
        }
        let s = crate::template::schema::Schema::load(file, display)?;
        lock(&self.schemas).insert(file.to_path_buf(), s.clone());
        Ok(s)
    }

    /// Check the load restrictor for a file referenced from a kustomization in `root`. Both
    /// paths must be real (see `fs::real`): the comparison is of what is on disk.
    pub(crate) fn check_restriction(&self, root: &Path, file: &Path) -> Result<()> {
        if self.restrictor == LoadRestrictor::None || normalize(file).starts_with(normalize(root)) {
            return Ok(());
        }
        Err(Error::new(format!(
            "security; file '{}' is not in or below '{}'",
            normalize(file).display(),
            normalize(root).display()
        ))
        .with_help("move the file under the kustomization's directory, or pass `--load-restrictor LoadRestrictionsNone`")
        .with_kind(crate::error::ErrorKind::Restricted))
    }

    /// What `entry` (relative to the layer root `root`, a real path) names, resolved on
    /// disk: a file (checked by the load restrictor) or a directory; `None` when nothing is
    /// there. A FIFO, socket or device is an error.
    pub(crate) fn find(&self, root: &Path, entry: &Path) -> Result<Option<fs::Found>> {
        let found = fs::find(&root.join(entry))?;
        if let Some(fs::Found::File(real)) = &found {
            self.check_restriction(root, real)?;
        }
        Ok(found)
    }

    /// The file `entry` names relative to the layer root `root`: resolved, restricted, and
    /// a regular file; `None` when nothing is there. A directory is an error.
    pub(crate) fn file(&self, root: &Path, entry: &str) -> Result<Option<PathBuf>> {
        match self.find(root, Path::new(entry))? {
            None => Ok(None),
            Some(fs::Found::File(f)) => Ok(Some(f)),
            Some(fs::Found::Dir(d)) => Err(Error::new(format!(
                "`{entry}` is a directory, not a file"
            ))
            .with_help(format!(
                "`{}` is a directory; this field takes a file",
                d.display()
            ))),
        }
    }

    /// The non-empty documents of a YAML file, with their start lines (cached).
    pub(crate) fn documents(&self, file: &Path, ctx: Option<&Ctx>) -> Result<Docs> {
        let template = is_template(file);
        let key = (
            file.to_path_buf(),
            if template { ctx.map_or(0, Ctx::key) } else { 0 },
        );
        if let Some(d) = lock(&self.files).get(&key) {
            return Ok(d.clone());
        }
        let empty;
        let ctx = match ctx {
            Some(c) => c,
            None => {
                let root = file.parent().unwrap_or(Path::new("/"));
                empty = Ctx::new(Arc::new(crate::template::Values::empty()), "", root);
                &empty
            }
        };
        let text = self.text(file, ctx)?;
        let text_key = self.cache_files.then(|| {
            use std::hash::{Hash, Hasher};
            let mut h = rustc_hash::FxHasher::default();
            text.hash(&mut h);
            h.finish()
        });
        if let Some(k) = text_key
            && let Some(d) = lock(&self.by_text).get(&k).filter(|d| d.text == text)
        {
            let d = d.clone();
            lock(&self.files).insert(key, d.clone());
            return Ok(d);
        }
        let docs = yaml::parse_objects_in(&text, &self.aliases).map_err(|e| {
            if template {
                rendered_yaml_error(file, &text, &e)
            } else {
                yaml::errors::yaml_error_in(file, &text, e)
            }
        })?;
        let mut kept = Vec::with_capacity(docs.len());
        let mut empty_nulls = Vec::with_capacity(docs.len());
        let mut typed_annotations = Vec::with_capacity(docs.len());
        let mut folded_raw = Vec::with_capacity(docs.len());
        for (i, mut d) in docs
            .into_iter()
            .enumerate()
            .filter(|(_, d)| !d.value.is_null())
        {
            typed_annotations.push(yaml::annotations::settle_patch(&mut d));
            kept.push((d.value, d.line, i));
            empty_nulls.push(d.empty_nulls);
            folded_raw.push(d.folded_raw);
        }
        let docs: Docs = Arc::new(ParsedFile {
            docs: kept,
            empty_nulls,
            typed_annotations,
            folded_raw,
            text,
        });
        if self.cache_files {
            lock(&self.files).insert(key, docs.clone());
        }
        if let Some(k) = text_key {
            lock(&self.by_text).insert(k, docs.clone());
        }
        Ok(docs)
    }

    /// In a plan (`plan_only`): read a resource file as a build would, without parsing it
    /// (a template is rendered, for the files it includes).
    pub(crate) fn note_resources(&self, file: &Path, ctx: &Ctx) -> Result<()> {
        if is_template(file) {
            self.text(file, ctx)?;
        } else {
            fs::note(file);
        }
        Ok(())
    }

    /// The resources of a file, `kind: List` flattened.
    pub(crate) fn resources(
        &self,
        file: &Path,
        display_path: &str,
        ctx: &Ctx,
    ) -> Result<Vec<Resource>> {
        // The documents are copied even when nothing else holds the parsed file: the copy
        // is compact, while the parsed tree is interleaved with the parser's scratch
        // allocations. Taking the parsed tree instead raised the peak memory of a
        // 1,000-app build from 58 to 61 MB.
        let parsed = self.documents(file, Some(ctx))?;
        let mut out = Vec::new();
        for (n, (doc, line, _)) in parsed.docs.iter().cloned().enumerate() {
            let origin = Origin {
                file: file.to_path_buf(),
                line,
                display_path: display_path.to_string(),
                configured_by: None,
            };
            let source = Source {
                empty_nulls: parsed.empty_nulls.get(n).map_or(&[][..], Vec::as_slice),
                typed: parsed
                    .typed_annotations
                    .get(n)
                    .map_or(&[][..], Vec::as_slice),
                folded: parsed.folded_raw.get(n).map_or(&[][..], Vec::as_slice),
            };
            push_flattened(doc, &origin, &source, &mut Vec::new(), &mut out)?;
        }
        Ok(out)
    }
}

/// What the reader recorded about the document a resource came from.
struct Source<'a> {
    /// The document's empty map values.
    empty_nulls: &'a [Vec<yaml::PathSeg>],
    /// The document's annotations that were typed before they became their text.
    typed: &'a [yaml::annotations::Typed],
    /// The document's re-folded scalars, raw.
    folded: &'a [(Vec<yaml::PathSeg>, String)],
}

/// Kustomize: "missing metadata.name in object". An unnamed object must never reach the
/// output; a `name:` at the top level is the usual cause (indentation).
fn check_named(map: &yaml::Map, kind: &str) -> Result<()> {
    let named = map
        .get("metadata")
        .and_then(Value::as_map)
        .and_then(|m| m.get("name"))
        .and_then(Value::scalar_text)
        .is_some_and(|n| !n.is_empty());
    if !named {
        let help = if map.contains_key("name") {
            "`name:` sits at the top level of the document: indent it under `metadata:`"
        } else if map
            .get("metadata")
            .is_some_and(|m| !m.is_null() && m.as_map().is_none())
        {
            "`metadata` must be a map holding `name:`"
        } else {
            "add `metadata.name`; every object needs a name"
        };
        return Err(Error::new(format!(
            "{kind} has no `metadata.name` (missing metadata.name)"
        ))
        .with_help(help));
    }
    Ok(())
}

fn push_flattened(
    doc: Value,
    origin: &Origin,
    source: &Source,
    prefix: &mut Vec<String>,
    out: &mut Vec<Resource>,
) -> Result<()> {
    let here = || Location {
        file: origin.file.clone(),
        line: origin.line,
        col: 1,
        offset: 0,
    };
    let Value::Map(mut map) = doc else {
        return Err(Error::new(
            "a resource must be a map with `apiVersion`, `kind` and `metadata`",
        )
        .at(here())
        .with_help("check the indentation of this document"));
    };
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind.ends_with("List") && map.contains_key("items") {
        if let Some(Value::Seq(items)) = map.swap_remove("items") {
            for (i, item) in items.into_iter().enumerate() {
                prefix.push("items".to_string());
                prefix.push(i.to_string());
                push_flattened(item, origin, source, prefix, out)?;
                prefix.truncate(prefix.len() - 2);
            }
        }
        return Ok(());
    }
    if kind.is_empty() {
        return Err(Error::new("missing `kind` in resource")
            .at(here())
            .with_help("every Kubernetes object needs `apiVersion` and `kind`"));
    }
    check_named(&map, kind).map_err(|e| e.at(here()))?;
    // Kustomize drops a null or empty `metadata.annotations` from every object.
    if let Some(Value::Map(meta)) = map.get_mut("metadata") {
        let empty = match meta.get("annotations") {
            Some(Value::Null) => true,
            Some(Value::Map(a)) => a.is_empty(),
            _ => false,
        };
        if empty {
            meta.shift_remove("annotations");
        }
    }
    let doc = Value::Map(map);
    let mut r = Resource::new(doc, origin.clone());
    // The empty values of this object (an item of a `List` sees its own).
    let within: Vec<yaml::PathSeg> = prefix
        .chunks(2)
        .flat_map(|p| {
            [
                yaml::PathSeg::Key(p[0].clone()),
                yaml::PathSeg::Index(p.get(1).and_then(|i| i.parse().ok()).unwrap_or(0)),
            ]
        })
        .collect();
    r.empty_nulls = source
        .empty_nulls
        .iter()
        .filter(|p| p.starts_with(&within))
        .map(|p| p[within.len()..].to_vec())
        .collect();
    r.folded_raw = source
        .folded
        .iter()
        .filter(|(p, _)| p.starts_with(&within))
        .map(|(p, raw)| (p[within.len()..].to_vec(), raw.clone()))
        .collect();
    r.typed_annotations = source
        .typed
        .iter()
        .filter(|(p, _, _)| p.starts_with(&within) && p.len() == within.len() + 3)
        .filter_map(|(p, typed, text)| match &p[within.len() + 2] {
            yaml::PathSeg::Key(k) => Some((k.clone(), text.clone(), typed.clone())),
            yaml::PathSeg::Index(_) => None,
        })
        .collect();
    // A null annotation of an object is its text (`null`, `~`); a patch's deletes instead.
    if let Some(Value::Map(annotations)) = r
        .doc
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    {
        for (k, v) in annotations.iter_mut().filter(|(_, v)| v.is_null()) {
            let text = r
                .typed_annotations
                .iter()
                .find(|(key, _, _)| key == k)
                .map_or_else(|| "null".to_string(), |(_, t, _)| t.clone());
            *v = Value::Str(text);
        }
    }
    out.push(r);
    Ok(())
}

/// A rendered template that is not valid YAML: name the template and show the rendered
/// line that broke, located at the template line that wrote it (found by its literal
/// text; the rendered line number when none matches), with help computed on the rendered
/// text (a tab, an unquoted value, the column a key belongs in).
pub(crate) fn rendered_yaml_error(file: &Path, rendered: &str, e: &yaml::YamlError) -> Error {
    let source = std::fs::read_to_string(file).unwrap_or_default();
    let tab = yaml::errors::tab_line(&e.message, rendered, e.line);
    let bad = tab.unwrap_or(e.line);
    let line = rendered
        .lines()
        .nth(bad.saturating_sub(1))
        .unwrap_or("")
        .to_string();
    let map = crate::template::hints::LineMap::new(&source);
    let at = map
        .source_line(rendered, bad)
        .unwrap_or_else(|| bad.min(source.lines().count()).max(1));
    let name = |n: usize| match map.source_line(rendered, n) {
        Some(m) => format!("line {m}"),
        None => format!("rendered line {n}"),
    };
    let value = line.split_once(": ").map(|(_, v)| v.trim()).unwrap_or("");
    let unquoted = !value.is_empty()
        && !value.starts_with(['"', '\'', '|', '>', '[', '{'])
        && (value.contains(": ")
            || value.contains(" #")
            || value.starts_with(['*', '&', '!', '%', '@', '`']));
    let help = if let Some(h) = &e.help {
        h.clone()
    } else if tab.is_some() {
        "YAML indents with spaces: this rendered line starts with a tab (from the template or a value it prints)".to_string()
    } else if unquoted {
        "the value looks unquoted: render it with `| quote` or `| tojson`".to_string()
    } else {
        yaml::errors::yaml_help_named(&e.message, rendered, bad, &name).unwrap_or_else(|| {
            "check the rendered indentation; `| nindent(n)` places a block at the right depth"
                .to_string()
        })
    };
    Error::new(format!(
        "template renders invalid YAML: {} (rendered line {bad}: `{}`)",
        e.message,
        line.trim_end().replace('\t', "\\t")
    ))
    .at(Location {
        file: file.to_path_buf(),
        line: at,
        col: 1,
        offset: 0,
    })
    .with_help(help)
    .with_kind(crate::error::ErrorKind::Yaml)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Read a regular file as text (UTF-8, or UTF-16 with a byte-order mark), with an error
/// naming it.
pub fn read_text(file: &Path) -> Result<String> {
    fs::read_text(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        for (p, b, want) in [
            ("/a/base/x.yaml", "/a/prod", "../base/x.yaml"),
            ("/a/prod/x.yaml", "/a/prod", "x.yaml"),
            ("/a/prod/../base/k.yaml", "/a/prod", "../base/k.yaml"),
            ("/a/prod", "/a/prod", "."),
        ] {
            assert_eq!(relative_to(Path::new(p), Path::new(b)), want);
        }
    }

    #[test]
    fn restrictor_rejects_files_outside_root() {
        let l = Loader::new(LoadRestrictor::RootOnly);
        assert!(
            l.check_restriction(Path::new("/a/b"), Path::new("/a/b/c.yaml"))
                .is_ok()
        );
        assert!(
            l.check_restriction(Path::new("/a/b"), Path::new("/a/b/../c.yaml"))
                .is_err()
        );
        let l = Loader::new(LoadRestrictor::None);
        assert!(
            l.check_restriction(Path::new("/a/b"), Path::new("/a/c.yaml"))
                .is_ok()
        );
    }
}
