//! Registry credentials: where they come from and where `login` puts them.
//!
//! Lookup order for a registry (first hit wins):
//! 1. explicit username/password (`--username`/`--password`, or
//!    `NOTATION_USERNAME`/`NOTATION_PASSWORD`: see [`explicit_from_env`]);
//! 2. notation's own `config.json`: `credHelpers[registry]`, then
//!    `credsStore` (a `docker-credential-NAME` helper);
//! 3. docker's `config.json` (`$DOCKER_CONFIG/config.json`, else
//!    `~/.docker/config.json`): `credHelpers[registry]`, then
//!    `credsStore`, then `auths[registry]` (`auth` = base64 `user:password`,
//!    or `identitytoken`).
//!
//! Storing ([`store`], for `notation login`) uses the first configured
//! helper in the same order; with no helper configured, the credentials
//! are written in plain text to docker's `config.json` `auths` (file mode
//! 0600, written atomically, other fields preserved), and the caller is
//! told so it can warn. [`erase`] undoes either.
//!
//! Docker Hub (`docker.io`) is keyed as `https://index.docker.io/v1/`, as
//! docker does.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::error::CredentialError;

/// The username a credential helper returns when the secret is an
/// identity (refresh) token rather than a password.
const TOKEN_USERNAME: &str = "<token>";
/// Largest helper output we read.
const HELPER_OUTPUT_CAP: u64 = 1024 * 1024;
/// Default time a credential helper may take.
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// Credentials for one registry. The secret is redacted in `Debug` and
/// zeroed on drop.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    secret: Zeroizing<String>,
    is_identity_token: bool,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("is_identity_token", &self.is_identity_token)
            .finish()
    }
}

impl Credentials {
    /// Username and password.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            secret: Zeroizing::new(password.into()),
            is_identity_token: false,
        }
    }

    /// An identity (OAuth2 refresh) token.
    pub fn identity_token(token: impl Into<String>) -> Self {
        Credentials {
            username: String::new(),
            secret: Zeroizing::new(token.into()),
            is_identity_token: true,
        }
    }

    /// The username (empty for identity tokens).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password or identity token. Never print it.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Whether the secret is an identity (refresh) token.
    pub fn is_identity_token(&self) -> bool {
        self.is_identity_token
    }

    /// The `Authorization: Basic …` header value (`None` for identity
    /// tokens, which only work with token services).
    pub fn basic_header(&self) -> Option<Zeroizing<String>> {
        if self.is_identity_token {
            return None;
        }
        let raw = Zeroizing::new(format!("{}:{}", self.username, self.secret.as_str()));
        Some(Zeroizing::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
        )))
    }
}

/// Supplies credentials for a registry (the name as written in the
/// reference, e.g. `localhost:5000` or `docker.io`).
pub trait CredentialSource: Send + Sync {
    /// Credentials for `registry`, or `None` for anonymous access.
    fn get(&self, registry: &str) -> Result<Option<Credentials>, CredentialError>;
}

/// No credentials: anonymous access only.
#[derive(Debug, Default, Clone, Copy)]
pub struct Anonymous;

impl CredentialSource for Anonymous {
    fn get(&self, _registry: &str) -> Result<Option<Credentials>, CredentialError> {
        Ok(None)
    }
}

/// The `NOTATION_USERNAME`/`NOTATION_PASSWORD` pair, when both are set
/// and non-empty.
pub fn explicit_from_env() -> Option<Credentials> {
    let user = std::env::var("NOTATION_USERNAME").ok()?;
    let pass = Zeroizing::new(std::env::var("NOTATION_PASSWORD").ok()?);
    if user.is_empty() || pass.is_empty() {
        return None;
    }
    Some(Credentials::basic(user, pass.as_str()))
}

/// Docker's config file: `$DOCKER_CONFIG/config.json`, else
/// `$HOME/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".docker").join("config.json"))
}

