//! `strata argocd generate|parameters`: strata as an Argo CD config management plugin.
//!
//! Argo CD's cmp-server runs these in a copy of the repository, in the application's
//! directory, with the Application described by environment variables
//! (`crate::argocd::env`). `generate` prints the manifest stream on stdout; `parameters`
//! prints the parameter announcements (a JSON array). Whatever goes wrong, the output is
//! nothing on stdout, a short report on stderr (Argo CD shows it in the UI: plain lines,
//! paths relative to the repository, no snippets) and exit code 1:
//!
//! - an empty render is an error unless the Application sets `allowEmpty: "true"` (Argo CD
//!   takes an empty stream as "no objects" and, with auto-prune, deletes the application);
//! - the whole command has a deadline of its own (`--deadline`, default 45 s, below the
//!   repo-server's 60 s), so it fails with a message instead of being killed; the `git`
//!   and `helm` commands still running then are killed with their process groups;
//! - validation is on by default, for the cluster's version (`KUBE_VERSION`);
//! - a `strata.yaml` in the application's directory or a parent inside the repository
//!   gives its defaults as it does to `render`: values files first, CRDs for validation,
//!   `validate: false`, and `kubeVersion` where Argo CD passes no `KUBE_VERSION`.

use super::args::{Common, LimitArgs, Restrictor, ValidateArgs, ValuesArgs};
use crate::argocd::{self, env::ArgoEnv, request};
use crate::project::Project;
use crate::{Error, Loader};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Subcommand, Debug)]
pub enum ArgocdCmd {
    /// Render the application (the plugin's `generate` command)
    Generate(Generate),
    /// Print the parameters the Argo CD UI shows for the application (the plugin's
    /// `parameters.dynamic` command)
    Parameters(Parameters),
}

/// Options of both commands.
#[derive(Args, Debug, Clone)]
pub struct PluginArgs {
    /// The application's directory (Argo CD runs the plugin in it)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Seconds the command may run before it gives up with an error; keep it below the
    /// repo-server's timeout (60 s by default), which also covers copying the repository
    #[arg(
        long,
        value_name = "SECONDS",
        env = "STRATA_DEADLINE",
        default_value_t = 45.0
    )]
    pub deadline: f64,
}

#[derive(Args, Debug)]
pub struct Generate {
    #[command(flatten)]
    pub plugin: PluginArgs,
    #[arg(long, value_enum, default_value = "LoadRestrictionsRootOnly")]
    pub load_restrictor: Restrictor,
    /// Use only cached remote resources (`$STRATA_CACHE_DIR`); never fetch
    #[arg(long)]
    pub offline: bool,
    /// Inflate `helmCharts` with a helm binary, as kustomize does
    #[arg(long)]
    pub enable_helm: bool,
    /// The helm binary to run (default: `helm` on PATH)
    #[arg(long, value_name = "PATH")]
    pub helm_command: Option<String>,
    /// Treat warnings as errors (a patch target matching nothing, deprecated APIs, missing
    /// schemas, references)
    #[arg(long)]
    pub warnings_as_errors: bool,
    /// Do not validate (an Application can also set the parameter `validate: "false"`)
    #[arg(long)]
    pub no_validate: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub validation: ValidateArgs,
}

#[derive(Args, Debug)]
pub struct Parameters {
    #[command(flatten)]
    pub plugin: PluginArgs,
}

pub fn run(cmd: ArgocdCmd) -> Result<(), Vec<Error>> {
    let plugin = match &cmd {
        ArgocdCmd::Generate(g) => g.plugin.clone(),
        ArgocdCmd::Parameters(p) => p.plugin.clone(),
    };
    let result = within_deadline(&plugin, move |ctx| match cmd {
        ArgocdCmd::Generate(g) => generate(&g, ctx),
        ArgocdCmd::Parameters(_) => parameters(ctx),
    });
    match result {
        Ok(text) => super::print(&text),
        Err(errors) => {
            report(&errors);
            // Reported here, in the plugin's plain form: nothing more to print.
            Err(Vec::new())
        }
    }
}

/// Where the command runs: the application's directory and the repository's root (the
/// working directory while it runs, so that every path it shows is repository-relative).
struct Context {
    app: PathBuf,
    root: PathBuf,
    env: ArgoEnv,
    deadline: Duration,
}

fn deadline_of(p: &PluginArgs) -> Result<Duration, Vec<Error>> {
    if p.deadline.is_finite() && p.deadline > 0.0 && p.deadline <= 3600.0 {
        Ok(Duration::from_secs_f64(p.deadline))
    } else {
        Err(vec![
            Error::new(format!(
                "`--deadline {}` is not a number of seconds",
                p.deadline
            ))
            .with_help(
                "pass seconds between 0 and 3600, e.g. `--deadline 45` (or set STRATA_DEADLINE)",
            ),
        ])
    }
}

