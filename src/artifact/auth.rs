//! Registry credentials and the authentication handshake.
//!
//! Credentials come from `--creds user:token`, else the Docker config file
//! (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`): a `credHelpers` entry for the
//! registry, the `credsStore`, or an `auths` entry (`auth` is base64 `user:password`, or
//! `username`/`password`, or an `identitytoken`). A credential helper is run as
//! `docker-credential-<name> get` with the registry host on standard input, never on the
//! command line, and only when `<name>` is a plain word (no path separators). When a registry
//! answers 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`, `token` fetches a
//! token from the realm with those credentials; `Basic` challenges get the credentials.

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What to authenticate with.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Credentials {
    #[default]
    Anonymous,
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user).
    IdentityToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credentials::IdentityToken(_) => f.write_str("IdentityToken(***)"),
        }
    }
}

impl Credentials {
    /// The `Authorization` value for basic authentication, when there is a user.
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                STANDARD.encode(format!("{username}:{password}"))
            )),
            _ => None,
        }
    }
}

/// Parse `--creds user:token`.
pub fn parse_creds(arg: &str) -> Result<Credentials> {
    match arg.split_once(':') {
        Some((u, p)) if !u.is_empty() && !p.is_empty() => Ok(Credentials::Basic {
            username: u.to_string(),
            password: p.to_string(),
        }),
        _ => Err(Error::new("`--creds` must be `user:token`")
            .with_help("pass the user name and a token or password separated by `:`")),
    }
}

/// The key a Docker config uses for `registry`: the host, with Docker Hub's legacy name.
fn config_key(registry: &str) -> String {
    let host = registry
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    match host {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => "index.docker.io".into(),
        h => h.to_string(),
    }
}

/// The Docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(d).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// Credentials for `registry`: from `creds` when given, else the Docker config.
pub fn lookup(registry: &str, creds: Option<&str>) -> Result<Credentials> {
    if let Some(c) = creds {
        return parse_creds(c);
    }
    match docker_config_path() {
        Some(p) if p.is_file() => from_config_file(&p, registry),
        _ => Ok(Credentials::Anonymous),
    }
}

/// Credentials for `registry` from the Docker config file at `path`.
pub fn from_config_file(path: &Path, registry: &str) -> Result<Credentials> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(format!("cannot read `{}`: {e}", path.display()))
            .with_help("fix the file's permissions, or set `DOCKER_CONFIG` to another directory")
    })?;
    let config: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::new(format!("`{}` is not JSON: {e}", path.display()))
            .with_help("fix the Docker config file (`docker login` writes it)")
    })?;
    let key = config_key(registry);
    let matching = |map: &serde_json::Value| -> Option<serde_json::Value> {
        let obj = map.as_object()?;
        let mut keys: Vec<&String> = obj.keys().collect();
        keys.sort();
        keys.into_iter()
            .find(|k| config_key(k) == key)
            .and_then(|k| obj.get(k).cloned())
    };
    if let Some(helper) = config.get("credHelpers").and_then(matching)
        && let Some(name) = helper.as_str()
    {
        return run_helper(name, &key, path);
    }
    if let Some(store) = config.get("credsStore").and_then(|s| s.as_str())
        && !store.is_empty()
    {
        let found = run_helper(store, &key, path)?;
        if found != Credentials::Anonymous {
            return Ok(found);
        }
    }
    let Some(entry) = config.get("auths").and_then(matching) else {
        return Ok(Credentials::Anonymous);
    };
    let field = |k: &str| {
        entry
            .get(k)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if let Some(token) = field("identitytoken") {
        return Ok(Credentials::IdentityToken(token));
    }
    if let Some(auth) = field("auth") {
        let bad = || {
            Error::new(format!(
                "the `auth` of `{key}` in `{}` is not base64 `user:password`",
                path.display()
            ))
            .with_help(format!("run `docker login {key}` again"))
        };
        let decoded = STANDARD.decode(auth.trim()).map_err(|_| bad())?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
        let (u, p) = decoded.split_once(':').ok_or_else(bad)?;
        return Ok(Credentials::Basic {
            username: u.to_string(),
            password: p.to_string(),
        });
    }
    match (field("username"), field("password")) {
        (Some(username), Some(password)) => Ok(Credentials::Basic { username, password }),
        _ => Ok(Credentials::Anonymous),
    }
}

/// Whether `name` may be run as `docker-credential-<name>`: a plain word, no path.
pub fn valid_helper_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.contains("..")
}

const HELPER_TIMEOUT: Duration = Duration::from_secs(30);
const HELPER_HELP: &str =
    "check the helper (it may be waiting for a password prompt), or pass `--creds user:token`";

