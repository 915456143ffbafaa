//! Finding the files a build reads as the file system really has them.
//!
//! Every path a kustomization names is resolved physically before anything is decided about
//! it: symlinks are followed and `..` is taken on the real parent directory, as Kustomize's
//! `EvalSymlinks` does. The load restrictor then compares the real path with the layer's
//! real root, so neither a symlink nor `..` brings a file from outside the root into a
//! build. Only regular files are read: a FIFO would block the build forever and a device
//! such as `/dev/zero` never ends.
//!
//! Every file a build reads goes through `read`, so `record` can list them: it runs a
//! build on a thread pool of its own whose threads note each file read (`strata deps`, and
//! the test that checks deps against what a build really opens).

use crate::error::{Error, Result};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The files read on this thread go to this log, when the thread belongs to a `record` pool.
type ReadLog = Arc<Mutex<BTreeSet<PathBuf>>>;

thread_local! {
    static RECORDER: RefCell<Option<ReadLog>> = const { RefCell::new(None) };
}

/// Run `f` on a pool of `threads` threads of its own and return, beside its result, every
/// file `read` (or `note`) saw on them, as the paths the callers passed. Parallel work that
/// `f` starts with rayon stays on that pool, so a recording sees exactly its own build,
/// whatever else the process runs at the same time.
pub fn record<R: Send>(
    threads: usize,
    f: impl FnOnce() -> R + Send,
) -> Result<(R, BTreeSet<PathBuf>)> {
    let log: ReadLog = Arc::default();
    let handle = log.clone();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .stack_size(64 << 20)
        .start_handler(move |_| RECORDER.with(|r| *r.borrow_mut() = Some(handle.clone())))
        .build()
        .map_err(|e| Error::new(format!("cannot start a thread pool: {e}")))?;
    let out = pool.install(f);
    drop(pool);
    let files = std::mem::take(&mut *log.lock().unwrap_or_else(|p| p.into_inner()));
    Ok((out, files))
}

/// Count `file` as read by the build being recorded, if any, without reading it.
pub fn note(file: &Path) {
    RECORDER.with(|r| {
        if let Some(log) = r.borrow().as_ref() {
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(file.to_path_buf());
        }
    });
}

/// What a path names once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    File(PathBuf),
    Dir(PathBuf),
}

/// The real (symlink-free, absolute) form of `path`; `None` when nothing is there.
pub fn real(path: &Path) -> Result<Option<PathBuf>> {
    match std::fs::canonicalize(path) {
        Ok(p) => Ok(Some(p)),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => Ok(None),
        Err(e) => Err(Error::new(format!(
            "cannot resolve `{}`: {}",
            path.display(),
            reason(&e)
        ))
        .with_help("check the path and the symbolic links along it")),
    }
}

/// Where a path leads, symlinks resolved, seen from a root (resolved too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// Nothing is there.
    Missing,
    /// It leads outside the root (through `..` or a symlink).
    Outside,
    /// Its real path, inside the root.
    Inside(PathBuf),
}

/// Where `path` leads with every symlink resolved, against `root`: the check a repository's
/// own files (values, CRDs, the project file) pass before they are read, so that a link
/// cannot lead out of the repository.
pub fn placed(root: &Path, path: &Path) -> Result<Placed> {
    let real_root = real(root)?.unwrap_or_else(|| root.to_path_buf());
    Ok(match real(path)? {
        None => Placed::Missing,
        Some(p) if !p.starts_with(&real_root) => Placed::Outside,
        Some(p) => Placed::Inside(p),
    })
}

/// Resolve `path` and say whether it is a file or a directory. Anything else (a FIFO, a
/// socket, a device) is an error: strata reads regular files only.
pub fn find(path: &Path) -> Result<Option<Found>> {
    let Some(real) = real(path)? else {
        return Ok(None);
    };
    let meta = std::fs::metadata(&real).map_err(|e| {
        Error::new(format!("cannot read `{}`: {}", path.display(), reason(&e)))
            .with_help("check that the path exists and is readable")
    })?;
    if meta.is_dir() {
        return Ok(Some(Found::Dir(real)));
    }
    if meta.is_file() {
        return Ok(Some(Found::File(real)));
    }
    Err(not_regular(path, &meta))
}

/// The error for a path that is neither a regular file nor a directory.
pub fn not_regular(path: &Path, meta: &std::fs::Metadata) -> Error {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let what = if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    };
    Error::new(format!(
        "`{}` is {what}, not a regular file",
        path.display()
    ))
    .with_help("strata reads regular files only; replace it with a file")
}

/// The regular files directly in `dir` (real paths, sorted by name); symlinks are
/// resolved, entries that are neither files nor links to files are skipped.
pub fn files_in(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::new(format!("cannot read `{}`: {}", dir.display(), reason(&e)))
            .with_help("check that the directory exists and is readable")
    })?;
    let mut out = Vec::new();
    for entry in entries.filter_map(std::result::Result::ok) {
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(Found::File(p)) = find(&entry.path()).ok().flatten() {
            out.push((name, p));
        }
    }
    out.sort();
    Ok(out)
}

/// Read a regular file. Callers pass real paths from `find`; the type is checked again so
/// that nothing swapped in since can make a read hang.
pub fn read(file: &Path) -> Result<Vec<u8>> {
    note(file);
    let meta = std::fs::metadata(file).map_err(|e| {
        Error::new(format!("cannot read `{}`: {}", file.display(), reason(&e)))
            .in_file(file)
            .with_help("check that the path exists and is readable")
    })?;
    if !meta.is_file() {
        return Err(not_regular(file, &meta).in_file(file));
    }
    std::fs::read(file).map_err(|e| {
        Error::new(format!("cannot read `{}`: {}", file.display(), reason(&e)))
            .in_file(file)
            .with_help("check that the path exists and is readable")
    })
}

