//! Verification results: per check, per signature, per artifact.
//!
//! Ranking: [`Check`] is ordered by how far verification got, in pipeline
//! order: integrity < authenticity < trusted identity < expiry < authentic
//! timestamp < revocation < extended validation (plugin) < user metadata.
//! When every signature of an artifact fails, the most relevant failure is
//! the one at the **highest** rank: a signature that failed late (e.g. a
//! trusted signature whose metadata does not match) says more about what
//! the user must fix than a corrupt or foreign signature that failed early.
//! Ties keep the first signature in input order.

use std::fmt;
use std::path::PathBuf;

use notation_plugin_sdk::envelope::{EnvelopeError, Payload, SigningScheme};
use notation_plugin_sdk::vocab::Capability;
use time::OffsetDateTime;

use super::chain::{go_utc, rfc1123z, CaRule, InvalidAt};
use super::plugin::PluginCallError;
use super::revocation::{Method as RevocationMethod, RevocationProblems};
use crate::timestamp::TimestampError;
use crate::trustpolicy::{PolicyError, VerificationLevel};
use crate::truststore::{StoreType, TrustStoreError};

/// One validation of the workflow, in pipeline (and ranking) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// The envelope parses, its signature verifies, it signs this artifact.
    Integrity,
    /// The chain meets the certificate requirements and leads to a
    /// certificate in the policy's trust stores of the right type.
    Authenticity,
    /// The signing certificate's subject matches a trusted identity.
    TrustedIdentity,
    /// The signature's expiry time has not passed.
    Expiry,
    /// The chain is valid now (or at a verified timestamp / authentic signing time).
    AuthenticTimestamp,
    /// No certificate of the chain is revoked.
    Revocation,
    /// The verification plugin named by the signature accepted it.
    ExtendedValidation,
    /// The user's `-m key=value` pairs are in the signed payload.
    UserMetadata,
}

impl Check {
    /// All checks in pipeline order.
    pub const ALL: [Check; 8] = [
        Check::Integrity,
        Check::Authenticity,
        Check::TrustedIdentity,
        Check::Expiry,
        Check::AuthenticTimestamp,
        Check::Revocation,
        Check::ExtendedValidation,
        Check::UserMetadata,
    ];

    /// A short name for display.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Integrity => "integrity",
            Check::Authenticity => "authenticity",
            Check::TrustedIdentity => "trusted identity",
            Check::Expiry => "expiry",
            Check::AuthenticTimestamp => "authentic timestamp",
            Check::Revocation => "revocation",
            Check::ExtendedValidation => "extended validation",
            Check::UserMetadata => "user metadata",
        }
    }
}

impl Check {
    /// The trust policy's name for the validation this check belongs to
    /// (`integrity`, `authenticity`, `authenticTimestamp`, `expiry`,
    /// `revocation`), as upstream names it in `NAME validation failed` and
    /// `NAME was set to "log"`; trusted identity is part of `authenticity`.
    /// `None` for the checks the trust policy does not name.
    pub fn validation_name(self) -> Option<&'static str> {
        match self {
            Check::Integrity => Some("integrity"),
            Check::Authenticity | Check::TrustedIdentity => Some("authenticity"),
            Check::Expiry => Some("expiry"),
            Check::AuthenticTimestamp => Some("authenticTimestamp"),
            Check::Revocation => Some("revocation"),
            Check::ExtendedValidation | Check::UserMetadata => None,
        }
    }

    /// The step name upstream logs at debug level before this check
    /// (`Validating cert chain`, ...), or ours where upstream logs none.
    pub fn step_name(self) -> &'static str {
        match self {
            Check::Integrity => "Validating integrity",
            Check::Authenticity => "Validating cert chain",
            Check::TrustedIdentity => "Validating trust identity",
            Check::Expiry => "Validating expiry",
            Check::AuthenticTimestamp => "Validating authentic timestamp",
            Check::Revocation => "Validating revocation",
            Check::ExtendedValidation => "Executing verification plugin",
            Check::UserMetadata => "Verifying that metadata is present in signature",
        }
    }
}

impl fmt::Display for Check {
    /// The trust policy's validation name where there is one
    /// ([`Check::validation_name`]), else [`Check::as_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.validation_name().unwrap_or(self.as_str()))
    }
}

