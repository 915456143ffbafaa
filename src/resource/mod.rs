//! The resource model: one Kubernetes object, its id, and where it came from.
//!
//! A `Resource` is a document (`Value`) plus what Kustomize tracks beside it: the ids it
//! had before renames (name references are resolved against those), the file it was read
//! from (for errors and `buildMetadata: [originAnnotations]`), and the transformers that
//! touched it (for `transformerAnnotations`). `ResId` is group, version, kind, namespace
//! and name, read from the document whenever it is needed so it never goes stale.

mod resmap;
mod scope;

pub use resmap::ResMap;
pub use scope::is_cluster_scoped;

use crate::yaml::{Map, Value};
use std::fmt;
use std::path::PathBuf;

/// Group, version and kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.to_string()),
        };
        Gvk {
            group,
            version,
            kind: kind.to_string(),
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Kustomize's `Gvk.String()`: `group_version_kind` with `~G`, `~V`, `~K` for blanks.
    pub fn sort_string(&self) -> String {
        let or = |s: &str, d: &str| {
            if s.is_empty() {
                d.to_string()
            } else {
                s.to_string()
            }
        };
        format!(
            "{}_{}_{}",
            or(&self.group, "~G"),
            or(&self.version, "~V"),
            or(&self.kind, "~K")
        )
    }

    pub fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped(&self.api_version(), &self.kind)
    }
}

/// The identity of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ResId {
    pub gvk: Gvk,
    pub name: String,
    pub namespace: String,
}

impl ResId {
    /// The namespace Kustomize compares with: `default` for blank, a marker for cluster kinds.
    pub fn effective_namespace(&self) -> &str {
        if self.gvk.is_cluster_scoped() {
            "_non_namespaceable_"
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    /// Two ids name the same object (blank and `default` namespaces are equal).
    pub fn same_object(&self, other: &ResId) -> bool {
        self.gvk == other.gvk
            && self.name == other.name
            && self.effective_namespace() == other.effective_namespace()
    }

    /// The tie-breaker of the legacy sort: `gvk|namespace|name`, `~X`/`~N` for blanks.
    pub fn legacy_sort_string(&self) -> String {
        let or = |s: &str, d: &str| {
            if s.is_empty() {
                d.to_string()
            } else {
                s.to_string()
            }
        };
        format!(
            "{}|{}|{}",
            self.gvk.sort_string(),
            or(&self.namespace, "~X"),
            or(&self.name, "~N")
        )
    }
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.gvk.kind, self.name)?;
        if !self.namespace.is_empty() {
            write!(f, " in namespace `{}`", self.namespace)?;
        }
        Ok(())
    }
}

/// Where a resource was read from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// The file on disk.
    pub file: PathBuf,
    /// The 1-based line its document starts on.
    pub line: usize,
    /// The path as `buildMetadata: [originAnnotations]` prints it, relative to the build root.
    pub display_path: String,
    /// For generated objects: the file that configured the generator (relative to the
    /// build root), the generator's kind, and its `metadata.name` when it has one.
    pub configured_by: Option<(String, String, Option<String>)>,
}

