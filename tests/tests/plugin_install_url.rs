//! `notation plugin install --url https://... --sha256sum HEX` against a
//! real HTTPS server in the test (openssl, a test CA and a server
//! certificate for 127.0.0.1) serving a `.tar.gz` of the `notation-hello`
//! test plugin. `SSL_CERT_FILE` points the `notation` binary at the test CA.
//!
//! Runs the workspace's `notation` binary (`target/<profile>/notation` or
//! `$NOTATION_BIN`; build it with `cargo build -p notation-host --bin notation`).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509NameBuilder, X509};
use sha2::{Digest, Sha256};

/// The name the `notation-hello` plugin reports in its metadata.
const PLUGIN_NAME: &str = "com.example.hello";

fn ec_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// A certificate for `key` named `cn`; self-signed CA when `issuer` is
/// `None`, else a TLS server certificate for 127.0.0.1.
fn certificate(cn: &str, key: &PKey<Private>, issuer: Option<(&X509, &PKey<Private>)>) -> X509 {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut serial = BigNum::new().unwrap();
    serial.rand(63, MsbOption::MAYBE_ZERO, false).unwrap();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(issuer.map_or(&*name, |(c, _)| c.subject_name()))
        .unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    match issuer {
        None => {
            b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
                .unwrap();
            b.append_extension(KeyUsage::new().critical().key_cert_sign().build().unwrap())
                .unwrap();
        }
        Some((ca, _)) => {
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .digital_signature()
                    .build()
                    .unwrap(),
            )
            .unwrap();
            b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap())
                .unwrap();
            let san = SubjectAlternativeName::new()
                .ip("127.0.0.1")
                .build(&b.x509v3_context(Some(ca), None))
                .unwrap();
            b.append_extension(san).unwrap();
        }
    }
    b.sign(issuer.map_or(key, |(_, k)| k), MessageDigest::sha256())
        .unwrap();
    b.build()
}

/// An HTTPS server answering every GET with `body`; counts requests. The
/// server thread lives until the test process ends.
struct HttpsServer {
    port: u16,
    requests: Arc<AtomicUsize>,
}

impl HttpsServer {
    /// Starts the server; returns it and the PEM file of its CA.
    fn start(dir: &Path, body: Vec<u8>) -> (HttpsServer, PathBuf) {
        let ca_key = ec_key();
        let ca = certificate("plugin test CA", &ca_key, None);
        let key = ec_key();
        let cert = certificate("127.0.0.1", &key, Some((&ca, &ca_key)));
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca.to_pem().unwrap()).unwrap();

        let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
        acceptor.set_private_key(&key).unwrap();
        acceptor.set_certificate(&cert).unwrap();
        let acceptor = acceptor.build();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                count.fetch_add(1, Ordering::SeqCst);
                if let Ok(tls) = acceptor.accept(stream) {
                    let _ = answer(tls, &body);
                }
            }
        });
        (HttpsServer { port, requests }, ca_file)
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}/{path}", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn answer(stream: openssl::ssl::SslStream<TcpStream>, body: &[u8]) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
    }
    let mut out = reader.into_inner();
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(body)?;
    out.flush()
}

/// `notation-hello` packaged as a publisher would: `notation-NAME` and a
/// licence in a `.tar.gz`.
fn plugin_archive(dir: &Path) -> Vec<u8> {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let exe = format!("notation-{PLUGIN_NAME}");
    std::fs::copy(env!("CARGO_BIN_EXE_notation-hello"), pkg.join(&exe)).unwrap();
    std::fs::write(pkg.join("LICENSE"), "Apache-2.0\n").unwrap();
    let archive = dir.join("hello.tar.gz");
    let out = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&pkg)
        .args([exe.as_str(), "LICENSE"])
        .output()
        .expect("run tar");
    assert!(
        out.status.success(),
        "tar: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&archive).unwrap()
}

struct Cli {
    bin: PathBuf,
    home: tempfile::TempDir,
    ca_file: PathBuf,
}

impl Cli {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env_remove("NOTATION_CONFIG")
            .env("XDG_CONFIG_HOME", self.home.path().join("xdg"))
            .env("HOME", self.home.path())
            .env("SSL_CERT_FILE", &self.ca_file)
            .env_remove("SSL_CERT_DIR")
            .stdin(Stdio::null())
            .output()
            .expect("run notation")
    }

    fn plugins_dir(&self) -> PathBuf {
        self.home.path().join("xdg/notation/plugins")
    }

    /// Every path under the plugins directory, sorted.
    fn plugin_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, into: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                into.push(e.path());
                walk(&e.path(), into);
            }
        }
        let mut files = Vec::new();
        walk(&self.plugins_dir(), &mut files);
        files.sort();
        files
    }
}

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn install_from_an_https_url_checks_the_sha256() {
    let work = tempfile::tempdir().unwrap();
    let archive = plugin_archive(work.path());
    let sum = hex::encode(Sha256::digest(&archive));
    let (server, ca_file) = HttpsServer::start(work.path(), archive);
    let cli = Cli {
        bin: notation_e2e::notation_bin(),
        home: tempfile::tempdir().unwrap(),
        ca_file,
    };
    let url = server.url("releases/hello.tar.gz");

    // A wrong checksum: downloaded, refused, nothing installed.
    let wrong = hex::encode(Sha256::digest(b"something else"));
    let before = cli.plugin_files();
    let out = cli.run(&["plugin", "install", "--url", &url, "--sha256sum", &wrong]);
    assert!(!out.status.success(), "{}", stdout_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains(&wrong) && err.contains(&sum), "{err}");
    assert_eq!(server.requests(), 1, "the download did happen");
    assert_eq!(cli.plugin_files(), before);

    // Plain HTTP is refused before any traffic.
    let http = url.replacen("https://", "http://", 1);
    let out = cli.run(&["plugin", "install", "--url", &http, "--sha256sum", &sum]);
    assert!(!out.status.success(), "{}", stdout_of(&out));
    assert!(
        stderr_of(&out).contains("is not an HTTPS URL"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(server.requests(), 1);
    assert_eq!(cli.plugin_files(), before);

    // The right checksum (upper case is fine): installed.
    let out = cli.run(&[
        "plugin",
        "install",
        "--url",
        &url,
        "--sha256sum",
        &sum.to_uppercase(),
    ]);
    assert!(
        out.status.success(),
        "install failed\nstdout:\n{}\nstderr:\n{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    assert_eq!(
        stdout_of(&out),
        format!("Successfully installed plugin {PLUGIN_NAME}, version 1.0.0\n")
    );
    assert_eq!(server.requests(), 2);
    assert!(cli
        .plugins_dir()
        .join(PLUGIN_NAME)
        .join(format!("notation-{PLUGIN_NAME}"))
        .is_file());

    let out = cli.run(&["plugin", "list"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let list = stdout_of(&out);
    let row = list
        .lines()
        .find(|l| l.starts_with(PLUGIN_NAME))
        .unwrap_or_else(|| panic!("{PLUGIN_NAME} not listed:\n{list}"));
    assert!(row.contains("<nil>"), "{list}");
}
