//! `plugin install`: from a file, from bytes, from an HTTPS URL.

use std::fs::{self, File};
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use notation_plugin_sdk::client::{ClientError, ExternalPlugin};
use sha2::{Digest, Sha256};

use super::archive::{self, SizeLimits, SourceFormat, Unpacked};
use super::{valid_plugin_name, InstallError, DOWNLOAD_TIMEOUT_SECS, MAX_PLUGIN_BYTES};

/// Options for an install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallOptions {
    /// Install even if the same or a newer version is installed, or the
    /// installed plugin is broken.
    pub force: bool,
    /// Expected SHA-256 of the source (lowercase or uppercase hex), if any.
    pub sha256: Option<String>,
    /// Size limits for the source and its unpacked content.
    pub limits: SizeLimits,
}

impl Default for InstallOptions {
    fn default() -> Self {
        InstallOptions {
            force: false,
            sha256: None,
            limits: SizeLimits {
                per_file: MAX_PLUGIN_BYTES,
                total: MAX_PLUGIN_BYTES,
            },
        }
    }
}

/// A successful install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallOutcome {
    /// Plugin name (also its directory name).
    pub name: String,
    /// Installed version.
    pub version: String,
    /// Version that was replaced, if a working plugin was installed before.
    pub previous_version: Option<String>,
    /// The plugin's directory, `PLUGIN_DIR/NAME`.
    pub path: PathBuf,
}

/// Installs a plugin from a local file (single executable, `.tar.gz` or
/// `.zip`).
pub fn install_from_file(
    plugin_dir: &Path,
    path: &Path,
    force: bool,
) -> Result<InstallOutcome, InstallError> {
    install_from_file_with(
        plugin_dir,
        path,
        &InstallOptions {
            force,
            ..InstallOptions::default()
        },
    )
}

/// Installs a plugin from a local file with explicit options.
pub fn install_from_file_with(
    plugin_dir: &Path,
    path: &Path,
    options: &InstallOptions,
) -> Result<InstallOutcome, InstallError> {
    let io_err = |source| InstallError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    if len > options.limits.total {
        return Err(InstallError::TooLarge {
            what: format!("plugin source `{}`", path.display()),
            limit: options.limits.total,
        });
    }
    if let Some(expected) = &options.sha256 {
        let expected = parse_sha256(expected)?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut (&mut file).take(options.limits.total), &mut hasher).map_err(io_err)?;
        check_digest(&expected, &hasher.finalize())?;
        file.seek(SeekFrom::Start(0)).map_err(io_err)?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    install_source(plugin_dir, file, &file_name, options)
}

/// Installs a plugin from bytes already in memory (for example a download).
/// `source_name` is the file name of the source (used for single
/// executables, which must be named `notation-NAME`). When `options.sha256`
/// is set it is checked before anything is written.
pub fn install_from_bytes(
    plugin_dir: &Path,
    bytes: &[u8],
    source_name: &str,
    options: &InstallOptions,
) -> Result<InstallOutcome, InstallError> {
    if bytes.len() as u64 > options.limits.total {
        return Err(InstallError::TooLarge {
            what: "plugin source".to_owned(),
            limit: options.limits.total,
        });
    }
    if let Some(expected) = &options.sha256 {
        let expected = parse_sha256(expected)?;
        check_digest(&expected, &Sha256::digest(bytes))?;
    }
    install_source(plugin_dir, Cursor::new(bytes), source_name, options)
}

/// Downloads a plugin over HTTPS (at most 256 MiB, 10 minute time-out),
/// checks its SHA-256 against `sha256_hex`, then installs it.
pub fn install_from_url(
    plugin_dir: &Path,
    url: &str,
    sha256_hex: &str,
    force: bool,
) -> Result<InstallOutcome, InstallError> {
    // Upstream's order of checks: the scheme, then the download, then the
    // checksum (whose format is checked with the digest).
    if !url
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
    {
        return Err(InstallError::NotHttps {
            url: url.to_owned(),
        });
    }
    let options = InstallOptions {
        force,
        sha256: Some(sha256_hex.to_owned()),
        ..InstallOptions::default()
    };
    let agent = crate::http::agent(
        crate::http::agent_config(None, Duration::from_secs(DOWNLOAD_TIMEOUT_SECS))
            .https_only(true)
            .http_status_as_error(true),
    );
    let dl_err = |source| InstallError::Download {
        url: url.to_owned(),
        source: Box::new(source),
    };
    let mut response = agent.get(url).call().map_err(dl_err)?;
    let bytes = response
        .body_mut()
        .with_config()
        .limit(options.limits.total)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => InstallError::TooLarge {
                what: format!("download from `{url}`"),
                limit: options.limits.total,
            },
            other => dl_err(other),
        })?;
    let source_name = url_file_name(url);
    install_from_bytes(plugin_dir, &bytes, &source_name, &options)
}

