//! `strata diff`: what a change does to each environment's rendered objects.
//!
//! Three forms: `diff --rev REV [ENV...]` renders the environments as they were at REV
//! (written from git's objects into a temporary directory) and as they are in the working
//! tree; `diff A B` compares two sides, each an environment, a kustomization directory or a
//! file of manifests (`-` for standard input). The revision's project subtree is written
//! while the working tree renders; directories outside the project that the working tree's
//! render read are written after it. Exit codes are `kubectl diff`'s: 0 no differences, 1
//! differences (0 with `--exit-zero`), 2 an error.

use super::args::{ColorArg, DiffCmd, DiffFormat};
use super::{closed_quietly, options};
use crate::diff::{Comparison, DiffOptions};
use crate::render::Environment;
use crate::resource::Resource;
use crate::{Error, Output};
use std::collections::BTreeSet;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

type Errors = Vec<Error>;

pub fn run(d: &DiffCmd) -> Result<u8, Errors> {
    let opts = DiffOptions {
        context: d.context,
        // Two environments usually differ in namespace: pair their objects by name too.
        across_namespaces: d.rev.is_none(),
    };
    let comparisons = match &d.rev {
        Some(rev) => revision(d, rev, &opts)?,
        None => two_sides(d, &opts)?,
    };
    let text = match d.output {
        DiffFormat::Text => crate::diff::report::text(&comparisons, colour(d.color)),
        DiffFormat::Markdown => {
            let title = match &d.rev {
                Some(rev) => format!("strata diff against `{rev}`"),
                None => "strata diff".to_string(),
            };
            crate::diff::report::markdown(&comparisons, &title)
        }
        DiffFormat::Json => {
            let mut s = serde_json::to_string_pretty(&crate::diff::report::json(&comparisons))
                .unwrap_or_default();
            s.push('\n');
            s
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .or_else(|e| closed_quietly(&e))?;
    let differ = crate::diff::any_changes(&comparisons);
    Ok(if differ && !d.exit_zero { 1 } else { 0 })
}

/// Whether the text report is coloured: `--color`, else on a terminal without `NO_COLOR`.
fn colour(c: ColorArg) -> bool {
    match c {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                && std::io::stdout().is_terminal()
        }
    }
}

fn threads(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// `diff --rev REV [ENV...]`: each environment at REV (old) and in the working tree (new).
fn revision(d: &DiffCmd, rev: &str, opts: &DiffOptions) -> Result<Vec<Comparison>, Errors> {
    crate::git::check_rev(rev).map_err(|e| vec![e])?;
    let repo = crate::git::open(&d.root).map_err(|e| vec![e])?;
    let now_all = crate::render::environments(&d.root).map_err(|e| vec![e])?;
    // The working tree first: its reads say which directories the revision needs.
    let now_envs: Vec<Environment> = if d.args.is_empty() {
        now_all.clone()
    } else {
        now_all
            .iter()
            .filter(|e| d.args.contains(&e.name))
            .cloned()
            .collect()
    };
    // The revision is written while the working tree renders.
    // One loader for both sides: a file unchanged since the revision is parsed once.
    let (mut loader, options) = options(&d.common);
    loader.cache_files = true;
    let (now, at) = rayon::join(
        || render(&now_envs, d, true, &loader, &options),
        || crate::diff::revision::at_revision(&repo, &d.root, rev),
    );
    let (now, reads) = now?;
    super::warn_envs(&now_envs, &now);
    let mut at = at.map_err(|e| vec![e])?;
    at.bring(&repo, &reads).map_err(|e| vec![e])?;
    let then_all = if crate::render::is_project(&at.root) {
        crate::render::environments(&at.root).map_err(|e| vec![e])?
    } else {
        Vec::new()
    };
    // Every named environment must exist on one side at least.
    let mut names: BTreeSet<String> = now_envs.iter().map(|e| e.name.clone()).collect();
    if d.args.is_empty() {
        names.extend(then_all.iter().map(|e| e.name.clone()));
    } else {
        for n in &d.args {
            if !names.contains(n) {
                if then_all.iter().any(|e| &e.name == n) {
                    names.insert(n.clone());
                } else {
                    // The usual unknown-environment error, with suggestions.
                    crate::render::select(now_all.clone(), std::slice::from_ref(n))
                        .map_err(|e| vec![e])?;
                }
            }
        }
    }
    let then_envs: Vec<Environment> = then_all
        .into_iter()
        .filter(|e| names.contains(&e.name))
        .collect();
    let (then, _) = render(&then_envs, d, false, &loader, &options).map_err(|errs| {
        errs.into_iter()
            .map(|e| e.context(format!("at `{rev}`")))
            .collect::<Errors>()
    })?;
    fn side<'a>(envs: &[Environment], outs: &'a [Output], name: &str) -> &'a [Resource] {
        envs.iter()
            .position(|e| e.name == name)
            .map_or(&[][..], |i| outs[i].resources.as_slice())
    }
    let comparisons = names
        .iter()
        .map(|name| Comparison {
            name: name.clone(),
            changes: crate::diff::resources(
                side(&then_envs, &then, name),
                side(&now_envs, &now, name),
                opts,
            ),
        })
        .collect();
    // Both renders are done with: the process ends soon, freeing them one object at a time
    // would only cost time (the revision's directory is still removed).
    std::mem::forget(now);
    std::mem::forget(then);
    Ok(comparisons)
}

