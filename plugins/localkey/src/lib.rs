//! `notation-localkey`: a Notation plugin that signs with a private key file.
//!
//! * **keyId**: path of the private key file. RSA 2048/3072/4096 or EC
//!   P-256/P-384/P-521; PEM (PKCS#1, PKCS#8, SEC1) or DER; encrypted PKCS#8
//!   (or legacy encrypted PEM) when a passphrase source is configured.
//! * **pluginConfig**:
//!   * `certificate_chain` (required): path of the certificate chain file,
//!     PEM, leaf first (a single DER certificate is accepted too);
//!   * `passphrase_env`: name of an environment variable holding the key's
//!     passphrase;
//!   * `passphrase_file`: path of a file holding the passphrase (one
//!     trailing newline is ignored);
//!   * `mode`: `raw` or `envelope` to claim only that capability (default
//!     `both`: the two), or `envelope-for-blob` to claim only
//!     `SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB`, so a host can be steered to
//!     one signing path. Only effective with hosts that send `pluginConfig`
//!     with `get-plugin-metadata`.
//!
//!   A `passphrase` key is refused: the passphrase itself never belongs in
//!   the configuration, which is stored in plain text.
//!
//! Capabilities: `SIGNATURE_GENERATOR.RAW` (describe-key,
//! generate-signature) and `SIGNATURE_GENERATOR.ENVELOPE`
//! (generate-envelope, JWS or COSE, via the SDK's envelope codecs); with
//! `mode=envelope-for-blob`, `SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB`
//! (describe-key, generate-envelope: the envelope does not depend on
//! whether the payload describes an OCI artifact or a blob).
#![deny(missing_docs)]

pub mod key;

use std::path::{Path, PathBuf};

use notation_plugin_sdk::envelope::{
    self, key_spec_of_public_key, sign_raw, EnvelopeFormat, LocalSigner, Payload, SignRequest,
    SigningScheme, PAYLOAD_MEDIA_TYPE,
};
use notation_plugin_sdk::protocol::{
    DescribeKeyRequest, DescribeKeyResponse, GenerateEnvelopeRequest, GenerateEnvelopeResponse,
    GenerateSignatureRequest, GenerateSignatureResponse, GetMetadataRequest, GetMetadataResponse,
    PluginConfig, PluginError, CONTRACT_VERSION,
};
use notation_plugin_sdk::vocab::{Capability, ErrorCode, HashAlgorithm, KeySpec};
use notation_plugin_sdk::Plugin;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use zeroize::Zeroizing;

/// Plugin name (and install directory name).
pub const PLUGIN_NAME: &str = "localkey";
/// `pluginConfig` key: path of the certificate chain file.
pub const CONFIG_CERTIFICATE_CHAIN: &str = "certificate_chain";
/// `pluginConfig` key: name of the environment variable holding the passphrase.
pub const CONFIG_PASSPHRASE_ENV: &str = "passphrase_env";
/// `pluginConfig` key: path of the file holding the passphrase.
pub const CONFIG_PASSPHRASE_FILE: &str = "passphrase_file";
/// `pluginConfig` key: `raw`, `envelope` or `envelope-for-blob` to claim
/// only that capability (`both`, the default: RAW and ENVELOPE).
pub const CONFIG_MODE: &str = "mode";

/// The plugin. Stateless: every request loads the key afresh.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalKeyPlugin;

