//! The three patch fields as transformers: `patchesStrategicMerge`, `patches` and
//! `patchesJson6902`.
//!
//! Patch files are read when the kustomization is configured (so a missing or malformed
//! patch is reported before anything runs) and applied in Kustomize's order. A `target`
//! that selects nothing is silent in Kustomize; strata prints a warning, and `--strict`
//! makes it an error.
//!
//! `read.rs` reads the entries and their patch files, `json.rs` applies a JSON 6902 patch as
//! Kustomize does; here the patches are applied: a JSON patch or a targeted strategic merge
//! patch to what its `target` selects, an untargeted one to the object of its own id.

mod json;
mod read;

pub use read::{entries, strategic_merge};

use super::Transformer;
use crate::error::{Error, Result};
use crate::load::kustomization::Spot;
use crate::patch::selector::Target;
use crate::patch::{self, Body};
use crate::resource::ResMap;
use crate::warning::Warning;
use crate::yaml::{self, Value};
use json::{apply_json, json_round_trip, op_location};
use std::path::PathBuf;

/// One loaded patch with what it applies to.
pub struct Patch {
    pub body: Body,
    pub target: Option<Target>,
    pub allow_name_change: bool,
    pub allow_kind_change: bool,
    /// `` `patch.yaml` `` or `an inline patch`, for messages.
    pub source: String,
    /// The patch's entry in the kustomization, where errors point.
    pub at: Spot,
    /// The patch file, when the patch has one.
    pub file: Option<PathBuf>,
    /// Per strategic-merge document: its re-folded scalars, raw, and its written texts.
    pub raw: Raw,
}

/// The raw values of a document's re-folded scalars (see `yaml::Document::folded_raw`).
pub type Folded = Vec<(Vec<yaml::PathSeg>, String)>;

/// What the documents of a strategic merge patch were written as, per document.
#[derive(Default)]
pub struct Raw {
    /// Re-folded scalars, raw.
    pub folded: Vec<Folded>,
    /// How each was written (`yaml::parse_patch_written_in`).
    pub written: Vec<patch::smp::Written>,
    /// Its annotations that were not written as strings (`yaml::annotations::settle_patch`).
    pub typed: Vec<Vec<yaml::annotations::Typed>>,
}

impl Raw {
    /// How document `d` was written.
    fn written(&self, d: usize) -> &patch::smp::Written {
        self.written.get(d).unwrap_or(patch::smp::Written::NONE)
    }
}

/// Which field a `Patches` transformer came from (Kustomize names them differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    StrategicMerge,
    Patches,
    Json6902,
}

pub struct Patches {
    pub field: Field,
    pub patches: Vec<Patch>,
    pub strict: bool,
    /// Merge keys of custom resources from the layer's `openapi:` schema.
    pub openapi: Option<std::sync::Arc<crate::patch::schema::Custom>>,
}

impl Patches {
    /// One transformer per entry, as Kustomize configures `patches` and `patchesJson6902`
    /// (each entry is its own PatchTransformer, and `transformerAnnotations` lists each).
    pub fn per_entry(self) -> Vec<Patches> {
        let Patches {
            field,
            patches,
            strict,
            openapi,
        } = self;
        patches
            .into_iter()
            .map(|p| Patches {
                field,
                patches: vec![p],
                strict,
                openapi: openapi.clone(),
            })
            .collect()
    }
}

impl Transformer for Patches {
    fn kind(&self) -> &'static str {
        match self.field {
            Field::StrategicMerge => "PatchStrategicMergeTransformer",
            Field::Patches => "PatchTransformer",
            Field::Json6902 => "PatchJson6902Transformer",
        }
    }

    fn transform(&self, rm: &mut ResMap, warnings: &mut Vec<Warning>) -> Result<()> {
        for p in &self.patches {
            self.apply(p, rm, warnings).map_err(|e| {
                let e = e.or_kind(crate::error::ErrorKind::Patch);
                if e.location.is_some() {
                    e
                } else {
                    e.at(p.at.resolve())
                }
            })?;
            // An object a `$patch: delete` removed is gone for the next patch too.
            rm.items
                .retain(|r| r.doc.as_map().is_some_and(|m| !m.is_empty()));
        }
        Ok(())
    }
}

