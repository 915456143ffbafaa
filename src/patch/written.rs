//! How a strategic merge patch was written, and the style kyaml gives each scalar it merges:
//! over a quoted string a typed patch scalar keeps its text, in a folded block a string is
//! re-folded, a field the patch adds keeps the patch's style. `Walk` carries where the merge
//! is in the patch and in the target (`smp.rs` walks both) and records the styles it gives.

use crate::yaml::{Look, PathSeg, StringStyle, Value};

/// How a strategic merge patch document was written (`yaml::parse_patch_written_in`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Written {
    /// The written texts of its typed plain scalars.
    pub texts: crate::yaml::Texts,
    /// Its strings and whether each was quoted (or a block).
    pub strings: Vec<StringStyle>,
    /// Its folded (`>`) strings, raw: the value read is re-folded as kyaml prints a folded
    /// node, but over a target string of another style the node takes that style and the
    /// raw value.
    pub folded: Vec<(Vec<PathSeg>, String)>,
}

impl Written {
    /// Nothing known of how the patch was written.
    pub const NONE: &'static Written = &Written {
        texts: Vec::new(),
        strings: Vec::new(),
        folded: Vec::new(),
    };
}

/// Where the merge is in the patch and in the target, with how the patch was written. kyaml
/// gives a patch's scalar the style of the target's: over a string that was quoted (or a
/// block), `0x1F` stays the text `"0x1F"`; a field the patch adds keeps the patch's style.
pub struct Walk<'t> {
    written: &'t Written,
    pub(super) path: Vec<PathSeg>,
    pub(super) dest: Vec<PathSeg>,
    /// The target's source file and the line its document starts on, read (once) only
    /// when a typed patch scalar lands on a string that could have been written plain.
    source: Option<(&'t std::path::Path, usize)>,
    styled: Option<Vec<StringStyle>>,
    /// Styles the target's strings got from earlier patches (`Resource::style_overrides`).
    overrides: &'t [StringStyle],
    /// The styles this merge gives strings (at paths through maps only).
    pub added: Vec<StringStyle>,
    /// Strings this merge put in folded blocks: path and raw value.
    pub folded: Vec<(Vec<PathSeg>, String)>,
}

