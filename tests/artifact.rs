//! Flux artifacts end to end: `strata artifact build|push` against a real registry and a
//! fake one.
//!
//! - With `STRATA_TEST_REGISTRY=HOST:PORT` (a plain-HTTP CNCF distribution registry that
//!   `.ci/run` starts on loopback), the sample environments are pushed and pulled back the way
//!   source-controller pulls them: tag → digest, manifest with the OCI `Accept` header, the
//!   layer chosen by media type, digests and sizes checked, extracted with Flux's path rules
//!   and compared with `strata render`. Without it these tests print "skipped: …" (and fail
//!   when `STRATA_REQUIRE_CORPORA=1`).
//! - A fake registry (a `TcpListener` in this file) checks the authentication handshakes
//!   (bearer token, basic, `--creds`, Docker config `auths`, credential helpers) and the
//!   errors for 401, 500 and a registry that never answers.
//! - The Flux objects in `deploy/flux/` build and validate.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG: &str = "application/vnd.cncf.flux.config.v1+json";
const LAYER: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn strata_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
    cmd.current_dir(cwd)
        .args(args)
        .env_remove("STRATA_REGISTRY_CREDS")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("strata runs")
}

fn strata(cwd: &Path, args: &[&str]) -> Output {
    // No Docker config of the machine's user leaks into a test.
    let empty = tempfile::tempdir().expect("tempdir");
    let dir = empty.path().to_string_lossy().to_string();
    strata_env(cwd, args, &[("DOCKER_CONFIG", &dir)])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// Standard error with miette's line wrapping undone (for `contains` checks).
fn flat(b: &[u8]) -> String {
    text(b)
        .replace(['│', '×'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn sha256(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn require(what: &str) {
    if std::env::var_os("STRATA_REQUIRE_CORPORA").is_some() {
        panic!("{what} is required");
    }
    eprintln!("skipped: {what}");
}

/// The test registry's `HOST:PORT`, or `None` (after saying so).
fn registry() -> Option<String> {
    match std::env::var("STRATA_TEST_REGISTRY") {
        Ok(r) if !r.is_empty() => Some(r),
        _ => {
            require("a registry in STRATA_TEST_REGISTRY (.ci/run starts one)");
            None
        }
    }
}

/// A repository name no other test (or earlier run) uses.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("strata-test/{name}-{}-{nanos}", std::process::id())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

/// An artifact pulled back as source-controller pulls it.
struct Pulled {
    digest: String,
    manifest: Value,
    config: Value,
    layer: Vec<u8>,
    files: BTreeMap<String, Vec<u8>>,
}

fn get(url: &str, accept: &str) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    let mut resp = agent()
        .get(url)
        .header("Accept", accept)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .expect("body");
    (resp.status().as_u16(), headers, body)
}

fn pull(registry: &str, repo: &str, tag: &str) -> Pulled {
    let base = format!("http://{registry}/v2/{repo}");
    // Tag → digest, as source-controller resolves `ref.tag` before pulling.
    let resp = agent()
        .head(format!("{base}/manifests/{tag}"))
        .header("Accept", MANIFEST)
        .call()
        .expect("HEAD manifest");
    assert_eq!(resp.status().as_u16(), 200, "{repo}:{tag} exists");
    let digest = resp
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .expect("Docker-Content-Digest")
        .to_string();
    // The manifest by digest, with the OCI Accept header.
    let (status, headers, body) = get(&format!("{base}/manifests/{digest}"), MANIFEST);
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some(MANIFEST)
    );
    assert_eq!(sha256(&body), digest, "manifest bytes match their digest");
    let manifest: Value = serde_json::from_slice(&body).expect("manifest JSON");
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["mediaType"], MANIFEST);
    // Config blob.
    assert_eq!(manifest["config"]["mediaType"], CONFIG);
    let config_digest = manifest["config"]["digest"]
        .as_str()
        .expect("config digest");
    let (status, _, config_bytes) = get(&format!("{base}/blobs/{config_digest}"), "*/*");
    assert_eq!(status, 200);
    assert_eq!(sha256(&config_bytes), config_digest);
    assert_eq!(manifest["config"]["size"], config_bytes.len());
    let config: Value = serde_json::from_slice(&config_bytes).expect("config JSON");
    // The layer chosen by media type (`layerSelector.mediaType`).
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1, "exactly one layer");
    let chosen = layers
        .iter()
        .find(|l| l["mediaType"] == LAYER)
        .expect("a layer of the Flux content media type");
    let layer_digest = chosen["digest"].as_str().expect("layer digest");
    let (status, _, layer) = get(&format!("{base}/blobs/{layer_digest}"), "*/*");
    assert_eq!(status, 200);
    assert_eq!(sha256(&layer), layer_digest);
    assert_eq!(chosen["size"], layer.len());
    // Uncompressed, it is the config's diff_id.
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(&layer[..])
        .read_to_end(&mut tar_bytes)
        .expect("gunzip");
    assert_eq!(config["rootfs"]["type"], "layers");
    assert_eq!(config["rootfs"]["diff_ids"][0], sha256(&tar_bytes).as_str());
    let files = untar(&tar_bytes);
    Pulled {
        digest,
        manifest,
        config,
        layer,
        files,
    }
}

/// Extract with the rules of Flux's untar: relative names only, no `..`, no `\`,
/// directories and regular files only; plus the reproducibility rules of the format.
fn untar(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut archive = tar::Archive::new(bytes);
    let mut first = true;
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("tar entry");
        let name = text(&entry.path_bytes());
        let h = entry.header().clone();
        if first {
            assert_eq!(name, ".", "the root entry comes first");
            first = false;
        }
        assert!(
            !name.starts_with('/') && !name.contains('\\'),
            "relative name: {name}"
        );
        assert!(!name.split('/').any(|c| c == ".."), "no `..`: {name}");
        assert_eq!(h.uid().unwrap(), 0, "{name}");
        assert_eq!(h.gid().unwrap(), 0, "{name}");
        assert_eq!(h.mtime().unwrap(), 0, "{name}");
        assert_eq!(h.username().unwrap().unwrap_or(""), "", "{name}");
        assert_eq!(h.groupname().unwrap().unwrap_or(""), "", "{name}");
        match h.entry_type() {
            tar::EntryType::Directory => assert_eq!(h.mode().unwrap(), 0o755),
            tar::EntryType::Regular => {
                assert_eq!(h.mode().unwrap(), 0o644);
                let mut data = Vec::new();
                entry.read_to_end(&mut data).expect("entry data");
                files.insert(name, data);
            }
            other => panic!("{name}: a {other:?} entry"),
        }
    }
    files
}