/// The key a registry has in config files and helpers: docker.io is
/// `https://index.docker.io/v1/`, anything else its name.
pub fn server_address(registry: &str) -> String {
    if registry == "docker.io"
        || registry == "registry-1.docker.io"
        || registry == "index.docker.io"
    {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    }
}

/// Reduce a config key (`https://host/v1/`, `http://host`, `host`) to a
/// host name for comparison.
fn normalize_key(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// The standard resolver: explicit credentials, notation's config, docker's
/// config. See the module docs for the order.
#[derive(Debug, Clone)]
pub struct CredentialResolver {
    /// Explicit credentials (flags or environment); used for every registry.
    pub explicit: Option<Credentials>,
    /// Notation's `config.json` (for `credsStore`/`credHelpers`), if any.
    pub notation_config: Option<PathBuf>,
    /// Docker's `config.json`, if any.
    pub docker_config: Option<PathBuf>,
    /// How long a credential helper may take.
    pub helper_timeout: Duration,
}

impl CredentialResolver {
    /// A resolver with the given explicit credentials and notation config
    /// path, and docker's config at its usual place
    /// ([`docker_config_path`]).
    pub fn new(explicit: Option<Credentials>, notation_config: Option<PathBuf>) -> Self {
        CredentialResolver {
            explicit,
            notation_config,
            docker_config: docker_config_path(),
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }
}

impl CredentialSource for CredentialResolver {
    fn get(&self, registry: &str) -> Result<Option<Credentials>, CredentialError> {
        if let Some(c) = &self.explicit {
            return Ok(Some(c.clone()));
        }
        let server = server_address(registry);
        for path in [&self.notation_config, &self.docker_config]
            .into_iter()
            .flatten()
        {
            let Some(cfg) = read_config(path)? else {
                continue;
            };
            if let Some(helper) = helper_for(&cfg, registry) {
                return helper_get(&helper, &server, self.helper_timeout);
            }
        }
        if let Some(path) = &self.docker_config {
            if let Some(cfg) = read_config(path)? {
                return auths_entry(&cfg, registry, path);
            }
        }
        Ok(None)
    }
}

/// Read a JSON config file; `None` when it does not exist.
fn read_config(path: &Path) -> Result<Option<Map<String, Value>>, CredentialError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CredentialError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Some(Map::new()));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(CredentialError::ConfigMalformed {
            path: path.to_path_buf(),
            detail: "the top level is not a JSON object".into(),
        }),
        Err(e) => Err(CredentialError::ConfigMalformed {
            path: path.to_path_buf(),
            detail: e.to_string(),
        }),
    }
}

/// The helper name for a registry: `credHelpers[registry]`, else `credsStore`.
fn helper_for(cfg: &Map<String, Value>, registry: &str) -> Option<String> {
    let server = server_address(registry);
    if let Some(Value::Object(helpers)) = cfg.get("credHelpers") {
        for (k, v) in helpers {
            if (k == registry || k == &server || normalize_key(k) == normalize_key(&server))
                && v.is_string()
            {
                let name = v.as_str().unwrap_or_default();
                if !name.is_empty() {
                    return Some(name.to_string());
                }
            }
        }
    }
    match cfg.get("credsStore") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn auths_entry(
    cfg: &Map<String, Value>,
    registry: &str,
    path: &Path,
) -> Result<Option<Credentials>, CredentialError> {
    let Some(Value::Object(auths)) = cfg.get("auths") else {
        return Ok(None);
    };
    let server = server_address(registry);
    let entry = auths.get(&server).or_else(|| {
        auths
            .iter()
            .find(|(k, _)| normalize_key(k) == normalize_key(&server))
            .map(|(_, v)| v)
    });
    let Some(Value::Object(entry)) = entry else {
        return Ok(None);
    };
    if let Some(Value::String(tok)) = entry.get("identitytoken") {
        if !tok.is_empty() {
            return Ok(Some(Credentials::identity_token(tok.clone())));
        }
    }
    let malformed = || CredentialError::AuthFieldMalformed {
        host: registry.to_string(),
        path: path.to_path_buf(),
    };
    if let Some(Value::String(auth)) = entry.get("auth") {
        if auth.is_empty() {
            return Ok(None);
        }
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| malformed())?,
        );
        let text = std::str::from_utf8(&decoded).map_err(|_| malformed())?;
        let (user, pass) = text.split_once(':').ok_or_else(malformed)?;
        return Ok(Some(Credentials::basic(user, pass)));
    }
    match (entry.get("username"), entry.get("password")) {
        (Some(Value::String(u)), Some(Value::String(p))) if !u.is_empty() => {
            Ok(Some(Credentials::basic(u.clone(), p.clone())))
        }
        _ => Ok(None),
    }
}

