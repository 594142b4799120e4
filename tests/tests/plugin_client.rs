//! The host-side plugin client against real plugin processes: the SDK's
//! example plugin, and the fault plugin in every fault mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notation_plugin_sdk::client::discovery;
use notation_plugin_sdk::client::{ClientError, ErrorKind, ExternalPlugin, PluginLimits};
use notation_plugin_sdk::protocol::*;
use notation_plugin_sdk::vocab::{Capability, ErrorCode, HashAlgorithm, KeySpec, SigningAlgorithm};
use notation_plugin_sdk::Plugin;

const FAULT: &str = env!("CARGO_BIN_EXE_notation-fault");
const HELLO: &str = env!("CARGO_BIN_EXE_notation-hello");

/// Copies `binary` to `dir/name/notation-name`, executable.
fn install(dir: &Path, name: &str, binary: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    let path = discovery::executable_path(dir, name);
    std::fs::copy(binary, &path).unwrap();
    set_mode(&path, 0o755);
    path
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Short time-outs so the hang tests are quick.
fn short_limits() -> PluginLimits {
    PluginLimits {
        metadata_timeout: Duration::from_secs(2),
        command_timeout: Duration::from_secs(2),
        ..PluginLimits::default()
    }
}

fn open(dir: &Path, name: &str) -> Result<ExternalPlugin, ClientError> {
    // A freshly copied executable can be briefly "busy" (ETXTBSY) while
    // another test thread's fork still holds the copy's write descriptor;
    // that is a test artefact, so retry it a few times.
    for _ in 0..20 {
        match ExternalPlugin::open_with_limits(dir, name, short_limits()) {
            Err(ClientError::CouldNotRun { source, .. })
                if source.raw_os_error() == Some(libc::ETXTBSY) =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
    ExternalPlugin::open_with_limits(dir, name, short_limits())
}

fn config(pairs: &[(&str, &str)]) -> Option<PluginConfig> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn describe(config: Option<PluginConfig>) -> DescribeKeyRequest {
    DescribeKeyRequest {
        contract_version: CONTRACT_VERSION.into(),
        key_id: "key-1".into(),
        plugin_config: config,
    }
}

/// Asserts that process `pid` no longer exists (killed and reaped: a
/// zombie would still answer `kill(pid, 0)`).
fn assert_gone(pid_file: &Path) {
    let pid: i32 = std::fs::read_to_string(pid_file)
        .expect("the hanging plugin wrote its pid")
        .trim()
        .parse()
        .unwrap();
    // SAFETY: signal 0 only checks for the process's existence.
    let rc = unsafe { libc::kill(pid, 0) };
    let errno = std::io::Error::last_os_error().raw_os_error();
    assert_eq!(
        (rc, errno),
        (-1, Some(libc::ESRCH)),
        "pid {pid} still exists"
    );
}

fn verify_request(checks: Vec<Capability>, unprocessed: Vec<String>) -> VerifySignatureRequest {
    VerifySignatureRequest {
        contract_version: CONTRACT_VERSION.into(),
        signature: SignatureInfo {
            critical_attributes: CriticalAttributes {
                content_type: "application/vnd.cncf.notary.payload.v1+json".into(),
                signing_scheme: "notary.x509".into(),
                expiry: None,
                authentic_signing_time: None,
                verification_plugin: Some("fault-good".into()),
                verification_plugin_min_version: None,
                extended_attributes: None,
            },
            unprocessed_attributes: unprocessed,
            certificate_chain: vec![b"leaf".to_vec()],
        },
        trust_policy: TrustPolicyInfo {
            trusted_identities: vec!["x509.subject: CN=test".into()],
            signature_verification: checks,
        },
        plugin_config: None,
    }
}

#[test]
fn example_plugin_signs_over_a_real_process() {
    use openssl::{ec, ecdsa, hash, nid, pkey, x509};

    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "com.example.hello", HELLO);

    // A throwaway P-256 key and self-signed certificate in one PEM file.
    let group = ec::EcGroup::from_curve_name(nid::Nid::X9_62_PRIME256V1).unwrap();
    let key = ec::EcKey::generate(&group).unwrap();
    let pkey = pkey::PKey::from_ec_key(key.clone()).unwrap();
    let mut name = x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "hello test").unwrap();
    let name = name.build();
    let mut cert = x509::X509Builder::new().unwrap();
    cert.set_version(2).unwrap();
    cert.set_subject_name(&name).unwrap();
    cert.set_issuer_name(&name).unwrap();
    cert.set_pubkey(&pkey).unwrap();
    cert.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    cert.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    cert.sign(&pkey, hash::MessageDigest::sha256()).unwrap();
    let cert = cert.build();
    let pem_path = dir.path().join("key.pem");
    let mut pem = key.private_key_to_pem().unwrap();
    pem.extend(cert.to_pem().unwrap());
    std::fs::write(&pem_path, pem).unwrap();

    let plugin = open(dir.path(), "com.example.hello").unwrap();
    assert_eq!(plugin.metadata(None).unwrap().name, "com.example.hello");
    assert_eq!(
        plugin.metadata(None).unwrap().capabilities,
        [Capability::SignatureGeneratorRaw]
    );

    let described = plugin.describe_key(describe(None)).unwrap();
    assert_eq!(described.key_spec, KeySpec::Ec256);
    assert_eq!(described.key_id, "key-1");

    let payload = b"eyJhbGciOiJFUzI1NiJ9.eyJ0YXJnZXRBcnRpZmFjdCI6e319".to_vec();
    let signed = plugin
        .generate_signature(GenerateSignatureRequest {
            contract_version: CONTRACT_VERSION.into(),
            key_id: "key-1".into(),
            plugin_config: config(&[("pem", pem_path.to_str().unwrap())]),
            key_spec: KeySpec::Ec256,
            hash_algorithm: HashAlgorithm::Sha256,
            payload: payload.clone(),
        })
        .unwrap();
    assert_eq!(signed.signing_algorithm, SigningAlgorithm::EcdsaSha256);
    assert_eq!(signed.certificate_chain, [cert.to_der().unwrap()]);
    // The raw r || s signature verifies with the certificate's key.
    assert_eq!(signed.signature.len(), 64);
    let r = openssl::bn::BigNum::from_slice(&signed.signature[..32]).unwrap();
    let s = openssl::bn::BigNum::from_slice(&signed.signature[32..]).unwrap();
    let sig = ecdsa::EcdsaSig::from_private_components(r, s).unwrap();
    let leaf = x509::X509::from_der(&signed.certificate_chain[0]).unwrap();
    let leaf_key = leaf.public_key().unwrap().ec_key().unwrap();
    assert!(sig
        .verify(&openssl::sha::sha256(&payload), &leaf_key)
        .unwrap());

    // A missing pluginConfig entry comes back as the plugin's error object.
    let err = plugin
        .generate_signature(GenerateSignatureRequest {
            contract_version: CONTRACT_VERSION.into(),
            key_id: "key-1".into(),
            plugin_config: None,
            key_spec: KeySpec::Ec256,
            hash_algorithm: HashAlgorithm::Sha256,
            payload,
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReturnedError);
    let plugin_err = err.plugin_error().unwrap();
    assert_eq!(plugin_err.code, ErrorCode::ValidationError);
    assert_eq!(plugin_err.field(), Some("pluginConfig.pem"));

    // Commands outside its capabilities are refused before any process runs.
    let err = plugin
        .generate_envelope(GenerateEnvelopeRequest {
            contract_version: CONTRACT_VERSION.into(),
            key_id: "key-1".into(),
            plugin_config: None,
            expiry_duration_in_seconds: None,
            payload: b"{}".to_vec(),
            payload_type: "application/vnd.cncf.notary.payload.v1+json".into(),
            signature_envelope_type: "application/jose+json".into(),
        })
        .unwrap_err();
    assert!(
        matches!(err, ClientError::MissingCapability { .. }),
        "{err}"
    );
    let err = plugin
        .verify_signature(verify_request(
            vec![Capability::SignatureVerifierTrustedIdentity],
            vec![],
        ))
        .unwrap_err();
    assert!(
        matches!(err, ClientError::MissingCapability { .. }),
        "{err}"
    );
}

#[test]
fn example_plugin_runner_refuses_and_explains_when_run_directly() {
    use std::io::Write;
    use std::process::{Command as Proc, Stdio};

    let run = |args: &[&str], input: &str| {
        let mut child = Proc::new(HELLO)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };

    // The runner refuses a command the capabilities do not allow.
    let out = run(
        &["generate-envelope"],
        r#"{"contractVersion":"1.0","keyId":"k","payload":"e30=","payloadType":"x","signatureEnvelopeType":"application/jose+json"}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err: PluginError = from_slice(&out.stderr).unwrap();
    assert_eq!(err.code, ErrorCode::Error);

    let out = run(
        &["describe-key"],
        r#"{"contractVersion":"1.7","keyId":"k"}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    let err: PluginError = from_slice(&out.stderr).unwrap();
    assert_eq!(err.code, ErrorCode::UnsupportedContractVersion);

    let out = run(&["--help"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("get-plugin-metadata"));
}

#[test]
fn good_plugin_serves_every_command() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-good", FAULT);
    let plugin = open(dir.path(), "fault-good").unwrap();
    assert_eq!(
        plugin.metadata(None).unwrap().supported_contract_versions,
        ["1.0"]
    );

    let again = plugin.get_metadata(config(&[("a", "b")])).unwrap();
    assert_eq!(again, plugin.metadata(None).unwrap());

    assert_eq!(
        plugin.describe_key(describe(None)).unwrap().key_spec,
        KeySpec::Ec384
    );

    let sig = plugin
        .generate_signature(GenerateSignatureRequest {
            contract_version: CONTRACT_VERSION.into(),
            key_id: "key-1".into(),
            plugin_config: None,
            key_spec: KeySpec::Ec384,
            hash_algorithm: HashAlgorithm::Sha384,
            payload: vec![1, 2, 3, 0xff],
        })
        .unwrap();
    assert_eq!(sig.signature, [0xff, 3, 2, 1]);
    assert_eq!(sig.certificate_chain, [b"leaf".to_vec(), b"root".to_vec()]);

    let env = plugin
        .generate_envelope(GenerateEnvelopeRequest {
            contract_version: CONTRACT_VERSION.into(),
            key_id: "key-1".into(),
            plugin_config: None,
            expiry_duration_in_seconds: Some(3600),
            payload: b"{\"targetArtifact\":{}}".to_vec(),
            payload_type: "application/vnd.cncf.notary.payload.v1+json".into(),
            signature_envelope_type: "application/cose".into(),
        })
        .unwrap();
    assert_eq!(env.signature_envelope, b"envelope:{\"targetArtifact\":{}}");
    assert_eq!(env.signature_envelope_type, "application/cose");
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "io.example.fault".to_owned(),
        "application/vnd.cncf.notary.payload.v1+json".to_owned(),
    );
    assert_eq!(env.annotations, Some(annotations));

    let checks = vec![
        Capability::SignatureVerifierTrustedIdentity,
        Capability::SignatureVerifierRevocationCheck,
    ];
    let verified = plugin
        .verify_signature(verify_request(checks, vec!["io.example.critical".into()]))
        .unwrap();
    let trusted = &verified.verification_results[&Capability::SignatureVerifierTrustedIdentity];
    assert!(trusted.success);
    let revocation = &verified.verification_results[&Capability::SignatureVerifierRevocationCheck];
    assert!(!revocation.success);
    assert!(revocation.reason.as_deref().unwrap().contains("revoked"));
    assert_eq!(verified.processed_attributes, ["io.example.critical"]);

    // The same plugin through the trait, as host signing code sees it.
    let as_trait: &dyn Plugin = &plugin;
    let described = as_trait.describe_key(describe(None)).unwrap();
    assert_eq!(described.key_id, "key-1");
    let err = as_trait
        .describe_key(describe(config(&[("fault", "deny")])))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AccessDenied);
}

#[test]
fn returned_error_object_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-good", FAULT);
    let plugin = open(dir.path(), "fault-good").unwrap();
    let err = plugin
        .describe_key(describe(config(&[("fault", "deny")])))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReturnedError);
    let ClientError::Plugin(plugin_err) = &err else {
        panic!("expected a plugin error, got {err}");
    };
    assert_eq!(plugin_err.code, ErrorCode::AccessDenied);
    assert_eq!(
        plugin_err.metadata.as_ref().unwrap().get("keyId").unwrap(),
        "key-1"
    );
}

