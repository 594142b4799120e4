//! Port of upstream notation's `test/e2e/suite/command/verify.go`: same
//! commands, exit codes and key words, against our `notation` and a real
//! registry (see `upstream_common`). Upstream's timestamp cases use
//! DigiCert's public TSA; here a local RFC 3161 TSA (`openssl ts -reply`,
//! `host/tests/tsa_support`) stands in for it, so no traffic leaves
//! 127.0.0.1.

#[path = "../../host/tests/tsa_support/mod.rs"]
mod tsa_support;
mod upstream_common;

use tsa_support::{Kind, TsaPki, TsaServer};
use upstream_common::{Home, Lab, Suite, SIGN_SUCCESSFULLY, VERIFY_SUCCESSFULLY};

/// The image digest of upstream's `e2e` layout.
const E2E_DIGEST: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

#[test]
fn verify() {
    let lab = Lab::start();
    let mut s = Suite::new("command/verify.go");
    // Host(BaseOptions()) with a fresh artifact.
    let host = || (Home::base(&lab), lab.artifact("", ""));

    s.case("by digest", || {
        let (h, a) = host();
        h.exec(&["sign", &a.reference_with_digest()])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        h.exec(&["verify", &a.reference_with_digest(), "-v"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("by tag", || {
        let (h, a) = host();
        h.exec(&["sign", &a.reference_with_digest()])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        h.exec(&["verify", &a.reference_with_tag(), "-v"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("with debug log", || {
        let (h, a) = host();
        h.exec(&["sign", &a.reference_with_digest()])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        h.exec(&["verify", &a.reference_with_digest(), "-d"])
            .success()
            .err_key_words(&[
                "Check verification level",
                &format!("Verify signature against artifact {}", a.digest),
                "Validating cert chain",
                "Validating trust identity",
                "Validating expiry",
                "Validating authentic timestamp",
                "Validating revocation",
            ])
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    for (name, flag) in [
        (
            "sign with --force-referrers-tag set",
            "--force-referrers-tag",
        ),
        (
            "sign with --force-referrers-tag set to false",
            "--force-referrers-tag=false",
        ),
    ] {
        s.case(name, || {
            let (h, a) = host();
            h.exec(&["sign", flag, &a.reference_with_digest()])
                .success()
                .key_words(&[SIGN_SUCCESSFULLY]);
            h.exec(&["verify", &a.reference_with_digest(), "-v"])
                .success()
                .key_words(&[VERIFY_SUCCESSFULLY]);
        });
    }
    for (name, flag) in [
        (
            "sign with --allow-referrers-api set",
            "--allow-referrers-api",
        ),
        (
            "sign with --allow-referrers-api set to false",
            "--allow-referrers-api=false",
        ),
    ] {
        s.case(name, || {
            let (mut h, a) = host();
            h.set_env("NOTATION_EXPERIMENTAL", "1");
            h.exec(&["sign", flag, &a.reference_with_digest()])
                .success()
                .key_words(&[SIGN_SUCCESSFULLY]);
            h.exec(&["verify", &a.reference_with_digest(), "-v"])
                .success()
                .key_words(&[VERIFY_SUCCESSFULLY]);
            h.exec(&[
                "verify",
                &a.reference_with_digest(),
                "--allow-referrers-api",
                "-v",
            ])
            .success()
            .err_key_words(&["Warning: flag '--allow-referrers-api' is deprecated and will be removed in future versions."])
            .key_words(&[VERIFY_SUCCESSFULLY]);
        });
    }
    // Upstream's HostWithOCILayout: a copy of the `e2e` layout on disk.
    let layout = |h: &Home| {
        let dir = h.path().join("e2e-layout");
        notation_e2e::copy_dir(
            &upstream_common::upstream_dir().join("registry/oci_layout/e2e"),
            &dir,
        );
        dir.to_str().expect("utf-8").to_string()
    };
    // Upstream v1.3 gates --oci-layout behind NOTATION_EXPERIMENTAL=1 and
    // prints an experimental warning; our CLI does not gate it (a deviation
    // reported with this port), so the warning is not among the key words.
    s.case("by digest with oci layout", || {
        let mut h = Home::base(&lab);
        h.set_env("NOTATION_EXPERIMENTAL", "1");
        let reference = format!("{}@{}", layout(&h), E2E_DIGEST);
        h.exec(&["sign", "--oci-layout", &reference])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        h.exec(&["verify", "--oci-layout", "--scope", "local/e2e", &reference])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("by tag with oci layout and COSE format", || {
        let mut h = Home::base(&lab);
        h.set_env("NOTATION_EXPERIMENTAL", "1");
        let reference = format!("{}:v1", layout(&h));
        h.exec(&[
            "sign",
            "--oci-layout",
            "--signature-format",
            "cose",
            &reference,
        ])
        .success()
        .key_words(&[SIGN_SUCCESSFULLY]);
        h.exec(&["verify", "--oci-layout", "--scope", "local/e2e", &reference])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.not_applicable(
        "by digest with oci layout but without experimental",
        "our CLI does not gate --oci-layout behind NOTATION_EXPERIMENTAL (deviation from upstream v1.3, outside this task; reported)",
    );
    s.not_applicable(
        "by digest with oci layout but missing scope",
        "cobra's flag-group words are issue 10 item 2 (part B), tested with the usage errors",
    );
    for name in ["with TLS by digest", "with --insecure-registry by digest"] {
        s.not_applicable(
            name,
            "HostInGithubAction: needs upstream's TLS registry under a domain name in /etc/hosts; TLS is covered by registry.rs",
        );
    }
    s.case("incorrect NOTATION_CONFIG path", || {
        let (mut h, a) = host();
        h.exec(&["sign", &a.reference_with_digest()])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        h.set_env("NOTATION_CONFIG", "/not/exist");
        h.exec(&["verify", &a.reference_with_digest(), "-v"])
            .failure()
            .err_key_words(&["trust policy is not present"]);
    });
    s.case("correct NOTATION_CONFIG path", || {
        let (mut h, a) = host();
        h.exec(&["sign", &a.reference_with_digest()])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        let config = h.config().to_str().expect("utf-8").to_string();
        h.set_env("NOTATION_CONFIG", &config);
        h.exec(&["verify", &a.reference_with_digest(), "-v"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("NOTATION_CACHE", || {
        let (mut h, a) = host();
        h.exec(&["sign", &a.reference_with_digest()])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        let cache = h.path().join("notation-cache");
        h.set_env("NOTATION_CACHE", cache.to_str().expect("utf-8"));
        h.exec(&["verify", &a.reference_with_digest(), "-v"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });

    // Timestamping, with a local TSA in place of DigiCert's.
    let pki = TsaPki::new(Kind::Tsa);
    let tsa = TsaServer::start_with_accuracy(&pki, None);
    let work = tempfile::tempdir().expect("temp dir");
    let root = work.path().join("tsa-root.crt");
    std::fs::write(&root, pki.root.to_pem().expect("pem")).expect("write root");
    let root_arg = root.to_str().expect("utf-8").to_string();
    let timestamped = |h: &Home| {
        let a = lab.artifact("", "");
        h.exec(&[
            "sign",
            "--timestamp-url",
            &tsa.url,
            "--timestamp-root-cert",
            &root_arg,
            &a.reference_with_digest(),
        ])
        .success()
        .key_words(&[SIGN_SUCCESSFULLY]);
        a
    };
    // Upstream's TimestampOptions(policy): BaseOptions plus the TSA root in
    // `tsa:e2e` and a timestamp policy.
    let timestamp_home = |policy: &str| {
        let h = Home::base(&lab);
        h.add_store("tsa", "e2e", &root);
        h.add_trust_policy(policy);
        h
    };
    s.case("with timestamp verification disabled", || {
        let h = Home::base(&lab);
        let a = timestamped(&h);
        h.exec(&["verify", &a.reference_with_digest(), "-v"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY])
            .err_key_words(&["Timestamp verification disabled"]);
    });
    s.case("with timestamp verification", || {
        let h = timestamp_home("timestamp_trustpolicy.json");
        let a = timestamped(&h);
        h.exec(&["verify", &a.reference_with_digest(), "-d"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY])
            .err_key_words(&["Performing timestamp verification..."]);
    });
    s.case("with verifyTimestamp set as afterCertExpiry", || {
        let h = timestamp_home("timestamp_after_cert_expiry_trustpolicy.json");
        let a = timestamped(&h);
        h.exec(&["verify", &a.reference_with_digest(), "-v"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY])
            .err_key_words(&["Timestamp verification disabled: verifyTimestamp is set to \"afterCertExpiry\" and signing cert chain unexpired"]);
    });
    s.finish();
}
