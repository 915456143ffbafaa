//! A `--set`/`-f` key that nothing reads is a warning (Helm ignores it silently):
//! "`replicsa` is read by no template and no schema", with the closest key that is read.
//!
//! What is read comes from the templates (`.j2`) and `values.schema.json` files the
//! environments' renders read (a plan build lists them): every `values.a.b` in a template
//! expression, every `properties` path of a schema. A key is used when a read path starts
//! with it or it starts with a read path (a template reading `values.image` reads all of
//! it). A template that uses `values` some other way (`values | tojson`, `values[key]`,
//! `values.items()`) may read anything: then nothing is reported.

use super::args::{Common, ValuesArgs};
use crate::Warning;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Methods of a map: `values.get(...)` reads keys the scan cannot see.
const METHODS: &[&str] = &["get", "items", "keys", "values"];

/// What the templates and schemas read: dotted paths, or `None` when anything may be read.
fn read_paths(files: &[PathBuf]) -> Option<BTreeSet<Vec<String>>> {
    let expr = regex::Regex::new(r"(?s)\{\{.*?\}\}|\{%.*?%\}").ok()?;
    let word = regex::Regex::new(r"\bvalues\b").ok()?;
    let mut out = BTreeSet::new();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let Ok(text) = crate::fs::read_text(f) else {
            continue;
        };
        if name == "values.schema.json" {
            if let Ok(schema) = serde_json::from_str::<serde_json::Value>(&text) {
                schema_paths(&schema, &mut Vec::new(), &mut out);
            }
            continue;
        }
        if !name.ends_with(".j2") {
            continue;
        }
        for block in expr.find_iter(&text) {
            let block = block.as_str();
            for m in word.find_iter(block) {
                // `.values` is an attribute of something else, not the values.
                if block[..m.start()].ends_with('.') {
                    continue;
                }
                let rest = &block[m.end()..];
                let mut path = Vec::new();
                let mut tail = rest;
                while let Some(after) = tail.strip_prefix('.') {
                    let ident: String = after
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if ident.is_empty() {
                        break;
                    }
                    tail = &after[ident.len()..];
                    path.push(ident);
                }
                let method = path.last().is_some_and(|l| METHODS.contains(&l.as_str()))
                    && tail.trim_start().starts_with('(');
                if path.is_empty() || method || tail.starts_with('[') {
                    return None;
                }
                out.insert(path);
            }
        }
    }
    Some(out)
}

fn schema_paths(s: &serde_json::Value, at: &mut Vec<String>, out: &mut BTreeSet<Vec<String>>) {
    if let Some(props) = s.get("properties").and_then(|p| p.as_object()) {
        for (k, sub) in props {
            at.push(k.clone());
            // A map with its own properties reads those, not everything below it.
            if sub.get("properties").is_none() {
                out.insert(at.clone());
            }
            schema_paths(sub, at, out);
            at.pop();
        }
    }
}

/// The key paths a `--set` expression assigns (indices dropped).
fn set_paths(expr: &str, flag: &str) -> Vec<Vec<String>> {
    let parts: Vec<String> = match flag {
        "--set-json" => crate::resolve::set::split_json(expr),
        "--set-file" => vec![expr.to_string()],
        _ => expr.split(',').map(str::to_string).collect(),
    };
    parts
        .iter()
        .filter_map(|a| a.split_once('='))
        .map(|(path, _)| {
            path.split('.')
                .map(|k| k.split('[').next().unwrap_or(k).to_string())
                .filter(|k| !k.is_empty())
                .collect()
        })
        .collect()
}

/// The leaf paths of a values file (lists are leaves).
fn file_paths(v: &crate::yaml::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        crate::yaml::Value::Map(m) if !m.is_empty() => {
            for (k, sub) in m {
                at.push(k.clone());
                file_paths(sub, at, out);
                at.pop();
            }
        }
        _ if !at.is_empty() => out.push(at.clone()),
        _ => {}
    }
}

/// The warnings for `values` given to the builds of `dirs`.
pub fn check(dirs: &[&Path], values: &ValuesArgs, common: &Common) -> Vec<Warning> {
    check_with(dirs, values, |d| super::deps::plan(d, common))
}

