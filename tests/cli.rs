//! The command line as a user meets it: warnings, output files, completions, the project
//! file, `init`, `values`. Snapshots are insta's, in `tests/cli/<name>.snap`
//! (`INSTA_UPDATE=always cargo test --test cli` rewrites them, `cargo insta review` shows
//! what changed).

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
fn skip(what: &str) {
    if std::env::var_os("STRATA_REQUIRE_CORPORA").is_some() {
        panic!("required but missing: {what}");
    }
    eprintln!("skipped: {what}");
}

/// Compare `actual` with the insta snapshot `tests/cli/<name>.snap`.
fn snapshot(name: &str, actual: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/cli"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, actual));
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

#[test]
fn independent_errors_of_one_build_are_reported_together() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    fs::write(
        d.join("kustomization.yaml"),
        "resources:\n- one.yaml\n- cm.yaml\n- two.yaml\npatches:\n- path: p1.yaml\n- patch: \"\"\n- path: p3.yaml\n",
    )
    .expect("write");
    fs::write(
        d.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    )
    .expect("write");
    // Both missing resources, in the order of the entries, and nothing on stdout.
    let out = strata(d, &["build", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.matches('×').count(), 2, "{err}");
    let (one, two) = (
        err.find("one.yaml").expect("one"),
        err.find("two.yaml").expect("two"),
    );
    assert!(one < two, "{err}");
    // With the resources there, the three bad patch entries are reported together.
    for f in ["one.yaml", "two.yaml"] {
        fs::write(
            d.join(f),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {f}\n"),
        )
        .expect("write");
    }
    let out = strata(d, &["build", "."]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.matches('×').count(), 3, "{err}");
    assert!(
        err.contains("p1.yaml") && err.contains("`patch:` is empty") && err.contains("p3.yaml"),
        "{err}"
    );
}

#[test]
fn a_patch_target_that_matches_nothing_is_a_located_warning_with_a_suggestion() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    fs::write(
        d.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
    )
    .expect("write");
    fs::write(
        d.join("kustomization.yaml"),
        "resources:\n- cm.yaml\npatches:\n- target:\n    kind: ConfigMap\n    name: ap\n  patch: |-\n    - op: add\n      path: /data\n      value: {}\n",
    )
    .expect("write");
    // `build` prints strata's own warnings (Kustomize is silent here) as the other
    // commands do: with the line and a suggestion.
    let out = strata(d, &["build", "."]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("⚠ patch target (kind=ConfigMap, name=ap) matches no resource")
            && err.contains("[kustomization.yaml:4:3]")
            && err.contains("did you mean `name: app`?"),
        "{err}"
    );
    // `--strict` makes it an error, with the same suggestion.
    let out = strata(d, &["build", "--strict", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("did you mean `name: app`?"));
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

#[test]
fn bash_completes_strata_re_to_render() {
    let Ok(bash) = which("bash") else {
        skip("bash is not installed");
        return;
    };
    let script = strata(&root(), &["completions", "bash"]);
    assert!(script.status.success(), "{}", stderr(&script));
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("strata.bash");
    fs::write(&file, &script.stdout).expect("write");
    // What bash does on `strata re<TAB>`: the words, the cursor's word, then the function
    // `complete -F` registered, called with the command, the current and previous words.
    let test = format!(
        "source '{}'\n\
         COMP_WORDS=(strata re); COMP_CWORD=1; COMP_LINE='strata re'; COMP_POINT=9\n\
         fn=$(complete -p strata | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')\n\
         \"$fn\" strata re strata\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        file.display()
    );
    let out = Command::new(bash)
        .args(["--norc", "--noprofile", "-c", &test])
        .output()
        .expect("bash runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "render\n",
        "{}",
        stderr(&out)
    );
    for shell in ["zsh", "fish", "powershell"] {
        let out = strata(&root(), &["completions", shell]);
        assert!(out.status.success() && out.stdout.len() > 1000, "{shell}");
    }
}

fn which(program: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .ok_or(())
}

#[test]
fn man_page_and_version() {
    let out = strata(&root(), &["man"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH strata 1"), "{page}");
    assert!(page.contains("render"), "{page}");
    let out = strata(&root(), &["--version"]);
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(
        version.starts_with(&format!("strata {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
}

#[test]
fn init_makes_a_project_that_renders_and_validates() {
    for templated in [false, true] {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut args = vec!["init", "project"];
        if templated {
            args.push("--templated");
        }
        let out = strata(tmp.path(), &args);
        assert!(out.status.success(), "{}", stderr(&out));
        let project = tmp.path().join("project");
        let out = strata(&project, &["render", "--validate", "-o", "rendered"]);
        assert!(out.status.success(), "{}", stderr(&out));
        for env in ["dev", "staging", "prod"] {
            let text =
                fs::read_to_string(project.join(format!("rendered/{env}.yaml"))).expect("rendered");
            assert!(text.contains(&format!("namespace: app-{env}")), "{text}");
        }
        let prod = fs::read_to_string(project.join("rendered/prod.yaml")).expect("prod");
        assert!(prod.contains("replicas: 3"), "{prod}");
        // Never over an existing project.
        let out = strata(tmp.path(), &args);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("exists already"));
    }
}

/// The hooks in `.pre-commit-hooks.yaml` run as pre-commit runs them: the entry through
/// `sh`, strata on PATH, in the project; a broken project fails them.
#[test]
fn pre_commit_hooks_render_and_validate() {
    let Ok(sh) = which("sh") else {
        skip("sh is not installed");
        return;
    };
    let hooks = fs::read_to_string(root().join(".pre-commit-hooks.yaml")).expect("hooks");
    let entries: Vec<&str> = hooks
        .lines()
        .filter_map(|l| l.trim().strip_prefix("entry: "))
        .collect();
    assert_eq!(entries.len(), 2, "{hooks}");
    let tmp = tempfile::tempdir().expect("tmp");
    assert!(strata(tmp.path(), &["init", "."]).status.success());
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_strata"));
    let path = format!(
        "{}:{}",
        bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for broken in [false, true] {
        if broken {
            fs::write(tmp.path().join("base/service.yaml"), "kind: [\n").expect("write");
        }
        for entry in &entries {
            let entry = entry.strip_prefix("sh -c '").expect("sh -c");
            let script = entry.strip_suffix("' --").expect("ends with --");
            let out = Command::new(&sh)
                .current_dir(tmp.path())
                .env("PATH", &path)
                .args(["-c", script, "--"])
                .output()
                .expect("sh runs");
            assert_eq!(out.status.success(), !broken, "{entry}: {}", stderr(&out));
        }
    }
    let left: Vec<_> = fs::read_dir(tmp.path()).expect("dir").collect();
    assert_eq!(left.len(), 2, "only base/ and overlays/: nothing written");
}

#[test]
fn a_project_file_puts_environments_elsewhere_and_sets_defaults() {
    let tmp = tempfile::tempdir().expect("tmp");
    assert!(strata(tmp.path(), &["init", "-q", "p"]).status.success());
    let p = tmp.path().join("p");
    fs::rename(p.join("overlays"), p.join("envs")).expect("rename");
    fs::write(
        p.join("strata.yaml"),
        "environments: envs/\nvalidate: true\nkubeVersion: \"1.30\"\nvalues: [common.yaml]\njobs: 2\n",
    )
    .expect("write");
    fs::write(p.join("common.yaml"), "unused: 1\n").expect("write");
    let out = strata(&p, &["render", "-q", "-o", "rendered"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for env in ["dev", "staging", "prod"] {
        assert!(p.join(format!("rendered/{env}.yaml")).is_file(), "{env}");
    }
    // Found from a subdirectory upwards, as git finds `.git`.
    let out = strata(&p.join("envs/dev"), &["render", "prod"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("namespace: app-prod"));
    // `validate: true` validates: a broken object fails the render.
    fs::write(
        p.join("base/service.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: app\nspec:\n  ports:\n  - port: http\n",
    )
    .expect("write");
    let out = strata(&p, &["render", "dev"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = strata(&p, &["render", "dev", "--no-validate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A pattern: `clusters/*`.
    let tmp = tempfile::tempdir().expect("tmp");
    assert!(strata(tmp.path(), &["init", "-q", "."]).status.success());
    fs::rename(tmp.path().join("overlays"), tmp.path().join("clusters")).expect("rename");
    fs::write(tmp.path().join("strata.yaml"), "environments: clusters/*\n").expect("write");
    let out = strata(tmp.path(), &["render", "-q", "-o", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(tmp.path().join("out/staging.yaml").is_file());
}

#[test]
fn a_project_file_cannot_lead_outside_the_project() {
    let tmp = tempfile::tempdir().expect("tmp");
    assert!(strata(tmp.path(), &["init", "-q", "p"]).status.success());
    let p = tmp.path().join("p");
    // A values file that is a link out of the project is refused, naming it.
    fs::write(p.join("strata.yaml"), "values: [common.yaml]\n").expect("write");
    std::os::unix::fs::symlink("/etc/passwd", p.join("common.yaml")).expect("link");
    let out = strata(&p, &["render", "-q", "-o", "rendered"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("strata.yaml: `common.yaml` in `values`") && err.contains("leads outside"),
        "{err}"
    );
    assert!(!err.contains("root:"), "nothing of the file shows: {err}");
    assert!(!p.join("rendered").exists());
    // So is a `strata.yaml` that is such a link.
    fs::remove_file(p.join("strata.yaml")).expect("rm");
    std::os::unix::fs::symlink("/etc/passwd", p.join("strata.yaml")).expect("link");
    let out = strata(&p, &["render", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("outside the project"), "{err}");
    assert!(!err.contains("root:"), "nothing of the file shows: {err}");
}

#[test]
fn an_unknown_project_setting_is_an_error_with_a_suggestion() {
    let p = project(&[(
        "strata.yaml",
        "environments: envs/\nkubeVersoin: \"1.30\"\n",
    )]);
    let out = strata(p.path(), &["render"]);
    assert_eq!(out.status.code(), Some(1));
    snapshot("project-unknown-setting", &stderr(&out));
}

#[test]
fn schemas_are_printed_for_editors() {
    for kind in ["project", "kustomization"] {
        let out = strata(&root(), &["schema", kind]);
        assert!(out.status.success(), "{}", stderr(&out));
        let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(schema["additionalProperties"], false, "{kind}");
    }
    let p = project(&[
        ("base/values.yaml", "replicas: 1\nimage: {tag: x}\n"),
        ("other/values.schema.json", "{\"type\": \"object\"}"),
    ]);
    let out = strata(p.path(), &["schema", "values", "base"]);
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(schema["properties"]["replicas"]["type"], "integer");
    assert_eq!(
        schema["properties"]["image"]["properties"]["tag"]["type"],
        "string"
    );
    let out = strata(p.path(), &["schema", "values", "other"]);
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(schema, serde_json::json!({"type": "object"}));
}

/// A templated project: a base whose templates read `replicas`, `image.tag` and a list of
/// `ports`, and an environment overriding some of them.
fn templated() -> tempfile::TempDir {
    project(&[
        (
            "base/kustomization.yaml",
            "resources:\n- settings.yaml.j2\n",
        ),
        (
            "base/settings.yaml.j2",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  replicas: \"{{ values.replicas }}\"\n  tag: \"{{ values.image.tag }}\"\n  ports: \"{{ values.ports | join(',') }}\"\n",
        ),
        (
            "base/values.yaml",
            "replicas: 1\nimage: {repo: web, tag: base}\nports: [80, 443]\n",
        ),
        (
            "overlays/prod/kustomization.yaml",
            "resources:\n- ../../base\n",
        ),
        ("overlays/prod/values.yaml", "replicas: 3\n"),
        ("extra.yaml", "image:\n  tga: typo\n"),
        ("port.json", "[8080, 8443]"),
    ])
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn values_are_shown_layer_by_layer() {
    let p = templated();
    let out = strata(p.path(), &["values", "prod", "--set", "image.tag=x"]);
    assert!(out.status.success(), "{}", stderr(&out));
    snapshot("values-layers", &stdout(&out));
    let out = strata(
        p.path(),
        &["values", "prod", "--layer", "base", "-o", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        json,
        serde_json::json!({"replicas": 3, "image": {"repo": "web", "tag": "base"}, "ports": [80, 443]})
    );
    let out = strata(p.path(), &["values", "prod", "--layer", "nowhere"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not a layer of environment `prod`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn set_takes_list_indices_json_and_files() {
    let p = templated();
    let data = |args: &[&str]| {
        let mut all = vec!["render", "prod"];
        all.extend_from_slice(args);
        let out = strata(p.path(), &all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    assert!(data(&["--set", "ports[1]=8443"]).contains("ports: 80,8443"));
    assert!(data(&["--set", "ports[3]=9"]).contains("ports: 80,443,None,9"));
    assert!(data(&["--set-json", "ports=[1, 2]"]).contains("ports: 1,2"));
    let out = data(&["--set-file", "image.tag=port.json"]);
    assert!(out.contains("tag: '[8080, 8443]'"), "{out}");
    let out = strata(p.path(), &["values", "prod", "--set", "ports[0]=8080"]);
    snapshot("values-set-index", &stdout(&out));
    let out = strata(p.path(), &["render", "prod", "--set", "ports[x]=1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not a number"), "{}", stderr(&out));
}

#[test]
fn a_value_nothing_reads_is_a_warning() {
    let p = templated();
    let out = strata(
        p.path(),
        &[
            "render",
            "prod",
            "--set",
            "replicsa=3",
            "-f",
            "extra.yaml",
            "--set",
            "replicas=2",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    snapshot("unused-values", &stderr(&out));
    // `-q` silences it; a template that reads the values wholesale reads everything.
    let out = strata(p.path(), &["render", "-q", "prod", "--set", "replicsa=3"]);
    assert_eq!(stderr(&out), "");
    fs::write(
        p.path().join("base/all.yaml.j2"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: all\ndata:\n  all: '{{ values | tojson }}'\n",
    )
    .expect("write");
    fs::write(
        p.path().join("base/kustomization.yaml"),
        "resources:\n- settings.yaml.j2\n- all.yaml.j2\n",
    )
    .expect("write");
    let out = strata(p.path(), &["render", "prod", "--set", "replicsa=3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_validation_error_in_a_shared_base_is_reported_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    assert!(strata(tmp.path(), &["init", "-q", "."]).status.success());
    fs::write(
        tmp.path().join("base/hpa.yaml"),
        "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: app\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: app\n  minReplicas: 1\n  maxReplicas: 3\n",
    )
    .expect("write");
    fs::write(
        tmp.path().join("base/kustomization.yaml"),
        "resources:\n- deployment.yaml\n- service.yaml\n- hpa.yaml\n",
    )
    .expect("write");
    let out = strata(
        tmp.path(),
        &[
            "render",
            "--validate",
            "--kube-version",
            "1.30",
            "-o",
            "out",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    snapshot("validate-shared-base", &stderr(&out));
}
