//! The OCI content descriptor, as it appears in the Notary payload's
//! `targetArtifact` and in OCI manifests and indexes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An OCI content descriptor: what a piece of content is, its digest and
/// its size.
///
/// Field names and order follow the OCI image specification. Fields this
/// type does not model (for example `platform` or `urls` in an image index)
/// are kept in [`Descriptor::extra`] so a read-modify-write cycle never
/// drops them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: String,
    /// Digest of the referenced content, `algorithm:hex`.
    pub digest: String,
    /// Size of the referenced content in bytes.
    pub size: u64,
    /// Optional annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Optional artifact type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Fields not modelled above, kept verbatim.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Descriptor {
    /// A descriptor with only the three required fields set.
    pub fn new(media_type: impl Into<String>, digest: impl Into<String>, size: u64) -> Self {
        Descriptor {
            media_type: media_type.into(),
            digest: digest.into(),
            size,
            annotations: None,
            artifact_type: None,
            extra: BTreeMap::new(),
        }
    }
}
