//! Error reports: miette diagnostics with the file, line, column, a snippet and `help:`.

use miette::{LabeledSpan, MietteDiagnostic, NamedSource, Report};
use strata::Error;

/// Byte offset of a 1-based line and column in `text`.
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_off: usize = l.chars().take(col.saturating_sub(1)).map(char::len_utf8).sum();
            return (off + col_off).min(text.len());
        }
        off += l.len();
    }
    text.len()
}

pub fn print(e: &Error) {
    let mut diag = MietteDiagnostic::new(e.message.clone());
    if let Some(help) = &e.help {
        diag = diag.with_help(help.clone());
    }
    let source = e
        .location
        .as_ref()
        .and_then(|l| std::fs::read_to_string(&l.file).ok().map(|t| (l, t)));
    let report = match source {
        Some((loc, text)) => {
            let off = offset_of(&text, loc.line, loc.col);
            let len = text[off..].find('\n').unwrap_or(text.len() - off).max(1).min(text.len().saturating_sub(off).max(0));
            let name = format!("{}:{}:{}", loc.file.display(), loc.line, loc.col);
            diag = diag.with_label(LabeledSpan::at(off..off + len, "here"));
            Report::new(diag).with_source_code(NamedSource::new(name, text))
        }
        None => {
            if let Some(f) = &e.file {
                diag.message = format!("{}: {}", f.display(), diag.message);
            }
            Report::new(diag)
        }
    };
    eprintln!("{report:?}");
}