/// Why a request failed; converted into the contract's error object.
#[derive(Debug, thiserror::Error)]
pub enum LocalKeyError {
    /// A required `pluginConfig` entry is missing.
    #[error("pluginConfig `{key}` is required: {hint}")]
    MissingConfig {
        /// The configuration key.
        key: &'static str,
        /// What to set it to.
        hint: &'static str,
    },
    /// The passphrase was put in the configuration.
    #[error("pluginConfig `{key}` is refused: never store a passphrase in the configuration; use `passphrase_env` or `passphrase_file`")]
    SecretInConfig {
        /// The offending key.
        key: String,
    },
    /// A file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A file is larger than expected for a key or a certificate.
    #[error("`{}` is larger than {limit} bytes; it is not a key or certificate file", path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// The cap.
        limit: u64,
    },
    /// The key file is not a private key in a supported form.
    #[error("`{}` is not a private key in PEM (PKCS#1, PKCS#8, SEC1) or DER form", path.display())]
    KeyUnreadable {
        /// The key file.
        path: PathBuf,
    },
    /// The key is encrypted and no passphrase source is configured.
    #[error("the key `{}` is encrypted; set pluginConfig `passphrase_env` (an environment variable name) or `passphrase_file` (a file path)", path.display())]
    PassphraseRequired {
        /// The key file.
        path: PathBuf,
    },
    /// The environment variable named by `passphrase_env` is not set.
    #[error("the environment variable `{name}` named by pluginConfig `passphrase_env` is not set")]
    PassphraseEnvUnset {
        /// Variable name.
        name: String,
    },
    /// The passphrase did not decrypt the key.
    #[error("cannot decrypt the key `{}`: wrong passphrase or corrupt file", path.display())]
    DecryptFailed {
        /// The key file.
        path: PathBuf,
    },
    /// The certificate chain file holds no readable certificate.
    #[error("`{}` holds no certificate in PEM or DER form", path.display())]
    ChainUnreadable {
        /// The chain file.
        path: PathBuf,
    },
    /// The key type or size is not one the contract supports.
    #[error("the key `{}` is not a supported key (RSA 2048/3072/4096 or EC P-256/P-384/P-521)", path.display())]
    UnsupportedKey {
        /// The key file.
        path: PathBuf,
    },
    /// The leaf certificate is not for this key.
    #[error("the first certificate in `{}` is not for the key `{}`; the chain must start with the key's own certificate", chain.display(), key.display())]
    KeyCertMismatch {
        /// Key file.
        key: PathBuf,
        /// Chain file.
        chain: PathBuf,
    },
    /// The request's key spec or hash algorithm does not match the key.
    #[error("the request asks for {requested} but the key `{}` is {actual}", path.display())]
    RequestMismatch {
        /// Key file.
        path: PathBuf,
        /// Requested value.
        requested: String,
        /// The key's value.
        actual: String,
    },
    /// The envelope request is for something this plugin does not produce.
    #[error("unsupported {field} `{value}`")]
    UnsupportedEnvelopeRequest {
        /// Field name.
        field: &'static str,
        /// Value received.
        value: String,
    },
    /// The SDK's envelope code failed.
    #[error("cannot produce the signature: {0}")]
    Envelope(#[from] envelope::EnvelopeError),
}

impl LocalKeyError {
    fn code(&self) -> ErrorCode {
        match self {
            LocalKeyError::DecryptFailed { .. } | LocalKeyError::PassphraseEnvUnset { .. } => {
                ErrorCode::AccessDenied
            }
            LocalKeyError::Envelope(_) => ErrorCode::Error,
            _ => ErrorCode::ValidationError,
        }
    }
}

impl From<LocalKeyError> for PluginError {
    fn from(e: LocalKeyError) -> Self {
        PluginError::new(e.code(), e.to_string())
    }
}

/// A loaded key with its chain and derived key spec.
pub struct LoadedKey {
    /// The private key.
    pub key: PKey<Private>,
    /// Certificate chain, leaf first.
    pub chain: Vec<X509>,
    /// Key spec derived from the key.
    pub key_spec: KeySpec,
}

impl std::fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedKey")
            .field("key_spec", &self.key_spec)
            .finish_non_exhaustive()
    }
}

fn config_value<'a>(config: Option<&'a PluginConfig>, key: &str) -> Option<&'a str> {
    config.and_then(|c| c.get(key)).map(String::as_str)
}

