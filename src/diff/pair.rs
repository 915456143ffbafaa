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

/// How a pairing stage matches objects: by id, by id with the hash suffix stripped, and
/// (across namespaces) by group, kind and name, with and without the suffix.
#[derive(Debug, Clone, Copy)]
enum Stage {
    Same,
    Stem,
    Name,
    NameStem,
}

impl Stage {
    fn key(self, v: &Value) -> Option<Key<'_>> {
        let (g, k, ns, name) = key(v);
        match self {
            Stage::Same => Some((g, k, ns, name)),
            Stage::Stem => stem(name).map(|s| (g, k, ns, s)),
            Stage::Name => Some((g, k, "", name)),
            Stage::NameStem => stem(name).map(|s| (g, k, "", s)),
        }
    }
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

/// Pair `old` with `new`. With `across_namespaces` (two different environments), objects
/// left over are also paired by group, kind and name alone, then by stem alone.
pub fn pair(old: &[&Value], new: &[&Value], across_namespaces: bool) -> Vec<Pair> {
    let mut partner: Vec<Option<(usize, bool)>> = vec![None; new.len()];
    let mut old_used = vec![false; old.len()];
    let mut stages = vec![Stage::Same, Stage::Stem];
    if across_namespaces {
        stages.extend([Stage::Name, Stage::NameStem]);
    }
    for stage in stages {
        let renamed = matches!(stage, Stage::Stem | Stage::NameStem);
        let olds = unique(old, &old_used, stage);
        if olds.is_empty() {
            continue;
        }
        let taken: Vec<bool> = partner.iter().map(Option::is_some).collect();
        // Keys seen twice among the new leftovers pair with nothing.
        let news = unique(new, &taken, stage);
        for (k, j) in news {
            if let Some(&i) = olds.get(&k) {
                partner[j] = Some((i, renamed));
                old_used[i] = true;
            }
        }
    }
    let mut out: Vec<Pair> = partner
        .iter()
        .enumerate()
        .map(|(j, p)| Pair {
            old: p.map(|(i, _)| i),
            new: Some(j),
            renamed: p.is_some_and(|(_, r)| r),
        })
        .collect();
    out.extend(
        old_used
            .iter()
            .enumerate()
            .filter(|(_, used)| !**used)
            .map(|(i, _)| Pair {
                old: Some(i),
                new: None,
                renamed: false,
            }),
    );
    out
}

/// The objects of `side` not yet `used`, by `key_of`, for the keys exactly one of them
/// has. (Which order the map is filled or read in does not change the pairs.)
fn unique<'a>(side: &[&'a Value], used: &[bool], stage: Stage) -> FxHashMap<Key<'a>, usize> {
    let mut m: FxHashMap<Key<'a>, Option<usize>> = FxHashMap::default();
    for (i, v) in side.iter().enumerate().filter(|(i, _)| !used[*i]) {
        if let Some(k) = stage.key(v) {
            m.entry(k)
                .and_modify(|slot| *slot = None)
                .or_insert(Some(i));
        }
    }
    m.into_iter()
        .filter_map(|(k, i)| i.map(|i| (k, i)))
        .collect()
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
            pair(&o, &n, false),
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
    fn across_namespaces_pairs_by_name() {
        let ns = |name: &str, n: &str| {
            test_doc(&format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {n}\n"
            ))
        };
        let old = [ns("web", "staging"), ns("env-7f2k9m4b8c", "staging")];
        let new = [ns("env-b8c7f2k9m4", "prod"), ns("web", "prod")];
        let o: Vec<&Value> = old.iter().collect();
        let n: Vec<&Value> = new.iter().collect();
        assert_eq!(pair(&o, &n, false).len(), 4);
        let p = pair(&o, &n, true);
        assert_eq!(
            p,
            vec![
                Pair {
                    old: Some(1),
                    new: Some(0),
                    renamed: true
                },
                Pair {
                    old: Some(0),
                    new: Some(1),
                    renamed: false
                },
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
        assert!(pair(&o, &n, false).iter().all(|p| !p.renamed));
    }
}
