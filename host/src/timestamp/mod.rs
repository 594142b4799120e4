//! RFC 3161 timestamping of a signature envelope's primitive signature.
//!
//! * [`request`]: the `TimeStampReq` (message imprint, random nonce,
//!   `certReq` true).
//! * [`client`]: [`Timestamper`] posts the request to a TSA over HTTP
//!   (`application/timestamp-query`, time-out, capped response), checks the
//!   response (status granted, token present, imprint and nonce echoed) and
//!   verifies the token against the TSA root the user named.
//! * [`token`]: the one decoder of a `TimeStampToken`,
//!   [`decode_unverified`] ([`TimestampClaims`]: `genTime`, accuracy,
//!   the time range, the message imprint, the certificates carried; nothing
//!   verified, for display), and [`verify_token`], which decodes with it
//!   and then verifies the CMS SignedData signature (openssl), the
//!   `signing-certificate-v2` attribute, the TSA chain to trust anchors and
//!   its certificate requirements ([`VerifiedTimestamp`]).
//!
//! What is timestamped is the envelope's signature bytes
//! ([`SignatureEnvelope::signature`]: the decoded JWS `signature`, or the
//! COSE_Sign1 signature), hashed with the hash algorithm of the signing
//! certificate's key spec.
//!
//! ASN.1 is decoded with the RustCrypto `der`, `cms`, `cmpv2` and
//! `x509-tsp` crates; signatures are checked with openssl.

pub mod client;
pub mod request;
pub mod token;

use notation_plugin_sdk::envelope::{self, EnvelopeError, EnvelopeFormat, SignatureEnvelope};
use notation_plugin_sdk::vocab::HashAlgorithm;
use openssl::hash::MessageDigest;
use openssl::x509::X509;

pub use client::Timestamper;
pub use token::{decode_unverified, verify_token, TimestampClaims, VerifiedTimestamp};

/// Largest timestamp response or token handled (1 MiB).
pub const MAX_TOKEN_SIZE: usize = 1024 * 1024;

