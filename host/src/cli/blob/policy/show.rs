//! `notation blob policy show`.

use std::io::Write;

use notation_host::trustpolicy::blob::{BlobPolicyError, BlobTrustPolicy};
use notation_host::trustpolicy::read_capped;

use super::Error;
use crate::cli::Context;

/// Prints `trustpolicy.blob.json` byte for byte. An invalid policy is still
/// printed (so it can be exported, fixed and imported again), after an
/// error on stderr.
pub(super) fn run(ctx: &Context, out: &mut dyn Write) -> Result<(), Error> {
    let path = ctx.config.blob_trust_policy_file();
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(BlobPolicyError::NotFound { path }.into());
    }
    let bytes = read_capped(&path).map_err(BlobPolicyError::from)?;
    if let Err(e) = BlobTrustPolicy::from_json(&bytes) {
        eprintln!(
            "Error: existing blob trust policy configuration {} is invalid: {e}. You may update or create a new one via `notation blob policy import <path-to-policy.json>`",
            path.display()
        );
    }
    out.write_all(&bytes)?;
    Ok(())
}
