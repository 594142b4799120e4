//! The bottom layer of the registry client: HTTP requests to one registry
//! with time bounds, bounded retries and authentication. It knows nothing
//! about manifests or referrers; [`super::client`] builds the repository
//! operations on top of it and [`super::referrers`] the referrers logic on
//! top of those.
//!
//! # Time bounds
//!
//! Every request has three limits (defaults in brackets, environment
//! variables override [`ClientOptions`]):
//!
//! * connect: establishing the TCP/TLS connection
//!   (`NOTATION_REGISTRY_CONNECT_TIMEOUT`, 10 s);
//! * idle read: the longest wait for the next bytes of a response or
//!   while sending (`NOTATION_REGISTRY_READ_TIMEOUT`, 30 s);
//! * request: one whole exchange (`NOTATION_REGISTRY_TIMEOUT`, 120 s).
//!
//! # Retries
//!
//! Only requests that can be repeated without changing the outcome are
//! retried: `GET`, `HEAD`, `PUT` of a manifest by digest; an upload
//! (`POST` then `PUT`) is retried by starting it again
//! (`Transport::retry`). They are retried on connection errors and time
//! outs, and on HTTP 429, 502, 503 and 504, waiting as `Retry-After` says
//! (seconds or an HTTP date, capped at 10 s) or else with exponential
//! back-off and full jitter (100 ms doubling, at most 4 s per wait). At
//! most `NOTATION_REGISTRY_RETRIES` retries (default 3) and at most 60 s
//! in all. Other 4xx answers and authentication failures are never
//! retried. With `-d` each request and each retry is printed to stderr.
//!
//! # Credentials
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

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use ureq::http::{Response, Uri};
use ureq::{Body, ResponseExt};
use zeroize::Zeroizing;

use super::auth::{self, Challenge};
use super::credentials::{CredentialSource, Credentials};
use super::error::RegistryError;
use super::reference::registry_host;

/// Default limit for one whole request (connect, send, receive).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Default connect limit.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default idle limit while reading a response (or sending a request).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of retries after the first attempt.
pub const DEFAULT_RETRIES: u32 = 3;
/// Largest error body we read to explain a failed request.
const ERROR_BODY_CAP: u64 = 64 * 1024;
/// Longest `Retry-After` we honour; longer asks are capped.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(10);

/// Environment variable for [`ClientOptions::timeout`] (seconds).
pub const ENV_TIMEOUT: &str = "NOTATION_REGISTRY_TIMEOUT";
/// Environment variable for [`ClientOptions::connect_timeout`] (seconds).
pub const ENV_CONNECT_TIMEOUT: &str = "NOTATION_REGISTRY_CONNECT_TIMEOUT";
/// Environment variable for [`ClientOptions::read_timeout`] (seconds).
pub const ENV_READ_TIMEOUT: &str = "NOTATION_REGISTRY_READ_TIMEOUT";
/// Environment variable for [`RetryPolicy::retries`].
pub const ENV_RETRIES: &str = "NOTATION_REGISTRY_RETRIES";

static DEBUG: AtomicBool = AtomicBool::new(false);

/// Print every registry request and retry to stderr (`notation -d`).
pub fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

