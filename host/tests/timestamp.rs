//! RFC 3161 timestamping against a real TSA (`openssl ts -reply` behind a
//! tiny HTTP server, see `tsa_support`): the client and token verification
//! of `notation_host::timestamp`, and the verifier's authentic-timestamp
//! step with `tsa` trust stores.

mod support;

use notation_host::timestamp::{self, TimestampError, Timestamper};
use notation_host::trustpolicy::TrustPolicy;
use notation_host::verifier::{Check, CheckStatus, Failure, Note, Verifier};
use notation_plugin_sdk::envelope::{self, EnvelopeFormat};
use notation_plugin_sdk::vocab::HashAlgorithm;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use serde_json::{json, Value};
use support::tsa::{certificate, ec_key, Kind, TsaPki, TsaServer};
use time::{Duration, OffsetDateTime};

use support::pki::{free_port, serve_crl};
use support::{input, Opts, Stores};

const DAY: i64 = 86_400;

// ---- the timestamp module --------------------------------------------------

#[test]
fn granted_token_verifies_and_imprints_the_message() {
    let pki = TsaPki::new(Kind::Tsa);
    let tsa = TsaServer::start(&pki);
    let before = OffsetDateTime::now_utc();
    let token = Timestamper::new(&tsa.url)
        .unwrap()
        .timestamp(
            b"the signature",
            &HashAlgorithm::Sha384,
            std::slice::from_ref(&pki.root),
        )
        .unwrap();
    let ts = timestamp::verify_token(&token, std::slice::from_ref(&pki.root)).unwrap();
    ts.claims.check_imprint(b"the signature").unwrap();
    assert!(matches!(
        ts.claims.check_imprint(b"another signature"),
        Err(TimestampError::ImprintMismatch)
    ));
    assert_eq!(ts.claims.imprint_hash, HashAlgorithm::Sha384);
    assert_eq!(ts.claims.policy, "1.2.3.4.1");
    assert_eq!(ts.claims.accuracy, Duration::milliseconds(1500));
    assert!(ts.claims.nonce.is_some());
    // genTime is the TSA's clock: this machine's, to the second.
    let after = OffsetDateTime::now_utc();
    assert!(
        ts.claims.gen_time >= before - Duration::SECOND
            && ts.claims.gen_time <= after + Duration::SECOND
    );
    assert_eq!(
        ts.claims.lower_limit().unwrap(),
        ts.claims.gen_time - Duration::milliseconds(1500)
    );
    assert_eq!(
        ts.claims.upper_limit().unwrap(),
        ts.claims.gen_time + Duration::milliseconds(1500)
    );
    // The path openssl built ends with the trusted root.
    assert_eq!(
        ts.tsa_chain.last().unwrap().to_der().unwrap(),
        pki.root.to_der().unwrap()
    );
}

#[test]
fn token_from_another_tsa_root_is_refused() {
    let pki = TsaPki::new(Kind::Tsa);
    let other = TsaPki::new(Kind::Tsa);
    let tsa = TsaServer::start(&pki);
    let err = Timestamper::new(&tsa.url)
        .unwrap()
        .timestamp(
            b"sig",
            &HashAlgorithm::Sha256,
            std::slice::from_ref(&other.root),
        )
        .unwrap_err();
    assert!(matches!(err, TimestampError::UntrustedTsa { .. }), "{err}");
    // And at verification time.
    let token = Timestamper::new(&tsa.url)
        .unwrap()
        .timestamp(
            b"sig",
            &HashAlgorithm::Sha256,
            std::slice::from_ref(&pki.root),
        )
        .unwrap();
    let err = timestamp::verify_token(&token, std::slice::from_ref(&other.root)).unwrap_err();
    assert!(matches!(err, TimestampError::UntrustedTsa { .. }), "{err}");
    let err = timestamp::verify_token(&token, &[]).unwrap_err();
    assert!(matches!(err, TimestampError::UntrustedTsa { .. }), "{err}");
}

