//! Reading the patch fields of a kustomization: each `patchesStrategicMerge`, `patches` and
//! `patchesJson6902` entry with its file or inline text, checked as kubectl checks it (an
//! empty patch, a patch with nothing in it, `path` and `patch` together, a JSON patch
//! starting with `[` that is not JSON), and how its documents were written.

use super::{Field, Folded, Patch, Patches, Raw};
use crate::error::{Error, Result};
use crate::load::kustomization::describe;
use crate::load::{Kustomization, Loader, normalize};
use crate::patch::selector::Target;
use crate::patch::{self, Body};
use crate::yaml::{self, Value};
use std::path::PathBuf;

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
            .with_kind(crate::error::ErrorKind::NotFound)
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
    // Every entry is read before an error is returned: the errors of several bad entries
    // are reported together.
    let mut patches = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        match strategic_merge_entry(k, loader, &["patchesStrategicMerge", idx.as_str()], item) {
            Ok(p) => patches.push(p),
            Err(e) => errors.push(e),
        }
    }
    if let Some(e) = Error::joined(errors) {
        return Err(e);
    }
    Ok(Some(Patches {
        field: Field::StrategicMerge,
        patches,
        strict,
        openapi: None,
    }))
}

/// One `patchesStrategicMerge` entry at `at`: a path or an inline patch.
fn strategic_merge_entry(
    k: &Kustomization,
    loader: &Loader,
    at: &[&str],
    item: &Value,
) -> Result<Patch> {
    let Value::Str(s) = item else {
        return Err(k
            .error(
                at,
                "a `patchesStrategicMerge` entry must be a path or an inline patch",
            )
            .with_help("write the path as a string"));
    };
    let looks_inline = s.contains('\n') || (s.contains(": ") && !k.dir.join(s.trim()).is_file());
    let (docs, source, file, raw) = if looks_inline {
        let (docs, raw) = inline(k, loader, at, s)?;
        (docs, "(inline)".to_string(), None, raw)
    } else {
        let (docs, file, raw) = load_file(k, loader, at, s.trim())?;
        (docs, format!("`{}`", s.trim()), Some(file), raw)
    };
    let body = classify(k, at, docs)?;
    if matches!(body, Body::Empty) {
        // kubectl: "patch appears to be empty".
        return Err(k
            .error(at, format!("patch {source} is empty"))
            .with_help("write the patch, or remove the entry"));
    }
    Ok(Patch {
        body,
        target: None,
        allow_name_change: false,
        allow_kind_change: false,
        file,
        source,
        at: k.spot(at),
        raw,
    })
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
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        match entry(k, loader, field, &[name, idx.as_str()], item) {
            Ok(p) => patches.push(p),
            Err(e) => errors.push(e),
        }
    }
    if let Some(e) = Error::joined(errors) {
        return Err(e);
    }
    Ok(Some(Patches {
        field,
        patches,
        strict,
        openapi: None,
    }))
}

/// The documents of an entry, how it is named in messages, its file and how it was written.
type Read = (Vec<Value>, String, Option<PathBuf>, Raw);

