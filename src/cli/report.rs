//! Error reports: miette diagnostics with the file, line, column, a snippet and `help:`.

use miette::{LabeledSpan, MietteDiagnostic, NamedSource, Report};
use std::path::Path;
use strata::Error;

/// Byte offset of a 1-based line and column in `text`.
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_off: usize = l
                .chars()
                .take(col.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return (off + col_off).min(text.len());
        }
        off += l.len();
    }
    text.len()
}

/// A path as the user would type it: relative to the working directory when below it.
pub fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Absolute paths below the working directory in a message, shown relative to it.
fn relative_message(message: &str) -> String {
    let Ok(cwd) = std::env::current_dir() else {
        return message.to_string();
    };
    let prefix = format!("{}/", cwd.display());
    message.replace(&prefix, "")
}

pub fn print(e: &Error) {
    let source = e.location.as_ref().and_then(|l| {
        std::fs::read_to_string(&l.file)
            .ok()
            .map(|t| (shown(&l.file), t))
    });
    print_in(e, source);
}

/// Print `e` with its snippet taken from `source` (a name and its text) rather than from
/// the file its location names: standard input, or a rendered stream.
pub fn print_in(e: &Error, source: Option<(String, String)>) {
    let mut diag = MietteDiagnostic::new(relative_message(&e.message));
    if let Some(help) = &e.help {
        diag = diag.with_help(relative_message(help));
    }
    let report = match (e.location.as_ref(), source) {
        (Some(loc), Some((name, text))) => {
            let off = offset_of(&text, loc.line, loc.col);
            let len = text[off..]
                .find('\n')
                .unwrap_or(text.len() - off)
                .max(1)
                .min(text.len().saturating_sub(off));
            diag = diag.with_label(LabeledSpan::at(off..off + len, "here"));
            Report::new(diag).with_source_code(NamedSource::new(name, text))
        }
        _ => {
            if let Some(f) = &e.file {
                diag.message = format!("{}: {}", shown(f), diag.message);
            }
            Report::new(diag)
        }
    };
    eprintln!("{report:?}");
}
