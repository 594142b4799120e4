//! The signature verification workflow of the Notary Project trust store
//! and trust policy specification.
//!
//! API overview:
//! * [`Verifier::new`]`(policy, trust_store, plugin_dir)`; optional
//!   [`Verifier::with_plugin_loader`], [`Verifier::with_revocation_checker`],
//!   [`Verifier::at`] (fixed verification time, for tests).
//! * [`Verifier::statement_for`]`(repository)`: the applicable policy
//!   statement (callers skip fetching signatures when its level is `skip`).
//! * [`Verifier::verify_signature`]`(&VerifyInput)` → [`SignatureOutcome`]
//!   (per-check statuses), or a [`PolicyError`] when no statement applies.
//! * [`Verifier::verify_artifact`]`(repository, reference, &[VerifyInput])`
//!   → [`ArtifactOutcome`]: passes when the level is `skip` or ANY
//!   signature passes; fails with [`ArtifactFailure::NoSignature`] when
//!   there is nothing to verify; [`ArtifactOutcome::most_relevant_failure`]
//!   ranks failures (see [`outcome`]).
//!
//! Checks, in order, each enforced / logged / skipped per the statement's
//! level and overrides:
//! 1. integrity (always enforced unless `skip`): envelope type, decoding,
//!    signature under the leaf key, payload decodes, signed target digest
//!    (and size / media type when given) equal the artifact's, critical
//!    attributes understood (or left to the verification plugin);
//! 2. extended-validation prerequisites when the envelope names a
//!    verification plugin: plugin present, SemVer minimum version,
//!    `SIGNATURE_VERIFIER` capability (always enforced unless `skip`);
//! 3. authenticity (`authenticity` action): certificate requirements, chain
//!    valid at the claimed signing time, chain leads to a certificate in the
//!    statement's `ca` stores (`notary.x509`) or `signingAuthority` stores
//!    (`notary.x509.signingAuthority`);
//! 4. trusted identity (`authenticity` action; done by the plugin instead
//!    when it has `SIGNATURE_VERIFIER.TRUSTED_IDENTITY`);
//! 5. expiry (`expiry` action);
//! 6. authentic timestamp (`authenticTimestamp` action): `notary.x509`:
//!    every certificate valid now — or, when the statement has a `tsa` store
//!    and `verifyTimestamp` asks for it (`always`, or `afterCertExpiry` with
//!    a certificate expired now), a timestamp token that verifies against
//!    the `tsa` stores, whose TSA chain is not revoked (nor of unavailable
//!    status), and imprints the envelope's signature, with every
//!    certificate valid over `genTime` ± accuracy (see [`crate::timestamp`]);
//!    `notary.x509.signingAuthority`: authentic signing time within validity;
//! 7. revocation (`revocation` action) through [`RevocationChecker`]
//!    (default [`OnlineRevocationChecker`]: OCSP, falling back to CRLs; see
//!    [`revocation`]), or the plugin with
//!    `SIGNATURE_VERIFIER.REVOCATION_CHECK`. A revoked certificate and an
//!    undeterminable status (endpoints present, no trusted answer) both
//!    fail this check, enforced or logged per the action;
//! 8. the plugin's `verify-signature` call and its response checks;
//! 9. user metadata (always enforced unless `skip`).

pub mod chain;
pub mod outcome;
pub mod plugin;
pub mod revocation;

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::path::PathBuf;

use notation_plugin_sdk::envelope::{
    self, header_names, EnvelopeFormat, SignatureEnvelope, SigningScheme,
};
use notation_plugin_sdk::protocol::{
    CriticalAttributes, SignatureInfo, TrustPolicyInfo, VerifySignatureRequest, CONTRACT_VERSION,
};
use notation_plugin_sdk::vocab::Capability;
use openssl::x509::X509;
use time::OffsetDateTime;

use crate::trustpolicy::dn::DistinguishedName;
use crate::trustpolicy::{
    Action, PolicyError, PolicyStatement, TrustPolicy, TrustedIdentities, ValidationKind,
    VerificationLevel, VerifyTimestamp,
};
use crate::truststore::{StoreType, TrustStore};

pub use outcome::{
    check_level_line, failure_line, ArtifactFailure, ArtifactOutcome, Check, CheckStatus, Failure,
    NotChecked, Note, SignatureOutcome,
};
pub use plugin::{ExternalPluginLoader, PluginCallError, PluginLoader, VerificationPlugin};
pub use revocation::{
    Method as RevocationMethod, OnlineRevocationChecker, RevocationChecker, RevocationProblem,
    RevocationProblems, RevocationStatus,
};

