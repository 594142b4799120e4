//! `notation blob policy import [--force] FILE`.

use std::io::Write;

use notation_host::trustpolicy::blob::BlobTrustPolicy;
use notation_host::trustpolicy::read_capped;

use super::Error;
use crate::cli::args::BlobPolicyImportArgs;
use crate::cli::Context;
use crate::error::CliError;

/// Validates FILE and installs it, byte for byte, as the blob trust policy.
pub(super) fn run(
    ctx: &Context,
    args: BlobPolicyImportArgs,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let bytes = read_capped(&args.file).map_err(|source| CliError::PolicyImport {
        path: args.file.clone(),
        source,
    })?;
    BlobTrustPolicy::from_json(&bytes)?;
    if !super::may_overwrite(ctx, args.force)? {
        return Ok(());
    }
    super::write_policy(ctx, &bytes)?;
    writeln!(out, "Successfully imported blob trust policy file.")?;
    Ok(())
}
