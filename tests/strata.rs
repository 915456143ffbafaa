//! Integration tests, driven by fixture trees and the shared corpora.
//!
//! - `tests/fixtures/<case>/input` builds to `expected.yaml` (outputs taken from
//!   `kubectl kustomize`); an `args` file adds flags.
//! - `tests/errors/<case>/input` fails with exit 1, nothing on stdout, and the stderr
//!   snapshot `stderr.snap` (insta: `INSTA_UPDATE=always cargo test --test strata` rewrites
//!   the snapshots, `cargo insta review` shows them). A case runs `build` with the flags of
//!   its `args` file on `input`, or the command line its `command` file holds.
//! - The book's overlays and the Kustomize conformance corpus under `../shared` (skipped
//!   with a message when absent); a case listed in `tests/conformance/passing.txt` must
//!   keep passing.
//! - Determinism (1 thread vs many), `render --out` (complete and atomic), and the README
//!   quick start.

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

/// A test that needs something this machine lacks says so and passes, unless
/// `STRATA_REQUIRE_CORPORA=1` (set by `.ci/run`, where everything must be there): then it fails.
fn skip(what: &str) {
    if std::env::var_os("STRATA_REQUIRE_CORPORA").is_some() {
        panic!("required but missing: {what}");
    }
    eprintln!("skipped: {what}");
}

