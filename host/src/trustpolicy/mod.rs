//! OCI trust policy documents (version 1.0): parsing, validation and
//! statement selection.
//!
//! API overview:
//! * [`TrustPolicyDocument`]: the JSON document as written (serde; used by
//!   `notation policy show/import` to round-trip). [`TrustPolicyDocument::validate`]
//!   turns it into a [`TrustPolicy`] or a [`PolicyError`].
//! * [`TrustPolicy::from_json`] parses and validates bytes;
//!   [`TrustPolicy::load`] reads `{config}/trustpolicy.oci.json`, or
//!   `{config}/trustpolicy.json` only when the former is absent
//!   ([`oci_policy_path`] tells which file applies).
//! * [`TrustPolicy::select`] picks the statement for a repository
//!   (`registry/repository`, or the `--scope` of an OCI layout): a statement
//!   listing it exactly, else the global `*` statement, else
//!   [`PolicyError::NoApplicableStatement`].
//! * A validated [`PolicyStatement`] exposes [`VerificationSettings`]
//!   ([`VerificationSettings::action`] per [`ValidationKind`]), typed trust
//!   store references and [`TrustedIdentities`].
//!
//! Every validation error is [`PolicyError::InvalidStatement`] naming the
//! statement, the field ([`Field`]) and the [`Problem`], or a document-level
//! variant. The rules enforced are listed in `spec/trust-policy.md`.

pub mod blob;
pub mod dn;

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::truststore::{is_valid_store_name, StoreRef, StoreType};
use dn::{DistinguishedName, DnError};

/// The only supported document version.
pub const POLICY_VERSION: &str = "1.0";
/// File name of the OCI trust policy.
pub const OCI_POLICY_FILE: &str = "trustpolicy.oci.json";
/// Legacy file name, read only when [`OCI_POLICY_FILE`] is absent.
pub const LEGACY_POLICY_FILE: &str = "trustpolicy.json";
/// Largest policy file read (1 MiB).
pub const MAX_POLICY_SIZE: u64 = 1 << 20;

/// The trust policy document exactly as written in JSON. Unknown fields are
/// ignored; missing fields are reported by [`TrustPolicyDocument::validate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustPolicyDocument {
    /// `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `trustPolicies`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_policies: Option<Vec<StatementDocument>>,
}

/// One statement of [`TrustPolicyDocument`], as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementDocument {
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `registryScopes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_scopes: Option<Vec<String>>,
    /// `signatureVerification`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_verification: Option<SignatureVerificationDocument>,
    /// `trustStores`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_stores: Option<Vec<String>>,
    /// `trustedIdentities`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_identities: Option<Vec<String>>,
}

/// `signatureVerification` as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureVerificationDocument {
    /// `level`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// `override`.
    #[serde(default, rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_map: Option<BTreeMap<String, String>>,
    /// `verifyTimestamp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_timestamp: Option<String>,
}

/// A predefined verification level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerificationLevel {
    /// Every validation enforced.
    Strict,
    /// Authentic timestamp, expiry and revocation logged.
    Permissive,
    /// Only integrity enforced.
    Audit,
    /// Nothing verified.
    Skip,
}

impl VerificationLevel {
    /// The policy spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationLevel::Strict => "strict",
            VerificationLevel::Permissive => "permissive",
            VerificationLevel::Audit => "audit",
            VerificationLevel::Skip => "skip",
        }
    }

    fn parse(s: &str) -> Option<VerificationLevel> {
        [Self::Strict, Self::Permissive, Self::Audit, Self::Skip]
            .into_iter()
            .find(|l| l.as_str() == s)
    }

    /// The action this level assigns to a validation before overrides.
    pub fn default_action(self, kind: ValidationKind) -> Action {
        use ValidationKind as K;
        match self {
            VerificationLevel::Skip => Action::Skip,
            VerificationLevel::Strict => Action::Enforce,
            VerificationLevel::Permissive => match kind {
                K::Integrity | K::Authenticity => Action::Enforce,
                K::AuthenticTimestamp | K::Expiry | K::Revocation => Action::Log,
            },
            VerificationLevel::Audit => match kind {
                K::Integrity => Action::Enforce,
                _ => Action::Log,
            },
        }
    }
}