fn rendered(env: &str) -> Vec<u8> {
    let out = strata(&root(), &["render", env]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    out.stdout
}

/// `REF@DIGEST` lines printed by `artifact push`.
fn pushed(out: &Output) -> Vec<(String, String)> {
    assert!(out.status.success(), "push failed: {}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| {
            let (r, d) = l.split_once('@').expect("REF@DIGEST");
            (r.to_string(), d.to_string())
        })
        .collect()
}

fn tags(registry: &str, repo: &str) -> Vec<String> {
    let (status, _, body) = get(&format!("http://{registry}/v2/{repo}/tags/list"), "*/*");
    if status == 404 {
        return Vec::new();
    }
    assert_eq!(status, 200, "{}", text(&body));
    let v: Value = serde_json::from_slice(&body).expect("tags JSON");
    v["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn push_sample_environments_and_pull_them_back() {
    let Some(reg) = registry() else { return };
    let repo = unique("sample");
    let url = format!("oci://{reg}/{repo}");
    let out = strata(
        &root(),
        &[
            "artifact",
            "push",
            &url,
            "--tag-per-env",
            "--insecure",
            "--source",
            "https://git.example.com/org/strata",
            "--revision",
            "main@sha1:0123456789abcdef0123456789abcdef01234567",
            "--annotation",
            "org.example.team=web",
        ],
    );
    let lines = pushed(&out);
    let envs = ["dev", "prod", "staging"];
    assert_eq!(lines.len(), 3, "{}", text(&out.stdout));
    let built = tempfile::tempdir().unwrap();
    let b = strata(
        &root(),
        &[
            "artifact",
            "build",
            "--out",
            &built.path().to_string_lossy(),
        ],
    );
    assert!(b.status.success(), "{}", text(&b.stderr));
    for (env, (reference, digest)) in envs.iter().zip(&lines) {
        assert_eq!(reference, &format!("{reg}/{repo}:{env}"));
        let p = pull(&reg, &repo, env);
        assert_eq!(&p.digest, digest, "the printed digest is the registry's");
        let names: Vec<&String> = p.files.keys().collect();
        assert_eq!(names, ["manifests.yaml"], "{env}");
        assert_eq!(
            text(&p.files["manifests.yaml"]),
            text(&rendered(env)),
            "{env}: the artifact holds what `strata render {env}` prints"
        );
        let a = &p.manifest["annotations"];
        assert_eq!(
            a["org.opencontainers.image.source"],
            "https://git.example.com/org/strata"
        );
        assert_eq!(
            a["org.opencontainers.image.revision"],
            "main@sha1:0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(a["org.example.team"], "web");
        let created = a["org.opencontainers.image.created"].as_str().unwrap();
        assert_eq!(created.len(), 20, "RFC 3339 UTC: {created}");
        assert!(
            created.ends_with('Z') && created.as_bytes()[10] == b'T',
            "{created}"
        );
        assert_ne!(created, "1970-01-01T00:00:00Z");
        assert_eq!(p.config["created"], created);
        // The layer pushed is the tarball `artifact build` writes, byte for byte.
        let tgz = std::fs::read(built.path().join(format!("{env}.tgz"))).unwrap();
        assert_eq!(p.layer, tgz, "{env}");
    }
    assert_eq!(tags(&reg, &repo).len(), 3);
}

#[test]
fn reproducible_pushes_have_one_digest() {
    let Some(reg) = registry() else { return };
    let repo = unique("repro");
    let mut digests = Vec::new();
    for tag in ["a", "b"] {
        let out = strata(
            &root(),
            &[
                "artifact",
                "push",
                &format!("oci://{reg}/{repo}:{tag}"),
                "prod",
                "--insecure",
                "--reproducible",
                "--source",
                "https://git.example.com/org/strata",
                "--revision",
                "main@sha1:abc",
            ],
        );
        digests.push(pushed(&out)[0].1.clone());
    }
    assert_eq!(digests[0], digests[1]);
    let p = pull(&reg, &repo, "b");
    assert_eq!(p.digest, digests[0]);
    assert_eq!(
        p.manifest["annotations"]["org.opencontainers.image.created"],
        "1970-01-01T00:00:00Z"
    );
    assert_eq!(p.config["created"], "1970-01-01T00:00:00Z");
    // Pushing again finds the blobs already there and still succeeds.
    let mut tags_now = tags(&reg, &repo);
    tags_now.sort();
    assert_eq!(tags_now, ["a", "b"]);
}

#[test]
fn tag_per_env_with_a_tag_makes_a_repository_per_environment() {
    let Some(reg) = registry() else { return };
    let repo = unique("per-env");
    let out = strata(
        &root(),
        &[
            "artifact",
            "push",
            &format!("oci://{reg}/{repo}:v1.2.3"),
            "--tag-per-env",
            "dev",
            "staging",
            "--insecure",
            "--source",
            "s",
            "--revision",
            "r",
        ],
    );
    let lines = pushed(&out);
    assert_eq!(lines[0].0, format!("{reg}/{repo}/dev:v1.2.3"));
    assert_eq!(lines[1].0, format!("{reg}/{repo}/staging:v1.2.3"));
    assert_eq!(tags(&reg, &format!("{repo}/staging")), ["v1.2.3"]);
    assert!(tags(&reg, &format!("{repo}/prod")).is_empty());
}

/// A copy of the sample project in a temporary directory.
fn sample_copy() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for dir in ["base", "overlays/dev", "overlays/staging", "overlays/prod"] {
        std::fs::create_dir_all(t.path().join(dir)).unwrap();
        for f in std::fs::read_dir(root().join(dir)).unwrap() {
            let f = f.unwrap().path();
            if f.is_file() {
                std::fs::copy(&f, t.path().join(dir).join(f.file_name().unwrap())).unwrap();
            }
        }
    }
    t
}

#[test]
fn a_failing_environment_pushes_nothing() {
    let Some(reg) = registry() else { return };
    // prod fails to render; dev and staging render, and are not pushed either.
    let broken = sample_copy();
    let k = broken.path().join("overlays/prod/kustomization.yaml");
    let text_k = std::fs::read_to_string(&k).unwrap();
    std::fs::write(
        &k,
        text_k.replace("- ../../base", "- ../../base\n- missing.yaml"),
    )
    .unwrap();
    let repo = unique("broken");
    let out = strata(
        broken.path(),
        &[
            "artifact",
            "push",
            &format!("oci://{reg}/{repo}"),
            "--tag-per-env",
            "--insecure",
            "--source",
            "s",
            "--revision",
            "r",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        flat(&out.stderr).contains("missing.yaml"),
        "{}",
        text(&out.stderr)
    );
    assert!(tags(&reg, &repo).is_empty(), "nothing was pushed");

    // A manifest that fails `--validate` pushes nothing.
    let invalid = sample_copy();
    let d = invalid.path().join("base/deployment.yaml");
    let text_d = std::fs::read_to_string(&d).unwrap();
    std::fs::write(&d, text_d.replacen("spec:\n", "spec:\n  replicaz: 3\n", 1)).unwrap();
    let repo = unique("invalid");
    let out = strata(
        invalid.path(),
        &[
            "artifact",
            "push",
            &format!("oci://{reg}/{repo}"),
            "dev",
            "--validate",
            "--insecure",
            "--source",
            "s",
            "--revision",
            "r",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        flat(&out.stderr).contains("replicaz"),
        "{}",
        text(&out.stderr)
    );
    assert!(tags(&reg, &repo).is_empty(), "nothing was pushed");
}

// ---- without a registry ------------------------------------------------------------------

#[test]
fn build_writes_reproducible_tarballs_and_directories() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    for (dir, extra) in [(&a, "-j1"), (&b, "-j4")] {
        let out = strata(
            &root(),
            &[
                "artifact",
                "build",
                extra,
                "--out",
                &dir.path().to_string_lossy(),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
    }
    let out = strata(
        &root(),
        &[
            "artifact",
            "build",
            "prod",
            "dev",
            "--layout",
            "dir",
            "--out",
            &d.path().to_string_lossy(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for env in ["dev", "staging", "prod"] {
        let x = std::fs::read(a.path().join(format!("{env}.tgz"))).unwrap();
        let y = std::fs::read(b.path().join(format!("{env}.tgz"))).unwrap();
        assert_eq!(x, y, "{env}: same bytes whatever the thread count");
        assert_eq!(&x[..4], &[0x1f, 0x8b, 8, 0], "gzip with no file name");
        assert_eq!(&x[4..8], &[0, 0, 0, 0], "gzip with no mtime");
        let mut tar_bytes = Vec::new();
        flate2::read::GzDecoder::new(&x[..])
            .read_to_end(&mut tar_bytes)
            .unwrap();
        let files = untar(&tar_bytes);
        assert_eq!(files["manifests.yaml"], rendered(env), "{env}");
    }
    assert_eq!(
        std::fs::read(d.path().join("dev/manifests.yaml")).unwrap(),
        rendered("dev")
    );
    assert!(
        !d.path().join("staging").exists(),
        "only the named environments"
    );
    let leftovers: Vec<_> = std::fs::read_dir(a.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn build_writes_nothing_when_an_environment_fails() {
    let broken = sample_copy();
    std::fs::write(
        broken.path().join("overlays/staging/kustomization.yaml"),
        "resources:\n- nothere.yaml\n",
    )
    .unwrap();
    let out_dir = broken.path().join("out");
    let out = strata(
        broken.path(),
        &["artifact", "build", "--out", &out_dir.to_string_lossy()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!out_dir.exists(), "nothing written");
}

#[test]
fn an_empty_environment_is_refused() {
    let t = sample_copy();
    std::fs::create_dir_all(t.path().join("overlays/empty")).unwrap();
    std::fs::write(
        t.path().join("overlays/empty/kustomization.yaml"),
        "resources: []\n",
    )
    .unwrap();
    let out_dir = t.path().join("out");
    let o = out_dir.to_string_lossy().to_string();
    let out = strata(t.path(), &["artifact", "build", "empty", "--out", &o]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        flat(&out.stderr).contains("renders no objects"),
        "{}",
        text(&out.stderr)
    );
    let out = strata(
        t.path(),
        &["artifact", "build", "empty", "--allow-empty", "--out", &o],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out_dir.join("empty.tgz").is_file());
}

#[test]
fn push_checks_its_arguments_before_rendering() {
    for (args, want) in [
        (
            vec!["oci://r.example/app", "dev", "prod"],
            "takes one environment",
        ),
        (vec!["r.example/app", "dev"], "not an `oci://` address"),
        (vec!["oci://r.example/App", "dev"], "not a repository name"),
        (
            vec!["oci://r.example/app", "dev", "--annotation", "nokey"],
            "has no `=`",
        ),
        (
            vec!["oci://r.example/app", "dev", "--creds", "justuser"],
            "`--creds` must be",
        ),
        (
            vec!["oci://r.example/app", "nope"],
            "unknown environment `nope`",
        ),
        (
            vec!["oci://r.example/app", "dev", "--timeout", "0"],
            "not a number of seconds",
        ),
    ] {
        let mut full = vec!["artifact", "push"];
        full.extend(&args);
        full.extend(["--source", "s", "--revision", "r"]);
        let out = strata(&root(), &full);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        assert!(
            flat(&out.stderr).contains(want),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // --source and --revision are required (a usage error).
    let out = strata(&root(), &["artifact", "push", "oci://r.example/app", "dev"]);
    assert_eq!(out.status.code(), Some(2));
}

// ---- a fake registry -------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Req {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// What the fake answers: status, headers, body; `None` never answers.
type Answer = Option<(u16, Vec<(String, String)>, Vec<u8>)>;

struct Fake {
    addr: String,
    log: Arc<Mutex<Vec<Req>>>,
}

fn read_request(s: &mut TcpStream) -> Option<Req> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = text(&buf);
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    Some(Req {
        method,
        target,
        headers,
        body,
    })
}

/// Serve `handler` on loopback, one request per connection, for at most `limit` requests.
fn fake(handler: impl Fn(&Req, &str) -> Answer + Send + Sync + 'static) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (log2, addr2) = (log.clone(), addr.clone());
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut s) = stream else { return };
            let (log, handler, addr) = (log2.clone(), handler.clone(), addr2.clone());
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let Some(req) = read_request(&mut s) else {
                    return;
                };
                log.lock().unwrap().push(req.clone());
                match handler(&req, &addr) {
                    Some((status, headers, body)) => {
                        let mut out = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
                        for (k, v) in headers {
                            out.push_str(&format!("{k}: {v}\r\n"));
                        }
                        out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                        let _ = s.write_all(out.as_bytes());
                        let _ = s.write_all(&body);
                    }
                    None => std::thread::sleep(Duration::from_secs(10)),
                }
            });
        }
    });
    Fake { addr, log }
}

fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Answer {
    Some((
        status,
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body.as_bytes().to_vec(),
    ))
}

/// A registry that wants `Authorization: Bearer tok`, from a token service at `/token` that
/// wants basic `me:secret` (or, with `basic_only`, basic `me:secret` on every request).
fn auth_registry(basic_only: bool) -> Fake {
    fake(move |req, addr| {
        let basic = format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "me:secret")
        );
        let auth = req
            .headers
            .get("authorization")
            .cloned()
            .unwrap_or_default();
        if req.target.starts_with("/token") {
            let form = text(&req.body);
            let refresh = req.method == "POST"
                && form.contains("grant_type=refresh_token")
                && form.contains("refresh_token=rt&")
                && form.contains("scope=repository%3Aorg%2Fapp%3Apull%2Cpush");
            return if auth == basic || refresh {
                answer(200, &[], r#"{"token":"tok"}"#)
            } else {
                answer(
                    401,
                    &[],
                    r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad"}]}"#,
                )
            };
        }
        let want = if basic_only {
            basic.clone()
        } else {
            "Bearer tok".to_string()
        };
        if auth != want {
            let challenge = if basic_only {
                r#"Basic realm="fake""#.to_string()
            } else {
                format!(
                    r#"Bearer realm="http://{addr}/token",service="fake-registry",scope="repository:org/app:push""#
                )
            };
            return answer(401, &[("WWW-Authenticate", &challenge)], "");
        }
        match (req.method.as_str(), req.target.as_str()) {
            ("HEAD", t) if t.contains("/blobs/") => answer(404, &[], ""),
            ("POST", t) if t.ends_with("/blobs/uploads/") => answer(
                202,
                &[("Location", "/v2/org/app/blobs/uploads/1?_state=x")],
                "",
            ),
            ("PUT", t)
                if t.starts_with("/v2/org/app/blobs/uploads/1?_state=x&digest=sha256%3A") =>
            {
                answer(201, &[], "")
            }
            ("PUT", "/v2/org/app/manifests/dev") => {
                let digest = sha256(&req.body);
                answer(201, &[("Docker-Content-Digest", &digest)], "")
            }
            _ => answer(
                400,
                &[],
                r#"{"errors":[{"code":"UNSUPPORTED","message":"unexpected"}]}"#,
            ),
        }
    })
}

fn push_to(addr: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let url = format!("oci://{addr}/org/app:dev");
    let mut args = vec![
        "artifact",
        "push",
        &url,
        "dev",
        "--insecure",
        "--timeout",
        "2",
        "--source",
        "s",
        "--revision",
        "r",
    ];
    args.extend(extra);
    strata_env(&root(), &args, env)
}

fn check_bearer_flow(f: &Fake, out: &Output) {
    let lines = pushed(out);
    let log = f.log.lock().unwrap();
    let token = log
        .iter()
        .find(|r| r.target.starts_with("/token"))
        .expect("a token request");
    assert!(
        token.target.contains("service=fake-registry"),
        "{}",
        token.target
    );
    assert!(
        token
            .target
            .contains("scope=repository%3Aorg%2Fapp%3Apull%2Cpush"),
        "{}",
        token.target
    );
    let put = log
        .iter()
        .find(|r| r.method == "PUT" && r.target.contains("/manifests/"))
        .expect("a manifest PUT");
    assert_eq!(put.headers["content-type"], MANIFEST);
    assert_eq!(lines[0].1, sha256(&put.body));
    let manifest: Value = serde_json::from_slice(&put.body).unwrap();
    assert_eq!(manifest["layers"][0]["mediaType"], LAYER);
    let uploads = log
        .iter()
        .filter(|r| r.method == "PUT" && r.target.contains("/blobs/uploads/"))
        .count();
    assert_eq!(uploads, 2, "layer and config uploaded");
}

#[test]
fn bearer_token_with_creds_flag() {
    let f = auth_registry(false);
    let out = push_to(&f.addr, &["--creds", "me:secret"], &[]);
    check_bearer_flow(&f, &out);
}

#[test]
fn bearer_token_with_creds_from_the_environment() {
    let f = auth_registry(false);
    let out = push_to(&f.addr, &[], &[("STRATA_REGISTRY_CREDS", "me:secret")]);
    check_bearer_flow(&f, &out);
}

#[test]
fn basic_auth_from_docker_config_auths() {
    let f = auth_registry(true);
    let cfg = tempfile::tempdir().unwrap();
    let auth = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "me:secret");
    std::fs::write(
        cfg.path().join("config.json"),
        format!(
            r#"{{"auths": {{"http://{}": {{"auth": "{auth}"}}}}}}"#,
            f.addr
        ),
    )
    .unwrap();
    let out = push_to(
        &f.addr,
        &[],
        &[("DOCKER_CONFIG", &cfg.path().to_string_lossy())],
    );
    pushed(&out);
}

#[test]
fn identity_token_is_exchanged_for_a_bearer_token() {
    let f = auth_registry(false);
    let cfg = tempfile::tempdir().unwrap();
    std::fs::write(
        cfg.path().join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"identitytoken": "rt"}}}}}}"#,
            f.addr
        ),
    )
    .unwrap();
    let out = push_to(
        &f.addr,
        &[],
        &[("DOCKER_CONFIG", &cfg.path().to_string_lossy())],
    );
    pushed(&out);
    let log = f.log.lock().unwrap();
    assert!(
        log.iter()
            .any(|r| r.method == "POST" && r.target == "/token")
    );
}

