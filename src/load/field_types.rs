//! The types of a kustomization's fields, checked the way Kustomize's Go types check them.
//!
//! Kustomize decodes a kustomization file with go-yaml v2 (YAML 1.1) into Go structs
//! through JSON: a string field refuses a number or a boolean (`newTag: 1.0`,
//! `namePrefix: yes`), a boolean field takes `yes`/`on`, an integer field takes `2.0` but not
//! `"2"`, and keys match whatever their case. `check` walks the parsed file against the
//! table below and reports the first mismatch at its line, with the fix.
//!
//! A built-in plugin's configuration (`transformers:`/`generators:` entries with
//! `apiVersion: builtin`) has the same types (`plugin` names them per kind) but Kustomize
//! reads it in another dialect. A transformer's goes through sigs.k8s.io/yaml, which turns
//! any scalar into the text a string field takes (`newTag: 1.10` is `1.1`, `a: yes` is
//! `"yes"`); a generator's is decoded as JSON, where a number is not text. Keys match
//! whatever their case, except in the prefix and suffix transformers (decoded with kyaml,
//! which matches them as written). Both ignore unknown keys; a list or map where text belongs, a string where a boolean or number
//! belongs, are errors as in a kustomization.

use crate::error::{Error, closest};
use crate::yaml::{Map, Value};

/// How a configuration is written, which decides how strictly its types are read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dialect {
    /// A kustomization file: strict types, no unknown keys.
    Field,
    /// A built-in transformer plugin's configuration: scalars read as text, unknown keys
    /// ignored.
    Plugin,
    /// The same, for the transformers Kustomize decodes with kyaml (the prefix and suffix
    /// ones): keys match only as written (`Prefix:` is an unknown key there).
    PluginExact,
    /// A built-in generator plugin's configuration: strict types, unknown keys ignored.
    Generator,
}

/// A field's type.
#[derive(Clone, Copy)]
pub enum T {
    Str,
    Bool,
    Int,
    /// Anything (helm values, plugin configuration).
    Any,
    StrList,
    StrMap,
    BoolMap,
    Obj(&'static [(&'static str, T)]),
    List(&'static T),
}

const SELECTOR: &[(&str, T)] = &[
    ("group", T::Str),
    ("version", T::Str),
    ("kind", T::Str),
    ("name", T::Str),
    ("namespace", T::Str),
    ("annotationSelector", T::Str),
    ("labelSelector", T::Str),
];
const SELECTOR_T: T = T::Obj(SELECTOR);
const PATCH: T = T::Obj(&[
    ("path", T::Str),
    ("patch", T::Str),
    ("target", SELECTOR_T),
    ("options", T::BoolMap),
]);
const IMAGE: T = T::Obj(&[
    ("name", T::Str),
    ("newName", T::Str),
    ("tagSuffix", T::Str),
    ("newTag", T::Str),
    ("digest", T::Str),
]);
const FIELD_OPTIONS: T = T::Obj(&[
    ("delimiter", T::Str),
    ("index", T::Int),
    ("encoding", T::Str),
    ("create", T::Bool),
]);
const REPLACEMENT: T = T::Obj(&[
    ("path", T::Str),
    (
        "source",
        T::Obj(&[
            ("group", T::Str),
            ("version", T::Str),
            ("kind", T::Str),
            ("name", T::Str),
            ("namespace", T::Str),
            ("fieldPath", T::Str),
            ("options", FIELD_OPTIONS),
        ]),
    ),
    (
        "targets",
        T::List(&T::Obj(&[
            ("select", SELECTOR_T),
            ("reject", T::List(&SELECTOR_T)),
            ("fieldPaths", T::StrList),
            ("options", FIELD_OPTIONS),
        ])),
    ),
]);
const FIELD_SPEC: T = T::Obj(&[
    ("group", T::Str),
    ("version", T::Str),
    ("kind", T::Str),
    ("path", T::Str),
    ("create", T::Bool),
]);
const GENERATOR_OPTIONS: T = T::Obj(&[
    ("labels", T::StrMap),
    ("annotations", T::StrMap),
    ("disableNameSuffixHash", T::Bool),
    ("immutable", T::Bool),
]);
const GENERATOR_ARGS: &[(&str, T)] = &[
    ("namespace", T::Str),
    ("name", T::Str),
    ("behavior", T::Str),
    ("literals", T::StrList),
    ("files", T::StrList),
    ("envs", T::StrList),
    ("env", T::Str),
    ("options", GENERATOR_OPTIONS),
];
const SECRET_ARGS: &[(&str, T)] = &[
    ("namespace", T::Str),
    ("name", T::Str),
    ("behavior", T::Str),
    ("literals", T::StrList),
    ("files", T::StrList),
    ("envs", T::StrList),
    ("env", T::Str),
    ("options", GENERATOR_OPTIONS),
    ("type", T::Str),
];
const HELM_CHART: T = T::Obj(&[
    ("name", T::Str),
    ("version", T::Str),
    ("repo", T::Str),
    ("releaseName", T::Str),
    ("namespace", T::Str),
    ("additionalValuesFiles", T::StrList),
    ("valuesFile", T::Str),
    ("valuesInline", T::Any),
    ("valuesMerge", T::Str),
    ("includeCRDs", T::Bool),
    ("skipHooks", T::Bool),
    ("apiVersions", T::StrList),
    ("kubeVersion", T::Str),
    ("nameTemplate", T::Str),
    ("skipTests", T::Bool),
    ("devel", T::Bool),
]);

