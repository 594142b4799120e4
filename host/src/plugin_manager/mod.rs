//! Installing and uninstalling plugins in the plugin directory.
//!
//! A plugin is distributed as a single executable named `notation-NAME`, or
//! as a `.tar.gz` / `.zip` archive holding exactly one such executable plus
//! optional other files (licenses, dependencies). Installation:
//!
//! 1. (URL only) the download is capped and its SHA-256 checked before
//!    anything touches the disk;
//! 2. the source is unpacked into a temporary directory created next to the
//!    plugin directory, refusing unsafe entries ([`archive`]);
//! 3. the new plugin is run with `get-plugin-metadata` to learn its name and
//!    version, and compared with an installed plugin of the same name
//!    (a downgrade or the same version is refused unless forced);
//! 4. the staged directory is renamed into `PLUGIN_DIR/NAME`.
//!
//! Any refusal removes the temporary directory, so the plugin directory is
//! left exactly as it was.

pub mod archive;
mod install;
mod uninstall;

use std::path::PathBuf;

pub use archive::{SizeLimits, SourceFormat};
pub use install::{
    install_from_bytes, install_from_file, install_from_file_with, install_from_url,
    InstallOptions, InstallOutcome,
};
pub use uninstall::{uninstall, UninstallError};

/// Largest plugin source (download, archive entry, or all entries together)
/// accepted by `plugin install`: 256 MiB, as upstream.
pub const MAX_PLUGIN_BYTES: u64 = 256 * 1024 * 1024;

/// Download timeout for `plugin install --url`, as upstream (10 minutes).
pub const DOWNLOAD_TIMEOUT_SECS: u64 = 600;