pub(crate) fn debug_on() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// Milliseconds since the first registry request of this process (for the
/// debug trace, which `scripts/bench` reads to find the critical path).
fn since_start() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// How transient failures are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub retries: u32,
    /// Bound on the time spent on one request including its retries; no
    /// retry starts after it.
    pub max_total: Duration,
    /// First back-off; doubled per retry, with full jitter.
    pub base_delay: Duration,
    /// Longest single back-off.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: DEFAULT_RETRIES,
            max_total: Duration::from_secs(60),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(4),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): `Retry-After` when
    /// given (capped), else a random wait up to the exponential bound.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(d) = retry_after {
            return d.min(RETRY_AFTER_CAP);
        }
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16))
            .min(self.max_delay);
        // Full jitter, but never less than a tenth of the bound.
        let ms = u64::try_from(exp.as_millis()).unwrap_or(u64::MAX).max(1);
        Duration::from_millis(ms / 10 + fastrand::u64(0..=ms - ms / 10))
    }
}

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
    /// Limit for one whole request (`NOTATION_REGISTRY_TIMEOUT`).
    pub timeout: Duration,
    /// Limit for establishing a connection
    /// (`NOTATION_REGISTRY_CONNECT_TIMEOUT`).
    pub connect_timeout: Duration,
    /// Idle limit while waiting for response bytes or sending
    /// (`NOTATION_REGISTRY_READ_TIMEOUT`).
    pub read_timeout: Duration,
    /// Retries of transient failures (`NOTATION_REGISTRY_RETRIES`).
    pub retry: RetryPolicy,
    /// Always use the referrers tag schema when pushing signatures, even
    /// if the registry supports the Referrers API (`--force-referrers-tag`).
    pub force_referrers_tag: bool,
    /// Where to remember whether the registry has the Referrers API
    /// (`None`: nothing is remembered across processes).
    pub cache_dir: Option<PathBuf>,
    /// `User-Agent` header value.
    pub user_agent: String,
    /// An instant no request or retry wait of this client goes past: each
    /// request's whole-exchange limit is cut to the time left, and no retry
    /// starts that would end after it (`None`: only the limits above).
    pub deadline: Option<Instant>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            insecure: false,
            ca_file: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            retry: RetryPolicy::default(),
            force_referrers_tag: false,
            cache_dir: crate::config::cache_dir(),
            user_agent: format!("notation-rs/{}", env!("CARGO_PKG_VERSION")),
            deadline: None,
        }
    }
}

