//! A fault-injecting HTTP proxy on 127.0.0.1 in front of a real registry.
//!
//! Each request is matched against the [`Rule`]s (method, a path
//! substring, the nth match or a seeded rate); the first rule that fires
//! decides its [`Fault`]; requests no rule fires for are forwarded as
//! they are. The proxy can also act as a registry with the Referrers API
//! ([`FaultProxy::start_with_referrers_api`]): it records pushed manifests
//! that have a `subject`, answers their `PUT` with `OCI-Subject` and serves
//! `GET /v2/<repo>/referrers/<digest>` itself, so tests and benchmarks
//! cover both kinds of registry with the one docker-registry behind.
//!
//! The proxy speaks plain HTTP/1.1 with `Content-Length` bodies (what the
//! registry client and docker-registry use) and opens one upstream
//! connection per request.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// What to do to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Close the connection with a TCP reset before answering.
    Reset,
    /// Answer with this status (not forwarded), with `Retry-After` when
    /// given.
    Status(u16, Option<String>),
    /// Say nothing for this long, then close.
    Stall(Duration),
    /// Forward, then send the headers and only half of the body, then close.
    Truncate,
    /// Forward, then send the body followed by bytes beyond its declared
    /// length, then close.
    LongerThanDeclared,
    /// Forward, then flip one byte of the body (length unchanged).
    Corrupt,
    /// Forward (the registry applies it), then close without answering.
    ApplyThenDrop,
}

/// When a fault fires.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Method to match (`None`: any).
    pub method: Option<String>,
    /// Substring of the path (with query) to match.
    pub path_contains: String,
    /// Fire on these occurrences of a match (1-based); empty with no rate:
    /// every match.
    pub nth: Vec<usize>,
    /// Fire on a match with this probability (seeded).
    pub rate: Option<f64>,
    /// The fault.
    pub fault: Fault,
    seen: usize,
    rng: Option<fastrand::Rng>,
}

impl Rule {
    /// A rule firing on every match of `method` (`"*"`: any) and a path
    /// containing `path_contains`.
    pub fn new(method: &str, path_contains: &str, fault: Fault) -> Rule {
        Rule {
            method: (method != "*").then(|| method.to_string()),
            path_contains: path_contains.to_string(),
            nth: Vec::new(),
            rate: None,
            fault,
            seen: 0,
            rng: None,
        }
    }

    /// Fire only on these occurrences (1-based) of a match.
    pub fn nth(mut self, occurrences: &[usize]) -> Rule {
        self.nth = occurrences.to_vec();
        self
    }

    /// Fire on a match with probability `rate`, from a generator seeded
    /// with `seed`.
    pub fn rate(mut self, rate: f64, seed: u64) -> Rule {
        self.rate = Some(rate);
        self.rng = Some(fastrand::Rng::with_seed(seed));
        self
    }

    fn fires(&mut self, method: &str, path: &str) -> bool {
        if self.method.as_deref().is_some_and(|m| m != method)
            || !path.contains(&self.path_contains)
        {
            return false;
        }
        self.seen += 1;
        if let (Some(rate), Some(rng)) = (self.rate, self.rng.as_mut()) {
            return rng.f64() < rate;
        }
        self.nth.is_empty() || self.nth.contains(&self.seen)
    }
}

/// One request the proxy handled.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path with query.
    pub path: String,
    /// The fault applied, if any.
    pub fault: Option<Fault>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
    /// (repository, subject digest) -> descriptors of referrers (JSON).
    referrers: HashMap<(String, String), Vec<serde_json::Value>>,
}

/// A running proxy; stops accepting when dropped.
pub struct FaultProxy {
    /// `127.0.0.1:PORT` to point clients at.
    pub host: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// A proxy to `upstream` (`HOST:PORT`) without the Referrers API.
    pub fn start(upstream: &str) -> FaultProxy {
        Self::launch(upstream, false, "127.0.0.1:0")
    }

    /// A proxy to `upstream` that also acts as the Referrers API.
    pub fn start_with_referrers_api(upstream: &str) -> FaultProxy {
        Self::launch(upstream, true, "127.0.0.1:0")
    }

