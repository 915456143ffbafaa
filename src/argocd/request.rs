//! What an Application asks the plugin for: its parameters and `plugin.env` turned into
//! render options.
//!
//! Parameters with a meaning of their own:
//!
//! | parameter    | kind   | meaning                                                       |
//! |--------------|--------|---------------------------------------------------------------|
//! | `env`        | string | the environment (`overlays/<env>`) of a project root          |
//! | `valueFiles` | array  | values files, relative to the application's path              |
//! | `values`     | map    | values by path (`image.tag: v2`)                              |
//! | `set`        | array  | `--set` assignments (`a.b=v`)                                 |
//! | `allowEmpty` | string | `true`: an empty render is not an error                       |
//! | `validate`   | string | `false`: no schema validation                                 |
//!
//! Any other parameter sets the value of its name (`image.tag`, `replicas`, `image` with a
//! map): that is what the UI edits after `strata argocd parameters` announced the values.
//! From `plugin.env`: `STRATA_ENV` (the environment, when no `env` parameter is set) and
//! `STRATA_VALUES` (a YAML map of values, where Argo CD has already replaced
//! `$ARGOCD_APP_REVISION_SHORT` and friends).
//!
//! Values are laid on the environment's own in this order: `valueFiles`, `STRATA_VALUES`,
//! `values`, the named parameters (in the Application's order), then `set`. A value given
//! as text takes the type of the value it replaces: where the environment has a string
//! (`tag: "1.10"`) the parameter stays a string; elsewhere it is read as YAML (`3` is a
//! number, `true` a boolean, `null` deletes), as `--set` reads it.

use super::env::ArgoEnv;
use super::layers::Layers;
use super::params::{ParamValue, Parameter};
use crate::error::{Error, Result};
use crate::template::{Source, Values};
use crate::yaml::{self, Map, Value};
use std::path::{Component, Path, PathBuf};

/// The parameter names with a meaning of their own.
pub const RESERVED: &[&str] = &[
    "env",
    "valueFiles",
    "values",
    "set",
    "allowEmpty",
    "validate",
];

/// A value set by a parameter: a path in the values and its text (one or a list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub path: Vec<String>,
    pub raw: Raw,
    /// How errors name where it came from (`parameter \`image.tag\``).
    pub from: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raw {
    One(String),
    List(Vec<String>),
}

/// The Application's request, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub env: Option<String>,
    pub value_files: Vec<String>,
    /// `ARGOCD_ENV_STRATA_VALUES`: a YAML map.
    pub env_values: Option<String>,
    pub assignments: Vec<Assignment>,
    pub set: Vec<String>,
    pub allow_empty: bool,
    pub validate: bool,
}

fn want_kind(p: &Parameter, kind: &str, example: &str) -> Error {
    Error::new(format!(
        "parameter `{}` is {} {}, not {} {kind}",
        p.name,
        article(p.value.kind()),
        p.value.kind(),
        article(kind)
    ))
    .with_help(format!("set it as `{example}`"))
}

fn article(kind: &str) -> &'static str {
    if kind == "array" { "an" } else { "a" }
}

fn boolean(p: &Parameter, s: &str) -> Result<bool> {
    match s {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::new(format!(
            "parameter `{}` is `{}`, not `true` or `false`",
            p.name,
            s.escape_debug()
        ))
        .with_help(format!("set `{}` to `true` or `false`", p.name))),
    }
}

/// A values path from a parameter name or map key: `.`-separated, `\.` for a dot in a key.
pub fn split_path(name: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                chars.next();
                if let Some(last) = out.last_mut() {
                    last.push('.');
                }
            }
            '.' => out.push(String::new()),
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    out
}