#[test]
fn tampered_token_is_refused() {
    let pki = TsaPki::new(Kind::Tsa);
    let tsa = TsaServer::start(&pki);
    let token = Timestamper::new(&tsa.url)
        .unwrap()
        .timestamp(
            b"sig",
            &HashAlgorithm::Sha256,
            std::slice::from_ref(&pki.root),
        )
        .unwrap();
    // Flip a bit of the imprint inside the signed TSTInfo.
    let imprint = openssl::sha::sha256(b"sig");
    let at = token
        .windows(imprint.len())
        .position(|w| w == imprint)
        .expect("imprint in token");
    let mut bad = token.clone();
    bad[at + 5] ^= 0x01;
    let err = timestamp::verify_token(&bad, std::slice::from_ref(&pki.root)).unwrap_err();
    assert!(
        matches!(err, TimestampError::SignatureInvalid { .. }),
        "{err}"
    );
    // Truncated and garbage tokens fail to decode, without panicking.
    for junk in [&token[..token.len() / 2], b"\x30\x00".as_slice()] {
        assert!(timestamp::verify_token(junk, std::slice::from_ref(&pki.root)).is_err());
    }
}

#[test]
fn tsa_leaf_breaking_the_certificate_requirements_is_refused() {
    // `openssl ts` signs with it; the Notary requirements want key usage.
    let pki = TsaPki::new(Kind::TsaWithoutKeyUsage);
    let tsa = TsaServer::start(&pki);
    let err = Timestamper::new(&tsa.url)
        .unwrap()
        .timestamp(
            b"sig",
            &HashAlgorithm::Sha256,
            std::slice::from_ref(&pki.root),
        )
        .unwrap_err();
    assert!(
        matches!(err, TimestampError::TsaCertificateRequirement(_)),
        "{err}"
    );
}

#[test]
fn unreachable_or_non_http_tsa_fails_cleanly() {
    assert!(matches!(
        Timestamper::new("ftp://tsa.example"),
        Err(TimestampError::InvalidUrl { .. })
    ));
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Timestamper::new(&format!("http://127.0.0.1:{port}/"))
        .unwrap()
        .timestamp(b"sig", &HashAlgorithm::Sha256, &[])
        .unwrap_err();
    assert!(matches!(err, TimestampError::Transport { .. }), "{err}");
}

// ---- envelopes and the verifier --------------------------------------------

/// A code-signing root and leaf; the leaf is valid from `from` to `to`
/// seconds relative to now.
struct Signer {
    root: X509,
    leaf: X509,
    leaf_key: PKey<Private>,
}

fn signer(from: i64, to: i64) -> Signer {
    let root_key = ec_key();
    let root = certificate("root", &root_key, None, Kind::Ca, -DAY, 3650 * DAY);
    let leaf_key = ec_key();
    let leaf = certificate(
        "signer",
        &leaf_key,
        Some((&root, &root_key)),
        Kind::CodeSigning,
        from,
        to,
    );
    Signer {
        root,
        leaf,
        leaf_key,
    }
}

fn sign(s: &Signer, format: EnvelopeFormat, signing_time: OffsetDateTime) -> Vec<u8> {
    support::sign(
        &s.leaf_key,
        vec![s.leaf.clone(), s.root.clone()],
        Opts {
            format,
            signing_time,
            ..Opts::default()
        },
    )
}

fn timestamped(s: &Signer, format: EnvelopeFormat, pki: &TsaPki, tsa: &TsaServer) -> Vec<u8> {
    let env = sign(s, format, OffsetDateTime::now_utc() - Duration::minutes(1));
    timestamp::timestamp_envelope(
        format,
        &env,
        &Timestamper::new(&tsa.url).unwrap(),
        std::slice::from_ref(&pki.root),
    )
    .unwrap()
}

fn stores(ca_root: &X509, tsa_root: &X509) -> Stores {
    support::stores(&[("ca", "acme", &[ca_root]), ("tsa", "ts", &[tsa_root])])
}

fn policy(verification: Value, trust_stores: &[&str]) -> TrustPolicy {
    support::policy(json!({
        "signatureVerification": verification,
        "trustStores": trust_stores
    }))
}

