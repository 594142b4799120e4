//! The host side of the contract: finding, validating and calling external
//! plugins.
//!
//! [`ExternalPlugin::find`] finds a plugin ([`discovery`]) without running
//! it. [`ExternalPlugin::metadata`] runs `get-plugin-metadata` with a given
//! `pluginConfig` and validates the answer; answers are kept per executable
//! and configuration for the life of the process. Every other method runs
//! one child process per command ([`process`]) after checking the command
//! against the metadata for the `pluginConfig` that the request carries, so
//! a plugin whose capabilities depend on its configuration is judged by
//! the right answer. [`ExternalPlugin::open`] (find, then metadata without
//! a configuration) serves `plugin list`, `plugin install` and `key add`.
//! [`ExternalPlugin`] also implements [`Plugin`], so host code can treat an
//! external plugin like a built-in one. [`set_debug_log`] turns on upstream's
//! `-d` log of every request and response.
//!
//! # Limits
//!
//! | limit                       | default | environment variable (seconds)     |
//! |-----------------------------|---------|------------------------------------|
//! | `get-plugin-metadata` time  | 10 s    | `NOTATION_PLUGIN_METADATA_TIMEOUT` |
//! | any other command's time    | 120 s   | `NOTATION_PLUGIN_TIMEOUT`          |
//! | stdout, stderr (each)       | 64 MiB  | none                               |
//!
//! Metadata must be static, so its time-out is short; the other commands
//! may call a remote KMS or wait for a hardware token touch.
//!
//! # Failure kinds
//!
//! [`ClientError::kind`] sorts every error into one of four
//! [`ErrorKind`]s: the plugin could not be run, it broke the contract, it
//! returned an error object, or it timed out.

pub mod discovery;
pub mod process;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;

pub use discovery::{list, Candidate};

use crate::plugin::Plugin;
use crate::protocol::{
    self, Command, DescribeKeyRequest, DescribeKeyResponse, GenerateEnvelopeRequest,
    GenerateEnvelopeResponse, GenerateSignatureRequest, GenerateSignatureResponse,
    GetMetadataRequest, GetMetadataResponse, Message, PluginConfig, PluginError,
    VerifySignatureRequest, VerifySignatureResponse, CONTRACT_VERSION,
};
use crate::vocab::{Capability, ErrorCode};

/// Environment variable overriding the `get-plugin-metadata` time-out, in
/// whole seconds.
pub const METADATA_TIMEOUT_ENV: &str = "NOTATION_PLUGIN_METADATA_TIMEOUT";
/// Environment variable overriding the time-out of every other command, in
/// whole seconds.
pub const COMMAND_TIMEOUT_ENV: &str = "NOTATION_PLUGIN_TIMEOUT";
/// Cap on each of a plugin's output streams: 64 MiB.
pub const MAX_OUTPUT_BYTES: u64 = 64 * 1024 * 1024;
/// How much of a plugin's stderr an error message shows: 1 KiB.
pub const STDERR_HEAD_BYTES: usize = 1024;

/// Time-outs and size caps for plugin calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginLimits {
    /// Time-out of `get-plugin-metadata` (default 10 s).
    pub metadata_timeout: Duration,
    /// Time-out of every other command (default 120 s).
    pub command_timeout: Duration,
    /// Cap on stdout and on stderr, each (default 64 MiB).
    pub max_output_bytes: u64,
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            metadata_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(120),
            max_output_bytes: MAX_OUTPUT_BYTES,
        }
    }
}

impl PluginLimits {
    /// The defaults, with time-outs overridden by
    /// [`METADATA_TIMEOUT_ENV`] and [`COMMAND_TIMEOUT_ENV`] when set. A value
    /// that is not a whole number of seconds above zero is an error.
    pub fn from_env() -> Result<Self, ClientError> {
        let mut limits = PluginLimits::default();
        if let Some(t) = seconds_from_env(METADATA_TIMEOUT_ENV)? {
            limits.metadata_timeout = t;
        }
        if let Some(t) = seconds_from_env(COMMAND_TIMEOUT_ENV)? {
            limits.command_timeout = t;
        }
        Ok(limits)
    }

