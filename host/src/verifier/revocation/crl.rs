//! Base CRLs (RFC 5280) for one certificate: download the DER CRL from a
//! distribution point, check it is the issuer's (same name, signature under
//! the issuer's key, issuer allowed to sign CRLs), that it is current, and
//! look up the certificate's serial number.
//!
//! RFC 5280 section 5.2: a CRL carrying a critical extension this code
//! does not process is not used. Recognised: `cRLNumber`,
//! `authorityKeyIdentifier`, `issuerAltName` and `issuingDistributionPoint`
//! (IDP); entry extensions `reasonCode` and `invalidityDate`. An IDP is
//! honoured only when the CRL is in scope for the certificate (section
//! 6.3.3 b.2): its distribution point, if any, names the URL the CRL was
//! fetched from (taken from the certificate's CRL distribution points);
//! `onlyContainsCACerts` / `onlyContainsUserCerts` match whether the
//! certificate is a CA; no `onlySomeReasons`, `indirectCRL` or
//! `onlyContainsAttributeCerts`. The CRL must be signed with SHA-2 (RSA
//! PKCS #1 v1.5, RSASSA-PSS or ECDSA).
//!
//! Not supported, and therefore reported as "unavailable" rather than
//! guessed: CRLs that announce delta CRLs (`freshestCRL`), delta CRLs served
//! as base CRLs, partitioned CRLs out of scope for the certificate, and
//! indirect CRLs (signed by someone other than the issuer).

use cms::cert::x509::crl::CertificateList;
use cms::cert::x509::ext::pkix::crl::dp::IssuingDistributionPoint;
use cms::cert::x509::ext::pkix::name::{DistributionPointName, GeneralName};
use cms::cert::x509::ext::Extension;
use cms::cert::x509::Certificate;
use der::asn1::{GeneralizedTime, ObjectIdentifier};
use der::Decode;
use openssl::x509::{CrlStatus, ReasonCode, X509Crl, X509CrlRef, X509KeyUsage, X509Ref, X509};
use time::OffsetDateTime;

use super::fetch::FetchError;

/// Clock skew tolerated on `thisUpdate` / `nextUpdate`, in seconds.
pub const VALIDITY_LEEWAY_SECS: i64 = 300;
/// `CRLReason` value of `certificateHold`.
const CERTIFICATE_HOLD: i64 = 6;
const FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");
const DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const ISSUING_DISTRIBUTION_POINT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.28");
const CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
const AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const ISSUER_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.18");
const REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
const INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");

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
    /// The CRL (or one of its entries) has a critical extension this
    /// verifier does not process (RFC 5280 section 5.2: it must not be used).
    #[error("the CRL has critical extension {oid}, which is not supported")]
    UnsupportedCriticalExtension {
        /// The extension's object identifier.
        oid: String,
    },
    /// The CRL's issuing distribution point limits it to a scope that does
    /// not cover this certificate (or that this verifier cannot check).
    #[error("the CRL does not cover this certificate: its issuing distribution point {reason}")]
    OutOfScope {
        /// What excludes it.
        reason: &'static str,
    },
    /// The CRL is signed with an algorithm not allowed (SHA-1, MD5, ...).
    #[error("the CRL is signed with algorithm {oid}, which is not allowed (SHA-2 with RSA, RSASSA-PSS or ECDSA only)")]
    WeakSignatureAlgorithm {
        /// The algorithm's object identifier.
        oid: String,
    },
}

fn asn1_to_datetime(t: &openssl::asn1::Asn1TimeRef) -> Result<OffsetDateTime, CrlError> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).map_err(|_| CrlError::Malformed)?;
    let d = epoch.diff(t).map_err(|_| CrlError::Malformed)?;
    let secs = i64::from(d.days) * 86400 + i64::from(d.secs);
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| CrlError::Malformed)
}

/// Decodes a CRL as a server may send it (DER, or PEM).
pub fn parse(bytes: &[u8]) -> Result<X509Crl, CrlError> {
    X509Crl::from_der(bytes)
        .or_else(|_| X509Crl::from_pem(bytes))
        .map_err(|_| CrlError::Malformed)
}

/// A CRL's `nextUpdate`, if it has a readable one.
pub fn next_update(crl: &X509CrlRef) -> Option<OffsetDateTime> {
    crl.next_update().and_then(|t| asn1_to_datetime(t).ok())
}

/// Checks a downloaded CRL (DER, or PEM) for `cert` issued by `issuer`,
/// fetched from `url` (one of `cert`'s CRL distribution points).
pub fn evaluate(
    bytes: &[u8],
    cert: &X509Ref,
    issuer: &X509,
    url: &str,
    signing_time: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<CrlVerdict, CrlError> {
    let crl = parse(bytes)?;
    evaluate_parsed(&crl, cert, issuer, url, signing_time, now)
}

/// [`evaluate`] for a CRL already decoded (as the cache holds it).
pub fn evaluate_parsed(
    crl: &X509CrlRef,
    cert: &X509Ref,
    issuer: &X509,
    url: &str,
    signing_time: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<CrlVerdict, CrlError> {
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
    let list = CertificateList::from_der(&der).map_err(|_| CrlError::Malformed)?;
    if list.signature_algorithm != list.tbs_cert_list.signature {
        return Err(CrlError::Malformed);
    }
    if !super::is_allowed_signature_algorithm(&list.signature_algorithm) {
        return Err(CrlError::WeakSignatureAlgorithm {
            oid: list.signature_algorithm.oid.to_string(),
        });
    }
    let key = issuer.public_key().map_err(|_| CrlError::NotTrusted)?;
    if !crl.verify(&key).unwrap_or(false) {
        return Err(CrlError::NotTrusted);
    }
    check_extensions(&list, cert, url)?;

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
            let invalidity = invalidity_date(&list, cert)?;
            match (invalidity, signing_time) {
                (Some(invalid_from), Some(signed_at)) if invalid_from >= signed_at => {
                    Ok(CrlVerdict::Good)
                }
                _ => Ok(CrlVerdict::Revoked),
            }
        }
    }
}

