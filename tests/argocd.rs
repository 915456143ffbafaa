//! strata as an Argo CD config management plugin, end to end.
//!
//! The plugin runs under `emulator` (a repo-server and cmp-server as faithful as a plugin
//! can observe: environment, work directory, process handling, output parsing) with the
//! repository's own `deploy/argocd/plugin.yaml`, against fixture repositories that are real
//! git repositories. The install recipe in `deploy/argocd/` builds against Argo CD's own
//! repo-server base (`../shared/argocd/repo-server/`) with strata and kubectl, identically,
//! and validates; the examples go through the emulator; the image build script runs.

#[path = "argocd/emulator.rs"]
mod emulator;

use emulator::{App, Param, Plugin, Response, Server};
use serde_json::Value as J;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shared() -> PathBuf {
    root().join("..").join("shared")
}

fn require(what: &str) {
    if std::env::var_os("STRATA_REQUIRE_CORPORA").is_some() {
        panic!("{what} is required");
    }
    eprintln!("skipped: {what}");
}

fn plugin() -> Plugin {
    Plugin::load(&root().join("deploy/argocd/plugin.yaml"))
}

fn strata(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("strata runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null())
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// A git repository holding `dirs` of this repository (source → destination) and `files`,
/// committed; with its commit.
struct Repo {
    dir: tempfile::TempDir,
    revision: String,
}

impl Repo {
    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn repo(dirs: &[(&str, &str)], files: &[(&str, &str)]) -> Repo {
    let dir = tempfile::tempdir().unwrap();
    for (src, dst) in dirs {
        copy_dir(&root().join(src), &dir.path().join(dst));
    }
    for (name, body) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "fixture"]);
    let revision = git(dir.path(), &["rev-parse", "HEAD"]);
    Repo { dir, revision }
}

/// The sample project (base/ and overlays/) at the repository's root.
fn sample_repo() -> Repo {
    repo(&[("base", "base"), ("overlays", "overlays")], &[])
}

fn server(tmp: &tempfile::TempDir) -> Server {
    Server::new(tmp.path())
}

fn generate(repo: &Repo, app: &App) -> Response {
    let tmp = tempfile::tempdir().unwrap();
    let resp = server(&tmp).generate(&plugin(), repo.path(), &repo.revision, app);
    assert!(!resp.workdir.exists(), "the work directory is removed");
    resp
}

fn app_with(path: &str, params: Vec<Param>) -> App {
    let mut app = App::new("web-prod", path);
    app.parameters = params;
    app
}

/// The objects of a YAML stream.
fn objects(stream: &str) -> Vec<J> {
    emulator::split_yaml_or_json(stream).unwrap()
}

fn env_of(resp: &Response, name: &str) -> Option<String> {
    resp.env
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix(&format!("{name}=")).map(str::to_string))
}

// ---- generate ---------------------------------------------------------------------------

#[test]
fn the_sample_projects_three_environments_render_through_the_repo_server() {
    let repo = sample_repo();
    for env in ["dev", "staging", "prod"] {
        let resp = generate(&repo, &app_with(".", vec![Param::string("env", env)]));
        assert!(resp.ok(), "{env}: {:?}\n{}", resp.error, resp.stderr);
        assert!(!resp.deadline_hit);
        let want = strata(&root(), &["render", env]);
        assert!(want.status.success());
        assert_eq!(resp.objects, objects(&text(&want.stdout)), "{env}");
        assert_eq!(
            resp.stdout,
            text(&want.stdout),
            "{env}: the same bytes as `strata render`"
        );
        assert!(resp.objects.len() >= 3);
        // The copy was a real Argo CD work directory: `_cmp_server/<uuid>` under /tmp.
        let parent = resp.workdir.parent().unwrap();
        assert!(parent.ends_with("_cmp_server"));
        assert_eq!(resp.workdir.file_name().unwrap().len(), 36);
    }
    // `plugin.env` STRATA_ENV chooses the environment as well.
    let mut app = App::new("web-dev", ".");
    app.plugin_env = vec![("STRATA_ENV".into(), "dev".into())];
    let resp = generate(&repo, &app);
    assert!(resp.ok(), "{:?}", resp.error);
    assert_eq!(
        env_of(&resp, "ARGOCD_ENV_STRATA_ENV").as_deref(),
        Some("dev")
    );
    // No environment: a clear error listing them.
    let resp = generate(&repo, &App::new("web", "."));
    let err = resp.error.unwrap();
    assert!(
        err.contains("`strata argocd generate` failed exit status 1"),
        "{err}"
    );
    assert!(
        err.contains("no environment chosen") && err.contains("dev, prod, staging"),
        "{err}"
    );
    assert!(resp.stdout.is_empty());
    // An unknown one: the closest and the list.
    let resp = generate(&repo, &app_with(".", vec![Param::string("env", "prd")]));
    let err = resp.error.unwrap();
    assert!(
        err.contains("unknown environment `prd`") && err.contains("did you mean `prod`"),
        "{err}"
    );
}

