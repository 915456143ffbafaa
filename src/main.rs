//! The `strata` binary: the command line lives in the library (`strata::run`), as `just`
//! keeps it, so the library's modules stay private and only its API is public.

fn main() -> std::process::ExitCode {
    strata::run()
}
