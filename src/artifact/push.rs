//! Pushing an artifact with the OCI distribution API.
//!
//! Input is an `Artifact` (layer, config, manifest) and a `Reference`; output is the
//! manifest digest the registry stored. Each blob is checked with `HEAD` and, when missing,
//! uploaded in one piece (`POST …/blobs/uploads/`, then `PUT <location>&digest=…`); then the
//! manifest is `PUT` to the tag with the OCI manifest media type, and the digest the registry
//! reports is checked against ours. A 401 starts the handshake the challenge asks for (a
//! bearer token for `repository:<repo>:pull,push`, or basic credentials) and the request is
//! sent once more. HTTPS unless `insecure`; every failure says which request failed and why.

use super::auth::{Challenge, Credentials, parse_challenge};
use super::manifest::{Artifact, MANIFEST_MEDIA_TYPE};
use super::reference::Reference;
use crate::error::{Error, Result};
use crate::http;
use ureq::http::{Method, Request, Response};

/// How to reach the registry.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Plain HTTP instead of HTTPS (a local registry).
    pub insecure: bool,
    pub http: http::Options,
}

/// A connection to one repository of one registry.
pub struct Client {
    agent: http::Agent,
    base: String,
    host: String,
    repository: String,
    credentials: Credentials,
    authorization: Option<String>,
    options: PushOptions,
}

type Reply = Response<ureq::Body>;

impl Client {
    pub fn new(reference: &Reference, credentials: Credentials, options: &PushOptions) -> Client {
        let scheme = if options.insecure { "http" } else { "https" };
        Client {
            agent: http::agent(&options.http),
            base: format!("{scheme}://{}", reference.api_host()),
            host: reference.registry.clone(),
            repository: reference.repository.clone(),
            credentials,
            authorization: None,
            options: options.clone(),
        }
    }

    /// Push `artifact` to `tag`; returns the manifest digest.
    pub fn push(&mut self, artifact: &Artifact, tag: &str) -> Result<String> {
        self.blob(&artifact.layer.bytes, &artifact.layer.digest)?;
        self.blob(&artifact.config, &artifact.config_digest)?;
        let path = format!("/v2/{}/manifests/{tag}", self.repository);
        let url = format!("{}{path}", self.base);
        let resp = self.send(
            &Method::PUT,
            &url,
            Some(MANIFEST_MEDIA_TYPE),
            Some(&artifact.manifest),
        )?;
        if !resp.status().is_success() {
            return Err(self.failure("PUT", &path, resp));
        }
        if let Some(d) = header(&resp, "docker-content-digest")
            && d != artifact.digest
        {
            let message = format!(
                "registry `{}` stored the manifest as `{d}`, not `{}`",
                self.host, artifact.digest
            );
            let help =
                "the registry rewrote the manifest; use one that keeps OCI manifests as sent";
            return Err(Error::new(message).with_help(help));
        }
        Ok(artifact.digest.clone())
    }

    /// Upload a blob unless the registry has it.
    fn blob(&mut self, bytes: &[u8], digest: &str) -> Result<()> {
        let path = format!("/v2/{}/blobs/{digest}", self.repository);
        let resp = self.send(&Method::HEAD, &format!("{}{path}", self.base), None, None)?;
        match resp.status().as_u16() {
            200 => return Ok(()),
            404 => {}
            _ => return Err(self.failure("HEAD", &path, resp)),
        }
        let path = format!("/v2/{}/blobs/uploads/", self.repository);
        let resp = self.send(
            &Method::POST,
            &format!("{}{path}", self.base),
            None,
            Some(&[]),
        )?;
        if resp.status().as_u16() != 202 {
            return Err(self.failure("POST", &path, resp));
        }
        let Some(location) = header(&resp, "location") else {
            return Err(Error::new(format!(
                "registry `{}` started an upload without a `Location`",
                self.host
            ))
            .with_help("the registry does not follow the OCI distribution API"));
        };
        let mut url = self.resolve(&location)?;
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("digest=");
        url.push_str(&encode(digest));
        let resp = self.send(
            &Method::PUT,
            &url,
            Some("application/octet-stream"),
            Some(bytes),
        )?;
        if resp.status().as_u16() != 201 {
            return Err(self.failure(
                "PUT",
                &format!("/v2/{}/blobs/uploads/…", self.repository),
                resp,
            ));
        }
        Ok(())
    }

