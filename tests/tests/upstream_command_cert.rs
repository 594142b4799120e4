//! Upstream's `test/e2e/suite/command/cert.go` (notaryproject/notation),
//! case by case against our binary: same inputs, same key words.
//!
//! Upstream's four `chmod 0000` failure cases cannot deny anything to
//! root; there an obstacle of another kind (a non-empty directory where a
//! file is expected) makes the same step fail, and only the Go wording of
//! the OS error (`permission denied`) is not checked.

mod upstream_command_support;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use upstream_command_support::{is_root, Host};

const HEADER: &str = "STORE TYPE   STORE NAME   CERTIFICATE";

#[test]
fn show_all() {
    Host::base().exec(&["cert", "list"]).key_words(&[HEADER]);
}

#[test]
fn delete_all() {
    Host::base()
        .exec(&[
            "cert", "delete", "--all", "--type", "ca", "--store", "e2e", "-y",
        ])
        .key_words(&["Successfully deleted"]);
}

#[test]
fn delete_a_specific_cert() {
    Host::base()
        .exec(&[
            "cert", "delete", "--type", "ca", "--store", "e2e", "e2e.crt", "-y",
        ])
        .key_words(&["Successfully deleted e2e.crt from trust store e2e of type ca"]);
}

#[test]
fn delete_a_non_exist_cert() {
    Host::base()
        .fails(&[
            "cert",
            "delete",
            "--type",
            "ca",
            "--store",
            "e2e",
            "non-exist.crt",
            "-y",
        ])
        .err_key_words(&["failed to delete the certificate file"]);
}

#[test]
fn show_e2e_cert() {
    Host::base()
        .exec(&["cert", "show", "--type", "ca", "--store", "e2e", "e2e.crt"])
        .key_words(&["Issuer: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US"]);
}

#[test]
fn list() {
    Host::base().exec(&["cert", "list"]).key_words(&[HEADER]);
}

#[test]
fn list_with_type() {
    Host::base()
        .exec(&["cert", "list", "--type", "ca"])
        .key_words(&[HEADER, "e2e.crt"]);
}

#[test]
fn list_with_store() {
    Host::base()
        .exec(&["cert", "list", "--store", "e2e"])
        .key_words(&[HEADER, "e2e.crt"]);
}

#[test]
fn list_with_type_and_store() {
    Host::base()
        .exec(&["cert", "list", "--type", "ca", "--store", "e2e"])
        .key_words(&[HEADER, "e2e.crt"]);
}

const GENERATED: &[&str] = &[
    "generating RSA Key with 2048 bits",
    "generated certificate expiring on",
    "wrote key:",
    "e2e-test.key",
    "wrote certificate:",
    "e2e-test.crt",
    "Successfully added e2e-test.crt to named store e2e-test of type ca",
    "e2e-test: added to signingkeys.json",
];

const CLEANED: &[&str] = &[
    "Successfully deleted e2e-test.crt from trust store e2e-test of type ca",
    "Successfully removed key e2e-test from signingkeys.json",
    "Successfully deleted key file:",
    "e2e-test.key",
    "Successfully deleted certificate file:",
    "e2e-test.crt",
    "Cleanup completed successfully",
];

#[test]
fn cleanup_test() {
    let host = Host::base();
    host.exec(&["cert", "generate-test", "e2e-test"])
        .key_words(GENERATED);
    host.exec(&["cert", "cleanup-test", "e2e-test", "-y"])
        .key_words(CLEANED);
}

#[test]
fn cleanup_test_with_key_set_as_default() {
    let host = Host::base();
    host.exec(&["cert", "generate-test", "e2e-test", "--default"])
        .key_words(GENERATED)
        .key_words(&["e2e-test: marked as default signing key"]);
    host.exec(&["cert", "cleanup-test", "e2e-test", "-y"])
        .key_words(CLEANED);
}

#[test]
fn cleanup_test_with_key_never_generated() {
    let host = Host::base();
    let key = host.notation_dir().join("localkeys/e2e-test.key");
    let crt = host.notation_dir().join("localkeys/e2e-test.crt");
    host.exec(&["cert", "cleanup-test", "e2e-test", "-y"])
        .key_words(&[
            "Certificate e2e-test.crt does not exist in trust store e2e-test of type ca",
            "Key e2e-test does not exist in signingkeys.json",
            &format!("Key file {} does not exist", key.display()),
            &format!("Certificate file {} does not exist", crt.display()),
            "Cleanup completed successfully",
        ]);
}

