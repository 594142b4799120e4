//! `notation-containerd-verifier`: a containerd image verifier (plugin
//! `io.containerd.image-verifier.v1.bindir`) that allows an image pull only
//! when the image's Notary Project signatures verify under a notation trust
//! policy, using the [`notation_host::verification`] library.
//!
//! # The contract, as containerd calls it
//! * Arguments (Go `flag` syntax: `-flag value`, `-flag=value`, `--flag`):
//!   `-name` (the image reference as given, e.g.
//!   `registry.example/app:v1`), `-digest` (the resolved manifest digest),
//!   `-stdin-media-type`, and `-operation` (`pull` or `run`; only passed when
//!   containerd's `verify_on_run` is on).
//! * Standard input: the image's OCI descriptor
//!   ([`MEDIA_TYPE_DESCRIPTOR`]) or containerd's verifier input
//!   ([`MEDIA_TYPE_VERIFIER_INPUT`]: the descriptor under `descriptor`, with
//!   `operation` and `annotations`; the annotations are not used, as callers
//!   may set them).
//! * Judgement: exit code 0 allows the pull, anything else refuses it
//!   ([`EXIT_REFUSED`] for a verification verdict, [`EXIT_BAD_INPUT`] for
//!   malformed arguments or input). One short line on standard output says
//!   why (containerd truncates it); details go to standard error, which
//!   containerd logs at debug level.
//!
//! # What is verified
//! Exactly `-digest` in the repository of `-name` (the name's tag is never
//! resolved again), under the trust policy statement that applies to that
//! repository. No applicable statement refuses; a `skip` statement allows.
//! The descriptor on standard input must name the same digest.
//!
//! # Configuration (environment)
//! * `NOTATION_CONFIG`: the notation configuration directory (trust policy,
//!   trust stores, plugins, `config.json`), default [`DEFAULT_CONFIG_DIR`].
//! * `DOCKER_CONFIG`: docker's configuration directory, for registry
//!   credentials (`auths`, `credsStore`, `credHelpers`), default
//!   `~/.docker`.
//! * `NOTATION_CONTAINERD_CERTS_D`: containerd's registry host directory,
//!   default [`DEFAULT_CERTS_D`]. From `HOST/hosts.toml`, the `ca` files (of
//!   the top level and of `[host."…"]` entries for the registry itself) are
//!   trusted for the registry's TLS certificate, and a `server` or host entry
//!   with an `http://` URL for the registry means plain HTTP. Mirrors are
//!   not used: signatures are read from the registry the name names.
//! * `NOTATION_CONTAINERD_DEADLINE`: the time allowed for one run
//!   (`8s`, `2500ms`, `1.5s`, `1m`; a bare number is seconds), default
//!   [`DEFAULT_DEADLINE`], below containerd's default 10 s per-verifier
//!   budget. Past it, the pull is refused with that reason.
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notation_host::config::ConfigDir;
use notation_host::registry::oci::parse_digest;
use notation_host::registry::transport::Origin;
use notation_host::registry::{Descriptor, Reference};
use notation_host::verification::{ArtifactVerifier, VerificationError, VerifyOptions};

/// Media type of an OCI content descriptor on standard input.
pub const MEDIA_TYPE_DESCRIPTOR: &str = "application/vnd.oci.descriptor.v1+json";
/// Media type of containerd's verifier input on standard input.
pub const MEDIA_TYPE_VERIFIER_INPUT: &str =
    "application/vnd.containerd.image-verifier.input.v1+json";
/// The notation configuration directory when `NOTATION_CONFIG` is unset.
pub const DEFAULT_CONFIG_DIR: &str = "/etc/notation";
/// containerd's registry host directory when
/// `NOTATION_CONTAINERD_CERTS_D` is unset.
pub const DEFAULT_CERTS_D: &str = "/etc/containerd/certs.d";
/// The time allowed for one run when `NOTATION_CONTAINERD_DEADLINE` is
/// unset.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(8);
/// Largest standard input read (a descriptor is a few hundred bytes).
pub const MAX_STDIN_BYTES: u64 = 1024 * 1024;
/// Longest judgement line printed on standard output.
pub const MAX_REASON_CHARS: usize = 400;
/// Exit code that allows the pull.
pub const EXIT_ALLOWED: i32 = 0;
/// Exit code of a refusal after verification (or an attempt at it).
pub const EXIT_REFUSED: i32 = 1;
/// Exit code of a refusal because the arguments or input are malformed.
pub const EXIT_BAD_INPUT: i32 = 2;