const METADATA: T = T::Obj(&[
    ("name", T::Str),
    ("namespace", T::Str),
    ("labels", T::StrMap),
    ("annotations", T::StrMap),
]);
const FIELD_SPECS: T = T::List(&FIELD_SPEC);
const JSON6902_TARGET: T = T::Obj(&[
    ("group", T::Str),
    ("version", T::Str),
    ("kind", T::Str),
    ("name", T::Str),
    ("namespace", T::Str),
]);

/// The fields of a built-in plugin's configuration (transformer or generator), by its kind
/// (besides `apiVersion`, `kind` and `metadata`, which every one has); `None` for a kind that
/// is not a built-in plugin.
pub fn plugin(kind: &str) -> Option<&'static [(&'static str, T)]> {
    Some(match kind {
        "NamespaceTransformer" => &[
            ("unsetOnly", T::Bool),
            ("setRoleBindingSubjects", T::Str),
            ("fieldSpecs", FIELD_SPECS),
        ],
        "PrefixSuffixTransformer" => &[
            ("prefix", T::Str),
            ("suffix", T::Str),
            ("fieldSpecs", FIELD_SPECS),
        ],
        "PrefixTransformer" => &[("prefix", T::Str), ("fieldSpecs", FIELD_SPECS)],
        "SuffixTransformer" => &[("suffix", T::Str), ("fieldSpecs", FIELD_SPECS)],
        "LabelTransformer" => &[("labels", T::StrMap), ("fieldSpecs", FIELD_SPECS)],
        "AnnotationsTransformer" => &[("annotations", T::StrMap), ("fieldSpecs", FIELD_SPECS)],
        "ImageTagTransformer" => &[("imageTag", IMAGE), ("fieldSpecs", FIELD_SPECS)],
        "ReplicaCountTransformer" => &[
            ("replica", T::Obj(&[("name", T::Str), ("count", T::Int)])),
            ("fieldSpecs", FIELD_SPECS),
        ],
        "PatchTransformer" => &[
            ("path", T::Str),
            ("patch", T::Str),
            ("target", SELECTOR_T),
            ("options", T::BoolMap),
        ],
        "PatchStrategicMergeTransformer" => &[("paths", T::StrList), ("patches", T::Str)],
        "PatchJson6902Transformer" => &[
            ("target", JSON6902_TARGET),
            ("path", T::Str),
            ("jsonOp", T::Str),
        ],
        "ReplacementTransformer" => &[("replacements", T::List(&REPLACEMENT))],
        "ConfigMapGenerator" => GENERATOR_ARGS,
        "SecretGenerator" => SECRET_ARGS,
        "IAMPolicyGenerator" => &[
            ("cloud", T::Str),
            (
                "kubernetesService",
                T::Obj(&[("namespace", T::Str), ("name", T::Str)]),
            ),
            (
                "serviceAccount",
                T::Obj(&[("name", T::Str), ("projectId", T::Str)]),
            ),
        ],
        _ => return None,
    })
}

