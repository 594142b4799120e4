//! An OCI image layout directory as an artifact store.
//!
//! Reads are checked against digests and sizes. Signatures are written as
//! upstream notation 1.3 does: the envelope and the empty config as blobs,
//! the signature manifest in the legacy form (config media type
//! `application/vnd.cncf.notary.signature`, no `artifactType`) as a blob,
//! and the manifest's descriptor (with its annotations, without an
//! artifact type) appended to `index.json` without a tag. Signatures
//! are found by scanning the manifests listed in `index.json` for a
//! matching `subject`, plus the referrers tag-schema index
//! (`org.opencontainers.image.ref.name` = `sha256-<hex>`) when present.
//!
//! Several processes may sign into one layout at once: `index.json` is
//! only changed while holding an exclusive `flock` on `index.json.lock`
//! next to it, re-read under that lock, and replaced atomically (temporary
//! file, fsync, rename), so no writer's entry is lost and readers never
//! see a partial file.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use notation_plugin_sdk::descriptor::Descriptor;

use super::error::RegistryError;
use super::oci::SignatureManifestForm;
use super::oci::{
    self, Index, Manifest, ANNOTATION_REF_NAME, ARTIFACT_TYPE_NOTARY_SIGNATURE, MAX_MANIFEST_SIZE,
    MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST,
};
use super::reference::Target;
use super::referrers::referrers_tag;
use super::{ArtifactStore, PushedSignature};

/// Largest `index.json` we read.
const MAX_INDEX_JSON: u64 = 16 * 1024 * 1024;
/// How long a writer waits for another to finish updating `index.json`.
const INDEX_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// An OCI image layout directory.
#[derive(Debug, Clone)]
pub struct OciLayout {
    root: PathBuf,
}

