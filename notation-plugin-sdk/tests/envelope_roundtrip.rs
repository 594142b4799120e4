//! Sign / parse / verify round trips for every key spec and both formats,
//! and tampering that must be caught.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use coset::{CborSerializable, CoseSign1, TaggedCborSerializable};
use notation_plugin_sdk::descriptor::Descriptor;
use notation_plugin_sdk::envelope::{
    self, cose, header_names, testing, EnvelopeError, EnvelopeFormat, ExtendedAttribute,
    LocalSigner, Payload, SignRequest, Signer, SigningScheme,
};
use notation_plugin_sdk::vocab::KeySpec;
use openssl::x509::X509;
use time::OffsetDateTime;

const FORMATS: [EnvelopeFormat; 2] = [EnvelopeFormat::Jws, EnvelopeFormat::Cose];

fn request(scheme: SigningScheme) -> SignRequest {
    let mut d = Descriptor::new(
        "application/vnd.oci.image.manifest.v1+json",
        "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
        517,
    );
    d.annotations = Some(BTreeMap::from([("buildId".to_owned(), "42".to_owned())]));
    let now = OffsetDateTime::now_utc();
    SignRequest {
        payload: Payload::new(d),
        signing_scheme: scheme,
        signing_time: now,
        expiry: Some(now + time::Duration::days(7)),
        signing_agent: Some("notation-rs/test".to_owned()),
        extended_attributes: vec![],
    }
}

fn signer(spec: &KeySpec) -> LocalSigner {
    let (key, chain) = testing::generate_chain(spec).unwrap();
    LocalSigner::new(key, chain).unwrap()
}

fn parse_and_verify(format: EnvelopeFormat, bytes: &[u8]) -> Result<(), EnvelopeError> {
    envelope::parse(format, bytes)?.verify_integrity()
}

#[test]
fn every_key_spec_round_trips_in_both_formats() {
    for spec in KeySpec::KNOWN {
        let signer = signer(spec);
        for format in FORMATS {
            let req = request(SigningScheme::X509);
            let bytes = envelope::sign(format, &req, &signer).unwrap();
            let env = envelope::parse(format, &bytes).unwrap();
            env.verify_integrity()
                .unwrap_or_else(|e| panic!("{spec} {format}: {e}"));
            assert_eq!(env.signing_algorithm, spec.signing_algorithm().unwrap());
            assert_eq!(env.payload().unwrap(), req.payload);
            let a = &env.signed_attributes;
            assert_eq!(a.signing_scheme, SigningScheme::X509);
            assert_eq!(
                a.signing_time.unix_timestamp(),
                req.signing_time.unix_timestamp()
            );
            assert_eq!(
                a.expiry.map(|e| e.unix_timestamp()),
                req.expiry.map(|e| e.unix_timestamp())
            );
            assert_eq!(
                env.unsigned_attributes.signing_agent.as_deref(),
                Some("notation-rs/test")
            );
            assert_eq!(env.certificate_chain.len(), 2);
            env.check_critical_attributes().unwrap();
            // Flipping one signature byte breaks it.
            let mut bad = env.clone();
            bad.signature[0] ^= 0x80;
            assert!(matches!(
                bad.verify_integrity(),
                Err(EnvelopeError::IntegrityFailed)
            ));
        }
    }
}

#[test]
fn signing_authority_scheme_and_extended_attributes_round_trip() {
    let signer = signer(&KeySpec::Ec384);
    for format in FORMATS {
        let mut req = request(SigningScheme::X509SigningAuthority);
        req.extended_attributes = vec![
            ExtendedAttribute::critical_text(
                header_names::VERIFICATION_PLUGIN,
                "com.example.verifier",
            ),
            ExtendedAttribute::critical_text(
                header_names::VERIFICATION_PLUGIN_MIN_VERSION,
                "1.2.0",
            ),
            ExtendedAttribute {
                key: "com.example.note".to_owned(),
                value: "informational".into(),
                critical: false,
            },
        ];
        let bytes = envelope::sign(format, &req, &signer).unwrap();
        let env = envelope::parse(format, &bytes).unwrap();
        env.verify_integrity().unwrap();
        let a = &env.signed_attributes;
        assert_eq!(a.signing_scheme, SigningScheme::X509SigningAuthority);
        assert_eq!(a.verification_plugin(), Some("com.example.verifier"));
        assert_eq!(a.verification_plugin_min_version(), Some("1.2.0"));
        assert!(!a.extended_attribute("com.example.note").unwrap().critical);
        env.check_critical_attributes().unwrap();

        // An unknown critical attribute is reported by name.
        req.extended_attributes
            .push(ExtendedAttribute::critical_text("com.example.must", "x"));
        let bytes = envelope::sign(format, &req, &signer).unwrap();
        let env = envelope::parse(format, &bytes).unwrap();
        env.verify_integrity().unwrap();
        assert!(matches!(
            env.check_critical_attributes(),
            Err(EnvelopeError::UnknownCriticalAttribute { name }) if name == "com.example.must"
        ));
    }
}

