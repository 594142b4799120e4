//! Wire JSON of the protocol types in both directions.

use std::collections::HashMap;

use notation_plugin_sdk::protocol::*;
use notation_plugin_sdk::vocab::{Capability, ErrorCode, KeySpec, SigningAlgorithm};
use serde_json::json;

#[test]
fn responses_serialise_to_exact_wire_json() {
    let resp = GenerateSignatureResponse {
        key_id: "k".into(),
        signature: vec![0xfb, 0xff],
        signing_algorithm: SigningAlgorithm::EcdsaSha512,
        certificate_chain: vec![vec![1], vec![2, 3]],
    };
    assert_eq!(
        String::from_utf8(to_vec(&resp).unwrap()).unwrap(),
        r#"{"keyId":"k","signature":"+/8=","signingAlgorithm":"ECDSA-SHA-512","certificateChain":["AQ==","AgM="]}"#
    );
    let mut results = HashMap::new();
    results.insert(
        Capability::SignatureVerifierTrustedIdentity,
        VerificationResult {
            success: true,
            reason: None,
        },
    );
    results.insert(
        Capability::SignatureVerifierRevocationCheck,
        VerificationResult {
            success: false,
            reason: Some("revoked".into()),
        },
    );
    let resp = VerifySignatureResponse {
        verification_results: results,
        processed_attributes: vec![],
    };
    // Keys sorted, so the output is stable.
    assert_eq!(
        String::from_utf8(to_vec(&resp).unwrap()).unwrap(),
        r#"{"verificationResults":{"SIGNATURE_VERIFIER.REVOCATION_CHECK":{"success":false,"reason":"revoked"},"SIGNATURE_VERIFIER.TRUSTED_IDENTITY":{"success":true}},"processedAttributes":[]}"#
    );
    let err = PluginError::new(ErrorCode::Throttled, "slow down");
    assert_eq!(
        String::from_utf8(to_vec(&err).unwrap()).unwrap(),
        r#"{"errorCode":"THROTTLED","errorMessage":"slow down"}"#
    );
}

#[test]
fn unknown_fields_are_ignored_and_unknown_values_kept() {
    let meta: GetMetadataResponse = from_value(json!({
        "name": "n", "description": "d", "version": "1", "url": "u",
        "supportedContractVersions": ["1.0", "2.3"],
        "capabilities": ["SIGNATURE_GENERATOR.RAW", "SIGNATURE_GENERATOR.QUANTUM"],
        "futureField": {"nested": [1, 2]},
    }))
    .unwrap();
    assert_eq!(
        meta.capabilities[1],
        Capability::Unknown("SIGNATURE_GENERATOR.QUANTUM".into())
    );
    assert!(meta.supports_our_contract());
    let err: PluginError = from_slice(br#"{"errorCode":"QUOTA","extra":1}"#).unwrap();
    assert_eq!(err.code, ErrorCode::Unknown("QUOTA".into()));
    assert_eq!(err.message, "");
    let key: DescribeKeyResponse =
        from_slice(br#"{"keyId":"k","keySpec":"EC-256","x":null}"#).unwrap();
    assert_eq!(key.key_spec, KeySpec::Ec256);
}

#[test]
fn metadata_rules() {
    let base = json!({
        "name": "n", "description": "d", "version": "1", "url": "u",
        "supportedContractVersions": ["1.0"], "capabilities": ["SIGNATURE_GENERATOR.RAW"],
    });
    for (field, value) in [
        ("capabilities", json!([])),
        ("supportedContractVersions", json!([])),
        ("name", json!("")),
        ("url", json!(null)),
        ("version", json!(1)),
    ] {
        let mut v = base.clone();
        v[field] = value;
        let err = from_value::<GetMetadataResponse>(v).unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationError);
        assert_eq!(err.field(), Some(field), "{err}");
    }
    let mut v = base.clone();
    v["supportedContractVersions"] = json!(["2.0", "1.1"]);
    assert!(!from_value::<GetMetadataResponse>(v)
        .unwrap()
        .supports_our_contract());
}

#[test]
fn nulls_that_go_hosts_send_read_as_empty() {
    let req: VerifySignatureRequest = from_value(json!({
        "contractVersion": "1.0",
        "signature": {
            "criticalAttributes": {"contentType": "c", "signingScheme": "notary.x509",
                                   "authenticSigningTime": "2024-02-29T23:59:59.5+01:00"},
            "unprocessedAttributes": null,
            "certificateChain": [],
        },
        "trustPolicy": {"trustedIdentities": null, "signatureVerification": ["SIGNATURE_VERIFIER.TRUSTED_IDENTITY"]},
    }))
    .unwrap();
    assert!(req.signature.unprocessed_attributes.is_empty());
    assert!(req.trust_policy.trusted_identities.is_empty());
    let t = req
        .signature
        .critical_attributes
        .authentic_signing_time
        .unwrap();
    assert_eq!(t.unix_timestamp(), 1_709_247_599);
    let resp: VerifySignatureResponse =
        from_slice(br#"{"verificationResults":{},"processedAttributes":null}"#).unwrap();
    assert!(resp.processed_attributes.is_empty());
}

#[test]
fn failed_verification_needs_a_reason() {
    let err = from_slice::<VerifySignatureResponse>(
        br#"{"verificationResults":{"SIGNATURE_VERIFIER.REVOCATION_CHECK":{"success":false}},"processedAttributes":[]}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.field(),
        Some("verificationResults.SIGNATURE_VERIFIER.REVOCATION_CHECK.reason")
    );
}

#[test]
fn base64_must_be_standard_and_padded() {
    for payload in ["aGVsbG8", "aGVs-G8=", "aGVs_G8=", " aGVsbG8="] {
        let err = from_value::<GenerateSignatureRequest>(json!({
            "contractVersion": "1.0", "keyId": "k", "keySpec": "EC-256",
            "hashAlgorithm": "SHA-256", "payload": payload,
        }))
        .unwrap_err();
        assert_eq!(err.field(), Some("payload"), "{payload}");
    }
}

#[test]
fn command_capability_table() {
    use Capability::*;
    assert!(Command::GetPluginMetadata.allowed_by(&[]));
    assert!(Command::DescribeKey.allowed_by(&[SignatureGeneratorEnvelopeForBlob]));
    assert!(!Command::DescribeKey.allowed_by(&[SignatureGeneratorEnvelope]));
    assert!(!Command::GenerateSignature.allowed_by(&[SignatureGeneratorEnvelopeForBlob]));
    assert!(Command::VerifySignature.allowed_by(&[SignatureVerifierRevocationCheck]));
    assert!(!Command::VerifySignature.allowed_by(&[Unknown("SIGNATURE_VERIFIER.X".into())]));
}

#[test]
fn required_config_names_the_entry() {
    let cfg = Some([("a".to_owned(), "1".to_owned())].into_iter().collect());
    assert_eq!(required_config(&cfg, "a").unwrap(), "1");
    assert_eq!(
        required_config(&cfg, "b").unwrap_err().field(),
        Some("pluginConfig.b")
    );
    assert_eq!(
        required_config(&None, "a").unwrap_err().code,
        ErrorCode::ValidationError
    );
}
