//! `configMapGenerator:` and `secretGenerator:` — make ConfigMaps and Secrets from
//! literals, files and env files.
//!
//! A generated object is created (or, with `behavior: merge|replace`, folded into the object
//! of the same name from a base), carries `generatorOptions` merged with its own options,
//! and — unless `disableNameSuffixHash` — gets a content-hash suffix at the top of the build
//! (see `hash.rs`). Secret values are base64 with a line break every 70 characters, as
//! Kustomize writes them. File content that is not UTF-8 goes to `binaryData`.

use crate::error::{Error, Location, Result};
use crate::load::fs::Found;
use crate::load::kustomization::describe;
use crate::load::{Kustomization, Loader, normalize};
use crate::resource::{Origin, ResMap, Resource};
use crate::yaml::{Map, Value};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ConfigMap,
    Secret,
}

impl Kind {
    fn plugin(self) -> &'static str {
        match self {
            Kind::ConfigMap => "ConfigMapGenerator",
            Kind::Secret => "SecretGenerator",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    Create,
    Merge,
    Replace,
}

/// A generated object and how it joins what was accumulated.
pub struct Generated {
    pub resource: Resource,
    pub behavior: Behavior,
    pub at: crate::load::kustomization::Spot,
}

/// Labels, annotations and flags from `generatorOptions` or an entry's `options`.
#[derive(Debug, Clone, Default)]
struct Options {
    labels: Vec<(String, String)>,
    annotations: Vec<(String, String)>,
    disable_hash: Option<bool>,
    immutable: Option<bool>,
}

impl Options {
    fn read(k: &Kustomization, at: &[&str], v: Option<&Value>) -> Result<Options> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(Options::default());
        };
        let m = k.strict_struct(
            at,
            v,
            &[
                "labels",
                "annotations",
                "disableNameSuffixHash",
                "immutable",
            ],
        )?;
        let flag = |f: &str| match m.get(f) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        };
        let mut lat = at.to_vec();
        lat.push("labels");
        let mut aat = at.to_vec();
        aat.push("annotations");
        Ok(Options {
            labels: k.string_map(&lat, m.get("labels"))?,
            annotations: k.string_map(&aat, m.get("annotations"))?,
            disable_hash: flag("disableNameSuffixHash"),
            immutable: flag("immutable"),
        })
    }

    /// `local` over `global`: maps merge (local wins), flags fall back to global.
    fn over(local: Options, global: &Options) -> Options {
        let merge = |g: &[(String, String)], l: Vec<(String, String)>| {
            let mut out: Vec<(String, String)> = g
                .iter()
                .filter(|(k, _)| !l.iter().any(|(lk, _)| lk == k))
                .cloned()
                .collect();
            out.extend(l);
            out
        };
        Options {
            labels: merge(&global.labels, local.labels),
            annotations: merge(&global.annotations, local.annotations),
            disable_hash: local.disable_hash.or(global.disable_hash),
            immutable: local.immutable.or(global.immutable),
        }
    }
}

const ENTRY_FIELDS: &[&str] = &[
    "name",
    "namespace",
    "behavior",
    "literals",
    "files",
    "envs",
    "env",
    "options",
    "type",
];

/// The generators a kustomization configures, in Kustomize's order (ConfigMaps, then
/// Secrets).
pub fn configured(
    k: &Kustomization,
    loader: &Loader,
    configured_in: &str,
) -> Result<Vec<Generated>> {
    let global = Options::read(k, &["generatorOptions"], k.get("generatorOptions"))?;
    let mut out = Vec::new();
    for (field, kind) in [
        ("configMapGenerator", Kind::ConfigMap),
        ("secretGenerator", Kind::Secret),
    ] {
        let Some(v) = k.get(field) else { continue };
        let Value::Seq(items) = v else {
            return Err(k
                .error(
                    &[field],
                    format!("`{field}` must be a list, found {}", describe(v)),
                )
                .with_help("write one `- name: …` entry per generated object"));
        };
        for (i, item) in items.iter().enumerate() {
            let idx = i.to_string();
            let at = [field, idx.as_str()];
            let m = k.strict_struct(&at, item, ENTRY_FIELDS)?;
            let origin = Origin {
                file: k.file.clone(),
                line: 1,
                display_path: String::new(),
                configured_by: Some((configured_in.to_string(), kind.plugin().to_string(), None)),
            };
            out.push(generate(k, loader, &at, &m, kind, &global, origin)?);
        }
    }
    Ok(out)
}

