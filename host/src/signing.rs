//! Signing an artifact: choosing the key (a local key/certificate pair from
//! `signingkeys.json`, or a plugin key), producing the envelope, checking
//! it, and pushing it next to the artifact.
//!
//! Plugin keys work through either plugin capability:
//! * `SIGNATURE_GENERATOR.RAW`: `describe-key` gives the key spec, then
//!   [`PluginSigner`] implements [`Signer`] with `generate-signature`; the
//!   envelope is built here, and [`envelope::sign`] checks the signature
//!   against the returned leaf certificate.
//! * `SIGNATURE_GENERATOR.ENVELOPE`: the plugin returns a whole envelope,
//!   which is parsed and checked as the plugin specification requires
//!   (format as requested, integrity, certificate chain requirements,
//!   payload equal to the one sent, only the annotations sent).
//!
//! With [`TimestampOptions`] (`--timestamp-url`, `--timestamp-root-cert`)
//! the signature of a host-built envelope is timestamped by an RFC 3161
//! TSA before it is pushed ([`apply_timestamp`], [`crate::timestamp`]);
//! an envelope-generator plugin's envelope is left as the plugin made it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notation_plugin_sdk::client::{ClientError, ExternalPlugin};
use notation_plugin_sdk::descriptor::Descriptor;
use notation_plugin_sdk::envelope::{
    self, EnvelopeError, EnvelopeFormat, LocalSigner, Payload, SignRequest, Signer, SigningScheme,
};
use notation_plugin_sdk::protocol::{
    DescribeKeyRequest, GenerateEnvelopeRequest, GenerateSignatureRequest, CONTRACT_VERSION,
};
use notation_plugin_sdk::vocab::{Capability, KeySpec};
use openssl::x509::X509;
use sha2::{Digest, Sha256};

use crate::config::{ConfigDir, ConfigError, KeyRef, KeySuite};
use crate::registry::oci::ANNOTATION_THUMBPRINTS;
use crate::registry::{ArtifactStore, PushedSignature, RegistryError};
use crate::timestamp::Timestamper;

/// Value of the `signingAgent` unsigned attribute.
pub const SIGNING_AGENT: &str = concat!("notation-rs/", env!("CARGO_PKG_VERSION"));

