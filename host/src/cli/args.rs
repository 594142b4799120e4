//! The whole `notation` command tree, declared in one place. Doc comments are
//! the help text; names, aliases and flags follow upstream notation.
//!
//! Boolean flags behave as upstream's (pflag): bare `--flag` means true and
//! `--flag=true` / `--flag=false` set it explicitly (`-y=false` for short
//! ones). Rather than repeat the attributes on every `bool` field, the
//! fields are declared as plain clap switches and [`Cli::build_command`]
//! turns every switch of the tree into such a flag; parse with
//! [`Cli::parse_args`], which uses that command.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// Notation - a tool to sign and verify artifacts
#[derive(Debug, Parser)]
#[command(name = "notation", disable_version_flag = true, max_term_width = 100)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command tree with every boolean switch accepting an optional
    /// `=true|false` value (see the module documentation).
    pub fn build_command() -> clap::Command {
        pflag_booleans(Self::command())
    }

    /// Parses `argv` (program name first) against [`Cli::build_command`].
    /// Help requests come back as errors too, as with clap's `try_parse`.
    pub fn parse_args<I, T>(argv: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut cmd = Self::build_command();
        let matches = cmd.try_get_matches_from_mut(argv)?;
        Self::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
    }

    /// Applies deprecated flags and returns the warnings to print: the
    /// hidden `--allow-referrers-api` (upstream keeps it, deprecated) means
    /// `--force-referrers-tag=false` for `sign` and nothing elsewhere.
    pub fn apply_deprecated_flags(&mut self) -> Vec<&'static str> {
        const GENERIC: &str =
            "flag '--allow-referrers-api' is deprecated and will be removed in future versions.";
        let flag = match &mut self.command {
            Command::Sign(a) => {
                if a.referrers_api.allow_referrers_api == Some(true) {
                    a.force_referrers_tag = false;
                    return vec![
                        "flag '--allow-referrers-api' is deprecated and will be removed in future versions, use '--force-referrers-tag=false' instead.",
                    ];
                }
                a.referrers_api.allow_referrers_api
            }
            Command::Verify(a) => a.referrers_api.allow_referrers_api,
            Command::List(a) => a.referrers_api.allow_referrers_api,
            Command::Inspect(a) => a.referrers_api.allow_referrers_api,
            _ => None,
        };
        match flag {
            Some(_) => vec![GENERIC],
            None => Vec::new(),
        }
    }
}

/// Turns every `SetTrue` switch in `cmd` and its subcommands into a flag
/// that also takes `=true` or `=false` (pflag's boolean flags). The value
/// must be attached with `=`, so `--force REF` still reads `REF` as an
/// argument.
fn pflag_booleans(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|arg| {
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            arg.action(ArgAction::Set)
                .num_args(0..=1)
                .require_equals(true)
                .default_value("false")
                .default_missing_value("true")
                .hide_default_value(true)
                .hide_possible_values(true)
                .value_name("true|false")
        } else {
            arg
        }
    })
    .mut_subcommands(pflag_booleans)
}

/// The hidden, deprecated `--allow-referrers-api` of sign, verify, list and
/// inspect (see [`Cli::apply_deprecated_flags`]).
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ReferrersApiFlag {
    /// deprecated: the Referrers API is used when the registry supports it
    #[arg(
        long,
        hide = true,
        action = ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_name = "true|false"
    )]
    pub allow_referrers_api: Option<bool>,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign artifacts
    Sign(SignArgs),
    /// Verify signatures associated with the artifact
    Verify(VerifyArgs),
    /// List signatures of a signed OCI artifact
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Inspect all signatures associated with a signed OCI artifact
    Inspect(InspectArgs),
    /// Manage keys used for signing
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage certificates in trust store for signature verification
    #[command(subcommand, visible_alias = "cert")]
    Certificate(CertCommand),
    /// Manage trust policy configuration for OCI signature verification
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Manage plugins
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Log in to an OCI registry
    Login(LoginArgs),
    /// Log out from the logged in registries
    Logout(LogoutArgs),
    /// Show the notation version information
    Version,
    /// Generate a shell completion script
    Completion(CompletionArgs),
    /// Sign, verify, inspect signatures of blob. Configure blob trust policy
    #[command(subcommand)]
    Blob(BlobCommand),
}

