//! A small Docker-style token server for registry token-auth tests.
//!
//! It answers `GET /token?service=…&scope=…` (the flow distribution's
//! `auth: token:` mode sends clients to): with valid Basic credentials it
//! issues a JWT granting the requested `pull`/`push` actions on the
//! requested repositories (only `pull` for users added with
//! [`TokenServer::add_user`] without push); with wrong credentials it answers 401; without
//! credentials it issues a token granting nothing. Tokens are RS256 JWTs
//! whose header carries the signing certificate in `x5c`; the certificate is
//! self-signed and written to [`TokenServer::root_cert_bundle`], which the
//! registry is configured to trust.
//!
//! One request per connection (`Connection: close`), handled in a thread;
//! every request is recorded (without secrets) for assertions.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use openssl::x509::extension::{BasicConstraints, KeyUsage};
use openssl::x509::{X509NameBuilder, X509};

use crate::RegistryAuth;

/// Service name the registry and the tokens use.
pub const SERVICE: &str = "notation-e2e-registry";
/// Issuer name the registry trusts.
pub const ISSUER: &str = "notation-e2e-token-issuer";

/// One request the token server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// Username from the Basic `Authorization` header, if any.
    pub user: Option<String>,
    /// Whether the credentials were accepted.
    pub authenticated: bool,
    /// The `service` query parameter.
    pub service: Option<String>,
    /// The `scope` query parameters, in order.
    pub scopes: Vec<String>,
}