impl OciLayout {
    /// Open an existing layout: `oci-layout` and `index.json` must exist.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, RegistryError> {
        let root = root.into();
        if !root.is_dir() {
            return Err(RegistryError::NotALayout {
                path: root,
                reason: "it is not a directory".into(),
            });
        }
        for f in ["oci-layout", "index.json"] {
            if !root.join(f).is_file() {
                return Err(RegistryError::NotALayout {
                    path: root.clone(),
                    reason: format!("{f} is missing"),
                });
            }
        }
        let layout = OciLayout { root };
        layout.read_index()?;
        Ok(layout)
    }

    /// The layout directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf, RegistryError> {
        oci::parse_digest(digest)?;
        let (alg, hex) = digest.split_once(':').unwrap_or(("", ""));
        Ok(self.root.join("blobs").join(alg).join(hex))
    }

    /// Read and parse `index.json`.
    pub fn read_index(&self) -> Result<Index, RegistryError> {
        let path = self.index_path();
        let file = File::open(&path).map_err(|source| RegistryError::Io {
            action: "open",
            path: path.clone(),
            source,
        })?;
        let name = path.display().to_string();
        let bytes = super::client::read_capped(&mut &file, MAX_INDEX_JSON, "index.json", &name)?;
        oci::parse_json(&bytes, "index.json", &name)
    }

    /// Runs `update` on the current `index.json` while holding the layout's
    /// index lock, writing the result back when `update` returns `true`.
    fn update_index(&self, update: impl FnOnce(&mut Index) -> bool) -> Result<(), RegistryError> {
        let lock_path = self.root.join("index.json.lock");
        let _lock = crate::fsutil::FileLock::exclusive(&lock_path, INDEX_LOCK_TIMEOUT).map_err(
            |source| RegistryError::Io {
                action: "lock",
                path: lock_path.clone(),
                source,
            },
        )?;
        let mut index = self.read_index()?;
        if update(&mut index) {
            self.write_index(&index)?;
        }
        Ok(())
    }

    fn write_index(&self, index: &Index) -> Result<(), RegistryError> {
        let bytes = serde_json::to_vec(index).map_err(|e| RegistryError::Malformed {
            what: "index.json",
            source_name: self.index_path().display().to_string(),
            detail: e.to_string(),
        })?;
        crate::fsutil::atomic_write(&self.index_path(), &bytes, crate::fsutil::MODE_PUBLIC).map_err(
            |source| RegistryError::Io {
                action: "write",
                path: self.index_path(),
                source,
            },
        )
    }

    /// Write a blob (no-op when it already exists with the right content).
    pub fn write_blob(&self, bytes: &[u8]) -> Result<String, RegistryError> {
        let digest = oci::sha256_digest(bytes);
        let path = self.blob_path(&digest)?;
        if let Ok(existing) = std::fs::read(&path) {
            if oci::sha256_digest(&existing) == digest {
                return Ok(digest);
            }
        }
        crate::fsutil::atomic_write(&path, bytes, crate::fsutil::MODE_PUBLIC).map_err(
            |source| RegistryError::Io {
                action: "write",
                path,
                source,
            },
        )?;
        Ok(digest)
    }

    fn read_blob(
        &self,
        digest: &str,
        size: Option<u64>,
        limit: u64,
        what: &'static str,
    ) -> Result<Vec<u8>, RegistryError> {
        let path = self.blob_path(digest)?;
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RegistryError::NotFound {
                    what: format!("{what} {digest}"),
                    url: path.display().to_string(),
                })
            }
            Err(source) => {
                return Err(RegistryError::Io {
                    action: "open",
                    path,
                    source,
                })
            }
        };
        oci::read_verified(
            &mut &file,
            digest,
            size,
            limit,
            what,
            &path.display().to_string(),
        )
    }

    /// Parse a manifest listed in the layout, skipping anything that is not
    /// an image manifest.
    fn manifest_of(&self, desc: &Descriptor) -> Result<Option<Manifest>, RegistryError> {
        if desc.media_type != MEDIA_TYPE_OCI_MANIFEST
            && desc.media_type != MEDIA_TYPE_DOCKER_MANIFEST
        {
            return Ok(None);
        }
        if desc.size > MAX_MANIFEST_SIZE {
            return Ok(None);
        }
        let bytes = self.fetch_manifest(desc)?;
        Ok(serde_json::from_slice(&bytes).ok())
    }
}

impl ArtifactStore for OciLayout {
    fn name(&self) -> String {
        self.root.display().to_string()
    }

    fn resolve(&self, target: &Target) -> Result<Descriptor, RegistryError> {
        let index = self.read_index()?;
        match target {
            Target::Tag(tag) => {
                let found = index.manifests.iter().rev().find(|d| {
                    d.annotations
                        .as_ref()
                        .and_then(|a| a.get(ANNOTATION_REF_NAME))
                        == Some(tag)
                });
                let d = found.ok_or_else(|| RegistryError::NotFound {
                    what: format!("tag {tag} in OCI layout"),
                    url: self.index_path().display().to_string(),
                })?;
                oci::parse_digest(&d.digest)?;
                Ok(Descriptor::new(
                    d.media_type.clone(),
                    d.digest.clone(),
                    d.size,
                ))
            }
            Target::Digest(digest) => {
                oci::parse_digest(digest)?;
                if let Some(d) = index.manifests.iter().find(|d| &d.digest == digest) {
                    return Ok(Descriptor::new(
                        d.media_type.clone(),
                        d.digest.clone(),
                        d.size,
                    ));
                }
                let bytes = self.read_blob(digest, None, MAX_MANIFEST_SIZE, "manifest")?;
                let media_type = oci::sniff_media_type(&bytes).ok_or_else(|| {
                    RegistryError::UnsupportedMediaType {
                        media_type: "(none)".into(),
                        what: "manifest",
                        source_name: digest.clone(),
                    }
                })?;
                Ok(Descriptor::new(
                    media_type,
                    digest.clone(),
                    oci::len64(&bytes),
                ))
            }
        }
    }

