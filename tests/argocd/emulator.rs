//! A repo-server and cmp-server, as far as a config management plugin can tell: what Argo CD
//! v3.6 does for one `GenerateManifest` or `GetParametersAnnouncement` request.
//!
//! From Argo CD's source:
//! - `reposerver/repository/repository.go`: the build environment (`newEnv`: app name,
//!   destination namespace, project, revision and its 7- and 8-character short forms, repo
//!   URL, source path, target revision), `KUBE_VERSION` (`text.SemVer`: `+` removed) and
//!   `KUBE_API_VERSIONS` (comma-joined), then `getPluginParamEnvs`: each `plugin.env` entry
//!   as `ARGOCD_ENV_<name>` with its value `Envsubst`'d from that environment (`$$` is a
//!   literal `$`, an unknown variable is empty), then the parameters' `Environ()`. The
//!   parameters request (`populatePluginAppDetails`) gets only the app name, repo URL,
//!   source path and target revision.
//! - `pkg/apis/application/v1alpha1/types.go`: `ARGOCD_APP_PARAMETERS` is Go's
//!   `json.Marshal` of `[{"name", "string" | "array" | "map"}]` (keys sorted, `<>&`
//!   escaped); `PARAM_<escaped name>`, `PARAM_<name>_<i>`, `PARAM_<name>_<escaped key>`, where
//!   `escaped` upper-cases and turns `[^A-Z0-9_]` into `_`.
//! - `util/cmp/stream.go`, `util/io/files/tar.go`: the whole repository (`.git` included,
//!   no exclusions by default) is copied into `<tmp>/_cmp_server/<uuid>/`; without
//!   `preserveFileMode` files get 0644 and directories 0755; a symlink is recreated pointing
//!   at its absolute target, and one that leaves the work directory fails the request.
//! - `cmpserver/plugin/plugin.go`: the environment is the sidecar's own plus the entries
//!   with a non-empty value; `init` then `generate` (or `parameters.dynamic`) are exec'd
//!   with no shell, in `<workdir>/<app path>`, standard input empty, in a process group of
//!   their own; the request deadline is cut by 100 ms; at the deadline the command is
//!   killed (`exec.CommandContext`) and its group gets SIGTERM, then SIGKILL 5 s later.
//!   Standard output, its last newline trimmed, is split as a YAML-or-JSON stream
//!   (`kube.SplitYAMLToString`: empty and `null` documents dropped); the repo-server then
//!   needs a `kind` in every object. A non-zero exit is the error
//!   `` `cmd args` failed exit status N: <stderr> ``. The work directory is removed.

use serde_json::Value as J;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `cmpTimeoutBuffer`: the cmp-server ends its work this long before the request deadline.
const TIMEOUT_BUFFER: Duration = Duration::from_millis(100);
/// How long the process group has between SIGTERM and SIGKILL.
const CLEANUP: Duration = Duration::from_secs(5);

/// A command of plugin.yaml.
#[derive(Debug, Clone, Default)]
pub struct Cmd {
    pub command: Vec<String>,
    pub args: Vec<String>,
}

/// plugin.yaml, read as the cmp-server reads it (unknown keys ignored).
#[derive(Debug, Clone)]
pub struct Plugin {
    pub name: String,
    pub version: String,
    pub init: Cmd,
    pub generate: Cmd,
    pub dynamic: Cmd,
    pub static_params: Vec<J>,
    pub preserve_file_mode: bool,
}

