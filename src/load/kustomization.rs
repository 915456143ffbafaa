//! Reading a kustomization file into a checked, typed `Kustomization`.
//!
//! Field names match case-insensitively (Kustomize decodes through Go's JSON decoder);
//! an unknown field is an error naming the closest known one. Values keep their raw
//! `Value` until a stage asks for them typed, so every typed accessor reports errors at the
//! field's own line. Deprecated fields produce Kustomize's exact warning lines.

use super::field_types;
use crate::error::{Error, Location, Result, closest};
use crate::yaml::{self, Map, Value};
use std::path::{Path, PathBuf};

/// Every field a kustomization may hold, with Kustomize's spelling.
pub const FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "openapi",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "images",
    "imageTags",
    "replacements",
    "replicas",
    "vars",
    "sortOptions",
    "resources",
    "components",
    "crds",
    "bases",
    "configMapGenerator",
    "secretGenerator",
    "helmGlobals",
    "helmCharts",
    "helmChartInflationGenerator",
    "generatorOptions",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "buildMetadata",
];

/// The fields that configure built-in transformers and generators.
const CONFIG_FIELDS: &[&str] = &[
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "images",
    "imageTags",
    "replicas",
    "replacements",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "helmCharts",
];

/// The file names a kustomization may have, in Kustomize's order of preference.
pub const FILE_NAMES: &[&str] = &[
    "kustomization.yaml",
    "kustomization.yml",
    "Kustomization",
    "kustomization.yaml.j2",
];

const DEPRECATED: &[(&str, &str, &str)] = &[
    ("bases", "resources", ""),
    ("commonLabels", "labels", ""),
    ("imageTags", "images", ""),
    ("patchesJson6902", "patches", ""),
    ("patchesStrategicMerge", "patches", ""),
    ("vars", "replacements", " [EXPERIMENTAL]"),
];

#[derive(Debug, Clone)]
pub struct Kustomization {
    /// The kustomization file.
    pub file: PathBuf,
    /// Its directory, the root that its paths are relative to.
    pub dir: PathBuf,
    /// The file's text, for locating errors.
    pub text: std::sync::Arc<str>,
    /// The top-level keys as spelled in the file (fields match case-insensitively).
    pub raw_keys: Vec<String>,
    /// Fields under their canonical names, in file order.
    pub fields: std::sync::Arc<Map>,
    pub is_component: bool,
    /// The values and environment of the layer, for the `.j2` files it references.
    pub ctx: Option<std::sync::Arc<crate::template::Ctx>>,
}

impl Kustomization {
    /// Parse and check a kustomization file's text.
    #[cfg(test)]
    pub fn parse(file: &Path, text: String) -> Result<Kustomization> {
        Kustomization::parse_in(file, text, &yaml::AliasBudget::default())
    }

    /// Parse and check a kustomization file's text, drawing on a build's alias budget.
    pub fn parse_in(
        file: &Path,
        text: String,
        aliases: &yaml::AliasBudget,
    ) -> Result<Kustomization> {
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let docs = yaml::parse_kustomization_in(&text, aliases).map_err(|e| {
            if crate::template::is_template(file) {
                super::rendered_yaml_error(file, &text, &e)
            } else {
                yaml::errors::yaml_error_in(file, &text, e)
            }
        })?;
        let mut docs = docs.into_iter().filter(|d| !d.value.is_null());
        let root = match docs.next() {
            None => Value::Map(Map::default()),
            Some(d) => d.value,
        };
        let Value::Map(raw) = root else {
            return Err(Error::new("a kustomization must be a map of fields")
                .at(loc(file, &text, &[]))
                .with_help("start the file with fields such as `resources:`"));
        };
        let raw_keys: Vec<String> = raw.keys().cloned().collect();
        let mut fields = Map::default();
        for (key, value) in raw {
            let Some(canon) = FIELDS.iter().find(|f| f.eq_ignore_ascii_case(&key)) else {
                let mut err = Error::new(format!("unknown field `{key}` in kustomization"))
                    .at(loc(file, &text, &[&key]));
                if let Some(near) = closest(&key, FIELDS.iter().copied()) {
                    err = err.with_help(format!("did you mean `{near}`?"));
                } else {
                    err = err.with_help("see the kustomization reference for the known fields");
                }
                return Err(err);
            };
            fields.insert(canon.to_string(), value);
        }
        field_types::check(&mut fields)
            .map_err(|m| field_types::error(m, &text, |path| loc(file, &text, path)))?;
        // Kustomize marshals the configuration of its built-in transformers and generators
        // when it runs them: a character it cannot print fails there, whatever receives it.
        for field in CONFIG_FIELDS {
            if let Some(v) = fields.get(*field) {
                let mut path = vec![field.to_string()];
                if let Some(c) = yaml::find_unprintable(v, &mut path) {
                    let refs: Vec<&str> = path.iter().map(String::as_str).collect();
                    return Err(Error::new(format!(
                        "`{}` holds the control character U+{:04X}, which kubectl cannot print",
                        path.join("."),
                        c as u32
                    ))
                    .at(loc(file, &text, &refs))
                    .with_help("remove the character"));
                }
            }
        }
        // Kustomize refuses a kustomization whose fields are all Go zero values (an empty
        // file, comments only, `{}`, only `apiVersion`/`kind`): it builds nothing, and an
        // empty stream must never look like a successful build.
        let zero = |v: &Value| match v {
            Value::Null => true,
            Value::Str(s) => s.is_empty(),
            Value::Bool(b) => !b,
            Value::Int(i) => *i == 0,
            _ => false,
        };
        if fields
            .iter()
            .all(|(k, v)| k == "apiVersion" || k == "kind" || zero(v))
        {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            return Err(Error::new(format!("`{name}` is empty"))
                .in_file(file)
                .with_help(
                    "list what the layer builds: `resources:`, `components:` or a generator",
                ));
        }
        let kind = fields.get("kind").and_then(Value::as_str).unwrap_or("");
        let is_component = kind == "Component";
        if !kind.is_empty() && kind != "Kustomization" && !is_component {
            return Err(Error::new(format!("kind `{kind}` is not a kustomization"))
                .at(loc(file, &text, &["kind"]))
                .with_help("use `kind: Kustomization` or `kind: Component`"));
        }
        Ok(Kustomization {
            file: file.to_path_buf(),
            dir,
            text: std::sync::Arc::from(text),
            raw_keys,
            fields: std::sync::Arc::new(fields),
            is_component,
            ctx: None,
        })
    }

