//! The verification engine with certificates and signatures generated here
//! (openssl + the SDK's envelope signer): chains, store types, certificate
//! requirements, foreign keys, every level and override, every check
//! failing at strict, timestamps, revocation and verification plugins.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::sync::{Arc, Mutex};

use notation_host::verifier::{
    Check, CheckStatus, Failure, Note, PluginCallError, PluginLoader, RevocationChecker,
    RevocationMethod, RevocationProblem, RevocationProblems, RevocationStatus, VerificationPlugin,
    Verifier, VerifyInput,
};
use notation_plugin_sdk::envelope::{EnvelopeFormat, ExtendedAttribute, SigningScheme};
use notation_plugin_sdk::protocol::{
    GetMetadataResponse, VerificationResult, VerifySignatureRequest, VerifySignatureResponse,
};
use notation_plugin_sdk::vocab::Capability;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, KeyUsage};
use openssl::x509::{X509Name, X509};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

mod support;

use support::pki::{ec_key as key, random_serial, CertBuilder, Kind, DAY};
use support::{input, policy, sign, stores, Opts, Stores, REPO};

fn name(cn: &str) -> X509Name {
    support::pki::name(&[("C", "US"), ("ST", "WA"), ("O", "Acme, Inc."), ("CN", cn)])
}

/// A certificate for `key`, issued by (`issuer`, `issuer_key`) or self-signed.
/// Valid from `from` to `to` days relative to now.
fn cert(
    cn: &str,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    kind: Kind,
    from: i64,
    to: i64,
) -> X509 {
    CertBuilder::new(name(cn), key, kind)
        .issuer(issuer)
        .validity(from * DAY, to * DAY)
        .build()
}

/// A root CA and a code-signing leaf under it.
struct Pki {
    root: X509,
    leaf_key: PKey<Private>,
    leaf: X509,
}

fn pki() -> Pki {
    pki_with(-1, 30)
}

fn pki_with(leaf_from: i64, leaf_to: i64) -> Pki {
    let root_key = key();
    let root = cert("root", &root_key, None, Kind::Ca, -1, 3650);
    let leaf_key = key();
    let leaf = cert(
        "signer",
        &leaf_key,
        Some((&root, &root_key)),
        Kind::CodeSigning,
        leaf_from,
        leaf_to,
    );
    Pki {
        root,
        leaf_key,
        leaf,
    }
}

fn level(l: &str) -> Value {
    json!({"signatureVerification": {"level": l}})
}

fn enforced(out: &notation_host::verifier::SignatureOutcome) -> Option<Check> {
    out.enforced_failure().map(|(c, _)| c)
}

#[test]
fn chain_to_root_and_through_intermediate_passes() {
    let p = pki();
    let s = stores(&[("ca", "acme", &[&p.root])]);
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let env = sign(
            &p.leaf_key,
            vec![p.leaf.clone(), p.root.clone()],
            Opts {
                format,
                ..Opts::default()
            },
        );
        let out = Verifier::new(policy(json!({})), s.store.clone(), None)
            .verify_signature(&input(env, format))
            .unwrap();
        assert!(out.passed(), "{:?}", out.checks);
    }
    // root -> intermediate -> leaf, store holds the root only
    let root_key = key();
    let root = cert("root2", &root_key, None, Kind::Ca, -1, 3650);
    let int_key = key();
    let int = cert(
        "intermediate",
        &int_key,
        Some((&root, &root_key)),
        Kind::Ca,
        -1,
        365,
    );
    let leaf_key = key();
    let leaf = cert(
        "leaf",
        &leaf_key,
        Some((&int, &int_key)),
        Kind::CodeSigning,
        -1,
        30,
    );
    let s = stores(&[("ca", "acme", &[&root])]);
    let env = sign(&leaf_key, vec![leaf, int, root.clone()], Opts::default());
    let out = Verifier::new(policy(json!({})), s.store.clone(), None)
        .verify_signature(&input(env, EnvelopeFormat::Jws))
        .unwrap();
    assert!(out.passed(), "{:?}", out.checks);
}

#[test]
fn untrusted_chain_fails_authenticity() {
    let p = pki();
    let other = pki();
    let s = stores(&[("ca", "acme", &[&other.root])]);
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts::default(),
    );
    let out = Verifier::new(policy(json!({})), s.store.clone(), None)
        .verify_signature(&input(env, EnvelopeFormat::Jws))
        .unwrap();
    assert!(!out.passed());
    assert!(matches!(
        out.status(Check::Authenticity),
        CheckStatus::Failed(Failure::UntrustedChain { .. })
    ));
}

