//! The registry client against a real `docker-registry` (distribution 2.8)
//! in token-auth mode (Bearer tokens from a token server written in the
//! tests, [`notation_e2e::token_server`]) and serving HTTPS with a private
//! CA (trusted via `ClientOptions::ca_file` or `SSL_CERT_FILE`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notation_e2e::token_server::TokenServer;
use notation_e2e::{push_layout, vectors_dir, Registry, RegistryConfig, TlsFiles};
use notation_host::registry::credentials::Anonymous;
use notation_host::registry::oci::{ANNOTATION_THUMBPRINTS, MEDIA_TYPE_JWS};
use notation_host::registry::{
    ArtifactStore, ClientOptions, CredentialResolver, Credentials, RegistryClient, RegistryError,
    Target,
};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509NameBuilder, X509};

fn layout(name: &str) -> PathBuf {
    vectors_dir().join("oci-layouts").join(name)
}

fn thumbprints() -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert(
        ANNOTATION_THUMBPRINTS.to_string(),
        "[\"0123abcd\"]".to_string(),
    );
    a
}

fn explicit(creds: Option<Credentials>) -> Box<CredentialResolver> {
    Box::new(CredentialResolver {
        explicit: creds,
        notation_config: None,
        docker_config: None,
        helper_timeout: Duration::from_secs(10),
    })
}

fn plain_http() -> ClientOptions {
    ClientOptions {
        insecure: true,
        timeout: Duration::from_secs(20),
        ..ClientOptions::default()
    }
}

#[test]
fn bearer_token_auth_with_a_real_registry() {
    let tokens = TokenServer::start("dave", "t0ken-pw");
    let reg = Registry::start_with_config(&RegistryConfig {
        auth: tokens.registry_auth(),
        tls: None,
    });
    // skopeo goes through the token server too.
    let image = push_layout(&reg, &layout("e2e-valid-signature"), "tok/app");
    assert!(
        tokens.requests().iter().any(|r| r.authenticated),
        "the token server was not used: {:?}",
        tokens.requests()
    );

    // The registry itself refuses anonymous requests with a Bearer challenge.
    let anon = RegistryClient::new(&reg.host, "tok/app", plain_http(), Box::new(Anonymous))
        .expect("client");
    let err = anon.resolve(&Target::Tag("v1".into())).unwrap_err();
    assert!(
        matches!(err, RegistryError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("no credentials found"), "{err}");

    let seen = tokens.requests().len();
    let client = RegistryClient::new(
        &reg.host,
        "tok/app",
        plain_http(),
        explicit(Some(Credentials::basic("dave", "t0ken-pw"))),
    )
    .expect("client");
    assert_eq!(
        client.resolve(&Target::Tag("v1".into())).expect("resolve"),
        image
    );
    let before = client.list_signatures(&image, usize::MAX).expect("list");
    assert_eq!(before.len(), 1, "{before:?}");
    let pushed = client
        .push_signature(
            &image,
            b"token-auth envelope",
            MEDIA_TYPE_JWS,
            thumbprints(),
        )
        .expect("push with a bearer token");
    let after = client.list_signatures(&image, usize::MAX).expect("list");
    assert_eq!(after.len(), 2, "{after:?}");
    let sig = client
        .fetch_signature(&pushed.manifest)
        .expect("fetch signature");
    assert_eq!(sig.envelope, b"token-auth envelope");

    // Our client asked the token server for this repository, with the
    // service from the challenge, and for push access when pushing.
    let ours = &tokens.requests()[seen..];
    assert!(!ours.is_empty(), "the client never asked for a token");
    assert!(
        ours.iter().all(|r| r.authenticated
            && r.user.as_deref() == Some("dave")
            && r.service.as_deref() == Some(notation_e2e::token_server::SERVICE)),
        "{ours:?}"
    );
    assert!(
        ours.iter()
            .any(|r| r.scopes.iter().any(|s| s == "repository:tok/app:pull,push")),
        "no push scope requested: {ours:?}"
    );

    // A wrong password: the token server refuses, and the error says so
    // without leaking the password.
    let bad = RegistryClient::new(
        &reg.host,
        "tok/app",
        plain_http(),
        explicit(Some(Credentials::basic("dave", "not-the-pw"))),
    )
    .expect("client");
    let err = bad.resolve(&Target::Tag("v1".into())).unwrap_err();
    assert!(
        matches!(err, RegistryError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("with the provided credentials") && msg.contains(&reg.host),
        "{msg}"
    );
    assert!(
        !msg.contains("not-the-pw"),
        "the password leaked into: {msg}"
    );
    let refused = tokens.requests();
    let last = refused.last().expect("a token request");
    assert_eq!(last.user.as_deref(), Some("dave"));
    assert!(!last.authenticated);

    // A user who may only pull: reading works, pushing a signature fails
    // with an error about permission, not about the password.
    tokens.add_user("erin", "read-only-pw", false);
    let reader = RegistryClient::new(
        &reg.host,
        "tok/app",
        plain_http(),
        explicit(Some(Credentials::basic("erin", "read-only-pw"))),
    )
    .expect("client");
    assert_eq!(
        reader
            .list_signatures(&image, usize::MAX)
            .expect("list")
            .len(),
        2
    );
    let err = reader
        .push_signature(&image, b"denied", MEDIA_TYPE_JWS, thumbprints())
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("lack push access") && !msg.contains("check the username"),
        "{msg}"
    );
    assert_eq!(
        client
            .list_signatures(&image, usize::MAX)
            .expect("list")
            .len(),
        2
    );
}

/// A private CA, a server certificate for 127.0.0.1/localhost issued by
/// it, and an unrelated second CA, written as PEM files into `dir`.
struct Pki {
    tls: TlsFiles,
    other_ca: PathBuf,
}

fn name(cn: &str) -> openssl::x509::X509Name {
    let mut n = X509NameBuilder::new().unwrap();
    n.append_entry_by_text("CN", cn).unwrap();
    n.build()
}

fn cert_builder(
    subject: &str,
    issuer: &openssl::x509::X509NameRef,
    key: &PKey<Private>,
) -> openssl::x509::X509Builder {
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name(subject)).unwrap();
    b.set_issuer_name(issuer).unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    b
}

