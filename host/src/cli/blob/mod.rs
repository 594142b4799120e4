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

/// Refuses a signature file name upstream refuses: one ending in `.sig`
/// must be `NAME.FORMAT.sig` with FORMAT `jws` or `cose`. Other names are
/// accepted (the format is then read from the content).
fn check_signature_name(path: &std::path::Path) -> Result<(), CliError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.to_ascii_lowercase().ends_with(".sig") {
        return Ok(());
    }
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() < 3 {
        return Err(CliError::InvalidSignatureFileName { name });
    }
    let format = parts[parts.len() - 2].to_ascii_lowercase();
    if format != "jws" && format != "cose" {
        return Err(CliError::UnsupportedSignatureFileFormat { format });
    }
    Ok(())
}

/// Runs a `blob` subcommand.
pub fn run(ctx: &Context, cmd: BlobCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        BlobCommand::Sign(a) => sign::run(ctx, a, out),
        BlobCommand::Verify(a) => verify::run(ctx, a, out),
        BlobCommand::Inspect(a) => inspect::run(a, out),
        BlobCommand::Policy(c) => policy::run(ctx, c, out),
    }
}
