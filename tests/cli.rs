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

/// `1.23 s` → `T s`: the summary's time changes from run to run.
fn without_time(text: &str) -> String {
    let re = regex::Regex::new(r"in [0-9]+\.[0-9]+ s").expect("regex");
    re.replace_all(text, "in T s").to_string()
}

#[test]
fn render_out_summarises_and_lists_or_prunes_stale_files() {
    let p = deprecated_project();
    fs::create_dir_all(p.path().join("rendered/old")).expect("mkdir");
    for f in [
        "rendered/qa.yaml",
        "rendered/old/eu.yaml",
        "rendered/notes.txt",
    ] {
        fs::write(p.path().join(f), "x").expect("write");
    }
    let out = strata(p.path(), &["render", "-o", "rendered/"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = without_time(&stderr(&out));
    let from = err.find("  ⚠ 2 files").expect("stale files listed");
    snapshot("render-out-summary", &err[from..]);
    assert!(p.path().join("rendered/qa.yaml").exists());
    // `--prune` removes them (never a file that is not `.yaml`); `--output` is `--out`.
    let out = strata(
        p.path(),
        &["render", "-q", "--output", "rendered", "--prune"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!p.path().join("rendered/qa.yaml").exists());
    assert!(!p.path().join("rendered/old/eu.yaml").exists());
    assert!(p.path().join("rendered/notes.txt").exists());
    assert!(p.path().join("rendered/prod.yaml").exists());
    // Rendering one environment keeps the others' files: they are not stale.
    let out = strata(p.path(), &["render", "dev", "--out", "rendered"]);
    assert!(!stderr(&out).contains("belongs to no environment"));
    assert!(p.path().join("rendered/prod.yaml").exists());
}

#[test]
fn build_output_to_a_directory_or_a_file() {
    let p = project(&[
        ("app/kustomization.yaml", "resources:\n- cm.yaml\n"),
        ("app/cm.yaml", CM),
    ]);
    // A path ending in `/` is a directory, created when missing.
    let out = strata(p.path(), &["build", "app", "-o", "missing-dir/"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files: Vec<String> = fs::read_dir(p.path().join("missing-dir"))
        .expect("a directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(files, ["v1_configmap_settings.yaml"]);
    // An existing directory too; any other path is a file.
    fs::create_dir(p.path().join("existing")).expect("mkdir");
    let out = strata(p.path(), &["build", "app", "-o", "existing"]);
    assert!(out.status.success());
    assert!(
        p.path()
            .join("existing/v1_configmap_settings.yaml")
            .is_file()
    );
    let out = strata(p.path(), &["build", "app", "-o", "out.yaml"]);
    assert!(out.status.success());
    let text = fs::read_to_string(p.path().join("out.yaml")).expect("a file");
    assert!(text.contains("name: settings"));
}

#[test]
fn a_reader_that_closes_early_ends_the_build_quietly() {
    use std::io::Read;
    let mut files = vec![("app/kustomization.yaml".to_string(), String::new())];
    let mut k = String::from("resources:\n");
    for i in 0..2000 {
        k.push_str(&format!("- cm{i}.yaml\n"));
        files.push((
            format!("app/cm{i}.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\ndata:\n  a: \"{i}\"\n"
            ),
        ));
    }
    files[0].1 = k;
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let p = project(&refs);
    for args in [
        &["build", "app"][..],
        &["validate", "-o", "junit", "app"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
            .current_dir(p.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("strata starts");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut first = [0u8; 1];
        let _ = stdout.read(&mut first);
        drop(stdout);
        let out = child.wait_with_output().expect("strata ends");
        assert_eq!(stderr(&out), "", "{args:?}");
        assert!(out.status.success(), "{args:?}: {:?}", out.status);
    }
}
