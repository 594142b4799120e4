//! The binary's top-level error: every module error the CLI can meet, plus the
//! CLI's own. `main` prints it once as `Error: ...` and exits with code 1
//! (usage errors are clap's and exit with code 2).

use std::path::PathBuf;

use notation_host::artifact::ArtifactError;
use notation_host::config::ConfigError;
use notation_host::plugin_manager::{InstallError, UninstallError};
use notation_host::registry::{CredentialError, RegistryError};
use notation_host::signing::SigningError;
use notation_host::trustpolicy::PolicyError;
use notation_host::truststore::TrustStoreError;
use notation_host::verifier::ArtifactFailure;

/// Everything a `notation` command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Configuration directory or file problem.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Trust store problem.
    #[error(transparent)]
    TrustStore(#[from] TrustStoreError),
    /// Trust policy problem.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// Signing failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// The artifact could not be opened.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// A registry or layout operation failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Storing or erasing credentials failed.
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// Verification could not start or found nothing to verify.
    #[error("signature verification failed: {0}")]
    Verification(#[from] ArtifactFailure),
    /// `plugin install` failed.
    #[error("plugin installation failed: {0}")]
    Install(#[from] InstallError),
    /// `plugin uninstall` failed.
    #[error(transparent)]
    Uninstall(#[from] UninstallError),
    /// Every signature failed verification.
    #[error("signature verification failed for all the signatures associated with {reference}: {reason}")]
    VerificationFailed {
        /// The artifact, by digest.
        reference: String,
        /// The most relevant failing check (the trust policy's validation
        /// name where there is one).
        check: String,
        /// Why it failed (`NAME validation failed. Failure reason: ...`).
        reason: String,
    },
    /// No trust policy statement applies to the artifact (upstream's words).
    #[error("signature verification failed: {source}")]
    NoApplicablePolicy {
        /// Why (names the repository or reference).
        source: PolicyError,
    },
    /// `--oci-layout` verification needs `--scope`.
    #[error("--scope is required with --oci-layout: it names the trust policy scope to verify the layout against, for example --scope local/hello-world")]
    MissingScope,
    /// A `{key}={value}` flag value without `=` or with an empty key.
    #[error("invalid value {value:?} for --{flag}: expected {{key}}={{value}}, for example --{flag} buildId=123")]
    KeyValueSyntax {
        /// The flag.
        flag: &'static str,
        /// The value given.
        value: String,
    },
    /// The same key given twice to a `{key}={value}` flag.
    #[error("duplicate key {key:?} in --{flag}: give each key once")]
    KeyValueDuplicate {
        /// The flag.
        flag: &'static str,
        /// The repeated key.
        key: String,
    },
    /// `--expiry` is not a duration.
    #[error("invalid --expiry {value:?}: use a positive duration such as 12h, 30m, 3h20m, 1.5h or 90s (units h, m, s, ms, us, ns)")]
    InvalidDuration {
        /// The value given.
        value: String,
    },
    /// A file could not be read or written.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing to standard output or reading from standard input failed.
    #[error("cannot use the terminal: {0}")]
    Terminal(#[source] std::io::Error),
    /// An OpenSSL operation failed.
    #[error("{what} failed: {source}")]
    Crypto {
        /// The operation.
        what: &'static str,
        /// The cause.
        source: openssl::error::ErrorStack,
    },
    /// A generate-test name is already used somewhere.
    #[error("{what} {} already exists. Pick another name, or remove the old test key with `notation certificate cleanup-test {name}`", path.display())]
    TestKeyExists {
        /// The test key name.
        name: String,
        /// What exists.
        what: &'static str,
        /// Where.
        path: PathBuf,
    },
    /// Some certificate files could not be added.
    #[error("failed to add the following certificates to named store {store} of type {store_type}:\n{}", failures.iter().map(|(p, e)| format!("{p}: {e}")).collect::<Vec<_>>().join("\n"))]
    CertAddFailed {
        /// Store type.
        store_type: String,
        /// Store name.
        store: String,
        /// (file, reason) per failure.
        failures: Vec<(String, String)>,
    },
    /// A certificate file in the trust store could not be shown.
    #[error("failed to show details of certificate {file}: {reason}")]
    CertShow {
        /// The file name.
        file: String,
        /// Why.
        reason: String,
    },
    /// cleanup-test met errors.
    #[error("failed to clean up the test key {name} and its corresponding certificate: {}", reasons.join("; "))]
    CleanupFailed {
        /// The test key name.
        name: String,
        /// Each failure.
        reasons: Vec<String>,
    },
    /// The trust policy file in effect is invalid (upstream's wording).
    #[error("existing OCI trust policy configuration is invalid, you may update or create a new one via `notation policy import <path-to-policy.json>`: {} : {source}", path.display())]
    InvalidExistingPolicy {
        /// The file.
        path: PathBuf,
        /// Why.
        source: PolicyError,
    },
    /// The blob trust policy file in effect is invalid (upstream's wording).
    #[error("existing blob trust policy configuration is invalid, you may update or create a new one via `notation blob policy import <path-to-policy.json>`: {} : {source}", path.display())]
    InvalidExistingBlobPolicy {
        /// The file.
        path: PathBuf,
        /// Why.
        source: notation_host::trustpolicy::blob::BlobPolicyError,
    },
    /// A policy file to import could not be used.
    #[error("failed to import trust policy from {}: {source}", path.display())]
    PolicyImport {
        /// The file given.
        path: PathBuf,
        /// Why.
        source: PolicyError,
    },
    /// A `--trust-store` value is not `{type}:{name}`.
    #[error("invalid --trust-store {value:?}: expected {{type}}:{{name}} with type ca, signingAuthority or tsa, for example ca:wabbit-networks.io")]
    TrustStoreRefSyntax {
        /// The value given.
        value: String,
    },
    /// `key add` without a key id.
    #[error("missing key id: --id must name the key inside the plugin")]
    MissingKeyId,
    /// Serialising a document we built failed.
    #[error("cannot encode the {what}: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why.
        source: serde_json::Error,
    },
    /// The plugin directory could not be listed.
    #[error("cannot list plugins: {0}")]
    PluginList(#[source] notation_plugin_sdk::client::ClientError),
    /// A plugin named by the user is not installed or not usable.
    #[error("plugin {name:?} is not installed or not usable: {source}. To view a list of installed plugins, use `notation plugin list`")]
    PluginNotInstalled {
        /// The plugin name.
        name: String,
        /// Why it cannot be used.
        source: notation_plugin_sdk::client::ClientError,
    },
    /// `config.json` names a signature format we do not know.
    #[error("config.json sets an unknown \"signatureFormat\" {value:?}: use \"jws\" or \"cose\", or pass --signature-format")]
    UnknownSignatureFormat {
        /// The configured value.
        value: String,
    },
    /// `login` got no password.
    #[error("missing credentials: notation login needs a password (or identity token); give --username with --password or --password-stdin, set NOTATION_USERNAME and NOTATION_PASSWORD, or run it in a terminal to be prompted")]
    MissingLoginCredentials,
    /// A `blob` command failed.
    #[error(transparent)]
    Blob(#[from] notation_host::blob::BlobError),
    /// The blob trust policy is invalid or names no usable statement.
    #[error(transparent)]
    BlobPolicy(#[from] notation_host::trustpolicy::blob::BlobPolicyError),
    /// `login` has nowhere safe to store the credentials.
    #[error(transparent)]
    CredentialStore(#[from] notation_host::registry::credentials::StoreError),
}

impl CliError {
    /// Wraps an I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CliError {
        let path = path.into();
        move |source| CliError::Io { path, source }
    }

    /// `verify`'s statement lookup error: upstream prefixes a missing
    /// applicable statement with `signature verification failed: ` and names
    /// the artifact reference (`reference` when it has a digest).
    pub fn statement_lookup(reference: &str) -> impl FnOnce(PolicyError) -> CliError + '_ {
        move |e| match e {
            PolicyError::NoApplicableStatement { repository } => CliError::NoApplicablePolicy {
                source: PolicyError::NoApplicableStatement {
                    repository: if reference.contains('@') {
                        reference.to_string()
                    } else {
                        repository
                    },
                },
            },
            other => CliError::Policy(other),
        }
    }

    /// Wraps an OpenSSL error.
    pub fn crypto(what: &'static str) -> impl FnOnce(openssl::error::ErrorStack) -> CliError {
        move |source| CliError::Crypto { what, source }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Terminal(e)
    }
}
