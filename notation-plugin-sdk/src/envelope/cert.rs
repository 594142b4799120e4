//! Certificate loading and the certificate requirements of the signature
//! specification ("Certificate Requirements").

use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::Id;
use openssl::x509::{X509KeyUsage, X509Ref, X509};
use picky::x509::extension::ExtensionView;
use time::OffsetDateTime;

use super::{CertRule, EnvelopeError};

/// Most certificates one file or envelope may hold.
pub const MAX_CERTIFICATES: usize = 64;

/// Loads certificates from PEM (one or more `CERTIFICATE` blocks) or DER
/// (one certificate or several concatenated). Anything else, including
/// trailing garbage after DER certificates, is refused.
pub fn load_certificates(bytes: &[u8]) -> Result<Vec<X509>, EnvelopeError> {
    let looks_pem = bytes
        .windows(b"-----BEGIN".len())
        .any(|w| w == b"-----BEGIN");
    let certs = if looks_pem {
        X509::stack_from_pem(bytes)
            .map_err(|_| EnvelopeError::CertificateLoad { position: None })?
    } else {
        load_der_sequence(bytes)?
    };
    if certs.is_empty() || certs.len() > MAX_CERTIFICATES {
        return Err(EnvelopeError::CertificateLoad { position: None });
    }
    Ok(certs)
}

/// Length of the DER element (tag + length + contents) at the start of
/// `bytes`, read with the `der` crate's header decoder (definite lengths
/// only, as DER requires). Certificates are a SEQUENCE.
fn outer_der_len(bytes: &[u8]) -> Option<usize> {
    use der::{Decode, Encode};
    let mut reader = der::SliceReader::new(bytes).ok()?;
    let header = der::Header::decode(&mut reader).ok()?;
    if header.tag != der::Tag::Sequence {
        return None;
    }
    let total = (header.encoded_len().ok()? + header.length).ok()?;
    usize::try_from(total).ok()
}

fn load_der_sequence(bytes: &[u8]) -> Result<Vec<X509>, EnvelopeError> {
    let mut certs = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let bad = EnvelopeError::CertificateLoad {
            position: Some(pos),
        };
        let len = match outer_der_len(rest) {
            Some(len) if len <= rest.len() => len,
            _ => return Err(bad),
        };
        let cert = X509::from_der(&rest[..len]).map_err(|_| EnvelopeError::CertificateLoad {
            position: Some(pos),
        })?;
        certs.push(cert);
        if certs.len() > MAX_CERTIFICATES {
            return Err(bad);
        }
        pos += len;
    }
    Ok(certs)
}

/// One-line subject, e.g. `C=US, O=Notary, CN=e2e`.
pub fn subject_line(cert: &X509Ref) -> String {
    cert.subject_name()
        .entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_else(|_| "?".to_owned());
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lower-case hex SHA-256 fingerprint of the DER certificate.
pub fn sha256_fingerprint(cert: &X509Ref) -> String {
    cert.digest(MessageDigest::sha256())
        .map(|d| hex::encode(&*d))
        .unwrap_or_default()
}

fn violation(rule: CertRule, cert: &X509Ref) -> EnvelopeError {
    EnvelopeError::CertificateRequirement {
        rule,
        subject: subject_line(cert),
        sha256_fingerprint: sha256_fingerprint(cert),
    }
}

/// Refuses an envelope chain longer than [`MAX_CERTIFICATES`] before any
/// certificate in it is decoded.
pub(crate) fn check_chain_length(count: usize) -> Result<(), EnvelopeError> {
    if count > MAX_CERTIFICATES {
        return Err(EnvelopeError::TooManyCertificates {
            count,
            max: MAX_CERTIFICATES,
        });
    }
    Ok(())
}

/// A certificate's `basicConstraints` extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicConstraints {
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// The `cA` flag (absent means false).
    pub ca: bool,
    /// The path length constraint, if any.
    pub path_len: Option<u8>,
}

/// The `basicConstraints` extension of `cert`, or `None` when it has none.
/// Fails when the certificate's extensions cannot be decoded.
pub fn basic_constraints(cert: &X509Ref) -> Result<Option<BasicConstraints>, EnvelopeError> {
    Ok(facts(cert)?
        .basic_constraints
        .map(|(critical, ca, path_len)| BasicConstraints {
            critical,
            ca: ca == Some(true),
            path_len,
        }))
}