#[test]
fn signing_authority_scheme_needs_signing_authority_store() {
    let p = pki();
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts {
            scheme: SigningScheme::X509SigningAuthority,
            ..Opts::default()
        },
    );
    let s = stores(&[
        ("ca", "acme", &[&p.root]),
        ("signingAuthority", "sa", &[&p.root]),
    ]);
    let verify = |stores: Value| {
        Verifier::new(
            policy(json!({ "trustStores": stores })),
            s.store.clone(),
            None,
        )
        .verify_signature(&input(env.clone(), EnvelopeFormat::Jws))
        .unwrap()
    };
    assert!(verify(json!(["signingAuthority:sa"])).passed());
    // The root in a ca store does not vouch for a signing authority signature.
    let out = verify(json!(["ca:acme"]));
    assert!(matches!(
        out.status(Check::Authenticity),
        CheckStatus::Failed(Failure::NoTrustStoreForScheme { .. })
    ));
    let out = verify(json!(["ca:acme", "tsa:none"]));
    assert!(!out.passed());

    // And a notary.x509 signature is not vouched for by a signingAuthority store.
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts::default(),
    );
    let out = Verifier::new(
        policy(json!({"trustStores": ["signingAuthority:sa"]})),
        s.store.clone(),
        None,
    )
    .verify_signature(&input(env, EnvelopeFormat::Jws))
    .unwrap();
    assert!(matches!(
        out.status(Check::Authenticity),
        CheckStatus::Failed(Failure::NoTrustStoreForScheme { .. })
    ));
}

/// Replaces the JWS `x5c` chain (unsigned header) with `chain`.
fn swap_chain(jws: &[u8], chain: &[&X509]) -> Vec<u8> {
    use base64::Engine;
    let mut v: Value = serde_json::from_slice(jws).unwrap();
    let x5c: Vec<String> = chain
        .iter()
        .map(|c| base64::engine::general_purpose::STANDARD.encode(c.to_der().unwrap()))
        .collect();
    v["header"]["x5c"] = json!(x5c);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn leaf_that_is_not_a_code_signing_certificate_fails_authenticity() {
    let p = pki();
    let s = stores(&[("ca", "acme", &[&p.root])]);
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts::default(),
    );
    // Same key, but a TLS server certificate (under another trusted root).
    let root_key = key();
    let root = cert("root-tls", &root_key, None, Kind::Ca, -1, 3650);
    let tls = cert(
        "signer",
        &p.leaf_key,
        Some((&root, &root_key)),
        Kind::ServerAuth,
        -1,
        30,
    );
    let s2 = stores(&[("ca", "acme", &[&root])]);
    let tampered = swap_chain(&env, &[&tls, &root]);
    let out = Verifier::new(policy(json!({})), s2.store.clone(), None)
        .verify_signature(&input(tampered, EnvelopeFormat::Jws))
        .unwrap();
    assert!(matches!(out.status(Check::Integrity), CheckStatus::Passed));
    assert!(
        matches!(
            out.status(Check::Authenticity),
            CheckStatus::Failed(Failure::CertificateRequirement(_))
        ),
        "{:?}",
        out.status(Check::Authenticity)
    );
    // A CA certificate as leaf fails too.
    let ca_leaf = cert(
        "signer",
        &p.leaf_key,
        Some((&root, &root_key)),
        Kind::Ca,
        -1,
        30,
    );
    let tampered = swap_chain(&env, &[&ca_leaf, &root]);
    let out = Verifier::new(policy(json!({})), s2.store.clone(), None)
        .verify_signature(&input(tampered, EnvelopeFormat::Jws))
        .unwrap();
    assert!(matches!(
        out.status(Check::Authenticity),
        CheckStatus::Failed(Failure::CertificateRequirement(_))
    ));
    drop(s);
}

#[test]
fn signature_from_a_key_not_in_the_chain_fails_integrity() {
    let p = pki();
    let s = stores(&[("ca", "acme", &[&p.root])]);
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts::default(),
    );
    // Another leaf (other key) from the same trusted root.
    let other = pki();
    let _ = other;
    let root_key = key();
    let root = cert("root", &root_key, None, Kind::Ca, -1, 3650);
    let leaf2 = cert(
        "signer",
        &key(),
        Some((&root, &root_key)),
        Kind::CodeSigning,
        -1,
        30,
    );
    let s2 = stores(&[("ca", "acme", &[&root])]);
    for level_name in ["strict", "permissive", "audit"] {
        let out = Verifier::new(policy(level(level_name)), s2.store.clone(), None)
            .verify_signature(&input(
                swap_chain(&env, &[&leaf2, &root]),
                EnvelopeFormat::Jws,
            ))
            .unwrap();
        assert!(!out.passed(), "{level_name}");
        assert!(matches!(
            out.status(Check::Integrity),
            CheckStatus::Failed(Failure::SignatureInvalid(_))
        ));
    }
    drop(s);
}