/// `-d/--debug` and `-v/--verbose`.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct LoggingArgs {
    /// debug mode
    #[arg(short = 'd', long, conflicts_with = "verbose")]
    pub debug: bool,
    /// verbose mode
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

impl LoggingArgs {
    /// Whether detailed progress should be printed.
    pub fn detailed(&self) -> bool {
        self.debug || self.verbose
    }
}

/// Registry access flags shared by sign, verify, list and inspect.
#[derive(Debug, Clone, Default, Args)]
pub struct RegistryArgs {
    /// username for registry operations (default to $NOTATION_USERNAME if not specified)
    #[arg(short = 'u', long, env = "NOTATION_USERNAME", hide_env_values = true)]
    pub username: Option<String>,
    /// password for registry operations (default to $NOTATION_PASSWORD if not specified)
    #[arg(short = 'p', long, env = "NOTATION_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// use HTTP protocol while connecting to registries. Should be used only for testing
    #[arg(long)]
    pub insecure_registry: bool,
}

/// Envelope formats for `--signature-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignatureFormatArg {
    /// JWS JSON serialization (application/jose+json)
    Jws,
    /// COSE_Sign1 (application/cose)
    Cose,
}

/// Output formats for list and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// human-readable text
    #[default]
    #[value(alias = "tree")]
    Text,
    /// JSON
    Json,
}

/// Flags `sign` and `blob sign` share: the key, the envelope, the signed
/// metadata and timestamping.
#[derive(Debug, Args)]
pub struct SigningFlags {
    /// signing key name, for a key previously added to notation's key list. This is mutually exclusive with the --id and --plugin flags
    #[arg(short = 'k', long, conflicts_with_all = ["id", "plugin"])]
    pub key: Option<String>,
    /// key id (required if --plugin is set). This is mutually exclusive with the --key flag
    #[arg(long, requires = "plugin")]
    pub id: Option<String>,
    /// signing plugin name (required if --id is set). This is mutually exclusive with the --key flag
    #[arg(long, requires = "id")]
    pub plugin: Option<String>,
    /// {key}={value} pairs that are passed as it is to a plugin, refer plugin's documentation to set appropriate values
    #[arg(long = "plugin-config", value_name = "KEY=VALUE")]
    pub plugin_config: Vec<String>,
    /// signature envelope format [default: jws, or "signatureFormat" in config.json]
    #[arg(long, value_enum)]
    pub signature_format: Option<SignatureFormatArg>,
    /// optional expiry that provides a "best by use" time for the artifact. The duration is a Go duration such as 12h, 30m, 3h20m, 1.5h or 90s
    #[arg(short = 'e', long, value_name = "DURATION")]
    pub expiry: Option<String>,
    /// {key}={value} pairs that are added to the signature payload
    #[arg(short = 'm', long = "user-metadata", value_name = "KEY=VALUE")]
    pub user_metadata: Vec<String>,
    /// RFC 3161 Timestamping Authority (TSA) server URL
    #[arg(long, value_name = "URL", requires = "timestamp_root_cert")]
    pub timestamp_url: Option<String>,
    /// filepath of timestamp authority root certificate
    #[arg(long, value_name = "FILE", requires = "timestamp_url")]
    pub timestamp_root_cert: Option<PathBuf>,
}

