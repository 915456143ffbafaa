//! Remote resources: `https://github.com/org/repo//path?ref=v1`, `git@host:org/repo.git//path`,
//! `github.com/org/repo/path`, `file:///srv/repo//path`, and plain `https://…/file.yaml`.
//!
//! Git repositories are fetched with the `git` binary (shallow, at `ref`) into an on-disk
//! cache keyed by repository URL and ref, so a second build reads the cache and neither
//! clones nor touches the network (Kustomize clones on every build); plain files are
//! downloaded into the same cache with the crate's HTTP client (`http`: https only, at
//! most 5 redirects, bounded in time and size). A checkout is written
//! to a temporary directory and renamed into place under a lock file, so processes sharing
//! a cache fetch an entry once and an interrupted fetch never leaves a half-written entry;
//! within a process each entry is fetched once. `--offline` uses only the cache.
//!
//! A remote entry is untrusted input that reaches a command line: URLs and refs are
//! validated (nothing may read as an option, refs follow git's rules), every positional
//! argument comes after `--`, only https and ssh are fetched (`file://` with a flag), and
//! git runs with hooks, submodules, system config and prompts switched off, under a timeout.
//! A remote path may not hold `..` and, resolved on disk, must stay inside its checkout.

use crate::error::{Error, Result};
use crate::fs;
use crate::http;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Where fetched repositories live, and whether fetching is allowed.
#[derive(Debug, Clone, Default)]
pub struct RemoteOptions {
    pub offline: bool,
    /// Overrides the cache directory (default `$STRATA_CACHE_DIR`, `$XDG_CACHE_HOME/strata`,
    /// `~/.cache/strata`).
    pub cache_dir: Option<PathBuf>,
    /// Fetch `file://` repositories too (`--allow-file-remotes`).
    pub allow_file: bool,
    /// How long one `git` command or download may run (`--remote-timeout`; default 120 s).
    pub timeout: Option<Duration>,
    /// The largest remote file downloaded (`--max-download-bytes`; default 64 MiB).
    pub max_download_bytes: Option<u64>,
}

impl RemoteOptions {
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(Duration::from_secs(120))
    }

    pub fn max_download_bytes(&self) -> u64 {
        self.max_download_bytes.unwrap_or(64 << 20)
    }

    pub fn cache_root(&self) -> PathBuf {
        if let Some(d) = &self.cache_dir {
            return d.clone();
        }
        if let Some(d) = std::env::var_os("STRATA_CACHE_DIR") {
            return PathBuf::from(d);
        }
        if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
            return PathBuf::from(d).join("strata");
        }
        match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".cache/strata"),
            None => std::env::temp_dir().join("strata-cache"),
        }
    }
}

/// A parsed remote location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    Git {
        repo: String,
        path: String,
        git_ref: String,
        submodules: bool,
    },
    File {
        url: String,
    },
}

/// Whether a `resources` entry names a remote location rather than a local path.
pub fn is_remote(entry: &str) -> bool {
    let e = entry.to_ascii_lowercase();
    e.contains("://")
        || e.starts_with("git@")
        || e.starts_with("github.com/")
        || e.starts_with("git::")
        || e.starts_with("gh:")
}

