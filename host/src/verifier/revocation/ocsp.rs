//! OCSP (RFC 6960) for one certificate: a SHA-1 `CertID` request POSTed as
//! `application/ocsp-request`, then the response is only believed when its
//! signature verifies to the certificate's issuer (the issuer itself, or a
//! responder certificate the issuer delegated with the OCSP-signing EKU),
//! it is signed with SHA-2 (RSA, RSASSA-PSS or ECDSA), it holds a status
//! for this exact certificate, and it is fresh.
//!
//! A `revoked` status does not count against a signature made, at an
//! authentic signing time, before the key became untrustworthy: when the
//! response carries an `invalidityDate` (as a single extension) and both it
//! and the revocation time are at or after the signing time, the
//! certificate is good for that signature. Without an invalidity date, or
//! on hold, or without an authentic signing time, revoked is final.

use cms::cert::x509::Certificate;
use der::asn1::{GeneralizedTime, ObjectIdentifier};
use der::Decode;
use openssl::hash::MessageDigest;
use openssl::ocsp::{
    OcspCertId, OcspCertStatus, OcspFlag, OcspRequest, OcspResponse, OcspResponseStatus,
};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Ref, X509};
use time::OffsetDateTime;
use x509_ocsp::{BasicOcspResponse, SingleResponse};

use super::fetch::FetchError;
use super::is_issued_by;

/// Clock skew tolerated on `thisUpdate` / `nextUpdate`, in seconds.
pub const VALIDITY_LEEWAY_SECS: u32 = 300;
/// Largest age of a response that has no `nextUpdate`, in seconds: such a
/// response claims fresh data is always available, so an old one is
/// treated as a replay.
pub const MAX_AGE_WITHOUT_NEXT_UPDATE_SECS: u32 = 24 * 3600;
/// OID of `id-pkix-ocsp-nocheck`.
const OCSP_NOCHECK: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");
/// OID of `id-pkix-ocsp-basic`.
const OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
const INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

/// What a trusted response says about the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    /// Not revoked.
    Good,
    /// Revoked (for this signature: see the module docs).
    Revoked,
    /// The responder does not know the certificate.
    Unknown,
}

/// A trusted OCSP answer.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: CertStatus,
    /// Delegated responder certificates without `id-pkix-ocsp-nocheck`:
    /// the spec requires checking them with CRLs before relying on the answer.
    pub responders_to_check: Vec<X509>,
    /// The single response's `nextUpdate`, when it has one (how long the
    /// response may be cached).
    pub next_update: Option<OffsetDateTime>,
}

/// Why no trusted answer was obtained from one OCSP URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcspError {
    /// The request could not be made or the response not retrieved.
    #[error("{0}")]
    Fetch(#[from] FetchError),
    /// The response is not a DER OCSP response.
    #[error("the response is not a valid OCSP response")]
    Malformed,
    /// The responder refused (`malformedRequest`, `tryLater`, ...).
    #[error("the responder answered with status code {code}")]
    ResponderStatus {
        /// The OCSPResponseStatus value.
        code: i32,
    },
    /// The signature does not verify to the certificate's issuer.
    #[error("the response is not signed by the certificate's issuer or a responder it authorised")]
    NotTrusted,
    /// The response holds no status for this certificate.
    #[error("the response has no status for this certificate")]
    NoStatus,
    /// `thisUpdate` is in the future or `nextUpdate` has passed.
    #[error("the response is not current (thisUpdate/nextUpdate outside the current time)")]
    Stale,
    /// The request could not be built.
    #[error("could not build the OCSP request")]
    Request,
    /// The response is signed with an algorithm not allowed (SHA-1, MD5, ...).
    #[error("the response is signed with algorithm {oid}, which is not allowed (SHA-2 with RSA, RSASSA-PSS or ECDSA only)")]
    WeakSignatureAlgorithm {
        /// The algorithm's object identifier.
        oid: String,
    },
}

/// The DER body of an OCSP request for `cert` issued by `issuer` (a SHA-1
/// `CertID`, which every responder supports).
pub fn request_body(cert: &X509Ref, issuer: &X509) -> Result<Vec<u8>, OcspError> {
    let id = OcspCertId::from_cert(MessageDigest::sha1(), cert, issuer)
        .map_err(|_| OcspError::Request)?;
    let mut req = OcspRequest::new().map_err(|_| OcspError::Request)?;
    req.add_id(id).map_err(|_| OcspError::Request)?;
    req.to_der().map_err(|_| OcspError::Request)
}