/// One signature to verify.
#[derive(Debug, Clone)]
pub struct VerifyInput {
    /// The repository (`registry/repository`) or `--scope` used to select
    /// the trust policy statement.
    pub repository: String,
    /// Digest of the artifact being verified (`sha256:...`).
    pub target_digest: String,
    /// Size of the artifact's manifest, when known (checked against the
    /// signed descriptor).
    pub target_size: Option<u64>,
    /// Media type of the artifact's manifest, when known.
    pub target_media_type: Option<String>,
    /// The envelope bytes.
    pub envelope: Vec<u8>,
    /// The envelope media type (`application/jose+json` or `application/cose`).
    pub envelope_media_type: String,
    /// `-m key=value` pairs that must be in the signed payload.
    pub user_metadata: BTreeMap<String, String>,
    /// `--plugin-config` pairs passed to a verification plugin.
    pub plugin_config: BTreeMap<String, String>,
}

/// The verification engine: a validated trust policy, a trust store, and
/// the plugin and revocation back ends.
pub struct Verifier {
    policy: TrustPolicy,
    trust_store: TrustStore,
    plugins: Option<Box<dyn PluginLoader>>,
    revocation: Box<dyn RevocationChecker>,
    now: Option<OffsetDateTime>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("policy", &self.policy)
            .field("trust_store", &self.trust_store)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// Records check statuses and stops at the first enforced failure.
struct Recorder {
    checks: Vec<(Check, CheckStatus)>,
}

impl Recorder {
    fn set(&mut self, check: Check, status: CheckStatus) {
        if let Some(slot) = self.checks.iter_mut().find(|(c, _)| *c == check) {
            slot.1 = status;
        }
    }

    /// Records the result of a check under `action`. Breaks on an enforced failure.
    fn record(
        &mut self,
        check: Check,
        action: Action,
        result: Result<(), Failure>,
    ) -> ControlFlow<()> {
        match (result, action) {
            (_, Action::Skip) => {
                self.set(check, CheckStatus::Skipped);
                ControlFlow::Continue(())
            }
            (Ok(()), _) => {
                self.set(check, CheckStatus::Passed);
                ControlFlow::Continue(())
            }
            (Err(f), Action::Log) => {
                self.set(check, CheckStatus::Logged(f));
                ControlFlow::Continue(())
            }
            (Err(f), Action::Enforce) => {
                self.set(check, CheckStatus::Failed(f));
                ControlFlow::Break(())
            }
        }
    }
}

macro_rules! step {
    ($e:expr) => {
        if let ControlFlow::Break(()) = $e {
            return;
        }
    };
}

/// What the plugin will do for this signature.
struct PluginPlan {
    name: String,
    plugin: Box<dyn VerificationPlugin>,
    capabilities: Vec<Capability>,
}

impl Verifier {
    /// A verifier for `policy` using `trust_store`. With `plugin_dir`,
    /// verification plugins are loaded from it with the SDK client; without
    /// it, signatures that require a plugin fail.
    pub fn new(
        policy: TrustPolicy,
        trust_store: TrustStore,
        plugin_dir: Option<PathBuf>,
    ) -> Verifier {
        Verifier {
            policy,
            trust_store,
            plugins: plugin_dir.map(|plugin_dir| {
                Box::new(ExternalPluginLoader { plugin_dir }) as Box<dyn PluginLoader>
            }),
            revocation: Box::new(OnlineRevocationChecker::default()),
            now: None,
        }
    }

    /// Uses another plugin loader.
    pub fn with_plugin_loader(mut self, loader: Box<dyn PluginLoader>) -> Verifier {
        self.plugins = Some(loader);
        self
    }

    /// Uses another revocation checker.
    pub fn with_revocation_checker(mut self, checker: Box<dyn RevocationChecker>) -> Verifier {
        self.revocation = checker;
        self
    }

    /// Verifies as if the current time were `now`.
    pub fn at(mut self, now: OffsetDateTime) -> Verifier {
        self.now = Some(now);
        self
    }

    /// The policy.
    pub fn policy(&self) -> &TrustPolicy {
        &self.policy
    }

    /// The statement that applies to `repository`.
    pub fn statement_for(&self, repository: &str) -> Result<&PolicyStatement, PolicyError> {
        self.policy.select(repository)
    }