struct FixedRevocation(RevocationStatus);

impl RevocationChecker for FixedRevocation {
    fn check(&self, _: &[X509], _: Option<OffsetDateTime>) -> RevocationStatus {
        self.0.clone()
    }
}

/// One failing case per check, used for the strict / level / override matrix.
struct Case {
    /// Temp dirs holding the trust stores, alive as long as the case.
    _dirs: (Stores, Option<Stores>),
    verifier: Verifier,
    input: VerifyInput,
}

fn failing_case(check: Check, statement: Value, extra: &Value) -> Case {
    let p = pki_with(-2, 30);
    let mut st = statement;
    let s = stores(&[("ca", "acme", &[&p.root])]);
    let chain = vec![p.leaf.clone(), p.root.clone()];
    let now = OffsetDateTime::now_utc();
    let mut opts = Opts::default();
    let mut at = now;
    let mut revocation = RevocationStatus::Good;
    let mut md = BTreeMap::new();
    let mut trust = s.store.clone();
    let mut keep = None;
    match check {
        Check::Integrity => {}
        Check::Authenticity => {
            let other = pki();
            let s2 = stores(&[("ca", "acme", &[&other.root])]);
            trust = s2.store.clone();
            keep = Some(s2);
        }
        Check::TrustedIdentity => {
            st["trustedIdentities"] = json!(["x509.subject: C=US, ST=WA, O=Someone Else"]);
        }
        Check::Expiry => {
            opts.expiry = Some(now + Duration::hours(1));
            at = now + Duration::hours(2);
        }
        Check::AuthenticTimestamp => {
            at = now + Duration::days(40); // leaf expired by then
        }
        Check::Revocation => {
            revocation = RevocationStatus::Revoked {
                subject: "CN=signer".into(),
                method: RevocationMethod::Ocsp,
                url: "http://127.0.0.1:9/".into(),
            }
        }
        Check::ExtendedValidation => {
            opts.extended = vec![ExtendedAttribute::critical_text(
                "io.cncf.notary.verificationPlugin",
                "com.example.absent",
            )]
        }
        Check::UserMetadata => {
            md.insert("buildId".to_string(), "1".to_string());
        }
    }
    let mut env = sign(&p.leaf_key, chain, opts);
    if check == Check::Integrity {
        // corrupt the signature
        let mut v: Value = serde_json::from_slice(&env).unwrap();
        let sig = v["signature"].as_str().unwrap().to_string();
        let flipped = match sig.strip_prefix('A') {
            Some(rest) => format!("B{rest}"),
            None => format!("A{}", &sig[1..]),
        };
        v["signature"] = json!(flipped);
        env = serde_json::to_vec(&v).unwrap();
    }
    let mut input = input(env, EnvelopeFormat::Jws);
    input.user_metadata = md;
    for (k, v) in extra.as_object().unwrap() {
        st[k] = v.clone();
    }
    let verifier = Verifier::new(policy(st), trust, None)
        .with_revocation_checker(Box::new(FixedRevocation(revocation)))
        .at(at);
    Case {
        verifier,
        input,
        _dirs: (s, keep),
    }
}

#[test]
fn every_check_failing_at_strict_never_reports_success() {
    for check in Check::ALL {
        let case = failing_case(check, level("strict"), &json!({}));
        let out = case.verifier.verify_signature(&case.input).unwrap();
        assert!(!out.passed(), "{check} failure reported success");
        assert_eq!(enforced(&out), Some(check), "{check}: {:?}", out.checks);
        // Everything after the enforced failure is not evaluated.
        for (c, s) in &out.checks {
            if *c > check {
                assert!(
                    matches!(s, CheckStatus::NotEvaluated),
                    "{check}: {c} is {s:?}"
                );
            }
        }
        let art = case
            .verifier
            .verify_artifact(REPO, "r", std::slice::from_ref(&case.input))
            .unwrap();
        assert!(!art.passed());
        assert_eq!(art.most_relevant_failure().map(|(_, c, _)| c), Some(check));
    }
}