/// A builtin generator configured by a `generators:` entry (`apiVersion: builtin`).
pub fn from_plugin_config(
    k: &Kustomization,
    loader: &Loader,
    at: &[&str],
    config: &Map,
    origin: Origin,
) -> Result<Generated> {
    let kind = match config.get("kind").and_then(Value::as_str) {
        Some("SecretGenerator") => Kind::Secret,
        _ => Kind::ConfigMap,
    };
    // Plugin configurations are decoded leniently (unknown fields are ignored), and take
    // their name and namespace from `metadata` unless they set them.
    let mut m: Map = config
        .iter()
        .filter(|(key, _)| ENTRY_FIELDS.contains(&key.as_str()))
        .map(|(key, v)| (key.clone(), v.clone()))
        .collect();
    for f in ["name", "namespace"] {
        if !m.contains_key(f)
            && let Some(v) = config.get("metadata").and_then(|md| md.get(f))
        {
            m.insert(f.to_string(), v.clone());
        }
    }
    generate(k, loader, at, &m, kind, &Options::default(), origin)
}

fn strings(k: &Kustomization, at: &[&str], field: &str, m: &Map) -> Result<Vec<String>> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Str(s)) => Ok(vec![s.clone()]),
        Some(Value::Seq(items)) => items
            .iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s.clone()),
                other => Ok(other.scalar_text().unwrap_or_default()),
            })
            .collect(),
        Some(other) => {
            let mut p = at.to_vec();
            p.push(field);
            Err(k
                .error(
                    &p,
                    format!(
                        "`{field}` must be a list of strings, found {}",
                        describe(other)
                    ),
                )
                .with_help("write one `- ` entry per item"))
        }
    }
}

fn generate(
    k: &Kustomization,
    loader: &Loader,
    at: &[&str],
    m: &Map,
    kind: Kind,
    global: &Options,
    origin: Origin,
) -> Result<Generated> {
    let place = Place { k, at };
    let name = m
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty() {
        return Err(Error::new(format!("a {} needs a `name`", kind.plugin()))
            .at(k.location(at))
            .with_help("add `name: my-config`"));
    }
    let behavior = match m
        .get("behavior")
        .and_then(Value::as_str)
        .unwrap_or("create")
    {
        "" | "create" => Behavior::Create,
        "merge" => Behavior::Merge,
        "replace" => Behavior::Replace,
        // Kustomize v5.5.0 creates for any other value (`add`, a typo) without a word.
        _ => Behavior::Create,
    };
    let mut opt_at = at.to_vec();
    opt_at.push("options");
    let options = Options::over(Options::read(k, &opt_at, m.get("options"))?, global);
    for (what, pairs) in [
        ("labels", &options.labels),
        ("annotations", &options.annotations),
    ] {
        for (key, _) in pairs {
            if !crate::yaml::plain_is_string(key) {
                return Err(place.err("options", not_a_string_key(key, what), KEY_HELP));
            }
        }
    }
    let mut data = Data {
        place: &place,
        name: &name,
        kind,
        text: Vec::new(),
        binary: Vec::new(),
    };
    data.envs(loader, m)?;
    data.literals(m)?;
    data.files(loader, m)?;
    let (text, binary) = (data.text, data.binary);
    let doc = object(name, kind, m, &options, &text, &binary);
    let mut resource = Resource::new(Value::Map(doc), origin);
    resource.needs_hash = options.disable_hash != Some(true);
    Ok(Generated {
        resource,
        behavior,
        at: k.spot(at),
    })
}