impl fmt::Display for VerificationLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The validations whose action a level (and `override`) decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValidationKind {
    /// `integrity` (cannot be overridden).
    Integrity,
    /// `authenticity` (also governs the trusted-identity check).
    Authenticity,
    /// `authenticTimestamp`.
    AuthenticTimestamp,
    /// `expiry`.
    Expiry,
    /// `revocation`.
    Revocation,
}

impl ValidationKind {
    /// The `override` key.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationKind::Integrity => "integrity",
            ValidationKind::Authenticity => "authenticity",
            ValidationKind::AuthenticTimestamp => "authenticTimestamp",
            ValidationKind::Expiry => "expiry",
            ValidationKind::Revocation => "revocation",
        }
    }
}

/// What a failed validation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A failure fails the signature.
    Enforce,
    /// A failure is recorded and verification continues.
    Log,
    /// The validation is not performed.
    Skip,
}

impl Action {
    /// The `override` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Enforce => "enforce",
            Action::Log => "log",
            Action::Skip => "skip",
        }
    }
}

/// `verifyTimestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VerifyTimestamp {
    /// `always` (default).
    #[default]
    Always,
    /// `afterCertExpiry`: only when a certificate of the chain has expired.
    AfterCertExpiry,
}

/// A statement's verification settings: level, overrides applied, timestamp mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationSettings {
    /// The base level.
    pub level: VerificationLevel,
    /// Overrides as given (validated).
    pub overrides: BTreeMap<ValidationKind, Action>,
    /// `verifyTimestamp`.
    pub verify_timestamp: VerifyTimestamp,
}

impl VerificationSettings {
    /// The effective action of a validation (level, then override).
    pub fn action(&self, kind: ValidationKind) -> Action {
        if self.level == VerificationLevel::Skip {
            return Action::Skip;
        }
        self.overrides
            .get(&kind)
            .copied()
            .unwrap_or_else(|| self.level.default_action(kind))
    }
}

/// `trustedIdentities` after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedIdentities {
    /// `["*"]`: any certificate chaining to the trust stores.
    Any,
    /// `x509.subject:` identities: the signing certificate's subject must
    /// contain every attribute of one of them with an equal value.
    Subjects(Vec<DistinguishedName>),
}

/// `registryScopes` after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scopes {
    /// `["*"]`.
    Global,
    /// Fully qualified repositories.
    Repositories(Vec<String>),
}

/// A validated policy statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyStatement {
    /// `name`.
    pub name: String,
    /// `registryScopes`.
    pub scopes: Scopes,
    /// `signatureVerification`.
    pub verification: VerificationSettings,
    /// `trustStores` (empty for `skip`).
    pub trust_stores: Vec<StoreRef>,
    /// `trustedIdentities` as typed values (`Subjects(vec![])` for `skip`).
    pub trusted_identities: TrustedIdentities,
    /// `trustedIdentities` exactly as written (passed to verification plugins).
    pub trusted_identities_raw: Vec<String>,
}

/// A validated trust policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicy {
    /// The statements, in document order.
    pub statements: Vec<PolicyStatement>,
}

/// A field of a statement, named as in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `name`.
    Name,
    /// `registryScopes`.
    RegistryScopes,
    /// `signatureVerification`.
    SignatureVerification,
    /// `signatureVerification.level`.
    Level,
    /// `signatureVerification.override`.
    Override,
    /// `signatureVerification.verifyTimestamp`.
    VerifyTimestamp,
    /// `trustStores`.
    TrustStores,
    /// `trustedIdentities`.
    TrustedIdentities,
}