    fn fetch_manifest(&self, desc: &Descriptor) -> Result<Vec<u8>, RegistryError> {
        if desc.size > MAX_MANIFEST_SIZE {
            return Err(RegistryError::TooLarge {
                what: "manifest",
                source_name: desc.digest.clone(),
                limit: MAX_MANIFEST_SIZE,
            });
        }
        self.read_blob(&desc.digest, Some(desc.size), MAX_MANIFEST_SIZE, "manifest")
    }

    fn fetch_blob(&self, desc: &Descriptor, limit: u64) -> Result<Vec<u8>, RegistryError> {
        if desc.size > limit {
            return Err(RegistryError::TooLarge {
                what: "blob",
                source_name: desc.digest.clone(),
                limit,
            });
        }
        self.read_blob(&desc.digest, Some(desc.size), limit, "blob")
    }

    fn list_signatures(
        &self,
        subject: &Descriptor,
        limit: usize,
    ) -> Result<Vec<Descriptor>, RegistryError> {
        let index = self.read_index()?;
        let tag = referrers_tag(&subject.digest)?;
        let mut out: Vec<Descriptor> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut push = |d: Descriptor, out: &mut Vec<Descriptor>| {
            if out.len() < limit && seen.insert(d.digest.clone()) {
                out.push(d);
            }
        };
        for d in &index.manifests {
            if out.len() >= limit {
                break;
            }
            if d.digest == subject.digest {
                continue;
            }
            let is_tag_index = d
                .annotations
                .as_ref()
                .and_then(|a| a.get(ANNOTATION_REF_NAME))
                == Some(&tag);
            if is_tag_index && d.media_type == MEDIA_TYPE_OCI_INDEX {
                let bytes = self.fetch_manifest(d)?;
                let tag_index: Index =
                    oci::parse_json(&bytes, "referrers tag-schema index", &d.digest)?;
                for m in tag_index.manifests {
                    if m.artifact_type.as_deref() == Some(ARTIFACT_TYPE_NOTARY_SIGNATURE) {
                        push(m, &mut out);
                    }
                }
                continue;
            }
            let Some(m) = self.manifest_of(d)? else {
                continue;
            };
            if m.subject.as_ref().map(|s| &s.digest) != Some(&subject.digest)
                || !oci::is_signature_manifest(&m)
            {
                continue;
            }
            let mut found = Descriptor::new(d.media_type.clone(), d.digest.clone(), d.size);
            found.artifact_type = Some(ARTIFACT_TYPE_NOTARY_SIGNATURE.to_string());
            found.annotations = m.annotations.clone();
            push(found, &mut out);
        }
        Ok(out)
    }

    fn push_signature(
        &self,
        subject: &Descriptor,
        envelope: &[u8],
        envelope_media_type: &str,
        annotations: BTreeMap<String, String>,
    ) -> Result<PushedSignature, RegistryError> {
        oci::parse_digest(&subject.digest)?;
        let env_digest = self.write_blob(envelope)?;
        self.write_blob(oci::EMPTY_JSON)?;
        let envelope_desc = Descriptor::new(envelope_media_type, env_digest, oci::len64(envelope));
        let (bytes, manifest_desc) = oci::signature_manifest(
            subject,
            &envelope_desc,
            annotations,
            SignatureManifestForm::Legacy,
        );
        self.write_blob(&bytes)?;
        self.update_index(|index| {
            if index
                .manifests
                .iter()
                .any(|d| d.digest == manifest_desc.digest)
            {
                return false;
            }
            // As upstream: the entry carries the annotations but no
            // artifactType (the manifest itself has none).
            let mut entry = manifest_desc.clone();
            entry.artifact_type = None;
            index.manifests.push(entry);
            true
        })?;
        Ok(PushedSignature {
            manifest: manifest_desc,
            warnings: Vec::new(),
        })
    }
}
