//! Values and templates: the Helm half of strata.
//!
//! A layer may hold `values.yaml` and `values.schema.json`; files whose name ends in `.j2`
//! (resources, patches, generator sources, `kustomization.yaml.j2`) are Jinja templates
//! rendered with the values the layer sees: the deep merge of the `values.yaml` files from
//! the layer out to the environment (outer wins), then `--values` files, then `--set`.
//! Plain files are never templated.

pub mod filters;
pub mod hints;
pub mod render;
pub mod schema;
pub mod values;

pub use values::{Source, Values};

use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};

/// What a layer's templates see: its values and the environment's name; and the layer's
/// directory, which their `include` names are resolved in.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub values: Arc<Values>,
    pub env: String,
    pub root: std::path::PathBuf,
    /// `key()`, computed the first time a template asks for it.
    key: OnceLock<u64>,
}

impl Ctx {
    pub fn new(values: Arc<Values>, env: &str, root: &std::path::Path) -> Ctx {
        Ctx {
            values,
            env: env.to_string(),
            root: root.to_path_buf(),
            key: OnceLock::new(),
        }
    }

    /// Identifies (values, env) for caches of rendered files. Only templated files need
    /// it, so layers without templates never print and hash their values.
    pub fn key(&self) -> u64 {
        *self.key.get_or_init(|| {
            if self.values.is_empty() && self.env.is_empty() {
                return 0;
            }
            let tree = crate::yaml::Value::Map(self.values.tree.clone());
            let text = crate::yaml::to_yaml_string(&tree);
            let digest = Sha256::digest(format!("{}\n{text}", self.env).as_bytes());
            u64::from_le_bytes(digest[..8].try_into().unwrap_or([0; 8]))
        })
    }
}

/// Whether a file is a template.
pub fn is_template(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "j2")
}