/// Read the request from the environment.
pub fn request(env: &ArgoEnv) -> Result<Request> {
    let mut r = Request {
        validate: true,
        ..Request::default()
    };
    if let Some(e) = env.plugin_env("STRATA_ENV") {
        r.env = Some(e.to_string());
    }
    r.env_values = env.plugin_env("STRATA_VALUES").map(str::to_string);
    for p in env.parameters()? {
        match (p.name.as_str(), &p.value) {
            ("env", ParamValue::String(s)) => {
                if let Some(from_env) = env.plugin_env("STRATA_ENV").filter(|e| *e != s) {
                    return Err(Error::new(format!(
                        "the parameter `env` is `{s}` but `STRATA_ENV` is `{from_env}`"
                    ))
                    .with_help(
                        "choose the environment in one place: the `env` parameter or `plugin.env`",
                    ));
                }
                r.env = Some(s.clone());
            }
            ("env", _) => return Err(want_kind(&p, "string", "env: prod")),
            ("valueFiles", ParamValue::Array(a)) => r.value_files = a.clone(),
            ("valueFiles", _) => {
                return Err(want_kind(&p, "array", "valueFiles: [values-prod.yaml]"));
            }
            ("set", ParamValue::Array(a)) => r.set = a.clone(),
            ("set", _) => return Err(want_kind(&p, "array", "set: [image.tag=v2]")),
            ("values", ParamValue::Map(m)) => {
                for (k, v) in m {
                    r.assignments.push(Assignment {
                        path: split_path(k),
                        raw: Raw::One(v.clone()),
                        from: format!("parameter `values` key `{k}`"),
                    });
                }
            }
            ("values", _) => return Err(want_kind(&p, "map", "values: {image.tag: v2}")),
            ("allowEmpty", ParamValue::String(s)) => r.allow_empty = boolean(&p, s)?,
            ("allowEmpty", _) => return Err(want_kind(&p, "string", "allowEmpty: \"true\"")),
            ("validate", ParamValue::String(s)) => r.validate = boolean(&p, s)?,
            ("validate", _) => return Err(want_kind(&p, "string", "validate: \"false\"")),
            (name, value) => {
                // A reserved name in other case is a typo, not a value.
                if let Some(c) = RESERVED.iter().find(|c| c.eq_ignore_ascii_case(name)) {
                    return Err(Error::new(format!("unknown parameter `{name}`"))
                        .with_help(format!("did you mean `{c}`?")));
                }
                let base = split_path(name);
                match value {
                    ParamValue::String(s) => r.assignments.push(Assignment {
                        path: base,
                        raw: Raw::One(s.clone()),
                        from: format!("parameter `{name}`"),
                    }),
                    ParamValue::Array(a) => r.assignments.push(Assignment {
                        path: base,
                        raw: Raw::List(a.clone()),
                        from: format!("parameter `{name}`"),
                    }),
                    ParamValue::Map(m) => {
                        for (k, v) in m {
                            let mut path = base.clone();
                            path.extend(split_path(k));
                            r.assignments.push(Assignment {
                                path,
                                raw: Raw::One(v.clone()),
                                from: format!("parameter `{name}` key `{k}`"),
                            });
                        }
                    }
                }
            }
        }
    }
    if let Some(e) = &r.env {
        check_env_name(e)?;
    }
    Ok(r)
}

/// An environment name is a relative path of plain components under `overlays/`.
fn check_env_name(e: &str) -> Result<()> {
    let plain = !e.is_empty()
        && e.len() <= 253
        && !e.starts_with('-')
        && Path::new(e)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        && e.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if plain {
        Ok(())
    } else {
        Err(
            Error::new(format!("`{}` is not an environment name", e.escape_debug())).with_help(
                "an environment is a directory under `overlays/`, such as `prod` or `prod/eu`",
            ),
        )
    }
}

/// A text value typed as the value it replaces (`current`): a string stays a string,
/// anything else is read as a YAML scalar.
pub fn typed(current: Option<&Value>, raw: &str) -> Value {
    if matches!(current, Some(Value::Str(_))) {
        return Value::Str(raw.to_string());
    }
    yaml::scalar_or_string(raw)
}

fn at<'a>(tree: &'a Map, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let v = tree.get(first)?;
    if rest.is_empty() {
        return Some(v);
    }
    match v {
        Value::Map(m) => at(m, rest),
        _ => None,
    }
}

/// The values layer of `STRATA_VALUES`, if set.
pub fn env_values_layer(r: &Request, aliases: &yaml::AliasBudget) -> Result<Option<Values>> {
    let Some(text) = &r.env_values else {
        return Ok(None);
    };
    Values::from_path_in(None, "`plugin.env` STRATA_VALUES", text.clone(), aliases)
        .map(Some)
        .map_err(|e| {
            let help = e.help.clone().unwrap_or_default();
            Error::new(e.message).with_help(if help.is_empty() {
                "STRATA_VALUES is a YAML map of values".to_string()
            } else {
                help
            })
        })
}

