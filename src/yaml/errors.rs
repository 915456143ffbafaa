//! YAML syntax errors as `Error`s: located in their file (a tab error on the line that
//! holds the tab), with the help their cause needs (an indentation off by one names the
//! column the key belongs in).

use crate::error::{Error, Location};
use std::path::Path;

use super::YamlError;

/// A YAML syntax error as an `Error` located in `file` (read again for the help).
pub fn yaml_error(file: &Path, e: YamlError) -> Error {
    let text = crate::fs::read_text(file).unwrap_or_default();
    yaml_error_in(file, &text, e)
}

/// A YAML syntax error in `text`, the contents of `file`, as an `Error` located there (a
/// tab error on the line that holds the tab).
pub fn yaml_error_in(file: &Path, text: &str, e: YamlError) -> Error {
    let tab = tab_line(&e.message, text, e.line);
    let line = tab.unwrap_or(e.line);
    let help = e
        .help
        .clone()
        .unwrap_or_else(|| yaml_help(&e.message, text, line));
    let (col, offset) = match tab {
        Some(_) => (1, 0),
        None => (e.col, e.offset),
    };
    Error::new(e.message)
        .at(Location {
            file: file.to_path_buf(),
            line,
            col,
            offset,
        })
        .with_help(help)
        .with_kind(crate::error::ErrorKind::Yaml)
}

/// For a reader error about a tab reported at `line` (it may name the end of the line
/// before): the line, at or just after it, that a tab indents.
pub fn tab_line(message: &str, text: &str, line: usize) -> Option<usize> {
    if !message.contains("tab") {
        return None;
    }
    let first = line.max(1);
    text.lines()
        .enumerate()
        .skip(first - 1)
        .take(2)
        .find(|(_, l)| {
            l.chars()
                .take_while(|c| c.is_whitespace())
                .any(|c| c == '\t')
        })
        .map(|(i, _)| i + 1)
}

/// The one line of help for a YAML syntax error at `line` of `text`: what the reader's
/// message means in the usual cases, a column hint only for errors of indentation.
pub fn yaml_help(message: &str, text: &str, line: usize) -> String {
    yaml_help_named(message, text, line, &|n| format!("line {n}")).unwrap_or_else(|| {
        "check the indentation and the `key: value` syntax around this line".to_string()
    })
}

/// `yaml_help` with other lines of `text` named by `name` (a rendered template names
/// the template line that wrote them); `None` when nothing more specific than "check the
/// indentation" can be said.
pub fn yaml_help_named(
    message: &str,
    text: &str,
    line: usize,
    name: &dyn Fn(usize) -> String,
) -> Option<String> {
    let bad = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let leading: String = bad.chars().take_while(|c| c.is_whitespace()).collect();
    let has = |m: &str| message.contains(m);
    if has("tab") || leading.contains('\t') {
        return Some(
            "YAML indents with spaces: replace the tab at the start of this line".to_string(),
        );
    }
    if has("mapping values are not allowed") {
        let value = bad.split_once(": ").map_or("", |(_, v)| v);
        if value.contains(": ") && !value.trim_start().starts_with(['"', '\'']) {
            return Some(
                "the value holds `: `, which starts a map: quote the value (`key: \"a: b\"`)"
                    .to_string(),
            );
        }
    }
    if has("quoted scalar") && has("end of stream") {
        return Some("a quoted value is not closed: add the closing quote".to_string());
    }
    if has("trailing content after") {
        return Some("quote the whole value, or remove what follows the closing quote".to_string());
    }
    if has("unknown anchor") {
        return Some(
            "an alias `*name` needs an anchor `&name` earlier in the same document".to_string(),
        );
    }
    if has("already defined") {
        return Some("a key may appear once in a map: remove or rename one of them".to_string());
    }
    if has("expected '-' indicator") {
        return Some("this line sits among list items but does not start with `- `: indent it under an item, or make it an item".to_string());
    }
    if has("flow sequence") {
        return Some("close the `[` list, or quote a value that holds `,`, `[` or `]`".to_string());
    }
    if has("flow mapping") {
        return Some("close the `{` map, or quote a value that holds `,`, `{` or `}`".to_string());
    }
    let indentation = [
        "block mapping",
        "block collection",
        "mapping values are not allowed",
        "did not find expected key",
        "indentation",
    ]
    .iter()
    .any(|m| has(m));
    indentation
        .then(|| indentation_hint_named(text, line, name))
        .flatten()
}

