//! Where artifacts and their signatures live: an OCI registry (over HTTP
//! with `ureq`) or a local OCI image layout directory.
//!
//! # API overview
//!
//! * [`reference`](mod@reference) has [`Reference::parse`] for `registry/repo:tag` and
//!   `registry/repo@sha256:…` (a registry host is required, as upstream),
//!   [`LayoutReference::parse`] for `DIR:tag` / `DIR@sha256:…`.
//! * [`ArtifactStore`]: the one trait `sign`, `verify`, `list` and
//!   `inspect` use; implemented by [`RegistryClient`] (one repository in a
//!   remote registry) and [`OciLayout`] (one layout directory).
//!   - `resolve(&Target)` → the manifest [`Descriptor`] (tags resolved by
//!     fetching the manifest and hashing it; digests checked);
//!   - `fetch_manifest(&Descriptor)` / `fetch_blob(&Descriptor, limit)` →
//!     bytes checked against digest and size (manifests capped at
//!     [`oci::MAX_MANIFEST_SIZE`] = 4 MiB);
//!   - `list_signatures(&subject, limit)` → at most `limit` signature
//!     manifest descriptors (Referrers API, paging only while fewer are
//!     found, else the referrers tag schema; both signature manifest
//!     forms);
//!   - `fetch_signature(&signature_manifest_descriptor)` → the parsed
//!     signature manifest and the envelope bytes (capped at
//!     [`oci::MAX_SIGNATURE_BLOB_SIZE`] = 32 MiB, as upstream);
//!   - `push_signature(&subject, envelope, media_type, annotations)` →
//!     writes the envelope, the config and the signature manifest and links
//!     it to the subject: the `artifactType` form through the Referrers
//!     API, the legacy `config.mediaType` form (as upstream v1.3 writes it)
//!     with `force_referrers_tag` and in OCI layouts.
//! * [`client`] has [`RegistryClient::new`] with [`ClientOptions`] (insecure
//!   plain HTTP, `ca_file`, time bounds, retries, `force_referrers_tag`,
//!   the cache dir) and a [`CredentialSource`]. It sits on [`transport`]
//!   (requests, time bounds, retries, authentication); [`referrers`] sits
//!   on the client, and the `ArtifactStore` impl puts both together;
//!   [`memo`] remembers per registry host whether it has the Referrers
//!   API; `content_cache` keeps fetched signature manifests and envelopes
//!   by digest, so a repeated verification reads only the registry's list.
//! * [`credentials`] has [`Credentials`] (secret redacted, zeroed on drop),
//!   the [`CredentialSource`] trait and [`CredentialResolver`] (explicit
//!   username/password, then notation's `config.json`, then docker's
//!   `config.json`: `credHelpers`, `credsStore`, `auths`), plus
//!   [`credentials::store`] / [`credentials::erase`] for `login`/`logout`.
//! * [`auth`] parses `WWW-Authenticate` challenges and fetches tokens.
//! * [`layout`] holds [`OciLayout`]; [`referrers`] the Referrers API and
//!   tag-schema logic (with [`referrers::referrers_tag`]).
//! * [`error`] holds [`RegistryError`] and [`CredentialError`].
//!
//! Credentials go only to the registry's own scheme, host and port (and to
//! the token service its challenge names, which must be HTTPS unless the
//! registry is plain HTTP); see [`client`].
//!
//! Transport rules: HTTPS with the system roots (OpenSSL; `SSL_CERT_FILE`
//! and `SSL_CERT_DIR` are honoured) unless the caller marks the registry
//! insecure or the host is `localhost`/`localhost:PORT`, which use plain
//! HTTP. `127.0.0.1` is not special: it needs `insecure`.

use std::collections::BTreeMap;

pub use notation_plugin_sdk::descriptor::Descriptor;

pub mod auth;
pub mod client;
mod content_cache;
pub mod credentials;
pub mod error;
pub mod layout;
pub mod memo;
pub mod oci;
pub mod reference;
pub mod referrers;
mod store;
pub mod transport;

pub use client::{ClientOptions, RegistryClient};
pub use credentials::{CredentialResolver, CredentialSource, Credentials};
pub use error::{CredentialError, RegistryError};
pub use layout::OciLayout;
pub use oci::{Index, Manifest};
pub use reference::{LayoutReference, Reference, Target};

/// A signature as fetched from a store: its manifest and envelope.
#[derive(Debug, Clone)]
pub struct Signature {
    /// Descriptor of the signature manifest.
    pub manifest_descriptor: Descriptor,
    /// The parsed signature manifest.
    pub manifest: Manifest,
    /// Descriptor of the envelope (the manifest's only layer). Its media
    /// type says the envelope format; it is not checked here, so a
    /// verifier can report an unknown format as a failed signature.
    pub envelope_descriptor: Descriptor,
    /// The envelope bytes, checked against `envelope_descriptor`.
    pub envelope: Vec<u8>,
}

/// Result of pushing a signature.
#[derive(Debug, Clone)]
pub struct PushedSignature {
    /// Descriptor of the signature manifest that was written.
    pub manifest: Descriptor,
    /// Non-fatal problems the caller should show as warnings.
    pub warnings: Vec<PushWarning>,
}

/// A non-fatal problem while pushing a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushWarning {
    /// The superseded referrers tag-schema index could not be deleted
    /// (upstream notation warns the same way; garbage collection on the
    /// registry may be required).
    StaleReferrersIndexNotDeleted {
        /// Digest of the index that is left behind.
        digest: String,
        /// Why it could not be deleted.
        detail: String,
    },
}

