//! `notation blob` end to end: the `notation` binary of this workspace
//! (`target/<profile>/notation`, or `$NOTATION_BIN`) signs files, writes
//! detached signatures, and verifies them against `trustpolicy.blob.json`
//! in a throwaway configuration directory.
//!
//! With `-p notation-e2e` alone, build the binary first:
//! `cargo build -p notation-host --bin notation`.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

#[path = "../../host/tests/tsa_support/mod.rs"]
mod tsa_support;

use notation_e2e::notation_bin;

/// The binary with its own HOME and XDG config dir; commands run in `work`.
struct Cli {
    bin: PathBuf,
    home: tempfile::TempDir,
    work: PathBuf,
}

impl Cli {
    fn new() -> Cli {
        let home = tempfile::tempdir().expect("temp dir");
        let work = home.path().join("work");
        std::fs::create_dir_all(&work).expect("work dir");
        Cli {
            bin: notation_bin(),
            home,
            work,
        }
    }

    fn config(&self) -> PathBuf {
        self.home.path().join("xdg").join("notation")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .current_dir(&self.work)
            .env_remove("NOTATION_CONFIG")
            .env("XDG_CONFIG_HOME", self.home.path().join("xdg"))
            .env("HOME", self.home.path());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run notation")
    }

    /// Runs with `input` on stdin (for confirmation prompts).
    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run notation");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(input.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("wait for notation")
    }

    /// A step that must succeed: (stdout, stderr).
    fn ok(&self, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
        let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
        assert!(
            out.status.success(),
            "notation {args:?} failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        );
        (stdout, stderr)
    }

    /// A step that must fail with exit code 1 and one `Error: ` line: stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
        assert_eq!(out.status.code(), Some(1), "notation {args:?}: {stderr}");
        assert!(stderr.starts_with("Error: "), "{stderr}");
        stderr
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.work.join(name);
        std::fs::write(&p, bytes).expect("write file");
        p
    }
}

/// A configuration with a generate-test key `wabbit-networks.io` (default
/// key; its certificate in trust store `ca:wabbit-networks.io`).
fn with_test_key() -> Cli {
    let cli = Cli::new();
    cli.ok(&["cert", "generate-test", "--default", "wabbit-networks.io"]);
    cli
}

const BLOB: &[u8] = b"an arbitrary bag of bits\n";

