//! `notation-pkcs11`: a Notation plugin that signs with keys held in PKCS#11
//! tokens (hardware security modules, smart cards, SoftHSM2).
//!
//! * **keyId**: an RFC 7512 PKCS#11 URI (see [`uri`]), e.g.
//!   `pkcs11:token=notation;object=signing-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin`.
//!   The token is selected by `token` (label), `serial`, `manufacturer`,
//!   `model` and/or `slot-id`; the key by `object` (label) and/or `id`.
//! * **PKCS#11 module** (first found): URI `module-path`, pluginConfig
//!   `module_path`, environment `NOTATION_PKCS11_MODULE`.
//! * **PIN** (first found): URI `pin-value`, URI `pin-source` (a `file:`
//!   URI or path), pluginConfig `pin_file`, environment
//!   `NOTATION_PKCS11_PIN`. The PIN is held in a redacted, zeroised
//!   [`secret::Secret`] and never printed.
//! * **Certificate chain**: pluginConfig `certificate_chain` (PEM file,
//!   leaf first) if set; otherwise the token's certificate with the key's
//!   `CKA_ID`, followed by its issuers found on the token.
//!
//! Capability: `SIGNATURE_GENERATOR.RAW`. The payload is hashed in the
//! plugin and the digest signed on the token (`CKM_RSA_PKCS_PSS` with the
//! matching MGF1 and salt length = hash length, or `CKM_ECDSA`), so tokens
//! with only raw mechanisms work.
#![deny(missing_docs)]

pub mod secret;
pub mod token;
pub mod uri;

use std::path::{Path, PathBuf};

use notation_plugin_sdk::protocol::{
    DescribeKeyRequest, DescribeKeyResponse, GenerateSignatureRequest, GenerateSignatureResponse,
    GetMetadataRequest, GetMetadataResponse, PluginConfig, PluginError, CONTRACT_VERSION,
};
use notation_plugin_sdk::vocab::{Capability, ErrorCode};
use notation_plugin_sdk::Plugin;
use openssl::x509::X509;

use crate::secret::Secret;
use crate::token::{KeySession, Module};
use crate::uri::{Pkcs11Uri, UriError};

/// Plugin name (and install directory name).
pub const PLUGIN_NAME: &str = "pkcs11";
/// `pluginConfig` key: path of the PKCS#11 module.
pub const CONFIG_MODULE_PATH: &str = "module_path";
/// `pluginConfig` key: path of a file holding the PIN.
pub const CONFIG_PIN_FILE: &str = "pin_file";
/// `pluginConfig` key: path of a PEM certificate chain file (leaf first).
pub const CONFIG_CERTIFICATE_CHAIN: &str = "certificate_chain";
/// Environment variable: path of the PKCS#11 module.
pub const ENV_MODULE: &str = "NOTATION_PKCS11_MODULE";
/// Environment variable: the PIN.
pub const ENV_PIN: &str = "NOTATION_PKCS11_PIN";

/// Largest PIN or chain file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The plugin. Stateless: each request loads the module afresh.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pkcs11Plugin;

