//! The name-reference fix-up: after renames, make references follow the objects they name.
//!
//! For every (referred kind, referring field) pair of the name-reference table, each field
//! that names an object is matched against the objects' previous names, then narrowed the
//! way Kustomize narrows it (kind, `roleRef` kind, namespace reachability, matching
//! prefixes and suffixes). A unique match rewrites the field to the current name (and, for
//! `{name, namespace}` maps such as RBAC subjects, the current namespace).

use super::fieldspec::{FieldSpec, NameRef, walk};
use crate::error::{Error, Result};
use crate::resource::{Gvk, ResId, ResMap, Resource};
use crate::yaml::Value;
use std::collections::HashMap;

/// What the fix-up needs to know about a candidate, taken before any field changes.
struct Info {
    cur: ResId,
    orig: ResId,
    prev: Vec<ResId>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

impl Info {
    fn of(r: &Resource) -> Info {
        Info {
            cur: r.id(),
            orig: r.orig_id(),
            prev: r.prev_ids.clone(),
            prefixes: r.prefixes.clone(),
            suffixes: r.suffixes.clone(),
        }
    }
}

fn selected(sel: &FieldSpec, gvk: &Gvk) -> bool {
    sel.selects(gvk)
}

fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() > b.len() { (b, a) } else { (a, b) };
    let diff = long.len() - short.len();
    if short.is_empty() {
        return diff == 0;
    }
    short.iter().enumerate().all(|(i, s)| &long[i + diff] == s)
}

pub fn fix(rm: &mut ResMap, refs: &[NameRef]) -> Result<()> {
    let infos: Vec<Info> = rm.items.iter().map(Info::of).collect();
    let mut by_prev_name: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_orig_ns: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, info) in infos.iter().enumerate() {
        let mut names: Vec<&str> = info.prev.iter().map(|id| id.name.as_str()).collect();
        names.dedup();
        for n in names {
            let list = by_prev_name.entry(n).or_default();
            if list.last() != Some(&j) {
                list.push(j);
            }
        }
        if !info.orig.gvk.is_cluster_scoped() {
            by_orig_ns
                .entry(info.orig.effective_namespace())
                .or_default()
                .push(j);
        }
    }
    let index = Index {
        infos: &infos,
        by_prev_name,
        by_orig_ns,
    };
    for nref in refs {
        for spec in &nref.referrers {
            for (i, referrer) in infos.iter().enumerate() {
                if !selected(spec, &referrer.orig.gvk) {
                    continue;
                }
                let ctx = Ctx {
                    target: &nref.target,
                    referrer,
                    index: &index,
                    sa_namespaces: sa_namespaces(&rm.items[i]),
                    role_ref: role_ref_gvk(&rm.items[i], spec),
                };
                let r = &mut rm.items[i];
                walk(&mut r.doc, &spec.path, None, &mut |node| ctx.set(node)).map_err(|e| {
                    e.context(format!(
                        "updating name reference in `{}` of {}",
                        spec.path_string(),
                        referrer.cur
                    ))
                })?;
            }
        }
    }
    Ok(())
}

struct Index<'a> {
    infos: &'a [Info],
    by_prev_name: HashMap<&'a str, Vec<usize>>,
    by_orig_ns: HashMap<&'a str, Vec<usize>>,
}

/// The namespaces of a RoleBinding's ServiceAccount subjects (reachable across namespaces).
fn sa_namespaces(r: &Resource) -> Vec<String> {
    let mut out = Vec::new();
    if r.kind() == "RoleBinding"
        && let Some(Value::Seq(subjects)) = r.doc.get("subjects")
    {
        for s in subjects {
            if let (Some(ns), Some("ServiceAccount")) = (
                s.get("namespace").and_then(Value::as_str),
                s.get("kind").and_then(Value::as_str),
            ) {
                out.push(ns.to_string());
            }
        }
    }
    out
}

fn role_ref_gvk(r: &Resource, spec: &FieldSpec) -> Option<Gvk> {
    if !spec.path_string().ends_with("roleRef/name") {
        return None;
    }
    let role_ref = r.doc.get("roleRef")?;
    Some(Gvk {
        group: role_ref.get("apiGroup")?.scalar_text()?,
        version: String::new(),
        kind: role_ref.get("kind")?.scalar_text()?,
    })
}

struct Ctx<'a> {
    target: &'a FieldSpec,
    referrer: &'a Info,
    index: &'a Index<'a>,
    sa_namespaces: Vec<String>,
    role_ref: Option<Gvk>,
}

