//! The verification engine against the upstream vectors: every row of the
//! outcome table in `tests/vectors/README.md`, and the envelopes signed by
//! upstream notation v1.3.2. Layouts are read straight from the filesystem.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use notation_host::trustpolicy::{TrustPolicy, VerificationLevel};
use notation_host::truststore::TrustStore;
use notation_host::verifier::{
    ArtifactFailure, Check, CheckStatus, Failure, Verifier, VerifyInput,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors");
const IMAGE_DIGEST: &str =
    "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
const NOTARY_SIG: &str = "application/vnd.cncf.notary.signature";

fn vectors() -> PathBuf {
    PathBuf::from(VECTORS)
}

/// Reads a blob of a layout and checks its digest.
fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    let bytes = fs::read(layout.join("blobs/sha256").join(hex)).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&bytes)), hex, "blob digest");
    bytes
}

fn json_blob(layout: &Path, digest: &str) -> Value {
    serde_json::from_slice(&blob(layout, digest)).unwrap()
}

/// The signed image (tag `v1`) of a layout: (digest, size, media type).
fn image(layout: &Path) -> (String, u64, String) {
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let m = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "v1")
        .expect("tag v1");
    (
        m["digest"].as_str().unwrap().to_string(),
        m["size"].as_u64().unwrap(),
        m["mediaType"].as_str().unwrap().to_string(),
    )
}

/// Every Notary signature whose subject is `target`, reachable from
/// `index.json` (directly, or through an index such as the referrers tag).
/// Returns (envelope media type, envelope bytes).
fn signatures(layout: &Path, target: &str) -> Vec<(String, Vec<u8>)> {
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let mut queue: Vec<Value> = index["manifests"].as_array().unwrap().clone();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    while let Some(desc) = queue.pop() {
        let digest = desc["digest"].as_str().unwrap().to_string();
        if seen.contains(&digest) {
            continue;
        }
        seen.push(digest.clone());
        let doc = json_blob(layout, &digest);
        match desc["mediaType"].as_str().unwrap() {
            "application/vnd.oci.image.index.v1+json" => {
                queue.extend(doc["manifests"].as_array().unwrap().iter().cloned());
            }
            _ => {
                let is_sig =
                    doc["artifactType"] == NOTARY_SIG || doc["config"]["mediaType"] == NOTARY_SIG;
                if is_sig && doc["subject"]["digest"] == target {
                    let layer = &doc["layers"][0];
                    out.push((
                        layer["mediaType"].as_str().unwrap().to_string(),
                        blob(layout, layer["digest"].as_str().unwrap()),
                    ));
                }
            }
        }
    }
    out
}

struct Env {
    _dir: tempfile::TempDir,
    store: TrustStore,
}

/// A trust store with `ca:e2e` holding the given certificate files from `localkeys/`.
fn trust_store_with(store_type: &str, name: &str, certs: &[&str]) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let d = dir
        .path()
        .join("truststore/x509")
        .join(store_type)
        .join(name);
    fs::create_dir_all(&d).unwrap();
    for c in certs {
        fs::copy(vectors().join("localkeys").join(c), d.join(c)).unwrap();
    }
    Env {
        store: TrustStore::from_config_dir(dir.path()),
        _dir: dir,
    }
}

fn policy(level: &str, scope: &str, extra: impl FnOnce(&mut Value)) -> TrustPolicy {
    let mut statement = if level == "skip" {
        json!({"name": "e2e", "registryScopes": [scope], "signatureVerification": {"level": "skip"}})
    } else {
        json!({
            "name": "e2e",
            "registryScopes": [scope],
            "signatureVerification": {"level": level},
            "trustStores": ["ca:e2e"],
            "trustedIdentities": ["*"]
        })
    };
    extra(&mut statement);
    TrustPolicy::from_json(
        json!({"version": "1.0", "trustPolicies": [statement]})
            .to_string()
            .as_bytes(),
    )
    .unwrap()
}

fn inputs(layout: &str, repository: &str, metadata: &[(&str, &str)]) -> Vec<VerifyInput> {
    let layout = vectors().join("oci-layouts").join(layout);
    let (digest, size, media_type) = image(&layout);
    assert_eq!(digest, IMAGE_DIGEST);
    signatures(&layout, &digest)
        .into_iter()
        .map(|(mt, envelope)| VerifyInput {
            repository: repository.to_string(),
            target_digest: digest.clone(),
            target_size: Some(size),
            target_media_type: Some(media_type.clone()),
            envelope,
            envelope_media_type: mt,
            user_metadata: metadata
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            plugin_config: BTreeMap::new(),
        })
        .collect()
}

