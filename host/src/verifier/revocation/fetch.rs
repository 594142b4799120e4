//! HTTP retrieval of OCSP responses and CRLs: `http://` and `https://`
//! only, a time-out per request and a cap on the body size. Everything
//! received is untrusted: callers verify signatures before using it.

use std::time::Duration;

use ureq::Agent;

/// Why a revocation source could not be retrieved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The URL is not `http://` or `https://`.
    #[error("unsupported URL scheme (only http:// and https:// are used)")]
    UnsupportedScheme,
    /// No complete response within the time-out.
    #[error("no response within {}s", timeout.as_secs_f32())]
    Timeout {
        /// The time-out.
        timeout: Duration,
    },
    /// The server answered with a status other than 200.
    #[error("HTTP status {status}")]
    Status {
        /// The status code.
        status: u16,
    },
    /// The body is larger than allowed.
    #[error("response larger than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// Connection, TLS or protocol failure (the HTTP library's message).
    #[error("transport error: {detail}")]
    Transport {
        /// What the HTTP library reported.
        detail: String,
    },
}

/// Limits for one kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// Time-out for the whole request (connect, send, receive).
    pub timeout: Duration,
    /// Largest accepted body.
    pub max_bytes: u64,
    /// Redirects followed (OCSP uses POST: none).
    pub max_redirects: u32,
}

/// Whether `url` uses a scheme revocation sources may use.
pub fn is_http_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn agent(limits: &FetchLimits) -> Agent {
    crate::http::agent(
        crate::http::agent_config(None, limits.timeout).max_redirects(limits.max_redirects),
    )
}

fn map_error(e: ureq::Error, limits: &FetchLimits) -> FetchError {
    match e {
        ureq::Error::Timeout(_) => FetchError::Timeout {
            timeout: limits.timeout,
        },
        ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge {
            limit: limits.max_bytes,
        },
        ureq::Error::StatusCode(status) => FetchError::Status { status },
        other => FetchError::Transport {
            detail: other.to_string(),
        },
    }
}

fn read(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    limits: &FetchLimits,
) -> Result<Vec<u8>, FetchError> {
    let mut resp = result.map_err(|e| map_error(e, limits))?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(FetchError::Status { status });
    }
    resp.body_mut()
        .with_config()
        .limit(limits.max_bytes)
        .read_to_vec()
        .map_err(|e| map_error(e, limits))
}

/// `GET url` (a CRL).
pub fn get(url: &str, limits: &FetchLimits) -> Result<Vec<u8>, FetchError> {
    if !is_http_url(url) {
        return Err(FetchError::UnsupportedScheme);
    }
    read(agent(limits).get(url).call(), limits)
}

/// `POST url` with a DER OCSP request.
pub fn post_ocsp(url: &str, request: &[u8], limits: &FetchLimits) -> Result<Vec<u8>, FetchError> {
    if !is_http_url(url) {
        return Err(FetchError::UnsupportedScheme);
    }
    read(
        agent(limits)
            .post(url)
            .header("Content-Type", "application/ocsp-request")
            .header("Accept", "application/ocsp-response")
            .send(request),
        limits,
    )
}