/// Why a check failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The envelope media type is not JWS or COSE.
    #[error("unable to parse the digital signature, error : signature envelope format with media type {media_type:?} is not supported (use application/jose+json or application/cose)")]
    UnsupportedEnvelopeType {
        /// The media type.
        media_type: String,
    },
    /// The envelope could not be decoded or is structurally invalid.
    #[error("unable to parse the digital signature, error : {0}")]
    InvalidEnvelope(#[source] EnvelopeError),
    /// The signature does not verify.
    #[error("signature is invalid. Error: {0}")]
    SignatureInvalid(#[source] EnvelopeError),
    /// The payload cannot be decoded.
    #[error("the signed payload is invalid: {0}")]
    InvalidPayload(#[source] EnvelopeError),
    /// The signature is for another artifact.
    #[error(
        "content descriptor mismatch: the signature is for artifact {signed}, not for {expected}"
    )]
    TargetDigestMismatch {
        /// The artifact being verified.
        expected: String,
        /// The digest in the signed payload.
        signed: String,
    },
    /// The signed descriptor's size or media type differs from the artifact's.
    #[error("content descriptor mismatch: the signed descriptor's {field} is {signed}, the artifact's is {expected}")]
    TargetDescriptorMismatch {
        /// `size` or `mediaType`.
        field: &'static str,
        /// The artifact's value.
        expected: String,
        /// The signed value.
        signed: String,
    },
    /// A critical attribute is not understood and no plugin processes it.
    #[error("the signature has a critical attribute this verifier does not understand: {0}")]
    UnknownCriticalAttribute(#[source] EnvelopeError),
    /// The certificate chain fails the certificate requirements.
    #[error("the certificate chain does not meet the requirements: {0}")]
    CertificateRequirement(#[source] EnvelopeError),
    /// The chain is not valid at the signing time.
    #[error("{}", not_valid_at_signing_time(signing_time, validity.as_deref(), source))]
    NotValidAtSigningTime {
        /// The (unauthenticated) signing time.
        signing_time: OffsetDateTime,
        /// Which certificate.
        #[source]
        source: EnvelopeError,
        /// The certificate and its validity period, when they could be read.
        validity: Option<Box<InvalidAt>>,
    },
    /// The policy lists no trust store of the type the signing scheme needs.
    #[error("the trust policy statement {statement:?} lists no trust store of type {store_type}, which signing scheme {scheme} requires")]
    NoTrustStoreForScheme {
        /// The statement.
        statement: String,
        /// The store type needed.
        store_type: StoreType,
        /// The scheme.
        scheme: SigningScheme,
    },
    /// A trust store could not be loaded.
    #[error("trust store error: {0}")]
    TrustStore(#[source] TrustStoreError),
    /// A verification-plugin attribute is present but not a non-empty text value.
    #[error("the signed attribute {attribute} must be a non-empty text value; the signature is malformed")]
    PluginAttributeMalformed {
        /// The attribute name.
        attribute: &'static str,
    },
    /// `verificationPluginMinVersion` is present without `verificationPlugin`.
    #[error("the signature requires a minimum verification plugin version but names no verification plugin; the signature is malformed")]
    PluginMinVersionWithoutPlugin,
    /// A trust-store certificate that the built path uses as an issuer does
    /// not meet the CA rules.
    #[error("trust store certificate {subject:?} is used as an issuer but does not meet the CA requirements: {}", rule.as_str())]
    TrustAnchorNotCa {
        /// Its subject.
        subject: String,
        /// The rule it breaks.
        rule: CaRule,
    },
    /// The chain does not lead to a trusted certificate.
    #[error("the signature's certificate chain does not contain any trusted certificate: signature is not produced by a trusted signer (trust stores {stores}; {openssl_reason} at chain depth {depth})")]
    UntrustedChain {
        /// The stores consulted, e.g. `ca:acme, ca:other`.
        stores: String,
        /// OpenSSL's reason.
        openssl_reason: &'static str,
        /// Depth of the certificate where building failed.
        depth: u32,
    },
    /// Unsupported signing scheme.
    #[error("signing scheme {0} is not supported")]
    UnsupportedSigningScheme(SigningScheme),
    /// The signing certificate's subject matches no trusted identity.
    #[error("signing certificate from the digital signature does not match the X.509 trusted identities {} defined in the trust policy {statement:?} (the signing certificate's subject is {subject:?})", quoted_list(identities))]
    IdentityNotTrusted {
        /// The subject.
        subject: String,
        /// The statement's trusted identities (the `x509.subject:` values).
        identities: Vec<String>,
        /// The statement.
        statement: String,
    },
    /// The signature has expired.
    #[error(
        "digital signature has expired on {:?} (verification time {})",
        rfc1123z(expiry),
        rfc3339(now)
    )]
    Expired {
        /// Its expiry time.
        expiry: OffsetDateTime,
        /// The verification time.
        now: OffsetDateTime,
    },
    /// A certificate of the chain is not valid at verification time and no
    /// timestamp vouches for the signing time.
    #[error("{}", not_valid_now(at, validity.as_deref(), source))]
    CertificateNotValidNow {
        /// The verification time.
        at: OffsetDateTime,
        /// Which certificate.
        #[source]
        source: EnvelopeError,
        /// The certificate and its validity period, when they could be read.
        validity: Option<Box<InvalidAt>>,
    },
    /// Timestamp verification is required by the policy but no timestamp is present.
    #[error("no timestamp countersignature was found in the signature envelope (the trust policy's tsa trust store and verifyTimestamp setting require one)")]
    MissingTimestamp,
    /// The timestamp countersignature is invalid or untrusted.
    #[error("the timestamp countersignature is not valid: {0}")]
    Timestamp(#[source] TimestampError),
    /// A certificate of the chain was not valid over the whole range the
    /// verified timestamp allows (`genTime` ± accuracy).
    #[error("{}", not_valid_at_timestamp(lower, upper, validity.as_deref(), source))]
    NotValidAtTimestamp {
        /// `genTime - accuracy`.
        lower: OffsetDateTime,
        /// `genTime + accuracy`.
        upper: OffsetDateTime,
        /// Which certificate.
        #[source]
        source: EnvelopeError,
        /// The certificate and its validity period, when they could be read.
        validity: Option<Box<InvalidAt>>,
    },
    /// The authentic signing time lies outside the chain's validity.
    #[error(
        "certificate {:?} was not valid when the digital signature was produced at {:?} ({source})",
        validity.as_deref().map(|v| v.subject.as_str()).unwrap_or(""),
        rfc1123z(signing_time)
    )]
    AuthenticSigningTimeOutsideValidity {
        /// The authentic signing time.
        signing_time: OffsetDateTime,
        /// Which certificate.
        #[source]
        source: EnvelopeError,
        /// The certificate and its validity period, when they could be read.
        validity: Option<Box<InvalidAt>>,
    },
    /// A certificate is revoked.
    #[error("{}", revoked(subject, in_chain.as_ref(), *method, url))]
    Revoked {
        /// Its subject.
        subject: String,
        /// Its 1-based position in the envelope's chain and its subject as
        /// upstream prints it, when found.
        in_chain: Option<(usize, String)>,
        /// What said so.
        method: RevocationMethod,
        /// Where the answer came from.
        url: String,
    },
    /// Revocation status could not be determined although the certificate
    /// names revocation endpoints.
    #[error("signing certificate with subject {:?} revocation status is unknown ({problems}; check network access to the OCSP/CRL endpoints)", in_chain.as_ref().map(|(_, s)| s.as_str()).unwrap_or(subject))]
    RevocationUnavailable {
        /// Its subject.
        subject: String,
        /// Its 1-based position in the envelope's chain and its subject as
        /// upstream prints it, when found.
        in_chain: Option<(usize, String)>,
        /// What went wrong with each source tried.
        problems: RevocationProblems,
    },
    /// The named verification plugin could not be used.
    #[error("error while locating the verification plugin {plugin:?}, make sure the plugin is installed successfully before verifying the signature. error: {source}")]
    PluginUnavailable {
        /// The plugin name.
        plugin: String,
        /// Why.
        #[source]
        source: PluginCallError,
    },
    /// No plugin loader is configured (no plugin directory).
    #[error("plugin unsupported due to nil verifier.pluginManager (verification plugin {plugin:?} is required by the signature but no plugin directory is configured: set NOTATION_CONFIG or NOTATION_LIBEXEC to a directory whose plugins/ folder holds it)")]
    NoPluginDirectory {
        /// The plugin name.
        plugin: String,
    },
    /// A version (plugin's or minimum) is not SemVer.
    #[error("plugin {plugin} has pluginVersion {version} which is not in valid semver format (the plugin's version or the signature's minimum plugin version)")]
    PluginVersionInvalid {
        /// The plugin.
        plugin: String,
        /// The bad version string.
        version: String,
    },
    /// The plugin is older than the signature requires.
    #[error("found plugin {plugin} with version {found} but signature verification needs plugin version greater than or equal to {required}; upgrade the plugin")]
    PluginVersionTooLow {
        /// The plugin.
        plugin: String,
        /// Minimum version.
        required: String,
        /// Installed version.
        found: String,
    },
    /// The plugin has no `SIGNATURE_VERIFIER.*` capability.
    #[error(
        "digital signature requires plugin {plugin:?} with signature verification capabilities (\"SIGNATURE_VERIFIER.TRUSTED_IDENTITY\" and/or \"SIGNATURE_VERIFIER.REVOCATION_CHECK\") installed"
    )]
    PluginNotVerifier {
        /// The plugin.
        plugin: String,
    },
    /// The plugin's results do not cover exactly what was asked.
    #[error("verification plugin {plugin:?} failed to verify {} (it returned results for {returned:?} but was asked for {requested:?})", quoted_caps(requested, returned))]
    PluginResultsMismatch {
        /// The plugin.
        plugin: String,
        /// Requested capabilities.
        requested: Vec<Capability>,
        /// Returned keys.
        returned: Vec<Capability>,
    },
    /// The plugin did not process every unknown critical attribute.
    #[error("extended critical attribute {} was not processed by the verification plugin {plugin:?} (all extended critical attributes must be processed by the verification plugin)", quoted_list(unprocessed))]
    PluginUnprocessedAttributes {
        /// The plugin.
        plugin: String,
        /// Attributes left unprocessed (or claimed but not asked).
        unprocessed: Vec<String>,
    },
    /// A plugin-performed check failed.
    #[error("{}", plugin_check_failed(plugin, capability, reason))]
    PluginCheckFailed {
        /// The plugin.
        plugin: String,
        /// The capability.
        capability: Capability,
        /// The plugin's reason (plugin-provided text).
        reason: String,
    },
    /// A `-m` key is not in the payload.
    #[error("unable to find specified metadata in the signature: {key}={expected} is not in the signed payload")]
    UserMetadataMissing {
        /// Key.
        key: String,
        /// Expected value.
        expected: String,
    },
    /// A `-m` key has another value in the payload.
    #[error("unable to find specified metadata in the signature: {key} is {found:?} in the signed payload, not {expected:?}")]
    UserMetadataMismatch {
        /// Key.
        key: String,
        /// Expected value.
        expected: String,
        /// Signed value.
        found: String,
    },
    /// Cryptographic library failure while checking.
    #[error("cryptographic operation failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

