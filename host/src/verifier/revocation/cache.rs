//! On-disk caches of revocation data in the notation cache directory
//! ([`crate::config::cache_dir`]), so that verifying the same chain again
//! makes no network request while the data is current.
//!
//! * `crl/<hex SHA-256 of the URL>`: a CRL downloaded from that URL, in the
//!   file format upstream notation (v1.2 and later) uses, so the two can
//!   share a cache directory: a JSON object whose `baseCRL` member is the
//!   DER CRL in standard base64 (`deltaCRL`, which upstream may add, is not
//!   used here: entries holding one are ignored). Kept until the CRL's
//!   `nextUpdate`; a CRL without `nextUpdate` is never cached (as
//!   upstream).
//! * `ocsp/<hex SHA-256 of the URL, certificate and issuer>`: a DER OCSP
//!   response for one certificate (upstream does not cache OCSP). Kept
//!   until the response's `nextUpdate`; responses without one, and
//!   `unknown` answers, are not cached.
//!
//! The cache is untrusted input, like the network: an entry is used only
//! if it is within its size cap, its `nextUpdate` is in the future, and it
//! passes exactly the checks a fresh download passes (signature to the
//! issuer, allowed algorithm, scope, validity). Anything else (unreadable,
//! corrupt, forged, stale, from another issuer) is a miss: the data is
//! downloaded again and the entry replaced. Writes are atomic (temporary
//! file and rename, [`crate::fsutil::atomic_write_unsynced`]: no fsync, as
//! a torn entry is only a miss); a failed write never fails a verification
//! (see [`CacheError`]).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use openssl::x509::{X509Crl, X509Ref};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::crl;

/// Subdirectory of the cache directory holding CRLs (upstream's name).
pub const CRL_DIR: &str = "crl";
/// Subdirectory of the cache directory holding OCSP responses.
pub const OCSP_DIR: &str = "ocsp";

/// Why a cache entry could not be written. Never fatal: the verification
/// goes on with the data it downloaded.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The file could not be written.
    #[error("cannot write revocation cache entry {}: {source}", path.display())]
    Io {
        /// The entry's path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The data could not be encoded.
    #[error("cannot encode revocation cache entry {}: {detail}", path.display())]
    Encode {
        /// The entry's path.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
}

/// A revocation cache rooted at a notation cache directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationCache {
    root: PathBuf,
}

/// The JSON of a CRL entry (upstream's field names).
#[derive(Serialize, Deserialize)]
struct CrlEntry {
    #[serde(rename = "baseCRL")]
    base_crl: String,
    #[serde(rename = "deltaCRL", default, skip_serializing_if = "Option::is_none")]
    delta_crl: Option<String>,
}

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed so that different splits never collide.
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

impl RevocationCache {
    /// A cache in `root` (a notation cache directory: entries go to its
    /// `crl/` and `ocsp/` subdirectories, created when first written).
    pub fn new(root: impl Into<PathBuf>) -> RevocationCache {
        RevocationCache { root: root.into() }
    }

    /// The cache in the user's notation cache directory
    /// (`$NOTATION_CACHE`, else the platform's cache directory), if known.
    pub fn from_env() -> Option<RevocationCache> {
        crate::config::cache_dir().map(RevocationCache::new)
    }

    /// Where the CRL downloaded from `url` is kept.
    pub fn crl_path(&self, url: &str) -> PathBuf {
        let digest = Sha256::digest(url.as_bytes());
        self.root.join(CRL_DIR).join(hex::encode(digest))
    }

    /// Where the OCSP response from `url` about `cert` (issued by `issuer`)
    /// is kept; `None` when a certificate cannot be encoded.
    pub fn ocsp_path(&self, url: &str, cert: &X509Ref, issuer: &X509Ref) -> Option<PathBuf> {
        let cert = cert.to_der().ok()?;
        let issuer = issuer.to_der().ok()?;
        let name = hex_sha256(&[url.as_bytes(), &cert, &issuer]);
        Some(self.root.join(OCSP_DIR).join(name))
    }

