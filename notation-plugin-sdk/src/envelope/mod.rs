//! Notary Project signature envelopes: the payload, signed and unsigned
//! attributes, and their JWS and COSE encodings.
//!
//! # API overview
//!
//! * [`sign`]`(format, &SignRequest, &dyn Signer) -> Vec<u8>` builds the
//!   protected header and payload, asks the [`Signer`] for a signature over
//!   the signing input, **checks that signature against the leaf certificate
//!   it returned** (so a misbehaving remote or plugin signer is caught before
//!   anything is assembled), checks the chain against the certificate
//!   requirements, and encodes the envelope.
//! * [`LocalSigner`] signs with an openssl private key and a certificate
//!   chain; a plugin-backed signer implements [`Signer`] itself.
//! * [`parse`]`(format, bytes) -> SignatureEnvelope` decodes an envelope
//!   and checks its structure: required attributes per signing scheme,
//!   `crit` consistency, payload content type, a non-empty certificate
//!   chain. It does **not** check the signature.
//! * [`SignatureEnvelope::verify_integrity`] checks the signature under the
//!   leaf certificate's public key and that the declared algorithm matches
//!   that key. [`SignatureEnvelope::check_critical_attributes`] refuses
//!   critical extended attributes this implementation does not understand;
//!   a verifier must call both.
//! * [`SignatureEnvelope::payload`] decodes the Notary payload
//!   (`targetArtifact`) from the signed bytes.
//! * [`cert`]: certificate loading (PEM, DER, concatenations) and the
//!   certificate requirements for signing and timestamping chains.
//! * [`timestamp`]: attach an RFC 3161 timestamp token to an encoded envelope.
//! * [`testing`]: throwaway keys and chains for tests and benchmarks.
//! * [`jws`] and [`cose`]: the format codecs, including low-level encoders
//!   used by the conformance tests.
//!
//! The layouts are described in `spec/signature-envelopes.md`.

mod algorithm;
mod attributes;
pub mod cert;
pub mod cose;
mod error;
pub mod jws;
mod payload;
mod signer;
pub mod testing;
pub mod timestamp;

use openssl::x509::X509;
use time::OffsetDateTime;

pub use algorithm::{
    cose_algorithm_id, ecdsa_der_to_raw, ecdsa_raw_to_der, from_cose_algorithm_id, from_jws_alg,
    jws_alg, key_spec_of_certificate, key_spec_of_public_key, sign_raw, verify_raw, PssSaltPolicy,
};
pub use attributes::{
    header_names, ExtendedAttribute, SignedAttributes, SigningScheme, UnsignedAttributes,
};
pub use error::{CertRule, EnvelopeError};
pub use payload::{
    check_user_annotations, Payload, PAYLOAD_MEDIA_TYPE, RESERVED_ANNOTATION_PREFIX,
};
pub use signer::{LocalSigner, Signer};

use crate::vocab::{KeySpec, SigningAlgorithm};

/// Largest envelope this module decodes (4 MiB). Real envelopes are a few
/// kilobytes; the cap bounds memory on hostile input.
pub const MAX_ENVELOPE_SIZE: usize = 4 * 1024 * 1024;

/// The two envelope formats of the Notary Project signature specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnvelopeFormat {
    /// JWS JSON serialization, flattened (`application/jose+json`).
    Jws,
    /// COSE_Sign1, tagged (`application/cose`).
    Cose,
}

impl EnvelopeFormat {
    /// The media type of an envelope in this format (the signature layer's
    /// `mediaType` in an OCI signature manifest).
    pub fn media_type(self) -> &'static str {
        match self {
            EnvelopeFormat::Jws => "application/jose+json",
            EnvelopeFormat::Cose => "application/cose",
        }
    }

    /// The format for a media type, or `None` if it is not an envelope type.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            "application/jose+json" => Some(EnvelopeFormat::Jws),
            "application/cose" => Some(EnvelopeFormat::Cose),
            _ => None,
        }
    }

    /// The short name used on the command line and in blob signature file
    /// names (`jws`, `cose`).
    pub fn name(self) -> &'static str {
        match self {
            EnvelopeFormat::Jws => "jws",
            EnvelopeFormat::Cose => "cose",
        }
    }
}