    /// A proxy on `listen` (e.g. `127.0.0.1:0`).
    pub fn launch(upstream: &str, referrers_api: bool, listen: &str) -> FaultProxy {
        let listener = TcpListener::bind(listen).expect("bind the proxy");
        let host = listener.local_addr().expect("proxy address").to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, stp, up) = (state.clone(), stop.clone(), upstream.to_string());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stp.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (st, up) = (st.clone(), up.clone());
                std::thread::spawn(move || serve(conn, &up, referrers_api, &st));
            }
        });
        FaultProxy { host, state, stop }
    }

    /// Add a rule (rules are tried in the order added).
    pub fn add(&self, rule: Rule) {
        self.lock().rules.push(rule);
    }

    /// Remove all rules.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// Requests handled so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// How many requests had a fault applied.
    pub fn faults_applied(&self) -> usize {
        self.lock()
            .seen
            .iter()
            .filter(|s| s.fault.is_some())
            .count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect(&self.host);
    }
}

struct Req {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Req> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(Req {
        method,
        path,
        headers,
        body,
    })
}

/// Send `req` to `upstream` on a fresh connection and read the whole answer.
fn forward(upstream: &str, req: &Req) -> Option<Resp> {
    let mut s = TcpStream::connect(upstream).ok()?;
    s.set_nodelay(true).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.path);
    for (k, v) in &req.headers {
        let k_l = k.to_ascii_lowercase();
        if k_l == "connection" || k_l == "content-length" {
            continue;
        }
        // The Host header is kept, so that the registry builds upload
        // locations on the proxy.
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        req.body.len()
    ));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&req.body);
    s.write_all(&bytes).ok()?;
    let mut reader = BufReader::new(s);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let status = line.split_whitespace().nth(1)?.parse().ok()?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let declared = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let mut body = Vec::new();
    if req.method == "HEAD" {
        // No body follows a HEAD answer.
    } else if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            if n == 0 {
                break;
            }
            let mut chunk = vec![0u8; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = declared {
        body.resize(n, 0);
        reader.read_exact(&mut body).ok()?;
    } else {
        reader.read_to_end(&mut body).ok()?;
    }
    headers.retain(|(k, _)| {
        let k = k.to_ascii_lowercase();
        k != "transfer-encoding" && k != "connection" && k != "content-length"
    });
    if req.method == "HEAD" {
        if let Some(n) = declared {
            headers.push(("Content-Length".into(), n.to_string()));
        }
    }
    Some(Resp {
        status,
        headers,
        body,
    })
}

fn write_response(conn: &mut TcpStream, resp: &Resp, head_only: bool, declared: usize) -> bool {
    let mut head = format!("HTTP/1.1 {} X\r\n", resp.status);
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !head_only {
        head.push_str(&format!("Content-Length: {declared}\r\n"));
    }
    head.push_str("\r\n");
    // One write: headers and body in separate segments would meet Nagle's
    // algorithm and delayed ACKs (40 ms stalls).
    let mut bytes = head.into_bytes();
    if !head_only {
        bytes.extend_from_slice(&resp.body);
    }
    conn.write_all(&bytes).is_ok()
}