#[test]
fn levels_decide_enforced_or_logged() {
    use Check::*;
    // (check, strict, permissive, audit): true = enforced
    let table = [
        (Integrity, true, true, true),
        (Authenticity, true, true, false),
        (TrustedIdentity, true, true, false),
        (Expiry, true, false, false),
        (AuthenticTimestamp, true, false, false),
        (Revocation, true, false, false),
        (ExtendedValidation, true, true, true),
        (UserMetadata, true, true, true),
    ];
    for (check, strict, permissive, audit) in table {
        for (lvl, enforce) in [
            ("strict", strict),
            ("permissive", permissive),
            ("audit", audit),
        ] {
            let case = failing_case(check, level(lvl), &json!({}));
            let out = case.verifier.verify_signature(&case.input).unwrap();
            if enforce {
                assert!(!out.passed(), "{check} at {lvl}");
                assert_eq!(enforced(&out), Some(check), "{check} at {lvl}");
            } else {
                assert!(out.passed(), "{check} at {lvl}: {:?}", out.checks);
                assert!(
                    matches!(out.status(check), CheckStatus::Logged(_)),
                    "{check} at {lvl}"
                );
            }
        }
        // skip: nothing is checked, the signature is accepted
        let case = failing_case(
            check,
            json!({}),
            &json!({"signatureVerification": {"level": "skip"}, "trustStores": null, "trustedIdentities": null}),
        );
        let out = case.verifier.verify_signature(&case.input).unwrap();
        assert!(out.passed());
        assert!(out
            .checks
            .iter()
            .all(|(_, s)| matches!(s, CheckStatus::Skipped)));
    }
}

#[test]
fn overrides_change_each_validation() {
    use Check::*;
    let cases: [(Check, &str, &str, &str, bool); 12] = [
        (Authenticity, "strict", "authenticity", "log", true),
        (Authenticity, "audit", "authenticity", "enforce", false),
        (TrustedIdentity, "strict", "authenticity", "log", true),
        (TrustedIdentity, "audit", "authenticity", "enforce", false),
        (Expiry, "strict", "expiry", "log", true),
        (Expiry, "permissive", "expiry", "enforce", false),
        (
            AuthenticTimestamp,
            "strict",
            "authenticTimestamp",
            "log",
            true,
        ),
        (
            AuthenticTimestamp,
            "audit",
            "authenticTimestamp",
            "enforce",
            false,
        ),
        (Revocation, "strict", "revocation", "log", true),
        (Revocation, "strict", "revocation", "skip", true),
        (Revocation, "permissive", "revocation", "enforce", false),
        (Revocation, "audit", "revocation", "enforce", false),
    ];
    for (check, lvl, key, value, passes) in cases {
        let sv = json!({"signatureVerification": {"level": lvl, "override": {key: value}}});
        let case = failing_case(check, sv, &json!({}));
        let out = case.verifier.verify_signature(&case.input).unwrap();
        assert_eq!(
            out.passed(),
            passes,
            "{check} {lvl} {key}={value}: {:?}",
            out.checks
        );
        let status = out.status(check);
        match value {
            "log" => assert!(matches!(status, CheckStatus::Logged(_))),
            "skip" => assert!(matches!(status, CheckStatus::Skipped)),
            _ => assert!(matches!(status, CheckStatus::Failed(_))),
        }
    }
}

#[test]
fn chain_without_revocation_endpoints_passes_revocation() {
    let p = pki();
    let s = stores(&[("ca", "acme", &[&p.root])]);
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts::default(),
    );
    let out = Verifier::new(policy(json!({})), s.store.clone(), None)
        .verify_signature(&input(env, EnvelopeFormat::Jws))
        .unwrap();
    assert!(out.passed());
    // No OCSP/CRL endpoints in these certificates: nothing to check, so good.
    assert!(matches!(out.status(Check::Revocation), CheckStatus::Passed));
}

#[test]
fn unavailable_revocation_status_fails_closed() {
    let p = pki();
    let s = stores(&[("ca", "acme", &[&p.root])]);
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts::default(),
    );
    let unavailable = || RevocationStatus::Unavailable {
        subject: "CN=signer".into(),
        problems: RevocationProblems(vec![RevocationProblem::NoUrl]),
    };
    let verify = |statement: Value| {
        Verifier::new(policy(statement), s.store.clone(), None)
            .with_revocation_checker(Box::new(FixedRevocation(unavailable())))
            .verify_signature(&input(env.clone(), EnvelopeFormat::Jws))
            .unwrap()
    };
    let out = verify(json!({}));
    assert!(!out.passed());
    assert!(matches!(
        out.status(Check::Revocation),
        CheckStatus::Failed(Failure::RevocationUnavailable { .. })
    ));
    for l in ["permissive", "audit"] {
        let out = verify(level(l));
        assert!(out.passed(), "{l}");
        assert!(matches!(
            out.status(Check::Revocation),
            CheckStatus::Logged(Failure::RevocationUnavailable { .. })
        ));
    }
    let out = verify(
        json!({"signatureVerification": {"level": "strict", "override": {"revocation": "skip"}}}),
    );
    assert!(out.passed());
    assert!(matches!(
        out.status(Check::Revocation),
        CheckStatus::Skipped
    ));
}

