//! The harness of upstream's e2e command suite (`test/e2e/internal` of
//! notaryproject/notation), in our own words: a throw-away user directory
//! prepared with upstream's options (the `e2e` key, the `ca:e2e` trust
//! store, a trust policy from upstream's test data), and runs of this
//! workspace's `notation` binary checked against upstream's key words.
//!
//! Upstream's `MatchKeyWords` looks for each word in stdout,
//! `MatchErrKeyWords` in stderr, and `MatchContent` compares stdout whole;
//! `ExpectFailure` expects exit code 1. The binary is
//! `target/<profile>/notation` (build it with
//! `cargo build -p notation-host --bin notation`), or `$NOTATION_BIN`.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Upstream's e2e test data (`test/e2e/testdata`), kept in this repository.
pub fn e2e_data() -> PathBuf {
    notation_e2e::vectors_dir().join("upstream-e2e")
}

/// `testdata/config`.
pub fn e2e_config() -> PathBuf {
    e2e_data().join("config")
}

/// `testdata/config/trustpolicies/NAME`.
pub fn trust_policy(name: &str) -> PathBuf {
    e2e_config().join("trustpolicies").join(name)
}

pub use notation_e2e::notation_bin;

/// Whether this process runs as root, for whom permission bits do not
/// deny anything: upstream's `chmod 0000` cases then use another obstacle.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Upstream's host options.
#[derive(Debug, Clone, Copy)]
pub enum Opt {
    /// `AddKeyOption`: `localkeys/e2e.{key,crt}`, the default signing key.
    Key,
    /// `AddTrustStoreOption("e2e", e2e.crt)`: `truststore/x509/ca/e2e/e2e.crt`.
    TrustStore,
    /// `AddTrustPolicyOption(NAME)`: the file saved as `trustpolicy.json`.
    TrustPolicy(&'static str),
    /// `AddBlobTrustPolicyOption(NAME)`: saved as `trustpolicy.blob.json`.
    BlobTrustPolicy(&'static str),
    /// The blob suite's own blob trust policy (`testdata/blob/trustpolicies`).
    BaseBlobTrustPolicy,
}

/// A user directory (`XDG_CONFIG_HOME`) with `notation/` inside, and a
/// working directory for the commands.
pub struct Host {
    dir: tempfile::TempDir,
    path_prefix: std::cell::RefCell<Vec<PathBuf>>,
}

/// The output of one run.
#[derive(Debug)]
pub struct Run {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Each word is in stdout (upstream's `MatchKeyWords`).
    pub fn key_words(&self, words: &[&str]) -> &Self {
        for w in words {
            assert!(
                self.stdout.contains(w),
                "stdout lacks {w:?}\nstdout:\n{}\nstderr:\n{}",
                self.stdout,
                self.stderr
            );
        }
        self
    }

    /// Each word is in stderr (upstream's `MatchErrKeyWords`).
    pub fn err_key_words(&self, words: &[&str]) -> &Self {
        for w in words {
            assert!(
                self.stderr.contains(w),
                "stderr lacks {w:?}\nstdout:\n{}\nstderr:\n{}",
                self.stdout,
                self.stderr
            );
        }
        self
    }

    /// stdout is exactly `expected` (upstream's `MatchContent`).
    pub fn content(&self, expected: &str) -> &Self {
        assert_eq!(self.stdout, expected, "stderr:\n{}", self.stderr);
        self
    }
}

impl Host {
    /// A host with upstream's `Opts(...)`.
    pub fn new(opts: &[Opt]) -> Host {
        let host = Host {
            dir: tempfile::tempdir().expect("temp dir"),
            path_prefix: std::cell::RefCell::new(Vec::new()),
        };
        std::fs::create_dir_all(host.notation_dir()).expect("notation dir");
        std::fs::create_dir_all(host.work_dir()).expect("work dir");
        for opt in opts {
            host.apply(*opt);
        }
        host
    }

    /// Upstream's `BaseOptions()`: key, trust store, `trustpolicy.json`.
    pub fn base() -> Host {
        Host::new(&[
            Opt::Key,
            Opt::TrustStore,
            Opt::TrustPolicy("trustpolicy.json"),
        ])
    }

    /// Upstream's `BaseBlobOptions()`: key, trust store, blob trust policy.
    pub fn base_blob() -> Host {
        Host::new(&[Opt::Key, Opt::TrustStore, Opt::BaseBlobTrustPolicy])
    }

    /// Applies one more option (upstream's `vhost.SetOption`).
    pub fn apply(&self, opt: Opt) {
        let notation = self.notation_dir();
        let copy = |from: PathBuf, to: PathBuf| {
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(&from, &to)
                .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", from.display(), to.display()));
        };
        match opt {
            Opt::Key => {
                let keys = notation.join("localkeys");
                copy(e2e_config().join("localkeys/e2e.key"), keys.join("e2e.key"));
                copy(e2e_config().join("localkeys/e2e.crt"), keys.join("e2e.crt"));
                let doc = serde_json::json!({
                    "default": "e2e",
                    "keys": [{
                        "name": "e2e",
                        "keyPath": keys.join("e2e.key"),
                        "certPath": keys.join("e2e.crt"),
                    }],
                });
                std::fs::write(
                    notation.join("signingkeys.json"),
                    serde_json::to_vec_pretty(&doc).expect("json"),
                )
                .expect("signingkeys.json");
            }
            Opt::TrustStore => copy(
                e2e_config().join("localkeys/e2e.crt"),
                notation.join("truststore/x509/ca/e2e/e2e.crt"),
            ),
            Opt::TrustPolicy(name) => copy(trust_policy(name), notation.join("trustpolicy.json")),
            Opt::BlobTrustPolicy(name) => {
                copy(trust_policy(name), notation.join("trustpolicy.blob.json"))
            }
            Opt::BaseBlobTrustPolicy => copy(
                e2e_data().join("blob/trustpolicies/trustpolicy.blob.json"),
                notation.join("trustpolicy.blob.json"),
            ),
        }
    }

    /// The user directory (`XDG_CONFIG_HOME`; upstream's `vhost.AbsolutePath()`).
    pub fn user_dir(&self) -> PathBuf {
        self.dir.path().join("user")
    }

    /// `<user dir>/notation`.
    pub fn notation_dir(&self) -> PathBuf {
        self.user_dir().join("notation")
    }

    /// Puts `dir` first in the commands' `PATH` (credential helpers).
    pub fn prepend_path(&self, dir: PathBuf) {
        self.path_prefix.borrow_mut().push(dir);
    }

    /// Where commands run.
    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn run(&self, args: &[&str], input: Option<&str>) -> (Option<i32>, Run) {
        let mut path: Vec<PathBuf> = self.path_prefix.borrow().clone();
        if let Some(p) = std::env::var_os("PATH") {
            path.extend(std::env::split_paths(&p));
        }
        let mut cmd = Command::new(notation_bin());
        cmd.args(args)
            .current_dir(self.work_dir())
            .env_clear()
            .env("PATH", std::env::join_paths(path).expect("PATH"))
            .env("DOCKER_CONFIG", self.dir.path().join("docker"))
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.user_dir())
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run notation");
        if let Some(input) = input {
            let mut stdin = child.stdin.take().expect("stdin");
            // The command may exit before reading (a broken pipe is fine).
            let _ = stdin.write_all(input.as_bytes());
        }
        let out = child.wait_with_output().expect("wait for notation");
        (
            out.status.code(),
            Run {
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
        )
    }

    fn expect(&self, args: &[&str], input: Option<&str>, code: i32) -> Run {
        let (got, run) = self.run(args, input);
        assert_eq!(
            got,
            Some(code),
            "notation {args:?}\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
        run
    }

    /// Runs and expects success (upstream's `Exec`).
    pub fn exec(&self, args: &[&str]) -> Run {
        self.expect(args, None, 0)
    }

    /// Runs with `input` on stdin and expects success (`WithInput(...).Exec`).
    pub fn exec_input(&self, args: &[&str], input: &str) -> Run {
        self.expect(args, Some(input), 0)
    }

    /// Runs and expects exit code 1 (`ExpectFailure().Exec`).
    pub fn fails(&self, args: &[&str]) -> Run {
        self.expect(args, None, 1)
    }

    /// Runs with `input` on stdin and expects exit code 1.
    pub fn fails_input(&self, args: &[&str], input: &str) -> Run {
        self.expect(args, Some(input), 1)
    }
}

/// A path as a `&str` for an argument list.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