/// Why a check was not (fully) performed although it was not skipped by policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotChecked {
    /// The plugin performs this check but was not asked (policy skips it).
    NotApplicable,
}

/// Status of one check for one signature.
#[derive(Debug)]
pub enum CheckStatus {
    /// Performed and passed.
    Passed,
    /// Failed and enforced: the signature fails.
    Failed(Failure),
    /// Failed but only logged: verification continued.
    Logged(Failure),
    /// Skipped by the trust policy (level `skip` or an override).
    Skipped,
    /// Not performed for a reason other than policy (see [`NotChecked`]).
    NotChecked(NotChecked),
    /// Not reached: an earlier enforced failure ended verification.
    NotEvaluated,
}

impl CheckStatus {
    /// How reports word this status (`passed`, `failed (logged)`, ...),
    /// with the failure when there is one.
    pub fn word(&self) -> (&'static str, Option<&Failure>) {
        match self {
            CheckStatus::Passed => ("passed", None),
            CheckStatus::Failed(f) => ("failed", Some(f)),
            CheckStatus::Logged(f) => ("failed (logged)", Some(f)),
            CheckStatus::Skipped => ("skipped", None),
            CheckStatus::NotChecked(NotChecked::NotApplicable) => ("not applicable", None),
            CheckStatus::NotEvaluated => ("not evaluated", None),
        }
    }