/// Run `docker-credential-NAME ACTION` with `input` on stdin, a timeout
/// and capped output. Returns (success, stdout).
fn run_helper(
    helper: &str,
    action: &str,
    input: &[u8],
    timeout: Duration,
) -> Result<(bool, String, Zeroizing<Vec<u8>>), CredentialError> {
    let program = format!("docker-credential-{helper}");
    if helper.contains('/') || helper.contains('\\') {
        return Err(CredentialError::HelperNotRunnable {
            program,
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "helper names cannot contain path separators",
            ),
        });
    }
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| CredentialError::HelperNotRunnable {
            program: program.clone(),
            source,
        })?;
    let stdin = child.stdin.take();
    let input = Zeroizing::new(input.to_vec());
    let writer = std::thread::spawn(move || {
        if let Some(mut s) = stdin {
            let _ = s.write_all(&input);
        }
    });
    let reader = |stream: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Zeroizing::new(Vec::new());
            if let Some(s) = stream {
                let _ = s.take(HELPER_OUTPUT_CAP).read_to_end(&mut out);
            }
            out
        })
    };
    let out_t = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err_t = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CredentialError::HelperTimeout {
                    program,
                    seconds: timeout.as_secs(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(source) => {
                let _ = child.kill();
                return Err(CredentialError::HelperNotRunnable { program, source });
            }
        }
    };
    let _ = writer.join();
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    let message = if stdout.is_empty() { &stderr } else { &stdout };
    let first_line = String::from_utf8_lossy(message)
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(300)
        .collect::<String>();
    let status_text = match status.code() {
        Some(c) => format!("exit code {c}"),
        None => "killed by a signal".to_string(),
    };
    if status.success() {
        Ok((true, status_text, stdout))
    } else {
        Ok((false, format!("{status_text}: {first_line}"), stdout))
    }
}

fn helper_get(
    helper: &str,
    server: &str,
    timeout: Duration,
) -> Result<Option<Credentials>, CredentialError> {
    let program = format!("docker-credential-{helper}");
    let (ok, status, stdout) = run_helper(helper, "get", server.as_bytes(), timeout)?;
    if !ok {
        let text = String::from_utf8_lossy(&stdout);
        if text.contains("credentials not found") || status.contains("credentials not found") {
            return Ok(None);
        }
        let (status, message) = status
            .split_once(": ")
            .map_or((status.clone(), String::new()), |(a, b)| {
                (a.to_string(), b.to_string())
            });
        return Err(CredentialError::HelperFailed {
            program,
            status,
            message,
        });
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let a: Answer =
        serde_json::from_slice(&stdout).map_err(|e| CredentialError::HelperMalformed {
            program: program.clone(),
            detail: format!("expected JSON with Username and Secret ({e})"),
        })?;
    let secret = Zeroizing::new(a.secret);
    if secret.is_empty() {
        return Ok(None);
    }
    if a.username == TOKEN_USERNAME {
        Ok(Some(Credentials::identity_token(secret.as_str())))
    } else {
        Ok(Some(Credentials::basic(a.username, secret.as_str())))
    }
}

/// Where [`store`] put the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredIn {
    /// In the credential helper `docker-credential-NAME`.
    Helper(String),
    /// In plain text (base64) in this config file; warn the user.
    PlainTextFile(PathBuf),
}

