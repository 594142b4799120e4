//! The registry client: one repository in an OCI distribution registry,
//! spoken to over HTTPS (or plain HTTP when allowed) with `ureq`.
//!
//! Layers: [`super::transport`] sends requests (time bounds, retries,
//! authentication; see its docs for the rules); this module has the
//! repository operations on top of it (manifests and blobs, every read
//! checked against its digest and size and capped); the referrers logic
//! ([`super::referrers`]) sits above both, and the `store` module puts them
//! together as an [`super::ArtifactStore`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use notation_plugin_sdk::descriptor::Descriptor;

use super::content_cache::ContentCache;
use super::credentials::CredentialSource;
use super::error::RegistryError;
use super::oci::{self, MAX_MANIFEST_SIZE};
use super::reference::{Reference, Target};
use super::transport::{self, Reply, Request, Transport};

pub(crate) use super::transport::read_capped;
pub use super::transport::{
    uses_plain_http, ClientOptions, Origin, RetryPolicy, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT, DEFAULT_TIMEOUT,
};

/// A client for one repository of one registry.
///
/// It is `Send + Sync`: independent requests may be issued from several
/// threads at once over the one connection pool.
pub struct RegistryClient {
    /// Shared with the thread that opens an upload session ahead.
    transport: Arc<Transport>,
    /// `Some(true)` once the Referrers API answered, `Some(false)` once
    /// it is known to be missing.
    referrers_api: Mutex<Option<bool>>,
    /// Blobs known to be in the repository (uploaded or seen by this
    /// client), so that e.g. the empty config is uploaded once.
    known_blobs: Mutex<HashSet<String>>,
    /// An upload session being opened ahead of time
    /// ([`RegistryClient::prepare_upload`]): the thread yields the URL that
    /// takes the bytes of the next blob with `PUT ?digest=`.
    pending_upload: Mutex<Option<JoinHandle<Option<String>>>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("registry", &self.transport.registry())
            .field("repository", &self.transport.repository())
            .field("base", &self.transport.base())
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// A client for `reference`'s registry and repository.
    pub fn for_reference(
        reference: &Reference,
        options: ClientOptions,
        credentials: Box<dyn CredentialSource>,
    ) -> Result<Self, RegistryError> {
        Self::new(
            &reference.registry,
            &reference.repository,
            options,
            credentials,
        )
    }

    /// A client for `repository` in `registry` (as written in references;
    /// `docker.io` connects to `registry-1.docker.io`). The
    /// `NOTATION_REGISTRY_*` environment variables override the time
    /// bounds and retries in `options` (an unparsable value is an error).
    pub fn new(
        registry: &str,
        repository: &str,
        options: ClientOptions,
        credentials: Box<dyn CredentialSource>,
    ) -> Result<Self, RegistryError> {
        Ok(RegistryClient {
            transport: Arc::new(Transport::new(registry, repository, options, credentials)?),
            referrers_api: Mutex::new(None),
            known_blobs: Mutex::new(HashSet::new()),
            pending_upload: Mutex::new(None),
        })
    }

    /// The registry name.
    pub fn registry(&self) -> &str {
        self.transport.registry()
    }

    /// The repository name.
    pub fn repository(&self) -> &str {
        self.transport.repository()
    }