/// The phase containerd verifies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Image pull.
    Pull,
    /// Container creation (`verify_on_run`).
    Run,
}

impl Operation {
    fn parse(s: &str) -> Option<Operation> {
        match s {
            "pull" => Some(Operation::Pull),
            "run" => Some(Operation::Run),
            _ => None,
        }
    }

    /// `pull` or `run`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Pull => "pull",
            Operation::Run => "run",
        }
    }
}

/// Malformed arguments, environment or standard input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A required flag is absent.
    #[error("missing required flag -{0}; containerd passes -name, -digest and -stdin-media-type")]
    MissingFlag(&'static str),
    /// A flag this verifier does not know.
    #[error("unknown flag {0:?}; the flags are -name, -digest, -stdin-media-type and -operation")]
    UnknownFlag(String),
    /// A flag without its value.
    #[error("flag -{0} needs a value")]
    MissingValue(&'static str),
    /// A flag given twice.
    #[error("flag -{0} is given more than once")]
    Repeated(&'static str),
    /// A positional argument.
    #[error("unexpected argument {0:?}; every value follows its flag")]
    UnexpectedArgument(String),
    /// An argument is not UTF-8.
    #[error("an argument is not valid UTF-8")]
    NotUtf8,
    /// `-operation` is neither `pull` nor `run`.
    #[error("invalid -operation {0:?}: expected pull or run")]
    BadOperation(String),
    /// `-digest` (or the descriptor's digest) is not a digest.
    #[error("invalid digest {digest:?}: {reason}")]
    BadDigest {
        /// The value.
        digest: String,
        /// Why.
        reason: String,
    },
    /// `-name` is not an image reference with a registry host.
    #[error("invalid -name {name:?}: {reason}")]
    BadName {
        /// The value.
        name: String,
        /// Why.
        reason: String,
    },
    /// `-stdin-media-type` is not one this verifier reads.
    #[error("unsupported -stdin-media-type {0:?}: expected {MEDIA_TYPE_DESCRIPTOR} or {MEDIA_TYPE_VERIFIER_INPUT}")]
    UnknownMediaType(String),
    /// Standard input could not be read.
    #[error("cannot read standard input: {0}")]
    StdinRead(#[source] std::io::Error),
    /// Standard input is larger than [`MAX_STDIN_BYTES`].
    #[error("standard input is larger than {MAX_STDIN_BYTES} bytes; expected one JSON descriptor")]
    StdinTooLarge,
    /// Standard input is not JSON of the announced media type.
    #[error("standard input is not a valid {media_type} document: {error}")]
    StdinJson {
        /// The announced media type.
        media_type: String,
        /// The parse error.
        error: String,
    },
    /// The descriptor names another digest than `-digest`.
    #[error("the descriptor on standard input has digest {stdin}, but -digest is {flag}; refusing to guess which image to verify")]
    DigestMismatch {
        /// `-digest`.
        flag: String,
        /// The descriptor's digest.
        stdin: String,
    },
    /// The input's operation differs from `-operation`.
    #[error("the input's operation {stdin:?} differs from -operation {flag:?}")]
    OperationMismatch {
        /// `-operation`.
        flag: String,
        /// The input's `operation`.
        stdin: String,
    },
    /// `NOTATION_CONTAINERD_DEADLINE` is not a duration.
    #[error(
        "invalid NOTATION_CONTAINERD_DEADLINE {0:?}: use a duration such as 8s, 2500ms or 1.5s"
    )]
    BadDeadline(String),
}

/// The arguments containerd passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `-name`.
    pub name: String,
    /// `-digest`.
    pub digest: String,
    /// `-stdin-media-type`.
    pub stdin_media_type: String,
    /// `-operation`, when given.
    pub operation: Option<Operation>,
}

