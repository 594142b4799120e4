//! `notation certificate add/list/show/delete/cleanup-test` and
//! `notation policy import/show/init`, run through the built binary.

use std::fs;
use std::path::{Path, PathBuf};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors");

mod support;

use support::Env;

fn vector(rel: &str) -> String {
    format!("{VECTORS}/{rel}")
}

fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd {
            let p = e.unwrap().path();
            out.push(p.clone());
            if p.is_dir() {
                out.extend(tree(&p));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn certificate_add_list_show_delete() {
    let env = Env::new();
    assert_eq!(env.ok(&["cert", "list"]), "");
    let e2e = vector("localkeys/e2e.crt");
    assert_eq!(
        env.ok(&["cert", "add", "--type", "ca", "--store", "e2e", &e2e]),
        format!(
            "Successfully added following certificates to named store e2e of type ca:\n{e2e}\n"
        )
    );
    env.ok(&[
        "certificate",
        "add",
        "-t",
        "signingAuthority",
        "-s",
        "sa",
        &e2e,
    ]);
    let tsa_root = vector("x509/timestamp_root.crt");
    env.ok(&["cert", "add", "-t", "tsa", "-s", "ts", &tsa_root]);

    assert_eq!(
        env.ok(&["cert", "ls"]),
        "STORE TYPE         STORE NAME   CERTIFICATE          \n\
         ca                 e2e          e2e.crt              \n\
         signingAuthority   sa           e2e.crt              \n\
         tsa                ts           timestamp_root.crt   \n"
    );
    assert_eq!(
        env.ok(&["cert", "ls", "--type", "signingAuthority"]),
        "STORE TYPE         STORE NAME   CERTIFICATE   \nsigningAuthority   sa           e2e.crt       \n"
    );
    assert_eq!(
        env.ok(&["cert", "ls", "--store", "e2e"]),
        "STORE TYPE   STORE NAME   CERTIFICATE   \nca           e2e          e2e.crt       \n"
    );
    assert_eq!(
        env.ok(&["cert", "ls", "--store", "nope", "--type", "ca"]),
        ""
    );

    let show = env.ok(&["cert", "show", "-t", "ca", "-s", "e2e", "e2e.crt"]);
    let fp = {
        use sha2::Digest;
        let cert = openssl::x509::X509::from_pem(&fs::read(&e2e).unwrap()).unwrap();
        hex::encode(sha2::Sha256::digest(cert.to_der().unwrap()))
    };
    assert!(show.starts_with("Certificate details\n-----"), "{show}");
    assert!(
        show.contains("Subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US\n"),
        "{show}"
    );
    assert!(show.contains("IsCA: false\n"), "{show}");
    assert!(
        show.contains(&format!("SHA256 Thumbprint: {fp}\n")),
        "{show}"
    );
    let err = env.fails(&["cert", "show", "-t", "ca", "-s", "e2e", "missing.crt"]);
    assert!(err.contains("missing.crt"), "{err}");

    // Adding the same file twice, or a non-certificate, fails and says which.
    let invalid = vector("x509/invalid");
    let err = env.fails(&["cert", "add", "-t", "ca", "-s", "e2e", &e2e, &invalid]);
    assert!(
        err.starts_with(
            "Error: Failed to add following certificates to named store e2e of type ca:"
        ),
        "{err}"
    );
    assert!(err.contains(&e2e) && err.contains(&invalid), "{err}");
    assert!(err.contains("already exists"), "{err}");
    // ... and nothing new was written
    let files: Vec<_> = tree(&env.config().join("truststore/x509/ca/e2e"));
    assert_eq!(files.len(), 1, "{files:?}");
    // a bad store name is refused
    let err = env.fails(&["cert", "add", "-t", "ca", "-s", "../x", &e2e]);
    assert!(
        err.contains("named store name needs to follow [a-zA-Z0-9_.-]+ format"),
        "{err}"
    );

    // Missing required flags are usage errors.
    assert_eq!(
        env.run(&["cert", "delete", "e2e.crt"]).status.code(),
        Some(1)
    );

    // Declining the prompt deletes nothing; --yes / "y" deletes.
    let out = env.run_with_stdin(
        &["cert", "delete", "-t", "ca", "-s", "e2e", "e2e.crt"],
        "n\n",
    );
    assert!(out.status.success());
    assert!(env.config().join("truststore/x509/ca/e2e/e2e.crt").exists());
    let out = env.run_with_stdin(
        &["cert", "delete", "-t", "ca", "-s", "e2e", "e2e.crt"],
        "y\n",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Successfully deleted e2e.crt from trust store e2e of type ca\n"
    );
    assert!(!env.config().join("truststore/x509/ca/e2e/e2e.crt").exists());
    env.ok(&["cert", "delete", "-t", "tsa", "-s", "ts", "--all", "-y"]);
    assert!(!env.config().join("truststore/x509/tsa/ts").exists());
    let err = env.fails(&["cert", "delete", "-t", "tsa", "-s", "ts", "--all", "-y"]);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn cleanup_test_undoes_generate_test_and_tolerates_missing_parts() {
    let env = Env::new();
    env.ok(&["cert", "generate-test", "--default", "tk"]);
    let cfg = env.config();
    let key = cfg.join("localkeys/tk.key");
    let crt = cfg.join("localkeys/tk.crt");
    let out = env.ok(&["cert", "cleanup-test", "--yes", "tk"]);
    assert_eq!(
        out,
        format!(
            "Successfully deleted tk.crt from trust store tk of type ca.\n\
             Successfully removed key tk from signingkeys.json.\n\
             Successfully deleted key file: {}.\n\
             Successfully deleted certificate file: {}.\n\
             Cleanup completed successfully.\n",
            key.display(),
            crt.display()
        )
    );
    assert!(!key.exists() && !crt.exists());
    assert!(!cfg.join("truststore/x509/ca/tk").exists());
    let keys: serde_json::Value =
        serde_json::from_slice(&fs::read(cfg.join("signingkeys.json")).unwrap()).unwrap();
    assert_eq!(keys, serde_json::json!({"keys": []}));

    let out = env.ok(&["cert", "cleanup-test", "-y", "tk"]);
    assert_eq!(
        out,
        format!(
            "Certificate tk.crt does not exist in trust store tk of type ca.\n\
             Key tk does not exist in signingkeys.json.\n\
             Key file {} does not exist.\n\
             Certificate file {} does not exist.\n\
             Cleanup completed successfully.\n",
            key.display(),
            crt.display()
        )
    );
}

#[test]
fn policy_import_show_init() {
    let env = Env::new();
    let cfg = env.config();
    let err = env.fails(&["policy", "show"]);
    assert!(err.contains("notation policy import"), "{err}");

    let policy = vector("trustpolicies/quickstart_trustpolicy.json");
    let imported = format!(
        "Successfully imported OCI trust policy configuration to {}.\n",
        cfg.join("trustpolicy.oci.json").display()
    );
    assert_eq!(env.ok(&["policy", "import", &policy]), imported);
    let bytes = fs::read(&policy).unwrap();
    assert_eq!(fs::read(cfg.join("trustpolicy.oci.json")).unwrap(), bytes);
    assert_eq!(env.ok(&["policy", "show"]).as_bytes(), &bytes[..]);

    // A second import asks; "no" (or no input) keeps the current policy.
    let other = vector("trustpolicies/trustpolicy.json");
    let out = env.run_with_stdin(&["policy", "import", &other], "");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(fs::read(cfg.join("trustpolicy.oci.json")).unwrap(), bytes);
    // --force replaces it, and removes a legacy trustpolicy.json
    fs::write(cfg.join("trustpolicy.json"), b"{}").unwrap();
    assert_eq!(
        env.ok(&["policy", "import", "--force", &other]),
        format!("Deleted old trust policy configuration trustpolicy.json.\n{imported}")
    );
    assert!(!cfg.join("trustpolicy.json").exists());
    assert_eq!(
        fs::read(cfg.join("trustpolicy.oci.json")).unwrap(),
        fs::read(&other).unwrap()
    );

    // Invalid documents are refused and nothing changes.
    let bad_dir = tempfile::tempdir().unwrap();
    let cases = [
        ("notjson.json", "{not json"),
        ("version.json", r#"{"version":"2.0","trustPolicies":[]}"#),
        (
            "nostore.json",
            r#"{"version":"1.0","trustPolicies":[{"name":"a","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":[],"trustedIdentities":["*"]}]}"#,
        ),
    ];
    for (name, content) in cases {
        let p = bad_dir.path().join(name);
        fs::write(&p, content).unwrap();
        let before = tree(&cfg);
        let err = env.fails(&["policy", "import", "--force", p.to_str().unwrap()]);
        let step = if name == "notjson.json" {
            "parse"
        } else {
            "validate"
        };
        assert!(
            err.starts_with(&format!(
                "Error: failed to {step} OCI trust policy configuration: "
            )),
            "{err}"
        );
        assert_eq!(tree(&cfg), before);
        assert_eq!(
            fs::read(cfg.join("trustpolicy.oci.json")).unwrap(),
            fs::read(&other).unwrap()
        );
    }
    let err = env.fails(&["policy", "import", "/nonexistent/policy.json"]);
    assert!(err.contains("/nonexistent/policy.json"), "{err}");

    // A malformed policy in place is replaced without asking (no input on
    // stdin would mean "no").
    fs::write(cfg.join("trustpolicy.oci.json"), "{not json").unwrap();
    let out = env.run_with_stdin(&["policy", "import", &policy], "");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), imported);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("already exists"),
        "{out:?}"
    );
    assert_eq!(fs::read(cfg.join("trustpolicy.oci.json")).unwrap(), bytes);
    // A well-formed one is kept unless confirmed.
    let out = env.run_with_stdin(&["policy", "import", &other], "n\n");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(fs::read(cfg.join("trustpolicy.oci.json")).unwrap(), bytes);

    // An invalid policy in place is still shown, then the command fails.
    fs::write(cfg.join("trustpolicy.oci.json"), "{\"version\":\"1.0\"}").unwrap();
    let out = env.run(&["policy", "show"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"{\"version\":\"1.0\"}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("Error: Existing OCI trust policy configuration is invalid"),
        "{stderr}"
    );
    assert!(stderr.contains("notation policy import"), "{stderr}");

    // init writes a valid one-statement policy.
    let out = env.ok(&[
        "policy",
        "init",
        "--force",
        "--name",
        "wabbit",
        "--trust-store",
        "ca:wabbit-networks.io",
        "--trusted-identity",
        "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=wabbit-networks.io",
    ]);
    assert!(
        out.starts_with("Successfully initialized OCI trust policy file to "),
        "{out}"
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&fs::read(cfg.join("trustpolicy.oci.json")).unwrap()).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({
            "version": "1.0",
            "trustPolicies": [{
                "name": "wabbit",
                "registryScopes": ["*"],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:wabbit-networks.io"],
                "trustedIdentities": ["x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=wabbit-networks.io"]
            }]
        })
    );
    for bad in ["wabbit", "xyz:a", "ca:a/b"] {
        let err = env.fails(&[
            "policy",
            "init",
            "--force",
            "--name",
            "n",
            "--trust-store",
            bad,
            "--trusted-identity",
            "*",
        ]);
        assert!(err.contains("--trust-store"), "{err}");
    }
}

#[test]
fn configuration_errors_are_reported_before_any_network_access() {
    let env = Env::new();
    // Nothing listens on port 1; every error below must come first.
    let target = "localhost:1/net-monitor@sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

    let err = env.fails(&["sign", target]);
    assert!(err.contains("no default signing key"), "{err}");
    assert!(err.contains("notation key update --default"), "{err}");
    let err = env.fails(&["sign", "--key", "nope", target]);
    assert!(err.contains("signing key not found: \"nope\""), "{err}");

    let err = env.fails(&["verify", target]);
    assert!(err.contains("Error: trust policy is not present"), "{err}");
    assert!(err.contains("notation policy import"), "{err}");

    env.ok(&["cert", "generate-test", "--default", "k"]);
    let err = env.fails(&["sign", "-e", "10days", target]);
    assert!(err.contains("--expiry"), "{err}");
    let err = env.fails(&["sign", "-m", "io.cncf.notary.x=1", target]);
    assert!(err.contains("io.cncf.notary"), "{err}");
    let err = env.fails(&["sign", "-m", "novalue", target]);
    assert!(err.contains("--user-metadata"), "{err}");

    // A corrupt config.json is named, and left as it is.
    fs::write(
        env.config().join("config.json"),
        "{\"insecureRegistries\": 5}",
    )
    .unwrap();
    let err = env.fails(&["sign", target]);
    assert!(err.contains("config.json is malformed"), "{err}");
    assert_eq!(
        fs::read(env.config().join("config.json")).unwrap(),
        b"{\"insecureRegistries\": 5}"
    );
    fs::remove_file(env.config().join("config.json")).unwrap();

    // A corrupt trust policy: verify refuses, naming the problem.
    fs::write(
        env.config().join("trustpolicy.oci.json"),
        "{\"version\": \"1.0\"}",
    )
    .unwrap();
    let err = env.fails(&["verify", target]);
    assert!(err.to_lowercase().contains("trust policy"), "{err}");

    // --oci-layout verification needs --scope.
    let policy = vector("trustpolicies/trustpolicy.json");
    env.ok(&["policy", "import", "--force", &policy]);
    let err = env.fails(&["verify", "--oci-layout", "some-dir:v1"]);
    assert!(err.contains("--scope"), "{err}");
}
