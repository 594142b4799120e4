//! Regression inputs from the fuzzing campaign (`fuzz/`, see
//! `spec/fuzzing.md`). Each input goes through the same calls as its fuzz
//! target and must give the stated outcome without panicking.
//!
//! The header-size inputs below are built in code rather than stored: the
//! decoders used to compare every protected header member (and every `crit`
//! entry) with every other one, so an envelope of a few megabytes with a
//! few hundred thousand members took minutes to refuse.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use notation_plugin_sdk::envelope::{
    self, cose, header_names, jws, EnvelopeError, EnvelopeFormat, SignatureEnvelope,
    PAYLOAD_MEDIA_TYPE,
};

/// Members / `crit` entries in the large-header inputs: enough that the old
/// quadratic checks would take billions of comparisons.
const MANY: usize = 100_000;

/// What the fuzz targets call on an envelope the decoder accepted.
fn exercise(env: &SignatureEnvelope) {
    let _ = env.verify_integrity();
    let _ = env.payload();
    let _ = env.check_critical_attributes();
}

fn jws_envelope(protected: &str) -> Vec<u8> {
    serde_json::json!({
        "payload": URL_SAFE_NO_PAD.encode(b"{}"),
        "protected": URL_SAFE_NO_PAD.encode(protected),
        "header": {},
        "signature": URL_SAFE_NO_PAD.encode(b"sig"),
    })
    .to_string()
    .into_bytes()
}

fn member_names() -> Vec<String> {
    (0..MANY).map(|i| format!("k{i}")).collect()
}

/// A valid `notary.x509` JWS protected header plus `extra` members, all
/// listed in `crit` when `critical`.
fn jws_header(extra: &[String], critical: bool, trailer: &str) -> String {
    let mut crit = vec![format!("\"{}\"", header_names::SIGNING_SCHEME)];
    if critical {
        crit.extend(extra.iter().map(|k| format!("\"{k}\"")));
    }
    let members: Vec<String> = extra.iter().map(|k| format!("\"{k}\":0")).collect();
    format!(
        "{{\"alg\":\"ES256\",\"cty\":\"{PAYLOAD_MEDIA_TYPE}\",\"{}\":\"notary.x509\",\
         \"{}\":\"2024-01-01T00:00:00Z\",\"crit\":[{}],{}{trailer}}}",
        header_names::SIGNING_SCHEME,
        header_names::SIGNING_TIME,
        crit.join(","),
        members.join(",")
    )
}

#[test]
fn jws_with_many_critical_members_decodes() {
    let bytes = jws_envelope(&jws_header(&member_names(), true, ""));
    assert!(bytes.len() < envelope::MAX_ENVELOPE_SIZE);
    let env = jws::decode(&bytes).unwrap();
    exercise(&env);
    let extended = &env.signed_attributes.extended;
    assert_eq!(extended.len(), MANY);
    assert!(extended.iter().all(|a| a.critical));
    assert!(matches!(
        env.check_critical_attributes(),
        Err(EnvelopeError::UnknownCriticalAttribute { name }) if name == "k0"
    ));
    assert!(matches!(
        envelope::parse(EnvelopeFormat::Jws, &bytes),
        Err(EnvelopeError::MissingCertificateChain)
    ));
}

#[test]
fn jws_with_many_members_still_refuses_a_late_duplicate() {
    let bytes = jws_envelope(&jws_header(&member_names(), false, ",\"k0\":1"));
    assert!(matches!(
        jws::decode(&bytes),
        Err(EnvelopeError::MalformedJson {
            part: "protected header",
            ..
        })
    ));
}

#[test]
fn jws_with_many_members_without_signing_scheme_is_refused() {
    let members: Vec<String> = member_names()
        .iter()
        .map(|k| format!("\"{k}\":0"))
        .collect();
    let header = format!(
        "{{\"alg\":\"ES256\",\"cty\":\"{PAYLOAD_MEDIA_TYPE}\",{}}}",
        members.join(",")
    );
    let bytes = jws_envelope(&header);
    assert!(matches!(
        jws::decode(&bytes),
        Err(EnvelopeError::MissingAttribute { name }) if name == header_names::SIGNING_SCHEME
    ));
}

/// Minimal CBOR writer for the COSE inputs (definite lengths only).
fn cbor_head(major: u8, n: usize) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => [vec![m | 25], (n as u16).to_be_bytes().to_vec()].concat(),
        _ => [vec![m | 26], (n as u32).to_be_bytes().to_vec()].concat(),
    }
}

fn cbor_text(s: &str) -> Vec<u8> {
    [cbor_head(3, s.len()), s.as_bytes().to_vec()].concat()
}

fn cbor_bytes(b: &[u8]) -> Vec<u8> {
    [cbor_head(2, b.len()), b.to_vec()].concat()
}

/// A tagged COSE_Sign1 whose protected header is valid `notary.x509` plus
/// `extra` integer-valued members, all critical; `crit` also lists
/// `crit_only` names that are not in the header.
fn cose_envelope(extra: &[String], crit_only: &[&str]) -> Vec<u8> {
    let mut crit = vec![cbor_text(header_names::SIGNING_SCHEME)];
    crit.extend(extra.iter().map(|k| cbor_text(k)));
    crit.extend(crit_only.iter().map(|k| cbor_text(k)));
    let mut entries = vec![
        vec![0x01, 0x26], // alg: ES256 (-7)
        [vec![0x02], cbor_head(4, crit.len()), crit.concat()].concat(),
        [vec![0x03], cbor_text(PAYLOAD_MEDIA_TYPE)].concat(),
        [
            cbor_text(header_names::SIGNING_SCHEME),
            cbor_text("notary.x509"),
        ]
        .concat(),
        // tag 1 (epoch time), 1700000000
        [
            cbor_text(header_names::SIGNING_TIME),
            vec![0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00],
        ]
        .concat(),
    ];
    entries.extend(extra.iter().map(|k| [cbor_text(k), vec![0x00]].concat()));
    let protected = [cbor_head(5, entries.len()), entries.concat()].concat();
    [
        vec![0xd2, 0x84], // tag 18, array of 4
        cbor_bytes(&protected),
        vec![0xa0], // empty unprotected header
        cbor_bytes(b"{}"),
        cbor_bytes(b"sig"),
    ]
    .concat()
}

#[test]
fn cose_with_many_critical_members_decodes() {
    let bytes = cose_envelope(&member_names(), &[]);
    assert!(bytes.len() < envelope::MAX_ENVELOPE_SIZE);
    let env = cose::decode(&bytes).unwrap();
    exercise(&env);
    let extended = &env.signed_attributes.extended;
    assert_eq!(extended.len(), MANY);
    assert!(extended.iter().all(|a| a.critical));
    assert!(matches!(
        envelope::parse(EnvelopeFormat::Cose, &bytes),
        Err(EnvelopeError::MissingCertificateChain)
    ));
}

#[test]
fn cose_with_many_members_still_refuses_an_absent_critical_entry() {
    let bytes = cose_envelope(&member_names(), &["absent"]);
    assert!(matches!(
        cose::decode(&bytes),
        Err(EnvelopeError::InvalidCriticalEntry { name }) if name == "absent"
    ));
}
