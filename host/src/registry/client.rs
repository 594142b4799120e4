//! The registry client: one repository in an OCI distribution registry,
//! spoken to over HTTPS (or plain HTTP when allowed) with `ureq`.
//!
//! Every request has a timeout; every manifest and blob read is checked
//! against its digest and size and capped; 401 challenges are answered
//! once (Basic or Bearer) and the resulting `Authorization` header is
//! reused for later requests.
//!
//! Credentials stay with the registry: an `Authorization` header is only
//! ever attached to, and a challenge only ever answered for, a URL whose
//! scheme, host and port equal the registry's ([`Origin`]). Requests to
//! other origins (an upload `Location` on a storage backend, a redirect
//! target) go out without credentials, and their 401s are errors. Redirects
//! never carry the header (ureq's default). The one deliberate exception
//! is the token service named by a Bearer challenge, which receives the
//! Basic credentials; its realm must be `https://` unless the registry
//! itself is plain HTTP.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use notation_plugin_sdk::descriptor::Descriptor;
use ureq::http::{Response, Uri};
use ureq::{Body, ResponseExt};
use zeroize::Zeroizing;

use super::auth::{self, Challenge};
use super::credentials::{CredentialSource, Credentials};
use super::error::RegistryError;
use super::oci::{self, MAX_MANIFEST_SIZE};
use super::reference::{registry_host, Reference, Target};
use super::{ArtifactStore, PushedSignature};

/// Default timeout for one whole request (connect, send, receive).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest error body we read to explain a failed request.
const ERROR_BODY_CAP: u64 = 64 * 1024;

