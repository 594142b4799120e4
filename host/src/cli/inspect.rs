//! `notation inspect`: every signature of an artifact in detail, as
//! upstream's tree or as JSON.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use notation_host::artifact::{self, Discovery, DEFAULT_CONCURRENCY};
use notation_host::registry::oci::ARTIFACT_TYPE_NOTARY_SIGNATURE;
use notation_host::registry::Descriptor;
use notation_host::timestamp::{self, TimestampError};
use notation_plugin_sdk::envelope::{self, EnvelopeFormat, SignatureEnvelope};
use openssl::x509::X509;

use super::args::{InspectArgs, OutputFormat};
use super::list::{discover, pretty};
use super::output::{format_rfc3339, format_tree_time, Node};
use super::x509fmt::{sha256_fingerprint, to_datetime};
use super::Context;
use crate::error::CliError;
use notation_host::verifier::chain::upstream_subject;

/// Prints the details of every signature.
pub fn run(ctx: &Context, args: InspectArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let Discovery {
        opened,
        subject,
        signatures,
        ..
    } = discover(
        ctx,
        &args.reference,
        args.oci_layout,
        &args.registry,
        "inspect",
        args.max_signatures,
    )?;
    let reference = opened.digest_reference(&subject.digest);
    // Every signature is read, DEFAULT_CONCURRENCY at a time, in order.
    let fetched =
        artifact::fetch_signatures(opened.store.as_ref(), &signatures, DEFAULT_CONCURRENCY);
    let mut parsed: Vec<(Descriptor, Result<SignatureEnvelope, String>)> = Vec::new();
    for (desc, fetched) in signatures.into_iter().zip(fetched) {
        let env = fetched.map_err(|e| e.to_string()).and_then(|sig| {
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
            let doc = InspectJson {
                media_type: subject.media_type.clone(),
                signatures: parsed
                    .iter()
                    .map(|(d, e)| match e {
                        Ok(env) => SignatureEntry::Parsed(Box::new(SignatureJson::of(
                            env,
                            Some(&d.digest),
                        ))),
                        Err(e) => SignatureEntry::Unreadable {
                            digest: d.digest.clone(),
                            error: e.clone(),
                        },
                    })
                    .collect(),
            };
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

/// A `certificates` node under `node` listing `chain`.
fn tree_certificates(node: &mut Node, chain: &[X509]) {
    let certs = node.add("certificates");
    for c in chain {
        let n = certs.add_pair("SHA256 fingerprint", sha256_fingerprint(c));
        n.add_pair("issued to", upstream_subject(c.subject_name()));
        n.add_pair("issued by", upstream_subject(c.issuer_name()));
        n.add_pair(
            "expiry",
            cert_not_after(c).map(format_tree_time).unwrap_or_default(),
        );
    }
}

/// The details of one envelope under `node` (shared with `blob inspect`).
pub(super) fn tree_signature(node: &mut Node, env: &SignatureEnvelope) {
    node.add_pair("signature algorithm", env.signing_algorithm.as_str());
    node.add_pair("signature envelope type", env.format.media_type());
    let sa = &env.signed_attributes;
    // Upstream's tree (notation v2 `inspect`): attribute keys as in the
    // envelope, user defined attributes always (`(empty)` when none), the
    // timestamp before the signing agent.
    let signed = node.add("signed attributes");
    signed.add_pair("signingScheme", sa.signing_scheme.as_str());
    signed.add_pair("signingTime", format_tree_time(sa.signing_time));
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
    } else {
        node.add("user defined attributes").add("(empty)");
    }
    let ua = &env.unsigned_attributes;
    let unsigned = node.add("unsigned attributes");
    if let Some(token) = &ua.timestamp_signature {
        let ts = unsigned.add("timestamp signature");
        match read_timestamp(token, &env.signature) {
            Ok(t) => {
                ts.add_pair(
                    "timestamp",
                    format!(
                        "[{}, {}]",
                        format_tree_time(t.earliest),
                        format_tree_time(t.latest)
                    ),
                );
                tree_certificates(ts, &t.certificates);
            }
            Err(e) => {
                ts.add_pair("error", timestamp_error_message(&e));
            }
        }
    }
    if let Some(agent) = &ua.signing_agent {
        unsigned.add_pair("signingAgent", agent);
    }
    tree_certificates(node, &env.certificate_chain);
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

/// `inspect -o json` as upstream prints it: the subject's media type and
/// each signature.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InspectJson {
    media_type: String,
    signatures: Vec<SignatureEntry>,
}

/// A signature that was read and parsed, or why it could not be.
#[derive(Serialize)]
#[serde(untagged)]
enum SignatureEntry {
    Parsed(Box<SignatureJson>),
    Unreadable { digest: String, error: String },
}

/// One envelope as upstream's JSON shows it (shared with `blob inspect`):
/// fields in upstream's order, the attribute maps sorted as Go prints
/// maps, `userDefinedAttributes` null when the payload has none.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SignatureJson {
    media_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    signature_algorithm: String,
    signed_attributes: BTreeMap<String, serde_json::Value>,
    user_defined_attributes: Option<BTreeMap<String, String>>,
    unsigned_attributes: UnsignedJson,
    certificates: Vec<CertificateJson>,
    /// The payload's descriptor; `None` (null) when it cannot be decoded.
    signed_artifact: Option<Descriptor>,
}

/// The unsigned attributes, in the (sorted) order Go prints this map.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UnsignedJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp_signature: Option<TimestampJson>,
}

/// A certificate in upstream's JSON.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CertificateJson {
    #[serde(rename = "SHA256Fingerprint")]
    sha256_fingerprint: String,
    issued_to: String,
    issued_by: String,
    expiry: String,
}