/// One transformer run that touched a resource (for `transformerAnnotations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transformation {
    pub configured_in: String,
    pub kind: String,
    /// For plugins configured by a document: its `metadata.name` and `namespace`.
    pub name: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub doc: Value,
    pub origin: Origin,
    /// Ids this resource had before renames, oldest first.
    pub prev_ids: Vec<ResId>,
    /// Name prefixes and suffixes added so far, outermost last (name references use them).
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    pub transformations: Vec<Transformation>,
    /// A generated ConfigMap or Secret that gets a content-hash name suffix.
    pub needs_hash: bool,
    /// The vars whose value this resource provides.
    pub ref_vars: Vec<String>,
    /// Fields whose value was empty in the source (`key:`), which a strategic merge patch
    /// clears (see `yaml::Document::empty_nulls`).
    pub empty_nulls: Vec<Vec<crate::yaml::PathSeg>>,
    /// Annotations that were typed in the source (`n: 0x1F` is the text `"0x1F"` but the
    /// number 31): (key, text, typed value). A JSON patch sees the typed value.
    pub typed_annotations: Vec<(String, String, crate::yaml::Value)>,
    /// Raw values of re-folded scalars at map-field paths: the tree holds what kubectl
    /// prints, this what Kustomize's generator merge and replacements read.
    pub folded_raw: Vec<(Vec<crate::yaml::PathSeg>, String)>,
    /// Groups of places that are one value node in Kustomize: a label or annotation a
    /// transformer created at several places of this object (metadata, selector, template).
    /// A later write to one of them in place (a label transformer, a strategic merge patch,
    /// a replacement) changes them all, as in Kustomize.
    pub aliases: Vec<Vec<Vec<crate::yaml::PathSeg>>>,
    /// Whether the strings of the tree still have the style of the source file (a JSON
    /// patch rebuilds every node; see `patch::smp::Walk`).
    pub source_styles: bool,
    /// Values a replacement put in fields of another type (`dev0` into `replicas`): the
    /// build fails if one is still there when the object is read (a JSON patch, the output).
    pub misfits: Vec<Misfit>,
    /// How strategic merge patches left strings that are not as in the source: path,
    /// (unused) value, quoted or not (see `patch::smp::Walk`).
    pub style_overrides: Vec<crate::yaml::StringStyle>,
}

/// A replacement's value that does not fit its field (see `Resource::misfits`).
#[derive(Debug, Clone, PartialEq)]
pub struct Misfit {
    /// The replacement's field path, split.
    pub path: Vec<String>,
    /// The text it put there.
    pub text: String,
    /// What to report.
    pub error: crate::error::Error,
}

impl Resource {
    /// Fails when a replacement's misfit value is still in the object (Kustomize fails to
    /// read the object then).
    pub fn check_misfits(&mut self) -> crate::error::Result<()> {
        let misfits = std::mem::take(&mut self.misfits);
        for m in &misfits {
            if crate::fieldpath::holds(&mut self.doc, &m.path, &m.text) {
                return Err(m.error.clone());
            }
        }
        Ok(())
    }
}

/// The value at a concrete path.
pub fn value_at<'a>(v: &'a Value, path: &[crate::yaml::PathSeg]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, seg| match (seg, cur) {
        (crate::yaml::PathSeg::Key(k), Value::Map(m)) => m.get(k),
        (crate::yaml::PathSeg::Index(i), Value::Seq(s)) => s.get(*i),
        _ => None,
    })
}

fn value_at_mut<'a>(v: &'a mut Value, path: &[crate::yaml::PathSeg]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |cur, seg| match (seg, cur) {
        (crate::yaml::PathSeg::Key(k), Value::Map(m)) => m.get_mut(k),
        (crate::yaml::PathSeg::Index(i), Value::Seq(s)) => s.get_mut(*i),
        _ => None,
    })
}

/// The values at an object's alias groups, taken before a writer runs.
pub type AliasSnapshot = Vec<Vec<Option<Value>>>;

impl Resource {
    /// Snapshot the alias groups' values (cheap: few objects have groups).
    pub fn alias_snapshot(&self) -> AliasSnapshot {
        self.aliases
            .iter()
            .map(|g| g.iter().map(|p| value_at(&self.doc, p).cloned()).collect())
            .collect()
    }

    /// After a writer ran: a member it changed carries its new value to the members it
    /// left as they were; a member it removed leaves its group.
    pub fn sync_aliases(&mut self, before: AliasSnapshot) {
        let mut groups = std::mem::take(&mut self.aliases);
        for (group, old) in groups.iter_mut().zip(before) {
            let now: Vec<Option<Value>> = group
                .iter()
                .map(|p| value_at(&self.doc, p).cloned())
                .collect();
            let changed = now
                .iter()
                .zip(&old)
                .find(|(n, o)| n.is_some() && n != o)
                .and_then(|(n, _)| n.clone());
            if let Some(v) = changed.filter(|v| !matches!(v, Value::Map(_) | Value::Seq(_))) {
                for ((p, n), o) in group.iter().zip(&now).zip(&old) {
                    if n.is_some()
                        && n == o
                        && let Some(slot) = value_at_mut(&mut self.doc, p)
                    {
                        *slot = v.clone();
                    }
                }
            }
            let mut keep = now.iter().map(Option::is_some);
            group.retain(|_| keep.next().unwrap_or(false));
        }
        groups.retain(|g| g.len() > 1);
        self.aliases = groups;
    }

