//! Build script: the version `strata --version` prints, with the git commit when the
//! source is a git checkout (`0.1.0 (1a2b3c4d5e6f 2026-12-01)`). A tarball without `.git`,
//! or a machine without git, gets the plain package version: nothing here can fail the build.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Rebuild when `path` changes (a missing path would rerun this script on every build).
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&dir);
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    // Only this package's own checkout: not a repository that merely contains it.
    let top = git(dir, &["rev-parse", "--show-toplevel"]);
    let ours = top
        .as_deref()
        .and_then(|t| std::fs::canonicalize(t).ok())
        .zip(std::fs::canonicalize(dir).ok())
        .is_some_and(|(t, d)| t == d);
    let commit = ours
        .then(|| git(dir, &["rev-parse", "--short=12", "HEAD"]))
        .flatten();
    if let Some(commit) = commit {
        let date = git(dir, &["log", "-1", "--format=%cs", "HEAD"]).unwrap_or_default();
        let full = format!("{version} ({commit} {date})");
        println!("cargo:rustc-env=STRATA_VERSION={}", full.replace(" )", ")"));
        // A new commit (or a checkout) changes HEAD or the ref it names.
        for what in ["HEAD", "packed-refs"] {
            if let Some(p) = git(dir, &["rev-parse", "--git-path", what]) {
                watch(&dir.join(p));
            }
        }
        if let Some(r) = git(dir, &["symbolic-ref", "-q", "HEAD"])
            && let Some(p) = git(dir, &["rev-parse", "--git-path", &r])
        {
            watch(&dir.join(p));
        }
    }
}