impl Invocation {
    /// Parses the arguments (without the program name), in Go `flag`
    /// syntax.
    pub fn parse(args: &[String]) -> Result<Invocation, InputError> {
        let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            let Some(flag) = arg
                .strip_prefix("--")
                .or_else(|| arg.strip_prefix('-'))
                .filter(|f| !f.is_empty())
            else {
                return Err(InputError::UnexpectedArgument(arg.clone()));
            };
            let (key, inline) = match flag.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (flag, None),
            };
            let key: &'static str = match key {
                "name" => "name",
                "digest" => "digest",
                "stdin-media-type" => "stdin-media-type",
                "operation" => "operation",
                _ => return Err(InputError::UnknownFlag(arg.clone())),
            };
            let value = match inline {
                Some(v) => v,
                None => {
                    let v = args.get(i).ok_or(InputError::MissingValue(key))?;
                    i += 1;
                    v.clone()
                }
            };
            if values.insert(key, value).is_some() {
                return Err(InputError::Repeated(key));
            }
        }
        let mut take = |k: &'static str| values.remove(k);
        let name = take("name").ok_or(InputError::MissingFlag("name"))?;
        let digest = take("digest").ok_or(InputError::MissingFlag("digest"))?;
        let stdin_media_type =
            take("stdin-media-type").ok_or(InputError::MissingFlag("stdin-media-type"))?;
        let operation = match take("operation") {
            None => None,
            Some(op) => Some(Operation::parse(&op).ok_or(InputError::BadOperation(op))?),
        };
        parse_digest(&digest).map_err(|e| InputError::BadDigest {
            digest: digest.clone(),
            reason: e.to_string(),
        })?;
        if name.is_empty() {
            return Err(InputError::BadName {
                name,
                reason: "it is empty".to_string(),
            });
        }
        if stdin_media_type != MEDIA_TYPE_DESCRIPTOR
            && stdin_media_type != MEDIA_TYPE_VERIFIER_INPUT
        {
            return Err(InputError::UnknownMediaType(stdin_media_type));
        }
        Ok(Invocation {
            name,
            digest,
            stdin_media_type,
            operation,
        })
    }

    /// The reference verified: the repository of `-name` at `-digest`
    /// (`registry/repository@sha256:…`). A tag or digest in the name is
    /// dropped: the digest containerd resolved is what is verified.
    pub fn digest_reference(&self) -> Result<String, InputError> {
        let bad = |reason: String| InputError::BadName {
            name: self.name.clone(),
            reason,
        };
        let base = self.name.split_once('@').map_or(&*self.name, |(b, _)| b);
        let last_slash = base.rfind('/').ok_or_else(|| {
            bad("it has no registry host (containerd passes names such as docker.io/library/alpine:3)".to_string())
        })?;
        let base = match base[last_slash..].rfind(':') {
            Some(colon) => &base[..last_slash + colon],
            None => base,
        };
        let reference = format!("{base}@{}", self.digest);
        Reference::parse(&reference).map_err(|e| bad(e.to_string()))?;
        Ok(reference)
    }
}

/// containerd's verifier input (`application/vnd.containerd.image-verifier.input.v1+json`);
/// unknown fields are ignored.
#[derive(Debug, serde::Deserialize)]
struct VerifierInput {
    descriptor: Option<Descriptor>,
    #[serde(default)]
    operation: Option<String>,
}

/// The descriptor on standard input, checked against the invocation.
pub fn read_descriptor(invocation: &Invocation, stdin: &[u8]) -> Result<Descriptor, InputError> {
    let json_error = |e: serde_json::Error| InputError::StdinJson {
        media_type: invocation.stdin_media_type.clone(),
        error: e.to_string(),
    };
    let descriptor = if invocation.stdin_media_type == MEDIA_TYPE_VERIFIER_INPUT {
        let input: VerifierInput = serde_json::from_slice(stdin).map_err(json_error)?;
        if let (Some(flag), Some(stdin_op)) = (invocation.operation, &input.operation) {
            if flag.as_str() != stdin_op {
                return Err(InputError::OperationMismatch {
                    flag: flag.as_str().to_string(),
                    stdin: stdin_op.clone(),
                });
            }
        }
        input.descriptor.ok_or_else(|| InputError::StdinJson {
            media_type: invocation.stdin_media_type.clone(),
            error: "it has no \"descriptor\"".to_string(),
        })?
    } else {
        serde_json::from_slice::<Descriptor>(stdin).map_err(json_error)?
    };
    if descriptor.digest != invocation.digest {
        return Err(InputError::DigestMismatch {
            flag: invocation.digest.clone(),
            stdin: descriptor.digest,
        });
    }
    Ok(descriptor)
}

