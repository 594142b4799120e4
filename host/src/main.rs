//! `notation`: sign and verify OCI artifacts (Notary Project).
//!
//! Parses the command line, runs the command, and maps errors to messages
//! and exit codes in one place, as upstream does: help (`--help`, or a
//! command group such as `notation key` given without a subcommand) goes to
//! stdout with exit code 0; every failure, usage errors included, prints
//! `Error: ...` on stderr and exits with 1. The message is printed as is,
//! as cobra prints upstream's: upstream's phrases are an interface that
//! scripts and searches match exactly, so their first letter keeps its case.

mod cli;
mod error;

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut parsed = match cli::args::Cli::parse_args(&argv) {
        Ok(parsed) => parsed,
        Err(e) => return usage(&e, &argv),
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
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Handles what the parser did not turn into a command: help is printed on
/// stdout (exit 0); anything else is a usage error, worded as upstream's
/// cobra words it (see `cli::usage`) and reported like every other error
/// (exit 1; upstream silences the usage block).
fn usage(e: &clap::Error, argv: &[std::ffi::OsString]) -> ExitCode {
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
            let message = cli::usage::cobra_message(&cli::args::Cli::build_command(), argv, e);
            eprintln!("Error: {message}");
            ExitCode::FAILURE
        }
    }
}
