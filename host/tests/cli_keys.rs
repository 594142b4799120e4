//! `notation key ...`, `cert generate-test`, config dir resolution and
//! upstream config compatibility, run through the built binary.

use std::fs;
use std::path::{Path, PathBuf};

mod support;

use support::Env;

impl Env {
    /// [`Env::fails`], and the message starts with `Error: `.
    fn fails_with_error(&self, args: &[&str]) -> String {
        let err = self.fails(args);
        assert!(err.starts_with("Error: "), "{err}");
        err
    }

    fn install_fake_plugin(&self, name: &str) {
        let dir = self.config().join("plugins").join(name);
        fs::create_dir_all(&dir).unwrap();
        let exe = dir.join(format!("notation-{name}"));
        fs::write(&exe, "#!/bin/sh\nexit 1\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if !dir.exists() {
        return out;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.push((p.clone(), Vec::new()));
                stack.push(p);
            } else {
                out.push((p.clone(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn generate_test_registers_key_certificate_and_trust_store() {
    let env = Env::new();
    let out = env.ok(&["cert", "generate-test", "--default", "wabbit-networks.io"]);
    let cfg = env.config();
    let key = cfg.join("localkeys/wabbit-networks.io.key");
    let crt = cfg.join("localkeys/wabbit-networks.io.crt");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out}");
    assert_eq!(lines[0], "generating RSA Key with 2048 bits");
    assert!(
        lines[1].starts_with("generated certificate expiring on 20"),
        "{out}"
    );
    assert!(lines[1].ends_with('Z'), "{out}");
    assert_eq!(lines[2], format!("wrote key: {}", key.display()));
    assert_eq!(lines[3], format!("wrote certificate: {}", crt.display()));
    assert_eq!(
        lines[4],
        "Successfully added wabbit-networks.io.crt to named store wabbit-networks.io of type ca"
    );
    assert_eq!(lines[5], "wabbit-networks.io: added to signingkeys.json");
    assert_eq!(
        lines[6],
        "wabbit-networks.io: marked as default signing key"
    );

    #[cfg(unix)]
    assert_eq!(mode(&key), 0o600);

    // Certificate profile, as upstream's generate-test.
    let cert = openssl::x509::X509::from_pem(&fs::read(&crt).unwrap()).unwrap();
    let subject: Vec<(String, String)> = cert
        .subject_name()
        .entries()
        .map(|e| {
            (
                e.object().nid().short_name().unwrap().to_string(),
                e.data().to_string().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("C", "US"),
        ("ST", "WA"),
        ("L", "Seattle"),
        ("O", "Notary"),
        ("CN", "wabbit-networks.io"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(subject, expected);
    let text = String::from_utf8(cert.to_text().unwrap()).unwrap();
    assert!(text.contains("X509v3 Key Usage: critical"), "{text}");
    assert!(text.contains("Digital Signature"), "{text}");
    assert!(text.contains("Code Signing"), "{text}");
    assert!(!text.contains("Basic Constraints"), "{text}");
    let key_pem = fs::read(&key).unwrap();
    assert!(key_pem.starts_with(b"-----BEGIN PRIVATE KEY-----"));
    let pkey = openssl::pkey::PKey::private_key_from_pem(&key_pem).unwrap();
    assert_eq!(pkey.bits(), 2048);
    assert!(cert.public_key().unwrap().public_eq(&pkey));
    // One day of validity by default.
    let days = cert.not_before().diff(cert.not_after()).unwrap();
    assert_eq!((days.days, days.secs), (1, 0));

    // The trust store holds the certificate, byte for byte.
    let stored = cfg.join("truststore/x509/ca/wabbit-networks.io/wabbit-networks.io.crt");
    assert_eq!(fs::read(&stored).unwrap(), fs::read(&crt).unwrap());

    // signingkeys.json in upstream's shape.
    let keys: serde_json::Value =
        serde_json::from_slice(&fs::read(cfg.join("signingkeys.json")).unwrap()).unwrap();
    assert_eq!(
        keys,
        serde_json::json!({
            "default": "wabbit-networks.io",
            "keys": [{
                "name": "wabbit-networks.io",
                "keyPath": key.to_str().unwrap(),
                "certPath": crt.to_str().unwrap(),
            }]
        })
    );

    // key list marks the default; columns padded as upstream's tabwriter.
    let list = env.ok(&["key", "list"]);
    let k = key.display().to_string();
    let c = crt.display().to_string();
    let w1 = "* wabbit-networks.io".len() + 3;
    let w2 = k.len() + 3;
    let w3 = c.len() + 3;
    let expected = format!(
        "{:<w1$}{:<w2$}{:<w3$}{:<5}{:<14}\n{:<w1$}{:<w2$}{:<w3$}{:<5}{:<14}\n",
        "NAME",
        "KEY PATH",
        "CERTIFICATE PATH",
        "ID",
        "PLUGIN NAME",
        "* wabbit-networks.io",
        k,
        c,
        "",
        ""
    );
    assert_eq!(list, expected);

    // cert list shows it.
    assert_eq!(
        env.ok(&["cert", "list"]),
        "STORE TYPE   STORE NAME           CERTIFICATE              \n\
         ca           wabbit-networks.io   wabbit-networks.io.crt   \n"
    );
}

#[test]
fn generate_test_days_and_bits() {
    let env = Env::new();
    let out = env.ok(&[
        "cert",
        "generate-test",
        "--bits",
        "3072",
        "--days",
        "30",
        "long",
    ]);
    assert!(
        out.starts_with("generating RSA Key with 3072 bits\n"),
        "{out}"
    );
    assert!(!out.contains("default"), "{out}");
    let cert =
        openssl::x509::X509::from_pem(&fs::read(env.config().join("localkeys/long.crt")).unwrap())
            .unwrap();
    assert_eq!(cert.not_before().diff(cert.not_after()).unwrap().days, 30);
    let keys: serde_json::Value =
        serde_json::from_slice(&fs::read(env.config().join("signingkeys.json")).unwrap()).unwrap();
    assert!(keys.get("default").is_none());
    // too small a key is a usage error (exit 1, as upstream)
    assert_eq!(
        env.run(&["cert", "generate-test", "--bits", "1024", "x"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn generate_test_refuses_existing_names_and_bad_names_without_writing() {
    let env = Env::new();
    env.ok(&["cert", "generate-test", "dup"]);
    let before = snapshot(&env.config());
    let err = env.fails_with_error(&["cert", "generate-test", "--default", "dup"]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(snapshot(&env.config()), before);

    // A leftover key file (not in the list) also blocks, and is kept.
    fs::write(env.config().join("localkeys/left.key"), "keep").unwrap();
    let before = snapshot(&env.config());
    let err = env.fails_with_error(&["cert", "generate-test", "left"]);
    assert!(err.contains("cleanup-test left"), "{err}");
    assert_eq!(snapshot(&env.config()), before);

    for bad in ["a/b", "..", "has space"] {
        let err = env.fails_with_error(&["cert", "generate-test", bad]);
        assert!(
            err.contains("name needs to follow [a-zA-Z0-9_.-]+ format"),
            "{err}"
        );
    }
    assert_eq!(snapshot(&env.config()), before);
}

#[test]
fn plugin_keys_add_update_delete() {
    let env = Env::new();
    // Plugin must be installed.
    let err = env.fails_with_error(&["key", "add", "--plugin", "kms", "--id", "k1", "mykey"]);
    assert!(
        err.contains("is not installed") && err.contains("notation plugin list"),
        "{err}"
    );
    assert!(!env.config().join("signingkeys.json").exists());

    env.install_fake_plugin("kms");
    assert_eq!(
        env.ok(&[
            "key",
            "add",
            "--plugin",
            "kms",
            "--id",
            "k1",
            "--plugin-config",
            "region=us",
            "one"
        ]),
        "one\n"
    );
    assert_eq!(
        env.ok(&[
            "key",
            "add",
            "--default",
            "--plugin",
            "kms",
            "--id",
            "k2",
            "two"
        ]),
        "two: marked as default\n"
    );
    let keys: serde_json::Value =
        serde_json::from_slice(&fs::read(env.config().join("signingkeys.json")).unwrap()).unwrap();
    assert_eq!(
        keys,
        serde_json::json!({
            "default": "two",
            "keys": [
                {"name": "one", "id": "k1", "pluginName": "kms", "pluginConfig": {"region": "us"}},
                {"name": "two", "id": "k2", "pluginName": "kms"}
            ]
        })
    );
    assert_eq!(
        env.ok(&["key", "ls"]),
        "NAME    KEY PATH   CERTIFICATE PATH   ID   PLUGIN NAME   \n\
         one                                   k1   kms           \n\
         * two                                 k2   kms           \n"
    );

    // errors leave the file alone
    let before = snapshot(&env.config());
    assert!(env
        .fails_with_error(&["key", "add", "--plugin", "kms", "--id", "x", "one"])
        .contains("already exists"));
    assert!(env
        .fails_with_error(&[
            "key",
            "add",
            "--plugin",
            "kms",
            "--id",
            "x",
            "--plugin-config",
            "novalue",
            "three"
        ])
        .contains("--plugin-config"));
    assert!(env
        .fails_with_error(&["key", "update", "--default", "nope"])
        .contains("notation key list"));
    assert!(env
        .fails_with_error(&["key", "delete", "one", "nope"])
        .contains("signing key not found: \"nope\""));
    assert_eq!(snapshot(&env.config()), before);
    // missing --plugin is a usage error (exit 1, as upstream)
    assert_eq!(
        env.run(&["key", "add", "--id", "x", "k"]).status.code(),
        Some(1)
    );

    assert_eq!(
        env.ok(&["key", "set", "--default", "one"]),
        "one: marked as default\n"
    );
    let out = env.run(&["key", "update", "two"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--default flag is not set"));

    assert_eq!(
        env.ok(&["key", "delete", "two"]),
        "Removed two from Notation signing key list. The source key still exists.\n"
    );
    env.ok(&["key", "add", "--plugin", "kms", "--id", "k3", "three"]);
    assert_eq!(
        env.ok(&["key", "delete", "one", "three"]),
        "Removed the following keys from Notation signing key list. The source keys still exist.\n\
         one (default)\nthree\n"
    );
    env.ok(&[
        "key",
        "add",
        "--default",
        "--plugin",
        "kms",
        "--id",
        "k4",
        "four",
    ]);
    assert_eq!(
        env.ok(&["key", "delete", "four"]),
        "Removed default key four from Notation signing key list. The source key still exists.\n"
    );
}

#[test]
fn upstream_config_dir_works_unchanged() {
    let env = Env::new();
    let cfg = env.config();
    fs::create_dir_all(&cfg).unwrap();
    let upstream_keys = r#"{
    "default": "wabbit-networks.io",
    "keys": [
        {
            "name": "wabbit-networks.io",
            "keyPath": "/home/user/.config/notation/localkeys/wabbit-networks.io.key",
            "certPath": "/home/user/.config/notation/localkeys/wabbit-networks.io.crt"
        },
        {
            "name": "kms",
            "id": "arn:aws:kms:key/1",
            "pluginName": "com.example.kms",
            "pluginConfig": {"region": "us-west-2"},
            "someFutureField": true
        }
    ],
    "anotherFutureField": [1, 2]
}"#;
    fs::write(cfg.join("signingkeys.json"), upstream_keys).unwrap();
    let upstream_config = r#"{"insecureRegistries":["localhost:5000"],"credsStore":"desktop","credHelpers":{"r.io":"h"},"signatureFormat":"cose"}"#;
    fs::write(cfg.join("config.json"), upstream_config).unwrap();
    let legacy_policy = fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/trustpolicies/trustpolicy.json"
    ))
    .unwrap();
    fs::write(cfg.join("trustpolicy.json"), &legacy_policy).unwrap();

    let list = env.ok(&["key", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert!(
        lines[1].starts_with(
            "* wabbit-networks.io   /home/user/.config/notation/localkeys/wabbit-networks.io.key"
        ),
        "{list}"
    );
    assert!(lines[2].starts_with("kms  "), "{list}");
    assert!(
        lines[2].contains("arn:aws:kms:key/1   com.example.kms"),
        "{list}"
    );

    // The legacy trust policy is shown as is.
    assert_eq!(env.ok(&["policy", "show"]).as_bytes(), &legacy_policy[..]);

    // Updating keeps unknown fields and other keys untouched.
    env.ok(&["key", "update", "--default", "kms"]);
    let after: serde_json::Value =
        serde_json::from_slice(&fs::read(cfg.join("signingkeys.json")).unwrap()).unwrap();
    let mut expected: serde_json::Value = serde_json::from_str(upstream_keys).unwrap();
    expected["default"] = "kms".into();
    assert_eq!(after, expected);
    // config.json is not rewritten by key commands
    assert_eq!(
        fs::read_to_string(cfg.join("config.json")).unwrap(),
        upstream_config
    );
}

#[test]
fn corrupt_signing_keys_is_a_clear_error_and_is_not_touched() {
    let env = Env::new();
    let cfg = env.config();
    fs::create_dir_all(&cfg).unwrap();
    fs::write(cfg.join("signingkeys.json"), "{\"keys\": [ {\"name\": 1} ]").unwrap();
    let before = snapshot(&cfg);
    for args in [
        vec!["key", "list"],
        vec!["key", "update", "--default", "x"],
        vec!["key", "delete", "x"],
        vec!["cert", "generate-test", "x"],
    ] {
        let err = env.fails_with_error(&args);
        assert!(
            err.contains("signingkeys.json is malformed"),
            "{args:?}: {err}"
        );
        assert!(err.contains("was not changed"), "{err}");
    }
    assert_eq!(snapshot(&cfg), before);
}

#[test]
fn config_dir_resolution_follows_xdg_and_home() {
    let env = Env::new();
    let xdg = env.dir.path().join("xdg");
    let out = env
        .cmd(&["cert", "generate-test", "x"])
        .env_remove("NOTATION_CONFIG")
        .env("XDG_CONFIG_HOME", &xdg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(xdg.join("notation/localkeys/x.key").is_file());

    let out = env
        .cmd(&["cert", "generate-test", "y"])
        .env_remove("NOTATION_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[cfg(target_os = "linux")]
    assert!(env
        .dir
        .path()
        .join("home/.config/notation/localkeys/y.key")
        .is_file());
}

#[test]
fn version_usage_and_completion() {
    let env = Env::new();
    let v = env.ok(&["version"]);
    assert!(
        v.starts_with("Notation - a tool to sign and verify artifacts.\n\nVersion:     "),
        "{v}"
    );
    assert!(v.contains("\nOS/Arch:     "), "{v}");
    // clap usage errors exit with 2 and do not touch the config dir
    for args in [
        vec![
            "sign",
            "-k",
            "a",
            "--plugin",
            "p",
            "--id",
            "i",
            "r@sha256:0",
        ],
        vec!["sign", "--signature-format", "xml", "r"],
        vec!["verify", "--max-signatures", "0", "r"],
        vec!["nosuchcommand"],
    ] {
        let out = env.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stderr.starts_with(b"Error: "), "{args:?}");
    }
    assert!(!env.config().exists());
    let bash = env.ok(&["completion", "bash"]);
    assert!(bash.contains("notation") && bash.contains("generate-test"));
}
