//! `notation blob policy show`.

use std::io::Write;

use notation_host::trustpolicy::blob::BlobTrustPolicy;
use notation_host::trustpolicy::read_capped;

use super::Error;
use crate::cli::Context;
use crate::error::policy_read_reason;

/// Prints `trustpolicy.blob.json` byte for byte. An invalid policy is still
/// printed (so it can be exported, fixed and imported again) after the
/// reason and a hint on stderr; as upstream's, the command then succeeds.
pub(super) fn run(ctx: &Context, out: &mut dyn Write) -> Result<(), Error> {
    let path = ctx.config.blob_trust_policy_file();
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(Error::PolicyShowMissing {
            kind: "blob",
            import: "notation blob policy import <path-to-policy.json>",
        });
    }
    let bytes = read_capped(&path).map_err(|e| Error::PolicyShowRead {
        // upstream's blob command says "trust policy" here
        kind: "",
        reason: policy_read_reason(&e),
    })?;
    if let Err(reason) = BlobTrustPolicy::from_json(&bytes) {
        eprintln!("Error: {reason}");
        eprintln!(
            "Existing blob trust policy configuration is invalid, you may update or create a new one via `notation blob policy import <path-to-policy.json>` ({})",
            path.display()
        );
    }
    out.write_all(&bytes)?;
    Ok(())
}