    /// The time-out that applies to `command`.
    pub fn timeout_for(&self, command: Command) -> Duration {
        match command {
            Command::GetPluginMetadata => self.metadata_timeout,
            _ => self.command_timeout,
        }
    }
}

fn seconds_from_env(variable: &'static str) -> Result<Option<Duration>, ClientError> {
    let Some(raw) = std::env::var_os(variable) else {
        return Ok(None);
    };
    let value = raw.to_string_lossy().into_owned();
    match value.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Some(Duration::from_secs(secs))),
        _ => Err(ClientError::InvalidSetting { variable, value }),
    }
}

/// One of a plugin's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    /// Standard output, where the response goes.
    Stdout,
    /// Standard error, where the error object goes.
    Stderr,
}

impl fmt::Display for OutputStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutputStream::Stdout => "stdout",
            OutputStream::Stderr => "stderr",
        })
    }
}

/// The four kinds of plugin failure the host tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The plugin could not be found, checked or started, or cannot serve
    /// the request (incompatible contract version, missing capability,
    /// invalid host settings).
    CouldNotRun,
    /// The plugin ran but broke the contract: unexpected exit, unparsable
    /// or invalid output, too much output, wrong name in its metadata.
    BrokeContract,
    /// The plugin answered with a valid error object.
    ReturnedError,
    /// The plugin did not finish in time and was killed.
    TimedOut,
}

/// A response field that must repeat the request's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoedField {
    /// `keyId` of `describe-key` and `generate-signature`.
    KeyId,
    /// `signatureEnvelopeType` of `generate-envelope`.
    SignatureEnvelopeType,
}

impl fmt::Display for EchoedField {
    /// The field as upstream's messages name it (`keyID`, ...).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EchoedField::KeyId => "keyID",
            EchoedField::SignatureEnvelopeType => "signatureEnvelopeType",
        })
    }
}

