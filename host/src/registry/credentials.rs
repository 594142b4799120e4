//! Registry credentials: where they come from and where `login` puts them.
//!
//! Explicit credentials (`--username`/`--password`, or
//! `NOTATION_USERNAME`/`NOTATION_PASSWORD`: see [`explicit_from_env`]) win.
//! Otherwise one credential store is in effect, chosen as upstream notation
//! chooses it:
//! 1. notation's own `config.json`, if it configures authentication (a
//!    `credsStore`, any `credHelpers`, or any `auths` entry);
//! 2. else docker's `config.json` (`$DOCKER_CONFIG/config.json`, else
//!    `~/.docker/config.json`), if it configures authentication;
//! 3. else the platform's default helper when it is installed
//!    ([`platform_default_helper`]; on Linux `docker-credential-pass` when
//!    `pass` is installed, else `docker-credential-secretservice`);
//! 4. else none: anonymous access.
//!
//! Within a config file, a registry's credentials are in the helper
//! `docker-credential-NAME` named by `credHelpers[registry]`, else by
//! `credsStore`, else in plain text in `auths[registry]` (`auth` = base64
//! `user:password`, or `identitytoken`), which is read but never written.
//!
//! [`store`] (for `notation login`) only ever uses a credential helper:
//! when the store in effect has none for the registry it fails with
//! [`StoreError::NoCredentialHelper`] rather than writing the password in
//! plain text. [`erase`] (for `notation logout`) asks the helper to erase
//! and removes a plain-text `auths` entry left by docker or an older tool.
//!
//! Docker Hub (`docker.io`) is keyed as `https://index.docker.io/v1/`, as
//! docker does.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use notation_plugin_sdk::process::{self, RunError, RunLimits};
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

impl CredentialResolver {
    /// [`CredentialSource::get`] with the platform-default helper lookup
    /// passed in (tests use a fixed answer instead of searching PATH).
    fn get_with(
        &self,
        registry: &str,
        default_helper: impl FnOnce() -> Option<String>,
    ) -> Result<Option<Credentials>, CredentialError> {
        if let Some(c) = &self.explicit {
            return Ok(Some(c.clone()));
        }
        let server = server_address(registry);
        let choice = choose_store(
            self.notation_config.as_deref(),
            self.docker_config.as_deref(),
            default_helper,
        )?;
        match choice {
            StoreChoice::Config { path, cfg } => match helper_for(&cfg, registry) {
                Some(helper) => helper_get(&helper, &server, self.helper_timeout),
                None => auths_entry(&cfg, registry, &path),
            },
            StoreChoice::Platform(helper) => helper_get(&helper, &server, self.helper_timeout),
            StoreChoice::Nothing => Ok(None),
        }
    }
}

impl CredentialSource for CredentialResolver {
    fn get(&self, registry: &str) -> Result<Option<Credentials>, CredentialError> {
        self.get_with(registry, platform_default_helper)
    }
}

/// The credential store in effect, chosen as upstream notation does.
#[derive(Debug)]
enum StoreChoice {
    /// The first config file (notation's, then docker's) that configures
    /// authentication; it alone is used.
    Config {
        /// The file.
        path: PathBuf,
        /// Its content.
        cfg: Map<String, Value>,
    },
    /// No config file configures authentication; the platform's default
    /// helper (`docker-credential-NAME`) is on PATH.
    Platform(String),
    /// Nothing configured and no default helper: no stored credentials.
    Nothing,
}

/// Whether a config file configures authentication: a `credsStore`, any
/// `credHelpers`, or any `auths` entry (docker's and oras-go's rule).
fn is_auth_configured(cfg: &Map<String, Value>) -> bool {
    matches!(cfg.get("credsStore"), Some(Value::String(s)) if !s.is_empty())
        || matches!(cfg.get("credHelpers"), Some(Value::Object(m)) if !m.is_empty())
        || matches!(cfg.get("auths"), Some(Value::Object(m)) if !m.is_empty())
}

