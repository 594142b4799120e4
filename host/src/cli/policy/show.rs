//! `notation policy show`.

use std::io::Write;

use notation_host::trustpolicy::{oci_policy_path, read_capped, TrustPolicy};

use crate::cli::Context;
use crate::error::{policy_read_reason, CliError};

/// Prints the trust policy file in effect, byte for byte. An invalid policy
/// is still printed (so it can be fixed), and then the command fails, as
/// upstream's does.
pub fn run(ctx: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let path = oci_policy_path(ctx.config.root()).ok_or(CliError::PolicyShowMissing {
        kind: "OCI",
        import: "notation policy import <path-to-policy.json>",
    })?;
    let bytes = read_capped(&path).map_err(|e| CliError::PolicyShowRead {
        kind: "OCI ",
        reason: policy_read_reason(&e),
    })?;
    out.write_all(&bytes)?;
    match TrustPolicy::from_json(&bytes) {
        Ok(_) => Ok(()),
        Err(source) => Err(CliError::InvalidExistingPolicy { path, source }),
    }
}
