//! `notation blob verify --signature SIG [--policy-name N] BLOB_PATH`.

use std::io::Write;

use notation_host::blob::{self, BlobError, BlobVerifyRequest};
use notation_host::trustpolicy::blob::{BlobTrustPolicy, PolicySelector};
use notation_host::trustpolicy::VerificationLevel;
use notation_host::truststore::TrustStore;

use super::Error;
use crate::cli::args::BlobVerifyArgs;
use crate::cli::output::parse_key_values;
use crate::cli::Context;

/// Verifies and prints `Successfully verified signature for PATH`, then the
/// signed user metadata, if any.
pub(super) fn run(ctx: &Context, args: BlobVerifyArgs, out: &mut dyn Write) -> Result<(), Error> {
    let user_metadata = parse_key_values("user-metadata", &args.user_metadata)?;
    let plugin_config = parse_key_values("plugin-config", &args.plugin_config)?;
    let policy = BlobTrustPolicy::load(ctx.config.root())?;
    let selector = match &args.policy_name {
        Some(name) => PolicySelector::Name(name.clone()),
        None => PolicySelector::Global,
    };
    let statement = policy
        .select(&selector)
        .map_err(BlobError::NoApplicablePolicy)?;
    let blob_shown = args.blob.display();
    if statement.verification.level == VerificationLevel::Skip {
        writeln!(
            out,
            "Trust policy is configured to skip signature verification for {blob_shown}"
        )?;
        return Ok(());
    }
    super::check_signature_name(&args.signature)?;
    let signature = blob::read_signature(&args.signature)?;
    let format = blob::signature_format(&args.signature, &signature);
    let verifier = blob::verifier(
        statement,
        TrustStore::from_config_dir(ctx.config.root()),
        Some(ctx.config.plugins_dir()),
    );
    let request = BlobVerifyRequest {
        blob: &args.blob,
        signature: &signature,
        format,
        media_type: args.media_type.clone(),
        user_metadata,
        plugin_config,
    };
    if args.logging.detailed() {
        // Upstream's log lines for this step (notation-go's VerifyBlob).
        eprintln!(
            "Trust policy configuration: Name:{} level:{}",
            statement.name, statement.verification.level
        );
        eprintln!("Verify signature of media type {}", format.media_type());
    }
    let result = blob::verify(&verifier, &request);
    if let (true, Ok(outcome)) = (args.logging.detailed(), &result) {
        let digest = outcome
            .payload
            .as_ref()
            .map(|p| p.target_artifact.digest.clone())
            .unwrap_or_default();
        for line in outcome.debug_lines(&digest, &args.signature.display().to_string()) {
            eprintln!("{line}");
        }
    }
    if args.logging.detailed() {
        eprintln!(
            "Verified {} against blob trust policy {:?} (level {}, {} envelope)",
            args.signature.display(),
            statement.name,
            statement.verification.level,
            format
        );
    }
    let outcome = result?;
    crate::cli::verify::print_verified(
        out,
        &blob_shown.to_string(),
        &outcome,
        "The signature contains the following user metadata:",
    )
}
