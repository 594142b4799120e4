//! The local-key plugin: every key spec and file form, encrypted keys,
//! error codes, RAW signatures verified against the leaf, and envelopes
//! parsed and verified. Mostly in-process through the SDK runner; the
//! environment-variable passphrase and the host client path run the real
//! executable.

#[path = "support/pki.rs"]
mod pki;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use notation_localkey::LocalKeyPlugin;
use notation_plugin_sdk::client::ExternalPlugin;
use notation_plugin_sdk::envelope::{self, verify_raw, EnvelopeFormat, PssSaltPolicy};
use notation_plugin_sdk::protocol::{
    DescribeKeyRequest, GenerateEnvelopeRequest, GenerateSignatureRequest,
};
use notation_plugin_sdk::vocab::{HashAlgorithm, KeySpec, SigningAlgorithm};
use openssl::pkey::{PKey, Private};
use openssl::symm::Cipher;
use openssl::x509::X509;
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const PAYLOAD: &[u8] = br#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333","size":16724}}"#;

struct Fixture {
    dir: tempfile::TempDir,
    key: PKey<Private>,
    leaf: X509,
    root: X509,
}

impl Fixture {
    fn new(kind: &str, size: u32) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let key = pki::gen_key(kind, size);
        let ca = pki::make_ca("Test Root");
        let leaf = pki::make_leaf(&ca, &key, "Test Signer");
        fs::write(
            dir.path().join("chain.pem"),
            pki::chain_pem(&[&leaf, &ca.cert]),
        )
        .unwrap();
        fs::write(
            dir.path().join("key.pem"),
            key.private_key_to_pem_pkcs8().unwrap(),
        )
        .unwrap();
        Fixture {
            dir,
            key,
            leaf,
            root: ca.cert,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn key_id(&self) -> String {
        self.path("key.pem").display().to_string()
    }

    fn config(&self) -> Value {
        json!({ "certificate_chain": self.path("chain.pem").display().to_string() })
    }
}

/// Runs one command in-process; returns (exit code, stdout JSON, stderr JSON).
fn run(command: &str, request: &Value) -> (i32, Value, Value) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let args = vec!["notation-localkey".to_owned(), command.to_owned()];
    let stdin = serde_json::to_vec(request).unwrap();
    let code =
        notation_plugin_sdk::runner::run(&LocalKeyPlugin, &args, &stdin[..], &mut out, &mut err);
    let parse = |b: &[u8]| serde_json::from_slice(b).unwrap_or(Value::Null);
    (code, parse(&out), parse(&err))
}

fn describe(key_id: &str, config: &Value) -> (i32, Value, Value) {
    run(
        "describe-key",
        &json!({"contractVersion": "1.0", "keyId": key_id, "pluginConfig": config}),
    )
}

fn expect_error(result: (i32, Value, Value), code: &str, mentions: &str) {
    let (exit, out, err) = result;
    assert_eq!(exit, 1, "expected failure, got {out}");
    assert_eq!(err["errorCode"], code, "{err}");
    let msg = err["errorMessage"].as_str().unwrap();
    assert!(
        msg.contains(mentions),
        "{msg:?} should mention {mentions:?}"
    );
}

fn spec_of(kind: &str, size: u32) -> KeySpec {
    KeySpec::from_wire(&format!("{kind}-{size}"))
}

