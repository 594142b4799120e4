//! Test PKI and a tiny HTTP server, built only on std, openssl and tempfile
//! so that `tsa_support` (also compiled into the `notation-e2e` package) can
//! include this file with `#[path]`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use openssl::asn1::{Asn1Integer, Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509CrlBuilder, X509Extension, X509Name, X509RevokedBuilder, X509};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An EC P-256 key.
pub fn ec_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// A distinguished name from (attribute, value) pairs, in order.
pub fn name(entries: &[(&str, &str)]) -> X509Name {
    let mut n = X509Name::builder().unwrap();
    for (k, v) in entries {
        n.append_entry_by_text(k, v).unwrap();
    }
    n.build()
}

/// A random positive 63-bit certificate serial number.
pub fn random_serial() -> Asn1Integer {
    let mut buf = [0u8; 8];
    openssl::rand::rand_bytes(&mut buf).unwrap();
    buf[0] &= 0x7f;
    Asn1Integer::from_bn(&BigNum::from_slice(&buf).unwrap()).unwrap()
}

/// What kind of certificate [`CertBuilder`] makes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A CA: critical basic constraints (CA), critical keyCertSign + cRLSign.
    Ca,
    /// A TSA leaf: critical digitalSignature, critical EKU timeStamping only.
    Tsa,
    /// A TSA leaf without a key usage extension (breaks the requirements
    /// but `openssl ts` still signs with it).
    TsaWithoutKeyUsage,
    /// A code-signing leaf: critical digitalSignature, EKU codeSigning.
    CodeSigning,
    /// A TLS server leaf: critical digitalSignature, EKU serverAuth.
    ServerAuth,
}

/// Builds a certificate; self-signed unless [`CertBuilder::issuer`] is set.
pub struct CertBuilder<'a> {
    subject: X509Name,
    key: &'a PKey<Private>,
    kind: Kind,
    issuer: Option<(&'a X509, &'a PKey<Private>)>,
    from: i64,
    to: i64,
    ocsp: Option<String>,
    crl: Option<String>,
}

impl<'a> CertBuilder<'a> {
    /// A `kind` certificate for `key` named `subject`, valid from a day ago
    /// for 30 days.
    pub fn new(subject: X509Name, key: &'a PKey<Private>, kind: Kind) -> Self {
        CertBuilder {
            subject,
            key,
            kind,
            issuer: None,
            from: -DAY,
            to: 30 * DAY,
            ocsp: None,
            crl: None,
        }
    }

    /// Issued by this certificate and key (`None`: self-signed).
    pub fn issuer(mut self, issuer: Option<(&'a X509, &'a PKey<Private>)>) -> Self {
        self.issuer = issuer;
        self
    }

    /// Valid from `from` to `to` seconds relative to now.
    pub fn validity(mut self, from: i64, to: i64) -> Self {
        self.from = from;
        self.to = to;
        self
    }

    /// An OCSP responder URL (authority information access), if given.
    pub fn ocsp(mut self, url: Option<&str>) -> Self {
        self.ocsp = url.map(str::to_owned);
        self
    }

    /// A CRL distribution point URL, if given.
    pub fn crl(mut self, url: Option<&str>) -> Self {
        self.crl = url.map(str::to_owned);
        self
    }

    /// Signs the certificate.
    pub fn build(self) -> X509 {
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&random_serial()).unwrap();
        b.set_subject_name(&self.subject).unwrap();
        b.set_issuer_name(
            self.issuer
                .map(|(c, _)| c.subject_name())
                .unwrap_or(&self.subject),
        )
        .unwrap();
        b.set_pubkey(self.key).unwrap();
        let now = now();
        b.set_not_before(&Asn1Time::from_unix(now + self.from).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::from_unix(now + self.to).unwrap())
            .unwrap();
        let digital_signature = || {
            KeyUsage::new()
                .critical()
                .digital_signature()
                .build()
                .unwrap()
        };
        match self.kind {
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
                if self.kind == Kind::Tsa {
                    b.append_extension(digital_signature()).unwrap();
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
            Kind::CodeSigning | Kind::ServerAuth => {
                b.append_extension(digital_signature()).unwrap();
                let mut eku = ExtendedKeyUsage::new();
                if self.kind == Kind::CodeSigning {
                    eku.code_signing();
                } else {
                    eku.server_auth();
                }
                b.append_extension(eku.build().unwrap()).unwrap();
            }
        }
        #[allow(deprecated)]
        {
            if let Some(url) = &self.ocsp {
                let ext = X509Extension::new_nid(
                    None,
                    None,
                    Nid::INFO_ACCESS,
                    &format!("OCSP;URI:{url}"),
                )
                .unwrap();
                b.append_extension(ext).unwrap();
            }
            if let Some(url) = &self.crl {
                let ext = X509Extension::new_nid(
                    None,
                    None,
                    Nid::CRL_DISTRIBUTION_POINTS,
                    &format!("URI:{url}"),
                )
                .unwrap();
                b.append_extension(ext).unwrap();
            }
        }
        let signer = self.issuer.map(|(_, k)| k).unwrap_or(self.key);
        b.sign(signer, MessageDigest::sha256()).unwrap();
        b.build()
    }
}

