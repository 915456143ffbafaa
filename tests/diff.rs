//! `strata diff`, `strata deps` and `strata affected`.
//!
//! - `tests/diff/envs`: two environments differing by an image, a generated ConfigMap
//!   (renamed by its hash), an added and a removed object and a Secret; the reports in
//!   every format are snapshots (`expected.txt`, `.md`, `.json`; `STRATA_BLESS=1` rewrites
//!   them) and none may hold a secret value.
//! - `--rev` on a temporary git repository, which must be left as it was.
//! - `deps`: a plan lists exactly the files a full build reads (the loader's record), over
//!   our fixtures and the conformance corpus.
//! - `affected` on a 3-environment repository.
//! - The CI workflow in `deploy/ci/` only uses commands and flags that exist.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn strata(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .current_dir(cwd)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("strata runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A test that needs something this machine lacks says so and passes, unless
/// `STRATA_REQUIRE_CORPORA=1` (set by `.ci/run`): then it fails.
fn require(what: &str) {
    if std::env::var_os("STRATA_REQUIRE_CORPORA").is_some() {
        panic!("{what} is required");
    }
    eprintln!("skipped: {what}");
}

/// Compare `got` with the snapshot `file` (`STRATA_BLESS=1` rewrites it).
fn snapshot(file: &Path, got: &str) {
    if std::env::var_os("STRATA_BLESS").is_some() {
        fs::write(file, got).expect("bless");
        return;
    }
    let want = fs::read_to_string(file).unwrap_or_default();
    assert_eq!(
        got,
        want,
        "{} differs (STRATA_BLESS=1 rewrites it)",
        file.display()
    );
}

/// Every secret value of the fixture, encoded and in clear.
const SECRETS: &[&str] = &[
    "YWRtaW4",
    "admin",
    "b2xkLXBhc3N3b3Jk",
    "old-password",
    "bmV3LXBhc3N3b3Jk",
    "new-password",
    "tok-before-rotation",
    "tok-after-rotation",
];