/// A generator entry, where its errors point.
struct Place<'a> {
    k: &'a Kustomization,
    at: &'a [&'a str],
}

impl Place<'_> {
    fn here(&self, field: &str) -> Location {
        let mut p = self.at.to_vec();
        p.push(field);
        self.k.location(&p)
    }

    fn err(&self, field: &str, msg: String, help: &str) -> Error {
        Error::new(msg)
            .at(self.here(field))
            .with_help(help.to_string())
    }
}

/// What a generator's sources bring, in order: text values (`data`) and, for a ConfigMap,
/// base64 of what is not UTF-8 (`binaryData`).
struct Data<'a> {
    place: &'a Place<'a>,
    name: &'a str,
    kind: Kind,
    text: Vec<(String, Vec<u8>)>,
    binary: Vec<(String, String)>,
}

impl Data<'_> {
    /// Kustomize keeps keys exactly as written (no character rules), but a key that YAML
    /// reads as something other than a string breaks its output.
    fn add(&mut self, key: String, value: Vec<u8>, field: &str) -> Result<()> {
        if !crate::yaml::plain_is_string(&key) {
            return Err(self
                .place
                .err(field, not_a_string_key(&key, "data"), KEY_HELP));
        }
        if self.text.iter().any(|(k2, _)| *k2 == key)
            || self.binary.iter().any(|(k2, _)| *k2 == key)
        {
            return Err(self.place.err(
                field,
                format!(
                    "key `{key}` appears twice in {} `{}`",
                    self.kind.plugin(),
                    self.name
                ),
                "each key may come from one literal, file or env line",
            ));
        }
        self.text.push((key, value));
        Ok(())
    }

    /// `envs:` (and the old `env:`) files: `KEY=value` lines.
    fn envs(&mut self, loader: &Loader, m: &Map) -> Result<()> {
        let (k, at) = (self.place.k, self.place.at);
        let mut envs = strings(k, at, "envs", m)?;
        envs.extend(strings(k, at, "env", m)?);
        for env in &envs {
            let here = self.place.here("envs");
            let (Found::File(file) | Found::Dir(file)) = resolve(k, loader, &here, env)?;
            let text = match (&k.ctx, crate::template::is_template(&file)) {
                (Some(ctx), true) => loader.text(&file, ctx)?,
                _ => read_utf8(&file, &here)?,
            };
            for (n, line) in text.lines().enumerate() {
                let line = if n == 0 {
                    line.trim_start_matches('\u{feff}')
                } else {
                    line
                };
                let line = line.trim_start();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (key, value) = match line.split_once('=') {
                    // A line with an empty key (`=v`) is skipped, as Kustomize skips it.
                    Some(("", _)) => continue,
                    Some((key, value)) => (key.to_string(), value.to_string()),
                    // Kustomize v5.5.0 gives a key-only line the empty value; the renderer's
                    // own environment never reaches the output.
                    None => (line.to_string(), String::new()),
                };
                self.add(key, value.into_bytes(), "envs")?;
            }
        }
        Ok(())
    }

    /// `literals:`: `KEY=value`, the value's quotes taken off.
    fn literals(&mut self, m: &Map) -> Result<()> {
        for lit in strings(self.place.k, self.place.at, "literals", m)? {
            let Some((key, value)) = lit.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                return Err(self.place.err(
                    "literals",
                    format!("invalid literal `{lit}`, expected key=value"),
                    "write literals as `KEY=value`",
                ));
            };
            self.add(
                key.to_string(),
                unquote(value).as_bytes().to_vec(),
                "literals",
            )?;
        }
        Ok(())
    }

    /// `files:`: `path`, `key=path` or a directory (each file of it).
    fn files(&mut self, loader: &Loader, m: &Map) -> Result<()> {
        let (k, at) = (self.place.k, self.place.at);
        let mut files_binary = Vec::new();
        for src in strings(k, at, "files", m)? {
            let (key, path) = self.file_source(&src)?;
            for (key, p) in self.file_entries(loader, key, &path)? {
                if let (Some(ctx), true) = (&k.ctx, crate::template::is_template(&p)) {
                    self.add(key, loader.text(&p, ctx)?.into_bytes(), "files")?;
                    continue;
                }
                let bytes =
                    crate::load::fs::read(&p).map_err(|e| e.at(self.place.here("files")))?;
                // A Secret takes any bytes into `data`; a ConfigMap puts what is not UTF-8
                // into `binaryData`.
                match (self.kind, String::from_utf8(bytes)) {
                    (_, Ok(text)) => self.add(key, text.into_bytes(), "files")?,
                    (Kind::Secret, Err(e)) => self.add(key, e.into_bytes(), "files")?,
                    (Kind::ConfigMap, Err(e)) => files_binary.push((key, e.into_bytes())),
                }
            }
        }
        for (key, bytes) in files_binary {
            if self.text.iter().any(|(k2, _)| *k2 == key) {
                return Err(self.place.err(
                    "files",
                    format!("key `{key}` appears twice"),
                    "use distinct keys",
                ));
            }
            // Wrapped at 70 columns, as for Secret data (and the hash covers the wrapping).
            self.binary.push((key, crate::codec::encode(&bytes, true)));
        }
        Ok(())
    }

    /// A `files:` entry split into its key (if given) and path.
    fn file_source(&self, src: &str) -> Result<(Option<String>, String)> {
        match src.split_once('=') {
            Some((_, path)) if path.contains('=') => Err(self.place.err(
                "files",
                format!("file source `{src}`: the key name or the file path contains `=`"),
                "write `key=path/to/file` with one `=`",
            )),
            Some((key, path)) if !key.is_empty() && !path.is_empty() => {
                Ok((Some(key.to_string()), path.to_string()))
            }
            Some(_) => Err(self.place.err(
                "files",
                format!("invalid file source `{src}`, expected key=path or path"),
                "write `key=path/to/file` or `path/to/file`",
            )),
            None => Ok((None, src.to_string())),
        }
    }

    /// The files a `files:` entry names, with their keys.
    fn file_entries(
        &self,
        loader: &Loader,
        key: Option<String>,
        path: &str,
    ) -> Result<Vec<(String, PathBuf)>> {
        let k = self.place.k;
        let here = self.place.here("files");
        let found = resolve(k, loader, &here, path)?;
        let mut entries = Vec::new();
        if let Found::Dir(dir) = &found {
            // Every file of the directory is checked as if it were named on its own: a
            // symlink inside it may not reach outside the root either.
            loader
                .check_restriction(&k.dir, dir)
                .map_err(|e| e.at(here.clone()))?;
            for (key, p) in crate::load::fs::files_in(dir).map_err(|e| e.at(here.clone()))? {
                loader
                    .check_restriction(&k.dir, &p)
                    .map_err(|e| e.at(here.clone()))?;
                entries.push((key, p));
            }
        } else {
            let (Found::File(file) | Found::Dir(file)) = found;
            // A `.j2` source is rendered; its default key drops the `.j2`.
            let key = key.unwrap_or_else(|| {
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                name.strip_suffix(".j2").map(str::to_string).unwrap_or(name)
            });
            entries.push((key, file));
        }
        Ok(entries)
    }
}

