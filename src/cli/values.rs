//! `strata values ENV`: what the environment's templates see, layer by layer. A plan build
//! (nothing is built) notes the values each layer's templates see; the environment's own
//! layer comes first, then every other layer that has a `values.yaml`, a schema or a
//! `.j2` file, by path. `--layer DIR` keeps one; `-o json` prints plain JSON.

use super::args::{ValuesCmd, ValuesOutput};
use super::report::shown;
use crate::template::Values;
use crate::{BuildOptions, Error, Loader};
use std::path::Path;

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

pub fn run(v: &ValuesCmd) -> Result<(), Vec<Error>> {
    let all = crate::render::environments(&v.root).map_err(|e| vec![e])?;
    let env = crate::render::select(all, std::slice::from_ref(&v.env))
        .map_err(|e| vec![e])?
        .remove(0);
    let mut found =
        crate::values(&env.dir, &v.env, &super::values_options(&v.values)).map_err(|e| vec![e])?;
    super::warn(&super::unused::check_with(&[&env.dir], &v.values, |dir| {
        let mut loader = Loader::default();
        loader.plan_only = true;
        let options = BuildOptions {
            values: super::values_options(&v.values),
            env: Some(v.env.clone()),
            ..BuildOptions::default()
        };
        crate::deps::deps(dir, &options, &loader, 1)
    }));
    let top = crate::resolve::absolute(&env.dir);
    match &v.layer {
        Some(dir) => {
            let want = crate::resolve::absolute(dir);
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
                crate::yaml::to_json(&crate::yaml::Value::Map(values.tree.clone()))
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
