//! `notation blob ...`: detached signatures of files, and the blob trust
//! policy (`trustpolicy.blob.json`).

mod inspect;
mod policy;
mod sign;
mod verify;

use std::io::Write;

use super::args::BlobCommand;
use super::Context;
use crate::error::CliError;

/// Blob subcommands fail with the CLI's one error type (blob and blob
/// policy errors convert into it).
type Error = CliError;

/// Runs a `blob` subcommand.
pub fn run(ctx: &Context, cmd: BlobCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        BlobCommand::Sign(a) => sign::run(ctx, a, out),
        BlobCommand::Verify(a) => verify::run(ctx, a, out),
        BlobCommand::Inspect(a) => inspect::run(a, out),
        BlobCommand::Policy(c) => policy::run(ctx, c, out),
    }
}
