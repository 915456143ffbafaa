//! Diff reports: text (a unified diff per object, coloured on request), Markdown (a summary
//! table and one collapsible section per environment and object, for a pull-request
//! comment) and JSON (for tools). All three print what `diff` produced, in its order;
//! Secrets were masked before, so no format can show their values.

use super::{Change, Comparison, Status, Tag};
use serde_json::json;
use std::fmt::Write;

/// GitHub refuses comments over 65,536 characters: the Markdown report stops adding
/// objects past this size and says how many it left out.
const MARKDOWN_BUDGET: usize = 60_000;

/// Counts of a comparison: added, removed, changed, renamed.
pub fn counts(c: &Comparison) -> [usize; 4] {
    let mut n = [0; 4];
    for ch in &c.changes {
        n[match ch.status {
            Status::Added => 0,
            Status::Removed => 1,
            Status::Changed => 2,
            Status::Renamed => 3,
        }] += 1;
    }
    n
}

fn summary(c: &Comparison) -> String {
    let [a, r, ch, rn] = counts(c);
    let total = c.changes.len();
    let noun = if total == 1 {
        "object differs"
    } else {
        "objects differ"
    };
    format!("{total} {noun} ({a} added, {r} removed, {ch} changed, {rn} renamed)")
}

/// What a change is, in words: `changed`, `renamed from \`old\``, …
fn what(ch: &Change) -> String {
    match ch.status {
        Status::Renamed => format!(
            "renamed from `{}`",
            ch.old_name.as_deref().unwrap_or_default()
        ),
        s => s.as_str().to_string(),
    }
}

/// The `---`/`+++` names of a change.
fn sides(ch: &Change) -> (String, String) {
    let named = |n: &Option<String>, ns: &str| match n {
        None => "/dev/null".to_string(),
        Some(name) if ns.is_empty() => format!("{}/{name}", ch.kind),
        Some(name) => format!("{}/{ns}/{name}", ch.kind),
    };
    (
        named(&ch.old_name, ch.old_namespace.as_deref().unwrap_or("")),
        named(&ch.new_name, &ch.namespace),
    )
}

/// ANSI colours for the text report, or none.
#[derive(Debug, Clone, Copy)]
struct Paint(bool);