/// The values layer of the parameters, each typed against `current` (the values the
/// layers would see without them) and the layers' schemas: a string there stays a string.
pub fn parameter_layer(r: &Request, current: &Values, layers: &Layers) -> Result<Values> {
    let mut out = Values::empty();
    let string = Value::Str(String::new());
    for a in &r.assignments {
        if a.path.iter().any(String::is_empty) {
            return Err(Error::new(format!("{} names an empty key", a.from))
                .with_help("write a values path such as `image.tag`"));
        }
        let now = at(&out.tree, &a.path).or_else(|| at(&current.tree, &a.path));
        let leaf = match &a.raw {
            Raw::One(s) if layers.is_string(&a.path) => typed(Some(&string), s),
            Raw::One(s) => typed(now, s),
            Raw::List(items) => {
                let items_are_strings = layers.schema(&a.path).is_some_and(|s| {
                    s.get("items").and_then(|i| i.get("type")) == Some(&"string".into())
                });
                let first = match now {
                    _ if items_are_strings => Some(&string),
                    Some(Value::Seq(v)) => v.first(),
                    _ => None,
                };
                Value::Seq(items.iter().map(|s| typed(first, s)).collect())
            }
        };
        let mut tree = leaf;
        for k in a.path.iter().rev() {
            let mut m = Map::default();
            m.insert(k.clone(), tree);
            tree = Value::Map(m);
        }
        let Value::Map(tree) = tree else { continue };
        let layer = Values::from_map(
            tree,
            Source {
                display: a.from.clone(),
                text: None,
                file: None,
            },
        );
        out = out.overlay(&layer);
    }
    Ok(out)
}

/// The repository's root in the work directory: the application's directory with
/// `ARGOCD_APP_SOURCE_PATH` taken off its end. Without a usable source path it is `cwd`
/// when the application lies below it, else the application's directory.
pub fn repo_root(app: &Path, source_path: Option<&str>, cwd: &Path) -> PathBuf {
    if let Some(sp) = source_path {
        let parts: Vec<_> = Path::new(sp)
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect();
        if parts.iter().all(|c| matches!(c, Component::Normal(_))) {
            let mut root = app.to_path_buf();
            let mut ok = true;
            for c in parts.iter().rev() {
                if root.file_name() == Some(c.as_os_str()) {
                    root.pop();
                } else {
                    ok = false;
                    break;
                }
            }
            if ok {
                return root;
            }
        }
    }
    if app.starts_with(cwd) {
        cwd.to_path_buf()
    } else {
        app.to_path_buf()
    }
}