impl Field {
    /// The JSON path of the field inside a statement.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::RegistryScopes => "registryScopes",
            Field::SignatureVerification => "signatureVerification",
            Field::Level => "signatureVerification.level",
            Field::Override => "signatureVerification.override",
            Field::VerifyTimestamp => "signatureVerification.verifyTimestamp",
            Field::TrustStores => "trustStores",
            Field::TrustedIdentities => "trustedIdentities",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with a statement field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A required field is missing (or empty).
    #[error("is required and must not be empty")]
    Missing,
    /// Another statement has the same name.
    #[error("the name is used by more than one statement; statement names must be unique")]
    DuplicateName,
    /// `*` combined with other scopes.
    #[error("the wildcard scope '*' must be the only scope of its statement")]
    WildcardWithOthers,
    /// A scope is not a fully qualified repository.
    #[error("scope {scope:?} is not a fully qualified repository (e.g. registry.example.com/team/app or local/layout) without tag, digest or wildcard")]
    InvalidScope {
        /// The scope.
        scope: String,
    },
    /// A scope appears twice in the same statement.
    #[error("scope {scope:?} is listed more than once")]
    DuplicateScope {
        /// The scope.
        scope: String,
    },
    /// A scope is used by another statement too.
    #[error("scope {scope:?} is also used by statement {other_statement:?}; a scope can belong to one statement only")]
    ScopeInMultipleStatements {
        /// The scope.
        scope: String,
        /// The other statement.
        other_statement: String,
    },
    /// Two statements use the global scope.
    #[error(
        "statement {other_statement:?} also uses the global scope '*'; only one statement may"
    )]
    MultipleGlobalStatements {
        /// The other statement.
        other_statement: String,
    },
    /// Unknown level.
    #[error("unknown level {level:?}; use strict, permissive, audit or skip")]
    UnknownLevel {
        /// The level.
        level: String,
    },
    /// `override` is used with `skip`.
    #[error("level 'skip' cannot be customized with 'override'")]
    OverrideWithSkip,
    /// `skip` statement also lists trust stores or identities.
    #[error("a statement with level 'skip' must not configure trust stores or trusted identities; remove them")]
    SkipWithTrustSettings,
    /// `integrity` cannot be overridden.
    #[error("'integrity' cannot be overridden; it is always enforced")]
    IntegrityOverride,
    /// Unknown override key.
    #[error(
        "unknown validation {key:?}; use authenticity, authenticTimestamp, expiry or revocation"
    )]
    UnknownOverrideKey {
        /// The key.
        key: String,
    },
    /// Override value not allowed for its key.
    #[error("value {value:?} is not allowed for {key:?}; use enforce or log (revocation also allows skip)")]
    InvalidOverrideValue {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Unknown `verifyTimestamp`.
    #[error("unknown value {value:?}; use always or afterCertExpiry")]
    UnknownVerifyTimestamp {
        /// The value.
        value: String,
    },
    /// Trust store reference not of the form `type:name`.
    #[error("trust store {value:?} is not of the form TYPE:NAME")]
    InvalidTrustStoreRef {
        /// The reference.
        value: String,
    },
    /// Unknown trust store type.
    #[error(
        "trust store {value:?} has unknown type {store_type:?}; use ca, signingAuthority or tsa"
    )]
    UnknownTrustStoreType {
        /// The reference.
        value: String,
        /// The type part.
        store_type: String,
    },
    /// Invalid trust store name.
    #[error("trust store {value:?} has an invalid name; use letters, digits, '_', '.' and '-'")]
    InvalidTrustStoreName {
        /// The reference.
        value: String,
    },
    /// `*` combined with other identities.
    #[error("the wildcard identity '*' must be the only trusted identity of its statement")]
    WildcardIdentityWithOthers,
    /// Identity without a known prefix.
    #[error("identity {identity:?} must be '*' or start with 'x509.subject:'")]
    UnknownIdentityType {
        /// The identity.
        identity: String,
    },
    /// The DN does not parse.
    #[error("identity {identity:?} is not a valid distinguished name: {source}")]
    InvalidDistinguishedName {
        /// The identity.
        identity: String,
        /// Why.
        #[source]
        source: DnError,
    },
    /// The DN lacks C, ST or O.
    #[error("identity {identity:?} lacks the {attribute} attribute; identities must contain C, ST (or S) and O")]
    MissingRequiredAttribute {
        /// The identity.
        identity: String,
        /// The missing attribute type.
        attribute: &'static str,
    },
    /// Two identities overlap (one's attributes are a subset of the other's).
    #[error("identities {first:?} and {second:?} overlap: a certificate could match both")]
    OverlappingIdentities {
        /// One identity.
        first: String,
        /// The other.
        second: String,
    },
    /// The same identity is listed twice.
    #[error("identity {identity:?} is listed more than once")]
    DuplicateIdentity {
        /// The identity.
        identity: String,
    },
}

