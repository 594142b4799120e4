//! Certificate revocation checking, as in the trust policy specification's
//! "Certificate Revocation Evaluation".
//!
//! [`OnlineRevocationChecker`] (the verifier's default) walks the signing
//! chain from the certificate below the root down to the leaf; the root has
//! no issuer to vouch for it and is trusted through the trust store. For
//! each certificate:
//! * no OCSP URL (AIA) and no CRL distribution point: not revocable, good;
//! * OCSP URLs first, tried in order until one answers HTTP 200
//!   ([`ocsp`]): `good` → good, `revoked` → revoked (unless it became
//!   invalid after the authentic signing time); `unknown`, an
//!   untrusted, stale or malformed response, or no answer → fall back to
//!   the CRL distribution points, if any;
//! * CRL URLs in order until one answers HTTP 200 ([`crl`]);
//! * every source failed → unavailable, with the reason of each attempt.
//!
//! The chain is revoked if any certificate is revoked; otherwise
//! unavailable if any certificate's status could not be determined.
//! Limits (see [`fetch`]): OCSP 2 s and 1 MiB per URL, CRL 5 s and 16 MiB
//! per URL (the spec's default time-outs); `http://` and `https://` only.
//! Freshness is judged against the system clock with 5 minutes of leeway.
//!
//! With a [`cache::RevocationCache`] (the default checker uses the notation
//! cache directory), CRLs and OCSP responses are kept until their
//! `nextUpdate` and re-verified like downloads each time they are used; a
//! fresh cache means no network request at all.

pub mod cache;
pub mod crl;
pub mod fetch;
pub mod ocsp;

use std::fmt;
use std::time::Duration;

use ::der::asn1::ObjectIdentifier;
use cms::cert::x509::spki::AlgorithmIdentifierOwned;
use openssl::x509::{X509Ref, X509};
use time::OffsetDateTime;

use self::cache::RevocationCache;
use self::crl::{CrlError, CrlVerdict};
use self::fetch::FetchLimits;
use self::ocsp::{Answer, CertStatus, OcspError};

/// How a revocation was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// An OCSP response.
    Ocsp,
    /// A CRL.
    Crl,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Ocsp => "OCSP",
            Method::Crl => "CRL",
        })
    }
}

/// Why one revocation source gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevocationProblem {
    /// An OCSP URL gave no trusted answer.
    #[error("OCSP {url}: {error}")]
    Ocsp {
        /// The responder URL.
        url: String,
        /// Why.
        #[source]
        error: OcspError,
    },
    /// The OCSP responder does not know the certificate.
    #[error("OCSP {url}: the responder reports the certificate status as unknown")]
    OcspUnknown {
        /// The responder URL.
        url: String,
    },
    /// A delegated OCSP responder certificate (without
    /// `id-pkix-ocsp-nocheck`) is revoked or its status is unknown.
    #[error("OCSP {url}: the responder certificate {responder:?} is revoked or its revocation status is unavailable")]
    OcspResponderNotVerified {
        /// The responder URL.
        url: String,
        /// The responder certificate's subject.
        responder: String,
    },
    /// A CRL URL gave no trusted answer.
    #[error("CRL {url}: {error}")]
    Crl {
        /// The distribution point URL.
        url: String,
        /// Why.
        #[source]
        error: CrlError,
    },
    /// The certificate names revocation endpoints, but none is a URL.
    #[error("the certificate's revocation endpoints hold no OCSP or CRL URL")]
    NoUrl,
}

/// The reasons revocation status is unavailable, displayed as one line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevocationProblems(pub Vec<RevocationProblem>);

impl fmt::Display for RevocationProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Revocation status of a certificate chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStatus {
    /// No certificate is revoked (or none can be: no revocation endpoints).
    Good,
    /// A certificate is revoked.
    Revoked {
        /// Its subject.
        subject: String,
        /// What said so.
        method: Method,
        /// Where the answer came from.
        url: String,
    },
    /// A certificate has revocation endpoints but none gave a trusted answer.
    Unavailable {
        /// Its subject.
        subject: String,
        /// What went wrong with each source tried.
        problems: RevocationProblems,
    },
}

