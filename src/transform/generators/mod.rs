//! `configMapGenerator:` and `secretGenerator:` — make ConfigMaps and Secrets from
//! literals, files and env files.
//!
//! A generated object is created (or, with `behavior: merge|replace`, folded into the object
//! of the same name from a base), carries `generatorOptions` merged with its own options,
//! and — unless `disableNameSuffixHash` — gets a content-hash suffix at the top of the build
//! (see `hash.rs`). Secret values are base64 with a line break every 70 characters, as
//! Kustomize writes them. File content that is not UTF-8 goes to `binaryData`. The sources
//! are read in `sources.rs`; here the entries are read, the objects made and absorbed.

mod sources;

use crate::error::{Error, Result};
use crate::load::kustomization::describe;
use crate::load::{Kustomization, Loader};
use crate::resource::{Origin, ResMap, Resource};
use crate::yaml::{Map, Value};
use sources::{Data, KEY_HELP, Place, not_a_string_key};

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

/// The strings of a generator entry's field: a list (`literals`, `files`, `envs`) or the
/// one string of the old `env:`. Types were checked when the kustomization or the plugin
/// configuration was read.
fn strings(field: &str, m: &Map) -> Vec<String> {
    match m.get(field) {
        Some(Value::Seq(items)) => items.iter().filter_map(Value::scalar_text).collect(),
        Some(Value::Str(s)) => vec![s.clone()],
        _ => Vec::new(),
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
