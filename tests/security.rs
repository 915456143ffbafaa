//! The security suite: hostile and careless repositories, one fixture per probe.
//!
//! Each directory of `tests/security/` is a probe: a tree and a `probe` file saying how to
//! run strata on it and what must (not) happen. The tree is copied to a temporary directory
//! `T` first; `@T@` in any file, argument or setup line stands for that directory. Lines of
//! `probe`:
//!
//! - `run: ARGS` — the strata arguments (run in `T`, with `STRATA_CACHE_DIR=T/cache`)
//! - `setup: link PATH -> TARGET` | `fifo PATH` | `git DIR` (make DIR a repository, tag `v1`)
//!   | `chain DIR N` (N layers, each including the next) | `diamond DIR N` (N levels, each
//!   including the next twice) | `exec PATH` (make a file executable)
//! - `expect: error` | `expect: ok` | `expect: empty` (exit 0 with nothing printed)
//! - `stderr: TEXT` — must appear on stderr (repeatable); `stdout: FILE` — the exact stdout
//! - `absent: PATH` — must not exist afterwards (a canary); `present: PATH` — must exist
//! - `timeout: SECONDS` (default 20), `memory: MIB` (address space, default 2048)
//!
//! Every probe also checks what holds for all of them: no canary text (`CANARY`, or the
//! first line of `/etc/passwd`) in any output, no panic, nothing on stdout on failure, and
//! never exit 0 with an empty stream unless `expect: empty` says so.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn probes_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/security")
}

#[derive(Default, Debug)]
struct Probe {
    run: Vec<String>,
    setup: Vec<String>,
    expect: String,
    stderr: Vec<String>,
    stdout: Option<String>,
    absent: Vec<String>,
    present: Vec<String>,
    timeout: u64,
    memory: u64,
}

fn read_probe(dir: &Path, t: &str) -> Probe {
    let text = fs::read_to_string(dir.join("probe")).expect("probe file");
    let mut p = Probe {
        timeout: 20,
        memory: 2048,
        ..Probe::default()
    };
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once(": ").unwrap_or((line, ""));
        let value = value.replace("@T@", t);
        match key {
            "run" => p.run = value.split_whitespace().map(str::to_string).collect(),
            "setup" => p.setup.push(value),
            "expect" => p.expect = value,
            "stderr" => p.stderr.push(value),
            "stdout" => p.stdout = Some(value),
            "absent" => p.absent.push(value),
            "present" => p.present.push(value),
            "timeout" => p.timeout = value.parse().expect("timeout"),
            "memory" => p.memory = value.parse().expect("memory"),
            other => panic!("{}: unknown probe key `{other}`", dir.display()),
        }
    }
    p
}

/// Copy a tree, keeping symlinks as they are and replacing `@T@` in file contents.
fn copy_tree(from: &Path, to: &Path, t: &str) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let ty = entry.file_type().expect("type");
        if ty.is_symlink() {
            let target = fs::read_link(&src).expect("link");
            std::os::unix::fs::symlink(target, &dst).expect("symlink");
        } else if ty.is_dir() {
            copy_tree(&src, &dst, t);
        } else if entry.file_name() != "probe" {
            let bytes = fs::read(&src).expect("read");
            let bytes = match String::from_utf8(bytes) {
                Ok(s) => s.replace("@T@", t).into_bytes(),
                Err(e) => e.into_bytes(),
            };
            fs::write(&dst, bytes).expect("write");
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "git {args:?} in {}", dir.display());
}

