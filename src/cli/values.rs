//! `strata values ENV`: what the environment's templates see, layer by layer. A plan build
//! (nothing is built) notes the values each layer's templates see; the environment's own
//! layer comes first, then every other layer that has a `values.yaml`, a schema or a
//! `.j2` file, by path. `--layer DIR` keeps one; `-o json` prints plain JSON.

use super::args::{ValuesCmd, ValuesOutput};
use super::report::shown;
use std::path::{Path, PathBuf};
use strata::template::Values;
use strata::{BuildOptions, Error, Loader};

fn templated(dir: &Path) -> bool {
    if dir.join("values.yaml").is_file() || dir.join("values.schema.json").is_file() {
        return true;
    }
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(std::result::Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".j2"))
    })
}

fn real(p: &Path) -> PathBuf {
    strata::fs::real(p)
        .ok()
        .flatten()
        .unwrap_or_else(|| p.to_path_buf())
}

/// The layers of `dir`'s build and the values each sees, the top layer first.
pub fn layers(
    dir: &Path,
    env: &str,
    values: strata::resolve::ValuesOptions,
) -> Result<Vec<(PathBuf, Values)>, Vec<Error>> {
    let mut loader = Loader::default();
    loader.plan_only = true;
    let record = strata::resolve::ValuesRecord::default();
    let options = BuildOptions {
        values,
        env: Some(env.to_string()),
        record_values: Some(record.clone()),
        ..BuildOptions::default()
    };
    strata::build(dir, &options, &loader).map_err(|e| vec![e])?;
    let mut seen = record.lock().map(|r| r.clone()).unwrap_or_default();
    let top = real(dir);
    // Layers built in parallel noted themselves in any order: sort, the top first.
    seen.sort_by(|a, b| (a.0 != top, &a.0).cmp(&(b.0 != top, &b.0)));
    seen.dedup_by(|a, b| a.0 == b.0 && a.1.annotated() == b.1.annotated());
    Ok(seen)
}

pub fn run(v: &ValuesCmd) -> Result<(), Vec<Error>> {
    let all = strata::render::environments(&v.root).map_err(|e| vec![e])?;
    let env = strata::render::select(all, std::slice::from_ref(&v.env))
        .map_err(|e| vec![e])?
        .remove(0);
    let mut found = layers(&env.dir, &v.env, super::values_options(&v.values))?;
    super::warn(&super::unused::check_with(&[&env.dir], &v.values, |dir| {
        let mut loader = Loader::default();
        loader.plan_only = true;
        let options = BuildOptions {
            values: super::values_options(&v.values),
            env: Some(v.env.clone()),
            ..BuildOptions::default()
        };
        strata::deps::deps(dir, &options, &loader, 1)
    }));
    let top = real(&env.dir);
    match &v.layer {
        Some(dir) => {
            let want = real(dir);
            let names: Vec<String> = found
                .iter()
                .map(|(d, _)| format!("`{}`", shown(d)))
                .collect();
            found.retain(|(d, _)| *d == want);
            if found.is_empty() {
                return Err(vec![
                    Error::new(format!(
                        "`{}` is not a layer of environment `{}`",
                        shown(dir),
                        v.env
                    ))
                    .with_help(format!("its layers: {}", names.join(", "))),
                ]);
            }
            found.truncate(1);
        }
        None => found.retain(|(d, _)| *d == top || templated(d)),
    }
    let text = match v.output {
        ValuesOutput::Yaml => {
            let mut out = String::new();
            for (i, (dir, values)) in found.iter().enumerate() {
                if v.layer.is_none() {
                    if i > 0 {
                        out.push_str("---\n");
                    }
                    out.push_str(&format!("# layer {}\n", shown(dir)));
                }
                out.push_str(&values.annotated());
            }
            out
        }
        ValuesOutput::Json => {
            let json = |values: &Values| {
                strata::template::schema::to_json(&strata::yaml::Value::Map(values.tree.clone()))
            };
            let doc = match (&v.layer, found.first()) {
                (Some(_), Some((_, values))) => json(values),
                _ => serde_json::Value::Array(
                    found
                        .iter()
                        .map(|(d, values)| serde_json::json!({"layer": shown(d), "values": json(values)}))
                        .collect(),
                ),
            };
            let mut text = serde_json::to_string_pretty(&doc)
                .map_err(|e| vec![Error::new(format!("cannot print the values: {e}"))])?;
            text.push('\n');
            text
        }
    };
    super::print(&text)
}