fn verify(
    envelope: &[u8],
    format: EnvelopeFormat,
    stores: &Stores,
    verification: Value,
    trust_stores: &[&str],
    at: OffsetDateTime,
) -> notation_host::verifier::SignatureOutcome {
    Verifier::new(
        policy(verification, trust_stores),
        stores.store.clone(),
        None,
    )
    .at(at)
    .verify_signature(&input(envelope.to_vec(), format))
    .unwrap()
}

fn timestamp_status(out: &notation_host::verifier::SignatureOutcome) -> &CheckStatus {
    out.status(Check::AuthenticTimestamp)
}

#[test]
fn good_timestamp_passes_in_both_formats() {
    let pki = TsaPki::new(Kind::Tsa);
    let tsa = TsaServer::start(&pki);
    let s = signer(-DAY, 30 * DAY);
    let st = stores(&s.root, &pki.root);
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let env = timestamped(&s, format, &pki, &tsa);
        let parsed = envelope::parse(format, &env).unwrap();
        assert!(parsed.unsigned_attributes.timestamp_signature.is_some());
        let out = verify(
            &env,
            format,
            &st,
            json!({"level": "strict"}),
            &["ca:acme", "tsa:ts"],
            OffsetDateTime::now_utc(),
        );
        assert!(out.passed(), "{format}: {:?}", out.checks);
        assert!(matches!(timestamp_status(&out), CheckStatus::Passed));
        assert!(!out.notes.contains(&Note::TimestampNotVerified));
        // Without a tsa store the token is not relied upon.
        let out = verify(
            &env,
            format,
            &st,
            json!({"level": "strict"}),
            &["ca:acme"],
            OffsetDateTime::now_utc(),
        );
        assert!(out.passed(), "{:?}", out.checks);
        assert!(out.notes.contains(&Note::TimestampNotVerified));
    }
}

#[test]
fn certificate_expired_now_but_valid_at_the_timestamp_passes() {
    let pki = TsaPki::new(Kind::Tsa);
    let tsa = TsaServer::start(&pki);
    // Leaf valid for one more day; verify three days from now.
    let s = signer(-DAY, DAY);
    let st = stores(&s.root, &pki.root);
    let later = OffsetDateTime::now_utc() + Duration::days(3);
    let env = timestamped(&s, EnvelopeFormat::Jws, &pki, &tsa);
    for verify_timestamp in ["always", "afterCertExpiry"] {
        let out = verify(
            &env,
            EnvelopeFormat::Jws,
            &st,
            json!({"level": "strict", "verifyTimestamp": verify_timestamp}),
            &["ca:acme", "tsa:ts"],
            later,
        );
        assert!(out.passed(), "{verify_timestamp}: {:?}", out.checks);
    }
    // No tsa store: validity is checked now, and the leaf has expired.
    let out = verify(
        &env,
        EnvelopeFormat::Jws,
        &st,
        json!({"level": "strict"}),
        &["ca:acme"],
        later,
    );
    assert!(matches!(
        timestamp_status(&out),
        CheckStatus::Failed(Failure::CertificateNotValidNow { .. })
    ));
    // The same expired leaf without a timestamp fails with a tsa store.
    let bare = sign(&s, EnvelopeFormat::Jws, OffsetDateTime::now_utc());
    let out = verify(
        &bare,
        EnvelopeFormat::Jws,
        &st,
        json!({"level": "strict", "verifyTimestamp": "afterCertExpiry"}),
        &["ca:acme", "tsa:ts"],
        later,
    );
    assert!(matches!(
        timestamp_status(&out),
        CheckStatus::Failed(Failure::MissingTimestamp)
    ));
}

