//! `strata completions SHELL` and `strata man`: the shell completion script (clap_complete)
//! and the manual page (clap_mangen, roff), both made from the clap definition, so they
//! never drift from the real flags.

use super::args::Args;
use crate::Error;
use clap::CommandFactory;

pub fn completions(shell: clap_complete::Shell) -> Result<(), Vec<Error>> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Args::command(), "strata", &mut out);
    super::print(&String::from_utf8_lossy(&out))
}

pub fn man() -> Result<(), Vec<Error>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Args::command())
        .render(&mut out)
        .map_err(|e| vec![Error::new(format!("cannot write the manual page: {e}"))])?;
    super::print(&String::from_utf8_lossy(&out))
}
