//! The binary's top-level error: every module error the CLI can meet, plus the
//! CLI's own. `main` prints it once as `Error: ...` and exits with code 1
//! (usage errors too: `cli::usage` words them as upstream's cobra does).

use std::path::PathBuf;

use notation_host::artifact::ArtifactError;
use notation_host::config::ConfigError;
use notation_host::plugin_manager::{InstallError, UninstallError};
use notation_host::registry::{CredentialError, RegistryError};
use notation_host::signing::SigningError;
use notation_host::trustpolicy::PolicyError;
use notation_host::truststore::TrustStoreError;
use notation_host::verification::VerificationError;
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
    /// Verification through the library failed in a way the variants
    /// above do not cover (e.g. its deadline passed).
    #[error(transparent)]
    Verify(VerificationError),
    /// `plugin install` failed. Download problems are reported without the
    /// "plugin installation failed" prefix, as upstream does.
    #[error("{}", install_message(.0))]
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
    #[error("could not parse flag {flag}: key-value pair requires \"=\" as separator: {value:?} is not {{key}}={{value}}, for example --{flag} buildId=123")]
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
    /// A signature file name ending in `.sig` without a format part
    /// (upstream's words first).
    #[error("invalid signature filename {name}. A valid signature file name must contain signature format and .sig file extension, for example blob.jws.sig or blob.cose.sig")]
    InvalidSignatureFileName {
        /// The file name.
        name: String,
    },
    /// A signature file name `NAME.FORMAT.sig` with a format other than
    /// `jws` or `cose` (upstream's words first).
    #[error("signature format {format:?} not supported: a signature file is named {{blob}}.jws.sig or {{blob}}.cose.sig")]
    UnsupportedSignatureFileFormat {
        /// The format part of the name.
        format: String,
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
    /// Some certificate files could not be added (upstream's words).
    #[error("Failed to add following certificates to named store {store} of type {store_type}:\n{}", failures.iter().map(|(p, e)| format!("{p}, with error: {e}")).collect::<Vec<_>>().join("\n"))]
    CertAddFailed {
        /// Store type.
        store_type: String,
        /// Store name.
        store: String,
        /// (file, reason) per failure.
        failures: Vec<(String, String)>,
    },
    /// A certificate file in the trust store could not be shown.
    #[error("failed to show details of certificate {file}, with error: {reason}")]
    CertShow {
        /// The file name.
        file: String,
        /// Why.
        reason: String,
    },
    /// cleanup-test met errors (each reason starts with upstream's words for
    /// the step that failed).
    #[error("failed to clean up the test key {name} and its corresponding certificate:\n{}", reasons.join("\n"))]
    CleanupFailed {
        /// The test key name.
        name: String,
        /// Each failure.
        reasons: Vec<String>,
    },
    /// A named store name is not `[a-zA-Z0-9_.-]+` (upstream's words first).
    #[error("named store name needs to follow [a-zA-Z0-9_.-]+ format: {name:?} is not a valid store name (use only letters, digits, '_', '.' and '-')")]
    InvalidStoreName {
        /// The name given.
        name: String,
    },
    /// The key name given to cleanup-test is not `[a-zA-Z0-9_.-]+`.
    #[error("key name must follow [a-zA-Z0-9_.-]+ format: {name:?} is not a valid key name (use only letters, digits, '_', '.' and '-')")]
    InvalidKeyName {
        /// The name given.
        name: String,
    },
    /// `cert delete FILE` failed.
    #[error("failed to delete the certificate file: {0}")]
    CertDelete(#[source] TrustStoreError),
    /// `cert delete --all` failed.
    #[error("failed to delete the named trust store: {0}")]
    CertDeleteAll(#[source] TrustStoreError),
    /// The OCI trust policy file in effect is invalid (upstream's words).
    #[error("Existing OCI trust policy configuration is invalid, you may update or create a new one via `notation policy import <path-to-policy.json>`: {}: {source}", path.display())]
    InvalidExistingPolicy {
        /// The file.
        path: PathBuf,
        /// Why.
        source: PolicyError,
    },
    /// `policy show` / `blob policy show` without a policy file.
    #[error("failed to show {kind} trust policy as the trust policy file does not exist.\nYou can import one using `{import}`")]
    PolicyShowMissing {
        /// `OCI` or `blob`.
        kind: &'static str,
        /// The import command to suggest.
        import: &'static str,
    },
    /// `policy show` / `blob policy show` could not read the policy file.
    #[error("failed to show {kind}trust policy: {reason}")]
    PolicyShowRead {
        /// `OCI ` for `policy show`; empty for `blob policy show`, whose
        /// upstream message names no kind.
        kind: &'static str,
        /// Why, I/O causes worded as Go words them.
        reason: String,
    },
    /// `policy import` / `blob policy import` failed at `step`.
    #[error("failed to {step} {kind} trust policy configuration: {reason}")]
    PolicyImport {
        /// `OCI` or `blob`.
        kind: &'static str,
        /// The step that failed.
        step: ImportStep,
        /// Why, I/O causes worded as Go words them.
        reason: String,
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
    #[error("{source} (plugin {name:?} is not installed or not usable. To view a list of installed plugins, use `notation plugin list`)")]
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
    /// `login` got no password (or, without a username, no token).
    #[error("{what} required: notation login needs a password (or identity token); give --username with --password or --password-stdin, set NOTATION_USERNAME and NOTATION_PASSWORD, or answer the prompts")]
    MissingLoginCredentials {
        /// `password`, or `token` when no username was given.
        what: &'static str,
    },
    /// The registry refused the credentials given to `login`, or could not
    /// be reached (upstream's words first).
    #[error("failed to log in to {server}: {}{source}", if matches!(**source, RegistryError::Unauthorized { .. }) { "unauthorized: " } else { "" })]
    LoginFailed {
        /// The registry.
        server: String,
        /// Why.
        source: Box<RegistryError>,
    },
    /// A `blob` command failed (see [`blob_message`] for upstream's words).
    #[error("{}", blob_message(.0))]
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

/// The steps of `policy import`, named as upstream names them in its
/// messages (`failed to parse OCI trust policy configuration: ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStep {
    /// Reading the file given.
    Read,
    /// Parsing it as JSON.
    Parse,
    /// Checking the policy rules.
    Validate,
    /// Writing it into the configuration directory.
    Write,
}

impl std::fmt::Display for ImportStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ImportStep::Read => "read",
            ImportStep::Parse => "parse",
            ImportStep::Validate => "validate",
            ImportStep::Write => "write",
        })
    }
}