    /// Verifies every signature of an artifact. `reference` is only used in
    /// messages. Passes when the level is `skip` (signatures are not
    /// examined) or when ANY signature passes.
    pub fn verify_artifact(
        &self,
        repository: &str,
        reference: &str,
        signatures: &[VerifyInput],
    ) -> Result<ArtifactOutcome, ArtifactFailure> {
        let statement = self.policy.select(repository)?;
        let level = statement.verification.level;
        if level == VerificationLevel::Skip {
            return Ok(ArtifactOutcome {
                statement: statement.name.clone(),
                level,
                signatures: Vec::new(),
            });
        }
        if signatures.is_empty() {
            return Err(ArtifactFailure::NoSignature {
                reference: reference.to_string(),
            });
        }
        let mut outcomes = Vec::with_capacity(signatures.len());
        for s in signatures {
            outcomes.push(self.verify_with(statement, s, &self.trust_store));
        }
        Ok(ArtifactOutcome {
            statement: statement.name.clone(),
            level,
            signatures: outcomes,
        })
    }

    /// Verifies one signature under the statement that applies to
    /// `input.repository`.
    pub fn verify_signature(&self, input: &VerifyInput) -> Result<SignatureOutcome, PolicyError> {
        self.verify_signature_in(input, &self.trust_store)
    }

    /// [`Verifier::verify_signature`] with the certificates of
    /// `trust_store` in place of the engine's own (for instance the
    /// engine's store [`TrustStore::preloaded`] for one artifact).
    pub fn verify_signature_in(
        &self,
        input: &VerifyInput,
        trust_store: &TrustStore,
    ) -> Result<SignatureOutcome, PolicyError> {
        let statement = self.policy.select(&input.repository)?;
        Ok(self.verify_with(statement, input, trust_store))
    }

    /// The trust store the engine reads.
    pub fn trust_store(&self) -> &TrustStore {
        &self.trust_store
    }

    fn verify_with(
        &self,
        statement: &PolicyStatement,
        input: &VerifyInput,
        trust_store: &TrustStore,
    ) -> SignatureOutcome {
        let level = statement.verification.level;
        let initial = || {
            if level == VerificationLevel::Skip {
                CheckStatus::Skipped
            } else {
                CheckStatus::NotEvaluated
            }
        };
        let mut out = SignatureOutcome {
            statement: statement.name.clone(),
            level,
            checks: Check::ALL.iter().map(|c| (*c, initial())).collect(),
            payload: None,
            signing_scheme: None,
            signing_time: None,
            signer: None,
            notes: Vec::new(),
        };
        if level != VerificationLevel::Skip {
            let mut rec = Recorder {
                checks: std::mem::take(&mut out.checks),
            };
            self.run(statement, input, trust_store, &mut rec, &mut out);
            out.checks = rec.checks;
        }
        out
    }

    fn now(&self) -> OffsetDateTime {
        self.now.unwrap_or_else(OffsetDateTime::now_utc)
    }

