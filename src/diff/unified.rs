//! A unified diff of two printed objects, hunk by hunk (the `similar` crate, Myers' line
//! diff), each hunk carrying the YAML path of what it changes: the longest path shared by
//! its changed lines (`spec.template.spec.containers.0` when a container's image and env
//! changed), or the first changed line's when they share none.

use super::yaml_path;
use similar::{ChangeTag, TextDiff};

/// What a line of a hunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Context,
    Delete,
    Insert,
}

impl Tag {
    /// The unified-diff prefix: ` `, `-` or `+`.
    pub fn sign(self) -> char {
        match self {
            Tag::Context => ' ',
            Tag::Delete => '-',
            Tag::Insert => '+',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub tag: Tag,
    /// The line without its newline.
    pub text: String,
}

/// One hunk: where it starts on each side (1-based, as `@@ -a,b +c,d @@` prints it) and its
/// lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub old_start: usize,
    pub old_lines: usize,
    pub new_start: usize,
    pub new_lines: usize,
    /// The YAML path the hunk changes (`spec.replicas`); empty for the document itself.
    pub path: String,
    pub lines: Vec<Line>,
}

impl Hunk {
    /// `@@ -a,b +c,d @@ path`.
    pub fn header(&self) -> String {
        let range = |start: usize, len: usize| {
            // As diff(1): an empty side is numbered by the line before it.
            let start = if len == 0 {
                start.saturating_sub(1)
            } else {
                start
            };
            if len == 1 {
                start.to_string()
            } else {
                format!("{start},{len}")
            }
        };
        let mut h = format!(
            "@@ -{} +{} @@",
            range(self.old_start, self.old_lines),
            range(self.new_start, self.new_lines)
        );
        if !self.path.is_empty() {
            h.push(' ');
            h.push_str(&self.path);
        }
        h
    }
}

/// The hunks turning `old` into `new`, with `context` lines around each change.
pub fn hunks(old: &str, new: &str, context: usize) -> Vec<Hunk> {
    let diff = TextDiff::from_lines(old, new);
    let groups = diff.grouped_ops(context);
    if groups.is_empty() {
        return Vec::new();
    }
    let old_paths = yaml_path::line_paths(old);
    let new_paths = yaml_path::line_paths(new);
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let mut lines = Vec::new();
        let mut changed: Vec<&[String]> = Vec::new();
        for op in &group {
            for change in diff.iter_changes(op) {
                let tag = match change.tag() {
                    ChangeTag::Equal => Tag::Context,
                    ChangeTag::Delete => Tag::Delete,
                    ChangeTag::Insert => Tag::Insert,
                };
                let path = match (tag, change.old_index(), change.new_index()) {
                    (Tag::Insert, _, Some(j)) => new_paths.get(j),
                    (Tag::Delete, Some(i), _) => old_paths.get(i),
                    _ => None,
                };
                if let Some(p) = path {
                    changed.push(p);
                }
                let text = change.value();
                lines.push(Line {
                    tag,
                    text: text.strip_suffix('\n').unwrap_or(text).to_string(),
                });
            }
        }
        out.push(Hunk {
            old_start: old_range.start + 1,
            old_lines: old_range.len(),
            new_start: new_range.start + 1,
            new_lines: new_range.len(),
            // A whole object added or removed changes the document itself.
            path: if old.is_empty() || new.is_empty() {
                String::new()
            } else {
                yaml_path::shown(&common(&changed))
            },
            lines,
        });
    }
    out
}

/// The longest path all `paths` start with; the first path when they share nothing.
fn common(paths: &[&[String]]) -> Vec<String> {
    let Some(first) = paths.first() else {
        return Vec::new();
    };
    let mut n = first.len();
    for p in &paths[1..] {
        n = n.min(
            first
                .iter()
                .zip(p.iter())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    if n == 0 {
        first.to_vec()
    } else {
        first[..n].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_carry_ranges_and_paths() {
        let old = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - image: web:1\n        name: web\n";
        let new = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - image: web:2\n        name: web\n";
        let h = hunks(old, new, 1);
        assert_eq!(h.len(), 1);
        assert_eq!(
            h[0].header(),
            "@@ -9,3 +9,3 @@ spec.template.spec.containers.0.image"
        );
        let text: Vec<String> = h[0]
            .lines
            .iter()
            .map(|l| format!("{}{}", l.tag.sign(), l.text))
            .collect();
        assert_eq!(
            text,
            [
                "       containers:",
                "-      - image: web:1",
                "+      - image: web:2",
                "         name: web",
            ]
        );
    }

    #[test]
    fn several_changed_lines_share_their_common_path() {
        let old = "spec:\n  a:\n    x: 1\n    y: 2\n  b: 3\n";
        let new = "spec:\n  a:\n    x: 5\n    y: 6\n  b: 3\n";
        assert_eq!(hunks(old, new, 0)[0].path, "spec.a");
        let new = "spec:\n  a:\n    x: 5\n    y: 2\n  b: 4\n";
        let h = hunks(old, new, 3);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].path, "spec");
    }

    #[test]
    fn an_added_object_is_one_hunk_of_insertions() {
        let h = hunks("", "a: 1\nb: 2\n", 3);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].header(), "@@ -0,0 +1,2 @@");
        assert!(h[0].lines.iter().all(|l| l.tag == Tag::Insert));
    }
}
