//! The artifact layer: a reproducible gzip'd tar of a directory, in the form Flux reads.
//!
//! Input is a list of entries (a relative path, a mode, and the bytes of a file or nothing
//! for a directory), from rendered files in memory (`from_files`). Output is the layer bytes with its digests. The tar holds a root entry
//! `.` and relative forward-slash names (never `..`, a leading `/` or a `\`), directories
//! and regular files only, uid/gid 0, empty user and group names, mtime 0 and the
//! permission bits; the gzip header carries no mtime and no file name. So the same entries
//! always give the same bytes, which is what makes a pushed artifact reproducible.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::Write;

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
}