/// Why a trust policy could not be loaded, validated or applied.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Neither policy file exists.
    #[error("trust policy is not present. To create a trust policy, see: {TRUST_POLICY_LINK} (looked for {} and {}; create one with `notation policy import <path-to-policy.json>`)", oci.display(), legacy.display())]
    NotFound {
        /// The OCI policy path looked for.
        oci: PathBuf,
        /// The legacy path looked for.
        legacy: PathBuf,
    },
    /// Reading failed.
    #[error("cannot read trust policy {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// File larger than [`MAX_POLICY_SIZE`].
    #[error("trust policy {} is larger than {MAX_POLICY_SIZE} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// Not JSON of the expected shape.
    #[error(
        "malformed trust policy. To create a trust policy, see: {TRUST_POLICY_LINK} ({source})"
    )]
    Json {
        /// The error.
        #[source]
        source: serde_json::Error,
    },
    /// `version` missing or not `1.0`.
    #[error("{}", match version {
        None => "trust policy document has empty version, version must be specified (set \"version\": \"1.0\")".to_string(),
        Some(v) => format!("trust policy document uses unsupported version {v:?} (set \"version\": \"1.0\")"),
    })]
    UnsupportedVersion {
        /// The version found (`None` when missing).
        version: Option<String>,
    },
    /// `trustPolicies` missing or empty.
    #[error("trust policy document can not have zero trust policy statements (add at least one entry to \"trustPolicies\")")]
    NoStatements,
    /// A statement is invalid.
    #[error("{}", statement_message(statement, *field, problem))]
    InvalidStatement {
        /// Statement name (or `#N`, its 1-based position, when unnamed).
        statement: String,
        /// The field.
        field: Field,
        /// What is wrong.
        problem: Problem,
    },
    /// No statement applies to the repository.
    #[error("artifact {repository:?} has no applicable trust policy. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: {TRUST_POLICY_LINK}")]
    NoApplicableStatement {
        /// The repository looked up.
        repository: String,
    },
}

/// Upstream's link for creating a trust policy, quoted in its messages.
pub const TRUST_POLICY_LINK: &str =
    "https://notaryproject.dev/docs/quickstart/#create-a-trust-policy";