/// A project whose base templates every kind of value a parameter can set.
fn values_repo() -> Repo {
    repo(
        &[],
        &[
            (
                "apps/web/base/kustomization.yaml",
                "resources:\n- deployment.yaml.j2\n- config.yaml.j2\n",
            ),
            (
                "apps/web/base/values.yaml",
                "replicas: 1\nimage:\n  repository: ghcr.io/example/web\n  tag: \"1.0\"\nextra-labels: {}\nports: [8080]\nnote: none\n",
            ),
            (
                "apps/web/base/values.schema.json",
                r#"{"type":"object","properties":{"replicas":{"type":"integer","title":"Replicas","description":"pods to run"},"image":{"type":"object","properties":{"tag":{"type":"string"}}}}}"#,
            ),
            (
                "apps/web/base/deployment.yaml.j2",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\n{%- for k, v in values['extra-labels'] | items %}\n    {{ k }}: {{ v | quote }}\n{%- endfor %}\nspec:\n  replicas: {{ values.replicas }}\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: {{ (values.image.repository ~ \":\" ~ values.image.tag) | quote }}\n        ports:\n{%- for p in values.ports %}\n        - containerPort: {{ p }}\n{%- endfor %}\n",
            ),
            (
                "apps/web/base/config.yaml.j2",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  note: {{ values.note | quote }}\n  kube: {{ capabilities.kube_version | quote }}\n  has-pdb-v1: \"{{ 'policy/v1' in capabilities.api_versions }}\"\n  has-apps-v1: \"{{ 'apps/v1/Deployment' in capabilities.api_versions }}\"\n",
            ),
            (
                "apps/web/overlays/prod/kustomization.yaml",
                "resources:\n- ../../base\nnamespace: web-prod\n",
            ),
            ("apps/web/overlays/prod/values.yaml", "replicas: 2\n"),
            (
                "apps/web/overlays/dev/kustomization.yaml",
                "resources:\n- ../../base\nnamespace: web-dev\n",
            ),
            ("apps/web/values-extra.yaml", "note: from a values file\n"),
        ],
    )
}

fn find<'a>(objs: &'a [J], kind: &str) -> &'a J {
    objs.iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {objs:?}"))
}

#[test]
fn parameters_of_every_kind_reach_the_values() {
    let repo = values_repo();
    let app = app_with(
        "apps/web",
        vec![
            Param::string("env", "prod"),
            // A name with `.`: a values path. "1.10" stays a string (the schema says so).
            Param::string("image.tag", "1.10"),
            // A name with `-`, a map.
            Param::map("extra-labels", &[("team", "web"), ("tier", "front")]),
            // An array: each item typed as the list's items (numbers).
            Param::array("ports", &["8080", "9090"]),
            Param::array("valueFiles", &["values-extra.yaml"]),
            Param::map(
                "values",
                &[("image.repository", "registry.example.com/web")],
            ),
            Param::array("set", &["replicas=3"]),
        ],
    );
    let resp = generate(&repo, &app);
    assert!(resp.ok(), "{:?}\n{}", resp.error, resp.stderr);
    let d = find(&resp.objects, "Deployment");
    assert_eq!(d["spec"]["replicas"], 3, "`set` is applied last");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/web:1.10"
    );
    assert_eq!(d["metadata"]["labels"]["team"], "web");
    assert_eq!(d["metadata"]["labels"]["tier"], "front");
    let ports = &d["spec"]["template"]["spec"]["containers"][0]["ports"];
    assert_eq!(ports[1]["containerPort"], 9090);
    let c = find(&resp.objects, "ConfigMap");
    assert_eq!(c["data"]["note"], "from a values file");
    assert_eq!(
        c["data"]["kube"], "1.32.4",
        "KUBE_VERSION reaches templates"
    );
    assert_eq!(
        c["data"]["has-pdb-v1"], "false",
        "KUBE_API_VERSIONS reaches templates"
    );
    assert_eq!(c["data"]["has-apps-v1"], "true");
    // What Argo CD passed: the JSON list and the PARAM_ variables with escaped names.
    let json = env_of(&resp, "ARGOCD_APP_PARAMETERS").unwrap();
    assert!(json.starts_with(r#"[{"name":"env","string":"prod"},{"name":"image.tag","string":"1.10"},{"map":{"team":"web","tier":"front"},"name":"extra-labels"}"#), "{json}");
    assert_eq!(env_of(&resp, "PARAM_IMAGE_TAG").as_deref(), Some("1.10"));
    assert_eq!(
        env_of(&resp, "PARAM_EXTRA_LABELS_TEAM").as_deref(),
        Some("web")
    );
    assert_eq!(env_of(&resp, "PARAM_PORTS_1").as_deref(), Some("9090"));
    assert_eq!(
        env_of(&resp, "PARAM_VALUES_IMAGE_REPOSITORY").as_deref(),
        Some("registry.example.com/web")
    );
    assert_eq!(env_of(&resp, "KUBE_VERSION").as_deref(), Some("1.32.4"));
    assert_eq!(
        env_of(&resp, "ARGOCD_APP_REVISION_SHORT_8").as_deref(),
        Some(&repo.revision[..8])
    );
}

#[test]
fn hostile_parameters_fail_clearly() {
    let repo = values_repo();
    for (params, want) in [
        (
            vec![Param::string("env", "../../etc")],
            "not an environment name",
        ),
        (
            vec![Param::string("env", "prod"), Param::string("--set", "x")],
            "not a valid name",
        ),
        (
            vec![
                Param::string("env", "prod"),
                Param::array("valueFiles", &["../../../../etc/passwd"]),
            ],
            "outside the repository",
        ),
        (
            vec![
                Param::string("env", "prod"),
                Param::array("valueFiles", &["/etc/passwd"]),
            ],
            "absolute path",
        ),
        (
            vec![Param::array("env", &["prod"])],
            "is an array, not a string",
        ),
        (
            vec![
                Param::string("env", "prod"),
                Param::string("note", "a\u{1b}]0;x\u{7}"),
            ],
            "control character",
        ),
        (
            vec![
                Param::string("env", "prod"),
                Param::string("replicas", "many"),
            ],
            "values key `replicas`",
        ),
    ] {
        let resp = generate(&repo, &app_with("apps/web", params));
        let err = resp.error.clone().unwrap_or_default();
        assert!(err.contains(want), "{want}: {err}");
        assert!(resp.stdout.is_empty());
        assert!(
            !resp.stderr.contains('\u{1b}'),
            "no terminal escapes reach the UI"
        );
        assert!(resp.stderr.lines().count() <= 4, "short: {}", resp.stderr);
    }
}

#[test]
fn a_plugin_env_value_with_dollars_is_taken_as_argo_cd_substitutes_it() {
    let repo = values_repo();
    let mut app = app_with("apps/web", vec![Param::string("env", "prod")]);
    app.plugin_env = vec![(
        "STRATA_VALUES".into(),
        "note: \"costs $$5 for $ARGOCD_APP_NAME at ${ARGOCD_APP_REVISION_SHORT}$UNSET\"\n".into(),
    )];
    let resp = generate(&repo, &app);
    assert!(resp.ok(), "{:?}", resp.error);
    let short = &repo.revision[..7];
    let want = format!("costs $5 for web-prod at {short}");
    assert_eq!(
        env_of(&resp, "ARGOCD_ENV_STRATA_VALUES").unwrap(),
        format!("note: \"{want}\"\n")
    );
    // strata takes the value as it is: no second substitution of the `$`.
    assert_eq!(find(&resp.objects, "ConfigMap")["data"]["note"], want);
}

#[test]
fn a_broken_template_fails_with_the_line_and_no_output() {
    let repo = repo(
        &[],
        &[
            ("app/kustomization.yaml", "resources:\n- cm.yaml.j2\n"),
            ("app/values.yaml", "name: web\n"),
            (
                "app/cm.yaml.j2",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ values.name }}\ndata:\n  a: {{ values.nmae }}\n",
            ),
        ],
    );
    let resp = generate(&repo, &App::new("web", "app"));
    assert_eq!(resp.code, Some(1));
    assert!(resp.stdout.is_empty(), "nothing on stdout: {}", resp.stdout);
    let err = resp.error.unwrap();
    assert!(err.contains("app/cm.yaml.j2:6"), "{err}");
    assert!(err.contains("did you mean `values.name`"), "{err}");
    assert!(resp.stderr.starts_with("error: "), "{}", resp.stderr);
    assert!(resp.stderr.len() < 600, "short: {}", resp.stderr);
}