/// Parse a remote entry.
pub fn parse(entry: &str) -> Result<Remote> {
    let (base, query) = match entry.split_once('?') {
        Some((b, q)) => (b, q),
        None => (entry, ""),
    };
    let mut git_ref = String::new();
    let mut submodules = true;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "ref" => git_ref = v.to_string(),
            "version" if git_ref.is_empty() => git_ref = v.to_string(),
            "submodules" => submodules = v != "false",
            _ => {}
        }
    }
    let mut base = base.trim_start_matches("git::").to_string();
    if let Some(rest) = base.strip_prefix("gh:") {
        base = format!("https://github.com/{rest}");
    }
    if base.starts_with("github.com/") {
        base = format!("https://{base}");
    }
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let lower = base.to_ascii_lowercase();
    let is_http = lower.starts_with("http://") || lower.starts_with("https://");
    // `repo//path` separates the repository from the path inside it.
    let (repo, path) = if let Some(i) = base[scheme_end..].find("//") {
        let i = scheme_end + i;
        (base[..i].to_string(), base[i + 2..].to_string())
    } else if let Some(i) = base.find(".git/") {
        (base[..i + 4].to_string(), base[i + 5..].to_string())
    } else if base.ends_with(".git")
        || base.starts_with("git@")
        || lower.starts_with("file://")
        || lower.starts_with("ssh://")
    {
        (base.clone(), String::new())
    } else if is_http
        && git_ref.is_empty()
        && (lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json"))
    {
        return Ok(Remote::File {
            url: entry.to_string(),
        });
    } else if is_http {
        // host/org/repo[/path]
        let rest = &base[scheme_end..];
        let parts: Vec<&str> = rest.splitn(4, '/').collect();
        if parts.len() < 3 {
            return Err(
                Error::new(format!("remote `{entry}` does not name a repository"))
                    .with_help("write `https://host/org/repo//path?ref=tag`"),
            );
        }
        (
            format!(
                "{}{}/{}/{}",
                &base[..scheme_end],
                parts[0],
                parts[1],
                parts[2]
            ),
            parts.get(3).map(|s| s.to_string()).unwrap_or_default(),
        )
    } else {
        (base.clone(), String::new())
    };
    Ok(Remote::Git {
        repo,
        path: path.trim_matches('/').to_string(),
        git_ref,
        submodules,
    })
}

fn key(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\n").as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// What a remote entry resolved to on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A downloaded file of resources.
    File(PathBuf),
    /// A directory inside a checkout; `repo` is the checkout's root, which the layers of
    /// this remote base may not leave.
    Dir { path: PathBuf, repo: PathBuf },
}

/// Remote keys fetched (or being fetched) by this process: each is fetched once, however
/// many layers and environments name it.
#[derive(Default)]
pub struct Fetches {
    done: Mutex<HashMap<String, Arc<OnceLock<Result<Fetched>>>>>,
}

impl Fetches {
    /// The entries fetched (or tried) so far, sorted (`strata deps` lists them).
    pub fn entries(&self) -> Vec<String> {
        let done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<String> = done.keys().cloned().collect();
        out.sort();
        out
    }
}

/// The local directory (or file) holding a remote resource, fetched if not cached.
pub fn fetch(entry: &str, opts: &RemoteOptions, fetches: &Fetches) -> Result<Fetched> {
    let cell = {
        let mut done = fetches.done.lock().unwrap_or_else(|p| p.into_inner());
        done.entry(entry.to_string()).or_default().clone()
    };
    cell.get_or_init(|| fetch_once(entry, opts)).clone()
}

fn fetch_once(entry: &str, opts: &RemoteOptions) -> Result<Fetched> {
    let remote = parse(entry)?;
    check(&remote, opts)?;
    let root = opts.cache_root();
    match remote {
        Remote::File { url } => download(&url, entry, &root, opts).map(Fetched::File),
        Remote::Git {
            repo,
            path,
            git_ref,
            ..
        } => {
            let checkout = root.join("git").join(key(&[&repo, &git_ref]));
            with_lock(&checkout, || {
                if !checkout.join(".strata-complete").is_file() {
                    if opts.offline {
                        return Err(offline(entry));
                    }
                    clone(&repo, &git_ref, &checkout, opts)?;
                }
                Ok(())
            })?;
            let tree = fs::real(&checkout.join("tree"))?.unwrap_or_else(|| checkout.join("tree"));
            let at = if git_ref.is_empty() { "HEAD" } else { &git_ref };
            let missing = || {
                Error::new(format!("`{path}` does not exist in `{repo}` at `{at}`"))
.with_kind(crate::error::ErrorKind::NotFound).with_help(
                    "check the path after `//` in the remote URL (strata does not fetch submodules)",
                )
            };
            // The path was checked to hold no `..`; a symlink inside the checkout still may
            // not lead out of it.
            let Some(found) = fs::find(&tree.join(&path))? else {
                return Err(missing());
            };
            let (fs::Found::Dir(dir) | fs::Found::File(dir)) = found;
            if !dir.starts_with(&tree) {
                return Err(Error::new(format!(
                    "security; `{path}` leads outside the checkout of `{repo}`"
                ))
                .with_help("a remote path must stay inside its repository"));
            }
            if !dir.is_dir() {
                return Err(
                    missing().with_help("a remote base names a directory holding a kustomization")
                );
            }
            Ok(Fetched::Dir {
                path: dir,
                repo: tree,
            })
        }
    }
}

