//! OCSP (RFC 6960) for one certificate: a SHA-1 `CertID` request POSTed as
//! `application/ocsp-request`, then the response is only believed when its
//! signature verifies to the certificate's issuer (the issuer itself, or a
//! responder certificate the issuer delegated with the OCSP-signing EKU),
//! it holds a status for this exact certificate, and it is fresh.

use openssl::hash::MessageDigest;
use openssl::ocsp::{
    OcspCertId, OcspCertStatus, OcspFlag, OcspRequest, OcspResponse, OcspResponseStatus,
};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Ref, X509};

use super::fetch::{self, FetchError, FetchLimits};
use super::{der, is_issued_by};

/// Clock skew tolerated on `thisUpdate` / `nextUpdate`, in seconds.
pub const VALIDITY_LEEWAY_SECS: u32 = 300;
/// Largest age of a response that has no `nextUpdate`, in seconds: such a
/// response claims fresh data is always available, so an old one is
/// treated as a replay.
pub const MAX_AGE_WITHOUT_NEXT_UPDATE_SECS: u32 = 24 * 3600;
/// OID of `id-pkix-ocsp-nocheck`.
const OCSP_NOCHECK: &str = "1.3.6.1.5.5.7.48.1.5";

/// What a trusted response says about the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    /// Not revoked.
    Good,
    /// Revoked. (OCSP invalidity dates are not read: a revoked status is
    /// always final, the spec's rule when no invalidity date is present.)
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
}

/// Asks the responder at `url` for the status of `cert` issued by `issuer`.
pub fn query(
    cert: &X509Ref,
    issuer: &X509,
    url: &str,
    limits: &FetchLimits,
) -> Result<Answer, OcspError> {
    let id = || OcspCertId::from_cert(MessageDigest::sha1(), cert, issuer);
    let mut req = OcspRequest::new().map_err(|_| OcspError::Request)?;
    req.add_id(id().map_err(|_| OcspError::Request)?)
        .map_err(|_| OcspError::Request)?;
    let body = req.to_der().map_err(|_| OcspError::Request)?;
    let bytes = fetch::post_ocsp(url, &body, limits)?;
    evaluate(&bytes, cert, issuer)
}

/// Checks a DER response for `cert` issued by `issuer`.
pub fn evaluate(bytes: &[u8], cert: &X509Ref, issuer: &X509) -> Result<Answer, OcspError> {
    let resp = OcspResponse::from_der(bytes).map_err(|_| OcspError::Malformed)?;
    let status = resp.status();
    if status != OcspResponseStatus::SUCCESSFUL {
        return Err(OcspError::ResponderStatus {
            code: status.as_raw(),
        });
    }
    let basic = resp.basic().map_err(|_| OcspError::Malformed)?;

    // Trust exactly the issuer (as a partial-chain anchor): the signer must
    // be the issuer or a certificate it issued for OCSP signing.
    let store = (|| {
        let mut b = X509StoreBuilder::new()?;
        b.add_cert(issuer.clone())?;
        b.set_flags(X509VerifyFlags::PARTIAL_CHAIN)?;
        Ok::<_, openssl::error::ErrorStack>(b.build())
    })()
    .map_err(|_| OcspError::Request)?;
    let extra = Stack::<X509>::new().map_err(|_| OcspError::Request)?;
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
        OcspCertStatus::REVOKED => CertStatus::Revoked,
        _ => CertStatus::Unknown,
    };

    let issuer_der = issuer.to_der().map_err(|_| OcspError::Request)?;
    let mut responders_to_check = Vec::new();
    for der in der::ocsp_response_certs(bytes).ok_or(OcspError::Malformed)? {
        if der == issuer_der {
            continue;
        }
        let Ok(c) = X509::from_der(&der) else {
            continue;
        };
        if is_issued_by(&c, issuer) && !has_extension(&c, OCSP_NOCHECK) {
            responders_to_check.push(c);
        }
    }
    Ok(Answer {
        status,
        responders_to_check,
    })
}

fn has_extension(cert: &X509Ref, oid: &str) -> bool {
    let Ok(der) = cert.to_der() else {
        return false;
    };
    let Ok(parsed) = picky::x509::Cert::from_der(&der) else {
        return false;
    };
    parsed.extensions().iter().any(|e| {
        let id: String = (&e.extn_id().0).into();
        id == oid
    })
}
