//! The revocation caches against real responders: `openssl ocsp` (a spawned
//! process, stopped mid-test) and a small in-test CRL server that counts
//! the requests it gets. A fresh cache must mean no request at all; a
//! cache entry that is corrupt, forged, foreign or stale must never change
//! a verdict.

use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use notation_host::verifier::revocation::cache::RevocationCache;
use notation_host::verifier::{
    OnlineRevocationChecker, RevocationChecker, RevocationMethod, RevocationStatus,
};
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509CrlBuilder, X509Name, X509RevokedBuilder, X509};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

mod support;

use support::pki::{
    ec_key as key, free_port, serve_http, wait_accepting, CertBuilder, Kind, OcspResponder,
};

fn name(cn: &str) -> X509Name {
    support::pki::name(&[("O", "Revocation Cache Test"), ("CN", cn)])
}

struct Pki {
    root_key: PKey<Private>,
    root: X509,
    leaf: X509,
}

impl Pki {
    /// A root and a code-signing leaf naming `ocsp` and/or `crl`.
    fn new(ocsp: Option<&str>, crl: Option<&str>) -> Pki {
        let root_key = key();
        let root = CertBuilder::new(name("root"), &root_key, Kind::Ca).build();
        let leaf_key = key();
        let leaf = CertBuilder::new(name("leaf"), &leaf_key, Kind::CodeSigning)
            .issuer(Some((&root, &root_key)))
            .ocsp(ocsp)
            .crl(crl)
            .build();
        Pki {
            root_key,
            root,
            leaf,
        }
    }

    fn chain(&self) -> [X509; 2] {
        [self.leaf.clone(), self.root.clone()]
    }

    /// A CRL by the root listing `revoked`, current until `next_update`
    /// seconds from now (`None`: no nextUpdate).
    fn crl(&self, revoked: &[&X509], next_update: Option<i64>) -> Vec<u8> {
        crl_by(&self.root, &self.root_key, revoked, next_update)
    }
}

/// A CRL with `issuer`'s name signed by `key` (which need not be the
/// issuer's: that is how a forgery is made).
fn crl_by(
    issuer: &X509,
    key: &PKey<Private>,
    revoked: &[&X509],
    next_update: Option<i64>,
) -> Vec<u8> {
    let now = support::pki::now();
    let mut b = X509CrlBuilder::new().unwrap();
    b.set_issuer_name(issuer.subject_name()).unwrap();
    let id = issuer.digest(MessageDigest::sha1()).unwrap();
    let mut aki = vec![0x30, 22, 0x80, 20];
    aki.extend_from_slice(&id);
    b.append_extension(support::pki::der_extension("2.5.29.35", false, &aki))
        .unwrap();
    b.append_extension(support::pki::der_extension("2.5.29.20", false, &[2, 1, 1]))
        .unwrap();
    b.set_last_update(&Asn1Time::from_unix(now - 7200).unwrap())
        .unwrap();
    // openssl's builder insists on a nextUpdate: one is removed below.
    b.set_next_update(&Asn1Time::from_unix(now + next_update.unwrap_or(60)).unwrap())
        .unwrap();
    for c in revoked {
        let mut r = X509RevokedBuilder::new().unwrap();
        r.set_serial_number(c.serial_number()).unwrap();
        r.set_revocation_date(&Asn1Time::from_unix(now - 3600).unwrap())
            .unwrap();
        b.add_revoked(r.build()).unwrap();
    }
    b.sign(key, MessageDigest::sha256()).unwrap();
    let der = b.build().unwrap().to_der().unwrap();
    if next_update.is_some() {
        return der;
    }
    // Drop nextUpdate from the TBS list and sign it again.
    use der::{Decode, Encode};
    let mut list = cms::cert::x509::crl::CertificateList::from_der(&der).unwrap();
    list.tbs_cert_list.next_update = None;
    let tbs = list.tbs_cert_list.to_der().unwrap();
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), key).unwrap();
    let sig = signer.sign_oneshot_to_vec(&tbs).unwrap();
    list.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
    list.to_der().unwrap()
}

/// `response` (a DER OCSP response) with one bit of its signature flipped.
fn damage_ocsp_signature(response: &[u8]) -> Vec<u8> {
    use der::{Decode, Encode};
    let mut outer = x509_ocsp::OcspResponse::from_der(response).unwrap();
    let bytes = outer.response_bytes.as_mut().unwrap();
    let mut basic = x509_ocsp::BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap();
    let mut sig = basic.signature.raw_bytes().to_vec();
    let mid = sig.len() / 2;
    sig[mid] ^= 0x01;
    basic.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
    bytes.response = der::asn1::OctetString::new(basic.to_der().unwrap()).unwrap();
    outer.to_der().unwrap()
}