/// Checks the revocation status of a signing chain (leaf first).
pub trait RevocationChecker: Send + Sync {
    /// `signing_time` is the authentic signing time when there is one.
    fn check(&self, chain: &[X509], signing_time: Option<OffsetDateTime>) -> RevocationStatus;
}

pub(crate) use notation_plugin_sdk::envelope::cert::is_issued_by;

const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
/// Signature algorithms accepted on CRLs and OCSP responses: SHA-2 with
/// RSA PKCS #1 v1.5 or ECDSA (RSASSA-PSS is checked separately).
const SHA2_SIGNATURE_ALGORITHMS: &[ObjectIdentifier] = &[
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11"), // sha256WithRSAEncryption
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12"), // sha384WithRSAEncryption
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13"), // sha512WithRSAEncryption
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),   // ecdsa-with-SHA256
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3"),   // ecdsa-with-SHA384
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4"),   // ecdsa-with-SHA512
];

/// `RSASSA-PSS-params` (RFC 4055): only the hash is looked at; its
/// default is SHA-1.
#[derive(::der::Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen_algorithm: Option<::der::Any>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<::der::Any>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<::der::Any>,
}

/// Whether a CRL or OCSP response signature algorithm is allowed: SHA-2
/// only, as for certificates (no SHA-1, no MD5).
pub(crate) fn is_allowed_signature_algorithm(alg: &AlgorithmIdentifierOwned) -> bool {
    if SHA2_SIGNATURE_ALGORITHMS.contains(&alg.oid) {
        return true;
    }
    if alg.oid != RSASSA_PSS {
        return false;
    }
    alg.parameters
        .as_ref()
        .and_then(|p| p.decode_as::<PssParams>().ok())
        .and_then(|p| p.hash_algorithm)
        .is_some_and(|h| [SHA256, SHA384, SHA512].contains(&h.oid))
}

fn subject(cert: &X509Ref) -> String {
    crate::trustpolicy::dn::DistinguishedName::from_x509_name(cert.subject_name()).to_string()
}

/// The OCSP responder URLs of `cert` (authority information access).
pub fn ocsp_urls(cert: &X509Ref) -> Vec<String> {
    cert.ocsp_responders()
        .map(|s| s.iter().map(|u| u.to_string()).collect())
        .unwrap_or_default()
}

/// The CRL distribution point URIs of `cert` (full names only).
pub fn crl_urls(cert: &X509Ref) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(points) = cert.crl_distribution_points() {
        for p in &points {
            let Some(names) = p.distpoint().and_then(|d| d.fullname()) else {
                continue;
            };
            out.extend(names.iter().filter_map(|n| n.uri()).map(str::to_string));
        }
    }
    out
}

/// Whether `cert` names any OCSP responder or CRL distribution point.
pub fn has_revocation_info(cert: &X509Ref) -> bool {
    !ocsp_urls(cert).is_empty() || cert.crl_distribution_points().is_some()
}

/// Result for one certificate.
enum CertResult {
    Good,
    Revoked { method: Method, url: String },
    Unavailable(Vec<RevocationProblem>),
}

/// OCSP with CRL fallback over HTTP; the default checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineRevocationChecker {
    /// Limits for each OCSP request.
    pub ocsp: FetchLimits,
    /// Limits for each CRL download.
    pub crl: FetchLimits,
    /// Where CRLs and OCSP responses are cached (`None`: no cache).
    pub cache: Option<RevocationCache>,
}

