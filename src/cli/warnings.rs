//! Warnings on stderr: `build` prints Kustomize's exact lines; every other command prints
//! each distinct warning once, as a miette diagnostic like an error, with how many times
//! and in which files (the first few, then "and N more") and environments it happened.
//!
//! `-q/--quiet` silences both forms.

use super::report;
use crate::{Error, Warning};
use indexmap::IndexMap;
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Files named in a grouped warning before "and N more".
const SHOWN_FILES: usize = 3;

static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Kustomize's lines, unchanged (`strata build`); strata's own warnings (Kustomize is
/// silent there) as the other commands show them.
pub fn kustomize(warnings: &[Warning]) {
    if warnings.is_empty() || quiet() {
        return;
    }
    let mut text = String::new();
    for w in warnings.iter().filter(|w| !w.ours) {
        text.push_str(&w.kustomize);
        text.push('\n');
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    let ours: Vec<Warning> = warnings.iter().filter(|w| w.ours).cloned().collect();
    if !ours.is_empty() {
        grouped([(None, ours.as_slice())]);
    }
}

/// One distinct warning: its first occurrence, and where else it happened.
struct Group<'a> {
    first: &'a Warning,
    count: usize,
    places: Vec<String>,
    envs: BTreeSet<&'a str>,
}

/// Each distinct warning of `outputs` (an environment label, or none, and its warnings)
/// once, in the order first seen.
pub fn grouped<'a>(outputs: impl IntoIterator<Item = (Option<&'a str>, &'a [Warning])>) {
    if quiet() {
        return;
    }
    let mut groups: IndexMap<(&str, Option<&str>), Group> = IndexMap::new();
    for (env, warnings) in outputs {
        for w in warnings {
            let g = groups
                .entry((w.message.as_str(), w.help.as_deref()))
                .or_insert_with(|| Group {
                    first: w,
                    count: 0,
                    places: Vec::new(),
                    envs: BTreeSet::new(),
                });
            g.count += 1;
            if let Some(e) = env {
                g.envs.insert(e);
            }
            let place = match (&w.location, &w.file) {
                (Some(l), _) => Some(format!("{}:{}", report::shown(&l.file), l.line)),
                (None, Some(f)) => Some(report::shown(f)),
                _ => None,
            };
            if let Some(p) = place
                && !g.places.contains(&p)
            {
                g.places.push(p);
            }
        }
    }
    for g in groups.values() {
        report::print_warning(&as_error(g));
    }
    let total: usize = groups.values().map(|g| g.count).sum();
    if groups.len() > 1 && total > groups.len() {
        let _ = writeln!(
            std::io::stderr().lock(),
            "{} warnings ({} distinct)",
            thousands(total),
            thousands(groups.len())
        );
    }
}

/// The diagnostic of a group: the first occurrence's snippet, the rest counted, then the
/// files it concerns, one a line.
fn as_error(g: &Group) -> Error {
    let w = g.first;
    let mut message = w.message.clone();
    let mut notes = Vec::new();
    if g.count > 1 {
        notes.push(format!("{} times", thousands(g.count)));
    }
    if g.places.len() > 1 {
        notes.push(format!("in {} files", thousands(g.places.len())));
    }
    if g.envs.len() > 1 {
        let envs: Vec<String> = g.envs.iter().map(|e| format!("`{e}`")).collect();
        notes.push(format!("environments {}", envs.join(", ")));
    } else if let Some(e) = g.envs.iter().next() {
        message = format!("environment `{e}`: {message}");
    }
    if !notes.is_empty() {
        message = format!("{message} ({})", notes.join(", "));
    }
    if g.places.len() > 1 {
        for p in g.places.iter().take(SHOWN_FILES) {
            message.push('\n');
            message.push_str(p);
        }
        if g.places.len() > SHOWN_FILES {
            let more = thousands(g.places.len() - SHOWN_FILES);
            message.push_str(&format!("\nand {more} more"));
        }
    }
    Error {
        kind: crate::error::ErrorKind::Other,
        message,
        location: w.location.clone(),
        file: w.file.clone(),
        help: w.help.clone(),
        also: None,
    }
}

/// `1512` as `1,512`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_separated() {
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(super::thousands(n), want);
        }
    }
}
