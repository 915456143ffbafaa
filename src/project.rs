//! The optional project file `strata.yaml`: where the environments live and the defaults
//! of a project's commands.
//!
//! ```yaml
//! environments: clusters/*     # a directory (default `overlays/`), or a path with `*`
//! kubeVersion: "1.30"          # --kube-version
//! validate: true               # --validate
//! crds: [crds/]                # --crds
//! values: [values/common.yaml] # -f, before the command line's own
//! jobs: 4                      # -j
//! ```
//!
//! `find` looks for it from a directory upwards, as git looks for `.git`. Paths in it are
//! relative to its directory and may not leave it. An unknown key is an error naming the
//! closest known one, as in a kustomization.

use crate::error::{Error, Location, Result, closest};
use crate::yaml::{self, Value};
use std::path::{Component, Path, PathBuf};

pub const FILE: &str = "strata.yaml";

/// The keys of `strata.yaml`.
pub const KEYS: &[&str] = &[
    "environments",
    "kubeVersion",
    "validate",
    "crds",
    "values",
    "jobs",
];

/// Where the environments are: every directory below `Dir` holding a kustomization (named
/// by its path below it), or every directory matching `Glob` (named by its path below the
/// pattern's part before the first `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environments {
    Dir(String),
    Glob(String),
}

impl Environments {
    /// As written: `overlays/`, `clusters/*`.
    pub fn shown(&self) -> String {
        match self {
            Environments::Dir(d) => format!("{}/", d.trim_end_matches('/')),
            Environments::Glob(g) => g.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The project file, when there is one.
    pub file: Option<PathBuf>,
    pub environments: Environments,
    pub kube_version: Option<String>,
    pub validate: Option<bool>,
    /// Relative to the project root.
    pub crds: Vec<PathBuf>,
    pub values: Vec<PathBuf>,
    pub jobs: Option<usize>,
}

impl Default for Project {
    fn default() -> Project {
        Project {
            file: None,
            environments: Environments::Dir("overlays".to_string()),
            kube_version: None,
            validate: None,
            crds: Vec::new(),
            values: Vec::new(),
            jobs: None,
        }
    }
}

/// A path or a list of paths inside the project; `Err(true)` when an item is no such path,
/// `Err(false)` when the value is no list.
fn paths(value: &Value) -> std::result::Result<Vec<PathBuf>, bool> {
    let items: Vec<&Value> = match value {
        Value::Seq(s) => s.iter().collect(),
        Value::Str(_) => vec![value],
        _ => return Err(false),
    };
    items
        .into_iter()
        .map(|item| {
            item.as_str()
                .filter(|p| inside(p))
                .map(PathBuf::from)
                .ok_or(true)
        })
        .collect()
}

/// The nearest directory from `start` upwards holding `strata.yaml`.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    start
        .ancestors()
        .find(|d| d.join(FILE).is_file())
        .map(Path::to_path_buf)
}

/// The nearest directory from `start` upwards, but not above `top`, holding `strata.yaml`
/// (symlinks resolved first: a link cannot take the search out of `top`).
pub fn find_within(start: &Path, top: &Path) -> Option<PathBuf> {
    let top = std::fs::canonicalize(top).ok()?;
    let start = std::fs::canonicalize(start).ok()?;
    start
        .ancestors()
        .take_while(|d| d.starts_with(&top))
        .find(|d| d.join(FILE).is_file())
        .map(Path::to_path_buf)
}

impl Project {
    /// The project at `root`: its `strata.yaml`, or the defaults when it has none.
    pub fn load(root: &Path) -> Result<Project> {
        let file = if root.as_os_str() == "." {
            PathBuf::from(FILE)
        } else {
            root.join(FILE)
        };
        if !file.is_file() {
            return Ok(Project::default());
        }
        // A link out of the project is never read (its text would show in an error).
        let real_root = crate::fs::real(root)?.unwrap_or_else(|| root.to_path_buf());
        if !crate::fs::real(&file)?.is_some_and(|r| r.starts_with(&real_root)) {
            return Err(
                Error::new("`strata.yaml` is a link to a file outside the project")
                    .in_file(&file)
                    .with_help("make `strata.yaml` a file of the project"),
            );
        }
        let text = crate::fs::read_text(&file)?;
        Project::parse(&file, &text)
    }

