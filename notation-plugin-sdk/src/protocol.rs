//! The messages of plugin contract version 1.0, typed once for both sides.
//!
//! Every request and response of the five commands is a plain struct whose
//! serde field names are the exact wire names of the specification. Binary
//! fields are `Vec<u8>` in Rust and standard (padded) base64 on the wire.
//!
//! Parsing goes through one validation step, [`from_slice`] (or
//! [`from_value`]): the bytes must be a JSON object, every required field
//! listed in [`Message::REQUIRED`] must be present, non-null and, for
//! strings, non-empty, every field must have the right type, and the
//! message-specific rules of [`Message::check`] must hold. Any failure is a
//! [`PluginError`] with code `VALIDATION_ERROR` whose `errorMetadata`
//! carries the offending field's dotted path under the key `field`.
//! Unknown fields are ignored, as the contract requires for forward
//! compatibility.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time::OffsetDateTime;

use crate::vocab::{Capability, ErrorCode, HashAlgorithm, KeySpec, SigningAlgorithm};

/// The plugin contract version this crate implements, `major.minor`.
pub const CONTRACT_VERSION: &str = "1.0";

/// Major and minor parts of [`CONTRACT_VERSION`].
const OURS: (u32, u32) = (1, 0);

/// The `errorMetadata` key under which validation errors name the field.
pub const FIELD_METADATA_KEY: &str = "field";

/// The result of a plugin command.
pub type PluginResult<T> = Result<T, PluginError>;

/// String-to-string plugin configuration, passed through unchanged from the
/// user's key configuration.
pub type PluginConfig = BTreeMap<String, String>;

/// The commands of the contract, as passed in `argv[1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// `get-plugin-metadata`: name, version and capabilities.
    GetPluginMetadata,
    /// `describe-key`: the key spec of a key id.
    DescribeKey,
    /// `generate-signature`: a raw signature over a payload.
    GenerateSignature,
    /// `generate-envelope`: a whole signature envelope.
    GenerateEnvelope,
    /// `verify-signature`: plugin-specific verification steps.
    VerifySignature,
}

impl Command {
    /// Every command, in specification order.
    pub const ALL: [Command; 5] = [
        Command::GetPluginMetadata,
        Command::DescribeKey,
        Command::GenerateSignature,
        Command::GenerateEnvelope,
        Command::VerifySignature,
    ];

