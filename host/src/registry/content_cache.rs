//! Signature manifests and envelopes kept by digest in the cache directory
//! (`$NOTATION_CACHE`, else the user cache dir; see
//! [`crate::config::cache_dir`]), as `content/sha256/<hex>`.
//!
//! Content named by its digest never changes, so a verification that has
//! fetched a signature once needs only the registry's list of signatures
//! (which does change, and is always read afresh) the next time: the
//! signature manifest and its envelope, two round trips one after the
//! other, come from the disk. `sign` keeps what it pushed, so a
//! verification on the signing machine starts warm. Verification itself
//! is never cached.
//!
//! The cache is untrusted input: an entry is used only when its length is
//! the descriptor's size and its SHA-256 is the descriptor's digest, and it
//! is read with that size as its cap; anything else is a miss (the fetch
//! that follows rewrites the entry). Only content that passed the same
//! check on the way in is written, atomically and readable by the owner
//! only. Failing to write is not an error: the cache is an optimisation.
//! Entries are not evicted (as upstream's CRL cache); each is a few KiB.

use std::path::{Path, PathBuf};

use notation_plugin_sdk::descriptor::Descriptor;

use super::oci;

/// Where verified signature content is kept between processes.
#[derive(Debug, Clone)]
pub(crate) struct ContentCache {
    dir: PathBuf,
}

impl ContentCache {
    /// The cache under `cache_dir`.
    pub(crate) fn new(cache_dir: &Path) -> ContentCache {
        ContentCache {
            dir: cache_dir.join("content").join("sha256"),
        }
    }

    /// The file for `digest`, for SHA-256 digests only.
    fn path(&self, digest: &str) -> Option<PathBuf> {
        let hex = digest.strip_prefix("sha256:")?;
        (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| self.dir.join(hex))
    }

    /// The content `desc` names, if it is cached intact and `desc.size` is
    /// at most `limit`.
    pub(crate) fn get(&self, desc: &Descriptor, limit: u64) -> Option<Vec<u8>> {
        if desc.size > limit {
            return None;
        }
        let path = self.path(&desc.digest)?;
        let bytes = crate::fsutil::read_capped(&path, desc.size).ok()?;
        (oci::len64(&bytes) == desc.size && oci::sha256_digest(&bytes) == desc.digest)
            .then_some(bytes)
    }

    /// Keeps `bytes`, already checked against `desc` (best effort).
    pub(crate) fn put(&self, desc: &Descriptor, bytes: &[u8]) {
        let Some(path) = self.path(&desc.digest) else {
            return;
        };
        if oci::len64(bytes) != desc.size || crate::fsutil::create_dir_private(&self.dir).is_err() {
            return;
        }
        // A torn write fails the digest check on read: no fsync needed.
        let _ = crate::fsutil::atomic_write_unsynced(&path, bytes, 0o600);
    }

    /// The content `desc` names: from the cache when it is there and no
    /// larger than `limit`, else from `fetch` (which checks it against
    /// `desc` and `limit`), then kept.
    pub(crate) fn get_or_fetch<E>(
        &self,
        desc: &Descriptor,
        limit: u64,
        fetch: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Vec<u8>, E> {
        if let Some(bytes) = self.get(desc, limit) {
            if super::transport::debug_on() {
                eprintln!("registry: {} read from the cache", desc.digest);
            }
            return Ok(bytes);
        }
        let bytes = fetch()?;
        self.put(desc, &bytes);
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc_of(bytes: &[u8]) -> Descriptor {
        Descriptor::new(
            oci::MEDIA_TYPE_OCI_MANIFEST,
            oci::sha256_digest(bytes),
            oci::len64(bytes),
        )
    }

    #[test]
    fn hits_only_intact_content() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ContentCache::new(dir.path());
        let bytes = br#"{"schemaVersion":2}"#;
        let desc = desc_of(bytes);
        assert_eq!(cache.get(&desc, 1 << 20), None);
        let fetched: Result<_, ()> = cache.get_or_fetch(&desc, 1 << 20, || Ok(bytes.to_vec()));
        assert_eq!(fetched.unwrap(), bytes);
        let again: Result<_, ()> = cache.get_or_fetch(&desc, 1 << 20, || panic!("fetched twice"));
        assert_eq!(again.unwrap(), bytes);

        let file = dir
            .path()
            .join("content/sha256")
            .join(desc.digest.strip_prefix("sha256:").unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Same length, other bytes: a miss, and the fetch rewrites it.
        std::fs::write(&file, br#"{"schemaVersion":3}"#).unwrap();
        assert_eq!(cache.get(&desc, 1 << 20), None);
        let refetched: Result<_, ()> = cache.get_or_fetch(&desc, 1 << 20, || Ok(bytes.to_vec()));
        assert_eq!(refetched.unwrap(), bytes);
        assert_eq!(cache.get(&desc, 1 << 20).as_deref(), Some(&bytes[..]));
        // Longer than the descriptor says: a miss.
        std::fs::write(&file, [&bytes[..], b" "].concat()).unwrap();
        assert_eq!(cache.get(&desc, 1 << 20), None);
        // Larger than the caller's limit: not read from the cache.
        assert_eq!(cache.get(&desc, desc.size - 1), None);
        // A fetch error is passed on, and nothing is kept.
        std::fs::remove_file(&file).unwrap();
        let failed: Result<Vec<u8>, &str> = cache.get_or_fetch(&desc, 1 << 20, || Err("offline"));
        assert_eq!(failed, Err("offline"));
        assert!(!file.exists());
    }

    #[test]
    fn only_sha256_digests_have_a_place() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ContentCache::new(dir.path());
        let mut desc = desc_of(b"x");
        desc.digest = "sha512:abcd".into();
        cache.put(&desc, b"x");
        assert_eq!(cache.get(&desc, 1 << 20), None);
        desc.digest = format!("sha256:../{}", "a".repeat(61));
        cache.put(&desc, b"x");
        assert!(!dir.path().join("content").exists());
    }
}
