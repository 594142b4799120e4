//! Verifying an artifact end to end, as `notation verify` does: the
//! library API behind the CLI's `verify` and the containerd image verifier.
//!
//! An [`ArtifactVerifier`] is built once from a notation configuration
//! directory ([`ConfigDir`]: trust policy, trust stores, plugins, registry
//! settings and credentials) and verifies any number of references with
//! [`ArtifactVerifier::verify`], which returns the [`Report`] the CLI prints
//! (as text, or as JSON with [`Report::to_json`]).
//!
//! What `verify` does, in order:
//! 1. picks the trust policy statement for the reference's repository (or
//!    [`VerifyOptions::scope`] for an OCI layout): no applicable statement is
//!    an error before any network traffic; a `skip` statement only resolves
//!    the reference;
//! 2. resolves the reference and lists its signature manifests (at the
//!    same time for a digest reference, see [`artifact::discover`]);
//! 3. orders the signatures so that those whose manifest annotation names
//!    a certificate of the statement's trust stores come first
//!    (the thumbprint hint, never trusted on its own);
//! 4. fetches and verifies them, [`VerifyOptions::concurrency`] at a time
//!    (the hinted ones first, on their own, then the others), and stops
//!    taking new ones as soon as one passes. The report then holds exactly
//!    what a one-at-a-time run would hold: every signature before the first
//!    that passes, and that one.
//!
//! A [`VerifyOptions::deadline`] is checked between steps and before each
//! signature, and cuts every registry request's time-out to the time left;
//! past it, `verify` fails with [`VerificationError::DeadlineExceeded`].
//!
//! ```no_run
//! use notation_host::config::ConfigDir;
//! use notation_host::verification::{ArtifactVerifier, VerifyOptions};
//!
//! let verifier = ArtifactVerifier::from_config_dir(ConfigDir::at("/etc/notation"))?;
//! let report = verifier.verify(
//!     "registry.example/app@sha256:0b94b7be0c4b6e2dbf6d0d31e9b4bd2f70f5fe89e3a2a8cda6a2a6f3c1b5f6b2",
//!     &VerifyOptions::default(),
//! )?;
//! if report.passed() {
//!     println!("verified {}", report.reference);
//! } else if let Some((check, reason)) = report.failure() {
//!     eprintln!("{check}: {reason}");
//! }
//! # Ok::<(), notation_host::verification::VerificationError>(())
//! ```
#![deny(missing_docs)]

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use crate::artifact::{
    self, ArtifactError, Discovery, OpenOptions, OpenedArtifact, TransportOptions,
    DEFAULT_CONCURRENCY,
};
use crate::config::ConfigDir;
use crate::registry::oci::ANNOTATION_THUMBPRINTS;
use crate::registry::{ArtifactStore, Descriptor, RegistryError};
use crate::trustpolicy::{PolicyError, PolicyStatement, TrustPolicy, VerificationLevel};
use crate::truststore::{StoreRef, StoreType, TrustStore};
use crate::verifier::{
    failure_line, ArtifactFailure, ArtifactOutcome, Check, SignatureOutcome, Verifier, VerifyInput,
};

/// Default for [`VerifyOptions::max_signatures`] (upstream's
/// `--max-signatures` default).
pub const DEFAULT_MAX_SIGNATURES: usize = 100;