#[test]
fn sign_and_verify_jws_and_cose_with_the_global_policy() {
    let cli = with_test_key();
    cli.write("my-blob.bin", BLOB);

    let (out, _) = cli.ok(&["blob", "sign", "my-blob.bin"]);
    let jws = cli.work.join("my-blob.bin.jws.sig");
    assert_eq!(
        out,
        format!(
            "Successfully signed my-blob.bin\nSignature file written to {}\n",
            jws.display()
        )
    );
    let (out, _) = cli.ok(&[
        "blob",
        "sign",
        "--signature-format",
        "cose",
        "-m",
        "io.wabbit-networks.buildId=123",
        "my-blob.bin",
    ]);
    let cose = cli.work.join("my-blob.bin.cose.sig");
    assert!(
        out.ends_with(&format!("Signature file written to {}\n", cose.display())),
        "{out}"
    );
    assert!(jws.is_file() && cose.is_file());

    // No blob trust policy yet.
    let err = cli.fails(&["blob", "verify", "-s", "my-blob.bin.jws.sig", "my-blob.bin"]);
    assert!(err.contains("trustpolicy.blob.json"), "{err}");
    // Upstream's words first (its blob/verify.go "with no trust policy").
    assert!(
        err.starts_with("Error: trust policy is not present. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy"),
        "{err}"
    );

    let (out, _) = cli.ok(&[
        "blob",
        "policy",
        "init",
        "--global",
        "--name",
        "wabbit",
        "--trust-store",
        "ca:wabbit-networks.io",
        "--trusted-identity",
        "x509.subject: C=US, ST=WA, O=Notary",
    ]);
    let policy_file = cli.config().join("trustpolicy.blob.json");
    assert_eq!(
        out,
        format!(
            "Successfully initialized blob trust policy file to {}\n",
            policy_file.display()
        )
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&policy_file).unwrap()).unwrap();
    assert_eq!(written["trustPolicies"][0]["globalPolicy"], true);
    assert_eq!(
        written["trustPolicies"][0]["signatureVerification"]["level"],
        "strict"
    );
    let (shown, _) = cli.ok(&["blob", "policy", "show"]);
    assert_eq!(shown.as_bytes(), std::fs::read(&policy_file).unwrap());

    // Both formats verify under the global policy (no --policy-name).
    let (out, _) = cli.ok(&["blob", "verify", "-s", "my-blob.bin.jws.sig", "my-blob.bin"]);
    assert_eq!(out, "Successfully verified signature for my-blob.bin\n");
    let (out, _) = cli.ok(&[
        "blob",
        "verify",
        "--signature",
        "my-blob.bin.cose.sig",
        "--user-metadata",
        "io.wabbit-networks.buildId=123",
        "--media-type",
        "application/octet-stream",
        "--policy-name",
        "wabbit",
        "my-blob.bin",
    ]);
    assert!(
        out.starts_with(
            "Successfully verified signature for my-blob.bin\n\n\
             The signature contains the following user metadata:\n\n"
        ),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["io.wabbit-networks.buildId", "123"]),
        "{out}"
    );

    // Metadata that is not in the signature.
    let err = cli.fails(&[
        "blob",
        "verify",
        "-s",
        "my-blob.bin.cose.sig",
        "-m",
        "io.wabbit-networks.buildId=124",
        "my-blob.bin",
    ]);
    assert!(
        err.starts_with("Error: signature verification failed"),
        "{err}"
    );
    assert!(
        err.contains("unable to find specified metadata in the signature"),
        "{err}"
    );

    // Another media type than the signed one.
    let err = cli.fails(&[
        "blob",
        "verify",
        "-s",
        "my-blob.bin.jws.sig",
        "--media-type",
        "application/my-media-octet-stream",
        "my-blob.bin",
    ]);
    assert!(err.contains("integrity"), "{err}");

    // An unknown policy name.
    let err = cli.fails(&[
        "blob",
        "verify",
        "--policy-name",
        "wabbit-networks-policy",
        "-s",
        "my-blob.bin.jws.sig",
        "my-blob.bin",
    ]);
    assert_eq!(
        err,
        "Error: signature verification failed: no applicable blob trust policy with name \"wabbit-networks-policy\"\n"
    );

    // The blob is altered after signing: one byte, same size.
    let mut tampered = BLOB.to_vec();
    tampered[0] ^= 1;
    cli.write("my-blob.bin", &tampered);
    for sig in ["my-blob.bin.jws.sig", "my-blob.bin.cose.sig"] {
        let err = cli.fails(&["blob", "verify", "-s", sig, "my-blob.bin"]);
        assert!(
            err.contains("integrity check failed. signature does not match the given blob"),
            "{sig}: {err}"
        );
    }
    // Or grows.
    let mut longer = BLOB.to_vec();
    longer.push(b'!');
    cli.write("my-blob.bin", &longer);
    let err = cli.fails(&["blob", "verify", "-s", "my-blob.bin.jws.sig", "my-blob.bin"]);
    assert!(
        err.contains("integrity check failed. signature does not match the given blob"),
        "{err}"
    );
    cli.write("my-blob.bin", BLOB);
    cli.ok(&["blob", "verify", "-s", "my-blob.bin.jws.sig", "my-blob.bin"]);

    // A signature renamed without its format extension is still recognised.
    std::fs::copy(&cose, cli.work.join("renamed")).unwrap();
    cli.ok(&["blob", "verify", "-s", "renamed", "my-blob.bin"]);
    // A signature whose content is not the format its name says fails.
    std::fs::copy(&cose, cli.work.join("wrong.jws.sig")).unwrap();
    let err = cli.fails(&["blob", "verify", "-s", "wrong.jws.sig", "my-blob.bin"]);
    assert!(err.contains("integrity"), "{err}");
}