#[test]
fn debug_output_does_not_corrupt_the_response() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-chatty", FAULT);
    let plugin = open(dir.path(), "fault-chatty").unwrap();
    assert_eq!(plugin.metadata(None).unwrap().name, "fault-chatty");
    let described = plugin.describe_key(describe(None)).unwrap();
    assert_eq!(described.key_spec, KeySpec::Ec384);
}

#[test]
fn hanging_plugin_times_out_and_is_reaped() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-hang", FAULT);
    let err = open(dir.path(), "fault-hang").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    let ClientError::TimedOut {
        command, timeout, ..
    } = &err
    else {
        panic!("expected a time-out, got {err}");
    };
    assert_eq!(*command, Command::GetPluginMetadata);
    assert_eq!(*timeout, Duration::from_secs(2));
    assert!(err.to_string().contains("did not finish"));
    assert_gone(&dir.path().join("fault-hang/pid"));
}

/// Waits up to two seconds for `pid` to be gone or a zombie (an orphan is
/// reaped by whatever adopts it, which need not be quick).
fn assert_dead(pid: i32) {
    for _ in 0..40 {
        // SAFETY: signal 0 only checks for the process's existence.
        let rc = unsafe { libc::kill(pid, 0) };
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit_once(')')
                    .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
            })
            .unwrap_or(false);
        if rc == -1 || zombie {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("pid {pid} is still running");
}

