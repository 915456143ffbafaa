//! Pairing the objects of two renders: by id, then generated names by their stem.
//!
//! An id is (API group, kind, namespace, name): the version is left out, so an object moved
//! from `apps/v1beta1` to `apps/v1` is one object that changed. Objects left over on both
//! sides are paired when their names differ only in a Kustomize hash suffix (`-` and ten
//! characters of the suffix alphabet) and exactly one object on each side has that stem:
//! a ConfigMap generator whose content changed renames its ConfigMap. Everything is hash
//! maps and one pass per side; the pairs come in the order of the new side, then the
//! removed objects in the order of the old side.

use crate::yaml::Value;
use rustc_hash::FxHashMap;

/// Two paired objects (indices into the old and new lists), or one without a partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub old: Option<usize>,
    pub new: Option<usize>,
    /// Paired through the hash suffix of their names.
    pub renamed: bool,
}

type Key<'a> = (&'a str, &'a str, &'a str, &'a str);

fn key(v: &Value) -> Key<'_> {
    let api = v.str_at(&["apiVersion"]).unwrap_or("");
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = v.str_at(&["kind"]).unwrap_or("");
    let ns = v.str_at(&["metadata", "namespace"]).unwrap_or("");
    let name = v.str_at(&["metadata", "name"]).unwrap_or("");
    (group, kind, ns, name)
}

/// `name` without its Kustomize hash suffix, if it has one.
pub fn stem(name: &str) -> Option<&str> {
    let (stem, suffix) = name.rsplit_once('-')?;
    let hashed = suffix.len() == 10
        && suffix.bytes().all(|b| b"2456789bcdfghkmt".contains(&b))
        // A real suffix has letters and digits almost always; ten digits is a number.
        && suffix.bytes().any(|b| b.is_ascii_lowercase());
    (hashed && !stem.is_empty()).then_some(stem)
}

/// Pair `old` with `new`.
pub fn pair(old: &[&Value], new: &[&Value]) -> Vec<Pair> {
    let mut by_id: FxHashMap<Key, usize> = FxHashMap::default();
    by_id.reserve(old.len());
    for (i, v) in old.iter().enumerate() {
        // A duplicate id (possible in a hand-written file) keeps its first object.
        by_id.entry(key(v)).or_insert(i);
    }
    let mut old_used = vec![false; old.len()];
    let mut out: Vec<Pair> = Vec::with_capacity(new.len().max(old.len()));
    let mut new_left: Vec<usize> = Vec::new();
    for (j, v) in new.iter().enumerate() {
        match by_id.get(&key(v)) {
            Some(&i) if !old_used[i] => {
                old_used[i] = true;
                out.push(Pair {
                    old: Some(i),
                    new: Some(j),
                    renamed: false,
                });
            }
            _ => {
                new_left.push(out.len());
                out.push(Pair {
                    old: None,
                    new: Some(j),
                    renamed: false,
                });
            }
        }
    }
    // Leftovers by stem: (group, kind, namespace, stem) → the leftover objects of each side.
    let old_stems = stems(old, (0..old.len()).filter(|&i| !old_used[i]));
    let new_stems = stems(new, new_left.iter().filter_map(|&p| out[p].new));
    if !old_stems.is_empty() && !new_stems.is_empty() {
        let mut slot_of_new: FxHashMap<usize, usize> = FxHashMap::default();
        for &p in &new_left {
            if let Some(j) = out[p].new {
                slot_of_new.insert(j, p);
            }
        }
        for (k, news) in &new_stems {
            let Some(olds) = old_stems.get(k) else {
                continue;
            };
            if let ([i], [j]) = (olds.as_slice(), news.as_slice()) {
                old_used[*i] = true;
                if let Some(&p) = slot_of_new.get(j) {
                    out[p].old = Some(*i);
                    out[p].renamed = true;
                }
            }
        }
    }
    for (i, used) in old_used.iter().enumerate() {
        if !used {
            out.push(Pair {
                old: Some(i),
                new: None,
                renamed: false,
            });
        }
    }
    out
}

/// The objects of `side` listed by `items` whose names have a hash suffix, by stem.
fn stems<'a>(
    side: &[&'a Value],
    items: impl Iterator<Item = usize>,
) -> FxHashMap<Key<'a>, Vec<usize>> {
    let mut m: FxHashMap<Key<'a>, Vec<usize>> = FxHashMap::default();
    for i in items {
        let (g, k, ns, name) = key(side[i]);
        if let Some(s) = stem(name) {
            m.entry((g, k, ns, s)).or_default().push(i);
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::test_doc;

    fn obj(kind: &str, name: &str) -> Value {
        test_doc(&format!(
            "apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n"
        ))
    }

    #[test]
    fn stems_are_kustomize_hash_suffixes() {
        for (name, want) in [
            ("web-env-7f2k9m4b8c", Some("web-env")),
            ("web-env-g2k9h4t8cd", Some("web-env")),
            ("web-env-1234567890", None),
            ("web-env-abcdefghij", None),
            ("web-env-7f2k9m4b8", None),
            ("web", None),
            ("-7f2k9m4b8c", None),
        ] {
            assert_eq!(stem(name), want, "{name}");
        }
    }

    #[test]
    fn pairs_by_id_then_by_stem() {
        let old = [
            obj("ConfigMap", "env-7f2k9m4b8c"),
            obj("Service", "web"),
            obj("Service", "gone"),
            obj("Secret", "creds"),
        ];
        let new = [
            obj("Service", "web"),
            obj("ConfigMap", "env-b8c7f2k9m4"),
            obj("Service", "fresh"),
            obj("Secret", "creds"),
        ];
        let o: Vec<&Value> = old.iter().collect();
        let n: Vec<&Value> = new.iter().collect();
        let p = |old: Option<usize>, new: Option<usize>, renamed: bool| Pair { old, new, renamed };
        assert_eq!(
            pair(&o, &n),
            vec![
                p(Some(1), Some(0), false),
                p(Some(0), Some(1), true),
                p(None, Some(2), false),
                p(Some(3), Some(3), false),
                p(Some(2), None, false),
            ]
        );
    }

    #[test]
    fn two_candidates_for_one_stem_stay_unpaired() {
        let old = [
            obj("ConfigMap", "env-7f2k9m4b8c"),
            obj("ConfigMap", "env-7f2k9m4b8d"),
        ];
        let new = [obj("ConfigMap", "env-b8c7f2k9m4")];
        let o: Vec<&Value> = old.iter().collect();
        let n: Vec<&Value> = new.iter().collect();
        assert!(pair(&o, &n).iter().all(|p| !p.renamed));
    }
}
