//! Shared harness for the ports of upstream notation's e2e suites
//! (`test/e2e/suite/**` of notaryproject/notation; inputs in
//! `tests/vectors/upstream-e2e`, see its `PROVENANCE.md`).
//!
//! Upstream's harness gives each case a fresh notation home (a "virtual
//! host") with options such as `BaseOptions()` (the `e2e` signing key, trust
//! store `ca:e2e` holding `e2e.crt`, `trustpolicy.json`), and a fresh
//! artifact in its registry; a case runs `notation` and checks the exit code
//! and key words on stdout (`MatchKeyWords`) or stderr (`MatchErrKeyWords`).
//! [`Home`] and [`Run`] are the same here, against our `notation` binary and a
//! real `docker-registry` ([`notation_e2e::Registry`]). Upstream's policies
//! name its registry `localhost:5000`; [`Home::add_trust_policy`] rewrites
//! that to ours.
//!
//! [`Suite`] runs the cases of one upstream file and reports them all, by
//! upstream's case name, with the counts (ported, passed, not applicable).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use notation_e2e::{push_layout, vectors_dir, Registry};

/// Upstream's `VerifyFailed` key words.
pub const VERIFY_FAILED: &str = "signature verification failed";
/// Upstream's `VerifySuccessfully` key words.
pub const VERIFY_SUCCESSFULLY: &str = "Successfully verified";
/// Upstream's `SignSuccessfully` key words.
pub const SIGN_SUCCESSFULLY: &str = "Successfully signed";

/// The upstream e2e data.
pub fn upstream_dir() -> PathBuf {
    vectors_dir().join("upstream-e2e")
}

/// `config/localkeys/NAME` of the upstream data.
pub fn localkey(name: &str) -> PathBuf {
    upstream_dir().join("config/localkeys").join(name)
}

pub use notation_e2e::notation_bin;

/// One registry shared by the cases of a suite, with a counter for fresh
/// repository names.
pub struct Lab {
    /// The registry.
    pub registry: Registry,
    next: std::cell::Cell<u32>,
}

impl Lab {
    /// Starts the registry.
    pub fn start() -> Lab {
        Lab {
            registry: Registry::start(),
            next: std::cell::Cell::new(0),
        }
    }

    /// `localhost:PORT`, as upstream's cases name their registry.
    pub fn host(&self) -> String {
        let port = self
            .registry
            .host
            .rsplit_once(':')
            .expect("host:port")
            .1
            .to_string();
        format!("localhost:{port}")
    }

    /// Upstream's `GenerateArtifact(layout, repo)`: pushes
    /// `registry/oci_layout/LAYOUT` (`e2e` when empty) of the upstream data
    /// into `repo` (a fresh name when empty) and returns the artifact.
    pub fn artifact(&self, layout: &str, repo: &str) -> Artifact {
        let layout = if layout.is_empty() { "e2e" } else { layout };
        let repo = if repo.is_empty() {
            let n = self.next.get();
            self.next.set(n + 1);
            format!("e2e-{n}")
        } else {
            repo.to_string()
        };
        let dir = upstream_dir().join("registry/oci_layout").join(layout);
        let image = push_layout(&self.registry, &dir, &repo);
        Artifact {
            host: self.host(),
            repo,
            digest: image.digest,
        }
    }
}

/// An image in the registry.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// `localhost:PORT`.
    pub host: String,
    /// The repository.
    pub repo: String,
    /// The image manifest digest.
    pub digest: String,
}

impl Artifact {
    /// `HOST/REPO@DIGEST`.
    pub fn reference_with_digest(&self) -> String {
        format!("{}/{}@{}", self.host, self.repo, self.digest)
    }

    /// `HOST/REPO:v1`.
    pub fn reference_with_tag(&self) -> String {
        format!("{}/{}:v1", self.host, self.repo)
    }
}

