//! HTTP(S) for the rest of the crate: one blocking client (ureq with rustls and the
//! webpki root certificates), idle timeouts, a size limit on what is read, and errors that
//! say what failed and what to do.
//!
//! `get` fetches a URL into bytes (for plain-HTTPS remote resources); `agent` hands the
//! configured client to code that speaks a protocol over HTTP (the OCI registry client in
//! `artifact::push`), and `describe` turns a transport failure into a `strata::Error`.
//! Statuses are never errors at this level: callers look at them.

use crate::error::{Error, Result};
use std::time::Duration;

pub use ureq::Agent;

/// How requests are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Connecting, and each read or write, must finish within this.
    pub timeout: Duration,
    /// The largest body `get` reads.
    pub max_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(60),
            max_bytes: 64 << 20,
        }
    }
}

/// A client with `options`' timeouts. HTTP statuses come back as responses, not errors;
/// redirects are followed for GET and HEAD, without the `Authorization` header.
pub fn agent(options: &Options) -> Agent {
    let t = Some(options.timeout);
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(t)
        .timeout_per_read(t)
        .timeout_per_write(t)
        .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// A transport failure (no answer, refused, timed out, TLS) for `what` (`GET https://…`).
pub fn describe(what: &str, err: &ureq::Error, options: &Options) -> Error {
    let secs = options.timeout.as_secs_f64();
    match err {
        ureq::Error::Timeout(_) => {
            Error::new(format!("{what}: no answer within {secs} s")).with_help(
                "check that the server is up and reachable, or raise the timeout with `--timeout SECS`",
            )
        }
        ureq::Error::HostNotFound => Error::new(format!("{what}: host not found"))
            .with_help("check the host name in the address"),
        ureq::Error::ConnectionFailed => Error::new(format!("{what}: cannot connect"))
            .with_help("check that the server is running and the port is right"),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            Error::new(format!("{what}: no answer within {secs} s")).with_help(
                "check that the server is up and reachable, or raise the timeout with `--timeout SECS`",
            )
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Error::new(format!("{what}: connection refused"))
                .with_help("check that the server is running and the port is right")
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            Error::new(format!("{what}: TLS failed: {e}")).with_help(
                "the server does not speak TLS there; a plain-HTTP server needs `--insecure`",
            )
        }
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
            Error::new(format!("{what}: TLS failed: {err}")).with_help(
                "the server must present a certificate trusted by the webpki roots; a plain-HTTP server needs `--insecure`",
            )
        }
        ureq::Error::Protocol(_) => Error::new(format!("{what}: not an HTTP answer: {err}"))
            .with_help("an HTTPS server answered plain HTTP or the reverse: check `--insecure`"),
        ureq::Error::BodyExceedsLimit(n) => {
            Error::new(format!("{what}: the answer is larger than {n} bytes"))
                .with_help("this is a limit on downloads; fetch a smaller resource")
        }
        _ => Error::new(format!("{what}: {err}")).with_help("check the address and the network"),
    }
}

/// GET `url` and return its body; a status other than 2xx is an error naming it.
pub fn get(url: &str, options: &Options) -> Result<Vec<u8>> {
    let what = format!("GET `{url}`");
    let mut resp = agent(options)
        .get(url)
        .call()
        .map_err(|e| describe(&what, &e, options))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::new(format!("{what}: the server answered {status}"))
            .with_help("check the address; the resource must be reachable without credentials"));
    }
    resp.body_mut()
        .with_config()
        .limit(options.max_bytes)
        .read_to_vec()
        .map_err(|e| describe(&what, &e, options))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// Serve `answers` (raw HTTP responses; `None` hangs) to successive connections.
    pub(crate) fn serve(answers: Vec<Option<&'static str>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for answer in answers {
                let Ok((mut s, _)) = listener.accept() else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                match answer {
                    Some(a) => {
                        let _ = s.write_all(a.as_bytes());
                    }
                    None => held.push(s),
                }
            }
            std::thread::sleep(Duration::from_secs(5));
        });
        addr
    }

    fn quick() -> Options {
        Options {
            timeout: Duration::from_millis(500),
            max_bytes: 16,
        }
    }

    #[test]
    fn get_ok_and_errors() {
        let addr = serve(vec![
            Some("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"),
            Some("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            Some(
                "HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n01234567890123456789",
            ),
            None,
        ]);
        let url = format!("http://{addr}/x.yaml");
        assert_eq!(get(&url, &quick()).unwrap(), b"hello");
        let e = get(&url, &quick()).unwrap_err();
        assert!(e.message.contains("404"), "{}", e.message);
        let e = get(&url, &quick()).unwrap_err();
        assert!(e.message.contains("larger than 16 bytes"), "{}", e.message);
        let e = get(&url, &quick()).unwrap_err();
        assert!(
            e.message.contains("no answer within 0.5 s"),
            "{}",
            e.message
        );
    }

    #[test]
    fn refused() {
        let addr = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let e = get(&format!("http://{addr}/"), &quick()).unwrap_err();
        assert!(
            e.message.contains("refused") || e.message.contains("cannot connect"),
            "{}",
            e.message
        );
    }
}