impl Paint {
    /// `s` with control characters shown as escapes (a hostile name cannot drive the
    /// terminal), coloured when colours are on.
    fn paint(self, code: &str, s: &str) -> String {
        let s = &visible(s);
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// The text report: per comparison with differences a summary line, then per object a
/// unified diff (`---`/`+++` naming the object, `@@` hunks with their YAML path). `colour`
/// adds ANSI colours. Nothing at all when nothing differs.
pub fn text(comparisons: &[Comparison], colour: bool) -> String {
    let p = Paint(colour);
    let mut out = String::new();
    for c in comparisons.iter().filter(|c| !c.changes.is_empty()) {
        let _ = writeln!(
            out,
            "{}",
            p.paint("1", &format!("# {}: {}", c.name, summary(c)))
        );
        for ch in &c.changes {
            let (old, new) = sides(ch);
            let _ = writeln!(
                out,
                "{}",
                p.paint("1", &format!("{} {} {}", c.name, ch.title(), what(ch)))
            );
            let _ = writeln!(out, "{}", p.paint("1", &format!("--- {old}")));
            let _ = writeln!(out, "{}", p.paint("1", &format!("+++ {new}")));
            for h in &ch.hunks {
                let _ = writeln!(out, "{}", p.paint("36", &h.header()));
                for l in &h.lines {
                    let line = format!("{}{}", l.tag.sign(), l.text);
                    let line = match l.tag {
                        Tag::Context => visible(&line),
                        Tag::Delete => p.paint("31", &line),
                        Tag::Insert => p.paint("32", &line),
                    };
                    let _ = writeln!(out, "{line}");
                }
            }
        }
    }
    out
}

/// Control characters (but tab) as `\u{1b}` escapes.
fn visible(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() && c != '\t') {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// HTML-escaped text, for names inside `<summary>`.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A code fence longer than any run of backticks in `body`.
fn fence(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

/// The Markdown report: a table of counts per comparison, then a collapsible section per
/// comparison with differences, holding one collapsible `diff` block per object.
pub fn markdown(comparisons: &[Comparison], title: &str) -> String {
    let mut out = format!("## {title}\n\n");
    if comparisons.iter().all(|c| c.changes.is_empty()) {
        out.push_str("No differences.\n");
        return out;
    }
    out.push_str(
        "| environment | added | removed | changed | renamed |\n|---|---:|---:|---:|---:|\n",
    );
    for c in comparisons {
        let [a, r, ch, rn] = counts(c);
        let _ = writeln!(
            out,
            "| `{}` | {a} | {r} | {ch} | {rn} |",
            c.name.replace('|', "\\|")
        );
    }
    out.push('\n');
    let mut left_out = 0usize;
    for c in comparisons.iter().filter(|c| !c.changes.is_empty()) {
        let _ = writeln!(
            out,
            "<details><summary><b>{}</b>: {}</summary>\n",
            html(&c.name),
            html(&summary(c))
        );
        for ch in &c.changes {
            if out.len() > MARKDOWN_BUDGET {
                left_out += 1;
                continue;
            }
            let (added, removed) = ch.counts();
            let mut body = String::new();
            for h in &ch.hunks {
                let _ = writeln!(body, "{}", h.header());
                for l in &h.lines {
                    let _ = writeln!(body, "{}{}", l.tag.sign(), l.text);
                }
            }
            let f = fence(&body);
            let _ = writeln!(
                out,
                "<details><summary><code>{}</code> {} (+{added} −{removed})</summary>\n\n{f}diff\n{body}{f}\n\n</details>\n",
                html(&ch.title()),
                html(&what(ch).replace('`', ""))
            );
        }
        out.push_str("</details>\n\n");
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "{left_out} more objects differ; run `strata diff` locally for the full report."
        );
    }
    out
}

/// The JSON report: `{"changed": bool, "environments": [{name, summary, changes: [...]}]}`,
/// each change with its status, id, names and hunks (lines prefixed ` `, `-`, `+`).
pub fn json(comparisons: &[Comparison]) -> serde_json::Value {
    let envs: Vec<serde_json::Value> = comparisons
        .iter()
        .map(|c| {
            let [a, r, ch, rn] = counts(c);
            let changes: Vec<serde_json::Value> = c
                .changes
                .iter()
                .map(|ch| {
                    let (added, removed) = ch.counts();
                    let hunks: Vec<serde_json::Value> = ch
                        .hunks
                        .iter()
                        .map(|h| {
                            json!({
                                "header": h.header(),
                                "path": h.path,
                                "oldStart": h.old_start,
                                "oldLines": h.old_lines,
                                "newStart": h.new_start,
                                "newLines": h.new_lines,
                                "lines": h.lines.iter().map(|l| format!("{}{}", l.tag.sign(), l.text)).collect::<Vec<_>>(),
                            })
                        })
                        .collect();
                    json!({
                        "status": ch.status.as_str(),
                        "apiVersion": ch.api_version,
                        "kind": ch.kind,
                        "namespace": ch.namespace,
                        "oldNamespace": ch.old_namespace,
                        "oldName": ch.old_name,
                        "newName": ch.new_name,
                        "linesAdded": added,
                        "linesRemoved": removed,
                        "hunks": hunks,
                    })
                })
                .collect();
            json!({
                "name": c.name,
                "summary": {"added": a, "removed": r, "changed": ch, "renamed": rn},
                "changes": changes,
            })
        })
        .collect();
    json!({
        "changed": super::any_changes(comparisons),
        "environments": envs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backticks_in_the_body() {
        assert_eq!(fence("a"), "```");
        assert_eq!(fence("x ```` y"), "`````");
    }
}