/// Last path segment of a URL, without query or fragment.
fn url_file_name(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or("");
    no_query.rsplit('/').next().unwrap_or("").to_owned()
}

fn parse_sha256(hex_digest: &str) -> Result<[u8; 32], InstallError> {
    let invalid = || InstallError::InvalidChecksum {
        value: hex_digest.to_owned(),
    };
    let bytes = hex::decode(hex_digest.trim()).map_err(|_| invalid())?;
    bytes.try_into().map_err(|_| invalid())
}

fn check_digest(expected: &[u8; 32], actual: &[u8]) -> Result<(), InstallError> {
    if expected.as_slice() != actual {
        return Err(InstallError::ChecksumMismatch {
            expected: hex::encode(expected),
            actual: hex::encode(actual),
        });
    }
    Ok(())
}

/// Unpacks, probes and commits one source.
fn install_source<R: Read + Seek>(
    plugin_dir: &Path,
    mut source: R,
    source_name: &str,
    options: &InstallOptions,
) -> Result<InstallOutcome, InstallError> {
    let mut head = [0u8; 4];
    let n = read_head(&mut source, &mut head)?;
    source
        .seek(SeekFrom::Start(0))
        .map_err(|e| InstallError::ArchiveRead {
            entry: None,
            source: e,
        })?;
    let format = SourceFormat::sniff(&head[..n]);

    // The staging directory lives next to the plugin directory (same
    // filesystem, so the final rename is atomic) but outside it, so a
    // concurrent `plugin list` never sees a half-installed plugin.
    let parent = plugin_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|source| InstallError::Io {
        path: parent.to_owned(),
        source,
    })?;
    let staging = tempfile::Builder::new()
        .prefix(".notation-plugin-install-")
        .tempdir_in(parent)
        .map_err(|source| InstallError::Io {
            path: parent.to_owned(),
            source,
        })?;
    let unpack_dir = staging.path().join("unpack");
    fs::create_dir(&unpack_dir).map_err(|source| InstallError::Io {
        path: unpack_dir.clone(),
        source,
    })?;

    let unpacked = match format {
        SourceFormat::TarGz => archive::unpack_tar_gz(source, &unpack_dir, options.limits)?,
        SourceFormat::Zip => archive::unpack_zip(source, &unpack_dir, options.limits)?,
        SourceFormat::Executable => {
            if plugin_name_of(source_name).is_none() {
                return Err(InstallError::BadExecutableName {
                    file_name: source_name.to_owned(),
                });
            }
            archive::copy_single(source, &unpack_dir, source_name, options.limits)?
        }
    };
    let (exe_file, name) = find_executable(&unpacked)?;
    set_mode(&unpack_dir.join(&exe_file), 0o755)?;
    // Normalise the executable name (e.g. drop nothing on Unix; the file is
    // already `notation-NAME`). Move the tree to `staging/NAME` so discovery
    // sees the layout it expects.
    let staged = staging.path().join(&name);
    rename(&unpack_dir, &staged)?;

    let new_plugin = ExternalPlugin::open(staging.path(), &name).map_err(|source| {
        InstallError::NewPluginBroken {
            name: name.clone(),
            source,
        }
    })?;
    let metadata = new_plugin
        .metadata(None)
        .map_err(|source| InstallError::NewPluginBroken {
            name: name.clone(),
            source,
        })?;
    if metadata.name != name {
        return Err(InstallError::NameMismatch {
            file_name: name,
            metadata_name: metadata.name.clone(),
        });
    }
    let version = metadata.version.clone();

    let target = plugin_dir.join(&name);
    let exists = fs::symlink_metadata(&target).is_ok();
    let previous_version = if exists {
        match installed_version(plugin_dir, &name) {
            Ok(v) => Some(v),
            Err(source) if !options.force => {
                return Err(InstallError::ExistingBroken { name, source })
            }
            Err(_) => None,
        }
    } else {
        None
    };
    if let (Some(existing), false) = (&previous_version, options.force) {
        compare_versions(&name, &version, existing)?;
    }

    // Commit: move any old version aside (inside the staging dir, so it is
    // deleted with it), then rename the new one into place.
    fs::create_dir_all(plugin_dir).map_err(|source| InstallError::Io {
        path: plugin_dir.to_owned(),
        source,
    })?;
    let old = staging.path().join(".old");
    if exists {
        rename(&target, &old)?;
    }
    if let Err(e) = rename(&staged, &target) {
        if exists {
            // Best effort: put the old plugin back.
            let _ = fs::rename(&old, &target);
        }
        return Err(e);
    }
    sync_dir(plugin_dir);
    drop(staging);
    Ok(InstallOutcome {
        name,
        version,
        previous_version,
        path: target,
    })
}

