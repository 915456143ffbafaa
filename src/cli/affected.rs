//! `strata affected --since REV`: the environments a change since REV affects.
//!
//! First the environments whose dependencies (`strata deps`, from a plan build of each, in
//! parallel) meet the files `git` reports as changed since REV (changed, added, deleted,
//! untracked); with `--exact`, only those of them whose rendered bytes really differ: both
//! sides are rendered, REV from git's objects in a temporary directory. An environment that
//! does not render at REV (or did not exist) counts as affected. Printed one per line, or
//! as a JSON list for a CI matrix (`fromJSON`).

use super::args::{AffectedCmd, AffectedOutput};
use super::{options, print};
use crate::Error;
use crate::render::Environment;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::PathBuf;

type Errors = Vec<Error>;

pub fn run(a: &AffectedCmd) -> Result<(), Errors> {
    let repo = crate::git::open(&a.root).map_err(|e| vec![e])?;
    let commit = repo.commit(&a.since).map_err(|e| vec![e])?;
    let all = crate::render::environments(&a.root).map_err(|e| vec![e])?;
    let envs = crate::render::select(all, &a.envs).map_err(|e| vec![e])?;
    let changed = repo.changed_files(&commit).map_err(|e| vec![e])?;
    let mut affected: Vec<(Environment, Vec<PathBuf>)> = Vec::new();
    if !changed.is_empty() {
        let plans: Vec<crate::Result<crate::deps::Deps>> = envs
            .par_iter()
            .map(|e| {
                let mut d = super::deps::plan(&e.dir, &a.common)
                    .map_err(|err| err.context(format!("environment `{}`", e.name)))?;
                super::deps::with_project_file(&mut d, &a.root);
                Ok(d)
            })
            .collect();
        let mut errors = Vec::new();
        for (e, p) in envs.iter().zip(plans) {
            match p {
                Ok(d) if changed.iter().any(|c| d.touches(c)) => {
                    affected.push((e.clone(), d.files));
                }
                Ok(_) => {}
                Err(err) => errors.push(err),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
    }
    if a.exact && !affected.is_empty() {
        affected = exact(a, &repo, affected)?;
    }
    let names: Vec<&str> = affected.iter().map(|(e, _)| e.name.as_str()).collect();
    let text = match a.output {
        AffectedOutput::Text => names.iter().map(|n| format!("{n}\n")).collect(),
        AffectedOutput::Json => format!("{}\n", serde_json::json!(names)),
    };
    print(&text)
}

/// The candidates whose rendered bytes differ between `--since` and the working tree.
fn exact(
    a: &AffectedCmd,
    repo: &crate::git::Repo,
    candidates: Vec<(Environment, Vec<PathBuf>)>,
) -> Result<Vec<(Environment, Vec<PathBuf>)>, Errors> {
    let reads: BTreeSet<PathBuf> = candidates
        .iter()
        .flat_map(|(_, f)| f.iter().cloned())
        .collect();
    let envs: Vec<Environment> = candidates.iter().map(|(e, _)| e.clone()).collect();
    // One loader for both sides (an unchanged file parses once); the revision is written
    // while the working tree renders.
    let (mut loader, build) = options(&a.common);
    loader.cache_files = true;
    let (now, at) = rayon::join(
        || crate::render::render(&envs, &build, &loader),
        || crate::diff::revision::at_revision(repo, &a.root, &a.since),
    );
    let now = now?;
    let mut at = at.map_err(|e| vec![e])?;
    at.bring(repo, &reads).map_err(|e| vec![e])?;
    let then_all = if crate::render::is_project(&at.root) {
        crate::render::environments(&at.root).unwrap_or_default()
    } else {
        Vec::new()
    };
    let then: Vec<Option<crate::Output>> = envs
        .par_iter()
        .map(|e| {
            let dir = then_all.iter().find(|t| t.name == e.name)?;
            crate::build(&dir.dir, &build, &loader).ok()
        })
        .collect();
    // The same objects print the same bytes; only objects that differ need printing.
    let same = |n: &crate::Output, t: &Option<crate::Output>| {
        t.as_ref().is_some_and(|t| {
            t.resources.len() == n.resources.len()
                && (t
                    .resources
                    .iter()
                    .zip(&n.resources)
                    .all(|(a, b)| a.doc == b.doc)
                    || t.yaml() == n.yaml())
        })
    };
    let changed: Vec<bool> = now.iter().zip(&then).map(|(n, t)| !same(n, t)).collect();
    // The process ends soon: freeing the renders object by object would only cost time.
    std::mem::forget(now);
    std::mem::forget(then);
    Ok(candidates
        .into_iter()
        .zip(changed)
        .filter(|(_, changed)| *changed)
        .map(|(c, _)| c)
        .collect())
}