#[test]
fn an_empty_render_is_refused_unless_allowed() {
    let repo = repo(
        &[],
        &[
            ("app/kustomization.yaml", "resources:\n- local.yaml\n"),
            (
                "app/local.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: only-local\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n",
            ),
        ],
    );
    let resp = generate(&repo, &App::new("web", "app"));
    assert_eq!(resp.code, Some(1));
    assert!(resp.stdout.is_empty());
    let err = resp.error.unwrap();
    assert!(
        err.contains("renders no objects") && err.contains("allowEmpty"),
        "{err}"
    );
    let resp = generate(
        &repo,
        &app_with("app", vec![Param::string("allowEmpty", "true")]),
    );
    assert!(resp.ok(), "{:?}", resp.error);
    assert!(resp.objects.is_empty());
}

/// A project whose `strata.yaml` sits above the application's directory.
fn project_repo(settings: &str) -> Repo {
    repo(
        &[],
        &[
            ("apps/web/strata.yaml", settings),
            ("apps/web/common/values.yaml", "note: from strata.yaml\n"),
            (
                "apps/web/overlays/prod/kustomization.yaml",
                "resources:\n- cm.yaml.j2\n- deploy.yaml\n",
            ),
            (
                "apps/web/overlays/prod/cm.yaml.j2",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  note: {{ values.note | quote }}\n",
            ),
            // `replica` is no field of a DeploymentSpec: validation rejects it.
            (
                "apps/web/overlays/prod/deploy.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replica: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: web:1\n",
            ),
        ],
    )
}