/// A timestamp countersignature in upstream's JSON.
#[derive(Serialize)]
struct TimestampJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    certificates: Vec<CertificateJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl CertificateJson {
    fn list(chain: &[X509]) -> Vec<CertificateJson> {
        chain
            .iter()
            .map(|c| CertificateJson {
                sha256_fingerprint: sha256_fingerprint(c),
                issued_to: upstream_subject(c.subject_name()),
                issued_by: upstream_subject(c.issuer_name()),
                expiry: cert_not_after(c).map(format_rfc3339).unwrap_or_default(),
            })
            .collect()
    }
}

impl SignatureJson {
    /// `env` as upstream shows it; `digest` is its signature manifest's,
    /// when it has one (not for a blob signature file).
    pub(super) fn of(env: &SignatureEnvelope, digest: Option<&str>) -> SignatureJson {
        let sa = &env.signed_attributes;
        let mut signed = BTreeMap::new();
        signed.insert("signingScheme".into(), sa.signing_scheme.as_str().into());
        signed.insert("signingTime".into(), format_rfc3339(sa.signing_time).into());
        if let Some(e) = sa.expiry {
            signed.insert("expiry".into(), format_rfc3339(e).into());
        }
        for ext in &sa.extended {
            signed.insert(ext.key.clone(), ext.value.clone());
        }
        let timestamp_signature =
            env.unsigned_attributes
                .timestamp_signature
                .as_ref()
                .map(|token| match read_timestamp(token, &env.signature) {
                    Ok(t) => TimestampJson {
                        timestamp: Some(format!(
                            "[{}, {}]",
                            format_rfc3339(t.earliest),
                            format_rfc3339(t.latest)
                        )),
                        certificates: CertificateJson::list(&t.certificates),
                        error: None,
                    },
                    Err(e) => TimestampJson {
                        timestamp: None,
                        certificates: Vec::new(),
                        error: Some(timestamp_error_message(&e)),
                    },
                });
        let unsigned = UnsignedJson {
            signing_agent: env.unsigned_attributes.signing_agent.clone(),
            timestamp_signature,
        };
        let payload = env.payload().ok();
        SignatureJson {
            media_type: env.format.media_type(),
            digest: digest.map(str::to_string),
            signature_algorithm: env.signing_algorithm.as_str().to_string(),
            signed_attributes: signed,
            user_defined_attributes: payload
                .as_ref()
                .and_then(|p| p.target_artifact.annotations.clone())
                .filter(|m| !m.is_empty()),
            unsigned_attributes: unsigned,
            certificates: CertificateJson::list(&env.certificate_chain),
            signed_artifact: payload.map(|p| p.target_artifact),
        }
    }
}

/// What a timestamp token states, read for display only: neither the
/// token's signature nor its TSA chain is checked here (verification does
/// that against the `tsa` trust store), so none of this is trusted.
#[derive(Debug)]
struct TimestampClaims {
    /// `genTime` minus the accuracy.
    earliest: time::OffsetDateTime,
    /// `genTime` plus the accuracy.
    latest: time::OffsetDateTime,
    /// The certificates the token carries, in its order.
    certificates: Vec<X509>,
}

