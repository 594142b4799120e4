//! `notation inspect`: every signature of an artifact in detail, as
//! upstream's tree or as JSON.

use std::io::Write;

use notation_host::registry::oci::ARTIFACT_TYPE_NOTARY_SIGNATURE;
use notation_host::registry::Descriptor;
use notation_plugin_sdk::envelope::{self, EnvelopeFormat, SignatureEnvelope};
use openssl::x509::X509;

use super::args::{InspectArgs, OutputFormat};
use super::list::{discover, pretty};
use super::output::{format_rfc3339, format_tree_time, Node};
use super::x509fmt::{name_string, sha256_fingerprint, to_datetime};
use super::Context;
use crate::error::CliError;

/// Prints the details of every signature.
pub fn run(ctx: &Context, args: InspectArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (opened, subject, signatures) = discover(
        ctx,
        &args.reference,
        args.oci_layout,
        &args.registry,
        "inspect",
        args.max_signatures,
    )?;
    let reference = opened.digest_reference(&subject.digest);
    let mut parsed: Vec<(Descriptor, Result<SignatureEnvelope, String>)> = Vec::new();
    for desc in signatures {
        let env = opened
            .store
            .fetch_signature(&desc)
            .map_err(|e| e.to_string())
            .and_then(|sig| {
                let format = EnvelopeFormat::from_media_type(&sig.envelope_descriptor.media_type)
                    .ok_or_else(|| {
                    format!(
                        "unsupported signature envelope type {:?}",
                        sig.envelope_descriptor.media_type
                    )
                })?;
                envelope::parse(format, &sig.envelope).map_err(|e| e.to_string())
            });
        parsed.push((desc, env));
    }
    match args.output {
        OutputFormat::Json => {
            let sigs: Vec<serde_json::Value> =
                parsed.iter().map(|(d, e)| json_signature(d, e)).collect();
            let doc = serde_json::json!({
                "mediaType": subject.media_type,
                "signatures": sigs,
            });
            writeln!(out, "{}", pretty(&doc))?;
        }
        OutputFormat::Text => {
            if parsed.is_empty() {
                writeln!(out, "{reference} has no associated signature")?;
                return Ok(());
            }
            writeln!(out, "Inspecting all signatures for signed artifact")?;
            let mut root = Node::new(reference);
            let node = root.add(ARTIFACT_TYPE_NOTARY_SIGNATURE);
            for (desc, env) in &parsed {
                let sig = node.add(desc.digest.clone());
                match env {
                    Ok(env) => tree_signature(sig, env),
                    Err(e) => {
                        sig.add_pair("error", e);
                    }
                }
            }
            root.write(out)?;
        }
    }
    Ok(())
}

fn attribute_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn cert_not_after(c: &X509) -> Option<time::OffsetDateTime> {
    to_datetime(c.not_after())
}

/// The details of one envelope under `node` (shared with `blob inspect`).
pub(super) fn tree_signature(node: &mut Node, env: &SignatureEnvelope) {
    node.add_pair("signature algorithm", env.signing_algorithm.as_str());
    node.add_pair("signature envelope type", env.format.media_type());
    let sa = &env.signed_attributes;
    let signed = node.add("signed attributes");
    signed.add_pair("content type", &sa.content_type);
    signed.add_pair("signing scheme", sa.signing_scheme.as_str());
    signed.add_pair("signing time", format_tree_time(sa.signing_time));
    if let Some(e) = sa.expiry {
        signed.add_pair("expiry", format_tree_time(e));
    }
    for ext in &sa.extended {
        signed.add_pair(&ext.key, attribute_value(&ext.value));
    }
    let payload = env.payload().ok();
    if let Some(meta) = payload
        .as_ref()
        .and_then(|p| p.target_artifact.annotations.as_ref())
        .filter(|m| !m.is_empty())
    {
        let user = node.add("user defined attributes");
        for (k, v) in meta {
            user.add_pair(k, v);
        }
    }
    let ua = &env.unsigned_attributes;
    let unsigned = node.add("unsigned attributes");
    if let Some(agent) = &ua.signing_agent {
        unsigned.add_pair("signing agent", agent);
    }
    if ua.timestamp_signature.is_some() {
        unsigned.add_pair(
            "timestamp signature",
            "present (not decoded by this version)",
        );
    }
    let certs = node.add("certificates");
    for c in &env.certificate_chain {
        let n = certs.add_pair("SHA256 fingerprint", sha256_fingerprint(c));
        n.add_pair("issued to", name_string(c.subject_name()));
        n.add_pair("issued by", name_string(c.issuer_name()));
        n.add_pair(
            "expiry",
            cert_not_after(c).map(format_tree_time).unwrap_or_default(),
        );
    }
    let artifact = node.add("signed artifact");
    match &payload {
        Some(p) => {
            artifact.add_pair("media type", &p.target_artifact.media_type);
            artifact.add_pair("digest", &p.target_artifact.digest);
            artifact.add_pair("size", p.target_artifact.size);
        }
        None => {
            artifact.add_pair("error", "the payload cannot be decoded");
        }
    }
}

fn json_signature(desc: &Descriptor, env: &Result<SignatureEnvelope, String>) -> serde_json::Value {
    match env {
        Ok(e) => {
            let mut v = json_envelope(e);
            v["digest"] = desc.digest.clone().into();
            v
        }
        Err(e) => serde_json::json!({ "digest": desc.digest, "error": e }),
    }
}

/// The details of one envelope as JSON (shared with `blob inspect`).
pub(super) fn json_envelope(env: &SignatureEnvelope) -> serde_json::Value {
    let sa = &env.signed_attributes;
    let mut signed = serde_json::Map::new();
    signed.insert("contentType".into(), sa.content_type.clone().into());
    signed.insert("signingScheme".into(), sa.signing_scheme.as_str().into());
    signed.insert("signingTime".into(), format_rfc3339(sa.signing_time).into());
    if let Some(e) = sa.expiry {
        signed.insert("expiry".into(), format_rfc3339(e).into());
    }
    for ext in &sa.extended {
        signed.insert(ext.key.clone(), ext.value.clone());
    }
    let payload = env.payload().ok();
    let mut unsigned = serde_json::Map::new();
    if let Some(agent) = &env.unsigned_attributes.signing_agent {
        unsigned.insert("signingAgent".into(), agent.clone().into());
    }
    let certs: Vec<serde_json::Value> = env
        .certificate_chain
        .iter()
        .map(|c| {
            serde_json::json!({
                "SHA256Fingerprint": sha256_fingerprint(c),
                "issuedTo": name_string(c.subject_name()),
                "issuedBy": name_string(c.issuer_name()),
                "expiry": cert_not_after(c).map(format_rfc3339).unwrap_or_default(),
            })
        })
        .collect();
    let mut v = serde_json::json!({
        "signatureAlgorithm": env.signing_algorithm.as_str(),
        "signatureEnvelopeType": env.format.media_type(),
        "signedAttributes": signed,
        "unsignedAttributes": unsigned,
        "certificates": certs,
    });
    if let Some(p) = &payload {
        if let Some(meta) = p
            .target_artifact
            .annotations
            .as_ref()
            .filter(|m| !m.is_empty())
        {
            v["userDefinedAttributes"] = serde_json::json!(meta);
        }
        v["signedArtifact"] = serde_json::json!({
            "mediaType": p.target_artifact.media_type,
            "digest": p.target_artifact.digest,
            "size": p.target_artifact.size,
        });
    }
    v
}
