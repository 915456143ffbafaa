//! The environment Argo CD gives a plugin command, read once into a plain map.
//!
//! The repo-server builds it (`reposerver/repository/repository.go`): the build environment
//! `ARGOCD_APP_NAME`, `ARGOCD_APP_NAMESPACE`, `ARGOCD_APP_PROJECT_NAME`,
//! `ARGOCD_APP_REVISION` (+ `_SHORT`, `_SHORT_8`), `ARGOCD_APP_SOURCE_REPO_URL`,
//! `ARGOCD_APP_SOURCE_PATH`, `ARGOCD_APP_SOURCE_TARGET_REVISION`, `KUBE_VERSION` and
//! `KUBE_API_VERSIONS`; then `ARGOCD_ENV_<name>` for each `plugin.env` entry (after
//! `$VAR` substitution from the build environment, `$$` for a literal `$`); then
//! `ARGOCD_APP_PARAMETERS` and the `PARAM_*` variables. The cmp-server drops every entry
//! whose value is empty, so "empty" and "absent" are the same here. The parameters command
//! gets less: no namespace, revision, project or `KUBE_*`.

use super::params::{self, Parameter};
use crate::error::{Error, Result};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArgoEnv {
    vars: BTreeMap<String, String>,
}

/// The longest `KUBE_API_VERSIONS` list read (a cluster has a few hundred).
const MAX_API_VERSIONS: usize = 10_000;

impl ArgoEnv {
    /// The variables of this process that Argo CD sets (`ARGOCD_*`, `KUBE_*`, `PARAM_*`,
    /// and strata's own `STRATA_*`); values that are not UTF-8 are skipped.
    pub fn from_process() -> ArgoEnv {
        ArgoEnv::from_vars(std::env::vars_os().filter_map(|(k, v)| {
            let k = k.into_string().ok()?;
            let v = v.into_string().ok()?;
            Some((k, v))
        }))
    }

    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> ArgoEnv {
        let keep = |k: &str| {
            ["ARGOCD_", "KUBE_", "PARAM_", "STRATA_"]
                .iter()
                .any(|p| k.starts_with(p))
        };
        ArgoEnv {
            vars: vars
                .into_iter()
                .filter(|(k, v)| keep(k) && !v.is_empty())
                .collect(),
        }
    }

    /// A variable, `None` when absent or empty (as the cmp-server passes it).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// `ARGOCD_ENV_<name>`: an Application's `plugin.env` entry.
    pub fn plugin_env(&self, name: &str) -> Option<&str> {
        self.get(&format!("ARGOCD_ENV_{name}"))
    }

    /// `ARGOCD_APP_SOURCE_PATH`: the application's directory in its repository.
    pub fn source_path(&self) -> Option<&str> {
        self.get("ARGOCD_APP_SOURCE_PATH")
    }

    /// The parameters the Application sets.
    pub fn parameters(&self) -> Result<Vec<Parameter>> {
        match self.get("ARGOCD_APP_PARAMETERS") {
            Some(json) => params::parse(json),
            None => Ok(Vec::new()),
        }
    }

    /// `KUBE_VERSION` (`1.29.3`; Argo CD strips a `+`), when the cluster's version is known.
    pub fn kube_version(&self) -> Option<&str> {
        self.get("KUBE_VERSION")
    }

    /// `KUBE_API_VERSIONS`: the cluster's `group/version` and `group/version/Kind` entries.
    pub fn api_versions(&self) -> Result<Vec<String>> {
        let Some(list) = self.get("KUBE_API_VERSIONS") else {
            return Ok(Vec::new());
        };
        let items: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if items.len() > MAX_API_VERSIONS {
            return Err(Error::new(format!(
                "`KUBE_API_VERSIONS` lists {} API versions",
                items.len()
            ))
            .with_help(format!("at most {MAX_API_VERSIONS} are read")));
        }
        if let Some(bad) = items.iter().find(|s| {
            !s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '/' | '_'))
        }) {
            return Err(Error::new(format!(
                "`KUBE_API_VERSIONS` holds `{}`, which is not an API version",
                bad.escape_debug()
            ))
            .with_help("Argo CD sets it to the cluster's `group/version` list, comma-separated"));
        }
        Ok(items)
    }
}