/// Refuse what no remote entry may hold: option-like or malformed URLs and refs, `..` in
/// the path, protocols other than https and ssh (file only when allowed).
fn check(remote: &Remote, opts: &RemoteOptions) -> Result<()> {
    match remote {
        Remote::File { url } => {
            if !url.to_ascii_lowercase().starts_with("https://") {
                return Err(
                    Error::new(format!("remote file `{url}` is not an https URL"))
                        .with_help("strata downloads remote files over https only"),
                );
            }
            check_url(url)
        }
        Remote::Git {
            repo,
            path,
            git_ref,
            ..
        } => {
            check_url(repo)?;
            let lower = repo.to_ascii_lowercase();
            let scheme_ok = lower.starts_with("https://")
                || lower.starts_with("ssh://")
                || lower.starts_with("git@")
                || (lower.starts_with("file://") && opts.allow_file);
            if !scheme_ok {
                let help = if lower.starts_with("file://") {
                    "pass `--allow-file-remotes` to fetch `file://` repositories"
                } else {
                    "strata fetches repositories over https and ssh only"
                };
                return Err(Error::new(format!(
                    "repository `{repo}` uses a protocol strata does not fetch"
                ))
                .with_help(help));
            }
            if path.split('/').any(|c| c == "..") {
                return Err(Error::new(format!(
                    "security; the path `{path}` in a remote URL may not contain `..`"
                ))
                .with_help("a remote path must stay inside its repository"));
            }
            check_ref(git_ref)
        }
    }
}

fn check_url(url: &str) -> Result<()> {
    // ssh reads a host that starts with `-` as an option (`-oProxyCommand=…`).
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .or_else(|| url.strip_prefix("git@"))
        .unwrap_or(url);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let bad = url.starts_with('-')
        || host.starts_with('-')
        || url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if bad {
        return Err(
            Error::new(format!("`{url}` is not a valid remote URL")).with_help(
                "a remote URL may not start with `-` or hold spaces or control characters",
            ),
        );
    }
    Ok(())
}

/// Git's rules for a ref name (`git check-ref-format`), and no leading `-`: a ref reaches
/// `git fetch` as an argument and must never read as an option.
pub fn check_ref(r: &str) -> Result<()> {
    if r.is_empty() {
        return Ok(());
    }
    let bad_char = |c: char| {
        c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\' | '\u{7f}')
    };
    let valid = !r.starts_with('-')
        && !r.starts_with('/')
        && !r.ends_with('/')
        && !r.ends_with('.')
        && !r.ends_with(".lock")
        && !r.contains("..")
        && !r.contains("@{")
        && !r.contains("//")
        && r != "@"
        && r.len() <= 255
        && !r.chars().any(bad_char)
        && !r
            .split('/')
            .any(|c| c.starts_with('.') || c.ends_with(".lock"));
    if valid {
        return Ok(());
    }
    Err(Error::new(format!("`{r}` is not a valid git ref"))
        .with_help("a `ref` names a branch, tag or commit (git's ref-name rules; no leading `-`)"))
}

fn offline(entry: &str) -> Error {
    Error::new(format!(
        "remote `{entry}` is not in the cache and `--offline` forbids fetching it"
    ))
    .with_help("build once without `--offline` to fill the cache")
}