fn installed_version(plugin_dir: &Path, name: &str) -> Result<String, ClientError> {
    let plugin = ExternalPlugin::open(plugin_dir, name)?;
    Ok(plugin.metadata(None)?.version)
}

/// Upstream compares versions as semantic versions (a leading `v` allowed).
fn compare_versions(name: &str, installing: &str, existing: &str) -> Result<(), InstallError> {
    let parse = |v: &str, which| {
        semver::Version::parse(v.strip_prefix('v').unwrap_or(v)).map_err(|_| {
            InstallError::InvalidVersion {
                name: name.to_owned(),
                version: v.to_owned(),
                which,
            }
        })
    };
    let new = parse(installing, "installing")?;
    let old = parse(existing, "installed")?;
    match new.cmp(&old) {
        std::cmp::Ordering::Greater => Ok(()),
        std::cmp::Ordering::Equal => Err(InstallError::SameVersion {
            name: name.to_owned(),
            version: installing.to_owned(),
        }),
        std::cmp::Ordering::Less => Err(InstallError::Downgrade {
            name: name.to_owned(),
            installing: installing.to_owned(),
            existing: existing.to_owned(),
        }),
    }
}

/// `notation-NAME` (or `notation-NAME.exe` on Windows) → `NAME`.
fn plugin_name_of(file_name: &str) -> Option<String> {
    let stem = if cfg!(windows) {
        file_name.strip_suffix(".exe")?
    } else {
        file_name
    };
    let name = stem.strip_prefix("notation-")?;
    valid_plugin_name(name).then(|| name.to_owned())
}

/// Exactly one top-level `notation-*` file must be present.
fn find_executable(unpacked: &Unpacked) -> Result<(PathBuf, String), InstallError> {
    let candidates: Vec<&PathBuf> = unpacked
        .files
        .iter()
        .filter(|p| p.components().count() == 1)
        .filter(|p| {
            p.to_str().is_some_and(|s| {
                s.starts_with("notation-") && (!cfg!(windows) || s.ends_with(".exe"))
            })
        })
        .collect();
    match candidates.as_slice() {
        [] => Err(InstallError::NoExecutable),
        [one] => {
            let file_name = one.to_string_lossy().into_owned();
            let name = plugin_name_of(&file_name).ok_or(InstallError::InvalidName {
                name: file_name.trim_start_matches("notation-").to_owned(),
            })?;
            Ok(((*one).clone(), name))
        }
        many => Err(InstallError::MultipleExecutables {
            names: many
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
        }),
    }
}

fn read_head(source: &mut impl Read, head: &mut [u8]) -> Result<usize, InstallError> {
    let mut filled = 0;
    while filled < head.len() {
        match source.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(InstallError::ArchiveRead {
                    entry: None,
                    source,
                })
            }
        }
    }
    Ok(filled)
}

fn rename(from: &Path, to: &Path) -> Result<(), InstallError> {
    fs::rename(from, to).map_err(|source| InstallError::Io {
        path: to.to_owned(),
        source,
    })
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), InstallError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|source| InstallError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), InstallError> {
    Ok(())
}

fn sync_dir(dir: &Path) {
    // Durability of the rename; failure to sync a directory is not fatal.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_are_256_mib() {
        let o = InstallOptions::default();
        assert_eq!(o.limits.per_file, 256 * 1024 * 1024);
        assert_eq!(o.limits.total, 256 * 1024 * 1024);
        assert!(!o.force);
    }

    #[test]
    fn versions() {
        assert!(compare_versions("p", "1.2.0", "1.1.9").is_ok());
        assert!(compare_versions("p", "v1.2.0", "1.1.9").is_ok());
        assert!(matches!(
            compare_versions("p", "1.0.0", "1.0.0"),
            Err(InstallError::SameVersion { .. })
        ));
        assert!(matches!(
            compare_versions("p", "1.0.0", "1.0.1"),
            Err(InstallError::Downgrade { .. })
        ));
        assert!(matches!(
            compare_versions("p", "banana", "1.0.1"),
            Err(InstallError::InvalidVersion { .. })
        ));
    }

    #[test]
    fn names_and_checksums() {
        assert_eq!(plugin_name_of("notation-foo").as_deref(), Some("foo"));
        assert_eq!(plugin_name_of("notation-"), None);
        assert_eq!(plugin_name_of("foo"), None);
        assert_eq!(url_file_name("https://h/a/notation-x?y=1"), "notation-x");
        assert!(parse_sha256("ab").is_err());
        assert!(parse_sha256(&"0".repeat(64)).is_ok());
        let d = Sha256::digest(b"x");
        assert!(check_digest(&[0; 32], &d).is_err());
    }
}