    /// The raw value of the re-folded scalar at a map-field path, if it still holds the
    /// printed form `current`.
    pub fn folded_at(&self, path: &[&str], current: &crate::yaml::Value) -> Option<&str> {
        let crate::yaml::Value::Str(now) = current else {
            return None;
        };
        self.folded_raw
            .iter()
            .find(|(p, _)| {
                p.len() == path.len()
                    && p.iter()
                        .zip(path)
                        .all(|(s, k)| matches!(s, crate::yaml::PathSeg::Key(x) if x == k))
            })
            .map(|(_, raw)| raw.as_str())
            .filter(|raw| crate::yaml::refolded(raw) == *now)
    }

    pub fn new(doc: Value, origin: Origin) -> Resource {
        Resource {
            doc,
            origin,
            prev_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            transformations: Vec::new(),
            needs_hash: false,
            ref_vars: Vec::new(),
            empty_nulls: Vec::new(),
            typed_annotations: Vec::new(),
            folded_raw: Vec::new(),
            aliases: Vec::new(),
            source_styles: true,
            misfits: Vec::new(),
            style_overrides: Vec::new(),
        }
    }

    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(
            self.doc.str_at(&["apiVersion"]).unwrap_or(""),
            self.doc.str_at(&["kind"]).unwrap_or(""),
        )
    }

    pub fn kind(&self) -> &str {
        self.doc.str_at(&["kind"]).unwrap_or("")
    }

    /// `metadata.name`; a number or boolean (a JSON patch can set one) as its text, as
    /// Kustomize reads it.
    pub fn name(&self) -> std::borrow::Cow<'_, str> {
        match self.doc.get("metadata").and_then(|m| m.get("name")) {
            Some(Value::Str(s)) => std::borrow::Cow::Borrowed(s),
            Some(v @ (Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_))) => {
                std::borrow::Cow::Owned(v.scalar_text().unwrap_or_default())
            }
            _ => std::borrow::Cow::Borrowed(""),
        }
    }

    pub fn namespace(&self) -> &str {
        self.doc.str_at(&["metadata", "namespace"]).unwrap_or("")
    }

    pub fn id(&self) -> ResId {
        ResId {
            gvk: self.gvk(),
            name: self.name().to_string(),
            namespace: self.namespace().to_string(),
        }
    }

    /// The id the resource had when it was first read.
    pub fn orig_id(&self) -> ResId {
        self.prev_ids.first().cloned().unwrap_or_else(|| self.id())
    }

    /// Every id this resource has had, the current one last.
    pub fn all_ids(&self) -> impl Iterator<Item = ResId> + '_ {
        self.prev_ids
            .iter()
            .cloned()
            .chain(std::iter::once(self.id()))
    }

    /// Remember the current id before a rename.
    pub fn store_previous_id(&mut self) {
        let id = self.id();
        // Most resources are renamed once or twice: no growth slack in a list kept for
        // every resource until the build ends.
        self.prev_ids.reserve_exact(1);
        self.prev_ids.push(id);
    }

    pub fn metadata_mut(&mut self) -> &mut Map {
        let root = ensure_map(&mut self.doc);
        ensure_map(root.entry("metadata".to_string()).or_insert(Value::Null))
    }

    pub fn set_name(&mut self, name: &str) {
        self.metadata_mut()
            .insert("name".to_string(), Value::Str(name.to_string()));
    }

    pub fn set_namespace(&mut self, ns: &str) {
        self.metadata_mut()
            .insert("namespace".to_string(), Value::Str(ns.to_string()));
    }

    /// The labels or annotations map, if present.
    pub fn meta_map(&self, field: &str) -> Option<&Map> {
        self.doc.get("metadata")?.get(field)?.as_map()
    }
}

/// Make `v` a map (replacing a null) and return it.
pub fn ensure_map(v: &mut Value) -> &mut Map {
    if !matches!(v, Value::Map(_)) {
        *v = Value::Map(Map::default());
    }
    match v {
        Value::Map(m) => m,
        _ => unreachable!("just made a map"),
    }
}
