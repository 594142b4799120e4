//! Safe unpacking of plugin distributions (`.tar.gz`, `.zip`, single file).
//!
//! Every entry is checked before a byte is written: the path must be relative
//! with no `..` component, the entry must be a regular file or a directory
//! (symlinks, hard links, devices are refused), and sizes are counted while
//! copying (headers are never trusted). Files are written with fixed modes
//! (0644, the plugin executable 0755), never the archive's modes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Component, Path, PathBuf};

use super::InstallError;

/// Distribution formats, told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// gzip-compressed tar archive (`1f 8b`).
    TarGz,
    /// zip archive (`PK\x03\x04`, or `PK\x05\x06` for an empty one).
    Zip,
    /// Anything else: a single plugin executable.
    Executable,
}

impl SourceFormat {
    /// Sniffs the format from the first bytes of the source.
    pub fn sniff(head: &[u8]) -> SourceFormat {
        if head.starts_with(&[0x1f, 0x8b]) {
            SourceFormat::TarGz
        } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            SourceFormat::Zip
        } else {
            SourceFormat::Executable
        }
    }
}

/// Size limits applied while unpacking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLimits {
    /// Maximum size of any one file, in bytes.
    pub per_file: u64,
    /// Maximum size of all files together, in bytes.
    pub total: u64,
}

/// What was unpacked: the regular files written, relative to the target dir.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// Relative paths of every regular file written.
    pub files: Vec<PathBuf>,
}

/// Turns an archive entry name into a safe relative path, or refuses it.
pub fn safe_relative_path(raw: &str) -> Result<PathBuf, InstallError> {
    let refuse = |reason: &'static str| InstallError::UnsafeEntry {
        entry: raw.to_owned(),
        reason,
    };
    if raw.is_empty() {
        return Err(refuse("empty entry name"));
    }
    if raw.contains('\0') {
        return Err(refuse("NUL byte in entry name"));
    }
    // Backslashes are path separators for zip tools on Windows; treat them as
    // such so `..\evil` cannot slip through on any platform.
    let normalized = raw.replace('\\', "/");
    if normalized.starts_with('/') {
        return Err(refuse("absolute path"));
    }
    // Windows drive prefixes such as `C:`.
    if normalized.len() >= 2 && normalized.as_bytes()[1] == b':' {
        return Err(refuse("absolute path"));
    }
    let mut out = PathBuf::new();
    for comp in Path::new(&normalized).components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::CurDir => {}
            Component::ParentDir => return Err(refuse(super::PARENT_DIR_REASON)),
            Component::RootDir | Component::Prefix(_) => return Err(refuse("absolute path")),
        }
    }
    if out.as_os_str().is_empty() {
        return Err(refuse("entry name has no file component"));
    }
    Ok(out)
}

/// Writes bytes from `reader` to a new file, counting as it goes.
fn write_counted(
    reader: &mut dyn Read,
    dest: &Path,
    entry: &str,
    limits: SizeLimits,
    total: &mut u64,
) -> Result<(), InstallError> {
    if let Some(parent) = dest.parent() {
        create_dirs(parent)?;
    }
    let mut file = create_new_file(dest)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut written: u64 = 0;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|source| InstallError::ArchiveRead {
                entry: Some(entry.to_owned()),
                source,
            })?;
        if n == 0 {
            break;
        }
        written += n as u64;
        *total += n as u64;
        // The total first: upstream reports the total even when a single
        // file is what overflows it.
        if *total > limits.total {
            return Err(InstallError::TooLarge {
                what: "archive content (uncompressed total)".to_owned(),
                limit: limits.total,
            });
        }
        if written > limits.per_file {
            return Err(InstallError::EntryTooLarge {
                entry: entry.to_string(),
                limit: limits.per_file,
            });
        }
        file.write_all(&buf[..n])
            .map_err(|source| InstallError::Io {
                path: dest.to_owned(),
                source,
            })?;
    }
    file.sync_all().map_err(|source| InstallError::Io {
        path: dest.to_owned(),
        source,
    })?;
    Ok(())
}

fn create_new_file(dest: &Path) -> Result<File, InstallError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o644);
    }
    opts.open(dest).map_err(|source| {
        if source.kind() == io::ErrorKind::AlreadyExists {
            InstallError::DuplicateEntry {
                path: dest.to_owned(),
            }
        } else {
            InstallError::Io {
                path: dest.to_owned(),
                source,
            }
        }
    })
}