/// Loads the key named by `key_id` with the chain and passphrase sources
/// from `config`, and checks that the chain's leaf is for the key.
pub fn load_key(key_id: &str, config: Option<&PluginConfig>) -> Result<LoadedKey, LocalKeyError> {
    if let Some(c) = config {
        if let Some(k) = c
            .keys()
            .find(|k| matches!(k.as_str(), "passphrase" | "password" | "pin"))
        {
            return Err(LocalKeyError::SecretInConfig { key: k.clone() });
        }
    }
    let key_path = Path::new(key_id);
    let chain_path =
        config_value(config, CONFIG_CERTIFICATE_CHAIN).ok_or(LocalKeyError::MissingConfig {
            key: CONFIG_CERTIFICATE_CHAIN,
            hint: "the path of the PEM certificate chain file, leaf first",
        })?;
    let chain_path = Path::new(chain_path);

    let bytes = key::read_capped(key_path)?;
    let passphrase: Option<Zeroizing<Vec<u8>>> = if key::is_encrypted(&bytes) {
        if let Some(var) = config_value(config, CONFIG_PASSPHRASE_ENV) {
            let value = std::env::var_os(var).ok_or_else(|| LocalKeyError::PassphraseEnvUnset {
                name: var.to_owned(),
            })?;
            Some(Zeroizing::new(value.into_encoded_bytes()))
        } else if let Some(file) = config_value(config, CONFIG_PASSPHRASE_FILE) {
            Some(key::passphrase_from_file(Path::new(file))?)
        } else {
            None
        }
    } else {
        None
    };
    let pkey = key::parse_private_key(key_path, &bytes, passphrase.as_deref().map(|v| &v[..]))?;
    let key_spec = key_spec_of_public_key(&pkey).map_err(|_| LocalKeyError::UnsupportedKey {
        path: key_path.to_owned(),
    })?;
    if !key_spec.is_known() {
        return Err(LocalKeyError::UnsupportedKey {
            path: key_path.to_owned(),
        });
    }
    let chain = key::load_chain(chain_path)?;
    let leaf_matches = chain
        .first()
        .and_then(|leaf| leaf.public_key().ok())
        .is_some_and(|pk| pkey.public_eq(&pk));
    if !leaf_matches {
        return Err(LocalKeyError::KeyCertMismatch {
            key: key_path.to_owned(),
            chain: chain_path.to_owned(),
        });
    }
    Ok(LoadedKey {
        key: pkey,
        chain,
        key_spec,
    })
}

fn chain_der(chain: &[X509]) -> Result<Vec<Vec<u8>>, LocalKeyError> {
    chain
        .iter()
        .map(|c| {
            c.to_der()
                .map_err(|e| LocalKeyError::Envelope(envelope::EnvelopeError::from(e)))
        })
        .collect()
}

impl Plugin for LocalKeyPlugin {
    fn get_plugin_metadata(
        &self,
        req: GetMetadataRequest,
    ) -> Result<GetMetadataResponse, PluginError> {
        let capabilities = match config_value(req.plugin_config.as_ref(), CONFIG_MODE) {
            None | Some("both") => vec![
                Capability::SignatureGeneratorRaw,
                Capability::SignatureGeneratorEnvelope,
            ],
            Some("raw") => vec![Capability::SignatureGeneratorRaw],
            Some("envelope") => vec![Capability::SignatureGeneratorEnvelope],
            Some("envelope-for-blob") => vec![Capability::SignatureGeneratorEnvelopeForBlob],
            Some(other) => {
                return Err(PluginError::validation(
                    "pluginConfig.mode",
                    format!(
                        "pluginConfig `mode` is {other:?}; use `raw`, `envelope`, \
                         `envelope-for-blob` or `both`"
                    ),
                ))
            }
        };
        Ok(GetMetadataResponse {
            name: PLUGIN_NAME.to_owned(),
            description:
                "Sign with a private key file (RSA or EC, PEM or DER, optionally encrypted)"
                    .to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            url: "https://example.invalid/notation-rs/plugins/localkey".to_owned(),
            supported_contract_versions: vec![CONTRACT_VERSION.to_owned()],
            capabilities,
        })
    }