    fn run(
        &self,
        st: &PolicyStatement,
        input: &VerifyInput,
        trust_store: &TrustStore,
        rec: &mut Recorder,
        out: &mut SignatureOutcome,
    ) {
        let settings = &st.verification;
        let act = |k: ValidationKind| settings.action(k);
        let now = self.now();
        let always = Action::Enforce;

        // 1. Integrity.
        let env = match integrity(input) {
            Ok(env) => env,
            Err(f) => {
                step!(rec.record(Check::Integrity, always, Err(f)));
                return;
            }
        };
        let payload = match env.payload() {
            Ok(p) => p,
            Err(e) => {
                step!(rec.record(Check::Integrity, always, Err(Failure::InvalidPayload(e))));
                return;
            }
        };
        out.signing_scheme = Some(env.signed_attributes.signing_scheme.clone());
        out.signing_time = Some(env.signed_attributes.signing_time);
        out.signer = env
            .certificate_chain
            .first()
            .map(|c| DistinguishedName::from_x509_name(c.subject_name()).to_string());
        let plugin_name = match plugin_attributes(&env) {
            Ok(name) => name,
            Err(f) => {
                step!(rec.record(Check::Integrity, always, Err(f)));
                return;
            }
        };
        let unknown_critical: Vec<String> = env
            .signed_attributes
            .extended
            .iter()
            .filter(|a| {
                a.critical
                    && a.key != header_names::VERIFICATION_PLUGIN
                    && a.key != header_names::VERIFICATION_PLUGIN_MIN_VERSION
            })
            .map(|a| a.key.clone())
            .collect();
        let integrity_result = check_target(input, &payload).and_then(|()| {
            if plugin_name.is_none() {
                env.check_critical_attributes()
                    .map_err(Failure::UnknownCriticalAttribute)
            } else {
                Ok(())
            }
        });
        step!(rec.record(Check::Integrity, always, integrity_result));
        out.payload = Some(payload.clone());

        // 2. Plugin prerequisites.
        let mut plan = None;
        if let Some(name) = &plugin_name {
            match self.plan_plugin(name, &env, &input.plugin_config) {
                Ok(p) => plan = Some(p),
                Err(f) => {
                    step!(rec.record(Check::ExtendedValidation, always, Err(f)));
                }
            }
        }
        let plugin_does =
            |c: &Capability| plan.as_ref().is_some_and(|p| p.capabilities.contains(c));

        // 3. Authenticity.
        let scheme = env.signed_attributes.signing_scheme.clone();
        // Trust-store certificates the built path relies on that are not in
        // the envelope: their validity is checked with the envelope's chain.
        let mut anchors_used: Vec<X509> = Vec::new();
        let auth = self
            .authenticity(st, &env, &scheme, trust_store, out)
            .map(|extra| anchors_used = extra);
        step!(rec.record(Check::Authenticity, act(ValidationKind::Authenticity), auth));

        // 4. Trusted identity.
        if plugin_does(&Capability::SignatureVerifierTrustedIdentity) {
            // decided by the plugin below
        } else {
            step!(rec.record(
                Check::TrustedIdentity,
                act(ValidationKind::Authenticity),
                trusted_identity(st, &env.certificate_chain)
            ));
        }

        // 5. Expiry.
        let expiry = match env.signed_attributes.expiry {
            Some(expiry) if now >= expiry => Err(Failure::Expired { expiry, now }),
            _ => Ok(()),
        };
        step!(rec.record(Check::Expiry, act(ValidationKind::Expiry), expiry));

        // 6. Authentic timestamp.
        let ts_action = act(ValidationKind::AuthenticTimestamp);
        let validity_chain: Vec<X509> = env
            .certificate_chain
            .iter()
            .chain(anchors_used.iter())
            .cloned()
            .collect();
        let ts = authentic_timestamp(
            st,
            &env,
            &validity_chain,
            &scheme,
            ts_action,
            now,
            trust_store,
            self.revocation.as_ref(),
            &mut out.notes,
        );
        step!(rec.record(Check::AuthenticTimestamp, ts_action, ts));

        // 7. Revocation.
        let rev_action = act(ValidationKind::Revocation);
        if plugin_does(&Capability::SignatureVerifierRevocationCheck) {
            // decided by the plugin below
        } else if rev_action == Action::Skip {
            rec.set(Check::Revocation, CheckStatus::Skipped);
        } else {
            let authentic_time = (scheme == SigningScheme::X509SigningAuthority)
                .then_some(env.signed_attributes.signing_time);
            match self
                .revocation
                .check(&env.certificate_chain, authentic_time)
            {
                RevocationStatus::Good => step!(rec.record(Check::Revocation, rev_action, Ok(()))),
                RevocationStatus::Revoked {
                    subject,
                    method,
                    url,
                } => step!(rec.record(
                    Check::Revocation,
                    rev_action,
                    Err(Failure::Revoked {
                        in_chain: position_in_chain(&env.certificate_chain, &subject),
                        subject,
                        method,
                        url,
                    })
                )),
                // Fail closed: an undeterminable status is a failure,
                // enforced or logged per the policy's revocation action.
                RevocationStatus::Unavailable { subject, problems } => step!(rec.record(
                    Check::Revocation,
                    rev_action,
                    Err(Failure::RevocationUnavailable {
                        in_chain: position_in_chain(&env.certificate_chain, &subject),
                        subject,
                        problems,
                    })
                )),
            }
        }

        // 8. Plugin verify-signature.
        if let Some(plan) = &plan {
            step!(self.run_plugin(st, input, &env, plan, &unknown_critical, rec));
        } else if plugin_name.is_none() {
            rec.set(
                Check::ExtendedValidation,
                CheckStatus::NotChecked(NotChecked::NotApplicable),
            );
        }

        // 9. User metadata.
        step!(rec.record(Check::UserMetadata, always, user_metadata(input, &payload)));
    }

