//! Interoperability with envelopes and certificates made by upstream
//! notation / notation-core-go (`tests/vectors`).

use std::path::PathBuf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use notation_plugin_sdk::envelope::{
    self, cert, cose, jws, EnvelopeError, EnvelopeFormat, ExtendedAttribute, LocalSigner,
    SignRequest, SignedAttributes, SigningScheme, UnsignedAttributes, PAYLOAD_MEDIA_TYPE,
};
use notation_plugin_sdk::vocab::{KeySpec, SigningAlgorithm};
use time::OffsetDateTime;

fn vectors() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors"))
}

fn read(rel: &str) -> Vec<u8> {
    let p = vectors().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

fn json(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&read(rel)).unwrap()
}

fn t(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

/// The extended attributes both conformance cases use.
fn conformance_extended() -> Vec<ExtendedAttribute> {
    let attr = |k: &str, v: &str, critical| ExtendedAttribute {
        key: k.to_owned(),
        value: serde_json::Value::from(v),
        critical,
    };
    vec![
        attr("signedCritKey1", "signedCritValue1", true),
        attr("signedKey1", "signedValue1", false),
        attr("signedKey2", "signedValue1", false),
        attr("signedKey3", "signedValue1", false),
        attr("signedKey4", "signedValue1", false),
    ]
}

#[test]
fn jws_conformance_vector_decodes_with_expected_attributes() {
    let bytes = read("envelopes/jws-conformance.json");
    let env = jws::decode(&bytes).unwrap();
    let a = &env.signed_attributes;
    assert_eq!(a.signing_scheme, SigningScheme::X509);
    assert_eq!(a.signing_time, t(1_661_781_000)); // 2022-08-29T13:50:00Z
    assert_eq!(a.expiry, Some(t(4_091_781_000))); // 2099-08-30T13:50:00Z
    assert_eq!(a.content_type, PAYLOAD_MEDIA_TYPE);
    assert_eq!(env.signing_algorithm, SigningAlgorithm::EcdsaSha256);
    assert_eq!(env.payload_bytes, br#"{"key":"hello JWS"}"#);
    assert_eq!(
        env.unsigned_attributes.signing_agent.as_deref(),
        Some("NotationConformanceTest/1.0.0")
    );
    let mut ext = a.extended.clone();
    ext.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(ext, conformance_extended());
    // signedCritKey1 is critical and unknown to us: a verifier must refuse.
    assert!(matches!(
        env.check_critical_attributes(),
        Err(EnvelopeError::UnknownCriticalAttribute { name }) if name == "signedCritKey1"
    ));
    // The vector carries no certificate chain, so it cannot be verified
    // (upstream's test re-signs it); the full parse names what is missing.
    assert!(matches!(
        envelope::parse(EnvelopeFormat::Jws, &bytes),
        Err(EnvelopeError::MissingCertificateChain)
    ));
}

#[test]
fn jws_encoder_reproduces_conformance_protected_header_and_payload() {
    let vector = json("envelopes/jws-conformance.json");
    let attrs = SignedAttributes {
        signing_scheme: SigningScheme::X509,
        signing_time: t(1_661_781_000),
        expiry: Some(t(4_091_781_000)),
        content_type: PAYLOAD_MEDIA_TYPE.to_owned(),
        extended: conformance_extended(),
    };
    let protected = jws::encode_protected_header(&SigningAlgorithm::EcdsaSha256, &attrs).unwrap();
    assert_eq!(
        URL_SAFE_NO_PAD.encode(&protected),
        vector["protected"].as_str().unwrap()
    );
    let payload = jws::canonical_payload(br#"{ "key" : "hello JWS" }"#).unwrap();
    assert_eq!(
        URL_SAFE_NO_PAD.encode(&payload),
        vector["payload"].as_str().unwrap()
    );

    // Signing the same inputs end to end gives the same protected header
    // and payload, and the result verifies.
    let (key, chain) = envelope::testing::generate_chain(&KeySpec::Ec256).unwrap();
    let signer = LocalSigner::new(key, chain).unwrap();
    let req = SignRequest {
        payload: envelope::Payload::new(notation_plugin_sdk::descriptor::Descriptor::new(
            "x/y",
            "sha256:00",
            0,
        )),
        signing_scheme: SigningScheme::X509,
        signing_time: OffsetDateTime::now_utc(),
        expiry: Some(t(4_091_781_000)),
        signing_agent: Some("NotationConformanceTest/1.0.0".to_owned()),
        extended_attributes: conformance_extended(),
    };
    // Signing time must fall in the generated certificate's validity, so
    // compare everything but the time-bearing protected header.
    let bytes = envelope::sign_payload_bytes(
        EnvelopeFormat::Jws,
        br#"{"key":"hello JWS"}"#,
        &req,
        &signer,
    )
    .unwrap();
    let out: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(out["payload"], vector["payload"]);
    assert_eq!(
        out["header"]["io.cncf.notary.signingAgent"],
        vector["header"]["io.cncf.notary.signingAgent"]
    );
    let env = envelope::parse(EnvelopeFormat::Jws, &bytes).unwrap();
    env.verify_integrity().unwrap();
}

fn hex_field(v: &serde_json::Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn cose_encoder_reproduces_conformance_output_byte_for_byte() {
    let vector = json("envelopes/cose-conformance.json");
    let attrs = SignedAttributes {
        signing_scheme: SigningScheme::X509,
        signing_time: t(vector["signingTime"].as_i64().unwrap()),
        expiry: Some(t(vector["expiry"].as_i64().unwrap())),
        content_type: PAYLOAD_MEDIA_TYPE.to_owned(),
        extended: vec![
            ExtendedAttribute {
                key: "signedCritKey1".to_owned(),
                value: "signedCritValue1".into(),
                critical: true,
            },
            ExtendedAttribute {
                key: "signedKey1".to_owned(),
                value: "signedValue1".into(),
                critical: false,
            },
        ],
    };
    let protected = cose::encode_protected_header(
        cose::protected_header(&SigningAlgorithm::RsassaPssSha384, &attrs).unwrap(),
    )
    .unwrap();
    assert_eq!(
        hex::encode_upper(&protected),
        vector["protectedHeaders"]["cborHex"].as_str().unwrap()
    );

    let unsigned = UnsignedAttributes {
        signing_agent: Some("NotationConformanceTest/1.0.0".to_owned()),
        timestamp_signature: None,
    };
    let unprotected = cose::unprotected_header(&[], &unsigned);
    let unprotected_bytes = {
        use coset::CborSerializable;
        unprotected.clone().to_vec().unwrap()
    };
    assert_eq!(
        unprotected_bytes,
        hex_field(&vector["unprotectedHeaders"]["cborHex"])
    );

    let expected = hex_field(&vector["expectedOutput"]["cborHex"]);
    // The RSASSA-PSS signature is randomised, so it is taken from the
    // expected output (its last 384 bytes) rather than recomputed.
    let signature = &expected[expected.len() - 384..];
    let payload = hex_field(&vector["payload"]);
    let out = cose::encode_sign1(&protected, unprotected, &payload, signature).unwrap();
    assert_eq!(hex::encode_upper(&out), hex::encode_upper(&expected));

    // And the expected output decodes to the same attributes.
    let env = cose::decode(&expected).unwrap();
    assert_eq!(env.signed_attributes.signing_time, attrs.signing_time);
    assert_eq!(env.signed_attributes.expiry, attrs.expiry);
    assert_eq!(env.payload_bytes, payload);
    assert_eq!(env.signing_algorithm, SigningAlgorithm::RsassaPssSha384);
    assert_eq!(env.signature, signature);
}

#[test]
fn x509_vectors_load_or_are_refused() {
    let count = |f: &str| cert::load_certificates(&read(&format!("x509/{f}"))).map(|c| c.len());
    assert_eq!(count("pem.crt").unwrap(), 1);
    assert_eq!(count("der.der").unwrap(), 1);
    assert!(count("multi-pem.crt").unwrap() >= 2);
    assert!(count("multi-der.der").unwrap() >= 2);
    assert_eq!(
        count("multi-pem.crt").unwrap(),
        count("multi-der.der").unwrap()
    );
    assert!(matches!(
        count("invalid"),
        Err(EnvelopeError::CertificateLoad { .. })
    ));
    assert_eq!(count("openssl-minimum-self-signed.pem").unwrap(), 1);
}

#[test]
fn timestamping_chain_vector_meets_requirements() {
    let chain: Vec<_> = [
        "timestamp_leaf.crt",
        "timestamp_intermediate.crt",
        "timestamp_root.crt",
    ]
    .iter()
    .flat_map(|f| cert::load_certificates(&read(&format!("x509/{f}"))).unwrap())
    .collect();
    cert::check_timestamping_chain(&chain).unwrap();
    // A timestamping leaf is not a code signing certificate.
    assert!(matches!(
        cert::check_signing_chain(&chain),
        Err(EnvelopeError::CertificateRequirement { .. })
    ));
    // Out of order is refused and names the certificate.
    let reversed: Vec<_> = chain.iter().rev().cloned().collect();
    match cert::check_timestamping_chain(&reversed) {
        Err(EnvelopeError::CertificateRequirement {
            subject,
            sha256_fingerprint,
            ..
        }) => {
            assert!(!subject.is_empty());
            assert_eq!(sha256_fingerprint.len(), 64);
        }
        other => panic!("expected a requirement failure, got {other:?}"),
    }
}

/// The signature envelope of an OCI layout: the manifest whose
/// `artifactType` or `config.mediaType` is the Notary signature type, found
/// through `index.json` or the referrers tag index.
fn layout_envelope(layout: &str) -> (EnvelopeFormat, Vec<u8>) {
    let (media_type, bytes) = layout_signature_layer(layout);
    let format = EnvelopeFormat::from_media_type(&media_type)
        .unwrap_or_else(|| panic!("{layout}: layer media type {media_type} is not an envelope"));
    (format, bytes)
}

/// The media type and bytes of the single layer of a layout's signature
/// manifest.
fn layout_signature_layer(layout: &str) -> (String, Vec<u8>) {
    let dir = vectors().join("oci-layouts").join(layout);
    let blob = |digest: &str| -> Vec<u8> {
        let hex = digest.strip_prefix("sha256:").unwrap();
        std::fs::read(dir.join("blobs/sha256").join(hex)).unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let mut candidates: Vec<serde_json::Value> = Vec::new();
    for m in index["manifests"].as_array().unwrap() {
        let body: serde_json::Value =
            serde_json::from_slice(&blob(m["digest"].as_str().unwrap())).unwrap();
        if m["mediaType"] == "application/vnd.oci.image.index.v1+json" {
            for inner in body["manifests"].as_array().unwrap() {
                candidates.push(
                    serde_json::from_slice(&blob(inner["digest"].as_str().unwrap())).unwrap(),
                );
            }
        } else {
            candidates.push(body);
        }
    }
    let sig = candidates
        .into_iter()
        .find(|m| {
            m["artifactType"] == "application/vnd.cncf.notary.signature"
                || m["config"]["mediaType"] == "application/vnd.cncf.notary.signature"
        })
        .unwrap_or_else(|| panic!("no signature manifest in {layout}"));
    let layers = sig["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    (
        layers[0]["mediaType"].as_str().unwrap().to_owned(),
        blob(layers[0]["digest"].as_str().unwrap()),
    )
}

fn e2e_cert_fingerprint(file: &str) -> String {
    cert::sha256_fingerprint(&cert::load_certificates(&read(file)).unwrap()[0])
}

#[test]
fn upstream_layout_envelopes_parse_and_verify_as_documented() {
    let cases = [
        ("e2e-valid-signature", "localkeys/e2e.crt"),
        ("e2e-expired-signature", "localkeys/e2e.crt"),
        ("e2e-with-expired-cert", "localkeys/expired_e2e.crt"),
        ("upstream-1.3.2-jws", "localkeys/e2e.crt"),
        ("upstream-1.3.2-cose", "localkeys/e2e.crt"),
        ("upstream-1.3.2-meta", "localkeys/e2e.crt"),
    ];
    for (layout, cert_file) in cases {
        let (format, bytes) = layout_envelope(layout);
        let env = envelope::parse(format, &bytes)
            .unwrap_or_else(|e| panic!("{layout}: parse failed: {e}"));
        assert_eq!(env.format, format);
        let payload = env.payload().unwrap();
        assert_eq!(
            payload.target_artifact.digest,
            "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
            "{layout}"
        );
        assert_eq!(
            cert::sha256_fingerprint(env.signing_certificate().unwrap()),
            e2e_cert_fingerprint(cert_file),
            "{layout}"
        );
        env.check_critical_attributes().unwrap();
        env.verify_integrity()
            .unwrap_or_else(|e| panic!("{layout}: integrity: {e}"));
        // The upstream e2e certificate meets the code signing requirements.
        cert::check_signing_chain(&env.certificate_chain)
            .unwrap_or_else(|e| panic!("{layout}: {e}"));
    }
}

#[test]
fn upstream_meta_layout_carries_user_metadata_and_expiry() {
    let (format, bytes) = layout_envelope("upstream-1.3.2-meta");
    assert_eq!(format, EnvelopeFormat::Jws);
    let env = envelope::parse(format, &bytes).unwrap();
    let ann = env.payload().unwrap().target_artifact.annotations.unwrap();
    assert_eq!(ann.get("buildId").map(String::as_str), Some("42"));
    assert_eq!(ann.get("team").map(String::as_str), Some("wabbit"));
    assert!(env.signed_attributes.expiry.is_some());
    let (format, bytes) = layout_envelope("upstream-1.3.2-cose");
    assert_eq!(format, EnvelopeFormat::Cose);
    let env = envelope::parse(format, &bytes).unwrap();
    assert_eq!(env.signed_attributes.signing_scheme, SigningScheme::X509);
    assert!(env
        .unsigned_attributes
        .signing_agent
        .as_deref()
        .unwrap_or("")
        .starts_with("notation"));
}

#[test]
fn our_payload_encoding_matches_upstream_cose_payload_bytes() {
    let (_, bytes) = layout_envelope("upstream-1.3.2-cose");
    let env = envelope::parse(EnvelopeFormat::Cose, &bytes).unwrap();
    let payload = env.payload().unwrap();
    assert_eq!(payload.to_struct_json(), env.payload_bytes);
    let (_, bytes) = layout_envelope("upstream-1.3.2-meta");
    let env = envelope::parse(EnvelopeFormat::Jws, &bytes).unwrap();
    assert_eq!(env.payload().unwrap().to_sorted_json(), env.payload_bytes);
}

/// `e2e-invalid-signature`'s layer is not an envelope at all (media type
/// `application/vnd.oci.image.layer.v1.tar`, text "invalid signature"):
/// upstream reports it as an integrity failure. Neither the media type nor
/// either decoder accepts it, so a verifier that maps "cannot be decoded"
/// to an integrity failure matches upstream.
#[test]
fn invalid_signature_layout_is_refused_by_both_decoders() {
    let (media_type, bytes) = layout_signature_layer("e2e-invalid-signature");
    assert_eq!(EnvelopeFormat::from_media_type(&media_type), None);
    assert!(matches!(
        envelope::parse(EnvelopeFormat::Jws, &bytes),
        Err(EnvelopeError::MalformedJson { .. })
    ));
    assert!(matches!(
        envelope::parse(EnvelopeFormat::Cose, &bytes),
        Err(EnvelopeError::MalformedCose { .. })
    ));
}

/// Flipping one byte of an upstream envelope's signature makes the
/// integrity check fail.
#[test]
fn tampered_upstream_envelopes_fail_integrity() {
    for layout in ["upstream-1.3.2-jws", "upstream-1.3.2-cose"] {
        let (format, bytes) = layout_envelope(layout);
        let mut env = envelope::parse(format, &bytes).unwrap();
        env.signature[7] ^= 0x01;
        assert!(matches!(
            env.verify_integrity(),
            Err(EnvelopeError::IntegrityFailed)
        ));
    }
}