#[test]
fn a_time_out_kills_the_plugins_children_too() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-orphan", FAULT);
    let err = open(dir.path(), "fault-orphan").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_gone(&dir.path().join("fault-orphan/pid"));
    let grandchild: i32 = std::fs::read_to_string(dir.path().join("fault-orphan/grandchild-pid"))
        .expect("the plugin started its grandchild")
        .trim()
        .parse()
        .unwrap();
    assert_dead(grandchild);
}

#[test]
fn command_hang_uses_the_command_timeout() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-good", FAULT);
    let limits = PluginLimits {
        metadata_timeout: Duration::from_secs(30),
        command_timeout: Duration::from_secs(1),
        ..PluginLimits::default()
    };
    let plugin = open(dir.path(), "fault-good").unwrap();
    let plugin = ExternalPlugin::open_with_limits(dir.path(), "fault-good", limits)
        .unwrap_or_else(|e| panic!("{e} (first open: {})", plugin.name()));
    let err = plugin
        .describe_key(describe(config(&[("fault", "hang")])))
        .unwrap_err();
    assert!(
        matches!(err, ClientError::TimedOut { command: Command::DescribeKey, timeout, .. } if timeout == Duration::from_secs(1)),
        "{err}"
    );
    assert_gone(&dir.path().join("fault-good/pid"));
    // Through the trait the time-out keeps its meaning.
    assert_eq!(err.into_plugin_error().code, ErrorCode::Timeout);
}