    /// The command's name as passed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::GetPluginMetadata => "get-plugin-metadata",
            Command::DescribeKey => "describe-key",
            Command::GenerateSignature => "generate-signature",
            Command::GenerateEnvelope => "generate-envelope",
            Command::VerifySignature => "verify-signature",
        }
    }

    /// Parses a command-line command name.
    pub fn from_arg(s: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether a plugin declaring `capabilities` may be sent this command.
    ///
    /// `get-plugin-metadata` is always allowed; `describe-key` needs
    /// `SIGNATURE_GENERATOR.RAW` or `SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB`;
    /// `generate-signature` needs `SIGNATURE_GENERATOR.RAW`;
    /// `generate-envelope` needs `SIGNATURE_GENERATOR.ENVELOPE` or
    /// `SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB`; `verify-signature` needs a
    /// `SIGNATURE_VERIFIER.*` capability.
    pub fn allowed_by(self, capabilities: &[Capability]) -> bool {
        let has = |c: Capability| capabilities.contains(&c);
        match self {
            Command::GetPluginMetadata => true,
            Command::DescribeKey => {
                has(Capability::SignatureGeneratorRaw)
                    || has(Capability::SignatureGeneratorEnvelopeForBlob)
            }
            Command::GenerateSignature => has(Capability::SignatureGeneratorRaw),
            Command::GenerateEnvelope => {
                has(Capability::SignatureGeneratorEnvelope)
                    || has(Capability::SignatureGeneratorEnvelopeForBlob)
            }
            Command::VerifySignature => capabilities.iter().any(Capability::is_verifier),
        }
    }

    /// The capabilities of which at least one allows this command (empty for
    /// `get-plugin-metadata`, which is always allowed).
    pub fn required_capabilities(self) -> &'static [Capability] {
        match self {
            Command::GetPluginMetadata => &[],
            Command::DescribeKey => &[
                Capability::SignatureGeneratorRaw,
                Capability::SignatureGeneratorEnvelopeForBlob,
            ],
            Command::GenerateSignature => &[Capability::SignatureGeneratorRaw],
            Command::GenerateEnvelope => &[
                Capability::SignatureGeneratorEnvelope,
                Capability::SignatureGeneratorEnvelopeForBlob,
            ],
            Command::VerifySignature => &[
                Capability::SignatureVerifierTrustedIdentity,
                Capability::SignatureVerifierRevocationCheck,
            ],
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------
// Error object
// ---------------------------------------------------------------------------

/// The contract's error object, written by a plugin to stderr with exit
/// code 1: `{"errorCode", "errorMessage", "errorMetadata"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginError {
    /// What kind of failure this is; the host decides behaviour on this.
    #[serde(rename = "errorCode")]
    pub code: ErrorCode,
    /// A message for the user. Absent on the wire reads as empty.
    #[serde(rename = "errorMessage", default)]
    pub message: String,
    /// Optional plugin-defined key/value details.
    #[serde(
        rename = "errorMetadata",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub metadata: Option<BTreeMap<String, String>>,
}

impl PluginError {
    /// An error with a code and message and no metadata.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        PluginError {
            code,
            message: message.into(),
            metadata: None,
        }
    }

    /// A `VALIDATION_ERROR` naming the offending field (dotted path) in
    /// `errorMetadata.field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut metadata = BTreeMap::new();
        metadata.insert(FIELD_METADATA_KEY.to_owned(), field.into());
        PluginError {
            code: ErrorCode::ValidationError,
            message: message.into(),
            metadata: Some(metadata),
        }
    }

    /// The generic `ERROR` code with a message.
    pub fn general(message: impl Into<String>) -> Self {
        PluginError::new(ErrorCode::Error, message)
    }

    /// The answer of a plugin that does not implement `command`.
    pub fn unsupported(command: Command) -> Self {
        PluginError::new(
            ErrorCode::Error,
            format!(
                "the command {command} is unsupported by this plugin; \
                 check the plugin's capabilities with get-plugin-metadata"
            ),
        )
    }

    /// The field a `VALIDATION_ERROR` names, if any.
    pub fn field(&self) -> Option<&str> {
        self.metadata
            .as_ref()
            .and_then(|m| m.get(FIELD_METADATA_KEY))
            .map(String::as_str)
    }

    /// Adds one metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value.into());
        self
    }
}

#[cfg(feature = "envelope")]
impl From<openssl::error::ErrorStack> for PluginError {
    /// An OpenSSL failure is a general `ERROR`.
    fn from(e: openssl::error::ErrorStack) -> Self {
        PluginError::general(format!("cryptographic operation failed: {e}"))
    }
}

/// The value of a required `pluginConfig` entry, or a `VALIDATION_ERROR`
/// naming `pluginConfig.<key>`.
pub fn required_config<'a>(
    config: &'a Option<PluginConfig>,
    key: &str,
) -> Result<&'a str, PluginError> {
    match config.as_ref().and_then(|c| c.get(key)) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(PluginError::validation(
            format!("pluginConfig.{key}"),
            format!("this plugin needs the plugin configuration entry `{key}`"),
        )),
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for PluginError {}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

/// A message of the contract: a request, a response or the error object.
pub trait Message: Serialize + DeserializeOwned {
    /// Dotted paths of the fields that must be present and non-null; those
    /// that are strings must also be non-empty.
    const REQUIRED: &'static [&'static str];

    /// Message-specific rules checked after the structural ones.
    fn check(&self) -> Result<(), PluginError> {
        Ok(())
    }
}

/// Parses and validates a message from JSON bytes (see the module docs).
pub fn from_slice<T: Message>(bytes: &[u8]) -> Result<T, PluginError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        PluginError::validation(
            "",
            format!("the message is not valid JSON ({e}); send one JSON object"),
        )
    })?;
    from_value(value)
}

/// Validates and converts an already parsed JSON value into a message.
pub fn from_value<T: Message>(value: Value) -> Result<T, PluginError> {
    if !value.is_object() {
        return Err(PluginError::validation(
            "",
            "the message must be a JSON object",
        ));
    }
    for path in T::REQUIRED {
        check_required(&value, path)?;
    }
    let msg: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        PluginError::validation(
            path.clone(),
            format!("field `{path}` is invalid: {}", e.into_inner()),
        )
    })?;
    msg.check()?;
    Ok(msg)
}

/// Serialises a message to compact JSON bytes.
pub fn to_vec<T: Serialize>(msg: &T) -> Result<Vec<u8>, PluginError> {
    serde_json::to_vec(msg)
        .map_err(|e| PluginError::general(format!("could not serialise the message: {e}")))
}

