//! The registry client against hostile or misconfigured servers written in
//! the test (std `TcpListener` threads, optionally TLS with an in-test CA):
//! credentials must only go to the registry's own scheme, host and port.
//!
//! * a referrers `Link` next page on another origin is refused and the
//!   other server receives nothing (also through `notation list -u -p`);
//! * an upload `Location` on another origin is followed without
//!   `Authorization`, and its 401 challenge is not answered; the same for
//!   a redirect to another origin;
//! * listing with a limit stops paging once the limit is reached;
//! * an HTTPS registry whose challenge names an `http://` token realm is
//!   refused before anything is sent to the realm.
//!
//! The CLI cases need the `notation` binary (`cargo build -p notation-host
//! --bin notation`, or `NOTATION_BIN`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notation_host::registry::oci::{
    ARTIFACT_TYPE_NOTARY_SIGNATURE, MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST,
};
use notation_host::registry::{
    ArtifactStore, ClientOptions, CredentialResolver, Credentials, Descriptor, RegistryClient,
    RegistryError,
};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509NameBuilder, X509};
use sha2::{Digest as _, Sha256};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

/// One request as a test server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    body_len: usize,
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// A test HTTP(S) server recording every request.
struct Server {
    host: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn start(respond: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Server {
        Self::start_with(None, respond)
    }

    fn start_with(
        tls: Option<SslAcceptor>,
        respond: impl Fn(&Seen) -> Answer + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let respond = Arc::new(respond);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let log = Arc::clone(&log);
                let respond = Arc::clone(&respond);
                match &tls {
                    None => {
                        std::thread::spawn(move || serve(stream, &log, &*respond));
                    }
                    Some(acceptor) => {
                        let acceptor = acceptor.clone();
                        std::thread::spawn(move || {
                            if let Ok(s) = acceptor.accept(stream) {
                                serve(s, &log, &*respond);
                            }
                        });
                    }
                }
            }
        });
        Server { host, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Answer one request on `stream` (the connection is then closed).
fn serve<S: Read + Write>(stream: S, log: &Mutex<Vec<Seen>>, respond: &dyn Fn(&Seen) -> Answer) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut authorization = None;
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim().to_string();
            if k.eq_ignore_ascii_case("authorization") {
                authorization = Some(v);
            } else if k.eq_ignore_ascii_case("content-length") {
                content_length = v.parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; content_length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let seen = Seen {
        method: parts.next().unwrap_or("").to_string(),
        path: parts.next().unwrap_or("").to_string(),
        authorization,
        body_len: body.len(),
    };
    log.lock().unwrap().push(seen.clone());
    let (status, headers, body) = respond(&seen);
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let stream = reader.get_mut();
    let _ = stream.write_all(head.as_bytes());
    if seen.method != "HEAD" {
        let _ = stream.write_all(&body);
    }
    let _ = stream.flush();
}

fn header(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

fn basic_challenge() -> Answer {
    (
        401,
        vec![header("WWW-Authenticate", "Basic realm=\"test\"")],
        Vec::new(),
    )
}

fn expected_basic() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    )
}

fn with_creds(host: &str, options: ClientOptions) -> RegistryClient {
    let creds = CredentialResolver {
        explicit: Some(Credentials::basic(USER, PASSWORD)),
        notation_config: None,
        docker_config: None,
        helper_timeout: Duration::from_secs(10),
    };
    RegistryClient::new(host, "repo", options, Box::new(creds)).expect("client")
}

