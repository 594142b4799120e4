//! `notation verify`: verify an artifact's signatures against the trust
//! policy and trust store. Passes when any signature passes (upstream
//! semantics); signatures are tried in order until one passes.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use notation_host::registry::oci::ANNOTATION_THUMBPRINTS;
use notation_host::registry::Descriptor;
use notation_host::trustpolicy::{TrustPolicy, VerificationLevel};
use notation_host::truststore::{StoreRef, StoreType, TrustStore};
use notation_host::verifier::{
    check_level_line, failure_line, ArtifactFailure, ArtifactOutcome, Check, CheckStatus,
    NotChecked, SignatureOutcome, Verifier, VerifyInput,
};

use super::args::{OutputFormat, VerifyArgs};
use super::list::{discover, open, pretty};
use super::output::{parse_key_values, Table};
use super::x509fmt::sha256_fingerprint;
use super::Context;
use crate::error::CliError;

/// Verifies and prints `Successfully verified signature for REF@DIGEST`.
pub fn run(ctx: &Context, args: VerifyArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let user_metadata = parse_key_values("user-metadata", &args.user_metadata)?;
    let plugin_config = parse_key_values("plugin-config", &args.plugin_config)?;
    let (policy, _) = TrustPolicy::load(ctx.config.root())?;
    let verifier = Verifier::new(
        policy,
        TrustStore::from_config_dir(ctx.config.root()),
        Some(ctx.config.plugins_dir()),
    );

    // Policy scope: the repository, or --scope for a layout.
    let scope = if args.oci_layout {
        args.scope.clone().ok_or(CliError::MissingScope)?
    } else {
        // Parse the reference (without network) to learn the repository.
        let opened = open(ctx, &args.reference, false, &args.registry)?;
        opened
            .policy_scope
            .clone()
            .unwrap_or_else(|| opened.repository_ref.clone())
    };
    for w in verifier.policy().warnings() {
        eprintln!("Warning: {w}");
    }
    let statement = verifier
        .statement_for(&scope)
        .map_err(CliError::statement_lookup(&args.reference))?;
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
    if statement.verification.level == VerificationLevel::Skip {
        let opened = open(ctx, &args.reference, args.oci_layout, &args.registry)?;
        let subject = opened.resolve()?;
        let reference = opened.digest_reference(&subject.digest);
        return match args.output {
            OutputFormat::Json => {
                let doc = serde_json::json!({
                    "reference": reference,
                    "result": "skipped",
                    "trustPolicy": statement.name,
                    "level": "skip",
                    "signatures": [],
                });
                writeln!(out, "{}", pretty(&doc))?;
                Ok(())
            }
            OutputFormat::Text => {
                writeln!(
                    out,
                    "Trust policy is configured to skip signature verification for {reference}"
                )?;
                Ok(())
            }
        };
    }

    let (opened, subject, signatures) = discover(
        ctx,
        &args.reference,
        args.oci_layout,
        &args.registry,
        "verify",
        args.max_signatures,
    )?;
    let reference = opened.digest_reference(&subject.digest);
    if signatures.is_empty() {
        return Err(ArtifactFailure::NoSignature { reference }.into());
    }
    let signatures = prefer_trusted(ctx, &statement.trust_stores, signatures);

    let mut outcomes: Vec<SignatureOutcome> = Vec::new();
    let mut digests: Vec<String> = Vec::new();
    let mut fetch_errors: Vec<(String, String)> = Vec::new();
    for desc in &signatures {
        let sig = match opened.store.fetch_signature(desc) {
            Ok(s) => s,
            Err(e) => {
                if args.logging.detailed() {
                    eprintln!("Signature {}: cannot be fetched: {e}", desc.digest);
                }
                fetch_errors.push((desc.digest.clone(), e.to_string()));
                continue;
            }
        };
        let input = VerifyInput {
            repository: scope.clone(),
            target_digest: subject.digest.clone(),
            target_size: Some(subject.size),
            target_media_type: Some(subject.media_type.clone()),
            envelope: sig.envelope,
            envelope_media_type: sig.envelope_descriptor.media_type.clone(),
            user_metadata: user_metadata.clone(),
            plugin_config: plugin_config.clone(),
        };
        let outcome = verifier.verify_signature(&input)?;
        if args.logging.detailed() {
            for line in outcome.debug_lines(&subject.digest, &desc.digest) {
                eprintln!("{line}");
            }
        }
        let passed = outcome.passed();
        digests.push(desc.digest.clone());
        outcomes.push(outcome);
        if passed {
            break;
        }
    }

    let artifact = ArtifactOutcome {
        statement: statement.name.clone(),
        level: statement.verification.level,
        signatures: outcomes,
    };

    if args.output == OutputFormat::Json {
        writeln!(
            out,
            "{}",
            pretty(&json_report(&reference, &artifact, &digests, &fetch_errors))
        )?;
    }
    let Some(accepted) = artifact.accepted() else {
        let (check, reason) = match artifact.most_relevant_failure() {
            Some((_, check, failure)) => (check.to_string(), failure_line(check, failure)),
            None => match fetch_errors.first() {
                Some((digest, e)) => (
                    "integrity".to_string(),
                    format!("signature {digest} could not be fetched: {e}"),
                ),
                None => (
                    "integrity".to_string(),
                    "no signature could be verified".to_string(),
                ),
            },
        };
        return Err(CliError::VerificationFailed {
            reference,
            check,
            reason,
        });
    };
    if args.output == OutputFormat::Json {
        return Ok(());
    }

    print_verified(
        out,
        &reference,
        accepted,
        "The artifact was signed with the following user metadata.",
    )
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

/// Puts first the signatures whose manifest annotation
/// `io.cncf.notary.x509chain.thumbprint#S256` names a certificate of the
/// statement's trust stores, so the signature most likely to pass is tried
/// first. Only the order changes: every signature is still examined until
/// one passes, so the outcome is the same as without the hint.
fn prefer_trusted(
    ctx: &Context,
    stores: &[StoreRef],
    signatures: Vec<Descriptor>,
) -> Vec<Descriptor> {
    let trust_store = TrustStore::from_config_dir(ctx.config.root());
    let mut trusted = HashSet::new();
    for r in stores.iter().filter(|r| r.store_type != StoreType::Tsa) {
        if let Ok(store) = trust_store.load(r.store_type, &r.name) {
            for c in &store.certificates {
                trusted.insert(sha256_fingerprint(&c.certificate));
            }
        }
    }
    let matches = |d: &Descriptor| {
        d.annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_THUMBPRINTS))
            .and_then(|v| serde_json::from_str::<Vec<String>>(v).ok())
            .is_some_and(|prints| {
                prints
                    .iter()
                    .any(|p| trusted.contains(&p.to_ascii_lowercase()))
            })
    };
    let (mut first, rest): (Vec<_>, Vec<_>) = signatures.into_iter().partition(|d| matches(d));
    first.extend(rest);
    first
}

