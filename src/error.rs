//! Errors as data: what kind of failure (`ErrorKind`, for programs), a message, where it
//! happened, and one line of help.
//!
//! The library never prints. Every failure is an `Error` that names the file and position
//! it concerns (when there is one); the CLI's report module turns it into a miette report
//! with a source snippet. Independent errors of one build (two missing resources, three bad
//! patch entries) travel together: the first, with the others in `also`, so that a user
//! sees all of them in one run (`flatten` lists them).

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in a source file; `line` and `col` are 1-based, `offset` is a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub offset: usize,
}

/// What went wrong, for a program that handles errors (the message says it for people).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("kustomization.yaml"), "resources:\n- gone.yaml\n").unwrap();
/// let e = strata::build(dir.path(), &Default::default(), &Default::default()).unwrap_err();
/// assert_eq!(e.kind, strata::ErrorKind::NotFound);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorKind {
    /// A file is not valid YAML (a template's output included).
    Yaml,
    /// A file, directory or resource an entry names does not exist.
    NotFound,
    /// Refused for safety: a file outside the load restrictor's root, a symlink leading
    /// out, a plugin that would run code.
    Restricted,
    /// Layers that include each other.
    Cycle,
    /// A kustomization field that is unknown or has a wrong value.
    Kustomization,
    /// A template that does not render.
    Template,
    /// Values that do not read or do not satisfy their schema (`--set` included).
    Values,
    /// A patch that does not apply.
    Patch,
    /// A remote base or file that cannot be fetched.
    Remote,
    /// A Helm chart that does not inflate.
    Helm,
    /// A budget on input-driven work ran out (depth, aliases, template fuel, sizes).
    Limit,
    /// Reading or writing outside the inputs failed (an output directory, a cache).
    Io,
    /// Anything else.
    #[default]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong, for programs.
    pub kind: ErrorKind,
    pub message: String,
    pub location: Option<Location>,
    /// The file the error concerns when no position is known.
    pub file: Option<PathBuf>,
    pub help: Option<String>,
    /// Independent errors found beside this one, in the order found (boxed: most errors
    /// travel alone, and every `Result` carries the size of an `Error`).
    pub also: Option<Box<Vec<Error>>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Other,
            message: message.into(),
            location: None,
            file: None,
            help: None,
            also: None,
        }
    }

    /// The first of `errors`, carrying the others; `None` when there are none.
    pub fn joined(errors: Vec<Error>) -> Option<Error> {
        let mut errors = errors.into_iter();
        let mut first = errors.next()?;
        let rest: Vec<Error> = errors.collect();
        if !rest.is_empty() {
            first.also.get_or_insert_default().extend(rest);
        }
        Some(first)
    }

    /// This error and every error it carries, each on its own.
    pub fn flatten(mut self) -> Vec<Error> {
        let also = self.also.take().map(|b| *b).unwrap_or_default();
        let mut out = vec![self];
        for e in also {
            out.extend(e.flatten());
        }
        out
    }

    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// `kind`, unless a more precise kind was already set (a YAML error inside a template
    /// stays a YAML error).
    pub fn or_kind(mut self, kind: ErrorKind) -> Self {
        if self.kind == ErrorKind::Other {
            self.kind = kind;
        }
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn in_file(mut self, file: &Path) -> Self {
        if self.file.is_none() {
            self.file = Some(file.to_path_buf());
        }
        self
    }

    pub fn at(mut self, location: Location) -> Self {
        self.file = Some(location.file.clone());
        self.location = Some(location);
        self
    }

    /// Prefix the message with context, keeping location and help.
    pub fn context(mut self, prefix: impl fmt::Display) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{}:{}:{}: ", loc.file.display(), loc.line, loc.col)?;
        } else if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The closest candidate to `word` (edit distance at most a third of its length, at least 2).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = (word.len() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos() {
        let fields = ["resources", "namePrefix", "namespace", "patches"];
        for (typo, want) in [
            ("resource", Some("resources")),
            ("resourcse", Some("resources")),
            ("nameprefix", Some("namePrefix")),
            ("patchs", Some("patches")),
            ("zzzzzz", None),
        ] {
            assert_eq!(closest(typo, fields), want, "{typo}");
        }
    }
}
