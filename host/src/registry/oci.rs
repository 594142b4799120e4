//! OCI types shared by the registry client and the layout store: media
//! types, image manifest, image index, digests, and the Notary Project
//! signature manifest.

use std::collections::BTreeMap;
use std::io::Read;

use notation_plugin_sdk::descriptor::Descriptor;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use super::error::RegistryError;

/// OCI image manifest media type.
pub const MEDIA_TYPE_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const MEDIA_TYPE_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker v2 schema 2 manifest media type.
pub const MEDIA_TYPE_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker v2 manifest list media type.
pub const MEDIA_TYPE_DOCKER_LIST: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
/// The OCI empty descriptor media type (content `{}`).
pub const MEDIA_TYPE_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// Artifact type (and legacy config media type) of a Notary Project signature.
pub const ARTIFACT_TYPE_NOTARY_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
/// Media type of a JWS signature envelope.
pub const MEDIA_TYPE_JWS: &str = "application/jose+json";
/// Media type of a COSE signature envelope.
pub const MEDIA_TYPE_COSE: &str = "application/cose";
/// The empty JSON object blob used as config of signature manifests.
pub const EMPTY_JSON: &[u8] = b"{}";
/// Digest of [`EMPTY_JSON`].
pub const EMPTY_JSON_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
/// Annotation listing SHA-256 thumbprints of the signing chain.
pub const ANNOTATION_THUMBPRINTS: &str = "io.cncf.notary.x509chain.thumbprint#S256";
/// Annotation with the creation time (RFC 3339).
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
/// Annotation naming a tag in an OCI layout's `index.json`.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Manifest media types this client asks for and accepts.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    MEDIA_TYPE_OCI_MANIFEST,
    MEDIA_TYPE_OCI_INDEX,
    MEDIA_TYPE_DOCKER_MANIFEST,
    MEDIA_TYPE_DOCKER_LIST,
];

/// Largest manifest (or index, or referrers page) we read: 4 MiB, as
/// upstream notation.
pub const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;
/// Largest signature envelope blob we read: 32 MiB, as upstream notation
/// (a signature with a long chain and a timestamp token is a few KiB; the
/// cap only stops a hostile registry from exhausting memory).
pub const MAX_SIGNATURE_BLOB_SIZE: u64 = 32 * 1024 * 1024;

/// An OCI image manifest (also accepts Docker v2 manifests, which have
/// the same shape). Unknown fields are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest media type (may be absent in old manifests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Artifact type, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// An OCI image index (also a Docker manifest list, and the referrers
/// response). Unknown fields are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Always 2.
    pub schema_version: u32,
    /// The index media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Artifact type, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The listed manifests.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Index {
    /// An empty OCI image index (as used by the referrers tag schema).
    pub fn empty() -> Self {
        Index {
            schema_version: 2,
            media_type: Some(MEDIA_TYPE_OCI_INDEX.to_string()),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: None,
            extra: BTreeMap::new(),
        }
    }
}

/// Whether a manifest is a Notary Project signature in either form: the
/// `artifactType` form or the legacy `config.mediaType` form.
pub fn is_signature_manifest(m: &Manifest) -> bool {
    m.artifact_type.as_deref() == Some(ARTIFACT_TYPE_NOTARY_SIGNATURE)
        || m.config.media_type == ARTIFACT_TYPE_NOTARY_SIGNATURE
}

/// The artifact type of a manifest as the referrers API reports it:
/// `artifactType`, else `config.mediaType`.
pub fn effective_artifact_type(m: &Manifest) -> &str {
    m.artifact_type.as_deref().unwrap_or(&m.config.media_type)
}

/// Which of the two signature manifest forms to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureManifestForm {
    /// Image-spec 1.1: `artifactType: application/vnd.cncf.notary.signature`
    /// with the OCI empty config (`application/vnd.oci.empty.v1+json`).
    /// Written by default to registries.
    ArtifactType,
    /// Image-spec 1.0 compatible: no `artifactType`; the config is the
    /// `{}` blob with media type `application/vnd.cncf.notary.signature`.
    /// Written with `--force-referrers-tag` (as upstream notation does, for
    /// registries that only know image-spec 1.0) and to OCI layouts (as
    /// upstream notation 1.3 does).
    Legacy,
}

