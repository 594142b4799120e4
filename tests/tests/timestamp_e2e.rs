//! `notation sign --timestamp-url URL --timestamp-root-cert FILE` against a
//! real RFC 3161 TSA (`openssl ts -reply` behind a tiny HTTP server), on an
//! OCI layout copy, then `notation verify` with a policy that has a `tsa`
//! trust store.
//!
//! Runs the workspace's `notation` binary (`target/<profile>/notation` or
//! `$NOTATION_BIN`; build it with `cargo build -p notation-host --bin notation`).

#[path = "../../host/tests/tsa_support/mod.rs"]
mod tsa_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use notation_e2e::vectors_dir;
use tsa_support::{Kind, TsaPki, TsaServer};

const DIGEST: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

use notation_e2e::notation_bin;

struct Cli {
    bin: PathBuf,
    home: tempfile::TempDir,
}

impl Cli {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env_remove("NOTATION_CONFIG")
            .env("XDG_CONFIG_HOME", self.home.path().join("xdg"))
            .env("HOME", self.home.path())
            .env_remove("NOTATION_USERNAME")
            .env_remove("NOTATION_PASSWORD")
            .stdin(Stdio::null())
            .output()
            .expect("run notation")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "notation {args:?} failed ({:?})\nstdout:\n{stdout}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "notation {args:?} unexpectedly succeeded"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn write_policy(dir: &Path, trust_stores: &[&str]) -> PathBuf {
    let path = dir.join("trustpolicy.json");
    let doc = serde_json::json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "layouts",
            "registryScopes": ["local/e2e"],
            "signatureVerification": {"level": "strict"},
            "trustStores": trust_stores,
            "trustedIdentities": ["*"]
        }]
    });
    std::fs::write(&path, doc.to_string()).expect("write policy");
    path
}

#[test]
fn sign_with_timestamp_then_verify_with_tsa_store() {
    let pki = TsaPki::new(Kind::Tsa);
    let other = TsaPki::new(Kind::Tsa);
    // No stated accuracy: `generate-test` certificates start being valid
    // the second they are made, and a timestamp range (genTime ± accuracy)
    // must lie entirely within the validity period.
    let tsa = TsaServer::start_with_accuracy(&pki, None);
    let cli = Cli {
        bin: notation_bin(),
        home: tempfile::tempdir().expect("temp dir"),
    };
    let work = tempfile::tempdir().expect("temp dir");
    let root_file = work.path().join("tsa-root.pem");
    std::fs::write(&root_file, pki.root.to_pem().expect("pem")).expect("write root");
    let other_file = work.path().join("other-root.pem");
    std::fs::write(&other_file, other.root.to_pem().expect("pem")).expect("write root");
    let root = root_file.to_str().expect("utf-8");
    let other_root = other_file.to_str().expect("utf-8");

    cli.ok(&["cert", "generate-test", "--default", "acme"]);
    let layout = work.path().join("e2e");
    notation_e2e::copy_dir(&vectors_dir().join("oci-layouts/e2e"), &layout);
    let image = format!("{}@{DIGEST}", layout.display());

    // The two flags go together.
    cli.fails(&["sign", "--oci-layout", "--timestamp-url", &tsa.url, &image]);
    cli.fails(&[
        "sign",
        "--oci-layout",
        "--timestamp-root-cert",
        root,
        &image,
    ]);
    // A TSA root the token does not chain to: signing fails, nothing pushed.
    let index_before = std::fs::read(layout.join("index.json")).expect("index");
    let err = cli.fails(&[
        "sign",
        "--oci-layout",
        "--timestamp-url",
        &tsa.url,
        "--timestamp-root-cert",
        other_root,
        &image,
    ]);
    assert!(err.contains("timestamp"), "{err}");
    assert_eq!(
        std::fs::read(layout.join("index.json")).expect("index"),
        index_before
    );

    // Sign in both formats with a timestamp.
    for format in ["jws", "cose"] {
        let out = cli.ok(&[
            "sign",
            "--oci-layout",
            "--signature-format",
            format,
            "--timestamp-url",
            &tsa.url,
            "--timestamp-root-cert",
            root,
            &image,
        ]);
        assert!(
            out.starts_with(&format!("Successfully signed {image}\n")),
            "{out}"
        );
    }

    // Trust the TSA root and require timestamps (verifyTimestamp: always).
    cli.ok(&["cert", "add", "-t", "tsa", "-s", "ts", root]);
    cli.ok(&["cert", "add", "-t", "tsa", "-s", "other", other_root]);
    let policy = write_policy(work.path(), &["ca:acme", "tsa:ts"]);
    cli.ok(&[
        "policy",
        "import",
        "--force",
        policy.to_str().expect("utf-8"),
    ]);
    let out = cli.ok(&["verify", "--oci-layout", "--scope", "local/e2e", &image]);
    assert_eq!(
        out,
        format!("Successfully verified signature for {image}\n")
    );

    // A tsa store that does not hold this TSA's root: every signature fails.
    let policy = write_policy(work.path(), &["ca:acme", "tsa:other"]);
    cli.ok(&[
        "policy",
        "import",
        "--force",
        policy.to_str().expect("utf-8"),
    ]);
    let err = cli.fails(&["verify", "--oci-layout", "--scope", "local/e2e", &image]);
    assert!(err.contains("timestamp"), "{err}");

    // One more signature, from a TSA stating an accuracy of 1.5 s.
    let accurate = TsaServer::start(&pki);
    cli.ok(&[
        "sign",
        "--oci-layout",
        "--timestamp-url",
        &accurate.url,
        "--timestamp-root-cert",
        root,
        &image,
    ]);
    inspect_shows_timestamps(&cli, &image, &pki);
}