/// Largest key or certificate file read.
const MAX_KEY_FILE: u64 = 1024 * 1024;

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// Configuration problem (missing key, bad signingkeys.json, ...).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No key given and no default key.
    #[error("no signing key given and no default signing key is set. Use --key NAME, or set a default with `notation key update --default NAME` (see `notation key list`)")]
    NoDefaultKey,
    /// A local key or certificate file could not be read.
    #[error("cannot read {what} {}: {source}", path.display())]
    ReadKeyFile {
        /// "private key" or "certificate chain".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The private key file is not a PEM private key.
    #[error("{} is not a PEM private key (PKCS #8, PKCS #1 or SEC 1)", path.display())]
    BadPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// Envelope construction or checking failed.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The plugin could not be used.
    #[error("plugin {plugin}: {source}")]
    Plugin {
        /// Plugin name.
        plugin: String,
        /// The cause.
        source: ClientError,
    },
    /// The plugin can neither sign raw payloads nor make envelopes.
    #[error("plugin {plugin} cannot sign: its capabilities include neither SIGNATURE_GENERATOR.RAW nor SIGNATURE_GENERATOR.ENVELOPE")]
    PluginCannotSign {
        /// Plugin name.
        plugin: String,
    },
    /// The plugin's answer is unusable.
    #[error("plugin {plugin} returned an unusable {what}: {reason}")]
    PluginResponse {
        /// Plugin name.
        plugin: String,
        /// What was wrong ("key spec", "envelope", ...).
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// Pushing the signature failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The `--timestamp-root-cert` file is not one self-signed root
    /// certificate.
    #[error("{}", problem.message(path))]
    BadTimestampRoot {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: crate::timestamp::TsaRootProblem,
    },
    /// `--timestamp-url` or `--timestamp-root-cert` is empty (upstream's
    /// words: `timestamping: tsa url cannot be empty`, ...).
    #[error("timestamping: {0} cannot be empty")]
    EmptyTimestampFlag(&'static str),
    /// Timestamping the signature failed.
    #[error("timestamping failed: {0}")]
    Timestamp(#[from] crate::timestamp::TimestampError),
}

/// Which key to sign with.
#[derive(Debug, Clone)]
pub enum KeySelection {
    /// The default key of `signingkeys.json`.
    Default,
    /// A key of `signingkeys.json` by name (`--key`).
    Named(String),
    /// An on-demand plugin key (`--plugin` + `--id`).
    Plugin {
        /// Plugin name.
        plugin: String,
        /// Key id.
        id: String,
    },
}

/// What to sign, besides the key.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// Envelope format.
    pub format: EnvelopeFormat,
    /// Optional signature expiry, from now.
    pub expiry: Option<Duration>,
    /// User metadata (`-m`), put in the payload's annotations.
    pub user_metadata: BTreeMap<String, String>,
    /// `--plugin-config`, merged over the key's stored plugin config.
    pub plugin_config: BTreeMap<String, String>,
}

/// RFC 3161 timestamping asked for at signing (`--timestamp-url` and
/// `--timestamp-root-cert`).
#[derive(Debug, Clone)]
pub struct TimestampOptions {
    /// The TSA client.
    pub timestamper: Timestamper,
    /// The TSA root the token must chain to.
    pub root: X509,
}

impl TimestampOptions {
    /// Reads the TSA root certificate (exactly one self-signed certificate,
    /// PEM or DER) and checks the URL.
    pub fn load(url: &str, root_cert: &Path) -> Result<TimestampOptions, SigningError> {
        use crate::timestamp::TsaRootProblem;
        if url.is_empty() {
            return Err(SigningError::EmptyTimestampFlag("tsa url"));
        }
        if root_cert.as_os_str().is_empty() {
            return Err(SigningError::EmptyTimestampFlag(
                "tsa root certificate path",
            ));
        }
        let timestamper = Timestamper::new(url)?;
        let bad = |problem| SigningError::BadTimestampRoot {
            path: root_cert.to_path_buf(),
            problem,
        };
        let bytes = read_file("timestamp root certificate", root_cert)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(bad(TsaRootProblem::NoCertificate));
        }
        let certs = envelope::cert::load_certificates(&bytes)
            .map_err(|_| bad(TsaRootProblem::Malformed))?;
        let root = match certs.as_slice() {
            [] => return Err(bad(TsaRootProblem::NoCertificate)),
            [root] => root,
            _ => return Err(bad(TsaRootProblem::MoreThanOne)),
        };
        let signature_ok = root
            .public_key()
            .and_then(|k| root.verify(&k))
            .unwrap_or(false);
        if !signature_ok {
            let alg = match root.public_key().map(|k| k.id()) {
                Ok(openssl::pkey::Id::RSA) | Ok(openssl::pkey::Id::RSA_PSS) => "rsa",
                Ok(openssl::pkey::Id::EC) => "ecdsa",
                Ok(openssl::pkey::Id::ED25519) => "ed25519",
                _ => "x509",
            };
            return Err(bad(TsaRootProblem::SignatureCheckFailed(alg)));
        }
        let self_issued = matches!(
            root.issuer_name().try_cmp(root.subject_name()),
            Ok(std::cmp::Ordering::Equal)
        );
        if !self_issued {
            return Err(bad(TsaRootProblem::NotRoot));
        }
        Ok(TimestampOptions {
            timestamper,
            root: root.clone(),
        })
    }
}

/// Whether the host timestamps envelopes made with `key`. Envelopes made
/// by a `SIGNATURE_GENERATOR.ENVELOPE` plugin are the plugin's: the host
/// never adds, changes or removes their timestamp.
pub fn host_timestamps(key: &SigningKey) -> bool {
    !matches!(key, SigningKey::PluginEnvelope { .. })
}

/// Timestamps `envelope_bytes` (made with `key` by [`make_envelope`]) when
/// the host is responsible for it (see [`host_timestamps`]); otherwise
/// returns it unchanged. The token is verified against `ts.root` (status,
/// signature, chain, timestamping certificate requirements, imprint and
/// nonce) before it is attached.
pub fn apply_timestamp(
    key: &SigningKey,
    format: EnvelopeFormat,
    envelope_bytes: Vec<u8>,
    ts: &TimestampOptions,
) -> Result<Vec<u8>, SigningError> {
    if !host_timestamps(key) {
        return Ok(envelope_bytes);
    }
    Ok(crate::timestamp::timestamp_envelope(
        format,
        &envelope_bytes,
        &ts.timestamper,
        std::slice::from_ref(&ts.root),
    )?)
}

/// A resolved signing key.
pub enum SigningKey {
    /// In-process key.
    Local(LocalSigner),
    /// A plugin that signs raw payloads.
    PluginRaw(PluginSigner),
    /// A plugin that makes whole envelopes.
    PluginEnvelope {
        /// The plugin.
        plugin: ExternalPlugin,
        /// Key id.
        key_id: String,
        /// Plugin config to send.
        config: BTreeMap<String, String>,
    },
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SigningKey::Local(s) => f.debug_tuple("Local").field(s).finish(),
            SigningKey::PluginRaw(s) => f.debug_tuple("PluginRaw").field(&s.plugin.name()).finish(),
            SigningKey::PluginEnvelope { plugin, .. } => f
                .debug_tuple("PluginEnvelope")
                .field(&plugin.name())
                .finish(),
        }
    }
}

