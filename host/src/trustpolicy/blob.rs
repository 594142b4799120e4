//! Blob trust policy documents (`trustpolicy.blob.json`, version 1.0):
//! parsing, validation and statement selection.
//!
//! A blob statement has the fields of an OCI statement except
//! `registryScopes`, plus an optional `globalPolicy` flag. Each statement
//! is validated by the same code as an OCI statement (level, overrides,
//! `verifyTimestamp`, trust store references, trusted identities), so the
//! two documents cannot drift apart. On top of that, for the whole document:
//! * statement names are unique;
//! * at most one statement has `"globalPolicy": true`;
//! * the global statement's level is not `skip`;
//! * `registryScopes` is refused (it belongs in `trustpolicy.oci.json`; a
//!   blob statement is chosen by name, never by repository).
//!
//! [`BlobTrustPolicy::select`] picks the statement named by
//! `--policy-name`, or the global statement when no name is given.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{
    read_capped, validate_statement, PolicyError, PolicyStatement, Scopes,
    SignatureVerificationDocument, StatementDocument, VerificationLevel, POLICY_VERSION,
};

/// File name of the blob trust policy in the configuration directory.
pub const BLOB_POLICY_FILE: &str = "trustpolicy.blob.json";

/// Placeholder scope used only to run the shared statement validation,
/// which requires a valid `registryScopes`; it never reaches a validated
/// blob statement.
const VALIDATION_SCOPE: &str = "blob.notation.invalid/blob";

/// The blob trust policy document exactly as written. Unknown fields are
/// ignored; missing fields are reported by [`BlobPolicyDocument::validate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobPolicyDocument {
    /// `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `trustPolicies`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_policies: Option<Vec<BlobStatementDocument>>,
}

/// One statement of a [`BlobPolicyDocument`], as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobStatementDocument {
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `signatureVerification`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_verification: Option<SignatureVerificationDocument>,
    /// `globalPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_policy: Option<bool>,
    /// `trustStores`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_stores: Option<Vec<String>>,
    /// `trustedIdentities`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_identities: Option<Vec<String>>,
    /// `registryScopes`: read only so that it can be refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_scopes: Option<Vec<String>>,
}

/// A validated blob trust policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobTrustPolicy {
    /// The statements, in document order. Their `scopes` are empty
    /// repository lists: blob statements are selected by name.
    pub statements: Vec<PolicyStatement>,
    /// Index in `statements` of the `globalPolicy` statement, if any.
    pub global: Option<usize>,
}

/// How the statement to verify with is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySelector {
    /// `--policy-name NAME`.
    Name(String),
    /// No name given: the global statement.
    Global,
}

impl fmt::Display for PolicySelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySelector::Name(n) => write!(f, "{n:?}"),
            PolicySelector::Global => f.write_str("the global policy"),
        }
    }
}

/// Why a blob trust policy could not be loaded, validated or applied.
#[derive(Debug, thiserror::Error)]
pub enum BlobPolicyError {
    /// A rule shared with OCI policies failed (reading, JSON, version, an
    /// invalid statement field).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// `trustpolicy.blob.json` does not exist.
    #[error("trust policy is not present. To create a trust policy, see: {} (no blob trust policy at {}: create one with `notation blob policy init` or `notation blob policy import <file>`)", super::TRUST_POLICY_LINK, path.display())]
    NotFound {
        /// The path looked for.
        path: PathBuf,
    },
    /// Two statements have the same name.
    #[error("blob trust policy statement {statement:?}: the name is used by more than one statement; statement names must be unique")]
    DuplicateName {
        /// The repeated name.
        statement: String,
    },
    /// More than one statement has `globalPolicy: true`.
    #[error("blob trust policy statements {first:?} and {second:?} are both marked \"globalPolicy\": true; only one statement may be the global policy")]
    MultipleGlobalPolicies {
        /// The first global statement.
        first: String,
        /// The second one.
        second: String,
    },
    /// The global statement has level `skip`.
    #[error("blob trust policy statement {statement:?}: the global policy cannot use level 'skip'; use another level, or remove \"globalPolicy\" and select the statement by name")]
    GlobalSkip {
        /// The statement.
        statement: String,
    },
    /// No statement has the requested name.
    #[error("no applicable blob trust policy with name {name:?}")]
    NoPolicyNamed {
        /// The name requested.
        name: String,
    },
    /// No name was given and no statement is global.
    #[error("no blob trust policy name was given and no statement is marked \"globalPolicy\": true; pass --policy-name, or mark one statement as the global policy")]
    NoGlobalPolicy,
}