fn shared() -> Option<PathBuf> {
    let p = root().join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        skip("../shared is absent (the shared corpora live beside the checkout)");
        None
    }
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .expect("fixture dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn args_of(case: &Path) -> Vec<String> {
    fs::read_to_string(case.join("args"))
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Each `tests/fixtures/<case>/` holds `input/` (built as `input/<run>` when a `run` file
/// names a folder inside it), optional `args`, and either `expected.yaml` (what
/// `kubectl kustomize` printed) or `expected_error.txt` (kubectl fails too; strata's stderr
/// must hold this text and its stdout must be empty).
#[test]
fn fixtures_build_as_kubectl_does() {
    let mut failures = Vec::new();
    for case in cases(&root().join("tests/fixtures")) {
        let mut args = vec!["build".to_string()];
        args.extend(args_of(&case));
        let run = fs::read_to_string(case.join("run")).unwrap_or_default();
        let dir = match run.trim() {
            "" => "input".to_string(),
            r => format!("input/{r}"),
        };
        args.push(dir);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = strata(&case, &refs);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let ok = match fs::read_to_string(case.join("expected.yaml")) {
            Ok(expected) => {
                out.status.success() && String::from_utf8_lossy(&out.stdout) == expected
            }
            Err(_) => {
                let want = fs::read_to_string(case.join("expected_error.txt"))
                    .expect("expected.yaml or expected_error.txt");
                // The message as one line: the report's wrapping (and its `│`) undone.
                let flat: String = stderr
                    .split_whitespace()
                    .filter(|w| *w != "│")
                    .collect::<Vec<_>>()
                    .join(" ");
                out.status.code() == Some(1)
                    && out.stdout.is_empty()
                    && flat.contains(want.trim())
                    && !stderr.contains("panicked")
            }
        };
        if !ok {
            failures.push(format!(
                "{}: exit {:?}\n{}",
                case.display(),
                out.status.code(),
                stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn errors_match_snapshots() {
    let mut failures = Vec::new();
    for case in cases(&root().join("tests/errors")) {
        let args = error_command(&case);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = strata(&case, &refs);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if out.status.code() != Some(1) || !out.stdout.is_empty() {
            failures.push(format!(
                "{name}: expected exit 1 and empty stdout, got {:?}",
                out.status.code()
            ));
            continue;
        }
        assert!(!stderr.contains("panicked"), "{name} panicked");
        // Every case is compared (and, with `INSTA_UPDATE`, written) before any failure is
        // reported.
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(&case);
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_description(args.join(" "));
        let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!("stderr", stderr));
        }));
        if compared.is_err() {
            failures.push(format!("{name}: stderr differs from its snapshot"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The command line of an error case: its `command` file (`values --root input dev`), or
/// `build`, the flags of its `args` file and `input`.
fn error_command(case: &Path) -> Vec<String> {
    if let Ok(command) = fs::read_to_string(case.join("command")) {
        return command.split_whitespace().map(str::to_string).collect();
    }
    let mut args = vec!["build".to_string()];
    args.extend(args_of(case));
    args.push("input".to_string());
    args
}

#[test]
fn book_overlays_render_byte_identical() {
    let Some(shared) = shared() else { return };
    let book = shared.join("fixtures/book");
    for (dir, expected) in [
        (
            "ch4-kustomize/overlays/development",
            "ch4-kustomize/expected-development.yaml",
        ),
        (
            "ch4-kustomize/overlays/staging",
            "ch4-kustomize/expected-staging.yaml",
        ),
        ("ch5-folders/overlays/qa", "ch5-folders/expected-qa.yaml"),
        (
            "ch5-folders/overlays/stage",
            "ch5-folders/expected-stage.yaml",
        ),
    ] {
        let out = strata(&book, &["build", dir]);
        assert!(
            out.status.success(),
            "{dir}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = fs::read_to_string(book.join(expected)).expect("expected file");
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{dir}");
    }
    let out = strata(&book, &["build", "broken"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken/deployment.yaml") && err.contains("16 │      spec:"),
        "{err}"
    );
}

/// What one conformance case gives: pass (byte-identical or a clean expected failure).
fn conformance_case(case: &Path) -> bool {
    let meta: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(case.join("case.json")).expect("case.json"))
            .expect("case.json is JSON");
    let run = meta["run"].as_str().unwrap_or_default().to_string();
    let exit = match &meta["kubectl_exit_code"] {
        serde_json::Value::Null => "0".to_string(),
        v => v.as_i64().map_or_else(|| v.to_string(), |n| n.to_string()),
    };
    let drift = meta["tags"]
        .as_array()
        .is_some_and(|tags| tags.iter().any(|t| t == "DRIFT"));
    let expected = case.join("expected.yaml");
    let out = strata(case, &["build", &run]);
    let clean_fail = out.status.code() == Some(1) && out.stdout.is_empty();
    if exit != "0" || !expected.exists() {
        if clean_fail {
            return true;
        }
        if drift {
            let out = strata(case, &["build", "--reorder", "none", &run]);
            let te = fs::read(case.join("test_expected.yaml")).unwrap_or_default();
            return out.status.success() && out.stdout == te;
        }
        return false;
    }
    out.status.success() && out.stdout == fs::read(expected).unwrap_or_default()
}

#[test]
fn conformance_does_not_regress() {
    let Some(shared) = shared() else { return };
    let corpus = shared.join("conformance/kustomize");
    let listed =
        fs::read_to_string(root().join("tests/conformance/passing.txt")).expect("passing.txt");
    let listed: Vec<&str> = listed
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    let mut regressed = Vec::new();
    let mut newly = Vec::new();
    for case in cases(&corpus) {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let pass = conformance_case(&case);
        match (pass, listed.contains(&name.as_str())) {
            (false, true) => regressed.push(name),
            (true, false) => newly.push(name),
            _ => {}
        }
    }
    if !newly.is_empty() {
        eprintln!(
            "newly passing (add to tests/conformance/passing.txt): {}",
            newly.join(" ")
        );
    }
    assert!(
        regressed.is_empty(),
        "conformance cases regressed: {}",
        regressed.join(" ")
    );
}

/// A project of `apps` apps × dev/staging/prod, written into `dir`.
fn generate_project(dir: &Path, apps: usize) {
    for a in 0..apps {
        let base = dir.join(format!("base/app{a}"));
        fs::create_dir_all(&base).expect("mkdir");
        fs::write(base.join("kustomization.yaml"), "resources:\n- app.yaml\n").expect("write");
        fs::write(
            base.join("app.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{a}\nspec:\n  selector:\n    matchLabels: {{app: app{a}}}\n  template:\n    metadata:\n      labels: {{app: app{a}}}\n    spec:\n      containers:\n      - name: app\n        image: app:{a}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app{a}\nspec:\n  selector: {{app: app{a}}}\n  ports:\n  - port: 80\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app{a}-config\ndata:\n  index: \"{a}\"\n"
            ),
        )
        .expect("write");
    }
    for (env, replicas) in [("dev", 1), ("staging", 2), ("prod", 5)] {
        let o = dir.join("overlays").join(env);
        fs::create_dir_all(&o).expect("mkdir");
        let mut k = format!(
            "namespace: {env}\nnamePrefix: {env}-\nlabels:\n- pairs: {{env: {env}}}\n  includeSelectors: true\nresources:\n"
        );
        for a in 0..apps {
            k.push_str(&format!("- ../../base/app{a}\n"));
        }
        k.push_str("replicas:\n");
        for a in 0..apps {
            k.push_str(&format!("- name: app{a}\n  count: {replicas}\n"));
        }
        fs::write(o.join("kustomization.yaml"), k).expect("write");
    }
}

#[test]
fn render_is_deterministic_across_thread_counts() {
    let tmp = tempfile::tempdir().expect("tmp");
    generate_project(tmp.path(), 40);
    let one = tmp.path().join("one");
    let many = tmp.path().join("many");
    for (out, jobs) in [(&one, "1"), (&many, "8")] {
        let o = strata(
            tmp.path(),
            &["render", "-j", jobs, "--out", out.to_str().expect("utf8")],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for env in ["dev", "staging", "prod"] {
        let a = fs::read(one.join(format!("{env}.yaml"))).expect("one");
        let b = fs::read(many.join(format!("{env}.yaml"))).expect("many");
        assert!(!a.is_empty());
        assert_eq!(a, b, "{env} differs between -j1 and -j8");
    }
}

#[test]
fn render_writes_every_environment_of_the_sample() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = strata(
        &root(),
        &["render", "--out", tmp.path().to_str().expect("utf8")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for env in ["dev", "staging", "prod"] {
        let written = fs::read(tmp.path().join(format!("{env}.yaml"))).expect("written");
        let built = strata(&root(), &["build", &format!("overlays/{env}")]);
        assert_eq!(written, built.stdout, "{env}");
    }
    let one = strata(&root(), &["render", "prod"]);
    assert!(one.status.success());
    assert_eq!(
        one.stdout,
        fs::read(tmp.path().join("prod.yaml")).expect("prod")
    );
    let several = strata(&root(), &["render"]);
    assert_eq!(
        several.status.code(),
        Some(1),
        "several environments need --out"
    );
    assert!(several.stdout.is_empty());
}

#[test]
fn a_failing_environment_leaves_the_output_untouched() {
    let tmp = tempfile::tempdir().expect("tmp");
    generate_project(tmp.path(), 2);
    fs::write(
        tmp.path().join("overlays/staging/kustomization.yaml"),
        "resources:\n- missing.yaml\n",
    )
    .expect("write");
    let out_dir = tmp.path().join("out");
    fs::create_dir_all(&out_dir).expect("mkdir");
    fs::write(out_dir.join("dev.yaml"), "old\n").expect("write");
    let out = strata(tmp.path(), &["render", "--out", "out"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let mut names: Vec<String> = fs::read_dir(&out_dir)
        .expect("out")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .collect();
    names.sort();
    assert_eq!(names, vec!["dev.yaml"]);
    assert_eq!(
        fs::read_to_string(out_dir.join("dev.yaml")).expect("dev"),
        "old\n"
    );
}

#[test]
fn readme_quick_start_runs() {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md");
    let render = readme
        .lines()
        .find(|l| l.trim_start().starts_with("cargo run --release -- render"))
        .expect("the README's first command renders the sample");
    let command = render.split('#').next().unwrap_or(render);
    let args: Vec<&str> = command
        .split(" -- ")
        .nth(1)
        .expect("args")
        .split_whitespace()
        .collect();
    let tmp = tempfile::tempdir().expect("tmp");
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            if a.starts_with("rendered") {
                tmp.path().display().to_string()
            } else {
                a.to_string()
            }
        })
        .collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = strata(&root(), &refs);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for env in ["dev", "staging", "prod"] {
        assert!(
            tmp.path().join(format!("{env}.yaml")).is_file(),
            "{env}.yaml"
        );
    }
    assert!(
        readme.contains("cargo test"),
        "the README names the test command"
    );
}

fn has_git() -> bool {
    Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn remote_bases_are_fetched_once_and_cached() {
    if !has_git() {
        skip("no git binary on this machine");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = tmp.path().join("repo");
    fs::create_dir_all(repo.join("apps/web")).expect("mkdir");
    fs::write(
        repo.join("apps/web/kustomization.yaml"),
        "resources:\n- cm.yaml\n",
    )
    .expect("write");
    fs::write(
        repo.join("apps/web/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\ndata:\n  a: \"1\"\n",
    )
    .expect("write");
    for args in [
        vec!["init", "-q"],
        vec!["add", "-A"],
        vec![
            "-c",
            "user.email=t@example.com",
            "-c",
            "user.name=t",
            "commit",
            "-qm",
            "init",
        ],
        vec!["tag", "v1"],
    ] {
        let ok = Command::new("git")
            .args(&args)
            .current_dir(&repo)
            .status()
            .expect("git");
        assert!(ok.success(), "git {args:?}");
    }
    let app = tmp.path().join("app");
    fs::create_dir_all(&app).expect("mkdir");
    fs::write(
        app.join("kustomization.yaml"),
        format!(
            "resources:\n- file://{}//apps/web?ref=v1\nnamePrefix: x-\n",
            repo.display()
        ),
    )
    .expect("write");
    let cache = tmp.path().join("cache");
    let run = |extra: &[&str]| {
        let mut args = vec!["build", "--allow-file-remotes"];
        args.extend(extra);
        args.push(".");
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .current_dir(&app)
            .env("STRATA_CACHE_DIR", &cache)
            .args(&args)
            .output()
            .expect("strata")
    };
    let offline_before = run(&["--offline"]);
    assert_eq!(offline_before.status.code(), Some(1), "nothing cached yet");
    let first = run(&[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("name: x-remote"));
    // The repository disappears: a second build can only succeed from the cache, with no
    // clone and no network.
    fs::remove_dir_all(&repo).expect("rm repo");
    for extra in [&[][..], &["--offline"][..]] {
        let again = run(extra);
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert_eq!(again.stdout, first.stdout);
    }
}

#[test]
fn helm_charts_are_delegated_to_a_helm_binary() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    fs::create_dir_all(dir.join("charts/web")).expect("mkdir");
    fs::write(
        dir.join("charts/web/values.yaml"),
        "replicas: 1\nimage: web\n",
    )
    .expect("write");
    fs::write(
        dir.join("kustomization.yaml"),
        "helmCharts:\n- name: web\n  releaseName: shop\n  namespace: apps\n  valuesInline:\n    replicas: 3\n",
    )
    .expect("write");
    // A stand-in for helm: prints a ConfigMap recording its arguments and the values file.
    let fake = dir.join("fake-helm");
    fs::write(
        &fake,
        "#!/bin/sh\nvalues=\"\"\nflags=\"\"\nwhile [ $# -gt 0 ]; do case \"$1\" in --values=*) values=\"${1#--values=}\";; --) shift; break;; *) flags=\"$flags $1\";; esac; shift; done\necho 'apiVersion: v1'\necho 'kind: ConfigMap'\necho 'metadata:'\necho \"  name: $1\"\necho 'data:'\necho \"  args: '$flags -- $1'\"\necho \"  replicas: '$(grep replicas \"$values\")'\"\n",
    )
    .expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let refused = strata(dir, &["build", "."]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--enable-helm"));
    let out = strata(
        dir,
        &[
            "build",
            "--enable-helm",
            "--helm-command",
            fake.to_str().expect("utf8"),
            ".",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("name: shop"), "{text}");
    assert!(
        text.contains("args: ' template --namespace=apps -- shop'"),
        "{text}"
    );
    assert!(text.contains("replicas: 'replicas: 3'"), "{text}");
    let missing = strata(
        dir,
        &[
            "build",
            "--enable-helm",
            "--helm-command",
            "/nonexistent/helm",
            ".",
        ],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot run"));
}

/// Write `files` (path, content) under a new temporary directory.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    for (path, content) in files {
        let p = tmp.path().join(path);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, content).expect("write");
    }
    tmp
}

const CM_TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  replicas: \"{{ values.replicas }}\"\n  tag: \"{{ values.image.tag }}\"\n  ports: \"{{ values.ports | join(',') }}\"\n  ingress: \"{{ values.ingress is defined }}\"\n  env: \"{{ env }}\"\n";

fn templated_project() -> tempfile::TempDir {
    project(&[
        (
            "base/kustomization.yaml",
            "resources:\n- settings.yaml.j2\n- plain.yaml\n",
        ),
        ("base/settings.yaml.j2", CM_TEMPLATE),
        (
            "base/plain.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rules\ndata:\n  rule: '{{ $labels.instance }} is down'\n",
        ),
        (
            "base/values.yaml",
            "replicas: 1\nimage: {repo: web, tag: base}\nports: [80, 443]\ningress: {host: a}\n",
        ),
        (
            "overlays/prod/kustomization.yaml",
            "resources:\n- ../../base\n",
        ),
        (
            "overlays/prod/values.yaml",
            "replicas: 3\nports: [8080]\ningress: null\n",
        ),
        ("prod-extra.yaml", "replicas: 4\nimage: {tag: from-file}\n"),
    ])
}

fn data_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn values_flow_down_with_helm_precedence() {
    let p = templated_project();
    let text = data_of(&strata(p.path(), &["render", "prod"]));
    // environment values win over the base; lists replace; null deletes
    assert!(text.contains("replicas: \"3\""), "{text}");
    assert!(text.contains("tag: base"), "{text}");
    assert!(text.contains("ports: \"8080\""), "{text}");
    assert!(text.contains("ingress: \"false\""), "{text}");
    assert!(text.contains("env: prod"), "{text}");
    // plain YAML is never templated
    assert!(
        text.contains("rule: '{{ $labels.instance }} is down'"),
        "{text}"
    );
    // --values over values.yaml, --set over --values
    let text = data_of(&strata(
        p.path(),
        &["render", "prod", "-f", "prod-extra.yaml"],
    ));
    assert!(
        text.contains("replicas: \"4\"") && text.contains("tag: from-file"),
        "{text}"
    );
    let text = data_of(&strata(
        p.path(),
        &[
            "render",
            "prod",
            "-f",
            "prod-extra.yaml",
            "--set",
            "replicas=9",
            "--set-string",
            "image.tag=007",
        ],
    ));
    assert!(
        text.contains("replicas: \"9\"") && text.contains("tag: \"007\""),
        "{text}"
    );
}

#[test]
fn a_templated_kustomization_chooses_a_component() {
    let p = project(&[
        ("base/kustomization.yaml", "resources:\n- cm.yaml\n"),
        (
            "base/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n",
        ),
        (
            "components/extra/kustomization.yaml",
            "kind: Component\nresources:\n- extra.yaml\n",
        ),
        (
            "components/extra/extra.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
        ),
        (
            "overlays/dev/kustomization.yaml.j2",
            "resources:\n- ../../base\nnamespace: ns-{{ env }}\n{% if values.extra %}components:\n- ../../components/extra\n{% endif %}",
        ),
        ("overlays/dev/values.yaml", "extra: false\n"),
    ]);
    let without = data_of(&strata(p.path(), &["render", "dev"]));
    assert!(
        !without.contains("name: extra") && without.contains("namespace: ns-dev"),
        "{without}"
    );
    let with = data_of(&strata(p.path(), &["render", "dev", "--set", "extra=true"]));
    assert!(with.contains("name: extra"), "{with}");
}

#[test]
fn template_errors_are_located() {
    // undefined value: template file, line, expression and the closest key
    let p = project(&[
        ("kustomization.yaml", "resources:\n- cm.yaml.j2\n"),
        ("values.yaml", "image: {tag: '1'}\n"),
        (
            "cm.yaml.j2",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  tag: {{ values.image.tagg }}\n",
        ),
    ]);
    let out = strata(p.path(), &["build", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("values.image.tagg")
            && err.contains("cm.yaml.j2:6")
            && err.contains("did you mean `values.image.tag`?"),
        "{err}"
    );

    // rendered YAML that is invalid: the template, the rendered line, a quoting hint
    fs::write(p.path().join("cm.yaml.j2"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  tag: {{ values.image.tag }}: x\n").expect("write");
    let out = strata(p.path(), &["build", "."]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("renders invalid YAML")
            && err.contains("`  tag: 1: x`")
            && err.contains("quote"),
        "{err}"
    );

    // a template syntax error
    fs::write(p.path().join("cm.yaml.j2"), "a: {{ values.image.tag \n").expect("write");
    let out = strata(p.path(), &["build", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("syntax error"));
}

#[test]
fn helm_filter_names_render_like_strata_names() {
    let body = |names: [&str; 5]| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  labels: {{{{ values.labels | {} | {} }}}}\n  secret: {{{{ values.secret | {} }}}}\n  plain: {{{{ values.secret | {} | {} }}}}\n",
            names[0], names[1], names[2], names[3], names[4]
        )
    };
    let values = "labels: {b: '2', a: x}\nsecret: hunter2\n";
    let mut outputs = Vec::new();
    for names in [
        ["toYaml", "quote", "b64enc", "b64enc", "b64dec"],
        ["toyaml", "quote", "b64encode", "b64encode", "b64decode"],
    ] {
        let p = project(&[
            ("kustomization.yaml", "resources:\n- cm.yaml.j2\n"),
            ("values.yaml", values),
            ("cm.yaml.j2", &body(names)),
        ]);
        let out = strata(p.path(), &["build", "."]);
        assert!(
            out.status.success(),
            "{names:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(String::from_utf8_lossy(&out.stdout).to_string());
    }
    assert_eq!(outputs[0], outputs[1]);
    assert!(
        outputs[0].contains("secret: aHVudGVyMg=="),
        "{}",
        outputs[0]
    );
    assert!(outputs[0].contains("plain: hunter2"), "{}", outputs[0]);
}

#[test]
fn values_schema_failures_name_the_value_origin() {
    let p = project(&[
        ("base/kustomization.yaml", "resources:\n- cm.yaml\n"),
        (
            "base/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        ),
        (
            "base/values.schema.json",
            "{\"type\": \"object\", \"properties\": {\"replicas\": {\"type\": \"integer\", \"minimum\": 1}}}",
        ),
        ("base/values.yaml", "replicas: 1\n"),
        (
            "overlays/prod/kustomization.yaml",
            "resources:\n- ../../base\n",
        ),
        ("overlays/prod/values.yaml", "name: web\nreplicas: 0\n"),
    ]);
    let out = strata(p.path(), &["render", "prod"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`replicas`")
            && err.contains("overlays/prod/values.yaml:2")
            && err.contains("minimum"),
        "{err}"
    );
}

#[test]
fn strata_values_shows_where_each_value_comes_from() {
    let p = templated_project();
    let text = data_of(&strata(
        p.path(),
        &["values", "prod", "--set", "image.tag=x"],
    ));
    assert!(
        text.contains("replicas: 3  # overlays/prod/values.yaml:1"),
        "{text}"
    );
    assert!(text.contains("tag: x  # --set image.tag=x"), "{text}");
    assert!(!text.contains("ingress"), "{text}");
}

#[test]
fn the_templated_values_example_renders() {
    let example = root().join("examples/templated-values");
    for env in ["dev", "staging", "prod"] {
        let out = strata(&example, &["render", env]);
        let want = fs::read(example.join(format!("expected/{env}.yaml"))).expect("expected");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, want, "{env}");
    }
    let prod = fs::read_to_string(example.join("expected/prod.yaml")).expect("prod");
    assert!(prod.contains("kind: ServiceMonitor") && prod.contains("replicas: 5"));
    let dev = fs::read_to_string(example.join("expected/dev.yaml")).expect("dev");
    assert!(!dev.contains("ServiceMonitor") && !dev.contains("resources:"));
}

#[test]
fn validation_reports_and_exit_codes() {
    let p = project(&[(
        "bad.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: three\n  replicaz: 2\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: web, image: web}]\n---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: p}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
    )]);
    let out = strata(
        p.path(),
        &["validate", "--error-format", "json", "bad.yaml"],
    );
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(
        lines[0].contains("\"path\":\"spec.replicas\"") && lines[0].contains("\"line\":6"),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("unknown field `replicaz`") && lines[1].contains("\"line\":7"));
    assert!(lines[2].contains("removed in Kubernetes 1.25"));
    assert!(lines[3].contains("\"severity\":\"warning\"") && lines[3].contains("Widget"));
    // --missing-schemas error turns the unknown kind into an error; --no-strict drops the
    // unknown field; --skip-kinds and an older --kube-version change the rest.
    let out = strata(
        p.path(),
        &[
            "validate",
            "--error-format",
            "json",
            "--missing-schemas",
            "error",
            "bad.yaml",
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .is_some_and(|l| l.contains("\"severity\":\"error\""))
    );
    let out = strata(
        p.path(),
        &[
            "validate",
            "--error-format",
            "json",
            "--no-strict",
            "--skip-kinds",
            "PodSecurityPolicy,Widget",
            "bad.yaml",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let text = strata(p.path(), &["validate", "bad.yaml"]);
    let err = String::from_utf8_lossy(&text.stderr);
    assert!(
        err.contains("bad.yaml:6") && err.contains("expected integer, found the string"),
        "{err}"
    );
    assert!(
        strata(
            p.path(),
            &["validate", "--kube-version", "1.12", "bad.yaml"]
        )
        .status
        .code()
            == Some(1)
    );
}

#[test]
fn build_and_render_validate_before_printing() {
    let p = project(&[
        ("kustomization.yaml", "resources:\n- svc.yaml\n"),
        (
            "svc.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: http\n",
        ),
    ]);
    let out = strata(p.path(), &["build", "--validate", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "nothing printed when validation fails"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("spec.ports.0.port"));
    assert!(strata(p.path(), &["build", "."]).status.success());
    // The sample project and the example render cleanly with --validate.
    let tmp = tempfile::tempdir().expect("tmp");
    let ok = strata(
        &root(),
        &[
            "render",
            "--validate",
            "--out",
            tmp.path().to_str().expect("utf8"),
        ],
    );
    // Nothing on stderr but the summary line.
    let err = String::from_utf8_lossy(&ok.stderr);
    assert!(
        ok.status.success() && err.lines().all(|l| l.starts_with("wrote 3 environments")),
        "{err}"
    );
    let ok = strata(
        &root(),
        &[
            "render",
            "--root",
            "examples/templated-values",
            "--validate",
            "--crds",
            "examples/templated-values/crds",
            "--out",
            tmp.path().to_str().expect("utf8"),
        ],
    );
    let err = String::from_utf8_lossy(&ok.stderr);
    assert!(
        ok.status.success() && err.lines().all(|l| l.starts_with("wrote ")),
        "{err}"
    );
}

#[test]
fn custom_resources_are_validated_against_their_crd() {
    let crd = fs::read_to_string(root().join("examples/templated-values/crds/servicemonitor.yaml"))
        .expect("crd");
    let p = project(&[
        ("crd.yaml", &crd),
        (
            "sm.yaml",
            "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: s}\nspec:\n  selector: {matchLabels: {a: b}}\n  endpoints:\n  - port: 8080\n",
        ),
    ]);
    let out = strata(p.path(), &["validate", "--crds", "crd.yaml", "sm.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("spec.endpoints.0.port"));
    let both = strata(p.path(), &["validate", "crd.yaml", "sm.yaml"]);
    assert_eq!(both.status.code(), Some(1), "a CRD in the input counts too");
}

#[test]
fn schema_bundles_are_what_the_script_makes() {
    let python = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !python {
        skip("no python3");
        return;
    }
    let mut cmd = Command::new("python3");
    cmd.arg(root().join("scripts/gen_schemas.py"))
        .arg("--check");
    if let Some(w) = std::env::var_os("STRATA_SCHEMA_WHEEL") {
        cmd.arg("--wheel").arg(w);
    }
    let out = cmd.output().expect("python3");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if !out.status.success()
        && (text.contains("No matching distribution")
            || text.contains("pip") && text.contains("rror") && !text.contains("differs"))
    {
        skip(&format!(
            "kubernetes-validate could not be downloaded: {}",
            text.lines().last().unwrap_or("")
        ));
        return;
    }
    assert!(out.status.success(), "{text}");
}

/// One real-world case: does `strata build <run>` in `../shared/realworld` print exactly
/// kubectl's output?
fn realworld_case(dir: &Path, case: &serde_json::Value) -> Result<(), String> {
    let name = case["case"].as_str().unwrap_or_default();
    let run = case["run"].as_str().unwrap_or_default();
    let expected = fs::read(dir.join("expected").join(format!("{name}.yaml")))
        .map_err(|e| format!("{name}: no expected output: {e}"))?;
    let out = strata(dir, &["build", run]);
    if out.status.success() && out.stdout == expected {
        Ok(())
    } else {
        Err(format!(
            "{name}: exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
        ))
    }
}

/// One class of `../shared/realworld/classes`: a tree with kubectl's output, or an error
/// kubectl gives too (strata must fail cleanly: nothing on stdout, no panic).
fn realworld_class(dir: &Path) -> Result<(), String> {
    let name = dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    let run = fs::read_to_string(dir.join("run")).unwrap_or_else(|_| ".".into());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
    cmd.current_dir(dir.join("input"))
        .args(["build", run.trim()]);
    if let Ok(env) = fs::read_to_string(dir.join("env")) {
        for pair in env.split_whitespace() {
            if let Some((k, v)) = pair.split_once('=') {
                cmd.env(k, v);
            }
        }
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    let ok = match fs::read(dir.join("expected.yaml")) {
        Ok(expected) => out.status.success() && out.stdout == expected,
        Err(_) => {
            out.status.code() == Some(1)
                && out.stdout.is_empty()
                && !String::from_utf8_lossy(&out.stderr).contains("panicked")
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "class {name}: exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
        ))
    }
}

/// The real-world corpus: every case in `cases.json` (read afresh: it grows) and every class.
/// Those in `tests/realworld/passing.txt` must stay byte-identical; any other failure is
/// listed, and a case that passes but is not listed is reported so the list can grow.
#[test]
fn realworld_does_not_regress() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("realworld");
    let cases: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(dir.join("cases.json")).expect("realworld/cases.json"),
    )
    .expect("cases.json is JSON");
    let passing_file = root().join("tests/realworld/passing.txt");
    let listed: std::collections::BTreeSet<String> = fs::read_to_string(&passing_file)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let mut results: Vec<(String, Result<(), String>)> = cases
        .as_array()
        .expect("a list of cases")
        .iter()
        .map(|c| {
            let name = c["case"].as_str().unwrap_or_default().to_string();
            (name, realworld_case(&dir, c))
        })
        .collect();
    let mut classes: Vec<PathBuf> = fs::read_dir(dir.join("classes"))
        .expect("realworld/classes")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    classes.sort();
    for c in classes {
        let name = format!(
            "class/{}",
            c.file_name().unwrap_or_default().to_string_lossy()
        );
        results.push((name, realworld_class(&c)));
    }
    let regressions: Vec<&String> = results
        .iter()
        .filter(|(n, r)| listed.contains(n) && r.is_err())
        .filter_map(|(_, r)| r.as_ref().err())
        .collect();
    let newly: Vec<&String> = results
        .iter()
        .filter(|(n, r)| !listed.contains(n) && r.is_ok())
        .map(|(n, _)| n)
        .collect();
    let failing: Vec<&String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err())
        .collect();
    if std::env::var_os("STRATA_BLESS").is_some() {
        let mut text = String::from(
            "# Real-world cases and classes known to render exactly as kubectl does (STRATA_BLESS=1 rewrites)\n",
        );
        for (n, r) in &results {
            if r.is_ok() {
                text.push_str(n);
                text.push('\n');
            }
        }
        fs::create_dir_all(passing_file.parent().expect("dir")).expect("mkdir");
        fs::write(&passing_file, text).expect("write passing.txt");
    }
    eprintln!(
        "realworld: {} of {} pass; {} not yet listed as passing: {:?}; failing: {:?}",
        results.len() - failing.len(),
        results.len(),
        newly.len(),
        newly,
        failing
    );
    assert!(
        regressions.is_empty(),
        "{} real-world cases regressed:\n{}",
        regressions.len(),
        regressions
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
