//! The error type of the envelope module.

use crate::vocab::{KeySpec, SigningAlgorithm};

use super::EnvelopeFormat;

/// A certificate requirement of the signature specification
/// ("Certificate Requirements"), named in
/// [`EnvelopeError::CertificateRequirement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertRule {
    /// A CA certificate must have a critical basicConstraints extension.
    CaBasicConstraintsCritical,
    /// A CA certificate must have `cA` set to true.
    CaFlagRequired,
    /// A CA's pathLenConstraint must allow the chain below it.
    PathLength,
    /// A leaf certificate's basicConstraints, if present, must have `cA`
    /// false.
    LeafMustNotBeCa,
    /// keyUsage must be present.
    KeyUsageMissing,
    /// keyUsage must be marked critical (code signing chains).
    KeyUsageNotCritical,
    /// A CA certificate's keyUsage must include keyCertSign.
    KeyCertSignRequired,
    /// A leaf certificate's keyUsage must include digitalSignature.
    DigitalSignatureRequired,
    /// A leaf certificate's keyUsage must not include keyEncipherment,
    /// dataEncipherment, keyAgreement, keyCertSign, cRLSign, encipherOnly
    /// or decipherOnly.
    KeyUsageForbiddenBits,
    /// A code signing leaf's extendedKeyUsage must not contain
    /// anyExtendedKeyUsage, serverAuth, clientAuth, emailProtection or
    /// timeStamping.
    ExtendedKeyUsageForbidden,
    /// A timestamping leaf must have a critical extendedKeyUsage containing
    /// only id-kp-timeStamping.
    TimestampingExtendedKeyUsage,
    /// RSA keys must be at least 2048 bits.
    RsaKeyTooShort,
    /// EC keys must be at least 256 bits.
    EcKeyTooShort,
    /// Only RSA and EC keys are allowed.
    UnsupportedKeyType,
    /// SHA-1 based certificate signatures are not allowed.
    Sha1Signature,
    /// Each certificate must be issued (and signed) by the next one.
    ChainOrder,
    /// The last certificate must be a self-signed root.
    RootRequired,
    /// The certificate must be valid at signing time.
    NotValidAtSigningTime,
    /// The certificate's extensions could not be decoded.
    Undecodable,
}

impl std::fmt::Display for CertRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CertRule::CaBasicConstraintsCritical => {
                "a CA certificate must have a critical basicConstraints extension"
            }
            CertRule::CaFlagRequired => "a CA certificate must have basicConstraints cA=true",
            CertRule::PathLength => "the pathLenConstraint does not allow this chain length",
            CertRule::LeafMustNotBeCa => "a leaf certificate must not have basicConstraints cA=true",
            CertRule::KeyUsageMissing => "the keyUsage extension must be present",
            CertRule::KeyUsageNotCritical => "the keyUsage extension must be marked critical",
            CertRule::KeyCertSignRequired => "a CA certificate's keyUsage must include keyCertSign",
            CertRule::DigitalSignatureRequired => {
                "a leaf certificate's keyUsage must include digitalSignature"
            }
            CertRule::KeyUsageForbiddenBits => {
                "a leaf certificate's keyUsage must not include keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign, encipherOnly or decipherOnly"
            }
            CertRule::ExtendedKeyUsageForbidden => {
                "a code signing certificate's extendedKeyUsage must not include anyExtendedKeyUsage, serverAuth, clientAuth, emailProtection or timeStamping"
            }
            CertRule::TimestampingExtendedKeyUsage => {
                "a timestamping certificate must have a critical extendedKeyUsage containing only timeStamping"
            }
            CertRule::RsaKeyTooShort => "RSA keys must be at least 2048 bits",
            CertRule::EcKeyTooShort => "EC keys must be at least 256 bits",
            CertRule::UnsupportedKeyType => "only RSA and EC public keys are allowed",
            CertRule::Sha1Signature => "certificates must not be signed with SHA-1",
            CertRule::ChainOrder => {
                "each certificate must be issued and signed by the next one in the chain"
            }
            CertRule::RootRequired => "the chain must end with a self-signed root certificate",
            CertRule::NotValidAtSigningTime => "the certificate must be valid at signing time",
            CertRule::Undecodable => "the certificate's extensions must be decodable",
        })
    }
}