/// Why a request failed; converted into the contract's error object.
#[derive(Debug, thiserror::Error)]
pub enum Pkcs11Error {
    /// The key id is not a PKCS#11 URI.
    #[error("keyId is not a valid PKCS#11 URI: {0}")]
    Uri(#[from] UriError),
    /// No module path anywhere.
    #[error("no PKCS#11 module given: add `module-path=...` to the key URI, set pluginConfig `module_path`, or set the environment variable NOTATION_PKCS11_MODULE")]
    NoModule,
    /// The module could not be loaded or initialised.
    #[error("cannot load the PKCS#11 module `{}`: {detail}", path.display())]
    ModuleLoad {
        /// Module path.
        path: PathBuf,
        /// The loader's message.
        detail: String,
    },
    /// A PIN or chain file could not be read.
    #[error("cannot read `{}`: {detail}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// What went wrong (never the content).
        detail: String,
    },
    /// No token matches.
    #[error("no initialised token matching {searched} in module `{}`", module.display())]
    TokenNotFound {
        /// What was searched.
        searched: String,
        /// The module.
        module: PathBuf,
    },
    /// More than one token matches.
    #[error(
        "{count} tokens match {searched}; add `token=`, `serial=` or `slot-id=` to the key URI"
    )]
    TokenAmbiguous {
        /// What was searched.
        searched: String,
        /// How many matched.
        count: usize,
    },
    /// Login was refused.
    #[error("the token refused the PIN ({detail}); check the PIN source")]
    LoginFailed {
        /// The token's reason.
        detail: String,
    },
    /// No key matches.
    #[error("no {searched}{}", if *logged_in { "" } else { " (no PIN was given, and private keys are usually only visible after login)" })]
    KeyNotFound {
        /// What was searched.
        searched: String,
        /// Whether a PIN was used.
        logged_in: bool,
    },
    /// More than one key matches.
    #[error("{count} keys match: {searched}; add `object=` or `id=` to the key URI")]
    KeyAmbiguous {
        /// What was searched.
        searched: String,
        /// How many matched.
        count: usize,
    },
    /// The key is not a supported type or size.
    #[error("the key is not supported: {detail} (RSA 2048/3072/4096 or EC P-256/P-384/P-521 are)")]
    UnsupportedKey {
        /// Key description.
        detail: String,
    },
    /// The request asks for a different key spec.
    #[error("the request asks for key spec {requested} but the key is {actual}")]
    KeySpecMismatch {
        /// Requested.
        requested: String,
        /// Actual.
        actual: String,
    },
    /// The request asks for a hash the key spec does not use.
    #[error("the request asks for hash {requested} but key spec {key_spec} uses {expected}")]
    HashMismatch {
        /// Requested.
        requested: String,
        /// Key spec.
        key_spec: String,
        /// Expected hash.
        expected: String,
    },
    /// Hash algorithm unknown.
    #[error("unsupported hash algorithm `{value}`")]
    UnsupportedHash {
        /// The value.
        value: String,
    },
    /// No certificate for the key on the token.
    #[error("no certificate for the key on the token{}; import one with the key's id or set pluginConfig `certificate_chain`", id_hex.as_ref().map(|i| format!(" with id {i}")).unwrap_or_default())]
    NoCertificate {
        /// The key's id in hex, if it has one.
        id_hex: Option<String>,
    },
    /// The leaf certificate is not for the key.
    #[error("the leaf certificate is not for the selected key")]
    CertificateMismatch,
    /// A PKCS#11 call failed.
    #[error("the token failed to {op}: {detail}")]
    TokenOp {
        /// What was being done.
        op: &'static str,
        /// The module's error.
        detail: String,
    },
    /// Local crypto failed.
    #[error("cryptographic operation failed: {detail}")]
    Crypto {
        /// The detail.
        detail: String,
    },
}

impl Pkcs11Error {
    pub(crate) fn token_op(op: &'static str, e: cryptoki::error::Error) -> Pkcs11Error {
        Pkcs11Error::TokenOp {
            op,
            detail: e.to_string(),
        }
    }

    pub(crate) fn login(e: cryptoki::error::Error) -> Pkcs11Error {
        Pkcs11Error::LoginFailed {
            detail: match &e {
                cryptoki::error::Error::Pkcs11(rv, _) => format!("{rv:?}"),
                other => other.to_string(),
            },
        }
    }

    fn code(&self) -> ErrorCode {
        use Pkcs11Error::*;
        match self {
            LoginFailed { .. } => ErrorCode::AccessDenied,
            TokenOp { .. } | Crypto { .. } => ErrorCode::Error,
            _ => ErrorCode::ValidationError,
        }
    }
}

impl From<Pkcs11Error> for PluginError {
    fn from(e: Pkcs11Error) -> Self {
        PluginError::new(e.code(), e.to_string())
    }
}