/// What the requirements look at in one certificate's extensions.
#[derive(Default)]
struct Facts {
    basic_constraints: Option<(bool, Option<bool>, Option<u8>)>,
    key_usage_critical: Option<bool>,
    eku: Option<(bool, Vec<String>)>,
}

fn facts(cert: &X509Ref) -> Result<Facts, EnvelopeError> {
    let der = cert.to_der()?;
    let parsed =
        picky::x509::Cert::from_der(&der).map_err(|_| violation(CertRule::Undecodable, cert))?;
    let mut f = Facts::default();
    for ext in parsed.extensions() {
        match ext.extn_value() {
            ExtensionView::BasicConstraints(bc) => {
                f.basic_constraints = Some((ext.critical(), bc.ca(), bc.pathlen()))
            }
            ExtensionView::KeyUsage(_) => f.key_usage_critical = Some(ext.critical()),
            ExtensionView::ExtendedKeyUsage(eku) => {
                let oids = eku
                    .iter()
                    .map(|o| {
                        let s: String = (&o.0).into();
                        s
                    })
                    .collect();
                f.eku = Some((ext.critical(), oids));
            }
            _ => {}
        }
    }
    Ok(f)
}

const EKU_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
const EKU_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
const EKU_EMAIL: &str = "1.3.6.1.5.5.7.3.4";
const EKU_TIMESTAMPING: &str = "1.3.6.1.5.5.7.3.8";
const EKU_ANY: &str = "2.5.29.37.0";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    CodeSigning,
    Timestamping,
}

fn check_key(cert: &X509Ref) -> Result<(), EnvelopeError> {
    let key = cert.public_key()?;
    match key.id() {
        Id::RSA if key.bits() < 2048 => Err(violation(CertRule::RsaKeyTooShort, cert)),
        Id::EC if key.bits() < 256 => Err(violation(CertRule::EcKeyTooShort, cert)),
        Id::RSA | Id::EC => Ok(()),
        _ => Err(violation(CertRule::UnsupportedKeyType, cert)),
    }
}

fn check_signature_algorithm(cert: &X509Ref) -> Result<(), EnvelopeError> {
    let nid = cert.signature_algorithm().object().nid();
    if nid == Nid::SHA1WITHRSAENCRYPTION || nid == Nid::ECDSA_WITH_SHA1 || nid == Nid::SHA1WITHRSA {
        return Err(violation(CertRule::Sha1Signature, cert));
    }
    Ok(())
}

fn check_leaf(cert: &X509Ref, purpose: Purpose) -> Result<(), EnvelopeError> {
    let f = facts(cert)?;
    if let Some((_, Some(true), _)) = f.basic_constraints {
        return Err(violation(CertRule::LeafMustNotBeCa, cert));
    }
    let ku = match (cert.key_usage(), f.key_usage_critical) {
        (Some(ku), Some(critical)) => {
            if purpose == Purpose::CodeSigning && !critical {
                return Err(violation(CertRule::KeyUsageNotCritical, cert));
            }
            ku
        }
        _ => return Err(violation(CertRule::KeyUsageMissing, cert)),
    };
    if !ku.contains(X509KeyUsage::DIGITAL_SIGNATURE) {
        return Err(violation(CertRule::DigitalSignatureRequired, cert));
    }
    let forbidden = X509KeyUsage::KEY_ENCIPHERMENT
        | X509KeyUsage::DATA_ENCIPHERMENT
        | X509KeyUsage::KEY_AGREEMENT
        | X509KeyUsage::KEY_CERT_SIGN
        | X509KeyUsage::CRL_SIGN
        | X509KeyUsage::ENCIPHER_ONLY
        | X509KeyUsage::DECIPHER_ONLY;
    if ku.intersects(forbidden) {
        return Err(violation(CertRule::KeyUsageForbiddenBits, cert));
    }
    match purpose {
        Purpose::CodeSigning => {
            if let Some((_, oids)) = &f.eku {
                if oids.iter().any(|o| {
                    [
                        EKU_ANY,
                        EKU_SERVER_AUTH,
                        EKU_CLIENT_AUTH,
                        EKU_EMAIL,
                        EKU_TIMESTAMPING,
                    ]
                    .contains(&o.as_str())
                }) {
                    return Err(violation(CertRule::ExtendedKeyUsageForbidden, cert));
                }
            }
        }
        Purpose::Timestamping => match &f.eku {
            Some((true, oids)) if oids.len() == 1 && oids[0] == EKU_TIMESTAMPING => {}
            _ => return Err(violation(CertRule::TimestampingExtendedKeyUsage, cert)),
        },
    }
    Ok(())
}

