//! The notation configuration directory, laid out exactly as upstream
//! notation lays it out, so an existing upstream setup works unchanged.
//!
//! ```text
//! {NOTATION_CONFIG}/
//!     config.json            registry settings (insecureRegistries, credsStore, ...)
//!     signingkeys.json       the signing key list and the default key
//!     localkeys/NAME.key     keys made by `notation cert generate-test` (0600)
//!     localkeys/NAME.crt
//!     truststore/x509/{ca,signingAuthority,tsa}/NAME/*.crt|*.cer|*.pem
//!     trustpolicy.oci.json   OCI trust policy (trustpolicy.json: legacy name)
//!     trustpolicy.blob.json  blob trust policy
//!     plugins/NAME/notation-NAME
//! ```
//!
//! The directory is `$NOTATION_CONFIG` when set (our addition, handy for
//! scripts and tests); otherwise upstream's rule: the user configuration
//! directory plus `notation` — `$XDG_CONFIG_HOME` or `~/.config` on Linux and
//! other Unixes, `~/Library/Application Support` on macOS, `%AppData%` on
//! Windows.

mod settings;
mod signing_keys;

pub use settings::Settings;
pub use signing_keys::{KeyRef, KeySuite, SigningKeys};

use std::path::{Path, PathBuf};

/// File name of the registry settings file.
pub const CONFIG_FILE: &str = "config.json";
/// File name of the signing key list.
pub const SIGNING_KEYS_FILE: &str = "signingkeys.json";
/// Directory holding keys and certificates made by `generate-test`.
pub const LOCAL_KEYS_DIR: &str = "localkeys";
/// Trust store root directory.
pub const TRUST_STORE_DIR: &str = "truststore";
/// Current file name of the OCI trust policy.
pub const TRUST_POLICY_OCI_FILE: &str = "trustpolicy.oci.json";
/// Legacy file name of the OCI trust policy, still read when the current one
/// is absent.
pub const TRUST_POLICY_LEGACY_FILE: &str = "trustpolicy.json";
/// File name of the blob trust policy.
pub const TRUST_POLICY_BLOB_FILE: &str = "trustpolicy.blob.json";
/// Plugin directory.
pub const PLUGINS_DIR: &str = "plugins";

/// Largest configuration file the host reads (they are small JSON files).
pub const MAX_CONFIG_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Errors about the configuration directory and its files.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No configuration directory could be derived from the environment.
    #[error(
        "cannot locate the notation configuration directory: neither NOTATION_CONFIG, \
         XDG_CONFIG_HOME nor HOME is set. Set NOTATION_CONFIG to a directory"
    )]
    NoConfigDir,
    /// A configuration file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A configuration file is not valid JSON of the expected shape.
    #[error("{path} is malformed: {source}. Fix or remove the file (it was not changed)")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A configuration file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A key with this name is already in the signing key list.
    #[error(
        "signing key with name {name:?} already exists: \
         use a different name, or remove it first with `notation key delete {name}`"
    )]
    KeyExists {
        /// The key name.
        name: String,
    },
    /// No key with this name is in the signing key list.
    #[error(
        "signing key not found: {name:?} is not in the signing key list. \
         Use `notation key list` to see the available keys"
    )]
    KeyNotFound {
        /// The key name.
        name: String,
    },
    /// A key or store name has characters outside `[a-zA-Z0-9_.-]`.
    #[error(
        "name needs to follow [a-zA-Z0-9_.-]+ format: {name:?} is not a valid name (use only letters, digits, '_', '.' and '-')"
    )]
    InvalidName {
        /// The rejected name.
        name: String,
    },
    /// `signingkeys.json` parses but breaks a rule of the format
    /// (notation-go's words first).
    #[error("malformed signingkeys.json: {reason}. Fix {} (it was not changed)", path.display())]
    MalformedSigningKeys {
        /// The file.
        path: PathBuf,
        /// The broken rule, e.g. `multiple keys with name 'k' found`.
        reason: String,
    },
    /// A key entry is incomplete (neither a key/cert pair nor a plugin key).
    #[error("{0}")]
    InvalidKey(String),
}

/// Reports whether `name` is a valid key, store or file name as upstream
/// defines it: `[a-zA-Z0-9_.-]+`, and not `.` or `..`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// The notation configuration directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDir {
    root: PathBuf,
    /// `$NOTATION_LIBEXEC`, where plugins live instead of under `root`.
    libexec: Option<PathBuf>,
}