fn read_small(path: &Path) -> Result<Vec<u8>, Pkcs11Error> {
    use std::io::Read;
    let err = |detail: String| Pkcs11Error::ReadFile {
        path: path.to_owned(),
        detail,
    };
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut buf = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| err(e.to_string()))?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(err(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    Ok(buf)
}

fn pin_from_file(path: &Path) -> Result<Secret, Pkcs11Error> {
    let bytes = zeroize::Zeroizing::new(read_small(path)?);
    let text = std::str::from_utf8(&bytes).map_err(|_| Pkcs11Error::ReadFile {
        path: path.to_owned(),
        detail: "the PIN file is not UTF-8".to_owned(),
    })?;
    Ok(Secret::new(text.trim_end_matches(['\r', '\n']).to_owned()))
}

/// Where the module, PIN and chain come from for one request.
#[derive(Debug)]
pub struct Resolved {
    /// The parsed key URI.
    pub uri: Pkcs11Uri,
    /// Module path.
    pub module: PathBuf,
    /// PIN, if any source gave one.
    pub pin: Option<Secret>,
    /// Chain file from pluginConfig, if set.
    pub chain_file: Option<PathBuf>,
}

/// Resolves the key id and configuration into a [`Resolved`].
pub fn resolve(key_id: &str, config: Option<&PluginConfig>) -> Result<Resolved, Pkcs11Error> {
    let uri = Pkcs11Uri::parse(key_id)?;
    let cfg = |k: &str| config.and_then(|c| c.get(k)).filter(|v| !v.is_empty());
    let module = uri
        .module_path
        .clone()
        .or_else(|| cfg(CONFIG_MODULE_PATH).cloned())
        .or_else(|| std::env::var(ENV_MODULE).ok().filter(|v| !v.is_empty()))
        .map(PathBuf::from)
        .ok_or(Pkcs11Error::NoModule)?;
    let pin = if let Some(v) = &uri.pin_value {
        Some(v.clone())
    } else if let Some(p) = uri.pin_source_path() {
        Some(pin_from_file(&p)?)
    } else if let Some(p) = cfg(CONFIG_PIN_FILE) {
        Some(pin_from_file(Path::new(p))?)
    } else {
        std::env::var(ENV_PIN).ok().map(Secret::new)
    };
    Ok(Resolved {
        uri,
        module,
        pin,
        chain_file: cfg(CONFIG_CERTIFICATE_CHAIN).map(PathBuf::from),
    })
}

/// Runs `f` with the selected key's session open; the session and module
/// are closed when it returns, whatever happens.
fn with_key<T>(
    key_id: &str,
    config: Option<&PluginConfig>,
    f: impl FnOnce(&KeySession, &Resolved) -> Result<T, Pkcs11Error>,
) -> Result<T, Pkcs11Error> {
    let resolved = resolve(key_id, config)?;
    let module = Module::load(&resolved.module)?;
    let slot = module.find_slot(&resolved.uri)?;
    let session = module.open_key(slot, &resolved.uri, resolved.pin.as_ref())?;
    let out = f(&session, &resolved);
    drop(session);
    drop(module);
    out
}

fn load_chain(session: &KeySession, resolved: &Resolved) -> Result<Vec<X509>, Pkcs11Error> {
    let chain = match &resolved.chain_file {
        Some(path) => {
            let bytes = read_small(path)?;
            let parsed = X509::stack_from_pem(&bytes)
                .ok()
                .filter(|c| !c.is_empty())
                .or_else(|| X509::from_der(&bytes).ok().map(|c| vec![c]));
            parsed.ok_or_else(|| Pkcs11Error::ReadFile {
                path: path.clone(),
                detail: "no certificate in PEM or DER form".to_owned(),
            })?
        }
        None => session.chain_from_token()?,
    };
    if let Some(leaf) = chain.first() {
        session.check_leaf(leaf)?;
    }
    Ok(chain)
}

impl Plugin for Pkcs11Plugin {
    fn get_plugin_metadata(
        &self,
        _req: GetMetadataRequest,
    ) -> Result<GetMetadataResponse, PluginError> {
        Ok(GetMetadataResponse {
            name: PLUGIN_NAME.to_owned(),
            description: "Sign with keys held in PKCS#11 tokens (HSMs, smart cards, SoftHSM2)"
                .to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            url: "https://example.invalid/notation-rs/plugins/pkcs11".to_owned(),
            supported_contract_versions: vec![CONTRACT_VERSION.to_owned()],
            capabilities: vec![Capability::SignatureGeneratorRaw],
        })
    }

    fn describe_key(&self, req: DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
        let key_spec = with_key(&req.key_id, req.plugin_config.as_ref(), |s, _| {
            Ok(s.key_spec.clone())
        })?;
        Ok(DescribeKeyResponse {
            key_id: req.key_id,
            key_spec,
        })
    }

    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        let (signature, alg, chain) =
            with_key(&req.key_id, req.plugin_config.as_ref(), |s, resolved| {
                if req.key_spec != s.key_spec {
                    return Err(Pkcs11Error::KeySpecMismatch {
                        requested: req.key_spec.as_str().to_owned(),
                        actual: s.key_spec.as_str().to_owned(),
                    });
                }
                let expected = s.key_spec.hash_algorithm();
                if expected.as_ref() != Some(&req.hash_algorithm) {
                    return Err(Pkcs11Error::HashMismatch {
                        requested: req.hash_algorithm.as_str().to_owned(),
                        key_spec: s.key_spec.as_str().to_owned(),
                        expected: expected.map(|h| h.as_str().to_owned()).unwrap_or_default(),
                    });
                }
                let alg = s
                    .key_spec
                    .signing_algorithm()
                    .ok_or(Pkcs11Error::UnsupportedKey {
                        detail: s.key_spec.as_str().to_owned(),
                    })?;
                let chain = load_chain(s, resolved)?;
                let sig = s.sign(&req.hash_algorithm, &req.payload)?;
                Ok((sig, alg, chain))
            })?;
        let certificate_chain = chain
            .iter()
            .map(|c| c.to_der())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Pkcs11Error::Crypto {
                detail: e.to_string(),
            })?;
        Ok(GenerateSignatureResponse {
            key_id: req.key_id,
            signature,
            signing_algorithm: alg,
            certificate_chain,
        })
    }
}