/// Pick the store: notation's config if it configures authentication, else
/// docker's if it does, else the platform's default helper if installed.
fn choose_store(
    notation_config: Option<&Path>,
    docker_config: Option<&Path>,
    default_helper: impl FnOnce() -> Option<String>,
) -> Result<StoreChoice, CredentialError> {
    for path in [notation_config, docker_config].into_iter().flatten() {
        if let Some(cfg) = read_config(path)? {
            if is_auth_configured(&cfg) {
                return Ok(StoreChoice::Config {
                    path: path.to_path_buf(),
                    cfg,
                });
            }
        }
    }
    Ok(default_helper().map_or(StoreChoice::Nothing, StoreChoice::Platform))
}

/// The platform's default credential helper, when its
/// `docker-credential-NAME` program is on PATH: `osxkeychain` on macOS,
/// `wincred` on Windows; on Linux `pass` when the `pass` program is
/// installed, else `secretservice` (the rule of docker and oras-go).
pub fn platform_default_helper() -> Option<String> {
    default_helper_on(std::env::var_os("PATH").as_deref())
}

fn default_helper_on(path_var: Option<&std::ffi::OsStr>) -> Option<String> {
    let on_path = |program: &str| {
        let file = format!("{program}{}", std::env::consts::EXE_SUFFIX);
        path_var
            .is_some_and(|p| std::env::split_paths(p).any(|dir| is_executable(&dir.join(&file))))
    };
    let name = if cfg!(target_os = "macos") {
        "osxkeychain"
    } else if cfg!(windows) {
        "wincred"
    } else if cfg!(target_os = "linux") {
        if on_path("pass") {
            "pass"
        } else {
            "secretservice"
        }
    } else {
        return None;
    };
    on_path(&format!("docker-credential-{name}")).then(|| name.to_string())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
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

/// What one credential helper run returned.
struct HelperRun {
    /// Whether it exited with status 0.
    success: bool,
    /// "exit code N" or "killed by a signal".
    status: String,
    /// Its stdout: the answer to `get`, or a protocol message such as
    /// "credentials not found". It may carry the secret, so it is parsed
    /// but never shown.
    stdout: Zeroizing<Vec<u8>>,
    /// Its stderr, parsed for "credentials not found" only.
    stderr: Zeroizing<Vec<u8>>,
}

/// Run `docker-credential-NAME ACTION` with `input` on stdin through the
/// SDK's process runner ([`notation_plugin_sdk::process`]): `timeout`
/// covers the whole run including output collection, each output stream is
/// capped, and on failure the helper's whole process group is killed (so a
/// background process it left holding its stdout open cannot hang us).
/// The environment is passed on unchanged: helpers are the credential
/// store itself.
fn run_helper(
    helper: &str,
    action: &str,
    input: &[u8],
    timeout: Duration,
) -> Result<HelperRun, CredentialError> {
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
    let limits = RunLimits {
        timeout,
        max_output: HELPER_OUTPUT_CAP,
    };
    let out = match process::run(Path::new(&program), &[OsStr::new(action)], input, limits) {
        Ok(out) => out,
        Err(e) => return Err(run_error(program, e)),
    };
    let status = match out.status.code() {
        Some(c) => format!("exit code {c}"),
        None => "killed by a signal".to_string(),
    };
    Ok(HelperRun {
        success: out.status.success(),
        status,
        stdout: Zeroizing::new(out.stdout),
        stderr: Zeroizing::new(out.stderr),
    })
}

/// The error for a helper run that did not finish normally.
fn run_error(program: String, e: RunError) -> CredentialError {
    match e {
        RunError::Spawn { source } => CredentialError::HelperNotRunnable { program, source },
        RunError::TimedOut { timeout } => CredentialError::HelperTimeout {
            program,
            seconds: timeout.as_secs(),
        },
        RunError::OutputTooLarge { stream, limit } => CredentialError::HelperMalformed {
            program,
            detail: format!("it wrote more than {limit} bytes to {stream} and was stopped"),
        },
        RunError::Read { stream, source } => CredentialError::HelperMalformed {
            program,
            detail: format!("its {stream} could not be read ({source}); it was stopped"),
        },
        RunError::Wait { source } => CredentialError::HelperFailed {
            program,
            status: "could not wait for it to exit".to_string(),
            message: source.to_string(),
        },
    }
}

fn helper_get(
    helper: &str,
    server: &str,
    timeout: Duration,
) -> Result<Option<Credentials>, CredentialError> {
    let program = format!("docker-credential-{helper}");
    let run = run_helper(helper, "get", server.as_bytes(), timeout)?;
    if !run.success {
        if is_not_found(&run) {
            return Ok(None);
        }
        return Err(helper_failed(helper, &run));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let a: Answer =
        serde_json::from_slice(&run.stdout).map_err(|e| CredentialError::HelperMalformed {
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

/// Where [`store`] puts credentials: always a credential helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredIn {
    /// The helper named by `credHelpers` or `credsStore` in this config file.
    ConfiguredHelper {
        /// The helper name (`NAME` of `docker-credential-NAME`).
        helper: String,
        /// The config file that names it.
        config: PathBuf,
    },
    /// The platform's default helper found on PATH (no config file
    /// configures authentication); see [`platform_default_helper`].
    PlatformHelper(String),
}

impl StoredIn {
    /// The helper name (`NAME` of `docker-credential-NAME`).
    pub fn helper(&self) -> &str {
        match self {
            StoredIn::ConfiguredHelper { helper, .. } | StoredIn::PlatformHelper(helper) => helper,
        }
    }
}

/// Why `notation login` cannot store credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No credential helper applies to the registry; notation never
    /// writes passwords in plain text.
    #[error("{}", no_helper_message(.registry, .config_in_use.as_deref(), .notation_config.as_deref(), .docker_config.as_deref()))]
    NoCredentialHelper {
        /// The registry.
        registry: String,
        /// The config file in use when it configures authentication but
        /// names no helper for this registry (it has only plain-text
        /// `auths`, or helpers for other registries).
        config_in_use: Option<PathBuf>,
        /// Notation's config file, if known.
        notation_config: Option<PathBuf>,
        /// Docker's config file, if known.
        docker_config: Option<PathBuf>,
    },
    /// Reading a config file or running the helper failed.
    #[error(transparent)]
    Credential(#[from] CredentialError),
}

fn no_helper_message(
    registry: &str,
    config_in_use: Option<&Path>,
    notation_config: Option<&Path>,
    docker_config: Option<&Path>,
) -> String {
    let why = match config_in_use {
        Some(p) => format!(
            "{} is the credential configuration in use and it names no credential helper \
             (\"credsStore\" or \"credHelpers\") for {registry}",
            p.display()
        ),
        None => format!(
            "no credential helper is configured in notation's or docker's config.json and \
             the platform's default helper ({PLATFORM_HELPERS}) is not on PATH"
        ),
    };
    let name = |p: Option<&Path>, default: &str| {
        p.map_or_else(|| default.to_string(), |p| p.display().to_string())
    };
    format!(
        "cannot save the credentials for {registry}: {why}. Notation never writes passwords \
         to a file in plain text. Install a docker credential helper (for example \
         docker-credential-pass or docker-credential-secretservice) and name it with \
         \"credsStore\": \"NAME\" (or \"credHelpers\": {{\"{registry}\": \"NAME\"}}) in {} or \
         in {}; or skip login and pass --username and --password (or set NOTATION_USERNAME \
         and NOTATION_PASSWORD) on each command",
        name(notation_config, "notation's config.json"),
        name(docker_config, "docker's config.json"),
    )
}

#[cfg(target_os = "macos")]
const PLATFORM_HELPERS: &str = "docker-credential-osxkeychain";
#[cfg(windows)]
const PLATFORM_HELPERS: &str = "docker-credential-wincred";
#[cfg(not(any(target_os = "macos", windows)))]
const PLATFORM_HELPERS: &str = "docker-credential-pass or docker-credential-secretservice";

/// Where credentials for `registry` would be stored, without storing
/// anything: the helper of the store in effect (see the module docs), or
/// [`StoreError::NoCredentialHelper`]. `login` asks this before prompting
/// for a password.
pub fn destination(
    notation_config: Option<&Path>,
    docker_config: Option<&Path>,
    registry: &str,
) -> Result<StoredIn, StoreError> {
    destination_with(
        notation_config,
        docker_config,
        registry,
        platform_default_helper,
    )
}

fn destination_with(
    notation_config: Option<&Path>,
    docker_config: Option<&Path>,
    registry: &str,
    default_helper: impl FnOnce() -> Option<String>,
) -> Result<StoredIn, StoreError> {
    let no_helper = |config_in_use: Option<PathBuf>| StoreError::NoCredentialHelper {
        registry: registry.to_string(),
        config_in_use,
        notation_config: notation_config.map(Path::to_path_buf),
        docker_config: docker_config.map(Path::to_path_buf),
    };
    match choose_store(notation_config, docker_config, default_helper)? {
        StoreChoice::Config { path, cfg } => match helper_for(&cfg, registry) {
            Some(helper) => Ok(StoredIn::ConfiguredHelper {
                helper,
                config: path,
            }),
            None => Err(no_helper(Some(path))),
        },
        StoreChoice::Platform(helper) => Ok(StoredIn::PlatformHelper(helper)),
        StoreChoice::Nothing => Err(no_helper(None)),
    }
}

/// Store credentials for `registry` in the helper `dest` names
/// (`docker-credential-NAME store`).
pub fn store_to(
    dest: &StoredIn,
    registry: &str,
    creds: &Credentials,
    timeout: Duration,
) -> Result<(), CredentialError> {
    let helper = dest.helper();
    let server = server_address(registry);
    let user = if creds.is_identity_token() {
        TOKEN_USERNAME
    } else {
        creds.username()
    };
    let input = Zeroizing::new(
        serde_json::to_vec(&serde_json::json!({
            "ServerURL": server, "Username": user, "Secret": creds.secret()
        }))
        .unwrap_or_default(),
    );
    let run = run_helper(helper, "store", &input, timeout)?;
    if run.success {
        Ok(())
    } else {
        Err(helper_failed(helper, &run))
    }
}

/// Store credentials for `registry` (for `notation login`): always in a
/// credential helper, never in plain text. See the module docs.
pub fn store(
    notation_config: Option<&Path>,
    docker_config: Option<&Path>,
    registry: &str,
    creds: &Credentials,
    timeout: Duration,
) -> Result<StoredIn, StoreError> {
    let dest = destination(notation_config, docker_config, registry)?;
    store_to(&dest, registry, creds, timeout)?;
    Ok(dest)
}

/// What [`erase`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    /// The helper asked to erase the credentials, and whether it had any.
    pub helper: Option<(String, bool)>,
    /// The config file a plain-text `auths` entry was removed from.
    pub plain_text: Option<PathBuf>,
}

/// Remove stored credentials for `registry` (for `notation logout`) from
/// the store in effect: its helper is asked to erase them (its "not found"
/// is not an error), and a plain-text `auths` entry for the registry in the
/// config file in use (written by docker or an older tool) is removed too,
/// keeping the file's other fields.
pub fn erase(
    notation_config: Option<&Path>,
    docker_config: Option<&Path>,
    registry: &str,
    timeout: Duration,
) -> Result<Erased, CredentialError> {
    erase_with(
        notation_config,
        docker_config,
        registry,
        timeout,
        platform_default_helper,
    )
}

fn erase_with(
    notation_config: Option<&Path>,
    docker_config: Option<&Path>,
    registry: &str,
    timeout: Duration,
    default_helper: impl FnOnce() -> Option<String>,
) -> Result<Erased, CredentialError> {
    let server = server_address(registry);
    let mut erased = Erased::default();
    let (helper, config) = match choose_store(notation_config, docker_config, default_helper)? {
        StoreChoice::Config { path, cfg } => (helper_for(&cfg, registry), Some((path, cfg))),
        StoreChoice::Platform(helper) => (Some(helper), None),
        StoreChoice::Nothing => (None, None),
    };
    if let Some(helper) = helper {
        let run = run_helper(&helper, "erase", server.as_bytes(), timeout)?;
        if !run.success && !is_not_found(&run) {
            return Err(helper_failed(&helper, &run));
        }
        erased.helper = Some((helper, run.success));
    }
    if let Some((path, mut cfg)) = config {
        let mut removed = false;
        if let Some(Value::Object(auths)) = cfg.get_mut("auths") {
            let before = auths.len();
            auths.retain(|k, _| normalize_key(k) != normalize_key(&server));
            removed = auths.len() != before;
        }
        if removed {
            write_config(&path, &cfg)?;
            erased.plain_text = Some(path);
        }
    }
    Ok(erased)
}

/// Whether a failed helper call means "no credentials for that server"
/// (the protocol puts that message on stdout; stderr is accepted too).
fn is_not_found(run: &HelperRun) -> bool {
    const NOT_FOUND: &[u8] = b"credentials not found";
    [&run.stdout, &run.stderr]
        .iter()
        .any(|out| out.windows(NOT_FOUND.len()).any(|w| w == NOT_FOUND))
}

/// The error for a helper that exited unsuccessfully. Its message is the
/// first line of the helper's stderr only: stdout may carry the secret
/// (a helper may echo its `store` input), so it is never shown.
fn helper_failed(helper: &str, run: &HelperRun) -> CredentialError {
    CredentialError::HelperFailed {
        program: format!("docker-credential-{helper}"),
        status: run.status.clone(),
        message: stderr_summary(&run.stderr),
    }
}

/// Longest stderr excerpt shown in an error, in characters.
const STDERR_SHOWN_CHARS: usize = 300;

/// The first non-empty line of `stderr`, without control characters and
/// cut to [`STDERR_SHOWN_CHARS`], or a note that there was none.
fn stderr_summary(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line: String = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(STDERR_SHOWN_CHARS)
        .collect();
    if line.is_empty() {
        "it wrote nothing to stderr (its stdout is not shown, as it may contain secrets)"
            .to_string()
    } else {
        line
    }
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

    const T: Duration = Duration::from_secs(5);

    fn resolver(dir: &Path) -> CredentialResolver {
        CredentialResolver {
            explicit: None,
            notation_config: None,
            docker_config: Some(dir.join("config.json")),
            helper_timeout: Duration::from_secs(10),
        }
    }

    fn no_default() -> Option<String> {
        None
    }

    /// Notation's and docker's config files in a temp dir, with the given
    /// contents (`None`: no file).
    fn configs(
        notation: Option<&str>,
        docker: Option<&str>,
    ) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let n = dir.path().join("notation.json");
        let d = dir.path().join("docker.json");
        if let Some(text) = notation {
            std::fs::write(&n, text).unwrap();
        }
        if let Some(text) = docker {
            std::fs::write(&d, text).unwrap();
        }
        (dir, n, d)
    }

    fn dest(n: &Path, d: &Path, default: Option<&str>) -> Result<StoredIn, StoreError> {
        destination_with(Some(n), Some(d), "localhost:5000", || {
            default.map(str::to_string)
        })
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
        assert!(r.get_with("localhost:5000", no_default).unwrap().is_none());
        r.explicit = Some(Credentials::basic("u", "p"));
        assert_eq!(
            r.get_with("x", no_default).unwrap().unwrap().username(),
            "u"
        );
    }

    #[test]
    fn malformed_config_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
        let e = resolver(dir.path()).get("localhost:5000").unwrap_err();
        assert!(e.to_string().contains("malformed"), "{e}");
    }

    #[test]
    fn store_selection_prefers_notation_config_then_docker_then_platform() {
        // Notation's helper wins over docker's.
        let (_t, n, d) = configs(
            Some(r#"{"credsStore":"n1"}"#),
            Some(r#"{"credsStore":"d1"}"#),
        );
        assert_eq!(
            dest(&n, &d, Some("pass")).unwrap(),
            StoredIn::ConfiguredHelper {
                helper: "n1".into(),
                config: n.clone()
            }
        );
        // credHelpers for the registry beats credsStore in the same file.
        let (_t, n, d) = configs(
            Some(r#"{"credsStore":"n1","credHelpers":{"localhost:5000":"n2"}}"#),
            None,
        );
        assert_eq!(dest(&n, &d, None).unwrap().helper(), "n2");
        // A notation config without authentication settings (or none at
        // all) defers to docker's.
        for notation in [None, Some("{}"), Some(r#"{"auths":{},"credHelpers":{}}"#)] {
            let (_t, n, d) = configs(notation, Some(r#"{"credsStore":"d1"}"#));
            assert_eq!(
                dest(&n, &d, Some("pass")).unwrap(),
                StoredIn::ConfiguredHelper {
                    helper: "d1".into(),
                    config: d.clone()
                },
                "{notation:?}"
            );
        }
        // Neither configures authentication: the platform default helper.
        let (_t, n, d) = configs(Some("{}"), Some(r#"{"psFormat":"table"}"#));
        assert_eq!(
            dest(&n, &d, Some("secretservice")).unwrap(),
            StoredIn::PlatformHelper("secretservice".into())
        );
        // ... and without one: refused, naming both files.
        let e = dest(&n, &d, None).unwrap_err();
        let StoreError::NoCredentialHelper { config_in_use, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!(config_in_use, &None);
        let msg = e.to_string();
        for part in [
            "localhost:5000",
            "plain text",
            "credsStore",
            "--username",
            "NOTATION_PASSWORD",
            n.to_str().unwrap(),
            d.to_str().unwrap(),
        ] {
            assert!(msg.contains(part), "{part:?} missing from: {msg}");
        }
    }

    #[test]
    fn config_in_use_without_a_helper_for_the_registry_is_refused() {
        // Helpers for other registries only: notation's config is still the
        // one in effect, so docker's helper is not used (upstream's rule).
        let (_t, n, d) = configs(
            Some(r#"{"credHelpers":{"other.example":"x"}}"#),
            Some(r#"{"credsStore":"d1"}"#),
        );
        let e = dest(&n, &d, Some("pass")).unwrap_err();
        assert!(
            matches!(&e, StoreError::NoCredentialHelper { config_in_use: Some(p), .. } if p == &n),
            "{e}"
        );
        // Docker's config with plain-text auths only: it is in effect, so
        // the platform helper is not used either, and nothing is written.
        let auths = r#"{"auths":{"localhost:5000":{"auth":"YTpi"}},"psFormat":"table"}"#;
        let (_t, n, d) = configs(None, Some(auths));
        let e = dest(&n, &d, Some("pass")).unwrap_err();
        assert!(
            matches!(&e, StoreError::NoCredentialHelper { config_in_use: Some(p), .. } if p == &d),
            "{e}"
        );
        let e = store(
            Some(&n),
            Some(&d),
            "localhost:5000",
            &Credentials::basic("a", "zz-pw-zz"),
            T,
        )
        .unwrap_err();
        assert!(matches!(e, StoreError::NoCredentialHelper { .. }), "{e}");
        assert!(!e.to_string().contains("zz-pw-zz"));
        assert_eq!(std::fs::read_to_string(&d).unwrap(), auths);
        assert!(!n.exists());
    }

    #[test]
    fn reading_uses_the_same_store_choice() {
        // Plain-text auths in notation's config are read; docker's are then
        // not consulted.
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let (_t, n, d) = configs(
            Some(&format!(
                r#"{{"auths":{{"localhost:5000":{{"auth":"{}"}}}}}}"#,
                enc("n:pw")
            )),
            Some(&format!(
                r#"{{"auths":{{"localhost:5000":{{"auth":"{}"}},"other:1":{{"auth":"{}"}}}}}}"#,
                enc("d:pw"),
                enc("o:pw")
            )),
        );
        let r = CredentialResolver {
            explicit: None,
            notation_config: Some(n.clone()),
            docker_config: Some(d.clone()),
            helper_timeout: T,
        };
        assert_eq!(
            r.get_with("localhost:5000", no_default)
                .unwrap()
                .unwrap()
                .username(),
            "n"
        );
        assert!(r.get_with("other:1", no_default).unwrap().is_none());
        // Without notation's file, docker's auths are read.
        std::fs::remove_file(&n).unwrap();
        assert_eq!(
            r.get_with("localhost:5000", no_default)
                .unwrap()
                .unwrap()
                .username(),
            "d"
        );
        // Nothing configured anywhere: the platform helper is asked (here a
        // name that cannot be run, which proves it was chosen).
        std::fs::write(&d, "{}").unwrap();
        let e = r
            .get_with("localhost:5000", || {
                Some("definitely-not-installed-xyz".into())
            })
            .unwrap_err();
        assert!(
            matches!(e, CredentialError::HelperNotRunnable { .. }),
            "{e}"
        );
        assert!(r.get_with("localhost:5000", no_default).unwrap().is_none());
    }

    #[test]
    fn erase_removes_plain_text_auths_and_keeps_other_fields() {
        let (_t, n, d) = configs(
            None,
            Some(
                r#"{"psFormat":"table","auths":{"http://localhost:5000":{"auth":"YTpi"},"other:1":{"auth":"eDp5"}}}"#,
            ),
        );
        let out = erase_with(Some(&n), Some(&d), "localhost:5000", T, no_default).unwrap();
        assert_eq!(
            out,
            Erased {
                helper: None,
                plain_text: Some(d.clone())
            }
        );
        let v: Value = serde_json::from_slice(&std::fs::read(&d).unwrap()).unwrap();
        assert_eq!(v["psFormat"], "table");
        assert_eq!(v["auths"]["other:1"]["auth"], "eDp5");
        assert!(v["auths"].get("http://localhost:5000").is_none(), "{v}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&d).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // Nothing left to remove: no change, no error.
        let before = std::fs::read(&d).unwrap();
        let out = erase_with(Some(&n), Some(&d), "localhost:5000", T, no_default).unwrap();
        assert_eq!(out, Erased::default());
        assert_eq!(std::fs::read(&d).unwrap(), before);
        assert!(!n.exists());
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
        let path = dir.path().join("config.json");
        let e = store(
            None,
            Some(&path),
            "localhost:5000",
            &Credentials::basic("a", "b"),
            T,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::Credential(CredentialError::HelperNotRunnable { .. })
            ),
            "{e}"
        );
    }

    #[test]
    fn failure_messages_come_from_stderr_only() {
        let run = |stdout: &[u8], stderr: &[u8]| HelperRun {
            success: false,
            status: "exit code 1".into(),
            stdout: Zeroizing::new(stdout.to_vec()),
            stderr: Zeroizing::new(stderr.to_vec()),
        };
        let secret_out = br#"{"ServerURL":"r","Username":"u","Secret":"hunter2"}"#;
        let e = helper_failed("x", &run(secret_out, b"\n  locked\x1b[0m keychain\nmore\n"));
        let shown = e.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("(exit code 1): locked[0m keychain"),
            "{shown}"
        );
        let shown = helper_failed("x", &run(secret_out, b"")).to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("nothing to stderr"), "{shown}");
        let long = "e".repeat(1000);
        assert_eq!(stderr_summary(long.as_bytes()).len(), STDERR_SHOWN_CHARS);
        // "Not found" is read from stdout (the protocol) or stderr.
        assert!(is_not_found(&run(
            b"credentials not found in native keychain\n",
            b""
        )));
        assert!(is_not_found(&run(b"", b"credentials not found")));
        assert!(!is_not_found(&run(secret_out, b"locked")));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn platform_default_helper_follows_docker_rule_on_linux() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let other = dir.path().join("other");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        let install = |d: &Path, name: &str, mode: u32| {
            let p = d.join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        let path = std::env::join_paths([&other, &bin]).unwrap();
        assert_eq!(default_helper_on(None), None);
        assert_eq!(default_helper_on(Some(&path)), None);
        // Not executable: not found.
        install(&bin, "docker-credential-secretservice", 0o644);
        assert_eq!(default_helper_on(Some(&path)), None);
        install(&bin, "docker-credential-secretservice", 0o755);
        assert_eq!(
            default_helper_on(Some(&path)).as_deref(),
            Some("secretservice")
        );
        // With `pass` installed the default is pass, which must exist too.
        install(&other, "pass", 0o755);
        assert_eq!(default_helper_on(Some(&path)), None);
        install(&other, "docker-credential-pass", 0o755);
        assert_eq!(default_helper_on(Some(&path)).as_deref(), Some("pass"));
    }
}
