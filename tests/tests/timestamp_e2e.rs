//! `notation sign --timestamp-url URL --timestamp-root-cert FILE` against a
//! real RFC 3161 TSA (`openssl ts -reply` behind a tiny HTTP server), on an
//! OCI layout copy, then `notation verify` with a policy that has a `tsa`
//! trust store.
//!
//! Runs the workspace's `notation` binary (`target/<profile>/notation` or
//! `$NOTATION_BIN`; build it with `cargo build -p notation-host --bin notation`).

#[path = "../../host/tests/tsa_support/mod.rs"]
mod tsa_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use notation_e2e::vectors_dir;
use tsa_support::{Kind, TsaPki, TsaServer};

const DIGEST: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

fn notation_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NOTATION_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> directory");
    let bin = profile_dir.join(format!("notation{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} does not exist: build it with `cargo build -p notation-host --bin notation`, or set NOTATION_BIN",
        bin.display()
    );
    bin
}

struct Cli {
    bin: PathBuf,
    home: tempfile::TempDir,
}

impl Cli {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env_remove("NOTATION_CONFIG")
            .env("XDG_CONFIG_HOME", self.home.path().join("xdg"))
            .env("HOME", self.home.path())
            .env_remove("NOTATION_USERNAME")
            .env_remove("NOTATION_PASSWORD")
            .stdin(Stdio::null())
            .output()
            .expect("run notation")
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

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "notation {args:?} unexpectedly succeeded"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn write_policy(dir: &Path, trust_stores: &[&str]) -> PathBuf {
    let path = dir.join("trustpolicy.json");
    let doc = serde_json::json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "layouts",
            "registryScopes": ["local/e2e"],
            "signatureVerification": {"level": "strict"},
            "trustStores": trust_stores,
            "trustedIdentities": ["*"]
        }]
    });
    std::fs::write(&path, doc.to_string()).expect("write policy");
    path
}

#[test]
fn sign_with_timestamp_then_verify_with_tsa_store() {
    let pki = TsaPki::new(Kind::Tsa);
    let other = TsaPki::new(Kind::Tsa);
    // No stated accuracy: `generate-test` certificates start being valid
    // the second they are made, and a timestamp range (genTime ± accuracy)
    // must lie entirely within the validity period.
    let tsa = TsaServer::start_with_accuracy(&pki, None);
    let cli = Cli {
        bin: notation_bin(),
        home: tempfile::tempdir().expect("temp dir"),
    };
    let work = tempfile::tempdir().expect("temp dir");
    let root_file = work.path().join("tsa-root.pem");
    std::fs::write(&root_file, pki.root.to_pem().expect("pem")).expect("write root");
    let other_file = work.path().join("other-root.pem");
    std::fs::write(&other_file, other.root.to_pem().expect("pem")).expect("write root");
    let root = root_file.to_str().expect("utf-8");
    let other_root = other_file.to_str().expect("utf-8");

    cli.ok(&["cert", "generate-test", "--default", "acme"]);
    let layout = work.path().join("e2e");
    notation_e2e::copy_dir(&vectors_dir().join("oci-layouts/e2e"), &layout);
    let image = format!("{}@{DIGEST}", layout.display());

    // The two flags go together.
    cli.fails(&["sign", "--oci-layout", "--timestamp-url", &tsa.url, &image]);
    cli.fails(&[
        "sign",
        "--oci-layout",
        "--timestamp-root-cert",
        root,
        &image,
    ]);
    // A TSA root the token does not chain to: signing fails, nothing pushed.
    let index_before = std::fs::read(layout.join("index.json")).expect("index");
    let err = cli.fails(&[
        "sign",
        "--oci-layout",
        "--timestamp-url",
        &tsa.url,
        "--timestamp-root-cert",
        other_root,
        &image,
    ]);
    assert!(err.contains("timestamp"), "{err}");
    assert_eq!(
        std::fs::read(layout.join("index.json")).expect("index"),
        index_before
    );

    // Sign in both formats with a timestamp.
    for format in ["jws", "cose"] {
        let out = cli.ok(&[
            "sign",
            "--oci-layout",
            "--signature-format",
            format,
            "--timestamp-url",
            &tsa.url,
            "--timestamp-root-cert",
            root,
            &image,
        ]);
        assert!(
            out.starts_with(&format!("Successfully signed {image}\n")),
            "{out}"
        );
    }

    // Trust the TSA root and require timestamps (verifyTimestamp: always).
    cli.ok(&["cert", "add", "-t", "tsa", "-s", "ts", root]);
    cli.ok(&["cert", "add", "-t", "tsa", "-s", "other", other_root]);
    let policy = write_policy(work.path(), &["ca:acme", "tsa:ts"]);
    cli.ok(&[
        "policy",
        "import",
        "--force",
        policy.to_str().expect("utf-8"),
    ]);
    let out = cli.ok(&["verify", "--oci-layout", "--scope", "local/e2e", &image]);
    assert_eq!(
        out,
        format!("Successfully verified signature for {image}\n")
    );

    // A tsa store that does not hold this TSA's root: every signature fails.
    let policy = write_policy(work.path(), &["ca:acme", "tsa:other"]);
    cli.ok(&[
        "policy",
        "import",
        "--force",
        policy.to_str().expect("utf-8"),
    ]);
    let err = cli.fails(&["verify", "--oci-layout", "--scope", "local/e2e", &image]);
    assert!(err.contains("timestamp"), "{err}");
}