    /// The failure, whether enforced or logged.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            CheckStatus::Failed(f) | CheckStatus::Logged(f) => Some(f),
            _ => None,
        }
    }
}

/// Something worth telling the user that is not a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The envelope carries a timestamp countersignature that was not
    /// verified (the policy does not ask for it, or verification is not
    /// supported yet); it was not relied upon.
    TimestampNotVerified,
    /// A sub-directory inside a named trust store was ignored.
    IgnoredTrustStoreEntry(PathBuf),
    /// The timestamp countersignature was not verified, for this reason
    /// (upstream's words, e.g. `no tsa trust store is configured in trust
    /// policy`); the chain had to be valid at verification time instead.
    TimestampVerificationDisabled(&'static str),
    /// The timestamp countersignature was verified and vouched for the
    /// signing time.
    TimestampVerified,
}

/// The result of verifying one signature.
#[derive(Debug)]
pub struct SignatureOutcome {
    /// The policy statement applied.
    pub statement: String,
    /// Its level.
    pub level: VerificationLevel,
    /// Status of every [`Check`], in [`Check::ALL`] order.
    pub checks: Vec<(Check, CheckStatus)>,
    /// The signed payload, once integrity passed.
    pub payload: Option<Payload>,
    /// The signing scheme, once parsed.
    pub signing_scheme: Option<SigningScheme>,
    /// The signing (or authentic signing) time, once parsed.
    pub signing_time: Option<OffsetDateTime>,
    /// The signing certificate's subject, once parsed.
    pub signer: Option<String>,
    /// Notes.
    pub notes: Vec<Note>,
}

