//! Port of upstream notation's `test/e2e/suite/trustpolicy/*.go`: the same
//! inputs (upstream's layouts, policies and keys from
//! `tests/vectors/upstream-e2e`), the same exit codes and key words, run
//! against our `notation` and a real registry. One test per upstream file;
//! each reports its cases by upstream's names (see `upstream_common`).

mod upstream_common;

use upstream_common::{
    localkey, Home, Lab, Suite, SIGN_SUCCESSFULLY, VERIFY_FAILED, VERIFY_SUCCESSFULLY,
};

const EXPIRED_CERT_WORDS: &str =
    "error: certificate \"O=Internet Widgits Pty Ltd,ST=Some-State,C=AU\" is not valid anymore, it was expired";

/// `verification_level.go`.
#[test]
fn verification_level() {
    let lab = Lab::start();
    let expired_sig = lab
        .artifact("e2e-expired-signature", "")
        .reference_with_digest();
    let expired_cert = lab
        .artifact("e2e-with-expired-cert", "")
        .reference_with_digest();
    let valid = lab
        .artifact("e2e-valid-signature", "")
        .reference_with_digest();
    let invalid = lab
        .artifact("e2e-invalid-signature", "")
        .reference_with_digest();
    // Host(nil) + a policy + trust store `e2e` holding CERT.
    let with_store = |policy: &str, cert: &str| {
        let h = Home::empty(&lab);
        h.add_trust_policy(policy);
        h.add_trust_store("e2e", &localkey(cert));
        h
    };
    // Host(BaseOptions()) + a policy.
    let base_with = |policy: &str| {
        let h = Home::base(&lab);
        h.add_trust_policy(policy);
        h
    };
    let mut s = Suite::new("trustpolicy/verification_level.go");

    s.case("strict level with expired signature", || {
        Home::base(&lab)
            .exec(&["verify", &expired_sig, "-v"])
            .failure()
            .err_key_words(&["expiry validation failed.", VERIFY_FAILED]);
    });
    s.case("strict level with expired authentic timestamp", || {
        with_store("trustpolicy.json", "expired_e2e.crt")
            .exec(&["verify", &expired_cert, "-v"])
            .failure()
            .err_key_words(&["authenticTimestamp validation failed", VERIFY_FAILED]);
    });
    s.case("strict level with invalid authenticity", || {
        with_store("trustpolicy.json", "new_e2e.crt")
            .exec(&["verify", &valid, "-v"])
            .failure()
            .err_key_words(&["authenticity validation failed", VERIFY_FAILED]);
    });
    s.case("strict level with invalid integrity", || {
        Home::base(&lab)
            .exec(&["verify", &invalid, "-v"])
            .failure()
            .err_key_words(&["integrity validation failed", VERIFY_FAILED]);
    });
    s.case("permissive level with expired signature", || {
        base_with("permissive_trustpolicy.json")
            .exec(&["verify", &expired_sig, "-v"])
            .success()
            .err_key_words(&[
                "expiry was set to \"log\" and failed with error: digital signature has expired",
            ])
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("permissive level with expired authentic timestamp", || {
        with_store("permissive_trustpolicy.json", "expired_e2e.crt")
            .exec(&["verify", &expired_cert, "-v"])
            .success()
            .err_key_words(&[
                "Warning: authenticTimestamp was set to \"log\"",
                EXPIRED_CERT_WORDS,
            ])
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("permissive level with invalid authenticity", || {
        with_store("permissive_trustpolicy.json", "new_e2e.crt")
            .exec(&["verify", &valid, "-v"])
            .failure()
            .err_key_words(&["authenticity validation failed", VERIFY_FAILED]);
    });
    s.case("permissive level with invalid integrity", || {
        base_with("permissive_trustpolicy.json")
            .exec(&["verify", &invalid, "-v"])
            .failure()
            .err_key_words(&["integrity validation failed", VERIFY_FAILED]);
    });
    s.case("audit level with expired signature", || {
        base_with("audit_trustpolicy.json")
            .exec(&["verify", &expired_sig, "-v"])
            .success()
            .err_key_words(&["digital signature has expired", "expiry was set to \"log\""])
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("audit level with expired authentic timestamp", || {
        with_store("audit_trustpolicy.json", "expired_e2e.crt")
            .exec(&["verify", &expired_cert, "-v"])
            .success()
            .err_key_words(&[
                "Warning: authenticTimestamp was set to \"log\"",
                EXPIRED_CERT_WORDS,
            ])
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("audit level with invalid authenticity", || {
        with_store("audit_trustpolicy.json", "new_e2e.crt")
            .exec(&["verify", &valid, "-v"])
            .success()
            .err_key_words(&[
                "Warning: authenticity was set to \"log\"",
                "signature is not produced by a trusted signer",
            ])
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("audit level with invalid integrity", || {
        base_with("audit_trustpolicy.json")
            .exec(&["verify", &invalid, "-v"])
            .failure()
            .err_key_words(&["integrity validation failed", VERIFY_FAILED]);
    });
    s.case("skip level with invalid integrity", || {
        base_with("skip_trustpolicy.json")
            .exec(&["verify", &invalid, "-v"])
            .success()
            .key_words(&["Trust policy is configured to skip signature verification"])
            // Ours: the global-scope skip is accepted with a warning.
            .err_key_words(&["skip cannot be used with a global scope (*)"]);
    });
    s.case("strict level with Expiry overridden as log level", || {
        base_with("override_strict_trustpolicy.json")
            .exec(&["verify", &expired_sig, "-v"])
            .success()
            .err_key_words(&["digital signature has expired", "expiry was set to \"log\""])
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case(
        "strict level with Authentic timestamp overridden as log level",
        || {
            with_store("override_strict_trustpolicy.json", "expired_e2e.crt")
                .exec(&["verify", &expired_cert, "-v"])
                .success()
                .err_key_words(&[
                    "Warning: authenticTimestamp was set to \"log\"",
                    EXPIRED_CERT_WORDS,
                ])
                .key_words(&[VERIFY_SUCCESSFULLY]);
        },
    );
    s.case(
        "strict level with Authenticity overridden as log level",
        || {
            with_store("override_strict_trustpolicy.json", "new_e2e.crt")
                .exec(&["verify", &valid, "-v"])
                .success()
                .err_key_words(&[
                    "Warning: authenticity was set to \"log\"",
                    "signature is not produced by a trusted signer",
                ])
                .key_words(&[VERIFY_SUCCESSFULLY]);
        },
    );
    s.case(
        "permissive level with Expiry overridden as enforce level",
        || {
            base_with("override_permissive_trustpolicy.json")
                .exec(&["verify", &expired_sig, "-v"])
                .failure()
                .err_key_words(&["expiry validation failed.", VERIFY_FAILED]);
        },
    );
    s.case(
        "permissive level with Authentic timestamp overridden as enforce level",
        || {
            // Upstream sets the override policy, then trustpolicy.json over it.
            with_store("trustpolicy.json", "expired_e2e.crt")
                .exec(&["verify", &expired_cert, "-v"])
                .failure()
                .err_key_words(&["authenticTimestamp validation failed", VERIFY_FAILED]);
        },
    );
    s.case(
        "permissive level with Authenticity overridden as log level",
        || {
            with_store("override_permissive_trustpolicy.json", "new_e2e.crt")
                .exec(&["verify", &valid, "-v"])
                .success()
                .err_key_words(&[
                    "Warning: authenticity was set to \"log\"",
                    "signature is not produced by a trusted signer",
                ])
                .key_words(&[VERIFY_SUCCESSFULLY]);
        },
    );
    s.case(
        "permissive level with Integrity overridden as log level",
        || {
            with_store(
                "override_integrity_for_permissive_trustpolicy.json",
                "new_e2e.crt",
            )
            .exec(&["verify", &valid, "-v"])
            .failure()
            .err_key_words(&[
                "\"integrity\" verification can not be overridden in custom signature verification",
            ]);
        },
    );
    s.case(
        "audit level with Expiry overridden as enforce level",
        || {
            base_with("override_audit_trustpolicy.json")
                .exec(&["verify", &expired_sig, "-v"])
                .failure()
                .err_key_words(&["expiry validation failed.", VERIFY_FAILED]);
        },
    );
    s.case(
        "audit level with Authentic timestamp overridden as enforce level",
        || {
            // Upstream sets the override policy, then trustpolicy.json over it.
            with_store("trustpolicy.json", "expired_e2e.crt")
                .exec(&["verify", &expired_cert, "-v"])
                .failure()
                .err_key_words(&["authenticTimestamp validation failed", VERIFY_FAILED]);
        },
    );
    s.case(
        "audit level with Authenticity overridden as enforce level",
        || {
            with_store("override_audit_trustpolicy.json", "new_e2e.crt")
                .exec(&["verify", &valid, "-v"])
                .failure()
                .err_key_words(&["authenticity validation failed", VERIFY_FAILED]);
        },
    );
    s.finish();
}

/// `registry_scope.go`.
#[test]
fn registry_scope() {
    let lab = Lab::start();
    let base_with = |policy: &str| {
        let h = Home::base(&lab);
        h.add_trust_policy(policy);
        h
    };
    // Upstream signs with an older notation first ("OldNotation"); a
    // signature made by our own `sign` stands in for it.
    let signed = |h: &Home, repo: &str| {
        let a = lab.artifact("", repo);
        h.exec(&["sign", &a.reference_with_digest()])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        a
    };
    let mut s = Suite::new("trustpolicy/registry_scope.go");
    s.case("empty registryScope", || {
        let h = Home::base(&lab);
        let a = signed(&h, "");
        h.add_trust_policy("empty_registry_scope_trustpolicy.json");
        h.exec(&["verify", &a.reference_with_digest()])
            .failure()
            .err_key_words(&["trust policy statement \"e2e\" has zero registry scopes"]);
    });
    s.case("malformed registryScope", || {
        let h = Home::base(&lab);
        let a = signed(&h, "");
        h.add_trust_policy("malformed_registry_scope_trustpolicy.json");
        let scope = format!("{}\\\\test-repo", lab.host());
        h.exec(&["verify", &a.reference_with_digest()])
            .failure()
            .err_key_words(&[&format!(
                "registry scope \"{scope}\" is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout"
            )]);
    });
    s.case("registryScope with a repository", || {
        let h = base_with("registry_scope_trustpolicy.json");
        let a = signed(&h, "test-repo");
        h.exec(&["verify", &a.reference_with_digest()])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("registryScope with multiple repositories", || {
        let h = base_with("multiple_registry_scope_trustpolicy.json");
        for repo in ["test-repo2", "test-repo3"] {
            let a = signed(&h, repo);
            h.exec(&["verify", &a.reference_with_digest()])
                .success()
                .key_words(&[VERIFY_SUCCESSFULLY]);
        }
    });
    s.case("registryScope with any(*) repository", || {
        let h = base_with("any_registry_scope_trust_policy.json");
        for repo in ["test-repo4", "test-repo5"] {
            let a = signed(&h, repo);
            h.exec(&["verify", &a.reference_with_digest()])
                .success()
                .key_words(&[VERIFY_SUCCESSFULLY]);
        }
    });
    s.case("overlapped registryScope", || {
        let h = Home::base(&lab);
        let a = signed(&h, "test-repo6");
        h.add_trust_policy("overlapped_registry_scope_trustpolicy.json");
        h.exec(&["verify", &a.reference_with_digest()])
            .failure()
            .err_key_words(&[&format!(
                "registry scope \"{}/test-repo6\" is present in multiple trust policy statements",
                lab.host()
            )]);
    });
    s.case("wildcard plus specific repo registryScope", || {
        let h = Home::base(&lab);
        let a = signed(&h, "test-repo7");
        h.add_trust_policy("wildcard_plus_other_registry_scope_trustpolicy.json");
        h.exec(&["verify", &a.reference_with_digest()])
            .failure()
            .err_key_words(&["trust policy statement \"e2e\" uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values"]);
    });
    s.case("invalid registryScope", || {
        let h = Home::base(&lab);
        let a = signed(&h, "");
        h.add_trust_policy("invalid_registry_scope_trustpolicy.json");
        h.exec(&["verify", &a.reference_with_digest()])
            .failure()
            .err_content(&format!(
                "Error: signature verification failed: artifact {:?} has no applicable trust policy. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy\n",
                a.reference_with_digest()
            ));
    });
    s.finish();
}

/// `trust_store.go`.
#[test]
fn trust_store() {
    let lab = Lab::start();
    let valid = lab
        .artifact("e2e-valid-signature", "")
        .reference_with_digest();
    let base_with = |policy: &str| {
        let h = Home::base(&lab);
        h.add_trust_policy(policy);
        h
    };
    let mut s = Suite::new("trustpolicy/trust_store.go");
    s.case("unset trust store", || {
        base_with("unset_trust_store_trustpolicy.json")
            .exec(&["verify", &valid, "-v"])
            .failure()
            .err_key_words(&["trust policy statement \"e2e\" is either missing trust stores or trusted identities, both must be specified"]);
    });
    s.case("invalid trust store", || {
        // Upstream's key words quote the path inside a quoted error
        // (`invalid_store\" does not exist`); ours quote it once.
        base_with("invalid_trust_store_trustpolicy.json")
            .exec(&["verify", &valid, "-v"])
            .failure()
            .err_key_words(&[
                "authenticity validation failed",
                "truststore/x509/ca/invalid_store\" does not exist",
                VERIFY_FAILED,
            ]);
    });
    s.case("malformed trust store", || {
        base_with("malformed_trust_store_trustpolicy.json")
            .exec(&["verify", &valid, "-v"])
            .failure()
            .err_key_words(&["trust policy statement \"e2e\" uses an unsupported trust store name \"\" in trust store value \"ca:\". Named store name needs to follow [a-zA-Z0-9_.-]+ format"]);
    });
    s.case("wildcard (malformed) trust store", || {
        base_with("wildcard_trust_store_trustpolicy.json")
            .exec(&["verify", &valid, "-v"])
            .failure()
            .err_key_words(&["trust policy statement \"e2e\" has malformed trust store value \"*\". The required format is <TrustStoreType>:<TrustStoreName>"]);
    });
    s.case("multiple trust stores", || {
        // artifact1 signed with e2e.key and new_e2e.crt.
        let signer = Home::empty(&lab);
        signer.add_key(&localkey("e2e.key"), &localkey("new_e2e.crt"));
        let a1 = lab.artifact("", "").reference_with_digest();
        signer
            .exec(&["sign", &a1, "-v"])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        let h = Home::empty(&lab);
        h.add_trust_policy("multiple_trust_store_trustpolicy.json");
        h.add_trust_store("e2e-new", &localkey("new_e2e.crt"));
        h.add_trust_store("e2e", &localkey("e2e.crt"));
        h.exec(&["verify", &a1, "-v"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
        h.exec(&["verify", &valid, "-v"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.not_applicable(
        "overlapped trust stores",
        "skipped upstream too (Skip(\"overlapped trust stores were not checked\"))",
    );
    s.finish();
}

/// `trusted_identity.go`.
#[test]
fn trusted_identity() {
    let lab = Lab::start();
    let valid = lab
        .artifact("e2e-valid-signature", "")
        .reference_with_digest();
    let base_with = |policy: &str| {
        let h = Home::base(&lab);
        h.add_trust_policy(policy);
        h
    };
    let refused = |policy: &str, words: &str| {
        base_with(policy)
            .exec(&["verify", &valid, "-d"])
            .failure()
            .err_key_words(&[words]);
    };
    let mut s = Suite::new("trustpolicy/trusted_identity.go");
    s.case("with unset trusted identity", || {
        refused("unset_trusted_identity_trustpolicy.json", "trust policy statement \"e2e\" is either missing trust stores or trusted identities, both must be specified");
    });
    s.case("with valid trusted identity", || {
        base_with("valid_trusted_identity_trustpolicy.json")
            .exec(&["verify", &valid, "-d"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("with invalid trusted identity", || {
        base_with("invalid_trusted_identity_trustpolicy.json")
            .exec(&["verify", &valid, "-d"])
            .failure()
            .err_key_words(&[
                "Failure reason: signing certificate from the digital signature does not match the X.509 trusted identities",
                VERIFY_FAILED,
            ]);
    });
    s.case("with malformed trusted identity", || {
        refused("malformed_trusted_identity_trustpolicy.json", "trust policy statement \"e2e\" has trusted identity \"x509.subject CN=e2e,O=Notary,L=Seattle,ST=WA,C=US\" missing separator");
    });
    s.case("with empty trusted identity", || {
        refused(
            "empty_trusted_identity_trustpolicy.json",
            "trust policy statement \"e2e\" has an empty trusted identity",
        );
    });
    s.case("with multiple trusted identity", || {
        let signer = Home::empty(&lab);
        signer.add_key(&localkey("e2e.key"), &localkey("new_e2e.crt"));
        let a1 = lab.artifact("", "").reference_with_digest();
        signer
            .exec(&["sign", &a1, "-d"])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        let h = Home::empty(&lab);
        h.add_trust_policy("multiple_trusted_identity_trustpolicy.json");
        h.add_trust_store("e2e", &localkey("new_e2e.crt"));
        h.add_trust_store("e2e", &localkey("e2e.crt"));
        h.exec(&["verify", &a1, "-d"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
        h.exec(&["verify", &valid, "-d"])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("with overlapped trusted identities", || {
        refused(
            "overlapped_trusted_identity_trustpolicy.json",
            "trust policy statement \"e2e\" has overlapping x509 trustedIdentities",
        );
    });
    s.case("with wildcard plus other trusted identities", || {
        refused("wildcard_plus_other_trusted_identity_trustpolicy.json", "trust policy statement \"e2e\" uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values");
    });
    s.case("with trusted identities missing organization", || {
        refused("missing_organization_trusted_identity_trustpolicy.json", "distinguished name (DN) \" CN=e2e,L=Seattle,ST=WA,C=US\" has no mandatory RDN attribute for \"O\", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum");
    });
    s.case("with trusted identities missing state", || {
        refused("missing_state_trusted_identity_trustpolicy.json", "distinguished name (DN) \" CN=e2e,O=Notary,L=Seattle,C=US\" has no mandatory RDN attribute for \"ST\", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum");
    });
    s.case("with trusted identities missing country", || {
        refused("missing_country_trusted_identity_trustpolicy.json", "distinguished name (DN) \" CN=e2e,O=Notary,L=Seattle,ST=WA\" has no mandatory RDN attribute for \"C\", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum");
    });
    s.finish();
}

/// `multi_statements.go`. Upstream's `MatchErrContent` expects the whole
/// line; ours adds context after upstream's sentence, so the sentence is
/// checked as the start of the error line.
#[test]
fn multi_statements() {
    let lab = Lab::start();
    let signed = |h: &Home, layout: &str, repo: &str| {
        let a = lab.artifact(layout, repo);
        h.exec(&["sign", &a.reference_with_digest()])
            .success()
            .key_words(&[SIGN_SUCCESSFULLY]);
        a
    };
    let mut s = Suite::new("trustpolicy/multi_statements.go");
    let starts = |h: &Home, reference: &str, sentence: &str| {
        let run = h.exec(&["verify", reference]).failure();
        let want = format!("Error: {sentence}");
        assert!(
            run.stderr.starts_with(&want),
            "{}\nwant: {want}",
            run.stderr
        );
    };
    s.case("multiple statements with the same registryScope", || {
        let h = Home::base(&lab);
        let a = signed(&h, "", "test-repo8");
        h.add_trust_policy("multi_statements_with_the_same_registry_scope_trustpolicy.json");
        starts(&h, &a.reference_with_digest(), &format!("registry scope \"{}/test-repo8\" is present in multiple trust policy statements, one registry scope value can only be associated with one statement", lab.host()));
    });
    s.case("multiple statements with wildcard registry scope", || {
        let h = Home::base(&lab);
        let a = signed(&h, "e2e-valid-signature", "test-repo9");
        h.add_trust_policy("multi_statements_with_wildcard_registry_scope_trustpolicy.json");
        h.exec(&["verify", &a.reference_with_digest()])
            .success()
            .key_words(&[VERIFY_SUCCESSFULLY]);
    });
    s.case("multiple statements with the same name", || {
        let h = Home::base(&lab);
        let a = signed(&h, "", "test-repo10");
        h.add_trust_policy("multi_statements_with_the_same_name_trustpolicy.json");
        starts(
            &h,
            &a.reference_with_digest(),
            "multiple trust policy statements use the same name \"e2e\", statement names must be unique",
        );
    });
    s.case("multiple statements with multi-wildcard registry scopes", || {
        let h = Home::base(&lab);
        let a = signed(&h, "", "");
        h.add_trust_policy("multi_statements_with_multi_wildcard_registry_scope_trustpolicy.json");
        starts(&h, &a.reference_with_digest(), "registry scope \"*\" is present in multiple trust policy statements, one registry scope value can only be associated with one statement");
    });
    s.finish();
}