impl Patches {
    fn apply(&self, p: &Patch, rm: &mut ResMap, warnings: &mut Vec<Warning>) -> Result<()> {
        let selected: Option<Vec<usize>> = p.target.as_ref().map(|t| {
            rm.items
                .iter()
                .enumerate()
                .filter(|(_, r)| t.selects(r))
                .map(|(i, _)| i)
                .collect()
        });
        if let (Some(sel), Some(t)) = (&selected, &p.target)
            && sel.is_empty()
        {
            return self.selects_nothing(p, t, rm, warnings);
        }
        match (&p.body, selected) {
            (Body::Empty, Some(sel)) => {
                // Kustomize still runs the (empty) JSON patch: the documents go through
                // its JSON round trip.
                for i in sel {
                    json_round_trip(&mut rm.items[i].doc);
                }
                Ok(())
            }
            (Body::Empty, None) => Ok(()),
            (Body::Json(_), None) => {
                Err(Error::new(format!("JSON patch {} has no target", p.source))
                    .with_help("add `target:` with at least `kind` and `name`"))
            }
            (Body::Json(ops), Some(sel)) => json_on(p, ops, rm, &sel),
            (Body::Smp(docs), Some(sel)) => self.smp_on(p, docs, rm, &sel),
            (Body::Smp(docs), None) => self.smp_by_id(p, docs, rm),
        }
    }

    /// A `target` that selects nothing: a warning (Kustomize is silent), or with `--strict`
    /// an error.
    fn selects_nothing(
        &self,
        p: &Patch,
        t: &Target,
        rm: &ResMap,
        warnings: &mut Vec<Warning>,
    ) -> Result<()> {
        let msg = format!("patch target ({}) matches no resource", t.text);
        let near = near_miss(t, rm);
        if self.strict {
            return Err(Error::new(msg).with_help(match near {
                Some(n) => format!("{n}, or drop `--strict` to allow it"),
                None => "fix the target, or drop `--strict` to allow it".to_string(),
            }));
        }
        let at = p.at.resolve();
        warnings.push(
            Warning::new(
                format!("warning: {}:{}: {msg}", at.file.display(), at.line),
                msg,
            )
            .with_help(near.unwrap_or_else(|| "fix the target, or remove the patch".to_string()))
            .at(at)
            .ours(),
        );
        Ok(())
    }

    /// A targeted strategic merge patch on each selected object, retargeted at it.
    fn smp_on(&self, p: &Patch, docs: &[Value], rm: &mut ResMap, sel: &[usize]) -> Result<()> {
        if docs.len() > 1 {
            return Err(Error::new(format!(
                "{} holds {} strategic merge patches but has a `target`",
                p.source,
                docs.len()
            ))
            .with_help("a targeted patch entry takes one patch; split the file"));
        }
        for &i in sel {
            let patch = patch::retarget(
                &docs[0],
                &rm.items[i],
                p.allow_name_change,
                p.allow_kind_change,
                &p.raw.written(0).texts,
            );
            patch::apply_smp(
                &mut rm.items[i],
                &patch,
                p.allow_name_change,
                p.allow_kind_change,
                self.openapi.as_ref(),
                p.raw.written(0),
            )
            .map_err(|e| e.context(format!("patch {}", p.source)))?;
            adopt_folded(&mut rm.items[i], &patch, p.raw.folded.first());
        }
        Ok(())
    }

    /// Untargeted strategic merge patches, each on the one object of its own id.
    fn smp_by_id(&self, p: &Patch, docs: &[Value], rm: &mut ResMap) -> Result<()> {
        for (d, doc) in docs.iter().enumerate() {
            let id = patch::patch_id(doc);
            let found = patch::matching_any_id(rm, &id);
            // `patchesStrategicMerge` reads the patch's labels and annotations as
            // strings, as a targeted patch does; `patches:` keeps them typed.
            let stringified;
            let doc = if self.field == Field::StrategicMerge {
                let mut copy = doc.clone();
                patch::stringify_metadata(&mut copy, &p.raw.written(d).texts);
                stringified = copy;
                &stringified
            } else {
                doc
            };
            let i = match found.as_slice() {
                [i] => *i,
                [] => return Err(patch::no_target(rm, &id, &p.source)),
                _ => {
                    return Err(Error::new(format!(
                        "strategic merge patch {} matches {} resources named `{}`",
                        p.source,
                        found.len(),
                        id.name
                    ))
                    .with_help(
                        "add `metadata.namespace` to the patch, or use `target:` to select them",
                    ));
                }
            };
            patch::apply_smp(
                &mut rm.items[i],
                doc,
                p.allow_name_change,
                p.allow_kind_change,
                self.openapi.as_ref(),
                p.raw.written(d),
            )
            .map_err(|e| e.context(format!("patch {}", p.source)))?;
            adopt_folded(&mut rm.items[i], doc, p.raw.folded.get(d));
            // (`patchesStrategicMerge` sets its annotations as strings.)
            if self.field != Field::StrategicMerge {
                adopt_typed(&mut rm.items[i], p.raw.typed.get(d));
            }
        }
        Ok(())
    }
}

