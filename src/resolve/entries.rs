//! Turning the entries of `resources`/`bases`/`components` into what they name: a file of
//! resources or a layer directory, local or fetched.
//!
//! Paths are resolved on disk (symlinks followed, `..` taken physically, as Kustomize does)
//! before anything is decided. Files go through the load restrictor; directories may lie
//! outside the including layer (a base is usually `../base`), but not outside the cloned
//! repository when the including layer came from one, and a directory given as an absolute
//! path is refused, both as Kustomize refuses them.

use super::Builder;
use crate::error::Result;
use crate::fs::Found;
use crate::load::{Kustomization, relative_to, remote};
use std::path::{Path, PathBuf};

/// A resolved entry.
pub(super) enum Item {
    /// A layer to build; `repo` is set when it lies in a fetched repository.
    Dir {
        path: PathBuf,
        at: Vec<String>,
        repo: Option<PathBuf>,
    },
    /// A file of resources, with the path it is shown by.
    File(PathBuf, String),
}

impl Builder<'_> {
    /// Resolve one `resources`/`bases` entry of the layer in `dir`.
    pub(super) fn resolve_entry(
        &self,
        k: &Kustomization,
        dir: &Path,
        entry: &str,
        at: Vec<String>,
        at_refs: &[&str],
    ) -> Result<Item> {
        if entry.trim().is_empty() {
            return Err(k
                .error(at_refs, "empty entry in `resources`")
                .with_help("remove the empty entry, or name a file or directory"));
        }
        if remote::is_remote(entry) {
            let fetched =
                remote::fetch(entry, &self.loader.remote, &self.loader.fetches).map_err(|e| {
                    e.at(k.location(at_refs))
                        .or_kind(crate::error::ErrorKind::Remote)
                })?;
            return Ok(match fetched {
                remote::Fetched::File(file) => {
                    let display = relative_to(&file, &self.top);
                    Item::File(file, display)
                }
                remote::Fetched::Dir { path, repo } => Item::Dir {
                    path,
                    at,
                    repo: Some(repo),
                },
            });
        }
        match self
            .loader
            .find(dir, Path::new(entry))
            .map_err(|e| e.at(k.location(at_refs)))?
        {
            Some(Found::File(path)) => {
                let display = relative_to(&path, &self.top);
                Ok(Item::File(path, display))
            }
            Some(Found::Dir(path)) => {
                self.check_dir(k, entry, &path, at_refs)?;
                Ok(Item::Dir {
                    path,
                    at,
                    repo: None,
                })
            }
            None => Err(k
                .error(at_refs, format!("resource `{entry}` does not exist"))
.with_kind(crate::error::ErrorKind::NotFound)
                .with_help(format!(
                    "no file or directory at `{}`; paths in `resources` are relative to the kustomization's directory",
                    crate::fs::normalize(&dir.join(entry)).display()
                ))),
        }
    }

    /// The directory a `components`/`generators`/`transformers` entry names, checked as
    /// a layer directory; `None` when it is not a directory.
    pub(super) fn local_dir(
        &self,
        k: &Kustomization,
        dir: &Path,
        entry: &str,
        at: &[&str],
    ) -> Result<Option<PathBuf>> {
        match self
            .loader
            .find(dir, Path::new(entry))
            .map_err(|e| e.at(k.location(at)))?
        {
            Some(Found::Dir(path)) => {
                self.check_dir(k, entry, &path, at)?;
                Ok(Some(path))
            }
            _ => Ok(None),
        }
    }

    /// Kustomize's rules for a layer directory: not given as an absolute path, and inside
    /// the repository when the including layer was fetched from one.
    fn check_dir(&self, k: &Kustomization, entry: &str, path: &Path, at: &[&str]) -> Result<()> {
        if Path::new(entry).is_absolute() {
            return Err(k
                .error(at, format!("layer `{entry}` cannot be an absolute path"))
                .with_help("name the directory relative to the kustomization's directory"));
        }
        if let Some(repo) = &self.repo
            && !path.starts_with(repo)
        {
            return Err(k
                .error(
                    at,
                    format!(
                        "security; `{entry}` is outside the fetched repository `{}`",
                        repo.display()
                    ),
                )
                .with_help("layers of a remote base must lie inside its repository"));
        }
        Ok(())
    }
}