/// Settings read from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The notation configuration directory.
    pub config_dir: PathBuf,
    /// containerd's registry host directory.
    pub certs_d: PathBuf,
    /// The time allowed for one run.
    pub deadline: Duration,
}

impl Settings {
    /// Reads the settings through `env` (see the crate docs).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Settings, InputError> {
        let non_empty = |k: &str| env(k).filter(|v| !v.is_empty());
        let deadline = match non_empty("NOTATION_CONTAINERD_DEADLINE") {
            None => DEFAULT_DEADLINE,
            Some(v) => parse_duration(&v).ok_or(InputError::BadDeadline(v))?,
        };
        Ok(Settings {
            config_dir: non_empty("NOTATION_CONFIG")
                .map_or_else(|| PathBuf::from(DEFAULT_CONFIG_DIR), PathBuf::from),
            certs_d: non_empty("NOTATION_CONTAINERD_CERTS_D")
                .map_or_else(|| PathBuf::from(DEFAULT_CERTS_D), PathBuf::from),
            deadline,
        })
    }
}

/// Parses `8s`, `2500ms`, `1.5s`, `1m` or a bare number of seconds
/// (positive, at most one hour).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return None,
    };
    (seconds > 0.0 && seconds <= 3600.0).then(|| Duration::from_secs_f64(seconds))
}

/// What containerd's `certs.d/HOST/hosts.toml` says about reaching a
/// registry directly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryHost {
    /// CA files to trust for the registry's TLS certificate.
    pub ca_files: Vec<PathBuf>,
    /// The registry is reached over plain HTTP.
    pub plain_http: bool,
    /// Settings present but not honoured (for standard error).
    pub ignored: Vec<String>,
}

/// A `hosts.toml` that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot use {}: {reason}", path.display())]
pub struct HostsError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum CaField {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, serde::Deserialize)]
struct HostEntry {
    ca: Option<CaField>,
    skip_verify: Option<bool>,
}

#[derive(Debug, serde::Deserialize)]
struct HostsFile {
    server: Option<String>,
    ca: Option<CaField>,
    skip_verify: Option<bool>,
    #[serde(default)]
    host: BTreeMap<String, HostEntry>,
}

/// Reads `certs_d/REGISTRY/hosts.toml` for `registry` (`host[:port]`, as
/// in image names). No file: defaults. Relative `ca` paths are relative
/// to the file's directory, as containerd reads them.
pub fn registry_host(certs_d: &Path, registry: &str) -> Result<RegistryHost, HostsError> {
    let dir = certs_d.join(registry);
    let path = dir.join("hosts.toml");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RegistryHost::default()),
        Err(e) => {
            return Err(HostsError {
                path,
                reason: e.to_string(),
            })
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| HostsError {
        path: path.clone(),
        reason: "it is not UTF-8".to_string(),
    })?;
    let file: HostsFile = toml::from_str(&text).map_err(|e| HostsError {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let mut out = RegistryHost::default();
    // The host actually contacted (docker.io is served by
    // registry-1.docker.io) counts as the registry too.
    let connect_host = notation_host::registry::reference::registry_host(registry);
    let is_registry = |o: &Origin| o.is_host(registry) || o.is_host(connect_host);
    let add_ca = |ca: &Option<CaField>, out: &mut RegistryHost| {
        let list = match ca {
            None => Vec::new(),
            Some(CaField::One(p)) => vec![p.clone()],
            Some(CaField::Many(v)) => v.clone(),
        };
        for p in list {
            out.ca_files.push(dir.join(p));
        }
    };
    // The top level describes `server` (by default the registry itself).
    let server_is_registry = match file.server.as_deref().and_then(Origin::of) {
        None => true,
        Some(o) => {
            if is_registry(&o) && o.scheme() == "http" {
                out.plain_http = true;
            }
            is_registry(&o)
        }
    };
    if server_is_registry {
        add_ca(&file.ca, &mut out);
        if file.skip_verify == Some(true) {
            out.ignored.push(
                "skip_verify = true is not honoured: give the registry's CA with `ca`".into(),
            );
        }
    }
    for (url, entry) in &file.host {
        match Origin::of(url) {
            Some(o) if is_registry(&o) => {
                if o.scheme() == "http" {
                    out.plain_http = true;
                }
                add_ca(&entry.ca, &mut out);
                if entry.skip_verify == Some(true) {
                    out.ignored.push(format!(
                        "[host.{url:?}] skip_verify = true is not honoured: give the registry's CA with `ca`"
                    ));
                }
            }
            _ => out.ignored.push(format!(
                "[host.{url:?}] is a mirror; signatures are read from {registry}"
            )),
        }
    }
    Ok(out)
}

/// The judgement: exit code, the line for standard output and the details
/// for standard error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// [`EXIT_ALLOWED`], [`EXIT_REFUSED`] or [`EXIT_BAD_INPUT`].
    pub exit_code: i32,
    /// One line, at most [`MAX_REASON_CHARS`] characters.
    pub reason: String,
    /// Lines for standard error.
    pub details: Vec<String>,
}

