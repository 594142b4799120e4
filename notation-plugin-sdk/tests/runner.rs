//! The plugin runner over in-memory streams: every command and error path.

use std::collections::HashMap;

use notation_plugin_sdk::protocol::*;
use notation_plugin_sdk::runner::{run, EXIT_ERROR, EXIT_OK, EXIT_USAGE, MAX_REQUEST_BYTES};
use notation_plugin_sdk::vocab::{Capability, ErrorCode, KeySpec, SigningAlgorithm};
use notation_plugin_sdk::Plugin;
use serde_json::{json, Value};

/// Implements every command; capabilities chosen per test.
struct Full(Vec<Capability>);

impl Plugin for Full {
    fn get_plugin_metadata(&self, _: GetMetadataRequest) -> PluginResult<GetMetadataResponse> {
        Ok(GetMetadataResponse::new(
            "com.example.full",
            "test",
            "1.0.0",
            "https://example.com",
            self.0.clone(),
        ))
    }
    fn describe_key(&self, req: DescribeKeyRequest) -> PluginResult<DescribeKeyResponse> {
        if req.key_id == "panic" {
            panic!("plugin bug");
        }
        Ok(DescribeKeyResponse {
            key_id: req.key_id,
            key_spec: KeySpec::Rsa3072,
        })
    }
    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> PluginResult<GenerateSignatureResponse> {
        Ok(GenerateSignatureResponse {
            key_id: req.key_id,
            signature: req.payload,
            signing_algorithm: SigningAlgorithm::RsassaPssSha384,
            certificate_chain: vec![vec![1, 2, 3]],
        })
    }
    fn generate_envelope(
        &self,
        req: GenerateEnvelopeRequest,
    ) -> PluginResult<GenerateEnvelopeResponse> {
        Ok(GenerateEnvelopeResponse {
            signature_envelope: req.payload,
            signature_envelope_type: req.signature_envelope_type,
            annotations: None,
        })
    }
    fn verify_signature(
        &self,
        req: VerifySignatureRequest,
    ) -> PluginResult<VerifySignatureResponse> {
        let verification_results: HashMap<_, _> = req
            .trust_policy
            .signature_verification
            .into_iter()
            .map(|c| {
                (
                    c,
                    VerificationResult {
                        success: true,
                        reason: None,
                    },
                )
            })
            .collect();
        Ok(VerifySignatureResponse {
            verification_results,
            processed_attributes: vec![],
        })
    }
}

/// Implements only metadata, and declares every capability.
struct MetadataOnly;

impl Plugin for MetadataOnly {
    fn get_plugin_metadata(&self, _: GetMetadataRequest) -> PluginResult<GetMetadataResponse> {
        Ok(GetMetadataResponse::new(
            "com.example.lazy",
            "test",
            "1.0.0",
            "https://example.com",
            Capability::KNOWN.to_vec(),
        ))
    }
}

/// Returns metadata that breaks the contract.
struct Broken;

impl Plugin for Broken {
    fn get_plugin_metadata(&self, _: GetMetadataRequest) -> PluginResult<GetMetadataResponse> {
        Ok(GetMetadataResponse::new("", "test", "1", "u", vec![]))
    }
}

fn all() -> Full {
    Full(Capability::KNOWN.to_vec())
}

struct Outcome {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Outcome {
    fn json(&self) -> Value {
        assert!(
            self.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&self.stderr)
        );
        serde_json::from_slice(&self.stdout).expect("stdout is one JSON document")
    }
    fn error(&self) -> PluginError {
        assert_eq!(self.code, EXIT_ERROR);
        assert!(self.stdout.is_empty());
        from_slice(&self.stderr).expect("stderr is an error object")
    }
}

fn call(plugin: &dyn Plugin, args: &[&str], input: &[u8]) -> Outcome {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = run(plugin, &args, input, &mut stdout, &mut stderr);
    Outcome {
        code,
        stdout,
        stderr,
    }
}

fn cmd(plugin: &dyn Plugin, command: &str, request: Value) -> Outcome {
    call(
        plugin,
        &["notation-x", command],
        &serde_json::to_vec(&request).unwrap(),
    )
}

