//! A real RFC 3161 timestamp authority for tests: a TSA CA and leaf made
//! with openssl, and a tiny HTTP server (std `TcpListener`, one thread)
//! that pipes each request body through `openssl ts -reply` and answers
//! with its output as `application/timestamp-reply`.
//!
//! Shared by `host/tests/timestamp.rs` and `tests/tests/timestamp_e2e.rs`
//! (included with `#[path]`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509Name, X509};

/// An EC P-256 key.
pub fn ec_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

fn name(cn: &str) -> X509Name {
    let mut n = X509Name::builder().unwrap();
    n.append_entry_by_text("C", "US").unwrap();
    n.append_entry_by_text("O", "Test TSA").unwrap();
    n.append_entry_by_text("CN", cn).unwrap();
    n.build()
}

fn serial() -> Asn1Integer {
    let mut buf = [0u8; 8];
    openssl::rand::rand_bytes(&mut buf).unwrap();
    buf[0] &= 0x7f;
    Asn1Integer::from_bn(&BigNum::from_slice(&buf).unwrap()).unwrap()
}

/// What kind of certificate [`certificate`] makes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A CA: critical basic constraints (CA), critical keyCertSign.
    Ca,
    /// A TSA leaf: critical digitalSignature, critical EKU timeStamping only.
    Tsa,
    /// A TSA leaf without a key usage extension (breaks the requirements
    /// but `openssl ts` still signs with it).
    TsaWithoutKeyUsage,
    /// A code-signing leaf: critical digitalSignature, EKU codeSigning.
    CodeSigning,
}

/// A certificate for `key`, issued by `issuer` (or self-signed), valid
/// from `from` to `to` seconds relative to now.
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
    let mut b = X509::builder().unwrap();
    if let Some(url) = crl_url {
        #[allow(deprecated)]
        let ext = openssl::x509::X509Extension::new_nid(
            None,
            None,
            Nid::CRL_DISTRIBUTION_POINTS,
            &format!("URI:{url}"),
        )
        .unwrap();
        b.append_extension(ext).unwrap();
    }
    b.set_version(2).unwrap();
    b.set_serial_number(&serial()).unwrap();
    let subject = name(cn);
    b.set_subject_name(&subject).unwrap();
    b.set_issuer_name(issuer.map(|(c, _)| c.subject_name()).unwrap_or(&subject))
        .unwrap();
    b.set_pubkey(key).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    b.set_not_before(&Asn1Time::from_unix(now + from).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(now + to).unwrap())
        .unwrap();
    match kind {
        Kind::Ca => {
            b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
                .unwrap();
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()
                    .unwrap(),
            )
            .unwrap();
        }
        Kind::Tsa | Kind::TsaWithoutKeyUsage => {
            if kind == Kind::Tsa {
                b.append_extension(
                    KeyUsage::new()
                        .critical()
                        .digital_signature()
                        .build()
                        .unwrap(),
                )
                .unwrap();
            }
            b.append_extension(
                ExtendedKeyUsage::new()
                    .critical()
                    .time_stamping()
                    .build()
                    .unwrap(),
            )
            .unwrap();
        }
        Kind::CodeSigning => {
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .digital_signature()
                    .build()
                    .unwrap(),
            )
            .unwrap();
            b.append_extension(ExtendedKeyUsage::new().code_signing().build().unwrap())
                .unwrap();
        }
    }
    b.sign(
        issuer.map(|(_, k)| k).unwrap_or(key),
        MessageDigest::sha256(),
    )
    .unwrap();
    b.build()
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
        use openssl::asn1::{Asn1Object, Asn1OctetString};
        use openssl::x509::{X509CrlBuilder, X509Extension, X509RevokedBuilder};
        let mut b = X509CrlBuilder::new().unwrap();
        b.set_issuer_name(self.root.subject_name()).unwrap();
        // rust-openssl wants an authority key identifier: [0] keyIdentifier.
        let id = self.root.digest(MessageDigest::sha1()).unwrap();
        let mut aki = vec![0x30, 22, 0x80, 20];
        aki.extend_from_slice(&id);
        b.append_extension(
            X509Extension::new_from_der(
                &Asn1Object::from_str("2.5.29.35").unwrap(),
                false,
                &Asn1OctetString::new_from_bytes(&aki).unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        b.append_extension(
            X509Extension::new_from_der(
                &Asn1Object::from_str("2.5.29.20").unwrap(),
                false,
                &Asn1OctetString::new_from_bytes(&[0x02, 0x01, 0x01]).unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        b.set_last_update(&Asn1Time::from_unix(now - 3600).unwrap())
            .unwrap();
        b.set_next_update(&Asn1Time::from_unix(now + 86400).unwrap())
            .unwrap();
        for c in revoked {
            let mut r = X509RevokedBuilder::new().unwrap();
            r.set_serial_number(c.serial_number()).unwrap();
            r.set_revocation_date(&Asn1Time::from_unix(now - 1800).unwrap())
                .unwrap();
            b.add_revoked(r.build()).unwrap();
        }
        b.sign(&self.root_key, MessageDigest::sha256()).unwrap();
        b.build().unwrap().to_der().unwrap()
    }
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Serves `body` (a CRL) for every request on `port` from a background
/// thread that lives until the test process ends.
pub fn serve_crl(port: u16, body: Vec<u8>) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
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
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                // One request at a time: openssl's serial file is shared.
                let _ = serve(stream, &work);
            }
        });
        TsaServer {
            url: format!("http://127.0.0.1:{port}/tsa"),
            _dir: dir,
        }
    }
}

fn serve(stream: TcpStream, dir: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    let (status, content_type, reply) = match reply(dir, &body) {
        Some(r) => ("200 OK", "application/timestamp-reply", r),
        None => (
            "500 Internal Server Error",
            "text/plain",
            b"openssl ts failed".to_vec(),
        ),
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    )?;
    out.write_all(&reply)?;
    out.flush()
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
