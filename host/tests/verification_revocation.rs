//! Revocation checking against real responders: `openssl ocsp` as the OCSP
//! responder (a spawned process) and a small in-test HTTP server for CRLs,
//! for a test CA whose leaf names them at 127.0.0.1.

use std::fs;
use std::process::Command;

use notation_host::verifier::revocation::{crl::CrlError, ocsp::OcspError};
use notation_host::verifier::{
    Check, CheckStatus, Failure, OnlineRevocationChecker, RevocationChecker, RevocationMethod,
    RevocationProblem, RevocationStatus, SignatureOutcome, Verifier,
};
use notation_plugin_sdk::envelope::{EnvelopeFormat, SigningScheme};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509Name, X509};
use serde_json::json;
use time::{Duration, OffsetDateTime};

mod support;

use support::pki::{ec_key as key, free_port, serve_crl, CertBuilder, Kind, OcspResponder};
use support::{input, policy, stores, Opts};

fn name(cn: &str) -> X509Name {
    support::pki::name(&[("O", "Revocation Test"), ("CN", cn)])
}

/// Revocation endpoints to put in a certificate.
#[derive(Default, Clone)]
struct Endpoints {
    ocsp: Option<String>,
    crl: Option<String>,
}

/// A CA certificate (self-signed when `issuer` is `None`) or a code-signing leaf.
fn cert(
    cn: &str,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    ca: bool,
    endpoints: &Endpoints,
) -> X509 {
    let kind = if ca { Kind::Ca } else { Kind::CodeSigning };
    CertBuilder::new(name(cn), key, kind)
        .issuer(issuer)
        .ocsp(endpoints.ocsp.as_deref())
        .crl(endpoints.crl.as_deref())
        .build()
}