impl BlobPolicyDocument {
    /// Parses JSON (no validation).
    pub fn from_json(bytes: &[u8]) -> Result<BlobPolicyDocument, BlobPolicyError> {
        Ok(serde_json::from_slice(bytes).map_err(|source| PolicyError::Json { source })?)
    }

    /// Validates every rule and returns the typed policy.
    pub fn validate(&self) -> Result<BlobTrustPolicy, BlobPolicyError> {
        if self.version.as_deref() != Some(POLICY_VERSION) {
            return Err(PolicyError::UnsupportedVersion {
                version: self.version.clone(),
            }
            .into());
        }
        let docs = match &self.trust_policies {
            Some(list) if !list.is_empty() => list,
            _ => return Err(PolicyError::NoStatements.into()),
        };
        let mut statements: Vec<PolicyStatement> = Vec::with_capacity(docs.len());
        let mut global: Option<usize> = None;
        for (index, doc) in docs.iter().enumerate() {
            // `registryScopes` has no meaning in a blob policy; upstream's
            // blob document has no such field and ignores it, so do we
            // (upstream's own e2e imports its OCI `skip_trustpolicy.json`
            // as a blob policy).
            // The shared validation, with a placeholder scope it requires.
            let shared = StatementDocument {
                name: doc.name.clone(),
                registry_scopes: Some(vec![VALIDATION_SCOPE.to_string()]),
                signature_verification: doc.signature_verification.clone(),
                trust_stores: doc.trust_stores.clone(),
                trusted_identities: doc.trusted_identities.clone(),
            };
            let mut statement = validate_statement(index, &shared)?;
            statement.scopes = Scopes::Repositories(Vec::new());
            if statements.iter().any(|s| s.name == statement.name) {
                return Err(BlobPolicyError::DuplicateName {
                    statement: statement.name,
                });
            }
            if doc.global_policy == Some(true) {
                if let Some(first) = global {
                    return Err(BlobPolicyError::MultipleGlobalPolicies {
                        first: statements[first].name.clone(),
                        second: statement.name,
                    });
                }
                if statement.verification.level == VerificationLevel::Skip {
                    return Err(BlobPolicyError::GlobalSkip {
                        statement: statement.name,
                    });
                }
                global = Some(statements.len());
            }
            statements.push(statement);
        }
        Ok(BlobTrustPolicy { statements, global })
    }
}

impl BlobTrustPolicy {
    /// Parses and validates a JSON document.
    pub fn from_json(bytes: &[u8]) -> Result<BlobTrustPolicy, BlobPolicyError> {
        BlobPolicyDocument::from_json(bytes)?.validate()
    }

    /// Reads and validates `{config_dir}/trustpolicy.blob.json`.
    pub fn load(config_dir: &Path) -> Result<BlobTrustPolicy, BlobPolicyError> {
        let path = blob_policy_path(config_dir);
        if std::fs::symlink_metadata(&path).is_err() {
            return Err(BlobPolicyError::NotFound { path });
        }
        BlobTrustPolicy::from_json(&read_capped(&path)?)
    }

    /// The statement named by `selector`, or the global statement.
    pub fn select(&self, selector: &PolicySelector) -> Result<&PolicyStatement, BlobPolicyError> {
        match selector {
            PolicySelector::Name(name) => self
                .statements
                .iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| BlobPolicyError::NoPolicyNamed { name: name.clone() }),
            PolicySelector::Global => self
                .global
                .and_then(|i| self.statements.get(i))
                .ok_or(BlobPolicyError::NoGlobalPolicy),
        }
    }
}

