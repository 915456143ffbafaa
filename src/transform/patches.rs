//! The three patch fields as transformers: `patchesStrategicMerge`, `patches` and
//! `patchesJson6902`.
//!
//! Patch files are read when the kustomization is configured (so a missing or malformed
//! patch is reported before anything runs) and applied in Kustomize's order. A `target`
//! that selects nothing is silent in Kustomize; strata prints a warning, and `--strict`
//! makes it an error.

use super::Transformer;
use crate::error::{Error, Location, Result};
use crate::load::kustomization::Spot;
use crate::load::kustomization::describe;
use crate::load::{Kustomization, Loader, normalize};
use crate::patch::selector::Target;
use crate::patch::{self, Body, json6902};
use crate::resource::ResMap;
use crate::yaml::{self, Value};
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

    fn transform(&self, rm: &mut ResMap, warnings: &mut Vec<String>) -> Result<()> {
        for p in &self.patches {
            self.apply(p, rm, warnings).map_err(|e| {
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
    fn apply(&self, p: &Patch, rm: &mut ResMap, warnings: &mut Vec<String>) -> Result<()> {
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
            let msg = format!("patch target ({}) matches no resource", t.text);
            if self.strict {
                return Err(
                    Error::new(msg).with_help("fix the target, or drop `--strict` to allow it")
                );
            }
            let at = p.at.resolve();
            warnings.push(format!("warning: {}:{}: {msg}", at.file.display(), at.line));
            return Ok(());
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
            (Body::Json(ops), Some(sel)) => {
                for i in sel {
                    let r = &mut rm.items[i];
                    r.store_previous_id();
                    let id = r.id();
                    apply_json(&mut r.doc, ops).map_err(|b| {
                        let (op, e) = *b;
                        let e = e.context(format!("patch {} on {id}", p.source));
                        match op_location(p, op) {
                            Some(l) => e.at(l),
                            None => e,
                        }
                    })?;
                }
                Ok(())
            }
            (Body::Smp(docs), Some(sel)) => {
                if docs.len() > 1 {
                    return Err(Error::new(format!(
                        "{} holds {} strategic merge patches but has a `target`",
                        p.source,
                        docs.len()
                    ))
                    .with_help("a targeted patch entry takes one patch; split the file"));
                }
                for i in sel {
                    let patch = patch::retarget(
                        &docs[0],
                        &rm.items[i],
                        p.allow_name_change,
                        p.allow_kind_change,
                    );
                    patch::apply_smp(
                        &mut rm.items[i],
                        &patch,
                        p.allow_name_change,
                        p.allow_kind_change,
                        self.openapi.as_ref(),
                    )
                    .map_err(|e| e.context(format!("patch {}", p.source)))?;
                }
                Ok(())
            }
            (Body::Smp(docs), None) => {
                for doc in docs {
                    let id = patch::patch_id(doc);
                    let found = patch::matching_any_id(rm, &id);
                    match found.as_slice() {
                        [i] => patch::apply_smp(
                            &mut rm.items[*i],
                            doc,
                            p.allow_name_change,
                            p.allow_kind_change,
                            self.openapi.as_ref(),
                        )
                        .map_err(|e| e.context(format!("patch {}", p.source)))?,
                        [] => return Err(patch::no_target(rm, &id, &p.source)),
                        _ => {
                            return Err(Error::new(format!(
                                "strategic merge patch {} matches {} resources named `{}`",
                                p.source,
                                found.len(),
                                id.name
                            ))
                            .with_help("add `metadata.namespace` to the patch, or use `target:` to select them"));
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// A JSON patch on a resource, as Kustomize applies it: the resource always has
/// `metadata.annotations` while the patch runs (Kustomize's own annotations are there), the
/// result goes through its JSON round trip, and annotation values come back as strings.
fn apply_json(doc: &mut Value, ops: &[json6902::Op]) -> Result<(), Box<(usize, Error)>> {
    if let Some(Value::Map(meta)) = doc.get_mut("metadata")
        && !meta.contains_key("annotations")
    {
        meta.insert("annotations".into(), Value::Map(yaml::Map::default()));
    }
    let result = json6902::apply(doc, ops);
    if let Some(Value::Map(meta)) = doc.get_mut("metadata") {
        if matches!(meta.get("annotations"), Some(Value::Map(a)) if a.is_empty()) {
            meta.shift_remove("annotations");
        }
        if let Some(Value::Map(annotations)) = meta.get_mut("annotations") {
            for value in annotations.values_mut() {
                let text = match &*value {
                    Value::Str(_) => continue,
                    Value::Null => "null".to_string(),
                    Value::Seq(_) | Value::Map(_) => String::new(),
                    scalar => scalar.scalar_text().unwrap_or_default(),
                };
                *value = Value::Str(text);
            }
        }
    }
    result?;
    json_round_trip(doc);
    Ok(())
}

/// Numbers after Kustomize's JSON round trip: integers beyond 2^53 come back as the
/// nearest float64 (`9007199254740993` is `9007199254740992`).
fn json_round_trip(v: &mut Value) {
    const EXACT: u64 = 1 << 53;
    match v {
        Value::Int(i) if i.unsigned_abs() > EXACT => *v = Value::Float(*i as f64),
        Value::UInt(u) if *u > EXACT => *v = Value::Float(*u as f64),
        Value::Seq(items) => items.iter_mut().for_each(json_round_trip),
        Value::Map(m) => m.values_mut().for_each(json_round_trip),
        _ => {}
    }
}

/// Where operation `op` of a JSON patch file is written.
fn op_location(p: &Patch, op: usize) -> Option<Location> {
    let file = p.file.as_ref()?;
    let text = crate::load::fs::read_text(file).ok()?;
    let (line, col, offset) = yaml::locate(&text, 0, &[&op.to_string()])?;
    Some(Location {
        file: file.clone(),
        line,
        col,
        offset,
    })
}

/// Read patch text from a file of the kustomization: its documents and its real path.
fn load_file(
    k: &Kustomization,
    loader: &Loader,
    at: &[&str],
    path: &str,
) -> Result<(Vec<Value>, PathBuf)> {
    let Some(file) = loader
        .file(&k.dir, path)
        .map_err(|e| e.at(k.location(at)))?
    else {
        return Err(k
            .error(at, format!("patch file `{path}` does not exist"))
            .with_help(format!(
                "no file at `{}`",
                normalize(&k.dir.join(path)).display()
            )));
    };
    let docs = loader.documents(&file, k.ctx.as_deref())?;
    Ok((docs.docs.iter().map(|(v, _, _)| v.clone()).collect(), file))
}

fn inline(k: &Kustomization, loader: &Loader, at: &[&str], text: &str) -> Result<Vec<Value>> {
    yaml::parse_objects_in(text, &loader.aliases)
        .map(|d| d.into_iter().map(|d| d.value).collect())
        .map_err(|e| {
            k.error(
                at,
                format!(
                    "inline patch is not valid YAML: {} (line {} of the patch)",
                    e.message, e.line
                ),
            )
            .with_help(
                e.help
                    .unwrap_or_else(|| "check the indentation of the inline patch".to_string()),
            )
        })
}

fn classify(k: &Kustomization, at: &[&str], docs: Vec<Value>) -> Result<Body> {
    patch::classify(docs).map_err(|e| {
        let help = e.help.clone().unwrap_or_default();
        k.error(at, e.message).with_help(help)
    })
}

/// `patchesStrategicMerge:` — paths or inline patches, each applied by its own id.
pub fn strategic_merge(
    k: &Kustomization,
    loader: &Loader,
    strict: bool,
) -> Result<Option<Patches>> {
    let Some(v) = k.get("patchesStrategicMerge") else {
        return Ok(None);
    };
    let Value::Seq(items) = v else {
        return Err(k
            .error(
                &["patchesStrategicMerge"],
                format!(
                    "`patchesStrategicMerge` must be a list, found {}",
                    describe(v)
                ),
            )
            .with_help("write one path or inline patch per `- ` entry"));
    };
    let mut patches = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        let at = ["patchesStrategicMerge", idx.as_str()];
        let Value::Str(s) = item else {
            return Err(k
                .error(
                    &at,
                    "a `patchesStrategicMerge` entry must be a path or an inline patch",
                )
                .with_help("write the path as a string"));
        };
        let looks_inline =
            s.contains('\n') || (s.contains(": ") && !k.dir.join(s.trim()).is_file());
        let (docs, source, file) = if looks_inline {
            (inline(k, loader, &at, s)?, "(inline)".to_string(), None)
        } else {
            let (docs, file) = load_file(k, loader, &at, s.trim())?;
            (docs, format!("`{}`", s.trim()), Some(file))
        };
        let body = classify(k, &at, docs)?;
        if matches!(body, Body::Empty) {
            // kubectl: "patch appears to be empty".
            return Err(k
                .error(&at, format!("patch {source} is empty"))
                .with_help("write the patch, or remove the entry"));
        }
        patches.push(Patch {
            body,
            target: None,
            allow_name_change: false,
            allow_kind_change: false,
            file,
            source,
            at: k.spot(&at),
        });
    }
    Ok(Some(Patches {
        field: Field::StrategicMerge,
        patches,
        strict,
        openapi: None,
    }))
}

/// `patches:` and `patchesJson6902:` entries (`path` or `patch`, optional `target`).
pub fn entries(
    k: &Kustomization,
    loader: &Loader,
    field: Field,
    strict: bool,
) -> Result<Option<Patches>> {
    let name = if field == Field::Json6902 {
        "patchesJson6902"
    } else {
        "patches"
    };
    let Some(v) = k.get(name) else {
        return Ok(None);
    };
    let Value::Seq(items) = v else {
        return Err(k
            .error(
                &[name],
                format!("`{name}` must be a list, found {}", describe(v)),
            )
            .with_help("write each patch as a `- path: …` or `- patch: |` entry"));
    };
    let mut patches = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        let at = [name, idx.as_str()];
        let allowed: &[&str] = if field == Field::Json6902 {
            &["target", "path", "patch"]
        } else {
            &["target", "path", "patch", "options"]
        };
        let m = k.strict_struct(&at, item, allowed)?;
        let text = |f: &str| m.get(f).and_then(Value::as_str).map(str::to_string);
        let (docs, source, file) = match (text("path"), text("patch")) {
            (Some(_), Some(_)) => {
                return Err(k
                    .error(&at, "a patch entry may have `path` or `patch`, not both")
                    .with_help("keep one of them"));
            }
            (None, None) => {
                return Err(k
                    .error(&at, "a patch entry needs `path` or `patch`")
                    .with_help("add `path: patch.yaml` or an inline `patch: |`"));
            }
            (Some(p), None) => {
                let mut pat = at.to_vec();
                pat.push("path");
                let (docs, file) = load_file(k, loader, &pat, &p)?;
                // Only a file of zero bytes is an empty patch to Kustomize; text that holds
                // no document (a comment, `---`, `null`) is an error.
                let zero = std::fs::metadata(&file).is_ok_and(|m| m.len() == 0);
                if docs.iter().all(Value::is_null) && !zero {
                    return Err(k
                        .error(&pat, format!("patch file `{p}` holds no patch"))
                        .with_help("write the patch, or remove the entry (an empty file with a `target` does nothing)"));
                }
                (docs, format!("`{p}`"), Some(file))
            }
            (None, Some(t)) => {
                let mut pat = at.to_vec();
                pat.push("patch");
                let source = "(inline)".to_string();
                // Kustomize trims an inline `patches:` patch (not a patchesJson6902 one)
                // before reading it: its last block scalar loses its final line break.
                let text = if field == Field::Patches {
                    t.trim()
                } else {
                    t.as_str()
                };
                if text.trim().is_empty() {
                    // kubectl: "must specify one of patch and path" / "patch appears to be empty".
                    return Err(k
                        .error(&pat, "`patch:` is empty")
                        .with_help("write the patch inline, or give its file as `path:`"));
                }
                (inline(k, loader, &pat, text)?, source, None)
            }
        };
        let body = classify(k, &at, docs)?;
        let hollow = match &body {
            Body::Json(ops) => ops.is_empty(),
            Body::Smp(docs) => docs
                .iter()
                .all(|d| d.as_map().is_some_and(yaml::Map::is_empty)),
            Body::Empty => false,
        };
        if hollow {
            // kubectl: "illegally qualifies as both an SM and JSON patch" / cannot unmarshal.
            return Err(k
                .error(
                    &at,
                    format!("patch {source} holds no change (`{{}}` or `[]`)"),
                )
                .with_help("write the patch, or remove the entry"));
        }
        let target = match m.get("target").filter(|t| !t.is_null()) {
            None => None,
            Some(t) => {
                let mut tat = at.to_vec();
                tat.push("target");
                let tm = k.strict_struct(&tat, t, crate::patch::selector::FIELDS)?;
                Some(Target::from_map(&tm).map_err(|e| {
                    let help = e.help.clone().unwrap_or_default();
                    k.error(&tat, e.message).with_help(help)
                })?)
            }
        };
        if matches!(body, Body::Empty) && target.is_none() {
            // kubectl: "must specify a target for JSON patch" (an empty file) or
            // "illegally qualifies as both an SM and JSON patch" (comments only).
            return Err(k
                .error(&at, format!("patch {source} is empty and has no `target`"))
                .with_help("write the patch, or remove the entry; an empty patch with a `target` does nothing"));
        }
        let mut opts = (false, false);
        if let Some(o) = m.get("options").filter(|o| !o.is_null()) {
            let mut oat = at.to_vec();
            oat.push("options");
            let om = k.strict_struct(&oat, o, &["allowNameChange", "allowKindChange"])?;
            let flag = |f: &str| matches!(om.get(f), Some(Value::Bool(true)));
            opts = (flag("allowNameChange"), flag("allowKindChange"));
        }
        patches.push(Patch {
            body,
            target,
            allow_name_change: opts.0,
            allow_kind_change: opts.1,
            source,
            at: k.spot(&at),
            file,
        });
    }
    Ok(Some(Patches {
        field,
        patches,
        strict,
        openapi: None,
    }))
}
