//! Key specs, signature algorithms, their JWS / COSE identifiers, and raw
//! signing and verification with openssl.

use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKeyRef, Private};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Signer as OsslSigner, Verifier};
use openssl::x509::X509Ref;

use crate::vocab::{KeySpec, SigningAlgorithm};

use super::EnvelopeError;

/// How the RSASSA-PSS salt length is treated on verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PssSaltPolicy {
    /// The salt length must equal the hash length (COSE; also what we
    /// produce when signing).
    DigestLength,
    /// Any salt length is accepted (what upstream JWS verification does).
    Auto,
}

/// The JWS `alg` value for a signature algorithm.
pub fn jws_alg(alg: &SigningAlgorithm) -> Option<&'static str> {
    Some(match alg {
        SigningAlgorithm::RsassaPssSha256 => "PS256",
        SigningAlgorithm::RsassaPssSha384 => "PS384",
        SigningAlgorithm::RsassaPssSha512 => "PS512",
        SigningAlgorithm::EcdsaSha256 => "ES256",
        SigningAlgorithm::EcdsaSha384 => "ES384",
        SigningAlgorithm::EcdsaSha512 => "ES512",
        SigningAlgorithm::Unknown(_) => return None,
    })
}

/// The signature algorithm for a JWS `alg` value.
pub fn from_jws_alg(alg: &str) -> Option<SigningAlgorithm> {
    Some(match alg {
        "PS256" => SigningAlgorithm::RsassaPssSha256,
        "PS384" => SigningAlgorithm::RsassaPssSha384,
        "PS512" => SigningAlgorithm::RsassaPssSha512,
        "ES256" => SigningAlgorithm::EcdsaSha256,
        "ES384" => SigningAlgorithm::EcdsaSha384,
        "ES512" => SigningAlgorithm::EcdsaSha512,
        _ => return None,
    })
}

/// The COSE `alg` identifier for a signature algorithm.
pub fn cose_algorithm_id(alg: &SigningAlgorithm) -> Option<i64> {
    Some(match alg {
        SigningAlgorithm::RsassaPssSha256 => -37,
        SigningAlgorithm::RsassaPssSha384 => -38,
        SigningAlgorithm::RsassaPssSha512 => -39,
        SigningAlgorithm::EcdsaSha256 => -7,
        SigningAlgorithm::EcdsaSha384 => -35,
        SigningAlgorithm::EcdsaSha512 => -36,
        SigningAlgorithm::Unknown(_) => return None,
    })
}

/// The signature algorithm for a COSE `alg` identifier.
pub fn from_cose_algorithm_id(id: i64) -> Option<SigningAlgorithm> {
    Some(match id {
        -37 => SigningAlgorithm::RsassaPssSha256,
        -38 => SigningAlgorithm::RsassaPssSha384,
        -39 => SigningAlgorithm::RsassaPssSha512,
        -7 => SigningAlgorithm::EcdsaSha256,
        -35 => SigningAlgorithm::EcdsaSha384,
        -36 => SigningAlgorithm::EcdsaSha512,
        _ => return None,
    })
}

/// The key spec of a public (or private) key: RSA 2048/3072/4096 or EC
/// P-256/P-384/P-521.
pub fn key_spec_of_public_key<T: HasPublic>(key: &PKeyRef<T>) -> Result<KeySpec, EnvelopeError> {
    match key.id() {
        Id::RSA => {
            let bits = key.bits();
            match bits {
                2048 => Ok(KeySpec::Rsa2048),
                3072 => Ok(KeySpec::Rsa3072),
                4096 => Ok(KeySpec::Rsa4096),
                _ => Err(EnvelopeError::UnsupportedKey {
                    key_type: "RSA",
                    bits,
                }),
            }
        }
        Id::EC => {
            let ec = key.ec_key()?;
            match ec.group().curve_name() {
                Some(Nid::X9_62_PRIME256V1) => Ok(KeySpec::Ec256),
                Some(Nid::SECP384R1) => Ok(KeySpec::Ec384),
                Some(Nid::SECP521R1) => Ok(KeySpec::Ec521),
                _ => Err(EnvelopeError::UnsupportedKey {
                    key_type: "EC",
                    bits: key.bits(),
                }),
            }
        }
        _ => Err(EnvelopeError::UnsupportedKey {
            key_type: "non-RSA/EC",
            bits: key.bits(),
        }),
    }
}

/// The key spec of a certificate's public key.
pub fn key_spec_of_certificate(cert: &X509Ref) -> Result<KeySpec, EnvelopeError> {
    let key = cert.public_key()?;
    key_spec_of_public_key(&key)
}

/// Details of a known signature algorithm.
fn params(alg: &SigningAlgorithm) -> Result<(MessageDigest, Option<usize>), EnvelopeError> {
    Ok(match alg {
        SigningAlgorithm::RsassaPssSha256 => (MessageDigest::sha256(), None),
        SigningAlgorithm::RsassaPssSha384 => (MessageDigest::sha384(), None),
        SigningAlgorithm::RsassaPssSha512 => (MessageDigest::sha512(), None),
        SigningAlgorithm::EcdsaSha256 => (MessageDigest::sha256(), Some(32)),
        SigningAlgorithm::EcdsaSha384 => (MessageDigest::sha384(), Some(48)),
        SigningAlgorithm::EcdsaSha512 => (MessageDigest::sha512(), Some(66)),
        SigningAlgorithm::Unknown(v) => {
            return Err(EnvelopeError::UnsupportedAlgorithm { value: v.clone() })
        }
    })
}