/// A fresh notation home (upstream's virtual host).
pub struct Home {
    bin: PathBuf,
    dir: tempfile::TempDir,
    registry_host: String,
    env: Vec<(String, String)>,
}

impl Home {
    /// An empty home (upstream's `Host(nil, ...)`).
    pub fn empty(lab: &Lab) -> Home {
        Home {
            bin: notation_bin(),
            dir: tempfile::tempdir().expect("temp dir"),
            registry_host: lab.host(),
            env: Vec::new(),
        }
    }

    /// Upstream's `BaseOptions()`: the `e2e` key as the default signing
    /// key, trust store `ca:e2e` holding `e2e.crt`, and `trustpolicy.json`.
    pub fn base(lab: &Lab) -> Home {
        let h = Home::empty(lab);
        h.add_key(&localkey("e2e.key"), &localkey("e2e.crt"));
        h.add_trust_store("e2e", &localkey("e2e.crt"));
        h.add_trust_policy("trustpolicy.json");
        h
    }

    /// The notation configuration directory (the user default under a
    /// throwaway `XDG_CONFIG_HOME`).
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("xdg").join("notation")
    }

    /// The home directory itself.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sets an environment variable for later runs (upstream's `UpdateEnv`).
    pub fn set_env(&mut self, k: &str, v: &str) {
        self.env.push((k.to_string(), v.to_string()));
    }

    /// Upstream's `AddKeyOption`: `signingkeys.json` with one default key
    /// `e2e` made of a key file and a certificate file.
    pub fn add_key(&self, key: &Path, cert: &Path) {
        let dir = self.config().join("localkeys");
        std::fs::create_dir_all(&dir).expect("localkeys dir");
        let k = dir.join("e2e.key");
        let c = dir.join("e2e.crt");
        std::fs::copy(key, &k).expect("copy key");
        std::fs::copy(cert, &c).expect("copy cert");
        let doc = serde_json::json!({
            "default": "e2e",
            "keys": [{
                "name": "e2e",
                "keyPath": k,
                "certPath": c,
            }]
        });
        std::fs::write(self.config().join("signingkeys.json"), doc.to_string())
            .expect("signingkeys.json");
    }

    /// Upstream's `AddTrustStoreOption(name, cert)`: the certificate file
    /// in `truststore/x509/ca/NAME/`.
    pub fn add_trust_store(&self, name: &str, cert: &Path) {
        self.add_store("ca", name, cert);
    }

    /// A certificate in `truststore/x509/TYPE/NAME/`.
    pub fn add_store(&self, store_type: &str, name: &str, cert: &Path) {
        let dir = self
            .config()
            .join("truststore/x509")
            .join(store_type)
            .join(name);
        std::fs::create_dir_all(&dir).expect("store dir");
        std::fs::copy(cert, dir.join(cert.file_name().expect("file name"))).expect("copy cert");
    }

    /// Upstream's `AddTrustPolicyOption(file)`: `config/trustpolicies/FILE`
    /// of the upstream data as `trustpolicy.json`, with upstream's registry
    /// name (`localhost:5000`) replaced by ours. Replaces any OCI policy.
    pub fn add_trust_policy(&self, file: &str) {
        let text = std::fs::read_to_string(upstream_dir().join("config/trustpolicies").join(file))
            .expect("upstream trust policy");
        self.write_trust_policy(&text.replace("localhost:5000", &self.registry_host));
    }

    /// Writes `trustpolicy.json` (removing any `trustpolicy.oci.json`).
    pub fn write_trust_policy(&self, text: &str) {
        std::fs::create_dir_all(self.config()).expect("config dir");
        let _ = std::fs::remove_file(self.config().join("trustpolicy.oci.json"));
        std::fs::write(self.config().join("trustpolicy.json"), text).expect("trustpolicy.json");
    }

    /// Runs `notation ARGS`.
    pub fn exec(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env_remove("NOTATION_CONFIG")
            .env_remove("NOTATION_CACHE")
            .env_remove("NOTATION_EXPERIMENTAL")
            .env_remove("NOTATION_USERNAME")
            .env_remove("NOTATION_PASSWORD")
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg"))
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("HOME", self.dir.path())
            .env("DOCKER_CONFIG", self.dir.path().join("docker"))
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run notation");
        Run {
            args: args.iter().map(|a| a.to_string()).collect(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The result of one `notation` run, checked the way upstream checks it.
#[derive(Debug)]
pub struct Run {
    args: Vec<String>,
    /// Exit code.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn context(&self) -> String {
        format!(
            "notation {:?} (exit {:?})\n--- stdout:\n{}--- stderr:\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    /// Exit code 0.
    #[track_caller]
    pub fn success(self) -> Run {
        assert_eq!(self.code, Some(0), "expected success: {}", self.context());
        self
    }

    /// Exit code 1 (upstream's `ExpectFailure`).
    #[track_caller]
    pub fn failure(self) -> Run {
        assert_eq!(self.code, Some(1), "expected failure: {}", self.context());
        self
    }

    /// Every key word on stdout.
    #[track_caller]
    pub fn key_words(self, words: &[&str]) -> Run {
        for w in words {
            assert!(
                self.stdout.contains(w),
                "stdout lacks {w:?}: {}",
                self.context()
            );
        }
        self
    }

    /// Every key word on stderr.
    #[track_caller]
    pub fn err_key_words(self, words: &[&str]) -> Run {
        for w in words {
            assert!(
                self.stderr.contains(w),
                "stderr lacks {w:?}: {}",
                self.context()
            );
        }
        self
    }

    /// Stderr is exactly `content` (upstream's `MatchErrContent`).
    #[track_caller]
    pub fn err_content(self, content: &str) -> Run {
        assert_eq!(self.stderr, content, "{}", self.context());
        self
    }

    /// No key word on stderr.
    #[track_caller]
    pub fn no_err_key_words(self, words: &[&str]) -> Run {
        for w in words {
            assert!(
                !self.stderr.contains(w),
                "stderr has {w:?}: {}",
                self.context()
            );
        }
        self
    }
}

/// The cases of one upstream suite file: runs each, keeps going after a
/// failure, and fails at the end naming every failing case.
pub struct Suite {
    name: &'static str,
    passed: Vec<&'static str>,
    failed: Vec<(&'static str, String)>,
    not_applicable: Vec<(&'static str, &'static str)>,
}

impl Suite {
    /// A suite named after upstream's file.
    pub fn new(name: &'static str) -> Suite {
        Suite {
            name,
            passed: Vec::new(),
            failed: Vec::new(),
            not_applicable: Vec::new(),
        }
    }

    /// Runs upstream's case `name`.
    pub fn case(&mut self, name: &'static str, f: impl FnOnce()) {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(()) => self.passed.push(name),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                self.failed.push((name, msg));
            }
        }
    }

    /// Records upstream's case `name` as not applicable here, and why.
    pub fn not_applicable(&mut self, name: &'static str, why: &'static str) {
        self.not_applicable.push((name, why));
    }

    /// Prints the counts and fails when a case failed.
    pub fn finish(self) {
        let ported = self.passed.len() + self.failed.len();
        eprintln!(
            "{}: ported {ported}, passed {}, failed {}, not applicable {}",
            self.name,
            self.passed.len(),
            self.failed.len(),
            self.not_applicable.len()
        );
        for (n, why) in &self.not_applicable {
            eprintln!("  not applicable: {n}: {why}");
        }
        if !self.failed.is_empty() {
            let list: Vec<String> = self
                .failed
                .iter()
                .map(|(n, m)| format!("--- {n}:\n{m}"))
                .collect();
            panic!(
                "{}: {} of {ported} cases failed:\n{}",
                self.name,
                self.failed.len(),
                list.join("\n")
            );
        }
    }
}