/// How to verify one reference.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The reference names an OCI image layout (`DIR:tag` or `DIR@digest`).
    pub oci_layout: bool,
    /// The trust policy scope to verify a layout against (required with
    /// `oci_layout`; ignored for registry references, whose repository is
    /// the scope).
    pub scope: Option<String>,
    /// At most this many signatures are examined (at least 1).
    pub max_signatures: usize,
    /// Key-value pairs that must be in a signature's signed user metadata.
    pub user_metadata: BTreeMap<String, String>,
    /// Key-value pairs passed to a verification plugin.
    pub plugin_config: BTreeMap<String, String>,
    /// Verification must be over by then (see the module docs).
    pub deadline: Option<Instant>,
    /// Plain HTTP to the registry (`--insecure-registry`; `config.json`
    /// `insecureRegistries` is honoured as well).
    pub insecure: bool,
    /// Registry username (given together with `password`).
    pub username: Option<String>,
    /// Registry password, or an identity token when given alone.
    pub password: Option<String>,
    /// PEM CA certificates trusted for the registry's TLS certificate
    /// instead of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Signatures fetched and verified at once (at least 1).
    pub concurrency: usize,
    /// Where to send each [`Warning`] as soon as it arises, so that a
    /// caller sees it even when verification then fails (it is also in
    /// [`Report::warnings`] when verification ends with a report).
    pub warnings: Option<std::sync::mpsc::Sender<Warning>>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            oci_layout: false,
            scope: None,
            max_signatures: DEFAULT_MAX_SIGNATURES,
            user_metadata: BTreeMap::new(),
            plugin_config: BTreeMap::new(),
            deadline: None,
            insecure: false,
            username: None,
            password: None,
            ca_file: None,
            concurrency: DEFAULT_CONCURRENCY,
            warnings: None,
        }
    }
}

impl VerifyOptions {
    fn open_options(&self) -> OpenOptions {
        OpenOptions {
            oci_layout: self.oci_layout,
            insecure: self.insecure,
            force_referrers_tag: false,
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }

    fn transport(&self) -> TransportOptions {
        TransportOptions {
            ca_file: self.ca_file.clone(),
            deadline: self.deadline,
        }
    }

    fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// Why an artifact could not be verified at all (as opposed to a
/// [`Report`] whose signatures failed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerificationError {
    /// The trust policy is missing or invalid, or no statement applies to
    /// the artifact.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The artifact could not be opened (bad reference, unreadable
    /// `config.json`, incomplete credentials).
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// The registry or layout could not be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The artifact has no signature.
    #[error(transparent)]
    NoSignature(#[from] ArtifactFailure),
    /// A layout was given without a trust policy scope.
    #[error("a trust policy scope is required to verify an OCI layout: give one, for example local/hello-world")]
    MissingScope,
    /// The deadline passed before verification ended.
    #[error("verification of {reference} did not finish in the time allowed: the deadline passed while {stage}{}", detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    DeadlineExceeded {
        /// The reference as given.
        reference: String,
        /// What was under way.
        stage: &'static str,
        /// The error the deadline caused, if any.
        detail: Option<String>,
    },
}

/// A non-fatal remark about a verification, listing or inspection, shown
/// on standard error by the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The reference names a tag, which may move.
    Tag {
        /// The command (`verify`, `list`, `inspect`), as in upstream's text.
        command: &'static str,
        /// The tag.
        tag: String,
    },
    /// More signatures exist than are examined.
    TooManySignatures {
        /// The artifact, by digest.
        reference: String,
        /// The maximum examined.
        max: usize,
    },
}

impl Warning {
    /// The warnings of a [`Discovery`] made for `command`.
    pub fn of_discovery(command: &'static str, discovery: &Discovery) -> Vec<Warning> {
        let mut warnings = Vec::new();
        if let Some(tag) = discovery.opened.tag() {
            warnings.push(Warning::Tag {
                command,
                tag: tag.to_string(),
            });
        }
        if let Some(max) = discovery.truncated_at {
            warnings.push(Warning::TooManySignatures {
                reference: discovery.reference(),
                max,
            });
        }
        warnings
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::Tag { command, tag } => write!(
                f,
                "Always {command} the artifact using digest(@sha256:...) rather than a tag(:{tag}) because resolved digest may not point to the same signed artifact, as tags are mutable."
            ),
            Warning::TooManySignatures { reference, max } => write!(
                f,
                "{reference} has more than {max} signatures; only the first {max} are examined (raise --max-signatures to examine more)"
            ),
        }
    }
}

