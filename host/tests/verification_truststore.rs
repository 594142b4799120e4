//! Trust store loading rules and the write side used by `notation cert`.

use std::fs;
use std::path::Path;

use notation_host::truststore::{StoreRef, StoreType, TrustStore, TrustStoreError};

const X509_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/x509");
const KEYS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/localkeys");

fn setup() -> (tempfile::TempDir, TrustStore) {
    let dir = tempfile::tempdir().unwrap();
    let ts = TrustStore::from_config_dir(dir.path());
    (dir, ts)
}

fn put(ts: &TrustStore, t: &str, name: &str, file: &str, from: &Path) -> std::path::PathBuf {
    let d = ts.root().join("x509").join(t).join(name);
    fs::create_dir_all(&d).unwrap();
    let p = d.join(file);
    fs::copy(from, &p).unwrap();
    p
}

#[test]
fn loads_pem_der_and_multi_certificate_files() {
    let (_d, ts) = setup();
    put(
        &ts,
        "ca",
        "s",
        "a.pem",
        &Path::new(X509_DIR).join("pem.crt"),
    );
    put(
        &ts,
        "ca",
        "s",
        "b.der",
        &Path::new(X509_DIR).join("der.der"),
    );
    put(
        &ts,
        "ca",
        "s",
        "c.crt",
        &Path::new(X509_DIR).join("multi-pem.crt"),
    );
    put(
        &ts,
        "ca",
        "s",
        "d.cer",
        &Path::new(X509_DIR).join("multi-der.der"),
    );
    let store = ts.load(StoreType::Ca, "s").unwrap();
    assert!(
        store.certificates.len() >= 4,
        "{}",
        store.certificates.len()
    );
    assert_eq!(store.store_type, StoreType::Ca);
    assert_eq!(store.name, "s");
}

#[test]
fn invalid_file_is_named_in_the_error() {
    let (_d, ts) = setup();
    put(
        &ts,
        "ca",
        "s",
        "good.crt",
        &Path::new(KEYS_DIR).join("e2e.crt"),
    );
    let bad = put(
        &ts,
        "ca",
        "s",
        "invalid",
        &Path::new(X509_DIR).join("invalid"),
    );
    let err = ts.load(StoreType::Ca, "s").unwrap_err();
    assert!(
        matches!(&err, TrustStoreError::InvalidCertificateFile { path } if *path == bad),
        "{err}"
    );
    assert!(err.to_string().contains("invalid"));
}

#[test]
fn symlinks_are_refused() {
    let (_d, ts) = setup();
    let real = put(
        &ts,
        "ca",
        "s",
        "e2e.crt",
        &Path::new(KEYS_DIR).join("e2e.crt"),
    );
    std::os::unix::fs::symlink(&real, real.with_file_name("link.crt")).unwrap();
    assert!(matches!(
        ts.load(StoreType::Ca, "s"),
        Err(TrustStoreError::Symlink { .. })
    ));
    // a symlinked named store directory
    let target = ts.root().join("x509/ca/s");
    std::os::unix::fs::symlink(&target, ts.root().join("x509/ca/alias")).unwrap();
    assert!(matches!(
        ts.load(StoreType::Ca, "alias"),
        Err(TrustStoreError::Symlink { .. })
    ));
}

#[test]
fn subdirectories_are_ignored_and_reported() {
    let (_d, ts) = setup();
    put(
        &ts,
        "ca",
        "s",
        "e2e.crt",
        &Path::new(KEYS_DIR).join("e2e.crt"),
    );
    let sub = ts.root().join("x509/ca/s/sub");
    fs::create_dir_all(&sub).unwrap();
    fs::write(sub.join("junk.pem"), b"junk").unwrap();
    let store = ts.load(StoreType::Ca, "s").unwrap();
    assert_eq!(store.certificates.len(), 1);
    assert_eq!(store.ignored, vec![sub]);
}

#[test]
fn store_rules_per_type() {
    let (_d, ts) = setup();
    // self-signed leaf certificates are accepted in ca / signingAuthority stores
    put(
        &ts,
        "ca",
        "s",
        "e2e.crt",
        &Path::new(KEYS_DIR).join("e2e.crt"),
    );
    put(
        &ts,
        "signingAuthority",
        "s",
        "e2e.crt",
        &Path::new(KEYS_DIR).join("e2e.crt"),
    );
    assert!(ts.load(StoreType::Ca, "s").is_ok());
    assert!(ts.load(StoreType::SigningAuthority, "s").is_ok());
    // a leaf issued by someone else is not a root
    let leaf = put(
        &ts,
        "ca",
        "leaf",
        "leaf.crt",
        &Path::new(X509_DIR).join("timestamp_leaf.crt"),
    );
    assert!(matches!(
        ts.load(StoreType::Ca, "leaf"),
        Err(TrustStoreError::NotCaOrSelfSigned { path, .. }) if path == leaf
    ));
    // an intermediate CA is allowed in a ca store (CA certificate)
    put(
        &ts,
        "ca",
        "int",
        "int.crt",
        &Path::new(X509_DIR).join("timestamp_intermediate.crt"),
    );
    assert!(ts.load(StoreType::Ca, "int").is_ok());
    // tsa stores: root CA certificates only
    put(
        &ts,
        "tsa",
        "ok",
        "root.crt",
        &Path::new(X509_DIR).join("timestamp_root.crt"),
    );
    assert!(ts.load(StoreType::Tsa, "ok").is_ok());
    put(
        &ts,
        "tsa",
        "int",
        "int.crt",
        &Path::new(X509_DIR).join("timestamp_intermediate.crt"),
    );
    assert!(matches!(
        ts.load(StoreType::Tsa, "int"),
        Err(TrustStoreError::NotRootCa { .. })
    ));
    put(
        &ts,
        "tsa",
        "selfleaf",
        "e2e.crt",
        &Path::new(KEYS_DIR).join("e2e.crt"),
    );
    assert!(matches!(
        ts.load(StoreType::Tsa, "selfleaf"),
        Err(TrustStoreError::NotRootCa { .. })
    ));
}

