//! Finding plugins in the plugin directory.
//!
//! A plugin named `NAME` lives at `PLUGIN_DIR/NAME/notation-NAME`
//! (`notation-NAME.exe` on Windows). Before anything is run, the candidate
//! must pass these checks, in order:
//!
//! 1. `NAME` is a plain directory name (non-empty, not `.` or `..`, no path
//!    separator or NUL), so it cannot point outside the plugin directory;
//! 2. the executable exists;
//! 3. it is a regular file; a symbolic link is refused even if it points at
//!    a regular file (checked with `symlink_metadata`, which does not follow
//!    links);
//! 4. on Unix, at least one execute permission bit is set.
//!
//! Running `get-plugin-metadata` and validating its answer is the last
//! check; [`crate::client::ExternalPlugin::open`] does that.

use std::path::{Path, PathBuf};

use super::{ClientError, ExternalPlugin, PluginLimits};

/// The executable file name of plugin `name`.
pub fn executable_name(name: &str) -> String {
    if cfg!(windows) {
        format!("notation-{name}.exe")
    } else {
        format!("notation-{name}")
    }
}

/// Where the executable of plugin `name` must be.
pub fn executable_path(plugin_dir: &Path, name: &str) -> PathBuf {
    plugin_dir.join(name).join(executable_name(name))
}

/// Checks that `name` is usable as a single directory name.
pub fn validate_name(name: &str) -> Result<(), ClientError> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0'])
        || (cfg!(windows) && name.contains(':'));
    if bad {
        Err(ClientError::InvalidName {
            name: name.to_owned(),
        })
    } else {
        Ok(())
    }
}

/// Finds plugin `name` and checks its executable (steps 1 to 4 of the
/// module docs) without running it.
pub fn locate(plugin_dir: &Path, name: &str) -> Result<PathBuf, ClientError> {
    validate_name(name)?;
    let path = executable_path(plugin_dir, name);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ClientError::NotFound {
                name: name.to_owned(),
                path,
            })
        }
        Err(source) => {
            return Err(ClientError::Inspect {
                name: name.to_owned(),
                path,
                source,
            })
        }
    };
    let file_type = meta.file_type();
    if file_type.is_symlink() {
        return Err(ClientError::Symlink {
            name: name.to_owned(),
            path,
        });
    }
    if !file_type.is_file() {
        return Err(ClientError::NotRegularFile {
            name: name.to_owned(),
            path,
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(ClientError::NotExecutable {
                name: name.to_owned(),
                path,
            });
        }
    }
    Ok(path)
}

/// Names of the plugin candidates: every directory (or link to one) in
/// `plugin_dir`, sorted. Files are ignored; a missing `plugin_dir` has no
/// candidates.
pub fn candidates(plugin_dir: &Path) -> Result<Vec<String>, ClientError> {
    let read_err = |source| ClientError::ReadPluginDir {
        dir: plugin_dir.to_owned(),
        source,
    };
    let entries = match std::fs::read_dir(plugin_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_err(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(read_err)?;
        let is_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
        if let (true, Some(name)) = (is_dir, entry.file_name().to_str()) {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// One plugin candidate and whether it could be opened.
#[derive(Debug)]
pub struct Candidate {
    /// The directory name, i.e. the plugin's name.
    pub name: String,
    /// The opened plugin, or why it is unusable.
    pub plugin: Result<ExternalPlugin, ClientError>,
}

/// Opens every candidate in `plugin_dir` with the limits from the
/// environment ([`PluginLimits::from_env`]). A broken plugin is reported in
/// its [`Candidate`] and does not stop the listing.
pub fn list(plugin_dir: &Path) -> Result<Vec<Candidate>, ClientError> {
    list_with_limits(plugin_dir, &PluginLimits::from_env()?)
}

/// [`list`] with explicit limits.
pub fn list_with_limits(
    plugin_dir: &Path,
    limits: &PluginLimits,
) -> Result<Vec<Candidate>, ClientError> {
    Ok(candidates(plugin_dir)?
        .into_iter()
        .map(|name| {
            let plugin = ExternalPlugin::open_with_limits(plugin_dir, &name, limits.clone());
            Candidate { name, plugin }
        })
        .collect())
}
