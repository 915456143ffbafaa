//! The artifact layer: a reproducible gzip'd tar of a directory, in the form Flux reads.
//!
//! Input is a list of entries (a relative path, a mode, and the bytes of a file or nothing
//! for a directory), from rendered files in memory (`from_files`) or from a directory on
//! disk (`from_dir`). Output is the layer bytes with its digests. The tar holds a root entry
//! `.` and relative forward-slash names (never `..`, a leading `/` or a `\`), directories
//! and regular files only, uid/gid 0, empty user and group names, mtime 0 and the
//! permission bits; the gzip header carries no mtime and no file name. So the same entries
//! always give the same bytes, which is what makes a pushed artifact reproducible.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// One tar entry: `path` is `.` for the root, else relative with `/` separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub mode: u32,
    /// The file's bytes; `None` for a directory.
    pub data: Option<Vec<u8>>,
}

/// A packed layer: the gzip'd tar, its digest and the digest of the uncompressed tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub bytes: Vec<u8>,
    /// `sha256:<hex>` of `bytes`.
    pub digest: String,
    /// `sha256:<hex>` of the uncompressed tar (the config's `rootfs.diff_ids`).
    pub diff_id: String,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in d.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Whether `path` is a name Flux's extraction accepts: relative, `/`-separated, no `..`,
/// no empty or `.` components, no `\`, no NUL.
pub fn check_name(path: &str) -> Result<()> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path.contains('\0')
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        return Err(
            Error::new(format!("`{path}` cannot be a path in an artifact"))
                .with_help("artifact paths are relative, use `/` and have no `..` or empty parts"),
        );
    }
    Ok(())
}

/// Entries for files given in memory: the root `.`, every parent directory (mode 0755) and
/// the files (mode 0644), in walk order whatever the input order.
pub fn from_files(files: &[(String, Vec<u8>)]) -> Result<Vec<Entry>> {
    let mut entries = vec![Entry {
        path: ".".into(),
        mode: 0o755,
        data: None,
    }];
    let mut dirs = std::collections::BTreeSet::new();
    for (name, data) in files {
        check_name(name)?;
        let mut prefix = String::new();
        let parts: Vec<&str> = name.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if dirs.insert(prefix.clone()) {
                entries.push(Entry {
                    path: prefix.clone(),
                    mode: 0o755,
                    data: None,
                });
            }
        }
        if entries.iter().any(|e| e.path == *name) {
            return Err(Error::new(format!("`{name}` is in the artifact twice"))
                .with_help("give every file its own name"));
        }
        entries.push(Entry {
            path: name.clone(),
            mode: 0o644,
            data: Some(data.clone()),
        });
    }
    sort(&mut entries);
    Ok(entries)
}

/// Entries for the directory `dir`: its subdirectories and regular files with their
/// permission bits; symbolic links and special files are left out (as `flux push artifact`
/// does), so nothing outside `dir` is read.
pub fn from_dir(dir: &Path) -> Result<Vec<Entry>> {
    let mut entries = vec![Entry {
        path: ".".into(),
        mode: mode_of(&std::fs::symlink_metadata(dir).map_err(|e| io_err(dir, &e))?),
        data: None,
    }];
    walk(dir, "", &mut entries, 0)?;
    sort(&mut entries);
    Ok(entries)
}

const MAX_DEPTH: usize = 64;

fn walk(dir: &Path, rel: &str, out: &mut Vec<Entry>, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::new(format!(
            "`{}` is nested more than {MAX_DEPTH} directories deep",
            dir.display()
        ))
        .with_help("pack a shallower directory"));
    }
    let mut children: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, &e))?
        .filter_map(|e| e.ok())
        .collect();
    children.sort_by_key(|e| e.file_name());
    for child in children {
        let name = child.file_name().to_string_lossy().to_string();
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        check_name(&path)?;
        let meta =
            std::fs::symlink_metadata(child.path()).map_err(|e| io_err(&child.path(), &e))?;
        if meta.is_dir() {
            out.push(Entry {
                path: path.clone(),
                mode: mode_of(&meta),
                data: None,
            });
            walk(&child.path(), &path, out, depth + 1)?;
        } else if meta.is_file() {
            let data = std::fs::read(child.path()).map_err(|e| io_err(&child.path(), &e))?;
            out.push(Entry {
                path,
                mode: mode_of(&meta),
                data: Some(data),
            });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    if meta.is_dir() { 0o755 } else { 0o644 }
}

fn io_err(p: &Path, e: &std::io::Error) -> Error {
    Error::new(format!("cannot read `{}`: {e}", p.display()))
        .with_help("check that the directory exists and is readable")
}

/// Walk order: `.` first, then by path components (a directory right before its contents).
fn sort(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        let key = |e: &Entry| -> Vec<String> {
            if e.path == "." {
                Vec::new()
            } else {
                e.path.split('/').map(str::to_string).collect()
            }
        };
        key(a).cmp(&key(b))
    });
}

