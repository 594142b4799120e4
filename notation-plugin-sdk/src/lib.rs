//! # notation-plugin-sdk
//!
//! The Notary Project plugin contract, typed once and shared by both sides:
//!
//! The default features are the light SDK a plugin needs (no OpenSSL);
//! cargo features add the rest:
//!
//! | feature       | adds                                                   |
//! |---------------|--------------------------------------------------------|
//! | (default)     | `vocab`, `descriptor`, `protocol`, `plugin`, `runner`  |
//! | `envelope`    | `envelope`: JWS/COSE codecs, certificate checks (OpenSSL) |
//! | `client`      | `client`, `process`: the host side, plugin subprocesses |
//! | `conformance` | `conformance` and the `notation-plugin-conformance` binary |
//!
//! * [`vocab`]: capabilities, key specs, algorithms and error codes with
//!   their exact wire strings.
//! * [`descriptor`]: the OCI content descriptor.
//! * `envelope`: signature envelopes (JWS, COSE): sign, parse, verify.
//! * [`protocol`]: the requests, responses and error object of contract 1.0.
//! * [`plugin`]: the [`Plugin`] trait a plugin author implements.
//! * `client`: the host side: discovery and calls to external plugins.
//! * [`runner`]: [`main`] and the testable [`runner::run`] dispatcher.
//! * `conformance`: the conformance kit that checks a plugin executable.
//! * `process`: running a child process with capped output and a deadline.
//!
//! ## A whole plugin
//!
//! A plugin implements [`Plugin`] for the commands its capabilities need
//! and hands it to [`main`]. This is `examples/hello.rs`, a working raw
//! ECDSA signer (build it with `cargo build --example hello`):
//!
#![doc = concat!("```no_run\n", include_str!("../examples/hello.rs"), "```")]
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod descriptor;
#[cfg(feature = "envelope")]
pub mod envelope;
pub mod plugin;
#[cfg(feature = "client")]
pub mod process;
pub mod protocol;
pub mod runner;
pub mod vocab;

pub use plugin::Plugin;
pub use runner::main;