/// The message for an invalid statement: upstream's words for the rule
/// (notation-go's trust policy validation), then ours (`field F: problem`).
fn statement_message(statement: &str, field: Field, problem: &Problem) -> String {
    let ours = format!("field {field}: {problem}");
    let upstream = match (problem, field) {
        (Problem::Missing, Field::Name) => {
            "a trust policy statement is missing a name, every statement requires a name"
                .to_string()
        }
        (Problem::Missing, Field::RegistryScopes) => format!(
            "trust policy statement {statement:?} has zero registry scopes, it must specify registry scopes with at least one value"
        ),
        (Problem::Missing, Field::TrustStores | Field::TrustedIdentities) => format!(
            "trust policy statement {statement:?} is either missing trust stores or trusted identities, both must be specified"
        ),
        (Problem::Missing, Field::SignatureVerification | Field::Level) => format!(
            "trust policy statement {statement:?} has invalid signatureVerification: signature verification level is empty or missing in the trust policy statement"
        ),
        (Problem::DuplicateName, _) => format!(
            "multiple trust policy statements use the same name {statement:?}, statement names must be unique"
        ),
        (Problem::WildcardWithOthers, _) => format!(
            "trust policy statement {statement:?} uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values"
        ),
        (Problem::InvalidScope { scope }, _) if scope.contains('*') => format!(
            "registry scope {scope:?} with wild card(s) is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout"
        ),
        (Problem::InvalidScope { scope }, _) => format!(
            "registry scope {scope:?} is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout"
        ),
        (Problem::DuplicateScope { scope }, _)
        | (Problem::ScopeInMultipleStatements { scope, .. }, _) => format!(
            "registry scope {scope:?} is present in multiple trust policy statements, one registry scope value can only be associated with one statement"
        ),
        (Problem::MultipleGlobalStatements { .. }, _) => {
            "registry scope \"*\" is present in multiple trust policy statements, one registry scope value can only be associated with one statement".to_string()
        }
        (Problem::UnknownLevel { level }, _) => format!(
            "trust policy statement {statement:?} has invalid signatureVerification: invalid signature verification level {level:?}"
        ),
        (Problem::OverrideWithSkip, _) => format!(
            "trust policy statement {statement:?} has invalid signatureVerification: signature verification level \"skip\" can't be used to customize signature verification"
        ),
        (Problem::SkipWithTrustSettings, _) => format!(
            "trust policy statement {statement:?} is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped"
        ),
        (Problem::IntegrityOverride, _) => format!(
            "trust policy statement {statement:?} has invalid signatureVerification: \"integrity\" verification can not be overridden in custom signature verification"
        ),
        (Problem::UnknownOverrideKey { key }, _) => format!(
            "trust policy statement {statement:?} has invalid signatureVerification: verification type {key:?} in custom signature verification is not supported, supported values are [\"integrity\" \"authenticity\" \"authenticTimestamp\" \"expiry\" \"revocation\"]"
        ),
        (Problem::InvalidOverrideValue { key, value }, _)
            if matches!(value.as_str(), "enforce" | "log" | "skip") =>
        {
            format!(
                "trust policy statement {statement:?} has invalid signatureVerification: {key:?} verification can not be skipped in custom signature verification"
            )
        }
        (Problem::InvalidOverrideValue { value, .. }, _) => format!(
            "trust policy statement {statement:?} has invalid signatureVerification: verification action {value:?} in custom signature verification is not supported, supported values are [\"enforce\" \"log\" \"skip\"]"
        ),
        (Problem::InvalidTrustStoreRef { value }, _) => format!(
            "trust policy statement {statement:?} has malformed trust store value {value:?}. The required format is <TrustStoreType>:<TrustStoreName>"
        ),
        (Problem::UnknownTrustStoreType { value, store_type }, _) => format!(
            "trust policy statement {statement:?} uses an unsupported trust store type {store_type:?} in trust store value {value:?}"
        ),
        (Problem::InvalidTrustStoreName { value }, _) => {
            let name = value.split_once(':').map(|(_, n)| n).unwrap_or(value);
            format!(
                "trust policy statement {statement:?} uses an unsupported trust store name {name:?} in trust store value {value:?}. Named store name needs to follow [a-zA-Z0-9_.-]+ format"
            )
        }
        (Problem::WildcardIdentityWithOthers, _) => format!(
            "trust policy statement {statement:?} uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values"
        ),
        (Problem::UnknownIdentityType { identity }, _) if identity.is_empty() => {
            format!("trust policy statement {statement:?} has an empty trusted identity")
        }
        (Problem::UnknownIdentityType { identity }, _) if !identity.contains(':') => format!(
            "trust policy statement {statement:?} has trusted identity {identity:?} missing separator"
        ),
        (Problem::InvalidDistinguishedName { identity, .. }, _)
            if identity.split_once(':').is_some_and(|(_, v)| v.is_empty()) =>
        {
            format!(
                "trust policy statement {statement:?} has trusted identity {identity:?} without an identity value"
            )
        }
        (Problem::InvalidDistinguishedName { identity, source }, _) => format!(
            "trust policy statement {statement:?} has trusted identity {identity:?} with invalid identity value: {source}"
        ),
        (
            Problem::MissingRequiredAttribute {
                identity,
                attribute,
            },
            _,
        ) => {
            let dn = identity.split_once(':').map(|(_, v)| v).unwrap_or(identity);
            format!(
                "trust policy statement {statement:?} has trusted identity {identity:?} with invalid identity value: distinguished name (DN) {dn:?} has no mandatory RDN attribute for {attribute:?}, it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum"
            )
        }
        (Problem::OverlappingIdentities { first, second }, _) => format!(
            "trust policy statement {statement:?} has overlapping x509 trustedIdentities, {first:?} overlaps with {second:?}"
        ),
        (Problem::DuplicateIdentity { identity }, _) => format!(
            "trust policy statement {statement:?} has overlapping x509 trustedIdentities, {identity:?} overlaps with {identity:?}"
        ),
        _ => return format!("trust policy statement {statement:?}: {ours}"),
    };
    format!("{upstream} (statement {statement:?}, {ours})")
}

/// Which policy file applies in `config_dir`: the OCI file if it exists
/// (even if broken), else the legacy file if it exists, else `None`.
pub fn oci_policy_path(config_dir: &Path) -> Option<PathBuf> {
    let oci = config_dir.join(OCI_POLICY_FILE);
    if fs::symlink_metadata(&oci).is_ok() {
        return Some(oci);
    }
    let legacy = config_dir.join(LEGACY_POLICY_FILE);
    fs::symlink_metadata(&legacy).is_ok().then_some(legacy)
}

impl TrustPolicyDocument {
    /// Parses JSON (no validation).
    pub fn from_json(bytes: &[u8]) -> Result<TrustPolicyDocument, PolicyError> {
        serde_json::from_slice(bytes).map_err(|source| PolicyError::Json { source })
    }

