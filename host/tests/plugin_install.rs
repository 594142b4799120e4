//! `plugin install` / `plugin uninstall` against real files, archives and
//! plugin executables (small shell-script plugins that answer
//! `get-plugin-metadata`). Every refusal must leave the plugin directory,
//! and its parent, byte-for-byte unchanged.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{Cursor, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use notation_host::plugin_manager::{
    install_from_bytes, install_from_file, install_from_file_with, install_from_url, uninstall,
    InstallError, InstallOptions, SizeLimits, UninstallError, MAX_PLUGIN_BYTES,
};
use sha2::{Digest, Sha256};

/// A plugin executable that reports `name` and `version`.
fn script(name: &str, version: &str) -> Vec<u8> {
    format!(
        "#!/bin/sh\ncat >/dev/null\nprintf '%s' '{{\"name\":\"{name}\",\"description\":\"test plugin\",\"version\":\"{version}\",\"url\":\"https://example.invalid\",\"supportedContractVersions\":[\"1.0\"],\"capabilities\":[\"SIGNATURE_GENERATOR.RAW\"]}}'\n"
    )
    .into_bytes()
}

/// A plugin executable that fails every command.
fn broken_script() -> Vec<u8> {
    b"#!/bin/sh\necho 'not json' \nexit 3\n".to_vec()
}

struct Env {
    _root: tempfile::TempDir,
    /// Parent of the plugin dir: staging happens here.
    base: PathBuf,
    plugins: PathBuf,
    sources: PathBuf,
}

fn env() -> Env {
    let root = tempfile::tempdir().unwrap();
    let base = root.path().join("config");
    let plugins = base.join("plugins");
    let sources = root.path().join("sources");
    fs::create_dir_all(&plugins).unwrap();
    fs::create_dir_all(&sources).unwrap();
    Env {
        base,
        plugins,
        sources,
        _root: root,
    }
}

/// Every path under `dir` with its content hash (dirs: "dir") and mode.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let m = fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_owned();
            if m.is_dir() {
                out.insert(rel, format!("dir {:o}", m.permissions().mode()));
                walk(root, &p, out);
            } else {
                let data = fs::read(&p).unwrap_or_default();
                out.insert(
                    rel,
                    format!(
                        "{} {:o}",
                        hex::encode(Sha256::digest(&data)),
                        m.permissions().mode()
                    ),
                );
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

enum Member<'a> {
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    /// Name written raw into the header, bypassing the tar crate's checks.
    RawName(&'a [u8], &'a [u8]),
}

fn tar_gz(members: &[Member]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for m in members {
        let mut h = tar::Header::new_gnu();
        match m {
            Member::File(name, data) => {
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                h.set_entry_type(tar::EntryType::Regular);
                b.append_data(&mut h, name, *data).unwrap();
            }
            Member::Symlink(name, target) | Member::HardLink(name, target) => {
                h.set_size(0);
                h.set_mode(0o777);
                h.set_entry_type(if matches!(m, Member::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                });
                b.append_link(&mut h, name, target).unwrap();
            }
            Member::RawName(name, data) => {
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                h.set_entry_type(tar::EntryType::Regular);
                let raw = &mut h.as_old_mut().name;
                raw.fill(0);
                raw[..name.len()].copy_from_slice(name);
                h.set_cksum();
                b.append(&h, *data).unwrap();
            }
        }
    }
    b.into_inner().unwrap().finish().unwrap()
}

enum ZipMember<'a> {
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
}

