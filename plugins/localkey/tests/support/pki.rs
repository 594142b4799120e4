//! Test PKI: keys of every supported spec and a root CA + code-signing leaf
//! chain that meets the Notary Project certificate requirements.
//! Shared by several test crates through `#[path]`.
#![allow(dead_code)]

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, PKey, PKeyRef, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509Builder, X509Name, X509};

/// A key spec as (kind, size): ("RSA", 2048) or ("EC", 256).
pub const SPECS: &[(&str, u32)] = &[
    ("RSA", 2048),
    ("RSA", 3072),
    ("RSA", 4096),
    ("EC", 256),
    ("EC", 384),
    ("EC", 521),
];

pub fn gen_key(kind: &str, size: u32) -> PKey<Private> {
    match kind {
        "RSA" => PKey::from_rsa(Rsa::generate(size).unwrap()).unwrap(),
        _ => {
            let nid = match size {
                256 => Nid::X9_62_PRIME256V1,
                384 => Nid::SECP384R1,
                _ => Nid::SECP521R1,
            };
            let group = EcGroup::from_curve_name(nid).unwrap();
            PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
        }
    }
}

fn name(cn: &str) -> X509Name {
    let mut n = X509Name::builder().unwrap();
    n.append_entry_by_text("C", "US").unwrap();
    n.append_entry_by_text("ST", "WA").unwrap();
    n.append_entry_by_text("O", "Notation Test").unwrap();
    n.append_entry_by_text("CN", cn).unwrap();
    n.build()
}

fn serial() -> openssl::asn1::Asn1Integer {
    let mut bn = BigNum::new().unwrap();
    bn.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    bn.to_asn1_integer().unwrap()
}

/// A certificate authority: its key and self-signed certificate.
pub struct Ca {
    pub key: PKey<Private>,
    pub cert: X509,
}

pub fn make_ca(cn: &str) -> Ca {
    let key = gen_key("RSA", 2048);
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&serial()).unwrap();
    b.set_subject_name(&name(cn)).unwrap();
    b.set_issuer_name(&name(cn)).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(365).unwrap())
        .unwrap();
    b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()
            .unwrap(),
    )
    .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    Ca {
        key,
        cert: b.build(),
    }
}

/// A code-signing leaf for `public_key`, issued by `ca`.
pub fn make_leaf<T: HasPublic>(ca: &Ca, public_key: &PKeyRef<T>, cn: &str) -> X509 {
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&serial()).unwrap();
    b.set_subject_name(&name(cn)).unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    b.set_pubkey(public_key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    b.append_extension(BasicConstraints::new().build().unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .build()
            .unwrap(),
    )
    .unwrap();
    b.append_extension(ExtendedKeyUsage::new().code_signing().build().unwrap())
        .unwrap();
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    b.build()
}

/// PEM of a chain, leaf first.
pub fn chain_pem(chain: &[&X509]) -> Vec<u8> {
    chain.iter().flat_map(|c| c.to_pem().unwrap()).collect()
}
