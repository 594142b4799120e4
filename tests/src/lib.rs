//! Helpers shared by the end-to-end tests.
//!
//! * [`Registry`]: a real Debian `docker-registry` (distribution 2.8, no
//!   Referrers API) on 127.0.0.1 with a free port and temporary storage,
//!   optionally with htpasswd Basic auth, token auth ([`token_server`])
//!   or TLS ([`RegistryConfig`]); stopped on drop.
//! * [`push_layout`]: push one of the upstream vector layouts into it: the
//!   image with `skopeo copy`, then the signature manifests and the
//!   referrers tag-schema index (byte for byte, so digests are kept) with
//!   our own registry client.
//! * [`vectors_dir`], [`copy_dir`]: the shared vectors and a writable copy.
//! * [`fault_proxy`]: a fault-injecting proxy (and Referrers API
//!   emulation) in front of the registry.
//! * [`NotationCli`]: the `notation` binary with a private config and
//!   cache dir and a generate-test signing key, trusted by a policy.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use notation_host::registry::credentials::Anonymous;
use notation_host::registry::oci::{Index, ANNOTATION_REF_NAME, MEDIA_TYPE_OCI_INDEX};
use notation_host::registry::{ClientOptions, Descriptor, RegistryClient};

pub mod fault_proxy;
pub mod token_server;

const MISSING: &str = "run scripts/test, which installs docker-registry and skopeo";

/// The shared conformance vectors (`tests/vectors`, copied from upstream with provenance).
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/vectors"))
}

/// Copy a directory tree (e.g. a read-only vector layout) to `dst`,
/// making every copy writable.
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap_or_else(|e| panic!("create {}: {e}", dst.display()));
    for entry in std::fs::read_dir(src).unwrap_or_else(|e| panic!("read {}: {e}", src.display())) {
        let entry = entry.expect("directory entry");
        let from = entry.path();
        let to = dst.join(entry.file_name());
        if from.is_dir() {
            copy_dir(&from, &to);
        } else {
            std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
            let mut perm = std::fs::metadata(&to).expect("metadata").permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&to, perm).expect("chmod");
        }
    }
}

fn require(binary: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin"] {
        let p = Path::new(dir).join(binary);
        if p.is_file() {
            return p;
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(binary);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("{binary} is not installed; {MISSING}");
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// How the registry authenticates clients (see [`RegistryConfig`]).
#[derive(Debug, Clone, Default)]
pub enum RegistryAuth {
    /// Anonymous access.
    #[default]
    None,
    /// htpasswd (bcrypt) Basic auth for one user.
    Htpasswd {
        /// Username.
        user: String,
        /// Password.
        password: String,
    },
    /// distribution's `auth: token:` mode: clients get a Bearer token
    /// from `realm` (e.g. a [`token_server::TokenServer`]).
    Token {
        /// Token endpoint URL.
        realm: String,
        /// Service name (the tokens' audience).
        service: String,
        /// Issuer the registry trusts (the tokens' `iss`).
        issuer: String,
        /// PEM certificates that token signatures must chain to.
        root_cert_bundle: PathBuf,
        /// Credentials the token server accepts; used by [`push_layout`]
        /// and [`Registry::client`].
        user: String,
        /// Password for `user`.
        password: String,
    },
}

/// TLS files for [`RegistryConfig::tls`].
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM server certificate (chain) for `127.0.0.1`.
    pub certificate: PathBuf,
    /// PEM private key of the certificate.
    pub key: PathBuf,
    /// PEM CA certificate that issued `certificate`; [`Registry::client`]
    /// trusts it through `ClientOptions::ca_file`.
    pub ca: PathBuf,
}

/// Settings for [`Registry::start_with_config`].
#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// Authentication mode.
    pub auth: RegistryAuth,
    /// Serve HTTPS with these files instead of plain HTTP.
    pub tls: Option<TlsFiles>,
}