    /// Kustomize's `# Warning:` lines for the deprecated fields this file uses.
    pub fn deprecation_warnings(&self) -> Vec<crate::warning::Warning> {
        DEPRECATED
            .iter()
            .filter(|(f, _, _)| self.fields.contains_key(*f))
            .map(|(f, instead, extra)| {
                crate::warning::Warning::new(
                    format!(
                        "# Warning: '{f}' is deprecated. Please use '{instead}' instead.{extra} Run 'kustomize edit fix' to update your Kustomization automatically."
                    ),
                    format!("`{f}` is deprecated"),
                )
                .with_help(format!(
                    "use `{instead}` instead; `kustomize edit fix` rewrites the file"
                ))
                .at(self.location(&[f]))
            })
            .collect()
    }

    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    /// The location of a field (or a path inside it), for error reports.
    pub fn location(&self, path: &[&str]) -> Location {
        self.spot(path).resolve()
    }

    /// A place in the file, resolved to a line only if an error needs it.
    pub fn spot(&self, path: &[&str]) -> Spot {
        // The raw key may be spelled differently; find it case-insensitively.
        let mut owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        if let Some(first) = owned.first_mut()
            && let Some(k) = self.raw_keys.iter().find(|k| k.eq_ignore_ascii_case(first))
        {
            *first = k.clone();
        }
        Spot::Lazy {
            file: self.file.clone(),
            text: self.text.clone(),
            path: owned,
        }
    }

    /// An error about a field, located at it.
    pub fn error(&self, path: &[&str], message: impl Into<String>) -> Error {
        Error::new(message).at(self.location(path))
    }

    /// A string field.
    pub fn string(&self, field: &str) -> Result<Option<String>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self
                .error(
                    &[field],
                    format!("`{field}` must be a string, found {}", describe(other)),
                )
                .with_help("quote the value")),
        }
    }

    /// A list of strings (`resources`, `components`, …).
    pub fn string_list(&self, field: &str) -> Result<Vec<String>> {
        match self.get(field) {
            None => Ok(Vec::new()),
            Some(Value::Seq(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Str(s) => Ok(s.clone()),
                    other => Err(self
                        .error(
                            &[field, &i.to_string()],
                            format!(
                                "`{field}` entries must be strings, found {}",
                                describe(other)
                            ),
                        )
                        .with_help("write each entry as a path")),
                })
                .collect(),
            Some(other) => Err(self
                .error(
                    &[field],
                    format!("`{field}` must be a list, found {}", describe(other)),
                )
                .with_help(format!("write `{field}:` followed by `- item` lines"))),
        }
    }

    /// A map of strings to strings (a generator's `options.labels` and `options.annotations`).
    pub fn string_map(
        &self,
        path: &[&str],
        value: Option<&Value>,
    ) -> Result<Vec<(String, String)>> {
        match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Map(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::Str(s) => Ok((k.clone(), s.clone())),
                    Value::Null => Ok((k.clone(), String::new())),
                    other => {
                        let mut p = path.to_vec();
                        p.push(k);
                        Err(self
                            .error(
                                &p,
                                format!(
                                    "`{}` values must be strings, found {} for `{k}`",
                                    path.join("."),
                                    describe(other)
                                ),
                            )
                            .with_help(format!(
                                "quote the value: `{k}: \"{}\"`",
                                other.scalar_text().unwrap_or_default()
                            )))
                    }
                })
                .collect(),
            Some(other) => Err(self
                .error(
                    path,
                    format!(
                        "`{}` must be a map, found {}",
                        path.join("."),
                        describe(other)
                    ),
                )
                .with_help("write `key: value` pairs")),
        }
    }
}