    /// The cached CRL for `url`, if an entry exists, is within
    /// `max_der_bytes`, decodes, and its `nextUpdate` is after `now`. The
    /// caller still verifies it as it would a download.
    pub fn load_crl(&self, url: &str, max_der_bytes: u64, now: OffsetDateTime) -> Option<X509Crl> {
        // base64 grows the data by 4/3; allow some room for the JSON.
        let cap = max_der_bytes / 3 * 4 + 8 + 1024;
        let raw = read_entry(&self.crl_path(url), cap)?;
        let entry: CrlEntry = serde_json::from_slice(&raw).ok()?;
        if entry.delta_crl.is_some() {
            return None;
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(entry.base_crl)
            .ok()?;
        if der.len() as u64 > max_der_bytes {
            return None;
        }
        let crl = X509Crl::from_der(&der).ok()?;
        (crl::next_update(&crl)? > now).then_some(crl)
    }

    /// Keeps `crl` (downloaded from `url` and verified) until its
    /// `nextUpdate`. Returns `Ok(false)`, writing nothing, when it has no
    /// `nextUpdate` or that has passed.
    pub fn store_crl(
        &self,
        url: &str,
        crl: &[u8],
        now: OffsetDateTime,
    ) -> Result<bool, CacheError> {
        let path = self.crl_path(url);
        // Stored as DER (a server may have sent PEM).
        let Ok(parsed) = crl::parse(crl) else {
            return Ok(false);
        };
        if crl::next_update(&parsed).is_none_or(|next| next <= now) {
            return Ok(false);
        }
        let Ok(der) = parsed.to_der() else {
            return Ok(false);
        };
        let entry = CrlEntry {
            base_crl: base64::engine::general_purpose::STANDARD.encode(&der),
            delta_crl: None,
        };
        let json = serde_json::to_vec(&entry).map_err(|e| CacheError::Encode {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        write(&path, &json)?;
        Ok(true)
    }

    /// The cached OCSP response from `url` about `cert`, if an entry exists
    /// and is within `max_bytes`. The caller verifies it as it would a
    /// download and checks its `nextUpdate`.
    pub fn load_ocsp(
        &self,
        url: &str,
        cert: &X509Ref,
        issuer: &X509Ref,
        max_bytes: u64,
    ) -> Option<Vec<u8>> {
        read_entry(&self.ocsp_path(url, cert, issuer)?, max_bytes)
    }

    /// Keeps a verified OCSP `response` from `url` about `cert`.
    pub fn store_ocsp(
        &self,
        url: &str,
        cert: &X509Ref,
        issuer: &X509Ref,
        response: &[u8],
    ) -> Result<(), CacheError> {
        let Some(path) = self.ocsp_path(url, cert, issuer) else {
            return Ok(());
        };
        write(&path, response)
    }
}

/// The bytes of the entry at `path` if it is a regular file of at most
/// `cap` bytes. Opened without blocking, so a FIFO or device planted in
/// the cache cannot stall a verification.
fn read_entry(path: &Path, cap: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > cap {
        return None;
    }
    let mut buf = Vec::new();
    file.take(cap + 1).read_to_end(&mut buf).ok()?;
    (buf.len() as u64 <= cap).then_some(buf)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    // No fsync: entries are verified on every read, so one lost or torn
    // by a crash is only a miss.
    crate::fsutil::atomic_write_unsynced(path, bytes, crate::fsutil::MODE_PRIVATE).map_err(
        |source| CacheError::Io {
            path: path.to_path_buf(),
            source,
        },
    )
}

/// Reports a cache write failure on stderr, once per process: the cache is
/// an optimisation and the verification continues without it.
pub(crate) fn warn_once(error: &CacheError) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        eprintln!("Warning: {error}; revocation data will be downloaded again next time");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_follow_upstream_for_crls() {
        let c = RevocationCache::new("/c");
        // upstream: hex(sha256(url)) under crl/
        assert_eq!(
            c.crl_path("http://example.com/a.crl"),
            Path::new("/c/crl").join(hex::encode(Sha256::digest(b"http://example.com/a.crl")))
        );
    }

    #[test]
    fn garbage_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let c = RevocationCache::new(dir.path());
        let url = "http://127.0.0.1:1/x.crl";
        let now = OffsetDateTime::now_utc();
        assert!(c.load_crl(url, 1 << 20, now).is_none());
        for junk in [
            &b"not json"[..],
            br#"{"baseCRL": "!!!"}"#,
            br#"{"baseCRL": "AAAA"}"#,
            br#"{"baseCRL": 5}"#,
        ] {
            crate::fsutil::atomic_write(&c.crl_path(url), junk, 0o600).unwrap();
            assert!(c.load_crl(url, 1 << 20, now).is_none());
        }
        // Not a CRL: nothing stored.
        assert!(!c.store_crl(url, b"junk", now).unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_directory_in_place_of_an_entry_is_a_miss_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let c = RevocationCache::new(dir.path());
        let url = "http://127.0.0.1:1/x.crl";
        let path = c.crl_path(url);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let cpath = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(cpath.as_ptr(), 0o600) }, 0);
        assert!(c
            .load_crl(url, 1 << 20, OffsetDateTime::now_utc())
            .is_none());
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert!(c
            .load_crl(url, 1 << 20, OffsetDateTime::now_utc())
            .is_none());
    }
}