/// A running token server; stopped when dropped.
pub struct TokenServer {
    /// Token endpoint URL (`http://127.0.0.1:PORT/token`).
    pub realm: String,
    /// PEM file with the certificate that signs tokens (for the registry's
    /// `rootcertbundle`).
    pub root_cert_bundle: PathBuf,
    user: String,
    password: String,
    users: Arc<Mutex<Vec<User>>>,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
    stop: Arc<AtomicBool>,
    addr: String,
    thread: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

#[derive(Clone)]
struct User {
    name: String,
    password: String,
    can_push: bool,
}

struct Shared {
    users: Arc<Mutex<Vec<User>>>,
    key: PKey<Private>,
    cert_der: Vec<u8>,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
}

impl TokenServer {
    /// Start a token server accepting `user`/`password`.
    pub fn start(user: &str, password: &str) -> TokenServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let (key, cert) = signing_identity();
        let root_cert_bundle = dir.path().join("token-signer.pem");
        std::fs::write(&root_cert_bundle, cert.to_pem().expect("cert PEM")).expect("write PEM");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind token server");
        let addr = listener.local_addr().expect("local addr").to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let users = Arc::new(Mutex::new(vec![User {
            name: user.to_string(),
            password: password.to_string(),
            can_push: true,
        }]));
        let shared = Shared {
            users: users.clone(),
            key,
            cert_der: cert.to_der().expect("cert DER"),
            requests: requests.clone(),
        };
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(s) = stream {
                    let _ = handle(&shared, s);
                }
            }
        });
        TokenServer {
            realm: format!("http://{addr}/token"),
            root_cert_bundle,
            user: user.to_string(),
            password: password.to_string(),
            users,
            requests,
            stop,
            addr,
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// Accept another user; without `can_push` its tokens grant only
    /// `pull`.
    pub fn add_user(&self, user: &str, password: &str, can_push: bool) {
        self.users
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(User {
                name: user.to_string(),
                password: password.to_string(),
                can_push,
            });
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Registry settings that send clients to this server.
    pub fn registry_auth(&self) -> RegistryAuth {
        RegistryAuth::Token {
            realm: self.realm.clone(),
            service: SERVICE.to_string(),
            issuer: ISSUER.to_string(),
            root_cert_bundle: self.root_cert_bundle.clone(),
            user: self.user.clone(),
            password: self.password.clone(),
        }
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A fresh RSA key and a self-signed certificate for it.
fn signing_identity() -> (PKey<Private>, X509) {
    let key = PKey::from_rsa(Rsa::generate(2048).expect("RSA key")).expect("PKey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", "notation e2e token signer")
        .expect("CN");
    let name = name.build();
    let mut b = X509::builder().expect("builder");
    b.set_version(2).expect("version");
    let mut serial = BigNum::new().expect("bn");
    serial.rand(64, MsbOption::MAYBE_ZERO, false).expect("rand");
    b.set_serial_number(&serial.to_asn1_integer().expect("serial"))
        .expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(&name).expect("issuer");
    b.set_pubkey(&key).expect("pubkey");
    b.set_not_before(&Asn1Time::days_from_now(0).expect("time"))
        .expect("not before");
    b.set_not_after(&Asn1Time::days_from_now(2).expect("time"))
        .expect("not after");
    b.append_extension(BasicConstraints::new().critical().ca().build().expect("bc"))
        .expect("bc");
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_cert_sign()
            .build()
            .expect("ku"),
    )
    .expect("ku");
    b.sign(&key, MessageDigest::sha256()).expect("sign cert");
    (key, b.build())
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse `repository:NAME:a,b` into the JWT `access` entry, keeping only
/// `pull` and `push`.
fn access_entry(scope: &str, can_push: bool) -> Option<serde_json::Value> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    if kind != "repository" {
        return None;
    }
    let actions: Vec<&str> = actions
        .split(',')
        .filter(|a| *a == "pull" || (can_push && *a == "push"))
        .collect();
    Some(serde_json::json!({"type": kind, "name": name, "actions": actions}))
}

/// A signed token for `user` (`None`: anonymous, granted nothing).
fn issue_token(shared: &Shared, user: Option<&User>, scopes: &[String]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let access: Vec<serde_json::Value> = match user {
        Some(u) => scopes
            .iter()
            .flat_map(|s| s.split(' '))
            .filter_map(|s| access_entry(s, u.can_push))
            .collect(),
        None => Vec::new(),
    };
    let subject = user.map(|u| u.name.as_str()).unwrap_or("");
    let header = serde_json::json!({
        "typ": "JWT",
        "alg": "RS256",
        "x5c": [base64::engine::general_purpose::STANDARD.encode(&shared.cert_der)],
    });
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": subject,
        "aud": SERVICE,
        "exp": now + 300,
        "nbf": now.saturating_sub(10),
        "iat": now,
        "jti": format!("e2e-{now}-{}", scopes.len()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut signer = Signer::new(MessageDigest::sha256(), &shared.key).expect("signer");
    signer.update(signing_input.as_bytes()).expect("sign");
    let sig = signer.sign_to_vec().expect("sign");
    format!("{signing_input}.{}", b64url(&sig))
}

fn handle(shared: &Shared, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut authorization = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.trim().eq_ignore_ascii_case("authorization") {
                authorization = Some(v.trim().to_string());
            }
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    let mut service = None;
    let mut scopes = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "service" => service = Some(percent_decode(v)),
            "scope" => scopes.push(percent_decode(v)),
            _ => {}
        }
    }
    let basic = authorization.as_deref().and_then(|a| {
        let (scheme, value) = a.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (u, p) = text.split_once(':')?;
        Some((u.to_string(), p.to_string()))
    });
    let known = basic.as_ref().and_then(|(u, p)| {
        shared
            .users
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|x| x.name == *u && x.password == *p)
            .cloned()
    });
    let authenticated = known.is_some();
    shared
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(TokenRequest {
            user: basic.as_ref().map(|(u, _)| u.clone()),
            authenticated,
            service: service.clone(),
            scopes: scopes.clone(),
        });
    let mut out = stream;
    let (status, body) = if path != "/token" {
        ("404 Not Found", r#"{"details":"not found"}"#.to_string())
    } else if service.as_deref() != Some(SERVICE) {
        (
            "400 Bad Request",
            r#"{"details":"unknown service"}"#.to_string(),
        )
    } else if basic.is_some() && !authenticated {
        (
            "401 Unauthorized",
            r#"{"details":"incorrect username or password"}"#.to_string(),
        )
    } else {
        let token = issue_token(shared, known.as_ref(), &scopes);
        (
            "200 OK",
            serde_json::json!({"token": token, "access_token": token, "expires_in": 300})
                .to_string(),
        )
    };
    let extra = if status.starts_with("401") {
        "WWW-Authenticate: Basic realm=\"notation-e2e-token\"\r\n"
    } else {
        ""
    };
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_query_values() {
        assert_eq!(
            percent_decode("repository%3Aa%2Fb%3Apull%2Cpush"),
            "repository:a/b:pull,push"
        );
        assert_eq!(percent_decode("a+b%2"), "a b%2");
    }

    #[test]
    fn access_entries() {
        assert_eq!(
            access_entry("repository:a/b:pull,push,delete", true),
            Some(serde_json::json!({"type":"repository","name":"a/b","actions":["pull","push"]}))
        );
        assert_eq!(
            access_entry("repository:a/b:pull,push", false),
            Some(serde_json::json!({"type":"repository","name":"a/b","actions":["pull"]}))
        );
        assert_eq!(access_entry("registry:catalog:*", true), None);
    }
}
