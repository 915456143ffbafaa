//! `strata artifact build|push`: render environments, pack each as a Flux artifact layer,
//! then write them (`build`) or push them to an OCI registry (`push`).
//!
//! Everything that can fail before the network is done first, for every environment:
//! rendering, `--validate`, packing, addresses and credentials. Only then is anything
//! written or pushed, so a failing environment pushes nothing at all. Push prints one line
//! per environment on stdout, `REGISTRY/REPO:TAG@sha256:…`.

use super::args::{ArtifactBuild, ArtifactCmd, ArtifactCommon, ArtifactPush, Layout};
use crate::Error;
use crate::artifact::{self, auth, manifest, pack, push, reference};
use crate::render::Environment;
use std::io::Write;
use std::time::Duration;

/// An environment's files: relative name and bytes.
type Files = Vec<(String, Vec<u8>)>;

pub fn run(cmd: ArtifactCmd) -> Result<(), Vec<Error>> {
    match cmd {
        ArtifactCmd::Build(b) => build(&b),
        ArtifactCmd::Push(p) => push_cmd(&p),
    }
}

/// Render (and validate) the chosen environments.
fn render(
    a: &ArtifactCommon,
    names: &[String],
) -> Result<(Vec<Environment>, Vec<crate::Output>), Vec<Error>> {
    let all = crate::render::environments(&a.root).map_err(|e| vec![e])?;
    let envs = crate::render::select(all, names).map_err(|e| vec![e])?;
    if envs.is_empty() {
        return Err(vec![super::no_environments(&a.root)]);
    }
    let (mut loader, options) = super::options(&a.common);
    loader.cache_files = envs.len() > 1;
    let outputs = super::output::render_all(&envs, &options, &loader)?;
    super::warn_envs(&envs, &outputs);
    if a.common.validate {
        let labels: Vec<String> = envs.iter().map(|e| e.name.clone()).collect();
        super::validation::check_outputs(&outputs, &labels, true, &a.common)?;
    }
    Ok((envs, outputs))
}

/// Every environment's files, or every environment's error.
fn all_files(
    envs: &[Environment],
    outputs: &[crate::Output],
    allow_empty: bool,
) -> Result<Vec<Files>, Vec<Error>> {
    let (ok, errs): (Vec<_>, Vec<_>) = envs
        .iter()
        .zip(outputs)
        .map(|(e, o)| artifact::files(&e.name, o, allow_empty))
        .partition(Result::is_ok);
    if errs.is_empty() {
        Ok(ok.into_iter().filter_map(Result::ok).collect())
    } else {
        Err(errs.into_iter().filter_map(Result::err).collect())
    }
}

fn build(b: &ArtifactBuild) -> Result<(), Vec<Error>> {
    let (envs, outputs) = render(&b.artifact, &b.envs)?;
    let files = all_files(&envs, &outputs, b.artifact.allow_empty)?;
    let mut out = Vec::new();
    for (env, files) in envs.iter().zip(files) {
        match b.layout {
            Layout::Dir => {
                for (name, bytes) in files {
                    out.push((format!("{}/{name}", env.name), bytes));
                }
            }
            Layout::Tgz => {
                let entries = pack::from_files(&files).map_err(|e| vec![e])?;
                let layer = pack::layer(&entries).map_err(|e| vec![e])?;
                out.push((format!("{}.tgz", env.name), layer.bytes));
            }
        }
    }
    artifact::write_files(&b.out, &out).map_err(|e| vec![e])
}

fn push_cmd(p: &ArtifactPush) -> Result<(), Vec<Error>> {
    // Arguments first: a typo costs no render.
    let target = reference::parse(&p.url).map_err(|e| vec![e])?;
    if !p.tag_per_env && p.envs.len() != 1 {
        return Err(vec![
            Error::new(format!(
                "`strata artifact push` takes one environment, got {}",
                p.envs.len()
            ))
            .with_help(
                "name one environment, or pass `--tag-per-env` to push several (all when none is named)",
            ),
        ]);
    }
    let annotations = p
        .annotations
        .iter()
        .map(|a| manifest::parse_annotation(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| vec![e])?;
    if !(p.timeout.is_finite() && p.timeout > 0.0 && p.timeout <= 86_400.0) {
        return Err(vec![
            Error::new(format!(
                "`--timeout {}` is not a number of seconds",
                p.timeout
            ))
            .with_help("pass a positive number of seconds, e.g. `--timeout 30`"),
        ]);
    }
    let options = push::PushOptions {
        insecure: p.insecure,
        http: crate::http::Options {
            timeout: Duration::from_secs_f64(p.timeout),
            ..crate::http::Options::default()
        },
    };
    let creds = auth::lookup(&target.registry, p.creds.as_deref()).map_err(|e| vec![e])?;

    let (envs, outputs) = render(&p.artifact, &p.envs)?;
    let files = all_files(&envs, &outputs, p.artifact.allow_empty)?;
    let meta = manifest::Meta {
        created: if p.reproducible {
            manifest::EPOCH.to_string()
        } else {
            manifest::now()
        },
        source: p.source.clone(),
        revision: p.revision.clone(),
        annotations,
    };
    let mut plan = Vec::new();
    for (env, files) in envs.iter().zip(files) {
        let to = if p.tag_per_env {
            target.for_env(&env.name).map_err(|e| vec![e])?
        } else {
            target.clone()
        };
        let entries = pack::from_files(&files).map_err(|e| vec![e])?;
        let layer = pack::layer(&entries).map_err(|e| vec![e])?;
        plan.push((env, to, manifest::artifact(layer, &meta)));
    }

    let mut stdout = std::io::stdout().lock();
    for (env, to, art) in &plan {
        let mut client = push::Client::new(to, creds.clone(), &options);
        let digest = client.push(art, &to.tag).map_err(|e| {
            vec![e.context(format!("pushing environment `{}` to `{to}`", env.name))]
        })?;
        writeln!(stdout, "{to}@{digest}")
            .and_then(|_| stdout.flush())
            .map_err(|e| vec![Error::new(format!("cannot write to stdout: {e}"))])?;
    }
    Ok(())
}
