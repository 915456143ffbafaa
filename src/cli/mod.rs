//! Command-line interface: clap arguments → library options → library call → report.
//!
//! This is the only module that prints. On success the manifest stream goes to stdout (or
//! to files); on any error nothing goes to stdout, every error is reported on stderr and the
//! exit code is 1. clap's usage errors exit 2.

mod affected;
mod argocd;
mod args;
mod artifact;
mod deps;
mod diff;
mod formats;
mod init;
mod manual;
mod output;
mod project;
mod report;
mod unused;
mod validation;
mod values;
mod warnings;

use crate::resolve::ValuesOptions;
use crate::transform::helm::HelmOptions;
use crate::{BuildOptions, Error, Loader};
use args::{Args, Command, Common, ValuesArgs};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// Stack size of the worker threads: deep (but bounded) layer chains and documents
/// nested thousands of levels deep recurse; the memory is reserved, not used.
pub(crate) const WORKER_STACK: usize = 64 << 20;

pub fn run() -> ExitCode {
    let mut args = Args::parse();
    warnings::set_quiet(args.quiet);
    if let Err(errors) = project::prepare(&mut args.command) {
        for e in &errors {
            report::print(e);
        }
        return ExitCode::from(1);
    }
    let jobs = match &args.command {
        Command::Render(r) => r.jobs,
        Command::Artifact(args::ArtifactCmd::Build(b)) => b.artifact.jobs,
        Command::Artifact(args::ArtifactCmd::Push(p)) => p.artifact.jobs,
        Command::Diff(d) => d.jobs,
        Command::Affected(a) => a.jobs,
        _ => None,
    };
    // `strata diff` exits as `kubectl diff`: 1 means "differences", errors are 2.
    let error_code = if matches!(args.command, Command::Diff(_)) {
        2
    } else {
        1
    };
    // The global pool can only be set once; this is the first use in the process.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.map_or(0, |n| n.max(1)))
        .stack_size(WORKER_STACK)
        .build_global();
    // The command runs on a thread with the workers' stack size, for the same reason.
    let result = std::thread::Builder::new()
        .stack_size(WORKER_STACK)
        .spawn(move || match args.command {
            Command::Build(b) => build(b).map(|()| 0),
            Command::Render(r) => render(r).map(|()| 0),
            Command::Values(v) => values::run(&v).map(|()| 0),
            Command::Validate(v) => validation::validate_cmd(&v).map(|()| 0),
            Command::Artifact(a) => artifact::run(a).map(|()| 0),
            Command::Diff(d) => diff::run(&d),
            Command::Deps(d) => deps::run(&d).map(|()| 0),
            Command::Affected(a) => affected::run(&a).map(|()| 0),
            Command::Argocd(a) => argocd::run(a).map(|()| 0),
            Command::Init(i) => init::run(&i).map(|()| 0),
            Command::Completions(c) => manual::completions(c.shell).map(|()| 0),
            Command::Man => manual::man().map(|()| 0),
            Command::Schema(s) => schema(&s).map(|()| 0),
        })
        .map_err(|e| vec![Error::new(format!("cannot start a thread: {e}"))])
        .and_then(|t| {
            t.join()
                .unwrap_or_else(|_| Err(vec![Error::new("internal error: the command panicked")]))
        });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(errors) => {
            for e in errors.into_iter().flat_map(Error::flatten) {
                report::print(&e);
            }
            ExitCode::from(error_code)
        }
    }
}

/// Each distinct warning of one build, once.
fn warn(warnings: &[crate::Warning]) {
    warnings::grouped([(None, warnings)]);
}

/// Each distinct warning of several environments' builds, once, naming the environments.
fn warn_envs(envs: &[crate::render::Environment], outputs: &[crate::Output]) {
    warnings::grouped(
        envs.iter()
            .zip(outputs)
            .map(|(e, o)| (Some(e.name.as_str()), o.warnings.as_slice())),
    );
}

fn print(text: &str) -> Result<(), Vec<Error>> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .or_else(|e| closed_quietly(&e))
}

/// A reader that closed standard output early (`strata build | head`) ends the command
/// quietly, as other Unix tools do; any other write error is reported.
fn closed_quietly(e: &std::io::Error) -> Result<(), Vec<Error>> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Ok(());
    }
    Err(vec![Error::new(format!(
        "cannot write to stdout: {}",
        crate::fs::reason(e)
    ))])
}

/// Stream a finished build to stdout. Everything that can fail in the build has failed by
/// now, so only a closed or full stdout can stop it part way.
fn stdout(output: &crate::Output) -> Result<(), Vec<Error>> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    output
        .write_yaml(&mut out)
        .and_then(|_| out.flush())
        .or_else(|e| closed_quietly(&e))
}

fn values_options(v: &ValuesArgs) -> ValuesOptions {
    ValuesOptions {
        files: v.files.clone(),
        set: v.set.clone(),
        set_string: v.set_string.clone(),
        set_json: v.set_json.clone(),
        set_file: v.set_file.clone(),
        layers: Vec::new(),
    }
}