impl Verdict {
    fn new(exit_code: i32, reason: impl Into<String>, details: Vec<String>) -> Verdict {
        Verdict {
            exit_code,
            reason: one_line(&reason.into()),
            details,
        }
    }

    fn bad_input(e: InputError) -> Verdict {
        let text = e.to_string();
        Verdict::new(
            EXIT_BAD_INPUT,
            format!("invalid verifier input: {text}"),
            vec![text],
        )
    }

    /// Whether the pull is allowed.
    pub fn allowed(&self) -> bool {
        self.exit_code == EXIT_ALLOWED
    }
}

/// `s` on one line (control characters as spaces), shortened to
/// [`MAX_REASON_CHARS`] characters.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= MAX_REASON_CHARS {
        return flat;
    }
    let mut short: String = flat.chars().take(MAX_REASON_CHARS - 3).collect();
    short.push_str("...");
    short
}

/// Reads at most [`MAX_STDIN_BYTES`] of `stdin`.
fn read_capped(stdin: &mut dyn Read) -> Result<Vec<u8>, InputError> {
    let mut buf = Vec::new();
    stdin
        .take(MAX_STDIN_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(InputError::StdinRead)?;
    if buf.len() as u64 > MAX_STDIN_BYTES {
        return Err(InputError::StdinTooLarge);
    }
    Ok(buf)
}

/// Judges one invocation synchronously: parses `args` and `stdin`,
/// verifies, and words the verdict. `started` is when the run began; the
/// verification library is given `started + settings.deadline`.
pub fn judge(
    args: &[String],
    stdin: &mut dyn Read,
    settings: &Settings,
    started: Instant,
) -> Verdict {
    let invocation = match Invocation::parse(args) {
        Ok(i) => i,
        Err(e) => return Verdict::bad_input(e),
    };
    let prepared = read_capped(stdin)
        .and_then(|bytes| read_descriptor(&invocation, &bytes))
        .and_then(|d| Ok((d, invocation.digest_reference()?)));
    let (descriptor, reference) = match prepared {
        Ok(p) => p,
        Err(e) => return Verdict::bad_input(e),
    };
    let mut details = vec![format!(
        "verifying {reference} for {} (name {:?})",
        invocation.operation.unwrap_or(Operation::Pull).as_str(),
        invocation.name
    )];
    let refuse = |reason: String, mut details: Vec<String>| {
        details.push(reason.clone());
        Verdict::new(EXIT_REFUSED, reason, details)
    };

    let registry = reference.split('/').next().unwrap_or_default();
    let host = match registry_host(&settings.certs_d, registry) {
        Ok(h) => h,
        Err(e) => {
            return refuse(
                format!("{e} (registry host settings for {reference})"),
                details,
            )
        }
    };
    for note in &host.ignored {
        details.push(format!("hosts.toml: {note}"));
    }
    // Several CA files become one bundle for the registry client.
    // (The bundle file lives until the end of this function.)
    let mut bundle: Option<tempfile::NamedTempFile> = None;
    let ca_file = match host.ca_files.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => match ca_bundle(many) {
            Ok(b) => Some(bundle.insert(b).path().to_path_buf()),
            Err(e) => return refuse(format!("{e} (registry CA files for {reference})"), details),
        },
    };

    let verifier = match ArtifactVerifier::from_config_dir(
        ConfigDir::at(&settings.config_dir).with_libexec(
            std::env::var_os("NOTATION_LIBEXEC")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        ),
    ) {
        Ok(v) => v,
        Err(e) => {
            return refuse(
                format!(
                    "{e} (notation configuration directory {}, set with NOTATION_CONFIG)",
                    settings.config_dir.display()
                ),
                details,
            )
        }
    };
    let options = VerifyOptions {
        deadline: Some(started + settings.deadline),
        insecure: host.plain_http,
        ca_file,
        ..VerifyOptions::default()
    };
    let report = match verifier.verify(&reference, &options) {
        Ok(r) => r,
        Err(VerificationError::DeadlineExceeded { detail, .. }) => {
            if let Some(d) = detail {
                details.push(d);
            }
            return refuse(
                format!(
                    "verification of {reference} did not finish within {:?} (NOTATION_CONTAINERD_DEADLINE)",
                    settings.deadline
                ),
                details,
            );
        }
        Err(e) => return refuse(e.to_string(), details),
    };
    for w in &report.warnings {
        details.push(format!("Warning: {w}"));
    }
    details.push(format!("report: {}", report.to_json()));
    if report.skipped() {
        return Verdict::new(
            EXIT_ALLOWED,
            format!(
                "Trust policy is configured to skip signature verification for {} (statement {:?})",
                report.reference, report.outcome.statement
            ),
            details,
        );
    }
    if report.subject.size != descriptor.size {
        return refuse(
            format!(
                "the manifest of {reference} is {} bytes in the registry but {} bytes in containerd's descriptor",
                report.subject.size, descriptor.size
            ),
            details,
        );
    }
    match report.accepted() {
        Some(accepted) => {
            let digest = report
                .verified_digests()
                .zip(&report.outcome.signatures)
                .find(|(_, o)| std::ptr::eq(*o, accepted))
                .map(|(d, _)| d.to_string())
                .unwrap_or_default();
            Verdict::new(
                EXIT_ALLOWED,
                format!(
                    "Successfully verified signature for {} (signature {digest}, trust policy statement {:?})",
                    report.reference, report.outcome.statement
                ),
                details,
            )
        }
        None => {
            let (_, reason) = report.failure().unwrap_or_default();
            refuse(
                format!(
                    "signature verification failed for all the signatures associated with {}: {reason}",
                    report.reference
                ),
                details,
            )
        }
    }
}