/// What happened to one signature that was examined.
#[derive(Debug)]
enum Examined {
    /// It was fetched and verified (it may have failed a check).
    Verified(SignatureOutcome),
    /// Its manifest or envelope could not be fetched.
    FetchFailed(RegistryError),
}

/// The result of verifying one artifact: what the CLI prints.
#[derive(Debug)]
pub struct Report {
    /// The artifact, by digest (`registry/repository@sha256:...`, or
    /// `DIR@sha256:...` for a layout).
    pub reference: String,
    /// The artifact's manifest descriptor.
    pub subject: Descriptor,
    /// The statement applied, its level and the outcome of every signature
    /// that was verified (empty for `skip`).
    pub outcome: ArtifactOutcome,
    /// Every signature examined, by signature manifest digest, in the order
    /// examined; the [`ExaminedKind::Verified`] entries are the outcomes of
    /// [`Report::outcome`], in the same order.
    pub examined: Vec<(String, ExaminedKind)>,
    /// Signatures that could not be fetched: (manifest digest, reason).
    pub fetch_errors: Vec<(String, String)>,
    /// Remarks for standard error.
    pub warnings: Vec<Warning>,
}

/// Whether an entry of [`Report::examined`] was verified or not fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExaminedKind {
    /// Verified: its outcome is in [`Report::outcome`].
    Verified,
    /// Not fetched: its reason is in [`Report::fetch_errors`].
    FetchFailed,
}

impl Report {
    /// Whether the artifact is accepted: level `skip`, or a signature passed.
    pub fn passed(&self) -> bool {
        self.outcome.passed()
    }

    /// Whether the statement's level is `skip` (nothing was verified).
    pub fn skipped(&self) -> bool {
        self.outcome.level == VerificationLevel::Skip
    }

    /// The signature that passed, if one did.
    pub fn accepted(&self) -> Option<&SignatureOutcome> {
        self.outcome.accepted()
    }

    /// Digests of the verified signatures, parallel to
    /// `self.outcome.signatures`.
    pub fn verified_digests(&self) -> impl Iterator<Item = &str> {
        self.examined
            .iter()
            .filter(|(_, k)| *k == ExaminedKind::Verified)
            .map(|(d, _)| d.as_str())
    }

    /// When no signature passed: the most relevant failing check and why
    /// (a fetch failure when no signature could be verified at all).
    pub fn failure(&self) -> Option<(String, String)> {
        if self.passed() {
            return None;
        }
        Some(match self.outcome.most_relevant_failure() {
            Some((_, check, failure)) => (check.to_string(), failure_line(check, failure)),
            None => match self.fetch_errors.first() {
                Some((digest, e)) => (
                    "integrity".to_string(),
                    format!("signature {digest} could not be fetched: {e}"),
                ),
                None => (
                    "integrity".to_string(),
                    "no signature could be verified".to_string(),
                ),
            },
        })
    }

    /// The report as `notation verify -o json` prints it.
    pub fn to_json(&self) -> serde_json::Value {
        if self.skipped() {
            return serde_json::json!({
                "reference": self.reference,
                "result": "skipped",
                "trustPolicy": self.outcome.statement,
                "level": "skip",
                "signatures": [],
            });
        }
        let signatures: Vec<serde_json::Value> =
            self.outcome
                .signatures
                .iter()
                .zip(self.verified_digests())
                .map(|(o, digest)| {
                    let checks: BTreeMap<String, serde_json::Value> = Check::ALL
                        .iter()
                        .map(|c| {
                            let (status, detail) = o.status(*c).word();
                            let mut v = serde_json::json!({ "result": status });
                            if let Some(d) = detail {
                                v["error"] = d.to_string().into();
                            }
                            (c.as_str().to_string(), v)
                        })
                        .collect();
                    serde_json::json!({
                        "digest": digest,
                        "result": if o.passed() { "passed" } else { "failed" },
                        "signer": o.signer,
                        "checks": checks,
                        "userMetadata": o
                            .payload
                            .as_ref()
                            .and_then(|p| p.target_artifact.annotations.clone())
                            .unwrap_or_default(),
                    })
                })
                .chain(self.fetch_errors.iter().map(
                    |(d, e)| serde_json::json!({ "digest": d, "result": "failed", "error": e }),
                ))
                .collect();
        serde_json::json!({
            "reference": self.reference,
            "result": if self.passed() { "passed" } else { "failed" },
            "trustPolicy": self.outcome.statement,
            "level": self.outcome.level.as_str(),
            "signatures": signatures,
        })
    }
}