/// `{config_dir}/trustpolicy.blob.json`.
pub fn blob_policy_path(config_dir: &Path) -> PathBuf {
    config_dir.join(BLOB_POLICY_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trustpolicy::{Field, Problem, TrustedIdentities};

    const WABBIT: &str = "x509.subject: C=US, ST=WA, L=Seattle, O=wabbit-networks.io";

    fn doc(statements: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "version": "1.0",
            "trustPolicies": statements,
        }))
        .unwrap()
    }

    fn strict(name: &str) -> serde_json::Value {
        serde_json::json!({
            "name": name,
            "signatureVerification": { "level": "strict" },
            "trustStores": ["ca:wabbit-networks"],
            "trustedIdentities": [WABBIT],
        })
    }

    #[test]
    fn upstream_example_is_valid_and_selects_by_name_or_global() {
        let bytes = doc(serde_json::json!([
            strict("wabbit-networks-policy"),
            { "name": "skip-verification-policy", "signatureVerification": { "level": "skip" } },
            {
                "name": "global-verification-policy",
                "globalPolicy": true,
                "signatureVerification": { "level": "audit", "override": { "revocation": "skip" } },
                "trustStores": ["ca:acme-rockets", "tsa:trusted-tsa"],
                "trustedIdentities": ["*"],
            },
        ]));
        let policy = BlobTrustPolicy::from_json(&bytes).unwrap();
        assert_eq!(policy.statements.len(), 3);
        assert_eq!(policy.global, Some(2));
        let by_name = policy
            .select(&PolicySelector::Name("wabbit-networks-policy".into()))
            .unwrap();
        assert_eq!(by_name.verification.level, VerificationLevel::Strict);
        assert!(matches!(
            by_name.trusted_identities,
            TrustedIdentities::Subjects(ref s) if s.len() == 1
        ));
        assert_eq!(by_name.scopes, Scopes::Repositories(Vec::new()));
        let skip = policy
            .select(&PolicySelector::Name("skip-verification-policy".into()))
            .unwrap();
        assert_eq!(skip.verification.level, VerificationLevel::Skip);
        let global = policy.select(&PolicySelector::Global).unwrap();
        assert_eq!(global.name, "global-verification-policy");
        assert_eq!(global.trusted_identities, TrustedIdentities::Any);
        let err = policy
            .select(&PolicySelector::Name("nope".into()))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no applicable blob trust policy with name \"nope\""
        );
    }

    #[test]
    fn no_global_statement_means_a_name_is_required() {
        let policy = BlobTrustPolicy::from_json(&doc(serde_json::json!([strict("a")]))).unwrap();
        assert_eq!(policy.global, None);
        assert!(matches!(
            policy.select(&PolicySelector::Global),
            Err(BlobPolicyError::NoGlobalPolicy)
        ));
        // globalPolicy: false is the same as absent.
        let mut s = strict("a");
        s["globalPolicy"] = false.into();
        let policy = BlobTrustPolicy::from_json(&doc(serde_json::json!([s]))).unwrap();
        assert_eq!(policy.global, None);
    }

    #[test]
    fn document_rules() {
        let two_globals = {
            let mut a = strict("a");
            let mut b = strict("b");
            b["trustStores"] = serde_json::json!(["ca:other"]);
            a["globalPolicy"] = true.into();
            b["globalPolicy"] = true.into();
            doc(serde_json::json!([a, b]))
        };
        match BlobTrustPolicy::from_json(&two_globals) {
            Err(BlobPolicyError::MultipleGlobalPolicies { first, second }) => {
                assert_eq!((first.as_str(), second.as_str()), ("a", "b"))
            }
            other => panic!("{other:?}"),
        }

        let dup = doc(serde_json::json!([strict("a"), strict("a")]));
        assert!(matches!(
            BlobTrustPolicy::from_json(&dup),
            Err(BlobPolicyError::DuplicateName { statement }) if statement == "a"
        ));

        let global_skip = doc(serde_json::json!([{
            "name": "g",
            "globalPolicy": true,
            "signatureVerification": { "level": "skip" },
        }]));
        assert!(matches!(
            BlobTrustPolicy::from_json(&global_skip),
            Err(BlobPolicyError::GlobalSkip { statement }) if statement == "g"
        ));

        let mut scoped = strict("s");
        scoped["registryScopes"] = serde_json::json!(["*"]);
        // Ignored, as upstream's blob document has no such field.
        let p = BlobTrustPolicy::from_json(&doc(serde_json::json!([scoped])))
            .expect("registryScopes is ignored in a blob policy");
        assert!(p.select(&PolicySelector::Name("s".to_string())).is_ok());

        let v2 = serde_json::to_vec(&serde_json::json!({
            "version": "2.0",
            "trustPolicies": [strict("a")],
        }))
        .unwrap();
        assert!(matches!(
            BlobTrustPolicy::from_json(&v2),
            Err(BlobPolicyError::Policy(
                PolicyError::UnsupportedVersion { .. }
            ))
        ));
        assert!(matches!(
            BlobTrustPolicy::from_json(&doc(serde_json::json!([]))),
            Err(BlobPolicyError::Policy(PolicyError::NoStatements))
        ));
        assert!(matches!(
            BlobTrustPolicy::from_json(b"{not json"),
            Err(BlobPolicyError::Policy(PolicyError::Json { .. }))
        ));
    }

    /// Statement fields go through the OCI statement validation.
    #[test]
    fn statement_rules_are_shared_with_oci_policies() {
        let field_problem =
            |s: serde_json::Value| match BlobTrustPolicy::from_json(&doc(serde_json::json!([s]))) {
                Err(BlobPolicyError::Policy(PolicyError::InvalidStatement {
                    statement,
                    field,
                    problem,
                })) => (statement, field, problem),
                other => panic!("{other:?}"),
            };

        let mut s = strict("x");
        s.as_object_mut().unwrap().remove("name");
        assert_eq!(field_problem(s).1, Field::Name);

        let mut s = strict("x");
        s["signatureVerification"]["level"] = "lenient".into();
        assert!(matches!(
            field_problem(s),
            (n, Field::Level, Problem::UnknownLevel { .. }) if n == "x"
        ));

        let mut s = strict("x");
        s["signatureVerification"]["override"] = serde_json::json!({ "integrity": "log" });
        assert_eq!(field_problem(s).2, Problem::IntegrityOverride);

        let mut s = strict("x");
        s["trustStores"] = serde_json::json!(["bogus:store"]);
        assert!(matches!(
            field_problem(s).2,
            Problem::UnknownTrustStoreType { .. }
        ));

        let mut s = strict("x");
        s.as_object_mut().unwrap().remove("trustStores");
        assert_eq!(field_problem(s).1, Field::TrustStores);

        let mut s = strict("x");
        s["trustedIdentities"] = serde_json::json!(["*", WABBIT]);
        assert_eq!(field_problem(s).2, Problem::WildcardIdentityWithOthers);

        let mut s = strict("x");
        s["trustedIdentities"] = serde_json::json!(["x509.subject: C=US, O=no-state"]);
        assert!(matches!(
            field_problem(s).2,
            Problem::MissingRequiredAttribute {
                attribute: "ST",
                ..
            }
        ));

        let s = serde_json::json!({
            "name": "x",
            "signatureVerification": { "level": "skip" },
            "trustStores": ["ca:a"],
        });
        assert_eq!(field_problem(s).2, Problem::SkipWithTrustSettings);
    }

    #[test]
    fn document_round_trips_without_adding_fields() {
        let bytes = doc(serde_json::json!([strict("a")]));
        let parsed = BlobPolicyDocument::from_json(&bytes).unwrap();
        let again: serde_json::Value =
            serde_json::from_slice(&serde_json::to_vec(&parsed).unwrap()).unwrap();
        let original: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(again, original);
    }

    #[test]
    fn load_reports_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        match BlobTrustPolicy::load(dir.path()) {
            Err(BlobPolicyError::NotFound { path }) => {
                assert_eq!(path, dir.path().join(BLOB_POLICY_FILE))
            }
            other => panic!("{other:?}"),
        }
        std::fs::write(
            dir.path().join(BLOB_POLICY_FILE),
            doc(serde_json::json!([strict("a")])),
        )
        .unwrap();
        assert_eq!(
            BlobTrustPolicy::load(dir.path()).unwrap().statements.len(),
            1
        );
    }
}