/// Resolves `selection` against the configuration.
pub fn load_key(
    config: &ConfigDir,
    selection: &KeySelection,
    extra_plugin_config: &BTreeMap<String, String>,
) -> Result<SigningKey, SigningError> {
    locate_key(config, selection, extra_plugin_config)?.load()
}

/// A signing key found in the configuration, not yet loaded: the checks
/// that need no cryptography and no plugin run are done.
#[derive(Debug)]
pub struct LocatedKey(Located);

#[derive(Debug)]
enum Located {
    /// The files are read (so a missing one is reported at once), not
    /// parsed.
    Local {
        key_path: std::path::PathBuf,
        key_pem: Zeroing,
        cert_bytes: Vec<u8>,
    },
    Plugin {
        plugin: String,
        external: ExternalPlugin,
        id: String,
        config: BTreeMap<String, String>,
    },
}

/// Finds the key `selection` names (the named or default key, or a
/// plugin key), and the plugin executable when it is a plugin's: the
/// quick checks of [`load_key`], so that a caller can report a wrong
/// key before it goes on to slower work and then load the key
/// ([`LocatedKey::load`]) while that work is under way.
pub fn locate_key(
    config: &ConfigDir,
    selection: &KeySelection,
    extra_plugin_config: &BTreeMap<String, String>,
) -> Result<LocatedKey, SigningError> {
    let (plugin, id, stored_config) = match selection {
        KeySelection::Plugin { plugin, id } => (plugin.clone(), id.clone(), BTreeMap::new()),
        KeySelection::Default | KeySelection::Named(_) => {
            let keys = config.load_signing_keys()?;
            let suite: &KeySuite = match selection {
                KeySelection::Named(name) => keys
                    .get(name)
                    .ok_or_else(|| ConfigError::KeyNotFound { name: name.clone() })?,
                _ => match &keys.default {
                    None => return Err(SigningError::NoDefaultKey),
                    Some(name) => keys
                        .get(name)
                        .ok_or_else(|| ConfigError::KeyNotFound { name: name.clone() })?,
                },
            };
            match suite.key_ref()? {
                KeyRef::Local {
                    key_path,
                    cert_path,
                } => {
                    return Ok(LocatedKey(Located::Local {
                        key_path: key_path.to_path_buf(),
                        key_pem: zeroize_on_drop(read_file("private key", key_path)?),
                        cert_bytes: read_file("certificate chain", cert_path)?,
                    }))
                }
                KeyRef::Plugin { plugin, id, config } => (
                    plugin.to_string(),
                    id.to_string(),
                    config.cloned().unwrap_or_default(),
                ),
            }
        }
    };
    let mut plugin_config = stored_config;
    plugin_config.extend(extra_plugin_config.clone());
    let plugin_err = |source| SigningError::Plugin {
        plugin: plugin.clone(),
        source,
    };
    let external = ExternalPlugin::find(&config.plugins_dir(), &plugin).map_err(plugin_err)?;
    Ok(LocatedKey(Located::Plugin {
        plugin,
        external,
        id,
        config: plugin_config,
    }))
}

