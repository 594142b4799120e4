//! Port of upstream notation's `test/e2e/suite/command/sign.go` (the
//! version with the timestamping cases): same commands, exit codes and key
//! words, against our `notation` and a real registry (see
//! `upstream_common`). Public TSAs (GlobalSign, DigiCert) are replaced by a
//! local RFC 3161 TSA (`openssl ts -reply`, `host/tests/tsa_support`); the
//! TSA root files of the failure cases are upstream's own
//! (`config/timestamp/`).

#[path = "../../host/tests/tsa_support/mod.rs"]
mod tsa_support;
mod upstream_common;

use tsa_support::{Kind, TsaPki, TsaServer};
use upstream_common::{upstream_dir, Home, Lab, Suite, SIGN_SUCCESSFULLY, VERIFY_SUCCESSFULLY};

#[test]
fn sign() {
    let lab = Lab::start();
    let mut s = Suite::new("command/sign.go");
    let host = || (Home::base(&lab), lab.artifact("", ""));
    let sign_then_verify = |sign: &[&str], verify_by_tag: bool| {
        let (h, a) = host();
        let digest_ref = a.reference_with_digest();
        let tag_ref = a.reference_with_tag();
        let mut args: Vec<&str> = sign.to_vec();
        let target = if sign.contains(&"TAG") {
            &tag_ref
        } else {
            &digest_ref
        };
        for arg in args.iter_mut() {
            if *arg == "TAG" || *arg == "DIGEST" {
                *arg = target;
            }
        }
        h.exec(&args).success().key_words(&[SIGN_SUCCESSFULLY]);
        h.exec(&["verify", &digest_ref])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
        if verify_by_tag {
            h.exec(&["verify", &tag_ref])
                .success()
                .key_words(&[VERIFY_SUCCESSFULLY]);
        }
    };
    s.case("by digest", || sign_then_verify(&["sign", "DIGEST"], true));
    s.case("by digest with COSE format", || {
        sign_then_verify(&["sign", "--signature-format", "cose", "DIGEST"], true)
    });
    s.case("by tag with JWS format", || {
        sign_then_verify(&["sign", "TAG", "--signature-format", "jws"], true)
    });
    s.case("by tag with COSE signature format", || {
        sign_then_verify(&["sign", "TAG", "--signature-format", "cose"], true)
    });
    s.case("with specific key", || {
        let (h, a) = host();
        h.exec(&["cert", "generate-test", "sKey"])
            .success()
            .key_words(&["notation/localkeys/sKey.crt"]);
        h.exec(&["sign", "--key", "sKey", &a.reference_with_digest()])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        let v = Home::empty(&lab);
        v.add_trust_store("sKey", &h.config().join("localkeys/sKey.crt"));
        v.add_trust_policy("generate_test_trustpolicy.json");
        v.exec(&["verify", &a.reference_with_tag()])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("with expiry in 24h", || {
        let (h, a) = host();
        h.exec(&["sign", "--expiry", "24h", &a.reference_with_digest()])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        h.exec(&["verify", &a.reference_with_tag()])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("with expiry in 2s", || {
        let (h, a) = host();
        h.exec(&["sign", "--expiry", "2s", &a.reference_with_digest()])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        std::thread::sleep(std::time::Duration::from_millis(2100));
        h.exec(&["verify", &a.reference_with_digest(), "-v"])
            .failure()
            .err_key_words(&[
                "expiry validation failed.",
                "signature verification failed for all the signatures",
            ]);
    });
    let layout = |h: &Home| {
        let dir = h.path().join("e2e-layout");
        notation_e2e::copy_dir(&upstream_dir().join("registry/oci_layout/e2e"), &dir);
        dir.to_str().expect("utf-8").to_string()
    };
    let digest = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
    for (name, cose, by_tag) in [
        ("by digest with oci layout", false, false),
        ("by digest with oci layout and COSE format", true, false),
        ("by tag with oci layout", false, true),
        ("by tag with oci layout and COSE format", true, true),
    ] {
        s.case(name, || {
            let mut h = Home::base(&lab);
            h.set_env("NOTATION_EXPERIMENTAL", "1");
            let dir = layout(&h);
            let reference = if by_tag {
                format!("{dir}:v1")
            } else {
                format!("{dir}@{digest}")
            };
            let mut args = vec!["sign", "--oci-layout"];
            if cose {
                args.extend(["--signature-format", "cose"]);
            }
            args.push(&reference);
            h.exec(&args).success().key_words(&[SIGN_SUCCESSFULLY]);
        });
    }
    s.not_applicable(
        "by digest with oci layout but without experimental",
        "our CLI does not gate --oci-layout behind NOTATION_EXPERIMENTAL (deviation from upstream v1.3, outside this task; reported)",
    );
    for name in ["with TLS by digest", "with --insecure-registry by digest"] {
        s.not_applicable(
            name,
            "HostInGithubAction: needs upstream's TLS registry under a domain name in /etc/hosts; TLS is covered by registry.rs",
        );
    }

    // Timestamping: a local TSA in place of GlobalSign's.
    let pki = TsaPki::new(Kind::Tsa);
    let tsa = TsaServer::start_with_accuracy(&pki, None);
    let work = tempfile::tempdir().expect("temp dir");
    let root = work.path().join("tsa-root.crt");
    std::fs::write(&root, pki.root.to_pem().expect("pem")).expect("write root");
    let root = root.to_str().expect("utf-8").to_string();
    let ts_file = |name: &str| {
        upstream_dir()
            .join("config/timestamp")
            .join(name)
            .to_str()
            .expect("utf-8")
            .to_string()
    };
    s.case("with timestamping", || {
        let (h, a) = host();
        h.exec(&[
            "sign",
            "--timestamp-url",
            &tsa.url,
            "--timestamp-root-cert",
            &root,
            &a.reference_with_digest(),
        ])
        .success()
        .key_words(&[SIGN_SUCCESSFULLY]);
    });
    for name in [
        "with timestamp-root-cert but no timestamp-url",
        "with timestamp-url but no timestamp-root-cert",
    ] {
        s.not_applicable(
            name,
            "cobra's flag-group words are issue 10 item 2 (part B), tested with the usage errors",
        );
    }
    let fails = |url: &str, root: &str, words: &[&str]| {
        let (h, a) = host();
        h.exec(&[
            "sign",
            "--timestamp-url",
            url,
            "--timestamp-root-cert",
            root,
            &a.reference_with_digest(),
        ])
        .failure()
        .err_key_words(words);
    };
    s.case("with empty tsa server", || {
        fails(
            "",
            &ts_file("globalsignTSARoot.cer"),
            &["Error: timestamping: tsa url cannot be empty"],
        )
    });
    s.not_applicable(
        "with empty tsa root cert",
        "clap refuses an empty --timestamp-root-cert path as a usage error before the command runs (the argument layer is part B's); the check itself, with upstream's words, is in TimestampOptions::load",
    );
    s.not_applicable(
        "with invalid tsa server",
        "upstream posts to http://invalid.com and expects Go's resolver words (`server misbehaving`); no traffic may leave 127.0.0.1 here",
    );
    s.case("with invalid tsa root certificate", || {
        fails(
            &tsa.url,
            &ts_file("invalid.crt"),
            &["Error: x509: malformed certificate"],
        )
    });
    s.case(
        "with timestamping and empty tsa root certificate file",
        || {
            fails(
                &tsa.url,
                &ts_file("Empty.txt"),
                &[
                    "cannot find any certificate from",
                    "Expecting single x509 root certificate in PEM or DER format from the file",
                ],
            )
        },
    );
    s.case(
        "with timestamping and more than one certificates in tsa root certificate file",
        || {
            fails(
                &tsa.url,
                &ts_file("CertChain.pem"),
                &[
                    "found more than one certificates",
                    "Expecting single x509 root certificate in PEM or DER format from the file",
                ],
            )
        },
    );
    s.case(
        "with timestamping and intermediate certificate file",
        || {
            fails(
                &tsa.url,
                &ts_file("intermediate.pem"),
                &["failed to check root certificate with error: crypto/rsa: verification error"],
            )
        },
    );
    s.case("with timestamping and not self-issued certificate file", || {
        fails(
            &tsa.url,
            &ts_file("notSelfIssued.crt"),
            &["is not a root certificate. Expecting single x509 root certificate in PEM or DER format from the file"],
        )
    });
    s.finish();
}
