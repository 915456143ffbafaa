//! Remote resources: `https://github.com/org/repo//path?ref=v1`, `git@host:org/repo.git//path`,
//! `github.com/org/repo/path`, `file:///srv/repo//path`, and plain `https://…/file.yaml`.
//!
//! Git repositories are fetched with the `git` binary (shallow, at `ref`) into an on-disk
//! cache keyed by repository URL and ref, so a second build reads the cache and neither
//! clones nor touches the network (Kustomize clones on every build). A checkout is written
//! to a temporary directory and renamed into place, so an interrupted fetch never leaves a
//! half-written cache entry. `--offline` uses only the cache.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where fetched repositories live, and whether fetching is allowed.
#[derive(Debug, Clone, Default)]
pub struct RemoteOptions {
    pub offline: bool,
    /// Overrides the cache directory (default `$STRATA_CACHE_DIR`, `$XDG_CACHE_HOME/strata`,
    /// `~/.cache/strata`).
    pub cache_dir: Option<PathBuf>,
}

impl RemoteOptions {
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

fn git(args: &[&str], dir: &Path) -> Result<()> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| {
            Error::new(format!("cannot run `git`: {e}")).with_help(
                "install git to use remote resources, or vendor the base into the repository",
            )
        })?;
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

/// The local directory (or file) holding a remote resource, fetched if not cached.
pub fn fetch(entry: &str, opts: &RemoteOptions) -> Result<PathBuf> {
    let remote = parse(entry)?;
    let root = opts.cache_root();
    match remote {
        Remote::File { url } => {
            let dir = root.join("http").join(key(&[&url]));
            let file = dir.join(url.rsplit('/').next().unwrap_or("resource.yaml"));
            if file.is_file() {
                return Ok(file);
            }
            if opts.offline {
                return Err(offline(entry));
            }
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::new(format!("cannot create `{}`: {e}", dir.display())))?;
            let tmp = dir.join(format!(".download-{}", std::process::id()));
            let status = Command::new("curl")
                .args(["-fsSL", "-o"])
                .arg(&tmp)
                .arg(&url)
                .status()
                .map_err(|e| {
                    Error::new(format!("cannot run `curl` to fetch `{url}`: {e}"))
                        .with_help("install curl, or vendor the file")
                })?;
            if !status.success() {
                let _ = std::fs::remove_file(&tmp);
                return Err(
                    Error::new(format!("cannot download `{url}`")).with_help("check the URL")
                );
            }
            std::fs::rename(&tmp, &file)
                .map_err(|e| Error::new(format!("cannot write `{}`: {e}", file.display())))?;
            Ok(file)
        }
        Remote::Git {
            repo,
            path,
            git_ref,
            submodules,
        } => {
            let checkout = root.join("git").join(key(&[&repo, &git_ref]));
            if !checkout.join(".strata-complete").is_file() {
                if opts.offline {
                    return Err(offline(entry));
                }
                clone(&repo, &git_ref, submodules, &checkout)?;
            }
            let dir = checkout.join("tree").join(&path);
            if !dir.exists() {
                return Err(Error::new(format!(
                    "`{path}` does not exist in `{repo}` at `{}`",
                    if git_ref.is_empty() { "HEAD" } else { &git_ref }
                ))
                .with_help("check the path after `//` in the remote URL"));
            }
            Ok(dir)
        }
    }
}

fn offline(entry: &str) -> Error {
    Error::new(format!(
        "remote `{entry}` is not in the cache and `--offline` forbids fetching it"
    ))
    .with_help("build once without `--offline` to fill the cache")
}

fn clone(repo: &str, git_ref: &str, submodules: bool, checkout: &Path) -> Result<()> {
    let parent = checkout.parent().unwrap_or(checkout);
    std::fs::create_dir_all(parent)
        .map_err(|e| Error::new(format!("cannot create `{}`: {e}", parent.display())))?;
    let tmp = parent.join(format!(
        ".fetch-{}-{}",
        checkout
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let tree = tmp.join("tree");
    std::fs::create_dir_all(&tree)
        .map_err(|e| Error::new(format!("cannot create `{}`: {e}", tree.display())))?;
    let result = (|| {
        git(&["init", "-q"], &tree)?;
        git(&["remote", "add", "origin", repo], &tree)?;
        let r = if git_ref.is_empty() { "HEAD" } else { git_ref };
        git(&["fetch", "-q", "--depth", "1", "origin", r], &tree)?;
        git(&["checkout", "-q", "FETCH_HEAD"], &tree)?;
        if submodules && tree.join(".gitmodules").is_file() {
            git(
                &["submodule", "update", "-q", "--init", "--recursive"],
                &tree,
            )?;
        }
        std::fs::write(tmp.join(".strata-complete"), format!("{repo}\n{r}\n"))
            .map_err(|e| Error::new(format!("cannot write the cache: {e}")))?;
        let _ = std::fs::remove_dir_all(checkout);
        std::fs::rename(&tmp, checkout)
            .map_err(|e| Error::new(format!("cannot move the checkout into the cache: {e}")))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
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
}