impl LocatedKey {
    /// Loads the key: parses a local key and its certificates, or asks the
    /// plugin for its metadata (and, for a RAW signer, the key spec).
    pub fn load(self) -> Result<SigningKey, SigningError> {
        match self.0 {
            Located::Local {
                key_path,
                key_pem,
                cert_bytes,
            } => Ok(SigningKey::Local(parse_local(
                &key_path,
                &key_pem,
                &cert_bytes,
            )?)),
            Located::Plugin {
                plugin,
                external,
                id,
                config,
            } => load_plugin_key(plugin, external, id, config),
        }
    }
}

fn load_plugin_key(
    plugin: String,
    external: ExternalPlugin,
    id: String,
    plugin_config: BTreeMap<String, String>,
) -> Result<SigningKey, SigningError> {
    let plugin_err = |source| SigningError::Plugin {
        plugin: plugin.clone(),
        source,
    };
    // As upstream: the capabilities that decide the path are the ones the
    // plugin declares for this key's plugin config (a plugin may answer
    // differently per key); RAW is preferred over ENVELOPE.
    let metadata = external
        .metadata(non_empty(&plugin_config).as_ref())
        .map_err(plugin_err)?;
    let caps = &metadata.capabilities;
    if !caps.contains(&Capability::SignatureGeneratorRaw) {
        if caps.contains(&Capability::SignatureGeneratorEnvelope) {
            return Ok(SigningKey::PluginEnvelope {
                plugin: external,
                key_id: id,
                config: plugin_config,
            });
        }
        return Err(SigningError::PluginCannotSign { plugin });
    }
    let described = external
        .describe_key(DescribeKeyRequest {
            contract_version: CONTRACT_VERSION.to_string(),
            key_id: id.clone(),
            plugin_config: non_empty(&plugin_config),
        })
        .map_err(plugin_err)?;
    if described.key_spec.signing_algorithm().is_none() {
        return Err(SigningError::PluginResponse {
            plugin,
            what: "key spec",
            reason: format!("{:?} is not a supported key spec", described.key_spec),
        });
    }
    Ok(SigningKey::PluginRaw(PluginSigner {
        plugin: external,
        key_id: id,
        key_spec: described.key_spec,
        config: plugin_config,
    }))
}

fn non_empty(m: &BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    (!m.is_empty()).then(|| m.clone())
}

fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, SigningError> {
    crate::fsutil::read_capped(path, MAX_KEY_FILE).map_err(|source| SigningError::ReadKeyFile {
        what,
        path: path.to_path_buf(),
        source,
    })
}

/// Loads a local PEM key and PEM/DER certificate chain (leaf first).
pub fn load_local(key_path: &Path, cert_path: &Path) -> Result<LocalSigner, SigningError> {
    let key_pem = zeroize_on_drop(read_file("private key", key_path)?);
    let cert_bytes = read_file("certificate chain", cert_path)?;
    parse_local(key_path, &key_pem, &cert_bytes)
}

/// The signer for a PEM key (read from `key_path`) and its certificates.
fn parse_local(
    key_path: &Path,
    key_pem: &Zeroing,
    cert_bytes: &[u8],
) -> Result<LocalSigner, SigningError> {
    let key = openssl::pkey::PKey::private_key_from_pem(&key_pem.0).map_err(|_| {
        SigningError::BadPrivateKey {
            path: key_path.to_path_buf(),
        }
    })?;
    let chain = envelope::cert::load_certificates(cert_bytes)?;
    Ok(LocalSigner::new(key, chain)?)
}

struct Zeroing(Vec<u8>);
impl std::fmt::Debug for Zeroing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Zeroing(..)")
    }
}
impl Drop for Zeroing {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // Volatile-free best effort: key PEM does not outlive loading.
            *b = 0;
        }
        std::hint::black_box(&self.0);
    }
}
fn zeroize_on_drop(v: Vec<u8>) -> Zeroing {
    Zeroing(v)
}

/// A [`Signer`] backed by a plugin's `generate-signature`.
pub struct PluginSigner {
    plugin: ExternalPlugin,
    key_id: String,
    key_spec: KeySpec,
    config: BTreeMap<String, String>,
}

impl Signer for PluginSigner {
    fn key_spec(&self) -> KeySpec {
        self.key_spec.clone()
    }

