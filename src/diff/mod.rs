//! Resource-aware diffs of rendered output (`strata diff`).
//!
//! Input: two lists of objects (two environments, a revision and the working tree, or two
//! files). `pair` matches them by id (group, kind, namespace, name, ignoring the version),
//! and a generated object whose name changed only in its hash suffix with its predecessor;
//! `mask` hides the values of Secrets; `unified` turns each changed pair into hunks of a
//! unified diff of the printed YAML (the `similar` crate), each with the YAML path it
//! touches; `report` prints the result as text, Markdown or JSON. Everything is in the
//! order of the new stream (removed objects last, in the old order), so the output is
//! deterministic. Objects are compared by their printed text first, so only the objects
//! that changed are diffed.

mod mask;
mod pair;
pub mod report;
pub mod revision;
mod unified;
mod yaml_path;

use crate::resource::Resource;
use crate::yaml::{Value, to_yaml_string};
use rayon::prelude::*;

pub use unified::{Hunk, Line, Tag};

/// How an object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Added,
    Removed,
    Changed,
    /// Paired through its hash suffix: the name changed, and so (usually) the content.
    Renamed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
            Status::Renamed => "renamed",
        }
    }
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub status: Status,
    pub api_version: String,
    pub kind: String,
    /// The namespace after (before, for a removed object).
    pub namespace: String,
    /// The namespace before (absent for an added object).
    pub old_namespace: Option<String>,
    /// The name before (absent for an added object).
    pub old_name: Option<String>,
    /// The name after (absent for a removed object).
    pub new_name: Option<String>,
    pub hunks: Vec<Hunk>,
}

impl Change {
    /// The name the object has now (or had, when removed).
    pub fn name(&self) -> &str {
        self.new_name
            .as_deref()
            .or(self.old_name.as_deref())
            .unwrap_or("")
    }

    /// `Kind/name`, `Kind/namespace/name` with a namespace.
    pub fn title(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name())
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name())
        }
    }

    /// Lines added and removed.
    pub fn counts(&self) -> (usize, usize) {
        let mut added = 0;
        let mut removed = 0;
        for l in self.hunks.iter().flat_map(|h| &h.lines) {
            match l.tag {
                Tag::Insert => added += 1,
                Tag::Delete => removed += 1,
                Tag::Context => {}
            }
        }
        (added, removed)
    }
}

/// The differences of one comparison (one environment, or two files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The environment's name, or `OLD → NEW` for two files.
    pub name: String,
    pub changes: Vec<Change>,
}

/// Options of a diff.
#[derive(Debug, Clone, Copy)]
pub struct DiffOptions {
    /// Lines of context around each change.
    pub context: usize,
    /// Pair objects of different namespaces by name too (two different environments).
    pub across_namespaces: bool,
}

impl Default for DiffOptions {
    fn default() -> DiffOptions {
        DiffOptions {
            context: 3,
            across_namespaces: false,
        }
    }
}

/// The differences between the objects `old` and `new`.
pub fn resources(old: &[Resource], new: &[Resource], options: &DiffOptions) -> Vec<Change> {
    let old: Vec<&Value> = old.iter().map(|r| &r.doc).collect();
    let new: Vec<&Value> = new.iter().map(|r| &r.doc).collect();
    diff_values(&old, &new, options)
}

/// `resources` on documents.
pub fn diff_values(old: &[&Value], new: &[&Value], options: &DiffOptions) -> Vec<Change> {
    let pairs = pair::pair(old, new, options.across_namespaces);
    // Each pair is printed (masked) and, when the texts differ, diffed: in parallel, in
    // pair order.
    pairs
        .par_iter()
        .filter_map(|p| compare(p, old, new, options))
        .collect()
}

fn compare(
    p: &pair::Pair,
    old: &[&Value],
    new: &[&Value],
    options: &DiffOptions,
) -> Option<Change> {
    let o = p.old.map(|i| old[i]);
    let n = p.new.map(|i| new[i]);
    if o.is_some() && o == n {
        return None;
    }
    let (o_text, n_text) = printed(o, n);
    if o_text == n_text {
        return None;
    }
    let hunks = unified::hunks(
        o_text.as_deref().unwrap_or(""),
        n_text.as_deref().unwrap_or(""),
        options.context,
    );
    let any = n.or(o)?;
    let status = match (o, n) {
        (None, _) => Status::Added,
        (_, None) => Status::Removed,
        _ if p.renamed => Status::Renamed,
        _ => Status::Changed,
    };
    let name = |v: Option<&Value>| {
        v.and_then(|v| v.str_at(&["metadata", "name"]))
            .map(str::to_string)
    };
    let namespace = |v: &Value| {
        v.str_at(&["metadata", "namespace"])
            .unwrap_or("")
            .to_string()
    };
    Some(Change {
        status,
        api_version: any.str_at(&["apiVersion"]).unwrap_or("").to_string(),
        kind: any.str_at(&["kind"]).unwrap_or("").to_string(),
        namespace: namespace(any),
        old_namespace: o.map(namespace),
        old_name: name(o),
        new_name: name(n),
        hunks,
    })
}

/// The two sides as printed, Secrets masked; an object on one side only is compared with
/// nothing.
fn printed(old: Option<&Value>, new: Option<&Value>) -> (Option<String>, Option<String>) {
    let secret = |v: Option<&Value>| v.is_some_and(mask::is_secret);
    if !secret(old) && !secret(new) {
        return (old.map(to_yaml_string), new.map(to_yaml_string));
    }
    let (o, n) = mask::mask(old, new);
    (
        o.as_ref().map(to_yaml_string),
        n.as_ref().map(to_yaml_string),
    )
}

/// Whether any comparison has a difference.
pub fn any_changes(comparisons: &[Comparison]) -> bool {
    comparisons.iter().any(|c| !c.changes.is_empty())
}