fn reset(conn: &TcpStream) {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket descriptor and a properly sized option.
        unsafe {
            libc::setsockopt(
                conn.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                std::ptr::addr_of!(linger).cast(),
                libc::socklen_t::try_from(std::mem::size_of::<libc::linger>()).unwrap_or(8),
            );
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// `/v2/<repo>/<kind>/<rest>` split at the last `/<kind>/`.
fn split_path<'a>(path: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let p = path.split('?').next()?.strip_prefix("/v2/")?;
    let i = p.rfind(&format!("/{kind}/"))?;
    Some((&p[..i], &p[i + kind.len() + 2..]))
}

/// The Referrers API part: `Some` when this request is answered here.
fn referrers_api(req: &Req, upstream: &str, state: &Mutex<State>) -> Option<Resp> {
    if req.method == "GET" {
        let (repo, digest) = split_path(&req.path, "referrers")?;
        let wanted = req
            .path
            .split_once("artifactType=")
            .map(|(_, v)| v.split('&').next().unwrap_or("").replace("%2F", "/"));
        let st = state.lock().unwrap_or_else(|p| p.into_inner());
        let list: Vec<serde_json::Value> = st
            .referrers
            .get(&(repo.to_string(), digest.to_string()))
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|d| {
                wanted
                    .as_deref()
                    .is_none_or(|w| d["artifactType"].as_str() == Some(w))
            })
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": list,
        }))
        .ok()?;
        return Some(Resp {
            status: 200,
            headers: vec![(
                "Content-Type".into(),
                "application/vnd.oci.image.index.v1+json".into(),
            )],
            body,
        });
    }
    if req.method == "PUT" {
        let (repo, _) = split_path(&req.path, "manifests")?;
        let manifest: serde_json::Value = serde_json::from_slice(&req.body).ok()?;
        let subject = manifest["subject"]["digest"].as_str()?.to_string();
        let mut resp = forward(upstream, req)?;
        if resp.status == 201 {
            let artifact_type = manifest["artifactType"]
                .as_str()
                .or(manifest["config"]["mediaType"].as_str())
                .unwrap_or("");
            let mut desc = serde_json::json!({
                "mediaType": req.header("content-type").unwrap_or("application/vnd.oci.image.manifest.v1+json"),
                "digest": sha256(&req.body),
                "size": req.body.len(),
                "artifactType": artifact_type,
            });
            if let Some(a) = manifest.get("annotations") {
                desc["annotations"] = a.clone();
            }
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            let list = st
                .referrers
                .entry((repo.to_string(), subject.clone()))
                .or_default();
            if !list.iter().any(|d| d["digest"] == desc["digest"]) {
                list.push(desc);
            }
            resp.headers.push(("OCI-Subject".into(), subject));
        }
        return Some(resp);
    }
    None
}

fn serve(conn: TcpStream, upstream: &str, referrers: bool, state: &Mutex<State>) {
    let _ = conn.set_nodelay(true);
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut conn = conn;
    while let Some(req) = read_request(&mut reader) {
        let fault = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            let fault = st
                .rules
                .iter_mut()
                .find_map(|r| r.fires(&req.method, &req.path).then(|| r.fault.clone()));
            st.seen.push(Seen {
                method: req.method.clone(),
                path: req.path.clone(),
                fault: fault.clone(),
            });
            fault
        };
        let head_only = req.method == "HEAD";
        let answer = |req: &Req| {
            if referrers {
                if let Some(r) = referrers_api(req, upstream, state) {
                    return Some(r);
                }
            }
            forward(upstream, req)
        };
        match fault {
            None => {
                let Some(resp) = answer(&req) else {
                    reset(&conn);
                    return;
                };
                if !write_response(&mut conn, &resp, head_only, resp.body.len()) {
                    return;
                }
            }
            Some(Fault::Reset) => {
                reset(&conn);
                return;
            }
            Some(Fault::Status(code, retry_after)) => {
                let mut headers =
                    vec![("Content-Type".to_string(), "application/json".to_string())];
                if let Some(r) = retry_after {
                    headers.push(("Retry-After".into(), r));
                }
                let body = format!(
                    r#"{{"errors":[{{"code":"UNAVAILABLE","message":"injected fault {code}"}}]}}"#
                )
                .into_bytes();
                let resp = Resp {
                    status: code,
                    headers,
                    body,
                };
                if !write_response(&mut conn, &resp, head_only, resp.body.len()) {
                    return;
                }
            }
            Some(Fault::Stall(d)) => {
                std::thread::sleep(d);
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::ApplyThenDrop) => {
                let _ = answer(&req);
                reset(&conn);
                return;
            }
            Some(Fault::Truncate) => {
                if let Some(mut resp) = answer(&req) {
                    let full = resp.body.len();
                    resp.body.truncate(full / 2);
                    write_response(&mut conn, &resp, head_only, full);
                }
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::LongerThanDeclared) => {
                if let Some(mut resp) = answer(&req) {
                    let declared = resp.body.len();
                    resp.body
                        .extend_from_slice(b"{\"extra\":\"bytes beyond the declared length\"}");
                    write_response(&mut conn, &resp, head_only, declared);
                }
                // Leave the extra bytes on the connection for a while.
                std::thread::sleep(Duration::from_millis(200));
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::Corrupt) => {
                let Some(mut resp) = answer(&req) else {
                    reset(&conn);
                    return;
                };
                let middle = resp.body.len() / 2;
                if let Some(b) = resp.body.get_mut(middle) {
                    *b ^= 0x20;
                }
                if !write_response(&mut conn, &resp, head_only, resp.body.len()) {
                    return;
                }
            }
        }
    }
}