/// `notation sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// the artifact to sign: <registry>/<repository>@<digest> (or :<tag>)
    #[arg(value_name = "REFERENCE")]
    pub reference: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub signing: SigningFlags,
    /// force to store signatures using the referrers tag schema
    #[arg(long, conflicts_with = "allow_referrers_api")]
    pub force_referrers_tag: bool,
    /// [Experimental] sign the artifact stored as OCI image layout
    #[arg(long, conflicts_with_all = ["force_referrers_tag", "allow_referrers_api"])]
    pub oci_layout: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub referrers_api: ReferrersApiFlag,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// the artifact to verify: <registry>/<repository>@<digest> (or :<tag>)
    #[arg(value_name = "REFERENCE")]
    pub reference: String,
    /// {key}={value} pairs that are passed as it is to a plugin, if the verification is associated with a verification plugin, refer plugin documentation to set appropriate values
    #[arg(long = "plugin-config", value_name = "KEY=VALUE")]
    pub plugin_config: Vec<String>,
    /// user defined {key}={value} pairs that must be present in the signature for successful verification if provided
    #[arg(short = 'm', long = "user-metadata", value_name = "KEY=VALUE")]
    pub user_metadata: Vec<String>,
    /// maximum number of signatures to evaluate or examine
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_signatures: u32,
    /// [Experimental] verify the artifact stored as OCI image layout
    #[arg(long)]
    pub oci_layout: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub referrers_api: ReferrersApiFlag,
    /// [Experimental] set trust policy scope for artifact verification, required and can only be used when flag "--oci-layout" is set
    #[arg(long, requires = "oci_layout")]
    pub scope: Option<String>,
    /// output format
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// the signed artifact: <registry>/<repository>@<digest> (or :<tag>)
    #[arg(value_name = "REFERENCE")]
    pub reference: String,
    /// maximum number of signatures to evaluate or examine
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_signatures: u32,
    /// [Experimental] list signatures stored in OCI image layout
    #[arg(long)]
    pub oci_layout: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub referrers_api: ReferrersApiFlag,
    /// output format
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// the signed artifact: <registry>/<repository>@<digest> (or :<tag>)
    #[arg(value_name = "REFERENCE")]
    pub reference: String,
    /// maximum number of signatures to evaluate or examine
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_signatures: u32,
    /// [Experimental] inspect signatures stored in OCI image layout
    #[arg(long)]
    pub oci_layout: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub referrers_api: ReferrersApiFlag,
    /// output format ("tree" is an alias of "text")
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation key ...`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Add key to Notation signing key list
    Add(KeyAddArgs),
    /// List keys used for signing
    #[command(visible_alias = "ls")]
    List,
    /// Update key in Notation signing key list
    #[command(visible_alias = "set")]
    Update(KeyUpdateArgs),
    /// Remove key from Notation signing key list
    #[command(alias = "remove", alias = "rm")]
    Delete(KeyDeleteArgs),
}

/// `notation key add`.
#[derive(Debug, Args)]
pub struct KeyAddArgs {
    /// name of the key in the signing key list
    #[arg(value_name = "KEY_NAME")]
    pub name: String,
    /// signing plugin name
    #[arg(long, required = true)]
    pub plugin: String,
    /// key id (required if --plugin is set)
    #[arg(long, default_value = "", hide_default_value = true)]
    pub id: String,
    /// {key}={value} pairs that are passed as it is to a plugin, refer plugin's documentation to set appropriate values
    #[arg(long = "plugin-config", value_name = "KEY=VALUE")]
    pub plugin_config: Vec<String>,
    /// mark as default
    #[arg(long)]
    pub default: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation key update`.
#[derive(Debug, Args)]
pub struct KeyUpdateArgs {
    /// name of the key in the signing key list
    #[arg(value_name = "KEY_NAME")]
    pub name: String,
    /// mark as default
    #[arg(long)]
    pub default: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation key delete`.
#[derive(Debug, Args)]
pub struct KeyDeleteArgs {
    /// names of the keys to remove
    #[arg(value_name = "KEY_NAME", required = true)]
    pub names: Vec<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// Trust store types for `--type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreTypeArg {
    /// certificate authority roots
    #[value(name = "ca")]
    Ca,
    /// signing authority roots
    #[value(name = "signingAuthority")]
    SigningAuthority,
    /// timestamping authority roots
    #[value(name = "tsa")]
    Tsa,
}

/// `notation certificate ...`.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Add certificates to the trust store.
    Add(CertAddArgs),
    /// List certificates in the trust store.
    #[command(visible_alias = "ls")]
    List(CertListArgs),
    /// Show certificate details given trust store type, named store, and certificate file name. If the certificate file contains multiple certificates, then all certificates are displayed.
    Show(CertShowArgs),
    /// Delete certificates from the trust store.
    Delete(CertDeleteArgs),
    /// Generate a test RSA key and a corresponding self-signed certificate.
    GenerateTest(CertGenerateTestArgs),
    /// Clean up a test RSA key and its corresponding certificate that were generated using the "generate-test" command.
    CleanupTest(CertCleanupTestArgs),
}

