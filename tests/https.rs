//! HTTPS downloads trust the system's certificate authorities, found as Go programs find
//! them (`SSL_CERT_FILE`, `SSL_CERT_DIR`): a remote resource on a server whose certificate
//! a private authority signed builds when the authority is in the bundle named, and fails
//! with a TLS error naming the fix when it is not. The server is Python's, on loopback,
//! with the test certificates of `tests/tls/`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn tls() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls")
}

/// An HTTPS server for `dir` on 127.0.0.1; its port.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SERVE: &str = r#"
import functools, http.server, ssl, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
print(httpd.server_address[1], flush=True)
httpd.serve_forever()
"#;

fn serve(dir: &Path) -> Option<Server> {
    let spawned = Command::new("python3")
        .arg("-c")
        .arg(SERVE)
        .arg(dir)
        .arg(tls().join("server.pem"))
        .arg(tls().join("server.key"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = spawned else {
        if std::env::var_os("STRATA_REQUIRE_CORPORA").is_some() {
            panic!("python3 is needed for the HTTPS server");
        }
        eprintln!("skipped: no python3 for the HTTPS server");
        return None;
    };
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("port");
    let port = line.trim().parse().expect("a port number");
    Some(Server { child, port })
}

fn build(dir: &Path, cache: &Path, cert_file: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["build", "."])
        .current_dir(dir)
        .env("STRATA_CACHE_DIR", cache)
        .env("SSL_CERT_FILE", cert_file)
        // An empty directory: only the named bundle counts.
        .env("SSL_CERT_DIR", cache)
        .output()
        .expect("strata")
}

#[test]
fn a_private_authority_in_ssl_cert_file_is_trusted() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(
        site.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: served\ndata:\n  a: b\n",
    )
    .unwrap();
    let Some(server) = serve(site.path()) else {
        return;
    };
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(
        tree.path().join("kustomization.yaml"),
        format!("resources:\n- https://localhost:{}/cm.yaml\n", server.port),
    )
    .unwrap();

    // The authority is not in the bundle named: a TLS error that says what to do.
    let cache = tempfile::tempdir().unwrap();
    let other = tree.path().join("other.pem");
    std::fs::write(&other, "no certificates here\n").unwrap();
    let out = build(tree.path(), cache.path(), &other);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("TLS failed") && stderr.contains("SSL_CERT_FILE"),
        "{stderr}"
    );

    // In the bundle: the resource is fetched and built.
    let cache = tempfile::tempdir().unwrap();
    let out = build(tree.path(), cache.path(), &tls().join("cert.pem"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "apiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n  name: served\n"
    );
}
