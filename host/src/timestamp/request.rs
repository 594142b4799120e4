//! Building an RFC 3161 `TimeStampReq`.

use der::asn1::{Int, ObjectIdentifier, OctetString};
use der::{Any, Encode};
use notation_plugin_sdk::vocab::HashAlgorithm;
use openssl::hash::hash;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

use super::{message_digest, TimestampError};

/// `id-sha256`.
pub const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// `id-sha384`.
pub const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
/// `id-sha512`.
pub const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// The object identifier of a hash algorithm.
pub fn hash_oid(hash: &HashAlgorithm) -> Option<ObjectIdentifier> {
    match hash {
        HashAlgorithm::Sha256 => Some(ID_SHA256),
        HashAlgorithm::Sha384 => Some(ID_SHA384),
        HashAlgorithm::Sha512 => Some(ID_SHA512),
        _ => None,
    }
}

/// The hash algorithm of an object identifier (SHA-2 family only).
pub fn hash_of_oid(oid: &ObjectIdentifier) -> Option<HashAlgorithm> {
    if *oid == ID_SHA256 {
        Some(HashAlgorithm::Sha256)
    } else if *oid == ID_SHA384 {
        Some(HashAlgorithm::Sha384)
    } else if *oid == ID_SHA512 {
        Some(HashAlgorithm::Sha512)
    } else {
        None
    }
}

/// A request ready to send, with what the response must echo.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    /// DER `TimeStampReq`.
    pub der: Vec<u8>,
    /// The hash algorithm of the imprint.
    pub hash: HashAlgorithm,
    /// The hashed message.
    pub digest: Vec<u8>,
    /// The nonce (a positive DER INTEGER's content bytes).
    pub nonce: Vec<u8>,
}

/// Builds a `TimeStampReq` for `message` hashed with `hash`: version 1,
/// a random 64-bit nonce, `certReq` true, no policy, no extensions.
pub fn build(message: &[u8], hash_alg: &HashAlgorithm) -> Result<PreparedRequest, TimestampError> {
    let (md, oid) = match (message_digest(hash_alg), hash_oid(hash_alg)) {
        (Some(md), Some(oid)) => (md, oid),
        _ => {
            return Err(TimestampError::UnsupportedHash {
                oid: hash_alg.to_string(),
            })
        }
    };
    let digest = hash(md, message)?.to_vec();
    let mut nonce = [0u8; 8];
    openssl::rand::rand_bytes(&mut nonce)?;
    // A positive INTEGER: clear the top bit, and keep the first byte
    // non-zero so the encoding is minimal.
    nonce[0] = (nonce[0] & 0x7f) | 0x01;
    let malformed = |source| TimestampError::MalformedToken {
        part: "TimeStampReq",
        source,
    };
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: spki_algorithm(oid),
            hashed_message: OctetString::new(digest.clone()).map_err(malformed)?,
        },
        req_policy: None,
        nonce: Some(Int::new(&nonce).map_err(malformed)?),
        cert_req: true,
        extensions: None,
    };
    Ok(PreparedRequest {
        der: req.to_der().map_err(malformed)?,
        hash: hash_alg.clone(),
        digest,
        nonce: nonce.to_vec(),
    })
}

/// An `AlgorithmIdentifier` with absent parameters (as RFC 5754 asks for
/// SHA-2).
fn spki_algorithm(oid: ObjectIdentifier) -> cms::cert::x509::spki::AlgorithmIdentifier<Any> {
    cms::cert::x509::spki::AlgorithmIdentifier {
        oid,
        parameters: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;

    #[test]
    fn request_round_trips() {
        let r = build(b"signature bytes", &HashAlgorithm::Sha384).unwrap();
        let parsed = TimeStampReq::from_der(&r.der).unwrap();
        assert!(parsed.cert_req);
        assert_eq!(parsed.message_imprint.hash_algorithm.oid, ID_SHA384);
        assert_eq!(parsed.message_imprint.hashed_message.as_bytes(), r.digest);
        assert_eq!(r.digest.len(), 48);
        assert_eq!(parsed.nonce.unwrap().as_bytes(), r.nonce.as_slice());
        assert!(build(b"x", &HashAlgorithm::Unknown("MD5".into())).is_err());
    }
}
