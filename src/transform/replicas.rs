//! `replicas:` — set the replica count of workloads by name.
//!
//! A replica entry matches objects whose current or any previous name is the entry's name
//! and whose kind is in the replicas table (Deployment, ReplicaSet, ReplicationController,
//! StatefulSet); matching nothing is an error, as in Kustomize.

use super::Transformer;
use super::fieldspec::{Create, FieldSpec, walk};
use crate::error::{Error, Result};
use crate::resource::ResMap;
use crate::yaml::Value;

pub struct Replicas {
    pub name: String,
    pub count: i64,
    pub specs: Vec<FieldSpec>,
}

impl Transformer for Replicas {
    fn kind(&self) -> &'static str {
        "ReplicaCountTransformer"
    }

    fn transform(&self, rm: &mut ResMap, _warnings: &mut Vec<String>) -> Result<()> {
        let mut found = false;
        for spec in &self.specs {
            for r in &mut rm.items {
                let matches = r
                    .all_ids()
                    .any(|id| id.name == self.name && spec.selects(&id.gvk));
                if !matches {
                    continue;
                }
                found = true;
                let create = spec.create.then_some(Create::Scalar);
                walk(&mut r.doc, &spec.path, create, &mut |node| {
                    *node = Value::Int(self.count);
                    Ok(())
                })?;
            }
        }
        if !found {
            return Err(Error::new(format!(
                "resource with name `{}` does not match a Deployment, ReplicationController, ReplicaSet or StatefulSet",
                self.name
            ))
            .with_help("check the name under `replicas:` against the workloads of the build"));
        }
        Ok(())
    }
}