impl SignatureOutcome {
    /// Status of one check.
    pub fn status(&self, check: Check) -> &CheckStatus {
        self.checks
            .iter()
            .find(|(c, _)| *c == check)
            .map(|(_, s)| s)
            .unwrap_or(&CheckStatus::NotEvaluated)
    }

    /// Whether the signature is accepted under its policy: no enforced
    /// failure, and (unless the level is `skip`) integrity passed.
    pub fn passed(&self) -> bool {
        let no_enforced = !self
            .checks
            .iter()
            .any(|(_, s)| matches!(s, CheckStatus::Failed(_) | CheckStatus::NotEvaluated));
        no_enforced
            && (self.level == VerificationLevel::Skip
                || matches!(self.status(Check::Integrity), CheckStatus::Passed))
    }

    /// The enforced failure, if any.
    pub fn enforced_failure(&self) -> Option<(Check, &Failure)> {
        self.checks.iter().find_map(|(c, s)| match s {
            CheckStatus::Failed(f) => Some((*c, f)),
            _ => None,
        })
    }

    /// The `-d` debug lines for this signature: the step names upstream
    /// logs (`Verify signature against artifact DIGEST`, `Validating cert
    /// chain`, ...), each followed by our result for it.
    /// `artifact_digest` is the verified artifact's digest,
    /// `signature_digest` the signature (manifest digest, or file for a blob).
    pub fn debug_lines(&self, artifact_digest: &str, signature_digest: &str) -> Vec<String> {
        let mut lines = vec![format!(
            "Verify signature against artifact {artifact_digest} (signature {signature_digest}, trust policy statement {:?}, level {}): {}",
            self.statement,
            self.level.as_str(),
            if self.passed() { "passed" } else { "failed" }
        )];
        for (check, status) in &self.checks {
            if *check == Check::AuthenticTimestamp {
                for note in &self.notes {
                    match note {
                        Note::TimestampVerificationDisabled(why) => {
                            lines.push(format!("Timestamp verification disabled: {why}"))
                        }
                        Note::TimestampVerified => {
                            lines.push("Performing timestamp verification...".to_string());
                            lines.push("Timestamp verification: Success".to_string());
                        }
                        _ => {}
                    }
                }
            }
            let (word, detail) = status.word();
            let mut line = format!("{}: {word}", check.step_name());
            if let Some(f) = detail {
                line.push_str(&format!(": {f}"));
            }
            lines.push(line);
            if *check == Check::Revocation && matches!(status, CheckStatus::Passed) {
                lines.push(
                    "No verification impacting errors encountered while checking revocation, status is OK"
                        .to_string(),
                );
            }
        }
        for note in &self.notes {
            if let Note::IgnoredTrustStoreEntry(p) = note {
                lines.push(format!(
                    "Ignored {} inside a named trust store: only certificate files are read",
                    p.display()
                ));
            }
        }
        lines
    }