    fn sign(&self, signing_input: &[u8]) -> Result<(Vec<u8>, Vec<X509>), EnvelopeError> {
        let boxed =
            |e: Box<dyn std::error::Error + Send + Sync>| EnvelopeError::Signer { source: e };
        let hash_algorithm =
            self.key_spec
                .hash_algorithm()
                .ok_or_else(|| EnvelopeError::UnsupportedKeySpec {
                    key_spec: self.key_spec.clone(),
                })?;
        let resp = self
            .plugin
            .generate_signature(GenerateSignatureRequest {
                contract_version: CONTRACT_VERSION.to_string(),
                key_id: self.key_id.clone(),
                plugin_config: non_empty(&self.config),
                key_spec: self.key_spec.clone(),
                hash_algorithm,
                payload: signing_input.to_vec(),
            })
            .map_err(|e| boxed(format!("plugin {}: {e}", self.plugin.name()).into()))?;
        if Some(&resp.signing_algorithm) != self.key_spec.signing_algorithm().as_ref() {
            return Err(boxed(
                format!(
                    "plugin {} answered with signing algorithm {:?}, but key spec {:?} requires {:?}",
                    self.plugin.name(),
                    resp.signing_algorithm,
                    self.key_spec,
                    self.key_spec.signing_algorithm()
                )
                .into(),
            ));
        }
        let chain = resp
            .certificate_chain
            .iter()
            .map(|der| X509::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                boxed(
                    format!(
                        "x509: malformed certificate (plugin {} returned a certificate chain \
                         that does not decode as DER X.509 certificates: {e})",
                        self.plugin.name()
                    )
                    .into(),
                )
            })?;
        Ok((resp.signature, chain))
    }
}

/// The payload descriptor for `subject`: media type, digest, size and the
/// user metadata as annotations (nothing else from the registry's copy).
pub fn payload_descriptor(
    subject: &Descriptor,
    user_metadata: &BTreeMap<String, String>,
) -> Descriptor {
    Descriptor {
        media_type: subject.media_type.clone(),
        digest: subject.digest.clone(),
        size: subject.size,
        annotations: non_empty(user_metadata),
        artifact_type: None,
        extra: Default::default(),
    }
}

/// Produces the envelope for `subject` with `key`.
pub fn make_envelope(
    key: &SigningKey,
    subject: &Descriptor,
    options: &SignOptions,
) -> Result<Vec<u8>, SigningError> {
    envelope::check_user_annotations(&options.user_metadata)?;
    let payload = Payload::new(payload_descriptor(subject, &options.user_metadata));
    let now = time::OffsetDateTime::now_utc();
    let expiry = options
        .expiry
        .map(|d| now + time::Duration::seconds(d.as_secs() as i64));
    let request = SignRequest {
        payload: payload.clone(),
        signing_scheme: SigningScheme::X509,
        signing_time: now,
        expiry,
        signing_agent: Some(SIGNING_AGENT.to_string()),
        extended_attributes: Vec::new(),
    };
    match key {
        SigningKey::Local(s) => Ok(envelope::sign(options.format, &request, s)?),
        SigningKey::PluginRaw(s) => Ok(envelope::sign(options.format, &request, s)?),
        SigningKey::PluginEnvelope {
            plugin,
            key_id,
            config,
        } => {
            let sent = payload.to_struct_json();
            let resp = plugin
                .generate_envelope(GenerateEnvelopeRequest {
                    contract_version: CONTRACT_VERSION.to_string(),
                    key_id: key_id.clone(),
                    plugin_config: non_empty(config),
                    expiry_duration_in_seconds: options.expiry.map(|d| d.as_secs()),
                    payload: sent,
                    payload_type: envelope::PAYLOAD_MEDIA_TYPE.to_string(),
                    signature_envelope_type: options.format.media_type().to_string(),
                })
                .map_err(|source| SigningError::Plugin {
                    plugin: plugin.name().to_string(),
                    source,
                })?;
            check_plugin_envelope(
                plugin.name(),
                options.format,
                &resp.signature_envelope,
                &payload,
            )?;
            Ok(resp.signature_envelope)
        }
    }
}