#[cfg(unix)]
#[test]
fn credential_helper_gets_the_host_on_stdin() {
    use std::os::unix::fs::PermissionsExt;
    let f = auth_registry(false);
    let dir = tempfile::tempdir().unwrap();
    let helper = dir.path().join("docker-credential-fake");
    let seen = dir.path().join("seen");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nprintf '%s|' \"$@\" > '{0}.args'\ncat > '{0}.stdin'\nprintf '{{\"ServerURL\":\"x\",\"Username\":\"me\",\"Secret\":\"secret\"}}'\n",
            seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        format!(
            r#"{{"auths": {{"{0}": {{}}}}, "credHelpers": {{"{0}": "fake"}}}}"#,
            f.addr
        ),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = push_to(
        &f.addr,
        &[],
        &[
            ("DOCKER_CONFIG", &dir.path().to_string_lossy()),
            ("PATH", &path),
        ],
    );
    check_bearer_flow(&f, &out);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("seen.args")).unwrap(),
        "get|"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("seen.stdin")).unwrap(),
        f.addr
    );
}

#[cfg(unix)]
#[test]
fn creds_store_without_the_host_falls_back_to_auths() {
    use std::os::unix::fs::PermissionsExt;
    let f = auth_registry(true);
    let dir = tempfile::tempdir().unwrap();
    let helper = dir.path().join("docker-credential-store");
    std::fs::write(
        &helper,
        "#!/bin/sh\ncat >/dev/null\necho 'credentials not found in native keychain'\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let auth = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "me:secret");
    std::fs::write(
        dir.path().join("config.json"),
        format!(
            r#"{{"credsStore": "store", "auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            f.addr
        ),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = push_to(
        &f.addr,
        &[],
        &[
            ("DOCKER_CONFIG", &dir.path().to_string_lossy()),
            ("PATH", &path),
        ],
    );
    pushed(&out);
}

#[test]
fn a_helper_name_with_a_path_is_refused() {
    let cfg = tempfile::tempdir().unwrap();
    std::fs::write(
        cfg.path().join("config.json"),
        r#"{"credHelpers": {"127.0.0.1:1": "../../../bin/sh"}}"#,
    )
    .unwrap();
    let out = strata_env(
        &root(),
        &[
            "artifact",
            "push",
            "oci://127.0.0.1:1/org/app",
            "dev",
            "--insecure",
            "--source",
            "s",
            "--revision",
            "r",
        ],
        &[("DOCKER_CONFIG", &cfg.path().to_string_lossy())],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        flat(&out.stderr).contains("is not a helper name"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn wrong_or_missing_credentials_are_a_clear_error() {
    let f = auth_registry(false);
    let out = push_to(&f.addr, &["--creds", "me:wrong"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = flat(&out.stderr);
    assert!(err.contains("refused the credentials (401"), "{err}");
    assert!(err.contains("docker login"), "{err}");

    let f = auth_registry(true);
    let out = push_to(&f.addr, &[], &[]);
    let err = flat(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("refused anonymous access"), "{err}");
    assert!(err.contains("401 Unauthorized"), "{err}");
    assert!(err.contains("--creds user:token"), "{err}");
}

#[test]
fn a_registry_error_is_reported_with_its_code() {
    // Blobs are missing (HEAD 404); starting the upload fails with the registry's error.
    let f = fake(|req, _| {
        if req.method == "HEAD" {
            return answer(404, &[], "");
        }
        answer(
            500,
            &[("Content-Type", "application/json")],
            r#"{"errors":[{"code":"UNKNOWN","message":"storage is full"}]}"#,
        )
    });
    let out = push_to(&f.addr, &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = flat(&out.stderr);
    for want in [
        "answered 500 Internal Server Error to `POST",
        "blobs/uploads/`: UNKNOWN: storage is full",
    ] {
        assert!(err.contains(want), "{err}");
    }
    assert!(err.contains("registry's logs"), "{err}");
}

#[test]
fn a_registry_that_never_answers_times_out() {
    let f = fake(|_, _| None);
    let out = push_to(&f.addr, &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = flat(&out.stderr);
    assert!(err.contains("no answer within 2 s"), "{err}");
    assert!(err.contains("--timeout"), "{err}");
}

// ---- the Flux objects in the README ---------------------------------------------------------

#[test]
fn deploy_flux_objects_build_and_validate() {
    let mut checked = 0;
    for dir in ["deploy/flux", "deploy/flux/rendered-branch"] {
        let out = strata(&root(), &["build", dir]);
        assert!(out.status.success(), "{dir}: {}", text(&out.stderr));
        let stream = text(&out.stdout);
        assert!(!stream.is_empty());
        let v = strata(
            &root(),
            &[
                "build",
                dir,
                "--validate",
                "--crds",
                "tests/flux-crds",
                "--missing-schemas",
                "error",
            ],
        );
        assert!(v.status.success(), "{dir}: {}", text(&v.stderr));
        checked += stream.matches("\nkind: ").count() + usize::from(stream.starts_with("kind: "));
    }
    assert!(checked >= 6);
    // The objects consume what `artifact push --tag-per-env` pushes: every environment has
    // an OCIRepository whose layerSelector is the Flux content media type.
    let out = strata(&root(), &["build", "deploy/flux"]);
    let stream = text(&out.stdout);
    for env in ["dev", "staging", "prod"] {
        assert!(stream.contains(&format!("tag: {env}")), "{env}");
    }
    assert_eq!(stream.matches(&format!("mediaType: {LAYER}")).count(), 3);
    // dev and staging are prod with the environment's name.
    let prod = std::fs::read_to_string(root().join("deploy/flux/prod.yaml")).unwrap();
    for env in ["dev", "staging"] {
        let got = std::fs::read_to_string(root().join(format!("deploy/flux/{env}.yaml"))).unwrap();
        assert_eq!(got, prod.replace("prod", env), "{env}.yaml");
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for f in [
        "deploy/flux/prod.yaml",
        "deploy/flux/rendered-branch/gitrepository.yaml",
    ] {
        let body = std::fs::read_to_string(root().join(f)).unwrap();
        assert!(readme.contains(body.trim()), "README shows {f} as it is");
    }
    // The schemas catch a misspelt field and a wrong type.
    let bad = tempfile::tempdir().unwrap();
    let file = bad.path().join("bad.yaml");
    std::fs::write(
        &file,
        prod.replace("layerSelector", "layerSelectr")
            .replace("prune: true", "prune: \"yes\""),
    )
    .unwrap();
    let crds = root().join("tests/flux-crds");
    let v = strata(
        &root(),
        &[
            "validate",
            "--crds",
            &crds.to_string_lossy(),
            &file.to_string_lossy(),
        ],
    );
    assert_eq!(v.status.code(), Some(1));
    let err = flat(&v.stderr);
    assert!(
        err.contains("layerSelectr") && err.contains("spec.prune"),
        "{err}"
    );
}

#[test]
fn readme_artifact_build_commands_run() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let commands: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("strata artifact build "))
        .map(|l| l.split('#').next().unwrap_or(l).trim())
        .collect();
    assert!(commands.len() >= 2, "{commands:?}");
    for command in commands {
        let out_dir = tempfile::tempdir().unwrap();
        // The directory after `--out` becomes a temporary one.
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        let args: Vec<String> = words
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if i > 0 && words[i - 1] == "--out" {
                    out_dir.path().to_string_lossy().to_string()
                } else {
                    a.to_string()
                }
            })
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = strata(&root(), &refs);
        assert!(out.status.success(), "{command}: {}", text(&out.stderr));
        let made = std::fs::read_dir(out_dir.path()).unwrap().count();
        assert_eq!(made, 3, "{command}: one artifact per environment");
    }
}