    fn plan_plugin(
        &self,
        name: &str,
        env: &SignatureEnvelope,
        plugin_config: &BTreeMap<String, String>,
    ) -> Result<PluginPlan, Failure> {
        let loader = self
            .plugins
            .as_ref()
            .ok_or_else(|| Failure::NoPluginDirectory {
                plugin: name.to_string(),
            })?;
        let plugin = loader
            .load(name)
            .map_err(|source| Failure::PluginUnavailable {
                plugin: name.to_string(),
                source,
            })?;
        let meta =
            plugin
                .metadata_for(plugin_config)
                .map_err(|source| Failure::PluginUnavailable {
                    plugin: name.to_string(),
                    source,
                })?;
        if let Some(min) = env.signed_attributes.verification_plugin_min_version() {
            let bad = |v: &str| Failure::PluginVersionInvalid {
                plugin: name.to_string(),
                version: v.to_string(),
            };
            let required = semver::Version::parse(min).map_err(|_| bad(min))?;
            let found = semver::Version::parse(&meta.version).map_err(|_| bad(&meta.version))?;
            if found < required {
                return Err(Failure::PluginVersionTooLow {
                    plugin: name.to_string(),
                    required: min.to_string(),
                    found: meta.version.clone(),
                });
            }
        }
        let capabilities: Vec<Capability> = meta
            .capabilities
            .iter()
            .filter(|c| c.is_verifier())
            .cloned()
            .collect();
        if capabilities.is_empty() {
            return Err(Failure::PluginNotVerifier {
                plugin: name.to_string(),
            });
        }
        Ok(PluginPlan {
            name: name.to_string(),
            plugin,
            capabilities,
        })
    }

    fn run_plugin(
        &self,
        st: &PolicyStatement,
        input: &VerifyInput,
        env: &SignatureEnvelope,
        plan: &PluginPlan,
        unknown_critical: &[String],
        rec: &mut Recorder,
    ) -> ControlFlow<()> {
        let settings = &st.verification;
        let action_for = |c: &Capability| match c {
            Capability::SignatureVerifierTrustedIdentity => {
                settings.action(ValidationKind::Authenticity)
            }
            Capability::SignatureVerifierRevocationCheck => {
                settings.action(ValidationKind::Revocation)
            }
            _ => Action::Enforce,
        };
        let check_for = |c: &Capability| match c {
            Capability::SignatureVerifierRevocationCheck => Check::Revocation,
            _ => Check::TrustedIdentity,
        };
        let requested: Vec<Capability> = plan
            .capabilities
            .iter()
            .filter(|c| action_for(c) != Action::Skip)
            .cloned()
            .collect();
        for c in &plan.capabilities {
            if action_for(c) == Action::Skip {
                rec.set(check_for(c), CheckStatus::Skipped);
            }
        }
        let sa = &env.signed_attributes;
        let extended: BTreeMap<String, serde_json::Value> = sa
            .extended
            .iter()
            .filter(|a| {
                a.critical
                    && a.key != header_names::VERIFICATION_PLUGIN
                    && a.key != header_names::VERIFICATION_PLUGIN_MIN_VERSION
            })
            .map(|a| (a.key.clone(), a.value.clone()))
            .collect();
        let req = VerifySignatureRequest {
            contract_version: CONTRACT_VERSION.to_string(),
            signature: SignatureInfo {
                critical_attributes: CriticalAttributes {
                    content_type: sa.content_type.clone(),
                    signing_scheme: sa.signing_scheme.as_str().to_string(),
                    expiry: sa.expiry,
                    authentic_signing_time: (sa.signing_scheme
                        == SigningScheme::X509SigningAuthority)
                        .then_some(sa.signing_time),
                    verification_plugin: sa.verification_plugin().map(str::to_string),
                    verification_plugin_min_version: sa
                        .verification_plugin_min_version()
                        .map(str::to_string),
                    extended_attributes: (!extended.is_empty()).then_some(extended),
                },
                unprocessed_attributes: unknown_critical.to_vec(),
                certificate_chain: env
                    .certificate_chain
                    .iter()
                    .filter_map(|c| c.to_der().ok())
                    .collect(),
            },
            trust_policy: TrustPolicyInfo {
                trusted_identities: st.trusted_identities_raw.clone(),
                signature_verification: requested.clone(),
            },
            plugin_config: (!input.plugin_config.is_empty()).then(|| input.plugin_config.clone()),
        };
        let plugin = plan.name.clone();
        let resp = match plan.plugin.verify_signature(req) {
            Ok(r) => r,
            Err(source) => {
                return rec.record(
                    Check::ExtendedValidation,
                    Action::Enforce,
                    Err(Failure::PluginUnavailable { plugin, source }),
                )
            }
        };
        let mut returned: Vec<Capability> = resp.verification_results.keys().cloned().collect();
        let same = returned.len() == requested.len()
            && requested
                .iter()
                .all(|c| resp.verification_results.contains_key(c));
        if !same {
            returned.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            return rec.record(
                Check::ExtendedValidation,
                Action::Enforce,
                Err(Failure::PluginResultsMismatch {
                    plugin,
                    requested,
                    returned,
                }),
            );
        }
        let mut processed = resp.processed_attributes.clone();
        processed.sort();
        let mut wanted = unknown_critical.to_vec();
        wanted.sort();
        if processed != wanted {
            let unprocessed: Vec<String> = wanted
                .iter()
                .filter(|w| !processed.contains(w))
                .chain(processed.iter().filter(|p| !wanted.contains(p)))
                .cloned()
                .collect();
            return rec.record(
                Check::ExtendedValidation,
                Action::Enforce,
                Err(Failure::PluginUnprocessedAttributes {
                    plugin,
                    unprocessed,
                }),
            );
        }
        let results: HashMap<&Capability, &notation_plugin_sdk::protocol::VerificationResult> =
            resp.verification_results.iter().collect();
        for c in &requested {
            let Some(r) = results.get(c) else { continue };
            let result = if r.success {
                Ok(())
            } else {
                Err(Failure::PluginCheckFailed {
                    plugin: plugin.clone(),
                    capability: c.clone(),
                    reason: r.reason.clone().unwrap_or_default(),
                })
            };
            if let ControlFlow::Break(()) = rec.record(check_for(c), action_for(c), result) {
                return ControlFlow::Break(());
            }
        }
        rec.record(Check::ExtendedValidation, Action::Enforce, Ok(()))
    }