fn zip(members: &[ZipMember]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for m in members {
        match m {
            ZipMember::File(name, data) => {
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
            ZipMember::Symlink(name, target) => {
                w.add_symlink(*name, *target, opts).unwrap();
            }
        }
    }
    w.finish().unwrap().into_inner()
}

fn write_source(env: &Env, name: &str, bytes: &[u8]) -> PathBuf {
    let p = env.sources.join(name);
    fs::write(&p, bytes).unwrap();
    p
}

/// Installs `bytes` from a file and expects a refusal; checks nothing changed.
fn expect_refused(env: &Env, file_name: &str, bytes: &[u8]) -> InstallError {
    expect_refused_with(env, file_name, bytes, &InstallOptions::default())
}

fn expect_refused_with(
    env: &Env,
    file_name: &str,
    bytes: &[u8],
    options: &InstallOptions,
) -> InstallError {
    let before = snapshot(&env.base);
    let src = write_source(env, file_name, bytes);
    let err = install_from_file_with(&env.plugins, &src, options)
        .expect_err("install should have been refused");
    assert_eq!(
        snapshot(&env.base),
        before,
        "a refused install changed the plugin directory or left files behind ({err})"
    );
    assert!(!err.to_string().is_empty());
    err
}

fn installed_version(env: &Env, name: &str) -> String {
    let exe = env.plugins.join(name).join(format!("notation-{name}"));
    let text = String::from_utf8(fs::read(exe).unwrap()).unwrap();
    let v = text.split("\"version\":\"").nth(1).unwrap();
    v.split('"').next().unwrap().to_owned()
}

#[test]
fn installs_single_executable() {
    let env = env();
    let src = write_source(&env, "notation-foo", &script("foo", "1.0.0"));
    let out = install_from_file(&env.plugins, &src, false).unwrap();
    assert_eq!(out.name, "foo");
    assert_eq!(out.version, "1.0.0");
    assert_eq!(out.previous_version, None);
    assert_eq!(out.path, env.plugins.join("foo"));
    let exe = env.plugins.join("foo/notation-foo");
    assert_eq!(
        fs::metadata(&exe).unwrap().permissions().mode() & 0o777,
        0o755
    );
    // Nothing else left next to the plugin dir.
    let names: Vec<_> = fs::read_dir(&env.base)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("plugins")]);
}

#[test]
fn single_executable_must_be_named_notation_something() {
    let env = env();
    let err = expect_refused(&env, "foo", &script("foo", "1.0.0"));
    assert!(
        matches!(err, InstallError::BadExecutableName { .. }),
        "{err}"
    );
}

