//! Signature content kept in the cache directory between verifications,
//! against a real docker-registry: a repeated `verify` reads only the
//! registry's list of signatures (`sign` and `verify` both fill the cache),
//! and a cache entry that does not match its digest is never used.

use notation_e2e::{http_method_status, push_layout, vectors_dir, NotationCli, Registry};
use notation_host::registry::Target;

#[test]
fn repeated_verify_reads_signature_content_from_the_cache() {
    let reg = Registry::start();
    let subject = push_layout(&reg, &vectors_dir().join("oci-layouts/e2e"), "cache/image");
    let cli = NotationCli::new();
    let reference = format!("{}/cache/image@{}", reg.host, subject.digest);
    let signed = cli.ok(&["sign", "--insecure-registry", &reference]);
    let signature = signed
        .lines()
        .find_map(|l| l.strip_prefix("Pushed the signature to "))
        .and_then(|r| r.rsplit_once('@'))
        .map(|(_, d)| d.to_string())
        .unwrap_or_else(|| panic!("no signature digest in {signed:?}"));
    let client = reg.client("cache/image");
    let (_, manifest) = client
        .get_manifest(&Target::Digest(signature.clone()))
        .expect("signature manifest");
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).expect("json");
    let envelope = manifest["layers"][0]["digest"]
        .as_str()
        .expect("envelope digest")
        .to_string();

    let verified = format!("Successfully verified signature for {reference}");
    // A second cache directory, filled by a verification alone (the first
    // one was filled by `sign`).
    let other_cache = tempfile::tempdir().expect("temp dir");
    let verify_with_other_cache = || {
        cli.command(&["verify", "--insecure-registry", &reference])
            .env("NOTATION_CACHE", other_cache.path())
            .output()
            .expect("run notation")
    };
    let first = verify_with_other_cache();
    assert!(
        String::from_utf8_lossy(&first.stdout).contains(&verified),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    // The registry loses the envelope: the copies `sign` and the first
    // verification kept still verify (the list of signatures is read
    // afresh).
    let status = http_method_status(
        &reg.host,
        "DELETE",
        &format!("/v2/cache/image/blobs/{envelope}"),
    );
    assert_eq!(status, Some(202), "blob delete");
    assert!(cli
        .ok(&["verify", "--insecure-registry", &reference])
        .contains(&verified));
    let again = verify_with_other_cache();
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(&verified),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A cached envelope that is not what its digest names is not used:
    // the registry is asked, and it no longer has the blob.
    let entry = cli
        .cache_dir()
        .join("content/sha256")
        .join(envelope.strip_prefix("sha256:").expect("sha256"));
    let mut damaged = std::fs::read(&entry).expect("cached envelope");
    let last = damaged.len() - 2;
    damaged[last] ^= 1;
    std::fs::write(&entry, &damaged).expect("damage the entry");
    let out = cli.run(&["verify", "--insecure-registry", &reference]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "verified from a damaged cache entry");
    assert!(
        stderr.contains(&envelope),
        "the error names the missing envelope: {stderr}"
    );
}