#[test]
fn cleanup_test_with_certificate_not_in_trust_store() {
    let host = Host::base();
    host.exec(&["cert", "generate-test", "e2e-test"]);
    host.exec(&[
        "cert",
        "delete",
        "--type",
        "ca",
        "--store",
        "e2e-test",
        "e2e-test.crt",
        "-y",
    ])
    .key_words(&["Successfully deleted e2e-test.crt from trust store e2e-test of type ca"]);
    host.exec(&["cert", "cleanup-test", "e2e-test", "-y"])
        .key_words(&[
            "Certificate e2e-test.crt does not exist in trust store e2e-test of type ca",
            "Successfully removed key e2e-test from signingkeys.json",
            "Successfully deleted key file:",
            "e2e-test.key",
            "Successfully deleted certificate file:",
            "e2e-test.crt",
            "Cleanup completed successfully",
        ]);
}

#[test]
fn cleanup_test_without_local_key_file() {
    let host = Host::base();
    host.exec(&["cert", "generate-test", "e2e-test"]);
    let key = host.notation_dir().join("localkeys/e2e-test.key");
    fs::remove_file(&key).unwrap();
    host.exec(&["cert", "cleanup-test", "e2e-test", "-y"])
        .key_words(&[
            "Successfully deleted e2e-test.crt from trust store e2e-test of type ca",
            "Successfully removed key e2e-test from signingkeys.json",
            &format!("Key file {} does not exist", key.display()),
            "Successfully deleted certificate file:",
            "e2e-test.crt",
            "Cleanup completed successfully",
        ]);
}

#[test]
fn cleanup_test_without_local_certificate_file() {
    let host = Host::base();
    host.exec(&["cert", "generate-test", "e2e-test"]);
    let crt = host.notation_dir().join("localkeys/e2e-test.crt");
    fs::remove_file(&crt).unwrap();
    host.exec(&["cert", "cleanup-test", "e2e-test", "-y"])
        .key_words(&[
            "Successfully deleted e2e-test.crt from trust store e2e-test of type ca",
            "Successfully removed key e2e-test from signingkeys.json",
            "Successfully deleted key file:",
            "e2e-test.key",
            &format!("Certificate file {} does not exist", crt.display()),
            "Cleanup completed successfully",
        ]);
}

#[test]
fn cleanup_test_missing_key_name() {
    Host::base()
        .fails(&["cert", "cleanup-test"])
        .err_key_words(&["missing key name"]);
}

#[test]
fn cleanup_test_with_empty_key_name() {
    Host::base()
        .fails(&["cert", "cleanup-test", ""])
        .err_key_words(&["key name must follow [a-zA-Z0-9_.-]+ format"]);
}

/// Makes `path` unusable for the step under test: `chmod mode` as upstream
/// does, or (for root) a non-empty directory in place of a file.
fn obstruct(path: &std::path::Path, mode: u32, as_root_replace_file: bool) -> bool {
    if is_root() {
        if as_root_replace_file {
            fs::remove_file(path).unwrap();
            fs::create_dir_all(path.join("obstacle")).unwrap();
        }
        false
    } else {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        true
    }
}

#[test]
fn cleanup_test_failed_at_deleting_certificate_from_trust_store() {
    let host = Host::base();
    host.exec(&["cert", "generate-test", "e2e-test"]);
    let store = host.notation_dir().join("truststore/x509/ca/e2e-test");
    let denied = if is_root() {
        obstruct(&store.join("e2e-test.crt"), 0, true)
    } else {
        obstruct(&store, 0o000, false)
    };
    let run = host.fails(&["cert", "cleanup-test", "e2e-test", "-y"]);
    run.err_key_words(&[
        "failed to delete certificate e2e-test.crt from trust store e2e-test of type ca",
    ]);
    if denied {
        run.err_key_words(&["permission denied"]);
        fs::set_permissions(&store, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn cleanup_test_failed_at_removing_key_from_signingkeys_json() {
    let host = Host::base();
    host.exec(&["cert", "generate-test", "e2e-test"]);
    let keys = host.notation_dir().join("signingkeys.json");
    let denied = obstruct(&keys, 0o000, true);
    let run = host.fails(&["cert", "cleanup-test", "e2e-test", "-y"]);
    run.err_key_words(&["failed to remove key e2e-test from signingkeys.json"]);
    if denied {
        run.err_key_words(&["permission denied"]);
        fs::set_permissions(&keys, fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn cleanup_test_failed_at_deleting_local_key_file() {
    let host = Host::base();
    host.exec(&["cert", "generate-test", "e2e-test"]);
    let dir = host.notation_dir().join("localkeys");
    let key = dir.join("e2e-test.key");
    let denied = if is_root() {
        obstruct(&key, 0, true)
    } else {
        obstruct(&dir, 0o000, false)
    };
    let run = host.fails(&["cert", "cleanup-test", "e2e-test", "-y"]);
    run.err_key_words(&[&format!("failed to delete key file {}", key.display())]);
    if denied {
        run.err_key_words(&["permission denied"]);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    }
}