fn check_required(root: &Value, path: &str) -> Result<(), PluginError> {
    let mut cur = root;
    for part in path.split('.') {
        match cur.get(part) {
            Some(Value::Null) | None => {
                return Err(PluginError::validation(
                    path,
                    format!("required field `{path}` is missing"),
                ))
            }
            Some(v) => cur = v,
        }
    }
    if cur.as_str() == Some("") {
        return Err(PluginError::validation(
            path,
            format!("required field `{path}` is empty"),
        ));
    }
    Ok(())
}

/// Parses `major.minor`.
fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (major, minor) = v.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return None;
    }
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Whether a peer's contract version `major.minor` works with ours: same
/// major version and a minor version not above ours.
pub fn is_compatible_version(version: &str) -> bool {
    matches!(parse_version(version), Some((major, minor)) if major == OURS.0 && minor <= OURS.1)
}

/// Checks a request's `contractVersion`, answering
/// `UNSUPPORTED_CONTRACT_VERSION` for an incompatible or malformed one.
pub fn check_contract_version(version: &str) -> Result<(), PluginError> {
    if is_compatible_version(version) {
        Ok(())
    } else {
        Err(PluginError::new(
            ErrorCode::UnsupportedContractVersion,
            format!(
                "contract version {version:?} is not supported; this plugin implements \
                 contract version {CONTRACT_VERSION} (same major version, minor at most ours)"
            ),
        )
        .with_metadata("supportedContractVersion", CONTRACT_VERSION))
    }
}

fn non_empty<T>(list: &[T], field: &str) -> Result<(), PluginError> {
    if list.is_empty() {
        Err(PluginError::validation(
            field,
            format!("field `{field}` must not be empty"),
        ))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Serde helpers
// ---------------------------------------------------------------------------

mod b64 {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD
            .decode(s.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("not standard base64: {e}")))
    }
}

mod b64_list {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(list.len()))?;
        for item in list {
            seq.serialize_element(&STANDARD.encode(item))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let list = Vec::<String>::deserialize(d)?;
        list.iter()
            .enumerate()
            .map(|(i, s)| {
                STANDARD.decode(s.as_bytes()).map_err(|e| {
                    serde::de::Error::custom(format!("element {i} is not standard base64: {e}"))
                })
            })
            .collect()
    }
}

mod rfc3339_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => {
                let text = t.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
                s.serialize_str(&text)
            }
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => OffsetDateTime::parse(&s, &Rfc3339)
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("not an RFC 3339 date-time: {e}"))),
        }
    }
}

/// Reads a list where `null` (as sent by some Go hosts for an empty list)
/// means empty.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Writes the verification results sorted by capability for stable output.
fn sorted_results<S: Serializer>(
    map: &HashMap<Capability, VerificationResult>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let sorted: BTreeMap<&str, &VerificationResult> =
        map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    sorted.serialize(s)
}

// ---------------------------------------------------------------------------
// get-plugin-metadata
// ---------------------------------------------------------------------------

/// Request of `get-plugin-metadata`. It carries no contract version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetMetadataRequest {
    /// Optional plugin configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_config: Option<PluginConfig>,
}

impl Message for GetMetadataRequest {
    const REQUIRED: &'static [&'static str] = &[];
}

/// Response of `get-plugin-metadata`; every field is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetMetadataResponse {
    /// Plugin name in reverse domain notation; equals its directory name.
    pub name: String,
    /// Human-readable description.
    pub description: String,
    /// Plugin version, chosen by its publisher (SemVer recommended).
    pub version: String,
    /// Web page for support or documentation.
    pub url: String,
    /// Contract versions supported, one per major version.
    pub supported_contract_versions: Vec<String>,
    /// Capabilities; never empty.
    pub capabilities: Vec<Capability>,
}

impl Message for GetMetadataResponse {
    const REQUIRED: &'static [&'static str] = &[
        "name",
        "description",
        "version",
        "url",
        "supportedContractVersions",
        "capabilities",
    ];

    fn check(&self) -> Result<(), PluginError> {
        non_empty(
            &self.supported_contract_versions,
            "supportedContractVersions",
        )?;
        non_empty(&self.capabilities, "capabilities")
    }
}