fn setup(t: &Path, line: &str) {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["link", path, "->", target] => {
            let p = t.join(path);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::os::unix::fs::symlink(target, p).expect("symlink");
        }
        ["fifo", path] => {
            let ok = Command::new("mkfifo")
                .arg(t.join(path))
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "mkfifo");
        }
        ["git", dir] => {
            let d = t.join(dir);
            git(&d, &["init", "-q"]);
            git(&d, &["add", "-A"]);
            git(&d, &["commit", "-qm", "init"]);
            git(&d, &["tag", "v1"]);
        }
        ["exec", path] => {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(t.join(path), fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        ["chain", dir, n] => {
            let n: usize = n.parse().expect("n");
            let d = t.join(dir);
            for i in 0..n {
                let l = d.join(format!("l{i}"));
                fs::create_dir_all(&l).expect("mkdir");
                fs::write(
                    l.join("kustomization.yaml"),
                    format!("resources:\n- ../l{}\n", i + 1),
                )
                .expect("write");
            }
            let last = d.join(format!("l{n}"));
            fs::create_dir_all(&last).expect("mkdir");
            fs::write(last.join("kustomization.yaml"), "resources:\n- cm.yaml\n").expect("w");
            fs::write(
                last.join("cm.yaml"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n",
            )
            .expect("write");
        }
        ["diamond", dir, n] => {
            let n: usize = n.parse().expect("n");
            let d = t.join(dir);
            for i in 0..n {
                for side in ["a", "b"] {
                    let l = d.join(format!("{side}{i}"));
                    fs::create_dir_all(&l).expect("mkdir");
                    fs::write(
                        l.join("kustomization.yaml"),
                        format!("resources:\n- ../l{}\n", i + 1),
                    )
                    .expect("write");
                }
                let l = d.join(format!("l{i}"));
                fs::create_dir_all(&l).expect("mkdir");
                fs::write(
                    l.join("kustomization.yaml"),
                    format!("resources:\n- ../a{i}\n- ../b{i}\n"),
                )
                .expect("write");
            }
            let last = d.join(format!("l{n}"));
            fs::create_dir_all(&last).expect("mkdir");
            fs::write(last.join("kustomization.yaml"), "resources:\n- cm.yaml\n").expect("w");
            fs::write(
                last.join("cm.yaml"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n",
            )
            .expect("write");
        }
        other => panic!("unknown setup {other:?}"),
    }
}

/// Run the binary with an address-space limit and a deadline: (code, stdout, stderr).
fn run_bounded(
    t: &Path,
    args: &[String],
    timeout: u64,
    memory: u64,
) -> (Option<i32>, Vec<u8>, String) {
    let script = format!("ulimit -v {}; exec \"$0\" \"$@\"", memory * 1024);
    let child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(t)
        .env("STRATA_CACHE_DIR", t.join("cache"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(timeout)) {
        Ok(out) => {
            let out = out.expect("wait");
            (
                out.status.code(),
                out.stdout,
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        }
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("timed out after {timeout} s: strata {}", args.join(" "));
        }
    }
}

fn canaries() -> Vec<String> {
    let mut c = vec!["CANARY".to_string()];
    if let Ok(passwd) = fs::read_to_string("/etc/passwd")
        && let Some(first) = passwd.lines().next()
    {
        c.push(first.to_string());
    }
    c
}

/// Text with miette's line wrapping undone: no box-drawing gutters, single spaces.
fn flatten(s: &str) -> String {
    s.lines()
        .map(|l| l.trim_start_matches([' ', '│', '·', '×']).trim())
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run one probe; `Err` says what went wrong.
fn check(dir: &Path) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let t = fs::canonicalize(tmp.path()).map_err(|e| e.to_string())?;
    let ts = t.display().to_string();
    let p = read_probe(dir, &ts);
    copy_tree(dir, &t, &ts);
    for s in &p.setup {
        setup(&t, s);
    }
    let started = Instant::now();
    let (code, stdout, stderr) = run_bounded(&t, &p.run, p.timeout, p.memory);
    let took = started.elapsed();
    let out = String::from_utf8_lossy(&stdout).to_string();
    let say = |what: String| Err(format!("{what}\n--- stderr:\n{stderr}\n--- stdout:\n{out}"));
    if stderr.contains("panicked") || code.is_none_or(|c| !(0..=2).contains(&c)) {
        return say(format!("crashed (exit {code:?})"));
    }
    for c in canaries() {
        if out.contains(&c) || stderr.contains(&c) {
            return say(format!("leaked `{c}`"));
        }
    }
    match p.expect.as_str() {
        "error" => {
            if code == Some(0) {
                return say("succeeded, but must fail".into());
            }
            if !stdout.is_empty() {
                return say("failed with something on stdout".into());
            }
        }
        "ok" | "empty" => {
            if code != Some(0) {
                return say(format!("failed (exit {code:?}), but must succeed"));
            }
            if p.expect == "ok"
                && stdout.is_empty()
                && p.run.iter().all(|a| a != "-o" && a != "--out")
            {
                return say("exit 0 with an empty stream".into());
            }
        }
        other => return Err(format!("unknown expectation `{other}`")),
    }
    // miette wraps long messages: compare with the line breaks and box drawing taken out.
    let flat = flatten(&stderr);
    for s in &p.stderr {
        if !flat.contains(&flatten(s)) {
            return say(format!("stderr lacks `{s}`"));
        }
    }
    if let Some(f) = &p.stdout {
        let want = fs::read_to_string(dir.join(f)).map_err(|e| format!("{f}: {e}"))?;
        if out != want.replace("@T@", &ts) {
            return say(format!("stdout differs from {f}"));
        }
    }
    for a in &p.absent {
        if Path::new(a).exists() || fs::symlink_metadata(a).is_ok() {
            return say(format!("`{a}` exists"));
        }
    }
    for a in &p.present {
        if !Path::new(a).exists() {
            return say(format!("`{a}` does not exist"));
        }
    }
    if took > Duration::from_secs(p.timeout) {
        return say(format!("took {took:?}"));
    }
    Ok(())
}

#[test]
fn every_probe_holds() {
    let mut dirs: Vec<PathBuf> = fs::read_dir(probes_dir())
        .expect("tests/security")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("probe").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 40, "only {} probes", dirs.len());
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            check(d).err().map(|e| {
                format!(
                    "=== {}: {e}",
                    d.file_name().unwrap_or_default().to_string_lossy()
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} probes failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

fn strata(dir: &Path, args: &[&str], cache: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(dir)
        .env("STRATA_CACHE_DIR", cache)
        .output()
        .expect("strata")
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

#[test]
fn helm_values_of_parallel_environments_never_mix() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = tmp.path();
    // A stand-in for helm that prints the values file it was given.
    write(
        &t.join("fake-helm"),
        "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in --values=*) v=\"${a#--values=}\";; esac; done\nsleep 0.05\necho 'apiVersion: v1'\necho 'kind: ConfigMap'\necho 'metadata:'\necho '  name: chart'\necho 'data:'\nsed 's/^/  /' \"$v\"\n",
    );
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(t.join("fake-helm"), fs::Permissions::from_mode(0o755)).expect("chmod");
    let envs = ["a", "b", "c", "d", "e", "f"];
    for env in envs {
        let dir = t.join("overlays").join(env);
        write(
            &dir.join("kustomization.yaml"),
            &format!("helmCharts:\n- name: web\n  valuesInline:\n    env: {env}\n"),
        );
        write(&dir.join("charts/web/Chart.yaml"), "name: web\n");
    }
    let helm = t.join("fake-helm");
    for _ in 0..5 {
        let out = t.join("out");
        let _ = fs::remove_dir_all(&out);
        let o = strata(
            t,
            &[
                "render",
                "-j",
                "6",
                "--enable-helm",
                "--helm-command",
                helm.to_str().expect("utf8"),
                "--out",
                out.to_str().expect("utf8"),
            ],
            &t.join("cache"),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for env in envs {
            let text = fs::read_to_string(out.join(format!("{env}.yaml"))).expect("env file");
            assert!(text.contains(&format!("env: {env}\n")), "{env}: {text}");
        }
    }
}

/// A git repository with a base at `base/`, tagged `v1`.
fn remote_repo(t: &Path) -> PathBuf {
    let repo = t.join("repo");
    write(
        &repo.join("base/kustomization.yaml"),
        "resources:\n- cm.yaml\n",
    );
    write(
        &repo.join("base/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\n",
    );
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "init"]);
    git(&repo, &["tag", "v1"]);
    repo
}

#[test]
fn processes_sharing_a_cold_cache_all_succeed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = fs::canonicalize(tmp.path()).expect("real");
    let repo = remote_repo(&t);
    write(
        &t.join("app/kustomization.yaml"),
        &format!("resources:\n- file://{}//base?ref=v1\n", repo.display()),
    );
    let cache = t.join("cache");
    let children: Vec<_> = (0..16)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_strata"))
                .args(["build", "--allow-file-remotes", "app"])
                .current_dir(&t)
                .env("STRATA_CACHE_DIR", &cache)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    for o in &outputs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(o.stdout, outputs[0].stdout);
    }
    assert!(String::from_utf8_lossy(&outputs[0].stdout).contains("name: remote"));
    // Nothing half-written is left in the cache.
    let leftovers: Vec<_> = fs::read_dir(cache.join("git"))
        .expect("cache")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".fetch"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn environments_sharing_a_remote_base_fetch_it_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = fs::canonicalize(tmp.path()).expect("real");
    let repo = remote_repo(&t);
    for i in 0..6 {
        write(
            &t.join(format!("overlays/e{i}/kustomization.yaml")),
            &format!(
                "resources:\n- file://{}//base?ref=v1\nnamePrefix: e{i}-\n",
                repo.display()
            ),
        );
    }
    let o = strata(
        &t,
        &["render", "--allow-file-remotes", "-j", "6", "--out", "out"],
        &t.join("cache"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for i in 0..6 {
        let text = fs::read_to_string(t.join(format!("out/e{i}.yaml"))).expect("out");
        assert!(text.contains(&format!("name: e{i}-remote")), "{text}");
    }
}

#[test]
fn render_out_is_all_or_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = tmp.path();
    for env in ["dev", "prod", "staging"] {
        write(
            &t.join(format!("overlays/{env}/kustomization.yaml")),
            "resources:\n- cm.yaml\n",
        );
        write(
            &t.join(format!("overlays/{env}/cm.yaml")),
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {env}-new\n"),
        );
    }
    let out = t.join("out");
    write(&out.join("dev.yaml"), "old dev\n");
    write(&out.join("staging.yaml"), "old staging\n");
    // `prod.yaml` is a directory: the last rename fails after the others succeeded.
    fs::create_dir_all(out.join("prod.yaml/x")).expect("mkdir");
    let o = strata(t, &["render", "--out", "out"], &t.join("cache"));
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        fs::read_to_string(out.join("dev.yaml")).expect("dev"),
        "old dev\n"
    );
    assert_eq!(
        fs::read_to_string(out.join("staging.yaml")).expect("staging"),
        "old staging\n"
    );
    let stray: Vec<_> = fs::read_dir(&out)
        .expect("out")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".strata"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
    // Once the obstacle is gone, every file is replaced.
    fs::remove_dir_all(out.join("prod.yaml")).expect("rm");
    let o = strata(t, &["render", "--out", "out"], &t.join("cache"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        fs::read_to_string(out.join("dev.yaml"))
            .expect("dev")
            .contains("dev-new")
    );
}

#[test]
fn a_reader_that_closes_early_ends_the_build_quietly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = tmp.path();
    let resources: String = (0..3000)
        .map(|i| {
            format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: v\n"
            )
        })
        .collect();
    write(&t.join("app/cm.yaml"), &resources);
    write(&t.join("app/kustomization.yaml"), "resources:\n- cm.yaml\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["build", "app"])
        .current_dir(t)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Read one chunk, then close the pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut buf = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut buf).expect("read");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
