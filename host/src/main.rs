//! `notation`: sign and verify OCI artifacts (Notary Project).
//!
//! Parses the command line, runs the command, and maps errors to messages
//! and exit codes in one place: usage errors are clap's (exit code 2),
//! every other failure prints `Error: ...` on stderr and exits with 1.

mod cli;
mod error;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let parsed = cli::args::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = cli::dispatch(parsed, &mut out);
    let flushed = out.flush();
    match result.and(flushed.map_err(error::CliError::Terminal)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", capitalize(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// Error lines start with a capital letter (upstream's guideline).
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