#[test]
fn installs_tar_gz_with_license() {
    let env = env();
    let exe = script("com.example.tgz", "0.2.0");
    let archive = tar_gz(&[
        Member::File("LICENSE", b"Apache-2.0"),
        Member::File("notation-com.example.tgz", &exe),
        Member::File("lib/dep.so", b"dependency"),
    ]);
    let src = write_source(&env, "plugin.tar.gz", &archive);
    let out = install_from_file(&env.plugins, &src, false).unwrap();
    assert_eq!(out.name, "com.example.tgz");
    assert_eq!(out.version, "0.2.0");
    let dir = env.plugins.join("com.example.tgz");
    assert_eq!(fs::read(dir.join("LICENSE")).unwrap(), b"Apache-2.0");
    assert_eq!(fs::read(dir.join("lib/dep.so")).unwrap(), b"dependency");
    assert_eq!(
        fs::metadata(dir.join("LICENSE"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o644
    );
}

#[test]
fn installs_zip() {
    let env = env();
    let exe = script("zipped", "3.1.4");
    let archive = zip(&[
        ZipMember::File("notation-zipped", &exe),
        ZipMember::File("LICENSE", b"MIT"),
    ]);
    let src = write_source(&env, "plugin.zip", &archive);
    let out = install_from_file(&env.plugins, &src, false).unwrap();
    assert_eq!(
        (out.name.as_str(), out.version.as_str()),
        ("zipped", "3.1.4")
    );
    assert_eq!(
        fs::read(env.plugins.join("zipped/notation-zipped")).unwrap(),
        exe
    );
}

#[test]
fn same_version_and_downgrade_need_force_upgrade_does_not() {
    let env = env();
    let v1 = write_source(&env, "notation-foo", &script("foo", "1.1.0"));
    install_from_file(&env.plugins, &v1, false).unwrap();

    let err = expect_refused(&env, "notation-foo", &script("foo", "1.1.0"));
    assert!(matches!(err, InstallError::SameVersion { .. }), "{err}");
    let err = expect_refused(&env, "notation-foo", &script("foo", "1.0.9"));
    assert!(matches!(err, InstallError::Downgrade { .. }), "{err}");
    assert_eq!(installed_version(&env, "foo"), "1.1.0");

    // --force allows the downgrade.
    let old = write_source(&env, "notation-foo", &script("foo", "1.0.9"));
    let out = install_from_file(&env.plugins, &old, true).unwrap();
    assert_eq!(out.previous_version.as_deref(), Some("1.1.0"));
    assert_eq!(installed_version(&env, "foo"), "1.0.9");

    // An upgrade needs no force, and replaces the whole directory.
    fs::write(env.plugins.join("foo/stale-file"), b"x").unwrap();
    let new = write_source(&env, "notation-foo", &script("foo", "2.0.0"));
    let out = install_from_file(&env.plugins, &new, false).unwrap();
    assert_eq!(out.previous_version.as_deref(), Some("1.0.9"));
    assert_eq!(installed_version(&env, "foo"), "2.0.0");
    assert!(!env.plugins.join("foo/stale-file").exists());
}

#[test]
fn replacing_a_broken_plugin_needs_force() {
    let env = env();
    fs::create_dir_all(env.plugins.join("foo")).unwrap();
    let exe = env.plugins.join("foo/notation-foo");
    fs::write(&exe, broken_script()).unwrap();
    fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
    let err = expect_refused(&env, "notation-foo", &script("foo", "1.0.0"));
    assert!(matches!(err, InstallError::ExistingBroken { .. }), "{err}");
    let src = write_source(&env, "notation-foo", &script("foo", "1.0.0"));
    let out = install_from_file(&env.plugins, &src, true).unwrap();
    assert_eq!(out.previous_version, None);
    assert_eq!(installed_version(&env, "foo"), "1.0.0");
}

#[test]
fn refuses_a_plugin_that_does_not_work() {
    let env = env();
    let err = expect_refused(&env, "notation-foo", &broken_script());
    assert!(matches!(err, InstallError::NewPluginBroken { .. }), "{err}");
}

#[test]
fn refuses_metadata_name_different_from_executable() {
    let env = env();
    let err = expect_refused(&env, "notation-foo", &script("bar", "1.0.0"));
    // Either our own check or the client's discovery check catches it.
    assert!(
        matches!(
            err,
            InstallError::NameMismatch { .. } | InstallError::NewPluginBroken { .. }
        ),
        "{err}"
    );
}

#[test]
fn refuses_zip_slip() {
    let env = env();
    let exe = script("foo", "1.0.0");
    let archive = zip(&[
        ZipMember::File("notation-foo", &exe),
        ZipMember::File("../../evil", b"owned"),
    ]);
    let err = expect_refused(&env, "slip.zip", &archive);
    assert!(matches!(err, InstallError::UnsafeEntry { .. }), "{err}");
    assert!(!env.sources.join("evil").exists());

    let archive = zip(&[
        ZipMember::File("notation-foo", &exe),
        ZipMember::File("/tmp/evil-absolute", b"owned"),
    ]);
    let err = expect_refused(&env, "abs.zip", &archive);
    assert!(matches!(err, InstallError::UnsafeEntry { .. }), "{err}");
}

#[test]
fn refuses_tar_slip_and_absolute_paths() {
    let env = env();
    let exe = script("foo", "1.0.0");
    for bad in [&b"../evil"[..], b"a/../../evil", b"/tmp/evil-absolute"] {
        let archive = tar_gz(&[
            Member::File("notation-foo", &exe),
            Member::RawName(bad, b"owned"),
        ]);
        let err = expect_refused(&env, "slip.tar.gz", &archive);
        assert!(
            matches!(err, InstallError::UnsafeEntry { .. }),
            "{}: {err}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn refuses_links() {
    let env = env();
    let exe = script("foo", "1.0.0");
    let archive = tar_gz(&[
        Member::File("notation-foo", &exe),
        Member::Symlink("LICENSE", "/etc/passwd"),
    ]);
    let err = expect_refused(&env, "sym.tar.gz", &archive);
    assert!(
        matches!(
            err,
            InstallError::UnsafeEntry {
                reason: "symbolic link",
                ..
            }
        ),
        "{err}"
    );

    let archive = tar_gz(&[
        Member::File("notation-foo", &exe),
        Member::HardLink("LICENSE", "notation-foo"),
    ]);
    let err = expect_refused(&env, "hard.tar.gz", &archive);
    assert!(
        matches!(
            err,
            InstallError::UnsafeEntry {
                reason: "hard link",
                ..
            }
        ),
        "{err}"
    );

    let archive = zip(&[
        ZipMember::File("notation-foo", &exe),
        ZipMember::Symlink("LICENSE", "/etc/passwd"),
    ]);
    let err = expect_refused(&env, "sym.zip", &archive);
    assert!(
        matches!(
            err,
            InstallError::UnsafeEntry {
                reason: "symbolic link",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn refuses_zero_or_two_executables() {
    let env = env();
    let archive = tar_gz(&[
        Member::File("notation-foo", &script("foo", "1.0.0")),
        Member::File("notation-bar", &script("bar", "1.0.0")),
    ]);
    let err = expect_refused(&env, "two.tar.gz", &archive);
    assert!(
        matches!(err, InstallError::MultipleExecutables { ref names } if names.len() == 2),
        "{err}"
    );
    let archive = zip(&[
        ZipMember::File("notation-foo", &script("foo", "1.0.0")),
        ZipMember::File("notation-bar", &script("bar", "1.0.0")),
    ]);
    let err = expect_refused(&env, "two.zip", &archive);
    assert!(
        matches!(err, InstallError::MultipleExecutables { .. }),
        "{err}"
    );

    let archive = zip(&[ZipMember::File("LICENSE", b"MIT")]);
    let err = expect_refused(&env, "none.zip", &archive);
    assert!(matches!(err, InstallError::NoExecutable), "{err}");
}

#[test]
fn refuses_oversize_with_small_limits() {
    let env = env();
    let exe = script("foo", "1.0.0");
    let limits = SizeLimits {
        per_file: 4096,
        total: 8192,
    };
    let opts = InstallOptions {
        limits,
        ..InstallOptions::default()
    };
    // One member just over the per-file limit (highly compressible).
    let big = vec![0u8; 4097];
    for archive in [
        tar_gz(&[
            Member::File("notation-foo", &exe),
            Member::File("big", &big),
        ]),
        zip(&[
            ZipMember::File("notation-foo", &exe),
            ZipMember::File("big", &big),
        ]),
    ] {
        let err = expect_refused_with(&env, "big.archive", &archive, &opts);
        assert!(
            matches!(err, InstallError::EntryTooLarge { limit: 4096, .. }),
            "{err}"
        );
    }
    // Members each under the per-file limit, together over the total.
    let part = vec![0u8; 3000];
    let archive = tar_gz(&[
        Member::File("notation-foo", &exe),
        Member::File("a", &part),
        Member::File("b", &part),
        Member::File("c", &part),
    ]);
    let err = expect_refused_with(&env, "total.tar.gz", &archive, &opts);
    assert!(
        matches!(err, InstallError::TooLarge { limit: 8192, .. }),
        "{err}"
    );
    // The same archive installs with the default limits.
    let src = write_source(&env, "total.tar.gz", &archive);
    install_from_file(&env.plugins, &src, false).unwrap();
}

/// The real 256 MiB limit, with a zero-filled member one byte over it: the
/// gzip stream is small, the count happens while extracting.
#[test]
fn refuses_member_over_256_mib() {
    let env = env();
    assert_eq!(MAX_PLUGIN_BYTES, 256 * 1024 * 1024);
    let path = env.sources.join("huge.tar.gz");
    {
        let file = fs::File::create(&path).unwrap();
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        let exe = script("foo", "1.0.0");
        let mut h = tar::Header::new_gnu();
        h.set_size(exe.len() as u64);
        h.set_mode(0o755);
        b.append_data(&mut h, "notation-foo", &exe[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(MAX_PLUGIN_BYTES + 1);
        h.set_mode(0o644);
        let zeros = std::io::repeat(0).take(MAX_PLUGIN_BYTES + 1);
        b.append_data(&mut h, "huge", zeros).unwrap();
        b.into_inner().unwrap().finish().unwrap();
    }
    assert!(fs::metadata(&path).unwrap().len() < MAX_PLUGIN_BYTES / 100);
    let before = snapshot(&env.base);
    let err = install_from_file(&env.plugins, &path, false).unwrap_err();
    assert!(
        matches!(err, InstallError::TooLarge { limit, .. } if limit == MAX_PLUGIN_BYTES),
        "{err}"
    );
    assert_eq!(snapshot(&env.base), before);
}

#[test]
fn checksum_is_verified_before_anything_is_written() {
    let env = env();
    let exe = script("foo", "1.0.0");
    let archive = tar_gz(&[Member::File("notation-foo", &exe)]);
    let good = hex::encode(Sha256::digest(&archive));
    let wrong = hex::encode(Sha256::digest(b"something else"));

    let before = snapshot(&env.base);
    let opts = InstallOptions {
        sha256: Some(wrong.clone()),
        ..InstallOptions::default()
    };
    let err = install_from_bytes(&env.plugins, &archive, "p.tar.gz", &opts).unwrap_err();
    assert!(
        matches!(err, InstallError::ChecksumMismatch { ref expected, ref actual }
            if *expected == wrong && *actual == good),
        "{err}"
    );
    assert_eq!(snapshot(&env.base), before);

    let err = expect_refused_with(&env, "p.tar.gz", &archive, &opts);
    assert!(
        matches!(err, InstallError::ChecksumMismatch { .. }),
        "{err}"
    );

    let bad_hex = InstallOptions {
        sha256: Some("xyz".into()),
        ..InstallOptions::default()
    };
    let err = install_from_bytes(&env.plugins, &archive, "p.tar.gz", &bad_hex).unwrap_err();
    assert!(matches!(err, InstallError::InvalidChecksum { .. }), "{err}");

    let ok = InstallOptions {
        sha256: Some(good.to_uppercase()),
        ..InstallOptions::default()
    };
    let out = install_from_bytes(&env.plugins, &archive, "p.tar.gz", &ok).unwrap();
    assert_eq!(out.name, "foo");
}

/// Upstream's order: the scheme, then the download, then the checksum (a
/// malformed checksum against an unreachable server is a download error).
#[test]
fn url_must_be_https_then_downloaded_then_checksummed() {
    let env = env();
    let sum = "0".repeat(64);
    let err =
        install_from_url(&env.plugins, "http://127.0.0.1:9/p.tar.gz", &sum, false).unwrap_err();
    assert!(matches!(err, InstallError::NotHttps { .. }), "{err}");
    let err = install_from_url(&env.plugins, "file:///etc/passwd", &sum, false).unwrap_err();
    assert!(matches!(err, InstallError::NotHttps { .. }), "{err}");
    let err = install_from_url(&env.plugins, "https://127.0.0.1:9/p", "nothex", false).unwrap_err();
    assert!(matches!(err, InstallError::Download { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("failed to download plugin from URL https://127.0.0.1:9/p with error: "),
        "{err}"
    );
    let err = install_from_url(&env.plugins, "http://127.0.0.1:9/p", "nothex", false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to download plugin from URL: only the HTTPS scheme is supported, but got http \
         (`http://127.0.0.1:9/p` is not an HTTPS URL; plugins can only be downloaded over HTTPS)"
    );
}

#[test]
fn uninstall_removes_only_that_plugin() {
    let env = env();
    for (n, v) in [("foo", "1.0.0"), ("bar", "1.0.0")] {
        let src = write_source(&env, &format!("notation-{n}"), &script(n, v));
        install_from_file(&env.plugins, &src, false).unwrap();
    }
    uninstall(&env.plugins, "foo").unwrap();
    assert!(!env.plugins.join("foo").exists());
    assert!(env.plugins.join("bar/notation-bar").exists());
    let names: Vec<_> = fs::read_dir(&env.base)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("plugins")]);

    let err = uninstall(&env.plugins, "foo").unwrap_err();
    assert!(matches!(err, UninstallError::NotFound { .. }), "{err}");
    for bad in ["", "..", "../config", "a/b"] {
        let err = uninstall(&env.plugins, bad).unwrap_err();
        assert!(
            matches!(err, UninstallError::InvalidName { .. }),
            "{bad}: {err}"
        );
    }
}