#[test]
fn flooding_stdout_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-flood", FAULT);
    let err = open(dir.path(), "fault-flood").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BrokeContract);
    assert!(
        matches!(
            err,
            ClientError::OutputTooLarge {
                stream: notation_plugin_sdk::client::OutputStream::Stdout,
                limit: 67_108_864,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn exit_1_with_garbage_breaks_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-garbage", FAULT);
    let err = open(dir.path(), "fault-garbage").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BrokeContract);
    let ClientError::InvalidErrorObject { stderr, .. } = &err else {
        panic!("expected an invalid error object, got {err}");
    };
    assert!(stderr.starts_with("panic: {\"errorCode\": not json"));
    assert!(err.to_string().contains("not json"));
}

#[test]
fn exit_2_breaks_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-exit2", FAULT);
    let err = open(dir.path(), "fault-exit2").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BrokeContract);
    assert!(
        matches!(&err, ClientError::UnexpectedExit { code: Some(2), stderr, .. } if stderr.is_empty()),
        "{err}"
    );
}

#[test]
fn wrong_metadata_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-wrongname", FAULT);
    let err = open(dir.path(), "fault-wrongname").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BrokeContract);
    assert!(
        matches!(&err, ClientError::NameMismatch { name, reported } if name == "fault-wrongname" && reported == "com.example.someone-else"),
        "{err}"
    );
}

#[test]
fn symlinked_executable_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let real = install(dir.path(), "real", FAULT);
    std::fs::create_dir(dir.path().join("linked")).unwrap();
    let link = discovery::executable_path(dir.path(), "linked");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let err = open(dir.path(), "linked").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CouldNotRun);
    assert!(
        matches!(&err, ClientError::Symlink { path, .. } if *path == link),
        "{err}"
    );
}

#[test]
fn executable_without_execute_bit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = install(dir.path(), "fault-good", FAULT);
    set_mode(&path, 0o644);
    let err = open(dir.path(), "fault-good").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CouldNotRun);
    assert!(matches!(err, ClientError::NotExecutable { .. }), "{err}");
}