/// Run `f` holding an exclusive lock on `<entry>.lock` beside the cache entry, so that
/// processes sharing a cache fetch each entry once and never see it half-written.
fn with_lock<T>(entry: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let parent = entry.parent().unwrap_or(entry);
    std::fs::create_dir_all(parent).map_err(|e| cache_error("create", parent, &e))?;
    let mut name = entry.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    let lock_path = parent.join(name);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| cache_error("open", &lock_path, &e))?;
    lock.lock()
        .map_err(|e| cache_error("lock", &lock_path, &e))?;
    let result = f();
    let _ = lock.unlock();
    result
}

fn cache_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::new(format!(
        "cannot {what} `{}` in the cache: {}",
        path.display(),
        fs::reason(e)
    ))
    .with_help("check that the cache directory (`$STRATA_CACHE_DIR`) is writable")
}

/// A plain https file, downloaded into the cache.
fn download(url: &str, entry: &str, root: &Path, opts: &RemoteOptions) -> Result<PathBuf> {
    download_with(url, entry, root, opts, &download_options(opts))
}

/// How remote files are fetched: over https only (redirects included, at most 5), within
/// `--remote-timeout` in all and `--max-download-bytes` in size.
fn download_options(opts: &RemoteOptions) -> http::Options {
    http::Options {
        timeout: opts.timeout(),
        total: Some(opts.timeout()),
        max_bytes: opts.max_download_bytes(),
        max_bytes_flag: Some("--max-download-bytes"),
        timeout_flag: "--remote-timeout",
        https_only: true,
        max_redirects: 5,
    }
}

fn download_with(
    url: &str,
    entry: &str,
    root: &Path,
    opts: &RemoteOptions,
    http: &http::Options,
) -> Result<PathBuf> {
    let dir = root.join("http").join(key(&[url]));
    let file = dir.join("resource.yaml");
    with_lock(&dir, || {
        if file.is_file() {
            return Ok(());
        }
        if opts.offline {
            return Err(offline(entry));
        }
        let body = http::get(url, http)?;
        std::fs::create_dir_all(&dir).map_err(|e| cache_error("create", &dir, &e))?;
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)
            .map_err(|e| cache_error("create a file in", &dir, &e))?;
        tmp.write_all(&body)
            .map_err(|e| cache_error("write", tmp.path(), &e))?;
        tmp.persist(&file)
            .map_err(|e| cache_error("write", &file, &e.error))?;
        Ok(())
    })?;
    Ok(file)
}

/// A `git` command with every setting that could run code or prompt switched off.
fn git_command(dir: &Path, opts: &RemoteOptions) -> Command {
    let mut cmd = Command::new("git");
    let protocols = if opts.allow_file {
        "protocol.file.allow=always"
    } else {
        "protocol.file.allow=never"
    };
    for c in [
        "protocol.allow=never",
        "protocol.https.allow=always",
        "protocol.ssh.allow=always",
        protocols,
        "core.hooksPath=/dev/null",
        "core.fsmonitor=false",
        "submodule.recurse=false",
        "credential.interactive=false",
        "http.lowSpeedLimit=1000",
        "http.lowSpeedTime=30",
        "advice.detachedHead=false",
    ] {
        cmd.arg("-c").arg(c);
    }
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env("SSH_ASKPASS", "true")
        .env_remove("GIT_EXEC_PATH")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_CONFIG_PARAMETERS")
        .stdin(Stdio::null());
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    cmd
}

fn git(args: &[&str], dir: &Path, opts: &RemoteOptions) -> Result<()> {
    let mut cmd = git_command(dir, opts);
    cmd.args(args);
    let out = crate::process::run(cmd, opts.timeout(), "git", "--remote-timeout")?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(Error::new(format!(
        "`git {}` failed: {}",
        args.join(" "),
        stderr.trim()
    ))
    .with_help("check the repository URL and `ref`, and that this machine can reach it"))
}