fn options(c: &Common) -> (Loader, BuildOptions) {
    let mut loader = Loader::new(c.load_restrictor.load());
    loader.remote.offline = c.offline;
    loader.remote.allow_file = c.limits.allow_file_remotes;
    loader.aliases = crate::yaml::AliasBudget::new(c.limits.max_yaml_aliases);
    loader.templates.limits = crate::template::render::TemplateLimits {
        fuel: c.limits.template_fuel,
        max_output: c.limits.max_template_output,
    };
    loader.remote.timeout = Some(std::time::Duration::from_secs(
        c.limits.remote_timeout.max(1),
    ));
    loader.remote.max_download_bytes = Some(c.limits.max_download_bytes);
    let options = BuildOptions {
        reorder: c.reorder.map(args::ReorderArg::reorder).unwrap_or_default(),
        strict: c.warnings_as_errors,
        helm: HelmOptions {
            enabled: c.enable_helm,
            command: c.helm_command.clone(),
            timeout: Some(std::time::Duration::from_secs(c.limits.helm_timeout.max(1))),
        },
        values: values_options(&c.values),
        env: None,
        limits: crate::resolve::Limits {
            max_depth: c.limits.max_depth,
        },
        record_values: None,
    };
    (loader, options)
}

fn build(b: args::Build) -> Result<(), Vec<Error>> {
    let (loader, options) = options(&b.common);
    let output = crate::build(&b.dir, &options, &loader).map_err(|e| vec![e])?;
    warnings::kustomize(&output.warnings);
    warn(&unused::check(&[&b.dir], &b.common.values, &b.common));
    if b.common.validate {
        let label = report::shown(&b.dir);
        validation::check_outputs(std::slice::from_ref(&output), &[label], false, &b.common)?;
    }
    match b.output {
        None => stdout(&output),
        // A directory: one that exists, or a path ending in `/` (created).
        Some(path) if path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/') => {
            let files = crate::emit::to_files(&output.resources).map_err(|e| vec![e])?;
            crate::render::write_atomically(&path, &files).map_err(|e| vec![e])
        }
        Some(path) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let dir = path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
            let dir = if dir.as_os_str().is_empty() {
                ".".into()
            } else {
                dir
            };
            crate::render::write_atomically(&dir, &[(name, output.yaml())]).map_err(|e| vec![e])
        }
    }
}

fn render(r: args::Render) -> Result<(), Vec<Error>> {
    let all = crate::render::environments(&r.root).map_err(|e| vec![e])?;
    let all_names: Vec<String> = all.iter().map(|e| e.name.clone()).collect();
    let envs = crate::render::select(all, &r.envs).map_err(|e| vec![e])?;
    if envs.is_empty() {
        return Err(vec![no_environments(&r.root)]);
    }
    if envs.len() > 1 && r.out.is_none() {
        let names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
        return Err(vec![
            Error::new(format!(
                "{} environments ({}) need `--out DIR`",
                envs.len(),
                names.join(", ")
            ))
            .with_help(
                "pass `--out DIR` to write DIR/<env>.yaml, or name one environment to print it",
            ),
        ]);
    }
    let started = std::time::Instant::now();
    let (mut loader, options) = options(&r.common);
    // Environments share their bases: keep parsed files for the next environment.
    loader.cache_files = envs.len() > 1;
    let outputs = output::render_all(&envs, &options, &loader)?;
    warn_envs(&envs, &outputs);
    let dirs: Vec<&std::path::Path> = envs.iter().map(|e| e.dir.as_path()).collect();
    warn(&unused::check(&dirs, &r.common.values, &r.common));
    if !r.allow_empty {
        let empty: Vec<Error> = envs
            .iter()
            .zip(&outputs)
            .filter(|(_, o)| o.resources.is_empty())
            .map(|(e, _)| {
                Error::new(format!("environment `{}` renders no objects", e.name)).with_help(
                    "an empty stream makes a GitOps controller delete everything; pass `--allow-empty` if that is intended",
                )
            })
            .collect();
        if !empty.is_empty() {
            return Err(empty);
        }
    }
    if r.common.validate {
        let labels: Vec<String> = envs.iter().map(|e| e.name.clone()).collect();
        validation::check_outputs(&outputs, &labels, true, &r.common)?;
    }
    match r.out {
        None => stdout(&outputs[0]),
        Some(dir) => {
            let files: Vec<(String, String)> = envs
                .iter()
                .zip(&outputs)
                .map(|(e, o)| (format!("{}.yaml", e.name), o.yaml()))
                .collect();
            crate::render::write_atomically(&dir, &files).map_err(|e| vec![e])?;
            // Stale: a file no environment of the project (rendered now or not) writes.
            let keep: Vec<String> = all_names.iter().map(|n| format!("{n}.yaml")).collect();
            output::handle_stale(&output::stale(&dir, &keep), r.prune)?;
            let objects = outputs.iter().map(|o| o.resources.len()).sum();
            output::summary(envs.len(), objects, &dir, started);
            Ok(())
        }
    }
}

fn schema(s: &args::SchemaCmd) -> Result<(), Vec<Error>> {
    let schema = match s.kind {
        args::SchemaKind::Project => crate::schema::project(),
        args::SchemaKind::Kustomization => crate::schema::kustomization(),
        args::SchemaKind::Values => crate::schema::values(&s.dir).map_err(|e| vec![e])?,
    };
    let mut text = serde_json::to_string_pretty(&schema)
        .map_err(|e| vec![Error::new(format!("cannot print the schema: {e}"))])?;
    text.push('\n');
    print(&text)
}

/// The error for a project without environments, naming where they were looked for.
fn no_environments(root: &std::path::Path) -> Error {
    let place = crate::project::Project::load(root)
        .map(|p| p.environments.shown())
        .unwrap_or_else(|_| "overlays/".to_string());
    Error::new(format!(
        "no environments under `{}`",
        root.join(&place).display()
    ))
    .with_help(format!(
        "an environment is a directory under `{place}` holding a kustomization.yaml"
    ))
}