#[test]
fn signature_file_naming_directory_and_force() {
    let cli = with_test_key();
    std::fs::create_dir_all(cli.work.join("relative/path")).unwrap();
    cli.write("relative/path/my-blob.bin", BLOB);

    // Default: the current directory (not the blob's), printed absolute.
    let (out, _) = cli.ok(&["blob", "sign", "./relative/path/my-blob.bin"]);
    let in_cwd = cli.work.join("my-blob.bin.jws.sig");
    assert_eq!(
        out,
        format!(
            "Successfully signed ./relative/path/my-blob.bin\nSignature file written to {}\n",
            in_cwd.display()
        )
    );
    assert!(in_cwd.is_file(), "{out}");
    assert!(!cli.work.join("relative/path/my-blob.bin.jws.sig").exists());
    let first = std::fs::read(&in_cwd).unwrap();

    // Existing file without --force: a prompt; no answer (closed stdin) or
    // "n" keeps the file and exits 0 without signing.
    for input in [None, Some("n\n")] {
        let out = match input {
            None => cli.run(&["blob", "sign", "./relative/path/my-blob.bin"]),
            Some(i) => cli.run_with_stdin(&["blob", "sign", "./relative/path/my-blob.bin"], i),
        };
        assert!(out.status.success(), "{out:?}");
        assert_eq!(out.stdout, b"", "{input:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(
                "The signature file already exists, do you want to overwrite it? [y/N] "
            ),
            "{err}"
        );
        assert_eq!(std::fs::read(&in_cwd).unwrap(), first);
    }
    // "y" replaces it.
    let out = cli.run_with_stdin(&["blob", "sign", "./relative/path/my-blob.bin"], "y\n");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout)
        .ends_with(&format!("Signature file written to {}\n", in_cwd.display())));
    let second = std::fs::read(&in_cwd).unwrap();
    assert_ne!(second, first);
    // --force replaces it without asking.
    let (_, err) = cli.ok(&["blob", "sign", "--force", "./relative/path/my-blob.bin"]);
    assert!(!err.contains("overwrite"), "{err}");
    assert_ne!(std::fs::read(&in_cwd).unwrap(), second);

    // A directory with `..` is printed cleaned.
    let (out, _) = cli.ok(&[
        "blob",
        "sign",
        "--signature-directory",
        "relative/../relative/path",
        "./relative/path/my-blob.bin",
    ]);
    let next_to = cli.work.join("relative/path/my-blob.bin.jws.sig");
    assert!(
        out.ends_with(&format!(
            "Signature file written to {}\n",
            next_to.display()
        )),
        "{out}"
    );
    assert!(next_to.is_file());

    // --signature-directory (created when missing).
    let sigs = cli.work.join("xyz/sigs");
    let (out, _) = cli.ok(&[
        "blob",
        "sign",
        "--signature-directory",
        sigs.to_str().unwrap(),
        "--signature-format",
        "cose",
        "--media-type",
        "text/plain",
        "--expiry",
        "24h",
        "relative/path/my-blob.bin",
    ]);
    let in_dir = sigs.join("my-blob.bin.cose.sig");
    assert!(
        out.ends_with(&format!("Signature file written to {}\n", in_dir.display())),
        "{out}"
    );
    assert!(in_dir.is_file());
    let leftovers: Vec<_> = std::fs::read_dir(&sigs)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");

    // Bad flag values fail before anything is written.
    let err = cli.fails(&[
        "blob",
        "sign",
        "--media-type",
        "not a media type",
        "relative/path/my-blob.bin",
    ]);
    assert!(err.contains("media type"), "{err}");
    let err = cli.fails(&["blob", "sign", "missing.bin"]);
    assert!(err.contains("missing.bin"), "{err}");
    assert!(!cli.work.join("missing.bin.jws.sig").exists());
}

#[test]
fn inspect_shows_the_signed_descriptor() {
    let cli = with_test_key();
    cli.write("my-blob.bin", BLOB);
    cli.ok(&[
        "blob",
        "sign",
        "-m",
        "buildId=7",
        "--media-type",
        "application/vnd.example+json",
        "my-blob.bin",
    ]);
    let digest = {
        use sha2::Digest;
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(BLOB)))
    };

    let (tree, _) = cli.ok(&["blob", "inspect", "my-blob.bin.jws.sig"]);
    let lines: Vec<&str> = tree.lines().collect();
    assert_eq!(lines[0], "my-blob.bin.jws.sig");
    assert_eq!(lines[1], "├── signature algorithm: RSASSA-PSS-SHA-256");
    assert_eq!(
        lines[2],
        "├── signature envelope type: application/jose+json"
    );
    assert!(tree.contains("│   └── buildId: 7\n"), "{tree}");
    assert!(
        tree.ends_with(&format!(
            "└── signed artifact\n    ├── media type: application/vnd.example+json\n    ├── digest: {digest}\n    └── size: {}\n",
            BLOB.len()
        )),
        "{tree}"
    );

    let (json, _) = cli.ok(&["blob", "inspect", "-o", "json", "my-blob.bin.jws.sig"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["mediaType"], "application/jose+json");
    assert_eq!(v["signedArtifact"]["digest"], digest.as_str());
    assert_eq!(v["signedArtifact"]["size"], BLOB.len());
    assert_eq!(v["userDefinedAttributes"]["buildId"], "7");
    assert_eq!(v["certificates"].as_array().map(Vec::len), Some(1));
    assert!(
        v.get("digest").is_none(),
        "a blob signature has no manifest digest"
    );

    cli.write("garbage.cose.sig", b"not cbor");
    let err = cli.fails(&["blob", "inspect", "garbage.cose.sig"]);
    assert!(err.contains("not a valid cose signature envelope"), "{err}");
}

