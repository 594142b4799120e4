//! The verification library (`notation_host::verification`) on OCI layouts:
//! the upstream `e2e` image with many signatures, most by a key the policy
//! does not trust and one by the vectors' trusted `e2e` key. Shows that the
//! thumbprint hint puts the trusted one first, that concurrent verification
//! stops at the first pass yet reports what a one-at-a-time run reports,
//! and the typed errors (no signature, missing scope, deadline).

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notation_host::config::ConfigDir;
use notation_host::registry::oci::{Index, ANNOTATION_THUMBPRINTS};
use notation_host::registry::{ArtifactStore, Descriptor, OciLayout};
use notation_host::verification::{
    ArtifactVerifier, ExaminedKind, VerificationError, VerifyOptions, Warning,
};
use notation_plugin_sdk::envelope::SigningScheme;
use notation_plugin_sdk::envelope::{self, EnvelopeFormat, LocalSigner, Payload, SignRequest};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use sha2::{Digest as _, Sha256};
use support::pki::{self, CertBuilder, Kind};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors");
const SCOPE: &str = "local/e2e";

fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// The `e2e` image's descriptor in a layout.
fn image(layout: &Path) -> Descriptor {
    let index: Index =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let d = &index.manifests[0];
    Descriptor::new(d.media_type.clone(), d.digest.clone(), d.size)
}

fn thumbprint(c: &X509) -> String {
    hex::encode(Sha256::digest(c.to_der().unwrap()))
}

/// Signs `subject` with `key`/`cert` and stores it in the layout with a
/// thumbprint annotation naming `hint`.
fn add_signature(
    layout: &OciLayout,
    subject: &Descriptor,
    key: &PKey<Private>,
    cert: &X509,
    hint: &X509,
) -> String {
    let req = SignRequest {
        payload: Payload::new(subject.clone()),
        signing_scheme: SigningScheme::X509,
        signing_time: time::OffsetDateTime::now_utc() - time::Duration::minutes(1),
        expiry: None,
        signing_agent: Some("test".into()),
        extended_attributes: Vec::new(),
    };
    let signer = LocalSigner::new(key.clone(), vec![cert.clone()]).unwrap();
    let env = envelope::sign(EnvelopeFormat::Jws, &req, &signer).unwrap();
    let annotations = BTreeMap::from([(
        ANNOTATION_THUMBPRINTS.to_string(),
        serde_json::to_string(&[thumbprint(hint)]).unwrap(),
    )]);
    layout
        .push_signature(subject, &env, EnvelopeFormat::Jws.media_type(), annotations)
        .unwrap()
        .manifest
        .digest
}

struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    layout: PathBuf,
    subject: Descriptor,
    /// Signature manifest digests in the order they were stored.
    signatures: Vec<String>,
}

/// `untrusted` signatures by an untrusted key, then one by the trusted
/// key, whose hint names the trusted certificate when `honest_hint`.
fn setup(untrusted: usize, honest_hint: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let layout_dir = dir.path().join("layout");
    copy_dir(&Path::new(VECTORS).join("oci-layouts/e2e"), &layout_dir);
    let subject = image(&layout_dir);
    let layout = OciLayout::open(&layout_dir).unwrap();

    let trusted_key = PKey::private_key_from_pem(
        &fs::read(Path::new(VECTORS).join("localkeys/e2e.key")).unwrap(),
    )
    .unwrap();
    let trusted_cert =
        X509::from_pem(&fs::read(Path::new(VECTORS).join("localkeys/e2e.crt")).unwrap()).unwrap();
    let other_key = pki::ec_key();
    let other_cert = CertBuilder::new(
        pki::name(&[("CN", "untrusted.example")]),
        &other_key,
        Kind::CodeSigning,
    )
    .build();

    let mut signatures = Vec::new();
    for _ in 0..untrusted {
        signatures.push(add_signature(
            &layout,
            &subject,
            &other_key,
            &other_cert,
            &other_cert,
        ));
    }
    let hint = if honest_hint {
        &trusted_cert
    } else {
        &other_cert
    };
    signatures.push(add_signature(
        &layout,
        &subject,
        &trusted_key,
        &trusted_cert,
        hint,
    ));

    let config = dir.path().join("config");
    let store = config.join("truststore/x509/ca/e2e");
    fs::create_dir_all(&store).unwrap();
    fs::write(store.join("e2e.crt"), trusted_cert.to_pem().unwrap()).unwrap();
    let policy = serde_json::json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "layouts",
            "registryScopes": [SCOPE],
            "signatureVerification": { "level": "strict" },
            "trustStores": ["ca:e2e"],
            "trustedIdentities": ["*"],
        }]
    });
    fs::write(
        config.join("trustpolicy.oci.json"),
        serde_json::to_vec(&policy).unwrap(),
    )
    .unwrap();
    Setup {
        _dir: dir,
        config,
        layout: layout_dir,
        subject,
        signatures,
    }
}

fn options() -> VerifyOptions {
    VerifyOptions {
        oci_layout: true,
        scope: Some(SCOPE.to_string()),
        ..VerifyOptions::default()
    }
}

