//! Base CRLs (RFC 5280) for one certificate: download the DER CRL from a
//! distribution point, check it is the issuer's (same name, signature under
//! the issuer's key, issuer allowed to sign CRLs), that it is current, and
//! look up the certificate's serial number.
//!
//! Not supported, and therefore reported as "unavailable" rather than
//! guessed: CRLs that announce delta CRLs (`freshestCRL`), delta CRLs served
//! as base CRLs, and indirect CRLs (signed by someone other than the issuer).

use openssl::x509::{CrlStatus, ReasonCode, X509Crl, X509KeyUsage, X509Ref, X509};
use time::OffsetDateTime;

use super::der;
use super::fetch::{self, FetchError, FetchLimits};

/// Clock skew tolerated on `thisUpdate` / `nextUpdate`, in seconds.
pub const VALIDITY_LEEWAY_SECS: i64 = 300;
/// `CRLReason` value of `certificateHold`.
const CERTIFICATE_HOLD: i64 = 6;
/// OID 2.5.29.46 (freshestCRL), encoded.
const FRESHEST_CRL: &[u8] = &[0x55, 0x1d, 0x2e];
/// OID 2.5.29.27 (deltaCRLIndicator), encoded.
const DELTA_CRL_INDICATOR: &[u8] = &[0x55, 0x1d, 0x1b];

/// What a trusted CRL says about the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrlVerdict {
    /// Not listed (or listed with an invalidity date after the authentic
    /// signing time).
    Good,
    /// Listed.
    Revoked,
}

/// Why no trusted answer was obtained from one CRL URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    /// The CRL could not be retrieved.
    #[error("{0}")]
    Fetch(#[from] FetchError),
    /// Not a DER (or PEM) CRL.
    #[error("the response is not a valid CRL")]
    Malformed,
    /// The CRL names another issuer (indirect CRLs are not supported).
    #[error("the CRL is issued by another authority than the certificate's issuer")]
    OtherIssuer,
    /// The signature does not verify under the issuer's key, or the issuer
    /// may not sign CRLs.
    #[error("the CRL signature does not verify with the issuer's key")]
    NotTrusted,
    /// `thisUpdate` is in the future.
    #[error("the CRL is not yet valid (thisUpdate is in the future)")]
    NotYetValid,
    /// `nextUpdate` has passed (or is missing) and the certificate is not
    /// listed, so its current status is unknown.
    #[error("the CRL has expired (nextUpdate has passed) and does not list the certificate")]
    Expired,
    /// The certificate is on hold and the CRL has expired.
    #[error("the certificate is on hold in an expired CRL")]
    HoldInExpiredCrl,
    /// The CRL relies on delta CRLs, or is one.
    #[error("delta CRLs are not supported")]
    DeltaCrl,
}

/// Downloads the CRL at `url` and looks up `cert` (issued by `issuer`).
/// `signing_time` is the authentic signing time, when there is one.
pub fn query(
    cert: &X509Ref,
    issuer: &X509,
    url: &str,
    limits: &FetchLimits,
    signing_time: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<CrlVerdict, CrlError> {
    let bytes = fetch::get(url, limits)?;
    evaluate(&bytes, cert, issuer, signing_time, now)
}

fn asn1_to_datetime(t: &openssl::asn1::Asn1TimeRef) -> Result<OffsetDateTime, CrlError> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).map_err(|_| CrlError::Malformed)?;
    let d = epoch.diff(t).map_err(|_| CrlError::Malformed)?;
    let secs = i64::from(d.days) * 86400 + i64::from(d.secs);
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| CrlError::Malformed)
}

/// Checks a downloaded CRL (DER, or PEM) for `cert` issued by `issuer`.
pub fn evaluate(
    bytes: &[u8],
    cert: &X509Ref,
    issuer: &X509,
    signing_time: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<CrlVerdict, CrlError> {
    let crl = X509Crl::from_der(bytes)
        .or_else(|_| X509Crl::from_pem(bytes))
        .map_err(|_| CrlError::Malformed)?;
    let der = crl.to_der().map_err(|_| CrlError::Malformed)?;
    if !matches!(
        crl.issuer_name().try_cmp(issuer.subject_name()),
        Ok(std::cmp::Ordering::Equal)
    ) {
        return Err(CrlError::OtherIssuer);
    }
    if let Some(ku) = issuer.key_usage() {
        if !ku.contains(X509KeyUsage::CRL_SIGN) {
            return Err(CrlError::NotTrusted);
        }
    }
    let key = issuer.public_key().map_err(|_| CrlError::NotTrusted)?;
    if !crl.verify(&key).unwrap_or(false) {
        return Err(CrlError::NotTrusted);
    }
    let oids = der::crl_extension_oids(&der).ok_or(CrlError::Malformed)?;
    if oids
        .iter()
        .any(|o| o == FRESHEST_CRL || o == DELTA_CRL_INDICATOR)
    {
        return Err(CrlError::DeltaCrl);
    }

    let leeway = time::Duration::seconds(VALIDITY_LEEWAY_SECS);
    if asn1_to_datetime(crl.last_update())? > now + leeway {
        return Err(CrlError::NotYetValid);
    }
    // RFC 5280 requires nextUpdate; a CRL without one is treated as expired.
    let expired = match crl.next_update() {
        Some(next) => asn1_to_datetime(next)? + leeway < now,
        None => true,
    };

    match crl.get_by_serial(cert.serial_number()) {
        CrlStatus::NotRevoked | CrlStatus::RemoveFromCrl(_) => {
            if expired {
                Err(CrlError::Expired)
            } else {
                Ok(CrlVerdict::Good)
            }
        }
        CrlStatus::Revoked(entry) => {
            let reason = entry
                .extension::<ReasonCode>()
                .ok()
                .flatten()
                .and_then(|(_, r)| r.get_i64().ok());
            if reason == Some(CERTIFICATE_HOLD) {
                // On hold: revoked for now, unless the CRL is too old to say.
                return if expired {
                    Err(CrlError::HoldInExpiredCrl)
                } else {
                    Ok(CrlVerdict::Revoked)
                };
            }
            // An invalidity date at or after the authentic signing time
            // means the key was still sound when the signature was made.
            let invalidity = entry
                .to_der()
                .ok()
                .and_then(|d| der::crl_entry_invalidity_date(&d))
                .and_then(|s| der::parse_generalized_time(&s));
            match (invalidity, signing_time) {
                (Some(invalid_from), Some(signed_at)) if invalid_from >= signed_at => {
                    Ok(CrlVerdict::Good)
                }
                _ => Ok(CrlVerdict::Revoked),
            }
        }
    }
}