impl Default for OnlineRevocationChecker {
    fn default() -> Self {
        OnlineRevocationChecker {
            ocsp: FetchLimits {
                timeout: Duration::from_secs(2),
                max_bytes: 1024 * 1024,
                max_redirects: 0,
            },
            crl: FetchLimits {
                timeout: Duration::from_secs(5),
                max_bytes: 16 * 1024 * 1024,
                max_redirects: 3,
            },
            cache: RevocationCache::from_env(),
        }
    }
}

impl OnlineRevocationChecker {
    /// The same checker caching in `cache` (`None`: no cache).
    pub fn with_cache(mut self, cache: Option<RevocationCache>) -> Self {
        self.cache = cache;
        self
    }

    /// An OCSP answer from `url` about `cert`: from the cache when a cached
    /// response still verifies and its `nextUpdate` is ahead, else from
    /// the responder (and then cached when it can be).
    fn ocsp_answer(
        &self,
        cert: &X509Ref,
        issuer: &X509,
        url: &str,
        signing_time: Option<OffsetDateTime>,
    ) -> Result<Answer, OcspError> {
        let cacheable = |a: &Answer| {
            a.status != CertStatus::Unknown
                && a.next_update.is_some_and(|n| n > OffsetDateTime::now_utc())
        };
        if let Some(cache) = &self.cache {
            let cached = cache
                .load_ocsp(url, cert, issuer, self.ocsp.max_bytes)
                .and_then(|bytes| ocsp::evaluate(&bytes, cert, issuer, signing_time).ok());
            if let Some(answer) = cached.filter(cacheable) {
                return Ok(answer);
            }
        }
        let bytes = post_ocsp_request(cert, issuer, url, &self.ocsp)?;
        let answer = ocsp::evaluate(&bytes, cert, issuer, signing_time)?;
        if let Some(cache) = self.cache.as_ref().filter(|_| cacheable(&answer)) {
            if let Err(e) = cache.store_ocsp(url, cert, issuer, &bytes) {
                cache::warn_once(&e);
            }
        }
        Ok(answer)
    }