/// The schema version (`X.Y`) to validate for a cluster at `kube` (`1.29.3`, `v1.30`,
/// `1.31.2-gke.1`), and a note when strata ships no schemas for that minor version and uses
/// the nearest one it has.
pub fn schema_version(kube: &str, shipped: &[&str]) -> Result<(String, Option<String>)> {
    let bad = || {
        Error::new(format!(
            "`KUBE_VERSION` `{}` is not a Kubernetes version",
            kube.escape_debug()
        ))
        .with_help("Argo CD sets it to the cluster's version, such as `1.29.3`")
    };
    let v = kube.trim().trim_start_matches('v');
    let mut parts = v.split(['.', '-', '+']);
    let major: u32 = parts.next().and_then(|m| m.parse().ok()).ok_or_else(bad)?;
    let minor: u32 = parts
        .next()
        .map(|m| m.trim_end_matches(|c: char| !c.is_ascii_digit()))
        .and_then(|m| m.parse().ok())
        .ok_or_else(bad)?;
    let wanted = format!("{major}.{minor}");
    if shipped.contains(&wanted.as_str()) {
        return Ok((wanted, None));
    }
    let key = |s: &str| -> (u32, u32) {
        let mut it = s.split('.').map(|x| x.parse().unwrap_or(0));
        (it.next().unwrap_or(0), it.next().unwrap_or(0))
    };
    let nearest = shipped
        .iter()
        .min_by_key(|s| {
            let (a, b) = key(s);
            (i64::from(a) - i64::from(major)).abs() * 1000 + (i64::from(b) - i64::from(minor)).abs()
        })
        .ok_or_else(bad)?;
    Ok((
        nearest.to_string(),
        Some(format!(
            "no schemas for Kubernetes {wanted}: validating against {nearest}, the nearest strata ships"
        )),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ArgoEnv {
        ArgoEnv::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn empty_is_absent_and_other_variables_are_ignored() {
        let e = env(&[
            ("ARGOCD_APP_NAME", "web"),
            ("ARGOCD_APP_NAMESPACE", ""),
            ("HOME", "/root"),
            ("ARGOCD_ENV_STRATA_ENV", "prod"),
        ]);
        assert_eq!(e.get("ARGOCD_APP_NAMESPACE"), None);
        assert_eq!(e.get("HOME"), None);
        assert_eq!(e.plugin_env("STRATA_ENV"), Some("prod"));
        assert_eq!(e.parameters().unwrap(), vec![]);
    }

    #[test]
    fn api_versions_are_a_checked_list() {
        let e = env(&[(
            "KUBE_API_VERSIONS",
            "apps/v1,apps/v1/Deployment,v1,policy/v1",
        )]);
        assert_eq!(e.api_versions().unwrap().len(), 4);
        let e = env(&[("KUBE_API_VERSIONS", "apps/v1,$(rm -rf)")]);
        assert!(e.api_versions().is_err());
    }

    #[test]
    fn kube_versions_map_to_shipped_schemas() {
        let shipped = ["1.25", "1.26", "1.29", "1.37"];
        assert_eq!(
            schema_version("1.29.3", &shipped).unwrap(),
            ("1.29".into(), None)
        );
        assert_eq!(schema_version("v1.29", &shipped).unwrap().0, "1.29");
        assert_eq!(schema_version("1.29+", &shipped).unwrap().0, "1.29");
        assert_eq!(
            schema_version("1.26.4-gke.100", &shipped).unwrap().0,
            "1.26"
        );
        let (v, note) = schema_version("1.40.0", &shipped).unwrap();
        assert_eq!(v, "1.37");
        assert!(note.unwrap().contains("1.40"));
        assert_eq!(schema_version("1.20.1", &shipped).unwrap().0, "1.25");
        for bad in ["", "latest", "1", "x.y"] {
            assert!(schema_version(bad, &shipped).is_err(), "{bad}");
        }
    }
}
