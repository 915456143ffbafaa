//! `values.schema.json`: JSON Schema checks of the values a layer sees, before any
//! template runs.
//!
//! Every violation is reported with the key path, the rule that failed, and the values file
//! and line the offending value came from (values remember their origin through merges).

use super::Values;
use crate::error::{Error, Result};
use crate::yaml::Value;
use std::path::Path;
use std::sync::Arc;

/// A compiled schema and the file it came from.
pub struct Schema {
    pub display: String,
    validator: jsonschema::Validator,
}

impl Schema {
    pub fn load(file: &Path, display: &str) -> Result<Arc<Schema>> {
        let text = crate::fs::read_text(file)?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::new(format!("`{display}` is not valid JSON: {e}"))
                .at(crate::error::Location {
                    file: file.to_path_buf(),
                    line: e.line(),
                    col: e.column(),
                    offset: 0,
                })
                .with_help("values.schema.json is a JSON Schema document")
        })?;
        let validator = jsonschema::validator_for(&json).map_err(|e| {
            Error::new(format!("`{display}` is not a valid JSON Schema: {e}"))
                .in_file(file)
                .with_help("check the schema against the JSON Schema specification")
        })?;
        Ok(Arc::new(Schema {
            display: display.to_string(),
            validator,
        }))
    }

    /// Every violation of this schema by `values`.
    pub fn check(&self, values: &Values) -> Vec<Error> {
        let instance = crate::yaml::to_json(&Value::Map(values.tree.clone()));
        self.validator
            .iter_errors(&instance)
            .map(|e| {
                let pointer = e.instance_path().to_string();
                let path = crate::pointer::tokens(&pointer).unwrap_or_default();
                let key = if path.is_empty() {
                    "(values)".to_string()
                } else {
                    path.join(".")
                };
                let origin = values
                    .origin(&path)
                    .map(|o| format!(" (from {o})"))
                    .unwrap_or_default();
                let mut err =
                    Error::new(format!("values key `{key}`{origin}: {e}")).with_help(format!(
                        "`{}` requires this ({} rule)",
                        self.display,
                        e.kind().keyword()
                    ));
                if let Some(loc) = values.location(&path) {
                    err = err.at(loc);
                }
                err
            })
            .collect()
    }
}