/// Check a built-in plugin's configuration `doc` of `kind` against its type, in its
/// dialect, and return it as Kustomize decodes it (canonical keys, unknown keys dropped, a
/// transformer's scalars as text); a kind that is not a built-in plugin comes back as is.
pub fn check_plugin(kind: &str, doc: &Map) -> Result<Map, Mismatch> {
    let Some(fields) = plugin(kind) else {
        return Ok(doc.clone());
    };
    let dialect = match kind {
        k if k.ends_with("Generator") => Dialect::Generator,
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            Dialect::PluginExact
        }
        _ => Dialect::Plugin,
    };
    let mut out = Map::default();
    for (name, value) in doc {
        let (canonical, t) = match name.as_str() {
            "apiVersion" => ("apiVersion", T::Str),
            "kind" => ("kind", T::Str),
            "metadata" => ("metadata", METADATA),
            _ => match fields.iter().find(|(f, _)| same_key(f, name, dialect)) {
                Some((f, t)) => (*f, *t),
                None => continue,
            },
        };
        let mut value = value.clone();
        let mut path = vec![name.clone()];
        check_value(&mut value, t, dialect, &mut path)?;
        out.insert(canonical.to_string(), value);
    }
    Ok(out)
}

/// The type of each top-level field (names as in `kustomization::FIELDS`).
pub fn top(field: &str) -> T {
    match field {
        "apiVersion" | "kind" | "namePrefix" | "nameSuffix" | "namespace" => T::Str,
        "metadata" => METADATA,
        "openapi" | "commonLabels" | "commonAnnotations" => T::StrMap,
        "labels" => T::List(&T::Obj(&[
            ("pairs", T::StrMap),
            ("includeSelectors", T::Bool),
            ("includeTemplates", T::Bool),
            ("fields", T::List(&FIELD_SPEC)),
        ])),
        "patchesStrategicMerge"
        | "resources"
        | "components"
        | "crds"
        | "bases"
        | "configurations"
        | "generators"
        | "transformers"
        | "validators"
        | "buildMetadata" => T::StrList,
        "patchesJson6902" | "patches" => T::List(&PATCH),
        "images" | "imageTags" => T::List(&IMAGE),
        "replacements" => T::List(&REPLACEMENT),
        "replicas" => T::List(&T::Obj(&[("name", T::Str), ("count", T::Int)])),
        "vars" => T::List(&T::Obj(&[
            ("name", T::Str),
            (
                "objref",
                T::Obj(&[
                    ("apiVersion", T::Str),
                    ("group", T::Str),
                    ("version", T::Str),
                    ("kind", T::Str),
                    ("name", T::Str),
                    ("namespace", T::Str),
                ]),
            ),
            ("fieldref", T::Obj(&[("fieldPath", T::Str)])),
        ])),
        "sortOptions" => T::Obj(&[
            ("order", T::Str),
            (
                "legacySortOptions",
                T::Obj(&[("orderFirst", T::StrList), ("orderLast", T::StrList)]),
            ),
        ]),
        "configMapGenerator" => T::List(&T::Obj(GENERATOR_ARGS)),
        "secretGenerator" => T::List(&T::Obj(SECRET_ARGS)),
        "helmGlobals" => T::Obj(&[("chartHome", T::Str), ("configHome", T::Str)]),
        "helmCharts" => T::List(&HELM_CHART),
        "generatorOptions" => GENERATOR_OPTIONS,
        _ => T::Any,
    }
}

/// A type mismatch or unknown field: the path to it, the message and the help.
#[derive(Debug)]
pub struct Mismatch {
    pub path: Vec<String>,
    pub message: String,
    pub help: String,
}

/// Check every top-level field of a kustomization against its type; the keys inside come
/// out in their canonical spelling.
pub fn check(fields: &mut Map) -> Result<(), Mismatch> {
    for (name, value) in fields.iter_mut() {
        let mut path = vec![name.clone()];
        check_value(value, top(name), Dialect::Field, &mut path)?;
    }
    Ok(())
}