/// Run `work` on a thread of its own and wait for it at most until the deadline: past it,
/// kill the commands it started and fail (the thread is abandoned; the process exits).
fn within_deadline(
    p: &PluginArgs,
    work: impl FnOnce(&Context) -> Result<String, Vec<Error>> + Send + 'static,
) -> Result<String, Vec<Error>> {
    let started = Instant::now();
    let deadline = deadline_of(p)?;
    let cwd = std::env::current_dir().map_err(|e| {
        vec![Error::new(format!(
            "cannot read the working directory: {e}"
        ))]
    })?;
    let app = crate::fs::real(&cwd.join(&p.dir))
        .map_err(|e| vec![e])?
        .filter(|a| a.is_dir())
        .ok_or_else(|| {
            vec![
                Error::new(format!("`{}` is not a directory", p.dir.display()))
                    .with_help("run the plugin in the application's directory (Argo CD does)"),
            ]
        })?;
    let env = ArgoEnv::from_process();
    let real_cwd = crate::fs::real(&cwd).ok().flatten().unwrap_or(cwd);
    let root = request::repo_root(&app, env.source_path(), &real_cwd);
    // Paths in messages are shown relative to the working directory.
    let _ = std::env::set_current_dir(&root);
    let ctx = Context {
        app,
        root,
        env,
        deadline,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::Builder::new()
        .stack_size(super::WORKER_STACK)
        .spawn(move || {
            let result = work(&ctx);
            let _ = tx.send(result);
        })
        .map_err(|e| vec![Error::new(format!("cannot start a thread: {e}"))])?;
    match rx.recv_timeout(deadline.saturating_sub(started.elapsed())) {
        Ok(result) => {
            let _ = worker.join();
            result
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err(vec![Error::new("internal error: the command panicked")])
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            let killed = crate::process::kill_running();
            let running = if killed > 0 {
                format!(" (stopped {killed} running `git`/`helm` command(s))")
            } else {
                String::new()
            };
            Err(vec![
                Error::new(format!(
                    "the render did not finish within the plugin's deadline of {} s{running}",
                    fmt_secs(deadline)
                ))
                .with_help(
                    "make the render cheaper (remote bases are cached in STRATA_CACHE_DIR; a chart or repository may be slow to fetch), or raise `--deadline`/STRATA_DEADLINE in the sidecar, below the repo-server's timeout",
                ),
            ])
        }
    }
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// The `Common` options `build` would have for this request.
fn common(g: &Generate, ctx: &Context) -> Common {
    let mut limits = g.limits.clone();
    // No command may run longer than the whole deadline: the deadline comes first and
    // ends it with a message that names the real limit.
    let whole = ctx.deadline.as_secs() + u64::from(ctx.deadline.subsec_nanos() > 0);
    limits.remote_timeout = limits.remote_timeout.min(whole.max(1));
    limits.helm_timeout = limits.helm_timeout.min(whole.max(1));
    Common {
        load_restrictor: g.load_restrictor,
        reorder: None,
        warnings_as_errors: g.warnings_as_errors,
        offline: g.offline,
        enable_helm: g.enable_helm,
        helm_command: g.helm_command.clone(),
        values: ValuesArgs::default(),
        limits,
        validate: true,
        no_validate: false,
        report: None,
        report_format: None,
        validation: g.validation.clone(),
    }
}

/// The project file (`strata.yaml`) of the application: in its directory or a parent inside
/// the repository. Its paths are checked as `valueFiles` are: inside the repository, symlinks
/// resolved.
struct ProjectDefaults {
    project: Project,
    values: Vec<PathBuf>,
    crds: Vec<PathBuf>,
}

fn project_defaults(ctx: &Context) -> Result<ProjectDefaults, Vec<Error>> {
    let Some(dir) = crate::project::find_within(&ctx.app, &ctx.root) else {
        return Ok(ProjectDefaults {
            project: Project::default(),
            values: Vec::new(),
            crds: Vec::new(),
        });
    };
    let file = dir.join(crate::project::FILE);
    let project = Project::load(&dir).map_err(|e| vec![e])?;
    let checked = |paths: &[PathBuf], what: &str| {
        paths
            .iter()
            .map(|p| project_path(&dir, &ctx.root, p, what).map_err(|e| e.in_file(&file)))
            .collect::<Result<Vec<_>, Error>>()
            .map_err(|e| vec![e])
    };
    Ok(ProjectDefaults {
        values: checked(&project.values, "values")?,
        crds: checked(&project.crds, "crds")?,
        project,
    })
}

/// A path of `strata.yaml` (relative, without `..`: `Project::parse` checked it), with its
/// symlinks resolved, inside the repository: a file, or for `crds` also a directory.
fn project_path(dir: &Path, root: &Path, p: &Path, what: &str) -> Result<PathBuf, Error> {
    let refuse = |why: &str| {
        Error::new(format!(
            "`{}` in `{what}` of `strata.yaml` {why}",
            p.display()
        ))
        .with_help("paths in `strata.yaml` are relative to its directory, inside the repository")
    };
    let real = match crate::fs::placed(root, &dir.join(p))? {
        crate::fs::Placed::Inside(real) => real,
        crate::fs::Placed::Missing => return Err(refuse("does not exist")),
        crate::fs::Placed::Outside => return Err(refuse("is outside the repository")),
    };
    if real.is_file() || (what == "crds" && real.is_dir()) {
        Ok(real)
    } else {
        Err(refuse("is not a regular file"))
    }
}

fn generate(g: &Generate, ctx: &Context) -> Result<String, Vec<Error>> {
    let req = request::request(&ctx.env).map_err(|e| vec![e])?;
    let plan = argocd::plan(&ctx.app, &req, true)
        .map_err(|e| vec![e])?
        .ok_or_else(|| vec![Error::new("no environment chosen")])?;
    let defaults = project_defaults(ctx)?;
    let mut c = common(g, ctx);
    if c.validation.crds.is_empty() {
        c.validation.crds.clone_from(&defaults.crds);
    }
    let (mut loader, mut options) = super::options(&c);
    capabilities(&mut loader, &ctx.env)?;
    options.values =
        argocd::values_options(&req, &plan, &ctx.app, &ctx.root, &loader, &defaults.values)
            .map_err(|e| vec![e])?;
    options.env = plan.env.clone();
    let output = crate::build(&plan.dir, &options, &loader).map_err(|e| vec![e])?;
    super::warn(&output.warnings);
    let label = super::report::shown(&plan.dir);
    if output.resources.is_empty() && !req.allow_empty {
        return Err(vec![
            Error::new(format!("`{label}` renders no objects"))
                .with_help("Argo CD would take the empty stream as \"delete everything\"; set the parameter `allowEmpty: \"true\"` if that is intended"),
        ]);
    }
    if req.validate && !g.no_validate && defaults.project.validate != Some(false) {
        if let (None, Some(kube)) = (&c.validation.kube_version, ctx.env.kube_version()) {
            let shipped = crate::validate::bundle::versions();
            let (version, note) =
                argocd::env::schema_version(kube, &shipped).map_err(|e| vec![e])?;
            if let Some(n) = note {
                super::warn(&[crate::Warning::new(format!("warning: {n}"), n)]);
            }
            c.validation.kube_version = Some(version);
        }
        // The cluster's own version comes first; the project's is for a cluster that
        // does not say.
        if c.validation.kube_version.is_none() {
            c.validation
                .kube_version
                .clone_from(&defaults.project.kube_version);
        }
        super::validation::check_outputs_as(
            std::slice::from_ref(&output),
            &[label],
            false,
            &c,
            true,
        )?;
    }
    Ok(output.yaml())
}

/// What templates see as `capabilities`: the cluster's version and API versions.
fn capabilities(loader: &mut Loader, env: &ArgoEnv) -> Result<(), Vec<Error>> {
    loader.templates.capabilities = crate::template::render::Capabilities {
        kube_version: env.kube_version().unwrap_or_default().to_string(),
        api_versions: env.api_versions().map_err(|e| vec![e])?,
    };
    Ok(())
}

fn parameters(ctx: &Context) -> Result<String, Vec<Error>> {
    let req = request::request(&ctx.env).map_err(|e| vec![e])?;
    let plan = argocd::plan(&ctx.app, &req, false).map_err(|e| vec![e])?;
    let envs: Vec<String> = argocd::environments(&ctx.app)
        .map_err(|e| vec![e])?
        .into_iter()
        .map(|e| e.name)
        .collect();
    let loader = Loader::default();
    let layers = plan
        .as_ref()
        .map(|p| argocd::layers::walk(&p.dir, &ctx.root, &loader));
    let json = argocd::announce::announcements(
        &envs,
        plan.as_ref().and_then(|p| p.env.as_deref()),
        plan.as_ref(),
        layers.as_ref(),
    );
    let mut text = serde_json::to_string(&json)
        .map_err(|e| vec![Error::new(format!("cannot write the announcements: {e}"))])?;
    text.push('\n');
    Ok(text)
}

/// The most errors reported (the UI shows all of stderr).
const MAX_REPORTED: usize = 20;

/// Errors as plain lines: `error: file:line:col: message`, then `  help: …`.
fn report(errors: &[Error]) {
    let errors: Vec<Error> = errors.iter().cloned().flat_map(Error::flatten).collect();
    let mut out = String::new();
    for e in errors.iter().take(MAX_REPORTED) {
        let place = match (&e.location, &e.file) {
            (Some(l), _) => format!("{}:{}:{}: ", shown(&l.file), l.line, l.col),
            (None, Some(f)) => format!("{}: ", shown(f)),
            (None, None) => String::new(),
        };
        out.push_str(&format!("error: {place}{}\n", clean(&e.message)));
        if let Some(h) = &e.help {
            out.push_str(&format!("  help: {}\n", clean(h)));
        }
    }
    if errors.len() > MAX_REPORTED {
        out.push_str(&format!(
            "… and {} more errors\n",
            errors.len() - MAX_REPORTED
        ));
    }
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

fn shown(p: &Path) -> String {
    super::report::shown(p)
}

/// A message with the working directory's prefix taken off its paths and control
/// characters shown as escapes.
fn clean(s: &str) -> String {
    let mut out = s.to_string();
    if let Ok(cwd) = std::env::current_dir() {
        out = out.replace(&format!("{}/", cwd.display()), "");
    }
    out.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}
