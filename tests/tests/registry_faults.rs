//! Registry faults injected by our proxy in front of a real docker-registry
//! (see `notation_e2e::fault_proxy`), each against `sign`, `verify` and
//! `list`: the command either succeeds with a correct result or fails
//! with a clear error within its bound; a tag index never points at a
//! missing manifest; verification never passes on corrupted bytes.

use std::process::Output;
use std::time::{Duration, Instant};

use notation_e2e::fault_proxy::{Fault, FaultProxy, Rule};
use notation_e2e::{listed_signatures, push_layout, vectors_dir, NotationCli, Registry};
use notation_host::registry::{ArtifactStore, Target};

struct Setup {
    reg: Registry,
    proxy: FaultProxy,
    cli: NotationCli,
    digest: String,
}

/// A registry with the e2e image and one trusted signature, behind a
/// proxy.
fn setup() -> Setup {
    let reg = Registry::start();
    let image = push_layout(&reg, &vectors_dir().join("oci-layouts/e2e"), "repo");
    let cli = NotationCli::new();
    cli.ok(&[
        "sign",
        "--insecure-registry",
        &format!("{}/repo@{}", reg.host, image.digest),
    ]);
    let proxy = FaultProxy::start(&reg.host);
    Setup {
        reg,
        proxy,
        cli,
        digest: image.digest,
    }
}

impl Setup {
    fn reference(&self) -> String {
        format!("{}/repo@{}", self.proxy.host, self.digest)
    }

    /// Runs `notation <command> --insecure-registry -d <ref>` through the
    /// proxy with only `rule` in place, with `env` set.
    fn run_with(&self, command: &str, rule: &Rule, env: &[(&str, &str)]) -> Output {
        self.proxy.clear();
        self.proxy.add(rule.clone());
        let reference = self.reference();
        let mut args = vec![command, "--insecure-registry", "-d"];
        if command == "list" {
            args.extend(["-o", "json"]);
        }
        args.push(&reference);
        let mut cmd = self.cli.command(&args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run notation");
        self.proxy.clear();
        out
    }

    /// The signatures listed straight from the registry (no proxy); each
    /// must resolve, so the tag index points at no missing manifest.
    fn signatures(&self) -> Vec<String> {
        let listed = listed_signatures(&self.cli.ok(&[
            "list",
            "--insecure-registry",
            "-o",
            "json",
            &format!("{}/repo@{}", self.reg.host, self.digest),
        ]));
        let client = self.reg.client("repo");
        for d in &listed {
            client
                .resolve(&Target::Digest(d.clone()))
                .unwrap_or_else(|e| panic!("the tag index lists {d}, which is missing: {e}"));
        }
        listed
    }

    /// Runs sign, verify and list each with `rule`, expecting success and
    /// that the fault fired; sign must add exactly its signature.
    fn all_succeed(&self, rule: &Rule) {
        self.succeed(&["sign", "verify", "list"], rule);
    }

    /// [`Setup::all_succeed`] for some commands only.
    fn succeed(&self, commands: &[&str], rule: &Rule) {
        for &command in commands {
            let before = self.signatures();
            let faults = self.proxy.faults_applied();
            let out = self.run_with(command, rule, &[]);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success(),
                "{command} with {rule:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
            );
            assert!(
                self.proxy.faults_applied() > faults,
                "{command}: the fault {rule:?} never fired; requests: {:#?}",
                self.proxy.seen()
            );
            let after = self.signatures();
            match command {
                "sign" => {
                    let pushed = stdout
                        .lines()
                        .find_map(|l| l.strip_prefix("Pushed the signature to "))
                        .and_then(|r| r.rsplit('@').next())
                        .expect("pushed line")
                        .to_string();
                    assert!(after.contains(&pushed), "{pushed} not listed: {after:?}");
                    assert_eq!(after.len(), before.len() + 1, "{after:?}");
                }
                "list" => assert_eq!(listed_signatures(&stdout), after),
                _ => assert!(stdout.contains("Successfully verified"), "{stdout}"),
            }
        }
    }
}

#[test]
fn overloaded_and_unavailable_answers_are_retried() {
    let s = setup();
    for status in [429, 502, 503, 504] {
        // The first request of each command fails once.
        s.all_succeed(&Rule::new("*", "/v2/", Fault::Status(status, None)).nth(&[1]));
        // The manifest read fails twice in a row.
        s.all_succeed(&Rule::new("GET", "/manifests/", Fault::Status(status, None)).nth(&[1, 2]));
    }
    // Each retry is visible with -d.
    let out = s.run_with(
        "verify",
        &Rule::new("*", "/v2/", Fault::Status(503, None)).nth(&[1]),
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed (HTTP 503); retry 1 of 3"),
        "{stderr}"
    );
}

