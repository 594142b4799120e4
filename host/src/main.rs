//! `notation`: sign and verify OCI artifacts (Notary Project).
//!
//! Parses the command line, runs the command, and maps errors to messages
//! and exit codes in one place, as upstream does: help (`--help`, or a
//! command group such as `notation key` given without a subcommand) goes to
//! stdout with exit code 0; every failure, usage errors included, prints
//! `Error: ...` (capitalised) on stderr and exits with 1.

mod cli;
mod error;

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;

fn main() -> ExitCode {
    let mut parsed = match cli::args::Cli::parse_args(std::env::args_os()) {
        Ok(parsed) => parsed,
        Err(e) => return usage(&e),
    };
    for warning in parsed.apply_deprecated_flags() {
        eprintln!("Warning: {warning}");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = cli::dispatch(parsed, &mut out);
    let flushed = out.flush();
    match result.and(flushed.map_err(error::CliError::Terminal)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Upstream's words as upstream prints them (`Error: trust
            // policy is not present...`): not capitalised, so that scripts
            // and searches for upstream's messages match.
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Handles what the parser did not turn into a command: help is printed on
/// stdout (exit 0); anything else is a usage error, reported like every
/// other error while keeping clap's explanation and usage line (exit 1).
fn usage(e: &clap::Error) -> ExitCode {
    let text = e.render().to_string();
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            #[allow(clippy::print_stdout)]
            {
                print!("{text}");
            }
            ExitCode::SUCCESS
        }
        _ => {
            let message = text.strip_prefix("error: ").unwrap_or(&text);
            eprint!("Error: {}", capitalize(message));
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