/// Why a trust policy file could not be read: `open PATH: REASON` as Go's
/// `os.ReadFile` says it, or the size cap.
pub fn policy_read_reason(e: &PolicyError) -> String {
    match e {
        PolicyError::Read { path, source } => {
            format!("open {}: {}", path.display(), go_io_reason(source))
        }
        other => other.to_string(),
    }
}

/// A blob error, led by upstream's words where upstream has some:
/// `failed to read signature file`, `failed to parse signature`, and for
/// the blob, Go's `open PATH: REASON`.
pub fn blob_message(e: &notation_host::blob::BlobError) -> String {
    use notation_host::blob::BlobError;
    match e {
        BlobError::ReadSignature { path, source } => format!(
            "failed to read signature file {}: {}",
            path.display(),
            go_io_reason(source)
        ),
        BlobError::InvalidSignature { .. } => format!("failed to parse signature: {e}"),
        BlobError::ReadBlob { path, source } => {
            format!("open {}: {}", path.display(), go_io_reason(source))
        }
        other => other.to_string(),
    }
}

/// An I/O error worded as Go words it (`permission denied`, `no such file
/// or directory`), so that upstream's reasons read the same here.
pub fn go_io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        ErrorKind::NotFound => "no such file or directory".to_string(),
        ErrorKind::IsADirectory => "is a directory".to_string(),
        ErrorKind::DirectoryNotEmpty => "directory not empty".to_string(),
        _ => {
            let text = e.to_string();
            let text = match text.find(" (os error ") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let mut chars = text.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Terminal(e)
    }
}

/// Upstream's wording for `plugin install` failures.
fn install_message(e: &InstallError) -> String {
    match e {
        InstallError::NotHttps { .. } | InstallError::Download { .. } => e.to_string(),
        other => format!("plugin installation failed: {other}"),
    }
}