/// Store credentials for `registry` (for `notation login`). See the module
/// docs for where they go.
pub fn store(
    notation_config: Option<&Path>,
    docker_config: &Path,
    registry: &str,
    creds: &Credentials,
    timeout: Duration,
) -> Result<StoredIn, CredentialError> {
    let server = server_address(registry);
    for path in [notation_config, Some(docker_config)].into_iter().flatten() {
        let Some(cfg) = read_config(path)? else {
            continue;
        };
        if let Some(helper) = helper_for(&cfg, registry) {
            let (user, secret) = if creds.is_identity_token() {
                (TOKEN_USERNAME, creds.secret())
            } else {
                (creds.username(), creds.secret())
            };
            let input = Zeroizing::new(
                serde_json::to_vec(&serde_json::json!({
                    "ServerURL": server, "Username": user, "Secret": secret
                }))
                .unwrap_or_default(),
            );
            let (ok, status, _) = run_helper(&helper, "store", &input, timeout)?;
            if !ok {
                let (status, message) = status
                    .split_once(": ")
                    .map_or((status.clone(), String::new()), |(a, b)| {
                        (a.to_string(), b.to_string())
                    });
                return Err(CredentialError::HelperFailed {
                    program: format!("docker-credential-{helper}"),
                    status,
                    message,
                });
            }
            return Ok(StoredIn::Helper(helper));
        }
    }
    let mut cfg = read_config(docker_config)?.unwrap_or_default();
    let auths = cfg
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    let entry = if creds.is_identity_token() {
        serde_json::json!({ "identitytoken": creds.secret() })
    } else {
        let raw = Zeroizing::new(format!("{}:{}", creds.username(), creds.secret()));
        serde_json::json!({ "auth": base64::engine::general_purpose::STANDARD.encode(raw.as_bytes()) })
    };
    if let Some(map) = auths.as_object_mut() {
        // Drop other spellings of the same server so the new entry is the one read.
        map.retain(|k, _| normalize_key(k) != normalize_key(&server));
        map.insert(server, entry);
    }
    write_config(docker_config, &cfg)?;
    Ok(StoredIn::PlainTextFile(docker_config.to_path_buf()))
}

/// Remove stored credentials for `registry` (for `notation logout`).
/// Returns whether anything was removed from a config file (helpers are
/// asked to erase and their "not found" is not an error).
pub fn erase(
    notation_config: Option<&Path>,
    docker_config: &Path,
    registry: &str,
    timeout: Duration,
) -> Result<bool, CredentialError> {
    let server = server_address(registry);
    for path in [notation_config, Some(docker_config)].into_iter().flatten() {
        let Some(cfg) = read_config(path)? else {
            continue;
        };
        if let Some(helper) = helper_for(&cfg, registry) {
            let (ok, status, stdout) = run_helper(&helper, "erase", server.as_bytes(), timeout)?;
            let text = String::from_utf8_lossy(&stdout);
            if !ok
                && !text.contains("credentials not found")
                && !status.contains("credentials not found")
            {
                let (status, message) = status
                    .split_once(": ")
                    .map_or((status.clone(), String::new()), |(a, b)| {
                        (a.to_string(), b.to_string())
                    });
                return Err(CredentialError::HelperFailed {
                    program: format!("docker-credential-{helper}"),
                    status,
                    message,
                });
            }
            return Ok(ok);
        }
    }
    let Some(mut cfg) = read_config(docker_config)? else {
        return Ok(false);
    };
    let mut removed = false;
    if let Some(Value::Object(auths)) = cfg.get_mut("auths") {
        let before = auths.len();
        auths.retain(|k, _| normalize_key(k) != normalize_key(&server));
        removed = auths.len() != before;
    }
    if removed {
        write_config(docker_config, &cfg)?;
    }
    Ok(removed)
}

