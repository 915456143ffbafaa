//! HTTP(S) for the rest of the crate: one blocking client (ureq with rustls, trusting the
//! system's certificate authorities as Go programs do: `crate::trust`), timeouts (idle and, optionally, total), a size limit on what
//! is read, a bounded number of redirects (optionally https only), and errors that say what
//! failed and what to do, naming URLs without their credentials.
//!
//! `get` fetches a URL into bytes (plain-HTTPS remote resources: credentials in the URL's
//! user part are sent as basic auth to that host only, never across a redirect); `agent`
//! hands the configured client to code that speaks a protocol over HTTP (the OCI registry
//! client in `artifact::push`), and `describe` turns a transport failure into a
//! `strata::Error`. Statuses are never errors at this level: callers look at them.

use crate::error::{Error, Result};
use std::time::Duration;

pub use ureq::Agent;

/// How requests are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Connecting, and each read or write, must finish within this.
    pub timeout: Duration,
    /// The whole request, redirects and body included, must finish within this.
    pub total: Option<Duration>,
    /// The largest body `get` reads.
    pub max_bytes: u64,
    /// The flag that raises `max_bytes`, for the error that names it.
    pub max_bytes_flag: Option<&'static str>,
    /// The flag that sets the timeouts, for the error that names it.
    pub timeout_flag: &'static str,
    /// Refuse plain-http addresses, redirects included.
    pub https_only: bool,
    /// Redirects followed before giving up (for GET and HEAD).
    pub max_redirects: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(60),
            total: None,
            max_bytes: 64 << 20,
            max_bytes_flag: None,
            timeout_flag: "--timeout",
            https_only: false,
            max_redirects: 10,
        }
    }
}

/// A client with `options`' timeouts and redirect policy. HTTP statuses come back as
/// responses, not errors; redirects are followed for GET and HEAD, without the
/// `Authorization` header.
pub fn agent(options: &Options) -> Agent {
    let t = Some(options.timeout);
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(t)
        .timeout_per_read(t)
        .timeout_per_write(t)
        .timeout_global(options.total)
        .https_only(options.https_only)
        .max_redirects(options.max_redirects)
        .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(crate::trust::roots())
                .build(),
        )
        .build()
        .new_agent()
}

/// `url` split into the address without its user part (`https://user:token@host/x` →
/// `https://host/x`) and, when it had one, the basic `Authorization` header it stands for.
pub fn split_credentials(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..end].rfind('@') else {
        return (url.to_string(), None);
    };
    let (user, password) = match rest[..at].split_once(':') {
        Some((u, p)) => (u, p),
        None => (&rest[..at], ""),
    };
    let pair = format!("{}:{}", percent_decode(user), percent_decode(password));
    let header = format!("Basic {}", crate::codec::encode(pair.as_bytes(), false));
    (format!("{scheme}://{}", &rest[at + 1..]), Some(header))
}

/// `%XX` escapes decoded (as curl and Go do for a URL's user part); anything else kept.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(byte) if b[i] == b'%' => {
                out.push(byte);
                i += 3;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

const UNTRUSTED: &str = "the server's certificate must be signed by an authority the system trusts; for a private one, add it to the system store or point SSL_CERT_FILE at a bundle holding it";

/// A transport failure (no answer, refused, timed out, TLS) for `what` (`GET https://…`).
pub fn describe(what: &str, err: &ureq::Error, options: &Options) -> Error {
    let secs = options.timeout.as_secs_f64();
    let flag = options.timeout_flag;
    let slow = || {
        format!(
            "check that the server is up and reachable, or raise the timeout with `{flag} SECS`"
        )
    };
    match err {
        ureq::Error::Timeout(ureq::Timeout::Global) => {
            let total = options.total.unwrap_or(options.timeout).as_secs_f64();
            Error::new(format!("{what}: not finished within {total} s")).with_help(slow())
        }
        ureq::Error::Timeout(_) => {
            Error::new(format!("{what}: no answer within {secs} s")).with_help(slow())
        }
        ureq::Error::HostNotFound => Error::new(format!("{what}: host not found"))
            .with_help("check the host name in the address"),
        ureq::Error::ConnectionFailed => Error::new(format!("{what}: cannot connect"))
            .with_help("check that the server is running and the port is right"),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            Error::new(format!("{what}: no answer within {secs} s")).with_help(slow())
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Error::new(format!("{what}: connection refused"))
                .with_help("check that the server is running and the port is right")
        }
        // rustls reports a certificate it cannot verify as invalid data too.
        ureq::Error::Io(e)
            if e.kind() == std::io::ErrorKind::InvalidData
                && !e.to_string().contains("certificate") =>
        {
            Error::new(format!("{what}: TLS failed: {e}")).with_help(
                "the server does not speak TLS there; a plain-HTTP server needs `--insecure`",
            )
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            Error::new(format!("{what}: TLS failed: {e}")).with_help(UNTRUSTED)
        }
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
            Error::new(format!("{what}: TLS failed: {err}")).with_help(UNTRUSTED)
        }
        ureq::Error::Protocol(_) => Error::new(format!("{what}: not an HTTP answer: {err}"))
            .with_help("an HTTPS server answered plain HTTP or the reverse: check `--insecure`"),
        ureq::Error::BodyExceedsLimit(n) => {
            let help = match options.max_bytes_flag {
                Some(flag) => format!("this is a limit on downloads; raise it with `{flag}`"),
                None => "this is a limit on downloads; fetch a smaller resource".to_string(),
            };
            Error::new(format!("{what}: the answer is larger than {n} bytes")).with_help(help)
        }
        ureq::Error::TooManyRedirects => Error::new(format!(
            "{what}: more than {} redirects",
            options.max_redirects
        ))
        .with_help("the server redirects in a loop or too often; use the final address"),
        ureq::Error::RequireHttpsOnly(to) => Error::new(format!(
            "{what}: refused the plain-http address `{}`",
            split_credentials(to).0
        ))
        .with_help(
            "strata downloads over https only; use an https address that does not redirect to http",
        ),
        _ => Error::new(format!("{what}: {err}")).with_help("check the address and the network"),
    }
}

