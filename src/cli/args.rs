//! The command line, as clap types; converted to the library's plain options in `mod.rs`.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `0.1.0 (1a2b3c4d5e6f 2026-12-01)` from a git checkout (see build.rs), else `0.1.0`.
pub const VERSION: &str = match option_env!("STRATA_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};

#[derive(Parser, Debug)]
#[command(
    name = "strata",
    version = VERSION,
    about = "Render Kubernetes manifests: Kustomize-compatible, fast, strict"
)]
pub struct Args {
    /// Print no warnings (errors are still reported)
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build a kustomization directory, exactly as `kubectl kustomize DIR`
    Build(Build),
    /// Render the environments of a project (`overlays/*`)
    Render(Render),
    /// Print an environment's merged values, each with the file and line it came from
    Values(ValuesCmd),
    /// Validate manifests (files, directories, or `-` for stdin) against Kubernetes schemas
    Validate(ValidateCmd),
    /// Flux OCI artifacts: pack rendered environments, push them to a registry
    #[command(subcommand)]
    Artifact(ArtifactCmd),
    /// Argo CD config management plugin: render an application, announce its parameters
    #[command(subcommand)]
    Argocd(super::argocd::ArgocdCmd),
    /// Show how the rendered objects differ: two environments, environments at a git
    /// revision and now (`--rev`), or two files (exit 0: none, 1: differences, 2: error)
    Diff(DiffCmd),
    /// List every file an environment's render reads (and its remote bases)
    Deps(DepsCmd),
    /// List the environments whose render a change since a git revision affects
    Affected(AffectedCmd),
    /// Create a project: base/ and overlays/dev, staging, prod (plain or templated)
    Init(InitCmd),
    /// Print the shell completion script (`source <(strata completions bash)`)
    Completions(CompletionsCmd),
    /// Print the manual page (roff; `strata man | man -l -`)
    Man,
    /// Print a JSON schema for editors: `project` (strata.yaml), `values` (a layer's
    /// values.yaml), `kustomization`
    Schema(SchemaCmd),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaKind {
    /// strata.yaml
    Project,
    /// A layer's values.yaml: its values.schema.json, else the shape of its values.yaml
    Values,
    /// kustomization.yaml
    Kustomization,
}

#[derive(clap::Args, Debug)]
pub struct SchemaCmd {
    pub kind: SchemaKind,
    /// With `values`: the layer's directory
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct InitCmd {
    /// The project directory (created if missing; must not hold base/ or overlays/ yet)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Templated: `values.yaml` per layer and a `.j2` Deployment reading them
    #[arg(long)]
    pub templated: bool,
}

#[derive(clap::Args, Debug)]
pub struct CompletionsCmd {
    /// `bash`, `zsh`, `fish`, `powershell` or `elvish`
    pub shell: clap_complete::Shell,
}

/// How to validate (`build/render --validate`, `strata validate`).
#[derive(clap::Args, Debug, Clone)]
pub struct ValidateArgs {
    /// Kubernetes version to validate for, `X.Y` (default: the newest shipped)
    #[arg(long, value_name = "X.Y")]
    pub kube_version: Option<String>,
    /// Accept fields the schema does not have (by default an unknown field is an error, as
    /// with the API server's strict field validation)
    #[arg(long, alias = "no-strict")]
    pub allow_unknown_fields: bool,
    /// Kinds with neither a built-in schema nor a CRD
    #[arg(long, value_enum, default_value = "warn")]
    pub missing_schemas: MissingArg,
    /// Kinds not to validate, comma-separated
    #[arg(long, value_delimiter = ',', value_name = "KIND,...")]
    pub skip_kinds: Vec<String>,
    /// Files or directories of CustomResourceDefinitions for custom resources
    #[arg(long, value_name = "PATH")]
    pub crds: Vec<PathBuf>,
    /// Do not check references between objects (selectors, ConfigMaps, Secrets, Services,
    /// scale targets, ServiceAccounts)
    #[arg(long)]
    pub no_reference_checks: bool,
    /// Count resources per kind: valid, invalid, skipped
    #[arg(long)]
    pub summary: bool,
    /// The old name of the report format (`json`: `--output json`)
    #[arg(long, value_enum, hide = true)]
    pub error_format: Option<Format>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingArg {
    Warn,
    Error,
    Ignore,
}

/// A validation report's format.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Diagnostics with source snippets (standard error)
    Text,
    /// One JSON object per finding, one per line
    Json,
    /// JUnit XML: a test case per resource (GitLab, Jenkins)
    Junit,
    /// SARIF 2.1.0 (GitHub code scanning)
    Sarif,
}

#[derive(clap::Args, Debug)]
pub struct ValidateCmd {
    /// Manifest files or directories (`-` or none: standard input)
    pub files: Vec<PathBuf>,
    /// The report on standard output: `text` (diagnostics go to standard error), `json`,
    /// `junit` or `sarif`
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
    /// Treat warnings (deprecated APIs, missing schemas, references) as errors
    #[arg(long)]
    pub warnings_as_errors: bool,
    #[command(flatten)]
    pub validate: ValidateArgs,
}

/// Options shared by `build` and `render`.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    #[arg(long, value_enum, default_value = "LoadRestrictionsRootOnly")]
    pub load_restrictor: Restrictor,
    /// Output order: `legacy` (by kind) or `none` (input order)
    #[arg(long, value_enum)]
    pub reorder: Option<ReorderArg>,
    /// Treat warnings as errors (a patch target matching nothing, and with `--validate`
    /// deprecated APIs, missing schemas and references)
    #[arg(long, alias = "strict")]
    pub warnings_as_errors: bool,
    /// Use only cached remote resources; never fetch
    #[arg(long)]
    pub offline: bool,
    /// Inflate `helmCharts` with a helm binary, as kustomize does
    #[arg(long)]
    pub enable_helm: bool,
    /// The helm binary to run (default: `helm` on PATH)
    #[arg(long, value_name = "PATH")]
    pub helm_command: Option<String>,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Validate the output against Kubernetes schemas (nothing is printed if it fails)
    #[arg(long)]
    pub validate: bool,
    /// Do not validate, whatever `strata.yaml` says (`validate: true`)
    #[arg(long, conflicts_with = "validate")]
    pub no_validate: bool,
    /// With `--validate`: also write a validation report to FILE
    #[arg(long, value_name = "FILE", requires = "validate")]
    pub report: Option<PathBuf>,
    /// The format of `--report` (default: from its extension, `.json`, `.xml` for JUnit,
    /// `.sarif`; else text)
    #[arg(long, value_enum, value_name = "FORMAT", requires = "report")]
    pub report_format: Option<Format>,
    #[command(flatten)]
    pub validation: ValidateArgs,
}

/// Budgets on input-driven work, and what remote fetching may do.
#[derive(clap::Args, Debug, Clone)]
pub struct LimitArgs {
    /// The longest chain of included layers
    #[arg(long, value_name = "N", default_value_t = crate::resolve::Limits::default().max_depth)]
    pub max_depth: usize,
    /// Fetch `file://` repositories named in `resources` (https and ssh only by default)
    #[arg(long)]
    pub allow_file_remotes: bool,
    /// Seconds one `git` command or remote file download may run
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub remote_timeout: u64,
    /// The largest remote file (`https://…/file.yaml` in `resources`) downloaded, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = crate::load::remote::RemoteOptions::default().max_download_bytes())]
    pub max_download_bytes: u64,
    /// Seconds one `helm` command may run
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub helm_timeout: u64,
    /// How many nodes YAML aliases may expand to, over all files of a run
    #[arg(long, value_name = "N", default_value_t = crate::yaml::AliasBudget::DEFAULT)]
    pub max_yaml_aliases: usize,
    /// How many instructions one template render may run
    #[arg(long, value_name = "N", default_value_t = crate::template::render::TemplateLimits::default().fuel)]
    pub template_fuel: u64,
    /// How many bytes one template render may produce
    #[arg(long, value_name = "BYTES", default_value_t = crate::template::render::TemplateLimits::default().max_output)]
    pub max_template_output: usize,
}

/// Values given on the command line (over every `values.yaml`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ValuesArgs {
    /// A values file applied over the environment's values (repeatable, in order)
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Set a value: `a.b=v`, `list[0].name=v` (read as YAML: `3` is a number); repeatable
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Set a value as a string: `a.b=v`; repeatable
    #[arg(long = "set-string", value_name = "PATH=VALUE")]
    pub set_string: Vec<String>,
    /// Set values from JSON: `a.b={"x": [1, 2]}`, several separated by commas
    /// (`a=1,b=[2]`); repeatable
    #[arg(long = "set-json", value_name = "PATH=JSON")]
    pub set_json: Vec<String>,
    /// Set a value to a file's text: `a.b=path/to/file`; repeatable
    #[arg(long = "set-file", value_name = "PATH=FILE")]
    pub set_file: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct Build {
    /// The directory holding kustomization.yaml
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Write to FILE, or one file per resource into DIR (an existing directory, or a path
    /// ending in `/`, created if missing)
    #[arg(short = 'o', long = "output", value_name = "FILE|DIR")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(clap::Args, Debug)]
pub struct Render {
    /// Environments to render (default: all)
    pub envs: Vec<String>,
    /// The project root holding `overlays/` (default: the working directory, else the
    /// nearest parent holding `strata.yaml`)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Write DIR/<env>.yaml for each environment (required for several)
    #[arg(
        short = 'o',
        long = "out",
        visible_alias = "output",
        value_name = "DIR"
    )]
    pub out: Option<PathBuf>,
    /// With `--out`: remove the `.yaml` files in DIR that no environment writes any more
    /// (without it they are listed)
    #[arg(long, requires = "out")]
    pub prune: bool,
    /// Parallel jobs (default: all cores)
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Accept an environment that renders no objects (an error by default: a GitOps
    /// controller that applies an empty stream with pruning deletes everything)
    #[arg(long)]
    pub allow_empty: bool,
    #[command(flatten)]
    pub common: Common,
}

/// What `strata values` prints.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValuesOutput {
    /// YAML, each value followed by `# file:line` (or the flag) it came from
    Yaml,
    /// JSON: the values of one layer (`--layer`), or `[{"layer", "values"}, ...]`
    Json,
}

#[derive(clap::Args, Debug)]
pub struct ValuesCmd {
    /// The environment (its path under `overlays/`)
    pub env: String,
    /// The project root holding `overlays/` (default: the working directory, else the
    /// nearest parent holding `strata.yaml`)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Only the values the templates of this layer see (default: every layer with values
    /// or templates, the environment first)
    #[arg(long, value_name = "DIR")]
    pub layer: Option<PathBuf>,
    /// `yaml` (annotated with origins) or `json`
    #[arg(
        short = 'o',
        long,
        value_enum,
        default_value = "yaml",
        value_name = "FORMAT"
    )]
    pub output: ValuesOutput,
    #[command(flatten)]
    pub values: ValuesArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Restrictor {
    #[value(name = "LoadRestrictionsRootOnly")]
    RootOnly,
    #[value(name = "LoadRestrictionsNone")]
    None,
}

