//! Chain building against trust anchors with openssl. Validity periods are
//! ignored here (`NO_CHECK_TIME`): they are checked by the authentic
//! timestamp step so each failure is reported by the right validation.

use openssl::error::ErrorStack;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509StoreContext, X509};

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
/// what the user chose to trust).
pub fn verify_to_anchors(
    chain: &[X509],
    anchors: &[X509],
) -> Result<Result<(), ChainError>, ErrorStack> {
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
            Ok(())
        } else {
            Err(ChainError {
                reason: c.error().error_string(),
                depth: c.error_depth(),
            })
        })
    })
}