#[test]
fn reserved_or_repeated_extended_attributes_are_refused() {
    let signer = signer(&KeySpec::Ec256);
    for format in FORMATS {
        let mut req = request(SigningScheme::X509);
        req.extended_attributes = vec![ExtendedAttribute::critical_text(header_names::EXPIRY, "x")];
        assert!(matches!(
            envelope::sign(format, &req, &signer),
            Err(EnvelopeError::DuplicateAttribute { .. })
        ));
        req.extended_attributes = vec![
            ExtendedAttribute::critical_text("a", "x"),
            ExtendedAttribute::critical_text("a", "y"),
        ];
        assert!(matches!(
            envelope::sign(format, &req, &signer),
            Err(EnvelopeError::DuplicateAttribute { .. })
        ));
    }
}

/// Every byte of `part` flipped in turn, rebuilt with `rebuild`, must not
/// verify.
fn assert_every_flip_fails(
    what: &str,
    format: EnvelopeFormat,
    part: &[u8],
    rebuild: impl Fn(&[u8]) -> Vec<u8>,
) {
    for i in 0..part.len() {
        let mut p = part.to_vec();
        p[i] ^= 0x01;
        let bytes = rebuild(&p);
        assert!(
            parse_and_verify(format, &bytes).is_err(),
            "{format} {what}: flipping byte {i} still verifies"
        );
    }
}

#[test]
fn flipping_any_byte_of_jws_payload_protected_or_signature_fails() {
    for spec in [KeySpec::Rsa2048, KeySpec::Ec256] {
        let signer = signer(&spec);
        let bytes =
            envelope::sign(EnvelopeFormat::Jws, &request(SigningScheme::X509), &signer).unwrap();
        parse_and_verify(EnvelopeFormat::Jws, &bytes).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        for field in ["payload", "protected", "signature"] {
            let part = URL_SAFE_NO_PAD
                .decode(doc[field].as_str().unwrap())
                .unwrap();
            assert_every_flip_fails(field, EnvelopeFormat::Jws, &part, |p| {
                let mut d = doc.clone();
                d[field] = URL_SAFE_NO_PAD.encode(p).into();
                serde_json::to_vec(&d).unwrap()
            });
        }
    }
}

#[test]
fn flipping_any_byte_of_cose_payload_protected_or_signature_fails() {
    for spec in [KeySpec::Rsa2048, KeySpec::Ec256] {
        let signer = signer(&spec);
        let bytes =
            envelope::sign(EnvelopeFormat::Cose, &request(SigningScheme::X509), &signer).unwrap();
        parse_and_verify(EnvelopeFormat::Cose, &bytes).unwrap();
        let msg = CoseSign1::from_tagged_slice(&bytes).unwrap();
        let protected = msg.protected.original_data.clone().unwrap();
        let payload = msg.payload.clone().unwrap();
        let unprotected = msg.unprotected.clone();
        let signature = msg.signature.clone();
        assert_every_flip_fails("protected", EnvelopeFormat::Cose, &protected, |p| {
            cose::encode_sign1(p, unprotected.clone(), &payload, &signature)
                .unwrap_or_else(|_| b"undecodable".to_vec())
        });
        assert_every_flip_fails("payload", EnvelopeFormat::Cose, &payload, |p| {
            cose::encode_sign1(&protected, unprotected.clone(), p, &signature).unwrap()
        });
        assert_every_flip_fails("signature", EnvelopeFormat::Cose, &signature, |s| {
            cose::encode_sign1(&protected, unprotected.clone(), &payload, s).unwrap()
        });
    }
}