fn insecure() -> ClientOptions {
    ClientOptions {
        insecure: true,
        timeout: Duration::from_secs(20),
        ..ClientOptions::default()
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn sig(n: u32) -> serde_json::Value {
    serde_json::json!({
        "mediaType": MEDIA_TYPE_OCI_MANIFEST,
        "digest": format!("sha256:{n:064x}"),
        "size": 100,
        "artifactType": ARTIFACT_TYPE_NOTARY_SIGNATURE,
    })
}

fn index(manifests: Vec<serde_json::Value>) -> Vec<u8> {
    serde_json::json!({"schemaVersion": 2, "mediaType": MEDIA_TYPE_OCI_INDEX, "manifests": manifests})
        .to_string()
        .into_bytes()
}

/// An image manifest and its digest, for subjects the CLI resolves.
fn image_manifest() -> (Vec<u8>, String) {
    let bytes = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "size": 2
        },
        "layers": []
    })
    .to_string()
    .into_bytes();
    let digest = sha256(&bytes);
    (bytes, digest)
}

/// A registry requiring Basic auth for everything, serving `manifest` by
/// digest and answering referrers calls with `referrers(path)`.
fn authenticated_registry(
    manifest: Vec<u8>,
    referrers: impl Fn(&str) -> Answer + Send + Sync + 'static,
) -> Server {
    let expected = expected_basic();
    Server::start(move |req| {
        if req.authorization.as_deref() != Some(expected.as_str()) {
            return basic_challenge();
        }
        if req.path.contains("/manifests/") {
            let digest = sha256(&manifest);
            (
                200,
                vec![
                    header("Content-Type", MEDIA_TYPE_OCI_MANIFEST),
                    header("Docker-Content-Digest", digest),
                ],
                manifest.clone(),
            )
        } else if req.path.contains("/referrers/") {
            referrers(&req.path)
        } else {
            (404, Vec::new(), Vec::new())
        }
    })
}

/// Everything `other` saw must be free of credentials; returns the count.
fn assert_no_credentials(other: &Server) -> usize {
    let seen = other.seen();
    for s in &seen {
        assert!(
            s.authorization.is_none(),
            "credentials leaked to the other origin: {s:?}"
        );
    }
    seen.len()
}

