//! The `strata` binary: parse arguments, call the library, map the result to an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
