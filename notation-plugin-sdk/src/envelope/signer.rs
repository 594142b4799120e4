//! Signers: something that turns a signing input into a signature plus the
//! certificate chain of the key.

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use crate::vocab::KeySpec;

use super::{algorithm, EnvelopeError};

/// Produces raw signatures for [`super::sign`].
///
/// [`super::sign`] checks every signature a signer returns against the leaf
/// certificate it returns, so an implementation backed by a plugin or a
/// remote service does not need to (and cannot skip the check).
pub trait Signer {
    /// The key spec of the signing key; it selects the signature algorithm.
    fn key_spec(&self) -> KeySpec;

    /// Signs `signing_input` (the JWS signing input or the COSE
    /// `Sig_structure`, not yet hashed) with the algorithm of
    /// [`Self::key_spec`]. Returns the signature in the envelope encoding
    /// (RSASSA-PSS bytes; ECDSA as fixed-width `r || s`) and the
    /// certificate chain, leaf first.
    fn sign(&self, signing_input: &[u8]) -> Result<(Vec<u8>, Vec<X509>), EnvelopeError>;
}

/// Signs with a private key held in memory.
pub struct LocalSigner {
    key: PKey<Private>,
    chain: Vec<X509>,
    key_spec: KeySpec,
}

impl std::fmt::Debug for LocalSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("LocalSigner")
            .field("key_spec", &self.key_spec)
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl LocalSigner {
    /// A signer for `key` with `chain` (leaf first). The key must be of a
    /// supported key spec and match the leaf certificate's public key.
    pub fn new(key: PKey<Private>, chain: Vec<X509>) -> Result<Self, EnvelopeError> {
        let key_spec = algorithm::key_spec_of_public_key(&key)?;
        let leaf = chain
            .first()
            .ok_or(EnvelopeError::MissingCertificateChain)?;
        let leaf_key = leaf.public_key()?;
        if !key.public_eq(&leaf_key) {
            return Err(EnvelopeError::KeyDoesNotMatchCertificate);
        }
        Ok(LocalSigner {
            key,
            chain,
            key_spec,
        })
    }

    /// The certificate chain, leaf first.
    pub fn chain(&self) -> &[X509] {
        &self.chain
    }
}

impl Signer for LocalSigner {
    fn key_spec(&self) -> KeySpec {
        self.key_spec.clone()
    }

    fn sign(&self, signing_input: &[u8]) -> Result<(Vec<u8>, Vec<X509>), EnvelopeError> {
        let alg =
            self.key_spec
                .signing_algorithm()
                .ok_or_else(|| EnvelopeError::UnsupportedKeySpec {
                    key_spec: self.key_spec.clone(),
                })?;
        let sig = algorithm::sign_raw(&alg, &self.key, signing_input)?;
        Ok((sig, self.chain.clone()))
    }
}
