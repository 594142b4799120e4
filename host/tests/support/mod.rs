//! Helpers shared by the integration tests of `notation-host`: a test PKI
//! and a tiny HTTP server ([`pki`]), a real timestamp authority ([`tsa`]),
//! signing a manifest descriptor, temporary trust stores and trust policies, and a
//! throwaway environment for running the `notation` binary.
//!
//! Each test binary pulls this in with `mod support;` and uses a subset.
#![allow(dead_code)]

// `tsa_support` is also included on its own by `tests/tests/timestamp_e2e.rs`
// (another package), so it owns `pki.rs` and this module re-exports it.
#[path = "../tsa_support/mod.rs"]
pub mod tsa;

// Unused by the binaries that need no PKI (the `cli_*` tests).
#[allow(unused_imports)]
pub use tsa::pki;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use notation_host::trustpolicy::TrustPolicy;
use notation_host::truststore::TrustStore;
use notation_host::verifier::VerifyInput;
use notation_plugin_sdk::descriptor::Descriptor;
use notation_plugin_sdk::envelope::{
    self, EnvelopeFormat, ExtendedAttribute, LocalSigner, Payload, SignRequest, SigningScheme,
};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

/// The digest of the signed manifest.
pub const DIGEST: &str = "sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333";
/// The repository the manifest is in.
pub const REPO: &str = "registry.example.com/app";
/// The signed manifest's media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The signed manifest's size.
pub const MANIFEST_SIZE: u64 = 16724;

/// How [`sign`] signs.
pub struct Opts {
    pub format: EnvelopeFormat,
    pub scheme: SigningScheme,
    pub signing_time: OffsetDateTime,
    pub expiry: Option<OffsetDateTime>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub extended: Vec<ExtendedAttribute>,
}

impl Default for Opts {
    /// JWS, `notary.x509`, signed a minute ago, no expiry, no extras.
    fn default() -> Self {
        Opts {
            format: EnvelopeFormat::Jws,
            scheme: SigningScheme::X509,
            signing_time: OffsetDateTime::now_utc() - Duration::minutes(1),
            expiry: None,
            annotations: None,
            extended: Vec::new(),
        }
    }
}

/// An envelope over the manifest [`DIGEST`] signed with `key` and `chain`.
pub fn sign(key: &PKey<Private>, chain: Vec<X509>, o: Opts) -> Vec<u8> {
    let mut d = Descriptor::new(MANIFEST_MEDIA_TYPE, DIGEST, MANIFEST_SIZE);
    d.annotations = o.annotations;
    let req = SignRequest {
        payload: Payload::new(d),
        signing_scheme: o.scheme,
        signing_time: o.signing_time,
        expiry: o.expiry,
        signing_agent: Some("test".into()),
        extended_attributes: o.extended,
    };
    let signer = LocalSigner::new(key.clone(), chain).unwrap();
    envelope::sign(o.format, &req, &signer).unwrap()
}

/// What the verifier gets for `envelope` over the manifest in [`REPO`].
pub fn input(envelope: Vec<u8>, format: EnvelopeFormat) -> VerifyInput {
    VerifyInput {
        repository: REPO.into(),
        target_digest: DIGEST.into(),
        target_size: Some(MANIFEST_SIZE),
        target_media_type: Some(MANIFEST_MEDIA_TYPE.into()),
        envelope,
        envelope_media_type: format.media_type().into(),
        user_metadata: BTreeMap::new(),
        plugin_config: BTreeMap::new(),
    }
}

/// A temporary config dir holding trust stores.
pub struct Stores {
    pub _dir: tempfile::TempDir,
    pub store: TrustStore,
}

/// Writes `stores`, each (type, name, certificates), as PEM files
/// `c0.pem`, `c1.pem`, ... under `truststore/x509/<type>/<name>`.
pub fn stores(stores: &[(&str, &str, &[&X509])]) -> Stores {
    let dir = tempfile::tempdir().unwrap();
    for (t, n, certs) in stores {
        let d = dir.path().join("truststore/x509").join(t).join(n);
        fs::create_dir_all(&d).unwrap();
        for (i, c) in certs.iter().enumerate() {
            fs::write(d.join(format!("c{i}.pem")), c.to_pem().unwrap()).unwrap();
        }
    }
    Stores {
        store: TrustStore::from_config_dir(dir.path()),
        _dir: dir,
    }
}

/// A policy with one statement "p" for [`REPO`]: strict, store `ca:acme`,
/// any identity, with the keys of `statement` replacing those defaults.
pub fn policy(statement: Value) -> TrustPolicy {
    let mut s = json!({
        "name": "p",
        "registryScopes": [REPO],
        "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:acme"],
        "trustedIdentities": ["*"]
    });
    for (k, v) in statement.as_object().unwrap() {
        s[k] = v.clone();
    }
    TrustPolicy::from_json(
        json!({"version": "1.0", "trustPolicies": [s]})
            .to_string()
            .as_bytes(),
    )
    .unwrap()
}

/// A throwaway notation environment: config dir and HOME in a temp dir.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The config dir (`NOTATION_CONFIG`).
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// `notation args` with only this environment's config and HOME.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_notation"));
        c.args(args)
            .env("NOTATION_CONFIG", self.config())
            .env("HOME", self.dir.path().join("home"))
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("NOTATION_USERNAME")
            .env_remove("NOTATION_PASSWORD")
            .stdin(Stdio::null());
        c
    }

    /// Runs `notation args`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs `notation args` with `stdin` as its input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs a command that must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command that must fail with exit code 1; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }
}
