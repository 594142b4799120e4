//! The conformance kit against `notation-broken`: the defect-free build
//! passes every check, and each deliberate defect fails exactly the rows
//! that check for it. Both the library function and the
//! `notation-plugin-conformance` binary's table are exercised. (The
//! reference plugins pass the kit in their own crates' tests.)

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use notation_plugin_sdk::conformance::{run_conformance, ConformanceOptions, Outcome, Report};

/// Copies the broken plugin under `notation-broken[-DEFECT]`.
fn plugin(dir: &tempfile::TempDir, defect: Option<&str>) -> PathBuf {
    let name = match defect {
        Some(d) => format!("notation-broken-{d}"),
        None => "notation-broken".to_owned(),
    };
    let path = dir.path().join(name);
    fs::copy(env!("CARGO_BIN_EXE_notation-broken"), &path).unwrap();
    path
}

fn check(defect: Option<&str>, timeout: Duration) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let path = plugin(&dir, defect);
    let options = ConformanceOptions {
        key_id: Some("any-key".into()),
        timeout,
        ..ConformanceOptions::default()
    };
    run_conformance(&path, &options)
}

fn failed(report: &Report) -> BTreeSet<&'static str> {
    report.failures().map(|c| c.id).collect()
}

#[test]
fn the_defect_free_build_passes_every_check() {
    let report = check(None, Duration::from_secs(30));
    assert!(
        report.checks.iter().all(|c| c.outcome == Outcome::Pass),
        "{report}"
    );
    assert_eq!(report.checks.len(), 13, "{report}");
}

#[test]
fn each_defect_fails_its_own_rows() {
    let cases: &[(&str, &[&str])] = &[
        ("bad-metadata", &["metadata.valid"]),
        ("name-mismatch", &["metadata.name"]),
        ("bad-version", &["metadata.version"]),
        ("bad-describe", &["describe-key"]),
        ("bad-signature", &["generate-signature"]),
        ("bad-chain", &["generate-signature.certificate-chain"]),
        (
            "bad-envelope",
            &["generate-envelope.jws", "generate-envelope.cose"],
        ),
        ("accepts-missing-key-id", &["error.missing-key-id"]),
        ("ignores-contract-version", &["error.contract-version"]),
        ("garbage-crash", &["error.garbage-stdin"]),
        ("noisy-stdout", &["stdout.clean"]),
    ];
    for (defect, expected) in cases {
        let report = check(Some(defect), Duration::from_secs(30));
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(failed(&report), expected, "defect {defect}:\n{report}");
        for c in report.failures() {
            assert!(
                !c.outcome.detail().is_empty(),
                "{defect}: row {} fails without saying why",
                c.id
            );
        }
        assert!(!report.passed());
    }
}

#[test]
fn a_hanging_plugin_is_timed_out_and_reported() {
    let report = check(Some("hang"), Duration::from_secs(2));
    assert_eq!(
        failed(&report),
        BTreeSet::from(["generate-signature", "no-hang"]),
        "{report}"
    );
    let row = report.check("no-hang").unwrap();
    assert!(
        row.outcome.detail().contains("generate-signature"),
        "{report}"
    );
}

#[test]
fn failure_details_say_what_is_wrong() {
    let detail = |defect: &str, id: &str| {
        let report = check(Some(defect), Duration::from_secs(30));
        report.check(id).unwrap().outcome.detail().to_owned()
    };
    assert!(detail("name-mismatch", "metadata.name").contains("com.example.someone-else"));
    assert!(detail("bad-version", "metadata.version").contains("latest"));
    assert!(detail("bad-describe", "describe-key").contains("not-the-requested-key"));
    assert!(detail("bad-signature", "generate-signature").contains("does not verify"));
    assert!(detail("noisy-stdout", "stdout.clean").contains("DEBUG"));
    assert!(detail("ignores-contract-version", "error.contract-version").contains("succeeded"));
}

#[test]
fn the_binary_prints_a_table_and_sets_the_exit_code() {
    let bin = std::env::var_os("NOTATION_CONFORMANCE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // target/debug/deps/conformance-HASH -> target/debug/
            let exe = std::env::current_exe().unwrap();
            exe.parent()
                .unwrap()
                .parent()
                .unwrap()
                .join("notation-plugin-conformance")
        });
    assert!(
        bin.exists(),
        "{} not found: build it with `cargo build -p notation-plugin-sdk --bins` \
         (or set NOTATION_CONFORMANCE_BIN)",
        bin.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let good = plugin(&dir, None);
    let out = std::process::Command::new(&bin)
        .arg(&good)
        .args(["--key-id", "k", "--plugin-config", "a=b", "--timeout", "30"])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{table}");
    assert!(table.contains("generate-envelope.cose"), "{table}");
    assert!(
        table.contains("13 checks: 13 passed, 0 failed, 0 skipped"),
        "{table}"
    );

    let bad = plugin(&dir, Some("bad-signature"));
    let out = std::process::Command::new(&bin)
        .arg(&bad)
        .args(["--key-id", "k"])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{table}");
    let row = table
        .lines()
        .find(|l| l.starts_with("generate-signature "))
        .unwrap();
    assert!(row.contains("FAIL"), "{table}");

    let out = std::process::Command::new(&bin).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
}

/// The SDK's example plugin, installed under its metadata name, passes the
/// kit with a self-signed code-signing certificate.
#[test]
fn the_sdk_example_passes() {
    use openssl::asn1::Asn1Time;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
    use openssl::x509::{X509Builder, X509Name};

    let dir = tempfile::tempdir().unwrap();
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let ec = EcKey::generate(&group).unwrap();
    let key = PKey::from_ec_key(ec.clone()).unwrap();
    let mut name = X509Name::builder().unwrap();
    name.append_entry_by_text("CN", "hello signer").unwrap();
    let name = name.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    b.append_extension(BasicConstraints::new().critical().build().unwrap())
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
    b.sign(&key, MessageDigest::sha256()).unwrap();
    let cert = b.build();
    let pem_path = dir.path().join("hello.pem");
    let mut pem = ec.private_key_to_pem().unwrap();
    pem.extend(cert.to_pem().unwrap());
    fs::write(&pem_path, pem).unwrap();

    let exe = dir.path().join("notation-com.example.hello");
    fs::copy(env!("CARGO_BIN_EXE_notation-hello"), &exe).unwrap();
    let options = ConformanceOptions {
        key_id: Some("hello-key".into()),
        plugin_config: Some([("pem".to_owned(), pem_path.display().to_string())].into()),
        ..ConformanceOptions::default()
    };
    let report = run_conformance(&exe, &options);
    assert!(report.passed(), "{report}");
    assert_eq!(
        report.check("generate-signature").unwrap().outcome,
        Outcome::Pass,
        "{report}"
    );
}