#[test]
fn malformed_verification_plugin_attributes_fail_integrity() {
    let p = pki();
    let s = stores(&[("ca", "acme", &[&p.root])]);
    let attr = |key: &str, value: Value| ExtendedAttribute {
        key: key.into(),
        value,
        critical: true,
    };
    let cases = [
        vec![attr("io.cncf.notary.verificationPlugin", json!(42))],
        vec![attr("io.cncf.notary.verificationPlugin", json!(["a"]))],
        vec![attr("io.cncf.notary.verificationPlugin", json!(""))],
        vec![
            attr(
                "io.cncf.notary.verificationPlugin",
                json!("com.example.verifier"),
            ),
            attr("io.cncf.notary.verificationPluginMinVersion", json!(1)),
        ],
        vec![attr(
            "io.cncf.notary.verificationPluginMinVersion",
            json!("1.0.0"),
        )],
    ];
    for (i, extended) in cases.into_iter().enumerate() {
        let env = sign(
            &p.leaf_key,
            vec![p.leaf.clone(), p.root.clone()],
            Opts {
                extended,
                ..Opts::default()
            },
        );
        for l in ["strict", "audit"] {
            let out = Verifier::new(policy(level(l)), s.store.clone(), None)
                .verify_signature(&input(env.clone(), EnvelopeFormat::Jws))
                .unwrap();
            assert!(!out.passed(), "case {i} at {l}");
            let ok = match out.status(Check::Integrity) {
                CheckStatus::Failed(Failure::PluginMinVersionWithoutPlugin) => i == 4,
                CheckStatus::Failed(Failure::PluginAttributeMalformed { .. }) => i < 4,
                _ => false,
            };
            assert!(ok, "case {i}: {:?}", out.checks);
        }
    }
}

/// An intermediate-like certificate for `key` named `cn`, issued by
/// (`issuer`, `issuer_key`), with chosen validity and basic-constraints
/// criticality.
fn ca_cert(
    cn: &str,
    key: &PKey<Private>,
    issuer: (&X509, &PKey<Private>),
    from: i64,
    to: i64,
    critical_bc: bool,
) -> X509 {
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&random_serial()).unwrap();
    b.set_subject_name(&name(cn)).unwrap();
    b.set_issuer_name(issuer.0.subject_name()).unwrap();
    b.set_pubkey(key).unwrap();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    b.set_not_before(&Asn1Time::from_unix(now + from * 86400).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(now + to * 86400).unwrap())
        .unwrap();
    let mut bc = BasicConstraints::new();
    bc.ca();
    if critical_bc {
        bc.critical();
    }
    b.append_extension(bc.build().unwrap()).unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()
            .unwrap(),
    )
    .unwrap();
    b.sign(issuer.1, MessageDigest::sha256()).unwrap();
    b.build()
}

/// The envelope carries valid leaf -> intermediate -> root; the trust store
/// holds another certificate for the intermediate (same name and key).
/// openssl builds the path through the store's copy, so that copy's
/// validity and CA properties must be checked too.
#[test]
fn trust_store_anchor_in_built_path_is_checked() {
    let root_key = key();
    let root = cert("root", &root_key, None, Kind::Ca, -60, 3650);
    let int_key = key();
    let int = ca_cert("intermediate", &int_key, (&root, &root_key), -60, 365, true);
    let leaf_key = key();
    let leaf = cert(
        "leaf",
        &leaf_key,
        Some((&int, &int_key)),
        Kind::CodeSigning,
        -60,
        30,
    );
    let chain = vec![leaf.clone(), int.clone(), root.clone()];
    let verify = |anchor: &X509, signed_days_ago: i64| {
        let s = stores(&[("ca", "acme", &[anchor])]);
        let env = sign(
            &leaf_key,
            chain.clone(),
            Opts {
                signing_time: OffsetDateTime::now_utc() - Duration::days(signed_days_ago),
                ..Opts::default()
            },
        );
        Verifier::new(policy(json!({})), s.store.clone(), None)
            .verify_signature(&input(env, EnvelopeFormat::Jws))
            .unwrap()
    };
    // Control: the envelope's own intermediate as anchor passes.
    let out = verify(&int, 0);
    assert!(out.passed(), "{:?}", out.checks);
    // Store copy expired long before signing: authenticity fails.
    let expired = ca_cert("intermediate", &int_key, (&root, &root_key), -60, -40, true);
    let out = verify(&expired, 0);
    assert!(
        matches!(
            out.status(Check::Authenticity),
            CheckStatus::Failed(Failure::NotValidAtSigningTime { .. })
        ),
        "{:?}",
        out.checks
    );
    // Store copy valid at signing time but expired now: authentic timestamp fails.
    let lapsed = ca_cert("intermediate", &int_key, (&root, &root_key), -60, -5, true);
    let out = verify(&lapsed, 10);
    assert!(matches!(
        out.status(Check::Authenticity),
        CheckStatus::Passed
    ));
    assert!(
        matches!(
            out.status(Check::AuthenticTimestamp),
            CheckStatus::Failed(Failure::CertificateNotValidNow { .. })
        ),
        "{:?}",
        out.checks
    );
    // Store copy whose basic constraints are not critical: CA rules fail.
    let weak = ca_cert(
        "intermediate",
        &int_key,
        (&root, &root_key),
        -60,
        365,
        false,
    );
    let out = verify(&weak, 0);
    assert!(
        matches!(
            out.status(Check::Authenticity),
            CheckStatus::Failed(Failure::TrustAnchorNotCa { .. })
        ),
        "{:?}",
        out.checks
    );
}