    /// Validates every rule and returns the typed policy.
    pub fn validate(&self) -> Result<TrustPolicy, PolicyError> {
        match self.version.as_deref() {
            Some(POLICY_VERSION) => {}
            other => {
                return Err(PolicyError::UnsupportedVersion {
                    version: other.map(str::to_string),
                })
            }
        }
        let docs = match &self.trust_policies {
            Some(list) if !list.is_empty() => list,
            _ => return Err(PolicyError::NoStatements),
        };
        let mut statements: Vec<PolicyStatement> = Vec::with_capacity(docs.len());
        for (index, doc) in docs.iter().enumerate() {
            let statement = validate_statement(index, doc)?;
            let err = |field, problem| PolicyError::InvalidStatement {
                statement: statement.name.clone(),
                field,
                problem,
            };
            for other in &statements {
                if other.name == statement.name {
                    return Err(err(Field::Name, Problem::DuplicateName));
                }
                match (&statement.scopes, &other.scopes) {
                    (Scopes::Global, Scopes::Global) => {
                        return Err(err(
                            Field::RegistryScopes,
                            Problem::MultipleGlobalStatements {
                                other_statement: other.name.clone(),
                            },
                        ))
                    }
                    (Scopes::Repositories(mine), Scopes::Repositories(theirs)) => {
                        if let Some(scope) = mine.iter().find(|s| theirs.contains(s)) {
                            return Err(err(
                                Field::RegistryScopes,
                                Problem::ScopeInMultipleStatements {
                                    scope: scope.clone(),
                                    other_statement: other.name.clone(),
                                },
                            ));
                        }
                    }
                    _ => {}
                }
            }
            statements.push(statement);
        }
        Ok(TrustPolicy { statements })
    }
}