fn with_chain(format: EnvelopeFormat, bytes: &[u8], chain: &[X509]) -> Vec<u8> {
    let ders: Vec<Vec<u8>> = chain.iter().map(|c| c.to_der().unwrap()).collect();
    match format {
        EnvelopeFormat::Jws => {
            let mut doc: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            doc["header"]["x5c"] = ders.iter().map(|d| STANDARD.encode(d)).collect();
            serde_json::to_vec(&doc).unwrap()
        }
        EnvelopeFormat::Cose => {
            let msg = CoseSign1::from_tagged_slice(bytes).unwrap();
            let env = envelope::parse(format, bytes).unwrap();
            cose::encode_sign1(
                &msg.protected.original_data.unwrap(),
                cose::unprotected_header(&ders, &env.unsigned_attributes),
                &msg.payload.unwrap(),
                &msg.signature,
            )
            .unwrap()
        }
    }
}

#[test]
fn a_wrong_certificate_fails() {
    let signer = signer(&KeySpec::Ec256);
    let (_, same_spec_chain) = testing::generate_chain(&KeySpec::Ec256).unwrap();
    let (_, other_spec_chain) = testing::generate_chain(&KeySpec::Rsa2048).unwrap();
    for format in FORMATS {
        let bytes = envelope::sign(format, &request(SigningScheme::X509), &signer).unwrap();
        // Sanity: replacing the chain with itself still verifies.
        let same = with_chain(format, &bytes, signer.chain());
        parse_and_verify(format, &same).unwrap();
        let swapped = with_chain(format, &bytes, &same_spec_chain);
        assert!(matches!(
            parse_and_verify(format, &swapped),
            Err(EnvelopeError::IntegrityFailed)
        ));
        let swapped = with_chain(format, &bytes, &other_spec_chain);
        assert!(matches!(
            parse_and_verify(format, &swapped),
            Err(EnvelopeError::AlgorithmMismatch { .. })
        ));
        let none = with_chain(format, &bytes, &[]);
        assert!(matches!(
            envelope::parse(format, &none),
            Err(EnvelopeError::MissingCertificateChain)
        ));
    }
}

#[test]
fn an_overlong_certificate_chain_is_refused_before_decoding() {
    let signer = signer(&KeySpec::Ec256);
    let leaf = signer.chain()[0].clone();
    for format in FORMATS {
        let bytes = envelope::sign(format, &request(SigningScheme::X509), &signer).unwrap();
        let long: Vec<X509> = vec![leaf.clone(); envelope::cert::MAX_CERTIFICATES + 1];
        let overlong = with_chain(format, &bytes, &long);
        assert!(matches!(
            envelope::parse(format, &overlong),
            Err(EnvelopeError::TooManyCertificates { count, .. })
                if count == envelope::cert::MAX_CERTIFICATES + 1
        ));
        let at_limit = with_chain(format, &bytes, &long[1..]);
        assert!(envelope::parse(format, &at_limit).is_ok());
    }
}

/// A signer (as a plugin would be) whose signature does not match the
/// chain it returns.
struct LyingSigner {
    real: LocalSigner,
    chain: Vec<X509>,
}

impl Signer for LyingSigner {
    fn key_spec(&self) -> KeySpec {
        self.real.key_spec()
    }
    fn sign(&self, input: &[u8]) -> Result<(Vec<u8>, Vec<X509>), EnvelopeError> {
        let (sig, _) = self.real.sign(input)?;
        Ok((sig, self.chain.clone()))
    }
}

#[test]
fn signatures_from_a_signer_are_checked_before_assembly() {
    let real = signer(&KeySpec::Ec256);
    let (_, other_chain) = testing::generate_chain(&KeySpec::Ec256).unwrap();
    let (_, rsa_chain) = testing::generate_chain(&KeySpec::Rsa2048).unwrap();
    let lying = LyingSigner {
        real,
        chain: other_chain,
    };
    for format in FORMATS {
        assert!(matches!(
            envelope::sign(format, &request(SigningScheme::X509), &lying),
            Err(EnvelopeError::SignerSignatureInvalid)
        ));
    }
    let lying = LyingSigner {
        real: lying.real,
        chain: rsa_chain,
    };
    assert!(matches!(
        envelope::sign(EnvelopeFormat::Jws, &request(SigningScheme::X509), &lying),
        Err(EnvelopeError::KeySpecMismatch { .. })
    ));
}

