//! Every example in `spec/examples` is valid against its schema in
//! `spec/schemas`, round-trips through the SDK types to the same JSON, and
//! appears in `spec/plugin-protocol.md`.

use std::path::{Path, PathBuf};

use notation_plugin_sdk::protocol::*;
use serde_json::Value;

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses through the SDK type (with full validation) and serialises back.
fn round_trip<T: Message>(value: &Value) -> Value {
    let typed: T = from_value(value.clone()).unwrap_or_else(|e| panic!("{e}"));
    serde_json::to_value(&typed).unwrap()
}

type RoundTrip = fn(&Value) -> Value;

const MESSAGES: &[(&str, RoundTrip)] = &[
    (
        "get-plugin-metadata.request",
        round_trip::<GetMetadataRequest>,
    ),
    (
        "get-plugin-metadata.response",
        round_trip::<GetMetadataResponse>,
    ),
    ("describe-key.request", round_trip::<DescribeKeyRequest>),
    ("describe-key.response", round_trip::<DescribeKeyResponse>),
    (
        "generate-signature.request",
        round_trip::<GenerateSignatureRequest>,
    ),
    (
        "generate-signature.response",
        round_trip::<GenerateSignatureResponse>,
    ),
    (
        "generate-envelope.request",
        round_trip::<GenerateEnvelopeRequest>,
    ),
    (
        "generate-envelope.response",
        round_trip::<GenerateEnvelopeResponse>,
    ),
    (
        "verify-signature.request",
        round_trip::<VerifySignatureRequest>,
    ),
    (
        "verify-signature.response",
        round_trip::<VerifySignatureResponse>,
    ),
    ("error", round_trip::<PluginError>),
];

fn stem(path: &Path, suffix: &str) -> String {
    let name = path.file_name().unwrap().to_str().unwrap();
    name.strip_suffix(suffix)
        .unwrap_or_else(|| panic!("{name} does not end with {suffix}"))
        .to_owned()
}

#[test]
fn every_example_and_schema_belongs_to_a_message() {
    let known: Vec<&str> = MESSAGES.iter().map(|(n, _)| *n).collect();
    for (dir, suffix) in [("examples", ".json"), ("schemas", ".schema.json")] {
        let mut found: Vec<String> = std::fs::read_dir(spec_dir().join(dir))
            .unwrap()
            .map(|e| stem(&e.unwrap().path(), suffix))
            .collect();
        found.sort();
        let mut expected: Vec<String> = known.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(found, expected, "spec/{dir}");
    }
}

#[test]
fn examples_are_valid_against_their_schemas() {
    for (name, _) in MESSAGES {
        let schema = read_json(&spec_dir().join(format!("schemas/{name}.schema.json")));
        assert!(
            jsonschema::draft202012::meta::is_valid(&schema),
            "{name}: schema is not valid draft 2020-12"
        );
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        let example = read_json(&spec_dir().join(format!("examples/{name}.json")));
        let errors: Vec<String> = validator
            .iter_errors(&example)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

#[test]
fn examples_round_trip_through_the_sdk_types() {
    for (name, round_trip) in MESSAGES {
        let example = read_json(&spec_dir().join(format!("examples/{name}.json")));
        assert_eq!(round_trip(&example), example, "{name}");
    }
}

#[test]
fn schemas_reject_what_the_sdk_rejects() {
    // A few spot checks that the schemas are not vacuous.
    let cases = [
        ("describe-key.request", "keyId"),
        ("generate-signature.request", "payload"),
        ("get-plugin-metadata.response", "capabilities"),
        ("error", "errorCode"),
    ];
    for (name, field) in cases {
        let schema = read_json(&spec_dir().join(format!("schemas/{name}.schema.json")));
        let mut example = read_json(&spec_dir().join(format!("examples/{name}.json")));
        example.as_object_mut().unwrap().remove(field);
        assert!(
            !jsonschema::is_valid(&schema, &example),
            "{name} without {field}"
        );
    }
}

/// The JSON code blocks of the protocol document.
fn doc_json_blocks() -> Vec<Value> {
    let doc = std::fs::read_to_string(spec_dir().join("plugin-protocol.md")).unwrap();
    let mut blocks = Vec::new();
    let mut rest = doc.as_str();
    while let Some(start) = rest.find("```json\n") {
        let body = &rest[start + "```json\n".len()..];
        let end = body.find("```").expect("unterminated code block");
        let block = &body[..end];
        blocks
            .push(serde_json::from_str(block).unwrap_or_else(|e| {
                panic!("a ```json block in the doc is not JSON: {e}\n{block}")
            }));
        rest = &body[end + 3..];
    }
    blocks
}

#[test]
fn every_example_is_in_the_document() {
    let blocks = doc_json_blocks();
    for (name, _) in MESSAGES {
        let example = read_json(&spec_dir().join(format!("examples/{name}.json")));
        assert!(
            blocks.contains(&example),
            "spec/examples/{name}.json is not shown in spec/plugin-protocol.md"
        );
    }
    assert_eq!(
        blocks.len(),
        MESSAGES.len(),
        "every JSON block is an example file"
    );
}