/// Why a plugin call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The plugin name cannot be a directory name.
    #[error(
        "plugin name {name:?} is invalid: it must be a single directory name \
         (not empty, `.` or `..`, and without path separators)"
    )]
    InvalidName {
        /// The rejected name.
        name: String,
    },
    /// No executable where the plugin should be.
    #[error(
        "stat {}: no such file or directory (plugin {name} is not installed there; \
         install it with `notation plugin install`, and check NOTATION_LIBEXEC if set)",
        path.display()
    )]
    NotFound {
        /// Plugin name.
        name: String,
        /// Where the executable was expected.
        path: PathBuf,
    },
    /// The executable is a symbolic link.
    #[error(
        "plugin {name} is refused: {} is a symbolic link, and plugin executables \
         must be regular files (a rule of this notation; upstream follows the link); \
         replace the link with the file it points to", path.display()
    )]
    Symlink {
        /// Plugin name.
        name: String,
        /// The link.
        path: PathBuf,
    },
    /// The executable is a directory, device or other non-regular file.
    #[error("not regular file: {} (plugin {name} is refused: its executable must be a regular file)", path.display())]
    NotRegularFile {
        /// Plugin name.
        name: String,
        /// The offending path.
        path: PathBuf,
    },
    /// The executable has no execute permission bit.
    #[error(
        "fork/exec {}: permission denied (plugin {name} is refused: the file is not \
         executable; give it execute permission (chmod +x) if you trust it)", path.display()
    )]
    NotExecutable {
        /// Plugin name.
        name: String,
        /// The executable.
        path: PathBuf,
    },
    /// The executable's file metadata could not be read.
    #[error("could not inspect plugin {name} at {}: {source}", path.display())]
    Inspect {
        /// Plugin name.
        name: String,
        /// The executable.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The plugin directory could not be read.
    #[error("could not read the plugin directory {}: {source}", dir.display())]
    ReadPluginDir {
        /// The plugin directory.
        dir: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A limit set in the environment is not valid.
    #[error(
        "environment variable {variable}={value:?} is invalid: expected a whole \
         number of seconds above zero"
    )]
    InvalidSetting {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// The process could not be started or waited for.
    #[error("could not run plugin {name} ({}) for {command}: {source}", path.display())]
    CouldNotRun {
        /// Plugin name.
        name: String,
        /// The command.
        command: Command,
        /// The executable.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Reading an output stream failed.
    #[error("could not read the {stream} of plugin {name} during {command}: {source}")]
    ReadOutput {
        /// Plugin name.
        name: String,
        /// The command.
        command: Command,
        /// The stream.
        stream: OutputStream,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The plugin declares no contract version we can speak.
    #[error(
        "invalid metadata: contract version {ours:?} is not in the list of the plugin \
         supported versions {supported:?} (plugin {name}; install a plugin version that \
         supports contract {ours})"
    )]
    IncompatibleContract {
        /// Plugin name.
        name: String,
        /// What the plugin declared.
        supported: Vec<String>,
        /// Our version.
        ours: &'static str,
    },
    /// The plugin's capabilities do not allow the command.
    #[error(
        "plugin {name} cannot run {command}: it declares none of the capabilities \
         {needs:?} that the command requires"
    )]
    MissingCapability {
        /// Plugin name.
        name: String,
        /// The command.
        command: Command,
        /// Wire names of the capabilities of which one is needed.
        needs: Vec<&'static str>,
    },
    /// The plugin did not finish in time; it was killed and reaped.
    #[error(
        "plugin {name} timed out: it did not finish {command} within {} s and was stopped \
         (a limit of this notation; upstream has none); if it needs longer (e.g. waiting \
         for a hardware token), raise the time-out with {METADATA_TIMEOUT_ENV} or \
         {COMMAND_TIMEOUT_ENV}", timeout.as_secs_f64()
    )]
    TimedOut {
        /// Plugin name.
        name: String,
        /// The command.
        command: Command,
        /// The time-out that expired.
        timeout: Duration,
    },
    /// An output stream exceeded its cap; the plugin was killed and reaped.
    #[error(
        "plugin {name} output too large: it wrote more than {limit} bytes to {stream} during \
         {command} and was stopped (a limit of this notation that protects it from runaway \
         plugins; the plugin broke the plugin contract)"
    )]
    OutputTooLarge {
        /// Plugin name.
        name: String,
        /// The command.
        command: Command,
        /// The stream that overflowed.
        stream: OutputStream,
        /// The cap.
        limit: u64,
    },
    /// The plugin exited with something other than 0 or 1.
    #[error(
        "response is not in JSON format. error: {}, stderr: {stderr} (plugin {name} \
         broke the plugin contract during {command}: only exit codes 0 and 1 are allowed)",
        code.map_or_else(|| status.clone(), |c| format!("exit status {c}"))
    )]
    UnexpectedExit {
        /// Plugin name.
        name: String,
        /// The command.
        command: Command,
        /// Exit code, or `None` if killed by a signal.
        code: Option<i32>,
        /// Text form of the exit status.
        status: String,
        /// The first KiB of stderr.
        stderr: String,
    },
    /// Exit code 1 without a valid error object on stderr.
    #[error(
        "response is not in JSON format. error: exit status 1, stderr: {stderr} (plugin \
         {name} broke the plugin contract during {command}: it failed without a valid error \
         object on stderr: {reason})"
    )]
    InvalidErrorObject {
        /// Plugin name.
        name: String,
        /// The command.
        command: Command,
        /// What is wrong with it.
        reason: String,
        /// The first KiB of stderr.
        stderr: String,
    },
    /// Exit code 0 with a missing, unparsable or invalid response.
    #[error(
        "failed to decode json response: plugin not compliant (plugin {name} broke the \
         plugin contract during {command}: its response is invalid: {reason}; its stderr \
         began with: {stderr:?})"
    )]
    InvalidResponse {
        /// Plugin name.
        name: String,
        /// The command.
        command: Command,
        /// What is wrong; names the field where one is at fault.
        reason: String,
        /// The first KiB of stderr.
        stderr: String,
    },
    /// A response field that must echo the request does not.
    #[error(
        "{field} in {} response {got:?} does not match request {sent:?} \
         (plugin {name} broke the plugin contract during {command})",
        camel_command(*command)
    )]
    ResponseMismatch {
        /// Plugin name.
        name: String,
        /// The command.
        command: Command,
        /// The field.
        field: EchoedField,
        /// The value in the request.
        sent: String,
        /// The value in the response.
        got: String,
    },
    /// `verify-signature` left out a verification that was asked for.
    #[error(
        "verification plugin {name:?} failed to verify {capability:?}: its verify-signature \
         response has no result for that capability (the plugin broke the plugin contract)"
    )]
    MissingVerificationResult {
        /// Plugin name.
        name: String,
        /// The capability without a result.
        capability: String,
    },
    /// The metadata name differs from the installation directory's.
    #[error(
        "executable name must be \"notation-{reported}\" instead of \"notation-{name}\" \
         (plugin {name} broke the plugin contract: get-plugin-metadata reports the name \
         {reported:?}; reinstall the plugin)"
    )]
    NameMismatch {
        /// The directory name.
        name: String,
        /// The name in the metadata.
        reported: String,
    },
    /// The plugin answered with a valid error object (exit code 1).
    #[error("{0}")]
    Plugin(PluginError),
}