fn reference(s: &Setup) -> String {
    format!("{}@{}", s.layout.display(), s.subject.digest)
}

#[test]
fn thumbprint_hint_puts_the_trusted_signature_first() {
    let s = setup(20, true);
    let v = ArtifactVerifier::from_config_dir(ConfigDir::at(&s.config)).unwrap();
    let report = v.verify(&reference(&s), &options()).unwrap();
    assert!(report.passed());
    // Only the trusted signature (stored last) was examined.
    assert_eq!(
        report.examined,
        vec![(s.signatures[20].clone(), ExaminedKind::Verified)]
    );
    assert_eq!(report.reference, reference(&s));
    let json = report.to_json();
    assert_eq!(json["result"], "passed");
    assert_eq!(json["trustPolicy"], "layouts");
    assert_eq!(json["signatures"][0]["digest"], s.signatures[20].as_str());
}

#[test]
fn concurrent_verification_reports_what_a_sequential_run_reports() {
    // The trusted signature's hint lies, so it stays last: every untrusted
    // one before it is examined (concurrently) and fails authenticity.
    let s = setup(20, false);
    let v = ArtifactVerifier::from_config_dir(ConfigDir::at(&s.config)).unwrap();
    for concurrency in [1, 8] {
        let report = v
            .verify(
                &reference(&s),
                &VerifyOptions {
                    concurrency,
                    ..options()
                },
            )
            .unwrap();
        assert!(report.passed(), "concurrency {concurrency}");
        let examined: Vec<&str> = report.examined.iter().map(|(d, _)| d.as_str()).collect();
        let expected: Vec<&str> = s.signatures.iter().map(String::as_str).collect();
        assert_eq!(examined, expected, "concurrency {concurrency}");
        let failures = report
            .outcome
            .signatures
            .iter()
            .filter(|o| !o.passed())
            .count();
        assert_eq!(failures, 20, "concurrency {concurrency}");
        assert!(report.outcome.signatures[20].passed());
    }
}

#[test]
fn max_signatures_cuts_before_the_trusted_one() {
    let s = setup(5, false);
    let v = ArtifactVerifier::from_config_dir(ConfigDir::at(&s.config)).unwrap();
    let report = v
        .verify(
            &reference(&s),
            &VerifyOptions {
                max_signatures: 3,
                ..options()
            },
        )
        .unwrap();
    assert!(!report.passed());
    assert_eq!(report.examined.len(), 3);
    let (check, _) = report.failure().unwrap();
    assert_eq!(check, "authenticity");
    assert!(report
        .warnings
        .iter()
        .any(|w| w.to_string().contains("has more than 3 signatures")));
}

#[test]
fn typed_errors() {
    let s = setup(0, true);
    let v = ArtifactVerifier::from_config_dir(ConfigDir::at(&s.config)).unwrap();

    let e = v
        .verify(
            &reference(&s),
            &VerifyOptions {
                scope: None,
                ..options()
            },
        )
        .unwrap_err();
    assert!(matches!(e, VerificationError::MissingScope), "{e}");

    let e = v
        .verify(
            &reference(&s),
            &VerifyOptions {
                deadline: Some(Instant::now() - Duration::from_millis(1)),
                ..options()
            },
        )
        .unwrap_err();
    assert!(
        matches!(e, VerificationError::DeadlineExceeded { .. }),
        "{e}"
    );

    let unsigned = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(VECTORS).join("oci-layouts/e2e"), unsigned.path());
    let e = v
        .verify(
            &format!("{}@{}", unsigned.path().display(), s.subject.digest),
            &options(),
        )
        .unwrap_err();
    assert!(matches!(e, VerificationError::NoSignature(_)), "{e}");
    assert!(
        e.to_string().contains("no signature is associated with"),
        "{e}"
    );

    // By tag: the tag warning still reaches the caller, before the error.
    let (sink, received) = std::sync::mpsc::channel();
    let e = v
        .verify(
            &format!("{}:v1", unsigned.path().display()),
            &VerifyOptions {
                warnings: Some(sink),
                ..options()
            },
        )
        .unwrap_err();
    assert!(matches!(e, VerificationError::NoSignature(_)), "{e}");
    let warnings: Vec<Warning> = received.try_iter().collect();
    assert_eq!(
        warnings,
        vec![Warning::Tag {
            command: "verify",
            tag: "v1".to_string()
        }]
    );

    // A digest the layout does not hold: resolving it fails while the
    // (concurrent) listing finds nothing; the resolution error is reported,
    // not "no signature".
    let missing = format!("{}@sha256:{}", s.layout.display(), "0".repeat(64));
    let e = v.verify(&missing, &options()).unwrap_err();
    assert!(matches!(e, VerificationError::Registry(_)), "{e}");

    let e = v
        .verify(
            &reference(&s),
            &VerifyOptions {
                scope: Some("local/elsewhere".to_string()),
                ..options()
            },
        )
        .unwrap_err();
    assert!(matches!(e, VerificationError::Policy(_)), "{e}");
}