fn shown(path: &[String]) -> String {
    path.join(".")
}

fn describe(v: &Value) -> &'static str {
    crate::load::kustomization::describe(v)
}

fn mismatch(path: &[String], want: &str, found: &Value) -> Mismatch {
    let text = found.scalar_text().unwrap_or_default();
    let help = match (want, found) {
        ("a string", Value::Bool(_)) => format!(
            "quote it (`\"{text}\"`): in a kustomization an unquoted `yes`, `no`, `on`, `off`, `y` or `n` is a boolean"
        ),
        ("a string", Value::Int(_) | Value::UInt(_) | Value::Float(_)) => {
            format!("quote it (`\"{text}\"`): Kustomize refuses a number where it takes text")
        }
        ("a boolean", Value::Str(_)) => "write `true` or `false` without quotes".to_string(),
        ("a whole number", Value::Str(_)) => "write the number without quotes".to_string(),
        ("a map", Value::Seq(_)) => format!(
            "write `{}` as `key: value` lines indented below it, not `- ` items",
            shown(path)
        ),
        ("a list", Value::Str(_) | Value::Map(_)) => {
            format!("write `{}` as `- ` items indented below it", shown(path))
        }
        ("a string", Value::Map(_) | Value::Seq(_)) => format!(
            "`{}` takes one value; quote it if it holds `:`, `[` or `{{`",
            shown(path)
        ),
        _ => format!("`{}` takes {want}", shown(path)),
    };
    Mismatch {
        path: path.to_vec(),
        message: format!(
            "`{}` must be {want}, found {}",
            shown(path),
            describe(found)
        ),
        help,
    }
}

/// Check `v` against `t` and leave it as Kustomize's decoder reads it: keys in their
/// canonical spelling (Go matches them whatever their case), and in a plugin dialect unknown
/// keys dropped (Go ignores them) and, for a transformer, scalars where text belongs turned
/// into that text (sigs.k8s.io/yaml does).
fn check_value(
    v: &mut Value,
    t: T,
    dialect: Dialect,
    path: &mut Vec<String>,
) -> Result<(), Mismatch> {
    if v.is_null() {
        // Go's JSON decoder leaves the zero value for null.
        return Ok(());
    }
    match t {
        T::Any => Ok(()),
        T::Str => match v {
            Value::Str(_) => Ok(()),
            Value::Map(_) | Value::Seq(_) => Err(mismatch(path, "a string", v)),
            _ if matches!(dialect, Dialect::Plugin | Dialect::PluginExact) => {
                *v = Value::Str(v.scalar_text().unwrap_or_default());
                Ok(())
            }
            other => Err(mismatch(path, "a string", other)),
        },
        T::Bool => match v {
            Value::Bool(_) => Ok(()),
            other => Err(mismatch(path, "a boolean", other)),
        },
        T::Int => match v {
            Value::Int(_) | Value::UInt(_) => Ok(()),
            Value::Float(f) if f.fract() == 0.0 => Ok(()),
            other => Err(mismatch(path, "a whole number", other)),
        },
        T::StrList => each_item(v, path, |item, path| {
            check_value(item, T::Str, dialect, path)
        }),
        T::List(inner) => each_item(v, path, |item, path| {
            check_value(item, *inner, dialect, path)
        }),
        T::StrMap | T::BoolMap => {
            let Value::Map(m) = v else {
                return Err(mismatch(path, "a map", v));
            };
            let (want, scalar) = match t {
                T::StrMap => ("a string", T::Str),
                _ => ("a boolean", T::Bool),
            };
            for (k, item) in m.iter_mut() {
                path.push(k.clone());
                if !item.is_null() {
                    // A value that fails is left as it was.
                    check_value(item, scalar, dialect, path)
                        .map_err(|_| mismatch(path, want, item))?;
                }
                path.pop();
            }
            Ok(())
        }
        T::Obj(fields) => {
            let Value::Map(m) = v else {
                return Err(mismatch(path, "a map", v));
            };
            let mut out = Map::default();
            for (k, mut item) in std::mem::take(m) {
                let found = fields.iter().find(|(f, _)| same_key(f, &k, dialect));
                let Some((name, ft)) = found else {
                    if dialect != Dialect::Field {
                        continue;
                    }
                    return Err(unknown(path, &k, fields));
                };
                path.push(k.clone());
                check_value(&mut item, *ft, dialect, path)?;
                path.pop();
                out.insert((*name).to_string(), item);
            }
            *m = out;
            Ok(())
        }
    }
}