fn create_dirs(dir: &Path) -> Result<(), InstallError> {
    fs::create_dir_all(dir).map_err(|source| InstallError::Io {
        path: dir.to_owned(),
        source,
    })
}

/// Unpacks a gzip-compressed tar stream into `dest` (which must exist).
pub fn unpack_tar_gz(
    reader: impl Read,
    dest: &Path,
    limits: SizeLimits,
) -> Result<Unpacked, InstallError> {
    let gz = flate2::read::GzDecoder::new(reader);
    let mut archive = tar::Archive::new(gz);
    let read_err = |source: io::Error| InstallError::ArchiveRead {
        entry: None,
        source,
    };
    let mut total = 0u64;
    let mut out = Unpacked::default();
    for entry in archive.entries().map_err(read_err)? {
        let mut entry = entry.map_err(read_err)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = safe_relative_path(&raw)?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            create_dirs(&dest.join(&rel))?;
        } else if kind.is_file() {
            let target = dest.join(&rel);
            write_counted(&mut entry, &target, &raw, limits, &mut total)?;
            out.files.push(rel);
        } else if kind.is_symlink() {
            return Err(InstallError::UnsafeEntry {
                entry: raw,
                reason: "symbolic link",
            });
        } else if kind.is_hard_link() {
            return Err(InstallError::UnsafeEntry {
                entry: raw,
                reason: "hard link",
            });
        } else if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            // Extended headers are consumed by the tar crate itself; a
            // stray one carries no file content.
            continue;
        } else {
            return Err(InstallError::UnsafeEntry {
                entry: raw,
                reason: "not a regular file or directory",
            });
        }
    }
    Ok(out)
}

/// Unpacks a zip archive into `dest` (which must exist).
pub fn unpack_zip(
    reader: impl Read + Seek,
    dest: &Path,
    limits: SizeLimits,
) -> Result<Unpacked, InstallError> {
    let zip_err = |source: zip::result::ZipError| InstallError::ZipRead { source };
    let mut archive = zip::ZipArchive::new(reader).map_err(zip_err)?;
    let mut total = 0u64;
    let mut out = Unpacked::default();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(zip_err)?;
        let raw = String::from_utf8_lossy(file.name_raw()).into_owned();
        let rel = safe_relative_path(&raw)?;
        if file.is_symlink() {
            return Err(InstallError::UnsafeEntry {
                entry: raw,
                reason: "symbolic link",
            });
        }
        // Anything the creator marked as a special file (device, fifo,
        // socket) is refused too.
        if let Some(mode) = file.unix_mode() {
            let fmt = mode & 0o170000;
            if fmt != 0 && fmt != 0o100000 && fmt != 0o040000 {
                return Err(InstallError::UnsafeEntry {
                    entry: raw,
                    reason: "not a regular file or directory",
                });
            }
        }
        if file.is_dir() {
            create_dirs(&dest.join(&rel))?;
        } else {
            let target = dest.join(&rel);
            write_counted(&mut file, &target, &raw, limits, &mut total)?;
            out.files.push(rel);
        }
    }
    Ok(out)
}

/// Copies a single executable into `dest/file_name`.
pub fn copy_single(
    reader: impl Read,
    dest: &Path,
    file_name: &str,
    limits: SizeLimits,
) -> Result<Unpacked, InstallError> {
    let rel = safe_relative_path(file_name)?;
    if rel.components().count() != 1 {
        return Err(InstallError::UnsafeEntry {
            entry: file_name.to_owned(),
            reason: "file name contains a directory",
        });
    }
    let mut total = 0;
    let mut reader = reader;
    write_counted(&mut reader, &dest.join(&rel), file_name, limits, &mut total)?;
    Ok(Unpacked { files: vec![rel] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(SourceFormat::sniff(&[0x1f, 0x8b, 8]), SourceFormat::TarGz);
        assert_eq!(SourceFormat::sniff(b"PK\x03\x04rest"), SourceFormat::Zip);
        assert_eq!(SourceFormat::sniff(b"\x7fELF"), SourceFormat::Executable);
        assert_eq!(SourceFormat::sniff(b""), SourceFormat::Executable);
    }

    #[test]
    fn path_rules() {
        assert_eq!(
            safe_relative_path("./a/b").unwrap(),
            PathBuf::from("a").join("b")
        );
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a\\..\\x",
            "C:/x",
            "",
            ".",
            "a\0b",
        ] {
            assert!(
                matches!(
                    safe_relative_path(bad),
                    Err(InstallError::UnsafeEntry { .. })
                ),
                "{bad:?} accepted"
            );
        }
    }
}