#[test]
fn certificate_expired_before_the_timestamp_fails() {
    let pki = TsaPki::new(Kind::Tsa);
    let tsa = TsaServer::start(&pki);
    // Leaf expired ten minutes ago; the claimed signing time is within its
    // validity, but the timestamp proves the signature is newer.
    let s = signer(-DAY, -600);
    let st = stores(&s.root, &pki.root);
    let env = sign(
        &s,
        EnvelopeFormat::Jws,
        OffsetDateTime::now_utc() - Duration::hours(1),
    );
    let env = timestamp::timestamp_envelope(
        EnvelopeFormat::Jws,
        &env,
        &Timestamper::new(&tsa.url).unwrap(),
        std::slice::from_ref(&pki.root),
    )
    .unwrap();
    let out = verify(
        &env,
        EnvelopeFormat::Jws,
        &st,
        json!({"level": "strict"}),
        &["ca:acme", "tsa:ts"],
        OffsetDateTime::now_utc(),
    );
    assert!(
        matches!(
            timestamp_status(&out),
            CheckStatus::Failed(Failure::NotValidAtTimestamp { .. })
        ),
        "{:?}",
        out.checks
    );
}

#[test]
fn wrong_tsa_root_in_the_trust_store_fails() {
    let pki = TsaPki::new(Kind::Tsa);
    let other = TsaPki::new(Kind::Tsa);
    let tsa = TsaServer::start(&pki);
    let s = signer(-DAY, 30 * DAY);
    let st = stores(&s.root, &other.root);
    let env = timestamped(&s, EnvelopeFormat::Cose, &pki, &tsa);
    let out = verify(
        &env,
        EnvelopeFormat::Cose,
        &st,
        json!({"level": "strict"}),
        &["ca:acme", "tsa:ts"],
        OffsetDateTime::now_utc(),
    );
    assert!(
        matches!(
            timestamp_status(&out),
            CheckStatus::Failed(Failure::Timestamp(TimestampError::UntrustedTsa { .. }))
        ),
        "{:?}",
        out.checks
    );
    // permissive only logs the authentic timestamp failure
    let out = verify(
        &env,
        EnvelopeFormat::Cose,
        &st,
        json!({"level": "permissive"}),
        &["ca:acme", "tsa:ts"],
        OffsetDateTime::now_utc(),
    );
    assert!(out.passed());
    assert!(matches!(
        timestamp_status(&out),
        CheckStatus::Logged(Failure::Timestamp(_))
    ));
}

#[test]
fn tampered_or_foreign_token_fails() {
    let pki = TsaPki::new(Kind::Tsa);
    let tsa = TsaServer::start(&pki);
    let s = signer(-DAY, 30 * DAY);
    let st = stores(&s.root, &pki.root);
    let env = timestamped(&s, EnvelopeFormat::Jws, &pki, &tsa);
    let parsed = envelope::parse(EnvelopeFormat::Jws, &env).unwrap();
    let token = parsed.unsigned_attributes.timestamp_signature.unwrap();
    let check = |envelope: Vec<u8>| {
        verify(
            &envelope,
            EnvelopeFormat::Jws,
            &st,
            json!({"level": "strict"}),
            &["ca:acme", "tsa:ts"],
            OffsetDateTime::now_utc(),
        )
    };

    // A flipped byte near the end (inside the CMS signature).
    let mut bad = token.clone();
    let n = bad.len();
    bad[n - 3] ^= 0x40;
    let tampered = envelope::timestamp::attach_timestamp(EnvelopeFormat::Jws, &env, &bad).unwrap();
    let out = check(tampered);
    assert!(
        matches!(
            timestamp_status(&out),
            CheckStatus::Failed(Failure::Timestamp(_))
        ),
        "{:?}",
        out.checks
    );

    // A valid token, but over another signature.
    let other = timestamped(&s, EnvelopeFormat::Jws, &pki, &tsa);
    let other_token = envelope::parse(EnvelopeFormat::Jws, &other)
        .unwrap()
        .unsigned_attributes
        .timestamp_signature
        .unwrap();
    let foreign =
        envelope::timestamp::attach_timestamp(EnvelopeFormat::Jws, &env, &other_token).unwrap();
    let out = check(foreign);
    assert!(
        matches!(
            timestamp_status(&out),
            CheckStatus::Failed(Failure::Timestamp(TimestampError::ImprintMismatch))
        ),
        "{:?}",
        out.checks
    );

    // The integrity of the envelope itself is unaffected by the token.
    assert!(matches!(out.status(Check::Integrity), CheckStatus::Passed));
}