impl ConfigDir {
    /// Uses `root` as the configuration directory (plugins in
    /// `root/plugins`; see [`ConfigDir::with_libexec`]).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        ConfigDir {
            root: root.into(),
            libexec: None,
        }
    }

    /// Looks for plugins under `libexec/plugins` instead (upstream's
    /// `NOTATION_LIBEXEC`); `None` keeps `plugins/` in this directory.
    pub fn with_libexec(mut self, libexec: Option<PathBuf>) -> Self {
        self.libexec = libexec;
        self
    }

    /// Resolves the configuration directory from the process environment
    /// (see the module documentation for the rule).
    pub fn resolve() -> Result<Self, ConfigError> {
        Self::resolve_with(|k| std::env::var_os(k))
    }

    /// Resolves the configuration directory using `env` to read variables.
    pub fn resolve_with(
        env: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Self, ConfigError> {
        let non_empty = |k: &str| env(k).filter(|v| !v.is_empty());
        let libexec = non_empty("NOTATION_LIBEXEC").map(PathBuf::from);
        let root = match non_empty("NOTATION_CONFIG") {
            Some(dir) => PathBuf::from(dir),
            None => user_config_dir(&non_empty)
                .ok_or(ConfigError::NoConfigDir)?
                .join("notation"),
        };
        Ok(Self::at(root).with_libexec(libexec))
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config.json`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// `signingkeys.json`.
    pub fn signing_keys_file(&self) -> PathBuf {
        self.root.join(SIGNING_KEYS_FILE)
    }

    /// `localkeys/`.
    pub fn local_keys_dir(&self) -> PathBuf {
        self.root.join(LOCAL_KEYS_DIR)
    }

    /// `localkeys/NAME.key` and `localkeys/NAME.crt`.
    pub fn local_key_paths(&self, name: &str) -> (PathBuf, PathBuf) {
        let dir = self.local_keys_dir();
        (
            dir.join(format!("{name}.key")),
            dir.join(format!("{name}.crt")),
        )
    }

    /// `truststore/`.
    pub fn trust_store_dir(&self) -> PathBuf {
        self.root.join(TRUST_STORE_DIR)
    }

    /// `truststore/x509/`.
    pub fn x509_trust_store_dir(&self) -> PathBuf {
        self.trust_store_dir().join("x509")
    }

    /// `trustpolicy.oci.json`.
    pub fn oci_trust_policy_file(&self) -> PathBuf {
        self.root.join(TRUST_POLICY_OCI_FILE)
    }

    /// `trustpolicy.json` (legacy name of the OCI trust policy).
    pub fn legacy_trust_policy_file(&self) -> PathBuf {
        self.root.join(TRUST_POLICY_LEGACY_FILE)
    }

    /// `trustpolicy.blob.json`.
    pub fn blob_trust_policy_file(&self) -> PathBuf {
        self.root.join(TRUST_POLICY_BLOB_FILE)
    }

    /// The OCI trust policy file in effect: `trustpolicy.oci.json` when it
    /// exists, else `trustpolicy.json` when that exists, else `None`.
    pub fn existing_oci_trust_policy_file(&self) -> Option<PathBuf> {
        [
            self.oci_trust_policy_file(),
            self.legacy_trust_policy_file(),
        ]
        .into_iter()
        .find(|p| p.is_file())
    }

    /// The plugin directory: `$NOTATION_LIBEXEC/plugins` when it was set
    /// and not empty at [`ConfigDir::resolve`] (as upstream), else
    /// `plugins/` in this directory.
    pub fn plugins_dir(&self) -> PathBuf {
        self.libexec
            .as_ref()
            .unwrap_or(&self.root)
            .join(PLUGINS_DIR)
    }

    /// Loads `config.json` (defaults when absent).
    pub fn load_settings(&self) -> Result<Settings, ConfigError> {
        Settings::load(&self.config_file())
    }

    /// Loads `signingkeys.json` (an empty list when absent).
    pub fn load_signing_keys(&self) -> Result<SigningKeys, ConfigError> {
        SigningKeys::load(&self.signing_keys_file())
    }
}

/// The notation cache directory: `$NOTATION_CACHE` when set, else the
/// user cache directory plus `notation` (as upstream: `$XDG_CACHE_HOME` or
/// `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LocalAppData%` on
/// Windows). Nothing in it is trusted: every entry is re-checked on read.
/// `None` when no base directory can be found.
pub fn cache_dir() -> Option<PathBuf> {
    cache_dir_with(|k| std::env::var_os(k))
}

/// [`cache_dir`] reading variables through `env`.
pub fn cache_dir_with(env: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let non_empty = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("NOTATION_CACHE") {
        return Some(PathBuf::from(dir));
    }
    user_cache_dir(&non_empty).map(|d| d.join("notation"))
}

#[cfg(target_os = "macos")]
fn user_cache_dir(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    env("HOME").map(|h| PathBuf::from(h).join("Library/Caches"))
}

#[cfg(windows)]
fn user_cache_dir(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    env("LocalAppData")
        .or_else(|| env("LOCALAPPDATA"))
        .map(PathBuf::from)
}

#[cfg(not(any(target_os = "macos", windows)))]
fn user_cache_dir(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    // As Go's os.UserCacheDir: a relative XDG_CACHE_HOME is ignored.
    if let Some(xdg) = env("XDG_CACHE_HOME").map(PathBuf::from) {
        if xdg.is_absolute() {
            return Some(xdg);
        }
    }
    env("HOME").map(|h| PathBuf::from(h).join(".cache"))
}

#[cfg(target_os = "macos")]
fn user_config_dir(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    env("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"))
}

#[cfg(windows)]
fn user_config_dir(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    env("AppData").or_else(|| env("APPDATA")).map(PathBuf::from)
}

#[cfg(not(any(target_os = "macos", windows)))]
fn user_config_dir(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    // As Go's os.UserConfigDir: a relative XDG_CONFIG_HOME is ignored.
    if let Some(xdg) = env("XDG_CONFIG_HOME").map(PathBuf::from) {
        if xdg.is_absolute() {
            return Some(xdg);
        }
    }
    env("HOME").map(|h| PathBuf::from(h).join(".config"))
}

/// Reads a JSON configuration file; `Ok(None)` when it does not exist.
pub(crate) fn read_json_file<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<Option<T>, ConfigError> {
    let bytes = match crate::fsutil::read_capped(path, MAX_CONFIG_FILE_BYTES) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })
}

/// Writes a value as indented JSON, atomically.
pub(crate) fn write_json_file<T: serde::Serialize>(
    path: &Path,
    value: &T,
    mode: u32,
) -> Result<(), ConfigError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| ConfigError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    crate::fsutil::atomic_write(path, &bytes, mode).map_err(|source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::ffi::OsString;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn notation_config_wins() {
        let d = ConfigDir::resolve_with(env(&[
            ("NOTATION_CONFIG", "/a/b"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
        ]))
        .unwrap();
        assert_eq!(d.root(), Path::new("/a/b"));
        assert_eq!(d.plugins_dir(), Path::new("/a/b/plugins"));
    }

    #[test]
    fn notation_libexec_holds_the_plugins() {
        let d = ConfigDir::resolve_with(env(&[
            ("NOTATION_CONFIG", "/a/b"),
            ("NOTATION_LIBEXEC", "/opt/notation"),
        ]))
        .unwrap();
        assert_eq!(d.root(), Path::new("/a/b"));
        assert_eq!(d.plugins_dir(), Path::new("/opt/notation/plugins"));
        let empty = ConfigDir::resolve_with(env(&[
            ("NOTATION_CONFIG", "/a/b"),
            ("NOTATION_LIBEXEC", ""),
        ]))
        .unwrap();
        assert_eq!(empty.plugins_dir(), Path::new("/a/b/plugins"));
    }

    #[cfg(not(any(target_os = "macos", windows)))]
    #[test]
    fn xdg_then_home() {
        let d = ConfigDir::resolve_with(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])).unwrap();
        assert_eq!(d.root(), Path::new("/x/notation"));
        let d =
            ConfigDir::resolve_with(env(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")])).unwrap();
        assert_eq!(d.root(), Path::new("/h/.config/notation"));
        let d = ConfigDir::resolve_with(env(&[("NOTATION_CONFIG", ""), ("HOME", "/h")])).unwrap();
        assert_eq!(d.root(), Path::new("/h/.config/notation"));
        assert!(matches!(
            ConfigDir::resolve_with(env(&[])),
            Err(ConfigError::NoConfigDir)
        ));
    }

    #[test]
    fn names() {
        assert!(is_valid_name("wabbit-networks.io"));
        assert!(is_valid_name("a_B-9"));
        for bad in ["", ".", "..", "a/b", "a b", "ä", "a\\b"] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn paths() {
        let d = ConfigDir::at("/c");
        assert_eq!(d.local_key_paths("n").0, Path::new("/c/localkeys/n.key"));
        assert_eq!(d.local_key_paths("n").1, Path::new("/c/localkeys/n.crt"));
        assert_eq!(d.x509_trust_store_dir(), Path::new("/c/truststore/x509"));
        assert_eq!(
            d.oci_trust_policy_file(),
            Path::new("/c/trustpolicy.oci.json")
        );
        assert_eq!(d.plugins_dir(), Path::new("/c/plugins"));
    }
}