    /// An upload `Location`: absolute, or a path on the registry.
    fn resolve(&self, location: &str) -> Result<String> {
        if location.starts_with("https://")
            || (self.options.insecure && location.starts_with("http://"))
        {
            return Ok(location.to_string());
        }
        if location.starts_with("http://") {
            return Err(Error::new(format!(
                "registry `{}` sent the upload to plain-HTTP `{location}`",
                self.host
            ))
            .with_help(
                "pass `--insecure` only if the registry is meant to be reached over plain HTTP",
            ));
        }
        if location.starts_with('/') {
            Ok(format!("{}{location}", self.base))
        } else {
            Ok(format!("{}/{location}", self.base))
        }
    }

    /// Send a request; on 401 authenticate as the challenge asks and send it once more.
    fn send(
        &mut self,
        method: &Method,
        url: &str,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Reply> {
        let resp = self.send_once(method, url, content_type, body)?;
        if resp.status().as_u16() != 401 {
            return Ok(resp);
        }
        let challenge = header(&resp, "www-authenticate").and_then(|h| parse_challenge(&h));
        let shown = url.split('?').next().unwrap_or(url);
        let path = shown.strip_prefix(&self.base).unwrap_or(shown).to_string();
        let Some(challenge) = challenge else {
            return Err(self.unauthorized(
                method,
                &path,
                "it sent no `WWW-Authenticate` challenge",
            ));
        };
        let already = self.authorization.clone();
        self.authorization = Some(match challenge.scheme.as_str() {
            "bearer" => format!("Bearer {}", self.token(&challenge)?),
            "basic" => match self.credentials.basic_header() {
                Some(h) => h,
                None => {
                    return Err(self.unauthorized(
                        method,
                        &path,
                        "it asks for a user name and password",
                    ));
                }
            },
            other => {
                return Err(self.unauthorized(
                    method,
                    &path,
                    &format!("it asks for `{other}` authentication, which strata does not speak"),
                ));
            }
        });
        if already.is_some() && already == self.authorization {
            return Err(self.unauthorized(method, &path, ""));
        }
        let resp = self.send_once(method, url, content_type, body)?;
        if resp.status().as_u16() == 401 {
            return Err(self.unauthorized(method, &path, ""));
        }
        Ok(resp)
    }

    fn send_once(
        &self,
        method: &Method,
        url: &str,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Reply> {
        let mut req = Request::builder().method(method.clone()).uri(url);
        // Credentials go to the registry only (an upload may be sent elsewhere).
        if let Some(a) = &self.authorization {
            let on_registry = url
                .strip_prefix(&self.base)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            if on_registry {
                req = req.header("Authorization", a);
            }
        }
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        let shown = url.split('?').next().unwrap_or(url);
        let what = format!(
            "`{method} {}`",
            shown.strip_prefix(&self.base).unwrap_or(shown)
        );
        let bad = |e: ureq::http::Error| {
            Error::new(format!("{what}: {e}")).with_help("check the registry address")
        };
        let result = match body {
            Some(b) => self.agent.run(req.body(b).map_err(bad)?),
            None => self.agent.run(req.body(()).map_err(bad)?),
        };
        result.map_err(|e| {
            http::describe(
                &format!("registry `{}`: {what}", self.host),
                &e,
                &self.options.http,
            )
        })
    }

    /// Get a bearer token from the challenge's realm.
    fn token(&self, challenge: &Challenge) -> Result<String> {
        let Some(realm) = challenge.params.get("realm") else {
            return Err(Error::new(format!(
                "registry `{}` asks for a bearer token but names no `realm`",
                self.host
            ))
            .with_help("the registry's token service is misconfigured"));
        };
        if !(realm.starts_with("https://")
            || (self.options.insecure && realm.starts_with("http://")))
        {
            return Err(Error::new(format!(
                "registry `{}` sends credentials to `{realm}`, which is not HTTPS",
                self.host
            ))
            .with_help("pass `--insecure` only for a registry you trust over plain HTTP"));
        }
        let mut scopes = vec![format!("repository:{}:pull,push", self.repository)];
        if let Some(s) = challenge.params.get("scope")
            && !scopes.contains(s)
        {
            scopes.push(s.clone());
        }
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(s) = challenge.params.get("service") {
            query.push(("service", s.clone()));
        }
        for s in &scopes {
            query.push(("scope", s.clone()));
        }
        let what = format!("token service `{realm}` of registry `{}`", self.host);
        let result = match &self.credentials {
            Credentials::IdentityToken(t) => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", t.clone()),
                    ("client_id", "strata".to_string()),
                ];
                form.extend(query.iter().cloned());
                let body: Vec<String> = form
                    .iter()
                    .map(|(k, v)| format!("{k}={}", encode(v)))
                    .collect();
                self.agent
                    .post(realm)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .send(body.join("&"))
            }
            creds => {
                let sep = if realm.contains('?') { '&' } else { '?' };
                let q: Vec<String> = query
                    .iter()
                    .map(|(k, v)| format!("{k}={}", encode(v)))
                    .collect();
                let url = format!("{realm}{sep}{}", q.join("&"));
                let mut req = self.agent.get(&url);
                if let Some(h) = creds.basic_header() {
                    req = req.header("Authorization", &h);
                }
                req.call()
            }
        };
        let mut resp = result.map_err(|e| http::describe(&what, &e, &self.options.http))?;
        let status = resp.status();
        if status.as_u16() == 401 || status.as_u16() == 403 {
            return Err(
                Error::new(format!("{what} refused the credentials ({status})"))
                    .with_help(self.login_help()),
            );
        }
        if !status.is_success() {
            return Err(Error::new(format!("{what} answered {status}"))
                .with_help("the token service failed; try again, or check the registry's status"));
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| http::describe(&what, &e, &self.options.http))?;
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        json.get("token")
            .or_else(|| json.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::new(format!("{what} answered without a token"))
                    .with_help("the token service must answer `{\"token\": …}`")
            })
    }

    fn login_help(&self) -> String {
        format!(
            "log in with `docker login {}` (or a credential helper), or pass `--creds user:token`",
            self.host
        )
    }

    fn unauthorized(&self, method: &Method, path: &str, why: &str) -> Error {
        let who = match self.credentials {
            Credentials::Anonymous => "anonymous access to",
            _ => "the credentials for",
        };
        let mut message = format!(
            "registry `{}` refused {who} `{method} {path}` (401 Unauthorized)",
            self.host
        );
        if !why.is_empty() {
            message.push_str(": ");
            message.push_str(why);
        }
        Error::new(message).with_help(self.login_help())
    }

    /// An unexpected status, with the registry's own error codes when it sent them.
    fn failure(&self, method: &str, path: &str, mut resp: Reply) -> Error {
        let status = resp.status();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 10)
            .read_to_vec()
            .unwrap_or_default();
        let said = registry_errors(&body);
        let mut message = format!(
            "registry `{}` answered {status} to `{method} {path}`",
            self.host
        );
        if !said.is_empty() {
            message.push_str(": ");
            message.push_str(&said);
        }
        let help = match status.as_u16() {
            403 => format!(
                "the credentials may not push to `{}`: check the token's scopes",
                self.repository
            ),
            404 => format!(
                "check that repository `{}` exists or may be created by a push",
                self.repository
            ),
            400 | 415 => {
                "the registry refused the artifact: it may not accept OCI artifacts".to_string()
            }
            429 => "the registry is rate limiting: try again later".to_string(),
            s if s >= 500 => {
                "the registry failed: try again, or check the registry's logs".to_string()
            }
            _ => "check the registry address and the credentials".to_string(),
        };
        Error::new(message).with_help(help)
    }
}

fn header(resp: &Reply, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The `errors[].code: message` of a registry's error body (OCI distribution spec).
fn registry_errors(body: &[u8]) -> String {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    json.get("errors")
        .and_then(|e| e.as_array())
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
                    let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
                    format!("{code}: {msg}")
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

/// Percent-encode a query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes() {
        assert_eq!(
            encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
        assert_eq!(encode("sha256:ab"), "sha256%3Aab");
    }

    #[test]
    fn error_bodies() {
        let body =
            br#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":{}}]}"#;
        assert_eq!(registry_errors(body), "MANIFEST_INVALID: manifest invalid");
        assert_eq!(registry_errors(b"<html>"), "");
    }
}
