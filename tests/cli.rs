//! The command line as a user meets it: warnings, output files, completions, the project
//! file, `init`, `values`. Snapshots live in `tests/cli/<name>.txt`
//! (`STRATA_BLESS=1 cargo test --test cli` rewrites them).

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
        .output()
        .expect("strata runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A test that needs something this machine lacks says so and passes, unless
/// `STRATA_REQUIRE_CORPORA=1` (set by `.ci/run`): then it fails.
#[allow(dead_code)]
fn skip(what: &str) {
    if std::env::var_os("STRATA_REQUIRE_CORPORA").is_some() {
        panic!("required but missing: {what}");
    }
    eprintln!("skipped: {what}");
}

fn snapshot(name: &str, actual: &str) {
    let path = root().join("tests/cli").join(format!("{name}.txt"));
    if std::env::var_os("STRATA_BLESS").is_some() {
        fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        expected,
        actual,
        "{name}: output differs from {} (STRATA_BLESS=1 rewrites it)",
        path.display()
    );
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    for (path, content) in files {
        let p = tmp.path().join(path);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, content).expect("write");
    }
    tmp
}

const CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n";

/// Three environments over one base, every layer using the deprecated `commonLabels`.
fn deprecated_project() -> tempfile::TempDir {
    let mut files = vec![
        (
            "base/kustomization.yaml".to_string(),
            "commonLabels:\n  app: web\nresources:\n- cm.yaml\n".to_string(),
        ),
        ("base/cm.yaml".to_string(), CM.to_string()),
    ];
    for env in ["dev", "staging", "prod"] {
        files.push((
            format!("overlays/{env}/kustomization.yaml"),
            format!("resources:\n- ../../base\ncommonLabels:\n  env: {env}\n"),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    project(&refs)
}

#[test]
fn render_prints_each_distinct_warning_once() {
    let p = deprecated_project();
    let out = strata(p.path(), &["render", "--out", "rendered"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.matches("is deprecated").count(), 1, "{err}");
    // The summary line after the warnings changes with timing: keep the warnings only.
    let warnings: String = err
        .lines()
        .filter(|l| !l.starts_with("wrote "))
        .map(|l| format!("{l}\n"))
        .collect();
    snapshot("render-warnings", &warnings);
    // `--quiet` silences them; `build` keeps Kustomize's lines exactly.
    let out = strata(p.path(), &["render", "-q", "--out", "rendered"]);
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    let out = strata(p.path(), &["build", "overlays/dev"]);
    let line = "# Warning: 'commonLabels' is deprecated. Please use 'labels' instead. Run 'kustomize edit fix' to update your Kustomization automatically.\n";
    assert_eq!(stderr(&out), format!("{line}{line}"));
}

#[test]
fn an_error_in_a_shared_base_is_reported_once() {
    let p = deprecated_project();
    fs::write(
        p.path().join("base/kustomization.yaml"),
        "resources:\n- cm.yaml\n- missing.yaml\n",
    )
    .expect("write");
    let out = strata(p.path(), &["render", "-q", "--out", "rendered"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.matches('×').count(), 1, "{err}");
    assert!(
        err.contains("environments `dev`, `prod`, `staging`: resource `missing.yaml`"),
        "{err}"
    );
}