/// Whether `ext` is critical and not among `known`.
fn unsupported_critical(ext: &Extension, known: &[ObjectIdentifier]) -> Result<(), CrlError> {
    if ext.critical && !known.contains(&ext.extn_id) {
        return Err(CrlError::UnsupportedCriticalExtension {
            oid: ext.extn_id.to_string(),
        });
    }
    Ok(())
}

/// The CRL-level and entry-level extension rules (see the module docs).
fn check_extensions(list: &CertificateList, cert: &X509Ref, url: &str) -> Result<(), CrlError> {
    let tbs = &list.tbs_cert_list;
    for ext in tbs.crl_extensions.iter().flatten() {
        if ext.extn_id == FRESHEST_CRL || ext.extn_id == DELTA_CRL_INDICATOR {
            return Err(CrlError::DeltaCrl);
        }
        unsupported_critical(
            ext,
            &[
                CRL_NUMBER,
                AUTHORITY_KEY_IDENTIFIER,
                ISSUER_ALT_NAME,
                ISSUING_DISTRIBUTION_POINT,
            ],
        )?;
        if ext.extn_id == ISSUING_DISTRIBUTION_POINT {
            let idp = IssuingDistributionPoint::from_der(ext.extn_value.as_bytes())
                .map_err(|_| CrlError::Malformed)?;
            check_scope(&idp, cert, url)?;
        }
    }
    // Section 5.3: an unprocessable critical entry extension anywhere
    // makes the whole CRL unusable. (`certificateIssuer` belongs to
    // indirect CRLs, which are not supported.)
    for entry in tbs.revoked_certificates.iter().flatten() {
        for ext in entry.crl_entry_extensions.iter().flatten() {
            unsupported_critical(ext, &[REASON_CODE, INVALIDITY_DATE])?;
        }
    }
    Ok(())
}

/// RFC 5280 section 6.3.3 (b)(2) for a direct CRL.
fn check_scope(idp: &IssuingDistributionPoint, cert: &X509Ref, url: &str) -> Result<(), CrlError> {
    let out = |reason| Err(CrlError::OutOfScope { reason });
    if idp.indirect_crl {
        return out("marks it as an indirect CRL");
    }
    if idp.only_some_reasons.is_some() {
        return out("limits it to some revocation reasons");
    }
    if idp.only_contains_attribute_certs {
        return out("limits it to attribute certificates");
    }
    if idp.only_contains_ca_certs || idp.only_contains_user_certs {
        let ca = is_ca(cert)?;
        if idp.only_contains_ca_certs && !ca {
            return out("limits it to CA certificates");
        }
        if idp.only_contains_user_certs && ca {
            return out("limits it to end-entity certificates");
        }
    }
    match &idp.distribution_point {
        None => Ok(()),
        Some(DistributionPointName::FullName(names)) => {
            let named = names.iter().any(
                |n| matches!(n, GeneralName::UniformResourceIdentifier(u) if u.as_str() == url),
            );
            if named {
                Ok(())
            } else {
                out("names another distribution point than the URL it was fetched from")
            }
        }
        Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
            out("names its distribution point relative to the issuer, which is not supported")
        }
    }
}

/// `cert` decoded by `x509-cert`.
fn parsed(cert: &X509Ref) -> Result<Certificate, CrlError> {
    let der = cert.to_der().map_err(|_| CrlError::Malformed)?;
    Certificate::from_der(&der).map_err(|_| CrlError::Malformed)
}

/// Whether `cert` has basic constraints with `cA` true.
fn is_ca(cert: &X509Ref) -> Result<bool, CrlError> {
    notation_plugin_sdk::envelope::cert::basic_constraints(cert)
        .map(|bc| bc.is_some_and(|bc| bc.ca))
        .map_err(|_| CrlError::Malformed)
}

/// The `invalidityDate` of `cert`'s entry in `list`, if any (an
/// undecodable one counts as absent: the certificate stays revoked).
fn invalidity_date(
    list: &CertificateList,
    cert: &X509Ref,
) -> Result<Option<OffsetDateTime>, CrlError> {
    let serial = parsed(cert)?.tbs_certificate.serial_number;
    let Some(entry) = list
        .tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .find(|e| e.serial_number == serial)
    else {
        return Ok(None);
    };
    Ok(entry
        .crl_entry_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == INVALIDITY_DATE)
        .and_then(|e| GeneralizedTime::from_der(e.extn_value.as_bytes()).ok())
        .and_then(|t| {
            let secs = i64::try_from(t.to_unix_duration().as_secs()).ok()?;
            OffsetDateTime::from_unix_timestamp(secs).ok()
        }))
}
