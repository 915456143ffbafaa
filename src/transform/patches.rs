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

/// How a strategic merge patch's documents were written (nothing for a JSON patch).
fn written(
    values: &[Value],
    text: &str,
    loader: &Loader,
    folded: &[Folded],
) -> Vec<patch::smp::Written> {
    if matches!(values, [Value::Seq(_)]) {
        return Vec::new();
    }
    yaml::parse_patch_written_in(text, &loader.aliases)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(d, (texts, strings))| patch::smp::Written {
            texts,
            strings,
            folded: folded.get(d).cloned().unwrap_or_default(),
        })
        .collect()
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

    fn transform(
        &self,
        rm: &mut ResMap,
        warnings: &mut Vec<crate::warning::Warning>,
    ) -> Result<()> {
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
    fn apply(
        &self,
        p: &Patch,
        rm: &mut ResMap,
        warnings: &mut Vec<crate::warning::Warning>,
    ) -> Result<()> {
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
            warnings.push(
                crate::warning::Warning::new(
                    format!("warning: {}:{}: {msg}", at.file.display(), at.line),
                    msg,
                )
                .with_help("fix the target, or remove the patch")
                .at(at),
            );
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
                    apply_json(r, ops).map_err(|b| {
                        let (op, e) = *b;
                        let e = e.context(format!("patch {} on {id}", p.source));
                        match op_location(p, op) {
                            Some(l) => e.at(l),
                            None => e,
                        }
                    })?;
                }
                // Two objects this patch gave one id fail only if they still share it at the
                // end of the build or when the layer joins the one including it (a generated
                // object's hash suffix may yet tell them apart): see `resolve::finish`.
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
            (Body::Smp(docs), None) => {
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
                    match found.as_slice() {
                        [i] => {
                            patch::apply_smp(
                                &mut rm.items[*i],
                                doc,
                                p.allow_name_change,
                                p.allow_kind_change,
                                self.openapi.as_ref(),
                                p.raw.written(d),
                            )
                            .map_err(|e| e.context(format!("patch {}", p.source)))?;
                            adopt_folded(&mut rm.items[*i], doc, p.raw.folded.get(d));
                            // (`patchesStrategicMerge` sets its annotations as strings.)
                            if self.field != Field::StrategicMerge {
                                adopt_typed(&mut rm.items[*i], p.raw.typed.get(d));
                            }
                        }
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

/// A JSON patch on a resource, as Kustomize applies it: the resource always has
/// `metadata.annotations` while the patch runs (Kustomize's own annotations are there), the
/// result goes through its JSON round trip, and annotation values come back as strings.
fn apply_json(
    r: &mut crate::resource::Resource,
    ops: &[json6902::Op],
) -> Result<(), Box<(usize, Error)>> {
    // Kustomize reads the object as JSON first: a misfit value fails here.
    r.check_misfits().map_err(|e| Box::new((ops.len(), e)))?;
    // Annotations are typed nodes until the end of a Kustomize build, so the patch (and the
    // JSON round trip) sees `0x1F` as the number 31: put the typed values back first.
    let typed = std::mem::take(&mut r.typed_annotations);
    // The JSON round trip bakes the printed form of folded scalars in, and makes every node
    // new (no place shares a value with another any more).
    r.folded_raw.clear();
    r.aliases.clear();
    r.source_styles = false;
    r.style_overrides.clear();
    // ... and writes every null out as `null`: no field is empty any more.
    r.empty_nulls.clear();
    let doc = &mut r.doc;
    if let Some(Value::Map(meta)) = doc.get_mut("metadata") {
        match meta.get_mut("annotations") {
            Some(Value::Map(annotations)) => {
                for (key, text, value) in typed {
                    if let Some(v) = annotations.get_mut(&key)
                        && v.as_str() == Some(text.as_str())
                    {
                        *v = value;
                    }
                }
            }
            Some(_) => {}
            None => {
                meta.insert("annotations".into(), Value::Map(yaml::Map::default()));
            }
        }
    }
    let result = json6902::apply(doc, ops);
    if let Some(Value::Map(meta)) = doc.get_mut("metadata") {
        // Kustomize reads annotations back as a string map: an empty one, or one the patch
        // made something other than a map, is gone; a list is read as key, value pairs.
        if let Some(Value::Seq(items)) = meta.get("annotations") {
            let pairs = annotation_pairs(items).map_err(|e| Box::new((ops.len(), e)))?;
            meta.insert("annotations".into(), Value::Map(pairs));
        }
        match meta.get("annotations") {
            Some(Value::Map(a)) if !a.is_empty() => {}
            Some(_) => {
                meta.shift_remove("annotations");
            }
            None => {}
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
    // Kustomize needs a name after the patch: a string, or a number or boolean it prints.
    let name = doc.get("metadata").and_then(|m| m.get("name"));
    if matches!(
        name,
        None | Some(Value::Null | Value::Map(_) | Value::Seq(_))
    ) || name.and_then(Value::as_str) == Some("")
    {
        let e = Error::new("the patch leaves the resource without a `metadata.name`").with_help(
            "a JSON patch may change `/metadata/name` to another name, not remove or empty it",
        );
        return Err(Box::new((ops.len(), e)));
    }
    json_round_trip(doc);
    Ok(())
}

/// Annotations a JSON patch made a list, as kyaml reads a sequence node as a map: items in
/// key, value pairs; a pair whose key is a collection is skipped.
fn annotation_pairs(items: &[Value]) -> Result<yaml::Map> {
    if items.len() % 2 == 1 {
        return Err(Error::new(format!(
            "the patch makes `metadata.annotations` a list of {} items",
            items.len()
        ))
        .with_help("annotations are a map of strings: `/metadata/annotations/<key>` adds one"));
    }
    let mut out = yaml::Map::default();
    for pair in items.chunks(2) {
        let value = match &pair[1] {
            Value::Str(s) => s.clone(),
            Value::Null => "null".to_string(),
            Value::Map(_) | Value::Seq(_) => String::new(),
            scalar => scalar.scalar_text().unwrap_or_default(),
        };
        match &pair[0] {
            Value::Str(k) => {
                out.insert(k.clone(), Value::Str(value));
            }
            Value::Map(_) | Value::Seq(_) => {}
            other => {
                return Err(Error::new(format!(
                    "the patch makes `metadata.annotations` a list with the key `{}`, not a string",
                    other.scalar_text().unwrap_or_default()
                ))
                .with_help(
                    "annotations are a map of strings: `/metadata/annotations/<key>` adds one",
                ));
            }
        }
    }
    Ok(out)
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

/// Read patch text from a file of the kustomization: its documents, its real path, and
/// each document's re-folded scalars.
fn load_file(
    k: &Kustomization,
    loader: &Loader,
    at: &[&str],
    path: &str,
) -> Result<(Vec<Value>, PathBuf, Raw)> {
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
    let values = as_json_patch(
        docs.docs.iter().map(|(v, _, _)| v.clone()).collect(),
        &docs.text,
        loader,
    )
    .map_err(|why| not_json(k, at, &format!("`{path}`"), &why))?;
    let raw = Raw {
        folded: docs.folded_raw.clone(),
        written: written(&values, &docs.text, loader, &docs.folded_raw),
        typed: docs.typed_annotations.clone(),
    };
    Ok((values, file, raw))
}

fn inline(
    k: &Kustomization,
    loader: &Loader,
    at: &[&str],
    text: &str,
) -> Result<(Vec<Value>, Raw)> {
    let docs = yaml::parse_objects_in(text, &loader.aliases).map_err(|e| {
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
    })?;
    let (mut values, mut folded, mut typed) = (Vec::new(), Vec::new(), Vec::new());
    for mut d in docs.into_iter().filter(|d| !d.value.is_null()) {
        // A patch's annotations are their written text too (nulls delete).
        typed.push(yaml::annotations::settle_patch(&mut d));
        values.push(d.value);
        folded.push(d.folded_raw);
    }
    let values =
        as_json_patch(values, text, loader).map_err(|why| not_json(k, at, "(inline)", &why))?;
    let written = written(&values, text, loader, &folded);
    Ok((
        values,
        Raw {
            folded,
            written,
            typed,
        },
    ))
}

/// A JSON 6902 patch (a list of operations) is read again as Kustomize reads it, through
/// sigs.k8s.io/yaml: YAML 1.1, where a `value: y` is `true`. Text whose first character is
/// `[` is read as JSON only, so a YAML flow list there is an error (kubectl: "unable to
/// parse SM or JSON patch").
fn as_json_patch(
    docs: Vec<Value>,
    text: &str,
    loader: &Loader,
) -> std::result::Result<Vec<Value>, String> {
    if !matches!(docs.as_slice(), [Value::Seq(_)]) {
        return Ok(docs);
    }
    if text.starts_with('[')
        && let Err(e) = serde_json::from_str::<serde_json::Value>(text)
    {
        return Err(format!(
            "it starts with `[`, so it is read as JSON, and it is not JSON ({e})"
        ));
    }
    Ok(match yaml::parse_yaml11_in(text, &loader.aliases) {
        Ok(again) => again
            .into_iter()
            .map(|d| d.value)
            .filter(|v| !v.is_null())
            .collect(),
        Err(_) => docs,
    })
}

/// The error for a JSON patch that starts with `[` but is not JSON.
fn not_json(k: &Kustomization, at: &[&str], source: &str, why: &str) -> Error {
    k.error(at, format!("patch {source} cannot be read: {why}"))
        .with_help("write the operations as JSON (`[{\"op\": \"replace\", …}]`) or as a YAML block list (`- op: replace`)")
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
        let (docs, source, file, raw) = if looks_inline {
            let (docs, raw) = inline(k, loader, &at, s)?;
            (docs, "(inline)".to_string(), None, raw)
        } else {
            let (docs, file, raw) = load_file(k, loader, &at, s.trim())?;
            (docs, format!("`{}`", s.trim()), Some(file), raw)
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
            raw,
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
        let (docs, source, file, raw) = match (text("path"), text("patch")) {
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
                let (docs, file, raw) = load_file(k, loader, &pat, &p)?;
                // Only a file of zero bytes is an empty patch to Kustomize; text that holds
                // no document (a comment, `---`, `null`) is an error.
                let zero = std::fs::metadata(&file).is_ok_and(|m| m.len() == 0);
                if docs.iter().all(Value::is_null) && !zero {
                    return Err(k
                        .error(&pat, format!("patch file `{p}` holds no patch"))
                        .with_help("write the patch, or remove the entry (an empty file with a `target` does nothing)"));
                }
                (docs, format!("`{p}`"), Some(file), raw)
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
                let (docs, raw) = inline(k, loader, &pat, text)?;
                (docs, source, None, raw)
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
            raw,
        });
    }
    Ok(Some(Patches {
        field,
        patches,
        strict,
        openapi: None,
    }))
}
