//! The properties the fuzz targets check, as functions of raw bytes.
//!
//! `fuzz/fuzz_targets/*` call these on whatever libFuzzer generates; the unit test below
//! calls them on every input the fuzzers ever found (`fuzz/regressions/<target>/`), so a fixed
//! crash stays fixed in CI, where no fuzzer runs. Each function panics when its property
//! fails; an input strata rejects with an error is fine.

use crate::load::Kustomization;
use crate::patch::json6902;
use crate::resource::{Origin, Resource};
use crate::template::Values;
use crate::template::render::{TemplateLimits, render_str};
use crate::yaml::{self, AliasBudget, Value};
use std::path::Path;

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A small alias budget keeps each input quick.
fn budget() -> AliasBudget {
    AliasBudget::new(20_000)
}

/// Value equality as kubectl's output preserves it: numbers by value (a float with a whole
/// value prints as an integer, as through Kustomize's JSON round trip), NaN equal to itself,
/// strings and keys after the NEL folding kubectl's output applies (`yaml::json_round_trip`).
#[allow(
    clippy::cast_precision_loss,
    reason = "numbers compare as the float64 the JSON round trip makes of them"
)]
fn same(a: &Value, b: &Value) -> bool {
    let num = |v: &Value| match v {
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    };
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return x == y || (x.is_nan() && y.is_nan());
    }
    match (a, b) {
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            // Keys the JSON round trip folds into one: Go writes them sorted by their
            // bytes and the last one read wins.
            let mut sorted: Vec<(&String, &Value)> = x.iter().collect();
            sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            let mut folded: std::collections::HashMap<String, &Value> =
                std::collections::HashMap::new();
            for (k, v) in sorted {
                folded.insert(yaml::json_round_trip(k).into_owned(), v);
            }
            folded.len() == y.len()
                && folded
                    .iter()
                    .all(|(k, v)| y.get(k.as_str()).is_some_and(|w| same(v, w)))
        }
        (Value::Str(x), Value::Str(y)) => yaml::json_round_trip(x) == y.as_str(),
        _ => a == b,
    }
}

/// The YAML reader never panics, and whatever it reads the printer prints.
pub fn yaml_reader(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(docs) = yaml::parse_documents_in(text, false, &budget()) {
        for d in &docs {
            let _ = yaml::to_yaml_string(&d.value);
        }
    }
    let _ = yaml::parse_objects_in(text, &budget());
    let _ = yaml::locate(text, 0, &["metadata", "name"]);
}

/// What the printer writes reads back as the same value.
pub fn yaml_round_trip(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(docs) = yaml::parse_documents_in(text, false, &budget()) else {
        return;
    };
    for d in docs {
        let printed = yaml::to_yaml_string(&d.value);
        let again = yaml::parse_documents_in(&printed, false, &budget())
            .unwrap_or_else(|e| panic!("printed text does not parse ({e}):\n{printed}"));
        let back = again
            .into_iter()
            .next()
            .map(|d| d.value)
            .unwrap_or(Value::Null);
        assert!(
            same(&d.value, &back),
            "round trip changed the value\nread:    {:?}\nprinted:\n{printed}\nread back: {back:?}",
            d.value
        );
    }
}

/// Kustomization files: parsing and every typed accessor return values or errors; the same
/// text as a built-in plugin's configuration checks to a configuration that checks to itself.
pub fn kustomization(data: &[u8]) {
    let Some(text) = text(data) else { return };
    plugin_configurations(text);
    let Ok(k) = Kustomization::parse_in(
        Path::new("/fuzz/kustomization.yaml"),
        text.to_string(),
        &budget(),
    ) else {
        return;
    };
    for field in crate::load::kustomization::FIELDS {
        let _ = k.string(field);
        let _ = k.string_list(field);
        let _ = k.location(&[field, "0"]);
    }
    let _ = k.deprecation_warnings();
}