/// How to reach a registry.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Use plain HTTP (for `--insecure-registry` and config
    /// `insecureRegistries`). `localhost` always uses plain HTTP.
    pub insecure: bool,
    /// Extra PEM file of CA certificates for a private registry. When set,
    /// only the certificates in this file are trusted for TLS (put the
    /// public roots in the same file if the token service uses them).
    pub ca_file: Option<PathBuf>,
    /// Timeout for one whole request.
    pub timeout: Duration,
    /// Timeout for establishing a connection.
    pub connect_timeout: Duration,
    /// Always use the referrers tag schema when pushing signatures, even
    /// if the registry supports the Referrers API (`--force-referrers-tag`).
    pub force_referrers_tag: bool,
    /// `User-Agent` header value.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            insecure: false,
            ca_file: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            force_referrers_tag: false,
            user_agent: format!("notation-rs/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Whether plain HTTP is used for `registry`: when the caller says it is
/// insecure, or the host is `localhost` / `localhost:PORT`.
pub fn uses_plain_http(registry: &str, insecure: bool) -> bool {
    insecure || registry == "localhost" || registry.starts_with("localhost:")
}

/// The scheme, host and port of a URL: what must match the registry's
/// before credentials go with a request. Scheme and host are lowercased;
/// a missing port is the scheme's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an absolute `http`/`https` URL; `None` for anything
    /// else (relative URLs, other schemes, unparsable text).
    pub fn of(url: &str) -> Option<Origin> {
        let uri: Uri = url.parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let host = uri.host().filter(|h| !h.is_empty())?.to_ascii_lowercase();
        Some(Origin {
            port: uri.port_u16().unwrap_or(default_port),
            scheme,
            host,
        })
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// A client for one repository of one registry.
pub struct RegistryClient {
    registry: String,
    repository: String,
    base: String,
    /// Origin of `base`: the only one credentials are sent to.
    origin: Origin,
    plain_http: bool,
    agent: ureq::Agent,
    options: ClientOptions,
    credentials: Box<dyn CredentialSource>,
    state: Mutex<AuthState>,
    /// `Some(true)` once the Referrers API answered, `Some(false)` once
    /// it is known to be missing.
    referrers_api: Mutex<Option<bool>>,
}

#[derive(Default)]
struct AuthState {
    header: Option<Zeroizing<String>>,
    /// Credentials, looked up once (`Some(None)`: none available).
    creds: Option<Option<Credentials>>,
}

/// A response with its status and the headers we use.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) url: String,
    pub(crate) response: Response<Body>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("registry", &self.registry)
            .field("repository", &self.repository)
            .field("base", &self.base)
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
    /// `docker.io` connects to `registry-1.docker.io`).
    pub fn new(
        registry: &str,
        repository: &str,
        options: ClientOptions,
        credentials: Box<dyn CredentialSource>,
    ) -> Result<Self, RegistryError> {
        let plain_http = uses_plain_http(registry, options.insecure);
        let scheme = if plain_http { "http" } else { "https" };
        let base = format!("{scheme}://{}", registry_host(registry));
        let origin = Origin::of(&base).ok_or_else(|| {
            RegistryError::Config(format!(
                "registry {registry:?} does not form a valid URL ({base})"
            ))
        })?;
        let root_certs = match &options.ca_file {
            None => ureq::tls::RootCerts::PlatformVerifier,
            Some(path) => {
                let pem = std::fs::read(path).map_err(|source| RegistryError::Io {
                    action: "read the CA file",
                    path: path.clone(),
                    source,
                })?;
                let certs = openssl::x509::X509::stack_from_pem(&pem).map_err(|e| {
                    RegistryError::Config(format!(
                        "CA file {} is not PEM certificates: {e}",
                        path.display()
                    ))
                })?;
                if certs.is_empty() {
                    return Err(RegistryError::Config(format!(
                        "CA file {} holds no certificates",
                        path.display()
                    )));
                }
                let mut ders = Vec::new();
                for c in certs {
                    let der = c.to_der().map_err(|e| {
                        RegistryError::Config(format!("CA file {}: {e}", path.display()))
                    })?;
                    ders.push(ureq::tls::Certificate::from_der(&der).to_owned());
                }
                ureq::tls::RootCerts::new_with_certs(&ders)
            }
        };
        let agent: ureq::Agent = crate::http::agent_config(Some(root_certs), options.timeout)
            .timeout_connect(Some(options.connect_timeout))
            .user_agent(options.user_agent.as_str())
            .max_redirects(5)
            .build()
            .into();
        Ok(RegistryClient {
            registry: registry.to_string(),
            repository: repository.to_string(),
            base,
            origin,
            plain_http,
            agent,
            options,
            credentials,
            state: Mutex::new(AuthState::default()),
            referrers_api: Mutex::new(None),
        })
    }

    /// The registry name.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository name.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{}", self.base, self.repository, path)
    }

    /// Check that the registry is reachable and the credentials work
    /// (`GET /v2/`), as `notation login` does.
    pub fn ping(&self) -> Result<(), RegistryError> {
        let url = format!("{}/v2/", self.base);
        let reply = self.send("GET", &url, &[], None, false)?;
        match reply.status {
            200 => Ok(()),
            _ => Err(self.status_error("GET", reply)),
        }
    }

    fn host(&self) -> String {
        registry_host(&self.registry).to_string()
    }

    fn transport_error(&self, url: &str, e: ureq::Error) -> RegistryError {
        let host = self.host();
        match e {
            ureq::Error::Timeout(_) => RegistryError::Timeout {
                host,
                url: url.to_string(),
                seconds: self.options.timeout.as_secs(),
            },
            ureq::Error::Tls(_) | ureq::Error::NativeTls(_) | ureq::Error::Der(_) => {
                RegistryError::Tls {
                    host,
                    detail: e.to_string(),
                }
            }
            ureq::Error::Io(ref io) if io.to_string().to_ascii_lowercase().contains("ssl") => {
                RegistryError::Tls {
                    host,
                    detail: e.to_string(),
                }
            }
            other => RegistryError::Unreachable {
                host: host.clone(),
                url: url.to_string(),
                detail: other.to_string(),
                hint: if self.plain_http {
                    String::new()
                } else {
                    format!("; if {host} is a plain-HTTP registry use --insecure-registry")
                },
            },
        }
    }

    fn credentials(&self) -> Result<Option<Credentials>, RegistryError> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = &st.creds {
            return Ok(c.clone());
        }
        let c = self.credentials.get(&self.registry)?;
        st.creds = Some(c.clone());
        Ok(c)
    }

    fn raw(
        &self,
        method: &'static str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        auth: Option<&str>,
    ) -> Result<Response<Body>, RegistryError> {
        macro_rules! with_headers {
            ($req:expr) => {{
                let mut r = $req;
                for (k, v) in headers {
                    r = r.header(*k, *v);
                }
                if let Some(a) = auth {
                    r = r.header("Authorization", a);
                }
                r
            }};
        }
        let result = match method {
            "GET" => with_headers!(self.agent.get(url)).call(),
            "HEAD" => with_headers!(self.agent.head(url)).call(),
            "DELETE" => with_headers!(self.agent.delete(url)).call(),
            "PUT" => with_headers!(self.agent.put(url)).send(body.unwrap_or_default()),
            "POST" => with_headers!(self.agent.post(url)).send(body.unwrap_or_default()),
            _ => {
                return Err(RegistryError::Config(format!(
                    "unsupported HTTP method {method}"
                )))
            }
        };
        result.map_err(|e| self.transport_error(url, e))
    }

    /// Whether `url` has the registry's scheme, host and port, i.e.
    /// whether credentials may go with it.
    pub(crate) fn is_registry_origin(&self, url: &str) -> bool {
        Origin::of(url).as_ref() == Some(&self.origin)
    }

    /// Send a request, answering one 401 challenge. Credentials (the
    /// cached header or a fresh answer to a challenge) are only used when
    /// `url`, and the URL that finally answered after redirects, are on the
    /// registry's origin; a 401 from anywhere else is
    /// [`RegistryError::ForeignChallenge`].
    pub(crate) fn send(
        &self,
        method: &'static str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        push: bool,
    ) -> Result<Reply, RegistryError> {
        let ours = self.is_registry_origin(url);
        let cached = if ours {
            let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.header.clone()
        } else {
            None
        };
        let resp = self.raw(
            method,
            url,
            headers,
            body,
            cached.as_ref().map(|h| h.as_str()),
        )?;
        if resp.status().as_u16() != 401 {
            return Ok(Reply {
                status: resp.status().as_u16(),
                url: url.to_string(),
                response: resp,
            });
        }
        // Who asked: after redirects this may be another server.
        let answered_by = resp.get_uri().to_string();
        if !ours || !self.is_registry_origin(&answered_by) {
            return Err(RegistryError::ForeignChallenge {
                host: self.host(),
                url: answered_by,
            });
        }
        let challenge_text = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let creds = self.credentials()?;
        let unauthorized = |status: u16| {
            RegistryError::unauthorized(self.host(), url.to_string(), status, creds.is_some())
        };
        let header = match auth::parse_challenge(&challenge_text) {
            Some(Challenge::Basic) => {
                let Some(h) = creds.as_ref().and_then(Credentials::basic_header) else {
                    return Err(unauthorized(401));
                };
                if cached.as_ref().map(|c| c.as_str()) == Some(h.as_str()) {
                    // These credentials were already refused.
                    return Err(unauthorized(401));
                }
                h
            }
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                let mut scopes = Vec::new();
                if let Some(s) = scope.filter(|s| !s.is_empty()) {
                    scopes.extend(s.split(' ').map(str::to_string));
                }
                let ours = auth::repository_scope(&self.repository, push);
                if !scopes.contains(&ours) {
                    scopes.push(ours);
                }
                let token = auth::fetch_token(
                    &self.agent,
                    &self.host(),
                    self.plain_http,
                    &realm,
                    service.as_deref(),
                    &scopes,
                    creds.as_ref(),
                )?;
                Zeroizing::new(format!("Bearer {}", token.as_str()))
            }
            None if challenge_text.is_empty() => return Err(unauthorized(401)),
            None => {
                return Err(RegistryError::UnsupportedChallenge {
                    host: self.host(),
                    challenge: challenge_text,
                })
            }
        };
        let resp = self.raw(method, url, headers, body, Some(header.as_str()))?;
        let status = resp.status().as_u16();
        if status == 401 && !self.is_registry_origin(&resp.get_uri().to_string()) {
            return Err(RegistryError::ForeignChallenge {
                host: self.host(),
                url: resp.get_uri().to_string(),
            });
        }
        if status == 401 {
            let refused_scope = resp
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .is_some_and(auth::is_insufficient_scope);
            if refused_scope && creds.is_some() {
                // The token service accepted the credentials but granted
                // less than this operation needs.
                return Err(RegistryError::Unauthorized {
                    host: self.host(),
                    url: url.to_string(),
                    status,
                    with: " with the provided credentials",
                    advice: if push {
                        "the credentials are valid but lack push access to this repository, which storing a signature needs; ask the registry administrator"
                    } else {
                        "the credentials are valid but lack pull access to this repository; ask the registry administrator"
                    },
                });
            }
            return Err(unauthorized(401));
        }
        self.state.lock().unwrap_or_else(|p| p.into_inner()).header = Some(header);
        Ok(Reply {
            status,
            url: url.to_string(),
            response: resp,
        })
    }

    /// Turn an unexpected reply into an error, reading the registry's error
    /// JSON for the message.
    pub(crate) fn status_error(&self, method: &'static str, reply: Reply) -> RegistryError {
        let Reply {
            status,
            url,
            response,
        } = reply;
        if status == 403 {
            return RegistryError::Unauthorized {
                host: self.host(),
                url,
                status,
                with: "",
                advice: "the credentials are valid but lack permission for this repository; ask the registry administrator",
            };
        }
        let body = response
            .into_body()
            .with_config()
            .limit(ERROR_BODY_CAP)
            .read_to_vec()
            .unwrap_or_default();
        RegistryError::Status {
            host: self.host(),
            method,
            url,
            status,
            detail: error_detail(&body),
        }
    }

    /// Fetch a manifest by tag or digest. The bytes are checked against
    /// the digest (given, or the `Docker-Content-Digest` header for tags)
    /// and capped at 4 MiB. Returns its descriptor and bytes.
    pub fn get_manifest(&self, target: &Target) -> Result<(Descriptor, Vec<u8>), RegistryError> {
        let url = self.url(&format!("manifests/{}", target.as_str()));
        let accept = oci::MANIFEST_MEDIA_TYPES.join(", ");
        let reply = self.send("GET", &url, &[("Accept", &accept)], None, false)?;
        match reply.status {
            200 => {}
            404 => {
                return Err(RegistryError::NotFound {
                    what: match target {
                        Target::Tag(t) => {
                            format!("tag {t} in {}/{}", self.registry, self.repository)
                        }
                        Target::Digest(d) => {
                            format!("manifest {d} in {}/{}", self.registry, self.repository)
                        }
                    },
                    url,
                })
            }
            _ => return Err(self.status_error("GET", reply)),
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

    /// Whether a blob exists (`HEAD /v2/<repo>/blobs/<digest>`).
    pub fn blob_exists(&self, digest: &str) -> Result<bool, RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        let reply = self.send("HEAD", &url, &[], None, false)?;
        match reply.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(self.status_error("HEAD", reply)),
        }
    }

    /// Upload a blob monolithically (POST, then PUT `?digest=`), unless it
    /// already exists. An absolute upload `Location` on another origin
    /// (a storage backend, as the distribution spec allows) is followed
    /// without credentials (see `send`).
    pub fn push_blob(&self, bytes: &[u8], digest: &str) -> Result<(), RegistryError> {
        if self.blob_exists(digest)? {
            return Ok(());
        }
        let url = self.url("blobs/uploads/");
        let reply = self.send("POST", &url, &[("Content-Length", "0")], Some(&[]), true)?;
        if reply.status != 202 {
            return Err(self.status_error("POST", reply));
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
        let mut put_url = if location.starts_with("http://") || location.starts_with("https://") {
            location
        } else if location.starts_with('/') {
            format!("{}{}", self.base, location)
        } else {
            format!(
                "{}/v2/{}/blobs/uploads/{}",
                self.base, self.repository, location
            )
        };
        put_url.push(if put_url.contains('?') { '&' } else { '?' });
        put_url.push_str("digest=");
        put_url.push_str(&digest.replace(':', "%3A"));
        let reply = self.send(
            "PUT",
            &put_url,
            &[("Content-Type", "application/octet-stream")],
            Some(bytes),
            true,
        )?;
        match reply.status {
            201 | 204 => Ok(()),
            _ => Err(self.status_error("PUT", reply)),
        }
    }

    /// Upload a manifest under `reference` (a digest or a tag). Returns
    /// the `OCI-Subject` response header, if any.
    pub fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Option<String>, RegistryError> {
        let url = self.url(&format!("manifests/{reference}"));
        let reply = self.send(
            "PUT",
            &url,
            &[("Content-Type", media_type)],
            Some(bytes),
            true,
        )?;
        match reply.status {
            201 | 200 | 204 => Ok(reply.header("oci-subject")),
            _ => Err(self.status_error("PUT", reply)),
        }
    }

    /// Delete a manifest by digest.
    pub fn delete_manifest(&self, digest: &str) -> Result<(), RegistryError> {
        let url = self.url(&format!("manifests/{digest}"));
        let reply = self.send("DELETE", &url, &[], None, true)?;
        match reply.status {
            200 | 202 | 204 => Ok(()),
            _ => Err(self.status_error("DELETE", reply)),
        }
    }

    pub(crate) fn referrers_api_state(&self) -> Option<bool> {
        *self.referrers_api.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set_referrers_api_state(&self, v: bool) {
        *self.referrers_api.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
    }

    pub(crate) fn force_referrers_tag(&self) -> bool {
        self.options.force_referrers_tag
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }
}

/// Read at most `limit` bytes; more is an error.
pub(crate) fn read_capped(
    reader: &mut dyn Read,
    limit: u64,
    what: &'static str,
    source_name: &str,
) -> Result<Vec<u8>, RegistryError> {
    let mut out = Vec::new();
    let n = std::io::Read::take(reader, limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| RegistryError::Malformed {
            what,
            source_name: source_name.to_string(),
            detail: format!("read failed: {e}"),
        })?;
    if u64::try_from(n).unwrap_or(u64::MAX) > limit {
        return Err(RegistryError::TooLarge {
            what,
            source_name: source_name.to_string(),
            limit,
        });
    }
    Ok(out)
}

/// `": CODE: message"` from a registry error body, or empty.
fn error_detail(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Errors>(body) {
        Ok(e) if !e.errors.is_empty() => {
            let parts: Vec<String> = e
                .errors
                .iter()
                .take(3)
                .map(|x| {
                    format!(
                        "{}: {}",
                        x.code,
                        x.message.chars().take(200).collect::<String>()
                    )
                })
                .collect();
            format!(": {}", parts.join("; "))
        }
        _ => String::new(),
    }
}

impl ArtifactStore for RegistryClient {
    fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    fn resolve(&self, target: &Target) -> Result<Descriptor, RegistryError> {
        self.get_manifest(target).map(|(d, _)| d)
    }

    fn fetch_manifest(&self, desc: &Descriptor) -> Result<Vec<u8>, RegistryError> {
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

    fn fetch_blob(&self, desc: &Descriptor, limit: u64) -> Result<Vec<u8>, RegistryError> {
        oci::parse_digest(&desc.digest)?;
        let url = self.url(&format!("blobs/{}", desc.digest));
        if desc.size > limit {
            return Err(RegistryError::TooLarge {
                what: "blob",
                source_name: url,
                limit,
            });
        }
        let reply = self.send("GET", &url, &[], None, false)?;
        match reply.status {
            200 => {}
            404 => {
                return Err(RegistryError::NotFound {
                    what: format!("blob {}", desc.digest),
                    url,
                })
            }
            _ => return Err(self.status_error("GET", reply)),
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
    }

    fn list_signatures(
        &self,
        subject: &Descriptor,
        limit: usize,
    ) -> Result<Vec<Descriptor>, RegistryError> {
        super::referrers::list_signatures(self, subject, limit)
    }

    fn push_signature(
        &self,
        subject: &Descriptor,
        envelope: &[u8],
        envelope_media_type: &str,
        annotations: BTreeMap<String, String>,
    ) -> Result<PushedSignature, RegistryError> {
        super::referrers::push_signature(self, subject, envelope, envelope_media_type, annotations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_rules() {
        assert!(uses_plain_http("localhost", false));
        assert!(uses_plain_http("localhost:5000", false));
        assert!(!uses_plain_http("127.0.0.1:5000", false));
        assert!(!uses_plain_http("localhost.example.com", false));
        assert!(uses_plain_http("127.0.0.1:5000", true));
    }

    #[test]
    fn error_detail_from_registry_json() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        assert_eq!(error_detail(body), ": MANIFEST_UNKNOWN: manifest unknown");
        assert_eq!(error_detail(b"<html>"), "");
    }
}
