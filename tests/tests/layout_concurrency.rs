//! Several `notation sign --oci-layout` processes on one OCI image layout
//! at the same time: every signature must end up in `index.json` (the
//! writers lock `index.json.lock` and re-read under it) and `notation list`
//! must show them all.
//!
//! Runs the `notation` binary of this workspace (`target/<profile>/notation`,
//! or `$NOTATION_BIN`; build it with `cargo build -p notation-host --bin
//! notation` when running this package alone).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use notation_e2e::{copy_dir, vectors_dir};

/// The image in `oci-layouts/e2e` (tag `v1`).
const DIGEST: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

use notation_e2e::notation_bin;

/// `notation` with a throwaway HOME and config dir.
fn notation(home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(notation_bin());
    c.args(args)
        .env_remove("NOTATION_CONFIG")
        .env("XDG_CONFIG_HOME", home.join("xdg"))
        .env("HOME", home)
        .env_remove("NOTATION_USERNAME")
        .env_remove("NOTATION_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn check(args: &[&str], out: &Output) -> String {
    assert!(
        out.status.success(),
        "notation {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}

/// The digests of the signature manifests `index.json` lists for `DIGEST`.
fn signatures_in_index(layout: &Path) -> Vec<String> {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index.json"))
            .expect("index.json is JSON");
    index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .filter(|d| d["digest"] != DIGEST)
        .map(|d| d["digest"].as_str().expect("digest").to_string())
        .collect()
}

#[test]
fn eight_concurrent_signers_on_one_layout_lose_no_signature() {
    concurrent_signers(8);
}

#[test]
fn sixteen_concurrent_signers_on_one_layout_lose_no_signature() {
    concurrent_signers(16);
}

/// `signers` processes sign one image of a fresh copy of `oci-layouts/e2e`
/// at once; all must succeed and all signatures must be listed.
fn concurrent_signers(signers: usize) {
    let home = tempfile::tempdir().expect("temp dir");
    let args = ["cert", "generate-test", "--default", "acme"];
    check(&args, &notation(home.path(), &args).output().expect("run"));

    let work = tempfile::tempdir().expect("temp dir");
    let layout = work.path().join("e2e");
    copy_dir(&vectors_dir().join("oci-layouts/e2e"), &layout);
    let image = format!("{}@{DIGEST}", layout.display());
    assert!(signatures_in_index(&layout).is_empty());

    // Start all signers before waiting for any; distinct metadata makes
    // every signature (and so every manifest) distinct.
    let metadata: Vec<String> = (0..signers).map(|i| format!("signer={i}")).collect();
    let runs: Vec<(Vec<&str>, std::process::Child)> = metadata
        .iter()
        .map(|m| {
            let args = vec!["sign", "--oci-layout", "-m", m, &image];
            let child = notation(home.path(), &args).spawn().expect("spawn");
            (args, child)
        })
        .collect();
    for (args, child) in runs {
        let out = child.wait_with_output().expect("wait");
        let stdout = check(&args, &out);
        assert!(stdout.contains("Successfully signed"), "{stdout}");
    }

    let mut signatures = signatures_in_index(&layout);
    assert_eq!(signatures.len(), signers, "index.json: {signatures:?}");
    signatures.sort();
    signatures.dedup();
    assert_eq!(signatures.len(), signers, "duplicate entries");

    // `notation list` shows each of them.
    let args = ["list", "--oci-layout", image.as_str()];
    let listed = check(&args, &notation(home.path(), &args).output().expect("run"));
    for digest in &signatures {
        assert!(
            listed.contains(digest.as_str()),
            "{digest} not listed:\n{listed}"
        );
    }

    // No temporary files were left behind; the layout still opens.
    let leftovers: Vec<_> = std::fs::read_dir(&layout)
        .expect("layout dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".notation-tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