/// An extension from its OID, criticality and DER value.
pub fn der_extension(oid: &str, critical: bool, value: &[u8]) -> X509Extension {
    X509Extension::new_from_der(
        &Asn1Object::from_str(oid).unwrap(),
        critical,
        &Asn1OctetString::new_from_bytes(value).unwrap(),
    )
    .unwrap()
}

/// A DER CRL by (`issuer`, `key`) listing `revoked` (revoked `revoked_at`
/// seconds relative to now), with CRL number 1, the issuer's key identifier,
/// the `extra` extensions (OID, critical, DER value) first, current from an
/// hour ago for a day, signed with `digest`.
pub fn crl(
    issuer: &X509,
    key: &PKey<Private>,
    revoked: &[&X509],
    revoked_at: i64,
    extra: &[(&str, bool, Vec<u8>)],
    digest: MessageDigest,
) -> Vec<u8> {
    let mut b = X509CrlBuilder::new().unwrap();
    for (oid, critical, value) in extra {
        b.append_extension(der_extension(oid, *critical, value))
            .unwrap();
    }
    b.set_issuer_name(issuer.subject_name()).unwrap();
    // rust-openssl wants an authority key identifier: [0] keyIdentifier.
    let id = issuer.digest(MessageDigest::sha1()).unwrap();
    let mut aki = vec![0x30, 22, 0x80, 20];
    aki.extend_from_slice(&id);
    b.append_extension(der_extension("2.5.29.35", false, &aki))
        .unwrap();
    b.append_extension(der_extension("2.5.29.20", false, &[0x02, 0x01, 0x01]))
        .unwrap();
    let now = now();
    b.set_last_update(&Asn1Time::from_unix(now - 3600).unwrap())
        .unwrap();
    b.set_next_update(&Asn1Time::from_unix(now + DAY).unwrap())
        .unwrap();
    for c in revoked {
        let mut r = X509RevokedBuilder::new().unwrap();
        r.set_serial_number(c.serial_number()).unwrap();
        r.set_revocation_date(&Asn1Time::from_unix(now + revoked_at).unwrap())
            .unwrap();
        b.add_revoked(r.build()).unwrap();
    }
    b.sign(key, digest).unwrap();
    b.build().unwrap().to_der().unwrap()
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (up to 20 s) until something accepts connections on `port`.
pub fn wait_accepting(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "server on port {port} never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An HTTP response: status line text (`200 OK`), content type, body.
pub type Response = (&'static str, &'static str, Vec<u8>);

/// Serves HTTP/1.1 on `listener` from a background thread that lives until
/// the test process ends: one connection at a time, one response per
/// connection, `handler` maps the request body (per Content-Length) to the
/// response.
pub fn serve_http<F>(listener: TcpListener, handler: F)
where
    F: Fn(&[u8]) -> Response + Send + 'static,
{
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = answer(stream, &handler);
        }
    });
}

fn answer(stream: TcpStream, handler: &dyn Fn(&[u8]) -> Response) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
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
    let (status, content_type, reply) = handler(&body);
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    )?;
    out.write_all(&reply)?;
    out.flush()
}

/// Serves `body` (a CRL) for every request on `port`; returns once the
/// port accepts connections.
pub fn serve_crl(port: u16, body: Vec<u8>) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    serve_http(listener, move |_| {
        ("200 OK", "application/pkix-crl", body.clone())
    });
    wait_accepting(port);
}

/// A running `openssl ocsp` responder with the directory holding its
/// files; killed on drop.
pub struct OcspResponder {
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl OcspResponder {
    /// Runs `cmd` (an `openssl ocsp ... -port N` command whose files are
    /// in `dir`) and waits until it says it accepts connections: it serves
    /// one connection at a time, so a probing connect would wedge it.
    pub fn spawn(mut cmd: std::process::Command, dir: tempfile::TempDir) -> OcspResponder {
        use std::process::Stdio;
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run openssl ocsp");
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("piped stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("piped stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if line.contains("waiting for OCSP client connections") {
                        let _ = tx.send(());
                    }
                }
            });
        }
        drop(tx);
        let mut responder = OcspResponder { child, _dir: dir };
        if rx.recv_timeout(Duration::from_secs(30)).is_err() {
            let _ = responder.child.kill();
            panic!("openssl ocsp did not start (is its port in use?)");
        }
        responder
    }
}

impl Drop for OcspResponder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
