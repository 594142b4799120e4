//! Errors of the registry client, the OCI layout store and credential
//! handling. Every variant carries the values needed to explain what
//! happened; messages say what happened, why, and what to do.

use std::path::PathBuf;

/// What went wrong while talking to a registry or reading an OCI layout.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The reference string could not be parsed.
    #[error("invalid reference {reference:?}: {reason}; expected <registry>/<repository>:<tag> or <registry>/<repository>@<algorithm>:<hex>, e.g. localhost:5000/net-monitor@sha256:<64 hex digits>")]
    InvalidReference {
        /// The input as given.
        reference: String,
        /// Which part is wrong.
        reason: String,
    },
    /// A digest string is malformed or uses an unsupported algorithm.
    #[error(
        "invalid digest {digest:?}: {reason}; a digest looks like sha256:<64 lowercase hex digits>"
    )]
    InvalidDigest {
        /// The digest as given.
        digest: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The registry could not be reached at all.
    #[error("registry {host} is not reachable at {url}: {detail}; check the address and that the registry is running{hint}")]
    Unreachable {
        /// Registry host (with port).
        host: String,
        /// URL tried.
        url: String,
        /// Transport error text.
        detail: String,
        /// Extra advice, e.g. about `--insecure-registry`; may be empty.
        hint: String,
    },
    /// A TLS handshake failed.
    #[error("TLS connection to registry {host} failed: {detail}; if the registry uses a private CA pass its certificate with --ca-file, or for a plain-HTTP registry use --insecure-registry")]
    Tls {
        /// Registry host.
        host: String,
        /// TLS error text.
        detail: String,
    },
    /// The request timed out.
    #[error("request to {url} timed out after {seconds}s while {phase}; the registry {host} is slow or not responding, try again later (the limit is set with {setting})")]
    Timeout {
        /// Registry host.
        host: String,
        /// URL requested.
        url: String,
        /// The timeout that was exceeded, in seconds.
        seconds: u64,
        /// What was being waited for ("connecting", "waiting for the
        /// response", "reading the response body", "sending the request").
        phase: &'static str,
        /// The environment variable that sets this limit.
        setting: &'static str,
    },
    /// The connection broke while a response body was being read (cut
    /// off, reset, or framed wrongly).
    #[error("reading the {what} from {source_name} failed part-way: {detail}; the connection to the registry was interrupted, try again")]
    BodyRead {
        /// What was being read.
        what: &'static str,
        /// URL.
        source_name: String,
        /// The I/O error.
        detail: String,
        /// Whether no data arrived within the idle-read limit.
        timed_out: bool,
    },
    /// A request kept failing with transient errors until the retry
    /// bound was reached; `last` is the final failure.
    #[error("{last} (gave up after {attempts} attempts in {elapsed_ms} ms; the retry bound is set with NOTATION_REGISTRY_RETRIES)")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// Time spent, in milliseconds.
        elapsed_ms: u64,
        /// The last failure.
        last: Box<RegistryError>,
    },
    /// The signature manifest was stored, but the referrers tag-schema
    /// index that makes it findable could not be confirmed to list it.
    #[error("the signature manifest {manifest} was pushed but is not linked to its subject: the referrers index under tag {tag} did not list it after {rounds} write attempts ({detail}); `notation list` will not show this signature; other signers may be updating the same index at the same time, run notation sign again")]
    SignatureNotLinked {
        /// Digest of the signature manifest.
        manifest: String,
        /// The referrers tag.
        tag: String,
        /// Read-merge-write rounds made.
        rounds: u32,
        /// The last problem seen.
        detail: String,
    },
    /// The registry answered 401 even with credentials (or none were
    /// available).
    #[error("authentication to registry {host} failed{with}: the registry answered {status} for {url}; {advice}")]
    Unauthorized {
        /// Registry host.
        host: String,
        /// URL requested.
        url: String,
        /// HTTP status (401 or 403).
        status: u16,
        /// " with the provided credentials" or " (no credentials found)".
        with: &'static str,
        /// What to do.
        advice: &'static str,
    },
    /// A token server refused to issue a token or answered nonsense.
    #[error("token service {realm} for registry {host} failed: {detail}; check the credentials for {host} (notation login {host})")]
    TokenService {
        /// Registry host.
        host: String,
        /// Token realm URL.
        realm: String,
        /// What went wrong.
        detail: String,
    },
    /// A request to a URL outside the registry (an upload `Location` on a
    /// storage backend, or a redirect target) answered with an
    /// authentication challenge. Credentials are only ever sent to the
    /// registry itself, so it is not answered.
    #[error("{url} is not on registry {host} but asked for credentials (HTTP 401); notation sends credentials only to the registry's own scheme, host and port, so the request was not retried; the registry is misconfigured or redirecting somewhere it should not")]
    ForeignChallenge {
        /// Registry host.
        host: String,
        /// The URL that answered 401.
        url: String,
    },
    /// A referrers response linked its next page to another origin.
    #[error("registry {host} linked the next page of its referrers list to {link}, which is on another scheme, host or port; a registry must paginate on itself, so the link was not followed (no request was sent there)")]
    ForeignLink {
        /// Registry host.
        host: String,
        /// The `Link` target as received.
        link: String,
    },
    /// A token realm on plain HTTP for a registry reached over HTTPS.
    #[error("registry {host} is reached over HTTPS but its token service {realm} uses plain HTTP, which would send credentials in cleartext; refusing to contact it; the registry's token realm must be an https:// URL")]
    InsecureTokenRealm {
        /// Registry host.
        host: String,
        /// The realm URL from the challenge.
        realm: String,
    },
    /// The 401 challenge could not be understood.
    #[error("registry {host} sent an authentication challenge this client does not support: {challenge:?}; only Basic and Bearer are supported")]
    UnsupportedChallenge {
        /// Registry host.
        host: String,
        /// The WWW-Authenticate header value.
        challenge: String,
    },
    /// Something does not exist.
    #[error("{what} not found at {url} (HTTP 404); check the reference, repository name and tag")]
    NotFound {
        /// What was looked for ("manifest sha256:…", "tag v1", …).
        what: String,
        /// URL requested.
        url: String,
    },
    /// An unexpected HTTP status.
    #[error("registry {host} answered {method} {url} with HTTP {status}{detail}")]
    Status {
        /// Registry host.
        host: String,
        /// Request method.
        method: &'static str,
        /// URL requested.
        url: String,
        /// The status code.
        status: u16,
        /// Error text from the registry's JSON error body, if any (": …").
        detail: String,
    },
    /// Content does not match its digest.
    #[error("content from {source_name} does not match its digest: expected {expected}, got {actual}; the registry or layout returned corrupted or tampered content, do not trust it")]
    DigestMismatch {
        /// URL or file the content came from.
        source_name: String,
        /// Digest we asked for.
        expected: String,
        /// Digest of what we got.
        actual: String,
    },
    /// Content does not have the size its descriptor says.
    #[error("content from {source_name} has {actual} bytes but its descriptor says {expected}; the content is corrupted or tampered")]
    SizeMismatch {
        /// URL or file the content came from.
        source_name: String,
        /// Size from the descriptor.
        expected: u64,
        /// Size received (may be a lower bound when the read was cut off).
        actual: u64,
    },
    /// Content is larger than we are willing to read.
    #[error(
        "{what} from {source_name} is larger than the {limit}-byte limit; refusing to read it"
    )]
    TooLarge {
        /// What was read ("manifest", "signature envelope", …).
        what: &'static str,
        /// URL or file.
        source_name: String,
        /// The cap in bytes.
        limit: u64,
    },
    /// A manifest, index or referrers response is not valid JSON of the
    /// expected shape.
    #[error("{what} from {source_name} is malformed: {detail}")]
    Malformed {
        /// What was parsed.
        what: &'static str,
        /// URL or file.
        source_name: String,
        /// Parser message.
        detail: String,
    },
    /// A manifest has a media type we cannot handle here.
    #[error("unsupported media type {media_type:?} for {what} at {source_name}")]
    UnsupportedMediaType {
        /// The media type seen.
        media_type: String,
        /// What was fetched.
        what: &'static str,
        /// URL or file.
        source_name: String,
    },
    /// A signature manifest does not follow the Notary Project signature
    /// specification.
    #[error("signature manifest {digest} is not a valid Notary Project signature: {reason}")]
    InvalidSignatureManifest {
        /// Digest of the signature manifest.
        digest: String,
        /// What is wrong.
        reason: String,
    },
    /// Local file I/O failed (OCI layout, docker config, temp files).
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done ("read", "write", …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The directory is not an OCI image layout.
    #[error("{path} is not an OCI image layout ({reason}); point --oci-layout at a directory with oci-layout and index.json")]
    NotALayout {
        /// The directory.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// A configuration option is invalid (e.g. an unreadable CA file).
    #[error("invalid registry client option: {0}")]
    Config(String),
    /// Credential lookup or storage failed.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
}

impl RegistryError {
    /// The registry (or its token service at `url`) refused the request
    /// with `status`; the advice depends on whether credentials were sent.
    pub(crate) fn unauthorized(
        host: String,
        url: String,
        status: u16,
        had_credentials: bool,
    ) -> Self {
        let (with, advice) = if had_credentials {
            (
                " with the provided credentials",
                "check the username and password, or run notation login again",
            )
        } else {
            (
                " (no credentials found)",
                "log in with notation login, or pass --username and --password",
            )
        };
        RegistryError::Unauthorized {
            host,
            url,
            status,
            with,
            advice,
        }
    }
}

/// What went wrong while resolving or storing registry credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// A config file exists but is not valid JSON of the expected shape.
    #[error("credential config {path} is malformed: {detail}; fix or remove the file")]
    ConfigMalformed {
        /// The config file.
        path: PathBuf,
        /// Parser message.
        detail: String,
    },
    /// The `auth` field of an `auths` entry is not base64 `user:password`.
    #[error("the auths entry for {host} in {path} is malformed (expected base64 of user:password); run notation login {host} again")]
    AuthFieldMalformed {
        /// Registry host.
        host: String,
        /// The config file.
        path: PathBuf,
    },
    /// A credential helper could not be started.
    #[error("cannot run credential helper {program}: {source}; install it or remove it from credsStore/credHelpers")]
    HelperNotRunnable {
        /// The program name (`docker-credential-NAME`).
        program: String,
        /// The spawn error.
        source: std::io::Error,
    },
    /// A credential helper failed.
    #[error("credential helper {program} failed ({status}): {message}")]
    HelperFailed {
        /// The program name.
        program: String,
        /// Exit status text.
        status: String,
        /// First line of its stderr.
        message: String,
    },
    /// A credential helper took too long.
    #[error("credential helper {program} did not answer within {seconds}s and was stopped")]
    HelperTimeout {
        /// The program name.
        program: String,
        /// Timeout in seconds.
        seconds: u64,
    },
    /// A credential helper's answer could not be understood.
    #[error("credential helper {program} gave a malformed answer: {detail}")]
    HelperMalformed {
        /// The program name.
        program: String,
        /// What is wrong.
        detail: String,
    },
    /// Writing the config file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