    /// Logged (non-fatal) failures.
    pub fn logged_failures(&self) -> impl Iterator<Item = (Check, &Failure)> {
        self.checks.iter().filter_map(|(c, s)| match s {
            CheckStatus::Logged(f) => Some((*c, f)),
            _ => None,
        })
    }
}

/// Why an artifact's verification failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactFailure {
    /// No trust policy statement applies.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The artifact has no signature.
    #[error("no signature is associated with {reference:?}, make sure the artifact was signed successfully")]
    NoSignature {
        /// The artifact reference.
        reference: String,
    },
}

/// The result of verifying an artifact's signatures.
#[derive(Debug)]
pub struct ArtifactOutcome {
    /// The statement applied.
    pub statement: String,
    /// Its level.
    pub level: VerificationLevel,
    /// One outcome per signature examined, in input order (empty for `skip`).
    pub signatures: Vec<SignatureOutcome>,
}

impl ArtifactOutcome {
    /// Whether the artifact passes: level `skip`, or ANY signature passes.
    pub fn passed(&self) -> bool {
        self.level == VerificationLevel::Skip || self.signatures.iter().any(|s| s.passed())
    }

    /// The first passing signature.
    pub fn accepted(&self) -> Option<&SignatureOutcome> {
        self.signatures.iter().find(|s| s.passed())
    }

    /// When no signature passed: the most relevant enforced failure (see the
    /// module docs for the ranking) with the index of its signature.
    pub fn most_relevant_failure(&self) -> Option<(usize, Check, &Failure)> {
        if self.passed() {
            return None;
        }
        let mut best: Option<(usize, Check, &Failure)> = None;
        for (i, s) in self.signatures.iter().enumerate() {
            if let Some((c, f)) = s.enforced_failure() {
                if best.is_none_or(|(_, bc, _)| c > bc) {
                    best = Some((i, c, f));
                }
            }
        }
        best
    }
}

/// `certificate "S" is not valid yet|anymore, ...`: upstream's words for a
/// chain that is not valid at verification time, then ours.
fn not_valid_now(at: &OffsetDateTime, v: Option<&InvalidAt>, source: &EnvelopeError) -> String {
    match v {
        Some(v) if v.expired => format!(
            "certificate {:?} is not valid anymore, it was expired at {:?} (verification time {}; no verified timestamp vouches for the signing time)",
            v.subject,
            rfc1123z(&v.not_after),
            rfc3339(at)
        ),
        Some(v) => format!(
            "certificate {:?} is not valid yet, it will be valid from {:?} (verification time {})",
            v.subject,
            rfc1123z(&v.not_before),
            rfc3339(at)
        ),
        None => format!(
            "certificate chain is not valid at verification time {}: {source}",
            rfc3339(at)
        ),
    }
}

/// notation-core-go's words for a chain not valid at the signing time.
fn not_valid_at_signing_time(
    t: &OffsetDateTime,
    v: Option<&InvalidAt>,
    source: &EnvelopeError,
) -> String {
    match v {
        Some(v) => format!(
            "certificate with subject {:?} was invalid at signing time of {}. Certificate is valid from [{}] to [{}]",
            v.subject,
            go_utc(t),
            go_utc(&v.not_before),
            go_utc(&v.not_after)
        ),
        None => format!(
            "the certificate chain was not valid at the signing time {}: {source}",
            rfc3339(t)
        ),
    }
}