/// A running `docker-registry`, stopped when dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// Basic-auth username and password when started with htpasswd (or
    /// the credentials the token server accepts in token mode).
    pub basic_auth: Option<(String, String)>,
    /// The TLS files when the registry serves HTTPS.
    pub tls: Option<TlsFiles>,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Start an anonymous registry (deletes enabled).
    pub fn start() -> Registry {
        Self::launch(&RegistryConfig::default())
    }

    /// Start a registry with the given authentication and TLS settings.
    pub fn start_with_config(config: &RegistryConfig) -> Registry {
        Self::launch(config)
    }

    /// Start an anonymous registry serving HTTPS with `tls`.
    pub fn start_tls(tls: TlsFiles) -> Registry {
        Self::launch(&RegistryConfig {
            auth: RegistryAuth::None,
            tls: Some(tls),
        })
    }

    /// Start a registry requiring Basic auth for `user`/`password`
    /// (htpasswd, bcrypt).
    pub fn start_with_htpasswd(user: &str, password: &str) -> Registry {
        Self::launch(&RegistryConfig {
            auth: RegistryAuth::Htpasswd {
                user: user.to_string(),
                password: password.to_string(),
            },
            tls: None,
        })
    }

    fn launch(config: &RegistryConfig) -> Registry {
        let basic_auth = match &config.auth {
            RegistryAuth::None => None,
            RegistryAuth::Htpasswd { user, password }
            | RegistryAuth::Token { user, password, .. } => Some((user.clone(), password.clone())),
        };
        let binary = require("docker-registry");
        let mut dir = tempfile::tempdir().expect("temp dir");
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage).expect("storage dir");
        let mut auth = String::new();
        if let RegistryAuth::Token {
            realm,
            service,
            issuer,
            root_cert_bundle,
            ..
        } = &config.auth
        {
            auth = format!(
                "auth:\n  token:\n    realm: \"{realm}\"\n    service: \"{service}\"\n    issuer: \"{issuer}\"\n    rootcertbundle: {}\n",
                root_cert_bundle.display()
            );
        }
        let tls = match &config.tls {
            Some(t) => format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                t.certificate.display(),
                t.key.display()
            ),
            None => String::new(),
        };
        if let RegistryAuth::Htpasswd { user, password } = &config.auth {
            let htpasswd = require("htpasswd");
            let out = Command::new(htpasswd)
                .args(["-Bbn", user, password])
                .output()
                .expect("run htpasswd");
            assert!(
                out.status.success(),
                "htpasswd failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, &out.stdout).expect("write htpasswd");
            auth = format!(
                "auth:\n  htpasswd:\n    realm: notation-test\n    path: {}\n",
                file.display()
            );
        }
        // A few attempts in case another process grabs the port first.
        for _ in 0..5 {
            let port = free_port();
            let host = format!("127.0.0.1:{port}");
            let yaml = format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n  secret: notation-e2e-test\n{tls}{auth}",
                storage.display()
            );
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, yaml).expect("write registry config");
            let log = std::fs::File::create(dir.path().join("registry.log")).expect("log file");
            let child = Command::new(&binary)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log fd"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start docker-registry: {e}; {MISSING}"));
            let mut reg = Registry {
                child,
                host,
                basic_auth: basic_auth.clone(),
                tls: config.tls.clone(),
                dir,
            };
            if reg.wait_ready() {
                return reg;
            }
            let log =
                std::fs::read_to_string(reg.dir.path().join("registry.log")).unwrap_or_default();
            if !log.contains("address already in use") {
                panic!(
                    "docker-registry did not become ready on {}; its log:\n{log}",
                    reg.host
                );
            }
            // Port race: stop it and retry with the same temp dir.
            let _ = reg.child.kill();
            let _ = reg.child.wait();
            dir = std::mem::replace(&mut reg.dir, tempfile::tempdir().expect("temp dir"));
        }
        panic!("docker-registry could not bind a free port after 5 attempts");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Some(status) = http_status(&self.host, "/v2/") {
                // A TLS registry answers plain HTTP with 400.
                if status == 200 || status == 401 || (status == 400 && self.tls.is_some()) {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The registry's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// A client for `repo` in this registry (plain HTTP, or HTTPS trusting
    /// the TLS CA; anonymous, or with the htpasswd/token credentials when
    /// set).
    pub fn client(&self, repo: &str) -> RegistryClient {
        let options = ClientOptions {
            insecure: self.tls.is_none(),
            ca_file: self.tls.as_ref().map(|t| t.ca.clone()),
            ..ClientOptions::default()
        };
        let creds: Box<dyn notation_host::registry::CredentialSource> = match &self.basic_auth {
            Some((u, p)) => Box::new(notation_host::registry::CredentialResolver {
                explicit: Some(notation_host::registry::Credentials::basic(
                    u.clone(),
                    p.clone(),
                )),
                notation_config: None,
                docker_config: None,
                helper_timeout: Duration::from_secs(10),
            }),
            None => Box::new(Anonymous),
        };
        RegistryClient::new(&self.host, repo, options, creds).expect("registry client")
    }

    /// Stops the registry and removes its storage when the test process
    /// exits: for a registry kept in a `static`, which is never dropped
    /// (without this, every run of such a test binary leaves a
    /// `docker-registry` running).
    pub fn stop_at_exit(&self) {
        at_exit(ExitCleanup::Kill(self.child.id()));
        remove_at_exit(self.dir.path());
    }
}

/// What [`at_exit`] undoes when the test process ends.
enum ExitCleanup {
    Kill(u32),
    Remove(PathBuf),
}

static EXIT_CLEANUPS: std::sync::Mutex<Vec<ExitCleanup>> = std::sync::Mutex::new(Vec::new());

/// Removes `dir` when the test process exits (for temp dirs held by a
/// `static`, which is never dropped).
pub fn remove_at_exit(dir: &Path) {
    at_exit(ExitCleanup::Remove(dir.to_path_buf()));
}

fn at_exit(cleanup: ExitCleanup) {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    extern "C" fn run_cleanups() {
        let Ok(mut cleanups) = EXIT_CLEANUPS.lock() else {
            return;
        };
        // Processes first, so that nothing writes into a directory being removed.
        cleanups.sort_by_key(|c| matches!(c, ExitCleanup::Remove(_)));
        for cleanup in cleanups.drain(..) {
            match cleanup {
                ExitCleanup::Kill(pid) => {
                    let Ok(pid) = libc::pid_t::try_from(pid) else {
                        continue;
                    };
                    // SAFETY: plain syscalls on a child this process started.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                        libc::waitpid(pid, std::ptr::null_mut(), 0);
                    }
                }
                ExitCleanup::Remove(dir) => {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
        }
    }
    REGISTERED.call_once(|| {
        // SAFETY: registers a plain function with no arguments.
        unsafe {
            libc::atexit(run_cleanups);
        }
    });
    EXIT_CLEANUPS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(cleanup);
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status code of a plain `GET path` to `host`, or `None` when nothing
/// answers.
pub fn http_status(host: &str, path: &str) -> Option<u16> {
    http_method_status(host, "GET", path)
}

/// Status code of a plain `METHOD path` to `host` (no body), or `None`
/// when nothing answers.
pub fn http_method_status(host: &str, method: &str, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    let line = std::str::from_utf8(&buf[..n]).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Push a vector layout (tag `v1`) into `registry` as `repo`: the image with
/// `skopeo copy --all`, then every other manifest listed in `index.json`
/// (signature manifests with their blobs, then the referrers tag-schema
/// index under its tag), byte for byte with our registry client.
/// Returns the image manifest descriptor.
pub fn push_layout(registry: &Registry, layout_dir: &Path, repo: &str) -> Descriptor {
    let skopeo = require("skopeo");
    let work = tempfile::tempdir().expect("temp dir");
    let layout = work.path().join("layout");
    copy_dir(layout_dir, &layout);
    let mut cmd = Command::new(skopeo);
    cmd.args([
        "--insecure-policy",
        "copy",
        "--all",
        "--quiet",
        "--dest-tls-verify=false",
    ]);
    if let Some((u, p)) = &registry.basic_auth {
        cmd.arg(format!("--dest-creds={u}:{p}"));
    }
    cmd.arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://{}/{repo}:v1", registry.host));
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run skopeo: {e}; {MISSING}"));
    assert!(
        out.status.success(),
        "skopeo copy failed: {}\nregistry log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        registry.log()
    );

    let index: Index =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index.json"))
            .expect("index.json parses");
    let client = registry.client(repo);
    let blob = |digest: &str| {
        let (alg, hex) = digest.split_once(':').expect("digest");
        std::fs::read(layout.join("blobs").join(alg).join(hex)).expect("blob in layout")
    };
    let tag_of = |d: &Descriptor| {
        d.annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_REF_NAME))
            .cloned()
    };
    let mut image = None;
    let mut tag_indexes = Vec::new();
    for d in &index.manifests {
        match tag_of(d) {
            Some(t) if t == "v1" => {
                image = Some(Descriptor::new(
                    d.media_type.clone(),
                    d.digest.clone(),
                    d.size,
                ))
            }
            Some(t) if d.media_type == MEDIA_TYPE_OCI_INDEX => tag_indexes.push((t, d.clone())),
            _ => {
                let bytes = blob(&d.digest);
                let manifest: notation_host::registry::Manifest =
                    serde_json::from_slice(&bytes).expect("signature manifest parses");
                for b in std::iter::once(&manifest.config).chain(manifest.layers.iter()) {
                    client
                        .push_blob(&blob(&b.digest), &b.digest)
                        .expect("push blob");
                }
                client
                    .put_manifest(&d.digest, &d.media_type, &bytes)
                    .expect("push signature manifest");
            }
        }
    }
    for (tag, d) in tag_indexes {
        client
            .put_manifest(&tag, &d.media_type, &blob(&d.digest))
            .expect("push tag-schema index");
    }
    image.expect("layout has a v1 tag")
}

/// The name (`credsStore` value) of the helper [`write_credential_helper`]
/// writes: `docker-credential-e2efile`.
pub const CREDENTIAL_HELPER_NAME: &str = "e2efile";

/// Writes a docker credential helper, `docker-credential-e2efile`, as a
/// shell script into `dir/bin` (returned, to put on `PATH`): it keeps one
/// JSON file per server under `dir/store` (the server with `:` and `/` as
/// `_`) and speaks the helper protocol (get, store, erase, list).
pub fn write_credential_helper(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    let store = dir.join("store");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::fs::create_dir_all(&store).expect("store dir");
    let script = format!(
        r#"#!/bin/sh
store='{store}'
key() {{ printf '%s' "$1" | tr ':/' '__'; }}
case "$1" in
  store)
    input=$(cat)
    server=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
    [ -n "$server" ] || {{ echo 'missing ServerURL'; exit 1; }}
    printf '%s' "$input" > "$store/$(key "$server")"
    ;;
  get)
    read -r server || true
    f="$store/$(key "$server")"
    [ -f "$f" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}
    cat "$f"
    ;;
  erase)
    read -r server || true
    f="$store/$(key "$server")"
    [ -f "$f" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}
    rm -f "$f"
    ;;
  list)
    printf '{{'
    sep=''
    for f in "$store"/*; do
      [ -f "$f" ] || continue
      s=$(sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p' "$f")
      u=$(sed -n 's/.*"Username":"\([^"]*\)".*/\1/p' "$f")
      printf '%s"%s":"%s"' "$sep" "$s" "$u"
      sep=','
    done
    printf '}}'
    ;;
  *) echo "unknown action $1"; exit 1 ;;