/// A `valueFiles` entry: relative to the application's directory, a regular file inside
/// the repository (symlinks resolved first).
pub fn value_file(app: &Path, root: &Path, entry: &str) -> Result<PathBuf> {
    let refuse = |why: &str| {
        Error::new(format!("value file `{}` {why}", entry.escape_debug())).with_help(
            "`valueFiles` are paths relative to the application's directory, inside its repository",
        )
    };
    if entry.is_empty() || entry.contains("://") {
        return Err(refuse("is not a path in the repository"));
    }
    if Path::new(entry).is_absolute() {
        return Err(refuse("is an absolute path"));
    }
    // `..` that climbs out is refused before anything is looked at.
    let real_root = crate::fs::real(root)?.unwrap_or_else(|| root.to_path_buf());
    let real_app = crate::fs::real(app)?.unwrap_or_else(|| app.to_path_buf());
    if !crate::fs::normalize(&real_app.join(entry)).starts_with(&real_root) {
        return Err(refuse("is outside the repository"));
    }
    let real = match crate::fs::placed(root, &app.join(entry))? {
        crate::fs::Placed::Inside(r) => r,
        crate::fs::Placed::Missing => return Err(refuse("does not exist")),
        crate::fs::Placed::Outside => return Err(refuse("is outside the repository")),
    };
    if !real.is_file() {
        return Err(refuse("is not a regular file"));
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(params: &str, extra: &[(&str, &str)]) -> ArgoEnv {
        let mut vars = vec![("ARGOCD_APP_PARAMETERS".to_string(), params.to_string())];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        ArgoEnv::from_vars(vars)
    }

    #[test]
    fn reserved_and_value_parameters() {
        let r = request(&env(
            r#"[{"name":"env","string":"prod"},{"name":"set","array":["a=1"]},
                {"name":"valueFiles","array":["v.yaml"]},{"name":"image.tag","string":"v2"},
                {"name":"image","map":{"repository":"r"}},{"name":"allowEmpty","string":"true"},
                {"name":"validate","string":"false"},{"name":"values","map":{"a\\.b.c":"1"}}]"#,
            &[],
        ))
        .unwrap();
        assert_eq!(r.env.as_deref(), Some("prod"));
        assert_eq!(r.set, vec!["a=1"]);
        assert_eq!(r.value_files, vec!["v.yaml"]);
        assert!(r.allow_empty && !r.validate);
        let paths: Vec<Vec<String>> = r.assignments.iter().map(|a| a.path.clone()).collect();
        assert_eq!(
            paths,
            vec![
                vec!["image".to_string(), "tag".to_string()],
                vec!["image".to_string(), "repository".to_string()],
                vec!["a.b".to_string(), "c".to_string()],
            ]
        );
    }

    #[test]
    fn wrong_kinds_typos_and_bad_environments_are_errors() {
        for (params, extra, want) in [
            (
                r#"[{"name":"env","array":["a"]}]"#,
                vec![],
                "is an array, not a string",
            ),
            (r#"[{"name":"set","string":"a=1"}]"#, vec![], "not an array"),
            (
                r#"[{"name":"valuefiles","array":["a"]}]"#,
                vec![],
                "did you mean `valueFiles`",
            ),
            (
                r#"[{"name":"allowEmpty","string":"yes"}]"#,
                vec![],
                "not `true` or `false`",
            ),
            (
                r#"[{"name":"env","string":"../etc"}]"#,
                vec![],
                "not an environment name",
            ),
            (
                r#"[{"name":"env","string":"-x"}]"#,
                vec![],
                "not an environment name",
            ),
            (
                r#"[{"name":"env","string":"prod"}]"#,
                vec![("ARGOCD_ENV_STRATA_ENV", "dev")],
                "choose the environment in one place",
            ),
        ] {
            let err = request(&env(params, &extra)).unwrap_err();
            let text = format!("{} {}", err.message, err.help.unwrap_or_default());
            assert!(text.contains(want), "{params}: {text}");
        }
        let r = request(&env("[]", &[("ARGOCD_ENV_STRATA_ENV", "staging")])).unwrap();
        assert_eq!(r.env.as_deref(), Some("staging"));
    }

    #[test]
    fn text_takes_the_type_of_the_value_it_replaces() {
        let current = Values::from_file(
            "values.yaml",
            "replicas: 1\nimage:\n  tag: \"1.10\"\nports: [80]\nflags: [a]\n".into(),
        )
        .unwrap();
        let r = request(&env(
            r#"[{"name":"replicas","string":"3"},{"name":"image.tag","string":"1.20"},
                {"name":"ports","array":["80","443"]},{"name":"flags","array":["true"]},
                {"name":"new.key","string":"false"},{"name":"image.pullPolicy","string":"null"}]"#,
            &[],
        ))
        .unwrap();
        let layer = parameter_layer(&r, &current, &Layers::default()).unwrap();
        let merged = current.overlay(&layer);
        let y = yaml::to_yaml_string(&Value::Map(merged.tree.clone()));
        assert!(y.contains("replicas: 3\n"), "{y}");
        assert!(y.contains("tag: \"1.20\""), "{y}");
        assert!(y.contains("- 443"), "{y}");
        assert!(y.contains("- \"true\""), "{y}");
        assert!(y.contains("key: false"), "{y}");
        assert_eq!(
            merged.origin(&["replicas".to_string()]).as_deref(),
            Some("parameter `replicas`")
        );
    }

    #[test]
    fn the_repository_root_is_the_source_path_taken_off() {
        let app = Path::new("/tmp/_cmp_server/u/apps/web");
        let cwd = Path::new("/elsewhere");
        assert_eq!(
            repo_root(app, Some("apps/web"), cwd),
            Path::new("/tmp/_cmp_server/u")
        );
        assert_eq!(
            repo_root(app, Some("./apps/web/"), cwd),
            Path::new("/tmp/_cmp_server/u")
        );
        assert_eq!(repo_root(app, Some("other/web"), cwd), app);
        assert_eq!(repo_root(app, Some("../web"), cwd), app);
        assert_eq!(
            repo_root(app, None, Path::new("/tmp/_cmp_server")),
            Path::new("/tmp/_cmp_server")
        );
        assert_eq!(split_path("a.b\\.c"), vec!["a", "b.c"]);
    }

    #[test]
    fn value_files_stay_in_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("apps/web")).unwrap();
        std::fs::write(root.join("common.yaml"), "a: 1\n").unwrap();
        std::fs::write(dir.path().join("secret.yaml"), "a: 1\n").unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("secret.yaml"),
            root.join("apps/web/link.yaml"),
        )
        .unwrap();
        let app = root.join("apps/web");
        assert!(value_file(&app, &root, "../../common.yaml").is_ok());
        for (bad, want) in [
            ("../../../secret.yaml", "outside the repository"),
            ("link.yaml", "outside the repository"),
            ("/etc/passwd", "absolute"),
            ("https://x/v.yaml", "not a path"),
            ("missing.yaml", "does not exist"),
            (".", "not a regular file"),
        ] {
            let err = value_file(&app, &root, bad).unwrap_err();
            assert!(err.message.contains(want), "{bad}: {}", err.message);
        }
    }
}
