//! Secrets never print in clear: before a Secret is printed for a diff, every value of its
//! `data` and `stringData` (and a `last-applied-configuration` annotation, which holds
//! them too) becomes a marker. A value equal on both sides is `**** (unchanged)` on both; a
//! changed, added or removed one is `---- (changed)` before and `++++ (changed)` after, so
//! the diff shows which keys changed and nothing of what they hold.

use crate::yaml::{Map, Value};

pub const UNCHANGED: &str = "**** (unchanged)";
pub const CHANGED: &str = "++++ (changed)";
pub const REMOVED: &str = "---- (changed)";

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Whether `v` is a core `v1` Secret.
pub fn is_secret(v: &Value) -> bool {
    v.str_at(&["kind"]) == Some("Secret")
        && v.str_at(&["apiVersion"]).is_some_and(|a| !a.contains('/'))
}

/// Copies of `old` and `new` with their secret values replaced by markers.
pub fn mask(old: Option<&Value>, new: Option<&Value>) -> (Option<Value>, Option<Value>) {
    let mut o = old.cloned();
    let mut n = new.cloned();
    for field in ["data", "stringData"] {
        let before = o.as_ref().and_then(|v| v.get(field)).cloned();
        let after = n.as_ref().and_then(|v| v.get(field)).cloned();
        if let Some(v) = o.as_mut().and_then(|v| v.as_map_mut())
            && let Some(slot) = v.get_mut(field)
        {
            *slot = masked(slot, after.as_ref(), REMOVED);
        }
        if let Some(v) = n.as_mut().and_then(|v| v.as_map_mut())
            && let Some(slot) = v.get_mut(field)
        {
            *slot = masked(slot, before.as_ref(), CHANGED);
        }
    }
    let annotation = |v: &Option<Value>| {
        v.as_ref()
            .and_then(|v| v.get("metadata"))
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(LAST_APPLIED))
            .cloned()
    };
    let (before, after) = (annotation(&o), annotation(&n));
    let marker = |mine: &Option<Value>, other: &Option<Value>, differs: &'static str| {
        if mine == other { UNCHANGED } else { differs }
    };
    let set = |v: &mut Option<Value>, text: &str| {
        if let Some(a) = v
            .as_mut()
            .and_then(|v| v.get_mut("metadata"))
            .and_then(|m| m.get_mut("annotations"))
            .and_then(|a| a.get_mut(LAST_APPLIED))
        {
            *a = Value::Str(text.to_string());
        }
    };
    set(&mut o, marker(&before, &after, REMOVED));
    set(&mut n, marker(&after, &before, CHANGED));
    (o, n)
}

/// `mine` masked against `other` (the same field on the other side): a map key by key, any
/// other value whole.
fn masked(mine: &Value, other: Option<&Value>, differs: &str) -> Value {
    let marker = |same: bool| Value::Str(if same { UNCHANGED } else { differs }.to_string());
    match mine {
        Value::Map(m) => {
            let theirs = other.and_then(Value::as_map);
            let mut out = Map::default();
            for (k, v) in m {
                let same = theirs.and_then(|t| t.get(k)) == Some(v);
                out.insert(k.clone(), marker(same));
            }
            Value::Map(out)
        }
        Value::Null => Value::Null,
        v => marker(other == Some(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{test_doc, to_yaml_string};

    #[test]
    fn secret_values_become_markers() {
        let old = test_doc(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  same: c2FtZQ==\n  old: b2xk\n  gone: Z29uZQ==\nstringData:\n  token: hunter2\n",
        );
        let new = test_doc(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  same: c2FtZQ==\n  old: bmV3\n  added: YWRkZWQ=\nstringData:\n  token: hunter3\n",
        );
        let (o, n) = mask(Some(&old), Some(&new));
        let (o, n) = (
            to_yaml_string(&o.expect("old")),
            to_yaml_string(&n.expect("new")),
        );
        for secret in ["c2FtZQ", "b2xk", "Z29uZQ", "bmV3", "YWRkZWQ", "hunter"] {
            assert!(
                !o.contains(secret) && !n.contains(secret),
                "{secret}\n{o}\n{n}"
            );
        }
        assert!(o.contains("same: '**** (unchanged)'"), "{o}");
        assert!(n.contains("same: '**** (unchanged)'"), "{n}");
        assert!(
            o.contains("old: '---- (changed)'") && o.contains("gone: '---- (changed)'"),
            "{o}"
        );
        assert!(
            n.contains("old: ++++ (changed)") && n.contains("added: ++++ (changed)"),
            "{n}"
        );
        assert!(n.contains("token: ++++ (changed)"), "{n}");
    }

    #[test]
    fn only_core_secrets_are_masked() {
        assert!(is_secret(&test_doc("apiVersion: v1\nkind: Secret\n")));
        assert!(!is_secret(&test_doc(
            "apiVersion: example.com/v1\nkind: Secret\n"
        )));
        assert!(!is_secret(&test_doc("apiVersion: v1\nkind: ConfigMap\n")));
    }
}
