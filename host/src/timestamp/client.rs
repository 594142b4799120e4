//! Requesting a timestamp from an RFC 3161 TSA over HTTP.

use std::time::Duration;

use cmpv2::status::PkiStatus;
use der::{Decode, Encode};
use notation_plugin_sdk::vocab::HashAlgorithm;
use openssl::x509::X509;
use x509_tsp::TimeStampResp;

use super::{request, token, TimestampError, MAX_TOKEN_SIZE};

/// Default time-out for one timestamp request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// An RFC 3161 timestamping client for one TSA URL.
#[derive(Debug, Clone)]
pub struct Timestamper {
    url: String,
    timeout: Duration,
}

impl Timestamper {
    /// A client for `url` (`http://` or `https://`).
    pub fn new(url: &str) -> Result<Timestamper, TimestampError> {
        let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(TimestampError::InvalidUrl {
                url: url.to_string(),
            });
        }
        Ok(Timestamper {
            url: url.to_string(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Uses another time-out.
    pub fn with_timeout(mut self, timeout: Duration) -> Timestamper {
        self.timeout = timeout;
        self
    }

    /// The TSA URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Timestamps `message` (hashed with `hash`) and returns the DER
    /// `TimeStampToken`, after checking that it is granted, verifies and
    /// chains to one of `tsa_roots`, and imprints this message and nonce.
    pub fn timestamp(
        &self,
        message: &[u8],
        hash: &HashAlgorithm,
        tsa_roots: &[X509],
    ) -> Result<Vec<u8>, TimestampError> {
        let req = request::build(message, hash)?;
        let body = self.post(&req.der)?;
        let resp = TimeStampResp::from_der(&body)
            .map_err(|source| TimestampError::MalformedResponse { source })?;
        match resp.status.status {
            PkiStatus::Accepted | PkiStatus::GrantedWithMods => {}
            other => {
                let text = resp.status.status_string.as_ref().map(|texts| {
                    texts
                        .iter()
                        .map(|t| t.as_str().to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                });
                return Err(TimestampError::NotGranted {
                    status: other as u8,
                    text,
                });
            }
        }
        let token = resp
            .time_stamp_token
            .ok_or(TimestampError::MissingToken)?
            .to_der()
            .map_err(|source| TimestampError::MalformedToken {
                part: "TimeStampToken",
                source,
            })?;
        let verified = token::verify_token(&token, tsa_roots)?;
        if verified.claims.imprint_hash != req.hash || verified.claims.imprint != req.digest {
            return Err(TimestampError::ImprintMismatch);
        }
        if verified.claims.nonce.as_deref() != Some(req.nonce.as_slice()) {
            return Err(TimestampError::NonceMismatch);
        }
        Ok(token)
    }

    fn post(&self, body: &[u8]) -> Result<Vec<u8>, TimestampError> {
        let agent =
            crate::http::agent(crate::http::agent_config(None, self.timeout).max_redirects(0));
        let map = |e: ureq::Error| match e {
            ureq::Error::Timeout(_) => TimestampError::Timeout {
                url: self.url.clone(),
                seconds: self.timeout.as_secs(),
            },
            ureq::Error::BodyExceedsLimit(_) => TimestampError::TooLarge {
                limit: MAX_TOKEN_SIZE,
            },
            other => TimestampError::Transport {
                url: self.url.clone(),
                detail: other.to_string(),
            },
        };
        let mut resp = agent
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query")
            .header("Accept", "application/timestamp-reply")
            .send(body)
            .map_err(map)?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(TimestampError::HttpStatus {
                url: self.url.clone(),
                status,
            });
        }
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/timestamp-reply" {
            return Err(TimestampError::WrongContentType {
                url: self.url.clone(),
                content_type,
            });
        }
        resp.body_mut()
            .with_config()
            .limit(MAX_TOKEN_SIZE as u64)
            .read_to_vec()
            .map_err(map)
    }
}