impl std::fmt::Display for EnvelopeFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything [`sign`] needs besides the signer.
#[derive(Debug, Clone)]
pub struct SignRequest {
    /// The payload to sign.
    pub payload: Payload,
    /// The signing scheme.
    pub signing_scheme: SigningScheme,
    /// Signing time (for `notary.x509.signingAuthority`: the authentic
    /// signing time). Sub-second precision is dropped.
    pub signing_time: OffsetDateTime,
    /// Optional expiry. Sub-second precision is dropped.
    pub expiry: Option<OffsetDateTime>,
    /// Optional signing agent, e.g. `notation-rs/0.1.0`.
    pub signing_agent: Option<String>,
    /// Extended signed attributes (for example the verification plugin
    /// name and minimum version), in the order they should be encoded.
    pub extended_attributes: Vec<ExtendedAttribute>,
}

/// A decoded signature envelope. Produced by [`parse`]; the structure has
/// been checked, the signature has not (see
/// [`SignatureEnvelope::verify_integrity`]).
#[derive(Debug, Clone)]
pub struct SignatureEnvelope {
    /// The envelope format.
    pub format: EnvelopeFormat,
    /// The signed payload bytes exactly as they appear in the envelope.
    pub payload_bytes: Vec<u8>,
    /// Signed attributes.
    pub signed_attributes: SignedAttributes,
    /// Signature algorithm declared in the protected header.
    pub signing_algorithm: SigningAlgorithm,
    /// Certificate chain, leaf first.
    pub certificate_chain: Vec<X509>,
    /// The signature in the envelope's encoding (ECDSA as fixed-width
    /// `r || s`).
    pub signature: Vec<u8>,
    /// Unsigned attributes.
    pub unsigned_attributes: UnsignedAttributes,
    /// The exact bytes the signature covers (JWS signing input or COSE
    /// `Sig_structure`), rebuilt from the received bytes.
    signing_input: Vec<u8>,
}

impl SignatureEnvelope {
    /// The bytes the signature covers.
    pub fn signing_input(&self) -> &[u8] {
        &self.signing_input
    }

    /// The leaf (signing) certificate.
    pub fn signing_certificate(&self) -> Result<&X509, EnvelopeError> {
        self.certificate_chain
            .first()
            .ok_or(EnvelopeError::MissingCertificateChain)
    }

    /// Checks the signature: the declared algorithm must be the one the
    /// leaf certificate's key implies, and the signature must verify over
    /// the received signing input under that key.
    pub fn verify_integrity(&self) -> Result<(), EnvelopeError> {
        let leaf = self.signing_certificate()?;
        let key_spec = key_spec_of_certificate(leaf)?;
        let expected =
            key_spec
                .signing_algorithm()
                .ok_or_else(|| EnvelopeError::UnsupportedKeySpec {
                    key_spec: key_spec.clone(),
                })?;
        if expected != self.signing_algorithm {
            return Err(EnvelopeError::AlgorithmMismatch {
                declared: self.signing_algorithm.clone(),
                key_spec,
            });
        }
        let public_key = leaf.public_key()?;
        verify_raw(
            &self.signing_algorithm,
            &public_key,
            &self.signing_input,
            &self.signature,
            salt_policy(self.format),
        )
    }

    /// Refuses critical extended attributes this implementation does not
    /// understand (everything but the verification plugin name and minimum
    /// version). The signature specification requires verification to fail
    /// on them.
    pub fn check_critical_attributes(&self) -> Result<(), EnvelopeError> {
        self.signed_attributes.check_critical_understood(&[
            header_names::VERIFICATION_PLUGIN,
            header_names::VERIFICATION_PLUGIN_MIN_VERSION,
        ])
    }

    /// Decodes the Notary payload from the signed payload bytes.
    pub fn payload(&self) -> Result<Payload, EnvelopeError> {
        Payload::from_json(&self.payload_bytes)
    }
}

/// How RSASSA-PSS salt lengths are checked for a format: upstream JWS
/// verification accepts any salt length, COSE requires the hash length.
fn salt_policy(format: EnvelopeFormat) -> PssSaltPolicy {
    match format {
        EnvelopeFormat::Jws => PssSaltPolicy::Auto,
        EnvelopeFormat::Cose => PssSaltPolicy::DigestLength,
    }
}

