//! `notation blob policy import [--force] FILE`.

use std::io::Write;

use notation_host::trustpolicy::blob::{BlobPolicyError, BlobTrustPolicy};
use notation_host::trustpolicy::{read_capped, PolicyError};

use super::Error;
use crate::cli::args::BlobPolicyImportArgs;
use crate::cli::Context;
use crate::error::{policy_read_reason, CliError, ImportStep};

/// Validates FILE and installs it, byte for byte, as the blob trust policy.
pub(super) fn run(
    ctx: &Context,
    args: BlobPolicyImportArgs,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let failed = |step, reason| CliError::PolicyImport {
        kind: "blob",
        step,
        reason,
    };
    let bytes =
        read_capped(&args.file).map_err(|e| failed(ImportStep::Read, policy_read_reason(&e)))?;
    BlobTrustPolicy::from_json(&bytes).map_err(|e| match e {
        BlobPolicyError::Policy(PolicyError::Json { source }) => {
            failed(ImportStep::Parse, source.to_string())
        }
        other => failed(ImportStep::Validate, other.to_string()),
    })?;
    if !super::may_overwrite(ctx, args.force)? {
        return Ok(());
    }
    super::write_policy(ctx, &bytes)?;
    writeln!(
        out,
        "Successfully imported blob trust policy configuration to {}.",
        ctx.config.blob_trust_policy_file().display()
    )?;
    Ok(())
}