fn write_config(path: &Path, cfg: &Map<String, Value>) -> Result<(), CredentialError> {
    let mut bytes = serde_json::to_vec_pretty(cfg).unwrap_or_default();
    bytes.push(b'\n');
    crate::fsutil::atomic_write(path, &bytes, crate::fsutil::MODE_PRIVATE).map_err(|source| {
        CredentialError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(dir: &Path) -> CredentialResolver {
        CredentialResolver {
            explicit: None,
            notation_config: None,
            docker_config: Some(dir.join("config.json")),
            helper_timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn auths_lookup_forms() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = serde_json::json!({
            "auths": {
                "localhost:5000": {"auth": base64::engine::general_purpose::STANDARD.encode("alice:s3cret")},
                "https://reg.example.com/v1/": {"auth": base64::engine::general_purpose::STANDARD.encode("bob:pw:with:colons")},
                "https://index.docker.io/v1/": {"identitytoken": "zz-secret-zz"},
                "broken.example.com": {"auth": "!!!"}
            },
            "unrelated": 1
        });
        std::fs::write(dir.path().join("config.json"), cfg.to_string()).unwrap();
        let r = resolver(dir.path());
        let c = r.get("localhost:5000").unwrap().unwrap();
        assert_eq!((c.username(), c.secret()), ("alice", "s3cret"));
        let c = r.get("reg.example.com").unwrap().unwrap();
        assert_eq!((c.username(), c.secret()), ("bob", "pw:with:colons"));
        let c = r.get("docker.io").unwrap().unwrap();
        assert!(c.is_identity_token());
        assert!(r.get("other:5000").unwrap().is_none());
        let e = r.get("broken.example.com").unwrap_err();
        assert!(
            matches!(e, CredentialError::AuthFieldMalformed { .. }),
            "{e}"
        );
        assert!(!format!("{c:?}").contains("zz-secret-zz"));
    }

    #[test]
    fn explicit_wins_and_missing_file_is_anonymous() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = resolver(dir.path());
        assert!(r.get("localhost:5000").unwrap().is_none());
        r.explicit = Some(Credentials::basic("u", "p"));
        assert_eq!(r.get("x").unwrap().unwrap().username(), "u");
    }

    #[test]
    fn malformed_config_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
        let e = resolver(dir.path()).get("localhost:5000").unwrap_err();
        assert!(e.to_string().contains("malformed"), "{e}");
    }

    #[test]
    fn store_and_erase_plaintext_preserve_other_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"psFormat":"table","auths":{"other:1":{"auth":"eDp5"}}}"#,
        )
        .unwrap();
        let out = store(
            None,
            &path,
            "localhost:5000",
            &Credentials::basic("a", "b"),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(out, StoredIn::PlainTextFile(path.clone()));
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["psFormat"], "table");
        assert_eq!(v["auths"]["other:1"]["auth"], "eDp5");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let c = resolver(dir.path()).get("localhost:5000").unwrap().unwrap();
        assert_eq!((c.username(), c.secret()), ("a", "b"));
        assert!(erase(None, &path, "localhost:5000", Duration::from_secs(5)).unwrap());
        assert!(resolver(dir.path())
            .get("localhost:5000")
            .unwrap()
            .is_none());
        assert!(!erase(None, &path, "localhost:5000", Duration::from_secs(5)).unwrap());
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["auths"]["other:1"]["auth"], "eDp5");
    }

    #[test]
    fn missing_helper_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"credsStore":"definitely-not-installed-xyz"}"#,
        )
        .unwrap();
        let e = resolver(dir.path()).get("localhost:5000").unwrap_err();
        assert!(
            matches!(e, CredentialError::HelperNotRunnable { .. }),
            "{e}"
        );
        assert!(e
            .to_string()
            .contains("docker-credential-definitely-not-installed-xyz"));
    }
}