#[test]
fn policy_import_selection_and_levels() {
    let cli = with_test_key();
    cli.write("my-blob.bin", BLOB);
    cli.ok(&["blob", "sign", "my-blob.bin"]);
    let verify = |extra: &[&str]| {
        let mut args = vec!["blob", "verify", "-s", "my-blob.bin.jws.sig"];
        args.extend_from_slice(extra);
        args.push("my-blob.bin");
        cli.run(&args)
    };

    let policy = serde_json::json!({
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "wabbit-networks-policy",
                "signatureVerification": { "level": "strict" },
                "trustStores": ["ca:wabbit-networks.io"],
                "trustedIdentities": ["x509.subject: C=US, ST=WA, L=Seattle, O=Notary"],
            },
            {
                "name": "someone-else",
                "signatureVerification": { "level": "strict" },
                "trustStores": ["ca:wabbit-networks.io"],
                "trustedIdentities": ["x509.subject: C=US, ST=WA, O=acme-rockets.io"],
            },
            {
                "name": "audit-someone-else",
                "globalPolicy": true,
                "signatureVerification": { "level": "audit" },
                "trustStores": ["ca:wabbit-networks.io"],
                "trustedIdentities": ["x509.subject: C=US, ST=WA, O=acme-rockets.io"],
            },
            {
                "name": "skip-verification-policy",
                "signatureVerification": { "level": "skip" },
            },
        ],
    });
    let bytes = serde_json::to_vec_pretty(&policy).unwrap();
    cli.write("policy.json", &bytes);
    let (out, _) = cli.ok(&["blob", "policy", "import", "policy.json"]);
    assert_eq!(
        out,
        format!(
            "Successfully imported blob trust policy configuration to {}.\n",
            cli.config().join("trustpolicy.blob.json").display()
        )
    );
    assert_eq!(
        std::fs::read(cli.config().join("trustpolicy.blob.json")).unwrap(),
        bytes,
        "imported byte for byte"
    );
    // The OCI policy is a different file and stays absent.
    assert!(!cli.config().join("trustpolicy.oci.json").exists());

    let out = verify(&["--policy-name", "wabbit-networks-policy"]);
    assert!(out.status.success(), "{out:?}");

    // Strict with an identity the signer does not have.
    let out = verify(&["--policy-name", "someone-else"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not match the X.509 trusted identities"),
        "{err}"
    );

    // The global policy audits: the identity mismatch is only logged.
    let out = verify(&[]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("Warning: authenticity was set to \"log\" and failed with error: signing certificate from the digital signature does not match the X.509 trusted identities"),
        "{err}"
    );

    // skip: nothing is checked, not even the blob.
    cli.write("my-blob.bin", b"something else entirely");
    let out = verify(&["--policy-name", "skip-verification-policy"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Trust policy is configured to skip signature verification for my-blob.bin\n"
    );
    // ... while the audit policy still enforces integrity.
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    // Invalid documents are refused and leave the current policy in place.
    let invalid = [
        (
            r#"{"version":"1.0","trustPolicies":[
                {"name":"a","globalPolicy":true,"signatureVerification":{"level":"audit"},"trustStores":["ca:x"],"trustedIdentities":["*"]},
                {"name":"b","globalPolicy":true,"signatureVerification":{"level":"audit"},"trustStores":["ca:x"],"trustedIdentities":["*"]}]}"#,
            "globalPolicy",
        ),
        (
            r#"{"version":"1.0","trustPolicies":[
                {"name":"a","signatureVerification":{"level":"audit"},"trustStores":["ca:x"],"trustedIdentities":["*"]},
                {"name":"a","signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["*"]}]}"#,
            "unique",
        ),
        (
            r#"{"version":"1.0","trustPolicies":[
                {"name":"g","globalPolicy":true,"signatureVerification":{"level":"skip"}}]}"#,
            "skip",
        ),
        (
            r#"{"version":"1.0","trustPolicies":[
                {"name":"a","signatureVerification":{"level":"strict"},"trustStores":["nope:x"],"trustedIdentities":["*"]}]}"#,
            "trustStores",
        ),
    ];
    for (doc, expected) in invalid {
        cli.write("bad.json", doc.as_bytes());
        let err = cli.fails(&["blob", "policy", "import", "--force", "bad.json"]);
        assert!(err.contains(expected), "{expected}: {err}");
        assert_eq!(
            std::fs::read(cli.config().join("trustpolicy.blob.json")).unwrap(),
            bytes
        );
    }

    // Replacing needs confirmation (none on a closed stdin) or --force.
    let (out, _) = cli.ok(&[
        "blob",
        "policy",
        "init",
        "--name",
        "only",
        "--trust-store",
        "ca:wabbit-networks.io",
        "--trusted-identity",
        "*",
    ]);
    assert_eq!(out, "");
    assert_eq!(
        std::fs::read(cli.config().join("trustpolicy.blob.json")).unwrap(),
        bytes
    );
    cli.ok(&[
        "blob",
        "policy",
        "init",
        "--force",
        "--name",
        "only",
        "--trust-store",
        "ca:wabbit-networks.io",
        "--trusted-identity",
        "*",
    ]);
    // Not global: a policy name is now required.
    cli.write("my-blob.bin", BLOB);
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--policy-name"));
    let out = verify(&["--policy-name", "only"]);
    assert!(out.status.success(), "{out:?}");

    // An invalid policy in place is still shown after the reason and a
    // hint; as upstream's, the command succeeds.
    let broken = br#"{"version":"1.0","trustPolicies":[]}"#;
    std::fs::write(cli.config().join("trustpolicy.blob.json"), broken).unwrap();
    let out = cli.run(&["blob", "policy", "show"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(out.stdout, broken);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("Error: ")
            && err.contains("\nExisting blob trust policy configuration is invalid"),
        "{err}"
    );
    assert!(err.contains("notation blob policy import"), "{err}");
}