/// Read a regular file as text. UTF-8 (a byte-order mark is dropped) and UTF-16 with a
/// byte-order mark are accepted, as Kustomize's YAML reader accepts them; other bytes are
/// an error naming the line and column of the first invalid byte.
pub fn read_text(file: &Path) -> Result<String> {
    decode(read(file)?).map_err(|(line, col, byte)| {
        Error::new(format!(
            "`{}` is not UTF-8 text: invalid byte 0x{byte:02x} at line {line}, column {col}",
            file.display()
        ))
        .in_file(file)
        .with_help("save the file as UTF-8")
    })
}

/// Bytes to text: UTF-16 when a byte-order mark says so, else UTF-8. The error is the
/// (line, column, byte) of the first invalid byte.
pub fn decode(bytes: Vec<u8>) -> std::result::Result<String, (usize, usize, u8)> {
    let utf16 = |be: bool| {
        let units = bytes[2..].chunks(2).map(|c| match (c, be) {
            ([a, b], true) => u16::from_be_bytes([*a, *b]),
            ([a, b], false) => u16::from_le_bytes([*a, *b]),
            _ => 0xFFFD,
        });
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, ..] => return Ok(utf16(false)),
        [0xFE, 0xFF, ..] => return Ok(utf16(true)),
        _ => {}
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        }),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let before = String::from_utf8_lossy(&bytes[..valid]);
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            Err((line, col, bytes[valid]))
        }
    }
}

/// Lower-case, user-facing reason for an I/O error.
pub fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "no such file or directory".to_string(),
        ErrorKind::InvalidData => "the file is not UTF-8 text".to_string(),
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ if e.raw_os_error() == Some(40) => "too many levels of symbolic links".to_string(),
        _ => {
            let s = e.to_string();
            let s = s.split(" (os error").next().unwrap_or(&s);
            s.to_lowercase()
        }
    }
}

/// Lexically clean a path: drop `.`, fold `..` (without touching the disk).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `path` relative to `base`, both absolute and normalized, with `..` where needed.
pub fn relative_to(path: &Path, base: &Path) -> String {
    let (path, base) = (normalize(path), normalize(base));
    let p: Vec<_> = path.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c.as_os_str());
    }
    let s = out.to_string_lossy().to_string();
    if s.is_empty() { ".".to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn placed_resolves_links_before_it_decides() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("repo");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/in.yaml"), "a: 1\n").unwrap();
        std::fs::write(t.path().join("out.yaml"), "a: 1\n").unwrap();
        std::os::unix::fs::symlink(t.path().join("out.yaml"), root.join("link.yaml")).unwrap();
        std::os::unix::fs::symlink(root.join("sub/in.yaml"), root.join("ok.yaml")).unwrap();
        let real_in = std::fs::canonicalize(root.join("sub/in.yaml")).unwrap();
        assert_eq!(
            placed(&root, &root.join("link.yaml")).unwrap(),
            Placed::Outside
        );
        assert_eq!(
            placed(&root, &root.join("../out.yaml")).unwrap(),
            Placed::Outside
        );
        assert_eq!(
            placed(&root, &root.join("gone.yaml")).unwrap(),
            Placed::Missing
        );
        assert_eq!(
            placed(&root, &root.join("ok.yaml")).unwrap(),
            Placed::Inside(real_in.clone())
        );
        assert_eq!(
            placed(&root, &root.join("sub/./in.yaml")).unwrap(),
            Placed::Inside(real_in)
        );
    }

    #[test]
    fn symlinks_and_dotdot_resolve_physically() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(t.path()).expect("real");
        std::fs::create_dir_all(root.join("real/app/overlay")).expect("mkdir");
        std::fs::create_dir_all(root.join("real/app/base")).expect("mkdir");
        std::fs::create_dir_all(root.join("link")).expect("mkdir");
        std::os::unix::fs::symlink(root.join("real/app/overlay"), root.join("link/overlay"))
            .expect("symlink");
        // `link/overlay/../base` is `real/app/base`, not `link/base`.
        assert_eq!(
            find(&root.join("link/overlay/../base")).expect("find"),
            Some(Found::Dir(root.join("real/app/base")))
        );
        assert_eq!(find(&root.join("missing/x")).expect("find"), None);
    }

    #[test]
    fn fifos_and_devices_are_refused() {
        let e = find(Path::new("/dev/zero")).expect_err("device");
        assert!(e.message.contains("a device"), "{}", e.message);
        let t = tempfile::tempdir().expect("tempdir");
        let fifo = t.path().join("f");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            let e = find(&fifo).expect_err("fifo");
            assert!(e.message.contains("FIFO"), "{}", e.message);
            assert!(read(&fifo).is_err());
        }
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_text() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("a: é\n".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(bytes), Ok("a: é\n".to_string()));
        let mut bytes = vec![0xFE, 0xFF];
        bytes.extend("b: 1\n".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode(bytes), Ok("b: 1\n".to_string()));
        assert_eq!(
            decode(b"\xef\xbb\xbfc: 2\n".to_vec()),
            Ok("c: 2\n".to_string())
        );
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let t = tempfile::tempdir().expect("tempdir");
        let f = t.path().join("x.yaml");
        std::fs::write(&f, b"a: 1\nb: \xff\n").expect("write");
        let e = read_text(&f).expect_err("not utf-8");
        assert!(e.message.contains("line 2, column 4"), "{}", e.message);
    }
}
