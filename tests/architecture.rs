//! The crate's top-level modules form no cycle: each module's `crate::X` references (outside
//! its tests) point only at modules below it, so a module can be read, tested and changed
//! knowing only what it uses. The CLI (`src/cli`, `main.rs`) sits above everything and is
//! not part of the graph; `lib.rs` only declares the modules and the API, and exports
//! nothing else.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module → the modules its code names, with one place for each edge.
fn graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut g: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src");
            let top = rel
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .expect("a name")
                .trim_end_matches(".rs")
                .to_string();
            if matches!(top.as_str(), "main" | "lib" | "cli") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let edges = g.entry(top.clone()).or_default();
            for (n, line) in code.lines().enumerate() {
                let mut rest = line;
                while let Some(i) = rest.find("crate::") {
                    rest = &rest[i + "crate::".len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != top {
                        edges
                            .entry(name)
                            .or_insert_with(|| format!("{}:{}", rel.display(), n + 1));
                    }
                }
            }
        }
    }
    g
}

/// A cycle through `start`, if there is one: the modules on it, in order.
fn cycle_from(g: &BTreeMap<String, BTreeMap<String, String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        g: &BTreeMap<String, BTreeMap<String, String>>,
        at: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in g.get(at).map(|e| e.keys()).into_iter().flatten() {
            if next == start {
                return true;
            }
            if g.contains_key(next) && seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(g, next, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(g, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn modules_form_no_cycle() {
    let g = graph();
    assert!(g.contains_key("load") && g.contains_key("yaml"), "{g:?}");
    for module in g.keys() {
        if let Some(cycle) = cycle_from(&g, module) {
            let steps: Vec<String> = cycle
                .iter()
                .zip(cycle.iter().cycle().skip(1))
                .map(|(a, b)| format!("{a} -> {b} ({})", g[a][b]))
                .collect();
            panic!("module cycle:\n  {}", steps.join("\n  "));
        }
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut g: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (a, b) in [("load", "template"), ("template", "yaml"), ("yaml", "load")] {
        g.entry(a.into())
            .or_default()
            .insert(b.into(), "x.rs:1".into());
    }
    g.entry("error".into()).or_default();
    assert_eq!(
        cycle_from(&g, "load"),
        Some(vec!["load".into(), "template".into(), "yaml".into()])
    );
    assert_eq!(cycle_from(&g, "error"), None);
}

/// `lib.rs` exports the API and nothing else: every module is private (the fuzz targets'
/// entry points only with the `fuzzing` feature), and the public names are these. A new
/// public item is a decision: add it here, with a doc example in `lib.rs`.
#[test]
fn the_library_exports_only_its_api() {
    const API: &[&str] = &[
        // Functions.
        "build",
        "diff",
        "environments",
        "parse_documents",
        "render",
        "run",
        "validate",
        "values",
        // Options.
        "BuildOptions",
        "DiffOptions",
        "HelmOptions",
        "Limits",
        "LoadRestrictor",
        "Loader",
        "Reorder",
        "ValidateOptions",
        "ValuesOptions",
        // Results and the data in them.
        "Change",
        "Doc",
        "Document",
        "Environment",
        "Error",
        "ErrorKind",
        "Hunk",
        "Line",
        "Location",
        "Map",
        "Missing",
        "Output",
        "Result",
        "Severity",
        "Source",
        "Status",
        "Tag",
        "Value",
        "Values",
        "Violation",
        "Warning",
    ];
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("lib.rs");
    let mut exported = BTreeSet::new();
    for line in lib.lines() {
        if let Some(m) = line.strip_prefix("pub mod ") {
            assert!(
                m == "fuzzing;"
                    && lib.contains(
                        "#[cfg(any(test, feature = \"fuzzing\"))]\n#[doc(hidden)]\npub mod fuzzing;"
                    ),
                "lib.rs makes a module public: {line}"
            );
        }
        assert!(
            !line.starts_with("pub use ") || line.ends_with(';'),
            "lib.rs: write each `pub use` on one line, so that this test reads it: {line}"
        );
        assert!(
            !line.contains("macro_export"),
            "lib.rs exports a macro: {line}"
        );
        if let Some(rest) = line.strip_prefix("pub use ") {
            let names = rest.split_once('{').map_or(rest, |(_, n)| n);
            for name in names.trim_end_matches(['}', ';']).split(',') {
                let name = name.trim().rsplit("::").next().unwrap_or("").to_string();
                if !name.is_empty() {
                    exported.insert(name);
                }
            }
        }
        for kind in [
            "pub fn ",
            "pub struct ",
            "pub enum ",
            "pub type ",
            "pub trait ",
            "pub const ",
            "pub static ",
            "pub union ",
        ] {
            if let Some(rest) = line.strip_prefix(kind) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                exported.insert(name);
            }
        }
    }
    let want: BTreeSet<String> = API.iter().map(|s| (*s).to_string()).collect();
    assert_eq!(exported, want, "lib.rs exports other names than the API");
}

/// No source file is over 700 lines before its tests: a file that grows past that is split
/// along what it does (functions over 100 lines are clippy's `too_many_lines`, denied in CI).
#[test]
fn no_source_file_is_over_700_lines() {
    let mut long = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read");
                let code = text.split("\n#[cfg(test)]\nmod tests").next().unwrap_or("");
                let lines = code.lines().count();
                if lines > 700 {
                    long.push(format!("{} ({lines} lines)", path.display()));
                }
            }
        }
    }
    assert!(long.is_empty(), "files over 700 lines: {long:?}");
}
