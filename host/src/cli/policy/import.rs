//! `notation policy import [--force] FILE`.

use std::io::Write;

use notation_host::trustpolicy::{read_capped, TrustPolicy};

use crate::cli::args::PolicyImportArgs;
use crate::cli::Context;
use crate::error::CliError;

/// Validates FILE and installs it as the OCI trust policy.
pub fn run(ctx: &Context, args: PolicyImportArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let import_err = |source| CliError::PolicyImport {
        path: args.file.clone(),
        source,
    };
    let bytes = read_capped(&args.file).map_err(import_err)?;
    TrustPolicy::from_json(&bytes).map_err(import_err)?;
    if !super::may_overwrite(ctx, args.force)? {
        return Ok(());
    }
    if super::write_policy(ctx, &bytes)? {
        writeln!(out, "Cleaned old trust policy file.")?;
    }
    writeln!(
        out,
        "Successfully imported OCI trust policy configuration to {}",
        ctx.config.oci_trust_policy_file().display()
    )?;
    Ok(())
}
