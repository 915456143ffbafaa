//! Reading the user's git repository without changing it: resolve a revision, list the
//! files that differ from it, and write the files of a revision into a directory of our own.
//!
//! A revision is written from git's objects (`git ls-tree` and `git cat-file --batch`), not
//! checked out: no index, worktree list, hook, filter or `.gitattributes` rule of the
//! repository is involved, and the user's checkout is never touched. Revisions and paths
//! from the user or the repository reach `git` only after validation and after
//! `--end-of-options`/`--`; every path read from a tree is checked to be a plain relative
//! path before anything is written. Commands run without a terminal prompt, without
//! fetching missing objects and without optional locks.

use crate::error::{Error, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long one local `git` command may run.
const TIMEOUT: Duration = Duration::from_secs(300);

/// A repository: its top-level directory (real path).
#[derive(Debug, Clone)]
pub struct Repo {
    pub top: PathBuf,
}

/// A `git` command in `dir`, with every setting that could run code, prompt, fetch or
/// write switched off.
fn command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    for c in [
        "core.fsmonitor=false",
        "core.hooksPath=/dev/null",
        "protocol.allow=never",
        "diff.external=",
        "core.pager=cat",
    ] {
        cmd.arg("-c").arg(c);
    }
    cmd.current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_NO_LAZY_FETCH", "1")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_PAGER", "cat")
        .env_remove("GIT_EXTERNAL_DIFF")
        .stdin(Stdio::null());
    cmd
}

/// Run `git ARGS` in `dir`; its standard output, or an error with its standard error.
fn run(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let mut cmd = command(dir);
    cmd.args(args);
    let out = crate::process::run(cmd, TIMEOUT, "git", "--rev")?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    Err(Error::new(format!(
        "`git {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    ))
    .with_help("check that the directory is inside a git repository and the revision exists"))
}

/// Refuse a revision that could read as an option or smuggle anything to `git`: it is
/// passed after `--end-of-options` as well.
pub fn check_rev(rev: &str) -> Result<()> {
    let bad = rev.is_empty()
        || rev.len() > 256
        || rev.starts_with('-')
        || rev.chars().any(|c| c.is_control() || c.is_whitespace());
    if bad {
        return Err(Error::new(format!("`{rev}` is not a valid git revision"))
            .with_help("name a commit, branch or tag (`HEAD~1`, `main`, `v1.2`); it may not start with `-`"));
    }
    Ok(())
}

/// The repository holding `dir`.
pub fn open(dir: &Path) -> Result<Repo> {
    let out = run(dir, &["rev-parse", "--show-toplevel"]).map_err(|e| {
        Error::new(format!(
            "`{}` is not inside a git repository",
            dir.display()
        ))
        .with_help(format!(
            "run in a git checkout, or compare two environments or files instead ({})",
            e.message
        ))
    })?;
    let top = String::from_utf8_lossy(&out)
        .trim_end_matches('\n')
        .to_string();
    let top = crate::fs::real(Path::new(&top))?.unwrap_or_else(|| PathBuf::from(top));
    Ok(Repo { top })
}

impl Repo {
    /// The commit `rev` names, as its full object id.
    pub fn commit(&self, rev: &str) -> Result<String> {
        check_rev(rev)?;
        let spec = format!("{rev}^{{commit}}");
        let out = run(
            &self.top,
            &["rev-parse", "--verify", "--quiet", "--end-of-options", &spec],
        )
        .map_err(|_| {
            Error::new(format!("unknown revision `{rev}`"))
                .with_help("name a commit of this repository (`git log` lists them); a shallow clone may lack older ones: fetch them with `git fetch --deepen N`")
        })?;
        let id = String::from_utf8_lossy(&out).trim().to_string();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::new(format!("unknown revision `{rev}`"))
                .with_help("name a commit of this repository"));
        }
        Ok(id)
    }

    /// The files (absolute paths) that differ between `commit` and the working tree:
    /// changed, added, deleted (both names of a rename), and untracked files that are not
    /// ignored.
    pub fn changed_files(&self, commit: &str) -> Result<Vec<PathBuf>> {
        let diff = run(
            &self.top,
            &[
                "diff",
                "--name-only",
                "-z",
                "--no-renames",
                "--no-ext-diff",
                "--no-textconv",
                "--ignore-submodules",
                commit,
                "--",
            ],
        )?;
        let untracked = run(
            &self.top,
            &[
                "ls-files",
                "-z",
                "--others",
                "--exclude-standard",
                "--full-name",
                "--",
            ],
        )?;
        let mut out: Vec<PathBuf> = diff
            .split(|&b| b == 0)
            .chain(untracked.split(|&b| b == 0))
            .filter(|p| !p.is_empty())
            .map(|p| self.top.join(String::from_utf8_lossy(p).as_ref()))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// `path` (absolute) relative to the top of the repository, if inside it.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.top).ok()?;
        Some(rel.to_string_lossy().replace('\\', "/"))
    }

    /// Write the files of `commit` that lie in one of the directories `prefixes`
    /// (repository paths, `/`-separated, `""` for everything) into `into`, as they are
    /// stored: regular files and symbolic links; submodules are left out.
    ///
    /// Paths below a directory of `skip` (written before) are left out.
    pub fn write_tree(
        &self,
        commit: &str,
        prefixes: &std::collections::BTreeSet<String>,
        skip: &std::collections::BTreeSet<String>,
        into: &Path,
    ) -> Result<usize> {
        let listing = run(&self.top, &["ls-tree", "-r", "-z", "--full-tree", commit])?;
        // A path is below a directory of a set when one of its ancestors is in it: depth
        // lookups, not a scan of every directory.
        let below = |set: &std::collections::BTreeSet<String>, path: &str| {
            set.contains("")
                || path
                    .match_indices('/')
                    .any(|(i, _)| set.contains(&path[..i]))
        };
        let wanted = |path: &str| below(prefixes, path) && !below(skip, path);
        // (object id, path, symbolic link)
        let mut entries: Vec<(String, PathBuf, bool)> = Vec::new();
        for entry in listing.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let mut fields = meta.split(' ');
            let (Some(mode), Some(kind), Some(id)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if kind != "blob" || !wanted(path) {
                continue;
            }
            let rel = plain_path(path)?;
            entries.push((id.to_string(), into.join(rel), mode == "120000"));
        }
        self.write_blobs(&entries)?;
        Ok(entries.len())
    }

    /// Stream the blobs of `entries` through one `git cat-file --batch` and write each.
    fn write_blobs(&self, entries: &[(String, PathBuf, bool)]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut cmd = command(&self.top);
        cmd.args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().map_err(|e| {
            Error::new(format!("cannot run `git`: {}", crate::fs::reason(&e)))
                .with_help("install git")
        })?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| Error::new("cannot write to `git cat-file`"))?;
        let ids: Vec<u8> = entries
            .iter()
            .flat_map(|(id, _, _)| format!("{id}\n").into_bytes())
            .collect();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&ids);
        });
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| Error::new("cannot read from `git cat-file`"))?;
        let result = read_blobs(BufReader::with_capacity(1 << 16, stdout), entries);
        let _ = writer.join();
        if result.is_err() {
            let _ = child.kill();
        }
        let _ = child.wait();
        result
    }
}