#[test]
fn timestamp_required_by_tsa_store_fails_when_absent() {
    let p = pki();
    let s = stores(&[("ca", "acme", &[&p.root])]);
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts::default(),
    );
    let verify = |sv: Value| {
        Verifier::new(
            policy(json!({"signatureVerification": sv, "trustStores": ["ca:acme", "tsa:ts"]})),
            s.store.clone(),
            None,
        )
        .verify_signature(&input(env.clone(), EnvelopeFormat::Jws))
        .unwrap()
    };
    let out = verify(json!({"level": "strict"}));
    assert!(matches!(
        out.status(Check::AuthenticTimestamp),
        CheckStatus::Failed(Failure::MissingTimestamp)
    ));
    // afterCertExpiry with a valid chain: no timestamp needed, validity checked now.
    let out = verify(json!({"level": "strict", "verifyTimestamp": "afterCertExpiry"}));
    assert!(out.passed(), "{:?}", out.checks);
    let out = verify(json!({"level": "permissive"}));
    assert!(out.passed());
    assert!(matches!(
        out.status(Check::AuthenticTimestamp),
        CheckStatus::Logged(Failure::MissingTimestamp)
    ));
    assert!(!out.notes.contains(&Note::TimestampNotVerified));
}

#[test]
fn ignored_subdirectory_is_noted() {
    let p = pki();
    let s = stores(&[("ca", "acme", &[&p.root])]);
    let sub = s.store.root().join("x509/ca/acme/sub");
    fs::create_dir_all(&sub).unwrap();
    fs::write(sub.join("x.pem"), b"not a cert").unwrap();
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts::default(),
    );
    let out = Verifier::new(policy(json!({})), s.store.clone(), None)
        .verify_signature(&input(env, EnvelopeFormat::Jws))
        .unwrap();
    assert!(out.passed());
    assert!(out.notes.contains(&Note::IgnoredTrustStoreEntry(sub)));
}

// ---- verification plugins (an in-process plugin behind the loader trait) ----

#[derive(Clone)]
struct FakePlugin {
    version: String,
    capabilities: Vec<Capability>,
    success: bool,
    processed: Vec<String>,
    extra_result: bool,
    seen: Arc<Mutex<Vec<VerifySignatureRequest>>>,
}

impl VerificationPlugin for FakePlugin {
    fn metadata(&self) -> Result<GetMetadataResponse, PluginCallError> {
        Ok(GetMetadataResponse {
            name: "com.example.verifier".into(),
            description: "test".into(),
            version: self.version.clone(),
            url: "https://example.com".into(),
            supported_contract_versions: vec!["1.0".into()],
            capabilities: self.capabilities.clone(),
        })
    }

    fn verify_signature(
        &self,
        req: VerifySignatureRequest,
    ) -> Result<VerifySignatureResponse, PluginCallError> {
        let mut results: HashMap<Capability, VerificationResult> = req
            .trust_policy
            .signature_verification
            .iter()
            .map(|c| {
                (
                    c.clone(),
                    VerificationResult {
                        success: self.success,
                        reason: (!self.success).then(|| "denied by test plugin".to_string()),
                    },
                )
            })
            .collect();
        if self.extra_result {
            results.insert(
                Capability::SignatureGeneratorRaw,
                VerificationResult {
                    success: true,
                    reason: None,
                },
            );
        }
        self.seen.lock().unwrap().push(req);
        Ok(VerifySignatureResponse {
            verification_results: results,
            processed_attributes: self.processed.clone(),
        })
    }
}

struct FakeLoader(FakePlugin);