fn validate_statement(
    index: usize,
    doc: &StatementDocument,
) -> Result<PolicyStatement, PolicyError> {
    let label = match doc.name.as_deref() {
        Some(n) if !n.trim().is_empty() => n.to_string(),
        _ => format!("#{}", index + 1),
    };
    let err = |field, problem| PolicyError::InvalidStatement {
        statement: label.clone(),
        field,
        problem,
    };
    let name = match doc.name.as_deref() {
        Some(n) if !n.trim().is_empty() => n.to_string(),
        _ => return Err(err(Field::Name, Problem::Missing)),
    };

    // registryScopes
    let scopes_raw = match &doc.registry_scopes {
        Some(s) if !s.is_empty() => s,
        _ => return Err(err(Field::RegistryScopes, Problem::Missing)),
    };
    let scopes = if scopes_raw.iter().any(|s| s.contains('*')) {
        if scopes_raw.len() != 1 {
            return Err(err(Field::RegistryScopes, Problem::WildcardWithOthers));
        }
        if scopes_raw[0] != "*" {
            return Err(err(
                Field::RegistryScopes,
                Problem::InvalidScope {
                    scope: scopes_raw[0].clone(),
                },
            ));
        }
        Scopes::Global
    } else {
        let mut seen: Vec<String> = Vec::new();
        for s in scopes_raw {
            if !is_valid_repository_scope(s) {
                return Err(err(
                    Field::RegistryScopes,
                    Problem::InvalidScope { scope: s.clone() },
                ));
            }
            if seen.contains(s) {
                return Err(err(
                    Field::RegistryScopes,
                    Problem::DuplicateScope { scope: s.clone() },
                ));
            }
            seen.push(s.clone());
        }
        Scopes::Repositories(seen)
    };

    // signatureVerification
    let sv = doc
        .signature_verification
        .as_ref()
        .ok_or_else(|| err(Field::SignatureVerification, Problem::Missing))?;
    let level_raw = sv
        .level
        .as_deref()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| err(Field::Level, Problem::Missing))?;
    let level = VerificationLevel::parse(level_raw).ok_or_else(|| {
        err(
            Field::Level,
            Problem::UnknownLevel {
                level: level_raw.to_string(),
            },
        )
    })?;
    let mut overrides = BTreeMap::new();
    if let Some(map) = &sv.override_map {
        if level == VerificationLevel::Skip && !map.is_empty() {
            return Err(err(Field::Override, Problem::OverrideWithSkip));
        }
        for (key, value) in map {
            let kind = match key.as_str() {
                "integrity" => return Err(err(Field::Override, Problem::IntegrityOverride)),
                "authenticity" => ValidationKind::Authenticity,
                "authenticTimestamp" => ValidationKind::AuthenticTimestamp,
                "expiry" => ValidationKind::Expiry,
                "revocation" => ValidationKind::Revocation,
                _ => {
                    return Err(err(
                        Field::Override,
                        Problem::UnknownOverrideKey { key: key.clone() },
                    ))
                }
            };
            let action = match (value.as_str(), kind) {
                ("enforce", _) => Action::Enforce,
                ("log", _) => Action::Log,
                ("skip", ValidationKind::Revocation) => Action::Skip,
                _ => {
                    return Err(err(
                        Field::Override,
                        Problem::InvalidOverrideValue {
                            key: key.clone(),
                            value: value.clone(),
                        },
                    ))
                }
            };
            overrides.insert(kind, action);
        }
    }
    let verify_timestamp = match sv.verify_timestamp.as_deref() {
        None | Some("always") => VerifyTimestamp::Always,
        Some("afterCertExpiry") => VerifyTimestamp::AfterCertExpiry,
        Some(other) => {
            return Err(err(
                Field::VerifyTimestamp,
                Problem::UnknownVerifyTimestamp {
                    value: other.to_string(),
                },
            ))
        }
    };
    let verification = VerificationSettings {
        level,
        overrides,
        verify_timestamp,
    };

    let stores_raw = doc.trust_stores.as_deref().unwrap_or(&[]);
    let identities_raw = doc.trusted_identities.as_deref().unwrap_or(&[]);
    if level == VerificationLevel::Skip {
        // `skip` with the global scope breaks a rule of the specification
        // but upstream accepts it: accepted, with a warning
        // (`TrustPolicy::warnings`).
        if !stores_raw.is_empty() {
            return Err(err(Field::TrustStores, Problem::SkipWithTrustSettings));
        }
        if !identities_raw.is_empty() {
            return Err(err(
                Field::TrustedIdentities,
                Problem::SkipWithTrustSettings,
            ));
        }
        return Ok(PolicyStatement {
            name,
            scopes,
            verification,
            trust_stores: Vec::new(),
            trusted_identities: TrustedIdentities::Subjects(Vec::new()),
            trusted_identities_raw: Vec::new(),
        });
    }

    // trustStores
    if stores_raw.is_empty() {
        return Err(err(Field::TrustStores, Problem::Missing));
    }
    let mut trust_stores: Vec<StoreRef> = Vec::new();
    for value in stores_raw {
        let Some((t, n)) = value.split_once(':') else {
            return Err(err(
                Field::TrustStores,
                Problem::InvalidTrustStoreRef {
                    value: value.clone(),
                },
            ));
        };
        let store_type = StoreType::parse(t).ok_or_else(|| {
            err(
                Field::TrustStores,
                Problem::UnknownTrustStoreType {
                    value: value.clone(),
                    store_type: t.to_string(),
                },
            )
        })?;
        if !is_valid_store_name(n) {
            return Err(err(
                Field::TrustStores,
                Problem::InvalidTrustStoreName {
                    value: value.clone(),
                },
            ));
        }
        let r = StoreRef {
            store_type,
            name: n.to_string(),
        };
        if !trust_stores.contains(&r) {
            trust_stores.push(r);
        }
    }

    // trustedIdentities
    if identities_raw.is_empty() {
        return Err(err(Field::TrustedIdentities, Problem::Missing));
    }
    let trusted_identities = if identities_raw.iter().any(|i| i.trim() == "*") {
        if identities_raw.len() != 1 {
            return Err(err(
                Field::TrustedIdentities,
                Problem::WildcardIdentityWithOthers,
            ));
        }
        TrustedIdentities::Any
    } else {
        let mut parsed: Vec<(String, DistinguishedName)> = Vec::new();
        for identity in identities_raw {
            let dn = parse_identity(identity).map_err(|p| err(Field::TrustedIdentities, p))?;
            for (other_raw, other) in &parsed {
                if other.is_subset_of(&dn) && dn.is_subset_of(other) {
                    return Err(err(
                        Field::TrustedIdentities,
                        Problem::DuplicateIdentity {
                            identity: identity.clone(),
                        },
                    ));
                }
                if other.is_subset_of(&dn) || dn.is_subset_of(other) {
                    return Err(err(
                        Field::TrustedIdentities,
                        Problem::OverlappingIdentities {
                            first: other_raw.clone(),
                            second: identity.clone(),
                        },
                    ));
                }
            }
            parsed.push((identity.clone(), dn));
        }
        TrustedIdentities::Subjects(parsed.into_iter().map(|(_, d)| d).collect())
    };

    Ok(PolicyStatement {
        name,
        scopes,
        verification,
        trust_stores,
        trusted_identities,
        trusted_identities_raw: identities_raw.to_vec(),
    })
}