#[derive(Debug, PartialEq)]
enum Expect {
    NoSignature,
    Pass,
    PassNothingChecked,
    PassLogged(Check),
    Fail(Check),
}

fn run(layout: &str, cert: &str, level: &str) -> Expect {
    let env = trust_store_with("ca", "e2e", &[cert]);
    // `skip` cannot be global (spec), so the skip policy names the repository.
    let scope = if level == "skip" { "local/e2e" } else { "*" };
    let verifier = Verifier::new(policy(level, scope, |_| {}), env.store.clone(), None);
    let sigs = inputs(layout, "local/e2e", &[]);
    let outcome = match verifier.verify_artifact("local/e2e", layout, &sigs) {
        Err(ArtifactFailure::NoSignature { .. }) => return Expect::NoSignature,
        Err(e) => panic!("{layout} {level}: {e}"),
        Ok(o) => o,
    };
    if level == "skip" {
        assert!(outcome.signatures.is_empty());
        assert!(outcome.passed());
        return Expect::PassNothingChecked;
    }
    assert_eq!(outcome.signatures.len(), 1, "{layout}: one signature");
    let sig = &outcome.signatures[0];
    if outcome.passed() {
        assert!(sig.passed());
        assert!(outcome.most_relevant_failure().is_none());
        match sig.logged_failures().next() {
            Some((c, _)) => Expect::PassLogged(c),
            None => Expect::Pass,
        }
    } else {
        assert!(!sig.passed());
        let (_, check, _) = outcome.most_relevant_failure().expect("failure reported");
        Expect::Fail(check)
    }
}

#[test]
fn outcome_table_of_the_vectors_readme() {
    use Expect::*;
    let rows: [(&str, &str, [Expect; 4]); 5] = [
        (
            "e2e",
            "e2e.crt",
            [NoSignature, NoSignature, NoSignature, PassNothingChecked],
        ),
        (
            "e2e-valid-signature",
            "e2e.crt",
            [Pass, Pass, Pass, PassNothingChecked],
        ),
        (
            "e2e-invalid-signature",
            "e2e.crt",
            [
                Fail(Check::Integrity),
                Fail(Check::Integrity),
                Fail(Check::Integrity),
                PassNothingChecked,
            ],
        ),
        (
            "e2e-expired-signature",
            "e2e.crt",
            [
                Fail(Check::Expiry),
                PassLogged(Check::Expiry),
                PassLogged(Check::Expiry),
                PassNothingChecked,
            ],
        ),
        (
            "e2e-with-expired-cert",
            "expired_e2e.crt",
            [
                Fail(Check::AuthenticTimestamp),
                PassLogged(Check::AuthenticTimestamp),
                PassLogged(Check::AuthenticTimestamp),
                PassNothingChecked,
            ],
        ),
    ];
    for (layout, cert, expected) in rows {
        for (level, want) in ["strict", "permissive", "audit", "skip"]
            .into_iter()
            .zip(expected)
        {
            assert_eq!(run(layout, cert, level), want, "{layout} at {level}");
        }
    }
}

#[test]
fn invalid_signature_reports_signature_failure() {
    let env = trust_store_with("ca", "e2e", &["e2e.crt"]);
    let v = Verifier::new(policy("audit", "*", |_| {}), env.store.clone(), None);
    let out = v
        .verify_signature(&inputs("e2e-invalid-signature", "local/e2e", &[])[0])
        .unwrap();
    // The upstream vector's "signature" is a tar layer holding garbage.
    assert!(
        matches!(
            out.status(Check::Integrity),
            CheckStatus::Failed(Failure::UnsupportedEnvelopeType { .. })
        ),
        "{:?}",
        out.status(Check::Integrity)
    );
    // Nothing after the enforced failure was evaluated.
    assert!(matches!(
        out.status(Check::Authenticity),
        CheckStatus::NotEvaluated
    ));
    assert!(!out.passed());
}