/// The uncompressed tar of `entries`.
pub fn tar(entries: &[Entry]) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        if e.path != "." {
            check_name(&e.path)?;
        }
        let mut header = tar::Header::new_ustar();
        header.set_mode(e.mode & 0o7777);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        let data: &[u8] = match &e.data {
            Some(d) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(d.len() as u64);
                d
            }
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                &[]
            }
        };
        builder
            .append_data(&mut header, &e.path, data)
            .map_err(|err| Error::new(format!("cannot pack `{}`: {err}", e.path)))?;
    }
    builder
        .into_inner()
        .map_err(|e| Error::new(format!("cannot finish the artifact's tar: {e}")))
}

/// Gzip with a fixed header: no mtime, no file name, "unknown" OS.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Pack `entries` into a layer.
pub fn layer(entries: &[Entry]) -> Result<Layer> {
    let tar = tar(entries)?;
    let diff_id = sha256(&tar);
    let bytes = gzip(&tar);
    Ok(Layer {
        digest: sha256(&bytes),
        diff_id,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn files(names: &[&str]) -> Vec<(String, Vec<u8>)> {
        names
            .iter()
            .map(|n| (n.to_string(), format!("{n}\n").into_bytes()))
            .collect()
    }

    fn listing(layer: &Layer) -> Vec<(String, tar::EntryType, u32, u64, u64, String, u64)> {
        let mut gz = flate2::read::GzDecoder::new(&layer.bytes[..]);
        let mut raw = Vec::new();
        gz.read_to_end(&mut raw).unwrap();
        assert_eq!(sha256(&raw), layer.diff_id);
        let mut archive = tar::Archive::new(&raw[..]);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    String::from_utf8(e.path_bytes().to_vec()).unwrap(),
                    h.entry_type(),
                    h.mode().unwrap(),
                    h.uid().unwrap() + h.gid().unwrap(),
                    h.mtime().unwrap(),
                    format!(
                        "{}{}",
                        h.username().unwrap().unwrap_or(""),
                        h.groupname().unwrap().unwrap_or("")
                    ),
                    h.size().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn layout_and_metadata() {
        let l = layer(&from_files(&files(&["b/x.yaml", "a.yaml", "b/a/y.yaml"])).unwrap()).unwrap();
        let got = listing(&l);
        let names: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
        assert_eq!(names, [".", "a.yaml", "b", "b/a", "b/a/y.yaml", "b/x.yaml"]);
        for (name, kind, mode, ids, mtime, users, _) in &got {
            let dir = *kind == tar::EntryType::Directory;
            assert_eq!(dir, !name.ends_with(".yaml"), "{name}");
            assert_eq!(*mode, if dir { 0o755 } else { 0o644 }, "{name}");
            assert_eq!((*ids, *mtime, users.as_str()), (0, 0, ""), "{name}");
        }
        assert_eq!(got[1].6, 7);
    }

    #[test]
    fn gzip_header_is_fixed() {
        let l = layer(&from_files(&files(&["a.yaml"])).unwrap()).unwrap();
        // magic, deflate, no flags (no name), mtime 0, xfl, os 255
        assert_eq!(&l.bytes[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(&l.bytes[4..8], &[0, 0, 0, 0]);
        assert_eq!(l.bytes[9], 255);
    }

    #[test]
    fn same_input_same_bytes_whatever_the_order() {
        let a = layer(&from_files(&files(&["x/1.yaml", "2.yaml"])).unwrap()).unwrap();
        let b = layer(&from_files(&files(&["2.yaml", "x/1.yaml"])).unwrap()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a\\b",
            "a//b",
            "./a",
            "a/",
        ] {
            assert!(from_files(&files(&[bad])).is_err(), "{bad:?}");
        }
        assert!(from_files(&files(&["a.yaml", "a.yaml"])).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn from_dir_keeps_modes_and_skips_links() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("sub")).unwrap();
        std::fs::write(t.path().join("sub/run.sh"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(
            t.path().join("sub/run.sh"),
            std::fs::Permissions::from_mode(0o750),
        )
        .unwrap();
        std::fs::write(t.path().join("a.yaml"), "a: 1\n").unwrap();
        for (p, m) in [("a.yaml", 0o644), ("sub", 0o755)] {
            std::fs::set_permissions(t.path().join(p), std::fs::Permissions::from_mode(m)).unwrap();
        }
        std::os::unix::fs::symlink("/etc/passwd", t.path().join("link")).unwrap();
        let entries = from_dir(t.path()).unwrap();
        let names: Vec<(&str, u32)> = entries.iter().map(|e| (e.path.as_str(), e.mode)).collect();
        assert_eq!(
            names[1..],
            [("a.yaml", 0o644), ("sub", 0o755), ("sub/run.sh", 0o750)]
        );
        let l = layer(&entries).unwrap();
        assert_eq!(listing(&l)[3].2, 0o750);
    }
}
