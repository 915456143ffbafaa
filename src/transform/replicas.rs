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

/// A replica `count` as Kustomize decodes it: a whole number, `2.0` included; absent is 0.
pub fn count_of(v: Option<&Value>) -> std::result::Result<i64, String> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Int(n)) => Ok(*n),
        #[allow(
            clippy::cast_possible_truncation,
            reason = "a whole number within i64's range: the guard checks both"
        )]
        Some(Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(*f as i64),
        Some(other) => Err(format!(
            "`count` must be a whole number, found {}",
            match other {
                Value::Float(f) => f.to_string(),
                other => crate::load::kustomization::describe(other).to_string(),
            }
        )),
    }
}

/// A `replicas:` entry or a ReplicaCountTransformer's `replica:`: a name and a count
/// (types already checked, `load::field_types`); an error names the field at fault.
pub fn from_entry(entry: Option<&Value>, specs: Vec<FieldSpec>) -> Result<Replicas, Misread> {
    let name = entry
        .and_then(|e| e.get("name"))
        .and_then(Value::scalar_text)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Misread {
            field: "name",
            message: "a replica count needs the `name` of its workload".into(),
            help: "write `name: my-deployment` beside `count: 3`",
        })?;
    let count = count_of(entry.and_then(|e| e.get("count"))).map_err(|message| Misread {
        field: "count",
        message,
        help: "write the count without quotes, e.g. `count: 3`",
    })?;
    Ok(Replicas { name, count, specs })
}

/// What is wrong with a replica entry: the field, the message, the help.
pub struct Misread {
    pub field: &'static str,
    pub message: String,
    pub help: &'static str,
}

impl Misread {
    pub fn error(self) -> Error {
        Error::new(self.message).with_help(self.help)
    }
}

pub struct Replicas {
    pub name: String,
    pub count: i64,
    pub specs: Vec<FieldSpec>,
}

impl Transformer for Replicas {
    fn kind(&self) -> &'static str {
        "ReplicaCountTransformer"
    }

    fn transform(
        &self,
        rm: &mut ResMap,
        _warnings: &mut Vec<crate::warning::Warning>,
    ) -> Result<()> {
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
                // Kustomize sets the node to an `!!int` and keeps the node's style: over a
                // quoted string (`"3"`, as written or as a JSON patch's string that needs
                // quotes) the count prints as the string `"2"`, over a plain one (`prod`) as a
                // number. A field created here (an empty placeholder) is a number, and so is
                // one where a replacement left text it could not type (the node is a number).
                let misfits: Vec<&str> = r.misfits.iter().map(|m| m.text.as_str()).collect();
                let id = r.id();
                let path: Vec<crate::yaml::PathSeg> = spec
                    .path
                    .iter()
                    .map(|k| crate::yaml::PathSeg::Key(k.clone()))
                    .collect();
                let current = spec
                    .path
                    .iter()
                    .try_fold(&r.doc, |v, k| v.get(k))
                    .and_then(Value::as_str);
                let quoted = current.is_some_and(|s| {
                    crate::patch::smp::Walk::look_in(r, &path, s) != crate::yaml::Look::Plain
                });
                walk(&mut r.doc, &spec.path, create, &mut |node| {
                    if matches!(node, Value::Map(_) | Value::Seq(_)) {
                        return Err(Error::new(format!(
                            "`{}` of {id} is {}, not a number",
                            spec.path.join("."),
                            crate::load::kustomization::describe(node)
                        ))
                        .with_help("a patch made it so; set the replica count with a number"));
                    }
                    *node = match node {
                        Value::Str(s) if !misfits.contains(&s.as_str()) && quoted => {
                            Value::Str(self.count.to_string())
                        }
                        _ => Value::Int(self.count),
                    };
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
