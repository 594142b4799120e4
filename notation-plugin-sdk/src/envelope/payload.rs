//! The Notary payload (`application/vnd.cncf.notary.payload.v1+json`) and
//! its JSON encodings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptor;

use super::EnvelopeError;

/// Media type of the Notary payload (the envelope's content type).
pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";

/// Annotation key prefix reserved for the Notary Project.
pub const RESERVED_ANNOTATION_PREFIX: &str = "io.cncf.notary";

/// The signed payload: the descriptor of the artifact being signed. User
/// metadata travels in the descriptor's annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// Descriptor of the signed manifest or blob.
    pub target_artifact: Descriptor,
}

impl Payload {
    /// A payload for `target_artifact`.
    pub fn new(target_artifact: Descriptor) -> Self {
        Payload { target_artifact }
    }

    /// Decodes a payload, requiring `targetArtifact` with `mediaType`,
    /// `digest` and `size`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        serde_json::from_slice(bytes).map_err(|source| EnvelopeError::InvalidPayload { source })
    }

    /// The encoding upstream notation puts in COSE envelopes: descriptor
    /// fields in OCI order, annotations sorted, Go-style escaping.
    pub fn to_struct_json(&self) -> Vec<u8> {
        // A Payload always serialises: all keys are strings, no floats.
        let text = serde_json::to_string(self).unwrap_or_default();
        go_escape(&text).into_bytes()
    }

    /// The encoding upstream notation puts in JWS envelopes: every object's
    /// keys sorted, Go-style escaping.
    pub fn to_sorted_json(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        sorted_json(&value).into_bytes()
    }
}

/// Refuses user annotations whose key uses the reserved `io.cncf.notary`
/// prefix. Call this on `-m key=value` metadata before building a payload.
pub fn check_user_annotations(annotations: &BTreeMap<String, String>) -> Result<(), EnvelopeError> {
    match annotations
        .keys()
        .find(|k| k.starts_with(RESERVED_ANNOTATION_PREFIX))
    {
        Some(key) => Err(EnvelopeError::ReservedAnnotation { key: key.clone() }),
        None => Ok(()),
    }
}

/// Serialises a JSON value with every object's keys sorted (as Go's
/// `encoding/json` does for maps) and Go's HTML-safe escaping.
pub(crate) fn sorted_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_sorted(value, &mut out);
    go_escape(&out)
}

fn write_sorted(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String((*key).clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(*key) {
                    write_sorted(v, out);
                }
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Applies the escapes Go's `encoding/json` adds on top of standard JSON:
/// `<`, `>`, `&`, U+2028 and U+2029 inside strings. None of these can occur
/// outside a string in JSON text, so a plain replacement is exact.
pub(crate) fn go_escape(json: &str) -> String {
    if !json.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return json.to_owned();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_upstream_layouts() {
        let mut d = Descriptor::new(
            "application/vnd.oci.image.manifest.v1+json",
            "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
            517,
        );
        let p = Payload::new(d.clone());
        assert_eq!(
            String::from_utf8(p.to_struct_json()).unwrap(),
            r#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9","size":517}}"#
        );
        d.annotations = Some(BTreeMap::from([("a<b".to_owned(), "&".to_owned())]));
        let p = Payload::new(d);
        assert_eq!(
            String::from_utf8(p.to_sorted_json()).unwrap(),
            r#"{"targetArtifact":{"annotations":{"a\u003cb":"\u0026"},"digest":"sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9","mediaType":"application/vnd.oci.image.manifest.v1+json","size":517}}"#
        );
    }

    #[test]
    fn reserved_prefix_is_refused() {
        let ok = BTreeMap::from([("buildId".to_owned(), "1".to_owned())]);
        assert!(check_user_annotations(&ok).is_ok());
        let bad = BTreeMap::from([("io.cncf.notary.x".to_owned(), "1".to_owned())]);
        assert!(matches!(
            check_user_annotations(&bad),
            Err(EnvelopeError::ReservedAnnotation { key }) if key == "io.cncf.notary.x"
        ));
    }
}