/// A CRL server that counts requests and serves whatever is current.
struct CrlServer {
    url: String,
    hits: Arc<AtomicUsize>,
    body: Arc<Mutex<Vec<u8>>>,
}

impl CrlServer {
    fn start(body: Vec<u8>) -> CrlServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let body = Arc::new(Mutex::new(body));
        let (h, b) = (hits.clone(), body.clone());
        serve_http(listener, move |_| {
            h.fetch_add(1, Ordering::SeqCst);
            ("200 OK", "application/pkix-crl", b.lock().unwrap().clone())
        });
        // The probe connection sends no request, so it is not counted.
        wait_accepting(port);
        CrlServer {
            url: format!("http://127.0.0.1:{port}/ca.crl"),
            hits,
            body,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// `openssl ocsp` on `port` for the root of `p`, saying "good" for the
/// leaf, responses valid for 10 minutes.
fn ocsp_responder(port: u16, p: &Pki) -> OcspResponder {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    let serial = p
        .leaf
        .serial_number()
        .to_bn()
        .unwrap()
        .to_hex_str()
        .unwrap();
    let expiry = OffsetDateTime::now_utc() + Duration::days(30);
    let index = format!(
        "V\t{:02}{:02}{:02}000000Z\t\t{serial}\tunknown\t/CN=leaf\n",
        expiry.year() % 100,
        u8::from(expiry.month()),
        expiry.day()
    );
    fs::write(path("index.txt"), index).unwrap();
    fs::write(path("ca.pem"), p.root.to_pem().unwrap()).unwrap();
    fs::write(
        path("key.pem"),
        p.root_key.private_key_to_pem_pkcs8().unwrap(),
    )
    .unwrap();
    let mut cmd = Command::new("openssl");
    cmd.arg("ocsp")
        .arg("-index")
        .arg(path("index.txt"))
        .args(["-port", &port.to_string()])
        .arg("-rsigner")
        .arg(path("ca.pem"))
        .arg("-rkey")
        .arg(path("key.pem"))
        .arg("-CA")
        .arg(path("ca.pem"))
        .args(["-nmin", "10"]);
    OcspResponder::spawn(cmd, dir)
}

fn checker(cache: &Path) -> OnlineRevocationChecker {
    OnlineRevocationChecker::default().with_cache(Some(RevocationCache::new(cache)))
}

fn uncached() -> OnlineRevocationChecker {
    OnlineRevocationChecker::default().with_cache(None)
}

fn assert_revoked_by_crl(status: RevocationStatus) {
    assert!(
        matches!(
            status,
            RevocationStatus::Revoked {
                method: RevocationMethod::Crl,
                ..
            }
        ),
        "{status:?}"
    );
}

/// The upstream-format entry for `url` in `cache`: `{"baseCRL": base64}`.
fn write_crl_entry(cache: &Path, url: &str, der: &[u8]) {
    let path = cache
        .join("crl")
        .join(hex::encode(Sha256::digest(url.as_bytes())));
    let json = serde_json::json!({
        "baseCRL": base64::engine::general_purpose::STANDARD.encode(der)
    });
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, json.to_string()).unwrap();
}

fn read_crl_entry(cache: &Path, url: &str) -> Vec<u8> {
    let path = cache
        .join("crl")
        .join(hex::encode(Sha256::digest(url.as_bytes())));
    let v: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(v["baseCRL"].as_str().unwrap())
        .unwrap()
}

#[test]
fn fresh_ocsp_cache_needs_no_responder() {
    let cache = tempfile::tempdir().unwrap();
    let port = free_port();
    let p = Pki::new(Some(&format!("http://127.0.0.1:{port}")), None);
    let responder = ocsp_responder(port, &p);
    assert_eq!(
        checker(cache.path()).check(&p.chain(), None),
        RevocationStatus::Good
    );
    assert_eq!(fs::read_dir(cache.path().join("ocsp")).unwrap().count(), 1);
    drop(responder);
    // The responder is gone: without the cache the status is unavailable...
    assert!(matches!(
        uncached().check(&p.chain(), None),
        RevocationStatus::Unavailable { .. }
    ));
    // ...with it (a new checker, as a new process would be), good.
    assert_eq!(
        checker(cache.path()).check(&p.chain(), None),
        RevocationStatus::Good
    );
}

#[test]
fn foreign_or_corrupt_ocsp_entry_is_not_used() {
    let cache = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let p = Pki::new(Some(&url), None);
    let responder = ocsp_responder(port, &p);
    assert_eq!(
        checker(cache.path()).check(&p.chain(), None),
        RevocationStatus::Good
    );
    let c = RevocationCache::new(cache.path());
    let entry = c.ocsp_path(&url, &p.leaf, &p.root).unwrap();
    let genuine = fs::read(&entry).unwrap();
    drop(responder);

    // Another certificate from the same URL, with the first one's response
    // planted under its name: the response has no status for it.
    let other_port = free_port();
    let q = Pki::new(Some(&format!("http://127.0.0.1:{other_port}")), None);
    let q_url = format!("http://127.0.0.1:{other_port}");
    let q_entry = c.ocsp_path(&q_url, &q.leaf, &q.root).unwrap();
    fs::write(&q_entry, &genuine).unwrap();
    assert!(matches!(
        checker(cache.path()).check(&q.chain(), None),
        RevocationStatus::Unavailable { .. }
    ));

    // The genuine response with its signature damaged: not trusted, and
    // with no responder the status is unavailable.
    let broken = damage_ocsp_signature(&genuine);
    fs::write(&entry, &broken).unwrap();
    assert!(matches!(
        checker(cache.path()).check(&p.chain(), None),
        RevocationStatus::Unavailable { .. }
    ));

    // The responder back: the bad entry is replaced by a good one.
    let _responder = ocsp_responder(port, &p);
    assert_eq!(
        checker(cache.path()).check(&p.chain(), None),
        RevocationStatus::Good
    );
    assert_ne!(fs::read(&entry).unwrap(), broken);
}

#[test]
fn fresh_crl_cache_makes_no_request() {
    let cache = tempfile::tempdir().unwrap();
    let server = CrlServer::start(Vec::new());
    let p = Pki::new(None, Some(&server.url));
    let served = p.crl(&[], Some(support::pki::DAY));
    *server.body.lock().unwrap() = served.clone();

    assert_eq!(
        checker(cache.path()).check(&p.chain(), None),
        RevocationStatus::Good
    );
    assert_eq!(server.hits(), 1);
    // Stored in upstream's layout and format.
    assert_eq!(read_crl_entry(cache.path(), &server.url), served);
    for _ in 0..3 {
        assert_eq!(
            checker(cache.path()).check(&p.chain(), None),
            RevocationStatus::Good
        );
    }
    assert_eq!(server.hits(), 1, "a fresh cached CRL was downloaded again");
    // Without the cache every check downloads.
    uncached().check(&p.chain(), None);
    assert_eq!(server.hits(), 2);
}

#[test]
fn forged_crl_entry_changes_no_verdict() {
    let impostor_key = key();
    // A forged "revoked" entry (the root's name, another key) does not
    // make a good certificate revoked...
    let cache = tempfile::tempdir().unwrap();
    let server = CrlServer::start(Vec::new());
    let p = Pki::new(None, Some(&server.url));
    let genuine = p.crl(&[], Some(support::pki::DAY));
    *server.body.lock().unwrap() = genuine.clone();
    let forged = crl_by(&p.root, &impostor_key, &[&p.leaf], Some(support::pki::DAY));
    write_crl_entry(cache.path(), &server.url, &forged);
    assert_eq!(
        checker(cache.path()).check(&p.chain(), None),
        RevocationStatus::Good
    );
    assert_eq!(server.hits(), 1);
    // ...and is replaced by the genuine CRL.
    assert_eq!(read_crl_entry(cache.path(), &server.url), genuine);

    // A forged "good" entry does not hide a revocation.
    let cache = tempfile::tempdir().unwrap();
    let server = CrlServer::start(Vec::new());
    let p = Pki::new(None, Some(&server.url));
    *server.body.lock().unwrap() = p.crl(&[&p.leaf], Some(support::pki::DAY));
    let forged = crl_by(&p.root, &impostor_key, &[], Some(support::pki::DAY));
    write_crl_entry(cache.path(), &server.url, &forged);
    assert_revoked_by_crl(checker(cache.path()).check(&p.chain(), None));
    assert_eq!(server.hits(), 1);

    // A genuine "good" CRL with one byte of its signature changed: not
    // trusted either.
    let cache = tempfile::tempdir().unwrap();
    let mut tampered = p.crl(&[], Some(support::pki::DAY));
    *tampered.last_mut().unwrap() ^= 0x01;
    write_crl_entry(cache.path(), &server.url, &tampered);
    assert_revoked_by_crl(checker(cache.path()).check(&p.chain(), None));
    assert_eq!(server.hits(), 2);
}

#[test]
fn garbage_crl_entry_is_replaced() {
    let cache = tempfile::tempdir().unwrap();
    let server = CrlServer::start(Vec::new());
    let p = Pki::new(None, Some(&server.url));
    let genuine = p.crl(&[], Some(support::pki::DAY));
    *server.body.lock().unwrap() = genuine.clone();
    let path = cache
        .path()
        .join("crl")
        .join(hex::encode(Sha256::digest(server.url.as_bytes())));
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    for junk in [
        &b"\x00\x01garbage"[..],
        br#"{"baseCRL": "not base64!"}"#,
        br#"{"rawBaseCRL": "AAAA"}"#,
    ] {
        fs::write(&path, junk).unwrap();
        assert_eq!(
            checker(cache.path()).check(&p.chain(), None),
            RevocationStatus::Good
        );
        assert_eq!(read_crl_entry(cache.path(), &server.url), genuine);
    }
    assert_eq!(server.hits(), 3);
}

#[test]
fn oversized_crl_entry_is_not_read() {
    let cache = tempfile::tempdir().unwrap();
    let server = CrlServer::start(Vec::new());
    let p = Pki::new(None, Some(&server.url));
    *server.body.lock().unwrap() = p.crl(&[], Some(support::pki::DAY));
    let mut limits = checker(cache.path());
    limits.crl.max_bytes = 4096;
    assert_eq!(limits.check(&p.chain(), None), RevocationStatus::Good);
    // Pad the stored JSON beyond the cap (valid JSON, valid CRL inside).
    let path = cache
        .path()
        .join("crl")
        .join(hex::encode(Sha256::digest(server.url.as_bytes())));
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend(std::iter::repeat_n(b' ', 8192));
    fs::write(&path, &bytes).unwrap();
    assert_eq!(limits.check(&p.chain(), None), RevocationStatus::Good);
    assert_eq!(server.hits(), 2, "an entry above the cap was used");
}

#[test]
fn expired_crl_entry_is_downloaded_again() {
    let cache = tempfile::tempdir().unwrap();
    let server = CrlServer::start(Vec::new());
    let p = Pki::new(None, Some(&server.url));
    // Cached: a genuine CRL not listing the leaf whose nextUpdate passed a
    // minute ago (inside the verifier's leeway, so it would still be
    // accepted as a download). Served: a current one listing the leaf.
    write_crl_entry(cache.path(), &server.url, &p.crl(&[], Some(-60)));
    *server.body.lock().unwrap() = p.crl(&[&p.leaf], Some(support::pki::DAY));
    assert_revoked_by_crl(checker(cache.path()).check(&p.chain(), None));
    assert_eq!(server.hits(), 1);
}

#[test]
fn crl_without_next_update_is_not_cached() {
    let cache = tempfile::tempdir().unwrap();
    let server = CrlServer::start(Vec::new());
    let p = Pki::new(None, Some(&server.url));
    *server.body.lock().unwrap() = p.crl(&[&p.leaf], None);
    for _ in 0..2 {
        assert_revoked_by_crl(checker(cache.path()).check(&p.chain(), None));
    }
    assert_eq!(server.hits(), 2);
    assert!(!cache.path().join("crl").exists());
}

#[test]
fn unwritable_cache_does_not_fail_verification() {
    let dir = tempfile::tempdir().unwrap();
    // The cache "directory" is a file: every write fails.
    let cache = dir.path().join("not-a-dir");
    fs::write(&cache, b"").unwrap();
    let server = CrlServer::start(Vec::new());
    let p = Pki::new(None, Some(&server.url));
    *server.body.lock().unwrap() = p.crl(&[], Some(support::pki::DAY));
    assert_eq!(
        checker(&cache).check(&p.chain(), None),
        RevocationStatus::Good
    );
    *server.body.lock().unwrap() = p.crl(&[&p.leaf], Some(support::pki::DAY));
    assert_revoked_by_crl(checker(&cache).check(&p.chain(), None));
}

#[test]
fn crl_for_another_issuer_under_the_same_url_is_ignored() {
    // Two CAs behind one URL over time (a port reused, a CA re-keyed): the
    // entry cached for the first is not evidence about the second.
    let cache = tempfile::tempdir().unwrap();
    let server = CrlServer::start(Vec::new());
    let a = Pki::new(None, Some(&server.url));
    *server.body.lock().unwrap() = a.crl(&[], Some(support::pki::DAY));
    assert_eq!(
        checker(cache.path()).check(&a.chain(), None),
        RevocationStatus::Good
    );
    let b = Pki::new(None, Some(&server.url));
    *server.body.lock().unwrap() = b.crl(&[&b.leaf], Some(support::pki::DAY));
    assert_revoked_by_crl(checker(cache.path()).check(&b.chain(), None));
    assert_eq!(server.hits(), 2);
}

/// Copies the directory tree `src` to `dst`.
fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), to).unwrap();
        }
    }
}

