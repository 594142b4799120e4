//! Many `notation sign` processes signing one image at the same time on a
//! registry without the Referrers API (docker-registry, the referrers tag
//! schema, where the index tag's last writer wins): every signer that
//! reports success must be listed afterwards, and no tag index may point
//! at a missing manifest.

use std::process::Stdio;

use notation_e2e::fault_proxy::{Fault, FaultProxy, Rule};
use notation_e2e::{listed_signatures, push_layout, vectors_dir, NotationCli, Registry};

/// Starts `n` signers at once; returns the signature manifest digests of
/// those that reported success, and the failures' stderr.
fn sign_concurrently(cli: &NotationCli, reference: &str, n: usize) -> (Vec<String>, Vec<String>) {
    let children: Vec<_> = (0..n)
        .map(|_| {
            cli.command(&["sign", "--insecure-registry", reference])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start notation sign")
        })
        .collect();
    let mut pushed = Vec::new();
    let mut failures = Vec::new();
    for child in children {
        let out = child.wait_with_output().expect("wait for notation sign");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        if out.status.success() {
            assert!(stdout.contains("Successfully signed"), "{stdout}");
            let line = stdout
                .lines()
                .find(|l| l.starts_with("Pushed the signature to "))
                .expect("pushed line");
            pushed.push(line.rsplit('@').next().expect("digest").to_string());
        } else {
            assert!(!stdout.contains("Successfully signed"), "{stdout}");
            failures.push(String::from_utf8_lossy(&out.stderr).to_string());
        }
    }
    (pushed, failures)
}

fn run(signers: usize) {
    run_with(signers, &[]);
}

/// `signers` signers through a proxy applying `rules` (none: straight to
/// the registry).
fn run_with(signers: usize, rules: &[Rule]) {
    let reg = Registry::start();
    let image = push_layout(&reg, &vectors_dir().join("oci-layouts/e2e"), "many");
    let cli = NotationCli::new();
    let proxy = FaultProxy::start(&reg.host);
    for r in rules {
        proxy.add(r.clone());
    }
    let host = if rules.is_empty() {
        &reg.host
    } else {
        &proxy.host
    };
    let reference = format!("{host}/many@{}", image.digest);
    let (pushed, failures) = sign_concurrently(&cli, &reference, signers);
    // Retries and merges absorb the contention: every signer succeeds.
    assert!(failures.is_empty(), "failed signers: {failures:#?}");
    assert_eq!(pushed.len(), signers);

    let listed =
        listed_signatures(&cli.ok(&["list", "--insecure-registry", "-o", "json", &reference]));
    let mut expected = pushed.clone();
    expected.sort();
    expected.dedup();
    assert_eq!(listed, expected, "every successful signer is listed");

    // Every listed signature can be fetched (no dangling entries), and
    // one verifies.
    let client = reg.client("many");
    for d in &listed {
        use notation_host::registry::{ArtifactStore, Target};
        client
            .resolve(&Target::Digest(d.clone()))
            .unwrap_or_else(|e| panic!("listed signature {d} is missing: {e}"));
    }
    cli.ok(&["verify", "--insecure-registry", &reference]);
}

#[test]
fn eight_concurrent_signers_are_all_listed() {
    run(8);
}

#[test]
fn sixteen_concurrent_signers_are_all_listed() {
    run(16);
}

#[test]
fn signers_delayed_by_the_registry_lose_nothing() {
    // Some signers wait a second (Retry-After) in the middle of their push,
    // so their view of the index goes stale while others write it.
    run_with(
        8,
        &[
            Rule::new(
                "PUT",
                "/manifests/sha256:",
                Fault::Status(429, Some("1".into())),
            )
            .nth(&[1, 3, 5]),
            Rule::new(
                "GET",
                "/manifests/sha256-",
                Fault::Status(503, Some("1".into())),
            )
            .nth(&[2, 6]),
        ],
    );
}