/// `notation certificate add`.
#[derive(Debug, Args)]
pub struct CertAddArgs {
    /// specify trust store type, options: ca, signingAuthority, tsa
    #[arg(short = 't', long = "type", value_enum, required = true)]
    pub store_type: StoreTypeArg,
    /// specify named store
    #[arg(short = 's', long, required = true)]
    pub store: String,
    /// certificate files to add
    #[arg(value_name = "CERT_PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// `notation certificate list`.
#[derive(Debug, Args)]
pub struct CertListArgs {
    /// specify trust store type, options: ca, signingAuthority, tsa
    #[arg(short = 't', long = "type", value_enum)]
    pub store_type: Option<StoreTypeArg>,
    /// specify named store
    #[arg(short = 's', long)]
    pub store: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation certificate show`.
#[derive(Debug, Args)]
pub struct CertShowArgs {
    /// specify trust store type, options: ca, signingAuthority, tsa
    #[arg(short = 't', long = "type", value_enum, required = true)]
    pub store_type: StoreTypeArg,
    /// specify named store
    #[arg(short = 's', long, required = true)]
    pub store: String,
    /// certificate file name in the named store
    #[arg(value_name = "CERT_FILENAME")]
    pub file: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation certificate delete`.
#[derive(Debug, Args)]
pub struct CertDeleteArgs {
    /// specify trust store type, options: ca, signingAuthority, tsa
    #[arg(short = 't', long = "type", value_enum, required = true)]
    pub store_type: StoreTypeArg,
    /// specify named store
    #[arg(short = 's', long, required = true)]
    pub store: String,
    /// delete all certificates in the named store
    #[arg(short = 'a', long, conflicts_with = "file")]
    pub all: bool,
    /// do not prompt for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// certificate file name in the named store
    #[arg(
        value_name = "CERT_FILENAME",
        required_unless_present = "all",
        required_if_eq("all", "false")
    )]
    pub file: Option<String>,
}

/// `notation certificate generate-test`.
#[derive(Debug, Args)]
pub struct CertGenerateTestArgs {
    /// common name of the certificate; also the key, store and file name
    #[arg(value_name = "COMMON_NAME")]
    pub name: String,
    /// RSA key bits
    #[arg(short = 'b', long, default_value_t = 2048, value_parser = clap::value_parser!(u32).range(2048..=8192))]
    pub bits: u32,
    /// mark as default signing key
    #[arg(long)]
    pub default: bool,
    /// validity of the certificate in days (default: 1 day, as upstream)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
}

/// `notation certificate cleanup-test`.
#[derive(Debug, Args)]
pub struct CertCleanupTestArgs {
    /// common name given to generate-test
    #[arg(value_name = "COMMON_NAME")]
    pub name: String,
    /// do not prompt for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// `notation policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Import OCI trust policy configuration from a JSON file
    Import(PolicyImportArgs),
    /// Show OCI trust policy configuration
    Show,
    /// Initialize an OCI trust policy configuration with one statement
    Init(PolicyInitArgs),
}

/// `notation policy import`.
#[derive(Debug, Args)]
pub struct PolicyImportArgs {
    /// the trust policy JSON file
    #[arg(value_name = "FILE_PATH")]
    pub file: PathBuf,
    /// override the existing OCI trust policy configuration without prompt
    #[arg(long)]
    pub force: bool,
}

/// `notation policy init`.
#[derive(Debug, Args)]
pub struct PolicyInitArgs {
    /// name of the trust policy statement
    #[arg(long, required = true)]
    pub name: String,
    /// trust store as {type}:{name}, e.g. ca:wabbit-networks.io (repeatable)
    #[arg(long = "trust-store", required = true, value_name = "TYPE:NAME")]
    pub trust_stores: Vec<String>,
    /// trusted identity, e.g. "x509.subject: C=US, ST=WA, O=wabbit-networks.io" or "*" (repeatable)
    #[arg(long = "trusted-identity", required = true, value_name = "IDENTITY")]
    pub trusted_identities: Vec<String>,
    /// override the existing OCI trust policy configuration without prompt
    #[arg(long)]
    pub force: bool,
}

/// `notation plugin ...`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List installed plugins
    #[command(visible_alias = "ls")]
    List,
    /// Install a plugin
    #[command(visible_alias = "add")]
    Install(PluginInstallArgs),
    /// Uninstall a plugin
    #[command(visible_aliases = ["remove", "rm"])]
    Uninstall(PluginUninstallArgs),
}

