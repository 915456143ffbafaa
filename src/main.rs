//! The `strata` binary: parse arguments, call the library, map the result to an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}

// Rendering allocates many small strings and maps; mimalloc is measurably faster here.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