    /// The options in effect (after the environment overrides).
    pub fn options(&self) -> &ClientOptions {
        self.transport.options()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        self.transport.url(path)
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Check that the registry is reachable and the credentials work
    /// (`GET /v2/`), as `notation login` does.
    pub fn ping(&self) -> Result<(), RegistryError> {
        let url = format!("{}/v2/", self.transport.base());
        let reply = self.transport.send(&Request::get(&url, &[]))?;
        match reply.status {
            200 => Ok(()),
            _ => Err(self.transport.status_error("GET", reply)),
        }
    }

    fn host(&self) -> String {
        self.transport.host()
    }

    /// Fetch a manifest by tag or digest. The bytes are checked against
    /// the digest (given, or the `Docker-Content-Digest` header for tags)
    /// and capped at 4 MiB. Returns its descriptor and bytes. A body that
    /// is cut off or damaged is fetched again (bounded).
    pub fn get_manifest(&self, target: &Target) -> Result<(Descriptor, Vec<u8>), RegistryError> {
        let url = self.url(&format!("manifests/{}", target.as_str()));
        self.transport
            .retry(&format!("GET {url}"), transport::is_body_fault, || {
                self.get_manifest_once(target, &url)
            })
    }

    fn get_manifest_once(
        &self,
        target: &Target,
        url: &str,
    ) -> Result<(Descriptor, Vec<u8>), RegistryError> {
        let url = url.to_string();
        let accept = oci::MANIFEST_MEDIA_TYPES.join(", ");
        let reply = self
            .transport
            .send(&Request::get(&url, &[("Accept", &accept)]))?;
        match reply.status {
            200 => {}
            404 => {
                return Err(RegistryError::NotFound {
                    what: match target {
                        Target::Tag(t) => {
                            format!("tag {t} in {}/{}", self.registry(), self.repository())
                        }
                        Target::Digest(d) => {
                            format!("manifest {d} in {}/{}", self.registry(), self.repository())
                        }
                    },
                    url,
                })
            }
            _ => return Err(self.transport.status_error("GET", reply)),
        }
        let header_digest = reply.header("docker-content-digest");
        let content_type = reply.header("content-type");
        let declared_len = reply
            .header("content-length")
            .and_then(|v| v.parse::<u64>().ok());
        if declared_len.is_some_and(|l| l > MAX_MANIFEST_SIZE) {
            return Err(RegistryError::TooLarge {
                what: "manifest",
                source_name: url,
                limit: MAX_MANIFEST_SIZE,
            });
        }
        let mut reader = reply.response.into_body().into_reader();
        let bytes = match target {
            Target::Digest(d) => {
                oci::read_verified(&mut reader, d, None, MAX_MANIFEST_SIZE, "manifest", &url)?
            }
            Target::Tag(_) => {
                let bytes = read_capped(&mut reader, MAX_MANIFEST_SIZE, "manifest", &url)?;
                if let Some(h) = header_digest.as_deref() {
                    if let Ok((alg, _)) = oci::parse_digest(h) {
                        let mut hasher = oci::Hasher::new(alg);
                        hasher.update(&bytes);
                        let actual = hasher.finish();
                        if actual != h {
                            return Err(RegistryError::DigestMismatch {
                                source_name: url,
                                expected: h.to_string(),
                                actual,
                            });
                        }
                    }
                }
                bytes
            }
        };
        let digest = match target {
            Target::Digest(d) => d.clone(),
            Target::Tag(_) => oci::sha256_digest(&bytes),
        };
        let media_type = content_type
            .map(|c| c.split(';').next().unwrap_or("").trim().to_string())
            .filter(|c| oci::MANIFEST_MEDIA_TYPES.contains(&c.as_str()))
            .or_else(|| oci::sniff_media_type(&bytes))
            .ok_or_else(|| RegistryError::UnsupportedMediaType {
                media_type: "(none)".into(),
                what: "manifest",
                source_name: url.clone(),
            })?;
        let desc = Descriptor::new(media_type, digest, oci::len64(&bytes));
        Ok((desc, bytes))
    }

    /// Fetch a manifest by descriptor: digest and size checked, capped at
    /// [`MAX_MANIFEST_SIZE`].
    pub fn fetch_manifest_checked(&self, desc: &Descriptor) -> Result<Vec<u8>, RegistryError> {
        if desc.size > MAX_MANIFEST_SIZE {
            return Err(RegistryError::TooLarge {
                what: "manifest",
                source_name: self.url(&format!("manifests/{}", desc.digest)),
                limit: MAX_MANIFEST_SIZE,
            });
        }
        let (got, bytes) = self.get_manifest(&Target::Digest(desc.digest.clone()))?;
        if got.size != desc.size {
            return Err(RegistryError::SizeMismatch {
                source_name: self.url(&format!("manifests/{}", desc.digest)),
                expected: desc.size,
                actual: got.size,
            });
        }
        Ok(bytes)
    }

    /// Fetch a blob by descriptor: digest and size checked, refused when
    /// larger than `limit`. A body that is cut off or damaged is fetched
    /// again (bounded).
    pub fn fetch_blob_checked(
        &self,
        desc: &Descriptor,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        oci::parse_digest(&desc.digest)?;
        let url = self.url(&format!("blobs/{}", desc.digest));
        if desc.size > limit {
            return Err(RegistryError::TooLarge {
                what: "blob",
                source_name: url,
                limit,
            });
        }
        self.transport
            .retry(&format!("GET {url}"), transport::is_body_fault, || {
                let reply = self.transport.send(&Request::get(&url, &[]))?;
                match reply.status {
                    200 => {}
                    404 => {
                        return Err(RegistryError::NotFound {
                            what: format!("blob {}", desc.digest),
                            url: url.clone(),
                        })
                    }
                    _ => return Err(self.transport.status_error("GET", reply)),
                }
                let mut reader = reply.response.into_body().into_reader();
                oci::read_verified(
                    &mut reader,
                    &desc.digest,
                    Some(desc.size),
                    limit,
                    "blob",
                    &url,
                )
            })
    }

    /// Whether a blob exists (`HEAD /v2/<repo>/blobs/<digest>`).
    pub fn blob_exists(&self, digest: &str) -> Result<bool, RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        let reply = self.transport.send(&Request {
            method: "HEAD",
            url: &url,
            headers: &[],
            body: None,
            push: false,
            idempotent: true,
        })?;
        match reply.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(self.transport.status_error("HEAD", reply)),
        }
    }

    /// Upload a blob. No existence check: the upload starts with a
    /// monolithic `POST …/blobs/uploads/?digest=` carrying the bytes; a
    /// registry that completes it answers 201, one that does not answers
    /// 202 with a `Location`, which gets the bytes with `PUT ?digest=`. An
    /// absolute `Location` on another origin (a storage backend, as the
    /// distribution spec allows) is followed without credentials. A
    /// transient failure restarts the whole upload (bounded). A blob this
    /// client already uploaded is not sent again.
    pub fn push_blob(&self, bytes: &[u8], digest: &str) -> Result<(), RegistryError> {
        oci::parse_digest(digest)?;
        if self.blob_known(digest) {
            return Ok(());
        }
        self.transport.retry(
            &format!("upload of blob {digest}"),
            transport::is_transient,
            || self.upload_once(bytes, digest),
        )?;
        self.known_blobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(digest.to_string());
        Ok(())
    }

    /// Upload a blob unless the registry has it (`HEAD` first): for blobs
    /// that are usually present already, such as the empty config.
    pub fn ensure_blob(&self, bytes: &[u8], digest: &str) -> Result<(), RegistryError> {
        if self.blob_known(digest) {
            return Ok(());
        }
        // A failed check is no reason to fail: the upload decides.
        if self.blob_exists(digest).unwrap_or(false) {
            self.known_blobs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(digest.to_string());
            return Ok(());
        }
        self.push_blob(bytes, digest)
    }

    fn blob_known(&self, digest: &str) -> bool {
        self.known_blobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(digest)
    }

    /// Starts opening an upload session (`POST .../blobs/uploads/`, no
    /// body) on a thread of its own and returns at once, so that the next
    /// blob upload needs only its `PUT`: `sign` calls it before it resolves
    /// the reference, and the `POST` finishes while the reference resolves
    /// and the envelope is signed. Best effort: a failure here only means
    /// the upload opens its own session later. Nobody waits for a session
    /// that is not used (the registry purges it).
    pub fn prepare_upload(&self) {
        let transport = Arc::clone(&self.transport);
        let opening = std::thread::spawn(move || {
            let url = transport.url("blobs/uploads/");
            transport
                .send(&Request {
                    method: "POST",
                    url: &url,
                    headers: &[("Content-Length", "0")],
                    body: Some(&[]),
                    push: true,
                    idempotent: false,
                })
                .ok()
                .filter(|reply| reply.status == 202)
                .and_then(|reply| reply.header("location"))
                .map(|location| upload_url(&transport, location))
        });
        *self
            .pending_upload
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(opening);
    }

    /// `PUT ?digest=` of the whole blob to the upload session at `url`.
    fn put_upload(&self, url: &str, bytes: &[u8], encoded: &str) -> Result<(), RegistryError> {
        let mut put_url = url.to_string();
        put_url.push(if put_url.contains('?') { '&' } else { '?' });
        put_url.push_str("digest=");
        put_url.push_str(encoded);
        let reply = self.transport.send(&Request {
            method: "PUT",
            url: &put_url,
            headers: &[("Content-Type", "application/octet-stream")],
            body: Some(bytes),
            push: true,
            idempotent: false,
        })?;
        match reply.status {
            201 | 204 => Ok(()),
            _ => Err(self.transport.status_error("PUT", reply)),
        }
    }

    fn upload_once(&self, bytes: &[u8], digest: &str) -> Result<(), RegistryError> {
        let encoded = digest.replace(':', "%3A");
        // A session opened ahead is used once; if it fails for any reason
        // (expired, refused), the upload starts over with its own POST.
        let pending = self
            .pending_upload
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        // A panic in the opening thread (a bug) just means no session.
        if let Some(url) = pending.and_then(|opening| opening.join().ok().flatten()) {
            if self.put_upload(&url, bytes, &encoded).is_ok() {
                return Ok(());
            }
        }
        let url = self.url(&format!("blobs/uploads/?digest={encoded}"));
        let reply = self.transport.send(&Request {
            method: "POST",
            url: &url,
            headers: &[("Content-Type", "application/octet-stream")],
            body: Some(bytes),
            push: true,
            idempotent: false,
        })?;
        match reply.status {
            201 => return Ok(()),
            202 => {}
            _ => return Err(self.transport.status_error("POST", reply)),
        }
        let location = reply
            .header("location")
            .ok_or_else(|| RegistryError::Status {
                host: self.host(),
                method: "POST",
                url: url.clone(),
                status: 202,
                detail: ": the upload response has no Location header".into(),
            })?;
        self.put_upload(&upload_url(&self.transport, location), bytes, &encoded)
    }

    /// Upload a manifest under `reference` (a digest or a tag). Returns
    /// the `OCI-Subject` response header, if any. A `PUT` by digest is
    /// retried on transient failures; a `PUT` to a tag is not (the caller
    /// decides, e.g. by reading the tag back).
    pub fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Option<String>, RegistryError> {
        let url = self.url(&format!("manifests/{reference}"));
        let by_digest = oci::parse_digest(reference).is_ok();
        let reply = self.transport.send(&Request {
            method: "PUT",
            url: &url,
            headers: &[("Content-Type", media_type)],
            body: Some(bytes),
            push: true,
            idempotent: by_digest,
        })?;
        match reply.status {
            201 | 200 | 204 => Ok(reply.header("oci-subject")),
            _ => Err(self.transport.status_error("PUT", reply)),
        }
    }

    /// Delete a manifest by digest. A manifest that is already gone counts
    /// as deleted.
    pub fn delete_manifest(&self, digest: &str) -> Result<(), RegistryError> {
        let url = self.url(&format!("manifests/{digest}"));
        let reply = self.transport.send(&Request {
            method: "DELETE",
            url: &url,
            headers: &[],
            body: None,
            push: true,
            idempotent: false,
        })?;
        match reply.status {
            200 | 202 | 204 | 404 => Ok(()),
            _ => Err(self.transport.status_error("DELETE", reply)),
        }
    }

    pub(crate) fn send(&self, req: &Request<'_>) -> Result<Reply, RegistryError> {
        self.transport.send(req)
    }

    pub(crate) fn status_error(&self, method: &'static str, reply: Reply) -> RegistryError {
        self.transport.status_error(method, reply)
    }

    /// Whether the registry has the Referrers API: what this client
    /// learnt, else the fresh memo in the cache dir, else unknown.
    pub(crate) fn referrers_api_state(&self) -> Option<bool> {
        let mut st = self.referrers_api.lock().unwrap_or_else(|p| p.into_inner());
        if st.is_none() {
            if let Some(dir) = &self.transport.options().cache_dir {
                *st = super::memo::load(dir, &self.host());
            }
        }
        *st
    }

    /// Record what the registry showed; the memo is rewritten when it
    /// changes.
    pub(crate) fn set_referrers_api_state(&self, v: bool) {
        let before = self.referrers_api_state();
        *self.referrers_api.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
        if before != Some(v) {
            if let Some(dir) = &self.transport.options().cache_dir {
                super::memo::store(dir, &self.host(), v);
            }
        }
    }

    /// The signature content cache under the cache dir, if there is one.
    pub(crate) fn content_cache(&self) -> Option<ContentCache> {
        self.transport
            .options()
            .cache_dir
            .as_deref()
            .map(ContentCache::new)
    }

    pub(crate) fn force_referrers_tag(&self) -> bool {
        self.transport.options().force_referrers_tag
    }

    pub(crate) fn base(&self) -> &str {
        self.transport.base()
    }

    pub(crate) fn is_registry_origin(&self, url: &str) -> bool {
        self.transport.is_registry_origin(url)
    }
}

/// The absolute URL of an upload `Location` (absolute, rooted or relative
/// to the uploads path).
fn upload_url(transport: &Transport, location: String) -> String {
    let base = transport.base();
    if location.starts_with("http://") || location.starts_with("https://") {
        location
    } else if location.starts_with('/') {
        format!("{base}{location}")
    } else {
        format!(
            "{base}/v2/{}/blobs/uploads/{location}",
            transport.repository()
        )
    }
}
