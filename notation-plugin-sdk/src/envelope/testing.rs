//! Generation of throwaway keys and certificate chains that meet the
//! signing certificate requirements, for tests, benchmarks and
//! `cert generate-test`-style commands. Not for production trust.

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509Builder, X509NameBuilder, X509};

use crate::vocab::KeySpec;

use super::EnvelopeError;

/// Generates a private key of `key_spec`.
pub fn generate_key(key_spec: &KeySpec) -> Result<PKey<Private>, EnvelopeError> {
    let ec = |nid| -> Result<PKey<Private>, EnvelopeError> {
        let group = EcGroup::from_curve_name(nid)?;
        Ok(PKey::from_ec_key(EcKey::generate(&group)?)?)
    };
    match key_spec {
        KeySpec::Rsa2048 => Ok(PKey::from_rsa(Rsa::generate(2048)?)?),
        KeySpec::Rsa3072 => Ok(PKey::from_rsa(Rsa::generate(3072)?)?),
        KeySpec::Rsa4096 => Ok(PKey::from_rsa(Rsa::generate(4096)?)?),
        KeySpec::Ec256 => ec(Nid::X9_62_PRIME256V1),
        KeySpec::Ec384 => ec(Nid::SECP384R1),
        KeySpec::Ec521 => ec(Nid::SECP521R1),
        KeySpec::Unknown(_) => Err(EnvelopeError::UnsupportedKeySpec {
            key_spec: key_spec.clone(),
        }),
    }
}

/// Builds a certificate for `key` named `cn`, signed by `issuer` (or
/// self-signed), valid from one day ago for `days` days.
pub fn build_certificate(
    cn: &str,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    is_ca: bool,
    days: u32,
) -> Result<X509, EnvelopeError> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("O", "Notary test")?;
    name.append_entry_by_text("CN", cn)?;
    let name = name.build();
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(issuer.map(|(c, _)| c.subject_name()).unwrap_or(&name))?;
    b.set_pubkey(key)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let not_before = Asn1Time::from_unix(now - 86_400)?;
    let not_after = Asn1Time::from_unix(now + i64::from(days) * 86_400)?;
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    if is_ca {
        b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
    } else {
        b.append_extension(BasicConstraints::new().build()?)?;
        b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
        b.append_extension(ExtendedKeyUsage::new().code_signing().build()?)?;
    }
    let signing_key = issuer.map(|(_, k)| k).unwrap_or(key);
    b.sign(signing_key, MessageDigest::sha256())?;
    Ok(b.build())
}

/// A leaf key of `key_spec` and a chain `[leaf, root]` (the root uses an
/// EC P-256 key) meeting the code signing certificate requirements.
pub fn generate_chain(key_spec: &KeySpec) -> Result<(PKey<Private>, Vec<X509>), EnvelopeError> {
    let root_key = generate_key(&KeySpec::Ec256)?;
    let root = build_certificate("Notary test root", &root_key, None, true, 365)?;
    let key = generate_key(key_spec)?;
    let leaf = build_certificate(
        &format!("Notary test leaf {key_spec}"),
        &key,
        Some((&root, &root_key)),
        false,
        30,
    )?;
    Ok((key, vec![leaf, root]))
}