impl ClientError {
    /// Which of the four failure kinds this is.
    pub fn kind(&self) -> ErrorKind {
        use ClientError::*;
        match self {
            InvalidName { .. }
            | NotFound { .. }
            | Symlink { .. }
            | NotRegularFile { .. }
            | NotExecutable { .. }
            | Inspect { .. }
            | ReadPluginDir { .. }
            | InvalidSetting { .. }
            | CouldNotRun { .. }
            | ReadOutput { .. }
            | IncompatibleContract { .. }
            | MissingCapability { .. } => ErrorKind::CouldNotRun,
            OutputTooLarge { .. }
            | UnexpectedExit { .. }
            | InvalidErrorObject { .. }
            | InvalidResponse { .. }
            | ResponseMismatch { .. }
            | MissingVerificationResult { .. }
            | NameMismatch { .. } => ErrorKind::BrokeContract,
            Plugin(_) => ErrorKind::ReturnedError,
            TimedOut { .. } => ErrorKind::TimedOut,
        }
    }

    /// The plugin's error object, if it returned one.
    pub fn plugin_error(&self) -> Option<&PluginError> {
        match self {
            ClientError::Plugin(e) => Some(e),
            _ => None,
        }
    }

    /// This error as the contract's error object, for code that treats an
    /// external plugin through the [`Plugin`] trait: a returned error is
    /// passed through, a time-out becomes `TIMEOUT`, anything else `ERROR`.
    pub fn into_plugin_error(self) -> PluginError {
        match self {
            ClientError::Plugin(e) => e,
            e @ ClientError::TimedOut { .. } => PluginError::new(ErrorCode::Timeout, e.to_string()),
            e => PluginError::new(ErrorCode::Error, e.to_string()),
        }
    }
}

/// A command's name as upstream writes it in response checks
/// (`generateSignature`).
fn camel_command(command: Command) -> &'static str {
    match command {
        Command::GetPluginMetadata => "getPluginMetadata",
        Command::DescribeKey => "describeKey",
        Command::GenerateSignature => "generateSignature",
        Command::GenerateEnvelope => "generateEnvelope",
        Command::VerifySignature => "verifySignature",
    }
}

/// The first [`STDERR_HEAD_BYTES`] of `stderr` as text.
fn stderr_head(stderr: &[u8]) -> String {
    let head = &stderr[..stderr.len().min(STDERR_HEAD_BYTES)];
    String::from_utf8_lossy(head).trim_end().to_owned()
}

/// A plugin installed in the plugin directory.
///
/// Finding a plugin ([`ExternalPlugin::find`]) runs nothing. Its metadata is
/// asked for per plugin configuration ([`ExternalPlugin::metadata`]): a
/// plugin may declare different capabilities for different keys, so every
/// command is checked against the answer for the configuration that the
/// command itself carries. Answers are kept for the life of the process,
/// keyed by the executable's identity and the configuration, so each
/// (plugin, configuration) pair is asked once.
#[derive(Debug, Clone)]
pub struct ExternalPlugin {
    name: String,
    path: PathBuf,
    identity: FileIdentity,
    limits: PluginLimits,
}