#[test]
fn referrers_next_page_on_another_origin_is_refused() {
    let other = Server::start(|_| basic_challenge());
    let other_host = other.host.clone();
    let (manifest, digest) = image_manifest();
    let registry = authenticated_registry(manifest.clone(), move |_| {
        (
            200,
            vec![
                header("Content-Type", MEDIA_TYPE_OCI_INDEX),
                header(
                    "Link",
                    format!("<http://{other_host}/v2/repo/referrers/x?last=1>; rel=\"next\""),
                ),
            ],
            index(vec![sig(1)]),
        )
    });
    let client = with_creds(&registry.host, insecure());
    let subject = Descriptor::new(
        MEDIA_TYPE_OCI_MANIFEST,
        digest.as_str(),
        manifest.len() as u64,
    );
    let err = client.list_signatures(&subject, usize::MAX).unwrap_err();
    assert!(matches!(err, RegistryError::ForeignLink { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&other.host) && msg.contains("paginate"),
        "{msg}"
    );
    assert!(!msg.contains(PASSWORD), "{msg}");
    // The registry itself got the credentials; the other server nothing.
    assert!(registry
        .seen()
        .iter()
        .any(|s| s.authorization.as_deref() == Some(expected_basic().as_str())));
    assert_eq!(assert_no_credentials(&other), 0);
}

#[test]
fn cli_list_does_not_follow_a_foreign_link_with_credentials() {
    // The reviewer's reproduction, through the notation binary.
    let other = Server::start(|_| basic_challenge());
    let other_host = other.host.clone();
    let (manifest, digest) = image_manifest();
    let registry = authenticated_registry(manifest, move |_| {
        (
            200,
            vec![
                header("Content-Type", MEDIA_TYPE_OCI_INDEX),
                header(
                    "Link",
                    format!("<http://{other_host}/v2/repo/referrers/y>; rel=\"next\""),
                ),
            ],
            index(Vec::new()),
        )
    });
    let reference = format!("{}/repo@{digest}", registry.host);
    let out = notation(&[
        "list",
        "--insecure-registry",
        "-u",
        USER,
        "-p",
        PASSWORD,
        &reference,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "list must fail: {stderr}");
    assert!(stderr.contains("paginate on itself"), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert_eq!(assert_no_credentials(&other), 0);
}

/// A registry (Basic auth) whose upload `Location` is on `storage`.
fn registry_uploading_to(storage_host: String) -> Server {
    let expected = expected_basic();
    Server::start(move |req| {
        if req.authorization.as_deref() != Some(expected.as_str()) {
            return basic_challenge();
        }
        match req.method.as_str() {
            "HEAD" => (404, Vec::new(), Vec::new()),
            "POST"
                if req
                    .path
                    .split('?')
                    .next()
                    .unwrap_or("")
                    .ends_with("/blobs/uploads/") =>
            {
                (
                    202,
                    vec![header(
                        "Location",
                        format!("http://{storage_host}/upload/session-1?state=abc"),
                    )],
                    Vec::new(),
                )
            }
            _ => (404, Vec::new(), Vec::new()),
        }
    })
}

#[test]
fn upload_location_on_another_origin_gets_no_credentials() {
    let storage = Server::start(|req| {
        if req.method == "PUT" && req.path.starts_with("/upload/session-1?state=abc&digest=") {
            (201, Vec::new(), Vec::new())
        } else {
            (400, Vec::new(), Vec::new())
        }
    });
    let registry = registry_uploading_to(storage.host.clone());
    let client = with_creds(&registry.host, insecure());
    let blob = b"envelope bytes";
    client.push_blob(blob, &sha256(blob)).expect("push blob");

    assert_eq!(assert_no_credentials(&storage), 1);
    let put = &storage.seen()[0];
    assert_eq!(put.method, "PUT");
    assert_eq!(put.body_len, blob.len());
    assert!(
        put.path.contains(&sha256(blob).replace(':', "%3A")),
        "{put:?}"
    );
    // The registry's own requests did carry the credentials.
    assert!(registry
        .seen()
        .iter()
        .any(|s| s.method == "POST" && s.authorization.is_some()));
}

#[test]
fn challenge_from_another_origin_is_not_answered() {
    // The storage backend asks for credentials (Basic here; a Bearer realm
    // would be just as foreign): the client must not answer.
    let storage = Server::start(|_| basic_challenge());
    let registry = registry_uploading_to(storage.host.clone());
    let client = with_creds(&registry.host, insecure());
    let blob = b"envelope bytes";
    let err = client.push_blob(blob, &sha256(blob)).unwrap_err();
    assert!(
        matches!(err, RegistryError::ForeignChallenge { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&storage.host), "{err}");
    assert_eq!(assert_no_credentials(&storage), 1);
}

#[test]
fn redirect_to_another_origin_carries_no_credentials() {
    // A blob GET redirected to a CDN that then challenges with a Bearer
    // realm of its own: neither the redirect nor a token request may carry
    // the credentials.
    let cdn = Arc::new(Mutex::new(String::new()));
    let cdn_for_server = Arc::clone(&cdn);
    let other = Server::start(move |req| {
        if req.path.starts_with("/token") {
            return (200, Vec::new(), br#"{"token":"t"}"#.to_vec());
        }
        let me = cdn_for_server.lock().unwrap().clone();
        (
            401,
            vec![header(
                "WWW-Authenticate",
                format!("Bearer realm=\"http://{me}/token\",service=\"cdn\""),
            )],
            Vec::new(),
        )
    });
    *cdn.lock().unwrap() = other.host.clone();
    let other_host = other.host.clone();
    let expected = expected_basic();
    let registry = Server::start(move |req| {
        if req.authorization.as_deref() != Some(expected.as_str()) {
            return basic_challenge();
        }
        (
            307,
            vec![header("Location", format!("http://{other_host}/blob-data"))],
            Vec::new(),
        )
    });
    let client = with_creds(&registry.host, insecure());
    let desc = Descriptor::new("application/octet-stream", sha256(b"x").as_str(), 1);
    let err = client.fetch_blob(&desc, 1024).unwrap_err();
    assert!(
        matches!(err, RegistryError::ForeignChallenge { .. }),
        "{err}"
    );
    let n = assert_no_credentials(&other);
    assert!(n >= 1, "the redirect was followed");
    assert!(
        other.seen().iter().all(|s| !s.path.starts_with("/token")),
        "no token request to the foreign realm"
    );
}

/// A registry (anonymous) with `pages` referrers pages of two new
/// signatures each (page 2 also repeats one of page 1); page `i` links to
/// page `i+1`. It serves `manifest` for any manifest request.
fn paged_registry(pages: u32, manifest: Vec<u8>) -> Server {
    Server::start(move |req| {
        if req.path.contains("/manifests/") {
            return (
                200,
                vec![
                    header("Content-Type", MEDIA_TYPE_OCI_MANIFEST),
                    header("Docker-Content-Digest", sha256(&manifest)),
                ],
                manifest.clone(),
            );
        }
        if !req.path.contains("/referrers/") {
            return (404, Vec::new(), Vec::new());
        }
        let page: u32 = req
            .path
            .split_once("page=")
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(1);
        let manifests = if page == 2 {
            vec![sig(2), sig(3), sig(4)]
        } else {
            vec![sig(page * 2 - 1), sig(page * 2)]
        };
        let mut headers = vec![header("Content-Type", MEDIA_TYPE_OCI_INDEX)];
        if page < pages {
            let base = req.path.split("&page=").next().unwrap_or("");
            headers.push(header(
                "Link",
                format!("<{base}&page={}>; rel=\"next\"", page + 1),
            ));
        }
        (200, headers, index(manifests))
    })
}

fn referrers_requests(server: &Server) -> usize {
    server
        .seen()
        .iter()
        .filter(|s| s.path.contains("/referrers/"))
        .count()
}

#[test]
fn listing_stops_paging_at_the_limit() {
    let subject = Descriptor::new(MEDIA_TYPE_OCI_MANIFEST, format!("sha256:{:064x}", 99), 10);
    // (limit, pages that must be read, signatures returned)
    for (limit, pages_read, returned) in [(1, 1, 1), (2, 1, 2), (3, 2, 3), (4, 2, 4), (5, 3, 5)] {
        let server = paged_registry(10, Vec::new());
        let client = with_creds(&server.host, insecure());
        let sigs = client.list_signatures(&subject, limit).expect("list");
        let digests: Vec<String> = sigs.iter().map(|d| d.digest.clone()).collect();
        let expected: Vec<String> = (1..=returned).map(|n| format!("sha256:{n:064x}")).collect();
        assert_eq!(digests, expected, "limit {limit}");
        assert_eq!(referrers_requests(&server), pages_read, "limit {limit}");
    }
    // Without a limit every page is read, duplicates dropped.
    let server = paged_registry(10, Vec::new());
    let client = with_creds(&server.host, insecure());
    let sigs = client.list_signatures(&subject, usize::MAX).expect("list");
    assert_eq!(sigs.len(), 20);
    assert_eq!(referrers_requests(&server), 10);
}

#[test]
fn cli_max_signatures_stops_after_the_page_with_one_more() {
    let (manifest, digest) = image_manifest();
    let registry = paged_registry(10, manifest);
    let reference = format!("{}/repo@{digest}", registry.host);
    // --max-signatures 3: a fourth signature is needed to know there are
    // more than 3; it is on page 2, so pages 3-10 are never requested.
    let out = notation(&[
        "list",
        "--insecure-registry",
        "--max-signatures",
        "3",
        "-o",
        "json",
        &reference,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("more than 3 signatures"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let listed: Vec<&str> = doc["signatures"]
        .as_array()
        .expect("signatures array")
        .iter()
        .filter_map(|d| d["digest"].as_str())
        .collect();
    let expected: Vec<String> = (1..=3).map(|n| format!("sha256:{n:064x}")).collect();
    assert_eq!(listed, expected, "{doc}");
    assert_eq!(referrers_requests(&registry), 2);

    // Exactly at the maximum: no warning, all listed.
    let registry = paged_registry(2, image_manifest().0);
    let out = notation(&[
        "list",
        "--insecure-registry",
        "--max-signatures",
        "4",
        &format!("{}/repo@{digest}", registry.host),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("more than"), "{stderr}");
    assert_eq!(referrers_requests(&registry), 2);
}

/// A self-signed CA-style certificate for 127.0.0.1 (EC P-256).
fn tls_identity(dir: &Path) -> (SslAcceptor, PathBuf) {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key: PKey<Private> = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "127.0.0.1").unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_cert_sign()
            .build()
            .unwrap(),
    )
    .unwrap();
    let san = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .build(&b.x509v3_context(None, None))
        .unwrap();
    b.append_extension(san).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    let cert = b.build();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, cert.to_pem().unwrap()).unwrap();
    let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    acceptor.set_private_key(&key).unwrap();
    acceptor.set_certificate(&cert).unwrap();
    (acceptor.build(), ca_file)
}

/// A server answering everything with a Bearer challenge naming `realm`.
fn bearer_registry(tls: Option<SslAcceptor>, realm: String) -> Server {
    Server::start_with(tls, move |_| {
        (
            401,
            vec![header(
                "WWW-Authenticate",
                format!("Bearer realm=\"{realm}\",service=\"reg\""),
            )],
            Vec::new(),
        )
    })
}

#[test]
fn https_registry_with_a_plain_http_token_realm_is_refused() {
    let tokens = Server::start(|_| (200, Vec::new(), br#"{"token":"t"}"#.to_vec()));
    let realm = format!("http://{}/token", tokens.host);
    let dir = tempfile::tempdir().unwrap();
    let (acceptor, ca_file) = tls_identity(dir.path());
    let registry = bearer_registry(Some(acceptor), realm.clone());
    let options = ClientOptions {
        ca_file: Some(ca_file),
        timeout: Duration::from_secs(20),
        ..ClientOptions::default()
    };
    let client = with_creds(&registry.host, options);
    let subject = Descriptor::new(MEDIA_TYPE_OCI_MANIFEST, format!("sha256:{:064x}", 1), 10);
    let err = client.list_signatures(&subject, 10).unwrap_err();
    assert!(
        matches!(err, RegistryError::InsecureTokenRealm { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&realm), "{err}");
    // The Referrers API and the tag-schema index are asked at the same
    // time (one request each), then the plain-HTTP realm is refused.
    let seen = registry.seen().len();
    assert!(
        (1..=2).contains(&seen),
        "TLS requests reached the registry: {seen}"
    );
    assert!(tokens.seen().is_empty(), "nothing may reach the realm");

    // Control: a plain-HTTP registry may use a plain-HTTP realm, and then
    // the token service does receive the Basic credentials (by design).
    let plain = bearer_registry(None, realm);
    let client = with_creds(&plain.host, insecure());
    let _ = client.list_signatures(&subject, 10);
    let got = tokens.seen();
    assert!((1..=2).contains(&got.len()), "{got:?}");
    assert_eq!(
        got[0].authorization.as_deref(),
        Some(expected_basic().as_str())
    );
}

use notation_e2e::notation_bin;

/// Run notation with an empty, private configuration.
fn notation(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(notation_bin())
        .args(args)
        .env_remove("NOTATION_CONFIG")
        .env_remove("NOTATION_USERNAME")
        .env_remove("NOTATION_PASSWORD")
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("xdg"))
        .env("DOCKER_CONFIG", home.path().join("docker"))
        .stdin(Stdio::null())
        .output()
        .expect("run notation")
}
