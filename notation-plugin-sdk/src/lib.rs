//! # notation-plugin-sdk
//!
//! The Notary Project plugin contract, typed once and shared by both sides:
//!
//! * [`vocab`]: capabilities, key specs, algorithms and error codes with
//!   their exact wire strings.
//! * [`descriptor`]: the OCI content descriptor.
#![deny(missing_docs)]

pub mod descriptor;
pub mod vocab;