#[test]
fn the_project_file_gives_its_defaults_to_the_plugin() {
    // Values files and `validate: false`, for an application pointed at the overlay.
    let r = project_repo("values: [common/values.yaml]\nvalidate: false\n");
    let resp = generate(&r, &App::new("web", "apps/web/overlays/prod"));
    assert!(resp.ok(), "{:?}\n{}", resp.error, resp.stderr);
    assert_eq!(
        find(&resp.objects, "ConfigMap")["data"]["note"],
        "from strata.yaml"
    );
    // Without `validate: false` the plugin validates, and the typo stops the render.
    let r = project_repo("values: [common/values.yaml]\n");
    let resp = generate(&r, &App::new("web", "apps/web/overlays/prod"));
    assert_eq!(resp.code, Some(1), "{}", resp.stdout);
    assert!(resp.stdout.is_empty());
    let err = resp.error.unwrap();
    assert!(err.contains("replica"), "{err}");
    // A values file that is a symlink out of the repository is refused, naming the file
    // (Argo CD refuses such a link itself; the plugin does not rely on it).
    let r = project_repo("values: [common/leak.yaml]\nvalidate: false\n");
    std::os::unix::fs::symlink("/etc/passwd", r.path().join("apps/web/common/leak.yaml")).unwrap();
    let out = strata(r.path(), &["argocd", "generate", "apps/web/overlays/prod"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.contains("strata.yaml") && err.contains("outside the repository"),
        "{err}"
    );
    assert!(!err.contains("root:"), "nothing of the file shows: {err}");
    // Nor is a `strata.yaml` that links out of the repository read.
    let r = project_repo("validate: false\n");
    std::fs::remove_file(r.path().join("apps/web/strata.yaml")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", r.path().join("apps/web/strata.yaml")).unwrap();
    let out = strata(r.path(), &["argocd", "generate", "apps/web/overlays/prod"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(err.contains("outside the project"), "{err}");
    assert!(!err.contains("root:"), "nothing of the file shows: {err}");
}

/// A TCP server that accepts connections and never answers: a remote that hangs.
fn silent_server() -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        listener.set_nonblocking(true).unwrap();
        let until = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < until {
            match listener.accept() {
                Ok((s, _)) => held.push(s),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    (addr, handle)
}

fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
            let c = text(&cmdline).replace('\0', " ");
            if c.contains(needle) {
                out.push(c);
            }
        }
    }
    out
}

#[test]
fn a_render_past_its_deadline_fails_cleanly_before_the_repo_server_kills_it() {
    let (addr, _server) = silent_server();
    let url = format!("https://{addr}/team/base.git//app?ref=main");
    let repo = repo(
        &[],
        &[("app/kustomization.yaml", &format!("resources:\n- {url}\n"))],
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut s = server(&tmp);
    s.set_env("STRATA_DEADLINE", "2");
    s.timeout = Duration::from_secs(20);
    let resp = s.generate(
        &plugin(),
        repo.path(),
        &repo.revision,
        &App::new("web", "app"),
    );
    assert!(
        !resp.deadline_hit,
        "strata gave up before the repo-server's deadline"
    );
    assert!(resp.elapsed < Duration::from_secs(15), "{:?}", resp.elapsed);
    assert_eq!(resp.code, Some(1));
    assert!(resp.stdout.is_empty());
    let err = resp.error.unwrap();
    assert!(err.contains("deadline of 2 s"), "{err}");
    assert!(err.contains("STRATA_DEADLINE"), "{err}");
    // The git it started is gone with it.
    std::thread::sleep(Duration::from_millis(200));
    let left = processes_mentioning(&addr.to_string());
    assert!(left.is_empty(), "still running: {left:?}");
}

#[test]
fn nothing_is_written_outside_the_work_directory_and_the_cache() {
    let repo = values_repo();
    let tmp = tempfile::tempdir().unwrap();
    let s = server(&tmp);
    let app = app_with("apps/web", vec![Param::string("env", "prod")]);
    let before = git(repo.path(), &["status", "--porcelain", "--ignored"]);
    let resp = s.generate(&plugin(), repo.path(), &repo.revision, &app);
    assert!(resp.ok(), "{:?}", resp.error);
    let resp = s.parameters(&plugin(), repo.path(), &app);
    assert!(resp.ok(), "{:?}", resp.error);
    // The sidecar's /tmp: the (emptied) work directory base and the untouched home.
    let mut left: Vec<String> = Vec::new();
    for e in walkdir(tmp.path()) {
        left.push(e.strip_prefix(tmp.path()).unwrap().display().to_string());
    }
    left.sort();
    assert_eq!(left, ["_cmp_server", "home"], "{left:?}");
    assert_eq!(
        git(repo.path(), &["status", "--porcelain", "--ignored"]),
        before
    );
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        out.push(e.path());
        if e.file_type().unwrap().is_dir() {
            out.extend(walkdir(&e.path()));
        }
    }
    out
}

#[test]
fn the_same_revision_twice_gives_the_same_bytes() {
    let repo = values_repo();
    let app = app_with(
        "apps/web",
        vec![
            Param::string("env", "prod"),
            Param::string("image.tag", "2.0"),
        ],
    );
    let a = generate(&repo, &app);
    let b = generate(&repo, &app);
    assert!(a.ok() && b.ok(), "{:?} {:?}", a.error, b.error);
    assert_ne!(
        a.workdir, b.workdir,
        "each request has its own work directory"
    );
    assert_eq!(a.stdout, b.stdout);
    assert!(
        !a.stdout.contains("_cmp_server"),
        "no work-directory path in the output"
    );
}

// ---- parameters -------------------------------------------------------------------------

#[test]
fn parameters_announce_environments_and_values() {
    let repo = values_repo();
    let tmp = tempfile::tempdir().unwrap();
    let s = server(&tmp);
    // No environment chosen: `env` (required, the list in its tooltip), valueFiles, set.
    let resp = s.parameters(&plugin(), repo.path(), &App::new("web", "apps/web"));
    assert!(resp.ok(), "{:?}", resp.error);
    assert!(!resp.workdir.exists());
    let names: Vec<&str> = resp
        .objects
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["env", "valueFiles", "set"]);
    assert_eq!(resp.objects[0]["required"], true);
    assert!(
        resp.objects[0]["tooltip"]
            .as_str()
            .unwrap()
            .contains("dev, prod")
    );
    // The parameters request has no revision, namespace or KUBE_*.
    for absent in [
        "ARGOCD_APP_REVISION",
        "ARGOCD_APP_NAMESPACE",
        "KUBE_VERSION",
    ] {
        assert!(env_of(&resp, absent).is_none(), "{absent}");
    }
    // With `env`: the values of prod, with the schema's title and the file they come from.
    let resp = s.parameters(
        &plugin(),
        repo.path(),
        &app_with("apps/web", vec![Param::string("env", "prod")]),
    );
    assert!(resp.ok(), "{:?}", resp.error);
    let by = |n: &str| {
        resp.objects
            .iter()
            .find(|p| p["name"] == n)
            .unwrap_or_else(|| panic!("{n} in {:?}", resp.objects))
            .clone()
    };
    assert_eq!(by("env")["string"], "prod");
    let r = by("replicas");
    assert_eq!(r["string"], "2");
    assert_eq!(r["title"], "Replicas");
    assert_eq!(
        r["tooltip"],
        "pods to run (from apps/web/overlays/prod/values.yaml:1)"
    );
    assert_eq!(by("image")["collectionType"], "map");
    assert_eq!(by("image")["map"]["tag"], "1.0");
    assert_eq!(by("ports")["array"], serde_json::json!(["8080"]));
    // Every announcement has the fields the UI reads.
    for p in &resp.objects {
        for f in [
            "name",
            "title",
            "tooltip",
            "collectionType",
            "itemType",
            "required",
        ] {
            assert!(p.get(f).is_some(), "{f} in {p}");
        }
    }
    // What the UI sends back is what generate reads: the announced image map, edited.
    let resp = generate(
        &repo,
        &app_with(
            "apps/web",
            vec![
                Param::string("env", "prod"),
                Param::map(
                    "image",
                    &[("repository", "ghcr.io/example/web"), ("tag", "1.20")],
                ),
            ],
        ),
    );
    assert!(resp.ok(), "{:?}", resp.error);
    assert_eq!(
        find(&resp.objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/example/web:1.20"
    );
}

// ---- the emulator itself ------------------------------------------------------------------

#[test]
fn the_emulator_builds_argo_cds_environment() {
    use std::collections::BTreeMap;
    let vars: BTreeMap<String, String> = [("A", "x"), ("ARGOCD_APP_NAME", "web")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (input, want) in [
        ("$A", "x"),
        ("${A}b", "xb"),
        ("$$A", "$A"),
        ("a$$$$b", "a$$b"),
        ("$UNSET.", "."),
        ("end$", "end$"),
        ("${}", ""),
        ("${A", "A"),
        ("$1", ""),
        ("rev-$ARGOCD_APP_NAME-", "rev-web-"),
    ] {
        assert_eq!(emulator::envsubst(input, &vars), want, "{input}");
    }
    assert_eq!(emulator::escaped("image.tag"), "IMAGE_TAG");
    assert_eq!(emulator::escaped("value-files"), "VALUE_FILES");
    assert_eq!(
        emulator::parameters_json(&[
            Param::string("a", "<b>&"),
            Param::array("l", &[]),
            Param::map("m", &[])
        ]),
        r#"[{"name":"a","string":"\u003cb\u003e\u0026"},{"array":[],"name":"l"},{"map":{},"name":"m"}]"#
    );
    // YAML or JSON streams, as the repo-server reads them.
    assert_eq!(
        objects("a: 1\n---\n---\n# c\nnull\n---  # x\nb: 2").len(),
        2
    );
    assert_eq!(objects("{\"kind\":\"A\"}\n{\"kind\":\"B\"}").len(), 2);
    assert_eq!(objects("--- a\n").len(), 1);
}

#[test]
fn the_emulator_kills_a_command_at_the_deadline_as_the_cmp_server_does() {
    let repo = repo(&[], &[("app/README", "x\n")]);
    let tmp = tempfile::tempdir().unwrap();
    let mut s = server(&tmp);
    s.timeout = Duration::from_millis(600);
    let mut p = plugin();
    // The leader is killed at once; its child ignores SIGTERM and dies of SIGKILL 5 s on.
    p.generate = emulator::Cmd {
        command: vec!["sh".into(), "-c".into()],
        args: vec!["trap '' TERM; sleep 30 & wait".into()],
    };
    let resp = s.generate(&p, repo.path(), &repo.revision, &App::new("web", "app"));
    assert!(resp.deadline_hit && resp.group_killed, "{resp:?}");
    assert!(resp.elapsed >= Duration::from_secs(5) && resp.elapsed < Duration::from_secs(15));
    assert!(resp.error.unwrap().contains("failed signal: killed"));
    // Modes are reset, .git is copied, symlinks leaving the work directory are refused.
    let mut p = plugin();
    p.generate = emulator::Cmd {
        command: vec!["sh".into(), "-c".into()],
        args: vec![
            "stat -c '%a %n' run.sh .. >&2; test -d ../.git && echo '{\"kind\":\"A\"}'".into(),
        ],
    };
    let repo = repo_with_mode();
    let resp = server(&tmp).generate(&p, repo.path(), &repo.revision, &App::new("web", "app"));
    assert!(resp.ok(), "{:?}", resp.error);
    assert!(
        resp.stderr.contains("644 run.sh") && resp.stderr.contains("755 .."),
        "{}",
        resp.stderr
    );
    assert_eq!(resp.objects.len(), 1);
    let out = tempfile::tempdir().unwrap();
    let secret = out.path().join("secret");
    std::fs::write(&secret, "s").unwrap();
    let repo = repo_with_link(&secret);
    let resp = server(&tmp).generate(
        &plugin(),
        repo.path(),
        &repo.revision,
        &App::new("web", "app"),
    );
    assert!(resp.error.unwrap().contains("illegal filepath in symlink"));
}

fn repo_with_mode() -> Repo {
    use std::os::unix::fs::PermissionsExt;
    let r = repo(&[], &[("app/run.sh", "#!/bin/sh\n")]);
    std::fs::set_permissions(
        r.path().join("app/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    r
}

fn repo_with_link(target: &Path) -> Repo {
    let r = repo(&[], &[("app/kustomization.yaml", "resources: []\n")]);
    std::os::unix::fs::symlink(target, r.path().join("app/leak.yaml")).unwrap();
    r
}

// ---- the install recipe -----------------------------------------------------------------

/// `deploy/argocd/install/kustomization.yaml` with its two remote entries replaced by
/// local copies: Argo CD's repo-server base and this repository's component.
fn install_tree() -> Option<tempfile::TempDir> {
    let base = shared().join("argocd/repo-server");
    if !base.is_dir() {
        require("../shared/argocd/repo-server");
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&base, &tmp.path().join("argocd"));
    copy_dir(&root().join("deploy/argocd"), &tmp.path().join("strata"));
    let k =
        std::fs::read_to_string(root().join("deploy/argocd/install/kustomization.yaml")).unwrap();
    let remote_base =
        "https://raw.githubusercontent.com/argoproj/argo-cd/v3.6.0/manifests/install.yaml";
    let remote_component = "https://github.com/example/strata//deploy/argocd?ref=v0.1.0";
    assert!(
        k.contains(remote_base) && k.contains(remote_component),
        "{k}"
    );
    let local = k
        .replace(remote_base, "argocd")
        .replace(remote_component, "strata");
    std::fs::write(tmp.path().join("kustomization.yaml"), local).unwrap();
    Some(tmp)
}

#[test]
fn the_sidecar_overlay_builds_as_kubectl_builds_it_and_validates() {
    let Some(tree) = install_tree() else { return };
    let ours = strata(tree.path(), &["build", "."]);
    assert!(ours.status.success(), "{}", text(&ours.stderr));
    match Command::new("kubectl")
        .arg("kustomize")
        .arg(tree.path())
        .output()
    {
        Ok(k) if k.status.success() => {
            assert_eq!(
                text(&ours.stdout),
                text(&k.stdout),
                "strata and kubectl agree"
            );
        }
        _ => require("kubectl"),
    }
    let v = strata(
        tree.path(),
        &["build", ".", "--validate", "--missing-schemas", "error"],
    );
    assert!(v.status.success(), "{}", text(&v.stderr));
    // The sidecar, as Argo CD's documentation says it must be.
    let objs = objects(&text(&ours.stdout));
    let d = objs
        .iter()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "argocd-repo-server")
        .unwrap();
    let spec = &d["spec"]["template"]["spec"];
    let c = spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "strata")
        .unwrap();
    assert_eq!(
        c["command"],
        serde_json::json!(["/var/run/argocd/argocd-cmp-server"])
    );
    assert_eq!(c["securityContext"]["runAsNonRoot"], true);
    assert_eq!(c["securityContext"]["runAsUser"], 999);
    assert_eq!(c["image"], "registry.example.com/platform/strata:0.1.0");
    let mounts: Vec<(&str, &str)> = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["mountPath"].as_str().unwrap(),
                m["name"].as_str().unwrap(),
            )
        })
        .collect();
    for want in [
        ("/var/run/argocd", "var-files"),
        ("/home/argocd/cmp-server/plugins", "plugins"),
        (
            "/home/argocd/cmp-server/config/plugin.yaml",
            "strata-cmp-plugin",
        ),
        ("/tmp", "strata-tmp"),
        ("/var/cache/strata", "strata-cache"),
    ] {
        assert!(mounts.contains(&want), "{want:?} in {mounts:?}");
    }
    // Its /tmp is its own, not the repo-server's.
    let repo_server = spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "argocd-repo-server")
        .unwrap();
    assert!(
        repo_server["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["name"] != "strata-tmp")
    );
    // plugin.yaml comes from a ConfigMap holding this repository's plugin.yaml.
    let vol = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "strata-cmp-plugin")
        .unwrap();
    let cm_name = vol["configMap"]["name"].as_str().unwrap();
    let cm = objs
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == cm_name)
        .unwrap();
    let plugin_yaml = std::fs::read_to_string(root().join("deploy/argocd/plugin.yaml")).unwrap();
    assert_eq!(cm["data"]["plugin.yaml"], plugin_yaml);
    assert_eq!(cm["metadata"]["namespace"], "argocd");
    let env: Vec<(&str, &str)> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    assert!(env.contains(&("STRATA_CACHE_DIR", "/var/cache/strata")));
}

