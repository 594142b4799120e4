//! Chain building against trust anchors with openssl. Validity periods are
//! ignored here (`NO_CHECK_TIME`): they are checked by the authentic
//! timestamp step so each failure is reported by the right validation.
//!
//! Because partial chains are accepted, the path openssl builds may end in
//! a trust-store certificate that is not in the envelope (an anchor with the
//! same subject and key as an envelope certificate, or an intermediate).
//! [`verify_to_anchors`] therefore returns the built path, and
//! [`anchors_outside_envelope`] names the certificates the envelope checks
//! did not cover, so the caller applies the validity-period and CA rules to
//! them too.

use notation_plugin_sdk::envelope;
use openssl::error::ErrorStack;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509KeyUsage, X509Ref, X509StoreContext, X509};

/// Why a chain does not lead to an anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainError {
    /// OpenSSL's reason.
    pub reason: &'static str,
    /// Depth of the failing certificate.
    pub depth: u32,
}

/// Verifies that `chain[0]` chains, through `chain[1..]` as untrusted
/// intermediates, to one of `anchors`. A trust anchor may be any
/// certificate of the path (partial chains are accepted, as an anchor is
/// what the user chose to trust). On success returns the path openssl
/// built, leaf first, ending with the trust anchor.
pub fn verify_to_anchors(
    chain: &[X509],
    anchors: &[X509],
) -> Result<Result<Vec<X509>, ChainError>, ErrorStack> {
    let Some(leaf) = chain.first() else {
        return Ok(Err(ChainError {
            reason: "empty certificate chain",
            depth: 0,
        }));
    };
    let mut builder = X509StoreBuilder::new()?;
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for a in anchors {
        let der = a.to_der()?;
        if !seen.contains(&der) {
            builder.add_cert(a.clone())?;
            seen.push(der);
        }
    }
    builder.set_flags(X509VerifyFlags::NO_CHECK_TIME | X509VerifyFlags::PARTIAL_CHAIN)?;
    let store = builder.build();
    let mut untrusted = Stack::new()?;
    for c in &chain[1..] {
        untrusted.push(c.clone())?;
    }
    let mut ctx = X509StoreContext::new()?;
    ctx.init(&store, leaf, &untrusted, |c| {
        let ok = c.verify_cert()?;
        Ok(if ok {
            let path: Vec<X509> = c
                .chain()
                .map(|s| s.iter().map(X509Ref::to_owned).collect())
                .unwrap_or_default();
            if path.is_empty() {
                Err(ChainError {
                    reason: "openssl returned no certificate path",
                    depth: 0,
                })
            } else {
                Ok(path)
            }
        } else {
            Err(ChainError {
                reason: c.error().error_string(),
                depth: c.error_depth(),
            })
        })
    })
}

/// The certificates of a built `path` that are not in the envelope's
/// `chain` (compared by DER encoding): trust-store certificates the path
/// relies on but the envelope checks never saw.
pub fn anchors_outside_envelope(path: &[X509], chain: &[X509]) -> Result<Vec<X509>, ErrorStack> {
    let mut envelope_der = Vec::with_capacity(chain.len());
    for c in chain {
        envelope_der.push(c.to_der()?);
    }
    let mut out = Vec::new();
    for c in path {
        if !envelope_der.contains(&c.to_der()?) {
            out.push(c.clone());
        }
    }
    Ok(out)
}

/// Which CA rule a trust-store certificate used as an issuer breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaRule {
    /// The certificate cannot be decoded.
    Undecodable,
    /// Basic constraints are missing, not critical, or do not say CA.
    NotCa,
    /// Key usage is missing or lacks `keyCertSign`.
    NoKeyCertSign,
}

impl CaRule {
    /// A short description.
    pub fn as_str(self) -> &'static str {
        match self {
            CaRule::Undecodable => "the certificate cannot be decoded",
            CaRule::NotCa => "basic constraints must be critical and mark the certificate as a CA",
            CaRule::NoKeyCertSign => "key usage must include keyCertSign",
        }
    }
}

/// The CA rules of the certificate requirements for a certificate that
/// issues others: critical basic constraints with `cA` true, and a key
/// usage with `keyCertSign`.
pub fn check_issuer_rules(cert: &X509Ref) -> Result<(), CaRule> {
    let bc = envelope::cert::basic_constraints(cert).map_err(|_| CaRule::Undecodable)?;
    if !bc.is_some_and(|bc| bc.critical && bc.ca) {
        return Err(CaRule::NotCa);
    }
    match cert.key_usage() {
        Some(ku) if ku.contains(X509KeyUsage::KEY_CERT_SIGN) => Ok(()),
        _ => Err(CaRule::NoKeyCertSign),
    }
}