/// Build a signature manifest in `form`: the config, one layer (the
/// envelope) and the subject. `annotations` should hold at least
/// [`ANNOTATION_THUMBPRINTS`]; [`ANNOTATION_CREATED`] is added when absent.
///
/// Returns the manifest bytes and the descriptor to refer to it, whose
/// annotations mirror the manifest's and whose artifact type is the
/// effective one (`application/vnd.cncf.notary.signature` in both forms),
/// as referrers listings report it.
pub fn signature_manifest(
    subject: &Descriptor,
    envelope: &Descriptor,
    mut annotations: BTreeMap<String, String>,
    form: SignatureManifestForm,
) -> (Vec<u8>, Descriptor) {
    if !annotations.contains_key(ANNOTATION_CREATED) {
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
        if let Ok(s) = now.format(&time::format_description::well_known::Rfc3339) {
            annotations.insert(ANNOTATION_CREATED.to_string(), s);
        }
    }
    let mut subject = subject.clone();
    // The subject descriptor names the manifest only.
    subject.annotations = None;
    subject.extra.remove("platform");
    let (artifact_type, config) = match form {
        SignatureManifestForm::ArtifactType => (
            Some(ARTIFACT_TYPE_NOTARY_SIGNATURE.to_string()),
            empty_descriptor(),
        ),
        SignatureManifestForm::Legacy => (
            None,
            Descriptor::new(ARTIFACT_TYPE_NOTARY_SIGNATURE, EMPTY_JSON_DIGEST, 2),
        ),
    };
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(MEDIA_TYPE_OCI_MANIFEST.to_string()),
        artifact_type,
        config,
        layers: vec![Descriptor::new(
            envelope.media_type.clone(),
            envelope.digest.clone(),
            envelope.size,
        )],
        subject: Some(subject),
        annotations: Some(annotations.clone()),
        extra: BTreeMap::new(),
    };
    let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    let mut desc = Descriptor::new(
        MEDIA_TYPE_OCI_MANIFEST,
        sha256_digest(&bytes),
        len64(&bytes),
    );
    desc.artifact_type = Some(ARTIFACT_TYPE_NOTARY_SIGNATURE.to_string());
    desc.annotations = Some(annotations);
    (bytes, desc)
}

/// The descriptor of the empty JSON config `{}`.
pub fn empty_descriptor() -> Descriptor {
    Descriptor::new(MEDIA_TYPE_EMPTY, EMPTY_JSON_DIGEST, 2)
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

pub(crate) fn len64(data: &[u8]) -> u64 {
    u64::try_from(data.len()).unwrap_or(u64::MAX)
}

/// Supported digest algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// sha256 (64 hex digits).
    Sha256,
    /// sha384 (96 hex digits).
    Sha384,
    /// sha512 (128 hex digits).
    Sha512,
}

/// Check that `digest` is `algorithm:hex` with a supported algorithm and
/// the right number of lowercase hex digits.
pub fn parse_digest(digest: &str) -> Result<(DigestAlgorithm, &str), RegistryError> {
    let bad = |reason| RegistryError::InvalidDigest {
        digest: digest.to_string(),
        reason,
    };
    let (alg, hex) = digest
        .split_once(':')
        .ok_or_else(|| bad("missing the algorithm prefix"))?;
    let (alg, len) = match alg {
        "sha256" => (DigestAlgorithm::Sha256, 64),
        "sha384" => (DigestAlgorithm::Sha384, 96),
        "sha512" => (DigestAlgorithm::Sha512, 128),
        _ => {
            return Err(bad(
                "unsupported algorithm (supported: sha256, sha384, sha512)",
            ))
        }
    };
    if hex.len() != len {
        return Err(bad("wrong number of hex digits for the algorithm"));
    }
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(bad("not lowercase hexadecimal"));
    }
    Ok((alg, hex))
}

