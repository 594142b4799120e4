//! `notation blob policy show`.

use std::io::Write;

use notation_host::trustpolicy::blob::BlobTrustPolicy;
use notation_host::trustpolicy::read_capped;

use super::Error;
use crate::cli::Context;
use crate::error::policy_read_reason;

/// Prints `trustpolicy.blob.json` byte for byte. An invalid policy is still
/// printed (so it can be exported, fixed and imported again), and then the
/// command fails, as upstream's does.
pub(super) fn run(ctx: &Context, out: &mut dyn Write) -> Result<(), Error> {
    let path = ctx.config.blob_trust_policy_file();
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(Error::PolicyShowMissing {
            kind: "blob",
            import: "notation blob policy import <path-to-policy.json>",
        });
    }
    let bytes = read_capped(&path).map_err(|e| Error::PolicyShowRead {
        kind: "blob",
        reason: policy_read_reason(&e),
    })?;
    out.write_all(&bytes)?;
    match BlobTrustPolicy::from_json(&bytes) {
        Ok(_) => Ok(()),
        Err(source) => Err(Error::InvalidExistingBlobPolicy { path, source }),
    }
}