#[test]
fn upstream_1_3_2_signatures_verify() {
    let env = trust_store_with("ca", "e2e", &["e2e.crt"]);
    let bytes = fs::read(vectors().join("trustpolicies/trustpolicy.json")).unwrap();
    let v = Verifier::new(
        TrustPolicy::from_json(&bytes).unwrap(),
        env.store.clone(),
        None,
    );
    for (layout, media_type) in [
        ("upstream-1.3.2-jws", "application/jose+json"),
        ("upstream-1.3.2-cose", "application/cose"),
        ("upstream-1.3.2-meta", "application/jose+json"),
    ] {
        let sigs = inputs(layout, "local/e2e", &[]);
        assert_eq!(sigs.len(), 1, "{layout}");
        assert_eq!(sigs[0].envelope_media_type, media_type);
        let out = v.verify_artifact("local/e2e", layout, &sigs).unwrap();
        assert!(out.passed(), "{layout}: {:?}", out.signatures[0].checks);
        let sig = out.accepted().unwrap();
        assert_eq!(sig.level, VerificationLevel::Strict);
        for check in [
            Check::Integrity,
            Check::Authenticity,
            Check::TrustedIdentity,
            Check::Expiry,
            Check::AuthenticTimestamp,
            Check::Revocation,
            Check::UserMetadata,
        ] {
            assert!(
                matches!(sig.status(check), CheckStatus::Passed),
                "{layout} {check}: {:?}",
                sig.status(check)
            );
        }
        assert_eq!(
            sig.signer.as_deref(),
            Some("C=US, ST=WA, L=Seattle, O=Notary, CN=e2e")
        );
    }
}

#[test]
fn upstream_meta_user_metadata() {
    let env = trust_store_with("ca", "e2e", &["e2e.crt"]);
    let v = Verifier::new(policy("strict", "*", |_| {}), env.store.clone(), None);
    let verify = |md: &[(&str, &str)]| {
        v.verify_artifact(
            "local/e2e",
            "meta",
            &inputs("upstream-1.3.2-meta", "local/e2e", md),
        )
        .unwrap()
    };
    let ok = verify(&[("buildId", "42")]);
    assert!(ok.passed());
    let ann = ok
        .accepted()
        .unwrap()
        .payload
        .as_ref()
        .unwrap()
        .target_artifact
        .annotations
        .clone()
        .unwrap();
    assert_eq!(ann.get("buildId").map(String::as_str), Some("42"));
    assert_eq!(ann.get("team").map(String::as_str), Some("wabbit"));
    assert!(verify(&[("buildId", "42"), ("team", "wabbit")]).passed());

    let bad = verify(&[("buildId", "43")]);
    assert!(!bad.passed());
    let (_, check, failure) = bad.most_relevant_failure().unwrap();
    assert_eq!(check, Check::UserMetadata);
    assert!(
        matches!(failure, Failure::UserMetadataMismatch { key, found, .. } if key == "buildId" && found == "42")
    );
    let missing = verify(&[("nope", "1")]);
    assert!(matches!(
        missing.most_relevant_failure(),
        Some((_, Check::UserMetadata, Failure::UserMetadataMissing { .. }))
    ));

    // User metadata is enforced even at audit.
    let v = Verifier::new(policy("audit", "*", |_| {}), env.store.clone(), None);
    let out = v
        .verify_artifact(
            "local/e2e",
            "meta",
            &inputs("upstream-1.3.2-meta", "local/e2e", &[("buildId", "43")]),
        )
        .unwrap();
    assert!(!out.passed());

    // The same metadata on a signature without annotations fails.
    let v = Verifier::new(policy("strict", "*", |_| {}), env.store.clone(), None);
    let out = v
        .verify_artifact(
            "local/e2e",
            "jws",
            &inputs("upstream-1.3.2-jws", "local/e2e", &[("buildId", "42")]),
        )
        .unwrap();
    assert!(!out.passed());
}