/// `index.txt` line for `cert`: valid, or revoked an hour ago.
fn index_line(cert: &X509, revoked: bool) -> String {
    let serial = cert
        .serial_number()
        .to_bn()
        .unwrap()
        .to_hex_str()
        .unwrap()
        .to_string();
    let fmt = |t: OffsetDateTime| {
        format!(
            "{:02}{:02}{:02}{:02}{:02}{:02}Z",
            t.year() % 100,
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let now = OffsetDateTime::now_utc();
    let expiry = fmt(now + Duration::days(30));
    let (flag, revoked_at) = if revoked {
        ("R", fmt(now - Duration::hours(1)))
    } else {
        ("V", String::new())
    };
    format!("{flag}\t{expiry}\t{revoked_at}\t{serial}\tunknown\t/O=Revocation Test/CN=leaf\n")
}

/// Starts `openssl ocsp` for `ca`, answering from `index`, signing with
/// (`signer`, `signer_key`).
fn ocsp_responder(
    port: u16,
    ca: &X509,
    signer: &X509,
    signer_key: &PKey<Private>,
    index: &str,
) -> OcspResponder {
    ocsp_responder_with(port, ca, signer, signer_key, index, &[])
}

/// [`ocsp_responder`] with extra `openssl ocsp` arguments.
fn ocsp_responder_with(
    port: u16,
    ca: &X509,
    signer: &X509,
    signer_key: &PKey<Private>,
    index: &str,
    extra_args: &[&str],
) -> OcspResponder {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    fs::write(p("index.txt"), index).unwrap();
    fs::write(p("ca.pem"), ca.to_pem().unwrap()).unwrap();
    fs::write(p("signer.pem"), signer.to_pem().unwrap()).unwrap();
    fs::write(
        p("signer.key"),
        signer_key.private_key_to_pem_pkcs8().unwrap(),
    )
    .unwrap();
    let arg = |n: &str| p(n).into_os_string();
    let mut cmd = Command::new("openssl");
    cmd.arg("ocsp")
        .arg("-index")
        .arg(arg("index.txt"))
        .args(["-port", &port.to_string()])
        .arg("-rsigner")
        .arg(arg("signer.pem"))
        .arg("-rkey")
        .arg(arg("signer.key"))
        .arg("-CA")
        .arg(arg("ca.pem"))
        .args(["-nmin", "10"])
        .args(extra_args);
    OcspResponder::spawn(cmd, dir)
}

/// A DER CRL by (`issuer`, `key`) listing `revoked`.
fn crl(issuer: &X509, key: &PKey<Private>, revoked: &[&X509]) -> Vec<u8> {
    crl_with(issuer, key, revoked, &[], MessageDigest::sha256())
}

/// An `issuingDistributionPoint` extension value.
fn idp(point: Option<&str>, only_ca: bool, only_user: bool) -> Vec<u8> {
    use cms::cert::x509::ext::pkix::crl::dp::IssuingDistributionPoint;
    use cms::cert::x509::ext::pkix::name::{DistributionPointName, GeneralName};
    use der::Encode;
    IssuingDistributionPoint {
        distribution_point: point.map(|u| {
            DistributionPointName::FullName(vec![GeneralName::UniformResourceIdentifier(
                der::asn1::Ia5String::new(u).unwrap(),
            )])
        }),
        only_contains_user_certs: only_user,
        only_contains_ca_certs: only_ca,
        only_some_reasons: None,
        indirect_crl: false,
        only_contains_attribute_certs: false,
    }
    .to_der()
    .unwrap()
}

/// [`crl`] with more CRL extensions and another signature digest.
fn crl_with(
    issuer: &X509,
    key: &PKey<Private>,
    revoked: &[&X509],
    extensions: &[(&str, bool, Vec<u8>)],
    digest: MessageDigest,
) -> Vec<u8> {
    support::pki::crl(issuer, key, revoked, -7200, extensions, digest)
}

struct Pki {
    root_key: PKey<Private>,
    root: X509,
    leaf_key: PKey<Private>,
    leaf: X509,
}

fn pki(endpoints: &Endpoints) -> Pki {
    let root_key = key();
    let root = cert("root", &root_key, None, true, &Endpoints::default());
    let leaf_key = key();
    let leaf = cert(
        "leaf",
        &leaf_key,
        Some((&root, &root_key)),
        false,
        endpoints,
    );
    Pki {
        root_key,
        root,
        leaf_key,
        leaf,
    }
}

fn sign(key: &PKey<Private>, chain: Vec<X509>, scheme: SigningScheme) -> Vec<u8> {
    support::sign(
        key,
        chain,
        Opts {
            scheme,
            ..Opts::default()
        },
    )
}

/// Verifies `p`'s signature with the default (online) checker at `level`.
fn verify(p: &Pki, level: &str) -> SignatureOutcome {
    let s = stores(&[("ca", "acme", &[&p.root])]);
    let policy = policy(json!({"signatureVerification": {"level": level}}));
    let env = sign(
        &p.leaf_key,
        vec![p.leaf.clone(), p.root.clone()],
        SigningScheme::X509,
    );
    Verifier::new(policy, s.store.clone(), None)
        .verify_signature(&input(env, EnvelopeFormat::Jws))
        .unwrap()
}

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

fn assert_revoked(out: &SignatureOutcome, method: RevocationMethod) {
    assert!(!out.passed(), "{:?}", out.checks);
    match out.status(Check::Revocation) {
        CheckStatus::Failed(f @ Failure::Revoked { method: m, url, .. }) => {
            assert_eq!(*m, method);
            // notation-go's words, then its per-certificate line.
            let text = f.to_string();
            let tail = format!(
                "encountered an error for revocation method {method} at URL {url:?}: certificate is revoked via {method})"
            );
            assert!(
                text.contains(" in chain with subject \"") && text.ends_with(&tail),
                "{text}"
            );
            assert!(
                text.starts_with("signing certificate with subject \""),
                "{text}"
            );
            assert!(text.contains("\" is revoked"), "{text}");
        }
        other => panic!("expected revoked by {method}, got {other:?}"),
    }
}

/// Asserts an enforced "unavailable" whose reasons satisfy `why`.
fn assert_unavailable(out: &SignatureOutcome, why: impl Fn(&RevocationProblem) -> bool) {
    assert!(!out.passed(), "{:?}", out.checks);
    match out.status(Check::Revocation) {
        CheckStatus::Failed(f @ Failure::RevocationUnavailable { problems, .. }) => {
            assert!(problems.0.iter().any(why), "{problems}");
            let text = f.to_string();
            assert!(
                text.starts_with("signing certificate with subject \"")
                    && text.contains("\" revocation status is unknown ("),
                "{text}"
            );
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
}

#[test]
fn good_via_ocsp() {
    let (ocsp_port, crl_port) = (free_port(), free_port());
    // The CRL endpoint is down: a pass proves OCSP answered.
    let p = pki(&Endpoints {
        ocsp: Some(url(ocsp_port, "")),
        crl: Some(url(crl_port, "/ca.crl")),
    });
    let _r = ocsp_responder(
        ocsp_port,
        &p.root,
        &p.root,
        &p.root_key,
        &index_line(&p.leaf, false),
    );
    let out = verify(&p, "strict");
    assert!(out.passed(), "{:?}", out.checks);
    assert!(matches!(out.status(Check::Revocation), CheckStatus::Passed));
}

#[test]
fn revoked_via_ocsp_fails_strict_and_is_logged_below() {
    let ocsp_port = free_port();
    let p = pki(&Endpoints {
        ocsp: Some(url(ocsp_port, "")),
        crl: None,
    });
    let _r = ocsp_responder(
        ocsp_port,
        &p.root,
        &p.root,
        &p.root_key,
        &index_line(&p.leaf, true),
    );
    assert_revoked(&verify(&p, "strict"), RevocationMethod::Ocsp);
    // The spec's table: permissive and audit only log revocation failures.
    for level in ["permissive", "audit"] {
        let out = verify(&p, level);
        assert!(out.passed(), "{level}: {:?}", out.checks);
        assert!(matches!(
            out.status(Check::Revocation),
            CheckStatus::Logged(Failure::Revoked { .. })
        ));
    }
}

#[test]
fn responder_down_without_crl_is_unavailable() {
    let p = pki(&Endpoints {
        ocsp: Some(url(free_port(), "")),
        crl: None,
    });
    assert_unavailable(&verify(&p, "strict"), |p| {
        matches!(
            p,
            RevocationProblem::Ocsp {
                error: OcspError::Fetch(_),
                ..
            }
        )
    });
    let out = verify(&p, "permissive");
    assert!(out.passed());
    assert!(matches!(
        out.status(Check::Revocation),
        CheckStatus::Logged(Failure::RevocationUnavailable { .. })
    ));
}

#[test]
fn ocsp_down_falls_back_to_crl_that_revokes() {
    let crl_port = free_port();
    let p = pki(&Endpoints {
        ocsp: Some(url(free_port(), "")),
        crl: Some(url(crl_port, "/ca.crl")),
    });
    serve_crl(crl_port, crl(&p.root, &p.root_key, &[&p.leaf]));
    assert_revoked(&verify(&p, "strict"), RevocationMethod::Crl);
}

#[test]
fn crl_not_listing_the_certificate_passes() {
    let crl_port = free_port();
    let p = pki(&Endpoints {
        ocsp: None,
        crl: Some(url(crl_port, "/ca.crl")),
    });
    let other = cert(
        "other",
        &key(),
        Some((&p.root, &p.root_key)),
        false,
        &Endpoints::default(),
    );
    serve_crl(crl_port, crl(&p.root, &p.root_key, &[&other]));
    let out = verify(&p, "strict");
    assert!(out.passed(), "{:?}", out.checks);
    assert!(matches!(out.status(Check::Revocation), CheckStatus::Passed));
}

#[test]
fn no_endpoints_is_good_without_network() {
    let p = pki(&Endpoints::default());
    let out = verify(&p, "strict");
    assert!(out.passed(), "{:?}", out.checks);
    assert_eq!(
        OnlineRevocationChecker::default().check(&[p.leaf.clone(), p.root.clone()], None),
        RevocationStatus::Good
    );
}

#[test]
fn ocsp_response_signed_by_another_key_is_not_trusted() {
    let ocsp_port = free_port();
    let p = pki(&Endpoints {
        ocsp: Some(url(ocsp_port, "")),
        crl: None,
    });
    let impostor_key = key();
    let impostor = cert("root", &impostor_key, None, true, &Endpoints::default());
    let _r = ocsp_responder(
        ocsp_port,
        &p.root,
        &impostor,
        &impostor_key,
        &index_line(&p.leaf, false),
    );
    assert_unavailable(&verify(&p, "strict"), |p| {
        matches!(
            p,
            RevocationProblem::Ocsp {
                error: OcspError::NotTrusted,
                ..
            }
        )
    });
}

#[test]
fn crl_signed_by_another_key_is_not_trusted() {
    let crl_port = free_port();
    let p = pki(&Endpoints {
        ocsp: None,
        crl: Some(url(crl_port, "/ca.crl")),
    });
    let impostor_key = key();
    let impostor = cert("root", &impostor_key, None, true, &Endpoints::default());
    serve_crl(crl_port, crl(&impostor, &impostor_key, &[]));
    assert_unavailable(&verify(&p, "strict"), |p| {
        matches!(
            p,
            RevocationProblem::Crl {
                error: CrlError::NotTrusted,
                ..
            }
        )
    });
}

#[test]
fn revoked_intermediate_is_found_through_its_crl() {
    let crl_port = free_port();
    let root_key = key();
    let root = cert("root", &root_key, None, true, &Endpoints::default());
    let int_key = key();
    let int = cert(
        "intermediate",
        &int_key,
        Some((&root, &root_key)),
        true,
        &Endpoints {
            ocsp: None,
            crl: Some(url(crl_port, "/root.crl")),
        },
    );
    let leaf_key = key();
    let leaf = cert(
        "leaf",
        &leaf_key,
        Some((&int, &int_key)),
        false,
        &Endpoints::default(),
    );
    serve_crl(crl_port, crl(&root, &root_key, &[&int]));
    match OnlineRevocationChecker::default().check(&[leaf, int, root], None) {
        RevocationStatus::Revoked {
            subject, method, ..
        } => {
            assert!(subject.contains("intermediate"), "{subject}");
            assert_eq!(method, RevocationMethod::Crl);
        }
        other => panic!("expected revoked, got {other:?}"),
    }
}

#[test]
fn ocsp_response_signed_by_the_issuer_without_certificates_is_trusted() {
    // RFC 6960 lets a CA-signed response omit the signer certificate: the
    // verifier already has the issuer.
    let ocsp_port = free_port();
    let p = pki(&Endpoints {
        ocsp: Some(url(ocsp_port, "")),
        crl: None,
    });
    let _r = ocsp_responder_with(
        ocsp_port,
        &p.root,
        &p.root,
        &p.root_key,
        &index_line(&p.leaf, true),
        &["-resp_no_certs"],
    );
    assert_revoked(&verify(&p, "strict"), RevocationMethod::Ocsp);
}

/// A strict verification of a leaf whose only revocation source is a CRL
/// served with `extensions`, listing the leaf when `listed`.
fn verify_with_crl(
    extensions: impl Fn(&str) -> Vec<(&'static str, bool, Vec<u8>)>,
    digest: MessageDigest,
    listed: bool,
) -> SignatureOutcome {
    let crl_port = free_port();
    let crl_url = url(crl_port, "/ca.crl");
    let p = pki(&Endpoints {
        ocsp: None,
        crl: Some(crl_url.clone()),
    });
    let revoked: Vec<&X509> = if listed { vec![&p.leaf] } else { vec![] };
    serve_crl(
        crl_port,
        crl_with(
            &p.root,
            &p.root_key,
            &revoked,
            &extensions(&crl_url),
            digest,
        ),
    );
    verify(&p, "strict")
}

const IDP: &str = "2.5.29.28";

#[test]
fn crl_scoped_to_ca_certificates_says_nothing_about_a_leaf() {
    // The leaf is revoked, but the CRL served only covers CA certificates
    // (and so, rightly, does not list it): it must not be read as "good".
    let out = verify_with_crl(
        |_| vec![(IDP, true, idp(None, true, false))],
        MessageDigest::sha256(),
        false,
    );
    assert_unavailable(&out, |p| {
        matches!(
            p,
            RevocationProblem::Crl {
                error: CrlError::OutOfScope { .. },
                ..
            }
        )
    });
}

#[test]
fn crl_for_another_distribution_point_is_not_used() {
    let out = verify_with_crl(
        |_| {
            vec![(
                IDP,
                true,
                idp(Some("http://127.0.0.1:1/other.crl"), false, false),
            )]
        },
        MessageDigest::sha256(),
        false,
    );
    assert_unavailable(&out, |p| {
        matches!(
            p,
            RevocationProblem::Crl {
                error: CrlError::OutOfScope { .. },
                ..
            }
        )
    });
}

#[test]
fn crl_scoped_to_the_certificates_distribution_point_is_used() {
    // An IDP naming the URL the CRL came from, for end-entity certificates:
    // in scope, so the listing counts.
    let out = verify_with_crl(
        |u| vec![(IDP, true, idp(Some(u), false, true))],
        MessageDigest::sha256(),
        true,
    );
    assert_revoked(&out, RevocationMethod::Crl);
    let out = verify_with_crl(
        |u| vec![(IDP, true, idp(Some(u), false, true))],
        MessageDigest::sha256(),
        false,
    );
    assert!(out.passed(), "{:?}", out.checks);
}

#[test]
fn crl_with_an_unknown_critical_extension_is_not_used() {
    let out = verify_with_crl(
        |_| vec![("1.3.6.1.4.1.55555.1", true, vec![0x05, 0x00])],
        MessageDigest::sha256(),
        false,
    );
    assert_unavailable(&out, |p| {
        matches!(
            p,
            RevocationProblem::Crl {
                error: CrlError::UnsupportedCriticalExtension { .. },
                ..
            }
        )
    });
    // The same extension, not critical, is ignored.
    let out = verify_with_crl(
        |_| vec![("1.3.6.1.4.1.55555.1", false, vec![0x05, 0x00])],
        MessageDigest::sha256(),
        false,
    );
    assert!(out.passed(), "{:?}", out.checks);
}

/// An `index.txt` line revoked an hour ago for key compromise (openssl's
/// `keyTime` form), the key invalid from `invalid_from` (openssl puts it
/// in the response's `invalidityDate` single extension).
fn index_line_compromised(cert: &X509, invalid_from: OffsetDateTime) -> String {
    let line = index_line(cert, true);
    let mut fields: Vec<String> = line.split('\t').map(str::to_string).collect();
    let t = invalid_from;
    fields[2] = format!(
        "{},keyTime,{:04}{:02}{:02}{:02}{:02}{:02}Z",
        fields[2],
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    fields.join("\t")
}

#[test]
fn ocsp_revocation_after_the_authentic_signing_time_does_not_count() {
    let ocsp_port = free_port();
    let p = pki(&Endpoints {
        ocsp: Some(url(ocsp_port, "")),
        crl: None,
    });
    let now = OffsetDateTime::now_utc();
    let _r = ocsp_responder(
        ocsp_port,
        &p.root,
        &p.root,
        &p.root_key,
        &index_line_compromised(&p.leaf, now - Duration::hours(2)),
    );
    let chain = [p.leaf.clone(), p.root.clone()];
    let checker = OnlineRevocationChecker::default();
    // Signed before the key became invalid: good for that signature.
    assert_eq!(
        checker.check(&chain, Some(now - Duration::hours(3))),
        RevocationStatus::Good
    );
    // Signed after, or with no authentic signing time: revoked.
    for t in [Some(now - Duration::minutes(90)), None] {
        assert!(
            matches!(
                checker.check(&chain, t),
                RevocationStatus::Revoked {
                    method: RevocationMethod::Ocsp,
                    ..
                }
            ),
            "{t:?}"
        );
    }
}

#[test]
fn ocsp_revocation_without_invalidity_date_is_final() {
    let ocsp_port = free_port();
    let p = pki(&Endpoints {
        ocsp: Some(url(ocsp_port, "")),
        crl: None,
    });
    let _r = ocsp_responder(
        ocsp_port,
        &p.root,
        &p.root,
        &p.root_key,
        &index_line(&p.leaf, true),
    );
    let signed_long_ago = OffsetDateTime::now_utc() - Duration::days(1);
    assert!(matches!(
        OnlineRevocationChecker::default()
            .check(&[p.leaf.clone(), p.root.clone()], Some(signed_long_ago)),
        RevocationStatus::Revoked { .. }
    ));
}

#[test]
fn sha1_signed_ocsp_response_is_not_trusted() {
    let ocsp_port = free_port();
    let p = pki(&Endpoints {
        ocsp: Some(url(ocsp_port, "")),
        crl: None,
    });
    let _r = ocsp_responder_with(
        ocsp_port,
        &p.root,
        &p.root,
        &p.root_key,
        &index_line(&p.leaf, false),
        &["-rmd", "sha1"],
    );
    assert_unavailable(&verify(&p, "strict"), |p| {
        matches!(
            p,
            RevocationProblem::Ocsp {
                error: OcspError::WeakSignatureAlgorithm { .. },
                ..
            }
        )
    });
}

#[test]
fn sha1_signed_crl_is_not_trusted() {
    let out = verify_with_crl(|_| vec![], MessageDigest::sha1(), false);
    assert_unavailable(&out, |p| {
        matches!(
            p,
            RevocationProblem::Crl {
                error: CrlError::WeakSignatureAlgorithm { .. },
                ..
            }
        )
    });
}