impl ClientOptions {
    /// Apply the `NOTATION_REGISTRY_*` environment variables (read through
    /// `env`) over these options. A value that is not a whole number (of
    /// seconds, or of retries) is an error naming the variable.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), RegistryError> {
        let number =
            |name: &str| -> Result<Option<u64>, RegistryError> {
                match env(name).filter(|v| !v.trim().is_empty()) {
                    None => Ok(None),
                    Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
                        RegistryError::Config(format!(
                        "{name}={v:?} is not a whole number; set it to a number of {} or unset it",
                        if name == ENV_RETRIES { "retries" } else { "seconds" }
                    ))
                    }),
                }
            };
        let seconds = |name: &str| -> Result<Option<Duration>, RegistryError> {
            match number(name)? {
                Some(0) => Err(RegistryError::Config(format!(
                    "{name}=0 would make every request fail; give a number of seconds above 0"
                ))),
                other => Ok(other.map(Duration::from_secs)),
            }
        };
        if let Some(d) = seconds(ENV_TIMEOUT)? {
            self.timeout = d;
        }
        if let Some(d) = seconds(ENV_CONNECT_TIMEOUT)? {
            self.connect_timeout = d;
        }
        if let Some(d) = seconds(ENV_READ_TIMEOUT)? {
            self.read_timeout = d;
        }
        if let Some(n) = number(ENV_RETRIES)? {
            self.retry.retries = u32::try_from(n.min(20)).unwrap_or(20);
        }
        Ok(())
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

    /// The scheme, lowercased (`http` or `https`).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Whether this origin is registry `host` (`name[:port]`, as written in
    /// references), reached with this origin's scheme: host compared
    /// without case, a missing port being the scheme's default.
    pub fn is_host(&self, host: &str) -> bool {
        Origin::of(&format!("{}://{host}", self.scheme))
            .is_some_and(|o| o.host == self.host && o.port == self.port)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

#[derive(Default)]
struct AuthState {
    header: Option<Zeroizing<String>>,
    /// Whether `header` was obtained for push (a push token also pulls).
    header_push: bool,
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

/// One request to send.
pub(crate) struct Request<'a> {
    pub(crate) method: &'static str,
    pub(crate) url: &'a str,
    pub(crate) headers: &'a [(&'a str, &'a str)],
    pub(crate) body: Option<&'a [u8]>,
    /// Ask for push scope when answering a Bearer challenge.
    pub(crate) push: bool,
    /// Repeating the request cannot change the outcome, so the transport
    /// may retry it.
    pub(crate) idempotent: bool,
}

impl<'a> Request<'a> {
    /// A `GET` (idempotent, pull scope).
    pub(crate) fn get(url: &'a str, headers: &'a [(&'a str, &'a str)]) -> Self {
        Request {
            method: "GET",
            url,
            headers,
            body: None,
            push: false,
            idempotent: true,
        }
    }
}

/// Whether an error is worth another attempt: the connection failed or
/// timed out, a body was cut off or arrived damaged, or the registry
/// said it is overloaded or unavailable.
pub(crate) fn is_transient(e: &RegistryError) -> bool {
    match e {
        RegistryError::Unreachable { .. }
        | RegistryError::Timeout { .. }
        | RegistryError::BodyRead { .. }
        | RegistryError::DigestMismatch { .. } => true,
        RegistryError::SizeMismatch {
            expected, actual, ..
        } => actual < expected,
        RegistryError::Status { status, .. } => matches!(status, 429 | 502 | 503 | 504),
        _ => false,
    }
}

/// Whether a read failed in its body (cut off, damaged) rather than in
/// the exchange itself, which [`Transport::send`] already retries.
pub(crate) fn is_body_fault(e: &RegistryError) -> bool {
    match e {
        RegistryError::BodyRead { .. } | RegistryError::DigestMismatch { .. } => true,
        RegistryError::SizeMismatch {
            expected, actual, ..
        } => actual < expected,
        _ => false,
    }
}

/// `Retry-After` as a wait: delta seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let at = SystemTime::from(at);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Requests to one repository of one registry.
pub(crate) struct Transport {
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
    /// Held while answering a challenge, so that requests sent at the same
    /// time fetch one token rather than one each.
    auth_gate: Mutex<()>,
}

impl Transport {
    pub(crate) fn new(
        registry: &str,
        repository: &str,
        mut options: ClientOptions,
        credentials: Box<dyn CredentialSource>,
    ) -> Result<Self, RegistryError> {
        options.apply_env(|k| std::env::var(k).ok())?;
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
            Some(path) => load_ca_file(path)?,
        };
        let agent = crate::http::agent(
            crate::http::agent_config(Some(root_certs), options.timeout)
                .timeout_connect(Some(options.connect_timeout))
                .timeout_per_read(Some(options.read_timeout))
                .timeout_recv_response(Some(options.read_timeout))
                .timeout_per_write(Some(options.read_timeout))
                .user_agent(options.user_agent.as_str())
                .max_redirects(5),
        );
        Ok(Transport {
            registry: registry.to_string(),
            repository: repository.to_string(),
            base,
            origin,
            plain_http,
            agent,
            options,
            credentials,
            state: Mutex::new(AuthState::default()),
            auth_gate: Mutex::new(()),
        })
    }

    pub(crate) fn registry(&self) -> &str {
        &self.registry
    }

    pub(crate) fn repository(&self) -> &str {
        &self.repository
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn options(&self) -> &ClientOptions {
        &self.options
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{}", self.base, self.repository, path)
    }

    pub(crate) fn host(&self) -> String {
        registry_host(&self.registry).to_string()
    }

    /// Whether `url` has the registry's scheme, host and port, i.e.
    /// whether credentials may go with it.
    pub(crate) fn is_registry_origin(&self, url: &str) -> bool {
        Origin::of(url).as_ref() == Some(&self.origin)
    }

    fn transport_error(&self, url: &str, e: ureq::Error) -> RegistryError {
        let host = self.host();
        match e {
            ureq::Error::Timeout(which) => {
                let secs = |d: Duration| d.as_secs().max(1);
                let (phase, seconds, setting) = match which {
                    ureq::Timeout::Connect | ureq::Timeout::Resolve => (
                        "connecting",
                        secs(self.options.connect_timeout),
                        ENV_CONNECT_TIMEOUT,
                    ),
                    ureq::Timeout::Global | ureq::Timeout::PerCall => (
                        "waiting for the whole exchange",
                        secs(self.options.timeout),
                        ENV_TIMEOUT,
                    ),
                    _ => (
                        "waiting for the registry to answer (no data arrived within the idle limit)",
                        secs(self.options.read_timeout),
                        ENV_READ_TIMEOUT,
                    ),
                };
                RegistryError::Timeout {
                    host,
                    url: url.to_string(),
                    seconds,
                    phase,
                    setting,
                }
            }
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

    /// Turn a body-read time-out into [`RegistryError::Timeout`] with the
    /// limit that applied; other errors pass through.
    pub(crate) fn explain(&self, e: RegistryError) -> RegistryError {
        match e {
            RegistryError::BodyRead {
                source_name,
                timed_out: true,
                ..
            } => RegistryError::Timeout {
                host: self.host(),
                url: source_name,
                seconds: self.options.read_timeout.as_secs().max(1),
                phase: "reading the response body (no data arrived within the idle limit)",
                setting: ENV_READ_TIMEOUT,
            },
            RegistryError::RetriesExhausted {
                attempts,
                elapsed_ms,
                last,
            } => RegistryError::RetriesExhausted {
                attempts,
                elapsed_ms,
                last: Box::new(self.explain(*last)),
            },
            other => other,
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

    fn raw(&self, req: &Request<'_>, auth: Option<&str>) -> Result<Response<Body>, RegistryError> {
        macro_rules! with_headers {
            ($r:expr) => {{
                let mut r = $r;
                for (k, v) in req.headers {
                    r = r.header(*k, *v);
                }
                if let Some(a) = auth {
                    r = r.header("Authorization", a);
                }
                match self.options.deadline {
                    // Past the deadline the request fails at once (a
                    // time-out, which callers holding the deadline report
                    // as such).
                    Some(d) => r
                        .config()
                        .timeout_global(Some(
                            d.saturating_duration_since(Instant::now())
                                .max(Duration::from_millis(1)),
                        ))
                        .build(),
                    None => r,
                }
            }};
        }
        let url = req.url;
        let started = since_start();
        let result = match req.method {
            "GET" => with_headers!(self.agent.get(url)).call(),
            "HEAD" => with_headers!(self.agent.head(url)).call(),
            "DELETE" => with_headers!(self.agent.delete(url)).call(),
            "PUT" => with_headers!(self.agent.put(url)).send(req.body.unwrap_or_default()),
            "POST" => with_headers!(self.agent.post(url)).send(req.body.unwrap_or_default()),
            other => {
                return Err(RegistryError::Config(format!(
                    "unsupported HTTP method {other}"
                )))
            }
        };
        if debug_on() {
            let outcome = match &result {
                Ok(r) => r.status().as_u16().to_string(),
                Err(e) => format!("error ({e})"),
            };
            eprintln!(
                "registry: {} {url} -> {outcome} [{started:.1} ms .. {:.1} ms]",
                req.method,
                since_start()
            );
        }
        result.map_err(|e| self.transport_error(url, e))
    }

    /// Send a request; idempotent ones are retried on transient failures
    /// (see the module docs). A retryable status that persists is returned
    /// as the reply, for the caller to map.
    pub(crate) fn send(&self, req: &Request<'_>) -> Result<Reply, RegistryError> {
        if !req.idempotent {
            return self.send_once(req);
        }
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (problem, retry_after) = match self.send_once(req) {
                Ok(reply) if matches!(reply.status, 429 | 502 | 503 | 504) => {
                    let after = reply
                        .header("retry-after")
                        .and_then(|v| parse_retry_after(&v, SystemTime::now()));
                    if !self.may_retry(attempt, start, after) {
                        return Ok(reply);
                    }
                    (format!("HTTP {}", reply.status), after)
                }
                Ok(reply) => return Ok(reply),
                Err(e) if is_transient(&e) && self.may_retry(attempt, start, None) => {
                    (e.to_string(), None)
                }
                Err(e) => return Err(e),
            };
            self.pause(req.method, req.url, attempt, &problem, retry_after);
        }
    }

    /// Whether another attempt fits the policy after `attempt` attempts.
    fn may_retry(&self, attempt: u32, start: Instant, wait: Option<Duration>) -> bool {
        let policy = &self.options.retry;
        let wait = wait.unwrap_or_default().min(RETRY_AFTER_CAP);
        attempt <= policy.retries
            && start.elapsed() + wait < policy.max_total
            && self
                .options
                .deadline
                .is_none_or(|d| Instant::now() + wait < d)
    }

    fn pause(&self, method: &str, url: &str, attempt: u32, problem: &str, after: Option<Duration>) {
        let wait = self.options.retry.delay(attempt, after);
        if debug_on() {
            eprintln!(
                "registry: {method} {url} failed ({problem}); retry {attempt} of {} in {} ms{}",
                self.options.retry.retries,
                wait.as_millis(),
                if after.is_some() {
                    " (as Retry-After asks)"
                } else {
                    ""
                }
            );
        }
        std::thread::sleep(wait);
    }

    /// Run `op` until it succeeds, fails with a non-transient error, or
    /// the retry bound is reached: for exchanges that must be repeated as
    /// a whole (an upload restarted from its `POST`, a read whose body was
    /// cut off). The final transient error is wrapped in
    /// [`RegistryError::RetriesExhausted`].
    pub(crate) fn retry<T>(
        &self,
        what: &str,
        worth_retrying: fn(&RegistryError) -> bool,
        mut op: impl FnMut() -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match op() {
                Ok(v) => return Ok(v),
                Err(e) if worth_retrying(&e) => {
                    if !self.may_retry(attempt, start, None) {
                        let e = self.explain(e);
                        let integrity = matches!(
                            e,
                            RegistryError::DigestMismatch { .. }
                                | RegistryError::SizeMismatch { .. }
                        );
                        // Content that never matched its digest is reported
                        // as such: the registry is serving the wrong bytes.
                        return Err(if attempt > 1 && !integrity {
                            RegistryError::RetriesExhausted {
                                attempts: attempt,
                                elapsed_ms: u64::try_from(start.elapsed().as_millis())
                                    .unwrap_or(u64::MAX),
                                last: Box::new(e),
                            }
                        } else {
                            e
                        });
                    }
                    self.pause("", what, attempt, &e.to_string(), None);
                }
                Err(e) => return Err(self.explain(e)),
            }
        }
    }

    /// Send a request, answering one 401 challenge. Credentials (the
    /// cached header or a fresh answer to a challenge) are only used when
    /// `url`, and the URL that finally answered after redirects, are on the
    /// registry's origin; a 401 from anywhere else is
    /// [`RegistryError::ForeignChallenge`].
    fn send_once(&self, req: &Request<'_>) -> Result<Reply, RegistryError> {
        let url = req.url;
        let push = req.push;
        let ours = self.is_registry_origin(url);
        let cached = if ours {
            let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.header.clone()
        } else {
            None
        };
        let resp = self.raw(req, cached.as_ref().map(|h| h.as_str()))?;
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
        let _gate = self.auth_gate.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = {
            let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.header
                .clone()
                .filter(|h| cached.as_ref() != Some(h) && (st.header_push || !push))
        };
        if let Some(header) = fresh {
            // Another request answered the challenge meanwhile.
            let resp = self.raw(req, Some(header.as_str()))?;
            if resp.status().as_u16() != 401 {
                return Ok(Reply {
                    status: resp.status().as_u16(),
                    url: url.to_string(),
                    response: resp,
                });
            }
        }
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
        let resp = self.raw(req, Some(header.as_str()))?;
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
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.header = Some(header);
        st.header_push = push;
        drop(st);
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
}

fn load_ca_file(path: &std::path::Path) -> Result<ureq::tls::RootCerts, RegistryError> {
    let pem = std::fs::read(path).map_err(|source| RegistryError::Io {
        action: "read the CA file",
        path: path.to_path_buf(),
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
        let der = c
            .to_der()
            .map_err(|e| RegistryError::Config(format!("CA file {}: {e}", path.display())))?;
        ders.push(ureq::tls::Certificate::from_der(&der).to_owned());
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&ders))
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
        .map_err(|e| super::oci::body_read_error(what, source_name, &e))?;
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

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_770);
        assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        // 1994-11-06 08:49:37 UTC is 784111777.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after(
                "Sun, 06 Nov 1994 08:49:37 GMT",
                now + Duration::from_secs(60)
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3600))),
            RETRY_AFTER_CAP
        );
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        let policy = RetryPolicy::default();
        for _ in 0..50 {
            let first = policy.delay(1, None);
            assert!(first >= Duration::from_millis(10) && first <= Duration::from_millis(100));
            let late = policy.delay(12, None);
            assert!(late >= Duration::from_millis(400) && late <= Duration::from_secs(4));
        }
    }

    #[test]
    fn env_overrides_and_refuses_nonsense() {
        let mut o = ClientOptions::default();
        o.apply_env(|k| match k {
            ENV_TIMEOUT => Some("7".into()),
            ENV_RETRIES => Some("0".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(o.timeout, Duration::from_secs(7));
        assert_eq!(o.retry.retries, 0);
        assert_eq!(o.read_timeout, DEFAULT_READ_TIMEOUT);
        let err = o
            .apply_env(|k| (k == ENV_READ_TIMEOUT).then(|| "ten".to_string()))
            .unwrap_err();
        assert!(
            err.to_string().contains("NOTATION_REGISTRY_READ_TIMEOUT"),
            "{err}"
        );
        assert!(o
            .apply_env(|k| (k == ENV_CONNECT_TIMEOUT).then(|| "0".to_string()))
            .is_err());
    }
}
