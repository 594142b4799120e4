//! `notation verify`: verify an artifact's signatures against the trust
//! policy and trust store, through [`notation_host::verification`]. Passes
//! when any signature passes (upstream semantics).

use std::io::Write;

use notation_host::verification::{ArtifactVerifier, VerificationError, VerifyOptions};
use notation_host::verifier::{check_level_line, SignatureOutcome};

use super::args::{OutputFormat, VerifyArgs};
use super::list::pretty;
use super::output::{parse_key_values, Table};
use super::Context;
use crate::error::CliError;

/// Verifies and prints `Successfully verified signature for REF@DIGEST`.
pub fn run(ctx: &Context, args: VerifyArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let user_metadata = parse_key_values("user-metadata", &args.user_metadata)?;
    let plugin_config = parse_key_values("plugin-config", &args.plugin_config)?;
    let verifier = ArtifactVerifier::from_config_dir(ctx.config.clone()).map_err(cli_error)?;
    let (warnings, shown) = std::sync::mpsc::channel();
    let options = VerifyOptions {
        oci_layout: args.oci_layout,
        scope: args.scope.clone(),
        max_signatures: usize::try_from(args.max_signatures).unwrap_or(usize::MAX),
        user_metadata,
        plugin_config,
        insecure: args.registry.insecure_registry,
        username: args.registry.username.clone(),
        password: args.registry.password.clone(),
        warnings: Some(warnings),
        ..VerifyOptions::default()
    };
    for w in verifier.engine().policy().warnings() {
        eprintln!("Warning: {w}");
    }
    // The statement is looked up before any network access, so that a
    // missing statement is reported first (and `-d` names it, as upstream).
    let statement = verifier
        .statement(&args.reference, &options)
        .map_err(|e| verify_error(&args.reference, e))?;
    if args.logging.debug {
        eprintln!(
            "{}",
            check_level_line(
                &args.reference,
                &statement.name,
                statement.verification.level
            )
        );
    }
    let result = verifier.verify(&args.reference, &options);
    drop(options);
    // Shown whether or not verification succeeded (the tag warning comes
    // before a "no signature" error, as upstream prints it).
    for w in shown.try_iter() {
        eprintln!("Warning: {w}");
    }
    let report = result.map_err(|e| verify_error(&args.reference, e))?;
    if report.skipped() {
        return match args.output {
            OutputFormat::Json => {
                writeln!(out, "{}", pretty(&report.to_json()))?;
                Ok(())
            }
            OutputFormat::Text => {
                writeln!(
                    out,
                    "Trust policy is configured to skip signature verification for {}",
                    report.reference
                )?;
                Ok(())
            }
        };
    }
    if args.logging.detailed() {
        for (digest, e) in &report.fetch_errors {
            eprintln!("Signature {digest}: cannot be fetched: {e}");
        }
        for (digest, outcome) in report.verified_digests().zip(&report.outcome.signatures) {
            for line in outcome.debug_lines(&report.subject.digest, digest) {
                eprintln!("{line}");
            }
        }
    }
    if args.output == OutputFormat::Json {
        writeln!(out, "{}", pretty(&report.to_json()))?;
    }
    let Some(accepted) = report.accepted() else {
        let (check, reason) = report.failure().unwrap_or_else(|| {
            (
                "integrity".to_string(),
                "no signature could be verified".to_string(),
            )
        });
        return Err(CliError::VerificationFailed {
            reference: report.reference.clone(),
            check,
            reason,
        });
    };
    if args.output == OutputFormat::Json {
        return Ok(());
    }

    print_verified(
        out,
        &report.reference,
        accepted,
        "The artifact was signed with the following user metadata.",
    )
}

/// The CLI error for a library verification error: the same variants the
/// CLI used before the library existed, so messages do not change.
pub(super) fn cli_error(e: VerificationError) -> CliError {
    match e {
        VerificationError::Policy(e) => e.into(),
        VerificationError::Artifact(e) => e.into(),
        VerificationError::Registry(e) => e.into(),
        VerificationError::NoSignature(e) => e.into(),
        VerificationError::MissingScope => CliError::MissingScope,
        other => CliError::Verify(other),
    }
}

/// [`cli_error`], with a missing statement named after the reference given
/// (as upstream words it).
fn verify_error(reference: &str, e: VerificationError) -> CliError {
    match e {
        VerificationError::Policy(e) => CliError::statement_lookup(reference)(e),
        other => cli_error(other),
    }
}

/// The success report of `verify` and `blob verify`: logged failures as
/// warnings on stderr, the line scripts look for, then the signed user
/// metadata under `metadata_heading`.
pub(super) fn print_verified(
    out: &mut dyn Write,
    reference: &str,
    accepted: &SignatureOutcome,
    metadata_heading: &str,
) -> Result<(), CliError> {
    let mut warned = false;
    for (check, failure) in accepted.logged_failures() {
        eprintln!("Warning: {check} was set to \"log\" and failed with error: {failure}");
        warned = true;
    }
    if warned {
        writeln!(out)?;
    }
    writeln!(out, "Successfully verified signature for {reference}")?;
    let metadata = accepted
        .payload
        .as_ref()
        .and_then(|p| p.target_artifact.annotations.clone())
        .unwrap_or_default();
    if !metadata.is_empty() {
        writeln!(out, "\n{metadata_heading}\n")?;
        let mut table = Table::new(&["KEY", "VALUE"]);
        for (k, v) in metadata {
            table.row(vec![k, v]);
        }
        table.write(out)?;
    }
    Ok(())
}
