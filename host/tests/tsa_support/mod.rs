//! A real RFC 3161 timestamp authority for tests: a TSA CA and leaf made
//! with openssl, and a tiny HTTP server (std `TcpListener`, one thread)
//! that pipes each request body through `openssl ts -reply` and answers
//! with its output as `application/timestamp-reply`.
//!
//! Shared by `host/tests/timestamp.rs` and `tests/tests/timestamp_e2e.rs`
//! (included with `#[path]`); its PKI and HTTP server come from
//! `host/tests/support/pki.rs`.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

#[path = "../support/pki.rs"]
pub mod pki;

pub use pki::{ec_key, Kind};
use pki::{name, CertBuilder};

/// A certificate for `key` named `cn` (C=US, O=Test TSA), issued by
/// `issuer` (or self-signed), valid from `from` to `to` seconds relative to
/// now.
pub fn certificate(
    cn: &str,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    kind: Kind,
    from: i64,
    to: i64,
) -> X509 {
    certificate_with_crl(cn, key, issuer, kind, from, to, None)
}

/// [`certificate`] with a CRL distribution point `crl_url`, if given.
pub fn certificate_with_crl(
    cn: &str,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    kind: Kind,
    from: i64,
    to: i64,
    crl_url: Option<&str>,
) -> X509 {
    CertBuilder::new(
        name(&[("C", "US"), ("O", "Test TSA"), ("CN", cn)]),
        key,
        kind,
    )
    .issuer(issuer)
    .validity(from, to)
    .crl(crl_url)
    .build()
}

/// A TSA root and a TSA leaf under it.
pub struct TsaPki {
    /// The root (self-signed CA).
    pub root: X509,
    /// The leaf that signs tokens.
    pub leaf: X509,
    /// The leaf's key.
    pub leaf_key: PKey<Private>,
    /// The root's key (signs CRLs).
    pub root_key: PKey<Private>,
}

impl TsaPki {
    /// A root valid for ten years and a TSA leaf of `leaf_kind`.
    pub fn new(leaf_kind: Kind) -> TsaPki {
        TsaPki::with_crl(leaf_kind, None)
    }

    /// [`TsaPki::new`] whose leaf names the CRL distribution point
    /// `crl_url`, if given.
    pub fn with_crl(leaf_kind: Kind, crl_url: Option<&str>) -> TsaPki {
        let root_key = ec_key();
        let root = certificate("tsa root", &root_key, None, Kind::Ca, -3600, 3650 * 86400);
        let leaf_key = ec_key();
        let leaf = certificate_with_crl(
            "tsa signer",
            &leaf_key,
            Some((&root, &root_key)),
            leaf_kind,
            -3600,
            365 * 86400,
            crl_url,
        );
        TsaPki {
            root,
            leaf,
            leaf_key,
            root_key,
        }
    }

    /// A DER CRL by the root listing `revoked`, current for a day.
    pub fn crl(&self, revoked: &[&X509]) -> Vec<u8> {
        pki::crl(
            &self.root,
            &self.root_key,
            revoked,
            -1800,
            &[],
            MessageDigest::sha256(),
        )
    }
}

/// A running TSA. The server thread lives until the test process ends.
pub struct TsaServer {
    /// `http://127.0.0.1:PORT/tsa`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl TsaServer {
    /// Starts a TSA signing with `pki`'s leaf and including the root in
    /// every token. Accuracy is 1.5 s; ESS signing-certificate-v2 (SHA-256).
    pub fn start(pki: &TsaPki) -> TsaServer {
        TsaServer::start_with_accuracy(pki, Some("secs:1, millisecs:500"))
    }

    /// [`TsaServer::start`] with another `accuracy` setting of `openssl ts`
    /// (`None`: tokens state no accuracy, so it counts as zero).
    pub fn start_with_accuracy(pki: &TsaPki, accuracy: Option<&str>) -> TsaServer {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_path_buf();
        std::fs::write(
            d.join("tsa.key"),
            pki.leaf_key.private_key_to_pem_pkcs8().unwrap(),
        )
        .unwrap();
        std::fs::write(d.join("tsa.crt"), pki.leaf.to_pem().unwrap()).unwrap();
        std::fs::write(d.join("chain.pem"), pki.root.to_pem().unwrap()).unwrap();
        std::fs::write(d.join("serial"), "01\n").unwrap();
        let config = format!(
            "[ tsa ]\n\
             default_tsa = tsa_config\n\
             [ tsa_config ]\n\
             serial = {serial}\n\
             signer_digest = sha256\n\
             default_policy = 1.2.3.4.1\n\
             digests = sha256, sha384, sha512\n\
             {accuracy}\
             ordering = no\n\
             tsa_name = no\n\
             ess_cert_id_chain = no\n\
             ess_cert_id_alg = sha256\n",
            serial = d.join("serial").display(),
            accuracy = accuracy
                .map(|a| format!("accuracy = {a}\n"))
                .unwrap_or_default(),
        );
        std::fs::write(d.join("tsa.cnf"), config).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let work = d.clone();
        // One request at a time: openssl's serial file is shared.
        pki::serve_http(listener, move |query| match reply(&work, query) {
            Some(r) => ("200 OK", "application/timestamp-reply", r),
            None => (
                "500 Internal Server Error",
                "text/plain",
                b"openssl ts failed".to_vec(),
            ),
        });
        TsaServer {
            url: format!("http://127.0.0.1:{port}/tsa"),
            _dir: dir,
        }
    }
}

fn reply(dir: &Path, query: &[u8]) -> Option<Vec<u8>> {
    let q: PathBuf = dir.join("query.tsq");
    let r: PathBuf = dir.join("reply.tsr");
    std::fs::write(&q, query).ok()?;
    let _ = std::fs::remove_file(&r);
    let status = Command::new("openssl")
        .arg("ts")
        .arg("-reply")
        .arg("-config")
        .arg(dir.join("tsa.cnf"))
        .arg("-queryfile")
        .arg(&q)
        .arg("-inkey")
        .arg(dir.join("tsa.key"))
        .arg("-signer")
        .arg(dir.join("tsa.crt"))
        .arg("-chain")
        .arg(dir.join("chain.pem"))
        .arg("-out")
        .arg(&r)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    std::fs::read(&r).ok()
}
