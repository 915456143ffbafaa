//! Error reports: miette diagnostics with the file, line, column, a snippet and `help:`.
//!
//! The snippet is a window of a few lines around the error, each cut to a readable width,
//! with control characters (ESC, NUL, OSC sequences, bidirectional overrides) shown as
//! escapes, so a hostile file can neither flood the terminal nor drive it.

use crate::Error;
use miette::{LabeledSpan, MietteDiagnostic, MietteError, MietteSpanContents, Report, Severity};
use miette::{SourceCode, SourceSpan, SpanContents};
use std::io::Write;
use std::path::Path;

/// Lines shown around the error line, and the widest line shown (in characters).
const CONTEXT: usize = 3;
const WIDTH: usize = 160;
/// Files larger than this are not read again for a snippet.
const MAX_SNIPPET_FILE: u64 = 16 << 20;

/// A path as the user would type it: relative to the working directory when below it.
pub fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let real_cwd = std::fs::canonicalize(&cwd).unwrap_or_else(|_| cwd.clone());
    path.strip_prefix(&cwd)
        .or_else(|_| path.strip_prefix(&real_cwd))
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Absolute paths below the working directory in a message, shown relative to it.
fn relative_message(message: &str) -> String {
    let Ok(cwd) = std::env::current_dir() else {
        return message.to_string();
    };
    let mut out = message.replace(&format!("{}/", cwd.display()), "");
    if let Ok(real) = std::fs::canonicalize(&cwd) {
        out = out.replace(&format!("{}/", real.display()), "");
    }
    escape_controls(&out)
}

/// Control characters as visible escapes (`\u{1b}`); tabs and newlines stay.
fn escape_controls(s: &str) -> String {
    let dangerous = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(dangerous) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if dangerous(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The lines around `line` (1-based) of `text`, cleaned for a terminal, with the byte
/// offset of column `col` of the error line in the window and the window's first line.
fn window(text: &str, line: usize, col: usize) -> (String, usize, usize) {
    let first = line.saturating_sub(CONTEXT).max(1);
    let mut out = String::new();
    let mut at = 0;
    for (i, l) in text
        .lines()
        .enumerate()
        .skip(first - 1)
        .take(2 * CONTEXT + 1)
    {
        let chars: Vec<char> = l.chars().collect();
        // Long lines: a slice around the error column, marked where cut.
        let (start, end) = if chars.len() <= WIDTH {
            (0, chars.len())
        } else if i + 1 == line {
            let c = col.saturating_sub(1).min(chars.len());
            let start = c.saturating_sub(WIDTH / 2);
            (start, (start + WIDTH).min(chars.len()))
        } else {
            (0, WIDTH)
        };
        if start > 0 {
            out.push('…');
        }
        for (j, c) in chars[start..end].iter().enumerate() {
            if i + 1 == line && start + j + 1 == col {
                at = out.len();
            }
            out.push_str(&escape_controls(&c.to_string()));
        }
        if i + 1 == line && col > end {
            at = out.len();
        }
        if end < chars.len() {
            out.push('…');
        }
        out.push('\n');
    }
    (out, at, first)
}

/// A window of a file that reports the file's own line numbers.
struct Window {
    name: String,
    text: String,
    first_line: usize,
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.as_str().read_span(span, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line - 1,
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// The text of a file for a snippet: a regular file of a sane size, read once more.
fn snippet_text(file: &Path) -> Option<String> {
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() || meta.len() > MAX_SNIPPET_FILE {
        return None;
    }
    crate::fs::read_text(file).ok()
}

/// Print one error on stderr (a closed stderr is not an error of its own).
pub fn print(e: &Error) {
    let source = e
        .location
        .as_ref()
        .and_then(|l| snippet_text(&l.file).map(|t| (shown(&l.file), t)));
    print_in(e, source);
}

/// Print `e` with its snippet taken from `source` (a name and its text) rather than from
/// the file its location names: standard input, or a rendered stream.
pub fn print_in(e: &Error, source: Option<(String, String)>) {
    print_as(e, source, Severity::Error);
}

/// Print a warning as an error is printed, with the warning's severity.
pub fn print_warning(e: &Error) {
    let source = e
        .location
        .as_ref()
        .and_then(|l| snippet_text(&l.file).map(|t| (shown(&l.file), t)));
    print_as(e, source, Severity::Warning);
}

/// Print a warning with its snippet taken from `source`, as `print_in` prints an error.
pub fn print_warning_in(e: &Error, source: Option<(String, String)>) {
    print_as(e, source, Severity::Warning);
}

fn print_as(e: &Error, source: Option<(String, String)>, severity: Severity) {
    let mut diag = MietteDiagnostic::new(relative_message(&e.message)).with_severity(severity);
    if let Some(help) = &e.help {
        diag = diag.with_help(relative_message(help));
    }
    let report = match (e.location.as_ref(), source) {
        (Some(loc), Some((name, text)))
            if loc.line >= 1 && loc.line <= text.lines().count().max(1) =>
        {
            let (win, at, first_line) = window(&text, loc.line, loc.col);
            let len = win[at..]
                .find('\n')
                .unwrap_or(win.len() - at)
                .clamp(1, win.len().saturating_sub(at).max(1));
            let len = len.min(win.len().saturating_sub(at));
            diag = diag.with_label(LabeledSpan::at(at..at + len, "here"));
            Report::new(diag).with_source_code(Window {
                name,
                text: win,
                first_line,
            })
        }
        _ => {
            if let Some(f) = e.file.as_ref().or(e.location.as_ref().map(|l| &l.file)) {
                let place = match &e.location {
                    Some(l) => format!("{}:{}:{}", shown(f), l.line, l.col),
                    None => shown(f),
                };
                diag.message = format!("{place}: {}", diag.message);
            }
            Report::new(diag)
        }
    };
    let _ = writeln!(std::io::stderr().lock(), "{report:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cut_long_lines_and_escape_controls() {
        let long = format!("key: {}\n", "x".repeat(10_000));
        let text = format!("a: 1\nb: \u{1b}]0;pwned\u{7}\n{long}c: 3\n");
        let (win, at, first) = window(&text, 3, 5000);
        assert_eq!(first, 1);
        assert!(win.lines().all(|l| l.chars().count() <= WIDTH + 2), "{win}");
        assert!(win.contains("\\u{1b}]0;pwned\\u{7}"), "{win}");
        assert!(!win.contains('\u{1b}'));
        assert_eq!(&win[at..at + 1], "x");
        let (win, _, first) = window("a\nb\nc\nd\ne\nf\ng\nh\n", 7, 1);
        assert_eq!(first, 4);
        assert_eq!(win, "d\ne\nf\ng\nh\n");
    }
}