/// Verifies artifacts against one notation configuration directory.
///
/// It is `Send + Sync`: a long-running program may build one and verify
/// from several threads at once.
#[derive(Debug)]
pub struct ArtifactVerifier {
    config: ConfigDir,
    engine: Verifier,
}

// Keeps the promise above: this fails to compile if a field loses it.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<ArtifactVerifier>();
};

impl ArtifactVerifier {
    /// Loads the trust policy of `config` and prepares its trust store and
    /// plugin directory. Registry settings and credentials are read for each
    /// reference.
    pub fn from_config_dir(config: ConfigDir) -> Result<Self, VerificationError> {
        let (policy, _) = TrustPolicy::load(config.root())?;
        let engine = Verifier::new(
            policy,
            TrustStore::from_config_dir(config.root()),
            Some(config.plugins_dir()),
        );
        Ok(ArtifactVerifier { config, engine })
    }

    /// Uses `engine` (for instance one with another revocation checker or
    /// clock) with the registry settings and trust stores of `config`.
    pub fn with_engine(config: ConfigDir, engine: Verifier) -> Self {
        ArtifactVerifier { config, engine }
    }

    /// The configuration directory.
    pub fn config(&self) -> &ConfigDir {
        &self.config
    }

    /// The verification engine.
    pub fn engine(&self) -> &Verifier {
        &self.engine
    }

    /// The trust policy scope of `reference`: `--scope` for a layout, the
    /// reference's `registry/repository` otherwise (read from the text; no
    /// file or network access).
    fn scope_of(reference: &str, options: &VerifyOptions) -> Result<String, VerificationError> {
        if options.oci_layout {
            return options.scope.clone().ok_or(VerificationError::MissingScope);
        }
        let r = crate::registry::Reference::parse(reference)?;
        Ok(format!("{}/{}", r.registry, r.repository))
    }

    /// The trust policy statement that applies to `reference`, with the
    /// opened (not yet contacted) artifact and its scope.
    fn select(
        &self,
        reference: &str,
        options: &VerifyOptions,
    ) -> Result<(OpenedArtifact, String, &PolicyStatement), VerificationError> {
        // A layout's scope is known without opening it: it is checked first
        // so that a missing scope is reported before a missing directory.
        let scope = Self::scope_of(reference, options)?;
        let opened = artifact::open_with(
            &self.config,
            reference,
            &options.open_options(),
            &options.transport(),
        )?;
        let statement = self.engine.statement_for(&scope)?;
        Ok((opened, scope, statement))
    }

    /// The trust policy statement that applies to `reference` (with
    /// [`VerifyOptions::scope`] for a layout), found from the reference's
    /// text alone (nothing is opened): what [`ArtifactVerifier::verify`]
    /// will apply.
    pub fn statement(
        &self,
        reference: &str,
        options: &VerifyOptions,
    ) -> Result<&PolicyStatement, VerificationError> {
        let scope = Self::scope_of(reference, options)?;
        Ok(self.engine.statement_for(&scope)?)
    }