/// Why a timestamp token could not be read for display.
#[derive(Debug, thiserror::Error)]
enum TimestampReadError {
    #[error("it is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("its {part} cannot be decoded: {source}")]
    Malformed {
        part: &'static str,
        source: der::Error,
    },
    #[error("it is not a CMS SignedData over a TSTInfo")]
    NotATimestampToken,
    #[error("it carries more than {limit} certificates")]
    TooManyCertificates { limit: usize },
    #[error("a certificate in it cannot be decoded: {0}")]
    Certificate(openssl::error::ErrorStack),
    #[error("its genTime {value:?} is not a UTC GeneralizedTime")]
    GenTime { value: String },
    #[error("its accuracy is out of range")]
    Accuracy,
    #[error("its message imprint uses the unsupported hash algorithm {oid}")]
    UnsupportedHash { oid: String },
    #[error("its message imprint is not the hash of this signature")]
    ImprintMismatch,
    /// Anything else the decoder reports (not expected from decoding).
    #[error("{0}")]
    Other(TimestampError),
}

impl From<TimestampError> for TimestampReadError {
    fn from(e: TimestampError) -> Self {
        match e {
            TimestampError::TooLarge { limit } => Self::TooLarge { limit },
            TimestampError::MalformedToken { part, source } => Self::Malformed { part, source },
            TimestampError::NotATimestampToken { .. } => Self::NotATimestampToken,
            TimestampError::TooManyCertificates { limit } => Self::TooManyCertificates { limit },
            TimestampError::Crypto(source) => Self::Certificate(source),
            TimestampError::InvalidGenTime { value } => Self::GenTime { value },
            TimestampError::AccuracyOutOfRange | TimestampError::TimeRangeOverflow { .. } => {
                Self::Accuracy
            }
            TimestampError::UnsupportedHash { oid } => Self::UnsupportedHash { oid },
            TimestampError::ImprintMismatch | TimestampError::ImprintLength { .. } => {
                Self::ImprintMismatch
            }
            other => Self::Other(other),
        }
    }
}

fn timestamp_error_message(e: &TimestampReadError) -> String {
    format!("failed to read the timestamp countersignature: {e}")
}

/// Reads the time range and certificates of `token` (a DER RFC 3161
/// `TimeStampToken`) and checks, as upstream's inspect does, that it
/// timestamps `signature`. Nothing is verified
/// ([`timestamp::decode_unverified`]).
fn read_timestamp(token: &[u8], signature: &[u8]) -> Result<TimestampClaims, TimestampReadError> {
    let claims = timestamp::decode_unverified(token)?;
    claims.check_imprint(signature)?;
    let (earliest, latest) = claims.time_range()?;
    Ok(TimestampClaims {
        earliest,
        latest,
        certificates: claims.certificates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_token_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            b"\x30\x00",
            b"\x30\x03\x02\x01\x01",
            &[0xff; 64][..],
        ] {
            assert!(read_timestamp(bytes, b"sig").is_err());
        }
    }

    #[test]
    fn decoder_errors_keep_inspect_messages() {
        let too_big = vec![0u8; notation_host::timestamp::MAX_TOKEN_SIZE + 1];
        let e = read_timestamp(&too_big, b"sig").unwrap_err();
        assert_eq!(
            timestamp_error_message(&e),
            format!(
                "failed to read the timestamp countersignature: it is larger than {} bytes",
                notation_host::timestamp::MAX_TOKEN_SIZE
            )
        );
        let e = read_timestamp(b"\x30\x00", b"sig").unwrap_err();
        assert!(
            matches!(
                e,
                TimestampReadError::Malformed {
                    part: "ContentInfo",
                    ..
                }
            ),
            "{e}"
        );
        let mapped = TimestampReadError::from(TimestampError::ImprintLength {
            hash: notation_plugin_sdk::vocab::HashAlgorithm::Sha256,
            length: 3,
        });
        assert_eq!(
            mapped.to_string(),
            "its message imprint is not the hash of this signature"
        );
        let mapped = TimestampReadError::from(TimestampError::InvalidGenTime {
            value: "2024".into(),
        });
        assert_eq!(
            mapped.to_string(),
            "its genTime \"2024\" is not a UTC GeneralizedTime"
        );
    }
}
