//! The `notation` host: signing and verification of OCI artifacts.
//!
//! One module per concern:
//! * [`config`]: the notation config dir (`config.json`, `signingkeys.json`,
//!   `localkeys/`) and its paths.
//! * [`registry`]: references, the OCI registry client (auth, referrers,
//!   tag schema) and the OCI image layout store, behind one trait.
//! * [`artifact`]: opening the artifact a command names (registry or layout).
//! * [`signing`]: signing with a local key or through a plugin.
//! * [`blob`]: detached signatures of files (`notation blob`).
//! * [`timestamp`]: RFC 3161 timestamping of signatures and token verification.
//! * [`truststore`], [`trustpolicy`], [`verifier`]: the verification engine.
//! * [`verification`]: verifying an artifact end to end (the library API
//!   behind `notation verify` and the containerd image verifier).
//! * [`plugin_manager`]: plugin install and uninstall.
//! * [`fsutil`]: atomic file writes.
//! * [`http`]: the TLS and agent settings every outbound client shares.
pub mod artifact;
pub mod blob;
pub mod config;
pub mod fsutil;
pub mod http;
pub mod plugin_manager;
pub mod registry;
pub mod signing;
pub mod timestamp;
pub mod trustpolicy;
pub mod truststore;
pub mod verification;
pub mod verifier;