impl Ctx<'_> {
    /// Whether the referrer can refer to candidate `j` at all (Kustomize's
    /// `SubsetThatCouldBeReferencedByResource`).
    fn reachable(&self, j: usize) -> bool {
        let me = &self.referrer.cur;
        let id = &self.index.infos[j].cur;
        me.gvk.is_cluster_scoped()
            || id.gvk.is_cluster_scoped()
            || id.effective_namespace() == me.effective_namespace()
            || self.sa_namespaces.contains(&id.namespace)
    }

    fn named(&self, old: &str) -> Vec<usize> {
        self.index
            .by_prev_name
            .get(old)
            .map(|v| v.iter().copied().filter(|&j| self.reachable(j)).collect())
            .unwrap_or_default()
    }

    fn set(&self, node: &mut Value) -> Result<()> {
        match node {
            Value::Null => Ok(()),
            Value::Map(_) => self.set_mapping(node),
            Value::Seq(items) => {
                for item in items {
                    match item {
                        Value::Map(_) => self.set_mapping(item)?,
                        Value::Seq(_) | Value::Null => {}
                        _ => self.set_scalar(item)?,
                    }
                }
                Ok(())
            }
            _ => self.set_scalar(node),
        }
    }

    fn set_scalar(&self, node: &mut Value) -> Result<()> {
        let Some(old) = node.scalar_text() else {
            return Ok(());
        };
        let Some(j) = self.select(&old, self.named(&old), false)? else {
            return Ok(());
        };
        let name = &self.index.infos[j].cur.name;
        if *name != old {
            *node = Value::Str(name.clone());
        }
        Ok(())
    }

    fn set_mapping(&self, node: &mut Value) -> Result<()> {
        let Some(old) = node.get("name").and_then(Value::scalar_text) else {
            return Err(Error::new("path config error; no 'name' field in node"));
        };
        let named = self.named(&old);
        let candidates: Vec<usize> = match node.get("namespace").and_then(Value::scalar_text) {
            None => named,
            Some(ns) => {
                let infos = self.index.infos;
                let in_ns =
                    |id: &ResId| !id.gvk.is_cluster_scoped() && id.effective_namespace() == ns;
                // Kustomize groups the reachable candidates by original namespace first and
                // falls back to current namespaces when none was originally there.
                let any_orig = self
                    .index
                    .by_orig_ns
                    .get(ns.as_str())
                    .is_some_and(|v| v.iter().any(|&j| self.reachable(j)));
                named
                    .into_iter()
                    .filter(|&j| {
                        if any_orig {
                            in_ns(&infos[j].orig)
                        } else {
                            in_ns(&infos[j].cur)
                        }
                    })
                    .collect()
            }
        };
        let Some(j) = self.select(&old, candidates, true)? else {
            return Ok(());
        };
        let referral = &self.index.infos[j].cur;
        if referral.name == old && referral.namespace.is_empty() {
            return Ok(());
        }
        if let Value::Map(m) = node {
            m.insert("name".to_string(), Value::Str(referral.name.clone()));
            if !referral.namespace.is_empty() {
                m.insert(
                    "namespace".to_string(),
                    Value::Str(referral.namespace.clone()),
                );
            }
        }
        Ok(())
    }

    fn select(&self, old: &str, candidates: Vec<usize>, with_ns: bool) -> Result<Option<usize>> {
        let infos = self.index.infos;
        let referrer_cluster = self.referrer.cur.gvk.is_cluster_scoped();
        let c: Vec<usize> = candidates
            .into_iter()
            .filter(|&j| {
                infos[j]
                    .prev
                    .iter()
                    .any(|id| selected(self.target, &id.gvk))
            })
            .filter(|&j| match &self.role_ref {
                None => true,
                Some(g) => infos[j].prev.iter().any(|id| {
                    (g.group.is_empty() || g.group == id.gvk.group)
                        && (g.kind.is_empty() || g.kind == id.gvk.kind)
                }),
            })
            .filter(|&j| {
                let id = &infos[j].cur;
                referrer_cluster
                    || id.gvk.is_cluster_scoped()
                    || id.gvk.kind == "ServiceAccount"
                    || id.effective_namespace() == self.referrer.cur.effective_namespace()
            })
            .collect();
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        // Kustomize narrows twice: first to candidates sharing the referrer's prefixes
        // or its suffixes, then to those sharing both.
        let affixes = |j: usize, both: bool| {
            let p = same_ending(&infos[j].prefixes, &self.referrer.prefixes);
            let s = same_ending(&infos[j].suffixes, &self.referrer.suffixes);
            if both { p && s } else { p || s }
        };
        let c: Vec<usize> = c.into_iter().filter(|&j| affixes(j, false)).collect();
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        let c: Vec<usize> = c.into_iter().filter(|&j| affixes(j, true)).collect();
        match c.len() {
            0 => Ok(None),
            1 => Ok(Some(c[0])),
            _ => {
                let first = &infos[c[0]].cur;
                let identical = c.iter().all(|&j| {
                    let id = &infos[j].cur;
                    id.name == first.name && (!with_ns || id.namespace == first.namespace)
                });
                if identical {
                    Ok(Some(c[0]))
                } else {
                    let ids: Vec<String> = c.iter().map(|&j| infos[j].cur.to_string()).collect();
                    Err(Error::new(format!(
                        "found multiple possible referrals for `{old}`: {}",
                        ids.join(", ")
                    ))
                    .with_help(
                        "give the objects distinct names, or build them in separate kustomizations",
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_ending_sub_slices() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(same_ending(&v(&["a", "b", "c"]), &v(&["b", "c"])));
        assert!(!same_ending(&v(&["a", "b", "c"]), &v(&["a", "b"])));
        assert!(!same_ending(&v(&[]), &v(&["a"])));
        assert!(same_ending(&v(&[]), &v(&[])));
    }
}