impl<'t> Walk<'t> {
    pub fn new(written: &'t Written) -> Walk<'t> {
        Walk {
            written,
            path: Vec::new(),
            dest: Vec::new(),
            source: None,
            styled: None,
            overrides: &[],
            added: Vec::new(),
            folded: Vec::new(),
        }
    }

    /// A walk that can look up how the target's strings were written: styles earlier
    /// patches gave them, then its source.
    pub fn with_source(
        written: &'t Written,
        source: Option<(&'t std::path::Path, usize)>,
        overrides: &'t [StringStyle],
    ) -> Walk<'t> {
        Walk {
            source,
            overrides,
            ..Walk::new(written)
        }
    }

    /// The patch's scalar here, as it lands over `dest`.
    pub(super) fn scalar(&mut self, dest: Option<&Value>, patch: &Value) -> Value {
        if self.written.texts.is_empty() && self.written.strings.is_empty() {
            return patch.clone();
        }
        let through_list = self.dest.iter().any(|s| matches!(s, PathSeg::Index(_)));
        // A folded patch string over an existing node: refolded once if that node is folded,
        // else the raw value (the node keeps its style, so kyaml's re-folding never happens).
        if let (Some(d), Value::Str(_)) = (dest, patch)
            && let Some((_, raw)) = self.written.folded.iter().find(|(p, _)| *p == self.path)
        {
            let folded =
                matches!(d, Value::Str(d) if !through_list && self.look(d) == Look::Folded);
            if folded {
                self.folded.push((self.dest.clone(), raw.clone()));
                return Value::Str(crate::yaml::refolded(raw));
            }
            return Value::Str(raw.clone());
        }
        match (dest, patch) {
            // A node changed in place keeps its style (the source's, or an earlier patch's):
            // over a quoted string a typed scalar keeps its text, ...
            (Some(Value::Str(d)), _) => {
                if let Some((_, text)) = self.written.texts.iter().find(|(p, _)| *p == self.path)
                    && self.look(d) != Look::Plain
                {
                    if !through_list {
                        self.added
                            .push((self.dest.clone(), String::new(), Look::Quoted));
                    }
                    return Value::Str(text.clone());
                }
                // ... and in a folded block a string is re-folded.
                if let Value::Str(v) = patch {
                    let refolded = crate::yaml::refolded(v);
                    if refolded != *v && !through_list && self.look(d) == Look::Folded {
                        self.folded.push((self.dest.clone(), v.clone()));
                        return Value::Str(refolded);
                    }
                    // ... and a string put in place is written as the target's was (`yes`
                    // over a plain string is plain: a later typed patch there is typed).
                    if !through_list && v != d {
                        let look = self.look(d);
                        if look != Look::Folded
                            && (look == Look::Plain) != crate::yaml::prints_plain(v)
                        {
                            self.added.push((self.dest.clone(), String::new(), look));
                        }
                    }
                }
            }
            // A null or typed target is written plain: so is the patch's string now. (Only
            // what differs from how go-yaml would write the string is recorded.)
            (Some(_), Value::Str(v)) if !through_list && !crate::yaml::prints_plain(v) => {
                self.added
                    .push((self.dest.clone(), String::new(), Look::Plain));
            }
            // A field the patch adds is written as in the patch (Kustomize reads a patch's
            // YAML 1.1 boolean strings quoted).
            (None, Value::Str(v)) if !through_list => {
                let look = self
                    .written
                    .strings
                    .iter()
                    .find(|(p, _, _)| *p == self.path)
                    .map_or(Look::Plain, |(_, _, l)| *l);
                let look = match look {
                    Look::Plain if crate::yaml::is_yaml11_only_bool(v) => Look::Quoted,
                    other => other,
                };
                if (look == Look::Plain) != crate::yaml::prints_plain(v) || look == Look::Folded {
                    self.added.push((self.dest.clone(), String::new(), look));
                }
            }
            _ => {}
        }
        patch.clone()
    }

    /// How the target's string `d` here is written in Kustomize: as an earlier patch left
    /// it, else as written in its source when it is still the source's string, else as
    /// go-yaml writes it.
    pub(super) fn look(&mut self, d: &str) -> Look {
        if let Some((_, _, look)) = self
            .overrides
            .iter()
            .rev()
            .find(|(p, _, _)| *p == self.dest)
        {
            return *look;
        }
        let source = self.source;
        let strings = self.styled.get_or_insert_with(|| {
            let Some((file, line)) = source else {
                return Vec::new();
            };
            let Ok(text) = crate::fs::read_text(file) else {
                return Vec::new();
            };
            let budget = crate::yaml::AliasBudget::default();
            crate::yaml::parse_string_styles_in(&text, &budget)
                .ok()
                .and_then(|docs| docs.into_iter().find(|(l, _)| *l == line))
                .map(|(_, s)| s)
                .unwrap_or_default()
        });
        // A string keeps its style when a transformer or patch changes its value in place;
        // through a list (whose items a merge may reorder) only the same value is trusted.
        let through_list = self.dest.iter().any(|s| matches!(s, PathSeg::Index(_)));
        // Not known: as go-yaml writes it, except that a timestamp in an object read from a
        // file came from a plain scalar (a quoted one keeps its text).
        let from_file = source.is_some();
        let plain = || {
            let timestamp = !crate::yaml::plain_is_string(d)
                && matches!(crate::yaml::plain_scalar(d), Value::Str(_));
            if crate::yaml::prints_plain(d) || (from_file && timestamp) {
                Look::Plain
            } else {
                Look::Quoted
            }
        };
        let dest = &self.dest;
        let same_shape = |p: &[PathSeg]| {
            p.len() == dest.len()
                && p.iter().zip(dest).all(|(a, b)| match (a, b) {
                    (PathSeg::Index(_), PathSeg::Index(_)) => true,
                    _ => a == b,
                })
        };
        strings
            .iter()
            .find(|(p, v, _)| p == dest && (!through_list || v == d))
            .or_else(|| {
                // An item the merge moved: the same value at the same place of some item.
                through_list
                    .then(|| strings.iter().find(|(p, v, _)| v == d && same_shape(p)))
                    .flatten()
            })
            .map_or_else(plain, |(_, _, look)| *look)
    }

    /// How Kustomize has the string `d` at `path` of `r` written, for a transformer that
    /// sets a node in place and keeps its style (`replicas`): see `look`.
    pub fn look_in(r: &crate::resource::Resource, path: &[PathSeg], d: &str) -> Look {
        let source = (r.origin.configured_by.is_none() && r.source_styles)
            .then_some((r.origin.file.as_path(), r.origin.line));
        let mut walk = Walk::with_source(Written::NONE, source, &r.style_overrides);
        walk.dest = path.to_vec();
        walk.look(d)
    }

    pub(super) fn enter<T>(
        &mut self,
        patch: PathSeg,
        dest: PathSeg,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        self.path.push(patch);
        self.dest.push(dest);
        let out = f(self);
        self.path.pop();
        self.dest.pop();
        out
    }
}