/// Why an envelope could not be produced, decoded or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The envelope is larger than [`super::MAX_ENVELOPE_SIZE`].
    #[error("signature envelope is {size} bytes, more than the {limit} bytes accepted; it is not a Notary Project signature")]
    TooLarge {
        /// Size received.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// The JWS envelope is not valid JSON of the expected shape.
    #[error("malformed JWS envelope ({part}): {source}; the signature cannot be read")]
    MalformedJson {
        /// Which part was being decoded.
        part: &'static str,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A base64 field could not be decoded.
    #[error("malformed JWS envelope: field {field} is not valid base64")]
    InvalidBase64 {
        /// The field.
        field: &'static str,
    },
    /// The COSE envelope is not a valid tagged COSE_Sign1 message.
    #[error("malformed COSE envelope: {source:?}; the signature cannot be read")]
    MalformedCose {
        /// The decoder's error.
        source: coset::CoseError,
    },
    /// A required header / attribute is absent.
    #[error("signature envelope lacks the required attribute {name}")]
    MissingAttribute {
        /// Attribute name.
        name: String,
    },
    /// A header has a value of the wrong type or form.
    #[error("signature envelope attribute {name} is malformed: expected {expected}")]
    InvalidAttribute {
        /// Attribute name.
        name: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An attribute is present that the signing scheme forbids.
    #[error("attribute {name} must not be present under signing scheme {scheme}")]
    AttributeNotAllowed {
        /// Attribute name.
        name: String,
        /// Signing scheme.
        scheme: String,
    },
    /// An attribute that must be critical is not listed in `crit`.
    #[error("attribute {name} must be marked critical but is not listed in crit")]
    NotMarkedCritical {
        /// Attribute name.
        name: String,
    },
    /// `crit` lists a header that is absent or may not be listed.
    #[error("crit lists {name}, which is absent from the protected header or may not be marked critical")]
    InvalidCriticalEntry {
        /// The entry.
        name: String,
    },
    /// A critical extended attribute this implementation does not
    /// understand.
    #[error("signature has critical attribute {name}, which this verifier does not understand; it cannot be verified here (a newer version or a plugin may be needed)")]
    UnknownCriticalAttribute {
        /// Attribute name.
        name: String,
    },
    /// An attribute name is repeated or collides with a standard header.
    #[error("attribute {name} is repeated or collides with a standard header")]
    DuplicateAttribute {
        /// Attribute name.
        name: String,
    },
    /// Unsupported signing scheme.
    #[error("signing scheme {value:?} is not supported (expected notary.x509 or notary.x509.signingAuthority)")]
    UnsupportedSigningScheme {
        /// The value found.
        value: String,
    },
    /// Unsupported signature algorithm.
    #[error("signature algorithm {value:?} is not supported by the Notary Project")]
    UnsupportedAlgorithm {
        /// The value found.
        value: String,
    },
    /// Unsupported payload content type.
    #[error("payload content type {value:?} is not supported (expected application/vnd.cncf.notary.payload.v1+json)")]
    UnsupportedContentType {
        /// The value found.
        value: String,
    },
    /// The payload is not a valid Notary payload.
    #[error("signed payload is not a valid Notary Project payload: {source}")]
    InvalidPayload {
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A user annotation uses the reserved `io.cncf.notary` prefix.
    #[error("annotation key {key:?} uses the reserved prefix io.cncf.notary; choose another key")]
    ReservedAnnotation {
        /// The key.
        key: String,
    },
    /// The envelope carries no certificate chain.
    #[error("signature envelope has no certificate chain")]
    MissingCertificateChain,
    /// The envelope carries more certificates than any real chain has.
    #[error("signature envelope carries {count} certificates; at most {max} are accepted")]
    TooManyCertificates {
        /// How many the envelope carries.
        count: usize,
        /// The limit ([`crate::envelope::cert::MAX_CERTIFICATES`]).
        max: usize,
    },
    /// A certificate in the envelope could not be decoded.
    #[error("certificate #{index} in the signature envelope is malformed: {source}")]
    InvalidCertificate {
        /// Position in the chain (0 = leaf).
        index: usize,
        /// The decoder's error.
        #[source]
        source: openssl::error::ErrorStack,
    },
    /// The envelope has an empty signature.
    #[error("signature envelope has an empty signature")]
    MissingSignature,
    /// The signature does not verify.
    #[error("signature integrity check failed: the envelope was modified after signing or was not signed by the key of its signing certificate")]
    IntegrityFailed,
    /// The declared algorithm does not match the signing key.
    #[error(
        "signature declares algorithm {declared} but the signing certificate's key is {key_spec}"
    )]
    AlgorithmMismatch {
        /// Declared algorithm.
        declared: SigningAlgorithm,
        /// Key spec of the leaf certificate.
        key_spec: KeySpec,
    },
    /// A key type or size outside the supported set.
    #[error(
        "key {key_type} {bits} bits is not supported (RSA 2048/3072/4096 or EC P-256/P-384/P-521)"
    )]
    UnsupportedKey {
        /// Key type.
        key_type: &'static str,
        /// Key size in bits.
        bits: u32,
    },
    /// An unknown key spec.
    #[error("key spec {key_spec} is not supported")]
    UnsupportedKeySpec {
        /// The key spec.
        key_spec: KeySpec,
    },
    /// The signer's declared key spec differs from its leaf certificate.
    #[error(
        "the signer declares key spec {declared} but its signing certificate has {certificate}"
    )]
    KeySpecMismatch {
        /// Declared by the signer.
        declared: KeySpec,
        /// Found in the leaf certificate.
        certificate: KeySpec,
    },
    /// A private key does not belong to the leaf certificate it was given.
    #[error("the private key does not match the public key of the signing certificate")]
    KeyDoesNotMatchCertificate,
    /// The signer returned a signature that does not verify under its
    /// leaf certificate.
    #[error("generated signature failed verification: signature is invalid (the signer returned a signature that does not verify with its signing certificate; the key and certificate do not match or the signer is faulty)")]
    SignerSignatureInvalid,
    /// The signer failed.
    #[error("signing failed: {source}")]
    Signer {
        /// The signer's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A certificate requirement is not met.
    #[error("certificate {subject} (SHA-256 {sha256_fingerprint}) fails a requirement: {rule}")]
    CertificateRequirement {
        /// The rule.
        rule: CertRule,
        /// Subject of the offending certificate (one-line form).
        subject: String,
        /// Hex SHA-256 fingerprint of the offending certificate.
        sha256_fingerprint: String,
    },
    /// A certificate file could not be read.
    #[error("no certificate could be read: the data is neither PEM nor DER certificates{}", position.map(|p| format!(" (malformed at byte {p})")).unwrap_or_default())]
    CertificateLoad {
        /// Byte offset of the malformed part, when known.
        position: Option<usize>,
    },
    /// A timestamp is out of range.
    #[error("attribute {name} holds a time out of range")]
    TimeOutOfRange {
        /// Attribute name.
        name: String,
    },
    /// A format-specific encoding failed.
    #[error("could not encode the {format} envelope: {reason}")]
    Encode {
        /// The format.
        format: EnvelopeFormat,
        /// What failed.
        reason: &'static str,
    },
    /// An openssl operation failed.
    #[error("cryptographic operation failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}