#[test]
fn the_example_application_and_applicationset_render_through_the_plugin() {
    let plugin = plugin();
    assert_eq!(plugin.full_name(), "strata-v1");
    let read = |f: &str| {
        emulator::yaml_to_json(
            &std::fs::read_to_string(root().join("deploy/argocd/examples").join(f)).unwrap(),
        )
        .unwrap()
    };
    let application = read("application.yaml");
    assert_eq!(
        application["spec"]["source"]["plugin"]["name"],
        plugin.full_name()
    );
    let repo = sample_repo();
    let resp = generate(&repo, &App::from_manifest(&application));
    assert!(resp.ok(), "{:?}", resp.error);
    assert_eq!(
        resp.stdout,
        text(&strata(&root(), &["render", "prod"]).stdout)
    );
    // The ApplicationSet's template, for a cluster labelled `env: staging`.
    let set = read("applicationset.yaml");
    let template = serde_json::to_string(&set["spec"]["template"])
        .unwrap()
        .replace("{{.name}}", "edge-1")
        .replace("{{.server}}", "https://edge-1.example.com")
        .replace(r#"{{index .metadata.labels \"env\"}}"#, "staging");
    assert!(!template.contains("{{"), "{template}");
    let mut generated: J = serde_json::from_str(&template).unwrap();
    generated["metadata"]["namespace"] = "argocd".into();
    let app = App::from_manifest(&generated);
    assert_eq!(app.name, "web-edge-1");
    assert_eq!(app.namespace, "web-staging");
    let resp = generate(&repo, &app);
    assert!(resp.ok(), "{:?}", resp.error);
    assert_eq!(
        resp.stdout,
        text(&strata(&root(), &["render", "staging"]).stdout)
    );
    // Both validate against their CRDs (a hand-written subset, tests/argocd-crds/).
    let v = strata(
        &root(),
        &[
            "validate",
            "--crds",
            "tests/argocd-crds",
            "--missing-schemas",
            "error",
            "deploy/argocd/examples",
        ],
    );
    assert!(v.status.success(), "{}{}", text(&v.stdout), text(&v.stderr));
    let bad = tempfile::tempdir().unwrap();
    let f = bad.path().join("bad.yaml");
    std::fs::write(
        &f,
        std::fs::read_to_string(root().join("deploy/argocd/examples/application.yaml"))
            .unwrap()
            .replace("parameters:", "paramters:"),
    )
    .unwrap();
    let v = strata(
        &root(),
        &[
            "validate",
            "--crds",
            "tests/argocd-crds",
            &f.to_string_lossy(),
        ],
    );
    assert_eq!(v.status.code(), Some(1));
    assert!(text(&v.stderr).contains("paramters"), "{}", text(&v.stderr));
}

#[test]
fn the_image_build_script_builds_a_slim_binary() {
    if Command::new("strip").arg("--version").output().is_err() {
        require("strip (binutils)");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    // The profile these tests were built with: the build is already done.
    let profile = if cfg!(debug_assertions) {
        "dev"
    } else {
        "release"
    };
    let target = Path::new(env!("CARGO_BIN_EXE_strata"))
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let run = Command::new(root().join("deploy/argocd/build-image.sh"))
        .args(["--binary-only", "--out"])
        .arg(out.path())
        .args(["--profile", profile])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}{}",
        text(&run.stdout),
        text(&run.stderr)
    );
    let bin = out.path().join("strata");
    let v = Command::new(&bin).arg("--version").output().unwrap();
    assert!(text(&v.stdout).starts_with("strata "));
    let size = std::fs::metadata(&bin).unwrap().len();
    assert!(
        size < std::fs::metadata(env!("CARGO_BIN_EXE_strata"))
            .unwrap()
            .len()
    );
    let dockerfile = std::fs::read_to_string(root().join("deploy/argocd/Dockerfile")).unwrap();
    assert!(dockerfile.contains("deploy/argocd/build-image.sh --binary-only --out /out"));
    assert!(dockerfile.contains("USER 999"));
}

#[test]
fn the_readme_shows_the_recipe_as_it_is() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("\n## Argo CD\n")
        .nth(1)
        .expect("an `Argo CD` section");
    let section = section.split("\n## ").next().unwrap();
    for f in [
        "deploy/argocd/plugin.yaml",
        "deploy/argocd/install/kustomization.yaml",
        "deploy/argocd/examples/application.yaml",
    ] {
        let body = std::fs::read_to_string(root().join(f)).unwrap();
        let body: String = body
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            section.contains(body.trim()),
            "the README shows {f} as it is"
        );
    }
    assert!(section.contains("deploy/argocd/build-image.sh"));
}