/// Whether a written key names the field `f` (Go's JSON decoder matches keys whatever their
/// case; kyaml only as written).
fn same_key(f: &str, written: &str, dialect: Dialect) -> bool {
    match dialect {
        Dialect::PluginExact => f == written,
        _ => f.eq_ignore_ascii_case(written),
    }
}

fn unknown(path: &[String], k: &str, fields: &[(&str, T)]) -> Mismatch {
    let names = fields.iter().map(|(f, _)| *f);
    let help = match closest(k, names.clone()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => format!(
            "the fields of `{}` are {}",
            shown(path),
            names.collect::<Vec<_>>().join(", ")
        ),
    };
    let mut p = path.to_vec();
    p.push(k.to_string());
    Mismatch {
        message: format!("unknown field `{k}` in `{}`", shown(path)),
        path: p,
        help,
    }
}

fn each_item(
    v: &mut Value,
    path: &mut Vec<String>,
    mut f: impl FnMut(&mut Value, &mut Vec<String>) -> Result<(), Mismatch>,
) -> Result<(), Mismatch> {
    let Value::Seq(items) = v else {
        return Err(mismatch(path, "a list", v));
    };
    for (i, item) in items.iter_mut().enumerate() {
        path.push(i.to_string());
        f(item, path)?;
        path.pop();
    }
    Ok(())
}

