//! Small filesystem helpers shared by the host: atomic writes with a file
//! mode, and private directory creation.
//!
//! Every file the host writes (configuration, keys, trust policies,
//! certificates) goes through [`atomic_write`], so a crash or a full disk
//! never leaves a half-written file behind: the bytes go to a temporary file
//! in the target's directory, are flushed to disk, and only then renamed over
//! the target.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Mode for files that hold secrets (private keys): owner read/write only.
pub const MODE_PRIVATE: u32 = 0o600;
/// Mode for ordinary configuration files and certificates.
pub const MODE_PUBLIC: u32 = 0o644;
/// Mode for directories the host creates under its configuration directory.
pub const MODE_DIR: u32 = 0o700;

/// Creates `dir` and its missing parents. New directories get mode 0700 on
/// Unix; existing ones are left as they are.
pub fn create_dir_private(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(MODE_DIR);
    }
    builder.create(dir)
}

/// Writes `bytes` to `path` atomically with the given Unix `mode`
/// (ignored elsewhere).
///
/// The parent directory is created (mode 0700) when missing. The data is
/// written to a temporary file in the same directory, fsynced, given `mode`,
/// and renamed over `path`; the directory is then fsynced so the rename is
/// durable. On any error the temporary file is removed and `path` keeps its
/// previous content.
pub fn atomic_write(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_via_temp(path, bytes, mode, true)
}

/// Writes `bytes` to `path` atomically, failing with
/// [`io::ErrorKind::AlreadyExists`] when `path` already exists.
///
/// Used where overwriting would lose data the user may still need (for
/// example a private key).
pub fn atomic_create_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_via_temp(path, bytes, mode, false)
}

/// Writes `bytes` to `path` atomically (temporary file, rename) but without
/// the fsyncs of [`atomic_write`]: readers never see a partial file, but
/// after a power loss the entry may be empty or old.
///
/// Only for caches whose entries are checked on every read and may be
/// thrown away (the revocation cache), where the fsyncs would cost more
/// than the cache saves.
pub fn atomic_write_unsynced(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_via_temp_with(path, bytes, mode, true, false)
}

/// The common body of [`atomic_write`] and [`atomic_create_new`].
fn write_via_temp(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> io::Result<()> {
    write_via_temp_with(path, bytes, mode, replace, true)
}

/// [`write_via_temp`], fsyncing the file and directory when `sync`.
fn write_via_temp_with(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    replace: bool,
    sync: bool,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    create_dir_private(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".notation-tmp-")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(bytes)?;
    if sync {
        tmp.as_file().sync_all()?;
    }
    if replace {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    if sync {
        sync_dir(dir);
    }
    Ok(())
}

/// Reads at most `cap` bytes of `path`; a larger file is an
/// [`io::ErrorKind::InvalidData`] error rather than an unbounded allocation.
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = fs::File::open(path)?;
    let mut buf = Vec::new();
    file.take(cap + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("file is larger than the {cap}-byte limit"),
        ));
    }
    Ok(buf)
}

/// An exclusive advisory lock (`flock`) on a lock file, released when
/// dropped (or when the process ends, however it ends).
///
/// Used to serialise read-modify-write cycles of a file shared between
/// processes (an OCI layout's `index.json`): the lock lives on a separate,
/// never-replaced file, because the guarded file itself is replaced by
/// rename on every write.
#[derive(Debug)]
pub struct FileLock {
    _file: fs::File,
}

impl FileLock {
    /// Creates `path` if needed (mode 0644) and takes an exclusive lock on
    /// it, waiting up to `timeout` for other holders; then fails with
    /// [`io::ErrorKind::TimedOut`].
    pub fn exclusive(path: &Path, timeout: std::time::Duration) -> io::Result<FileLock> {
        let mut options = fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(MODE_PUBLIC);
        }
        let file = options.open(path)?;
        lock_with_deadline(&file, timeout)?;
        Ok(FileLock { _file: file })
    }
}

#[cfg(unix)]
fn lock_with_deadline(file: &fs::File, timeout: std::time::Duration) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let deadline = std::time::Instant::now() + timeout;
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        // SAFETY: flock on a descriptor this function borrows for the call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EWOULDBLOCK) => {}
            Some(libc::EINTR) => continue,
            _ => return Err(err),
        }
        if std::time::Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "another process held the lock for more than {}s",
                    timeout.as_secs()
                ),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(50));
    }
}

#[cfg(not(unix))]
fn lock_with_deadline(_file: &fs::File, _timeout: std::time::Duration) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    // Best effort: some filesystems refuse fsync on a directory handle.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dir/file.json");
        atomic_write(&path, b"one", MODE_PUBLIC).unwrap();
        atomic_write(&path, b"two", MODE_PRIVATE).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // no temporary files left behind
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn create_new_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        atomic_create_new(&path, b"secret", MODE_PRIVATE).unwrap();
        let err = atomic_create_new(&path, b"other", MODE_PRIVATE).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"secret");
    }

    #[test]
    fn file_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let short = std::time::Duration::from_millis(50);
        let held = FileLock::exclusive(&path, short).unwrap();
        // flock locks belong to the open file description: a second open,
        // even in this process, has to wait.
        let err = FileLock::exclusive(&path, short).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(held);
        FileLock::exclusive(&path, short).unwrap();
    }

    #[test]
    fn read_capped_rejects_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, [0u8; 11]).unwrap();
        assert!(read_capped(&path, 11).is_ok());
        assert_eq!(
            read_capped(&path, 10).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }
}