/// Upstream's words for a chain not valid over the timestamp's range.
fn not_valid_at_timestamp(
    lower: &OffsetDateTime,
    upper: &OffsetDateTime,
    v: Option<&InvalidAt>,
    source: &EnvelopeError,
) -> String {
    let range = format!("timestamp range {} to {}", rfc3339(lower), rfc3339(upper));
    match v {
        Some(v) if v.expired => format!(
            "timestamp can be after certificate {:?} validity period, it was expired at {:?} ({range})",
            v.subject,
            rfc1123z(&v.not_after)
        ),
        Some(v) => format!(
            "timestamp can be before certificate {:?} validity period, it will be valid from {:?} ({range})",
            v.subject,
            rfc1123z(&v.not_before)
        ),
        None => format!("certificate chain was not valid over the whole {range}: {source}"),
    }
}

/// notation-go's words for a revoked certificate, then its per-certificate
/// log line as our context.
fn revoked(
    subject: &str,
    in_chain: Option<&(usize, String)>,
    method: RevocationMethod,
    url: &str,
) -> String {
    match in_chain {
        Some((n, s)) => format!(
            "signing certificate with subject {s:?} is revoked (Certificate #{n} in chain with subject {s:?} encountered an error for revocation method {method} at URL {url:?}: certificate is revoked via {method})"
        ),
        None => format!(
            "signing certificate with subject {subject:?} is revoked (according to {method} at {url:?})"
        ),
    }
}

/// `["a" "b"]`, as Go's `%q` prints a list of strings.
fn quoted_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    format!("[{}]", inner.join(" "))
}

/// The requested capabilities the plugin returned no result for.
fn quoted_caps(requested: &[Capability], returned: &[Capability]) -> String {
    let missing: Vec<String> = requested
        .iter()
        .filter(|c| !returned.contains(c))
        .map(|c| c.as_str().to_string())
        .collect();
    quoted_list(&missing)
}

/// Upstream's words for a failed plugin-performed check.
fn plugin_check_failed(plugin: &str, capability: &Capability, reason: &str) -> String {
    match capability {
        Capability::SignatureVerifierTrustedIdentity => format!(
            "trusted identify verification by plugin {plugin:?} failed with reason {reason:?}"
        ),
        Capability::SignatureVerifierRevocationCheck => format!(
            "revocation check by verification plugin {plugin:?} failed with reason {reason:?}"
        ),
        other => {
            format!("verification plugin {plugin:?} reports {other} failed with reason {reason:?}")
        }
    }
}

/// `NAME validation failed. Failure reason: ...` (upstream's log line for
/// an enforced failure) for the trust policy's validations; the failure
/// itself for the checks the trust policy does not name.
pub fn failure_line(check: Check, failure: &Failure) -> String {
    match check.validation_name() {
        Some(name) => format!("{name} validation failed. Failure reason: {failure}"),
        None => failure.to_string(),
    }
}

/// `Check verification level against artifact REF` (upstream's first debug
/// step), then the statement and level that apply.
pub fn check_level_line(reference: &str, statement: &str, level: VerificationLevel) -> String {
    format!(
        "Check verification level against artifact {reference}: trust policy statement {statement:?}, level {}",
        level.as_str()
    )
}

/// A time as RFC 3339 in its own offset (`2023-06-27T13:21:21+08:00`, with a
/// fraction only when there is one), as messages show times.
fn rfc3339(t: &OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_in_messages_are_rfc3339() {
        let f = Failure::Expired {
            expiry: datetime!(2023-06-27 13:21:21 +08:00),
            now: datetime!(2024-01-01 00:00:00 UTC),
        };
        assert_eq!(
            f.to_string(),
            "digital signature has expired on \"Tue, 27 Jun 2023 13:21:21 +0800\" (verification time 2024-01-01T00:00:00Z)"
        );
        let f = Failure::Expired {
            expiry: datetime!(2023-06-27 05:21:21.5 UTC),
            now: datetime!(2024-01-01 00:00:00 UTC),
        };
        assert_eq!(
            f.to_string(),
            "digital signature has expired on \"Tue, 27 Jun 2023 05:21:21 +0000\" (verification time 2024-01-01T00:00:00Z)"
        );
    }
}