/// Run `docker-credential-<name> get` with `host` on standard input.
fn run_helper(name: &str, host: &str, config: &Path) -> Result<Credentials> {
    if !valid_helper_name(name) {
        return Err(Error::new(format!(
            "credential helper `{name}` in `{}` is not a helper name",
            config.display()
        ))
        .with_help(
            "a helper is named by a plain word (`docker-credential-<word>` on PATH), never a path",
        ));
    }
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::new(format!("cannot run credential helper `{program}`: {e}")).with_help(format!(
                "install `{program}` on PATH, or remove it from `{}`",
                config.display()
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading closes the pipe; its exit status says more.
        let _ = stdin.write_all(host.as_bytes());
    }
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(1 << 20).read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() < HELPER_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(5))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::new(format!(
                    "credential helper `{program}` did not answer within {} s",
                    HELPER_TIMEOUT.as_secs()
                ))
                .with_help(HELPER_HELP));
            }
        }
    };
    let stdout = String::from_utf8_lossy(&out.join().unwrap_or_default()).to_string();
    let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).to_string();
    if !status.success() {
        if stdout.contains("credentials not found") || stderr.contains("credentials not found") {
            return Ok(Credentials::Anonymous);
        }
        let said = stderr.trim();
        let said = if said.is_empty() { stdout.trim() } else { said };
        return Err(Error::new(format!(
            "credential helper `{program}` failed for `{host}`: {}",
            said.lines().next().unwrap_or("no message")
        ))
        .with_help("run `docker login` for the registry, or pass `--creds user:token`"));
    }
    let answer: serde_json::Value = serde_json::from_str(&stdout).map_err(|_| {
        Error::new(format!("credential helper `{program}` did not print JSON"))
            .with_help("the helper must print `{\"Username\": …, \"Secret\": …}`")
    })?;
    let get = |k: &str| {
        answer
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let (username, secret) = (get("Username"), get("Secret"));
    Ok(match (username.as_str(), secret.is_empty()) {
        (_, true) => Credentials::Anonymous,
        ("<token>", false) => Credentials::IdentityToken(secret),
        _ => Credentials::Basic {
            username,
            password: secret,
        },
    })
}

/// A `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `bearer` or `basic` (lowercase).
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parse `Bearer realm="…",service="…",scope="…"` (or `Basic realm="…"`).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() || chars.next().is_none() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n)
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        params.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:org/app:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.example.com/token");
        assert_eq!(c.params["service"], "registry.example.com");
        assert_eq!(c.params["scope"], "repository:org/app:pull,push");
        let c = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(
            (c.scheme.as_str(), c.params["realm"].as_str()),
            ("basic", "Registry Realm")
        );
        let c = parse_challenge("Bearer realm=https://a/t, service=s").unwrap();
        assert_eq!(c.params["service"], "s");
    }

    #[test]
    fn helper_names() {
        for ok in [
            "desktop",
            "ecr-login",
            "gcloud",
            "osxkeychain",
            "pass",
            "a.b_c",
        ] {
            assert!(valid_helper_name(ok), "{ok}");
        }
        for bad in [
            "", "../x", "/bin/sh", "a/b", "a\\b", "-x", ".x", "a b", "a..b", "a;b",
        ] {
            assert!(!valid_helper_name(bad), "{bad}");
        }
    }

    #[test]
    fn config_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("config.json");
        let auth = STANDARD.encode("me:secret");
        std::fs::write(
            &p,
            format!(
                r#"{{"auths": {{"https://ghcr.io": {{"auth": "{auth}"}},
                 "https://index.docker.io/v1/": {{"username": "u", "password": "p"}},
                 "acr.example.io": {{"identitytoken": "rt"}}}},
                 "credHelpers": {{"bad.example.io": "../../bin/sh"}}}}"#
            ),
        )
        .unwrap();
        assert_eq!(
            from_config_file(&p, "ghcr.io").unwrap(),
            Credentials::Basic {
                username: "me".into(),
                password: "secret".into()
            }
        );
        assert_eq!(
            from_config_file(&p, "docker.io").unwrap().basic_header(),
            Some(format!("Basic {}", STANDARD.encode("u:p")))
        );
        assert_eq!(
            from_config_file(&p, "acr.example.io").unwrap(),
            Credentials::IdentityToken("rt".into())
        );
        assert_eq!(
            from_config_file(&p, "quay.io").unwrap(),
            Credentials::Anonymous
        );
        let e = from_config_file(&p, "bad.example.io").unwrap_err();
        assert!(e.message.contains("not a helper name"), "{}", e.message);
        assert!(format!("{:?}", from_config_file(&p, "ghcr.io").unwrap()).contains("***"));
    }

    #[test]
    fn creds_flag() {
        assert!(parse_creds("user:tok:en").is_ok());
        for bad in ["user", ":tok", "user:"] {
            assert!(parse_creds(bad).is_err(), "{bad}");
        }
    }
}
