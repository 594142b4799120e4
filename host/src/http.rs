//! What every outbound HTTP client of the host shares (registry, plugin
//! downloads, timestamping, OCSP and CRL): TLS through the system's OpenSSL
//! (native-tls, so `SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured), one
//! user agent, a global time-out, and HTTP error statuses returned as
//! responses for the caller to map.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ureq::config::{Config, ConfigBuilder};
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
use ureq::typestate::AgentScope;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("notation-rs/", env!("CARGO_PKG_VERSION"));

/// Bytes ureq buffers per connection for reading. Its default (128 KiB, for
/// input and output) sits at glibc's mmap threshold, so every connection
/// paid an mmap, page faults and an munmap with a cross-CPU TLB flush; a
/// registry's response head is far smaller, and bodies stream through.
const INPUT_BUFFER: usize = 32 * 1024;
/// Bytes ureq buffers per connection for writing (request heads; bodies are
/// written through it in chunks).
const OUTPUT_BUFFER: usize = 32 * 1024;

/// An agent configuration with native-tls trusting `roots` (the system's
/// roots when `None`), [`USER_AGENT`], `timeout` for the whole call, and
/// statuses returned rather than turned into errors. Callers add what is
/// theirs (redirect limits, https-only) and pass it to [`agent`].
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
        .input_buffer_size(INPUT_BUFFER)
        .output_buffer_size(OUTPUT_BUFFER)
}

/// The agent for `config` (from [`agent_config`]): ureq's connector, and a
/// resolver that takes IP addresses as they are.
pub fn agent(config: ConfigBuilder<AgentScope>) -> ureq::Agent {
    ureq::Agent::with_parts(
        config.build(),
        DefaultConnector::default(),
        LiteralsFirst::default(),
    )
}

/// Host names go to ureq's resolver, which runs each lookup on a new
/// thread so that it can give up at the time-out; an IP address (a
/// registry at `127.0.0.1:5000`, say) needs no lookup, so no thread.
#[derive(Debug, Default)]
struct LiteralsFirst(DefaultResolver);

impl Resolver for LiteralsFirst {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        match literal_address(uri) {
            Some(addr) => {
                let mut addrs = self.empty();
                addrs.push(addr);
                Ok(addrs)
            }
            None => self.0.resolve(uri, config, timeout),
        }
    }
}

/// The socket address of a URI whose host is an IP address (IPv6 in
/// brackets), with the scheme's port when none is given.
fn literal_address(uri: &ureq::http::Uri) -> Option<SocketAddr> {
    let host = uri.host()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: IpAddr = host.parse().ok()?;
    let port = uri.port_u16().or(match uri.scheme_str()? {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    })?;
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_addresses() {
        let addr = |u: &str| literal_address(&u.parse().unwrap());
        assert_eq!(
            addr("http://127.0.0.1:5000/v2/"),
            Some("127.0.0.1:5000".parse().unwrap())
        );
        assert_eq!(
            addr("https://[::1]/v2/"),
            Some("[::1]:443".parse().unwrap())
        );
        assert_eq!(
            addr("http://10.1.2.3/x"),
            Some("10.1.2.3:80".parse().unwrap())
        );
        assert_eq!(addr("https://localhost:5000/v2/"), None);
        assert_eq!(addr("https://registry.example/v2/"), None);
        assert_eq!(addr("https://1.2.3.4.example/v2/"), None);
    }
}