fn sig_request() -> Value {
    json!({
        "contractVersion": "1.0",
        "keyId": "k1",
        "keySpec": "RSA-3072",
        "hashAlgorithm": "SHA-384",
        "payload": "aGVsbG8=",
    })
}

fn env_request() -> Value {
    json!({
        "contractVersion": "1.0",
        "keyId": "k1",
        "payload": "eyJ0YXJnZXRBcnRpZmFjdCI6e319",
        "payloadType": "application/vnd.cncf.notary.payload.v1+json",
        "signatureEnvelopeType": "application/jose+json",
    })
}

fn verify_request() -> Value {
    json!({
        "contractVersion": "1.0",
        "signature": {
            "criticalAttributes": {
                "contentType": "application/vnd.cncf.notary.payload.v1+json",
                "signingScheme": "notary.x509",
            },
            "unprocessedAttributes": null,
            "certificateChain": ["AQID"],
        },
        "trustPolicy": {
            "trustedIdentities": [],
            "signatureVerification": ["SIGNATURE_VERIFIER.REVOCATION_CHECK"],
        },
    })
}

#[test]
fn every_command_succeeds() {
    let p = all();
    let out = call(&p, &["notation-x", "get-plugin-metadata"], b"");
    assert_eq!(out.code, EXIT_OK);
    assert_eq!(out.json()["name"], "com.example.full");

    let out = cmd(
        &p,
        "describe-key",
        json!({"contractVersion": "1.0", "keyId": "k1", "extra": {"ignored": true}}),
    );
    assert_eq!(out.code, EXIT_OK);
    assert_eq!(out.json(), json!({"keyId": "k1", "keySpec": "RSA-3072"}));

    let out = cmd(&p, "generate-signature", sig_request());
    assert_eq!(out.code, EXIT_OK);
    assert_eq!(
        out.json(),
        json!({"keyId": "k1", "signature": "aGVsbG8=", "signingAlgorithm": "RSASSA-PSS-SHA-384",
               "certificateChain": ["AQID"]})
    );

    let out = cmd(&p, "generate-envelope", env_request());
    assert_eq!(out.code, EXIT_OK);
    assert_eq!(
        out.json(),
        json!({"signatureEnvelope": "eyJ0YXJnZXRBcnRpZmFjdCI6e319",
               "signatureEnvelopeType": "application/jose+json"})
    );

    let out = cmd(&p, "verify-signature", verify_request());
    assert_eq!(out.code, EXIT_OK);
    assert_eq!(
        out.json(),
        json!({"verificationResults": {"SIGNATURE_VERIFIER.REVOCATION_CHECK": {"success": true}},
               "processedAttributes": []})
    );
}

#[test]
fn the_response_is_one_line_of_json() {
    let out = call(&all(), &["p", "get-plugin-metadata"], b"{}");
    assert!(out.stdout.ends_with(b"\n"));
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 1);
}

#[test]
fn usage_errors() {
    let p = all();
    for args in [
        &["p"][..],
        &["p", "--help"],
        &["p", "-h"],
        &["p", "sign"],
        &["p", "describe-key", "extra"],
    ] {
        let out = call(&p, args, b"{}");
        assert_eq!(out.code, EXIT_USAGE, "{args:?}");
        assert!(out.stdout.is_empty());
        let text = String::from_utf8(out.stderr).unwrap();
        assert!(text.starts_with("usage: p <command>"), "{text}");
        assert!(text.contains("verify-signature"));
    }
    let out = call(&p, &[], b"");
    assert_eq!(out.code, EXIT_USAGE);
}

#[test]
fn malformed_json_is_a_validation_error() {
    for input in [&b"{"[..], b"not json", b"\xff\xfe", b"{}{}", b""] {
        let out = call(&all(), &["p", "describe-key"], input);
        let err = out.error();
        assert_eq!(err.code, ErrorCode::ValidationError, "{input:?}");
    }
    // A JSON value that is not an object.
    let out = cmd(&all(), "describe-key", json!(["contractVersion", "1.0"]));
    assert_eq!(out.error().code, ErrorCode::ValidationError);
    let out = call(&all(), &["p", "get-plugin-metadata"], b"[1]");
    assert_eq!(out.error().code, ErrorCode::ValidationError);
}