/// The error for a mismatch, at the field's line in the file's `text`; the help quotes the
/// value as it is written there.
pub fn error(m: Mismatch, text: &str, locate: impl Fn(&[&str]) -> crate::error::Location) -> Error {
    let refs: Vec<&str> = m.path.iter().map(String::as_str).collect();
    let at = locate(&refs);
    let written = text
        .lines()
        .nth(at.line.saturating_sub(1))
        .and_then(|l| l.split_once(": ").map(|(_, v)| v))
        .map(|v| {
            v.split(" #")
                .next()
                .unwrap_or(v)
                .trim()
                .trim_end_matches([',', '}'])
        })
        .filter(|v| !v.is_empty() && !v.contains([':', '{', '[']));
    let help = match (written, m.help.find("(`\"")) {
        (Some(w), Some(i)) => {
            let end = m.help[i..].find("\"`)").map_or(m.help.len(), |e| i + e + 3);
            format!("{}(`\"{w}\"`){}", &m.help[..i], &m.help[end..])
        }
        _ => m.help,
    };
    Error::new(m.message).at(at).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Map {
        let docs = crate::yaml::parse_kustomization_in(text, &Default::default()).expect("yaml");
        docs.into_iter()
            .next()
            .and_then(|d| d.value.as_map().cloned())
            .unwrap_or_default()
    }

    #[test]
    fn kustomize_types_hold() {
        for (text, ok) in [
            ("namePrefix: dev-\n", true),
            ("namePrefix: 1\n", false),
            ("namePrefix: yes\n", false),
            ("namePrefix: 'yes'\n", true),
            ("commonLabels: {a: y}\n", false),
            ("images: [{name: nginx, newTag: 1.0}]\n", false),
            ("images: [{name: n}]\n", false),
            ("images: [{name: nginx, newTag: '1.0'}]\n", true),
            ("generatorOptions: {disableNameSuffixHash: yes}\n", true),
            ("generatorOptions: {disableNameSuffixHash: 'yes'}\n", false),
            ("replicas: [{name: d, count: 2.0}]\n", true),
            ("replicas: [{name: d, count: '2'}]\n", false),
            ("replicas: [{name: d, Count: 2}]\n", true),
            (
                "patches: [{path: p.yaml, target: {kind: X, nmae: y}}]\n",
                false,
            ),
            ("resources: [a.yaml, 1]\n", false),
            ("namespace:\n", true),
            (
                "helmCharts: [{name: c, valuesInline: {a: [1, yes]}}]\n",
                true,
            ),
        ] {
            assert_eq!(check(&mut fields(text)).is_ok(), ok, "{text}");
        }
    }

    /// Each case as `kubectl kustomize` v5.5.0 decided it (a transformer's configuration
    /// turns scalars into text, a generator's does not; both ignore unknown keys).
    #[test]
    fn plugin_configurations_are_read_as_kustomize_reads_them() {
        for (kind, text, ok) in [
            (
                "ImageTagTransformer",
                "imageTag: {name: nginx, newTag: 123}",
                true,
            ),
            (
                "ImageTagTransformer",
                "imageTag: {name: nginx, bogus: [1]}",
                true,
            ),
            ("ImageTagTransformer", "imageTag: {name: [nginx]}", false),
            ("PrefixSuffixTransformer", "prefix: 12", true),
            ("PrefixSuffixTransformer", "prefix: {a: 1}", false),
            (
                "PrefixSuffixTransformer",
                "fieldSpecs: [{path: [a, b]}]",
                false,
            ),
            ("LabelTransformer", "labels: {a: 1, b: yes}", true),
            ("LabelTransformer", "labels: [a]", false),
            ("LabelTransformer", "labels: {a: {b: 1}}", false),
            ("NamespaceTransformer", "unsetOnly: yes", false),
            ("NamespaceTransformer", "unsetOnly: true", true),
            (
                "ReplicaCountTransformer",
                "replica: {name: web, count: '3'}",
                false,
            ),
            ("PatchStrategicMergeTransformer", "paths: [5]", true),
            ("ConfigMapGenerator", "literals: [a=b]\nbogus: 1", true),
            ("ConfigMapGenerator", "literals: a=b", false),
            ("ConfigMapGenerator", "literals: [a=b, 5]", false),
            ("ConfigMapGenerator", "behavior: 5", false),
            ("ConfigMapGenerator", "options: {labels: {x: 1}}", false),
            (
                "ConfigMapGenerator",
                "options: {disableNameSuffixHash: 'yes'}",
                false,
            ),
            ("SomethingElse", "anything: [at, all]", true),
            ("PrefixTransformer", "suffix: [a]", true),
            ("PrefixTransformer", "Prefix: [a]", true),
            ("PrefixSuffixTransformer", "fieldSpecs: [{Path: [a]}]", true),
        ] {
            let doc = crate::yaml::parse_documents(text)
                .expect("yaml")
                .remove(0)
                .value;
            let map = doc.as_map().cloned().unwrap_or_default();
            assert_eq!(check_plugin(kind, &map).is_ok(), ok, "{kind}: {text}");
        }
    }

    #[test]
    fn checked_configurations_read_as_kustomize_decodes_them() {
        // Keys in their canonical spelling, in a kustomization and in a plugin.
        let mut k = fields("replicas: [{name: d, Count: 2}]\nimages: [{Name: nginx, NewTag: v}]\n");
        check(&mut k).expect("valid");
        let r = &k["replicas"].as_seq().expect("list")[0];
        assert_eq!(r.get("count"), Some(&Value::Int(2)));
        let i = &k["images"].as_seq().expect("list")[0];
        assert_eq!(i.str_at(&["newTag"]), Some("v"));
        // A transformer's scalars become text; unknown keys go.
        let doc = fields("ImageTag: {name: nginx, newTag: 1.10, bogus: 1}\nprefix: x\n");
        let out = check_plugin("ImageTagTransformer", &doc).expect("valid");
        assert_eq!(
            out.get("imageTag").and_then(|t| t.str_at(&["newTag"])),
            Some("1.1")
        );
        assert!(out.get("imageTag").and_then(|t| t.get("bogus")).is_none());
        assert!(!out.contains_key("prefix"));
        // A generator's stay as they are.
        let doc = fields("literals: [a=b]\noptions: {disableNameSuffixHash: true}\n");
        let out = check_plugin("ConfigMapGenerator", &doc).expect("valid");
        assert_eq!(out, doc);
    }
}