/// GET `url` and return its body; a status other than 2xx is an error naming it. User
/// credentials in `url` are sent as basic auth and never appear in a message.
pub fn get(url: &str, options: &Options) -> Result<Vec<u8>> {
    let (plain, auth) = split_credentials(url);
    let what = format!("GET `{plain}`");
    let mut request = agent(options).get(&plain);
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    let mut resp = request.call().map_err(|e| describe(&what, &e, options))?;
    let status = resp.status();
    if !status.is_success() {
        let help = match status.as_u16() {
            401 | 403 => {
                "the server refused access: the resource must be readable with the credentials in its URL, or without any"
            }
            404 | 410 => "check the address: the server has nothing there",
            500..=599 => "the server failed; try again later",
            _ => "check the address",
        };
        return Err(Error::new(format!("{what}: the server answered {status}")).with_help(help));
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
    use std::sync::mpsc;

    /// Serve `answers` (raw HTTP responses; `None` hangs) to successive connections.
    pub(crate) fn serve(answers: Vec<Option<&'static str>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let answers = answers.into_iter().map(|a| a.map(str::to_string)).collect();
        serve_on(listener, answers);
        addr
    }

    /// Serve `answers` on `listener`; each request's head comes back on the channel.
    pub(crate) fn serve_on(
        listener: TcpListener,
        answers: Vec<Option<String>>,
    ) -> mpsc::Receiver<String> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for answer in answers {
                let Ok((mut s, _)) = listener.accept() else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
                match answer {
                    Some(a) => {
                        let _ = s.write_all(a.as_bytes());
                    }
                    None => held.push(s),
                }
            }
            std::thread::sleep(Duration::from_secs(5));
        });
        rx
    }

    pub(crate) fn quick() -> Options {
        Options {
            timeout: Duration::from_millis(500),
            max_bytes: 16,
            ..Options::default()
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

    #[test]
    fn credentials_leave_the_url() {
        let split = |u: &str| split_credentials(u);
        assert_eq!(split("https://h/x.yaml"), ("https://h/x.yaml".into(), None));
        assert_eq!(
            split("https://h/a@b/x.yaml"),
            ("https://h/a@b/x.yaml".into(), None)
        );
        let (url, auth) = split("https://me:p%40ss@h:8443/x?y=1");
        assert_eq!(url, "https://h:8443/x?y=1");
        // `me:p@ss`
        assert_eq!(auth.as_deref(), Some("Basic bWU6cEBzcw=="));
        let (url, auth) = split("https://token@h/x");
        assert_eq!(url, "https://h/x");
        assert_eq!(auth.as_deref(), Some("Basic dG9rZW46"));
    }

    #[test]
    fn credentials_are_sent_and_never_shown() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let gone = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let requests = serve_on(listener, vec![Some(gone.to_string())]);
        let e = get(&format!("http://me:s3cret@{addr}/x.yaml"), &quick()).unwrap_err();
        let head = requests.recv().unwrap();
        assert!(head.starts_with("GET /x.yaml HTTP/1.1"), "{head}");
        assert!(
            head.contains("authorization: Basic bWU6czNjcmV0")
                || head.contains("Authorization: Basic bWU6czNjcmV0"),
            "{head}"
        );
        assert_eq!(
            e.message,
            format!("GET `http://{addr}/x.yaml`: the server answered 404 Not Found")
        );
        assert!(!format!("{e:?}").contains("s3cret"));
        assert_eq!(
            e.help.as_deref(),
            Some("check the address: the server has nothing there")
        );
    }

    #[test]
    fn redirects_are_bounded() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let again = format!(
            "HTTP/1.1 302 Found\r\nLocation: http://{addr}/again\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let _requests = serve_on(listener, vec![Some(again); 4]);
        let options = Options {
            max_redirects: 2,
            ..quick()
        };
        let e = get(&format!("http://{addr}/x.yaml"), &options).unwrap_err();
        assert_eq!(
            e.message,
            format!("GET `http://{addr}/x.yaml`: more than 2 redirects")
        );
    }

    #[test]
    fn https_only_refuses_plain_http() {
        let options = Options {
            https_only: true,
            ..quick()
        };
        let e = get("http://me:pw@127.0.0.1:1/x.yaml", &options).unwrap_err();
        assert_eq!(
            e.message,
            "GET `http://127.0.0.1:1/x.yaml`: refused the plain-http address `http://127.0.0.1:1/x.yaml`"
        );
    }

    #[test]
    fn limits_name_their_flags() {
        let addr = serve(vec![Some(
            "HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n01234567890123456789",
        )]);
        let options = Options {
            max_bytes_flag: Some("--max-download-bytes"),
            ..quick()
        };
        let e = get(&format!("http://{addr}/"), &options).unwrap_err();
        assert_eq!(
            e.help.as_deref(),
            Some("this is a limit on downloads; raise it with `--max-download-bytes`")
        );
    }
}