/// The generated object, as Kustomize writes it.
fn object(
    name: String,
    kind: Kind,
    m: &Map,
    options: &Options,
    data: &[(String, Vec<u8>)],
    binary: &[(String, String)],
) -> Map {
    let mut meta = Map::default();
    if !options.annotations.is_empty() {
        meta.insert("annotations".into(), string_map(&options.annotations));
    }
    if !options.labels.is_empty() {
        meta.insert("labels".into(), string_map(&options.labels));
    }
    meta.insert("name".into(), Value::Str(name));
    if let Some(ns) = m
        .get("namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        meta.insert("namespace".into(), Value::Str(ns.to_string()));
    }
    let mut doc = Map::default();
    doc.insert("apiVersion".into(), Value::Str("v1".into()));
    doc.insert(
        "kind".into(),
        Value::Str(match kind {
            Kind::ConfigMap => "ConfigMap".into(),
            Kind::Secret => "Secret".into(),
        }),
    );
    doc.insert("metadata".into(), Value::Map(meta));
    // ConfigMap data is always UTF-8 here (other bytes went to `binaryData`).
    let encode = |v: &[u8]| match kind {
        Kind::ConfigMap => String::from_utf8_lossy(v).into_owned(),
        Kind::Secret => crate::codec::encode(v, true),
    };
    // A Secret always gets `data`, `{}` when it has no sources, as Kustomize writes it.
    if !data.is_empty() || kind == Kind::Secret {
        doc.insert(
            "data".into(),
            Value::Map(
                data.iter()
                    .map(|(k, v)| (k.clone(), Value::Str(encode(v))))
                    .collect(),
            ),
        );
    }
    if !binary.is_empty() {
        doc.insert("binaryData".into(), string_map(binary));
    }
    if kind == Kind::Secret {
        let t = m
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .unwrap_or("Opaque");
        doc.insert("type".into(), Value::Str(t.to_string()));
    }
    if options.immutable == Some(true) {
        doc.insert("immutable".into(), Value::Bool(true));
    }
    doc
}

