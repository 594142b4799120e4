//! `notation policy ...`: the OCI trust policy (`trustpolicy.oci.json`).

mod import;
mod init;
mod show;

use std::io::Write;

use notation_host::fsutil::{atomic_write, MODE_PRIVATE};

use super::args::PolicyCommand;
use super::output::confirm;
use super::Context;
use crate::error::{go_io_reason, CliError, ImportStep};

/// Runs a `policy` subcommand.
pub fn run(ctx: &Context, cmd: PolicyCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        PolicyCommand::Import(a) => import::run(ctx, a, out),
        PolicyCommand::Show => show::run(ctx, out),
        PolicyCommand::Init(a) => init::run(ctx, a, out),
    }
}

/// Asks before replacing an existing policy (unless `force`, which warns).
/// Returns false when the user declines. As upstream, an existing file that
/// cannot be read as a trust policy document (malformed JSON, wrong field
/// types) is replaced without asking: there is nothing usable to keep.
fn may_overwrite(ctx: &Context, force: bool) -> Result<bool, CliError> {
    let Some(existing) = notation_host::trustpolicy::oci_policy_path(ctx.config.root()) else {
        return Ok(true);
    };
    if force {
        eprintln!("Warning: existing OCI trust policy configuration will be overwritten");
        return Ok(true);
    }
    let readable = notation_host::trustpolicy::read_capped(&existing)
        .ok()
        .is_some_and(|bytes| {
            serde_json::from_slice::<notation_host::trustpolicy::TrustPolicyDocument>(&bytes)
                .is_ok()
        });
    if !readable {
        return Ok(true);
    }
    confirm(
        "The OCI trust policy configuration already exists, do you want to overwrite it?",
        false,
    )
}

/// Writes the new policy as `trustpolicy.oci.json` and removes a legacy
/// `trustpolicy.json` so it cannot shadow or confuse; a legacy file that
/// cannot be removed is only a warning, as upstream's.
fn write_policy(ctx: &Context, bytes: &[u8], out: &mut dyn Write) -> Result<(), CliError> {
    let path = ctx.config.oci_trust_policy_file();
    atomic_write(&path, bytes, MODE_PRIVATE).map_err(|e| CliError::PolicyImport {
        kind: "OCI",
        step: ImportStep::Write,
        reason: format!("{}: {}", path.display(), go_io_reason(&e)),
    })?;
    let legacy = ctx.config.legacy_trust_policy_file();
    match std::fs::remove_file(&legacy) {
        Ok(()) => writeln!(
            out,
            "Deleted old trust policy configuration trustpolicy.json."
        )?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => eprintln!(
            "Warning: failed to clean old trust policy configuration {}: {}",
            legacy.display(),
            go_io_reason(&e)
        ),
    }
    Ok(())
}
