//! Transformers: the `Transformer` trait, one module per built-in, and `configured`, which
//! runs the table of built-ins (`builtins.rs`: the one place their order is decided, and
//! which kustomization fields and plugin kinds configure each).
//!
//! `configured` reads a kustomization and returns the transformers it asks for, in
//! Kustomize's order: one per `patches`, `labels`, `patchesJson6902`, `replicas` and
//! `images` entry, and none for an empty field.

pub mod affix;
pub mod builtins;
pub mod config;
pub mod fieldspec;
pub mod generators;
pub mod hash;
pub mod helm;
pub mod images;
pub mod labels;
pub mod name_reference;
pub mod namespace;
pub mod patches;
pub mod plugins;
pub mod replacements;
pub mod replicas;
pub mod vars;

use crate::error::Result;
use crate::load::{Kustomization, Loader};
use crate::resource::ResMap;

/// One built-in transformer.
pub trait Transformer: Send + Sync {
    /// Kustomize's name for it, as `transformerAnnotations` prints it.
    fn kind(&self) -> &'static str;
    fn transform(&self, rm: &mut ResMap, warnings: &mut Vec<crate::warning::Warning>)
    -> Result<()>;
}

/// Fields that later stages will implement; until then strata refuses them rather than
/// render something different from Kustomize.
const NOT_YET: &[&str] = &["helmChartInflationGenerator"];

/// Refuse fields strata cannot render yet, naming the field and its line.
pub fn check_supported(k: &Kustomization) -> Result<()> {
    for f in NOT_YET {
        if k.has(f) {
            return Err(k
                .error(
                    &[f],
                    format!("`{f}` is not supported by this version of strata yet"),
                )
                .with_help("render this kustomization with `kubectl kustomize` for now"));
        }
    }
    Ok(())
}

/// The transformers a kustomization configures, in Kustomize's order (`builtins::BUILT_INS`).
pub fn configured(
    k: &Kustomization,
    loader: &Loader,
    strict: bool,
    config: &config::Config,
) -> Result<Vec<Box<dyn Transformer>>> {
    let layer = builtins::Layer {
        k,
        loader,
        strict,
        config,
    };
    let mut out = Vec::new();
    // A built-in runs when one of its fields is written.
    for b in builtins::BUILT_INS
        .iter()
        .filter(|b| b.fields.iter().any(|f| k.has(f)))
    {
        out.extend((b.from_fields)(&layer)?);
    }
    Ok(out)
}