#[test]
fn missing_and_empty_fields_are_named() {
    let p = all();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("describe-key", json!({"contractVersion": "1.0"}), "keyId"),
        (
            "describe-key",
            json!({"contractVersion": "1.0", "keyId": ""}),
            "keyId",
        ),
        (
            "describe-key",
            json!({"contractVersion": "1.0", "keyId": null}),
            "keyId",
        ),
        ("describe-key", json!({"keyId": "k"}), "contractVersion"),
        (
            "describe-key",
            json!({"contractVersion": "", "keyId": "k"}),
            "contractVersion",
        ),
        (
            "generate-signature",
            remove(sig_request(), "payload"),
            "payload",
        ),
        (
            "generate-signature",
            remove(sig_request(), "keySpec"),
            "keySpec",
        ),
        (
            "generate-signature",
            remove(sig_request(), "hashAlgorithm"),
            "hashAlgorithm",
        ),
        (
            "generate-envelope",
            remove(env_request(), "payloadType"),
            "payloadType",
        ),
        (
            "generate-envelope",
            remove(env_request(), "signatureEnvelopeType"),
            "signatureEnvelopeType",
        ),
        (
            "verify-signature",
            remove(verify_request(), "trustPolicy"),
            "trustPolicy",
        ),
        (
            "verify-signature",
            {
                let mut v = verify_request();
                v["signature"]["criticalAttributes"]
                    .as_object_mut()
                    .unwrap()
                    .remove("signingScheme");
                v
            },
            "signature.criticalAttributes.signingScheme",
        ),
        (
            "verify-signature",
            {
                let mut v = verify_request();
                v["trustPolicy"]["signatureVerification"] = json!([]);
                v
            },
            "trustPolicy.signatureVerification",
        ),
    ];
    for (command, request, field) in cases {
        let err = cmd(&p, command, request.clone()).error();
        assert_eq!(err.code, ErrorCode::ValidationError, "{command} {request}");
        assert_eq!(err.field(), Some(field), "{command} {request}: {err}");
        assert!(err.message.contains(field), "{err}");
    }
}

fn remove(mut v: Value, key: &str) -> Value {
    v.as_object_mut().unwrap().remove(key);
    v
}

#[test]
fn wrong_types_are_named() {
    let p = all();
    let mut bad_payload = sig_request();
    bad_payload["payload"] = json!("not base64!");
    let mut number_key = sig_request();
    number_key["keyId"] = json!(42);
    let mut bad_config = sig_request();
    bad_config["pluginConfig"] = json!({"a": 1});
    let mut bad_expiry = env_request();
    bad_expiry["expiryDurationInSeconds"] = json!("soon");
    let mut bad_time = verify_request();
    bad_time["signature"]["criticalAttributes"]["expiry"] = json!("yesterday");
    let mut bad_chain = verify_request();
    bad_chain["signature"]["certificateChain"] = json!(["AQID", "%%%"]);
    let cases = [
        ("generate-signature", bad_payload, "payload"),
        ("generate-signature", number_key, "keyId"),
        ("generate-signature", bad_config, "pluginConfig.a"),
        ("generate-envelope", bad_expiry, "expiryDurationInSeconds"),
        (
            "verify-signature",
            bad_time,
            "signature.criticalAttributes.expiry",
        ),
        ("verify-signature", bad_chain, "signature.certificateChain"),
    ];
    for (command, request, field) in cases {
        let err = cmd(&p, command, request.clone()).error();
        assert_eq!(err.code, ErrorCode::ValidationError, "{request}");
        assert_eq!(err.field(), Some(field), "{request}: {err}");
    }
}

#[test]
fn unknown_enum_values_reach_the_plugin() {
    // A newer host may send a key spec this SDK does not know; it parses,
    // and the plugin decides.
    let mut req = sig_request();
    req["keySpec"] = json!("ML-DSA-65");
    let out = cmd(&all(), "generate-signature", req);
    assert_eq!(out.code, EXIT_OK);
}

