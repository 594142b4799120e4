//! The reference plugins end to end through the `notation` CLI against a
//! real registry:
//!
//! * `localkey` installed from a `.tar.gz` with `plugin install --file`,
//!   an encrypted RSA-3072 key whose passphrase comes from a file, signed
//!   JWS and COSE (the host's ENVELOPE path: localkey claims it);
//! * `pkcs11` installed as a single executable, SoftHSM2 RSA-3072 and
//!   EC-384 keys, signed JWS and COSE (the host's RAW path);
//!
//! then `verify` with a trust store holding the test root.
//!
//! Binaries come from this workspace's target directory (`cargo test
//! --workspace` builds them) or `$NOTATION_BIN`, `$NOTATION_LOCALKEY_BIN`,
//! `$NOTATION_PKCS11_BIN`. SoftHSM2, OpenSC and docker-registry are
//! required: when missing, the tests fail.

#[path = "../../plugins/localkey/tests/support/pki.rs"]
mod pki;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use notation_e2e::workspace_bin;
use notation_e2e::{push_layout, vectors_dir, Registry};
use openssl::symm::Cipher;

const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

struct Cli {
    bin: PathBuf,
    home: tempfile::TempDir,
    extra_env: Vec<(String, PathBuf)>,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            bin: workspace_bin("NOTATION_BIN", "notation"),
            home: tempfile::tempdir().expect("temp dir"),
            extra_env: Vec::new(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env_remove("NOTATION_CONFIG")
            .env("XDG_CONFIG_HOME", self.home.path().join("xdg"))
            .env("HOME", self.home.path())
            .env("DOCKER_CONFIG", self.home.path().join("docker"))
            .env_remove("NOTATION_USERNAME")
            .env_remove("NOTATION_PASSWORD")
            .env_remove("NOTATION_PKCS11_PIN")
            .env_remove("NOTATION_PKCS11_MODULE")
            .stdin(Stdio::null());
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd.output().expect("run notation")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "notation {args:?} failed ({:?})\nstdout:\n{stdout}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

fn run_tool(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Pushes the e2e image; returns `localhost:PORT/REPO@DIGEST`.
fn image(registry: &Registry, repo: &str) -> String {
    let desc = push_layout(registry, &vectors_dir().join("oci-layouts/e2e"), repo);
    let port = registry.host.rsplit_once(':').expect("host:port").1;
    format!("localhost:{port}/{repo}@{}", desc.digest)
}

/// Trusts `root` and requires the leaf subject `subject`.
fn trust(cli: &Cli, dir: &Path, root: &openssl::x509::X509, subject: &str) {
    let root_file = dir.join("root.crt");
    fs::write(&root_file, root.to_pem().unwrap()).unwrap();
    cli.ok(&[
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "plugins",
        root_file.to_str().unwrap(),
    ]);
    cli.ok(&[
        "policy",
        "init",
        "--name",
        "plugins",
        "--trust-store",
        "ca:plugins",
        "--trusted-identity",
        &format!("x509.subject: {subject}"),
    ]);
}

/// Signs `reference` in both formats with `key`, verifies it, and checks
/// every signature's algorithm and signing agent (the agent tells which
/// host path made the envelope: the host's own for RAW, the plugin's for
/// ENVELOPE).
fn sign_both_and_verify(cli: &Cli, key: &str, reference: &str, alg: &str, agent_prefix: &str) {
    for format in ["jws", "cose"] {
        let out = cli.ok(&[
            "sign",
            "--key",
            key,
            "--signature-format",
            format,
            reference,
        ]);
        assert!(
            out.starts_with(&format!("Successfully signed {reference}")),
            "{out}"
        );
    }
    let out = cli.ok(&["verify", reference]);
    assert_eq!(
        out,
        format!("Successfully verified signature for {reference}\n")
    );
    let out = cli.ok(&["inspect", "-o", "json", reference]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("inspect json");
    let sigs = doc["signatures"].as_array().expect("signatures");
    assert_eq!(sigs.len(), 2, "{out}");
    for sig in sigs {
        assert_eq!(sig["signatureAlgorithm"], alg, "{out}");
        let agent = sig["unsignedAttributes"]["signingAgent"]
            .as_str()
            .unwrap_or_default();
        assert!(agent.starts_with(agent_prefix), "{out}");
    }
}

#[test]
fn localkey_from_a_tar_gz_with_an_encrypted_key() {
    let registry = Registry::start();
    let reference = image(&registry, "localkey");
    let cli = Cli::new();
    let work = tempfile::tempdir().unwrap();

    // Package the plugin like a publisher would and install the archive.
    let pkg = work.path().join("pkg");
    fs::create_dir_all(&pkg).unwrap();
    fs::copy(
        workspace_bin("NOTATION_LOCALKEY_BIN", "notation-localkey"),
        pkg.join("notation-localkey"),
    )
    .unwrap();
    fs::write(pkg.join("LICENSE"), "Apache-2.0\n").unwrap();
    let archive = work
        .path()
        .join("notation-localkey_0.1.0_linux_amd64.tar.gz");
    run_tool(
        Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(&pkg)
            .args(["notation-localkey", "LICENSE"]),
    );
    let out = cli.ok(&["plugin", "install", "--file", archive.to_str().unwrap()]);
    assert!(
        out.starts_with("Successfully installed plugin localkey, version"),
        "{out}"
    );

    // An encrypted RSA-3072 key, passphrase in a file.
    let key = pki::gen_key("RSA", 3072);
    let ca = pki::make_ca("E2E Root");
    let leaf = pki::make_leaf(&ca, &key, "localkey signer");
    let key_file = work.path().join("signing.key");
    fs::write(
        &key_file,
        key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), b"correct horse")
            .unwrap(),
    )
    .unwrap();
    let pass_file = work.path().join("passphrase");
    fs::write(&pass_file, "correct horse\n").unwrap();
    let chain_file = work.path().join("chain.pem");
    fs::write(&chain_file, pki::chain_pem(&[&leaf, &ca.cert])).unwrap();

    cli.ok(&[
        "key",
        "add",
        "--plugin",
        "localkey",
        "--id",
        key_file.to_str().unwrap(),
        "--plugin-config",
        &format!("certificate_chain={}", chain_file.display()),
        "--plugin-config",
        &format!("passphrase_file={}", pass_file.display()),
        "lk",
    ]);
    trust(
        &cli,
        work.path(),
        &ca.cert,
        "C=US, ST=WA, O=Notation Test, CN=localkey signer",
    );
    // The plugin claims both capabilities: the host takes the RAW path, as
    // upstream does, and assembles the envelope itself.
    sign_both_and_verify(&cli, "lk", &reference, "RSASSA-PSS-SHA-384", "notation-rs/");

    // `mode=envelope` makes the plugin claim only ENVELOPE (the host passes
    // the key's plugin config to get-plugin-metadata): the plugin builds
    // the envelope and the host checks it before pushing.
    cli.ok(&[
        "key",
        "add",
        "--plugin",
        "localkey",
        "--id",
        key_file.to_str().unwrap(),
        "--plugin-config",
        &format!("certificate_chain={}", chain_file.display()),
        "--plugin-config",
        &format!("passphrase_file={}", pass_file.display()),
        "--plugin-config",
        "mode=envelope",
        "lk-envelope",
    ]);
    let reference = image(&registry, "localkey-envelope");
    sign_both_and_verify(
        &cli,
        "lk-envelope",
        &reference,
        "RSASSA-PSS-SHA-384",
        "notation-localkey/",
    );
}

#[test]
fn pkcs11_with_softhsm_rsa_3072_and_ec_384() {
    assert!(
        Path::new(SOFTHSM_MODULE).exists(),
        "SoftHSM2 is required ({SOFTHSM_MODULE} missing): apt-get install softhsm2 opensc"
    );
    let registry = Registry::start();
    let cli_base = Cli::new();
    let work = tempfile::tempdir().unwrap();

    // A token of our own.
    let tokens = work.path().join("tokens");
    fs::create_dir_all(&tokens).unwrap();
    let conf = work.path().join("softhsm2.conf");
    fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let mut cli = cli_base;
    cli.extra_env.push(("SOFTHSM2_CONF".into(), conf.clone()));
    run_tool(
        Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args([
                "--init-token",
                "--free",
                "--label",
                "e2e",
                "--so-pin",
                "5678",
                "--pin",
                "1234",
            ]),
    );
    let ca = pki::make_ca("PKCS11 E2E Root");
    for (kind, size, id, label) in [("RSA", 3072, "01", "rsa-key"), ("EC", 384, "02", "ec-key")] {
        // Keys are made with openssl and imported, so the test knows the
        // public key to certify; on the token they are ordinary private keys.
        let key = pki::gen_key(kind, size);
        let der = work.path().join(format!("{label}.der"));
        fs::write(&der, key.private_key_to_pkcs8().unwrap()).unwrap();
        let leaf = pki::make_leaf(&ca, &key, "pkcs11 signer");
        let cert = work.path().join(format!("{label}.crt.der"));
        fs::write(&cert, leaf.to_der().unwrap()).unwrap();
        for (file, kind) in [(&der, "privkey"), (&cert, "cert")] {
            let usage: &[&str] = if kind == "privkey" {
                &["--usage-sign"]
            } else {
                &[]
            };
            run_tool(
                Command::new("pkcs11-tool")
                    .env("SOFTHSM2_CONF", &conf)
                    .args([
                        "--module",
                        SOFTHSM_MODULE,
                        "--token-label",
                        "e2e",
                        "--login",
                        "--pin",
                        "1234",
                        "--write-object",
                    ])
                    .arg(file)
                    .args(["--type", kind, "--id", id, "--label", label])
                    .args(usage),
            );
        }
        fs::remove_file(&der).unwrap();
    }
    let root = work.path().join("root.der");
    fs::write(&root, ca.cert.to_der().unwrap()).unwrap();
    run_tool(
        Command::new("pkcs11-tool")
            .env("SOFTHSM2_CONF", &conf)
            .args([
                "--module",
                SOFTHSM_MODULE,
                "--token-label",
                "e2e",
                "--login",
                "--pin",
                "1234",
                "--write-object",
            ])
            .arg(&root)
            .args(["--type", "cert", "--id", "99", "--label", "root"]),
    );

    // Install the plugin as a single executable.
    let exe = work.path().join("notation-pkcs11");
    fs::copy(
        workspace_bin("NOTATION_PKCS11_BIN", "notation-pkcs11"),
        &exe,
    )
    .unwrap();
    let out = cli.ok(&["plugin", "install", "--file", exe.to_str().unwrap()]);
    assert!(
        out.starts_with("Successfully installed plugin pkcs11, version"),
        "{out}"
    );

    let pin_file = work.path().join("pin");
    fs::write(&pin_file, "1234\n").unwrap();
    trust(
        &cli,
        work.path(),
        &ca.cert,
        "C=US, ST=WA, O=Notation Test, CN=pkcs11 signer",
    );
    for (label, name, alg) in [
        ("rsa-key", "hsm-rsa", "RSASSA-PSS-SHA-384"),
        ("ec-key", "hsm-ec", "ECDSA-SHA-384"),
    ] {
        let key_id = format!(
            "pkcs11:token=e2e;object={label}?pin-source=file:{}",
            pin_file.display()
        );
        cli.ok(&[
            "key",
            "add",
            "--plugin",
            "pkcs11",
            "--id",
            &key_id,
            "--plugin-config",
            &format!("module_path={SOFTHSM_MODULE}"),
            name,
        ]);
        let reference = image(&registry, label);
        sign_both_and_verify(&cli, name, &reference, alg, "notation-rs/");
    }
}