#[test]
fn missing_empty_and_badly_named_stores() {
    let (_d, ts) = setup();
    assert!(matches!(
        ts.load(StoreType::Ca, "nope"),
        Err(TrustStoreError::StoreNotFound { .. })
    ));
    fs::create_dir_all(ts.root().join("x509/ca/empty")).unwrap();
    assert!(matches!(
        ts.load(StoreType::Ca, "empty"),
        Err(TrustStoreError::EmptyStore { .. })
    ));
    for bad in ["..", ".", "a/b", "", "a b"] {
        assert!(
            matches!(
                ts.load(StoreType::Ca, bad),
                Err(TrustStoreError::InvalidStoreName { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn add_list_delete() {
    let (_d, ts) = setup();
    let src = Path::new(KEYS_DIR).join("e2e.crt");
    let written = ts.add_certificate_file(StoreType::Ca, "e2e", &src).unwrap();
    assert_eq!(written, ts.root().join("x509/ca/e2e/e2e.crt"));
    assert_eq!(fs::read(&written).unwrap(), fs::read(&src).unwrap());
    // never overwrites
    assert!(matches!(
        ts.add_certificate_file(StoreType::Ca, "e2e", &src),
        Err(TrustStoreError::AlreadyExists { .. })
    ));
    // refuses non-certificates and wrong kinds, leaving nothing behind
    assert!(matches!(
        ts.add_certificate_file(StoreType::Ca, "e2e", &Path::new(X509_DIR).join("invalid")),
        Err(TrustStoreError::InvalidCertificateFile { .. })
    ));
    assert!(matches!(
        ts.add_certificate_file(StoreType::Tsa, "t", &src),
        Err(TrustStoreError::NotRootCa { .. })
    ));
    ts.add_certificate_file(
        StoreType::Tsa,
        "t",
        &Path::new(X509_DIR).join("timestamp_root.crt"),
    )
    .unwrap();
    ts.add_certificate_file(StoreType::SigningAuthority, "sa", &src)
        .unwrap();

    assert_eq!(
        ts.list_stores(None).unwrap(),
        vec![
            StoreRef {
                store_type: StoreType::Ca,
                name: "e2e".into()
            },
            StoreRef {
                store_type: StoreType::SigningAuthority,
                name: "sa".into()
            },
            StoreRef {
                store_type: StoreType::Tsa,
                name: "t".into()
            },
        ]
    );
    assert_eq!(ts.list_stores(Some(StoreType::Tsa)).unwrap().len(), 1);
    assert_eq!(
        ts.list_files(StoreType::Ca, "e2e").unwrap(),
        vec![written.clone()]
    );
    // no stray temp files
    assert_eq!(
        fs::read_dir(ts.root().join("x509/ca/e2e")).unwrap().count(),
        1
    );

    assert!(matches!(
        ts.delete_certificate_file(StoreType::Ca, "e2e", "other.crt"),
        Err(TrustStoreError::FileNotFound { .. })
    ));
    assert!(matches!(
        ts.delete_certificate_file(StoreType::Ca, "e2e", "../sa"),
        Err(TrustStoreError::InvalidFileName { .. })
    ));
    ts.delete_certificate_file(StoreType::Ca, "e2e", "e2e.crt")
        .unwrap();
    assert!(!written.exists());
    ts.delete_store(StoreType::Tsa, "t").unwrap();
    assert_eq!(ts.list_stores(Some(StoreType::Tsa)).unwrap().len(), 0);
}

#[test]
fn a_preloaded_store_is_read_once_and_a_failing_one_stays_on_disk() {
    let (_d, ts) = setup();
    let file = put(
        &ts,
        "ca",
        "good",
        "a.pem",
        &Path::new(X509_DIR).join("pem.crt"),
    );
    let refs = [
        StoreRef {
            store_type: StoreType::Ca,
            name: "good".into(),
        },
        StoreRef {
            store_type: StoreType::Ca,
            name: "missing".into(),
        },
    ];
    let preloaded = ts.preloaded(&refs);
    let before = preloaded.load(StoreType::Ca, "good").unwrap();
    // Removed from the disk: the preloaded copy answers, the original
    // store (and any store not preloaded) reads the disk.
    fs::remove_file(&file).unwrap();
    let after = preloaded.load(StoreType::Ca, "good").unwrap();
    assert_eq!(
        before.certificates[0].certificate.to_der().unwrap(),
        after.certificates[0].certificate.to_der().unwrap()
    );
    assert!(matches!(
        ts.load(StoreType::Ca, "good"),
        Err(TrustStoreError::EmptyStore { .. })
    ));
    // The store that failed to load is not kept: the error comes from the
    // disk, and a store created since is found.
    assert!(matches!(
        preloaded.load(StoreType::Ca, "missing"),
        Err(TrustStoreError::StoreNotFound { .. })
    ));
    put(
        &ts,
        "ca",
        "missing",
        "a.pem",
        &Path::new(X509_DIR).join("pem.crt"),
    );
    assert!(preloaded.load(StoreType::Ca, "missing").is_ok());
}
