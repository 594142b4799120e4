//! `notation policy show`.

use std::io::Write;

use notation_host::trustpolicy::{oci_policy_path, read_capped, PolicyError, TrustPolicy};

use crate::cli::Context;
use crate::error::CliError;

/// Prints the trust policy file in effect, byte for byte. An invalid policy
/// is still printed (so it can be fixed), after an error on stderr.
pub fn run(ctx: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let root = ctx.config.root();
    let path = oci_policy_path(root).ok_or_else(|| PolicyError::NotFound {
        oci: ctx.config.oci_trust_policy_file(),
        legacy: ctx.config.legacy_trust_policy_file(),
    })?;
    let bytes = read_capped(&path)?;
    if let Err(source) = TrustPolicy::from_json(&bytes) {
        eprintln!(
            "{}",
            CliError::InvalidExistingPolicy {
                path: path.clone(),
                source
            }
        );
    }
    out.write_all(&bytes)?;
    Ok(())
}
