//! The values a layer sees: its own `values.yaml` under the values of the layer that
//! includes it (at the top, under `--values`, the Argo CD plugin's value layers and
//! `--set`), checked against every `values.schema.json` on the inclusion path before any
//! template of the layer runs.

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
                for s in &self.values.set {
                    v = v.set(s, false)?;
                }
                for s in &self.values.set_string {
                    v = v.set(s, true)?;
                }
                v
            }
        };
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
        let seen = merged.without_nulls();
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

    /// The values of the environment's top layer (for `strata values`).
    pub fn top_values(mut self) -> Result<Values> {
        let top = self.top.clone();
        let v = self.layer_values(&top)?;
        Ok(Arc::unwrap_or_clone(v.seen))
    }
}

/// A layer's values: merged with the layers above it, and as its templates see them.
pub struct LayerValues {
    pub merged: Arc<Values>,
    pub seen: Arc<Values>,
    pub schema: Option<Arc<Schema>>,
}