/// `notation plugin install`.
#[derive(Debug, Args)]
pub struct PluginInstallArgs {
    /// install plugin from a file on file system
    #[arg(
        long,
        conflicts_with = "url",
        required_unless_present = "url",
        required_if_eq("url", "false")
    )]
    pub file: bool,
    /// install plugin from an HTTPS URL. The plugin download timeout is 10m0s
    #[arg(long, requires = "sha256sum", required_if_eq("file", "false"))]
    pub url: bool,
    /// must match SHA256 of the plugin source, required when "--url" flag is set
    #[arg(long)]
    pub sha256sum: Option<String>,
    /// force the installation of the plugin
    #[arg(long)]
    pub force: bool,
    /// the plugin file path or HTTPS URL
    #[arg(value_name = "PLUGIN_SOURCE")]
    pub source: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation plugin uninstall`.
#[derive(Debug, Args)]
pub struct PluginUninstallArgs {
    /// the plugin to uninstall
    #[arg(value_name = "PLUGIN_NAME")]
    pub name: String,
    /// do not prompt for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// the registry host, e.g. registry.example.com or localhost:5000
    #[arg(value_name = "SERVER")]
    pub server: String,
    /// take the password from stdin
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// the registry host
    #[arg(value_name = "SERVER")]
    pub server: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// the shell to generate the script for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

// ---- notation blob ----------------------------------------------------

/// `notation blob ...`.
#[derive(Debug, Subcommand)]
pub enum BlobCommand {
    /// Produce a detached signature for a given blob
    Sign(BlobSignArgs),
    /// Verify a signature associated with a blob
    Verify(BlobVerifyArgs),
    /// Inspect a signature associated with a blob
    Inspect(BlobInspectArgs),
    /// Manage blob trust policy configuration for arbitrary blob signature verification
    #[command(subcommand)]
    Policy(BlobPolicyCommand),
}

/// `notation blob sign`.
#[derive(Debug, Args)]
#[command(
    long_about = "Produce a detached signature for a given blob.\n\nBy default, the signature file is written to the current directory with file name \"{blob file name}.{signature format}.sig\"."
)]
pub struct BlobSignArgs {
    /// the blob to sign
    #[arg(value_name = "BLOB_PATH")]
    pub blob: PathBuf,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub signing: SigningFlags,
    /// directory where the signature file is placed (default is the current directory)
    #[arg(long, value_name = "DIR")]
    pub signature_directory: Option<PathBuf>,
    /// media type of the blob
    #[arg(long, default_value = "application/octet-stream")]
    pub media_type: String,
    /// override the existing signature file, never prompt
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation blob verify`.
#[derive(Debug, Args)]
pub struct BlobVerifyArgs {
    /// the blob whose signature is verified
    #[arg(value_name = "BLOB_PATH")]
    pub blob: PathBuf,
    /// filepath of the signature to be verified
    #[arg(short = 's', long, required = true, value_name = "SIGNATURE_PATH")]
    pub signature: PathBuf,
    /// policy name to verify against. If not provided, the global policy is used if exists
    #[arg(long)]
    pub policy_name: Option<String>,
    /// media type of the blob to verify
    #[arg(long)]
    pub media_type: Option<String>,
    /// {key}={value} pairs that are passed as it is to a plugin, if the verification is associated with a verification plugin, refer plugin documentation to set appropriate values
    #[arg(long = "plugin-config", value_name = "KEY=VALUE")]
    pub plugin_config: Vec<String>,
    /// user defined {key}={value} pairs that must be present in the signature for successful verification if provided
    #[arg(short = 'm', long = "user-metadata", value_name = "KEY=VALUE")]
    pub user_metadata: Vec<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation blob inspect`.
#[derive(Debug, Args)]
pub struct BlobInspectArgs {
    /// the signature file
    #[arg(value_name = "SIGNATURE_PATH")]
    pub signature: PathBuf,
    /// output format, options: 'json', 'tree'
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub logging: LoggingArgs,
}

/// `notation blob policy ...`.
#[derive(Debug, Subcommand)]
pub enum BlobPolicyCommand {
    /// Import blob trust policy configuration from a JSON file
    Import(BlobPolicyImportArgs),
    /// Show blob trust policy configuration
    Show,
    /// Initialize blob trust policy configuration
    Init(BlobPolicyInitArgs),
}

/// `notation blob policy import`.
#[derive(Debug, Args)]
pub struct BlobPolicyImportArgs {
    /// the blob trust policy JSON file
    #[arg(value_name = "FILE_PATH")]
    pub file: PathBuf,
    /// override the existing blob trust policy configuration without prompt
    #[arg(long)]
    pub force: bool,
}

/// `notation blob policy init`.
#[derive(Debug, Args)]
pub struct BlobPolicyInitArgs {
    /// name of the policy
    #[arg(short = 'n', long, required = true)]
    pub name: String,
    /// trust store in the format "<store_type>:<store_name>" (repeatable)
    #[arg(long = "trust-store", required = true, value_name = "TYPE:NAME")]
    pub trust_stores: Vec<String>,
    /// trusted identity, use the format "x509.subject:<subject_of_signing_certificate>" for x509 CA scheme and "<signing_authority_identity>" for x509 signingAuthority scheme (repeatable)
    #[arg(long = "trusted-identity", required = true, value_name = "IDENTITY")]
    pub trusted_identities: Vec<String>,
    /// set the policy as the global policy
    #[arg(long)]
    pub global: bool,
    /// override the existing blob trust policy configuration, never prompt
    #[arg(long)]
    pub force: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_tree_is_consistent() {
        Cli::command().debug_assert();
        Cli::build_command().debug_assert();
    }

    fn parse(argv: &[&str]) -> Cli {
        Cli::parse_args(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"))
    }

    fn sign_args(argv: &[&str]) -> SignArgs {
        match parse(argv).command {
            Command::Sign(a) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_plain_switch_is_left() {
        fn walk(cmd: &clap::Command) {
            for arg in cmd.get_arguments() {
                assert!(
                    !matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse),
                    "{} --{:?} is a plain switch",
                    cmd.get_name(),
                    arg.get_long()
                );
            }
            cmd.get_subcommands().for_each(walk);
        }
        walk(&Cli::build_command());
    }

    #[test]
    fn boolean_flags_take_optional_values() {
        let base = ["notation", "sign", "-k", "k"];
        let cases: [(&[&str], bool); 4] = [
            (&[], false),
            (&["--force-referrers-tag"], true),
            (&["--force-referrers-tag=true"], true),
            (&["--force-referrers-tag=false"], false),
        ];
        for (extra, want) in cases {
            let argv: Vec<&str> = base
                .iter()
                .chain(extra)
                .chain(&["r@sha256:a"])
                .copied()
                .collect();
            assert_eq!(sign_args(&argv).force_referrers_tag, want, "{argv:?}");
        }
        // The value must be attached: a following word is the reference.
        let a = sign_args(&["notation", "sign", "--oci-layout", "true"]);
        assert!(a.oci_layout);
        assert_eq!(a.reference, "true");
        assert!(Cli::parse_args(["notation", "sign", "--oci-layout=maybe", "r"]).is_err());
    }

    #[test]
    fn short_boolean_flags() {
        for (argv, yes, debug) in [
            (vec!["notation", "plugin", "rm", "-y", "p"], true, false),
            (
                vec!["notation", "plugin", "rm", "-y=false", "p"],
                false,
                false,
            ),
            (vec!["notation", "plugin", "rm", "p", "-yd"], true, true),
            (vec!["notation", "plugin", "rm", "-d", "p"], false, true),
            (
                vec!["notation", "plugin", "rm", "--yes=true", "p"],
                true,
                false,
            ),
        ] {
            match parse(&argv).command {
                Command::Plugin(PluginCommand::Uninstall(a)) => {
                    assert_eq!((a.yes, a.logging.debug), (yes, debug), "{argv:?}");
                    assert_eq!(a.name, "p");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn false_does_not_count_as_all_or_file() {
        // `--all=false` must not delete the whole store: a file is needed.
        let base = ["notation", "cert", "delete", "-t", "ca", "-s", "s"];
        let argv: Vec<&str> = base.iter().chain(&["--all=false"]).copied().collect();
        assert!(Cli::parse_args(&argv).is_err());
        let argv: Vec<&str> = base.iter().chain(&["--all"]).copied().collect();
        parse(&argv);
        assert!(Cli::parse_args(["notation", "plugin", "install", "--file=false", "x"]).is_err());
        parse(&["notation", "plugin", "install", "--file=true", "x"]);
    }

    #[test]
    fn sign_oci_layout_excludes_referrers_flags() {
        for flag in [
            "--force-referrers-tag",
            "--force-referrers-tag=false",
            "--allow-referrers-api",
        ] {
            let err = Cli::parse_args(["notation", "sign", "--oci-layout", flag, "x"]).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{flag}"
            );
        }
        assert!(Cli::parse_args([
            "notation",
            "sign",
            "--force-referrers-tag",
            "--allow-referrers-api",
            "x"
        ])
        .is_err());
    }

    #[test]
    fn allow_referrers_api_is_deprecated() {
        let mut cli = parse(&["notation", "sign", "--allow-referrers-api", "r@sha256:a"]);
        match &mut cli.command {
            Command::Sign(a) => a.force_referrers_tag = true,
            other => panic!("{other:?}"),
        }
        let warnings = cli.apply_deprecated_flags();
        assert!(warnings[0].contains("--force-referrers-tag=false"));
        match cli.command {
            Command::Sign(a) => assert!(!a.force_referrers_tag),
            other => panic!("{other:?}"),
        }
        for argv in [
            ["notation", "sign", "--allow-referrers-api=false", "r"],
            ["notation", "verify", "--allow-referrers-api", "r"],
            ["notation", "list", "--allow-referrers-api=true", "r"],
            ["notation", "inspect", "--allow-referrers-api", "r"],
        ] {
            let warnings = parse(&argv).apply_deprecated_flags();
            assert_eq!(warnings.len(), 1, "{argv:?}");
            assert!(warnings[0].contains("deprecated"));
        }
        assert!(parse(&["notation", "list", "r"])
            .apply_deprecated_flags()
            .is_empty());
        let help = Cli::build_command()
            .find_subcommand_mut("sign")
            .map(|c| c.render_help().to_string())
            .unwrap_or_default();
        assert!(help.contains("--force-referrers-tag"));
        assert!(!help.contains("allow-referrers-api"));
    }

    #[test]
    fn aliases_parse() {
        for argv in [
            vec!["notation", "ls", "r@sha256:a"],
            vec!["notation", "cert", "ls"],
            vec![
                "notation",
                "certificate",
                "list",
                "--type",
                "signingAuthority",
            ],
            vec!["notation", "key", "ls"],
            vec!["notation", "key", "set", "--default", "k"],
            vec!["notation", "plugin", "rm", "p", "-y"],
            vec!["notation", "plugin", "add", "--file", "f"],
            vec!["notation", "inspect", "-o", "tree", "r:v1"],
        ] {
            Cli::parse_args(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        }
    }

    #[test]
    fn sign_flag_rules() {
        assert!(Cli::parse_args([
            "notation", "sign", "-k", "a", "--id", "x", "--plugin", "p", "r"
        ])
        .is_err());
        assert!(Cli::parse_args(["notation", "sign", "--plugin", "p", "r"]).is_err());
        assert!(Cli::parse_args(["notation", "sign", "--signature-format", "xml", "r"]).is_err());
        let cli = Cli::parse_args([
            "notation",
            "sign",
            "--id",
            "x",
            "--plugin",
            "p",
            "--plugin-config",
            "a=b",
            "-m",
            "k=v",
            "-e",
            "1h",
            "--signature-format",
            "cose",
            "r@sha256:a",
        ])
        .unwrap();
        match cli.command {
            Command::Sign(a) => {
                assert_eq!(a.signing.signature_format, Some(SignatureFormatArg::Cose));
                assert_eq!(a.signing.plugin_config, vec!["a=b"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn verify_defaults() {
        let cli = Cli::parse_args(["notation", "verify", "r@sha256:a"]).unwrap();
        match cli.command {
            Command::Verify(a) => {
                assert_eq!(a.max_signatures, 100);
                assert_eq!(a.output, OutputFormat::Text);
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::parse_args(["notation", "verify", "--scope", "x", "r"]).is_err());
    }
}