/// Streaming digest computation for one of the supported algorithms.
pub(crate) enum Hasher {
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    pub(crate) fn new(alg: DigestAlgorithm) -> Self {
        match alg {
            DigestAlgorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            DigestAlgorithm::Sha384 => Hasher::Sha384(Sha384::new()),
            DigestAlgorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }
    pub(crate) fn finish(self) -> String {
        match self {
            Hasher::Sha256(h) => format!("sha256:{}", hex::encode(h.finalize())),
            Hasher::Sha384(h) => format!("sha384:{}", hex::encode(h.finalize())),
            Hasher::Sha512(h) => format!("sha512:{}", hex::encode(h.finalize())),
        }
    }
}

/// The error for a failed read of a response body
/// ([`RegistryError::BodyRead`], marked when the read timed out).
pub(crate) fn body_read_error(
    what: &'static str,
    source_name: &str,
    e: &std::io::Error,
) -> RegistryError {
    RegistryError::BodyRead {
        what,
        source_name: source_name.to_string(),
        detail: e.to_string(),
        timed_out: e.kind() == std::io::ErrorKind::TimedOut,
    }
}

/// Read at most `limit` bytes from `reader`, hashing as we go, and check
/// the result against `expected_digest` and, when given, `expected_size`.
/// `what` and `source_name` only feed error messages.
pub(crate) fn read_verified(
    reader: &mut dyn Read,
    expected_digest: &str,
    expected_size: Option<u64>,
    limit: u64,
    what: &'static str,
    source_name: &str,
) -> Result<Vec<u8>, RegistryError> {
    let (alg, _) = parse_digest(expected_digest)?;
    if let Some(size) = expected_size {
        if size > limit {
            return Err(RegistryError::TooLarge {
                what,
                source_name: source_name.to_string(),
                limit,
            });
        }
    }
    let cap = expected_size.unwrap_or(limit);
    let mut hasher = Hasher::new(alg);
    let mut out = Vec::with_capacity(usize::try_from(cap.min(64 * 1024)).unwrap_or(0));
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(body_read_error(what, source_name, &e)),
        };
        let chunk = &buf[..n];
        if len64(&out) + len64(chunk) > cap {
            return Err(match expected_size {
                Some(expected) => RegistryError::SizeMismatch {
                    source_name: source_name.to_string(),
                    expected,
                    actual: len64(&out) + len64(chunk),
                },
                None => RegistryError::TooLarge {
                    what,
                    source_name: source_name.to_string(),
                    limit,
                },
            });
        }
        hasher.update(chunk);
        out.extend_from_slice(chunk);
    }
    if let Some(expected) = expected_size {
        if len64(&out) != expected {
            return Err(RegistryError::SizeMismatch {
                source_name: source_name.to_string(),
                expected,
                actual: len64(&out),
            });
        }
    }
    let actual = hasher.finish();
    if actual != expected_digest {
        return Err(RegistryError::DigestMismatch {
            source_name: source_name.to_string(),
            expected: expected_digest.to_string(),
            actual,
        });
    }
    Ok(out)
}

/// Parse manifest bytes, requiring JSON.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
    source_name: &str,
) -> Result<T, RegistryError> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::Malformed {
        what,
        source_name: source_name.to_string(),
        detail: e.to_string(),
    })
}