fn localkey_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NOTATION_LOCALKEY_BIN") {
        return PathBuf::from(p);
    }
    let bin =
        notation_bin().with_file_name(format!("notation-localkey{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} does not exist: build it with `cargo build -p notation-localkey`, or set NOTATION_LOCALKEY_BIN",
        bin.display()
    );
    bin
}

/// Installs `executable` as plugin `localkey` (mode 0755).
fn install_localkey(cli: &Cli, executable: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    let dir = cli.config().join("plugins").join("localkey");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("notation-localkey");
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, executable).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Plugin signing of blobs: RAW preferred; otherwise ENVELOPE_FOR_BLOB
/// (describe-key, then generate-envelope); ENVELOPE alone is not enough.
/// The reference `localkey` plugin claims RAW and ENVELOPE, or only
/// ENVELOPE_FOR_BLOB with `--plugin-config mode=envelope-for-blob`.
#[test]
fn plugin_keys_raw_and_envelope_for_blob() {
    let cli = with_test_key();
    cli.write("my-blob.bin", BLOB);
    cli.ok(&[
        "blob",
        "policy",
        "init",
        "--global",
        "--name",
        "wabbit",
        "--trust-store",
        "ca:wabbit-networks.io",
        "--trusted-identity",
        "*",
    ]);
    let keys = cli.config().join("localkeys");
    let key_file = keys.join("wabbit-networks.io.key");
    let chain = format!(
        "certificate_chain={}",
        keys.join("wabbit-networks.io.crt").display()
    );
    let real = localkey_bin();
    let agent = |sig: &str| {
        let (tree, _) = cli.ok(&["blob", "inspect", sig]);
        tree.lines()
            .find_map(|l| l.split_once("signingAgent: ").map(|(_, a)| a.to_string()))
            .unwrap_or_default()
    };

    // The plugin as built: RAW is used, the host makes the envelope.
    install_localkey(&cli, &std::fs::read(&real).unwrap());
    cli.ok(&[
        "key",
        "add",
        "--plugin",
        "localkey",
        "--id",
        key_file.to_str().unwrap(),
        "--plugin-config",
        &chain,
        "lk",
    ]);
    cli.ok(&["blob", "sign", "-k", "lk", "my-blob.bin"]);
    assert!(agent("my-blob.bin.jws.sig").starts_with("notation-rs/"));
    cli.ok(&["blob", "verify", "-s", "my-blob.bin.jws.sig", "my-blob.bin"]);

    // Only SIGNATURE_GENERATOR.ENVELOPE: cannot sign blobs.
    let err = cli.fails(&[
        "blob",
        "sign",
        "--force",
        "-k",
        "lk",
        "--plugin-config",
        "mode=envelope",
        "my-blob.bin",
    ]);
    assert!(err.contains("ENVELOPE_FOR_BLOB"), "{err}");

    // Only SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB: the plugin makes the
    // envelope (its signing agent says so), the host checks it, and it
    // verifies.
    for format in ["jws", "cose"] {
        cli.ok(&[
            "blob",
            "sign",
            "--force",
            "--signature-format",
            format,
            "-m",
            "k=v",
            "--plugin",
            "localkey",
            "--id",
            key_file.to_str().unwrap(),
            "--plugin-config",
            &chain,
            "--plugin-config",
            "mode=envelope-for-blob",
            "my-blob.bin",
        ]);
        let sig = format!("my-blob.bin.{format}.sig");
        assert!(agent(&sig).starts_with("notation-localkey/"), "{format}");
        cli.ok(&["blob", "verify", "-m", "k=v", "-s", &sig, "my-blob.bin"]);
    }
}