/// For a key indented unlike its neighbours: which column it probably belongs in, the
/// neighbour's line named by `name`.
pub fn indentation_hint_named(
    text: &str,
    line: usize,
    name: &dyn Fn(usize) -> String,
) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let bad = lines.get(line.checked_sub(1)?)?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let meaningful = |l: &&str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let key = bad
        .trim()
        .split(':')
        .next()
        .filter(|k| !k.is_empty() && !k.starts_with('-'))?;
    let here = indent(bad);
    // The closest line above that is indented less: the key's likely sibling or parent.
    let (n, sibling) = lines[..line - 1]
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, l)| meaningful(l))
        .find(|(_, l)| indent(l) < here)?;
    // A list item's keys start after its `- `.
    let trimmed = sibling.trim_start();
    let dash = trimmed
        .strip_prefix('-')
        .filter(|r| r.starts_with(' '))
        .map_or(0, |r| 1 + r.len() - r.trim_start().len());
    let target = indent(sibling) + dash;
    let (sib_key, sib_value) = trimmed[dash..].split_once(':').unwrap_or(("", ""));
    let sib_key = sib_key.trim();
    let sib_value = sib_value.trim();
    // Beside a key that holds a block, one space off; beside a key that holds a value
    // (nothing can nest under it), any deeper.
    let beside = if sib_value.is_empty() {
        here.abs_diff(target) == 1
    } else {
        !sib_value.starts_with('#') && here > target
    };
    let spaces = if here == 1 {
        "1 space".to_string()
    } else {
        format!("{here} spaces")
    };
    if !sib_key.is_empty() && !sib_key.contains(' ') && beside {
        return Some(format!(
            "`{key}:` is indented {spaces}; to sit beside `{sib_key}:` ({}) it needs {target}",
            name(n + 1)
        ));
    }
    Some(format!(
        "`{key}:` is indented {spaces}; keys of one map must start in the same column (the line above that is less indented, {}, uses {target})",
        name(n + 1)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_errors_get_the_help_their_cause_needs() {
        for (text, want) in [
            ("a: \"unclosed\n", "closing quote"),
            ("a: [1, 2\n", "close the `[`"),
            ("data:\n\tb: 1\n", "replace the tab"),
            ("a: 1\na: 2\n", "remove or rename"),
            ("a: *nope\n", "needs an anchor"),
            ("a: b: c\n", "quote the value"),
            ("data:\n  - a\n  b: 1\n", "list items"),
            ("a: 'x' y\n", "quote the whole value"),
            ("spec:\n  a: 1\n   b: 2\n", "indented 3 spaces"),
            (
                "spec:\n  a: 1\n   b: 2\n",
                "to sit beside `a:` (line 2) it needs 2",
            ),
            (
                "items:\n- name: a\n   image: b\n",
                "`image:` is indented 3 spaces; to sit beside `name:` (line 2) it needs 2",
            ),
        ] {
            let e = super::super::parse_documents(text).expect_err(text);
            let help = yaml_help(&e.message, text, e.line);
            assert!(help.contains(want), "{text:?}: {} -> {help}", e.message);
        }
    }

    #[test]
    fn indentation_hints_name_the_column() {
        let text = "spec:\n  template:\n    metadata:\n      labels:\n        app: x\n     spec:\n      a: 1\n";
        let hint = indentation_hint_named(text, 6, &|n| format!("line {n}")).expect("hint");
        assert!(
            hint.starts_with(
                "`spec:` is indented 5 spaces; to sit beside `metadata:` (line 3) it needs 4"
            ),
            "{hint}"
        );
    }
}