#[test]
fn contract_version_is_checked_first() {
    for version in ["2.0", "1.1", "0.9", "1", "one", "1.0.0"] {
        // Even with required fields missing, the version wins.
        let err = cmd(&all(), "describe-key", json!({"contractVersion": version})).error();
        assert_eq!(err.code, ErrorCode::UnsupportedContractVersion, "{version}");
    }
    let err = cmd(
        &all(),
        "describe-key",
        json!({"contractVersion": 1, "keyId": "k"}),
    )
    .error();
    assert_eq!(err.code, ErrorCode::ValidationError);
    assert_eq!(err.field(), Some("contractVersion"));
}

#[test]
fn commands_outside_the_capabilities_are_refused() {
    let raw = Full(vec![Capability::SignatureGeneratorRaw]);
    assert_eq!(
        cmd(&raw, "generate-envelope", env_request()).error().code,
        ErrorCode::Error
    );
    assert_eq!(
        cmd(&raw, "verify-signature", verify_request()).error().code,
        ErrorCode::Error
    );
    assert_eq!(cmd(&raw, "generate-signature", sig_request()).code, EXIT_OK);

    let blob = Full(vec![Capability::SignatureGeneratorEnvelopeForBlob]);
    let describe = json!({"contractVersion": "1.0", "keyId": "k"});
    assert_eq!(cmd(&blob, "describe-key", describe.clone()).code, EXIT_OK);
    assert_eq!(cmd(&blob, "generate-envelope", env_request()).code, EXIT_OK);
    let err = cmd(&blob, "generate-signature", sig_request()).error();
    assert!(err.message.contains("SIGNATURE_GENERATOR.RAW"), "{err}");

    let envelope = Full(vec![Capability::SignatureGeneratorEnvelope]);
    assert_eq!(
        cmd(&envelope, "describe-key", describe).error().code,
        ErrorCode::Error
    );

    let verifier = Full(vec![Capability::SignatureVerifierTrustedIdentity]);
    assert_eq!(
        cmd(&verifier, "verify-signature", verify_request()).code,
        EXIT_OK
    );
}

#[test]
fn unimplemented_commands_answer_unsupported() {
    let out = cmd(&MetadataOnly, "generate-signature", sig_request());
    let err = out.error();
    assert_eq!(err.code, ErrorCode::Error);
    assert!(err.message.contains("unsupported by this plugin"), "{err}");
    assert!(err.message.contains("generate-signature"));
}

#[test]
fn a_panicking_plugin_exits_1_with_an_error_object() {
    let out = cmd(
        &all(),
        "describe-key",
        json!({"contractVersion": "1.0", "keyId": "panic"}),
    );
    let err = out.error();
    assert_eq!(err.code, ErrorCode::Error);
    assert!(err.message.contains("panicked"));
}

#[test]
fn an_invalid_plugin_response_is_reported_not_sent() {
    let out = call(&Broken, &["p", "get-plugin-metadata"], b"{}");
    let err = out.error();
    assert_eq!(err.code, ErrorCode::Error);
    assert!(err.message.contains("invalid response"), "{err}");
}

#[test]
fn oversized_requests_are_refused() {
    let big = std::io::Read::take(std::io::repeat(b' '), MAX_REQUEST_BYTES + 1);
    let args = vec!["p".to_owned(), "describe-key".to_owned()];
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = run(&all(), &args, big, &mut stdout, &mut stderr);
    assert_eq!(code, EXIT_ERROR);
    let err: PluginError = from_slice(&stderr).unwrap();
    assert_eq!(err.code, ErrorCode::ValidationError);
    assert!(err.message.contains("limit"));
}

#[test]
fn broken_stdout_is_reported_on_stderr() {
    struct Closed;
    impl std::io::Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let args = vec!["p".to_owned(), "get-plugin-metadata".to_owned()];
    let mut stderr = Vec::new();
    let code = run(&all(), &args, &b"{}"[..], Closed, &mut stderr);
    assert_eq!(code, EXIT_ERROR);
    let err: PluginError = from_slice(&stderr).unwrap();
    assert!(err.message.contains("could not write the response"));
}