    /// Verifies the artifact `reference` names (a registry reference, or a
    /// layout reference with [`VerifyOptions::oci_layout`]). `Ok` carries
    /// the report whether or not a signature passed: see
    /// [`Report::passed`].
    pub fn verify(
        &self,
        reference: &str,
        options: &VerifyOptions,
    ) -> Result<Report, VerificationError> {
        let deadline_error =
            |stage: &'static str, detail: Option<String>| VerificationError::DeadlineExceeded {
                reference: reference.to_string(),
                stage,
                detail,
            };
        // A registry error once the deadline has passed was caused by it.
        let registry_error = |stage: &'static str, e: RegistryError| {
            if options.past_deadline() {
                deadline_error(stage, Some(e.to_string()))
            } else {
                VerificationError::Registry(e)
            }
        };
        if options.past_deadline() {
            return Err(deadline_error("starting", None));
        }
        let (opened, scope, statement) = self.select(reference, options)?;
        let level = statement.verification.level;

        if level == VerificationLevel::Skip {
            let subject = opened
                .resolve()
                .map_err(|e| registry_error("resolving the reference", e))?;
            return Ok(Report {
                reference: opened.digest_reference(&subject.digest),
                subject,
                outcome: ArtifactOutcome {
                    statement: statement.name.clone(),
                    level,
                    signatures: Vec::new(),
                },
                examined: Vec::new(),
                fetch_errors: Vec::new(),
                warnings: Vec::new(),
            });
        }

        // The statement's trust stores are read (and OpenSSL warmed up)
        // while the registry answers, once for every signature.
        let (discovery, (trust_store, trusted_prints)) = std::thread::scope(|s| {
            let warm = s.spawn(|| {
                let store = self.engine.trust_store().preloaded(&statement.trust_stores);
                let prints = trusted_thumbprints(&store, &statement.trust_stores);
                (store, prints)
            });
            let discovery = artifact::discover(opened, options.max_signatures.max(1));
            let warmed = warm
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (discovery, warmed)
        });
        let discovery = discovery
            .map_err(|e| registry_error("resolving the reference and listing its signatures", e))?;
        let warnings = Warning::of_discovery("verify", &discovery);
        if let Some(sink) = &options.warnings {
            for w in &warnings {
                // A caller that dropped its receiver wants no warnings.
                let _ = sink.send(w.clone());
            }
        }
        let digest_reference = discovery.reference();
        if discovery.signatures.is_empty() {
            return Err(ArtifactFailure::NoSignature {
                reference: digest_reference,
            }
            .into());
        }
        if options.past_deadline() {
            return Err(deadline_error("listing signatures", None));
        }
        // Signatures the hint marks as trusted are examined first, on their
        // own: in the common case (one of them passes) no other signature
        // is fetched. The rest follow, concurrently.
        let (preferred, rest) = split_by_hint(&trusted_prints, discovery.signatures);
        let store = discovery.opened.store.as_ref();
        let examine = |candidates: &[Descriptor]| {
            self.examine(
                store,
                &trust_store,
                &discovery.subject,
                &scope,
                candidates,
                options,
            )
        };
        let mut examined = examine(&preferred)?;
        let passed = examined
            .iter()
            .any(|e| matches!(e, Some(Examined::Verified(o)) if o.passed()));
        if !passed && examined.len() == preferred.len() {
            examined.extend(examine(&rest)?);
        }
        let candidates: Vec<Descriptor> = preferred.into_iter().chain(rest).collect();

        let mut outcomes = Vec::new();
        let mut kinds = Vec::new();
        let mut fetch_errors = Vec::new();
        for (desc, e) in candidates.iter().zip(examined) {
            match e {
                Some(Examined::Verified(o)) => {
                    kinds.push((desc.digest.clone(), ExaminedKind::Verified));
                    outcomes.push(o);
                }
                Some(Examined::FetchFailed(err)) => {
                    kinds.push((desc.digest.clone(), ExaminedKind::FetchFailed));
                    fetch_errors.push((desc.digest.clone(), err.to_string()));
                }
                None => {}
            }
        }
        let report = Report {
            reference: digest_reference,
            subject: discovery.subject,
            outcome: ArtifactOutcome {
                statement: statement.name.clone(),
                level,
                signatures: outcomes,
            },
            examined: kinds,
            fetch_errors,
            warnings,
        };
        if !report.passed() && options.past_deadline() {
            return Err(deadline_error(
                "verifying signatures",
                report
                    .failure()
                    .map(|(check, reason)| format!("{check}: {reason}")),
            ));
        }
        Ok(report)
    }

    /// Fetches and verifies `candidates`, `options.concurrency` at a time,
    /// taking no new one once one has passed or the deadline has passed.
    /// Returns one slot per candidate: `None` for those not examined. Only
    /// the candidates up to the first that passed are kept, so the result
    /// is what a one-at-a-time run gives.
    fn examine(
        &self,
        store: &dyn ArtifactStore,
        trust_store: &TrustStore,
        subject: &Descriptor,
        scope: &str,
        candidates: &[Descriptor],
        options: &VerifyOptions,
    ) -> Result<Vec<Option<Examined>>, VerificationError> {
        // Index of the first candidate known to pass (usize::MAX: none yet).
        let first_pass = AtomicUsize::new(usize::MAX);
        let failed = AtomicBool::new(false);
        let results = artifact::bounded_map(
            candidates,
            options.concurrency,
            |i| {
                i > first_pass.load(Ordering::SeqCst)
                    || failed.load(Ordering::SeqCst)
                    || options.past_deadline()
            },
            |i, desc| {
                let examined = match store.fetch_signature(desc) {
                    Err(e) => Ok(Examined::FetchFailed(e)),
                    Ok(sig) => {
                        let input = VerifyInput {
                            repository: scope.to_string(),
                            target_digest: subject.digest.clone(),
                            target_size: Some(subject.size),
                            target_media_type: Some(subject.media_type.clone()),
                            envelope: sig.envelope,
                            envelope_media_type: sig.envelope_descriptor.media_type,
                            user_metadata: options.user_metadata.clone(),
                            plugin_config: options.plugin_config.clone(),
                        };
                        self.engine
                            .verify_signature_in(&input, trust_store)
                            .map(Examined::Verified)
                    }
                };
                match &examined {
                    Ok(Examined::Verified(o)) if o.passed() => {
                        first_pass.fetch_min(i, Ordering::SeqCst);
                    }
                    Err(_) => failed.store(true, Ordering::SeqCst),
                    _ => {}
                }
                examined
            },
        );
        let mut slots = Vec::with_capacity(results.len());
        for r in results {
            slots.push(r.transpose()?);
        }
        let keep = first_pass.into_inner();
        if keep < slots.len() {
            slots.truncate(keep + 1);
        }
        // Past the deadline, what was examined stays in order; a gap means
        // the candidates after it were not examined in time.
        if let Some(gap) = slots.iter().position(Option::is_none) {
            slots.truncate(gap);
        }
        Ok(slots)
    }
}

