//! An ordered collection of resources with id checks.
//!
//! Order is input order (what `--reorder none` prints); the legacy sort happens once, in
//! emit. Adding a resource whose id is already present is an error naming both origins.
//! Lookups by id go through a hash index built per batch, never a scan per resource.

use super::{ResId, Resource};
use crate::error::{Error, Location, Result};
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct ResMap {
    pub items: Vec<Resource>,
}

type Key = (String, String, String, String, String);

fn key(id: &ResId) -> Key {
    (
        id.gvk.group.clone(),
        id.gvk.version.clone(),
        id.gvk.kind.clone(),
        id.effective_namespace().to_string(),
        id.name.clone(),
    )
}

impl ResMap {
    pub fn new() -> ResMap {
        ResMap::default()
    }

    /// Append resources, failing on the first id that is already present.
    pub fn append_all(&mut self, more: Vec<Resource>) -> Result<()> {
        let mut index: HashMap<Key, usize> = self
            .items
            .iter()
            .enumerate()
            .map(|(i, r)| (key(&r.id()), i))
            .collect();
        self.items.reserve(more.len());
        for r in more {
            let k = key(&r.id());
            if let Some(&i) = index.get(&k) {
                return Err(conflict(&self.items[i], &r));
            }
            index.insert(k, self.items.len());
            self.items.push(r);
        }
        Ok(())
    }

    /// Drop the objects `local` selects (local-config), as Kustomize's `IgnoreLocal` does:
    /// the others must have distinct ids, and an object with the id of one of them stays,
    /// local or not (the output order's check then refuses the pair; `fifo` prints both).
    pub fn drop_local(&mut self, local: impl Fn(&Resource) -> bool) -> Result<()> {
        let mut index: HashMap<Key, usize> = HashMap::with_capacity(self.items.len());
        for (i, r) in self.items.iter().enumerate() {
            if local(r) {
                continue;
            }
            let k = key(&r.id());
            if let Some(&j) = index.get(&k) {
                return Err(conflict(&self.items[j], r));
            }
            index.insert(k, i);
        }
        self.items
            .retain(|r| !local(r) || index.contains_key(&key(&r.id())));
        Ok(())
    }

    /// Fail if two resources now share an id (after a rename or a namespace change).
    pub fn check_unique(&self) -> Result<()> {
        let mut index: HashMap<Key, usize> = HashMap::with_capacity(self.items.len());
        for (i, r) in self.items.iter().enumerate() {
            if let Some(&j) = index.get(&key(&r.id())) {
                return Err(conflict(&self.items[j], r));
            }
            index.insert(key(&r.id()), i);
        }
        Ok(())
    }
}

fn conflict(first: &Resource, second: &Resource) -> Error {
    let id = second.id();
    Error::new(format!(
        "may not add resource with an already registered id: {id} (first from `{}`:{})",
        first.origin.file.display(),
        first.origin.line
    ))
    .at(Location {
        file: second.origin.file.clone(),
        line: second.origin.line,
        col: 1,
        offset: 0,
    })
    .with_help("give one of the two a different name or namespace, or include the base only once")
}