/// "did you mean" for a target that selects nothing: the closest kind of the layer's
/// objects when none has the target's kind, else the closest name among that kind's.
fn near_miss(t: &Target, rm: &ResMap) -> Option<String> {
    let field = |f: &str| {
        t.text
            .split(", ")
            .find_map(|part| part.strip_prefix(f)?.strip_prefix('='))
    };
    let kinds: Vec<&str> = rm.items.iter().map(|r| r.kind()).collect();
    if let Some(kind) = field("kind") {
        if !kinds.contains(&kind) {
            let near = crate::error::closest(kind, kinds.iter().copied())?;
            return Some(format!("did you mean `kind: {near}`?"));
        }
        let name = field("name")?;
        let names: Vec<String> = rm
            .items
            .iter()
            .filter(|r| r.kind() == kind)
            .map(|r| r.name().into_owned())
            .collect();
        let near = crate::error::closest(name, names.iter().map(String::as_str))?;
        return Some(format!("did you mean `name: {near}`?"));
    }
    None
}

/// A JSON patch on each selected object.
fn json_on(
    p: &Patch,
    ops: &[crate::patch::json6902::Op],
    rm: &mut ResMap,
    sel: &[usize],
) -> Result<()> {
    for &i in sel {
        let r = &mut rm.items[i];
        r.store_previous_id();
        let id = r.id();
        apply_json(r, ops).map_err(|b| {
            let (op, e) = *b;
            let e = e.context(format!("patch {} on {id}", p.source));
            match op_location(p, op) {
                Some(l) => e.at(l),
                None => e,
            }
        })?;
    }
    // Two objects this patch gave one id fail only if they still share it at the end of
    // the build or when the layer joins the one including it (a generated object's hash
    // suffix may yet tell them apart): see `resolve::finish`.
    Ok(())
}

/// The re-folded scalars a strategic merge patch brought: where the target now holds the
/// patch's value, it holds the patch's raw value too.
fn adopt_folded(r: &mut crate::resource::Resource, patch: &Value, folded: Option<&Folded>) {
    for (path, raw) in folded.into_iter().flatten() {
        let keys: Option<Vec<&str>> = path
            .iter()
            .map(|s| match s {
                yaml::PathSeg::Key(k) => Some(k.as_str()),
                yaml::PathSeg::Index(_) => None,
            })
            .collect();
        let Some(keys) = keys else { continue };
        let at = |v: &Value| keys.iter().try_fold(v, |cur, k| cur.get(k)).cloned();
        if let (Some(mine), Some(theirs)) = (at(&r.doc), at(patch))
            && mine == theirs
        {
            r.folded_raw.retain(|(p, _)| p != path);
            r.folded_raw.push((path.clone(), raw.clone()));
        }
    }
}

/// The typed annotations a strategic merge patch brought: where the target now holds the
/// patch's text, a later JSON patch sees the patch's typed value (`-0` is `0` there).
fn adopt_typed(r: &mut crate::resource::Resource, typed: Option<&Vec<yaml::annotations::Typed>>) {
    for (path, value, text) in typed.into_iter().flatten() {
        let [
            yaml::PathSeg::Key(m),
            yaml::PathSeg::Key(a),
            yaml::PathSeg::Key(key),
        ] = path.as_slice()
        else {
            continue;
        };
        if m != "metadata" || a != "annotations" || value.is_null() {
            continue;
        }
        let holds = r
            .meta_map("annotations")
            .and_then(|ann| ann.get(key))
            .and_then(Value::as_str)
            == Some(text.as_str());
        if holds {
            r.typed_annotations.retain(|(k, _, _)| k != key);
            r.typed_annotations
                .push((key.clone(), text.clone(), value.clone()));
        }
    }
}