#[test]
fn two_environments_in_every_format() {
    let dir = root().join("tests/diff/envs");
    for (format, file) in [
        ("text", "expected.txt"),
        ("markdown", "expected.md"),
        ("json", "expected.json"),
    ] {
        let o = strata(&dir, &["diff", "old", "new", "--output", format]);
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        let out = stdout(&o);
        for s in SECRETS {
            assert!(
                !out.contains(s),
                "{format} shows the secret value `{s}`:\n{out}"
            );
        }
        assert!(out.contains("++++ (changed)"), "{format}:\n{out}");
        assert!(out.contains("**** (unchanged)"), "{format}:\n{out}");
        snapshot(&dir.join(file), &out);
    }
    let o = strata(&dir, &["diff", "old", "new", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let changes = v["environments"][0]["changes"].as_array().expect("changes");
    let status = |kind: &str, name: &str| {
        changes
            .iter()
            .find(|c| c["kind"] == kind && (c["newName"] == name || c["oldName"] == name))
            .map(|c| c["status"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(status("Deployment", "web").as_deref(), Some("changed"));
    assert_eq!(status("Service", "web-metrics").as_deref(), Some("added"));
    assert_eq!(
        status("ConfigMap", "legacy-settings").as_deref(),
        Some("removed")
    );
    assert_eq!(status("Secret", "web-creds").as_deref(), Some("changed"));
    let renamed = changes
        .iter()
        .find(|c| c["status"] == "renamed")
        .expect("the generated ConfigMap is paired through its hash");
    assert_ne!(renamed["oldName"], renamed["newName"]);
    assert!(
        renamed["oldName"]
            .as_str()
            .unwrap_or("")
            .starts_with("web-env-")
    );
    let deployment = changes
        .iter()
        .find(|c| c["kind"] == "Deployment")
        .expect("deployment");
    let lines: Vec<&str> = deployment["hunks"][0]["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    assert!(
        lines.contains(&"+        image: registry.example.com/web:1.1.0"),
        "{lines:?}"
    );
    assert_eq!(
        deployment["hunks"][0]["path"],
        "spec.template.spec.containers.0"
    );
}

#[test]
fn exit_codes_are_kubectl_diffs() {
    let dir = root().join("tests/diff/envs");
    assert_eq!(strata(&dir, &["diff", "old", "old"]).status.code(), Some(0));
    let o = strata(&dir, &["diff", "old", "new", "--exit-zero"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!o.stdout.is_empty());
    let o = strata(&dir, &["diff", "old", "missing"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains("unknown environment `missing`"),
        "{}",
        stderr(&o)
    );
    assert_eq!(strata(&dir, &["diff", "old"]).status.code(), Some(2));
}

#[test]
fn files_and_colour() {
    let dir = root().join("tests/diff/envs");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("old.yaml"), tmp.path().join("new.yaml"));
    fs::write(&a, stdout(&strata(&dir, &["render", "old"]))).expect("write");
    fs::write(&b, stdout(&strata(&dir, &["render", "new"]))).expect("write");
    let (a, b) = (
        a.to_string_lossy().to_string(),
        b.to_string_lossy().to_string(),
    );
    let files = strata(&dir, &["diff", &a, &b, "--color", "always"]);
    assert_eq!(files.status.code(), Some(1), "{}", stderr(&files));
    let out = stdout(&files);
    assert!(
        out.contains("\x1b[32m+        image: registry.example.com/web:1.1.0\x1b[0m"),
        "{out}"
    );
    for s in SECRETS {
        assert!(!out.contains(s), "{s}");
    }
    // Piped (not a terminal): no colour; NO_COLOR is respected as well.
    let plain = strata(&dir, &["diff", &a, &b]);
    assert!(!stdout(&plain).contains('\x1b'));
    let no_color = Command::new(env!("CARGO_BIN_EXE_strata"))
        .current_dir(&dir)
        .args(["diff", &a, &b])
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert!(!stdout(&no_color).contains('\x1b'));
}

/// `git` in `dir`, which must succeed.
fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.email=test@example.com",
            "-c",
            "user.name=test",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn have_git() -> bool {
    let ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        require("git");
    }
    ok
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("read") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A git repository holding a copy of `fixture`, committed.
fn repo_of(fixture: &Path) -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    copy_tree(fixture, t.path());
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "-A"]);
    git(t.path(), &["commit", "-q", "-m", "initial"]);
    t
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(file).expect("read");
    assert!(text.contains(from), "{} lacks {from}", file.display());
    fs::write(file, text.replace(from, to)).expect("write");
}

#[test]
fn against_a_revision_leaving_the_repository_alone() {
    if !have_git() {
        return;
    }
    let t = repo_of(&root().join("tests/diff/envs"));
    let r = t.path();
    edit(
        &r.join("overlays/new/kustomization.yaml"),
        "newTag: 1.1.0",
        "newTag: 1.2.0",
    );
    git(r, &["commit", "-q", "-am", "web 1.2.0"]);
    edit(
        &r.join("base/deployment.yaml"),
        "replicas: 2",
        "replicas: 3",
    );
    let status = git(r, &["status", "--porcelain"]);
    let index = fs::read(r.join(".git/index")).expect("index");
    // HEAD~1 against the working tree: the commit's image and the uncommitted replicas.
    let o = strata(r, &["diff", "--rev", "HEAD~1", "new", "--output", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("-        image: registry.example.com/web:1.1.0"),
        "{out}"
    );
    assert!(
        out.contains("+        image: registry.example.com/web:1.2.0"),
        "{out}"
    );
    assert!(out.contains("+  replicas: 3"), "{out}");
    for s in SECRETS {
        assert!(!out.contains(s), "{s}");
    }
    // Every environment by default; `old` changed only through the base.
    let o = strata(r, &["diff", "--rev", "HEAD", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let names: Vec<&str> = v["environments"]
        .as_array()
        .expect("envs")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, ["new", "old"]);
    assert_eq!(
        v["environments"][1]["changes"].as_array().map(Vec::len),
        Some(1)
    );
    // Nothing in the repository moved: same status, same index, no worktree.
    assert_eq!(git(r, &["status", "--porcelain"]), status);
    assert_eq!(fs::read(r.join(".git/index")).expect("index"), index);
    assert!(!r.join(".git/worktrees").exists());
    assert_eq!(git(r, &["stash", "list"]), "");
    // Hostile or unknown revisions are errors (exit 2), never options.
    let canary = r.join("canary");
    for rev in [
        "--output=canary",
        "-p",
        "no-such-rev",
        "HEAD~99",
        "HEAD:base",
    ] {
        let flag = format!("--rev={rev}");
        let o = strata(r, &["diff", &flag]);
        assert_eq!(o.status.code(), Some(2), "{rev}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{rev}");
    }
    assert!(!canary.exists());
    // An environment added since the revision: all its objects are added.
    copy_tree(&r.join("overlays/new"), &{
        let d = r.join("overlays/extra");
        fs::create_dir_all(&d).expect("mkdir");
        d
    });
    let o = strata(r, &["diff", "--rev", "HEAD", "extra", "--output", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(
        v["environments"][0]["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .all(|c| c["status"] == "added")
    );
}

#[test]
fn a_revision_of_a_project_in_a_subdirectory() {
    if !have_git() {
        return;
    }
    let t = tempfile::tempdir().expect("tempdir");
    let project = t.path().join("deploy/k8s");
    fs::create_dir_all(&project).expect("mkdir");
    copy_tree(&root().join("tests/diff/envs"), &project);
    fs::write(t.path().join("unrelated.txt"), "x").expect("write");
    // A base outside the project, in the same repository.
    let shared = t.path().join("shared/extra");
    fs::create_dir_all(&shared).expect("mkdir");
    fs::write(shared.join("kustomization.yaml"), "resources:\n- cm.yaml\n").expect("write");
    fs::write(
        shared.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  a: one\n",
    )
    .expect("write");
    edit(
        &project.join("overlays/old/kustomization.yaml"),
        "- legacy.yaml",
        "- legacy.yaml\n- ../../../../shared/extra",
    );
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "-A"]);
    git(t.path(), &["commit", "-q", "-m", "initial"]);
    edit(&project.join("base/service.yaml"), "port: 80", "port: 81");
    let o = strata(
        t.path(),
        &["diff", "--rev", "HEAD", "--root", "deploy/k8s", "old"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("+  - port: 81"), "{}", stdout(&o));
    edit(&shared.join("cm.yaml"), "a: one", "a: two");
    let o = strata(
        t.path(),
        &[
            "diff",
            "--rev",
            "HEAD",
            "--root",
            "deploy/k8s",
            "old",
            "-o",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("-  a: one") && out.contains("+  a: two"),
        "{out}"
    );
    let o = strata(
        t.path(),
        &[
            "affected",
            "--since",
            "HEAD",
            "--root",
            "deploy/k8s",
            "--exact",
        ],
    );
    // `new` through the base's port, `old` through the base outside the project too.
    assert_eq!(stdout(&o), "new\nold\n", "{}", stderr(&o));
}

#[test]
fn deps_command_lists_the_reads() {
    let dir = root().join("tests/diff/envs");
    let o = strata(&dir, &["deps", "new"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Exactly the files a build reads (`deps::tests` compares the two on every fixture).
    let out = stdout(&o);
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(
        got,
        [
            "base/deployment.yaml",
            "base/kustomization.yaml",
            "base/service.yaml",
            "overlays/new/kustomization.yaml",
            "overlays/new/metrics.yaml",
            "overlays/new/secret.yaml",
        ]
    );
    let o = strata(&dir, &["deps", "new", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["environment"], "new");
    assert_eq!(v["layers"], serde_json::json!(["base", "overlays/new"]));
    // Argo CD: repository paths from its top when in git, else relative to the app's path.
    let o = strata(&dir, &["deps", "new", "--format", "argocd"]);
    let value = stdout(&o);
    let value = value.trim_end();
    assert!(!value.contains('\n'));
    let paths: Vec<&str> = value.split(';').collect();
    assert_eq!(paths.len(), 6, "{value}");
    assert!(paths.iter().all(|p| p.ends_with(".yaml")), "{value}");
}

/// A project of three environments over one base.
fn three_environments() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    let r = t.path();
    fs::create_dir_all(r.join("base")).expect("mkdir");
    fs::write(
        r.join("base/kustomization.yaml"),
        "resources:\n- deployment.yaml\n",
    )
    .expect("write");
    fs::write(
        r.join("base/deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n",
    )
    .expect("write");
    fs::write(r.join("README.md"), "docs\n").expect("write");
    for env in ["dev", "staging", "prod"] {
        let d = r.join("overlays").join(env);
        fs::create_dir_all(&d).expect("mkdir");
        fs::write(
            d.join("kustomization.yaml"),
            format!("namePrefix: {env}-\nresources:\n- ../../base\n"),
        )
        .expect("write");
    }
    git(r, &["init", "-q"]);
    git(r, &["add", "-A"]);
    git(r, &["commit", "-q", "-m", "initial"]);
    t
}

fn affected(r: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["affected", "--since", "HEAD", "--output", "json"];
    all.extend_from_slice(args);
    let o = strata(r, &all);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("a JSON list")
}

#[test]
fn affected_environments() {
    if !have_git() {
        return;
    }
    let t = three_environments();
    let r = t.path();
    assert!(affected(r, &[]).is_empty());
    // An overlay: one environment.
    edit(
        &r.join("overlays/staging/kustomization.yaml"),
        "staging-",
        "stage-",
    );
    assert_eq!(affected(r, &[]), ["staging"]);
    git(r, &["checkout", "-q", "--", "."]);
    // The base: all three.
    edit(
        &r.join("base/deployment.yaml"),
        "replicas: 1",
        "replicas: 2",
    );
    assert_eq!(affected(r, &[]), ["dev", "prod", "staging"]);
    assert_eq!(affected(r, &["prod", "dev"]), ["prod", "dev"]);
    // A comment changes a file every environment reads, but no rendered byte.
    git(r, &["checkout", "-q", "--", "."]);
    edit(
        &r.join("base/deployment.yaml"),
        "replicas: 1",
        "replicas: 1 # one",
    );
    assert_eq!(affected(r, &[]).len(), 3);
    assert!(affected(r, &["--exact"]).is_empty());
    // Files no render reads affect nothing; a values.yaml appearing in a layer does.
    git(r, &["checkout", "-q", "--", "."]);
    edit(&r.join("README.md"), "docs", "more docs");
    assert!(affected(r, &[]).is_empty());
    fs::write(r.join("overlays/prod/values.yaml"), "x: 1\n").expect("write");
    assert_eq!(affected(r, &[]), ["prod"]);
    // Text: one per line.
    let o = strata(r, &["affected", "--since", "HEAD"]);
    assert_eq!(stdout(&o), "prod\n");
}

/// The `strata …` command lines of a CI file (shell lines, `\` continuations joined).
fn strata_commands(text: &str) -> Vec<Vec<String>> {
    let joined = text.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let line = line.trim_start_matches(|c: char| c.is_whitespace() || c == '-');
        let line = line.strip_prefix("run:").unwrap_or(line).trim();
        for part in line
            .split(['|', ';', '(', ')', '`'])
            .flat_map(|p| p.split("&&"))
            .flat_map(|p| p.split("$("))
        {
            let words: Vec<String> = part
                .split_whitespace()
                .map(|w| w.trim_matches('"').to_string())
                .collect();
            if let Some(i) = words
                .iter()
                .position(|w| w == "strata" || w.ends_with("/strata"))
                && (i == 0 || words[i - 1] == "exec")
            {
                out.push(words[i + 1..].to_vec());
            }
        }
    }
    out
}

#[test]
fn the_ci_workflow_uses_commands_that_exist() {
    let dir = root().join("deploy/ci");
    let mut checked = 0;
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("deploy/ci")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for file in files {
        let text = fs::read_to_string(&file).expect("read");
        for words in strata_commands(&text) {
            let Some(sub) = words.first() else { continue };
            let help = strata(&root(), &[sub.as_str(), "--help"]);
            assert!(
                help.status.success(),
                "{}: `strata {sub}` does not exist",
                file.display()
            );
            let help = stdout(&help);
            for flag in words.iter().filter(|w| w.starts_with("--")) {
                let flag = flag.split('=').next().unwrap_or(flag);
                assert!(
                    help.contains(&format!("{flag} "))
                        || help.contains(&format!("{flag}\n"))
                        || help.contains(&format!("{flag} <")),
                    "{}: `strata {sub}` has no flag `{flag}`",
                    file.display()
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "only {checked} strata commands found in deploy/ci"
    );
}
