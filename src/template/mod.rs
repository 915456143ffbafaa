//! Values and templates: the Helm half of strata.
//!
//! A layer may hold `values.yaml` and `values.schema.json`; files whose name ends in `.j2`
//! (resources, patches, generator sources, `kustomization.yaml.j2`) are Jinja templates
//! rendered with the values the layer sees: the deep merge of the `values.yaml` files from
//! the layer out to the environment (outer wins), then `--values` files, then `--set`.
//! Plain files are never templated.

pub mod render;
pub mod schema;
pub mod values;

pub use values::{Source, Values};

use sha2::{Digest, Sha256};
use std::sync::Arc;

/// What a layer's templates see: its values and the environment's name.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub values: Arc<Values>,
    pub env: String,
    /// Identifies (values, env) for caches of rendered files.
    pub key: u64,
}

impl Ctx {
    pub fn new(values: Arc<Values>, env: &str) -> Ctx {
        let key = if values.is_empty() && env.is_empty() {
            0
        } else {
            let text = crate::yaml::to_yaml_string(&crate::yaml::Value::Map(values.tree.clone()));
            let digest = Sha256::digest(format!("{env}\n{text}").as_bytes());
            u64::from_le_bytes(digest[..8].try_into().unwrap_or([0; 8]))
        };
        Ctx {
            values,
            env: env.to_string(),
            key,
        }
    }
}

/// Whether a file is a template.
pub fn is_template(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "j2")
}