impl GetMetadataResponse {
    /// Metadata supporting [`CONTRACT_VERSION`], the usual case.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        version: impl Into<String>,
        url: impl Into<String>,
        capabilities: Vec<Capability>,
    ) -> Self {
        GetMetadataResponse {
            name: name.into(),
            description: description.into(),
            version: version.into(),
            url: url.into(),
            supported_contract_versions: vec![CONTRACT_VERSION.to_owned()],
            capabilities,
        }
    }

    /// Whether one of the supported contract versions works with ours.
    pub fn supports_our_contract(&self) -> bool {
        self.supported_contract_versions
            .iter()
            .any(|v| is_compatible_version(v))
    }

    /// Whether the plugin declares `capability`.
    pub fn has_capability(&self, capability: &Capability) -> bool {
        self.capabilities.contains(capability)
    }
}

// ---------------------------------------------------------------------------
// describe-key
// ---------------------------------------------------------------------------

/// Request of `describe-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeKeyRequest {
    /// Contract version, `major.minor`.
    pub contract_version: String,
    /// Key id from the user's key configuration.
    pub key_id: String,
    /// Optional plugin configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_config: Option<PluginConfig>,
}

impl Message for DescribeKeyRequest {
    const REQUIRED: &'static [&'static str] = &["contractVersion", "keyId"];
}

/// Response of `describe-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeKeyResponse {
    /// The key id of the request.
    pub key_id: String,
    /// Key type and size.
    pub key_spec: KeySpec,
}

impl Message for DescribeKeyResponse {
    const REQUIRED: &'static [&'static str] = &["keyId", "keySpec"];
}

// ---------------------------------------------------------------------------
// generate-signature
// ---------------------------------------------------------------------------

/// Request of `generate-signature`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSignatureRequest {
    /// Contract version, `major.minor`.
    pub contract_version: String,
    /// Key id from the user's key configuration.
    pub key_id: String,
    /// Optional plugin configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_config: Option<PluginConfig>,
    /// Key spec returned by `describe-key`.
    pub key_spec: KeySpec,
    /// Hash algorithm the plugin must digest the payload with.
    pub hash_algorithm: HashAlgorithm,
    /// The bytes to sign (base64 on the wire).
    #[serde(with = "b64")]
    pub payload: Vec<u8>,
}

impl Message for GenerateSignatureRequest {
    const REQUIRED: &'static [&'static str] = &[
        "contractVersion",
        "keyId",
        "keySpec",
        "hashAlgorithm",
        "payload",
    ];
}

/// Response of `generate-signature`; every field is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSignatureResponse {
    /// The key id of the request.
    pub key_id: String,
    /// The raw signature (base64 on the wire).
    #[serde(with = "b64")]
    pub signature: Vec<u8>,
    /// The algorithm the signature was made with.
    pub signing_algorithm: SigningAlgorithm,
    /// DER certificates, leaf first, root last (each base64 on the wire).
    #[serde(with = "b64_list")]
    pub certificate_chain: Vec<Vec<u8>>,
}

impl Message for GenerateSignatureResponse {
    const REQUIRED: &'static [&'static str] =
        &["keyId", "signature", "signingAlgorithm", "certificateChain"];

    fn check(&self) -> Result<(), PluginError> {
        non_empty(&self.certificate_chain, "certificateChain")
    }
}

// ---------------------------------------------------------------------------
// generate-envelope
// ---------------------------------------------------------------------------

/// Request of `generate-envelope`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateEnvelopeRequest {
    /// Contract version, `major.minor`.
    pub contract_version: String,
    /// Key id from the user's key configuration.
    pub key_id: String,
    /// Optional plugin configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_config: Option<PluginConfig>,
    /// Optional signature lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_duration_in_seconds: Option<u64>,
    /// The payload to sign (base64 on the wire).
    #[serde(with = "b64")]
    pub payload: Vec<u8>,
    /// Media type of the payload, e.g.
    /// `application/vnd.cncf.notary.payload.v1+json`.
    pub payload_type: String,
    /// Media type of the envelope wanted, e.g. `application/jose+json`.
    pub signature_envelope_type: String,
}

impl Message for GenerateEnvelopeRequest {
    const REQUIRED: &'static [&'static str] = &[
        "contractVersion",
        "keyId",
        "payload",
        "payloadType",
        "signatureEnvelopeType",
    ];
}

/// Response of `generate-envelope`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateEnvelopeResponse {
    /// The signature envelope (base64 on the wire).
    #[serde(with = "b64")]
    pub signature_envelope: Vec<u8>,
    /// Media type of the envelope; equals the request's.
    pub signature_envelope_type: String,
    /// Annotations for the signature manifest. Plugins should send it (an
    /// empty object when there are none); its absence reads as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Message for GenerateEnvelopeResponse {
    const REQUIRED: &'static [&'static str] = &["signatureEnvelope", "signatureEnvelopeType"];
}