/// Width in bytes of each of `r` and `s` for an ECDSA algorithm.
fn ecdsa_width(alg: &SigningAlgorithm) -> Result<usize, EnvelopeError> {
    match params(alg)? {
        (_, Some(w)) => Ok(w),
        (_, None) => Err(EnvelopeError::UnsupportedAlgorithm {
            value: alg.to_string(),
        }),
    }
}

/// Converts a DER `ECDSA-Sig-Value` into the fixed-width `r || s` form the
/// envelopes use.
pub fn ecdsa_der_to_raw(alg: &SigningAlgorithm, der: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let width = ecdsa_width(alg)?;
    let sig = EcdsaSig::from_der(der).map_err(|_| EnvelopeError::IntegrityFailed)?;
    let width_i32 = i32::try_from(width).unwrap_or(i32::MAX);
    let mut out = sig.r().to_vec_padded(width_i32)?;
    out.extend(sig.s().to_vec_padded(width_i32)?);
    Ok(out)
}

/// Converts a fixed-width `r || s` signature into DER.
pub fn ecdsa_raw_to_der(alg: &SigningAlgorithm, raw: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let width = ecdsa_width(alg)?;
    if raw.len() != 2 * width {
        return Err(EnvelopeError::IntegrityFailed);
    }
    let r = BigNum::from_slice(&raw[..width])?;
    let s = BigNum::from_slice(&raw[width..])?;
    Ok(EcdsaSig::from_private_components(r, s)?.to_der()?)
}

/// Signs `data` with `key` under `alg`, returning the envelope encoding
/// (RSASSA-PSS with salt = hash length; ECDSA as `r || s`).
pub fn sign_raw(
    alg: &SigningAlgorithm,
    key: &PKeyRef<Private>,
    data: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let (md, ec) = params(alg)?;
    let mut signer = OsslSigner::new(md, key)?;
    if ec.is_none() {
        signer.set_rsa_padding(Padding::PKCS1_PSS)?;
        signer.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
        signer.set_rsa_mgf1_md(md)?;
    }
    signer.update(data)?;
    let sig = signer.sign_to_vec()?;
    match ec {
        Some(_) => ecdsa_der_to_raw(alg, &sig),
        None => Ok(sig),
    }
}

/// Verifies an envelope-encoded signature over `data` with `key` under
/// `alg`. Any mismatch, including a key of the wrong type or a signature of
/// the wrong size, is [`EnvelopeError::IntegrityFailed`].
pub fn verify_raw<T: HasPublic>(
    alg: &SigningAlgorithm,
    key: &PKeyRef<T>,
    data: &[u8],
    signature: &[u8],
    salt: PssSaltPolicy,
) -> Result<(), EnvelopeError> {
    let (md, ec) = params(alg)?;
    let key_is_ec = key.id() == Id::EC;
    if key_is_ec != ec.is_some() {
        return Err(EnvelopeError::IntegrityFailed);
    }
    let der;
    let sig: &[u8] = if ec.is_some() {
        der = ecdsa_raw_to_der(alg, signature)?;
        &der
    } else {
        signature
    };
    let mut verifier = Verifier::new(md, key)?;
    if ec.is_none() {
        verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
        verifier.set_rsa_pss_saltlen(match salt {
            PssSaltPolicy::DigestLength => RsaPssSaltlen::DIGEST_LENGTH,
            // RSA_PSS_SALTLEN_AUTO: recover the salt length from the
            // signature.
            PssSaltPolicy::Auto => RsaPssSaltlen::custom(-2),
        })?;
        verifier.set_rsa_mgf1_md(md)?;
    }
    verifier.update(data)?;
    // openssl reports a malformed signature as an error, a wrong one as
    // `false`: both mean the integrity check failed.
    match verifier.verify(sig) {
        Ok(true) => Ok(()),
        _ => Err(EnvelopeError::IntegrityFailed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip() {
        for spec in KeySpec::KNOWN {
            let alg = spec.signing_algorithm().unwrap();
            assert_eq!(from_jws_alg(jws_alg(&alg).unwrap()), Some(alg.clone()));
            assert_eq!(
                from_cose_algorithm_id(cose_algorithm_id(&alg).unwrap()),
                Some(alg)
            );
        }
        assert_eq!(from_jws_alg("none"), None);
        assert_eq!(from_jws_alg("HS256"), None);
        assert_eq!(from_cose_algorithm_id(5), None);
    }

    #[test]
    fn ecdsa_encodings_convert_both_ways() {
        let alg = SigningAlgorithm::EcdsaSha512;
        let group = openssl::ec::EcGroup::from_curve_name(Nid::SECP521R1).unwrap();
        let key = openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap())
            .unwrap();
        let raw = sign_raw(&alg, &key, b"data").unwrap();
        assert_eq!(raw.len(), 132);
        let der = ecdsa_raw_to_der(&alg, &raw).unwrap();
        assert_eq!(ecdsa_der_to_raw(&alg, &der).unwrap(), raw);
        verify_raw(&alg, &key, b"data", &raw, PssSaltPolicy::DigestLength).unwrap();
        assert!(verify_raw(&alg, &key, b"datb", &raw, PssSaltPolicy::DigestLength).is_err());
        assert!(verify_raw(&alg, &key, b"data", &raw[1..], PssSaltPolicy::DigestLength).is_err());
    }
}