    pub fn parse(file: &Path, text: &str) -> Result<Project> {
        let at = |path: &[&str]| {
            let (line, col, offset) = yaml::locate(text, 0, path).unwrap_or((1, 1, 0));
            Location {
                file: file.to_path_buf(),
                line,
                col,
                offset,
            }
        };
        let docs =
            yaml::parse_documents(text).map_err(|e| crate::yaml::errors::yaml_error(file, e))?;
        let mut project = Project {
            file: Some(file.to_path_buf()),
            ..Project::default()
        };
        let root = match docs.into_iter().find(|d| !d.value.is_null()) {
            None => return Ok(project),
            Some(d) => d.value,
        };
        let Value::Map(map) = root else {
            return Err(Error::new("`strata.yaml` must be a map of settings")
                .at(at(&[]))
                .with_help(format!("known settings: {}", KEYS.join(", "))));
        };
        for (key, value) in &map {
            let bad = |what: &str| {
                Error::new(format!("`{key}` in `strata.yaml` must be {what}")).at(at(&[key]))
            };
            match key.as_str() {
                "environments" => {
                    let s = value
                        .as_str()
                        .ok_or_else(|| bad("a path").with_help("e.g. `environments: envs/`"))?;
                    let s = s.trim_end_matches('/');
                    if !inside(s) {
                        return Err(bad("a path inside the project").with_help(
                            "write it relative to the directory of `strata.yaml`, without `..`",
                        ));
                    }
                    project.environments = if s.contains('*') {
                        Environments::Glob(s.to_string())
                    } else {
                        Environments::Dir(s.to_string())
                    };
                }
                "kubeVersion" => {
                    // Unquoted, `1.30` is the number 1.3: only a string says what was meant.
                    let v = value.as_str().ok_or_else(|| {
                        bad("a quoted version").with_help(
                            "write `kubeVersion: \"1.30\"`: unquoted, YAML reads 1.30 as the number 1.3",
                        )
                    })?;
                    project.kube_version = Some(v.to_string());
                }
                "validate" => {
                    let Value::Bool(b) = value else {
                        return Err(bad("`true` or `false`").with_help("e.g. `validate: true`"));
                    };
                    project.validate = Some(*b);
                }
                "jobs" => {
                    let n = value
                        .scalar_text()
                        .and_then(|t| t.parse::<usize>().ok())
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad("a positive number").with_help("e.g. `jobs: 4`"))?;
                    project.jobs = Some(n);
                }
                "crds" | "values" => {
                    let paths = paths(value).map_err(|list| {
                        if list {
                            bad("a list of paths inside the project").with_help(
                                "write them relative to the directory of `strata.yaml`, without `..`",
                            )
                        } else {
                            bad("a list of paths")
                                .with_help(format!("e.g. `{key}: [path/to/file.yaml]`"))
                        }
                    })?;
                    if key == "crds" {
                        project.crds = paths;
                    } else {
                        project.values = paths;
                    }
                }
                _ => {
                    let err = Error::new(format!("unknown setting `{key}` in `strata.yaml`"))
                        .at(at(&[key]));
                    return Err(match closest(key, KEYS.iter().copied()) {
                        Some(near) => err.with_help(format!("did you mean `{near}`?")),
                        None => err.with_help(format!("known settings: {}", KEYS.join(", "))),
                    });
                }
            }
        }
        Ok(project)
    }
}

/// A relative path of plain components (`*` allowed): it cannot leave the project.
fn inside(p: &str) -> bool {
    !p.is_empty()
        && Path::new(p)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters.
pub fn wildcard(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().unwrap_or((&"", &[]));
    let Some(mut left) = name.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return left.is_empty();
    };
    for part in middle {
        match left.find(part) {
            Some(i) => left = &left[i + part.len()..],
            None => return false,
        }
    }
    left.len() >= last.len() && left.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_a_shell() {
        for (p, n, want) in [
            ("*", "prod", true),
            ("p*", "prod", true),
            ("*d", "prod", true),
            ("p*o*d", "prod", true),
            ("p*x", "prod", false),
            ("prod", "prod", true),
            ("prod", "pro", false),
            ("ab*ab", "ab", false),
        ] {
            assert_eq!(wildcard(p, n), want, "{p} {n}");
        }
    }

    #[test]
    fn settings_are_read_and_unknown_ones_refused() {
        let f = Path::new("strata.yaml");
        let p = Project::parse(
            f,
            "environments: clusters/*\nkubeVersion: \"1.30\"\nvalidate: true\nvalues: [common.yaml]\njobs: 2\n",
        )
        .expect("valid");
        assert_eq!(p.environments, Environments::Glob("clusters/*".into()));
        assert_eq!(p.kube_version.as_deref(), Some("1.30"));
        assert_eq!(p.validate, Some(true));
        assert_eq!(p.values, [PathBuf::from("common.yaml")]);
        assert_eq!(p.jobs, Some(2));
        let e = Project::parse(f, "environment: envs\n").expect_err("unknown");
        assert_eq!(e.help.as_deref(), Some("did you mean `environments`?"));
        assert_eq!(e.location.map(|l| l.line), Some(1));
        let e = Project::parse(f, "jobs: 1\nenvironments: ../elsewhere\n").expect_err("outside");
        assert_eq!(e.location.map(|l| l.line), Some(2));
        assert!(Project::parse(f, "validate: yes please\n").is_err());
        assert_eq!(
            Project::parse(f, "").expect("empty").environments,
            Project::default().environments
        );
    }
}
