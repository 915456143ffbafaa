//! Printing resources as one YAML stream, exactly as `kubectl kustomize` does.
//!
//! Each resource is printed on its own by `yaml::to_yaml_string` (sorted keys, Kustomize's
//! quoting and folding) and the documents are joined with `---`; an empty build prints
//! nothing. `to_files` is the `-o DIR` form: one file per resource, named as Kustomize
//! names them.

use crate::resource::Resource;
use crate::yaml::to_yaml_string;
use rayon::prelude::*;

pub fn to_yaml(resources: &[Resource]) -> String {
    // Documents are printed in parallel and joined in order.
    let docs: Vec<String> = resources
        .par_iter()
        .map(|r| to_yaml_string(&r.doc))
        .collect();
    let mut out = String::with_capacity(docs.iter().map(|d| d.len() + 4).sum());
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(d);
    }
    out
}

/// `-o DIR`: (file name, content) for each resource, as `kubectl kustomize -o DIR` names them.
pub fn to_files(resources: &[Resource]) -> Vec<(String, String)> {
    resources
        .iter()
        .map(|r| {
            let id = r.id();
            let mut parts = Vec::new();
            if !id.gvk.group.is_empty() {
                parts.push(id.gvk.group.clone());
            }
            parts.push(id.gvk.version.clone());
            parts.push(id.gvk.kind.clone());
            parts.push(id.name.clone());
            let name = format!("{}.yaml", parts.join("_").to_lowercase());
            (name, to_yaml_string(&r.doc))
        })
        .collect()
}
