//! The options of a build that do not come from the kustomization files: the output order,
//! strictness, Helm, the values given on the command line, and the budgets.

use super::Reorder;
use crate::template::Values;
use crate::transform;
use std::path::PathBuf;
use std::sync::Arc;

/// Options of a build that do not come from the kustomization files.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub reorder: Reorder,
    /// Turn strata's extra warnings (a patch target matching nothing) into errors.
    pub strict: bool,
    /// `--enable-helm` and `--helm-command`.
    pub helm: transform::helm::HelmOptions,
    /// `--values`, `--set`, `--set-string`.
    pub values: ValuesOptions,
    /// The environment's name as templates see it (`env`); default: the directory's name.
    pub env: Option<String>,
    /// Budgets on input-driven work.
    pub limits: Limits,
    /// Where to note each layer's directory and the values its templates see, in the order
    /// the layers are entered (`strata values`).
    pub record_values: Option<ValuesRecord>,
}

/// The values each layer of a build saw: (directory, values).
pub type ValuesRecord = Arc<std::sync::Mutex<Vec<(PathBuf, Values)>>>;

/// Budgets on the work an input can cause; each exceeded limit is an error naming the flag
/// that raises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest chain of included layers (`--max-depth`).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_depth: 200 }
    }
}

/// Values given on the command line, applied over the environment's own values.
#[derive(Debug, Clone, Default)]
pub struct ValuesOptions {
    /// `--values FILE` / `-f FILE`, in order.
    pub files: Vec<PathBuf>,
    /// `--set a.b=v`, in order.
    pub set: Vec<String>,
    /// `--set-string a.b=v`, in order (after `--set`).
    pub set_string: Vec<String>,
    /// `--set-json a.b=JSON`, in order (before `--set`, as Helm).
    pub set_json: Vec<String>,
    /// `--set-file a.b=FILE`, in order (after `--set-string`, as Helm).
    pub set_file: Vec<String>,
    /// Values laid over the `--values` files and under `--set`, in order (the Argo CD
    /// plugin's parameters).
    pub layers: Vec<crate::template::Values>,
}