/// Read the answers of `git cat-file --batch` for `entries`, in order, and write them.
fn read_blobs(mut r: impl BufRead, entries: &[(String, PathBuf, bool)]) -> Result<()> {
    let io = |what: &str, p: &Path, e: std::io::Error| {
        Error::new(format!(
            "cannot {what} `{}`: {}",
            p.display(),
            crate::fs::reason(&e)
        ))
        .with_help("check that the temporary directory is writable and has space")
    };
    let mut header = String::new();
    let mut made: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    let mut links: Vec<(&PathBuf, String)> = Vec::new();
    for (id, target, link) in entries {
        header.clear();
        r.read_line(&mut header)
            .map_err(|e| Error::new(format!("cannot read from `git cat-file`: {e}")))?;
        let mut parts = header.trim_end().split(' ');
        let (Some(_), Some(kind), Some(size)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(
                Error::new(format!("`git cat-file` has no object `{id}`")).with_help(
                    "the repository may be a partial or shallow clone missing this object",
                ),
            );
        };
        let size: usize = size
            .parse()
            .map_err(|_| Error::new(format!("`git cat-file` printed a bad size for `{id}`")))?;
        if kind != "blob" {
            return Err(Error::new(format!("`{id}` is a {kind}, not a file")));
        }
        let mut data = vec![0u8; size];
        r.read_exact(&mut data)
            .and_then(|()| r.read_exact(&mut [0u8; 1]))
            .map_err(|e| Error::new(format!("cannot read from `git cat-file`: {e}")))?;
        if *link {
            // Links are made last: no file is ever written through one.
            links.push((target, String::from_utf8_lossy(&data).to_string()));
            continue;
        }
        make_parent(target, &mut made)?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(target)
            .map_err(|e| io("write", target, e))?;
        f.write_all(&data).map_err(|e| io("write", target, e))?;
    }
    // Deepest first, so that no link is in place while a deeper path is created.
    links.sort_by_key(|(target, _)| std::cmp::Reverse(target.components().count()));
    for (target, to) in links {
        make_parent(target, &mut made)?;
        std::os::unix::fs::symlink(&to, target).map_err(|e| io("create the link", target, e))?;
    }
    Ok(())
}

/// Create the parent directory of `target` once.
fn make_parent(target: &Path, made: &mut std::collections::HashSet<PathBuf>) -> Result<()> {
    if let Some(parent) = target.parent()
        && !made.contains(parent)
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::new(format!(
                "cannot create `{}`: {}",
                parent.display(),
                crate::fs::reason(&e)
            ))
            .with_help("check that the temporary directory is writable and has space")
        })?;
        made.insert(parent.to_path_buf());
    }
    Ok(())
}

/// A path from a git tree as a relative path of plain components; `..`, `.`, empty
/// components, absolute paths and `.git` are refused (a tree holding them is hostile).
pub fn plain_path(path: &str) -> Result<PathBuf> {
    let ok = !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.eq_ignore_ascii_case(".git"))
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !ok {
        return Err(Error::new(format!(
            "the revision holds the path `{path}`, which is not a plain relative path"
        ))
        .with_help("a tree entry may not be `..`, `.`, `.git` or absolute; check the repository"));
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_that_read_as_options_are_refused() {
        for ok in ["HEAD~1", "main", "origin/main", "v1.2", "a1b2c3d", "HEAD^2"] {
            assert!(check_rev(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-n", "--output=/tmp/x", "a b", "x\ny", "\u{1b}[0m"] {
            assert!(check_rev(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tree_paths_must_be_plain() {
        assert!(plain_path("overlays/prod/kustomization.yaml").is_ok());
        for bad in [
            "../x",
            "a/../b",
            "/etc/passwd",
            ".git/config",
            "a/.GIT/hooks",
            "a//b",
            "./a",
            "",
        ] {
            assert!(plain_path(bad).is_err(), "{bad}");
        }
    }
}