/// One `patches:`/`patchesJson6902:` entry at `at`.
fn entry(
    k: &Kustomization,
    loader: &Loader,
    field: Field,
    at: &[&str],
    item: &Value,
) -> Result<Patch> {
    let allowed: &[&str] = if field == Field::Json6902 {
        &["target", "path", "patch"]
    } else {
        &["target", "path", "patch", "options"]
    };
    let m = k.strict_struct(at, item, allowed)?;
    let text = |f: &str| m.get(f).and_then(Value::as_str).map(str::to_string);
    let (docs, source, file, raw) = match (text("path"), text("patch")) {
        (Some(_), Some(_)) => {
            return Err(k
                .error(at, "a patch entry may have `path` or `patch`, not both")
                .with_help("keep one of them"));
        }
        (None, None) => {
            return Err(k
                .error(at, "a patch entry needs `path` or `patch`")
                .with_help("add `path: patch.yaml` or an inline `patch: |`"));
        }
        (Some(p), None) => entry_file(k, loader, at, &p)?,
        (None, Some(t)) => entry_inline(k, loader, field, at, &t)?,
    };
    let body = classify(k, at, docs)?;
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
                at,
                format!("patch {source} holds no change (`{{}}` or `[]`)"),
            )
            .with_help("write the patch, or remove the entry"));
    }
    let target = entry_target(k, at, &m)?;
    if matches!(body, Body::Empty) && target.is_none() {
        // kubectl: "must specify a target for JSON patch" (an empty file) or
        // "illegally qualifies as both an SM and JSON patch" (comments only).
        return Err(k
            .error(at, format!("patch {source} is empty and has no `target`"))
            .with_help(
                "write the patch, or remove the entry; an empty patch with a `target` does nothing",
            ));
    }
    let (allow_name_change, allow_kind_change) = entry_options(k, at, &m)?;
    Ok(Patch {
        body,
        target,
        allow_name_change,
        allow_kind_change,
        source,
        at: k.spot(at),
        file,
        raw,
    })
}

/// An entry's `path:` file.
fn entry_file(k: &Kustomization, loader: &Loader, at: &[&str], p: &str) -> Result<Read> {
    let mut pat = at.to_vec();
    pat.push("path");
    let (docs, file, raw) = load_file(k, loader, &pat, p)?;
    // Only a file of zero bytes is an empty patch to Kustomize; text that holds no
    // document (a comment, `---`, `null`) is an error.
    let zero = std::fs::metadata(&file).is_ok_and(|m| m.len() == 0);
    if docs.iter().all(Value::is_null) && !zero {
        return Err(k
            .error(&pat, format!("patch file `{p}` holds no patch"))
            .with_help(
                "write the patch, or remove the entry (an empty file with a `target` does nothing)",
            ));
    }
    Ok((docs, format!("`{p}`"), Some(file), raw))
}

/// An entry's inline `patch:`.
fn entry_inline(
    k: &Kustomization,
    loader: &Loader,
    field: Field,
    at: &[&str],
    t: &str,
) -> Result<Read> {
    let mut pat = at.to_vec();
    pat.push("patch");
    // Kustomize trims an inline `patches:` patch (not a patchesJson6902 one) before
    // reading it: its last block scalar loses its final line break.
    let text = if field == Field::Patches { t.trim() } else { t };
    if text.trim().is_empty() {
        // kubectl: "must specify one of patch and path" / "patch appears to be empty".
        return Err(k
            .error(&pat, "`patch:` is empty")
            .with_help("write the patch inline, or give its file as `path:`"));
    }
    let (docs, raw) = inline(k, loader, &pat, text)?;
    Ok((docs, "(inline)".to_string(), None, raw))
}

/// An entry's `target:`.
fn entry_target(k: &Kustomization, at: &[&str], m: &yaml::Map) -> Result<Option<Target>> {
    let Some(t) = m.get("target").filter(|t| !t.is_null()) else {
        return Ok(None);
    };
    let mut tat = at.to_vec();
    tat.push("target");
    let tm = k.strict_struct(&tat, t, crate::patch::selector::FIELDS)?;
    Target::from_map(&tm).map(Some).map_err(|e| {
        let help = e.help.clone().unwrap_or_default();
        k.error(&tat, e.message).with_help(help)
    })
}

/// An entry's `options:` (`allowNameChange`, `allowKindChange`).
fn entry_options(k: &Kustomization, at: &[&str], m: &yaml::Map) -> Result<(bool, bool)> {
    let Some(o) = m.get("options").filter(|o| !o.is_null()) else {
        return Ok((false, false));
    };
    let mut oat = at.to_vec();
    oat.push("options");
    let om = k.strict_struct(&oat, o, &["allowNameChange", "allowKindChange"])?;
    let flag = |f: &str| matches!(om.get(f), Some(Value::Bool(true)));
    Ok((flag("allowNameChange"), flag("allowKindChange")))
}