impl PluginLoader for FakeLoader {
    fn load(&self, name: &str) -> Result<Box<dyn VerificationPlugin>, PluginCallError> {
        if name == "com.example.verifier" {
            Ok(Box::new(self.0.clone()))
        } else {
            Err(PluginCallError(
                format!("plugin {name} not installed").into(),
            ))
        }
    }
}

fn fake(caps: &[Capability]) -> FakePlugin {
    FakePlugin {
        version: "1.2.0".into(),
        capabilities: caps.to_vec(),
        success: true,
        processed: Vec::new(),
        extra_result: false,
        seen: Arc::new(Mutex::new(Vec::new())),
    }
}

fn plugin_env(min_version: Option<&str>, extra_critical: bool) -> (Pki, Vec<u8>) {
    let p = pki();
    let mut extended = vec![ExtendedAttribute::critical_text(
        "io.cncf.notary.verificationPlugin",
        "com.example.verifier",
    )];
    if let Some(v) = min_version {
        extended.push(ExtendedAttribute::critical_text(
            "io.cncf.notary.verificationPluginMinVersion",
            v,
        ));
    }
    if extra_critical {
        extended.push(ExtendedAttribute::critical_text("com.example.custom", "x"));
    }
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts {
            extended,
            ..Opts::default()
        },
    );
    (p, env)
}

fn verify_with_plugin(
    p: &Pki,
    env: &[u8],
    plugin: FakePlugin,
    statement: Value,
) -> notation_host::verifier::SignatureOutcome {
    let s = stores(&[("ca", "acme", &[&p.root])]);
    Verifier::new(policy(statement), s.store.clone(), None)
        .with_plugin_loader(Box::new(FakeLoader(plugin)))
        .verify_signature(&input(env.to_vec(), EnvelopeFormat::Jws))
        .unwrap()
}

#[test]
fn plugin_performs_trusted_identity_and_revocation() {
    use Capability::*;
    let (p, env) = plugin_env(Some("1.0.0"), true);
    let plugin = FakePlugin {
        processed: vec!["com.example.custom".into()],
        ..fake(&[
            SignatureVerifierTrustedIdentity,
            SignatureVerifierRevocationCheck,
        ])
    };
    let seen = plugin.seen.clone();
    let ids = json!({"trustedIdentities": ["x509.subject: C=US, ST=WA, O=Nobody"]});
    let out = verify_with_plugin(&p, &env, plugin.clone(), ids.clone());
    // The native identity check would fail; the plugin decides instead.
    assert!(out.passed(), "{:?}", out.checks);
    assert!(matches!(
        out.status(Check::TrustedIdentity),
        CheckStatus::Passed
    ));
    assert!(matches!(
        out.status(Check::ExtendedValidation),
        CheckStatus::Passed
    ));
    let req = seen.lock().unwrap().pop().unwrap();
    assert_eq!(
        req.signature.unprocessed_attributes,
        vec!["com.example.custom".to_string()]
    );
    assert_eq!(
        req.trust_policy.trusted_identities,
        vec!["x509.subject: C=US, ST=WA, O=Nobody".to_string()]
    );
    assert_eq!(req.signature.certificate_chain.len(), 2);
    assert_eq!(
        req.signature
            .critical_attributes
            .verification_plugin
            .as_deref(),
        Some("com.example.verifier")
    );

    // Revocation skipped by policy: not requested from the plugin.
    let out = verify_with_plugin(
        &p,
        &env,
        plugin.clone(),
        json!({"signatureVerification": {"level": "strict", "override": {"revocation": "skip"}}}),
    );
    assert!(out.passed());
    assert!(matches!(
        out.status(Check::Revocation),
        CheckStatus::Skipped
    ));
    let req = seen.lock().unwrap().pop().unwrap();
    assert_eq!(
        req.trust_policy.signature_verification,
        vec![SignatureVerifierTrustedIdentity]
    );

    // Plugin says no: enforced at strict, logged at audit.
    let deny = FakePlugin {
        success: false,
        ..plugin.clone()
    };
    let out = verify_with_plugin(&p, &env, deny.clone(), json!({}));
    assert!(!out.passed());
    assert!(matches!(
        out.status(Check::TrustedIdentity),
        CheckStatus::Failed(Failure::PluginCheckFailed { .. })
    ));
    let out = verify_with_plugin(&p, &env, deny, level("audit"));
    assert!(out.passed());
    assert!(matches!(
        out.status(Check::Revocation),
        CheckStatus::Logged(_)
    ));
}