fn status_text(s: &CheckStatus) -> (&'static str, Option<String>) {
    match s {
        CheckStatus::Passed => ("passed", None),
        CheckStatus::Failed(f) => ("failed", Some(f.to_string())),
        CheckStatus::Logged(f) => ("failed (logged)", Some(f.to_string())),
        CheckStatus::Skipped => ("skipped", None),
        CheckStatus::NotChecked(NotChecked::NotApplicable) => ("not applicable", None),
        CheckStatus::NotEvaluated => ("not evaluated", None),
    }
}

fn json_report(
    reference: &str,
    artifact: &ArtifactOutcome,
    digests: &[String],
    fetch_errors: &[(String, String)],
) -> serde_json::Value {
    let signatures: Vec<serde_json::Value> = artifact
        .signatures
        .iter()
        .zip(digests)
        .map(|(o, digest)| {
            let checks: BTreeMap<String, serde_json::Value> = Check::ALL
                .iter()
                .map(|c| {
                    let (status, detail) = status_text(o.status(*c));
                    let mut v = serde_json::json!({ "result": status });
                    if let Some(d) = detail {
                        v["error"] = d.into();
                    }
                    (c.as_str().to_string(), v)
                })
                .collect();
            serde_json::json!({
                "digest": digest,
                "result": if o.passed() { "passed" } else { "failed" },
                "signer": o.signer,
                "checks": checks,
                "userMetadata": o.payload.as_ref().and_then(|p| p.target_artifact.annotations.clone()).unwrap_or_default(),
            })
        })
        .chain(fetch_errors.iter().map(|(d, e)| {
            serde_json::json!({ "digest": d, "result": "failed", "error": e })
        }))
        .collect();
    serde_json::json!({
        "reference": reference,
        "result": if artifact.passed() { "passed" } else { "failed" },
        "trustPolicy": artifact.statement,
        "level": artifact.level.as_str(),
        "signatures": signatures,
    })
}
