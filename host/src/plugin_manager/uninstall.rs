//! `plugin uninstall`.

use std::fs;
use std::path::{Path, PathBuf};

use super::valid_plugin_name;

/// Why a plugin could not be uninstalled.
#[derive(Debug, thiserror::Error)]
pub enum UninstallError {
    /// The name cannot be a plugin directory name.
    #[error("`{name}` is not a valid plugin name")]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// No plugin of that name is installed.
    #[error("unable to find plugin {name}.\nTo view a list of installed plugins, use `notation plugin list` (plugin directory: {})", plugin_dir.display())]
    NotFound {
        /// The name given.
        name: String,
        /// The plugin directory searched.
        plugin_dir: PathBuf,
    },
    /// Removing the directory failed.
    #[error("cannot remove `{}`: {source}", path.display())]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}

/// Removes `PLUGIN_DIR/NAME`. The directory is first renamed out of the
/// plugin directory (atomic, to a temporary directory next to it), then deleted, so a failure half-way never
/// leaves a half-removed plugin visible to discovery.
pub fn uninstall(plugin_dir: &Path, name: &str) -> Result<(), UninstallError> {
    if !valid_plugin_name(name) {
        return Err(UninstallError::InvalidName {
            name: name.to_owned(),
        });
    }
    let target = plugin_dir.join(name);
    match fs::symlink_metadata(&target) {
        Ok(m) if m.is_dir() => {}
        _ => {
            return Err(UninstallError::NotFound {
                name: name.to_owned(),
                plugin_dir: plugin_dir.to_owned(),
            })
        }
    }
    let parent = plugin_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| UninstallError::Io { path, source }
    };
    // Outside the plugin directory so discovery never sees the remains.
    let graveyard = tempfile::Builder::new()
        .prefix(".notation-plugin-uninstall-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    let moved = graveyard.path().join(name);
    fs::rename(&target, &moved).map_err(io(&target))?;
    graveyard.close().map_err(io(&moved))
}