/// The checks the plugin specification asks of an envelope made by a
/// plugin: it decodes in the requested format, its signature verifies, its
/// chain meets the signing certificate requirements, and it signs exactly
/// the payload that was sent.
fn check_plugin_envelope(
    plugin: &str,
    format: EnvelopeFormat,
    bytes: &[u8],
    sent: &Payload,
) -> Result<(), SigningError> {
    let bad = |reason: String| SigningError::PluginResponse {
        plugin: plugin.to_string(),
        what: "signature envelope",
        reason,
    };
    if notation_plugin_sdk::client::debug_log_enabled() {
        eprintln!("Verifying signature envelope generated by the plugin");
    }
    // Upstream's words lead: "generated signature failed verification: ...".
    let failed = |e: EnvelopeError| bad(format!("generated signature failed verification: {e}"));
    let env = envelope::parse(format, bytes).map_err(failed)?;
    env.verify_integrity().map_err(failed)?;
    envelope::cert::check_signing_chain(&env.certificate_chain).map_err(failed)?;
    let got = env.payload().map_err(|e| bad(e.to_string()))?;
    if &got != sent {
        return Err(bad(
            "its payload differs from the payload sent (the plugin must sign the descriptor it was given, unchanged)"
                .into(),
        ));
    }
    Ok(())
}

/// `io.cncf.notary.x509chain.thumbprint#S256`: the JSON list of the
/// SHA-256 fingerprints of the envelope's certificate chain.
pub fn thumbprints_annotation(
    format: EnvelopeFormat,
    envelope_bytes: &[u8],
) -> Result<String, SigningError> {
    let env = envelope::parse(format, envelope_bytes)?;
    let prints: Vec<String> = env
        .certificate_chain
        .iter()
        .map(|c| c.to_der().map(|d| hex::encode(Sha256::digest(d))))
        .collect::<Result<_, _>>()
        .map_err(EnvelopeError::from)?;
    Ok(serde_json::to_string(&prints).unwrap_or_else(|_| "[]".into()))
}

/// Signs `subject` and pushes the signature into `store`.
pub fn sign_and_push(
    store: &dyn ArtifactStore,
    subject: &Descriptor,
    key: &SigningKey,
    options: &SignOptions,
) -> Result<PushedSignature, SigningError> {
    sign_and_push_timestamped(store, subject, key, options, None)
}

/// [`sign_and_push`], timestamping the signature first when `timestamp`
/// is given (see [`apply_timestamp`]).
pub fn sign_and_push_timestamped(
    store: &dyn ArtifactStore,
    subject: &Descriptor,
    key: &SigningKey,
    options: &SignOptions,
    timestamp: Option<&TimestampOptions>,
) -> Result<PushedSignature, SigningError> {
    let mut envelope_bytes = make_envelope(key, subject, options)?;
    if let Some(ts) = timestamp {
        envelope_bytes = apply_timestamp(key, options.format, envelope_bytes, ts)?;
    }
    let mut annotations = BTreeMap::new();
    annotations.insert(
        ANNOTATION_THUMBPRINTS.to_string(),
        thumbprints_annotation(options.format, &envelope_bytes)?,
    );
    Ok(store.push_signature(
        subject,
        &envelope_bytes,
        options.format.media_type(),
        annotations,
    )?)
}