#[test]
fn every_key_spec_signs_raw_and_verifies_against_the_leaf() {
    for &(kind, size) in pki::SPECS {
        let f = Fixture::new(kind, size);
        let spec = spec_of(kind, size);
        let (code, out, err) = describe(&f.key_id(), &f.config());
        assert_eq!(code, 0, "{kind}-{size}: {err}");
        assert_eq!(out["keySpec"], spec.as_str());
        assert_eq!(out["keyId"], f.key_id().as_str());

        let hash = spec.hash_algorithm().unwrap();
        let (code, out, err) = run(
            "generate-signature",
            &json!({
                "contractVersion": "1.0", "keyId": f.key_id(), "pluginConfig": f.config(),
                "keySpec": spec.as_str(), "hashAlgorithm": hash.as_str(),
                "payload": B64.encode(PAYLOAD),
            }),
        );
        assert_eq!(code, 0, "{kind}-{size}: {err}");
        let alg = SigningAlgorithm::from_wire(out["signingAlgorithm"].as_str().unwrap());
        assert_eq!(Some(&alg), spec.signing_algorithm().as_ref());
        let chain: Vec<Vec<u8>> = out["certificateChain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| B64.decode(c.as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(
            chain,
            vec![f.leaf.to_der().unwrap(), f.root.to_der().unwrap()]
        );
        let sig = B64.decode(out["signature"].as_str().unwrap()).unwrap();
        let leaf_key = f.leaf.public_key().unwrap();
        verify_raw(&alg, &leaf_key, PAYLOAD, &sig, PssSaltPolicy::DigestLength)
            .unwrap_or_else(|e| panic!("{kind}-{size}: signature does not verify: {e}"));
        // And not over a different payload.
        assert!(verify_raw(&alg, &leaf_key, b"other", &sig, PssSaltPolicy::DigestLength).is_err());
    }
}

#[test]
fn pem_and_der_forms_are_all_read() {
    let rsa = Fixture::new("RSA", 2048);
    let ec = Fixture::new("EC", 384);
    let r = rsa.key.rsa().unwrap();
    let e = ec.key.ec_key().unwrap();
    let forms: Vec<(&Fixture, &str, Vec<u8>, &str)> = vec![
        (
            &rsa,
            "pkcs1.pem",
            r.private_key_to_pem().unwrap(),
            "RSA-2048",
        ),
        (
            &rsa,
            "pkcs1.der",
            r.private_key_to_der().unwrap(),
            "RSA-2048",
        ),
        (
            &rsa,
            "pkcs8.der",
            rsa.key.private_key_to_pkcs8().unwrap(),
            "RSA-2048",
        ),
        (&ec, "sec1.pem", e.private_key_to_pem().unwrap(), "EC-384"),
        (&ec, "sec1.der", e.private_key_to_der().unwrap(), "EC-384"),
        (
            &ec,
            "pkcs8.der",
            ec.key.private_key_to_pkcs8().unwrap(),
            "EC-384",
        ),
    ];
    for (f, name, bytes, spec) in forms {
        fs::write(f.path(name), bytes).unwrap();
        let (code, out, err) = describe(&f.path(name).display().to_string(), &f.config());
        assert_eq!(code, 0, "{name}: {err}");
        assert_eq!(out["keySpec"], spec, "{name}");
    }
}

#[test]
fn encrypted_pkcs8_with_passphrase_file() {
    let f = Fixture::new("EC", 256);
    let enc = f
        .key
        .private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), b"s3cret pass")
        .unwrap();
    fs::write(f.path("enc.pem"), &enc).unwrap();
    let der = f
        .key
        .private_key_to_pkcs8_passphrase(Cipher::aes_256_cbc(), b"s3cret pass")
        .unwrap();
    fs::write(f.path("enc.der"), &der).unwrap();
    fs::write(f.path("pass.txt"), "s3cret pass\n").unwrap();
    fs::write(f.path("wrong.txt"), "nope\n").unwrap();

    for key in ["enc.pem", "enc.der"] {
        let key_id = f.path(key).display().to_string();
        // No passphrase source: a validation error that says how to fix it.
        expect_error(
            describe(&key_id, &f.config()),
            "VALIDATION_ERROR",
            "passphrase_file",
        );
        let mut cfg = f.config();
        cfg["passphrase_file"] = json!(f.path("pass.txt").display().to_string());
        let (code, out, err) = describe(&key_id, &cfg);
        assert_eq!(code, 0, "{key}: {err}");
        assert_eq!(out["keySpec"], "EC-256");

        cfg["passphrase_file"] = json!(f.path("wrong.txt").display().to_string());
        expect_error(describe(&key_id, &cfg), "ACCESS_DENIED", "decrypt");
    }
}