impl std::fmt::Display for PushWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PushWarning::StaleReferrersIndexNotDeleted { digest, detail } => write!(
                f,
                "removal of the outdated referrers index {digest} from the registry failed ({detail}); garbage collection may be required"
            ),
        }
    }
}

/// Where artifacts and their signatures are stored: a registry repository
/// or an OCI image layout. All reads are checked against digests and
/// sizes; all sizes are capped.
///
/// Stores are `Send + Sync`: independent reads may run on several threads
/// at once (bounded by the caller).
pub trait ArtifactStore: Send + Sync {
    /// A name for messages: `registry/repository` or the layout path.
    fn name(&self) -> String;

    /// Resolve a tag or digest to the descriptor of its manifest.
    fn resolve(&self, target: &Target) -> Result<Descriptor, RegistryError>;

    /// [`ArtifactStore::resolve`] for `sign`: a store may use the same
    /// round trip to get ready for [`ArtifactStore::push_signature`]
    /// (a registry uploads the config blob and probes the Referrers API
    /// meanwhile). The default just resolves.
    fn resolve_for_signing(&self, target: &Target) -> Result<Descriptor, RegistryError> {
        self.resolve(target)
    }

    /// Fetch a manifest (or index) by descriptor, checking digest and size
    /// (cap [`oci::MAX_MANIFEST_SIZE`]).
    fn fetch_manifest(&self, desc: &Descriptor) -> Result<Vec<u8>, RegistryError>;

    /// Fetch a blob by descriptor, checking digest and size; refuses
    /// descriptors larger than `limit`.
    fn fetch_blob(&self, desc: &Descriptor, limit: u64) -> Result<Vec<u8>, RegistryError>;

    /// Descriptors of the Notary Project signature manifests whose subject
    /// is `subject` (both manifest forms), with `artifactType` and
    /// annotations filled in where the store knows them, de-duplicated by
    /// digest, in store order.
    ///
    /// At most `limit` are returned and the store stops reading (no
    /// further referrers page is fetched) once it has that many. A caller
    /// enforcing a maximum `max` passes `max + 1` so that it can tell
    /// "more than `max`" apart from "exactly `max`".
    fn list_signatures(
        &self,
        subject: &Descriptor,
        limit: usize,
    ) -> Result<Vec<Descriptor>, RegistryError>;

    /// Store a signature envelope for `subject`: the envelope blob, the
    /// config and a signature manifest (the form depends on the store, see
    /// the module docs) carrying `annotations` (give at least
    /// [`oci::ANNOTATION_THUMBPRINTS`]; [`oci::ANNOTATION_CREATED`] is
    /// added when absent), linked to the subject.
    fn push_signature(
        &self,
        subject: &Descriptor,
        envelope: &[u8],
        envelope_media_type: &str,
        annotations: BTreeMap<String, String>,
    ) -> Result<PushedSignature, RegistryError>;

    /// Fetch a signature manifest and its envelope. Checks that the
    /// manifest is a Notary Project signature (either form) with exactly
    /// one layer, and reads the envelope with the
    /// [`oci::MAX_SIGNATURE_BLOB_SIZE`] cap.
    fn fetch_signature(&self, signature_manifest: &Descriptor) -> Result<Signature, RegistryError> {
        fetch_signature_with(
            signature_manifest,
            |d| self.fetch_manifest(d),
            |d, limit| self.fetch_blob(d, limit),
        )
    }
}

/// [`ArtifactStore::fetch_signature`] over the given manifest and blob
/// fetches (which check digest and size).
pub(crate) fn fetch_signature_with(
    signature_manifest: &Descriptor,
    fetch_manifest: impl FnOnce(&Descriptor) -> Result<Vec<u8>, RegistryError>,
    fetch_blob: impl FnOnce(&Descriptor, u64) -> Result<Vec<u8>, RegistryError>,
) -> Result<Signature, RegistryError> {
    let bytes = fetch_manifest(signature_manifest)?;
    let manifest: Manifest =
        oci::parse_json(&bytes, "signature manifest", &signature_manifest.digest)?;
    let invalid = |reason: &str| RegistryError::InvalidSignatureManifest {
        digest: signature_manifest.digest.clone(),
        reason: reason.to_string(),
    };
    if !oci::is_signature_manifest(&manifest) {
        return Err(invalid(
            "neither artifactType nor config.mediaType is application/vnd.cncf.notary.signature",
        ));
    }
    if manifest.layers.len() != 1 {
        return Err(invalid(&format!(
            "it has {} layers; a signature manifest has exactly one",
            manifest.layers.len()
        )));
    }
    let envelope_descriptor = manifest.layers[0].clone();
    if envelope_descriptor.size > oci::MAX_SIGNATURE_BLOB_SIZE {
        return Err(RegistryError::TooLarge {
            what: "signature envelope",
            source_name: envelope_descriptor.digest.clone(),
            limit: oci::MAX_SIGNATURE_BLOB_SIZE,
        });
    }
    let envelope = fetch_blob(&envelope_descriptor, oci::MAX_SIGNATURE_BLOB_SIZE)?;
    Ok(Signature {
        manifest_descriptor: signature_manifest.clone(),
        manifest,
        envelope_descriptor,
        envelope,
    })
}
