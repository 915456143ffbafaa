//! A project as it was at a git revision, written into a temporary directory of our own
//! (`strata diff --rev`, `strata affected --exact`); the user's checkout is not touched.
//!
//! Only what a render can read is written: the project root's subtree, plus the
//! directories outside it (inside the repository) from which the working tree's render read
//! files (a base shared with other projects). The directory is removed when the `Revision`
//! is dropped.

use crate::error::{Error, Result};
use crate::git::Repo;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The project at a revision.
pub struct Revision {
    _dir: tempfile::TempDir,
    /// Where the repository's files are written.
    tree: PathBuf,
    /// The project root inside the temporary directory.
    pub root: PathBuf,
    /// The commit's object id.
    pub commit: String,
    /// The repository directories written so far.
    written: BTreeSet<String>,
}

/// A temporary directory for a revision: in memory (`/dev/shm`) when the system has one and
/// `$TMPDIR` names no other place (writing thousands of small files to a disk costs
/// seconds), else in the temporary directory.
fn temp_dir(in_memory: bool) -> Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    if in_memory
        && std::env::var_os("TMPDIR").is_none()
        && shm.is_dir()
        && let Ok(d) = tempfile::Builder::new()
            .prefix("strata-rev-")
            .tempdir_in(shm)
    {
        return Ok(d);
    }
    tempfile::Builder::new()
        .prefix("strata-rev-")
        .tempdir()
        .map_err(|e| {
            Error::new(format!("cannot create a temporary directory: {e}"))
                .with_help("check that the temporary directory (`$TMPDIR`) is writable")
        })
}

/// Write the project at `root` (its subtree of the repository) as it was at `rev`.
pub fn at_revision(repo: &Repo, root: &Path, rev: &str) -> Result<Revision> {
    let commit = repo.commit(rev)?;
    let real_root = crate::fs::real(root)?.unwrap_or_else(|| root.to_path_buf());
    let Some(prefix) = repo.relative(&real_root) else {
        return Err(Error::new(format!(
            "`{}` is not inside the git repository `{}`",
            root.display(),
            repo.top.display()
        ))
        .with_help("run strata inside the repository, or pass `--root DIR` inside it"));
    };
    let prefixes = BTreeSet::from([prefix.clone()]);
    let write = |in_memory: bool| -> Result<(tempfile::TempDir, PathBuf)> {
        let dir = temp_dir(in_memory)?;
        let tree = crate::fs::real(dir.path())?.unwrap_or_else(|| dir.path().to_path_buf());
        repo.write_tree(&commit, &prefixes, &BTreeSet::new(), &tree)
            .map_err(|e| e.context(format!("revision `{rev}`")))?;
        Ok((dir, tree))
    };
    // A full memory file system: once more on disk.
    let (dir, tree) = write(true).or_else(|_| write(false))?;
    let root = if prefix.is_empty() {
        tree.clone()
    } else {
        tree.join(&prefix)
    };
    Ok(Revision {
        _dir: dir,
        tree,
        root,
        commit,
        written: prefixes,
    })
}

impl Revision {
    /// Also write the directories outside the project (inside the repository) holding
    /// files of `reads` (what the working tree's render read: a base shared with other
    /// projects).
    pub fn bring(&mut self, repo: &Repo, reads: &BTreeSet<PathBuf>) -> Result<()> {
        let covered = |dir: &str, written: &BTreeSet<String>| {
            written.contains("")
                || written.contains(dir)
                || dir
                    .match_indices('/')
                    .any(|(i, _)| written.contains(&dir[..i]))
        };
        let mut more = BTreeSet::new();
        for f in reads {
            if let Some(dir) = f.parent().and_then(|d| repo.relative(d))
                && !covered(&dir, &self.written)
            {
                more.insert(dir);
            }
        }
        if more.is_empty() {
            return Ok(());
        }
        repo.write_tree(&self.commit, &more, &self.written, &self.tree)?;
        self.written.extend(more);
        Ok(())
    }
}
