//! `commonLabels:`, `labels:` and `commonAnnotations:` — add key/value pairs to maps.
//!
//! One transformer serves all three: it sets each pair in the map found at every field
//! spec that selects the object, creating the map where the spec says so. `commonLabels`
//! reaches selectors and pod templates (Kustomize's commonLabels table); a `labels:` entry
//! reaches `metadata.labels` only, plus templates with `includeTemplates`, plus selectors
//! with `includeSelectors`, plus its own `fields`.

use super::Transformer;
use super::fieldspec::{Create, FieldSpec, walk_at};
use crate::error::{Error, Result};
use crate::resource::ResMap;
use crate::yaml::PathSeg;
use crate::yaml::Value;

/// The pairs of a `commonLabels:`/`commonAnnotations:`/`labels[].pairs` map or a
/// LabelTransformer's `labels:` (an AnnotationsTransformer's `annotations:`), its types
/// already checked (`load::field_types`): a null value is the empty string.
pub fn pairs(map: Option<&Value>) -> Vec<(String, String)> {
    map.and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.scalar_text().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

pub struct MapEntries {
    pub kind: &'static str,
    pub pairs: Vec<(String, String)>,
    pub specs: Vec<FieldSpec>,
}

impl Transformer for MapEntries {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn transform(
        &self,
        rm: &mut ResMap,
        _warnings: &mut Vec<crate::warning::Warning>,
    ) -> Result<()> {
        if self.pairs.is_empty() {
            return Ok(());
        }
        for r in &mut rm.items {
            let gvk = r.gvk();
            let before = r.alias_snapshot();
            // Where each key was created: kyaml gives those places one shared node.
            let mut created: Vec<Vec<Vec<PathSeg>>> = vec![Vec::new(); self.pairs.len()];
            for spec in &self.specs {
                if !spec.selects(&gvk) {
                    continue;
                }
                let create = spec.create.then_some(Create::Map);
                if spec.path.iter().all(String::is_empty) {
                    return Err(super::fieldspec::empty_path());
                }
                walk_at(
                    &mut r.doc,
                    &spec.path,
                    create,
                    &mut Vec::new(),
                    &mut |node, at| {
                        let Value::Map(m) = node else {
                            return Err(Error::new(format!(
                                "cannot add `{}` entries at `{}` of {}: the field is not a map",
                                self.kind,
                                spec.path_string(),
                                gvk.kind
                            )));
                        };
                        for (i, (k, v)) in self.pairs.iter().enumerate() {
                            if !m.contains_key(k) {
                                let mut p = at.to_vec();
                                p.push(PathSeg::Key(k.clone()));
                                created[i].push(p);
                            }
                            // A key Kustomize creates is written untagged: one that YAML reads as
                            // a number, boolean, null or date breaks kubectl's output.
                            if !m.contains_key(k) && !crate::yaml::plain_is_string(k) {
                                let what = match self.kind {
                                    "AnnotationsTransformer" => "annotation",
                                    _ => "label",
                                };
                                return Err(Error::new(format!(
                                "the {what} key `{k}` reads as a number, boolean, null or date in YAML"
                            ))
                            .with_help("kubectl fails on such a key (json: unsupported type); use a key that is not a number, boolean, null or date"));
                            }
                            m.insert(k.clone(), Value::Str(v.clone()));
                        }
                        Ok(())
                    },
                )?;
            }
            r.sync_aliases(before);
            r.aliases
                .extend(created.into_iter().filter(|places| places.len() > 1));
        }
        Ok(())
    }
}

/// Merge field specs as Kustomize's `FsSlice.MergeAll` does: skip exact repeats.
pub fn merge_specs(mut into: Vec<FieldSpec>, more: Vec<FieldSpec>) -> Vec<FieldSpec> {
    for s in more {
        let dup = into.iter().any(|e| {
            e.group == s.group && e.version == s.version && e.kind == s.kind && e.path == s.path
        });
        if !dup {
            into.push(s);
        }
    }
    into
}
