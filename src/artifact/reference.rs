//! Artifact addresses: `oci://REGISTRY/REPO[:TAG]`, checked against the OCI distribution
//! grammar, and the per-environment addresses `--tag-per-env` derives from one.
//!
//! Input is the user's string; output is the registry host (with port), the repository and
//! the tag. Nothing from an environment's name reaches a URL unchecked: every derived name
//! and tag is validated again.

use crate::error::{Error, Result};

/// Where one artifact goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]` as the user wrote it (`docker.io` included).
    pub registry: String,
    /// `org/name`: lowercase path components.
    pub repository: String,
    pub tag: String,
    /// Whether the user wrote the tag (else it is `latest`).
    pub explicit_tag: bool,
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

impl Reference {
    /// The host the distribution API is served from (`docker.io` is served elsewhere).
    pub fn api_host(&self) -> &str {
        if self.registry == "docker.io" || self.registry == "index.docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }

    /// The address environment `env` is pushed to with `--tag-per-env`: `REPO:<env>` when
    /// no tag was given, `REPO/<env>:TAG` when one was (`/` in an environment name becomes
    /// `-` in a tag).
    pub fn for_env(&self, env: &str) -> Result<Reference> {
        let mut r = self.clone();
        if self.explicit_tag {
            r.repository = format!("{}/{env}", self.repository);
            check_repository(&r.repository).map_err(|e| {
                e.with_help(format!(
                    "environment `{env}` does not make a repository name: use lowercase names"
                ))
            })?;
        } else {
            r.tag = env.replace('/', "-");
            r.explicit_tag = true;
            check_tag(&r.tag)
                .map_err(|e| e.with_help(format!("environment `{env}` does not make a tag")))?;
        }
        Ok(r)
    }
}

/// Parse `oci://REGISTRY/REPO[:TAG]`.
pub fn parse(url: &str) -> Result<Reference> {
    let help = "write `oci://REGISTRY/REPOSITORY[:TAG]`, e.g. `oci://ghcr.io/org/app:v1`";
    let Some(rest) = url.strip_prefix("oci://") else {
        return Err(Error::new(format!("`{url}` is not an `oci://` address")).with_help(help));
    };
    if rest.contains('@') {
        return Err(Error::new(format!(
            "`{url}`: an artifact is pushed to a tag, not a digest"
        ))
        .with_help(help));
    }
    let Some((registry, path)) = rest.split_once('/') else {
        return Err(Error::new(format!("`{url}` names no repository")).with_help(help));
    };
    check_registry(registry)?;
    let (repository, tag, explicit) = match path.rsplit_once(':') {
        Some((r, t)) => (r, t, true),
        None => (path, "latest", false),
    };
    check_repository(repository).map_err(|e| e.with_help(help))?;
    check_tag(tag).map_err(|e| e.with_help(help))?;
    Ok(Reference {
        registry: registry.to_string(),
        repository: repository.to_string(),
        tag: tag.to_string(),
        explicit_tag: explicit,
    })
}

fn check_registry(host: &str) -> Result<()> {
    let port_ok = |p: &str| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok();
    let ok = if let Some(rest) = host.strip_prefix('[') {
        // An IPv6 address: `[::1]` or `[::1]:5000`.
        match rest.split_once(']') {
            Some((ip, port)) => {
                !ip.is_empty()
                    && ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
                    && (port.is_empty() || port.strip_prefix(':').is_some_and(port_ok))
            }
            None => false,
        }
    } else {
        let (name, port) = match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        };
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && !name.starts_with(['-', '.'])
            && port.is_none_or(port_ok)
    };
    if ok {
        Ok(())
    } else {
        Err(Error::new(format!("`{host}` is not a registry host"))
            .with_help("write the registry as `host` or `host:port`"))
    }
}

/// Repository names: `/`-separated components of `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
pub fn check_repository(repo: &str) -> Result<()> {
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            if is_alnum(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && !is_alnum(b[i]) {
                i += 1;
            }
            let sep = &c[start..i];
            if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
                return false;
            }
        }
        true
    };
    if repo.len() <= 255 && repo.split('/').all(component_ok) {
        Ok(())
    } else {
        Err(Error::new(format!("`{repo}` is not a repository name")))
    }
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Tags: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn check_tag(tag: &str) -> Result<()> {
    let b = tag.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::new(format!("`{tag}` is not a tag")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let r = parse("oci://127.0.0.1:5000/org/app:v1.2").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_str()),
            ("127.0.0.1:5000", "org/app", "v1.2")
        );
        let r = parse("oci://ghcr.io/org/app").unwrap();
        assert_eq!((r.tag.as_str(), r.explicit_tag), ("latest", false));
        assert_eq!(
            parse("oci://docker.io/u/a").unwrap().api_host(),
            "registry-1.docker.io"
        );
    }

    #[test]
    fn refuses() {
        for bad in [
            "ghcr.io/org/app",
            "oci://ghcr.io",
            "oci://ghcr.io/Org/app",
            "oci://ghcr.io/org/app:",
            "oci://ghcr.io/org/app:-x",
            "oci://ghcr.io/org/../app",
            "oci://ghcr.io/org/app@sha256:abc",
            "oci://gh cr.io/app",
            "oci://host:99999/app",
            "oci://-host/app",
            "oci://ghcr.io/org//app",
            "oci://ghcr.io/org/a?b",
            "oci://[::1/app",
            "oci://[::1]x/app",
            "oci://a:1:2/app",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn per_env() {
        let r = parse("oci://r.io/org/app").unwrap();
        assert_eq!(
            r.for_env("prod/eu").unwrap().to_string(),
            "r.io/org/app:prod-eu"
        );
        let r = parse("oci://r.io/org/app:v1").unwrap();
        assert_eq!(
            r.for_env("prod/eu").unwrap().to_string(),
            "r.io/org/app/prod/eu:v1"
        );
        assert!(r.for_env("Prod").is_err());
        assert!(parse("oci://r.io/app").unwrap().for_env("a b").is_err());
    }
}