/// SHA-256 thumbprints (lower-case hex) of the certificates in `stores`
/// other than TSA ones: the signatures whose hint names one are tried first.
fn trusted_thumbprints(trust_store: &TrustStore, stores: &[StoreRef]) -> HashSet<String> {
    let mut trusted = HashSet::new();
    for r in stores.iter().filter(|r| r.store_type != StoreType::Tsa) {
        if let Ok(store) = trust_store.load(r.store_type, &r.name) {
            for c in &store.certificates {
                trusted.insert(notation_plugin_sdk::envelope::cert::sha256_fingerprint(
                    &c.certificate,
                ));
            }
        }
    }
    trusted
}

/// `signatures` split into those whose thumbprint hint names a certificate
/// in `trusted` and the others, each in the original order.
fn split_by_hint(
    trusted: &HashSet<String>,
    signatures: Vec<Descriptor>,
) -> (Vec<Descriptor>, Vec<Descriptor>) {
    let matches = |d: &Descriptor| {
        d.annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_THUMBPRINTS))
            .and_then(|v| serde_json::from_str::<Vec<String>>(v).ok())
            .is_some_and(|prints| {
                prints
                    .iter()
                    .any(|p| trusted.contains(&p.to_ascii_lowercase()))
            })
    };
    signatures.into_iter().partition(|d| matches(d))
}