/// `check`, with the plan build of a directory given.
pub fn check_with(
    dirs: &[&Path],
    values: &ValuesArgs,
    plan: impl Fn(&Path) -> crate::Result<crate::deps::Deps>,
) -> Vec<Warning> {
    let mut given: Vec<(String, Vec<String>)> = Vec::new();
    for (flag, exprs) in [
        ("--set", &values.set),
        ("--set-string", &values.set_string),
        ("--set-json", &values.set_json),
        ("--set-file", &values.set_file),
    ] {
        for e in exprs {
            for p in set_paths(e, flag) {
                given.push((format!("{flag} {e}"), p));
            }
        }
    }
    for f in &values.files {
        let Ok(text) = crate::fs::read_text(f) else {
            continue;
        };
        let Ok(docs) = crate::yaml::parse_documents(&text) else {
            continue;
        };
        let mut paths = Vec::new();
        for d in docs {
            file_paths(&d.value, &mut Vec::new(), &mut paths);
        }
        for p in paths {
            given.push((super::report::shown(f), p));
        }
    }
    if given.is_empty() {
        return Vec::new();
    }
    let mut files = Vec::new();
    for dir in dirs {
        let Ok(deps) = plan(dir) else {
            // The build reports its own errors.
            return Vec::new();
        };
        for layer in &deps.layers {
            let schema = layer.join("values.schema.json");
            if schema.is_file() {
                files.push(schema);
            }
        }
        files.extend(deps.files);
    }
    files.sort();
    files.dedup();
    let Some(read) = read_paths(&files) else {
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (origin, path) in given {
        let used = read
            .iter()
            .any(|r| r.starts_with(&path) || path.starts_with(r));
        if used {
            continue;
        }
        // The first key no read path has at its place, and its siblings that are read.
        let k = (0..path.len())
            .find(|&k| !read.iter().any(|r| r.len() > k && r[..=k] == path[..=k]))
            .unwrap_or(0);
        let shown = path[..=k].join(".");
        if !seen.insert(shown.clone()) {
            continue;
        }
        let siblings: BTreeSet<&str> = read
            .iter()
            .filter(|r| r.len() > k && r[..k] == path[..k])
            .map(|r| r[k].as_str())
            .collect();
        let help = match crate::error::closest(&path[k], siblings.iter().copied()) {
            Some(near) => {
                let mut p = path[..k].to_vec();
                p.push(near.to_string());
                format!(
                    "did you mean `{}`? (Helm would ignore it silently)",
                    p.join(".")
                )
            }
            None => {
                "no template reads it: check the key (Helm would ignore it silently)".to_string()
            }
        };
        let message = format!("`{shown}` (from `{origin}`) is read by no template and no schema");
        out.push(Warning::new(format!("warning: {message}"), message).with_help(help));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_by_templates() {
        let dir = tempfile::tempdir().expect("tmp");
        let t = dir.path().join("a.yaml.j2");
        std::fs::write(
            &t,
            "replicas: {{ values.replicas }}\nimage: {{ values.image.tag | default('x') }}\n{% if values.ingress.enabled %}x{% endif %}\nvalues: not an expression\n",
        )
        .expect("write");
        let read = read_paths(std::slice::from_ref(&t)).expect("paths");
        let want: BTreeSet<Vec<String>> = [
            vec!["replicas"],
            vec!["image", "tag"],
            vec!["ingress", "enabled"],
        ]
        .iter()
        .map(|p| p.iter().map(|s| s.to_string()).collect())
        .collect();
        assert_eq!(read, want);
        for wholesale in [
            "{{ values | tojson }}",
            "{{ values['a'] }}",
            "{{ values.get('a') }}",
        ] {
            std::fs::write(&t, wholesale).expect("write");
            assert_eq!(read_paths(std::slice::from_ref(&t)), None, "{wholesale}");
        }
        assert_eq!(
            set_paths("a.b[0].c=1,d=2", "--set"),
            [vec!["a", "b", "c"], vec!["d"]]
        );
        assert_eq!(
            set_paths(r#"a={"x": 1, "y": 2},b.c=[3]"#, "--set-json"),
            [vec!["a"], vec!["b", "c"]]
        );
        assert_eq!(set_paths("a=x,y.txt", "--set-file"), [vec!["a"]]);
    }
}