#[test]
fn retry_after_is_honoured_in_seconds_and_as_a_date() {
    let s = setup();
    let date = time::OffsetDateTime::now_utc() + time::Duration::seconds(3);
    let date = date
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap()
        .replace("+0000", "GMT");
    for retry_after in ["1".to_string(), date] {
        let started = Instant::now();
        let out = s.run_with(
            "list",
            &Rule::new("*", "/v2/", Fault::Status(429, Some(retry_after.clone()))).nth(&[1]),
            &[],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Waiting less than asked would be a bug; this is a lower bound,
        // not a speed measurement.
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "Retry-After {retry_after} not honoured: {:?}\n{}",
            started.elapsed(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("as Retry-After asks"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn other_errors_are_not_retried_and_fail_clearly() {
    let s = setup();
    for command in ["sign", "verify", "list"] {
        for status in [500, 404, 400] {
            let before = s.proxy.seen().len();
            let out = s.run_with(
                command,
                &Rule::new("GET", "/manifests/sha256:", Fault::Status(status, None)),
                &[],
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{command} {status}: {stderr}");
            assert!(!stdout.contains("Successfully"), "{stdout}");
            assert!(stderr.lines().any(|l| l.starts_with("Error: ")), "{stderr}");
            assert!(
                !stderr.contains("retry 1 of"),
                "{status} was retried: {stderr}"
            );
            let manifest_gets = s.proxy.seen()[before..]
                .iter()
                .filter(|r| r.method == "GET" && r.path.contains("/manifests/sha256:"))
                .count();
            assert_eq!(manifest_gets, 1, "{command} {status}");
        }
    }
}

#[test]
fn connection_resets_are_retried() {
    let s = setup();
    s.all_succeed(&Rule::new("*", "/v2/", Fault::Reset).nth(&[1]));
    s.all_succeed(&Rule::new("GET", "/manifests/", Fault::Reset).nth(&[1, 2]));
}

#[test]
fn cut_off_and_overlong_bodies_are_fetched_again() {
    let s = setup();
    s.all_succeed(&Rule::new("GET", "/manifests/", Fault::Truncate).nth(&[1]));
    s.all_succeed(&Rule::new("GET", "/manifests/", Fault::LongerThanDeclared).nth(&[1]));
    // The envelope blob (only verify reads blobs).
    let out = s.run_with(
        "verify",
        &Rule::new("GET", "/blobs/", Fault::Truncate).nth(&[1]),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn corrupted_bytes_never_pass() {
    let s = setup();
    // Damaged once in transit: fetched again, and correct.
    s.all_succeed(&Rule::new("GET", "/manifests/sha256:", Fault::Corrupt).nth(&[1]));
    let out = s.run_with(
        "verify",
        &Rule::new("GET", "/blobs/", Fault::Corrupt).nth(&[1]),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Always damaged: every command fails, naming the digest problem.
    for command in ["sign", "verify", "list"] {
        let out = s.run_with(
            command,
            &Rule::new("GET", "/manifests/sha256:", Fault::Corrupt),
            &[],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {stderr}");
        assert!(stderr.contains("does not match its digest"), "{stderr}");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("Successfully"),
            "{command}"
        );
    }
    // The envelope always damaged: verification fails. (From an empty
    // cache directory: the intact envelope an earlier verification kept
    // there would be used, rightly, instead of the damaged bytes.)
    let cache = tempfile::tempdir().expect("temp dir");
    let out = s.run_with(
        "verify",
        &Rule::new("GET", "/blobs/", Fault::Corrupt),
        &[("NOTATION_CACHE", cache.path().to_str().expect("utf-8"))],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn writes_applied_but_unanswered_are_recovered() {
    // Only `sign` writes.
    let s = setup();
    // The signature manifest PUT (by digest): repeated.
    s.succeed(
        &["sign"],
        &Rule::new("PUT", "/manifests/sha256:", Fault::ApplyThenDrop).nth(&[1]),
    );
    // The tag-schema index PUT: read back, found, done.
    s.succeed(
        &["sign"],
        &Rule::new("PUT", "/manifests/sha256-", Fault::ApplyThenDrop).nth(&[1]),
    );
    // The upload's POST and its PUT: the upload starts again.
    s.succeed(
        &["sign"],
        &Rule::new("POST", "/blobs/uploads/", Fault::ApplyThenDrop).nth(&[1]),
    );
    s.succeed(
        &["sign"],
        &Rule::new("PUT", "/blobs/uploads/", Fault::ApplyThenDrop).nth(&[1]),
    );
}

#[test]
fn a_stalled_registry_ends_in_a_clear_error_within_the_bound() {
    let s = setup();
    let env = [
        ("NOTATION_REGISTRY_READ_TIMEOUT", "1"),
        ("NOTATION_REGISTRY_RETRIES", "1"),
    ];
    // Stalled once: the next attempt succeeds.
    for command in ["sign", "verify", "list"] {
        let out = s.run_with(
            command,
            &Rule::new("GET", "/manifests/", Fault::Stall(Duration::from_secs(5))).nth(&[1]),
            &env,
        );
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Stalled for good: a bounded failure naming the host and the limit.
    for command in ["sign", "verify", "list"] {
        let started = Instant::now();
        let out = s.run_with(
            command,
            &Rule::new("GET", "/manifests/", Fault::Stall(Duration::from_secs(60))),
            &env,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {stderr}");
        assert!(stderr.contains("timed out"), "{stderr}");
        assert!(stderr.contains(&s.proxy.host), "{stderr}");
        assert!(
            stderr.contains("NOTATION_REGISTRY_READ_TIMEOUT"),
            "{stderr}"
        );
        // Far below the 60 s stall: the bound held (not a speed test).
        assert!(started.elapsed() < Duration::from_secs(30), "{command}");
    }
}

#[test]
fn a_referrers_api_registry_gets_no_tag_index_and_is_remembered() {
    let reg = Registry::start();
    let image = push_layout(&reg, &vectors_dir().join("oci-layouts/e2e"), "api");
    let proxy = FaultProxy::start_with_referrers_api(&reg.host);
    let cli = NotationCli::new();
    let reference = format!("{}/api@{}", proxy.host, image.digest);
    // A fault on the referrers endpoint is retried as well.
    proxy.add(Rule::new("GET", "/referrers/", Fault::Status(503, None)).nth(&[1]));
    let out = cli.ok(&["sign", "--insecure-registry", &reference]);
    let pushed = out
        .lines()
        .find_map(|l| l.strip_prefix("Pushed the signature to "))
        .and_then(|r| r.rsplit('@').next())
        .expect("pushed line")
        .to_string();
    let seen = proxy.seen();
    assert!(
        !seen.iter().any(|r| r.path.contains("/manifests/sha256-")),
        "the tag schema was used on a Referrers API registry: {seen:#?}"
    );
    let listed =
        listed_signatures(&cli.ok(&["list", "--insecure-registry", "-o", "json", &reference]));
    assert_eq!(listed, vec![pushed]);
    cli.ok(&["verify", "--insecure-registry", &reference]);
    // The second command on this host asks only the Referrers API.
    let before = proxy.seen().len();
    cli.ok(&["list", "--insecure-registry", &reference]);
    let later = &proxy.seen()[before..];
    assert!(
        !later.iter().any(|r| r.path.contains("/manifests/sha256-")),
        "{later:#?}"
    );
    // Straight from docker-registry (no API), the signature is not linked
    // by a tag: it was linked through the API only.
    let direct = format!("{}/api@{}", reg.host, image.digest);
    let out = cli.ok(&["list", "--insecure-registry", &direct]);
    assert!(out.contains("has no associated signature"), "{out}");
}

/// `sign` opens the envelope's upload session while it resolves the
/// reference, so the upload itself is one `PUT`; when the registry refuses
/// that session's `PUT`, the upload starts over with its own `POST` and
/// `sign` still succeeds.
#[test]
fn an_upload_session_opened_ahead_is_used_or_replaced() {
    let s = setup();
    let uploads = |seen: &[notation_e2e::fault_proxy::Seen]| {
        let posts: Vec<String> = seen
            .iter()
            .filter(|r| r.method == "POST" && r.path.contains("/blobs/uploads/"))
            .map(|r| r.path.clone())
            .collect();
        let puts = seen
            .iter()
            .filter(|r| r.method == "PUT" && r.path.contains("/blobs/uploads/"))
            .count();
        (posts, puts)
    };
    let start = s.proxy.seen().len();
    let reference = s.reference();
    s.cli.ok(&["sign", "--insecure-registry", &reference]);
    let (posts, puts) = uploads(&s.proxy.seen()[start..]);
    assert_eq!(posts.len(), 1, "one session, opened ahead: {posts:?}");
    assert!(!posts[0].contains("digest="), "{posts:?}");
    assert_eq!(puts, 1, "the envelope goes up with one PUT");

    // The session opened ahead is refused: a fresh upload follows.
    s.succeed(
        &["sign"],
        &Rule::new("PUT", "/blobs/uploads/", Fault::Status(404, None)).nth(&[1]),
    );
}