#[test]
fn plugin_contract_violations_fail() {
    use Capability::*;
    let (p, env) = plugin_env(Some("1.0.0"), true);
    let base = FakePlugin {
        processed: vec!["com.example.custom".into()],
        ..fake(&[SignatureVerifierTrustedIdentity])
    };
    // Unprocessed critical attribute.
    let out = verify_with_plugin(
        &p,
        &env,
        FakePlugin {
            processed: vec![],
            ..base.clone()
        },
        level("audit"),
    );
    assert!(matches!(
        out.status(Check::ExtendedValidation),
        CheckStatus::Failed(Failure::PluginUnprocessedAttributes { .. })
    ));
    // Results for capabilities not asked.
    let out = verify_with_plugin(
        &p,
        &env,
        FakePlugin {
            extra_result: true,
            ..base.clone()
        },
        level("audit"),
    );
    assert!(matches!(
        out.status(Check::ExtendedValidation),
        CheckStatus::Failed(Failure::PluginResultsMismatch { .. })
    ));
    // No verifier capability.
    let out = verify_with_plugin(&p, &env, fake(&[SignatureGeneratorRaw]), level("audit"));
    assert!(matches!(
        out.status(Check::ExtendedValidation),
        CheckStatus::Failed(Failure::PluginNotVerifier { .. })
    ));
    // Too old, and not SemVer.
    let out = verify_with_plugin(
        &p,
        &env,
        FakePlugin {
            version: "0.9.9".into(),
            ..base.clone()
        },
        level("audit"),
    );
    assert!(matches!(
        out.status(Check::ExtendedValidation),
        CheckStatus::Failed(Failure::PluginVersionTooLow { .. })
    ));
    let out = verify_with_plugin(
        &p,
        &env,
        FakePlugin {
            version: "v1".into(),
            ..base.clone()
        },
        level("audit"),
    );
    assert!(matches!(
        out.status(Check::ExtendedValidation),
        CheckStatus::Failed(Failure::PluginVersionInvalid { .. })
    ));
    let (p2, env2) = plugin_env(Some("one"), false);
    let out = verify_with_plugin(
        &p2,
        &env2,
        fake(&[SignatureVerifierTrustedIdentity]),
        level("audit"),
    );
    assert!(matches!(
        out.status(Check::ExtendedValidation),
        CheckStatus::Failed(Failure::PluginVersionInvalid { .. })
    ));
    // Exactly the minimum version is fine.
    let out = verify_with_plugin(
        &p,
        &env,
        FakePlugin {
            version: "1.0.0".into(),
            ..base.clone()
        },
        json!({}),
    );
    assert!(out.passed(), "{:?}", out.checks);
    // Plugin not installed.
    let (p3, env3) = {
        let p = pki();
        let env = sign(
            &p.leaf_key,
            vec![p.leaf.clone(), p.root.clone()],
            Opts {
                extended: vec![ExtendedAttribute::critical_text(
                    "io.cncf.notary.verificationPlugin",
                    "com.example.other",
                )],
                ..Opts::default()
            },
        );
        (p, env)
    };
    let out = verify_with_plugin(&p3, &env3, base, level("audit"));
    assert!(matches!(
        out.status(Check::ExtendedValidation),
        CheckStatus::Failed(Failure::PluginUnavailable { .. })
    ));
}

#[test]
fn unknown_critical_attribute_without_plugin_fails_integrity() {
    let p = pki();
    let s = stores(&[("ca", "acme", &[&p.root])]);
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts {
            extended: vec![ExtendedAttribute::critical_text("com.example.custom", "x")],
            ..Opts::default()
        },
    );
    let out = Verifier::new(policy(level("audit")), s.store.clone(), None)
        .verify_signature(&input(env, EnvelopeFormat::Jws))
        .unwrap();
    assert!(matches!(
        out.status(Check::Integrity),
        CheckStatus::Failed(Failure::UnknownCriticalAttribute(_))
    ));
}

#[test]
fn identities_with_escaped_characters_match_certificate_subjects() {
    let p = pki();
    let s = stores(&[("ca", "acme", &[&p.root])]);
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        Opts::default(),
    );
    let verify = |id: &str| {
        Verifier::new(
            policy(json!({"trustedIdentities": [id]})),
            s.store.clone(),
            None,
        )
        .verify_signature(&input(env.clone(), EnvelopeFormat::Jws))
        .unwrap()
        .passed()
    };
    // Subject is C=US, ST=WA, O="Acme, Inc.", CN=signer
    assert!(verify(r"x509.subject: C=US, ST=WA, O=Acme\, Inc."));
    assert!(verify(
        r"x509.subject: C=US, ST=WA, O=Acme\2C Inc., CN=signer"
    ));
    assert!(!verify(r"x509.subject: C=US, ST=WA, O=Acme"));
    assert!(!verify(
        r"x509.subject: C=US, ST=WA, O=Acme\, Inc., CN=signer2"
    ));
}
