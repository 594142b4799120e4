//! The seed walkthrough, exactly as a notation user types it, against a real
//! registry (Debian `docker-registry`, reached as `localhost:PORT` like
//! upstream's quickstart, so no `--insecure-registry` is needed):
//!
//! ```text
//! notation list REF:v1                      # no signatures
//! notation cert generate-test --default wabbit-networks.io
//! notation key list                         # default marked with '*'
//! notation cert list
//! notation sign REF:v1                      # JWS, warns about the tag
//! notation sign --signature-format cose REF@DIGEST
//! notation list REF@DIGEST                  # two signatures in a tree
//! notation policy import trustpolicy.json
//! notation verify REF@DIGEST
//! notation verify REF:v1
//! ```
//!
//! It runs the `notation` binary of this workspace
//! (`target/<profile>/notation`, or `$NOTATION_BIN`): `cargo test
//! --workspace` builds it; with `-p notation-e2e` alone, build it first with
//! `cargo build -p notation-host --bin notation`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use notation_e2e::{
    notation_bin, push_layout, vectors_dir, write_credential_helper, Registry,
    CREDENTIAL_HELPER_NAME,
};

struct Cli {
    bin: PathBuf,
    home: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            bin: notation_bin(),
            home: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn config(&self) -> PathBuf {
        // The upstream default location under a throwaway HOME/XDG dir.
        self.home.path().join("xdg").join("notation")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env_remove("NOTATION_CONFIG")
            .env("XDG_CONFIG_HOME", self.home.path().join("xdg"))
            .env("HOME", self.home.path())
            .env("DOCKER_CONFIG", self.home.path().join("docker"))
            .env_remove("NOTATION_USERNAME")
            .env_remove("NOTATION_PASSWORD")
            .stdin(Stdio::null())
            .output()
            .expect("run notation")
    }

    /// Runs a step that must succeed; returns (stdout, stderr).
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

    /// Runs a step that must fail with exit code 1; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
        assert_eq!(out.status.code(), Some(1), "notation {args:?}: {stderr}");
        assert!(
            stderr.starts_with("Error: ") || stderr.contains("\nError: "),
            "{stderr}"
        );
        stderr
    }
}