/// Why a plugin install was refused or failed. The plugin directory is
/// unchanged whenever one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// An archive entry would escape the target directory or is not a plain file.
    #[error("{}", unsafe_entry_message(entry, reason))]
    UnsafeEntry {
        /// Entry name as stored in the archive.
        entry: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Two archive entries name the same file.
    #[error("plugin archive contains `{}` twice; ask the plugin publisher for a fixed archive", path.display())]
    DuplicateEntry {
        /// The path that would be written twice.
        path: PathBuf,
    },
    /// A size limit was exceeded.
    #[error("total file size reached the {} size limit ({what} is larger than {limit} bytes; plugins this large cannot be installed with `plugin install`)", size_text(*limit))]
    TooLarge {
        /// What was too large.
        what: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The tar.gz stream could not be read.
    #[error("cannot read the plugin archive{}: {source}", entry.as_ref().map(|e| format!(" at entry `{e}`")).unwrap_or_default())]
    ArchiveRead {
        /// Entry being read, if known.
        entry: Option<String>,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The zip archive could not be read.
    #[error("cannot read the plugin zip archive: {source}")]
    ZipRead {
        /// Underlying error.
        source: zip::result::ZipError,
    },
    /// A filesystem operation failed.
    #[error("cannot write or read `{}`: {source}", path.display())]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The archive holds no `notation-*` executable at its top level.
    #[error(
        "the plugin source contains no executable named `notation-<plugin name>` at its top level"
    )]
    NoExecutable,
    /// The archive holds more than one `notation-*` executable.
    #[error("the plugin archive contains more than one plugin executable ({}); exactly one is allowed", names.join(", "))]
    MultipleExecutables {
        /// File names found.
        names: Vec<String>,
    },
    /// A single-file source is not named `notation-NAME`.
    #[error("the plugin file `{file_name}` is not named `notation-<plugin name>`; rename it or install the publisher's archive")]
    BadExecutableName {
        /// The file name given.
        file_name: String,
    },
    /// One archive entry is larger than the per-file limit.
    #[error("archive entry `{entry}` is larger than the {} size limit for one file; plugins this large cannot be installed with `plugin install`", size_text(*limit))]
    EntryTooLarge {
        /// The entry's name in the archive.
        entry: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The derived plugin name cannot be used as a directory name.
    #[error("`{name}` is not a valid plugin name")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// The checksum given by the user is not 64 hex digits.
    #[error("plugin SHA-256 checksum does not match user input. Expecting {value} (`{value}` is not a SHA-256 checksum: 64 hexadecimal digits are expected; nothing was installed)")]
    InvalidChecksum {
        /// The value given.
        value: String,
    },
    /// The source does not match the expected checksum.
    #[error("plugin SHA-256 checksum does not match user input. Expecting {expected} (the plugin source's SHA-256 is {actual}; check the checksum published with the plugin; nothing was installed)")]
    ChecksumMismatch {
        /// Expected digest (lowercase hex).
        expected: String,
        /// Actual digest (lowercase hex).
        actual: String,
    },
    /// The URL is not `https://`.
    #[error("failed to download plugin from URL: only the HTTPS scheme is supported, but got {} (`{url}` is not an HTTPS URL; plugins can only be downloaded over HTTPS)", url.split_once("://").map_or("", |(scheme, _)| scheme))]
    NotHttps {
        /// The URL given.
        url: String,
    },
    /// The download failed.
    #[error("failed to download plugin from URL {url} with error: {source}")]
    Download {
        /// The URL.
        url: String,
        /// Underlying error.
        source: Box<ureq::Error>,
    },
    /// The new plugin did not answer `get-plugin-metadata` correctly.
    #[error("the plugin `{name}` being installed does not work: {source}")]
    NewPluginBroken {
        /// Name derived from the executable.
        name: String,
        /// What went wrong.
        source: notation_plugin_sdk::client::ClientError,
    },
    /// The metadata name differs from the executable name.
    #[error("the plugin executable is named `notation-{file_name}` but its metadata says its name is `{metadata_name}`")]
    NameMismatch {
        /// Name from the executable file.
        file_name: String,
        /// Name from metadata.
        metadata_name: String,
    },
    /// A version is not semantic-versioning.
    #[error("the {which} plugin `{name}` has version `{version}`, which is not a semantic version; use --force to install anyway")]
    InvalidVersion {
        /// Plugin name.
        name: String,
        /// The version string.
        version: String,
        /// "installing" or "installed".
        which: &'static str,
    },
    /// The same version is already installed.
    #[error("plugin {name} with version {version} already exists; use --force to reinstall it")]
    SameVersion {
        /// Plugin name.
        name: String,
        /// The version.
        version: String,
    },
    /// The new version is older than the installed one.
    #[error("failed to install plugin {name}: the installing plugin version {installing} is lower than the existing plugin version {existing}. It is not recommended to install an older version; to force the installation, use --force")]
    Downgrade {
        /// Plugin name.
        name: String,
        /// Version being installed.
        installing: String,
        /// Version already installed.
        existing: String,
    },
    /// The installed plugin of the same name cannot report its version.
    #[error("plugin {name} is already installed but does not report its version ({source}); use --force to replace it")]
    ExistingBroken {
        /// Plugin name.
        name: String,
        /// What went wrong.
        source: notation_plugin_sdk::client::ClientError,
    },
}

/// Upstream's words for a refused archive entry, then ours.
fn unsafe_entry_message(entry: &str, reason: &str) -> String {
    let ours = format!(
        "plugin archive entry `{entry}` refused: {reason}. Only relative paths to regular \
         files and directories are allowed; ask the plugin publisher for a fixed archive"
    );
    if reason == PARENT_DIR_REASON {
        format!("file name in zip cannot contain '..', but found {entry:?} ({ours})")
    } else {
        ours
    }
}

/// The reason given for an entry with a `..` component.
pub(crate) const PARENT_DIR_REASON: &str = "`..` component";

/// A size limit as upstream writes it (`256 MiB`).
fn size_text(limit: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if limit >= MIB && limit % MIB == 0 {
        format!("{} MiB", limit / MIB)
    } else {
        format!("{limit} bytes")
    }
}

/// Checks that a plugin name is usable as one directory name.
pub(crate) fn valid_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && !name.starts_with('.')
}
