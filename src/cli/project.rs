//! The project file on the command line: `--root` defaults to the nearest directory from
//! the working directory upwards holding `strata.yaml` (as git finds `.git`), and the
//! file's settings fill in the flags the command line left out.

use super::args::{Command, Common, ValuesArgs};
use crate::Error;
use crate::project::{FILE, Project};
use std::path::{Path, PathBuf};

/// Find the project of a command that has one, and apply its settings.
pub fn prepare(command: &mut Command) -> Result<(), Vec<Error>> {
    let (root, common, values, jobs): (
        &mut PathBuf,
        Option<&mut Common>,
        Option<&mut ValuesArgs>,
        Option<&mut Option<usize>>,
    ) = match command {
        Command::Render(r) => (&mut r.root, Some(&mut r.common), None, Some(&mut r.jobs)),
        Command::Values(v) => (&mut v.root, None, Some(&mut v.values), None),
        Command::Diff(d) => (&mut d.root, Some(&mut d.common), None, Some(&mut d.jobs)),
        Command::Deps(d) => (&mut d.root, Some(&mut d.common), None, None),
        Command::Affected(a) => (&mut a.root, Some(&mut a.common), None, Some(&mut a.jobs)),
        Command::Artifact(super::args::ArtifactCmd::Build(b)) => {
            let a = &mut b.artifact;
            (&mut a.root, Some(&mut a.common), None, Some(&mut a.jobs))
        }
        Command::Artifact(super::args::ArtifactCmd::Push(p)) => {
            let a = &mut p.artifact;
            (&mut a.root, Some(&mut a.common), None, Some(&mut a.jobs))
        }
        _ => return Ok(()),
    };
    locate(root);
    let project = Project::load(root).map_err(|e| vec![e])?;
    if project.file.is_none() {
        return Ok(());
    }
    let files = inside(root, &project.values, "values").map_err(|e| vec![e])?;
    let crds = inside(root, &project.crds, "crds").map_err(|e| vec![e])?;
    if let Some(c) = common {
        if c.validation.kube_version.is_none() {
            c.validation.kube_version.clone_from(&project.kube_version);
        }
        if project.validate == Some(true) && !c.no_validate {
            c.validate = true;
        }
        if c.validation.crds.is_empty() {
            c.validation.crds = crds;
        }
        prepend(&mut c.values, &files);
    }
    if let Some(v) = values {
        prepend(v, &files);
    }
    if let Some(j) = jobs
        && j.is_none()
    {
        *j = project.jobs;
    }
    Ok(())
}

/// The project's paths under `root`, each checked to stay inside it once its symlinks are
/// resolved: a repository's `strata.yaml` cannot make strata read a file elsewhere. (A path
/// that does not exist is left for the command to report.)
fn inside(root: &Path, paths: &[PathBuf], key: &str) -> Result<Vec<PathBuf>, Error> {
    paths
        .iter()
        .map(|p| {
            let path = root.join(p);
            match crate::fs::placed(root, &path)? {
                crate::fs::Placed::Outside => Err(Error::new(format!(
                    "`{}` in `{key}` of `strata.yaml` leads outside the project",
                    p.display()
                ))
                .in_file(&if root.as_os_str() == "." {
                    PathBuf::from(FILE)
                } else {
                    root.join(FILE)
                })
                .with_help("paths in `strata.yaml` name files of the project; a symlink may not lead out of it")),
                _ => Ok(path),
            }
        })
        .collect()
}

/// The project's values files come first: `-f` files given on the command line win.
fn prepend(values: &mut ValuesArgs, files: &[PathBuf]) {
    let mut all = files.to_vec();
    all.append(&mut values.files);
    values.files = all;
}

/// `--root .` (the default) where the working directory is no project: the nearest parent
/// holding `strata.yaml`, if any.
fn locate(root: &mut PathBuf) {
    if root.as_os_str() != "." || crate::render::is_project(root) {
        return;
    }
    if let Some(found) = crate::project::find(root)
        && found.join(FILE).is_file()
    {
        *root = found;
    }
}
