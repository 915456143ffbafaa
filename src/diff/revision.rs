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
    /// The project root inside the temporary directory.
    pub root: PathBuf,
    /// The commit's object id.
    pub commit: String,
}

/// Write the project at `root` as it was at `rev`. `reads` are files the working tree's
/// render read (absolute); those outside the project but inside the repository bring their
/// directories along.
pub fn at_revision(
    repo: &Repo,
    root: &Path,
    rev: &str,
    reads: &BTreeSet<PathBuf>,
) -> Result<Revision> {
    let commit = repo.commit(rev)?;
    let real_root = crate::load::fs::real(root)?.unwrap_or_else(|| root.to_path_buf());
    let Some(prefix) = repo.relative(&real_root) else {
        return Err(Error::new(format!(
            "`{}` is not inside the git repository `{}`",
            root.display(),
            repo.top.display()
        ))
        .with_help("run strata inside the repository, or pass `--root DIR` inside it"));
    };
    let mut prefixes = BTreeSet::from([prefix.clone()]);
    for f in reads {
        if f.starts_with(&real_root) {
            continue;
        }
        if let Some(dir) = f.parent().and_then(|d| repo.relative(d)) {
            prefixes.insert(dir);
        }
    }
    let dir = tempfile::Builder::new()
        .prefix("strata-rev-")
        .tempdir()
        .map_err(|e| {
            Error::new(format!("cannot create a temporary directory: {e}"))
                .with_help("check that the temporary directory (`$TMPDIR`) is writable")
        })?;
    let tree = crate::load::fs::real(dir.path())?.unwrap_or_else(|| dir.path().to_path_buf());
    repo.write_tree(&commit, &prefixes, &tree)
        .map_err(|e| e.context(format!("revision `{rev}`")))?;
    let root = if prefix.is_empty() {
        tree
    } else {
        tree.join(&prefix)
    };
    Ok(Revision {
        _dir: dir,
        root,
        commit,
    })
}