fn make_ca(cn: &str) -> (PKey<Private>, X509) {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let subject = name(cn);
    let mut b = cert_builder(cn, &subject, &key);
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
    b.sign(&key, MessageDigest::sha256()).unwrap();
    (key, b.build())
}

fn make_pki(dir: &Path) -> Pki {
    let (ca_key, ca) = make_ca("notation e2e test CA");
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut b = cert_builder("127.0.0.1", ca.subject_name(), &key);
    b.append_extension(BasicConstraints::new().build().unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_encipherment()
            .build()
            .unwrap(),
    )
    .unwrap();
    b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap())
        .unwrap();
    let san = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .dns("localhost")
        .build(&b.x509v3_context(Some(&ca), None))
        .unwrap();
    b.append_extension(san).unwrap();
    b.sign(&ca_key, MessageDigest::sha256()).unwrap();
    let server = b.build();
    let (_, other) = make_ca("notation e2e unrelated CA");

    let write = |file: &str, pem: Vec<u8>| {
        let p = dir.join(file);
        std::fs::write(&p, pem).unwrap();
        p
    };
    Pki {
        tls: TlsFiles {
            certificate: write("server.pem", server.to_pem().unwrap()),
            key: write("server.key", key.private_key_to_pem_pkcs8().unwrap()),
            ca: write("ca.pem", ca.to_pem().unwrap()),
        },
        other_ca: write("other-ca.pem", other.to_pem().unwrap()),
    }
}

fn tls_client(host: &str, ca_file: Option<PathBuf>) -> RegistryClient {
    let options = ClientOptions {
        ca_file,
        timeout: Duration::from_secs(20),
        ..ClientOptions::default()
    };
    RegistryClient::new(host, "tls/app", options, Box::new(Anonymous)).expect("client")
}

#[test]
fn tls_registry_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let reg = Registry::start_tls(pki.tls.clone());
    // Pushes the image with skopeo and the signature with our client
    // trusting the CA through `ca_file` (Registry::client).
    let image = push_layout(&reg, &layout("e2e-valid-signature"), "tls/app");

    // (a) Without trusting the CA: a TLS error that says what to do.
    for ca in [None, Some(pki.other_ca.clone())] {
        let err = tls_client(&reg.host, ca.clone())
            .resolve(&Target::Tag("v1".into()))
            .unwrap_err();
        assert!(
            matches!(err, RegistryError::Tls { .. }),
            "with CA {ca:?}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&reg.host) && msg.contains("--ca-file"),
            "{msg}"
        );
        assert!(msg.to_ascii_lowercase().contains("certificate"), "{msg}");
    }

    // (b) With ClientOptions::ca_file: everything works over HTTPS.
    let client = tls_client(&reg.host, Some(pki.tls.ca.clone()));
    client.ping().expect("ping over TLS");
    assert_eq!(client.resolve(&Target::Tag("v1".into())).unwrap(), image);
    assert_eq!(client.list_signatures(&image, usize::MAX).unwrap().len(), 1);
    let pushed = client
        .push_signature(&image, b"tls envelope", MEDIA_TYPE_JWS, thumbprints())
        .expect("push over TLS");
    assert_eq!(client.list_signatures(&image, usize::MAX).unwrap().len(), 2);
    assert_eq!(
        client.fetch_signature(&pushed.manifest).unwrap().envelope,
        b"tls envelope"
    );

    // A CA file that holds no certificate is a configuration error.
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let options = ClientOptions {
        ca_file: Some(junk.clone()),
        ..ClientOptions::default()
    };
    let err = RegistryClient::new(&reg.host, "tls/app", options, Box::new(Anonymous)).unwrap_err();
    assert!(
        err.to_string().contains(&junk.display().to_string()),
        "{err}"
    );

    // (c) With SSL_CERT_FILE (the system-roots path) in a child process,
    // so that the environment of other tests is untouched.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_trusts_ssl_cert_file",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SSL_CERT_FILE", &pki.tls.ca)
        .env_remove("SSL_CERT_DIR")
        .env("E2E_TLS_REGISTRY", &reg.host)
        .env("E2E_TLS_IMAGE_DIGEST", &image.digest)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run by `tls_registry_with_a_private_ca` with `SSL_CERT_FILE` set to the
/// test CA: the default options (system trust) must then accept the
/// registry.
#[test]
#[ignore = "run by tls_registry_with_a_private_ca in a child process"]
fn child_trusts_ssl_cert_file() {
    let host = std::env::var("E2E_TLS_REGISTRY").expect("E2E_TLS_REGISTRY");
    let digest = std::env::var("E2E_TLS_IMAGE_DIGEST").expect("E2E_TLS_IMAGE_DIGEST");
    let client = tls_client(&host, None);
    let image = client
        .resolve(&Target::Tag("v1".into()))
        .expect("resolve over TLS trusting SSL_CERT_FILE");
    assert_eq!(image.digest, digest);
    assert_eq!(client.list_signatures(&image, usize::MAX).unwrap().len(), 2);
}
