//! `notation policy import [--force] FILE`.

use std::io::Write;

use notation_host::trustpolicy::{read_capped, PolicyError, TrustPolicy};

use crate::cli::args::PolicyImportArgs;
use crate::cli::Context;
use crate::error::{policy_read_reason, CliError, ImportStep};

/// Validates FILE and installs it as the OCI trust policy.
pub fn run(ctx: &Context, args: PolicyImportArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let failed = |step, reason| CliError::PolicyImport {
        kind: "OCI",
        step,
        reason,
    };
    let bytes =
        read_capped(&args.file).map_err(|e| failed(ImportStep::Read, policy_read_reason(&e)))?;
    let policy = TrustPolicy::from_json(&bytes).map_err(|e| match e {
        PolicyError::Json { source } => failed(ImportStep::Parse, source.to_string()),
        other => failed(ImportStep::Validate, other.to_string()),
    })?;
    // Accepted as upstream accepts it, but said (e.g. `skip` on `*`).
    for w in policy.warnings() {
        eprintln!("Warning: {w}");
    }
    if !super::may_overwrite(ctx, args.force)? {
        return Ok(());
    }
    super::write_policy(ctx, &bytes, out)?;
    writeln!(
        out,
        "Successfully imported OCI trust policy configuration to {}.",
        ctx.config.oci_trust_policy_file().display()
    )?;
    Ok(())
}