/// Checks a DER response for `cert` issued by `issuer`; `signing_time` is
/// the authentic signing time, when there is one.
pub fn evaluate(
    bytes: &[u8],
    cert: &X509Ref,
    issuer: &X509,
    signing_time: Option<OffsetDateTime>,
) -> Result<Answer, OcspError> {
    let resp = OcspResponse::from_der(bytes).map_err(|_| OcspError::Malformed)?;
    let status = resp.status();
    if status != OcspResponseStatus::SUCCESSFUL {
        return Err(OcspError::ResponderStatus {
            code: status.as_raw(),
        });
    }
    let basic = resp.basic().map_err(|_| OcspError::Malformed)?;
    let parsed = decode_basic(bytes)?;
    if !super::is_allowed_signature_algorithm(&parsed.signature_algorithm) {
        return Err(OcspError::WeakSignatureAlgorithm {
            oid: parsed.signature_algorithm.oid.to_string(),
        });
    }

    // Trust exactly the issuer (as a partial-chain anchor): the signer must
    // be the issuer or a certificate it issued for OCSP signing.
    let store = (|| {
        let mut b = X509StoreBuilder::new()?;
        b.add_cert(issuer.clone())?;
        b.set_flags(X509VerifyFlags::PARTIAL_CHAIN)?;
        Ok::<_, openssl::error::ErrorStack>(b.build())
    })()
    .map_err(|_| OcspError::Request)?;
    // RFC 6960 lets a response signed by the issuer itself omit the
    // signer's certificate, and openssl only looks for the signer among
    // `extra` and the response's certificates: offer the issuer there. The
    // issuer/delegation checks of OCSP_basic_verify still apply.
    let mut extra = Stack::<X509>::new().map_err(|_| OcspError::Request)?;
    extra.push(issuer.clone()).map_err(|_| OcspError::Request)?;
    basic
        .verify(&extra, &store, OcspFlag::empty())
        .map_err(|_| OcspError::NotTrusted)?;

    let id = OcspCertId::from_cert(MessageDigest::sha1(), cert, issuer)
        .map_err(|_| OcspError::Request)?;
    let single = basic.find_status(&id).ok_or(OcspError::NoStatus)?;
    let max_age = single
        .next_update()
        .is_none()
        .then_some(MAX_AGE_WITHOUT_NEXT_UPDATE_SECS);
    single
        .check_validity(VALIDITY_LEEWAY_SECS, max_age)
        .map_err(|_| OcspError::Stale)?;
    let status = match single.status {
        OcspCertStatus::GOOD => CertStatus::Good,
        OcspCertStatus::REVOKED => {
            let sound_at_signing = signing_time.is_some_and(|signed_at| {
                find_single(&parsed, cert, issuer).is_some_and(|s| sound_when_signed(s, signed_at))
            });
            if sound_at_signing {
                CertStatus::Good
            } else {
                CertStatus::Revoked
            }
        }
        _ => CertStatus::Unknown,
    };

    let issuer_der = issuer.to_der().map_err(|_| OcspError::Request)?;
    let mut responders_to_check = Vec::new();
    for c in parsed.certs.iter().flatten() {
        let der = der::Encode::to_der(c).map_err(|_| OcspError::Malformed)?;
        if der == issuer_der {
            continue;
        }
        let Ok(x) = X509::from_der(&der) else {
            continue;
        };
        let nocheck = c
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .any(|e| e.extn_id == OCSP_NOCHECK);
        if is_issued_by(&x, issuer) && !nocheck {
            responders_to_check.push(x);
        }
    }
    let next_update = find_single(&parsed, cert, issuer)
        .and_then(|s| s.next_update.as_ref())
        .and_then(|t| to_datetime(&t.0));
    Ok(Answer {
        status,
        responders_to_check,
        next_update,
    })
}

/// The `BasicOCSPResponse` inside a DER `OCSPResponse`.
fn decode_basic(bytes: &[u8]) -> Result<BasicOcspResponse, OcspError> {
    let resp = x509_ocsp::OcspResponse::from_der(bytes).map_err(|_| OcspError::Malformed)?;
    let rb = resp.response_bytes.ok_or(OcspError::Malformed)?;
    if rb.response_type != OCSP_BASIC {
        return Err(OcspError::Malformed);
    }
    BasicOcspResponse::from_der(rb.response.as_bytes()).map_err(|_| OcspError::Malformed)
}

/// The single response for `cert` (SHA-1 `CertID`, as requested).
fn find_single<'a>(
    basic: &'a BasicOcspResponse,
    cert: &X509Ref,
    issuer: &X509,
) -> Option<&'a SingleResponse> {
    let serial = Certificate::from_der(&cert.to_der().ok()?)
        .ok()?
        .tbs_certificate
        .serial_number;
    let name_hash = openssl::sha::sha1(&issuer.subject_name().to_der().ok()?);
    let issuer_parsed = Certificate::from_der(&issuer.to_der().ok()?).ok()?;
    let key_hash = openssl::sha::sha1(
        issuer_parsed
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    );
    basic.tbs_response_data.responses.iter().find(|s| {
        s.cert_id.hash_algorithm.oid == SHA1
            && s.cert_id.serial_number == serial
            && s.cert_id.issuer_name_hash.as_bytes() == name_hash
            && s.cert_id.issuer_key_hash.as_bytes() == key_hash
    })
}

fn to_datetime(t: &GeneralizedTime) -> Option<OffsetDateTime> {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).ok()?;
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// Whether a revoked certificate was still sound at `signed_at`: an
/// invalidity date is present and neither it nor the revocation time is
/// before `signed_at`, and the certificate is not merely on hold.
fn sound_when_signed(single: &SingleResponse, signed_at: OffsetDateTime) -> bool {
    let x509_ocsp::CertStatus::Revoked(info) = &single.cert_status else {
        return false;
    };
    if matches!(
        info.revocation_reason,
        Some(cms::cert::x509::ext::pkix::crl::CrlReason::CertificateHold)
    ) {
        return false;
    }
    let invalid_from = single
        .single_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == INVALIDITY_DATE)
        .and_then(|e| GeneralizedTime::from_der(e.extn_value.as_bytes()).ok())
        .and_then(|t| to_datetime(&t));
    let revoked_at = to_datetime(&info.revocation_time.0);
    match (invalid_from, revoked_at) {
        (Some(invalid_from), Some(revoked_at)) => {
            invalid_from >= signed_at && revoked_at >= signed_at
        }
        _ => false,
    }
}