#[test]
fn seed_walkthrough_against_a_real_registry() {
    let registry = Registry::start();
    let image = push_layout(
        &registry,
        &vectors_dir().join("oci-layouts/e2e"),
        "net-monitor",
    );
    let port = registry.host.rsplit_once(':').expect("host:port").1;
    let repo = format!("localhost:{port}/net-monitor");
    let by_tag = format!("{repo}:v1");
    let by_digest = format!("{repo}@{}", image.digest);
    let cli = Cli::new();

    // 1. list: nothing yet (a tag is resolved, with upstream's warning).
    let (out, err) = cli.ok(&["list", &by_tag]);
    assert_eq!(out, format!("{by_digest} has no associated signature\n"));
    assert!(
        err.contains("Always list the artifact using digest(@sha256:...) rather than a tag(:v1)"),
        "{err}"
    );

    // 2. generate-test
    let (out, _) = cli.ok(&["cert", "generate-test", "--default", "wabbit-networks.io"]);
    assert!(out.ends_with(
        "Successfully added wabbit-networks.io.crt to named store wabbit-networks.io of type ca\nwabbit-networks.io: added to signingkeys.json\nwabbit-networks.io: marked as default signing key\n"
    ), "{out}");
    let key = cli.config().join("localkeys/wabbit-networks.io.key");
    assert!(key.is_file(), "generate-test used the XDG config dir");

    // 3. key list: the default is marked
    let (out, _) = cli.ok(&["key", "list"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("NAME "), "{out}");
    assert!(
        lines[1].starts_with(&format!("* wabbit-networks.io   {}", key.display())),
        "{out}"
    );

    // 4. cert list
    let (out, _) = cli.ok(&["cert", "list"]);
    assert_eq!(
        out,
        "STORE TYPE   STORE NAME           CERTIFICATE              \n\
         ca           wabbit-networks.io   wabbit-networks.io.crt   \n"
    );

    // 5. sign (JWS) by tag: warning, then the digest reference.
    let (out, err) = cli.ok(&["sign", &by_tag]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(format!("Successfully signed {by_digest}").as_str()),
        "{out}"
    );
    let jws_sig = lines
        .next()
        .and_then(|l| l.strip_prefix(&format!("Pushed the signature to {repo}@")))
        .expect("signature digest line")
        .to_string();
    assert!(
        err.contains(
            "Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:v1)"
        ),
        "{err}"
    );

    // 6. sign (COSE) by digest: no warning.
    let (out, err) = cli.ok(&["sign", "--signature-format", "cose", &by_digest]);
    assert!(
        out.starts_with(&format!("Successfully signed {by_digest}\n")),
        "{out}"
    );
    assert!(!err.contains("Warning"), "{err}");
    let cose_sig = out
        .lines()
        .nth(1)
        .and_then(|l| l.strip_prefix(&format!("Pushed the signature to {repo}@")))
        .expect("signature digest line")
        .to_string();
    assert_ne!(jws_sig, cose_sig);

    // 7. list: two signatures in upstream's tree.
    let (out, _) = cli.ok(&["list", &by_digest]);
    let mut lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0], by_digest);
    assert_eq!(lines[1], "└── application/vnd.cncf.notary.signature");
    let mut sigs = vec![
        lines[2]
            .strip_prefix("    ├── ")
            .expect("first child")
            .to_string(),
        lines[3]
            .strip_prefix("    └── ")
            .expect("last child")
            .to_string(),
    ];
    sigs.sort();
    let mut expected = vec![jws_sig.clone(), cose_sig.clone()];
    expected.sort();
    assert_eq!(sigs, expected);
    lines.clear();

    // inspect -o json: one JWS and one COSE envelope over this image.
    let (out, _) = cli.ok(&["inspect", "-o", "json", &by_digest]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("inspect JSON");
    let mut types: Vec<&str> = doc["signatures"]
        .as_array()
        .expect("signatures")
        .iter()
        .map(|s| {
            assert_eq!(s["signedArtifact"]["digest"], image.digest.as_str());
            s["mediaType"].as_str().expect("type")
        })
        .collect();
    types.sort();
    assert_eq!(types, ["application/cose", "application/jose+json"]);

    // Before a policy exists, verify fails clearly.
    let err = cli.fails(&["verify", &by_digest]);
    assert!(err.contains("notation policy import"), "{err}");

    // 8. policy import
    let policy = vectors_dir().join("trustpolicies/quickstart_trustpolicy.json");
    let (out, _) = cli.ok(&["policy", "import", policy.to_str().expect("utf-8 path")]);
    assert_eq!(
        out,
        format!(
            "Successfully imported OCI trust policy configuration to {}.\n",
            cli.config().join("trustpolicy.oci.json").display()
        )
    );

    // 9. verify by digest and by tag
    let (out, err) = cli.ok(&["verify", &by_digest]);
    assert_eq!(
        out,
        format!("Successfully verified signature for {by_digest}\n")
    );
    assert!(!err.contains("Warning"), "{err}");
    let (out, err) = cli.ok(&["verify", &by_tag]);
    assert_eq!(
        out,
        format!("Successfully verified signature for {by_digest}\n")
    );
    assert!(
        err.contains(
            "Warning: Always verify the artifact using digest(@sha256:...) rather than a tag(:v1)"
        ),
        "{err}"
    );

    // The same registry by IP: plain HTTP only with --insecure-registry or
    // config.json "insecureRegistries" (as upstream).
    let by_ip = format!("{}/net-monitor@{}", registry.host, image.digest);
    let err = cli.fails(&["list", &by_ip]);
    assert!(err.contains(&registry.host), "{err}");
    let (out, _) = cli.ok(&["list", "--insecure-registry", &by_ip]);
    assert_eq!(out.lines().count(), 4, "{out}");
    std::fs::write(
        cli.config().join("config.json"),
        format!("{{\"insecureRegistries\": [\"{}\"]}}", registry.host),
    )
    .expect("write config.json");
    let (out, _) = cli.ok(&["verify", &by_ip]);
    assert_eq!(
        out,
        format!("Successfully verified signature for {by_ip}\n")
    );

    // verify -o json names every check
    let (out, _) = cli.ok(&["verify", "-o", "json", &by_digest]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("verify JSON");
    assert_eq!(doc["result"], "passed");
    assert_eq!(
        doc["signatures"][0]["checks"]["integrity"]["result"],
        "passed"
    );
    assert_eq!(
        doc["signatures"][0]["checks"]["authenticity"]["result"],
        "passed"
    );

    // The trust store now holds an unrelated root: verification fails with
    // exit code 1, naming the failing check.
    cli.ok(&["cert", "cleanup-test", "--yes", "wabbit-networks.io"]);
    let unrelated = vectors_dir().join("localkeys/new_e2e.crt");
    cli.ok(&[
        "cert",
        "add",
        "--type",
        "ca",
        "--store",
        "wabbit-networks.io",
        unrelated.to_str().expect("utf-8 path"),
    ]);
    let err = cli.fails(&["verify", &by_digest]);
    assert!(
        err.contains("signature verification failed for all the signatures"),
        "{err}"
    );
    assert!(err.contains("authenticity validation failed"), "{err}");
}

#[test]
fn bad_references_and_unreachable_registries_fail_clearly() {
    let cli = Cli::new();
    cli.ok(&["cert", "generate-test", "--default", "k"]);
    for bad in [
        "net-monitor:v1",
        "localhost:5000/Net Monitor:v1",
        "localhost:5000/repo@sha256:123",
    ] {
        let err = cli.fails(&["sign", bad]);
        assert!(err.to_lowercase().contains("reference"), "{bad}: {err}");
    }
    // Nothing listens on this port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let before = std::fs::read(cli.config().join("signingkeys.json")).expect("keys");
    let err = cli.fails(&["sign", &format!("localhost:{port}/repo:v1")]);
    assert!(err.contains(&format!("localhost:{port}")), "{err}");
    let err = cli.fails(&["list", &format!("localhost:{port}/repo:v1")]);
    assert!(err.contains(&format!("localhost:{port}")), "{err}");
    assert_eq!(
        std::fs::read(cli.config().join("signingkeys.json")).expect("keys"),
        before
    );
    // Unknown key name.
    let err = cli.fails(&[
        "sign",
        "--key",
        "nope",
        &format!("localhost:{port}/repo:v1"),
    ]);
    assert!(
        err.contains("signing key not found: \"nope\"") && err.contains("notation key list"),
        "{err}"
    );
}

/// The file-backed docker credential helper of the tests crate
/// ([`write_credential_helper`]) in its own temp dir.
struct FileHelper {
    dir: tempfile::TempDir,
}

impl FileHelper {
    const NAME: &'static str = CREDENTIAL_HELPER_NAME;

    fn new() -> FileHelper {
        let dir = tempfile::tempdir().expect("temp dir");
        write_credential_helper(dir.path());
        FileHelper { dir }
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// The stored entry for `server`, if any.
    fn entry(&self, server: &str) -> Option<String> {
        let key = server.replace([':', '/'], "_");
        std::fs::read_to_string(self.dir.path().join("store").join(key)).ok()
    }

    fn entries(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("store"))
            .expect("store dir")
            .count()
    }
}

/// Runs notation like [`Cli::run`] but with `PATH` set to `path` (helpers
/// are looked up there) and `stdin` fed to it.
fn run_login_cli(cli: &Cli, path: &std::ffi::OsStr, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(&cli.bin)
        .args(args)
        .env_remove("NOTATION_CONFIG")
        .env("XDG_CONFIG_HOME", cli.home.path().join("xdg"))
        .env("HOME", cli.home.path())
        .env("DOCKER_CONFIG", cli.home.path().join("docker"))
        .env_remove("NOTATION_USERNAME")
        .env_remove("NOTATION_PASSWORD")
        .env("PATH", path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run notation");
    // A run that fails before reading its stdin (e.g. no credential helper)
    // may exit before this write: a broken pipe is then expected, and the
    // exit status and stderr tell the story.
    if let Err(e) = child.stdin.take().expect("stdin").write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    child.wait_with_output().expect("notation output")
}

/// `(success, stdout, stderr)` of a [`run_login_cli`] run.
fn login_cli(
    cli: &Cli,
    path: &std::ffi::OsStr,
    args: &[&str],
    stdin: &[u8],
) -> (bool, String, String) {
    let out = run_login_cli(cli, path, args, stdin);
    (
        out.status.success(),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

/// PATH with `dir` first, then the inherited one.
fn path_with(dir: &Path) -> std::ffi::OsString {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(&inherited));
    std::env::join_paths(dirs).expect("PATH")
}

/// Every file under `dir` holding the test password, in plain text or as
/// docker's base64 `user:password`.
fn files_with_the_password(dir: &Path) -> Vec<PathBuf> {
    let mut found = files_containing(dir, "s3cret-pw");
    found.extend(files_containing(dir, &base64_encode(b"wabbit:s3cret-pw")));
    found
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
            {
                found.push(p);
            }
        }
    }
    found
}

/// A registry with Basic auth, an image in it, and a CLI home with a test
/// signing key; returns (registry, server, reference by digest, cli).
fn auth_registry_and_cli() -> (Registry, String, String, Cli) {
    let registry = Registry::start_with_htpasswd("wabbit", "s3cret-pw");
    let image = push_layout(
        &registry,
        &vectors_dir().join("oci-layouts/e2e"),
        "net-monitor",
    );
    let port = registry.host.rsplit_once(':').expect("host:port").1;
    let server = format!("localhost:{port}");
    let by_digest = format!("{server}/net-monitor@{}", image.digest);
    let cli = Cli::new();
    cli.ok(&["cert", "generate-test", "--default", "wabbit-networks.io"]);
    (registry, server, by_digest, cli)
}

#[test]
fn login_sign_logout_with_a_credential_helper() {
    let (_registry, server, by_digest, cli) = auth_registry_and_cli();
    let helper = FileHelper::new();
    let path = path_with(&helper.bin());
    // Notation's own config.json names the helper.
    std::fs::create_dir_all(cli.config()).expect("config dir");
    let notation_config = cli.config().join("config.json");
    std::fs::write(
        &notation_config,
        format!(r#"{{"credsStore":"{}"}}"#, FileHelper::NAME),
    )
    .expect("write config.json");

    // Without credentials the registry refuses.
    let (ok, _, err) = login_cli(&cli, &path, &["list", &by_digest], b"");
    assert!(!ok && err.contains("401"), "{err}");

    // A wrong password: clear error, nothing stored.
    let (ok, out, err) = login_cli(
        &cli,
        &path,
        &["login", "-u", "wabbit", "-p", "wrong", &server],
        b"",
    );
    assert!(!ok, "{out}");
    assert!(err.contains("401") && err.contains("Error: "), "{err}");
    assert_eq!(helper.entries(), 0);

    // Login stores the credentials in the helper, and only there.
    let (ok, out, err) = login_cli(
        &cli,
        &path,
        &["login", "-u", "wabbit", "-p", "s3cret-pw", &server],
        b"",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "Login Succeeded\n");
    assert!(!err.contains("s3cret-pw"), "{err}");
    let entry = helper.entry(&server).expect("stored in the helper");
    let stored: serde_json::Value = serde_json::from_str(&entry).expect("helper JSON");
    assert_eq!(stored["ServerURL"], server.as_str());
    assert_eq!(stored["Username"], "wabbit");
    assert_eq!(stored["Secret"], "s3cret-pw");
    assert_eq!(
        files_with_the_password(cli.home.path()),
        Vec::<PathBuf>::new()
    );
    assert_eq!(
        std::fs::read_to_string(&notation_config).expect("config.json"),
        format!(r#"{{"credsStore":"{}"}}"#, FileHelper::NAME)
    );
    assert!(!cli.home.path().join("docker/config.json").exists());

    // sign and list use the stored credentials.
    let (ok, out, err) = login_cli(&cli, &path, &["sign", &by_digest], b"");
    assert!(ok && out.starts_with("Successfully signed"), "{out}{err}");
    let (ok, out, err) = login_cli(&cli, &path, &["list", &by_digest], b"");
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");

    // Logout erases them from the helper; the registry refuses again.
    let (ok, out, err) = login_cli(&cli, &path, &["logout", &server], b"");
    assert!(ok, "{err}");
    assert_eq!(out, "Logout Succeeded\n");
    assert_eq!(helper.entry(&server), None);
    let (ok, _, err) = login_cli(&cli, &path, &["list", &by_digest], b"");
    assert!(!ok && err.contains("401"), "{err}");
    // Logging out again is not an error.
    let (ok, _, err) = login_cli(&cli, &path, &["logout", &server], b"");
    assert!(ok, "{err}");

    // Explicit flags work without login.
    let (ok, out, err) = login_cli(
        &cli,
        &path,
        &["list", "-u", "wabbit", "-p", "s3cret-pw", &by_digest],
        b"",
    );
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
}

#[test]
fn login_with_password_stdin() {
    let (_registry, server, by_digest, cli) = auth_registry_and_cli();
    let helper = FileHelper::new();
    let path = path_with(&helper.bin());
    // This time docker's config.json names the helper (notation's has none).
    std::fs::create_dir_all(cli.home.path().join("docker")).expect("docker dir");
    std::fs::write(
        cli.home.path().join("docker/config.json"),
        format!(r#"{{"credsStore":"{}"}}"#, FileHelper::NAME),
    )
    .expect("write docker config.json");

    // One line is read; its line ending is not part of the password.
    let (ok, out, err) = login_cli(
        &cli,
        &path,
        &["login", "-u", "wabbit", "--password-stdin", &server],
        b"s3cret-pw\r\n",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "Login Succeeded\n");
    let stored: serde_json::Value =
        serde_json::from_str(&helper.entry(&server).expect("stored")).expect("helper JSON");
    assert_eq!(stored["Secret"], "s3cret-pw");
    assert_eq!(
        files_with_the_password(cli.home.path()),
        Vec::<PathBuf>::new()
    );
    let (ok, out, err) = login_cli(&cli, &path, &["list", &by_digest], b"");
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");

    // A wrong password on stdin fails; an empty stdin is "no password";
    // --password and --password-stdin together are refused.
    let (ok, _, err) = login_cli(
        &cli,
        &path,
        &["login", "-u", "wabbit", "--password-stdin", &server],
        b"wrong\n",
    );
    assert!(!ok && err.contains("401"), "{err}");
    let (ok, _, err) = login_cli(
        &cli,
        &path,
        &["login", "-u", "wabbit", "--password-stdin", &server],
        b"",
    );
    assert!(!ok && err.contains("Error: password required"), "{err}");
    let (ok, _, err) = login_cli(
        &cli,
        &path,
        &[
            "login",
            "-u",
            "wabbit",
            "-p",
            "x",
            "--password-stdin",
            &server,
        ],
        b"s3cret-pw\n",
    );
    assert!(!ok && err.contains("--password-stdin"), "{err}");
    // The stored credentials are unchanged by the failed attempts.
    let stored: serde_json::Value =
        serde_json::from_str(&helper.entry(&server).expect("stored")).expect("helper JSON");
    assert_eq!(stored["Secret"], "s3cret-pw");
}

#[test]
fn login_without_a_credential_helper_is_refused() {
    let (_registry, server, by_digest, cli) = auth_registry_and_cli();
    // PATH holds no docker-credential-* program (not even a platform
    // default one installed on this machine).
    let empty = tempfile::tempdir().expect("temp dir");
    let path = empty.path().as_os_str();
    let (ok, out, err) = login_cli(
        &cli,
        path,
        &["login", "-u", "wabbit", "-p", "s3cret-pw", &server],
        b"",
    );
    assert!(!ok, "{out}");
    assert!(out.is_empty(), "{out}");
    for part in [
        "cannot save the credentials",
        "no credential helper",
        "plain text",
        "credsStore",
        "--username",
        "NOTATION_PASSWORD",
    ] {
        assert!(
            err.to_lowercase().contains(&part.to_lowercase()),
            "{part:?} missing from: {err}"
        );
    }
    assert!(!err.contains("s3cret-pw"), "{err}");
    assert_eq!(
        files_with_the_password(cli.home.path()),
        Vec::<PathBuf>::new()
    );
    assert!(!cli.home.path().join("docker").exists());
    assert!(!cli.config().join("config.json").exists());

    // Docker's config with only plain-text auths (written by docker): it
    // still works for reading, but login refuses to add to it.
    std::fs::create_dir_all(cli.home.path().join("docker")).expect("docker dir");
    let docker_config = cli.home.path().join("docker/config.json");
    let auths = format!(
        r#"{{"auths":{{"{server}":{{"auth":"{}"}}}},"psFormat":"table"}}"#,
        base64_encode(b"wabbit:s3cret-pw")
    );
    std::fs::write(&docker_config, &auths).expect("write docker config");
    let (ok, out, err) = login_cli(
        &cli,
        path,
        &["login", "-u", "wabbit", "-p", "s3cret-pw", &server],
        b"",
    );
    assert!(!ok, "{out}");
    assert!(
        err.contains(&docker_config.display().to_string()) && err.contains("plain text"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&docker_config).expect("read"),
        auths
    );
    let (ok, out, err) = login_cli(&cli, path, &["list", &by_digest], b"");
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    // Logout removes the plain-text entry and keeps the rest of the file.
    let (ok, _, err) = login_cli(&cli, path, &["logout", &server], b"");
    assert!(ok, "{err}");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&docker_config).expect("read")).expect("json");
    assert_eq!(v["psFormat"], "table");
    assert!(v["auths"].get(server.as_str()).is_none(), "{v}");
    let (ok, _, err) = login_cli(&cli, path, &["list", &by_digest], b"");
    assert!(!ok && err.contains("401"), "{err}");
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// A self-signed P-256 code-signing certificate and its key in one PEM file
/// (what the SDK's example plugin reads through `pluginConfig` `pem`).
fn ec_key_and_cert(path: &Path) -> Vec<u8> {
    use openssl::asn1::{Asn1Integer, Asn1Time};
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::extension::{ExtendedKeyUsage, KeyUsage};
    use openssl::x509::{X509Name, X509};

    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
    let ec = EcKey::generate(&group).expect("EC key");
    let key = PKey::from_ec_key(ec.clone()).expect("pkey");
    let mut name = X509Name::builder().expect("name");
    for (k, v) in [
        ("C", "US"),
        ("ST", "WA"),
        ("O", "Hello"),
        ("CN", "hello-plugin"),
    ] {
        name.append_entry_by_text(k, v).expect("name entry");
    }
    let name = name.build();
    let mut b = X509::builder().expect("builder");
    b.set_version(2).expect("version");
    let serial = Asn1Integer::from_bn(&BigNum::from_u32(7).expect("bn")).expect("serial");
    b.set_serial_number(&serial).expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(&name).expect("issuer");
    b.set_pubkey(&key).expect("pubkey");
    let not_before = Asn1Time::days_from_now(0).expect("time");
    let not_after = Asn1Time::days_from_now(2).expect("time");
    b.set_not_before(&not_before).expect("nbf");
    b.set_not_after(&not_after).expect("naf");
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .build()
            .expect("ku"),
    )
    .expect("ku");
    b.append_extension(ExtendedKeyUsage::new().code_signing().build().expect("eku"))
        .expect("eku");
    b.sign(&key, MessageDigest::sha256()).expect("sign");
    let cert = b.build().to_pem().expect("cert pem");
    let mut pem = ec.private_key_to_pem().expect("key pem");
    pem.extend_from_slice(&cert);
    std::fs::write(path, &pem).expect("write pem");
    cert
}

#[test]
fn plugin_install_key_add_sign_verify_uninstall() {
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("temp dir");
    // plugin install --file takes a single executable named notation-NAME.
    let exe = work.path().join("notation-com.example.hello");
    std::fs::copy(env!("CARGO_BIN_EXE_notation-hello"), &exe).expect("copy plugin");
    let (out, _) = cli.ok(&["plugin", "install", "--file", exe.to_str().expect("utf-8")]);
    assert_eq!(
        out,
        "Successfully installed plugin com.example.hello, version 1.0.0\n"
    );
    let (out, _) = cli.ok(&["plugin", "ls"]);
    let row = out.lines().nth(1).expect("one plugin row");
    assert_eq!(
        row, "com.example.hello   Example signer   1.0.0     [SIGNATURE_GENERATOR.RAW]   <nil>   ",
        "{out}"
    );

    let pem = work.path().join("hello.pem");
    let cert_pem = ec_key_and_cert(&pem);
    let pem_cfg = format!("pem={}", pem.display());
    let (out, _) = cli.ok(&[
        "key",
        "add",
        "--default",
        "--plugin",
        "com.example.hello",
        "--id",
        "k1",
        "--plugin-config",
        &pem_cfg,
        "hello",
    ]);
    assert_eq!(out, "hello: marked as default\n");

    // Sign an OCI layout copy: with the stored key (JWS), then on demand (COSE).
    let layout = work.path().join("e2e");
    notation_e2e::copy_dir(&vectors_dir().join("oci-layouts/e2e"), &layout);
    let image = format!(
        "{}@sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
        layout.display()
    );
    let (out, _) = cli.ok(&["sign", "--oci-layout", &image]);
    assert!(
        out.starts_with(&format!("Successfully signed {image}\n")),
        "{out}"
    );
    let (out, _) = cli.ok(&[
        "sign",
        "--oci-layout",
        "--signature-format",
        "cose",
        "--plugin",
        "com.example.hello",
        "--id",
        "k1",
        "--plugin-config",
        &pem_cfg,
        &image,
    ]);
    assert!(out.starts_with("Successfully signed"), "{out}");

    // Trust the plugin's certificate and verify.
    let cert_file = work.path().join("hello.crt");
    std::fs::write(&cert_file, cert_pem).expect("write cert");
    cli.ok(&[
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "hello",
        cert_file.to_str().expect("utf-8"),
    ]);
    cli.ok(&[
        "policy",
        "init",
        "--name",
        "layouts",
        "--trust-store",
        "ca:hello",
        "--trusted-identity",
        "x509.subject: C=US, ST=WA, O=Hello, CN=hello-plugin",
    ]);
    let (out, _) = cli.ok(&["verify", "--oci-layout", "--scope", "local/e2e", &image]);
    assert_eq!(
        out,
        format!("Successfully verified signature for {image}\n")
    );
    let (out, _) = cli.ok(&["inspect", "--oci-layout", "-o", "json", &image]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    for s in doc["signatures"].as_array().expect("signatures") {
        assert_eq!(s["signatureAlgorithm"], "ECDSA-SHA-256");
    }

    // A plugin that fails (no pem configured) gives a clear error, nothing pushed.
    let before = std::fs::read(layout.join("index.json")).expect("index");
    let err = cli.fails(&[
        "sign",
        "--oci-layout",
        "--plugin",
        "com.example.hello",
        "--id",
        "k1",
        &image,
    ]);
    assert!(err.contains("com.example.hello"), "{err}");
    assert_eq!(
        std::fs::read(layout.join("index.json")).expect("index"),
        before
    );

    let (out, _) = cli.ok(&["plugin", "uninstall", "--yes", "com.example.hello"]);
    assert_eq!(out, "Successfully uninstalled plugin com.example.hello\n");
    let err = cli.fails(&["sign", "--oci-layout", &image]);
    assert!(err.contains("com.example.hello"), "{err}");
    let err = cli.fails(&["plugin", "uninstall", "--yes", "com.example.hello"]);
    assert!(err.contains("notation plugin list"), "{err}");
}

#[test]
fn a_plugin_envelope_that_fails_the_checks_is_not_pushed() {
    let cli = Cli::new();
    // The fault plugin (mode good, `only=envelope`) declares only
    // SIGNATURE_GENERATOR.ENVELOPE and answers generate-envelope with bytes
    // that are not an envelope.
    let dir = cli.config().join("plugins/fault-good");
    std::fs::create_dir_all(&dir).expect("plugin dir");
    let exe = dir.join("notation-fault-good");
    std::fs::copy(env!("CARGO_BIN_EXE_notation-fault"), &exe).expect("copy plugin");
    let work = tempfile::tempdir().expect("temp dir");
    let layout = work.path().join("e2e");
    notation_e2e::copy_dir(&vectors_dir().join("oci-layouts/e2e"), &layout);
    let image = format!("{}:v1", layout.display());
    let before = std::fs::read(layout.join("index.json")).expect("index");
    let err = cli.fails(&[
        "sign",
        "--oci-layout",
        "--plugin",
        "fault-good",
        "--id",
        "k",
        "--plugin-config",
        "only=envelope",
        &image,
    ]);
    assert!(
        err.contains("plugin fault-good returned an unusable signature envelope"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(layout.join("index.json")).expect("index"),
        before
    );
}

/// The upstream vector layouts, pushed into a real registry, verified through
/// the CLI at each level, per `tests/vectors/README.md`.
#[test]
fn vector_layouts_verify_per_the_readme_table() {
    let registry = Registry::start();
    let port = registry.host.rsplit_once(':').expect("host:port").1;
    let cli = Cli::new();
    for cert in ["localkeys/e2e.crt", "localkeys/expired_e2e.crt"] {
        let path = vectors_dir().join(cert);
        cli.ok(&[
            "cert",
            "add",
            "-t",
            "ca",
            "-s",
            "e2e",
            path.to_str().expect("utf-8"),
        ]);
    }
    // (layout, [strict, permissive, audit, skip]) with None = pass, Some(text) = failure naming it.
    let table: [(&str, [Option<&str>; 4]); 5] = [
        (
            "e2e",
            [
                Some("no signature"),
                Some("no signature"),
                Some("no signature"),
                None,
            ],
        ),
        ("e2e-valid-signature", [None, None, None, None]),
        (
            "e2e-invalid-signature",
            [
                Some("integrity validation failed"),
                Some("integrity validation failed"),
                Some("integrity validation failed"),
                None,
            ],
        ),
        (
            "e2e-expired-signature",
            [Some("expiry validation failed."), None, None, None],
        ),
        (
            "e2e-with-expired-cert",
            [
                Some("authenticTimestamp validation failed"),
                None,
                None,
                None,
            ],
        ),
    ];
    let levels = [
        "trustpolicy.json",
        "permissive_trustpolicy.json",
        "audit_trustpolicy.json",
        "skip_trustpolicy.json",
    ];
    let mut refs = Vec::new();
    for (layout, _) in &table {
        let image = push_layout(
            &registry,
            &vectors_dir().join("oci-layouts").join(layout),
            layout,
        );
        refs.push(format!("localhost:{port}/{layout}@{}", image.digest));
    }
    // The spec forbids `skip` with the global scope, but upstream accepts
    // it (and its e2e suite uses it): accepted, with a warning at verify.
    for (level_index, policy) in levels.iter().enumerate() {
        let policy = vectors_dir().join("trustpolicies").join(policy);
        let (_, import_err) = cli.ok(&[
            "policy",
            "import",
            "--force",
            policy.to_str().expect("utf-8"),
        ]);
        // The global-scope skip policy is imported with the warning too.
        assert_eq!(
            import_err.contains("skip cannot be used with a global scope (*)"),
            level_index == 3,
            "{import_err}"
        );
        for ((layout, expected), reference) in table.iter().zip(&refs) {
            let out = cli.run(&["verify", reference]);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            match expected[level_index] {
                None => {
                    assert!(
                        out.status.success(),
                        "{layout} at {}: {stderr}",
                        levels[level_index]
                    );
                    let want = if level_index == 3 {
                        format!("Trust policy is configured to skip signature verification for {reference}\n")
                    } else {
                        format!("Successfully verified signature for {reference}\n")
                    };
                    assert!(stdout.ends_with(&want), "{layout}: {stdout}");
                    if level_index == 3 {
                        assert!(
                            stderr.contains("skip cannot be used with a global scope (*)"),
                            "{layout}: {stderr}"
                        );
                    }
                }
                Some(reason) => {
                    assert_eq!(
                        out.status.code(),
                        Some(1),
                        "{layout} at {}: {stdout}",
                        levels[level_index]
                    );
                    assert!(
                        stderr.contains(reason),
                        "{layout} at {}: {stderr}",
                        levels[level_index]
                    );
                }
            }
        }
    }

    // Upstream v1.3.2's own signatures in OCI layouts, with user metadata.
    let strict = vectors_dir().join("trustpolicies/trustpolicy.json");
    cli.ok(&[
        "policy",
        "import",
        "--force",
        strict.to_str().expect("utf-8"),
    ]);
    let digest = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
    for layout in [
        "upstream-1.3.2-jws",
        "upstream-1.3.2-cose",
        "upstream-1.3.2-meta",
    ] {
        let dir = vectors_dir().join("oci-layouts").join(layout);
        let reference = format!("{}@{digest}", dir.display());
        let (out, _) = cli.ok(&["verify", "--oci-layout", "--scope", "local/e2e", &reference]);
        assert!(
            out.starts_with(&format!(
                "Successfully verified signature for {reference}\n"
            )),
            "{out}"
        );
        if layout.ends_with("meta") {
            assert!(
                out.ends_with(
                    "\nThe artifact was signed with the following user metadata.\n\n\
                     KEY       VALUE    \nbuildId   42       \nteam      wabbit   \n"
                ),
                "{out}"
            );
            cli.ok(&[
                "verify",
                "--oci-layout",
                "--scope",
                "local/e2e",
                "-m",
                "buildId=42",
                &reference,
            ]);
            let err = cli.fails(&[
                "verify",
                "--oci-layout",
                "--scope",
                "local/e2e",
                "-m",
                "buildId=43",
                &reference,
            ]);
            assert!(
                err.contains("unable to find specified metadata in the signature"),
                "{err}"
            );
        }
    }
}
