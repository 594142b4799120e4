//! `notation completion SHELL`: shell completion scripts.

use std::io::Write;

use super::args::{Cli, CompletionArgs};
use crate::error::CliError;

/// Writes the completion script for the requested shell.
pub fn run(args: &CompletionArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut cmd = Cli::build_command();
    clap_complete::generate(args.shell, &mut cmd, "notation", out);
    Ok(())
}