/// The CA files concatenated into one temporary PEM file.
fn ca_bundle(files: &[PathBuf]) -> Result<tempfile::NamedTempFile, HostsError> {
    let mut bundle = tempfile::NamedTempFile::new().map_err(|e| HostsError {
        path: std::env::temp_dir(),
        reason: format!("cannot make a CA bundle: {e}"),
    })?;
    for f in files {
        let pem = std::fs::read(f).map_err(|e| HostsError {
            path: f.clone(),
            reason: e.to_string(),
        })?;
        bundle
            .write_all(&pem)
            .and_then(|()| bundle.write_all(b"\n"))
            .map_err(|e| HostsError {
                path: bundle.path().to_path_buf(),
                reason: e.to_string(),
            })?;
    }
    Ok(bundle)
}

/// Judges one invocation within the deadline: the work runs on its own
/// thread and, if it has not answered by the deadline (plus a short grace
/// for the library's own deadline error), the pull is refused.
pub fn run(
    args: Vec<String>,
    mut stdin: impl Read + Send + 'static,
    env: impl Fn(&str) -> Option<String>,
) -> Verdict {
    let started = Instant::now();
    let settings = match Settings::from_env(env) {
        Ok(s) => s,
        Err(e) => return Verdict::bad_input(e),
    };
    let deadline = settings.deadline;
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("verify".to_string())
        .spawn(move || {
            let verdict = judge(&args, &mut stdin, &settings, started);
            let _ = tx.send(verdict);
        });
    if let Err(e) = worker {
        return Verdict::new(
            EXIT_REFUSED,
            format!("cannot start the verification thread: {e}"),
            Vec::new(),
        );
    }
    let grace = Duration::from_millis(250);
    let wait = (started + deadline + grace).saturating_duration_since(Instant::now());
    match rx.recv_timeout(wait) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => Verdict::new(
            EXIT_REFUSED,
            format!(
                "verification did not finish within {deadline:?} (NOTATION_CONTAINERD_DEADLINE)"
            ),
            Vec::new(),
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => Verdict::new(
            EXIT_REFUSED,
            "the verification thread stopped without a verdict (an internal error)",
            Vec::new(),
        ),
    }
}