#[test]
fn signature_for_another_artifact_fails_integrity_at_every_level() {
    let env = trust_store_with("ca", "e2e", &["e2e.crt"]);
    for level in ["strict", "permissive", "audit"] {
        let v = Verifier::new(policy(level, "*", |_| {}), env.store.clone(), None);
        let mut input = inputs("e2e-valid-signature", "local/e2e", &[]).remove(0);
        input.target_digest =
            "sha256:0000000000000000000000000000000000000000000000000000000000000000".into();
        let out = v.verify_signature(&input).unwrap();
        assert!(!out.passed(), "{level}");
        assert!(matches!(
            out.status(Check::Integrity),
            CheckStatus::Failed(Failure::TargetDigestMismatch { .. })
        ));

        let mut input = inputs("e2e-valid-signature", "local/e2e", &[]).remove(0);
        input.target_size = Some(1);
        assert!(!v.verify_signature(&input).unwrap().passed());
        let mut input = inputs("e2e-valid-signature", "local/e2e", &[]).remove(0);
        input.envelope_media_type = "application/json".into();
        let out = v.verify_signature(&input).unwrap();
        assert!(matches!(
            out.status(Check::Integrity),
            CheckStatus::Failed(Failure::UnsupportedEnvelopeType { .. })
        ));
        // Wrong format for the bytes.
        let mut input = inputs("e2e-valid-signature", "local/e2e", &[]).remove(0);
        input.envelope_media_type = "application/cose".into();
        assert!(!v.verify_signature(&input).unwrap().passed());
    }
}

#[test]
fn unrelated_trust_store_does_not_verify() {
    let env = trust_store_with("ca", "e2e", &["new_e2e.crt"]);
    let v = Verifier::new(policy("strict", "*", |_| {}), env.store.clone(), None);
    let out = v
        .verify_artifact(
            "local/e2e",
            "r",
            &inputs("e2e-valid-signature", "local/e2e", &[]),
        )
        .unwrap();
    assert!(!out.passed());
    assert!(matches!(
        out.most_relevant_failure(),
        Some((_, Check::Authenticity, Failure::UntrustedChain { .. }))
    ));
    // permissive enforces authenticity too
    let v = Verifier::new(policy("permissive", "*", |_| {}), env.store.clone(), None);
    assert!(!v
        .verify_artifact(
            "local/e2e",
            "r",
            &inputs("e2e-valid-signature", "local/e2e", &[])
        )
        .unwrap()
        .passed());
    // audit only logs it
    let v = Verifier::new(policy("audit", "*", |_| {}), env.store.clone(), None);
    let out = v
        .verify_artifact(
            "local/e2e",
            "r",
            &inputs("e2e-valid-signature", "local/e2e", &[]),
        )
        .unwrap();
    assert!(out.passed());
    assert!(matches!(
        out.signatures[0].status(Check::Authenticity),
        CheckStatus::Logged(Failure::UntrustedChain { .. })
    ));
    // override authenticity=log at strict behaves the same
    let v = Verifier::new(
        policy("strict", "*", |s| {
            s["signatureVerification"]["override"] = json!({"authenticity": "log"})
        }),
        env.store.clone(),
        None,
    );
    assert!(v
        .verify_artifact(
            "local/e2e",
            "r",
            &inputs("e2e-valid-signature", "local/e2e", &[])
        )
        .unwrap()
        .passed());
}

#[test]
fn trust_store_of_the_wrong_type_does_not_verify() {
    // The root sits in a signingAuthority store; a notary.x509 signature needs a ca store.
    let env = trust_store_with("signingAuthority", "e2e", &["e2e.crt"]);
    let v = Verifier::new(
        policy("strict", "*", |s| {
            s["trustStores"] = json!(["signingAuthority:e2e"])
        }),
        env.store.clone(),
        None,
    );
    let out = v
        .verify_artifact(
            "local/e2e",
            "r",
            &inputs("e2e-valid-signature", "local/e2e", &[]),
        )
        .unwrap();
    assert!(!out.passed());
    assert!(matches!(
        out.most_relevant_failure(),
        Some((
            _,
            Check::Authenticity,
            Failure::NoTrustStoreForScheme { .. }
        ))
    ));
    // A missing store referenced by the policy fails, naming the store.
    let v = Verifier::new(
        policy("strict", "*", |s| s["trustStores"] = json!(["ca:absent"])),
        env.store.clone(),
        None,
    );
    let out = v
        .verify_artifact(
            "local/e2e",
            "r",
            &inputs("e2e-valid-signature", "local/e2e", &[]),
        )
        .unwrap();
    let (_, check, f) = out.most_relevant_failure().unwrap();
    assert_eq!(check, Check::Authenticity);
    assert!(f.to_string().contains("absent"), "{f}");
}