#[test]
fn passphrase_itself_in_config_is_refused() {
    let f = Fixture::new("EC", 256);
    let mut cfg = f.config();
    cfg["passphrase"] = json!("hunter2");
    let (code, _, err) = describe(&f.key_id(), &cfg);
    assert_eq!(code, 1);
    assert_eq!(err["errorCode"], "VALIDATION_ERROR");
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn configuration_and_request_errors() {
    let f = Fixture::new("RSA", 2048);
    // Missing chain config.
    expect_error(
        describe(&f.key_id(), &json!({})),
        "VALIDATION_ERROR",
        "certificate_chain",
    );
    // Missing key file.
    expect_error(
        describe(&f.path("nope.pem").display().to_string(), &f.config()),
        "VALIDATION_ERROR",
        "nope.pem",
    );
    // Not a key.
    fs::write(
        f.path("junk.pem"),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    expect_error(
        describe(&f.path("junk.pem").display().to_string(), &f.config()),
        "VALIDATION_ERROR",
        "not a private key",
    );
    // Chain for a different key.
    let other = Fixture::new("RSA", 2048);
    expect_error(
        describe(&f.key_id(), &other.config()),
        "VALIDATION_ERROR",
        "is not for the key",
    );
    // Unsupported key size.
    let small = pki::gen_key("RSA", 1024);
    let ca = pki::make_ca("Root");
    let leaf = pki::make_leaf(&ca, &small, "small");
    fs::write(
        f.path("small.pem"),
        small.private_key_to_pem_pkcs8().unwrap(),
    )
    .unwrap();
    fs::write(
        f.path("small-chain.pem"),
        pki::chain_pem(&[&leaf, &ca.cert]),
    )
    .unwrap();
    expect_error(
        describe(
            &f.path("small.pem").display().to_string(),
            &json!({"certificate_chain": f.path("small-chain.pem").display().to_string()}),
        ),
        "VALIDATION_ERROR",
        "not a supported key",
    );
    // Key spec / hash not matching the key.
    let req = |spec: &str, hash: &str| {
        json!({
            "contractVersion": "1.0", "keyId": f.key_id(), "pluginConfig": f.config(),
            "keySpec": spec, "hashAlgorithm": hash, "payload": B64.encode(b"x"),
        })
    };
    expect_error(
        run("generate-signature", &req("EC-256", "SHA-256")),
        "VALIDATION_ERROR",
        "EC-256",
    );
    expect_error(
        run("generate-signature", &req("RSA-2048", "SHA-512")),
        "VALIDATION_ERROR",
        "SHA-512",
    );
}

#[test]
fn generate_envelope_jws_and_cose_verify() {
    for &(kind, size) in &[("RSA", 3072), ("EC", 384)] {
        let f = Fixture::new(kind, size);
        for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
            let (code, out, err) = run(
                "generate-envelope",
                &json!({
                    "contractVersion": "1.0", "keyId": f.key_id(), "pluginConfig": f.config(),
                    "payload": B64.encode(PAYLOAD),
                    "payloadType": "application/vnd.cncf.notary.payload.v1+json",
                    "signatureEnvelopeType": format.media_type(),
                    "expiryDurationInSeconds": 3600,
                }),
            );
            assert_eq!(code, 0, "{kind}-{size} {format}: {err}");
            assert_eq!(out["signatureEnvelopeType"], format.media_type());
            let bytes = B64
                .decode(out["signatureEnvelope"].as_str().unwrap())
                .unwrap();
            let env = envelope::parse(format, &bytes).unwrap();
            env.verify_integrity().unwrap();
            assert_eq!(
                env.payload().unwrap(),
                envelope::Payload::from_json(PAYLOAD).unwrap()
            );
            assert_eq!(env.certificate_chain, vec![f.leaf.clone(), f.root.clone()]);
            assert!(env.signed_attributes.expiry.is_some());
        }
    }
}

#[test]
fn generate_envelope_refuses_unknown_types() {
    let f = Fixture::new("EC", 256);
    let req = |payload_type: &str, env_type: &str| {
        json!({
            "contractVersion": "1.0", "keyId": f.key_id(), "pluginConfig": f.config(),
            "payload": B64.encode(PAYLOAD), "payloadType": payload_type,
            "signatureEnvelopeType": env_type,
        })
    };
    expect_error(
        run(
            "generate-envelope",
            &req(
                "application/vnd.cncf.notary.payload.v1+json",
                "application/x-nope",
            ),
        ),
        "VALIDATION_ERROR",
        "application/x-nope",
    );
    expect_error(
        run(
            "generate-envelope",
            &req("text/plain", "application/jose+json"),
        ),
        "VALIDATION_ERROR",
        "text/plain",
    );
}

fn install_binary(plugin_dir: &Path) {
    let dir = plugin_dir.join("localkey");
    fs::create_dir_all(&dir).unwrap();
    fs::copy(
        env!("CARGO_BIN_EXE_notation-localkey"),
        dir.join("notation-localkey"),
    )
    .unwrap();
}

#[test]
fn real_process_through_the_host_client() {
    let f = Fixture::new("RSA", 2048);
    let plugins = f.path("plugins");
    install_binary(&plugins);
    let plugin = ExternalPlugin::open(&plugins, "localkey").unwrap();
    assert_eq!(plugin.metadata(None).unwrap().name, "localkey");
    let cfg: std::collections::BTreeMap<String, String> =
        serde_json::from_value(f.config()).unwrap();
    let described = plugin
        .describe_key(DescribeKeyRequest {
            contract_version: "1.0".into(),
            key_id: f.key_id(),
            plugin_config: Some(cfg.clone()),
        })
        .unwrap();
    assert_eq!(described.key_spec, KeySpec::Rsa2048);
    let sig = plugin
        .generate_signature(GenerateSignatureRequest {
            contract_version: "1.0".into(),
            key_id: f.key_id(),
            plugin_config: Some(cfg.clone()),
            key_spec: KeySpec::Rsa2048,
            hash_algorithm: HashAlgorithm::Sha256,
            payload: PAYLOAD.to_vec(),
        })
        .unwrap();
    verify_raw(
        &sig.signing_algorithm,
        &f.leaf.public_key().unwrap(),
        PAYLOAD,
        &sig.signature,
        PssSaltPolicy::DigestLength,
    )
    .unwrap();
    let env = plugin
        .generate_envelope(GenerateEnvelopeRequest {
            contract_version: "1.0".into(),
            key_id: f.key_id(),
            plugin_config: Some(cfg),
            expiry_duration_in_seconds: None,
            payload: PAYLOAD.to_vec(),
            payload_type: "application/vnd.cncf.notary.payload.v1+json".into(),
            signature_envelope_type: "application/cose".into(),
        })
        .unwrap();
    envelope::parse(EnvelopeFormat::Cose, &env.signature_envelope)
        .unwrap()
        .verify_integrity()
        .unwrap();
}

#[test]
fn passphrase_from_environment_variable_in_a_real_process() {
    let f = Fixture::new("RSA", 2048);
    let enc = f
        .key
        .private_key_to_pem_pkcs8_passphrase(Cipher::aes_128_cbc(), b"from-env")
        .unwrap();
    fs::write(f.path("enc.pem"), enc).unwrap();
    let mut cfg = f.config();
    cfg["passphrase_env"] = json!("LOCALKEY_TEST_PASSPHRASE");
    let req = json!({"contractVersion": "1.0", "keyId": f.path("enc.pem"), "pluginConfig": cfg});
    let run_with = |value: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_notation-localkey"));
        cmd.arg("describe-key")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("LOCALKEY_TEST_PASSPHRASE");
        if let Some(v) = value {
            cmd.env("LOCALKEY_TEST_PASSPHRASE", v);
        }
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(req.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let stderr: Value = serde_json::from_slice(&out.stderr).unwrap_or(Value::Null);
        (out.status.code().unwrap(), stdout, stderr)
    };
    let (code, out, err) = run_with(Some("from-env"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["keySpec"], "RSA-2048");
    expect_error(run_with(None), "ACCESS_DENIED", "LOCALKEY_TEST_PASSPHRASE");
    expect_error(run_with(Some("wrong")), "ACCESS_DENIED", "decrypt");
}

#[test]
fn passes_the_conformance_kit() {
    use notation_plugin_sdk::conformance::{run_conformance, ConformanceOptions, Outcome};
    for &(kind, size) in &[("RSA", 2048), ("EC", 521)] {
        let f = Fixture::new(kind, size);
        let options = ConformanceOptions {
            key_id: Some(f.key_id()),
            plugin_config: Some(serde_json::from_value(f.config()).unwrap()),
            ..ConformanceOptions::default()
        };
        let report = run_conformance(Path::new(env!("CARGO_BIN_EXE_notation-localkey")), &options);
        // Every check ran and passed: localkey claims RAW and ENVELOPE.
        assert!(
            report.checks.iter().all(|c| c.outcome == Outcome::Pass),
            "{report}"
        );
        assert!(report.check("generate-envelope.cose").is_some());
    }
}

#[test]
fn mode_restricts_the_claimed_capabilities() {
    let f = Fixture::new("EC", 256);
    let caps = |mode: &str| {
        let mut cfg = f.config();
        cfg["mode"] = json!(mode);
        let (code, out, err) = run("get-plugin-metadata", &json!({ "pluginConfig": cfg }));
        assert_eq!(code, 0, "{err}");
        out["capabilities"].clone()
    };
    assert_eq!(caps("raw"), json!(["SIGNATURE_GENERATOR.RAW"]));
    assert_eq!(caps("envelope"), json!(["SIGNATURE_GENERATOR.ENVELOPE"]));
    assert_eq!(
        caps("both"),
        json!(["SIGNATURE_GENERATOR.RAW", "SIGNATURE_GENERATOR.ENVELOPE"])
    );
    assert_eq!(
        caps("envelope-for-blob"),
        json!(["SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB"])
    );
    // With mode=envelope-for-blob, describe-key and generate-envelope work.
    let mut cfg = f.config();
    cfg["mode"] = json!("envelope-for-blob");
    let (code, out, err) = run(
        "describe-key",
        &json!({ "contractVersion": "1.0", "keyId": f.key_id(), "pluginConfig": cfg }),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["keySpec"], "EC-256");
    let (code, out, err) = run(
        "generate-envelope",
        &json!({
            "contractVersion": "1.0", "keyId": f.key_id(), "pluginConfig": cfg,
            "payload": B64.encode(PAYLOAD),
            "payloadType": "application/vnd.cncf.notary.payload.v1+json",
            "signatureEnvelopeType": "application/cose",
        }),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["signatureEnvelopeType"], "application/cose");
    assert!(out["signatureEnvelope"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    // With mode=raw the runner refuses generate-envelope.
    let mut cfg = f.config();
    cfg["mode"] = json!("raw");
    let (code, _, err) = run(
        "generate-envelope",
        &json!({
            "contractVersion": "1.0", "keyId": f.key_id(), "pluginConfig": cfg,
            "payload": B64.encode(PAYLOAD),
            "payloadType": "application/vnd.cncf.notary.payload.v1+json",
            "signatureEnvelopeType": "application/jose+json",
        }),
    );
    assert_eq!(code, 1);
    assert!(err["errorCode"].is_string(), "{err}");
    let mut cfg = f.config();
    cfg["mode"] = json!("sideways");
    let (code, _, err) = run("get-plugin-metadata", &json!({ "pluginConfig": cfg }));
    assert_eq!(code, 1);
    assert_eq!(err["errorCode"], "VALIDATION_ERROR");
}