/// `--timestamp-url` / `--timestamp-root-cert` on blobs: the token is
/// verified at signing, and a policy with a `tsa` store verifies it.
#[test]
fn timestamped_blob_signatures() {
    use tsa_support::{Kind, TsaPki, TsaServer};
    let pki = TsaPki::new(Kind::Tsa);
    let other = TsaPki::new(Kind::Tsa);
    let tsa = TsaServer::start_with_accuracy(&pki, None);
    let cli = with_test_key();
    cli.write("my-blob.bin", BLOB);
    let root = cli.write("tsa-root.pem", &pki.root.to_pem().unwrap());
    let other_root = cli.write("other-root.pem", &other.root.to_pem().unwrap());
    let (root, other_root) = (root.to_str().unwrap(), other_root.to_str().unwrap());

    // A root the token does not chain to: nothing is written.
    let err = cli.fails(&[
        "blob",
        "sign",
        "--timestamp-url",
        &tsa.url,
        "--timestamp-root-cert",
        other_root,
        "my-blob.bin",
    ]);
    assert!(err.contains("timestamp"), "{err}");
    assert!(!cli.work.join("my-blob.bin.jws.sig").exists());

    cli.ok(&["cert", "add", "-t", "tsa", "-s", "ts", root]);
    cli.ok(&[
        "blob",
        "policy",
        "init",
        "--global",
        "--name",
        "with-tsa",
        "--trust-store",
        "ca:wabbit-networks.io",
        "--trust-store",
        "tsa:ts",
        "--trusted-identity",
        "*",
    ]);
    for format in ["jws", "cose"] {
        cli.ok(&[
            "blob",
            "sign",
            "--signature-format",
            format,
            "--timestamp-url",
            &tsa.url,
            "--timestamp-root-cert",
            root,
            "my-blob.bin",
        ]);
        let sig = format!("my-blob.bin.{format}.sig");
        let (tree, _) = cli.ok(&["blob", "inspect", &sig]);
        assert!(tree.contains("timestamp"), "{tree}");
        cli.ok(&["blob", "verify", "-s", &sig, "my-blob.bin"]);
    }
    // Without a timestamp, a policy that requires one fails.
    cli.ok(&["blob", "sign", "--force", "my-blob.bin"]);
    let err = cli.fails(&["blob", "verify", "-s", "my-blob.bin.jws.sig", "my-blob.bin"]);
    assert!(err.contains("timestamp"), "{err}");
}