#[test]
fn trusted_identities_against_upstream_signer() {
    let env = trust_store_with("ca", "e2e", &["e2e.crt"]);
    let with_ids = |ids: Value| {
        Verifier::new(
            policy("strict", "*", |s| s["trustedIdentities"] = ids),
            env.store.clone(),
            None,
        )
        .verify_artifact(
            "local/e2e",
            "r",
            &inputs("e2e-valid-signature", "local/e2e", &[]),
        )
        .unwrap()
    };
    assert!(with_ids(json!(["x509.subject: C=US, ST=WA, O=Notary"])).passed());
    assert!(with_ids(json!([
        "x509.subject: CN=e2e, O=Notary, L=Seattle, ST=WA, C=US"
    ]))
    .passed());
    assert!(with_ids(json!(["x509.subject: C=US, S=WA, O=Notary, CN=e2e"])).passed());
    assert!(with_ids(json!([
        "x509.subject: C=US, ST=WA, O=Other",
        "x509.subject: C=US, ST=WA, O=Notary, CN=e2e"
    ]))
    .passed());
    let out = with_ids(json!(["x509.subject: C=US, ST=WA, O=Notary, CN=other"]));
    assert!(matches!(
        out.most_relevant_failure(),
        Some((
            _,
            Check::TrustedIdentity,
            Failure::IdentityNotTrusted { .. }
        ))
    ));
    // values compare exactly
    assert!(!with_ids(json!(["x509.subject: C=US, ST=WA, O=notary"])).passed());
}

#[test]
fn passes_if_any_signature_passes_and_ranks_failures() {
    let env = trust_store_with("ca", "e2e", &["e2e.crt"]);
    let v = Verifier::new(policy("strict", "*", |_| {}), env.store.clone(), None);
    let invalid = inputs("e2e-invalid-signature", "local/e2e", &[]).remove(0);
    let expired = inputs("e2e-expired-signature", "local/e2e", &[]).remove(0);
    let valid = inputs("e2e-valid-signature", "local/e2e", &[]).remove(0);

    let out = v
        .verify_artifact("local/e2e", "r", &[invalid.clone(), valid, expired.clone()])
        .unwrap();
    assert!(out.passed());
    assert_eq!(out.signatures.iter().filter(|s| s.passed()).count(), 1);

    // All fail: the later-stage failure (expiry) is the most relevant one.
    let out = v
        .verify_artifact("local/e2e", "r", &[invalid.clone(), expired.clone()])
        .unwrap();
    assert!(!out.passed());
    let (index, check, _) = out.most_relevant_failure().unwrap();
    assert_eq!((index, check), (1, Check::Expiry));
    let out = v
        .verify_artifact("local/e2e", "r", &[expired, invalid])
        .unwrap();
    assert_eq!(
        out.most_relevant_failure().map(|(i, c, _)| (i, c)),
        Some((0, Check::Expiry))
    );
}

#[test]
fn no_applicable_statement_is_an_error() {
    let env = trust_store_with("ca", "e2e", &["e2e.crt"]);
    let v = Verifier::new(
        policy("strict", "registry.example.com/app", |_| {}),
        env.store.clone(),
        None,
    );
    let sigs = inputs("e2e-valid-signature", "local/e2e", &[]);
    assert!(matches!(
        v.verify_artifact("local/e2e", "r", &sigs),
        Err(ArtifactFailure::Policy(_))
    ));
    assert!(v.verify_signature(&sigs[0]).is_err());
}

/// Flips one bit of the JWS signature (or of the signed payload) of the
/// upstream valid signature: integrity fails at every level.
#[test]
fn tampered_upstream_jws_fails_integrity() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let env = trust_store_with("ca", "e2e", &["e2e.crt"]);
    let original = inputs("e2e-valid-signature", "local/e2e", &[]).remove(0);
    let jws: Value = serde_json::from_slice(&original.envelope).unwrap();
    for field in ["signature", "payload", "protected"] {
        let mut bytes = b64.decode(jws[field].as_str().unwrap()).unwrap();
        let i = bytes.len() / 2;
        bytes[i] ^= 0x01;
        let mut tampered = jws.clone();
        tampered[field] = json!(b64.encode(&bytes));
        let mut input = original.clone();
        input.envelope = serde_json::to_vec(&tampered).unwrap();
        for level in ["strict", "permissive", "audit"] {
            let v = Verifier::new(policy(level, "*", |_| {}), env.store.clone(), None);
            let out = v.verify_signature(&input).unwrap();
            assert!(!out.passed(), "{field} {level}");
            assert!(
                matches!(out.status(Check::Integrity), CheckStatus::Failed(_)),
                "{field} {level}"
            );
        }
    }
}