    fn authenticity(
        &self,
        st: &PolicyStatement,
        env: &SignatureEnvelope,
        scheme: &SigningScheme,
        trust_store: &TrustStore,
        out: &mut SignatureOutcome,
    ) -> Result<Vec<X509>, Failure> {
        let chain = &env.certificate_chain;
        envelope::cert::check_signing_chain(chain).map_err(Failure::CertificateRequirement)?;
        let store_type = match scheme {
            SigningScheme::X509 => StoreType::Ca,
            SigningScheme::X509SigningAuthority => StoreType::SigningAuthority,
            SigningScheme::Unknown(_) => {
                return Err(Failure::UnsupportedSigningScheme(scheme.clone()))
            }
        };
        if *scheme == SigningScheme::X509 {
            let t = env.signed_attributes.signing_time;
            envelope::cert::check_valid_at(chain, t).map_err(|source| {
                Failure::NotValidAtSigningTime {
                    signing_time: t,
                    source,
                    validity: chain::first_invalid_at(chain, t).map(Box::new),
                }
            })?;
        }
        let refs: Vec<_> = st
            .trust_stores
            .iter()
            .filter(|r| r.store_type == store_type)
            .collect();
        if refs.is_empty() {
            return Err(Failure::NoTrustStoreForScheme {
                statement: st.name.clone(),
                store_type,
                scheme: scheme.clone(),
            });
        }
        let mut anchors: Vec<X509> = Vec::new();
        for r in &refs {
            let store = trust_store
                .load(r.store_type, &r.name)
                .map_err(Failure::TrustStore)?;
            out.notes
                .extend(store.ignored.into_iter().map(Note::IgnoredTrustStoreEntry));
            anchors.extend(store.certificates.into_iter().map(|c| c.certificate));
        }
        match chain::verify_to_anchors(chain, &anchors)? {
            Ok(path) => {
                // The path may end in a trust-store certificate that is not
                // in the envelope (partial chains): hold it to the same CA
                // and signing-time rules as the envelope's chain.
                let extra = chain::anchors_outside_envelope(&path, chain)?;
                for c in &extra {
                    chain::check_issuer_rules(c).map_err(|rule| Failure::TrustAnchorNotCa {
                        subject: DistinguishedName::from_x509_name(c.subject_name()).to_string(),
                        rule,
                    })?;
                }
                if *scheme == SigningScheme::X509 {
                    let t = env.signed_attributes.signing_time;
                    envelope::cert::check_valid_at(&extra, t).map_err(|source| {
                        Failure::NotValidAtSigningTime {
                            signing_time: t,
                            source,
                            validity: chain::first_invalid_at(&extra, t).map(Box::new),
                        }
                    })?;
                }
                Ok(extra)
            }
            Err(e) => Err(Failure::UntrustedChain {
                stores: refs
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                openssl_reason: e.reason,
                depth: e.depth,
            }),
        }
    }
}

fn integrity(input: &VerifyInput) -> Result<SignatureEnvelope, Failure> {
    let format = EnvelopeFormat::from_media_type(&input.envelope_media_type).ok_or_else(|| {
        Failure::UnsupportedEnvelopeType {
            media_type: input.envelope_media_type.clone(),
        }
    })?;
    let env = envelope::parse(format, &input.envelope).map_err(Failure::InvalidEnvelope)?;
    env.verify_integrity().map_err(Failure::SignatureInvalid)?;
    Ok(env)
}

fn check_target(input: &VerifyInput, payload: &envelope::Payload) -> Result<(), Failure> {
    let t = &payload.target_artifact;
    if t.digest != input.target_digest {
        return Err(Failure::TargetDigestMismatch {
            expected: input.target_digest.clone(),
            signed: t.digest.clone(),
        });
    }
    if let Some(size) = input.target_size {
        if t.size != size {
            return Err(Failure::TargetDescriptorMismatch {
                field: "size",
                expected: size.to_string(),
                signed: t.size.to_string(),
            });
        }
    }
    if let Some(mt) = &input.target_media_type {
        if t.media_type != *mt {
            return Err(Failure::TargetDescriptorMismatch {
                field: "mediaType",
                expected: mt.clone(),
                signed: t.media_type.clone(),
            });
        }
    }
    Ok(())
}

fn trusted_identity(st: &PolicyStatement, chain: &[X509]) -> Result<(), Failure> {
    let subjects = match &st.trusted_identities {
        TrustedIdentities::Any => return Ok(()),
        TrustedIdentities::Subjects(s) => s,
    };
    let leaf = chain
        .first()
        .map(|c| DistinguishedName::from_x509_name(c.subject_name()));
    let leaf = leaf.unwrap_or_default();
    if subjects.iter().any(|id| id.is_subset_of(&leaf)) {
        Ok(())
    } else {
        Err(Failure::IdentityNotTrusted {
            subject: leaf.to_string(),
            identities: subjects.iter().map(|s| s.to_string()).collect(),
            statement: st.name.clone(),
        })
    }
}

/// The 1-based position in `chain` of the certificate whose subject (as
/// the revocation checker names it) is `subject`, with its subject as
/// upstream prints it.
fn position_in_chain(chain: &[X509], subject: &str) -> Option<(usize, String)> {
    chain.iter().enumerate().find_map(|(i, c)| {
        (DistinguishedName::from_x509_name(c.subject_name()).to_string() == subject)
            .then(|| (i + 1, chain::upstream_subject(c.subject_name())))
    })
}

fn any_expired(chain: &[X509], now: OffsetDateTime) -> bool {
    chain
        .iter()
        .any(|c| envelope::cert::check_valid_at(std::slice::from_ref(c), now).is_err())
}

/// The authentic timestamp step. `chain` is the envelope's chain plus any
/// trust-store certificate the built path relies on.
#[allow(clippy::too_many_arguments)]
fn authentic_timestamp(
    st: &PolicyStatement,
    env: &SignatureEnvelope,
    chain: &[X509],
    scheme: &SigningScheme,
    action: Action,
    now: OffsetDateTime,
    trust_store: &TrustStore,
    revocation: &dyn RevocationChecker,
    notes: &mut Vec<Note>,
) -> Result<(), Failure> {
    match scheme {
        SigningScheme::X509SigningAuthority => {
            let t = env.signed_attributes.signing_time;
            envelope::cert::check_valid_at(chain, t).map_err(|source| {
                Failure::AuthenticSigningTimeOutsideValidity {
                    signing_time: t,
                    source,
                    validity: chain::first_invalid_at(chain, t).map(Box::new),
                }
            })
        }
        _ => {
            let has_tsa = st
                .trust_stores
                .iter()
                .any(|r| r.store_type == StoreType::Tsa);
            let triggered = action != Action::Skip
                && has_tsa
                && match st.verification.verify_timestamp {
                    VerifyTimestamp::Always => true,
                    VerifyTimestamp::AfterCertExpiry => any_expired(chain, now),
                };
            let token = env
                .unsigned_attributes
                .timestamp_signature
                .as_deref()
                .filter(|t| !t.is_empty());
            let has_timestamp = token.is_some();
            if triggered {
                let token = token.ok_or(Failure::MissingTimestamp)?;
                verify_timestamp(st, env, chain, token, trust_store, revocation, notes)?;
                notes.push(Note::TimestampVerified);
                return Ok(());
            }
            if action != Action::Skip {
                notes.push(Note::TimestampVerificationDisabled(if !has_tsa {
                    "no tsa trust store is configured in trust policy"
                } else {
                    "verifyTimestamp is set to \"afterCertExpiry\" and signing cert chain unexpired"
                }));
            }
            if has_timestamp {
                notes.push(Note::TimestampNotVerified);
            }
            envelope::cert::check_valid_at(chain, now).map_err(|source| {
                Failure::CertificateNotValidNow {
                    at: now,
                    source,
                    validity: chain::first_invalid_at(chain, now).map(Box::new),
                }
            })
        }
    }
}

/// Timestamp countersignature verification: the token verifies and
/// chains to the statement's `tsa` stores, no TSA certificate is revoked
/// (or of unknown status: the spec always enforces this check once the
/// timestamp is verified), it imprints the envelope's signature, and every
/// certificate of `chain` is valid over the whole timestamp range
/// (`genTime` ± accuracy).
fn verify_timestamp(
    st: &PolicyStatement,
    env: &SignatureEnvelope,
    chain: &[X509],
    token: &[u8],
    trust_store: &TrustStore,
    revocation: &dyn RevocationChecker,
    notes: &mut Vec<Note>,
) -> Result<(), Failure> {
    let mut anchors: Vec<X509> = Vec::new();
    for r in st
        .trust_stores
        .iter()
        .filter(|r| r.store_type == StoreType::Tsa)
    {
        let store = trust_store
            .load(r.store_type, &r.name)
            .map_err(Failure::TrustStore)?;
        notes.extend(store.ignored.into_iter().map(Note::IgnoredTrustStoreEntry));
        anchors.extend(store.certificates.into_iter().map(|c| c.certificate));
    }
    let ts = crate::timestamp::verify_token(token, &anchors).map_err(Failure::Timestamp)?;
    ts.claims
        .check_imprint(&env.signature)
        .map_err(Failure::Timestamp)?;
    // Whether the TSA is still trusted now: no authentic signing time.
    match revocation.check(&ts.tsa_chain, None) {
        RevocationStatus::Good => {}
        RevocationStatus::Revoked {
            subject,
            method,
            url,
        } => {
            return Err(Failure::Timestamp(
                crate::timestamp::TimestampError::TsaRevoked {
                    subject,
                    method,
                    url,
                },
            ))
        }
        RevocationStatus::Unavailable { subject, problems } => {
            return Err(Failure::Timestamp(
                crate::timestamp::TimestampError::TsaRevocationUnavailable { subject, problems },
            ))
        }
    }
    let overflow = || {
        Failure::Timestamp(crate::timestamp::TimestampError::TimeRangeOverflow {
            gen_time: ts.claims.gen_time,
        })
    };
    let (lower, upper) = (
        ts.claims.lower_limit().map_err(Failure::Timestamp)?,
        ts.claims.upper_limit().map_err(Failure::Timestamp)?,
    );
    // Whole seconds, rounded outwards: validity periods are in seconds.
    let floor = lower.replace_nanosecond(0).unwrap_or(lower);
    let ceil = if upper.nanosecond() == 0 {
        upper
    } else {
        upper
            .replace_nanosecond(0)
            .unwrap_or(upper)
            .checked_add(time::Duration::SECOND)
            .ok_or_else(overflow)?
    };
    for at in [floor, ceil] {
        envelope::cert::check_valid_at(chain, at).map_err(|source| {
            Failure::NotValidAtTimestamp {
                lower,
                upper,
                source,
                validity: chain::first_invalid_at(chain, at).map(Box::new),
            }
        })?;
    }
    Ok(())
}

/// The verification plugin named by the signature, if any. Either plugin
/// attribute, when present, must be a single non-empty text value, and a
/// minimum version without a plugin name is malformed: otherwise a signer's
/// demand for a plugin could silently turn into "no plugin".
fn plugin_attributes(env: &SignatureEnvelope) -> Result<Option<String>, Failure> {
    let text = |attribute: &'static str| -> Result<Option<String>, Failure> {
        let mut found = env
            .signed_attributes
            .extended
            .iter()
            .filter(|a| a.key == attribute);
        let Some(first) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(Failure::PluginAttributeMalformed { attribute });
        }
        match first.value.as_str() {
            Some(v) if !v.trim().is_empty() => Ok(Some(v.to_string())),
            _ => Err(Failure::PluginAttributeMalformed { attribute }),
        }
    };
    let name = text(header_names::VERIFICATION_PLUGIN)?;
    let min_version = text(header_names::VERIFICATION_PLUGIN_MIN_VERSION)?;
    if name.is_none() && min_version.is_some() {
        return Err(Failure::PluginMinVersionWithoutPlugin);
    }
    Ok(name)
}

fn user_metadata(input: &VerifyInput, payload: &envelope::Payload) -> Result<(), Failure> {
    let annotations = payload.target_artifact.annotations.as_ref();
    for (key, expected) in &input.user_metadata {
        match annotations.and_then(|a| a.get(key)) {
            None => {
                return Err(Failure::UserMetadataMissing {
                    key: key.clone(),
                    expected: expected.clone(),
                })
            }
            Some(found) if found != expected => {
                return Err(Failure::UserMetadataMismatch {
                    key: key.clone(),
                    expected: expected.clone(),
                    found: found.clone(),
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}