/// Why timestamping, or the verification of a timestamp, failed.
#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    /// The TSA URL is not `http://` or `https://`.
    #[error("timestamp authority URL {url:?} is not an http:// or https:// URL")]
    InvalidUrl {
        /// The URL.
        url: String,
    },
    /// The TSA could not be reached or the exchange failed.
    #[error(
        "timestamp request to {url} failed: {detail}; check the --timestamp-url and network access"
    )]
    Transport {
        /// The URL.
        url: String,
        /// What the HTTP library reported.
        detail: String,
    },
    /// No response within the time-out.
    #[error("timestamp authority {url} did not answer within {seconds}s")]
    Timeout {
        /// The URL.
        url: String,
        /// The time-out in seconds.
        seconds: u64,
    },
    /// The TSA answered with an HTTP status other than 200.
    #[error("timestamp authority {url} answered with HTTP status {status}")]
    HttpStatus {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The TSA answered with another content type than
    /// `application/timestamp-reply`.
    #[error("timestamp authority {url} answered with content type {content_type:?}, not application/timestamp-reply")]
    WrongContentType {
        /// The URL.
        url: String,
        /// What it sent.
        content_type: String,
    },
    /// The response or token is larger than allowed.
    #[error("timestamp response or token is larger than {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// The `TimeStampResp` could not be decoded.
    #[error("the timestamp response is not a valid RFC 3161 TimeStampResp: {source}")]
    MalformedResponse {
        /// The decoder's error.
        source: der::Error,
    },
    /// The TSA did not grant the request.
    #[error("the timestamp authority refused the request (PKIStatus {status}{})", text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    NotGranted {
        /// The PKIStatus value.
        status: u8,
        /// The TSA's status text, if any.
        text: Option<String>,
    },
    /// The response was granted but has no token.
    #[error("the timestamp response grants the request but carries no token")]
    MissingToken,
    /// The token is not valid DER of the expected structures.
    #[error("the timestamp token cannot be decoded ({part}): {source}")]
    MalformedToken {
        /// Which structure.
        part: &'static str,
        /// The decoder's error.
        source: der::Error,
    },
    /// The token decodes but breaks a structural rule of RFC 3161 / CMS.
    #[error("the timestamp token is invalid: {problem}")]
    InvalidToken {
        /// Which rule.
        problem: &'static str,
    },
    /// The token is not a CMS SignedData over an encapsulated `TSTInfo`.
    #[error("the timestamp token is invalid: {problem}")]
    NotATimestampToken {
        /// What is missing or different.
        problem: &'static str,
    },
    /// The token carries more certificates than allowed.
    #[error("the timestamp token is invalid: it carries too many certificates")]
    TooManyCertificates {
        /// The cap.
        limit: usize,
    },
    /// The message imprint's length does not fit its hash algorithm.
    #[error("the timestamp token is invalid: its message imprint has the wrong length for its hash algorithm")]
    ImprintLength {
        /// The imprint's hash algorithm.
        hash: HashAlgorithm,
        /// The imprint's length in bytes.
        length: usize,
    },
    /// `TSTInfo.accuracy` is out of range (sub-second parts above 999, or
    /// more than a year).
    #[error("the timestamp token is invalid: its accuracy is out of range")]
    AccuracyOutOfRange,
    /// A hash algorithm other than SHA-256, SHA-384 or SHA-512.
    #[error("the timestamp token uses hash algorithm {oid}, which is not allowed (SHA-256, SHA-384 or SHA-512 only)")]
    UnsupportedHash {
        /// Its object identifier.
        oid: String,
    },
    /// The TSA's signing certificate is not in the token.
    #[error("the timestamp token does not contain the TSA's signing certificate")]
    SignerCertificateMissing,
    /// The `signing-certificate-v2` attribute is missing or names another
    /// certificate.
    #[error("the timestamp token's signing-certificate-v2 attribute {problem}")]
    SigningCertificateAttribute {
        /// What is wrong.
        problem: &'static str,
    },
    /// The CMS signature does not verify.
    #[error("the timestamp token's signature does not verify: {source}")]
    SignatureInvalid {
        /// openssl's errors.
        source: openssl::error::ErrorStack,
    },
    /// The TSA chain does not lead to a trusted root.
    #[error("the timestamp authority's certificate chain does not lead to a trusted TSA root: {reason} (at chain depth {depth})")]
    UntrustedTsa {
        /// openssl's reason.
        reason: &'static str,
        /// Depth of the failing certificate.
        depth: u32,
    },
    /// The TSA chain breaks the timestamping certificate requirements.
    #[error("the timestamp authority's certificate chain does not meet the requirements: {0}")]
    TsaCertificateRequirement(#[source] EnvelopeError),
    /// A TSA certificate was not valid when the timestamp was made.
    #[error("the timestamp authority's certificate chain was not valid at the timestamp's time {gen_time}: {source}")]
    TsaNotValidAtGenTime {
        /// The token's `genTime`.
        gen_time: time::OffsetDateTime,
        /// Which certificate.
        #[source]
        source: EnvelopeError,
    },
    /// A certificate of the TSA chain is revoked.
    #[error("timestamping certificate with subject {subject:?} is revoked (according to {method} at {url})")]
    TsaRevoked {
        /// Its subject.
        subject: String,
        /// What said so.
        method: crate::verifier::revocation::Method,
        /// Where the answer came from.
        url: String,
    },
    /// The revocation status of a TSA certificate could not be determined
    /// (always enforced: the timestamp is not relied upon).
    #[error("timestamping certificate with subject {subject:?} revocation status is unknown ({problems}; check network access to its OCSP responder or CRL distribution point)")]
    TsaRevocationUnavailable {
        /// Its subject.
        subject: String,
        /// What went wrong with each source tried.
        problems: crate::verifier::revocation::RevocationProblems,
    },
    /// `genTime` plus or minus the accuracy is outside the representable
    /// time range.
    #[error("the timestamp token's time range (genTime {gen_time} plus or minus its accuracy) is out of range")]
    TimeRangeOverflow {
        /// The token's `genTime`.
        gen_time: time::OffsetDateTime,
    },
    /// `genTime` is not a valid GeneralizedTime.
    #[error("the timestamp token's genTime {value:?} is not a valid time")]
    InvalidGenTime {
        /// The text found.
        value: String,
    },
    /// The timestamp is not over the signature it is attached to.
    #[error(
        "the timestamp token's message imprint does not match the signature it is attached to"
    )]
    ImprintMismatch,
    /// The token does not echo the request's nonce.
    #[error("the timestamp token does not carry the nonce of the request")]
    NonceMismatch,
    /// The signing certificate's key has no hash algorithm.
    #[error("cannot choose the timestamp hash algorithm: {0}")]
    Envelope(#[from] EnvelopeError),
    /// An openssl operation failed.
    #[error("cryptographic operation failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

/// The openssl digest for a hash algorithm.
pub(crate) fn message_digest(hash: &HashAlgorithm) -> Option<MessageDigest> {
    match hash {
        HashAlgorithm::Sha256 => Some(MessageDigest::sha256()),
        HashAlgorithm::Sha384 => Some(MessageDigest::sha384()),
        HashAlgorithm::Sha512 => Some(MessageDigest::sha512()),
        _ => None,
    }
}

/// The hash algorithm used for the timestamp of an envelope signed by
/// `envelope`'s leaf certificate: the one its key spec implies.
pub fn hash_for(env: &SignatureEnvelope) -> Result<HashAlgorithm, TimestampError> {
    let leaf = env.signing_certificate()?;
    let key_spec = envelope::key_spec_of_certificate(leaf)?;
    key_spec.hash_algorithm().ok_or(TimestampError::Envelope(
        EnvelopeError::UnsupportedKeySpec { key_spec },
    ))
}

/// Timestamps the signature of an encoded envelope and returns the
/// envelope with the token attached. `tsa_roots` are the trust anchors
/// the token must chain to (`--timestamp-root-cert`).
pub fn timestamp_envelope(
    format: EnvelopeFormat,
    envelope_bytes: &[u8],
    timestamper: &Timestamper,
    tsa_roots: &[X509],
) -> Result<Vec<u8>, TimestampError> {
    let env = envelope::parse(format, envelope_bytes)?;
    let hash = hash_for(&env)?;
    let token = timestamper.timestamp(&env.signature, &hash, tsa_roots)?;
    Ok(envelope::timestamp::attach_timestamp(
        format,
        envelope_bytes,
        &token,
    )?)
}

/// Why a `--timestamp-root-cert` file cannot be used as the TSA root, in
/// upstream's words (notation's `NewRootCertPool`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsaRootProblem {
    /// The file holds no certificate.
    NoCertificate,
    /// The file holds more than one certificate.
    MoreThanOne,
    /// The file's content is not a certificate.
    Malformed,
    /// The certificate's signature does not verify with its own key (of
    /// this algorithm: `rsa`, `ecdsa`, ...).
    SignatureCheckFailed(&'static str),
    /// The certificate is not self-issued.
    NotRoot,
}

impl TsaRootProblem {
    /// The message for `path`: upstream's sentence, then ours.
    pub fn message(&self, path: &std::path::Path) -> String {
        let p = path.display().to_string();
        let expecting = "Expecting single x509 root certificate in PEM or DER format from the file";
        match self {
            TsaRootProblem::NoCertificate => {
                format!("cannot find any certificate from {p:?}. {expecting}")
            }
            TsaRootProblem::MoreThanOne => {
                format!("found more than one certificates from {p:?}. {expecting}")
            }
            TsaRootProblem::Malformed => format!(
                "x509: malformed certificate ({p:?} is not a PEM or DER certificate; {expecting})"
            ),
            TsaRootProblem::SignatureCheckFailed(alg) => format!(
                "failed to check root certificate with error: crypto/{alg}: verification error (the signature of the certificate from {p:?} does not verify with its own public key, so it is not a self-signed root)"
            ),
            TsaRootProblem::NotRoot => {
                format!("certificate from {p:?} is not a root certificate. {expecting}")
            }
        }
    }
}
