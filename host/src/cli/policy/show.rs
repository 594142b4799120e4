//! `notation policy show`.

use std::io::Write;

use notation_host::trustpolicy::{oci_policy_path, read_capped, PolicyError, TrustPolicy};

use crate::cli::Context;
use crate::error::CliError;

/// Prints the trust policy file in effect, byte for byte. An invalid policy
/// is still printed (so it can be fixed), and then the command fails, as
/// upstream's does.
pub fn run(ctx: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let root = ctx.config.root();
    let path = oci_policy_path(root).ok_or_else(|| PolicyError::NotFound {
        oci: ctx.config.oci_trust_policy_file(),
        legacy: ctx.config.legacy_trust_policy_file(),
    })?;
    let bytes = read_capped(&path)?;
    out.write_all(&bytes)?;
    match TrustPolicy::from_json(&bytes) {
        Ok(_) => Ok(()),
        Err(source) => Err(CliError::InvalidExistingPolicy { path, source }),
    }
}