/// The media type of manifest bytes when the transport did not say:
/// the `mediaType` field, else guessed from the shape.
pub(crate) fn sniff_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
        config: Option<serde_json::Value>,
    }
    let p: Probe = serde_json::from_slice(bytes).ok()?;
    if let Some(mt) = p.media_type {
        return Some(mt);
    }
    if p.manifests.is_some() {
        Some(MEDIA_TYPE_OCI_INDEX.to_string())
    } else if p.config.is_some() {
        Some(MEDIA_TYPE_OCI_MANIFEST.to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_digest_is_right() {
        assert_eq!(sha256_digest(EMPTY_JSON), EMPTY_JSON_DIGEST);
    }

    #[test]
    fn digest_parsing() {
        assert!(parse_digest(EMPTY_JSON_DIGEST).is_ok());
        assert!(parse_digest("sha256:abc").is_err());
        assert!(parse_digest("md5:44136fa355b3678a1146ad16f7e8649e").is_err());
        assert!(parse_digest(&EMPTY_JSON_DIGEST.to_uppercase()).is_err());
        assert!(
            parse_digest("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
                .is_err()
        );
    }

    #[test]
    fn verified_read_checks_digest_and_size() {
        let ok = read_verified(&mut &b"{}"[..], EMPTY_JSON_DIGEST, Some(2), 10, "blob", "t");
        assert_eq!(ok.unwrap(), b"{}");
        let bad = read_verified(&mut &b"[]"[..], EMPTY_JSON_DIGEST, Some(2), 10, "blob", "t");
        assert!(matches!(bad, Err(RegistryError::DigestMismatch { .. })));
        let long = read_verified(
            &mut &b"{} "[..],
            EMPTY_JSON_DIGEST,
            Some(2),
            10,
            "blob",
            "t",
        );
        assert!(matches!(long, Err(RegistryError::SizeMismatch { .. })));
        let capped = read_verified(&mut &b"{}  "[..], EMPTY_JSON_DIGEST, None, 3, "blob", "t");
        assert!(matches!(capped, Err(RegistryError::TooLarge { .. })));
    }

    #[test]
    fn signature_manifest_shape() {
        let subject = Descriptor::new(MEDIA_TYPE_OCI_MANIFEST, EMPTY_JSON_DIGEST, 2);
        let env = Descriptor::new(MEDIA_TYPE_JWS, EMPTY_JSON_DIGEST, 2);
        let mut ann = BTreeMap::new();
        ann.insert(ANNOTATION_THUMBPRINTS.to_string(), "[\"ab\"]".to_string());
        let (bytes, desc) =
            signature_manifest(&subject, &env, ann, SignatureManifestForm::ArtifactType);
        let m: Manifest = serde_json::from_slice(&bytes).unwrap();
        assert!(is_signature_manifest(&m));
        assert_eq!(
            m.artifact_type.as_deref(),
            Some(ARTIFACT_TYPE_NOTARY_SIGNATURE)
        );
        assert_eq!(m.config.media_type, MEDIA_TYPE_EMPTY);
        assert_eq!(m.subject.as_ref().unwrap().digest, EMPTY_JSON_DIGEST);
        assert!(m
            .annotations
            .as_ref()
            .unwrap()
            .contains_key(ANNOTATION_CREATED));
        assert_eq!(desc.digest, sha256_digest(&bytes));
        assert_eq!(
            desc.artifact_type.as_deref(),
            Some(ARTIFACT_TYPE_NOTARY_SIGNATURE)
        );
    }

    #[test]
    fn legacy_signature_manifest_shape() {
        let subject = Descriptor::new(MEDIA_TYPE_OCI_MANIFEST, EMPTY_JSON_DIGEST, 2);
        let env = Descriptor::new(MEDIA_TYPE_COSE, EMPTY_JSON_DIGEST, 2);
        let (bytes, desc) = signature_manifest(
            &subject,
            &env,
            BTreeMap::new(),
            SignatureManifestForm::Legacy,
        );
        let raw: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(raw.get("artifactType").is_none(), "{raw}");
        assert_eq!(
            raw["config"],
            serde_json::json!({
                "mediaType": ARTIFACT_TYPE_NOTARY_SIGNATURE,
                "digest": EMPTY_JSON_DIGEST,
                "size": 2
            })
        );
        let m: Manifest = serde_json::from_slice(&bytes).unwrap();
        assert!(is_signature_manifest(&m));
        assert_eq!(effective_artifact_type(&m), ARTIFACT_TYPE_NOTARY_SIGNATURE);
        assert_eq!(m.subject.as_ref().unwrap().digest, EMPTY_JSON_DIGEST);
        assert_eq!(m.layers[0].media_type, MEDIA_TYPE_COSE);
        assert_eq!(desc.digest, sha256_digest(&bytes));
        assert_eq!(
            desc.artifact_type.as_deref(),
            Some(ARTIFACT_TYPE_NOTARY_SIGNATURE)
        );
    }
}