    /// What the CRL at `url` says about `cert`: from the cache when the
    /// cached CRL is current and still verifies, else downloaded (and then
    /// cached until its `nextUpdate`).
    fn crl_verdict(
        &self,
        cert: &X509Ref,
        issuer: &X509,
        url: &str,
        signing_time: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<CrlVerdict, CrlError> {
        if let Some(cache) = &self.cache {
            if let Some(cached) = cache.load_crl(url, self.crl.max_bytes, now) {
                if let Ok(verdict) =
                    crl::evaluate_parsed(&cached, cert, issuer, url, signing_time, now)
                {
                    return Ok(verdict);
                }
            }
        }
        let bytes = fetch::get(url, &self.crl)?;
        let verdict = crl::evaluate(&bytes, cert, issuer, url, signing_time, now)?;
        if let Some(cache) = &self.cache {
            if let Err(e) = cache.store_crl(url, &bytes, now) {
                cache::warn_once(&e);
            }
        }
        Ok(verdict)
    }

    fn check_cert(
        &self,
        cert: &X509Ref,
        issuer: &X509,
        signing_time: Option<OffsetDateTime>,
    ) -> CertResult {
        let ocsp = ocsp_urls(cert);
        let crls = crl_urls(cert);
        if ocsp.is_empty() && cert.crl_distribution_points().is_none() {
            return CertResult::Good;
        }
        if ocsp.is_empty() && crls.is_empty() {
            return CertResult::Unavailable(vec![RevocationProblem::NoUrl]);
        }
        let mut problems = Vec::new();
        for url in &ocsp {
            match self.ocsp_answer(cert, issuer, url, signing_time) {
                Ok(answer) => {
                    let unverified = answer
                        .responders_to_check
                        .iter()
                        .find(|r| !matches!(self.crl_only(r, issuer), CertResult::Good));
                    if let Some(r) = unverified {
                        problems.push(RevocationProblem::OcspResponderNotVerified {
                            url: url.clone(),
                            responder: subject(r),
                        });
                        break;
                    }
                    match answer.status {
                        CertStatus::Good => return CertResult::Good,
                        CertStatus::Revoked => {
                            return CertResult::Revoked {
                                method: Method::Ocsp,
                                url: url.clone(),
                            }
                        }
                        CertStatus::Unknown => {
                            problems.push(RevocationProblem::OcspUnknown { url: url.clone() });
                            break;
                        }
                    }
                }
                Err(error) => {
                    // Try the next responder only when this one did not
                    // answer with HTTP 200.
                    let answered = !matches!(error, OcspError::Fetch(_) | OcspError::Request);
                    problems.push(RevocationProblem::Ocsp {
                        url: url.clone(),
                        error,
                    });
                    if answered {
                        break;
                    }
                }
            }
        }
        match self.crl_urls_check(cert, issuer, &crls, signing_time, &mut problems) {
            Some(r) => r,
            None => CertResult::Unavailable(problems),
        }
    }

    /// CRL-only status (for delegated OCSP responder certificates).
    fn crl_only(&self, cert: &X509Ref, issuer: &X509) -> CertResult {
        if cert.crl_distribution_points().is_none() {
            return CertResult::Good;
        }
        let urls = crl_urls(cert);
        if urls.is_empty() {
            return CertResult::Unavailable(vec![RevocationProblem::NoUrl]);
        }
        let mut problems = Vec::new();
        match self.crl_urls_check(cert, issuer, &urls, None, &mut problems) {
            Some(r) => r,
            None => CertResult::Unavailable(problems),
        }
    }

    fn crl_urls_check(
        &self,
        cert: &X509Ref,
        issuer: &X509,
        urls: &[String],
        signing_time: Option<OffsetDateTime>,
        problems: &mut Vec<RevocationProblem>,
    ) -> Option<CertResult> {
        let now = OffsetDateTime::now_utc();
        for url in urls {
            match self.crl_verdict(cert, issuer, url, signing_time, now) {
                Ok(CrlVerdict::Good) => return Some(CertResult::Good),
                Ok(CrlVerdict::Revoked) => {
                    return Some(CertResult::Revoked {
                        method: Method::Crl,
                        url: url.clone(),
                    })
                }
                Err(error) => {
                    let answered = !matches!(error, CrlError::Fetch(_));
                    problems.push(RevocationProblem::Crl {
                        url: url.clone(),
                        error,
                    });
                    if answered {
                        break;
                    }
                }
            }
        }
        None
    }
}

/// POSTs an OCSP request for `cert` to `url`; returns the raw response.
fn post_ocsp_request(
    cert: &X509Ref,
    issuer: &X509,
    url: &str,
    limits: &FetchLimits,
) -> Result<Vec<u8>, OcspError> {
    let body = ocsp::request_body(cert, issuer)?;
    Ok(fetch::post_ocsp(url, &body, limits)?)
}

impl RevocationChecker for OnlineRevocationChecker {
    fn check(&self, chain: &[X509], signing_time: Option<OffsetDateTime>) -> RevocationStatus {
        let mut unavailable = None;
        // Root to leaf; the last certificate (the root) is not checked.
        for i in (0..chain.len().saturating_sub(1)).rev() {
            let (cert, issuer) = (&chain[i], &chain[i + 1]);
            match self.check_cert(cert, issuer, signing_time) {
                CertResult::Good => {}
                CertResult::Revoked { method, url } => {
                    return RevocationStatus::Revoked {
                        subject: subject(cert),
                        method,
                        url,
                    }
                }
                CertResult::Unavailable(problems) => {
                    if unavailable.is_none() {
                        unavailable = Some(RevocationStatus::Unavailable {
                            subject: subject(cert),
                            problems: RevocationProblems(problems),
                        });
                    }
                }
            }
        }
        unavailable.unwrap_or(RevocationStatus::Good)
    }
}