/// What tells one executable file apart from another (or from itself after
/// an upgrade): a cached metadata answer is reused only for the same file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FileIdentity {
    path: PathBuf,
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl FileIdentity {
    fn of(path: &Path) -> FileIdentity {
        let meta = std::fs::metadata(path).ok();
        FileIdentity {
            path: path.to_owned(),
            len: meta.as_ref().map_or(0, |m| m.len()),
            modified: meta.as_ref().and_then(|m| m.modified().ok()),
            #[cfg(unix)]
            inode: meta.as_ref().map_or((0, 0), |m| {
                use std::os::unix::fs::MetadataExt;
                (m.dev(), m.ino())
            }),
        }
    }
}

type MetadataKey = (FileIdentity, Option<PluginConfig>);

/// The process-wide cache of validated metadata answers.
fn metadata_cache() -> &'static Mutex<BTreeMap<MetadataKey, GetMetadataResponse>> {
    static CACHE: OnceLock<Mutex<BTreeMap<MetadataKey, GetMetadataResponse>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// An empty configuration is no configuration: both are sent (and cached)
/// as an absent `pluginConfig`.
fn normalise(config: Option<&PluginConfig>) -> Option<PluginConfig> {
    config.filter(|c| !c.is_empty()).cloned()
}

impl ExternalPlugin {
    /// Finds plugin `name` in `plugin_dir` and checks its executable
    /// ([`discovery::locate`]) without running it, with the limits from the
    /// environment ([`PluginLimits::from_env`]).
    pub fn find(plugin_dir: &Path, name: &str) -> Result<ExternalPlugin, ClientError> {
        Self::find_with_limits(plugin_dir, name, PluginLimits::from_env()?)
    }

    /// [`ExternalPlugin::find`] with explicit limits.
    pub fn find_with_limits(
        plugin_dir: &Path,
        name: &str,
        limits: PluginLimits,
    ) -> Result<ExternalPlugin, ClientError> {
        let path = discovery::locate(plugin_dir, name)?;
        Ok(ExternalPlugin {
            name: name.to_owned(),
            identity: FileIdentity::of(&path),
            path,
            limits,
        })
    }

    /// Finds plugin `name` and runs `get-plugin-metadata` without a plugin
    /// configuration. Only `plugin list`, `plugin install` and the checks of
    /// `key add` may rely on that answer; signing and verification use
    /// [`ExternalPlugin::find`] and [`ExternalPlugin::metadata`] with the
    /// key's configuration.
    pub fn open(plugin_dir: &Path, name: &str) -> Result<ExternalPlugin, ClientError> {
        Self::open_with_limits(plugin_dir, name, PluginLimits::from_env()?)
    }

    /// [`ExternalPlugin::open`] with explicit limits.
    ///
    /// The metadata must have every field, non-empty capabilities, the name
    /// `name`, and a supported contract version compatible with ours.
    pub fn open_with_limits(
        plugin_dir: &Path,
        name: &str,
        limits: PluginLimits,
    ) -> Result<ExternalPlugin, ClientError> {
        let plugin = Self::find_with_limits(plugin_dir, name, limits)?;
        plugin.metadata(None)?;
        Ok(plugin)
    }

    /// The plugin's name (its directory name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The plugin executable.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The limits calls run under.
    pub fn limits(&self) -> &PluginLimits {
        &self.limits
    }

    /// The validated `get-plugin-metadata` answer for `plugin_config` (an
    /// empty configuration counts as none). The plugin is run the first
    /// time a configuration is asked for in this process; later calls for
    /// the same executable and configuration reuse the answer.
    pub fn metadata(
        &self,
        plugin_config: Option<&PluginConfig>,
    ) -> Result<GetMetadataResponse, ClientError> {
        let key = (self.identity.clone(), normalise(plugin_config));
        if let Some(hit) = lock(metadata_cache()).get(&key) {
            return Ok(hit.clone());
        }
        let answer = fetch_metadata(&self.name, &self.path, &self.limits, key.1.clone())?;
        lock(metadata_cache()).insert(key, answer.clone());
        Ok(answer)
    }

    /// [`ExternalPlugin::metadata`] with the configuration taken by value
    /// (same cache, same validation).
    pub fn get_metadata(
        &self,
        plugin_config: Option<PluginConfig>,
    ) -> Result<GetMetadataResponse, ClientError> {
        self.metadata(plugin_config.as_ref())
    }