/// The executable: runs with the process's arguments, standard input and
/// environment, prints the verdict and exits with its code.
pub fn main() -> ! {
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string().map_err(|_| InputError::NotUtf8))
        .collect();
    let verdict = match args {
        Ok(args) => run(args, std::io::stdin(), |k| std::env::var(k).ok()),
        Err(e) => Verdict::bad_input(e),
    };
    let mut err = std::io::stderr().lock();
    for line in &verdict.details {
        let _ = writeln!(err, "{line}");
    }
    let _ = err.flush();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", verdict.reason);
    let _ = out.flush();
    std::process::exit(verdict.exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    const D: &str = "sha256:0b94b7be0c4b6e2dbf6d0d31e9b4bd2f70f5fe89e3a2a8cda6a2a6f3c1b5f6b2";

    #[test]
    fn go_flag_forms() {
        let i = Invocation::parse(&args(&[
            "-name",
            "r.example/a/b:v1",
            &format!("--digest={D}"),
            "-stdin-media-type",
            MEDIA_TYPE_DESCRIPTOR,
            "-operation=run",
        ]))
        .unwrap();
        assert_eq!(i.operation, Some(Operation::Run));
        assert_eq!(i.digest_reference().unwrap(), format!("r.example/a/b@{D}"));
    }

    #[test]
    fn name_tag_and_digest_dropped() {
        for name in [
            "localhost:5000/app",
            "localhost:5000/app:v1",
            &format!("localhost:5000/app:v1@{D}"),
        ] {
            let i = Invocation {
                name: name.to_string(),
                digest: D.to_string(),
                stdin_media_type: MEDIA_TYPE_DESCRIPTOR.to_string(),
                operation: None,
            };
            assert_eq!(
                i.digest_reference().unwrap(),
                format!("localhost:5000/app@{D}")
            );
        }
    }

    #[test]
    fn bad_arguments() {
        let base = ["-name", "r.example/a:v1", "-digest", D];
        assert!(matches!(
            Invocation::parse(&args(&base)),
            Err(InputError::MissingFlag("stdin-media-type"))
        ));
        let mut v = args(&base);
        v.extend(args(&["-stdin-media-type", "text/plain"]));
        assert!(matches!(
            Invocation::parse(&v),
            Err(InputError::UnknownMediaType(_))
        ));
        assert!(matches!(
            Invocation::parse(&args(&["-name"])),
            Err(InputError::MissingValue("name"))
        ));
        assert!(matches!(
            Invocation::parse(&args(&["-bogus", "x"])),
            Err(InputError::UnknownFlag(_))
        ));
        assert!(matches!(
            Invocation::parse(&args(&[
                "-name",
                "a/b:c",
                "-digest",
                "sha256:xyz",
                "-stdin-media-type",
                MEDIA_TYPE_DESCRIPTOR
            ])),
            Err(InputError::BadDigest { .. })
        ));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("8s"), Some(Duration::from_secs(8)));
        assert_eq!(parse_duration("2500ms"), Some(Duration::from_millis(2500)));
        assert_eq!(parse_duration("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("8h"), None);
        assert_eq!(parse_duration("fast"), None);
    }

    #[test]
    fn hosts_toml() {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("reg.example:5000");
        std::fs::create_dir_all(&host).unwrap();
        std::fs::write(
            host.join("hosts.toml"),
            "server = \"https://reg.example:5000\"\nca = \"ca.pem\"\n\n[host.\"https://mirror.example\"]\n  capabilities = [\"pull\"]\n  ca = [\"/m.pem\"]\n\n[host.\"http://reg.example:5000\"]\n  ca = [\"/x.pem\", \"y.pem\"]\n",
        )
        .unwrap();
        let h = registry_host(dir.path(), "reg.example:5000").unwrap();
        assert_eq!(
            h.ca_files,
            vec![
                host.join("ca.pem"),
                PathBuf::from("/x.pem"),
                host.join("y.pem")
            ]
        );
        assert!(h.plain_http);
        assert_eq!(h.ignored.len(), 1, "{:?}", h.ignored);
        assert_eq!(
            registry_host(dir.path(), "other.example").unwrap(),
            RegistryHost::default()
        );
        let hub = dir.path().join("docker.io");
        std::fs::create_dir_all(&hub).unwrap();
        std::fs::write(
            hub.join("hosts.toml"),
            "server = \"https://registry-1.docker.io\"\nca = \"/hub.pem\"\n",
        )
        .unwrap();
        assert_eq!(
            registry_host(dir.path(), "docker.io").unwrap().ca_files,
            vec![PathBuf::from("/hub.pem")]
        );
        std::fs::write(host.join("hosts.toml"), "ca = [1, 2").unwrap();
        assert!(registry_host(dir.path(), "reg.example:5000").is_err());
    }

    /// Host URLs are compared as origins: case-insensitive host, default
    /// port filled in, so these entries name the registry `reg.example`.
    #[test]
    fn hosts_toml_urls_match_as_origins() {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().join("reg.example");
        std::fs::create_dir_all(&host).unwrap();
        std::fs::write(
            host.join("hosts.toml"),
            "server = \"https://REG.example:443\"\nca = \"/a.pem\"\n\n[host.\"https://Reg.Example\"]\n  ca = \"/b.pem\"\n\n[host.\"https://reg.example:8443\"]\n  ca = \"/mirror.pem\"\n",
        )
        .unwrap();
        let h = registry_host(dir.path(), "reg.example").unwrap();
        assert_eq!(
            h.ca_files,
            vec![PathBuf::from("/a.pem"), PathBuf::from("/b.pem")]
        );
        assert!(!h.plain_http);
        assert_eq!(
            h.ignored.len(),
            1,
            "another port is a mirror: {:?}",
            h.ignored
        );
    }

    /// Mutations of valid inputs (bytes flipped, cut, duplicated) through
    /// the argument and standard-input parsers: errors, never a panic.
    #[test]
    fn parsers_survive_mutated_input() {
        let desc = format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{D}","size":527,"annotations":{{"a":"b"}}}}"#
        );
        let wrapped =
            format!(r#"{{"descriptor":{desc},"operation":"run","annotations":{{"k":"v"}}}}"#);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for media_type in [MEDIA_TYPE_DESCRIPTOR, MEDIA_TYPE_VERIFIER_INPUT] {
            let base = if media_type == MEDIA_TYPE_DESCRIPTOR {
                &desc
            } else {
                &wrapped
            };
            let inv = Invocation {
                name: "r.example/a:v1".to_string(),
                digest: D.to_string(),
                stdin_media_type: media_type.to_string(),
                operation: Some(Operation::Run),
            };
            assert!(read_descriptor(&inv, base.as_bytes()).is_ok());
            for _ in 0..5000 {
                let mut bytes = base.as_bytes().to_vec();
                for _ in 0..(next() % 4 + 1) {
                    let i = (next() as usize) % bytes.len().max(1);
                    match next() % 4 {
                        0 => bytes[i] = next() as u8,
                        1 => bytes.truncate(i),
                        2 => {
                            let tail = bytes[i..].to_vec();
                            bytes.extend_from_slice(&tail);
                        }
                        _ => {
                            let specials = b"{}[]\":,0e\\";
                            bytes.insert(i, specials[(next() as usize) % specials.len()]);
                        }
                    }
                    if bytes.is_empty() {
                        break;
                    }
                }
                let _ = read_descriptor(&inv, &bytes);
                let text = String::from_utf8_lossy(&bytes);
                let words: Vec<String> = text.split(['"', ',', ':']).map(str::to_string).collect();
                if let Ok(i) = Invocation::parse(&words) {
                    let _ = i.digest_reference();
                }
            }
        }
    }

    #[test]
    fn reason_is_one_short_line() {
        let long = format!("a\nb{}", "x".repeat(1000));
        let r = one_line(&long);
        assert!(!r.contains('\n'));
        assert_eq!(r.chars().count(), MAX_REASON_CHARS);
    }
}