#[test]
fn signing_outside_the_certificate_validity_is_refused() {
    let signer = signer(&KeySpec::Ec256);
    let mut req = request(SigningScheme::X509);
    req.signing_time = OffsetDateTime::now_utc() + time::Duration::days(400);
    assert!(matches!(
        envelope::sign(EnvelopeFormat::Cose, &req, &signer),
        Err(EnvelopeError::CertificateRequirement { .. })
    ));
}

#[test]
fn local_signer_refuses_a_key_that_does_not_match_the_leaf() {
    let (key, _) = testing::generate_chain(&KeySpec::Ec256).unwrap();
    let (_, chain) = testing::generate_chain(&KeySpec::Ec256).unwrap();
    assert!(matches!(
        LocalSigner::new(key, chain),
        Err(EnvelopeError::KeyDoesNotMatchCertificate)
    ));
}

#[test]
fn cose_protected_header_without_crit_entry_for_expiry_is_refused() {
    // Rebuild a COSE protected header with expiry present but not in crit.
    let signer = signer(&KeySpec::Ec256);
    let bytes =
        envelope::sign(EnvelopeFormat::Cose, &request(SigningScheme::X509), &signer).unwrap();
    let msg = CoseSign1::from_tagged_slice(&bytes).unwrap();
    let mut header = msg.protected.header.clone();
    header
        .crit
        .retain(|c| *c != coset::RegisteredLabelWithPrivate::Text(header_names::EXPIRY.into()));
    let protected = header.to_vec().unwrap();
    let out = cose::encode_sign1(
        &protected,
        msg.unprotected.clone(),
        msg.payload.as_ref().unwrap(),
        &msg.signature,
    )
    .unwrap();
    assert!(matches!(
        envelope::parse(EnvelopeFormat::Cose, &out),
        Err(EnvelopeError::NotMarkedCritical { name }) if name == header_names::EXPIRY
    ));
}

/// Re-signs a COSE envelope with `x5chain` moved into its protected header
/// (the COSE envelope spec allows either header); `also_unprotected`
/// keeps a copy in the unprotected header as well.
fn cose_with_protected_chain(signer: &LocalSigner, also_unprotected: bool) -> Vec<u8> {
    let bytes =
        envelope::sign(EnvelopeFormat::Cose, &request(SigningScheme::X509), signer).unwrap();
    let msg = CoseSign1::from_tagged_slice(&bytes).unwrap();
    let chain: Vec<coset::cbor::Value> = signer
        .chain()
        .iter()
        .map(|c| coset::cbor::Value::Bytes(c.to_der().unwrap()))
        .collect();
    let mut header = msg.protected.header.clone();
    header.rest.push((
        coset::Label::Int(cose::X5CHAIN_LABEL),
        coset::cbor::Value::Array(chain),
    ));
    let protected = header.clone().to_vec().unwrap();
    let payload = msg.payload.clone().unwrap();
    let tbs = coset::sig_structure_data(
        coset::SignatureContext::CoseSign1,
        coset::ProtectedHeader {
            original_data: Some(protected.clone()),
            header,
        },
        None,
        &[],
        &payload,
    );
    let (signature, _) = signer.sign(&tbs).unwrap();
    let unprotected = if also_unprotected {
        msg.unprotected.clone()
    } else {
        let mut u = msg.unprotected.clone();
        u.rest
            .retain(|(l, _)| *l != coset::Label::Int(cose::X5CHAIN_LABEL));
        u
    };
    cose::encode_sign1(&protected, unprotected, &payload, &signature).unwrap()
}

#[test]
fn cose_x5chain_in_the_protected_header_is_accepted() {
    let signer = signer(&KeySpec::Ec256);
    let bytes = cose_with_protected_chain(&signer, false);
    let env = envelope::parse(EnvelopeFormat::Cose, &bytes).unwrap();
    assert_eq!(
        env.certificate_chain[0].to_der().unwrap(),
        signer.chain()[0].to_der().unwrap()
    );
    env.verify_integrity().unwrap();

    // In both headers at once the signer would be ambiguous: refused.
    let both = cose_with_protected_chain(&signer, true);
    assert!(matches!(
        envelope::parse(EnvelopeFormat::Cose, &both),
        Err(EnvelopeError::InvalidAttribute { name, .. }) if name == "x5chain"
    ));
}