#[test]
fn missing_and_malformed_names() {
    let dir = tempfile::tempdir().unwrap();
    let err = open(dir.path(), "absent").unwrap_err();
    assert!(matches!(err, ClientError::NotFound { .. }), "{err}");
    for bad in ["", ".", "..", "../etc", "a/b"] {
        let err = open(dir.path(), bad).unwrap_err();
        assert!(
            matches!(err, ClientError::InvalidName { .. }),
            "{bad:?}: {err}"
        );
    }
    // A directory where the executable should be is not a regular file.
    std::fs::create_dir_all(discovery::executable_path(dir.path(), "dir")).unwrap();
    let err = open(dir.path(), "dir").unwrap_err();
    assert!(matches!(err, ClientError::NotRegularFile { .. }), "{err}");
}

#[test]
fn listing_reports_broken_plugins_without_stopping() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-good", FAULT);
    install(dir.path(), "fault-exit2", FAULT);
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    std::fs::write(dir.path().join("stray-file"), b"ignored").unwrap();
    let listed = discovery::list_with_limits(dir.path(), &short_limits()).unwrap();
    let names: Vec<&str> = listed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["empty", "fault-exit2", "fault-good"]);
    assert!(matches!(
        listed[0].plugin,
        Err(ClientError::NotFound { .. })
    ));
    assert!(matches!(
        listed[1].plugin,
        Err(ClientError::UnexpectedExit { .. })
    ));
    assert_eq!(listed[2].plugin.as_ref().unwrap().name(), "fault-good");

    let none = discovery::list_with_limits(&dir.path().join("missing"), &short_limits()).unwrap();
    assert!(none.is_empty());
}

#[test]
fn registry_credentials_are_not_passed_to_plugins() {
    // Only this test sets these variables; other tests never read them.
    std::env::set_var("NOTATION_PASSWORD", "hunter2");
    std::env::set_var("NOTATION_USERNAME", "alice");
    std::env::set_var("NOTATION_E2E_REGISTRY_TOKEN", "t0ken");
    std::env::set_var("NOTATION_E2E_VISIBLE", "yes");
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "fault-good", FAULT);
    let plugin = open(dir.path(), "fault-good").unwrap();
    let err = plugin
        .describe_key(describe(config(&[("fault", "env")])))
        .unwrap_err();
    let seen = err.plugin_error().unwrap().metadata.clone().unwrap();
    assert!(seen.contains_key("NOTATION_E2E_VISIBLE"), "{seen:?}");
    for secret in [
        "NOTATION_PASSWORD",
        "NOTATION_USERNAME",
        "NOTATION_E2E_REGISTRY_TOKEN",
    ] {
        assert!(!seen.contains_key(secret), "{secret} leaked: {seen:?}");
    }
}

const E2E: &str = env!("CARGO_BIN_EXE_notation-e2e-plugin");

/// Capabilities that depend on `pluginConfig` (the e2e plugin declares
/// `SIGNATURE_GENERATOR.RAW` only with `SIGNATURE_GENERATOR.RAW=true`):
/// each command is checked against the metadata for the config it carries.
#[test]
fn commands_are_checked_against_the_metadata_for_their_own_config() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "e2e-plugin", E2E);
    let plugin = open(dir.path(), "e2e-plugin").unwrap();
    let raw = config(&[("SIGNATURE_GENERATOR.RAW", "true")]);

    let bare = plugin.metadata(None).unwrap();
    assert!(!bare
        .capabilities
        .contains(&Capability::SignatureGeneratorRaw));
    let with = plugin.metadata(raw.as_ref()).unwrap();
    assert!(with
        .capabilities
        .contains(&Capability::SignatureGeneratorRaw));
    // An empty config is no config.
    assert_eq!(plugin.metadata(Some(&BTreeMap::new())).unwrap(), bare);

    // Without the config the host refuses before running the plugin...
    let err = plugin.describe_key(describe(None)).unwrap_err();
    assert!(
        matches!(err, ClientError::MissingCapability { .. }),
        "{err}"
    );
    // ...with it, the request reaches the plugin, which answers with its own
    // error (it has no key store here).
    let err = plugin.describe_key(describe(raw)).unwrap_err();
    let returned = err.plugin_error().expect("the plugin's own error");
    assert_eq!(returned.code.as_str(), "INVALID_CERTIFICATE", "{err}");
}
