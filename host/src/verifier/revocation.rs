//! Revocation checking as an interface. OCSP and CRL checking are not
//! implemented yet: [`NoRevocationCheck`] reports a chain without
//! revocation endpoints as good (the specification treats such certificates
//! as not revoked) and any other chain as "not checked".

use openssl::x509::X509;
use time::OffsetDateTime;

/// Revocation status of a certificate chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStatus {
    /// No certificate is revoked.
    Good,
    /// Revocation was not checked (see the checker's documentation).
    NotChecked,
    /// A certificate is revoked.
    Revoked {
        /// Its subject.
        subject: String,
    },
    /// The status of a certificate could not be determined.
    Unavailable {
        /// Its subject.
        subject: String,
    },
}

/// Checks the revocation status of a signing chain (leaf first).
pub trait RevocationChecker: Send + Sync {
    /// `signing_time` is the authentic signing time when there is one.
    fn check(&self, chain: &[X509], signing_time: Option<OffsetDateTime>) -> RevocationStatus;
}

/// The placeholder checker used until OCSP/CRL support exists.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRevocationCheck;

fn has_revocation_info(cert: &X509) -> bool {
    let ocsp = cert
        .ocsp_responders()
        .map(|r| !r.is_empty())
        .unwrap_or(false);
    ocsp || cert.crl_distribution_points().is_some()
}

impl RevocationChecker for NoRevocationCheck {
    fn check(&self, chain: &[X509], _signing_time: Option<OffsetDateTime>) -> RevocationStatus {
        if chain.iter().any(has_revocation_info) {
            RevocationStatus::NotChecked
        } else {
            RevocationStatus::Good
        }
    }
}
