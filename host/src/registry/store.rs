//! [`RegistryClient`] as an [`ArtifactStore`]: the repository operations
//! of [`super::client`] plus the referrers logic of [`super::referrers`].

use std::collections::BTreeMap;

use notation_plugin_sdk::descriptor::Descriptor;

use super::client::RegistryClient;
use super::error::RegistryError;
use super::oci;
use super::reference::Target;
use super::{referrers, ArtifactStore, PushedSignature, Signature};

impl ArtifactStore for RegistryClient {
    fn name(&self) -> String {
        format!("{}/{}", self.registry(), self.repository())
    }

    fn resolve(&self, target: &Target) -> Result<Descriptor, RegistryError> {
        self.get_manifest(target).map(|(d, _)| d)
    }

    /// Resolves while, for a digest on a registry nothing is known about
    /// yet, the Referrers API is probed on another thread (its failure is
    /// not an error here: the push learns the answer from the registry).
    fn resolve_for_signing(&self, target: &Target) -> Result<Descriptor, RegistryError> {
        // The upload session for the envelope opens while the reference
        // resolves (and, for a digest, while the Referrers API is probed)
        // and while the envelope is signed: the push waits for it.
        self.prepare_upload();
        std::thread::scope(|s| match target {
            Target::Digest(d)
                if !self.force_referrers_tag() && self.referrers_api_state().is_none() =>
            {
                s.spawn(|| referrers::probe_api(self, d));
                self.resolve(target)
            }
            _ => self.resolve(target),
        })
    }

    fn fetch_manifest(&self, desc: &Descriptor) -> Result<Vec<u8>, RegistryError> {
        self.fetch_manifest_checked(desc)
    }

    fn fetch_blob(&self, desc: &Descriptor, limit: u64) -> Result<Vec<u8>, RegistryError> {
        self.fetch_blob_checked(desc, limit)
    }

    /// As the trait's, with the manifest and the envelope read from the
    /// content cache when they are there (and kept there once fetched).
    fn fetch_signature(&self, signature_manifest: &Descriptor) -> Result<Signature, RegistryError> {
        let cache = self.content_cache();
        let cached =
            |desc: &Descriptor, limit: u64, fetch: &dyn Fn() -> Result<Vec<u8>, RegistryError>| {
                match &cache {
                    Some(cache) => cache.get_or_fetch(desc, limit, fetch),
                    None => fetch(),
                }
            };
        super::fetch_signature_with(
            signature_manifest,
            |d| {
                cached(d, oci::MAX_MANIFEST_SIZE, &|| {
                    self.fetch_manifest_checked(d)
                })
            },
            |d, limit| cached(d, limit, &|| self.fetch_blob_checked(d, limit)),
        )
    }

    fn list_signatures(
        &self,
        subject: &Descriptor,
        limit: usize,
    ) -> Result<Vec<Descriptor>, RegistryError> {
        referrers::list_signatures(self, subject, limit)
    }

    fn push_signature(
        &self,
        subject: &Descriptor,
        envelope: &[u8],
        envelope_media_type: &str,
        annotations: BTreeMap<String, String>,
    ) -> Result<PushedSignature, RegistryError> {
        referrers::push_signature(self, subject, envelope, envelope_media_type, annotations)
    }
}
