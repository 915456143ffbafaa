//! Warnings: what a build notices but does not fail on.
//!
//! A warning carries two forms. `kustomize` is the exact line `kubectl kustomize` prints on
//! stderr (`strata build` prints it unchanged, for compatibility); `message`, `help` and
//! `location` are the structured form the other commands report once per distinct
//! message, naming the files it concerns (see `cli/warnings.rs`).

use crate::error::Location;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The line Kustomize prints (no trailing newline).
    pub kustomize: String,
    /// The message in strata's voice: lowercase, values in backticks, no file.
    pub message: String,
    pub help: Option<String>,
    /// Where it happened, when known.
    pub location: Option<Location>,
    /// The file it concerns when no position is known.
    pub file: Option<PathBuf>,
    /// strata's own warning (Kustomize is silent there): `build` shows it as the other
    /// commands do, not as a Kustomize line.
    pub ours: bool,
}

impl Warning {
    /// A warning whose Kustomize line is `kustomize` and whose message is `message`.
    pub fn new(kustomize: impl Into<String>, message: impl Into<String>) -> Warning {
        Warning {
            kustomize: kustomize.into(),
            message: message.into(),
            help: None,
            location: None,
            file: None,
            ours: false,
        }
    }

    /// Mark the warning as strata's own: Kustomize prints nothing there.
    pub fn ours(mut self) -> Warning {
        self.ours = true;
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Warning {
        self.help = Some(help.into());
        self
    }

    pub fn at(mut self, location: Location) -> Warning {
        self.file = Some(location.file.clone());
        self.location = Some(location);
        self
    }

    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Warning {
        self.file = Some(file.into());
        self
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.kustomize)
    }
}