impl Restrictor {
    pub fn load(self) -> crate::LoadRestrictor {
        match self {
            Restrictor::RootOnly => crate::LoadRestrictor::RootOnly,
            Restrictor::None => crate::LoadRestrictor::None,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ReorderArg {
    Legacy,
    None,
}

impl ReorderArg {
    pub fn reorder(self) -> crate::Reorder {
        match self {
            ReorderArg::Legacy => crate::Reorder::Legacy,
            ReorderArg::None => crate::Reorder::None,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ArtifactCmd {
    /// Render environments and write DIR/<env>.tgz, the layer Flux pulls (or a directory)
    Build(ArtifactBuild),
    /// Render environments and push them as Flux OCI artifacts
    Push(ArtifactPush),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// DIR/<env>.tgz, byte-reproducible
    Tgz,
    /// DIR/<env>/manifests.yaml, the directory Flux would extract
    Dir,
}

/// Options shared by `artifact build` and `artifact push`.
#[derive(clap::Args, Debug)]
pub struct ArtifactCommon {
    /// The project root holding `overlays/` (default: the working directory, else the
    /// nearest parent holding `strata.yaml`)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Parallel jobs (default: all cores)
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Allow an environment that renders no resources (Flux then prunes what it applied)
    #[arg(long)]
    pub allow_empty: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(clap::Args, Debug)]
pub struct ArtifactBuild {
    /// Environments to pack (default: all)
    pub envs: Vec<String>,
    /// The output directory
    #[arg(long, value_name = "DIR", required = true)]
    pub out: PathBuf,
    /// `tgz` (DIR/<env>.tgz) or `dir` (DIR/<env>/manifests.yaml)
    #[arg(long, value_enum, default_value = "tgz")]
    pub layout: Layout,
    #[command(flatten)]
    pub artifact: ArtifactCommon,
}

#[derive(clap::Args, Debug)]
pub struct ArtifactPush {
    /// Where to push: `oci://REGISTRY/REPOSITORY[:TAG]` (tag default `latest`)
    #[arg(value_name = "oci://REGISTRY/REPO[:TAG]")]
    pub url: String,
    /// The environment to push (with `--tag-per-env`: several, default all)
    pub envs: Vec<String>,
    /// Where the configuration lives (`org.opencontainers.image.source`), e.g. the git URL
    #[arg(long, value_name = "URL", required = true)]
    pub source: String,
    /// The revision (`org.opencontainers.image.revision`), Flux's form `<branch>@sha1:<commit>`
    #[arg(long, value_name = "REV", required = true)]
    pub revision: String,
    /// Push each environment as `REPO:<env>` (or `REPO/<env>:TAG` when a tag is given)
    #[arg(long)]
    pub tag_per_env: bool,
    /// Created at `1970-01-01T00:00:00Z`, so the same input gives the same digest
    #[arg(long)]
    pub reproducible: bool,
    /// An annotation on the manifest, `key=value` (repeatable)
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Registry credentials `user:token` (default: the Docker config and its helpers)
    #[arg(
        long,
        value_name = "USER:TOKEN",
        env = "STRATA_REGISTRY_CREDS",
        hide_env_values = true
    )]
    pub creds: Option<String>,
    /// Speak plain HTTP to the registry (a local registry without TLS)
    #[arg(long)]
    pub insecure: bool,
    /// Seconds to wait for the registry to connect or answer
    #[arg(long, value_name = "SECS", default_value = "60")]
    pub timeout: f64,
    #[command(flatten)]
    pub artifact: ArtifactCommon,
}

/// A diff report's format.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffFormat {
    /// A unified diff per object
    Text,
    /// A summary table and collapsible sections, for a pull-request comment
    Markdown,
    /// One JSON document, for tools
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorArg {
    /// On a terminal, unless `NO_COLOR` is set
    Auto,
    Always,
    Never,
}

#[derive(clap::Args, Debug)]
pub struct DiffCmd {
    /// Two environments, directories or files (`-`: standard input) to compare, old first;
    /// with `--rev`, the environments to compare (default: all)
    #[arg(value_name = "ENV|DIR|FILE")]
    pub args: Vec<String>,
    /// Compare the environments at this git revision (old) with the working tree (new)
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// The project root holding `overlays/` (default: the working directory, else the
    /// nearest parent holding `strata.yaml`)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// `text`, `markdown` or `json`
    #[arg(
        short = 'o',
        long,
        value_enum,
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub output: DiffFormat,
    /// Exit 0 when objects differ too (errors still exit 2)
    #[arg(long)]
    pub exit_zero: bool,
    /// Lines of context around each change
    #[arg(short = 'U', long, value_name = "N", default_value_t = 3)]
    pub context: usize,
    /// Colour the text report
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: ColorArg,
    /// Parallel jobs (default: all cores)
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub common: Common,
}

/// What `strata deps` prints.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepsOutput {
    /// One path per line (then remote bases as `URL@ref`)
    Text,
    /// `{"environment", "files", "layers", "remotes", "argocd"}`
    Json,
}

/// The form of the paths `strata deps` prints.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepsFormat {
    /// Paths relative to the working directory
    Paths,
    /// The value of Argo CD's `argocd.argoproj.io/manifest-generate-paths` annotation:
    /// repository paths (`/base/deployment.yaml`) joined by `;`
    Argocd,
}

#[derive(clap::Args, Debug)]
pub struct DepsCmd {
    /// The environment (its path under `overlays/`)
    pub env: String,
    /// The project root holding `overlays/` (default: the working directory, else the
    /// nearest parent holding `strata.yaml`)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// `text` or `json`
    #[arg(
        short = 'o',
        long,
        value_enum,
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub output: DepsOutput,
    /// `paths` or `argocd` (the annotation value)
    #[arg(long, value_enum, default_value = "paths")]
    pub format: DepsFormat,
    #[command(flatten)]
    pub common: Common,
}

/// What `strata affected` prints.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AffectedOutput {
    /// One environment per line
    Text,
    /// A JSON list of environment names (for a CI matrix: `fromJSON`)
    Json,
}

#[derive(clap::Args, Debug)]
pub struct AffectedCmd {
    /// The git revision to compare with (the pull request's base, e.g. `origin/main`)
    #[arg(long, value_name = "REV", required = true)]
    pub since: String,
    /// The environments to consider (default: all)
    pub envs: Vec<String>,
    /// Keep only the environments whose rendered bytes change (renders both sides)
    #[arg(long)]
    pub exact: bool,
    /// The project root holding `overlays/` (default: the working directory, else the
    /// nearest parent holding `strata.yaml`)
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// `text` or `json`
    #[arg(
        short = 'o',
        long,
        value_enum,
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub output: AffectedOutput,
    /// Parallel jobs (default: all cores)
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub common: Common,
}