/// Seconds since midnight of an RFC 3339 UTC time (`...Thh:mm:ss[.f]Z`).
fn seconds_of_day(rfc3339: &str) -> f64 {
    let clock = rfc3339
        .split_once('T')
        .and_then(|(_, t)| t.strip_suffix('Z'))
        .unwrap_or_else(|| panic!("not an RFC 3339 UTC time: {rfc3339}"));
    clock
        .split(':')
        .map(|p| p.parse::<f64>().expect("number"))
        .fold(0.0, |acc, p| acc * 60.0 + p)
}

/// `notation inspect` (JSON and tree) shows each signature's timestamp
/// range and the certificates its token carries (the TSA leaf and root).
fn inspect_shows_timestamps(cli: &Cli, image: &str, pki: &TsaPki) {
    let fingerprint = |c: &openssl::x509::X509| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(c.to_der().expect("der")))
    };
    let tsa_certs = serde_json::json!([
        {
            "SHA256Fingerprint": fingerprint(&pki.leaf),
            "issuedTo": "CN=tsa signer,O=Test TSA,C=US",
            "issuedBy": "CN=tsa root,O=Test TSA,C=US",
        },
        {
            "SHA256Fingerprint": fingerprint(&pki.root),
            "issuedTo": "CN=tsa root,O=Test TSA,C=US",
            "issuedBy": "CN=tsa root,O=Test TSA,C=US",
        }
    ]);

    let doc: serde_json::Value =
        serde_json::from_str(&cli.ok(&["inspect", "--oci-layout", "-o", "json", image]))
            .expect("inspect -o json prints JSON");
    let sigs = doc["signatures"].as_array().expect("signatures");
    assert_eq!(sigs.len(), 3, "{doc:#}");
    let mut widths = Vec::new();
    for sig in sigs {
        let ts = &sig["unsignedAttributes"]["timestampSignature"];
        let range = ts["timestamp"]
            .as_str()
            .unwrap_or_else(|| panic!("{sig:#}"));
        let (earliest, latest) = range
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|r| r.split_once(", "))
            .unwrap_or_else(|| panic!("timestamp is not [a, b]: {range}"));
        let (earliest, latest) = (seconds_of_day(earliest), seconds_of_day(latest));
        // genTime (the middle of the range) follows the signing time by
        // less than a minute; times are printed in whole seconds (as Go
        // prints them), so the middle may read up to a second early.
        let signed = sig["signedAttributes"]["signingTime"]
            .as_str()
            .expect("time");
        let width = (latest - earliest).rem_euclid(86_400.0);
        let after = (earliest + width / 2.0 - seconds_of_day(signed)).rem_euclid(86_400.0);
        // As a signed offset in seconds (the clock may wrap at midnight).
        let lead = if after > 43_200.0 {
            after - 86_400.0
        } else {
            after
        };
        assert!((-1.0..60.0).contains(&lead), "{signed} vs {range}");
        widths.push(width);
        // In the token's order (a DER SET OF, so sorted by encoding).
        let mut certs = ts["certificates"].as_array().expect("certificates").clone();
        certs.sort_by_key(|c| c["issuedTo"] != tsa_certs[0]["issuedTo"]);
        assert_eq!(certs.len(), 2, "{ts:#}");
        for (got, want) in certs.iter().zip(tsa_certs.as_array().expect("list")) {
            for key in ["SHA256Fingerprint", "issuedTo", "issuedBy"] {
                assert_eq!(got[key], want[key], "{ts:#}");
            }
            assert!(got["expiry"].as_str().is_some_and(|e| e.ends_with('Z')));
        }
    }
    widths.sort_by(f64::total_cmp);
    assert_eq!(widths, [0.0, 0.0, 3.0]);

    let tree = cli.ok(&["inspect", "--oci-layout", image]);
    assert_eq!(tree.matches("timestamp signature\n").count(), 3, "{tree}");
    assert_eq!(tree.matches("── timestamp: [").count(), 3, "{tree}");
    let leaf_line = format!("SHA256 fingerprint: {}\n", fingerprint(&pki.leaf));
    assert_eq!(tree.matches(&leaf_line).count(), 3, "{tree}");
    assert!(
        tree.contains("issued to: CN=tsa signer,O=Test TSA,C=US\n"),
        "{tree}"
    );
    assert!(!tree.contains("verified"), "{tree}");
}