#[test]
fn missing_timestamp_and_after_cert_expiry() {
    let pki = TsaPki::new(Kind::Tsa);
    let s = signer(-DAY, 30 * DAY);
    let st = stores(&s.root, &pki.root);
    let bare = sign(&s, EnvelopeFormat::Cose, OffsetDateTime::now_utc());
    let now = OffsetDateTime::now_utc();
    let out = verify(
        &bare,
        EnvelopeFormat::Cose,
        &st,
        json!({"level": "strict"}),
        &["ca:acme", "tsa:ts"],
        now,
    );
    assert!(matches!(
        timestamp_status(&out),
        CheckStatus::Failed(Failure::MissingTimestamp)
    ));
    // afterCertExpiry with every certificate valid: no timestamp needed.
    let out = verify(
        &bare,
        EnvelopeFormat::Cose,
        &st,
        json!({"level": "strict", "verifyTimestamp": "afterCertExpiry"}),
        &["ca:acme", "tsa:ts"],
        now,
    );
    assert!(out.passed(), "{:?}", out.checks);
    assert!(matches!(timestamp_status(&out), CheckStatus::Passed));
    // An override can skip the step altogether.
    let out = verify(
        &bare,
        EnvelopeFormat::Cose,
        &st,
        json!({"level": "strict", "override": {"authenticTimestamp": "log"}}),
        &["ca:acme", "tsa:ts"],
        now,
    );
    assert!(out.passed());
    assert!(matches!(
        timestamp_status(&out),
        CheckStatus::Logged(Failure::MissingTimestamp)
    ));
}

// ---- revocation of the TSA chain -----------------------------------------

/// A strict verification, with a `tsa` store, of a timestamped signature
/// whose TSA leaf names a CRL at a local port; `crl` picks what is served
/// there (nothing when `None`).
fn verify_with_tsa_crl(
    crl: impl Fn(&TsaPki) -> Option<Vec<u8>>,
) -> notation_host::verifier::SignatureOutcome {
    let port = free_port();
    let pki = TsaPki::with_crl(Kind::Tsa, Some(&format!("http://127.0.0.1:{port}/tsa.crl")));
    if let Some(body) = crl(&pki) {
        serve_crl(port, body);
    }
    let tsa = TsaServer::start(&pki);
    let s = signer(-DAY, 30 * DAY);
    let st = stores(&s.root, &pki.root);
    let env = timestamped(&s, EnvelopeFormat::Jws, &pki, &tsa);
    verify(
        &env,
        EnvelopeFormat::Jws,
        &st,
        json!({"level": "strict"}),
        &["ca:acme", "tsa:ts"],
        OffsetDateTime::now_utc(),
    )
}

#[test]
fn tsa_certificate_not_revoked_passes() {
    let out = verify_with_tsa_crl(|pki| {
        let other = certificate("other", &ec_key(), None, Kind::Tsa, -DAY, DAY);
        Some(pki.crl(&[&other]))
    });
    assert!(out.passed(), "{:?}", out.checks);
    let status = timestamp_status(&out);
    assert!(matches!(status, CheckStatus::Passed), "{status:?}");
}

#[test]
fn revoked_tsa_certificate_fails_the_authentic_timestamp() {
    let out = verify_with_tsa_crl(|pki| Some(pki.crl(&[&pki.leaf])));
    assert!(!out.passed());
    let status = timestamp_status(&out);
    assert!(
        matches!(
            status,
            CheckStatus::Failed(Failure::Timestamp(TimestampError::TsaRevoked { .. }))
        ),
        "{status:?}"
    );
}

#[test]
fn unavailable_tsa_revocation_status_fails_the_authentic_timestamp() {
    let out = verify_with_tsa_crl(|_| None);
    assert!(!out.passed());
    let status = timestamp_status(&out);
    assert!(
        matches!(
            status,
            CheckStatus::Failed(Failure::Timestamp(
                TimestampError::TsaRevocationUnavailable { .. }
            ))
        ),
        "{status:?}"
    );
}