    /// Runs `describe-key`. The response's `keyId` must be the request's.
    pub fn describe_key(
        &self,
        req: DescribeKeyRequest,
    ) -> Result<DescribeKeyResponse, ClientError> {
        let resp: DescribeKeyResponse =
            self.call(Command::DescribeKey, req.plugin_config.as_ref(), &req)?;
        self.expect_same(
            Command::DescribeKey,
            EchoedField::KeyId,
            &req.key_id,
            &resp.key_id,
        )?;
        Ok(resp)
    }

    /// Runs `generate-signature`. The response's `keyId` must be the
    /// request's; checking the signature itself is the caller's job.
    pub fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, ClientError> {
        let resp: GenerateSignatureResponse =
            self.call(Command::GenerateSignature, req.plugin_config.as_ref(), &req)?;
        self.expect_same(
            Command::GenerateSignature,
            EchoedField::KeyId,
            &req.key_id,
            &resp.key_id,
        )?;
        Ok(resp)
    }

    /// Runs `generate-envelope`. The response's `signatureEnvelopeType` must
    /// be the request's; checking the envelope is the caller's job.
    pub fn generate_envelope(
        &self,
        req: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, ClientError> {
        let resp: GenerateEnvelopeResponse =
            self.call(Command::GenerateEnvelope, req.plugin_config.as_ref(), &req)?;
        self.expect_same(
            Command::GenerateEnvelope,
            EchoedField::SignatureEnvelopeType,
            &req.signature_envelope_type,
            &resp.signature_envelope_type,
        )?;
        Ok(resp)
    }

    /// Runs `verify-signature`. `verificationResults` must have an entry
    /// for every requested verification (entries for verifications that
    /// were not requested are ignored, as upstream does); checking
    /// `processedAttributes` against the request is the caller's job.
    pub fn verify_signature(
        &self,
        req: VerifySignatureRequest,
    ) -> Result<VerifySignatureResponse, ClientError> {
        let mut resp: VerifySignatureResponse =
            self.call(Command::VerifySignature, req.plugin_config.as_ref(), &req)?;
        let asked: HashSet<&Capability> = req.trust_policy.signature_verification.iter().collect();
        if let Some(missing) = req
            .trust_policy
            .signature_verification
            .iter()
            .find(|c| !resp.verification_results.contains_key(*c))
        {
            return Err(ClientError::MissingVerificationResult {
                name: self.name.clone(),
                capability: missing.as_str().to_owned(),
            });
        }
        resp.verification_results.retain(|c, _| asked.contains(c));
        Ok(resp)
    }

    fn expect_same(
        &self,
        command: Command,
        field: EchoedField,
        sent: &str,
        got: &str,
    ) -> Result<(), ClientError> {
        if sent == got {
            return Ok(());
        }
        Err(ClientError::ResponseMismatch {
            name: self.name.clone(),
            command,
            field,
            sent: sent.to_owned(),
            got: got.to_owned(),
        })
    }

    fn call<Req: Serialize, Resp: Message>(
        &self,
        command: Command,
        plugin_config: Option<&PluginConfig>,
        req: &Req,
    ) -> Result<Resp, ClientError> {
        let metadata = self.metadata(plugin_config)?;
        if !command.allowed_by(&metadata.capabilities) {
            return Err(ClientError::MissingCapability {
                name: self.name.clone(),
                command,
                needs: command
                    .required_capabilities()
                    .iter()
                    .map(Capability::as_str)
                    .collect(),
            });
        }
        call(&self.name, &self.path, &self.limits, command, req)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn fetch_metadata(
    name: &str,
    path: &Path,
    limits: &PluginLimits,
    plugin_config: Option<PluginConfig>,
) -> Result<GetMetadataResponse, ClientError> {
    let req = GetMetadataRequest { plugin_config };
    let metadata: GetMetadataResponse = call(name, path, limits, Command::GetPluginMetadata, &req)?;
    if metadata.name != name {
        return Err(ClientError::NameMismatch {
            name: name.to_owned(),
            reported: metadata.name,
        });
    }
    if !metadata.supports_our_contract() {
        return Err(ClientError::IncompatibleContract {
            name: name.to_owned(),
            supported: metadata.supported_contract_versions,
            ours: CONTRACT_VERSION,
        });
    }
    Ok(metadata)
}

static DEBUG_LOG: AtomicBool = AtomicBool::new(false);

/// Turns the debug log of plugin calls on or off for this process (the
/// host's `--debug`). When on, every call writes to stderr, as upstream
/// does, `Plugin COMMAND request: JSON`, then `Plugin COMMAND response:
/// JSON` or `Plugin COMMAND returned error: TEXT`. Unlike upstream, the
/// values of `pluginConfig` are shown as `***` (they may hold secrets) and
/// each logged document is cut at [`STDERR_HEAD_BYTES`] x 4.
pub fn set_debug_log(on: bool) {
    DEBUG_LOG.store(on, Ordering::Relaxed);
}

/// Whether [`set_debug_log`] turned the debug log on.
pub fn debug_log_enabled() -> bool {
    DEBUG_LOG.load(Ordering::Relaxed)
}

fn debug_log(command: Command, what: &str, bytes: &[u8]) {
    if !DEBUG_LOG.load(Ordering::Relaxed) {
        return;
    }
    let text = match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(mut doc) => {
            if let Some(config) = doc
                .get_mut("pluginConfig")
                .and_then(serde_json::Value::as_object_mut)
            {
                for value in config.values_mut() {
                    *value = serde_json::Value::String("***".into());
                }
            }
            doc.to_string()
        }
        Err(_) => String::from_utf8_lossy(bytes).trim_end().to_owned(),
    };
    let cap = STDERR_HEAD_BYTES * 4;
    let shown = if text.len() > cap {
        let mut end = cap;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}... ({} bytes)", &text[..end], text.len())
    } else {
        text
    };
    eprintln!("Plugin {command} {what}: {shown}");
}

/// One call: serialise, run, interpret the exit status and output.
fn call<Req: Serialize, Resp: Message>(
    name: &str,
    path: &Path,
    limits: &PluginLimits,
    command: Command,
    req: &Req,
) -> Result<Resp, ClientError> {
    let input = protocol::to_vec(req).map_err(|e| ClientError::InvalidResponse {
        name: name.to_owned(),
        command,
        reason: format!("the request could not be serialised: {}", e.message),
        stderr: String::new(),
    })?;
    debug_log(command, "request", &input);
    let done = process::invoke(
        name,
        path,
        command,
        &input,
        limits.timeout_for(command),
        limits.max_output_bytes,
    )?;
    if done.status.success() {
        debug_log(command, "response", &done.stdout);
    } else {
        debug_log(command, "returned error", &done.stderr);
    }
    match done.status.code() {
        Some(0) => {
            protocol::from_slice::<Resp>(&done.stdout).map_err(|e| ClientError::InvalidResponse {
                name: name.to_owned(),
                command,
                reason: e.message,
                stderr: stderr_head(&done.stderr),
            })
        }
        Some(1) => match protocol::from_slice::<PluginError>(&done.stderr) {
            Ok(err) => Err(ClientError::Plugin(err)),
            Err(e) => Err(ClientError::InvalidErrorObject {
                name: name.to_owned(),
                command,
                reason: e.message,
                stderr: stderr_head(&done.stderr),
            }),
        },
        code => Err(ClientError::UnexpectedExit {
            name: name.to_owned(),
            command,
            code,
            status: done.status.to_string(),
            stderr: stderr_head(&done.stderr),
        }),
    }
}

impl Plugin for ExternalPlugin {
    fn get_plugin_metadata(
        &self,
        req: GetMetadataRequest,
    ) -> Result<GetMetadataResponse, PluginError> {
        self.get_metadata(req.plugin_config)
            .map_err(ClientError::into_plugin_error)
    }

    fn describe_key(&self, req: DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
        ExternalPlugin::describe_key(self, req).map_err(ClientError::into_plugin_error)
    }

    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        ExternalPlugin::generate_signature(self, req).map_err(ClientError::into_plugin_error)
    }

    fn generate_envelope(
        &self,
        req: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, PluginError> {
        ExternalPlugin::generate_envelope(self, req).map_err(ClientError::into_plugin_error)
    }

    fn verify_signature(
        &self,
        req: VerifySignatureRequest,
    ) -> Result<VerifySignatureResponse, PluginError> {
        ExternalPlugin::verify_signature(self, req).map_err(ClientError::into_plugin_error)
    }
}
