//! `namePrefix:` and `nameSuffix:` — rename every object.
//!
//! Kustomize leaves `Namespace`, `CustomResourceDefinition` and `APIService` objects alone
//! (selected by their original kind). Each rename stores the previous id and records the
//! prefix or suffix, which the name-reference fix-up uses to pick the right referral when
//! several objects had the same original name.

use super::Transformer;
use super::fieldspec::{FieldSpec, walk};
use crate::error::Result;
use crate::resource::{Gvk, ResMap};
use crate::yaml::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Prefix,
    Suffix,
}

pub struct Affix {
    pub side: Side,
    pub text: String,
    /// The fields to change (`metadata/name` unless `configurations:` say otherwise).
    pub specs: Vec<FieldSpec>,
}

fn skipped(gvk: &Gvk) -> bool {
    gvk.kind == "Namespace"
        || gvk.kind == "CustomResourceDefinition"
        || (gvk.kind == "APIService" && gvk.group == "apiregistration.k8s.io")
}

impl Transformer for Affix {
    fn kind(&self) -> &'static str {
        match self.side {
            Side::Prefix => "PrefixTransformer",
            Side::Suffix => "SuffixTransformer",
        }
    }

    fn transform(
        &self,
        rm: &mut ResMap,
        _warnings: &mut Vec<crate::warning::Warning>,
    ) -> Result<()> {
        let affix = |name: &str| match self.side {
            Side::Prefix => format!("{}{name}", self.text),
            Side::Suffix => format!("{name}{}", self.text),
        };
        for r in &mut rm.items {
            let orig = r.orig_id().gvk;
            if skipped(&orig) {
                continue;
            }
            for spec in self.specs.iter().filter(|s| s.selects(&orig)) {
                if spec.path_string() == "metadata/name" {
                    if !self.text.is_empty() {
                        match self.side {
                            Side::Prefix => push_exact(&mut r.prefixes, &self.text),
                            Side::Suffix => push_exact(&mut r.suffixes, &self.text),
                        }
                        r.store_previous_id();
                    }
                    if r.doc.get("metadata").and_then(|m| m.get("name")).is_some() {
                        let renamed = affix(&r.name());
                        r.set_name(&renamed);
                    }
                } else {
                    walk(&mut r.doc, &spec.path, None, &mut |node| {
                        if let Value::Str(s) = node {
                            *s = affix(s);
                        }
                        Ok(())
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// Push without growth slack: the lists live on every resource for the whole build.
fn push_exact(list: &mut Vec<String>, text: &str) {
    list.reserve_exact(1);
    list.push(text.to_string());
}