/// Parses an `--expiry` value in Go's duration grammar (as upstream's
/// `time.ParseDuration`): one or more `{number}{unit}` elements, where the
/// number is decimal with an optional fraction (`1.5h`, `.5s`, `2.m`) and
/// the unit is `ns`, `us`, `µs` (or `μs`), `ms`, `s`, `m` or `h`; for
/// example `1h30m10.5s`. A leading `+` is allowed. `None` when malformed,
/// negative, zero, or longer than Go's limit (2^63 - 1 nanoseconds,
/// about 292 years).
pub fn parse_duration(s: &str) -> Option<Duration> {
    /// Fraction digits beyond this many are ignored (they weigh less than
    /// a nanosecond), which also keeps the arithmetic below in range.
    const MAX_FRACTION_DIGITS: u32 = 24;
    const LIMIT: u128 = i64::MAX as u128;
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        // Integer part.
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_digits, after) = rest.split_at(int_len);
        // Optional fraction.
        let (frac_digits, after) = match after.strip_prefix('.') {
            Some(f) => {
                let n = f.bytes().take_while(u8::is_ascii_digit).count();
                f.split_at(n)
            }
            None => ("", after),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return None;
        }
        // Unit: the letters up to the next digit or dot.
        let unit_len = after
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(after.len(), |(i, _)| i);
        let (unit, after) = after.split_at(unit_len);
        let unit_ns: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let mut int_value: u128 = 0;
        for d in int_digits.bytes() {
            int_value = int_value * 10 + u128::from(d - b'0');
            if int_value > LIMIT {
                return None;
            }
        }
        let mut frac_value: u128 = 0;
        let mut scale: u128 = 1;
        for d in frac_digits.bytes().take(MAX_FRACTION_DIGITS as usize) {
            frac_value = frac_value * 10 + u128::from(d - b'0');
            scale *= 10;
        }
        let element = int_value
            .checked_mul(unit_ns)?
            .checked_add(frac_value * unit_ns / scale)?;
        total = total.checked_add(element)?;
        if total > LIMIT {
            return None;
        }
        rest = after;
    }
    if total == 0 {
        return None;
    }
    let total = u64::try_from(total).ok()?;
    Some(Duration::from_nanos(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let secs = Duration::from_secs;
        assert_eq!(parse_duration("12h"), Some(secs(43200)));
        assert_eq!(parse_duration("3h20m"), Some(secs(12000)));
        assert_eq!(parse_duration("30m"), Some(secs(1800)));
        assert_eq!(parse_duration("90s"), Some(secs(90)));
        assert_eq!(parse_duration("876000h"), Some(secs(876000 * 3600)));
        assert_eq!(parse_duration("+5m"), Some(secs(300)));
    }

    #[test]
    fn durations_with_fractions_and_small_units() {
        let secs = Duration::from_secs;
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("1.5h"), Some(secs(5400)));
        assert_eq!(parse_duration("1h30m10.5s"), Some(ms(5_410_500)));
        assert_eq!(parse_duration(".5s"), Some(ms(500)));
        assert_eq!(parse_duration("2.m"), Some(secs(120)));
        assert_eq!(parse_duration("0.25m"), Some(secs(15)));
        assert_eq!(parse_duration("1500ms"), Some(ms(1500)));
        assert_eq!(parse_duration("7ns"), Some(Duration::from_nanos(7)));
        assert_eq!(parse_duration("3us"), Some(Duration::from_micros(3)));
        assert_eq!(parse_duration("3\u{b5}s"), Some(Duration::from_micros(3)));
        assert_eq!(parse_duration("3\u{3bc}s"), Some(Duration::from_micros(3)));
        assert_eq!(
            parse_duration("1h1m1s1ms1us1ns"),
            Some(Duration::new(3661, 1_001_001))
        );
        // Units may repeat and come in any order, as in Go.
        assert_eq!(parse_duration("1s1h"), Some(secs(3601)));
        // Many fraction digits: the tail is ignored, not an overflow.
        assert_eq!(
            parse_duration("1.000000000000000000000000000000001s"),
            Some(secs(1))
        );
        // Go's limit is 2^63-1 ns (2562047h47m16.854775807s).
        assert_eq!(
            parse_duration("9223372036854775807ns"),
            Some(Duration::from_nanos(i64::MAX as u64))
        );
        assert_eq!(parse_duration("2562047h"), Some(secs(2_562_047 * 3600)));
    }

    #[test]
    fn bad_durations_are_refused() {
        for bad in [
            "",
            "+",
            "12",
            "h",
            ".",
            ".s",
            "1d",
            "1H",
            "1hh",
            "1 h",
            "1h 2m",
            " 1h",
            "1h ",
            "1..5h",
            "1.5.5h",
            "-1h",
            "-1.5h",
            "0",
            "0h",
            "0s0m",
            "0.0000000001ns",
            "9223372036854775808ns",
            "2562048h",
            "2562047h47m16.854775808s",
            "99999999999999999999999999999999999999999h",
            "1e3s",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn local_signing_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (key, chain) = envelope::testing::generate_chain(&KeySpec::Rsa2048).unwrap();
        let kp = dir.path().join("k.key");
        let cp = dir.path().join("k.crt");
        std::fs::write(&kp, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
        let mut pem = Vec::new();
        for c in &chain {
            pem.extend(c.to_pem().unwrap());
        }
        std::fs::write(&cp, pem).unwrap();
        let mut subject = Descriptor::new(
            "application/vnd.oci.image.manifest.v1+json",
            format!("sha256:{}", "a".repeat(64)),
            7,
        );
        subject.annotations = Some([("x".to_string(), "y".to_string())].into());
        subject.artifact_type = Some("ignored".into());
        let mut meta = BTreeMap::new();
        meta.insert("buildId".to_string(), "42".to_string());
        for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
            let signer = SigningKey::Local(load_local(&kp, &cp).unwrap());
            let opts = SignOptions {
                format,
                expiry: Some(Duration::from_secs(3600)),
                user_metadata: meta.clone(),
                plugin_config: BTreeMap::new(),
            };
            let bytes = make_envelope(&signer, &subject, &opts).unwrap();
            let env = envelope::parse(format, &bytes).unwrap();
            env.verify_integrity().unwrap();
            let p = env.payload().unwrap();
            assert_eq!(p.target_artifact.digest, subject.digest);
            assert_eq!(p.target_artifact.annotations, Some(meta.clone()));
            assert_eq!(p.target_artifact.artifact_type, None);
            assert!(env.signed_attributes.expiry.is_some());
            let prints: Vec<String> =
                serde_json::from_str(&thumbprints_annotation(format, &bytes).unwrap()).unwrap();
            assert_eq!(prints.len(), chain.len());
        }
        // reserved metadata keys are refused
        let mut bad = BTreeMap::new();
        bad.insert("io.cncf.notary.x".to_string(), "1".to_string());
        let opts = SignOptions {
            format: EnvelopeFormat::Jws,
            expiry: None,
            user_metadata: bad,
            plugin_config: BTreeMap::new(),
        };
        let signer = SigningKey::Local(load_local(&kp, &cp).unwrap());
        assert!(make_envelope(&signer, &subject, &opts).is_err());
        // a key that does not match the certificate is refused
        let other = envelope::testing::generate_key(&KeySpec::Rsa2048).unwrap();
        std::fs::write(&kp, other.private_key_to_pem_pkcs8().unwrap()).unwrap();
        assert!(load_local(&kp, &cp).is_err());
    }

    #[test]
    fn plugin_envelopes_are_checked() {
        let (key, chain) = envelope::testing::generate_chain(&KeySpec::Rsa2048).unwrap();
        let signer = LocalSigner::new(key, chain).unwrap();
        let subject = Descriptor::new(
            "application/vnd.oci.image.manifest.v1+json",
            format!("sha256:{}", "b".repeat(64)),
            9,
        );
        let sent = Payload::new(payload_descriptor(&subject, &BTreeMap::new()));
        let request = SignRequest {
            payload: sent.clone(),
            signing_scheme: SigningScheme::X509,
            signing_time: time::OffsetDateTime::now_utc(),
            expiry: None,
            signing_agent: None,
            extended_attributes: Vec::new(),
        };
        let jws = envelope::sign(EnvelopeFormat::Jws, &request, &signer).unwrap();
        check_plugin_envelope("p", EnvelopeFormat::Jws, &jws, &sent).unwrap();
        // wrong format
        assert!(check_plugin_envelope("p", EnvelopeFormat::Cose, &jws, &sent).is_err());
        // garbage
        assert!(check_plugin_envelope("p", EnvelopeFormat::Jws, b"envelope:x", &sent).is_err());
        // a different payload than the one sent
        let mut other = subject.clone();
        other.digest = format!("sha256:{}", "c".repeat(64));
        let other = Payload::new(payload_descriptor(&other, &BTreeMap::new()));
        let err = check_plugin_envelope("p", EnvelopeFormat::Jws, &jws, &other).unwrap_err();
        assert!(err.to_string().contains("payload differs"), "{err}");
        // tampered signature
        let mut v: serde_json::Value = serde_json::from_slice(&jws).unwrap();
        let sig = v["signature"].as_str().unwrap().to_string();
        let first = if sig.starts_with('A') { "B" } else { "A" };
        let flipped = format!("{first}{}", sig.get(1..).unwrap_or_default());
        v["signature"] = flipped.into();
        let tampered = serde_json::to_vec(&v).unwrap();
        assert!(check_plugin_envelope("p", EnvelopeFormat::Jws, &tampered, &sent).is_err());
    }
}