fn strings(v: Option<&J>) -> Vec<String> {
    v.and_then(J::as_array)
        .map(|a| a.iter().filter_map(J::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn cmd(v: Option<&J>) -> Cmd {
    Cmd {
        command: strings(v.and_then(|c| c.get("command"))),
        args: strings(v.and_then(|c| c.get("args"))),
    }
}

/// A YAML document as JSON (through strata's reader).
pub fn yaml_to_json(text: &str) -> Result<J, String> {
    let docs = strata::parse_documents(text, Path::new("<input>")).map_err(|e| e.to_string())?;
    Ok(docs
        .into_iter()
        .next()
        .map(|d| d.value.to_json())
        .unwrap_or(J::Null))
}

impl Plugin {
    pub fn load(path: &Path) -> Plugin {
        let text = std::fs::read_to_string(path).expect("plugin.yaml");
        let doc = yaml_to_json(&text).expect("plugin.yaml is YAML");
        assert_eq!(
            doc["kind"], "ConfigManagementPlugin",
            "ValidatePluginConfig: kind"
        );
        let name = doc["metadata"]["name"].as_str().unwrap_or("").to_string();
        assert!(!name.is_empty(), "ValidatePluginConfig: metadata.name");
        let spec = &doc["spec"];
        let generate = cmd(spec.get("generate"));
        assert!(
            !generate.command.is_empty(),
            "ValidatePluginConfig: spec.generate"
        );
        Plugin {
            name,
            version: spec["version"].as_str().unwrap_or("").to_string(),
            init: cmd(spec.get("init")),
            generate,
            dynamic: cmd(spec.get("parameters").and_then(|p| p.get("dynamic"))),
            static_params: spec["parameters"]["static"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
            preserve_file_mode: spec["preserveFileMode"].as_bool().unwrap_or(false),
        }
    }

    /// The name an Application uses: `<metadata.name>-<spec.version>` (or the name alone).
    pub fn full_name(&self) -> String {
        if self.version.is_empty() {
            self.name.clone()
        } else {
            format!("{}-{}", self.name, self.version)
        }
    }
}

/// A parameter of `spec.source.plugin.parameters`.
#[derive(Debug, Clone, Default)]
pub struct Param {
    pub name: String,
    pub string: Option<String>,
    pub array: Option<Vec<String>>,
    pub map: Option<BTreeMap<String, String>>,
}

impl Param {
    pub fn string(name: &str, v: &str) -> Param {
        Param {
            name: name.into(),
            string: Some(v.into()),
            ..Param::default()
        }
    }
    pub fn array(name: &str, v: &[&str]) -> Param {
        Param {
            name: name.into(),
            array: Some(v.iter().map(|s| s.to_string()).collect()),
            ..Param::default()
        }
    }
    pub fn map(name: &str, v: &[(&str, &str)]) -> Param {
        Param {
            name: name.into(),
            map: Some(
                v.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Param::default()
        }
    }
}

/// What the controller sends about an Application.
#[derive(Debug, Clone, Default)]
pub struct App {
    pub name: String,
    /// The destination namespace.
    pub namespace: String,
    pub project: String,
    pub repo_url: String,
    pub path: String,
    pub target_revision: String,
    pub plugin_env: Vec<(String, String)>,
    pub parameters: Vec<Param>,
    pub kube_version: String,
    pub api_versions: Vec<String>,
}

impl App {
    /// An Application of `path` in a repository, as the examples in these tests use it.
    pub fn new(name: &str, path: &str) -> App {
        App {
            name: name.into(),
            namespace: name.into(),
            project: "default".into(),
            repo_url: "https://git.example.com/team/web-config.git".into(),
            path: path.into(),
            target_revision: "main".into(),
            kube_version: "1.32.4".into(),
            api_versions: vec![
                "apps/v1".into(),
                "apps/v1/Deployment".into(),
                "v1".into(),
                "v1/ConfigMap".into(),
                "v1/Service".into(),
            ],
            ..App::default()
        }
    }

    /// From an Application manifest's `spec.source` and `spec.destination`.
    pub fn from_manifest(doc: &J) -> App {
        let src = &doc["spec"]["source"];
        let plugin = &src["plugin"];
        let mut app = App::new(
            doc["metadata"]["name"].as_str().unwrap_or(""),
            src["path"].as_str().unwrap_or(""),
        );
        app.namespace = doc["spec"]["destination"]["namespace"]
            .as_str()
            .unwrap_or("")
            .into();
        app.project = doc["spec"]["project"].as_str().unwrap_or("").into();
        app.repo_url = src["repoURL"].as_str().unwrap_or("").into();
        app.target_revision = src["targetRevision"].as_str().unwrap_or("").into();
        for e in plugin["env"].as_array().into_iter().flatten() {
            app.plugin_env.push((
                e["name"].as_str().unwrap_or("").into(),
                e["value"].as_str().unwrap_or("").into(),
            ));
        }
        for p in plugin["parameters"].as_array().into_iter().flatten() {
            app.parameters.push(Param {
                name: p["name"].as_str().unwrap_or("").into(),
                string: p["string"].as_str().map(str::to_string),
                array: p["array"]
                    .as_array()
                    .map(|a| a.iter().filter_map(J::as_str).map(str::to_string).collect()),
                map: p["map"].as_object().map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                }),
            });
        }
        app
    }
}

/// Go's `json.Marshal` of a string: `"`, `\`, control characters, `<`, `>`, `&`, U+2028
/// and U+2029 escaped.
pub fn go_json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `ApplicationSourcePluginParameters` marshalled as Argo CD marshals it.
pub fn parameters_json(params: &[Param]) -> String {
    let items: Vec<String> = params
        .iter()
        .map(|p| {
            // A map[string]any: Go sorts the keys.
            let mut fields = Vec::new();
            if let Some(a) = &p.array {
                let items: Vec<String> = a.iter().map(|s| go_json_string(s)).collect();
                fields.push(format!("\"array\":[{}]", items.join(",")));
            }
            if let Some(m) = &p.map {
                let items: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{}:{}", go_json_string(k), go_json_string(v)))
                    .collect();
                fields.push(format!("\"map\":{{{}}}", items.join(",")));
            }
            fields.push(format!("\"name\":{}", go_json_string(&p.name)));
            if let Some(s) = &p.string {
                fields.push(format!("\"string\":{}", go_json_string(s)));
            }
            format!("{{{}}}", fields.join(","))
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// `escaped`: upper case, `[^A-Z0-9_]` → `_`.
pub fn escaped(name: &str) -> String {
    name.to_uppercase()
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `ApplicationSourcePluginParameters.Environ()`.
pub fn parameters_environ(params: &[Param]) -> Vec<String> {
    let mut env = vec![format!("ARGOCD_APP_PARAMETERS={}", parameters_json(params))];
    for p in params {
        let base = format!("PARAM_{}", escaped(&p.name));
        if let Some(s) = &p.string {
            env.push(format!("{base}={s}"));
        }
        if let Some(m) = &p.map {
            for (k, v) in m {
                env.push(format!("{base}_{}={v}", escaped(k)));
            }
        }
        if let Some(a) = &p.array {
            for (i, v) in a.iter().enumerate() {
                env.push(format!("{base}_{i}={v}"));
            }
        }
    }
    env
}

/// Go's `os.Expand` with Argo CD's mapping (`$$` → `$`, unknown → empty).
pub fn envsubst(s: &str, vars: &BTreeMap<String, String>) -> String {
    let map = |name: &str| -> String {
        if name == "$" {
            "$".into()
        } else {
            vars.get(name).cloned().unwrap_or_default()
        }
    };
    let special = |c: u8| b"*#$@!?-0123456789".contains(&c);
    let alnum = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    let mut j = 0;
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.extend_from_slice(&b[i..j]);
            let rest = &b[j + 1..];
            // getShellName
            let (name, w): (String, usize) = if rest[0] == b'{' {
                if rest.len() > 2 && special(rest[1]) && rest[2] == b'}' {
                    ((rest[1] as char).to_string(), 3)
                } else {
                    match rest.iter().skip(1).position(|&c| c == b'}') {
                        Some(0) => (String::new(), 2),
                        Some(p) => (String::from_utf8_lossy(&rest[1..=p]).into(), p + 2),
                        None => (String::new(), 1),
                    }
                }
            } else if special(rest[0]) {
                ((rest[0] as char).to_string(), 1)
            } else {
                let n = rest.iter().take_while(|&&c| alnum(c)).count();
                (String::from_utf8_lossy(&rest[..n]).into(), n)
            };
            if name.is_empty() && w > 0 {
                // Bad syntax: the characters are eaten.
            } else if name.is_empty() {
                out.push(b'$');
            } else {
                out.extend_from_slice(map(&name).as_bytes());
            }
            j += w;
            i = j + 1;
        }
        j += 1;
    }
    out.extend_from_slice(&b[i.min(b.len())..]);
    String::from_utf8_lossy(&out).into()
}

fn short(rev: &str, n: usize) -> String {
    rev.chars().take(n).collect()
}

/// `getPluginParamEnvs`: `plugin.env` (substituted from `env`) and the parameters.
fn plugin_param_envs(mut env: Vec<String>, app: &App) -> Vec<String> {
    let parsed: BTreeMap<String, String> = env
        .iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (name, value) in &app.plugin_env {
        env.push(format!("ARGOCD_ENV_{name}={}", envsubst(value, &parsed)));
    }
    env.extend(parameters_environ(&app.parameters));
    env
}

/// The entries the repo-server sends with a `GenerateManifest` request.
pub fn generate_env(app: &App, revision: &str) -> Vec<String> {
    let build = [
        ("ARGOCD_APP_NAME", app.name.clone()),
        ("ARGOCD_APP_NAMESPACE", app.namespace.clone()),
        ("ARGOCD_APP_PROJECT_NAME", app.project.clone()),
        ("ARGOCD_APP_REVISION", revision.to_string()),
        ("ARGOCD_APP_REVISION_SHORT", short(revision, 7)),
        ("ARGOCD_APP_REVISION_SHORT_8", short(revision, 8)),
        ("ARGOCD_APP_SOURCE_REPO_URL", app.repo_url.clone()),
        ("ARGOCD_APP_SOURCE_PATH", app.path.clone()),
        (
            "ARGOCD_APP_SOURCE_TARGET_REVISION",
            app.target_revision.clone(),
        ),
    ];
    let mut env: Vec<String> = build.iter().map(|(k, v)| format!("{k}={v}")).collect();
    env.push(format!(
        "KUBE_VERSION={}",
        app.kube_version.replace('+', "")
    ));
    env.push(format!("KUBE_API_VERSIONS={}", app.api_versions.join(",")));
    plugin_param_envs(env, app)
}

/// The entries of a `GetParametersAnnouncement` request.
pub fn parameters_env(app: &App) -> Vec<String> {
    let env = vec![
        format!("ARGOCD_APP_NAME={}", app.name),
        format!("ARGOCD_APP_SOURCE_REPO_URL={}", app.repo_url),
        format!("ARGOCD_APP_SOURCE_PATH={}", app.path),
        format!("ARGOCD_APP_SOURCE_TARGET_REVISION={}", app.target_revision),
    ];
    plugin_param_envs(env, app)
}

/// What one request produced.
#[derive(Debug)]
pub struct Response {
    /// The exit code of the last command run (`None`: killed by a signal or never run).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The error the UI would show, if the request failed.
    pub error: Option<String>,
    /// The manifests (generate) or announcements (parameters) on success.
    pub objects: Vec<J>,
    /// Whether the deadline passed: the command was killed and its group got SIGTERM.
    pub deadline_hit: bool,
    /// Whether the group got SIGKILL after the clean-up time.
    pub group_killed: bool,
    pub elapsed: Duration,
    /// The work directory the request used (removed afterwards).
    pub workdir: PathBuf,
    /// The environment the command got, as `NAME=value` (the sidecar's first).
    pub env: Vec<String>,
}

impl Response {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// The sidecar: its `/tmp`, its own environment, and the request timeout the repo-server
/// gives it.
pub struct Server {
    pub tmp: PathBuf,
    pub sidecar_env: Vec<(String, String)>,
    pub timeout: Duration,
}

fn uuid() -> String {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("random bytes");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn inbound(candidate: &Path, base: &Path) -> bool {
    let c = normalize(candidate);
    c.starts_with(base) && c != base
}

/// Copy the repository as the tar stream and `Untgz` do.
fn copy_repo(src: &Path, dst: &Path, preserve: bool) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("read repository")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            out.push(p.clone());
            let meta = std::fs::symlink_metadata(&p).expect("lstat");
            if meta.is_dir() {
                walk(&p, out);
            }
        }
    }
    let mut paths = Vec::new();
    walk(src, &mut paths);
    for p in paths {
        let rel = p.strip_prefix(src).expect("below the repository");
        let target = dst.join(rel);
        if !inbound(&target, dst) {
            return Err(format!("illegal filepath in archive: {}", target.display()));
        }
        let meta = std::fs::symlink_metadata(&p).expect("lstat");
        let ft = meta.file_type();
        if ft.is_dir() {
            let mode = if preserve {
                meta.permissions().mode() & 0o7777
            } else {
                0o755
            };
            std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
                .map_err(|e| e.to_string())?;
        } else if ft.is_symlink() {
            let link = std::fs::read_link(&p).expect("readlink");
            let link_target = normalize(&target.parent().expect("parent").join(link));
            let real = std::fs::canonicalize(&link_target).unwrap_or(link_target.clone());
            if !inbound(&real, dst) {
                return Err(format!(
                    "illegal filepath in symlink: {}",
                    link_target.display()
                ));
            }
            std::os::unix::fs::symlink(&real, &target).map_err(|e| e.to_string())?;
        } else if ft.is_file() {
            let mode = if preserve {
                meta.permissions().mode() & 0o7777
            } else {
                0o644
            };
            std::fs::create_dir_all(target.parent().expect("parent")).map_err(|e| e.to_string())?;
            std::fs::copy(&p, &target).map_err(|e| e.to_string())?;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
                .map_err(|e| e.to_string())?;
        }
        // Other file types are not sent.
    }
    Ok(())
}

fn signal(sig: &str, target: &str) {
    let _ = Command::new("kill")
        .args([sig, "--", target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The outcome of one command.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    deadline_hit: bool,
    group_killed: bool,
}

/// `runCommand`: exec with no shell, in `dir`, with exactly `env`, no stdin, its own
/// process group; at `deadline` kill it and SIGTERM its group, SIGKILL the group 5 s later.
fn run_command(c: &Cmd, dir: &Path, env: &[String], deadline: Instant) -> Result<Ran, String> {
    use std::os::unix::process::CommandExt;
    if c.command.is_empty() {
        return Err("Command is empty".into());
    }
    let mut cmd = Command::new(&c.command[0]);
    cmd.args(&c.command[1..])
        .args(&c.args)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for e in env {
        // Go's exec keeps the last of duplicate names; so does setting them in order.
        let (k, v) = e.split_once('=').unwrap_or((e, ""));
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("fork/exec {}: {e}", c.command[0]))?;
    let pid = child.id();
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let mut deadline_hit = false;
    let mut group_killed = false;
    let mut status = None;
    // Wait for the process, and (as Go's Wait does) for its output pipes to close.
    loop {
        if status.is_none() {
            status = child.try_wait().map_err(|e| e.to_string())?;
        }
        if status.is_some() && t_out.is_finished() && t_err.is_finished() {
            break;
        }
        let now = Instant::now();
        if !deadline_hit && now >= deadline {
            deadline_hit = true;
            // exec.CommandContext kills the process; plugin.go SIGTERMs the group.
            signal("-KILL", &pid.to_string());
            signal("-TERM", &format!("-{pid}"));
        }
        if deadline_hit && !group_killed && now >= deadline + CLEANUP {
            group_killed = true;
            signal("-KILL", &format!("-{pid}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    Ok(Ran {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
        deadline_hit,
        group_killed,
    })
}

fn cmd_error(c: &Cmd, code: Option<i32>, stderr: &str) -> String {
    let args: Vec<String> = c.command.iter().chain(&c.args).cloned().collect();
    let cause = match code {
        Some(n) => format!("exit status {n}"),
        None => "signal: killed".to_string(),
    };
    let stderr = stderr.trim();
    if stderr.is_empty() {
        format!("`{}` failed {cause}", args.join(" "))
    } else {
        format!("`{}` failed {cause}: {stderr}", args.join(" "))
    }
}

/// `yaml.NewYAMLOrJSONDecoder` + `SplitYAMLToString`: the documents of a stream, trimmed,
/// empty and `null` ones dropped.
pub fn split_yaml_or_json(out: &str) -> Result<Vec<J>, String> {
    let mut docs = Vec::new();
    if out.trim_start().starts_with('{') {
        let stream = serde_json::Deserializer::from_str(out).into_iter::<J>();
        for v in stream {
            let v = v.map_err(|e| format!("failed to unmarshal manifest: {e}"))?;
            if !v.is_null() {
                docs.push(v);
            }
        }
        return Ok(docs);
    }
    // YAMLReader: a line starting with `---` whose rest is empty or a comment separates.
    let mut cur = String::new();
    let flush = |cur: &mut String, docs: &mut Vec<J>| -> Result<(), String> {
        let text = std::mem::take(cur);
        if text.trim().is_empty() {
            return Ok(());
        }
        let v = yaml_to_json(&text).map_err(|e| format!("failed to unmarshal manifest: {e}"))?;
        if !v.is_null() {
            docs.push(v);
        }
        Ok(())
    };
    for line in out.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                flush(&mut cur, &mut docs)?;
                continue;
            }
        }
        cur.push_str(line);
    }
    flush(&mut cur, &mut docs)?;
    Ok(docs)
}

impl Server {
    /// A sidecar whose `/tmp` is `tmp`, with `strata` from this build on its PATH.
    pub fn new(tmp: &Path) -> Server {
        let bin = Path::new(env!("CARGO_BIN_EXE_strata"))
            .parent()
            .expect("bin dir")
            .to_path_buf();
        let home = tmp.join("home");
        std::fs::create_dir_all(&home).expect("home");
        Server {
            tmp: tmp.to_path_buf(),
            sidecar_env: vec![
                (
                    "PATH".into(),
                    format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
                ),
                ("HOME".into(), home.display().to_string()),
                (
                    "STRATA_CACHE_DIR".into(),
                    tmp.join("cache").display().to_string(),
                ),
                ("STRATA_DEADLINE".into(), "45".into()),
            ],
            timeout: Duration::from_secs(60),
        }
    }

    pub fn set_env(&mut self, k: &str, v: &str) {
        self.sidecar_env.retain(|(n, _)| n != k);
        self.sidecar_env.push((k.into(), v.into()));
    }

    fn request(
        &self,
        plugin: &Plugin,
        repo: &Path,
        app: &App,
        entries: Vec<String>,
        commands: &[&Cmd],
        parse: impl Fn(&str) -> Result<Vec<J>, String>,
    ) -> Response {
        let started = Instant::now();
        let deadline = started + self.timeout - TIMEOUT_BUFFER;
        let base = self.tmp.join("_cmp_server");
        std::fs::create_dir_all(&base).expect("cmp work dir");
        let workdir = base.join(uuid());
        std::fs::create_dir_all(&workdir).expect("work dir");
        let mut env: Vec<String> = self
            .sidecar_env
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        // environ(): entries with an empty value are dropped.
        env.extend(entries.into_iter().filter(|e| {
            e.split_once('=')
                .is_some_and(|(k, v)| !k.is_empty() && !v.is_empty())
        }));
        let mut resp = Response {
            code: None,
            stdout: String::new(),
            stderr: String::new(),
            error: None,
            objects: Vec::new(),
            deadline_hit: false,
            group_killed: false,
            elapsed: Duration::ZERO,
            workdir: workdir.clone(),
            env: env.clone(),
        };
        let result = (|| -> Result<(), String> {
            copy_repo(repo, &workdir, plugin.preserve_file_mode)
                .map_err(|e| format!("error receiving stream: {e}"))?;
            let app_path = normalize(&workdir.join(&app.path));
            if !app_path.starts_with(&workdir) {
                return Err("illegal appPath: out of workDir bound".into());
            }
            for (i, c) in commands.iter().enumerate() {
                let last = i + 1 == commands.len();
                let ran = run_command(c, &app_path, &env, deadline)?;
                resp.code = ran.code;
                resp.deadline_hit |= ran.deadline_hit;
                resp.group_killed |= ran.group_killed;
                if last {
                    resp.stdout = ran.stdout.clone();
                }
                resp.stderr.push_str(&ran.stderr);
                if ran.code != Some(0) {
                    return Err(cmd_error(c, ran.code, &ran.stderr));
                }
                if last {
                    let out = ran.stdout.strip_suffix('\n').unwrap_or(&ran.stdout);
                    resp.objects = parse(out)?;
                }
            }
            Ok(())
        })();
        if let Err(e) = result {
            resp.error = Some(e);
        }
        std::fs::remove_dir_all(&workdir).expect("the work directory is removed");
        resp.elapsed = started.elapsed();
        let _ = app;
        resp
    }

    /// A `GenerateManifest` request for `app` at `revision` of the repository `repo`.
    pub fn generate(&self, plugin: &Plugin, repo: &Path, revision: &str, app: &App) -> Response {
        let mut commands = Vec::new();
        if !plugin.init.command.is_empty() {
            commands.push(&plugin.init);
        }
        commands.push(&plugin.generate);
        self.request(
            plugin,
            repo,
            app,
            generate_env(app, revision),
            &commands,
            |out| {
                let docs = split_yaml_or_json(out)?;
                for d in &docs {
                    if d.get("kind").and_then(J::as_str).is_none_or(str::is_empty) {
                        return Err(format!(
                            "failed to unmarshal manifest: Object 'Kind' is missing in '{d}'"
                        ));
                    }
                }
                Ok(docs)
            },
        )
    }

    /// A `GetParametersAnnouncement` request: the dynamic announcements (a JSON array),
    /// then the static ones.
    pub fn parameters(&self, plugin: &Plugin, repo: &Path, app: &App) -> Response {
        if plugin.dynamic.command.is_empty() {
            return Response {
                code: None,
                stdout: String::new(),
                stderr: String::new(),
                error: None,
                objects: plugin.static_params.clone(),
                deadline_hit: false,
                group_killed: false,
                elapsed: Duration::ZERO,
                workdir: PathBuf::new(),
                env: Vec::new(),
            };
        }
        let statics = plugin.static_params.clone();
        self.request(plugin, repo, app, parameters_env(app), &[&plugin.dynamic], move |out| {
            let dynamic: Vec<J> = serde_json::from_str(out).map_err(|e| {
                format!("error unmarshaling dynamic parameter output into ParametersAnnouncementResponse: {e}")
            })?;
            Ok(dynamic.into_iter().chain(statics.iter().cloned()).collect())
        })
    }
}

/// Lexically clean a path: drop `.`, fold `..` (without touching the disk), as Go's
/// `filepath.Clean` does for Argo CD.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