/// Parses one `x509.subject: DN` identity and checks it has C, ST and O.
fn parse_identity(identity: &str) -> Result<DistinguishedName, Problem> {
    let Some((prefix, value)) = identity.split_once(':') else {
        return Err(Problem::UnknownIdentityType {
            identity: identity.to_string(),
        });
    };
    if prefix.trim() != "x509.subject" {
        return Err(Problem::UnknownIdentityType {
            identity: identity.to_string(),
        });
    }
    let dn =
        DistinguishedName::parse(value).map_err(|source| Problem::InvalidDistinguishedName {
            identity: identity.to_string(),
            source,
        })?;
    for attribute in ["C", "ST", "O"] {
        if dn.get(attribute).is_none() {
            return Err(Problem::MissingRequiredAttribute {
                identity: identity.to_string(),
                attribute,
            });
        }
    }
    Ok(dn)
}

fn is_domain_label(l: &str) -> bool {
    let b = l.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// Whether `scope` is a fully qualified repository: `domain[:port]/path`
/// where the domain is dot-separated alphanumeric labels (inner `-`
/// allowed) and the path is `/`-separated lower-case components using the
/// OCI distribution separators (`.`, `_`, `__`, `-`+). No tag, digest,
/// scheme or wildcard.
pub fn is_valid_repository_scope(scope: &str) -> bool {
    let Some((domain, repo)) = scope.split_once('/') else {
        return false;
    };
    let (host, port) = match domain.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (domain, None),
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    !host.is_empty()
        && host.split('.').all(is_domain_label)
        && !repo.is_empty()
        && repo.split('/').all(is_path_component)
}

impl TrustPolicy {
    /// Parses and validates a JSON document.
    pub fn from_json(bytes: &[u8]) -> Result<TrustPolicy, PolicyError> {
        TrustPolicyDocument::from_json(bytes)?.validate()
    }

    /// Reads and validates the OCI trust policy of `config_dir`
    /// (`trustpolicy.oci.json`, else `trustpolicy.json`). Returns the policy
    /// and the file it came from.
    pub fn load(config_dir: &Path) -> Result<(TrustPolicy, PathBuf), PolicyError> {
        let path = oci_policy_path(config_dir).ok_or_else(|| PolicyError::NotFound {
            oci: config_dir.join(OCI_POLICY_FILE),
            legacy: config_dir.join(LEGACY_POLICY_FILE),
        })?;
        let bytes = read_capped(&path)?;
        Ok((TrustPolicy::from_json(&bytes)?, path))
    }

    /// Warnings about a valid policy that breaks a rule of the
    /// specification upstream does not enforce: a `skip` statement with the
    /// global scope `*` (every artifact without a more specific statement is
    /// then accepted unverified). One line per problem, without `Warning: `.
    pub fn warnings(&self) -> Vec<String> {
        self.statements
            .iter()
            .filter(|s| s.scopes == Scopes::Global && s.verification.level == VerificationLevel::Skip)
            .map(|s| {
                format!(
                    "trust policy statement {:?} sets level \"skip\" for the global registry scope \"*\": signature verification is skipped for every artifact that no other statement names. The Notary Project trust policy specification (Signature Verification details, level skip) says \"skip cannot be used with a global scope (*)\"; list the repositories to skip in registryScopes instead",
                    s.name
                )
            })
            .collect()
    }

    /// The statement applying to `repository` (exact scope, then global).
    pub fn select(&self, repository: &str) -> Result<&PolicyStatement, PolicyError> {
        self.statements
            .iter()
            .find(|s| matches!(&s.scopes, Scopes::Repositories(r) if r.iter().any(|x| x == repository)))
            .or_else(|| self.statements.iter().find(|s| s.scopes == Scopes::Global))
            .ok_or_else(|| PolicyError::NoApplicableStatement {
                repository: repository.to_string(),
            })
    }
}

/// Reads a policy file, refusing files over [`MAX_POLICY_SIZE`].
pub fn read_capped(path: &Path) -> Result<Vec<u8>, PolicyError> {
    use std::io::Read;
    let read_err = |source| PolicyError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(MAX_POLICY_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_POLICY_SIZE {
        return Err(PolicyError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}
