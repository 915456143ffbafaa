//! The values a layer sees: its own `values.yaml` under the values of the layer that
//! includes it (at the top, under `--values`, the Argo CD plugin's value layers and
//! `--set`), checked against every `values.schema.json` on the inclusion path before any
//! template of the layer runs.

use super::set::Kind;
use super::{Builder, shown};
use crate::error::{Error, Result};
use crate::template::Values;
use crate::template::schema::Schema;
use std::path::Path;
use std::sync::Arc;

impl Builder<'_> {
    /// The values of the layer in `dir`: its own `values.yaml` under the values of the layer
    /// that includes it (at the top: under `--values` files and `--set`), checked against
    /// every `values.schema.json` on the inclusion path. Returned as merged (what included
    /// layers build on) and without nulls (what this layer's templates see).
    pub fn layer_values(&mut self, dir: &Path) -> Result<LayerValues> {
        let file = dir.join("values.yaml");
        let own = if self.loader.has_file(dir, "values.yaml") {
            let display = shown(&file);
            let real = self
                .loader
                .file(dir, "values.yaml")
                .map_err(|e| e.in_file(&file))?
                .unwrap_or_else(|| file.clone());
            let text = crate::load::read_text(&real)?;
            Values::from_path_in(Some(&file), &display, text, &self.loader.aliases)
                .map_err(|e| e.in_file(&file))?
        } else {
            Values::empty()
        };
        let merged = match self.value_stack.last() {
            Some(parent) => own.overlay(parent),
            None => {
                let mut v = own;
                for f in &self.values.files {
                    let display = f.display().to_string();
                    let text = crate::load::read_text(f)?;
                    let layer = Values::from_path_in(Some(f), &display, text, &self.loader.aliases)
                        .map_err(|e| e.in_file(f))?;
                    v = v.overlay(&layer);
                }
                for layer in &self.values.layers {
                    v = v.overlay(layer);
                }
                for (s, kind) in self.assignments(false) {
                    v = super::set::apply(&v, s, kind)?;
                }
                v
            }
        };
        // An assignment with a list index (`ports[1]=x`) edits the list as this layer
        // sees it, which may come from this layer's own values: it is applied at every
        // layer, over what the layer sees, and never handed down.
        let mut effective = None;
        for (s, kind) in self.assignments(true) {
            let v = effective.as_ref().unwrap_or(&merged);
            effective = Some(super::set::apply(v, s, kind)?);
        }
        let schema_file = dir.join("values.schema.json");
        let schema = if self.loader.has_file(dir, "values.schema.json") {
            let real = self
                .loader
                .file(dir, "values.schema.json")
                .map_err(|e| e.in_file(&schema_file))?
                .unwrap_or_else(|| schema_file.clone());
            Some(self.loader.schema(&real, &shown(&schema_file))?)
        } else {
            None
        };
        let seen = effective.as_ref().unwrap_or(&merged).without_nulls();
        let mut problems = Vec::new();
        for s in self.schema_stack.iter().chain(schema.iter()) {
            problems.extend(s.check(&seen));
        }
        if let Some(first) = problems.first() {
            let mut message = format!(
                "values of `{}` do not satisfy their schema: {}",
                shown(dir),
                first.message
            );
            for p in &problems[1..] {
                message.push_str(&format!("\n  {}", p.message));
            }
            let mut err = Error::new(message);
            err.help = first.help.clone();
            err.location = first.location.clone();
            err.file = first.file.clone();
            return Err(err);
        }
        Ok(LayerValues {
            merged: Arc::new(merged),
            seen: Arc::new(seen),
            schema,
        })
    }

    /// The command line's assignments in Helm's order (`--set-json`, `--set`,
    /// `--set-string`, `--set-file`): those with a list index, or those without.
    fn assignments(&self, indexed: bool) -> Vec<(&str, Kind)> {
        let v = &self.values;
        [
            (&v.set_json, Kind::Json),
            (&v.set, Kind::Typed),
            (&v.set_string, Kind::Str),
            (&v.set_file, Kind::File),
        ]
        .into_iter()
        .flat_map(|(flags, kind)| flags.iter().map(move |s| (s.as_str(), kind)))
        .filter(|(s, _)| super::set::has_index(s) == indexed)
        .collect()
    }
}

/// A layer's values: merged with the layers above it, and as its templates see them.
pub struct LayerValues {
    pub merged: Arc<Values>,
    pub seen: Arc<Values>,
    pub schema: Option<Arc<Schema>>,
}