/// The same text as a built-in plugin's configuration of every kind: checking gives a
/// configuration or an error, and a checked configuration checks to itself.
fn plugin_configurations(text: &str) {
    let Ok(docs) = yaml::parse_documents_in(text, false, &budget()) else {
        return;
    };
    let Some(Value::Map(doc)) = docs.into_iter().next().map(|d| d.value) else {
        return;
    };
    for b in crate::transform::builtins::BUILT_INS {
        for kind in b
            .plugins
            .iter()
            .chain(&["ConfigMapGenerator", "SecretGenerator"])
        {
            if let Ok(once) = crate::load::field_types::check_plugin(kind, &doc) {
                let twice = crate::load::field_types::check_plugin(kind, &once);
                assert!(
                    twice.as_ref().is_ok_and(|t| *t == once),
                    "{kind}: a checked configuration checks to something else"
                );
            }
        }
    }
}

/// Split `a\n---\nb` into two documents.
fn two_documents(data: &[u8]) -> Option<(Value, Value)> {
    let text = text(data)?;
    let mut docs = yaml::parse_objects_in(text, &budget()).ok()?.into_iter();
    Some((docs.next()?.value, docs.next()?.value))
}

/// Strategic merge: any patch on any document gives a document or an error, and the
/// result prints.
pub fn strategic_merge(data: &[u8]) {
    let Some((doc, patch)) = two_documents(data) else {
        return;
    };
    if doc.as_map().is_none() || patch.as_map().is_none() {
        return;
    }
    let mut r = Resource::new(doc, Origin::default());
    if crate::patch::apply_smp(
        &mut r,
        &patch,
        false,
        false,
        None,
        crate::patch::smp::Written::NONE,
    )
    .is_ok()
    {
        let _ = yaml::to_yaml_string(&r.doc);
    }
}

/// JSON 6902: any operations on any document apply or fail; the document still prints.
pub fn json_patch(data: &[u8]) {
    let Some((mut doc, ops)) = two_documents(data) else {
        return;
    };
    let Ok(ops) = json6902::parse_ops(&ops) else {
        return;
    };
    let _ = json6902::apply(&mut doc, &ops);
    let _ = yaml::to_yaml_string(&doc);
}

/// Templates: any source renders or fails within its budgets, never panics.
pub fn template(data: &[u8]) {
    let Some(source) = text(data) else { return };
    let values = Values::from_file(
        "values.yaml",
        "name: web\nreplicas: 3\nimage: {repo: r, tag: \"1.0\"}\nlist: [a, b]\nflag: true\n"
            .to_string(),
    )
    .unwrap_or_else(|_| Values::empty());
    let limits = TemplateLimits {
        fuel: 100_000,
        max_output: 1 << 20,
    };
    if let Ok(out) = render_str(source, &values, limits) {
        assert!(out.len() <= limits.max_output, "output over its limit");
        let _ = yaml::parse_documents_in(&out, false, &budget());
    }
}

/// A property: panics when it fails for these bytes.
pub type Property = fn(&[u8]);

/// The targets by name (the fuzz directory's file names).
pub const TARGETS: &[(&str, Property)] = &[
    ("yaml_reader", yaml_reader),
    ("yaml_round_trip", yaml_round_trip),
    ("kustomization", kustomization),
    ("strategic_merge", strategic_merge),
    ("json_patch", json_patch),
    ("template", template),
];

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// Every input a fuzzer found (`fuzz/regressions/<target>/*`) goes through the same
    /// property its fuzz target checks, so a fixed crash stays fixed where no fuzzer runs.
    #[test]
    fn found_inputs_hold_their_properties() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        let mut replayed = 0;
        for (name, property) in super::TARGETS {
            let dir = root.join(name);
            assert!(dir.is_dir(), "fuzz/regressions/{name} is missing");
            let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
                .expect("read")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.file_name().is_some_and(|n| n != ".keep"))
                .collect();
            inputs.sort();
            for input in inputs {
                let data = std::fs::read(&input).expect("read input");
                let outcome = std::panic::catch_unwind(|| property(&data));
                assert!(outcome.is_ok(), "{name}: {} fails again", input.display());
                replayed += 1;
            }
        }
        assert!(replayed > 0, "no found inputs replayed");
        eprintln!("replayed {replayed} found inputs");
    }
}