// ---------------------------------------------------------------------------
// verify-signature
// ---------------------------------------------------------------------------

/// Request of `verify-signature`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifySignatureRequest {
    /// Contract version, `major.minor`.
    pub contract_version: String,
    /// What the host extracted from the signature envelope.
    pub signature: SignatureInfo,
    /// The parts of the applicable trust policy the plugin needs.
    pub trust_policy: TrustPolicyInfo,
    /// Optional plugin configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_config: Option<PluginConfig>,
}

impl Message for VerifySignatureRequest {
    const REQUIRED: &'static [&'static str] = &[
        "contractVersion",
        "signature",
        "signature.criticalAttributes",
        "signature.criticalAttributes.contentType",
        "signature.criticalAttributes.signingScheme",
        "signature.certificateChain",
        "trustPolicy",
        "trustPolicy.signatureVerification",
    ];

    fn check(&self) -> Result<(), PluginError> {
        non_empty(
            &self.trust_policy.signature_verification,
            "trustPolicy.signatureVerification",
        )
    }
}

/// The `signature` object of a `verify-signature` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureInfo {
    /// Critical attributes of the envelope, format-independent.
    pub critical_attributes: CriticalAttributes,
    /// Names of critical attributes the host does not understand and
    /// expects the plugin to process. `null` or absent reads as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub unprocessed_attributes: Vec<String>,
    /// DER certificates from the envelope, leaf first.
    #[serde(with = "b64_list")]
    pub certificate_chain: Vec<Vec<u8>>,
}

/// The Notary Project critical attributes of a signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CriticalAttributes {
    /// Payload content type.
    pub content_type: String,
    /// `notary.x509` or `notary.x509.signingAuthority`.
    pub signing_scheme: String,
    /// Signature expiry, if the signature has one (RFC 3339 on the wire).
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub expiry: Option<OffsetDateTime>,
    /// Authentic signing time (signing-authority scheme only).
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub authentic_signing_time: Option<OffsetDateTime>,
    /// Name of the verification plugin named by the signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_plugin: Option<String>,
    /// Minimum verification plugin version named by the signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_plugin_min_version: Option<String>,
    /// Critical extended attributes the host does not recognise; values
    /// are JSON primitives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_attributes: Option<BTreeMap<String, Value>>,
}

/// The `trustPolicy` object of a `verify-signature` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustPolicyInfo {
    /// Trusted identities of the applicable trust policy. `null` or absent
    /// reads as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub trusted_identities: Vec<String>,
    /// The verification capabilities the plugin must perform.
    pub signature_verification: Vec<Capability>,
}

/// Response of `verify-signature`; both fields are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifySignatureResponse {
    /// One result per requested verification capability.
    #[serde(serialize_with = "sorted_results")]
    pub verification_results: HashMap<Capability, VerificationResult>,
    /// Names of the unprocessed critical attributes the plugin processed.
    /// Plugins must send it; `null` or absent reads as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub processed_attributes: Vec<String>,
}

impl Message for VerifySignatureResponse {
    const REQUIRED: &'static [&'static str] = &["verificationResults"];

    fn check(&self) -> Result<(), PluginError> {
        for (capability, result) in &self.verification_results {
            if !result.success && result.reason.as_deref().unwrap_or("").is_empty() {
                let field = format!("verificationResults.{capability}.reason");
                return Err(PluginError::validation(
                    field.clone(),
                    format!("field `{field}` is required when success is false"),
                ));
            }
        }
        Ok(())
    }
}

/// The outcome of one verification capability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationResult {
    /// Whether the check passed.
    pub success: bool,
    /// Why; required when `success` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Message for PluginError {
    const REQUIRED: &'static [&'static str] = &["errorCode"];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(is_compatible_version("1.0"));
        assert!(!is_compatible_version("1.1"));
        assert!(!is_compatible_version("2.0"));
        assert!(!is_compatible_version("0.9"));
        assert!(!is_compatible_version("1"));
        assert!(!is_compatible_version("1.0.0"));
        assert!(!is_compatible_version("+1.0"));
        assert!(!is_compatible_version(""));
    }

    #[test]
    fn command_names_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::from_arg(c.as_str()), Some(c));
        }
        assert_eq!(Command::from_arg("sign"), None);
    }
}