fn check_ca(cert: &X509Ref, purpose: Purpose, cas_below: usize) -> Result<(), EnvelopeError> {
    let f = facts(cert)?;
    match f.basic_constraints {
        Some((true, Some(true), pathlen)) => {
            if let Some(p) = pathlen {
                if usize::from(p) < cas_below {
                    return Err(violation(CertRule::PathLength, cert));
                }
            }
        }
        Some((true, _, _)) => return Err(violation(CertRule::CaFlagRequired, cert)),
        _ => return Err(violation(CertRule::CaBasicConstraintsCritical, cert)),
    }
    let ku = match (cert.key_usage(), f.key_usage_critical) {
        (Some(ku), Some(critical)) => {
            if purpose == Purpose::CodeSigning && !critical {
                return Err(violation(CertRule::KeyUsageNotCritical, cert));
            }
            ku
        }
        _ => return Err(violation(CertRule::KeyUsageMissing, cert)),
    };
    if !ku.contains(X509KeyUsage::KEY_CERT_SIGN) {
        return Err(violation(CertRule::KeyCertSignRequired, cert));
    }
    Ok(())
}

/// Whether `issuer`'s subject is `cert`'s issuer and `issuer`'s key signed
/// `cert`. (openssl's `issued` would also apply its own key usage checks;
/// the requirements here are checked separately and by name.)
pub fn is_issued_by(cert: &X509Ref, issuer: &X509Ref) -> bool {
    matches!(
        cert.issuer_name().try_cmp(issuer.subject_name()),
        Ok(std::cmp::Ordering::Equal)
    ) && issuer
        .public_key()
        .and_then(|k| cert.verify(&k))
        .unwrap_or(false)
}

fn check_chain(chain: &[X509], purpose: Purpose) -> Result<(), EnvelopeError> {
    let leaf = chain
        .first()
        .ok_or(EnvelopeError::MissingCertificateChain)?;
    for (i, cert) in chain.iter().enumerate() {
        check_key(cert)?;
        check_signature_algorithm(cert)?;
        if let Some(issuer) = chain.get(i + 1) {
            if !is_issued_by(cert, issuer) {
                return Err(violation(CertRule::ChainOrder, cert));
            }
        }
    }
    let root = &chain[chain.len() - 1];
    if !is_issued_by(root, root) {
        return Err(violation(CertRule::RootRequired, root));
    }
    check_leaf(leaf, purpose)?;
    for (i, ca) in chain.iter().enumerate().skip(1) {
        // CA certificates strictly between this one and the leaf.
        check_ca(ca, purpose, i - 1)?;
    }
    Ok(())
}

/// Checks a code signing chain (leaf first, ending in a root) against the
/// signature specification's certificate requirements. Validity periods
/// are not checked here (see [`check_valid_at`]).
pub fn check_signing_chain(chain: &[X509]) -> Result<(), EnvelopeError> {
    check_chain(chain, Purpose::CodeSigning)
}

/// Checks a timestamping (TSA) chain against the certificate requirements.
pub fn check_timestamping_chain(chain: &[X509]) -> Result<(), EnvelopeError> {
    check_chain(chain, Purpose::Timestamping)
}

/// Checks that every certificate of `chain` is valid at `at`.
pub fn check_valid_at(chain: &[X509], at: OffsetDateTime) -> Result<(), EnvelopeError> {
    let t = Asn1Time::from_unix(at.unix_timestamp())?;
    for cert in chain {
        let before = cert.not_before().compare(&t)?;
        let after = cert.not_after().compare(&t)?;
        if before == std::cmp::Ordering::Greater || after == std::cmp::Ordering::Less {
            return Err(violation(CertRule::NotValidAtSigningTime, cert));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outer_length_is_bounded() {
        assert_eq!(outer_der_len(&[0x30, 0x03, 1, 2, 3]), Some(5));
        assert_eq!(outer_der_len(&[0x30, 0x82, 0x01, 0x00]), Some(260));
        assert_eq!(outer_der_len(&[0x30, 0x80]), None);
        assert_eq!(outer_der_len(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(outer_der_len(&[0x31, 0x01, 0]), None);
        assert_eq!(outer_der_len(&[0x30]), None);
        assert!(load_certificates(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(load_certificates(b"").is_err());
    }
}