/// Decodes and structurally checks an envelope. See the module docs for
/// what is and is not checked.
pub fn parse(format: EnvelopeFormat, bytes: &[u8]) -> Result<SignatureEnvelope, EnvelopeError> {
    let env = match format {
        EnvelopeFormat::Jws => jws::decode(bytes)?,
        EnvelopeFormat::Cose => cose::decode(bytes)?,
    };
    if env.certificate_chain.is_empty() {
        return Err(EnvelopeError::MissingCertificateChain);
    }
    Ok(env)
}

/// Signs `req` with `signer` and returns the encoded envelope.
///
/// The signature the signer returns is verified against the leaf of the
/// chain it returns before the envelope is assembled, the leaf's key must
/// match the signer's declared key spec, and the chain must meet the
/// signing certificate requirements and be valid at the signing time.
pub fn sign(
    format: EnvelopeFormat,
    req: &SignRequest,
    signer: &dyn Signer,
) -> Result<Vec<u8>, EnvelopeError> {
    sign_payload_bytes(format, &req.payload.to_struct_json(), req, signer)
}

/// [`sign`] with an arbitrary JSON payload instead of `req.payload` (which
/// is ignored). For conformance tests that sign non-Notary payloads.
#[doc(hidden)]
pub fn sign_payload_bytes(
    format: EnvelopeFormat,
    payload_json: &[u8],
    req: &SignRequest,
    signer: &dyn Signer,
) -> Result<Vec<u8>, EnvelopeError> {
    let key_spec = signer.key_spec();
    let algorithm =
        key_spec
            .signing_algorithm()
            .ok_or_else(|| EnvelopeError::UnsupportedKeySpec {
                key_spec: key_spec.clone(),
            })?;
    let req = normalize_request(req)?;
    match format {
        EnvelopeFormat::Jws => jws::sign(&req, payload_json, &algorithm, &key_spec, signer),
        EnvelopeFormat::Cose => cose::sign(&req, payload_json, &algorithm, &key_spec, signer),
    }
}

/// Truncates times to whole seconds in UTC and checks the request.
fn normalize_request(req: &SignRequest) -> Result<SignRequest, EnvelopeError> {
    let mut req = req.clone();
    req.signing_time = attributes::truncate_time(req.signing_time);
    req.expiry = req.expiry.map(attributes::truncate_time);
    if let SigningScheme::Unknown(value) = &req.signing_scheme {
        return Err(EnvelopeError::UnsupportedSigningScheme {
            value: value.clone(),
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for attr in &req.extended_attributes {
        if header_names::is_reserved(&attr.key) || !seen.insert(attr.key.as_str()) {
            return Err(EnvelopeError::DuplicateAttribute {
                name: attr.key.clone(),
            });
        }
    }
    Ok(req)
}

/// The signing half shared by both formats: asks the signer, then checks
/// what it returned before anything is assembled.
fn sign_and_check(
    format: EnvelopeFormat,
    signing_input: &[u8],
    algorithm: &SigningAlgorithm,
    key_spec: &KeySpec,
    signing_time: OffsetDateTime,
    signer: &dyn Signer,
) -> Result<(Vec<u8>, Vec<X509>), EnvelopeError> {
    let (signature, chain) = signer.sign(signing_input)?;
    let leaf = chain
        .first()
        .ok_or(EnvelopeError::MissingCertificateChain)?;
    let leaf_spec = key_spec_of_certificate(leaf)?;
    if &leaf_spec != key_spec {
        return Err(EnvelopeError::KeySpecMismatch {
            declared: key_spec.clone(),
            certificate: leaf_spec,
        });
    }
    let public_key = leaf.public_key()?;
    verify_raw(
        algorithm,
        &public_key,
        signing_input,
        &signature,
        salt_policy(format),
    )
    .map_err(|e| match e {
        EnvelopeError::IntegrityFailed => EnvelopeError::SignerSignatureInvalid,
        other => other,
    })?;
    cert::check_signing_chain(&chain)?;
    cert::check_valid_at(&chain, signing_time)?;
    Ok((signature, chain))
}
