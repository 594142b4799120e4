//! `notation blob policy ...`: the blob trust policy (`trustpolicy.blob.json`).

mod import;
mod init;
mod show;

use std::io::Write;

use notation_host::fsutil::{atomic_write, MODE_PRIVATE};

use super::Error;
use crate::cli::args::BlobPolicyCommand;
use crate::cli::output::confirm;
use crate::cli::Context;
use crate::error::{go_io_reason, CliError, ImportStep};

/// Runs a `blob policy` subcommand.
pub(super) fn run(ctx: &Context, cmd: BlobPolicyCommand, out: &mut dyn Write) -> Result<(), Error> {
    match cmd {
        BlobPolicyCommand::Import(a) => import::run(ctx, a, out),
        BlobPolicyCommand::Show => show::run(ctx, out),
        BlobPolicyCommand::Init(a) => init::run(ctx, a, out),
    }
}

/// Asks before replacing an existing blob policy (unless `force`, which
/// warns). Returns false when the user declines.
fn may_overwrite(ctx: &Context, force: bool) -> Result<bool, Error> {
    let path = ctx.config.blob_trust_policy_file();
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(true);
    }
    // As upstream, an existing file that is not even JSON is replaced
    // without asking: there is nothing usable to keep.
    let readable = notation_host::trustpolicy::read_capped(&path)
        .ok()
        .is_some_and(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).is_ok());
    if !readable {
        return Ok(true);
    }
    if force {
        eprintln!("Warning: existing blob trust policy configuration will be overwritten");
        return Ok(true);
    }
    confirm(
        "The blob trust policy configuration already exists, do you want to overwrite it?",
        false,
    )
}

/// Writes `trustpolicy.blob.json` atomically.
fn write_policy(ctx: &Context, bytes: &[u8]) -> Result<(), Error> {
    let path = ctx.config.blob_trust_policy_file();
    atomic_write(&path, bytes, MODE_PRIVATE).map_err(|e| CliError::PolicyImport {
        kind: "blob",
        step: ImportStep::Write,
        reason: format!("{}: {}", path.display(), go_io_reason(&e)),
    })?;
    Ok(())
}
