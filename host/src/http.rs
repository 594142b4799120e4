//! What every outbound HTTP client of the host shares (registry, plugin
//! downloads, timestamping, OCSP and CRL): TLS through the system's OpenSSL
//! (native-tls, so `SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured), one
//! user agent, a global time-out, and HTTP error statuses returned as
//! responses for the caller to map.

use std::time::Duration;

use ureq::config::ConfigBuilder;
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
use ureq::typestate::AgentScope;

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("notation-rs/", env!("CARGO_PKG_VERSION"));

/// An agent configuration with native-tls trusting `roots` (the system's
/// roots when `None`), [`USER_AGENT`], `timeout` for the whole call, and
/// statuses returned rather than turned into errors. Callers add what is
/// theirs (redirect limits, https-only) and `.build()`.
pub fn agent_config(roots: Option<RootCerts>, timeout: Duration) -> ConfigBuilder<AgentScope> {
    let tls = TlsConfig::builder()
        .provider(TlsProvider::NativeTls)
        .root_certs(roots.unwrap_or(RootCerts::PlatformVerifier))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .user_agent(USER_AGENT)
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
}