impl Kustomization {
    /// A nested struct (`sortOptions`, `openapi`, a generator entry) with its keys spelled canonically;
    /// an unknown key is an error naming the closest allowed one, as Kustomize's strict
    /// decoding does.
    pub fn strict_struct(&self, path: &[&str], value: &Value, allowed: &[&str]) -> Result<Map> {
        let Value::Map(m) = value else {
            return Err(self
                .error(
                    path,
                    format!(
                        "`{}` must be a map, found {}",
                        path.join("."),
                        describe(value)
                    ),
                )
                .with_help(format!("expected fields: {}", allowed.join(", "))));
        };
        let mut out = Map::default();
        for (k, v) in m {
            let Some(canon) = allowed.iter().find(|a| a.eq_ignore_ascii_case(k)) else {
                let mut p = path.to_vec();
                p.push(k);
                let help = match closest(k, allowed.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("expected fields: {}", allowed.join(", ")),
                };
                return Err(self
                    .error(&p, format!("unknown field `{k}` in `{}`", path.join(".")))
                    .with_help(help));
            };
            out.insert(canon.to_string(), v.clone());
        }
        Ok(out)
    }
}

/// A place in a kustomization file; finding its line costs a parse, so it waits until an
/// error or warning needs it.
#[derive(Debug, Clone)]
pub enum Spot {
    Lazy {
        file: PathBuf,
        text: std::sync::Arc<str>,
        path: Vec<String>,
    },
    Known(Location),
}

impl Spot {
    pub fn resolve(&self) -> Location {
        match self {
            Spot::Lazy { file, text, path } => {
                let refs: Vec<&str> = path.iter().map(String::as_str).collect();
                loc(file, text, &refs)
            }
            Spot::Known(l) => l.clone(),
        }
    }
}

pub use crate::yaml::describe;

/// Where `path` is written, or the nearest of its parents that is (an item of a field
/// written as a single string points at the field).
fn loc(file: &Path, text: &str, path: &[&str]) -> Location {
    let (line, col, offset) = (0..=path.len())
        .rev()
        .find_map(|n| yaml::locate(text, 0, &path[..n]))
        .unwrap_or((1, 1, 0));
    Location {
        file: file.to_path_buf(),
        line,
        col,
        offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Kustomization> {
        Kustomization::parse(Path::new("/k/kustomization.yaml"), text.to_string())
    }

    #[test]
    fn fields_match_case_insensitively() {
        let k = parse("NamePrefix: x-\nresources: [a.yaml]\n").expect("parses");
        assert_eq!(
            k.string("namePrefix").expect("string"),
            Some("x-".to_string())
        );
        assert_eq!(k.string_list("resources").expect("list"), vec!["a.yaml"]);
    }

    #[test]
    fn unknown_field_suggests_closest() {
        let err = parse("resources: []\nresourcse: []\n").expect_err("unknown field");
        assert_eq!(err.message, "unknown field `resourcse` in kustomization");
        assert_eq!(err.help.as_deref(), Some("did you mean `resources`?"));
        assert_eq!(err.location.expect("located").line, 2);
    }

    #[test]
    fn deprecated_fields_warn_in_kustomize_order() {
        let k = parse("vars: []\nbases: []\n").expect("parses");
        let w = k.deprecation_warnings();
        assert_eq!(w.len(), 2);
        assert!(
            w[0].kustomize
                .starts_with("# Warning: 'bases' is deprecated.")
        );
        assert!(w[1].kustomize.contains("[EXPERIMENTAL]"));
    }

    #[test]
    fn non_string_label_is_an_error() {
        let err = parse("commonLabels:\n  version: 1\n").expect_err("number");
        assert_eq!(err.location.expect("located").line, 2);
        assert!(err.help.expect("help").contains("`\"1\"`"));
    }
}