fn clone(repo: &str, git_ref: &str, checkout: &Path, opts: &RemoteOptions) -> Result<()> {
    let parent = checkout.parent().unwrap_or(checkout);
    let tmp = tempfile::Builder::new()
        .prefix(".fetch-")
        .tempdir_in(parent)
        .map_err(|e| cache_error("create a directory in", parent, &e))?;
    let tree = tmp.path().join("tree");
    std::fs::create_dir_all(&tree).map_err(|e| cache_error("create", &tree, &e))?;
    let r = if git_ref.is_empty() { "HEAD" } else { git_ref };
    git(&["init", "-q"], &tree, opts)?;
    git(
        &[
            "fetch",
            "-q",
            "--depth",
            "1",
            "--no-tags",
            "--no-recurse-submodules",
            "--",
            repo,
            r,
        ],
        &tree,
        opts,
    )?;
    git(&["checkout", "-q", "--detach", "FETCH_HEAD"], &tree, opts)?;
    std::fs::write(
        tmp.path().join(".strata-complete"),
        format!("{repo}\n{r}\n"),
    )
    .map_err(|e| cache_error("write", tmp.path(), &e))?;
    if checkout.exists() {
        std::fs::remove_dir_all(checkout).map_err(|e| cache_error("replace", checkout, &e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, checkout).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        cache_error("move the checkout into", checkout, &e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(repo: &str, path: &str, r: &str) -> Remote {
        Remote::Git {
            repo: repo.into(),
            path: path.into(),
            git_ref: r.into(),
            submodules: true,
        }
    }

    #[test]
    fn urls() {
        for (entry, want) in [
            (
                "https://github.com/org/repo//deploy/base?ref=v1",
                g("https://github.com/org/repo", "deploy/base", "v1"),
            ),
            (
                "github.com/org/repo/deploy?ref=v2",
                g("https://github.com/org/repo", "deploy", "v2"),
            ),
            (
                "git@github.com:org/repo.git//base?ref=main",
                g("git@github.com:org/repo.git", "base", "main"),
            ),
            (
                "https://example.com/org/repo.git/sub?version=1",
                g("https://example.com/org/repo.git", "sub", "1"),
            ),
            (
                "file:///srv/repo//apps/web?ref=abc",
                g("file:///srv/repo", "apps/web", "abc"),
            ),
            (
                "https://example.com/manifests/app.yaml",
                Remote::File {
                    url: "https://example.com/manifests/app.yaml".into(),
                },
            ),
        ] {
            assert_eq!(parse(entry).expect("parses"), want, "{entry}");
        }
        assert!(is_remote("https://x/y"));
        assert!(!is_remote("../base"));
    }

    #[test]
    fn downloads_are_https_only_bounded_and_cached() {
        let opts = RemoteOptions {
            timeout: Some(Duration::from_secs(7)),
            max_download_bytes: Some(1000),
            ..RemoteOptions::default()
        };
        let http = download_options(&opts);
        assert!(http.https_only);
        assert_eq!(http.max_redirects, 5);
        assert_eq!(http.total, Some(Duration::from_secs(7)));
        assert_eq!(http.max_bytes, 1000);
        assert_eq!(http.timeout_flag, "--remote-timeout");

        // A loopback server (plain http: the policy is the test's own) answers once; the
        // second build reads the cache.
        let cache = tempfile::tempdir().unwrap();
        let addr = crate::http::tests::serve(vec![Some(
            "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nkind: Foo",
        )]);
        let url = format!("http://{addr}/x.yaml");
        let http = crate::http::Options {
            https_only: false,
            max_bytes: 100,
            ..crate::http::tests::quick()
        };
        for _ in 0..2 {
            let file = download_with(&url, &url, cache.path(), &opts, &http).unwrap();
            assert_eq!(std::fs::read_to_string(file).unwrap(), "kind: Foo");
        }
        let offline = RemoteOptions {
            offline: true,
            ..opts.clone()
        };
        let other = format!("http://{addr}/y.yaml");
        let e = download_with(&other, &other, cache.path(), &offline, &http).unwrap_err();
        assert!(e.message.contains("`--offline` forbids"), "{}", e.message);
        // A failed download leaves nothing in the cache.
        let e = download_with(&other, &other, cache.path(), &opts, &http).unwrap_err();
        assert!(
            e.message.starts_with(&format!("GET `{other}`")),
            "{}",
            e.message
        );
        let entry = cache.path().join("http").join(key(&[&other]));
        assert!(!entry.join("resource.yaml").exists());
    }
}