esac
"#,
        store = store.display()
    );
    let path = bin.join(format!("docker-credential-{CREDENTIAL_HELPER_NAME}"));
    std::fs::write(&path, script).expect("write helper");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod helper");
    }
    bin
}

/// A binary of this workspace for the tests: `$ENV_VAR` when set, else
/// `NAME` next to the test executable's profile dir (`cargo test
/// --workspace` builds them all).
pub fn workspace_bin(env_var: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var) {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> directory")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} not found; build it (`cargo build --workspace --bins`; `cargo test --workspace` does) or set {env_var}",
        bin.display()
    );
    bin
}

/// The `notation` binary under test: `NOTATION_BIN`, else the one next to
/// the test executable's profile dir.
pub fn notation_bin() -> PathBuf {
    workspace_bin("NOTATION_BIN", "notation")
}

/// `notation` with its own HOME, config and cache dirs, a default
/// generate-test key `e2e.example` and a trust policy trusting it for
/// every registry scope.
pub struct NotationCli {
    bin: PathBuf,
    home: tempfile::TempDir,
}

impl NotationCli {
    /// Set up the config (runs `cert generate-test` and `policy import`).
    pub fn new() -> NotationCli {
        let cli = NotationCli {
            bin: notation_bin(),
            home: tempfile::tempdir().expect("temp dir"),
        };
        cli.ok(&["cert", "generate-test", "--default", "e2e.example"]);
        let policy = cli.home.path().join("policy.json");
        std::fs::write(
            &policy,
            r#"{"version":"1.0","trustPolicies":[{"name":"e2e","registryScopes":["*"],
 "signatureVerification":{"level":"strict"},"trustStores":["ca:e2e.example"],
 "trustedIdentities":["*"]}]}"#,
        )
        .expect("write policy");
        cli.ok(&[
            "policy",
            "import",
            "--force",
            policy.to_str().expect("utf-8 path"),
        ]);
        cli
    }

    /// The cache directory its commands use (`NOTATION_CACHE`).
    pub fn cache_dir(&self) -> PathBuf {
        self.home.path().join("cache")
    }

    /// The command, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env_remove("NOTATION_CONFIG")
            .env("XDG_CONFIG_HOME", self.home.path().join("xdg"))
            .env("NOTATION_CACHE", self.cache_dir())
            .env("HOME", self.home.path())
            .stdin(Stdio::null());
        cmd
    }

    /// Run to completion.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().expect("run notation")
    }

    /// A step that must succeed: its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "notation {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }
}

impl Default for NotationCli {
    fn default() -> Self {
        Self::new()
    }
}

/// The signature manifest digests in `notation list -o json` output,
/// sorted.
pub fn listed_signatures(list_json: &str) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(list_json).expect("list output is JSON");
    let mut out: Vec<String> = doc["signatures"]
        .as_array()
        .expect("signatures array")
        .iter()
        .map(|s| s["digest"].as_str().expect("digest").to_string())
        .collect();
    out.sort();
    out
}
