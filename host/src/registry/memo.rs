//! What a registry supports, remembered across processes: whether it has
//! the Referrers API, per registry host, in the cache directory
//! (`$NOTATION_CACHE`, else the user cache dir; see
//! [`crate::config::cache_dir`]) as `registry/<host>.json`.
//!
//! The memo is only a hint that saves a probe: it expires after
//! [`MEMO_TTL`], a file that cannot be read or parsed is ignored, and the
//! client corrects it whenever the registry's answers disagree (a
//! `Referrers API` memo with no `OCI-Subject` on a pushed manifest, or a
//! 404 from the referrers endpoint). Writes are atomic; failures to write
//! are ignored (the memo is an optimisation).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a memo is believed.
pub const MEMO_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Largest memo file read.
const MEMO_CAP: u64 = 4096;

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Memo {
    referrers_api: bool,
    /// Seconds since the Unix epoch when this was learnt.
    checked_at: u64,
}

/// The memo file for `host` under `cache_dir`: the host with every byte
/// outside `[A-Za-z0-9.-]` written as `_XX` (so `localhost:5000` is
/// `localhost_3A5000.json`).
pub fn memo_path(cache_dir: &Path, host: &str) -> PathBuf {
    let mut name = String::new();
    for b in host.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("_{b:02X}"));
        }
    }
    cache_dir.join("registry").join(format!("{name}.json"))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The remembered answer for `host`, if fresh.
pub fn load(cache_dir: &Path, host: &str) -> Option<bool> {
    let bytes = crate::fsutil::read_capped(&memo_path(cache_dir, host), MEMO_CAP).ok()?;
    let memo: Memo = serde_json::from_slice(&bytes).ok()?;
    let now = now_secs();
    // A memo from the future (clock changes) is not believed either.
    (memo.checked_at <= now && now - memo.checked_at < MEMO_TTL.as_secs())
        .then_some(memo.referrers_api)
}

/// Remember `referrers_api` for `host` (best effort).
pub fn store(cache_dir: &Path, host: &str, referrers_api: bool) {
    let path = memo_path(cache_dir, host);
    let Some(dir) = path.parent() else { return };
    if crate::fsutil::create_dir_private(dir).is_err() {
        return;
    }
    let memo = Memo {
        referrers_api,
        checked_at: now_secs(),
    };
    if let Ok(bytes) = serde_json::to_vec(&memo) {
        // A throw-away hint: no fsync on the sign path.
        let _ = crate::fsutil::atomic_write_unsynced(&path, &bytes, 0o600);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_expiry_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path(), "localhost:5000"), None);
        store(dir.path(), "localhost:5000", true);
        assert_eq!(load(dir.path(), "localhost:5000"), Some(true));
        assert_eq!(load(dir.path(), "localhost:5001"), None);
        store(dir.path(), "localhost:5000", false);
        assert_eq!(load(dir.path(), "localhost:5000"), Some(false));
        let path = memo_path(dir.path(), "localhost:5000");
        assert!(path.ends_with("registry/localhost_3A5000.json"), "{path:?}");
        std::fs::write(&path, br#"{"referrersApi":true,"checkedAt":1}"#).unwrap();
        assert_eq!(load(dir.path(), "localhost:5000"), None, "expired");
        std::fs::write(&path, b"not json").unwrap();
        assert_eq!(load(dir.path(), "localhost:5000"), None);
        std::fs::write(&path, vec![b' '; 10_000]).unwrap();
        assert_eq!(load(dir.path(), "localhost:5000"), None, "too large");
        assert!(memo_path(dir.path(), "../x").ends_with("registry/.._2Fx.json"));
    }
}
