//! Opening the artifact a command names: a registry reference
//! (`registry/repository:tag|@digest`) or, with `--oci-layout`, an OCI image
//! layout reference (`DIR:tag|@digest`), and resolving it to a digest.
//!
//! Shared by `sign`, `verify`, `list` and `inspect`.

use crate::config::ConfigDir;
use crate::registry::{
    ArtifactStore, ClientOptions, CredentialResolver, Credentials, Descriptor, LayoutReference,
    OciLayout, Reference, RegistryClient, RegistryError, Target,
};

/// How to reach the artifact.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// The reference names an OCI image layout directory.
    pub oci_layout: bool,
    /// Plain HTTP for this registry (`--insecure-registry`).
    pub insecure: bool,
    /// Store signatures with the referrers tag schema (`--force-referrers-tag`).
    pub force_referrers_tag: bool,
    /// `--username` / `$NOTATION_USERNAME`.
    pub username: Option<String>,
    /// `--password` / `$NOTATION_PASSWORD`.
    pub password: Option<String>,
}

/// Why an artifact could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// A registry or layout problem (bad reference, unreachable, ...).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Reading `config.json` failed.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Only one of username and password was given.
    #[error("a username was given without a password: give both with --username and --password (or $NOTATION_USERNAME and $NOTATION_PASSWORD), or neither to use stored credentials")]
    IncompleteCredentials,
}

/// An opened artifact store with the reference the user gave.
pub struct OpenedArtifact {
    /// Where the artifact and its signatures live.
    pub store: Box<dyn ArtifactStore>,
    /// The tag or digest given.
    pub target: Target,
    /// The reference without tag or digest, as printed before `@digest`
    /// (`registry/repository`, or the layout directory as given).
    pub repository_ref: String,
    /// The repository for trust policy selection (`registry/repository`;
    /// for a layout: none, the caller supplies `--scope`).
    pub policy_scope: Option<String>,
}

impl std::fmt::Debug for OpenedArtifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedArtifact")
            .field("store", &self.store.name())
            .field("target", &self.target)
            .field("repository_ref", &self.repository_ref)
            .finish()
    }
}

impl OpenedArtifact {
    /// Resolves the reference to its manifest descriptor.
    pub fn resolve(&self) -> Result<Descriptor, RegistryError> {
        self.store.resolve(&self.target)
    }

    /// `repository_ref@digest`.
    pub fn digest_reference(&self, digest: &str) -> String {
        format!("{}@{digest}", self.repository_ref)
    }

    /// The tag, when the reference names one (callers warn about tags).
    pub fn tag(&self) -> Option<&str> {
        match &self.target {
            Target::Tag(t) => Some(t),
            Target::Digest(_) => None,
        }
    }
}

/// Opens the artifact `reference` names.
pub fn open(
    config: &ConfigDir,
    reference: &str,
    options: &OpenOptions,
) -> Result<OpenedArtifact, ArtifactError> {
    if options.oci_layout {
        let r = LayoutReference::parse(reference)?;
        let layout = OciLayout::open(&r.path)?;
        return Ok(OpenedArtifact {
            store: Box::new(layout),
            target: r.target,
            repository_ref: r.path.display().to_string(),
            policy_scope: None,
        });
    }
    let r = Reference::parse(reference)?;
    let settings = config.load_settings()?;
    let explicit = match (&options.username, &options.password) {
        (Some(u), Some(p)) => Some(Credentials::basic(u.as_str(), p.as_str())),
        (Some(_), None) => return Err(ArtifactError::IncompleteCredentials),
        // A password alone is an identity token, as upstream treats it.
        (None, Some(p)) => Some(Credentials::identity_token(p.as_str())),
        (None, None) => None,
    };
    let resolver = CredentialResolver::new(explicit, Some(config.config_file()));
    let client_options = ClientOptions {
        insecure: options.insecure || settings.is_insecure_registry(&r.registry),
        force_referrers_tag: options.force_referrers_tag,
        ..ClientOptions::default()
    };
    let client = RegistryClient::for_reference(&r, client_options, Box::new(resolver))?;
    let repository_ref = format!("{}/{}", r.registry, r.repository);
    Ok(OpenedArtifact {
        store: Box::new(client),
        target: r.target,
        policy_scope: Some(repository_ref.clone()),
        repository_ref,
    })
}
