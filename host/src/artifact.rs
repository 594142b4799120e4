//! Opening the artifact a command names: a registry reference
//! (`registry/repository:tag|@digest`) or, with `--oci-layout`, an OCI image
//! layout reference (`DIR:tag|@digest`), and resolving it to a digest.
//!
//! Shared by `sign`, `verify`, `list` and `inspect`. [`discover`] finds an
//! artifact's signature manifests (resolving a digest reference while the
//! referrers are listed) and [`fetch_signatures`] reads several signatures
//! at once, bounded.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::config::ConfigDir;
use crate::registry::{
    ArtifactStore, ClientOptions, CredentialResolver, Credentials, Descriptor, LayoutReference,
    OciLayout, Reference, RegistryClient, RegistryError, Signature, Target,
};

/// How many registry reads [`discover`] callers run at once by default.
pub const DEFAULT_CONCURRENCY: usize = 8;

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

/// Transport settings beyond [`OpenOptions`]: a private CA and a time
/// budget. The defaults are the registry client's.
#[derive(Debug, Clone, Default)]
pub struct TransportOptions {
    /// PEM file of CA certificates trusted for the registry's TLS
    /// certificate (replaces the system roots, see
    /// [`ClientOptions::ca_file`]).
    pub ca_file: Option<PathBuf>,
    /// No request may last past this instant: each request's time-out is
    /// cut to the time left (at least 1 ms).
    pub deadline: Option<Instant>,
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
    open_with(config, reference, options, &TransportOptions::default())
}

/// [`open`] with transport settings (a private CA, a deadline).
pub fn open_with(
    config: &ConfigDir,
    reference: &str,
    options: &OpenOptions,
    transport: &TransportOptions,
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
        ca_file: transport.ca_file.clone(),
        deadline: transport.deadline,
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

/// The artifact a reference names and its signature manifests.
#[derive(Debug)]
pub struct Discovery {
    /// The opened store and reference.
    pub opened: OpenedArtifact,
    /// The artifact's manifest descriptor.
    pub subject: Descriptor,
    /// Its signature manifests, in store order, at most the maximum asked.
    pub signatures: Vec<Descriptor>,
    /// When the store holds more signatures than the maximum: the maximum.
    pub truncated_at: Option<usize>,
}

impl Discovery {
    /// `repository@digest` of the artifact.
    pub fn reference(&self) -> String {
        self.opened.digest_reference(&self.subject.digest)
    }
}

/// Resolves `opened`'s reference and lists at most `max` of its signature
/// manifests.
///
/// With a digest reference, the manifest is resolved (and checked) while
/// the referrers are listed, on two threads; a tag must be resolved first.
/// When both fail, the resolution error is reported: it is the first cause
/// (a missing manifest also has no referrers).
pub fn discover(opened: OpenedArtifact, max: usize) -> Result<Discovery, RegistryError> {
    // One more than `max`, so the store stops reading early yet "more than
    // max" can still be told apart.
    let limit = max.saturating_add(1);
    let (subject, mut signatures) = match &opened.target {
        Target::Digest(digest) => {
            // Only the digest of the subject is needed to list referrers.
            let provisional = Descriptor::new(String::new(), digest.clone(), 0);
            let store = opened.store.as_ref();
            let target = &opened.target;
            let (resolved, listed) = std::thread::scope(|s| {
                let resolving = s.spawn(|| store.resolve(target));
                let listed = store.list_signatures(&provisional, limit);
                let resolved = resolving
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (resolved, listed)
            });
            let subject = resolved?;
            (subject, listed?)
        }
        Target::Tag(_) => {
            let subject = opened.resolve()?;
            let listed = opened.store.list_signatures(&subject, limit)?;
            (subject, listed)
        }
    };
    let truncated_at = if signatures.len() > max {
        signatures.truncate(max);
        Some(max)
    } else {
        None
    };
    Ok(Discovery {
        opened,
        subject,
        signatures,
        truncated_at,
    })
}

/// Runs `work(i, &items[i])` for the items, at most `concurrency` at once,
/// and returns the results in input order. A worker asks `stop(i)` before
/// taking item `i`; `None` marks the items no worker took.
pub fn bounded_map<T: Sync, R: Send>(
    items: &[T],
    concurrency: usize,
    stop: impl Fn(usize) -> bool + Sync,
    work: impl Fn(usize, &T) -> R + Sync,
) -> Vec<Option<R>> {
    let next = AtomicUsize::new(0);
    let workers = concurrency.clamp(1, items.len().max(1));
    let done: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= items.len() || stop(i) {
                            return mine;
                        }
                        mine.push((i, work(i, &items[i])));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    for (i, r) in done.into_iter().flatten() {
        out[i] = Some(r);
    }
    out
}

/// Fetches the signature manifests and envelopes `signatures` name, at most
/// `concurrency` at once, and returns the results in input order. Every
/// read is checked against its descriptor by the store.
pub fn fetch_signatures(
    store: &dyn ArtifactStore,
    signatures: &[Descriptor],
    concurrency: usize,
) -> Vec<Result<Signature, RegistryError>> {
    bounded_map(
        signatures,
        concurrency,
        |_| false,
        |_, d| store.fetch_signature(d),
    )
    .into_iter()
    // Nothing stops early, so every item ran.
    .flatten()
    .collect()
}