    fn describe_key(&self, req: DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
        let loaded = load_key(&req.key_id, req.plugin_config.as_ref())?;
        Ok(DescribeKeyResponse {
            key_id: req.key_id,
            key_spec: loaded.key_spec,
        })
    }

    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        let loaded = load_key(&req.key_id, req.plugin_config.as_ref())?;
        let path = PathBuf::from(&req.key_id);
        if req.key_spec != loaded.key_spec {
            return Err(LocalKeyError::RequestMismatch {
                path,
                requested: format!("key spec {}", req.key_spec.as_str()),
                actual: loaded.key_spec.as_str().to_owned(),
            }
            .into());
        }
        let expected_hash: Option<HashAlgorithm> = loaded.key_spec.hash_algorithm();
        if Some(&req.hash_algorithm) != expected_hash.as_ref() {
            return Err(LocalKeyError::RequestMismatch {
                path,
                requested: format!("hash algorithm {}", req.hash_algorithm.as_str()),
                actual: format!(
                    "{} (which uses {})",
                    loaded.key_spec.as_str(),
                    expected_hash.as_ref().map(|h| h.as_str()).unwrap_or("?")
                ),
            }
            .into());
        }
        let alg = loaded
            .key_spec
            .signing_algorithm()
            .ok_or(LocalKeyError::UnsupportedKey { path })?;
        let signature = sign_raw(&alg, &loaded.key, &req.payload).map_err(LocalKeyError::from)?;
        Ok(GenerateSignatureResponse {
            key_id: req.key_id,
            signature,
            signing_algorithm: alg,
            certificate_chain: chain_der(&loaded.chain)?,
        })
    }

    fn generate_envelope(
        &self,
        req: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, PluginError> {
        if req.payload_type != PAYLOAD_MEDIA_TYPE {
            return Err(PluginError::validation(
                "payloadType",
                LocalKeyError::UnsupportedEnvelopeRequest {
                    field: "payloadType",
                    value: req.payload_type.clone(),
                }
                .to_string(),
            ));
        }
        let format =
            EnvelopeFormat::from_media_type(&req.signature_envelope_type).ok_or_else(|| {
                PluginError::validation(
                    "signatureEnvelopeType",
                    LocalKeyError::UnsupportedEnvelopeRequest {
                        field: "signatureEnvelopeType",
                        value: req.signature_envelope_type.clone(),
                    }
                    .to_string(),
                )
            })?;
        let payload = Payload::from_json(&req.payload)
            .map_err(|e| PluginError::validation("payload", e.to_string()))?;
        let loaded = load_key(&req.key_id, req.plugin_config.as_ref())?;
        let signer = LocalSigner::new(loaded.key, loaded.chain).map_err(LocalKeyError::from)?;
        let now = time::OffsetDateTime::now_utc();
        let expiry = match req.expiry_duration_in_seconds {
            Some(secs) => Some(
                i64::try_from(secs)
                    .ok()
                    .and_then(|s| now.checked_add(time::Duration::seconds(s)))
                    .ok_or_else(|| {
                        PluginError::validation(
                            "expiryDurationInSeconds",
                            "expiryDurationInSeconds is too large",
                        )
                    })?,
            ),
            None => None,
        };
        let sign_req = SignRequest {
            payload,
            signing_scheme: SigningScheme::X509,
            signing_time: now,
            expiry,
            signing_agent: Some(format!("notation-localkey/{}", env!("CARGO_PKG_VERSION"))),
            extended_attributes: Vec::new(),
        };
        let bytes = envelope::sign(format, &sign_req, &signer).map_err(LocalKeyError::from)?;
        Ok(GenerateEnvelopeResponse {
            signature_envelope: bytes,
            signature_envelope_type: req.signature_envelope_type,
            annotations: None,
        })
    }
}