fn string_map(pairs: &[(String, String)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
            .collect(),
    )
}

/// A generator source: a file (restricted) or a directory, resolved on disk.
fn resolve(k: &Kustomization, loader: &Loader, at: &Location, path: &str) -> Result<Found> {
    match loader
        .find(&k.dir, Path::new(path))
        .map_err(|e| e.at(at.clone()))?
    {
        Some(found) => Ok(found),
        None => Err(
            Error::new(format!("generator source `{path}` does not exist"))
                .at(at.clone())
                .with_help(format!(
                    "no file at `{}`",
                    normalize(&k.dir.join(path)).display()
                )),
        ),
    }
}

fn read_utf8(file: &Path, at: &Location) -> Result<String> {
    crate::load::fs::read_text(file).map_err(|e| {
        let mut e = e.at(at.clone());
        e.help = Some("env files must be UTF-8 text with KEY=value lines".to_string());
        e
    })
}

/// Strip one pair of matching surrounding quotes, as Kustomize does for literals.
fn unquote(v: &str) -> &str {
    let b = v.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// ConfigMap and Secret keys: letters, digits, `-`, `_`, `.`; at most 253 characters.
/// The message for a created key that YAML reads as something other than a string.
fn not_a_string_key(key: &str, field: &str) -> String {
    let what = match crate::yaml::plain_scalar(key) {
        _ if key == "<<" => "a merge key",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => "a number",
        _ => "a date",
    };
    format!("the {field} key `{key}` reads as {what} in YAML")
}

const KEY_HELP: &str = "kubectl fails on such a key (json: unsupported type); use a key that is not a number, boolean, null or date";

/// Add generated objects: create them, or fold them into the object they merge with or
/// replace (found by current or previous id).
pub fn absorb(rm: &mut ResMap, generated: Vec<Generated>) -> Result<()> {
    for g in generated {
        let id = g.resource.id();
        let found = crate::patch::matching_any_id(rm, &id);
        match (found.as_slice(), g.behavior) {
            ([], Behavior::Create) => rm
                .append_all(vec![g.resource])
                .map_err(|e| e.at(g.at.resolve()))?,
            ([], _) => {
                return Err(Error::new(format!(
                    "{} `{}` has behavior merge or replace, but no {} of that name comes from the resources",
                    id.gvk.kind, id.name, id.gvk.kind
                ))
                .at(g.at.resolve())
                .with_help("use `behavior: create`, or include the base that generates it"));
            }
            ([i], Behavior::Create) => {
                let _ = i;
                return Err(Error::new(format!(
                    "{} `{}` already exists; a generator for it needs `behavior: merge` or `behavior: replace`",
                    id.gvk.kind, id.name
                ))
                .at(g.at.resolve())
                .with_help("add `behavior: merge` to change the generated object of the base"));
            }
            ([i], behavior) => {
                let old = &rm.items[*i];
                let mut new = g.resource;
                fold(&mut new, old, behavior == Behavior::Merge);
                rm.items[*i] = new;
            }
            (many, _) => {
                return Err(Error::new(format!(
                    "{} objects could take the merge of {} `{}`",
                    many.len(),
                    id.gvk.kind,
                    id.name
                ))
                .at(g.at.resolve())
                .with_help("give the generator a `namespace` to choose one"));
            }
        }
    }
    Ok(())
}

/// Kustomize's merge of a generated object into the one from a base: labels and
/// annotations merged (new wins), the base's name and namespace and history kept, and for
/// `merge` the data maps merged too.
fn fold(new: &mut Resource, old: &Resource, merge_data: bool) {
    // Kustomize rebuilds these maps from the old object's raw values: a re-folded scalar
    // becomes its raw value again (and a plain string from now on).
    let raw = |path: &[&str], v: &Value| match old.folded_at(path, v) {
        Some(r) => Value::Str(r.to_string()),
        None => v.clone(),
    };
    for field in ["labels", "annotations"] {
        let mut merged: Map = old
            .meta_map(field)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), raw(&["metadata", field, k], v)))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(m) = new.meta_map(field) {
            for (k, v) in m {
                merged.insert(k.clone(), v.clone());
            }
        }
        let meta = new.metadata_mut();
        if merged.is_empty() {
            meta.shift_remove(field);
        } else {
            meta.insert(field.to_string(), Value::Map(merged));
        }
    }
    new.set_name(&old.name());
    if old.namespace().is_empty() {
        new.metadata_mut().shift_remove("namespace");
    } else {
        new.set_namespace(old.namespace());
    }
    if merge_data {
        for field in ["data", "binaryData"] {
            let mut merged: Map = old
                .doc
                .get(field)
                .and_then(Value::as_map)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), raw(&[field, k], v)))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(Value::Map(m)) = new.doc.get(field) {
                for (k, v) in m {
                    merged.insert(k.clone(), v.clone());
                }
            }
            if !merged.is_empty()
                && let Some(root) = new.doc.as_map_mut()
            {
                root.insert(field.to_string(), Value::Map(merged));
            }
        }
    }
    new.prev_ids = old.prev_ids.clone();
    new.prefixes = old.prefixes.clone();
    new.suffixes = old.suffixes.clone();
    new.needs_hash = new.needs_hash && old.needs_hash;
    new.ref_vars = old.ref_vars.clone();
    if merge_data {
        new.origin = old.origin.clone();
    }
    new.transformations = old.transformations.clone();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_quotes_and_keys() {
        assert_eq!(unquote("\"a b\""), "a b");
        assert_eq!(unquote("'x'"), "x");
        assert_eq!(unquote("\"x'"), "\"x'");
        // Keys are kept as written; only one YAML reads as a non-string is refused.
        for key in [
            "app.properties",
            "a b",
            "a/b",
            "export K",
            "yes",
            "0.0.1",
            "1:2",
        ] {
            assert!(crate::yaml::plain_is_string(key), "{key}");
        }
        for key in ["1", "true", "~", "1.5", "0x1F", "2001-12-14", "<<"] {
            assert!(!crate::yaml::plain_is_string(key), "{key}");
            assert!(!not_a_string_key(key, "data").is_empty());
        }
    }
}