/// Render `envs` in parallel with `loader` (shared bases read once), noting the files read;
/// with `validate` and `--validate`, the renders are validated.
fn render(
    envs: &[Environment],
    d: &DiffCmd,
    validate: bool,
    loader: &crate::Loader,
    options: &crate::BuildOptions,
) -> Result<(Vec<Output>, BTreeSet<PathBuf>), Errors> {
    if envs.is_empty() {
        return Ok((Vec::new(), BTreeSet::new()));
    }
    // With a progress bar on a terminal when it takes a while (a revision's remote bases
    // may be fetched).
    let (outputs, reads) = crate::fs::record(threads(d.jobs), || {
        super::output::render_all(envs, options, loader)
    })
    .map_err(|e| vec![e])?;
    let outputs = outputs?;
    if validate && d.common.validate {
        let labels: Vec<String> = envs.iter().map(|e| e.name.clone()).collect();
        super::validation::check_outputs(&outputs, &labels, true, &d.common)?;
    }
    Ok((outputs, reads))
}

/// `diff A B`: each side an environment, a kustomization directory or a file.
fn two_sides(d: &DiffCmd, opts: &DiffOptions) -> Result<Vec<Comparison>, Errors> {
    let [a, b] = d.args.as_slice() else {
        return Err(vec![
            Error::new(format!(
                "`strata diff` compares two sides, {} given",
                d.args.len()
            ))
            .with_help("name two environments, directories or files (`strata diff staging prod`), or pass `--rev REV`"),
        ]);
    };
    if a == "-" && b == "-" {
        return Err(vec![
            Error::new("both sides read standard input").with_help("give `-` for one side only"),
        ]);
    }
    let (old, new) = rayon::join(|| side(a, d), || side(b, d));
    let (old, new) = match (old, new) {
        (Ok(o), Ok(n)) => (o, n),
        (o, n) => {
            let mut errors = Vec::new();
            errors.extend(o.err().unwrap_or_default());
            errors.extend(n.err().unwrap_or_default());
            return Err(errors);
        }
    };
    Ok(vec![Comparison {
        name: format!("{a} → {b}"),
        changes: crate::diff::resources(&old, &new, opts),
    }])
}

/// The objects one side names.
fn side(arg: &str, d: &DiffCmd) -> Result<Vec<Resource>, Errors> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| vec![Error::new(format!("cannot read standard input: {e}"))])?;
        return parse(&text, "-").map_err(|e| vec![e]);
    }
    let path = Path::new(arg);
    if path.is_file() {
        let text = crate::load::read_text(path).map_err(|e| vec![e])?;
        return parse(&text, arg).map_err(|e| vec![e]);
    }
    let dir = if path.is_dir()
        && crate::load::kustomization::FILE_NAMES
            .iter()
            .any(|f| path.join(f).is_file())
    {
        path.to_path_buf()
    } else {
        let all = crate::render::environments(&d.root).map_err(|e| vec![e])?;
        let mut env = crate::render::select(all, &[arg.to_string()])
            .map_err(|e| vec![e.context(format!("`{arg}` is not a file or directory"))])?;
        env.remove(0).dir
    };
    let (loader, options) = options(&d.common);
    let output = crate::build(&dir, &options, &loader).map_err(|e| vec![e])?;
    Ok(output.resources)
}

/// The objects of a manifest stream (`kind: List` items flattened).
fn parse(text: &str, name: &str) -> crate::Result<Vec<Resource>> {
    let budget = crate::yaml::AliasBudget::new(crate::yaml::AliasBudget::DEFAULT);
    let docs = crate::yaml::parse_objects_in(text, &budget).map_err(|e| {
        Error::new(format!(
            "`{name}` is not valid YAML: {} (line {})",
            e.message, e.line
        ))
        .with_help("give a file of Kubernetes manifests, as `strata render` prints them")
    })?;
    let mut out = Vec::new();
    for d in docs.into_iter().filter(|d| !d.value.is_null()) {
        let is_list = d
            .value
            .str_at(&["kind"])
            .is_some_and(|k| k.ends_with("List"));
        match (is_list, d.value) {
            (true, crate::yaml::Value::Map(mut m)) if m.contains_key("items") => {
                if let Some(crate::yaml::Value::Seq(items)) = m.swap_remove("items") {
                    out.extend(items.into_iter().map(|v| Resource::new(v, origin(name))));
                }
            }
            (_, v) => out.push(Resource::new(v, origin(name))),
        }
    }
    Ok(out)
}

fn origin(name: &str) -> crate::resource::Origin {
    crate::resource::Origin {
        file: PathBuf::from(name),
        line: 0,
        display_path: name.to_string(),
        configured_by: None,
    }
}
