//! A generator's sources (`envs`, `literals`, `files`) read into its keys and values:
//! key rules (YAML must read a key as a string, a key once), env-file lines as Kustomize
//! reads them, `key=path` file sources and directories, each file through the load
//! restrictor, `.j2` sources rendered, what is not UTF-8 kept apart for `binaryData`.

use super::{Kind, strings};
use crate::error::{Error, Location, Result};
use crate::fs::Found;
use crate::load::{Kustomization, Loader, normalize};
use crate::yaml::{Map, Value};
use std::path::{Path, PathBuf};

/// A generator entry, where its errors point.
pub(super) struct Place<'a> {
    pub(super) k: &'a Kustomization,
    pub(super) at: &'a [&'a str],
}

impl Place<'_> {
    fn here(&self, field: &str) -> Location {
        let mut p = self.at.to_vec();
        p.push(field);
        self.k.location(&p)
    }

    /// Where item `i` of `field` is written.
    fn item(&self, field: &str, i: usize) -> Location {
        let idx = i.to_string();
        let mut p = self.at.to_vec();
        p.extend([field, idx.as_str()]);
        self.k.location(&p)
    }

    pub(super) fn err(&self, field: &str, msg: String, help: &str) -> Error {
        Error::new(msg)
            .at(self.here(field))
            .with_help(help.to_string())
    }
}

/// What a generator's sources bring, in order: text values (`data`) and, for a ConfigMap,
/// base64 of what is not UTF-8 (`binaryData`).
pub(super) struct Data<'a> {
    pub(super) place: &'a Place<'a>,
    pub(super) name: &'a str,
    pub(super) kind: Kind,
    pub(super) text: Vec<(String, Vec<u8>)>,
    pub(super) binary: Vec<(String, String)>,
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
    pub(super) fn envs(&mut self, loader: &Loader, m: &Map) -> Result<()> {
        let k = self.place.k;
        let mut envs: Vec<(&str, usize, String)> = Vec::new();
        for field in ["envs", "env"] {
            let items = strings(field, m);
            envs.extend(items.into_iter().enumerate().map(|(i, e)| (field, i, e)));
        }
        for (field, i, env) in &envs {
            let here = self.place.item(field, *i);
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
    pub(super) fn literals(&mut self, m: &Map) -> Result<()> {
        for lit in strings("literals", m) {
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
    pub(super) fn files(&mut self, loader: &Loader, m: &Map) -> Result<()> {
        let k = self.place.k;
        let mut files_binary = Vec::new();
        for (i, src) in strings("files", m).into_iter().enumerate() {
            let here = self.place.item("files", i);
            let (key, path) = self.file_source(&src)?;
            for (key, p) in self.file_entries(loader, key, &path, &here)? {
                if let (Some(ctx), true) = (&k.ctx, crate::template::is_template(&p)) {
                    self.add(key, loader.text(&p, ctx)?.into_bytes(), "files")?;
                    continue;
                }
                let bytes = crate::fs::read(&p).map_err(|e| e.at(here.clone()))?;
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
        here: &Location,
    ) -> Result<Vec<(String, PathBuf)>> {
        let k = self.place.k;
        let found = resolve(k, loader, here, path)?;
        let mut entries = Vec::new();
        if let Found::Dir(dir) = &found {
            // Every file of the directory is checked as if it were named on its own: a
            // symlink inside it may not reach outside the root either.
            loader
                .check_restriction(&k.dir, dir)
                .map_err(|e| e.at(here.clone()))?;
            for (key, p) in crate::fs::files_in(dir).map_err(|e| e.at(here.clone()))? {
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

/// A generator source: a file (restricted) or a directory, resolved on disk.
fn resolve(k: &Kustomization, loader: &Loader, at: &Location, path: &str) -> Result<Found> {
    match loader
        .find(&k.dir, Path::new(path))
        .map_err(|e| e.at(at.clone()))?
    {
        Some(found) => Ok(found),
        None => Err(
            Error::new(format!("generator source `{path}` does not exist"))
                .with_kind(crate::error::ErrorKind::NotFound)
                .at(at.clone())
                .with_help(format!(
                    "no file at `{}`",
                    normalize(&k.dir.join(path)).display()
                )),
        ),
    }
}

fn read_utf8(file: &Path, at: &Location) -> Result<String> {
    crate::fs::read_text(file).map_err(|e| {
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
pub(super) fn not_a_string_key(key: &str, field: &str) -> String {
    let what = match crate::yaml::plain_scalar(key) {
        _ if key == "<<" => "a merge key",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => "a number",
        _ => "a date",
    };
    format!("the {field} key `{key}` reads as {what} in YAML")
}

pub(super) const KEY_HELP: &str = "kubectl fails on such a key (json: unsupported type); use a key that is not a number, boolean, null or date";

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