/// `notation verify` as a user runs it: the default checker caches in
/// `$NOTATION_CACHE`, so the second verification makes no request and a
/// later revocation is only seen once the cached CRL is gone.
#[test]
fn cli_verify_uses_the_notation_cache() {
    const IMAGE: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
    let env = support::Env::new();
    let work = env.dir.path();
    let server = CrlServer::start(Vec::new());
    let root_key = key();
    let root = CertBuilder::new(name("root"), &root_key, Kind::Ca).build();
    let leaf_key = key();
    let leaf = CertBuilder::new(name("leaf"), &leaf_key, Kind::CodeSigning)
        .issuer(Some((&root, &root_key)))
        .crl(Some(&server.url))
        .build();
    let p = Pki {
        root_key,
        root,
        leaf,
    };
    *server.body.lock().unwrap() = p.crl(&[], Some(support::pki::DAY));

    // A local signing key (keyPath/certPath), the root trusted for the
    // layout's scope.
    let key_path = work.join("leaf.key");
    let cert_path = work.join("leaf.crt");
    fs::write(&key_path, leaf_key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let mut chain = p.leaf.to_pem().unwrap();
    chain.extend(p.root.to_pem().unwrap());
    fs::write(&cert_path, chain).unwrap();
    fs::create_dir_all(env.config()).unwrap();
    fs::write(
        env.config().join("signingkeys.json"),
        serde_json::json!({
            "default": "leaf",
            "keys": [{"name": "leaf", "keyPath": key_path, "certPath": cert_path}]
        })
        .to_string(),
    )
    .unwrap();
    let root_pem = work.join("root.pem");
    fs::write(&root_pem, p.root.to_pem().unwrap()).unwrap();
    env.ok(&[
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "acme",
        root_pem.to_str().unwrap(),
    ]);
    let policy = work.join("trustpolicy.json");
    fs::write(
        &policy,
        serde_json::json!({
            "version": "1.0",
            "trustPolicies": [{
                "name": "layouts",
                "registryScopes": ["local/e2e"],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:acme"],
                "trustedIdentities": ["*"]
            }]
        })
        .to_string(),
    )
    .unwrap();
    env.ok(&["policy", "import", "--force", policy.to_str().unwrap()]);

    let layout = work.join("e2e");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/oci-layouts/e2e"),
        &layout,
    );
    let image = format!("{}@{IMAGE}", layout.display());
    env.ok(&["sign", "--oci-layout", &image]);

    let cache = work.join("cache");
    let verify = || {
        env.cmd(&["verify", "--oci-layout", "--scope", "local/e2e", &image])
            .env("NOTATION_CACHE", &cache)
            .output()
            .unwrap()
    };
    for _ in 0..2 {
        let out = verify();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(server.hits(), 1, "the second verify downloaded the CRL");
    assert!(cache
        .join("crl")
        .join(hex::encode(Sha256::digest(server.url.as_bytes())))
        .is_file());

    // Revoked now: the cached CRL is still current, so verify still
    // passes without asking (as upstream); with the entry gone it fails.
    *server.body.lock().unwrap() = p.crl(&[&p.leaf], Some(support::pki::DAY));
    assert!(verify().status.success());
    assert_eq!(server.hits(), 1);
    fs::remove_dir_all(cache.join("crl")).unwrap();
    let out = verify();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("revoked"), "{stderr}");
    assert_eq!(server.hits(), 2);
}
