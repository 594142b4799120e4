//! The registry client and the OCI layout store against real servers and
//! the upstream vector layouts: a real `docker-registry` (distribution 2.8,
//! no Referrers API, so the tag schema is exercised), htpasswd Basic auth,
//! docker `config.json` and a credential-helper script, a misbehaving HTTP
//! server serving content that does not match its digest, and a registry
//! that is down.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use notation_e2e::{copy_dir, push_layout, vectors_dir, Registry};
use notation_host::registry::credentials::Anonymous;
use notation_host::registry::oci::{
    self, ANNOTATION_THUMBPRINTS, ARTIFACT_TYPE_NOTARY_SIGNATURE, MEDIA_TYPE_COSE, MEDIA_TYPE_JWS,
    MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST,
};
use notation_host::registry::referrers::referrers_tag;
use notation_host::registry::{
    ArtifactStore, ClientOptions, CredentialResolver, Credentials, Descriptor, OciLayout,
    RegistryClient, RegistryError, Target,
};

const IMAGE_DIGEST: &str =
    "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

fn layout(name: &str) -> std::path::PathBuf {
    vectors_dir().join("oci-layouts").join(name)
}

fn thumbprints() -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert(
        ANNOTATION_THUMBPRINTS.to_string(),
        "[\"e38aea13\"]".to_string(),
    );
    a
}

fn insecure() -> ClientOptions {
    ClientOptions {
        insecure: true,
        timeout: Duration::from_secs(20),
        ..ClientOptions::default()
    }
}

fn client_with(reg: &Registry, repo: &str, creds: Option<Credentials>) -> RegistryClient {
    let resolver = CredentialResolver {
        explicit: creds,
        notation_config: None,
        docker_config: None,
        helper_timeout: Duration::from_secs(10),
    };
    RegistryClient::new(&reg.host, repo, insecure(), Box::new(resolver)).expect("client")
}

#[test]
fn resolve_fetch_and_list_upstream_signature() {
    let reg = Registry::start();
    let image = push_layout(&reg, &layout("e2e-valid-signature"), "valid");
    assert_eq!(image.digest, IMAGE_DIGEST);
    let client = reg.client("valid");

    let desc = client
        .resolve(&Target::Tag("v1".into()))
        .expect("resolve tag");
    assert_eq!(desc.digest, IMAGE_DIGEST);
    assert_eq!(desc.size, 517);
    assert_eq!(desc.media_type, MEDIA_TYPE_OCI_MANIFEST);
    let by_digest = client
        .resolve(&Target::Digest(IMAGE_DIGEST.into()))
        .expect("resolve digest");
    assert_eq!(by_digest, desc);

    let bytes = client.fetch_manifest(&desc).expect("fetch manifest");
    assert_eq!(oci::sha256_digest(&bytes), IMAGE_DIGEST);
    // A descriptor with the wrong size is refused even though the digest matches.
    let mut wrong = desc.clone();
    wrong.size = 516;
    assert!(matches!(
        client.fetch_manifest(&wrong),
        Err(RegistryError::SizeMismatch { .. })
    ));

    let sigs = client.list_signatures(&desc, usize::MAX).expect("list");
    assert_eq!(sigs.len(), 1, "{sigs:?}");
    assert_eq!(
        sigs[0].digest,
        "sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f"
    );
    assert!(sigs[0]
        .annotations
        .as_ref()
        .unwrap()
        .contains_key(ANNOTATION_THUMBPRINTS));

    // Legacy form (config.mediaType) as written by older notation.
    let sig = client.fetch_signature(&sigs[0]).expect("fetch signature");
    assert_eq!(
        sig.manifest.config.media_type,
        ARTIFACT_TYPE_NOTARY_SIGNATURE
    );
    assert_eq!(sig.envelope_descriptor.media_type, MEDIA_TYPE_JWS);
    assert_eq!(
        oci::sha256_digest(&sig.envelope),
        sig.envelope_descriptor.digest
    );
    assert_eq!(sig.envelope.len(), 2070);

    // Unknown tag: a clear not-found error.
    let err = client.resolve(&Target::Tag("nope".into())).unwrap_err();
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("tag nope"), "{err}");
}

#[test]
fn push_signatures_through_the_tag_schema() {
    let reg = Registry::start();
    let image = push_layout(&reg, &layout("e2e"), "net-monitor");
    let client = reg.client("net-monitor");
    assert!(client
        .list_signatures(&image, usize::MAX)
        .expect("list")
        .is_empty());

    let first = client
        .push_signature(
            &image,
            b"{\"not\":\"a real jws\"}",
            MEDIA_TYPE_JWS,
            thumbprints(),
        )
        .expect("push first signature");
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);
    let listed = client.list_signatures(&image, usize::MAX).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].digest, first.manifest.digest);
    assert_eq!(
        listed[0].artifact_type.as_deref(),
        Some(ARTIFACT_TYPE_NOTARY_SIGNATURE)
    );

    // The manifest we wrote is the artifactType form with the empty config.
    let sig = client.fetch_signature(&listed[0]).expect("fetch");
    assert_eq!(
        sig.manifest.artifact_type.as_deref(),
        Some(ARTIFACT_TYPE_NOTARY_SIGNATURE)
    );
    assert_eq!(sig.manifest.config.media_type, oci::MEDIA_TYPE_EMPTY);
    assert_eq!(sig.manifest.subject.as_ref().unwrap().digest, IMAGE_DIGEST);
    assert_eq!(sig.envelope, b"{\"not\":\"a real jws\"}");
    let ann = sig.manifest.annotations.as_ref().unwrap();
    assert!(ann.contains_key(oci::ANNOTATION_CREATED) && ann.contains_key(ANNOTATION_THUMBPRINTS));

    let tag = referrers_tag(IMAGE_DIGEST).unwrap();
    let old_index = client
        .resolve(&Target::Tag(tag.clone()))
        .expect("tag-schema index exists");
    assert_eq!(old_index.media_type, MEDIA_TYPE_OCI_INDEX);

    let second = client
        .push_signature(&image, b"cose bytes", MEDIA_TYPE_COSE, thumbprints())
        .expect("push second signature");
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);
    let listed = client.list_signatures(&image, usize::MAX).expect("list");
    let digests: Vec<_> = listed.iter().map(|d| d.digest.as_str()).collect();
    assert_eq!(
        digests,
        [
            first.manifest.digest.as_str(),
            second.manifest.digest.as_str()
        ]
    );

    // The superseded index was deleted; the tag points at the new one.
    let new_index = client.resolve(&Target::Tag(tag)).expect("index");
    assert_ne!(new_index.digest, old_index.digest);
    let err = client.fetch_manifest(&old_index).unwrap_err();
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err}");

    // The second envelope reads back intact.
    let env = client.fetch_signature(&listed[1]).unwrap();
    assert_eq!(env.envelope, b"cose bytes");
}

/// `--force-referrers-tag` writes the image-spec 1.0 form upstream writes
/// then (config media type `application/vnd.cncf.notary.signature`, the
/// `{}` config, no `artifactType`), listed through the tag schema; a real
/// upstream envelope pushed that way lists, reads back and verifies.
#[test]
fn forced_tag_schema_push_writes_the_legacy_manifest_form() {
    use notation_host::trustpolicy::TrustPolicy;
    use notation_host::truststore::TrustStore;
    use notation_host::verifier::{Verifier, VerifyInput};

    let reg = Registry::start();
    let image = push_layout(&reg, &layout("e2e"), "forced");
    let options = ClientOptions {
        force_referrers_tag: true,
        ..insecure()
    };
    let client = RegistryClient::new(&reg.host, "forced", options, Box::new(Anonymous)).unwrap();

    // A real JWS signed by upstream notation 1.3.2 for this image.
    let upstream = layout("upstream-1.3.2-jws");
    let envelope = std::fs::read(
        upstream
            .join("blobs/sha256/3c5aa1aa90e66342489a23ea78c2d654947e4b36dfbafabdbd862398eb803081"),
    )
    .unwrap();
    let mut annotations = BTreeMap::new();
    annotations.insert(
        ANNOTATION_THUMBPRINTS.to_string(),
        "[\"e38aea13f2b051f7183cca64a51ee676f4d4456f41d9fecf15eb367efc7343b9\"]".to_string(),
    );
    let pushed = client
        .push_signature(&image, &envelope, MEDIA_TYPE_JWS, annotations)
        .expect("forced push");
    assert!(pushed.warnings.is_empty(), "{:?}", pushed.warnings);

    // The manifest as stored, byte for byte.
    let raw: serde_json::Value =
        serde_json::from_slice(&client.fetch_manifest(&pushed.manifest).unwrap()).unwrap();
    assert!(raw.get("artifactType").is_none(), "{raw}");
    assert_eq!(raw["mediaType"], MEDIA_TYPE_OCI_MANIFEST);
    assert_eq!(
        raw["config"],
        serde_json::json!({
            "mediaType": ARTIFACT_TYPE_NOTARY_SIGNATURE,
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "size": 2
        })
    );
    assert_eq!(raw["subject"]["digest"], IMAGE_DIGEST);
    assert_eq!(raw["layers"][0]["mediaType"], MEDIA_TYPE_JWS);
    let config = client
        .fetch_blob(
            &Descriptor::new(ARTIFACT_TYPE_NOTARY_SIGNATURE, oci::EMPTY_JSON_DIGEST, 2),
            2,
        )
        .expect("config blob pushed");
    assert_eq!(config, b"{}");

    // Listed through the tag-schema index, which reports the effective
    // artifact type.
    let tag = referrers_tag(IMAGE_DIGEST).unwrap();
    let index_desc = client.resolve(&Target::Tag(tag)).expect("tag index");
    let index: serde_json::Value =
        serde_json::from_slice(&client.fetch_manifest(&index_desc).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["digest"],
        pushed.manifest.digest.as_str()
    );
    assert_eq!(
        index["manifests"][0]["artifactType"],
        ARTIFACT_TYPE_NOTARY_SIGNATURE
    );
    let listed = reg
        .client("forced")
        .list_signatures(&image, usize::MAX)
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].digest, pushed.manifest.digest);

    // Reads back and verifies.
    let sig = client.fetch_signature(&listed[0]).unwrap();
    assert_eq!(sig.envelope, envelope);
    let tmp = tempfile::tempdir().unwrap();
    let store_dir = tmp.path().join("truststore/x509/ca/e2e");
    std::fs::create_dir_all(&store_dir).unwrap();
    std::fs::copy(
        vectors_dir().join("localkeys/e2e.crt"),
        store_dir.join("e2e.crt"),
    )
    .unwrap();
    let policy = TrustPolicy::from_json(
        serde_json::json!({"version": "1.0", "trustPolicies": [{
            "name": "e2e", "registryScopes": ["*"],
            "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:e2e"], "trustedIdentities": ["*"]}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let verifier = Verifier::new(policy, TrustStore::from_config_dir(tmp.path()), None);
    let input = VerifyInput {
        repository: format!("{}/forced", reg.host),
        target_digest: image.digest.clone(),
        target_size: Some(image.size),
        target_media_type: Some(image.media_type.clone()),
        envelope: sig.envelope,
        envelope_media_type: sig.envelope_descriptor.media_type,
        user_metadata: BTreeMap::new(),
        plugin_config: BTreeMap::new(),
    };
    let outcome = verifier
        .verify_artifact(&input.repository.clone(), "forced", &[input])
        .expect("verification runs");
    assert!(outcome.passed(), "{:?}", outcome.most_relevant_failure());
}

#[test]
fn basic_auth_explicit_credentials_and_wrong_password() {
    let reg = Registry::start_with_htpasswd("alice", "s3cret-pw");
    let image = push_layout(&reg, &layout("e2e-valid-signature"), "secure");

    let ok = client_with(
        &reg,
        "secure",
        Some(Credentials::basic("alice", "s3cret-pw")),
    );
    assert_eq!(
        ok.resolve(&Target::Tag("v1".into())).unwrap().digest,
        image.digest
    );
    assert_eq!(ok.list_signatures(&image, usize::MAX).unwrap().len(), 1);
    let pushed = ok
        .push_signature(&image, b"x", MEDIA_TYPE_JWS, thumbprints())
        .expect("push with auth");
    assert!(ok
        .list_signatures(&image, usize::MAX)
        .unwrap()
        .iter()
        .any(|d| d.digest == pushed.manifest.digest));

    let bad = client_with(&reg, "secure", Some(Credentials::basic("alice", "wrong")));
    let err = bad.resolve(&Target::Tag("v1".into())).unwrap_err();
    assert!(
        matches!(err, RegistryError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("with the provided credentials") && msg.contains(&reg.host),
        "{msg}"
    );
    assert!(!msg.contains("wrong"), "the password leaked into: {msg}");

    let none = client_with(&reg, "secure", None);
    let err = none.resolve(&Target::Tag("v1".into())).unwrap_err();
    assert!(err.to_string().contains("no credentials found"), "{err}");
    assert!(err.to_string().contains("notation login"), "{err}");
}

#[test]
fn basic_auth_from_docker_config_file() {
    let reg = Registry::start_with_htpasswd("bob", "pa:ss");
    let image = push_layout(&reg, &layout("e2e"), "cfg");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.json");
    let auth = base64_encode(b"bob:pa:ss");
    std::fs::write(
        &cfg,
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host),
    )
    .unwrap();
    let resolver = CredentialResolver {
        explicit: None,
        notation_config: None,
        docker_config: Some(cfg.clone()),
        helper_timeout: Duration::from_secs(10),
    };
    let client = RegistryClient::new(&reg.host, "cfg", insecure(), Box::new(resolver)).unwrap();
    assert_eq!(client.resolve(&Target::Tag("v1".into())).unwrap(), image);

    // login never writes credentials back in plain text: with only `auths`
    // in the config in effect, store refuses and leaves the file as it was.
    let before = std::fs::read(&cfg).unwrap();
    let err = notation_host::registry::credentials::store(
        None,
        Some(&cfg),
        &reg.host,
        &Credentials::basic("bob", "pa:ss"),
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            notation_host::registry::credentials::StoreError::NoCredentialHelper { .. }
        ),
        "{err}"
    );
    assert_eq!(std::fs::read(&cfg).unwrap(), before);
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Runs in a child process (see `credentials_from_environment`) so that
/// PATH and DOCKER_CONFIG can be set without racing other tests.
#[test]
#[ignore = "run by credentials_from_environment in a child process"]
fn child_env_credentials() {
    let host = std::env::var("E2E_REGISTRY_HOST").expect("E2E_REGISTRY_HOST");
    let resolver = CredentialResolver::new(None, None);
    assert!(resolver
        .docker_config
        .as_ref()
        .unwrap()
        .starts_with(std::env::var("DOCKER_CONFIG").unwrap()));
    let client = RegistryClient::new(&host, "env", insecure(), Box::new(resolver)).unwrap();
    client
        .resolve(&Target::Tag("v1".into()))
        .expect("resolve with credentials from the environment");
}

#[test]
fn credentials_from_environment() {
    let reg = Registry::start_with_htpasswd("carol", "helper-pw");
    push_layout(&reg, &layout("e2e"), "env");
    let tmp = tempfile::tempdir().unwrap();

    // 1. A credential helper script on PATH, named by credsStore.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = tmp.path().join("calls.log");
    let script = bin.join("docker-credential-e2etest");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nread server\necho \"$1 $server\" >> '{}'\nif [ \"$1\" = get ] && [ \"$server\" = '{}' ]; then\n  printf '{{\"ServerURL\":\"%s\",\"Username\":\"carol\",\"Secret\":\"helper-pw\"}}' \"$server\"\n  exit 0\nfi\necho 'credentials not found in native keychain'\nexit 1\n",
            calls.display(),
            reg.host
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let helper_cfg = tmp.path().join("helper");
    std::fs::create_dir_all(&helper_cfg).unwrap();
    std::fs::write(
        helper_cfg.join("config.json"),
        r#"{"credsStore":"e2etest"}"#,
    )
    .unwrap();
    run_child(&reg, &bin, &helper_cfg);
    let log = std::fs::read_to_string(&calls).expect("the helper was called");
    assert!(log.contains(&format!("get {}", reg.host)), "{log}");

    // 2. docker config.json auths in $DOCKER_CONFIG.
    let auths_cfg = tmp.path().join("auths");
    std::fs::create_dir_all(&auths_cfg).unwrap();
    std::fs::write(
        auths_cfg.join("config.json"),
        format!(
            r#"{{"auths":{{"http://{}":{{"auth":"{}"}}}}}}"#,
            reg.host,
            base64_encode(b"carol:helper-pw")
        ),
    )
    .unwrap();
    run_child(&reg, &bin, &auths_cfg);
}

fn run_child(reg: &Registry, bin: &Path, docker_config: &Path) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_env_credentials",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env("DOCKER_CONFIG", docker_config)
        .env("E2E_REGISTRY_HOST", &reg.host)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs in a child process (see `hostile_credential_helpers`) so that PATH
/// can hold the helper scripts without racing other tests.
#[test]
#[ignore = "run by hostile_credential_helpers in a child process"]
fn child_hostile_credential_helpers() {
    use notation_host::registry::credentials::{self, StoreError};
    use notation_host::registry::CredentialError;
    let dir = std::path::PathBuf::from(std::env::var_os("E2E_HELPER_DIR").expect("E2E_HELPER_DIR"));
    let timeout = Duration::from_secs(2);

    // 1. A helper that exits but leaves a background `sleep` holding its
    //    stdout: the call times out (it used to hang) and the sleep dies.
    let started = std::time::Instant::now();
    let e = credentials::erase(
        None,
        Some(&dir.join("hang.json")),
        "localhost:5000",
        timeout,
    )
    .expect_err("the hanging helper must time out");
    let took = started.elapsed();
    assert!(
        matches!(e, CredentialError::HelperTimeout { seconds: 2, .. }),
        "{e}"
    );
    // The deadline is 2 s; the rest is slack for a loaded machine, far
    // below the helper's 3000 s sleep.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let pid: libc::pid_t = std::fs::read_to_string(dir.join("hang.pid"))
        .expect("the helper ran")
        .trim()
        .parse()
        .unwrap();
    assert!(
        process_is_gone(pid),
        "the helper's background sleep {pid} survived"
    );

    // 2. A helper that echoes its input (with the secret) to stdout and
    //    fails on `store`: the error shows its stderr, never the secret.
    let secret = "s3cret-Pa55-do-not-print";
    let e = credentials::store(
        None,
        Some(&dir.join("echo.json")),
        "localhost:5000",
        &Credentials::basic("alice", secret),
        timeout,
    )
    .expect_err("the echoing helper fails");
    assert!(
        matches!(
            e,
            StoreError::Credential(CredentialError::HelperFailed { .. })
        ),
        "{e}"
    );
    let shown = format!("{e} / {e:?}");
    assert!(!shown.contains(secret), "secret leaked: {shown}");
    assert!(shown.contains("keychain is locked"), "{shown}");
}

/// Whether `pid` has exited (a zombie waiting for init counts). SIGKILL is
/// delivered asynchronously, so this polls briefly.
fn process_is_gone(pid: libc::pid_t) -> bool {
    for _ in 0..200 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat) => {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                if state.starts_with('Z') || state.starts_with('X') {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

#[cfg(target_os = "linux")]
#[test]
fn hostile_credential_helpers() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let install = |name: &str, body: String| {
        let p = bin.join(format!("docker-credential-{name}"));
        std::fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    install(
        "hang",
        format!(
            "cat >/dev/null\nsleep 3000 &\necho $! > '{}'\necho bye\n",
            dir.join("hang.pid").display()
        ),
    );
    install(
        "echo",
        "cat\necho 'the keychain is locked' >&2\nexit 1\n".to_string(),
    );
    std::fs::write(dir.join("hang.json"), r#"{"credsStore":"hang"}"#).unwrap();
    std::fs::write(dir.join("echo.json"), r#"{"credsStore":"echo"}"#).unwrap();

    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.clone()];
    paths.extend(std::env::split_paths(&path));
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_hostile_credential_helpers",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env("E2E_HELPER_DIR", dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A tiny HTTP server that answers every request with what `respond`
/// returns for its path: (status, headers, body).
fn misbehaving_server(
    respond: impl Fn(&str, &str) -> (u16, Vec<(String, String)>, Vec<u8>) + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let mut parts = request_line.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let path = parts.next().unwrap_or("").to_string();
            let (status, headers, body) = respond(&method, &path);
            let mut resp = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                resp.push_str(&format!("{k}: {v}\r\n"));
            }
            resp.push_str("\r\n");
            let _ = stream.write_all(resp.as_bytes());
            if method != "HEAD" {
                let _ = stream.write_all(&body);
            }
        }
    });
    host
}

#[test]
fn content_not_matching_its_digest_is_refused() {
    let real = std::fs::read(layout("e2e").join("blobs/sha256").join(&IMAGE_DIGEST[7..])).unwrap();
    let mut tampered = real.clone();
    tampered[10] ^= 1;
    let tampered_for_server = tampered.clone();
    let host = misbehaving_server(move |_, path| {
        let ct = (
            "Content-Type".to_string(),
            MEDIA_TYPE_OCI_MANIFEST.to_string(),
        );
        if path.ends_with("/manifests/v1") {
            // Claims the real digest but serves other bytes.
            (
                200,
                vec![ct, ("Docker-Content-Digest".into(), IMAGE_DIGEST.into())],
                tampered_for_server.clone(),
            )
        } else {
            (200, vec![ct], tampered_for_server.clone())
        }
    });
    let client = RegistryClient::new(&host, "evil", insecure(), Box::new(Anonymous)).unwrap();

    let err = client
        .resolve(&Target::Digest(IMAGE_DIGEST.into()))
        .unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("does not match its digest"),
        "{err}"
    );
    assert!(err.to_string().contains(IMAGE_DIGEST), "{err}");

    let err = client.resolve(&Target::Tag("v1".into())).unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");

    let desc = Descriptor::new(MEDIA_TYPE_JWS, IMAGE_DIGEST, real.len() as u64);
    let err = client.fetch_blob(&desc, 1 << 20).unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");

    // Larger than its descriptor says: refused as a size mismatch.
    let small = Descriptor::new(MEDIA_TYPE_JWS, IMAGE_DIGEST, 10);
    let err = client.fetch_blob(&small, 1 << 20).unwrap_err();
    assert!(matches!(err, RegistryError::SizeMismatch { .. }), "{err}");
}

#[test]
fn registry_down_and_tls_to_plain_http_are_clear_errors() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let client = RegistryClient::new(&host, "x", insecure(), Box::new(Anonymous)).unwrap();
    let err = client.resolve(&Target::Tag("v1".into())).unwrap_err();
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("not reachable"), "{err}");

    // HTTPS (the default for 127.0.0.1) against a plain-HTTP registry.
    let reg = Registry::start();
    let options = ClientOptions {
        timeout: Duration::from_secs(20),
        ..ClientOptions::default()
    };
    let client = RegistryClient::new(&reg.host, "x", options, Box::new(Anonymous)).unwrap();
    let err = client.resolve(&Target::Tag("v1".into())).unwrap_err();
    assert!(err.to_string().contains("--insecure-registry"), "{err}");
}

#[test]
fn oci_layout_reads_upstream_signatures_and_writes_new_ones() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, sig_digest, env_media_type) in [
        (
            "upstream-1.3.2-jws",
            "sha256:de0d5757c0dfa98423467776773ceac821a9a99d0377cbec05d355a1dba983fc",
            MEDIA_TYPE_JWS,
        ),
        (
            "upstream-1.3.2-cose",
            "sha256:8dcbcc91c3a0a10c4cd58b173bdaa71116a3d782e17be6a0be48c6b29c7be76a",
            MEDIA_TYPE_COSE,
        ),
        (
            "e2e-valid-signature",
            "sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f",
            MEDIA_TYPE_JWS,
        ),
    ] {
        let dir = tmp.path().join(name);
        copy_dir(&layout(name), &dir);
        let store = OciLayout::open(&dir).unwrap();
        let image = store.resolve(&Target::Tag("v1".into())).unwrap();
        assert_eq!(image.digest, IMAGE_DIGEST);
        assert_eq!(
            store.resolve(&Target::Digest(IMAGE_DIGEST.into())).unwrap(),
            image
        );
        let sigs = store.list_signatures(&image, usize::MAX).unwrap();
        assert_eq!(sigs.len(), 1, "{name}: {sigs:?}");
        assert_eq!(sigs[0].digest, sig_digest, "{name}");
        let sig = store.fetch_signature(&sigs[0]).unwrap();
        assert_eq!(sig.envelope_descriptor.media_type, env_media_type);
        assert_eq!(
            oci::sha256_digest(&sig.envelope),
            sig.envelope_descriptor.digest
        );

        // Add one of ours and read both back.
        let pushed = store
            .push_signature(&image, b"ours", MEDIA_TYPE_JWS, thumbprints())
            .unwrap();
        let sigs = store.list_signatures(&image, usize::MAX).unwrap();
        assert_eq!(sigs.len(), 2, "{name}");
        assert_eq!(sigs[1].digest, pushed.manifest.digest);
        // A limit keeps the first ones only.
        let first = store.list_signatures(&image, 1).unwrap();
        assert_eq!(first.len(), 1, "{name}");
        assert_eq!(first[0].digest, sigs[0].digest);
        assert!(store.list_signatures(&image, 0).unwrap().is_empty());
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        let last = index["manifests"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(last["digest"], pushed.manifest.digest.as_str());
        assert!(last["annotations"][ANNOTATION_THUMBPRINTS].is_string());
        // As upstream 1.3.2: the legacy manifest form, and no artifactType
        // on the index.json entry.
        assert!(last.get("artifactType").is_none(), "{last}");
        let ours: serde_json::Value =
            serde_json::from_slice(&store.fetch_manifest(&pushed.manifest).unwrap()).unwrap();
        assert!(ours.get("artifactType").is_none(), "{ours}");
        assert_eq!(ours["config"]["mediaType"], ARTIFACT_TYPE_NOTARY_SIGNATURE);
        assert_eq!(ours["config"]["digest"], oci::EMPTY_JSON_DIGEST);
        assert!(last["annotations"]
            .get("org.opencontainers.image.ref.name")
            .is_none());
        assert_eq!(store.fetch_signature(&sigs[1]).unwrap().envelope, b"ours");
    }

    // A layout with no signature.
    let dir = tmp.path().join("e2e");
    copy_dir(&layout("e2e"), &dir);
    let store = OciLayout::open(&dir).unwrap();
    let image = store.resolve(&Target::Tag("v1".into())).unwrap();
    assert!(store
        .list_signatures(&image, usize::MAX)
        .unwrap()
        .is_empty());

    // A corrupted blob is refused.
    let blob = dir.join("blobs/sha256").join(&IMAGE_DIGEST[7..]);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[5] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    let err = store.fetch_manifest(&image).unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");

    // Not a layout.
    let err = OciLayout::open(tmp.path()).unwrap_err();
    assert!(err.to_string().contains("not an OCI image layout"), "{err}");
}

#[test]
fn referrers_api_pagination_and_filtering() {
    let sig = |n: u8, artifact_type: &str| {
        serde_json::json!({
            "mediaType": MEDIA_TYPE_OCI_MANIFEST,
            "digest": format!("sha256:{}", hex_repeat(n)),
            "size": 100,
            "artifactType": artifact_type,
        })
    };
    let page1 = serde_json::json!({"schemaVersion": 2, "mediaType": MEDIA_TYPE_OCI_INDEX,
        "manifests": [sig(1, ARTIFACT_TYPE_NOTARY_SIGNATURE), sig(2, "application/spdx+json")]});
    let page2 = serde_json::json!({"schemaVersion": 2, "mediaType": MEDIA_TYPE_OCI_INDEX,
        "manifests": [sig(3, ARTIFACT_TYPE_NOTARY_SIGNATURE)]});
    let host = misbehaving_server(move |method, path| {
        let ct = ("Content-Type".to_string(), MEDIA_TYPE_OCI_INDEX.to_string());
        if method == "GET" && path.contains("/referrers/") && path.contains("page=2") {
            (200, vec![ct], page2.to_string().into_bytes())
        } else if method == "GET" && path.contains("/referrers/") {
            let link = (
                "Link".to_string(),
                format!("<{}&page=2>; rel=\"next\"", path),
            );
            (200, vec![ct, link], page1.to_string().into_bytes())
        } else {
            (404, vec![], Vec::new())
        }
    });
    let client = RegistryClient::new(&host, "api", insecure(), Box::new(Anonymous)).unwrap();
    let subject = Descriptor::new(MEDIA_TYPE_OCI_MANIFEST, IMAGE_DIGEST, 517);
    let sigs = client
        .list_signatures(&subject, usize::MAX)
        .expect("list via the Referrers API");
    let digests: Vec<_> = sigs.iter().map(|d| d.digest.clone()).collect();
    assert_eq!(
        digests,
        [
            format!("sha256:{}", hex_repeat(1)),
            format!("sha256:{}", hex_repeat(3))
        ]
    );
}

fn hex_repeat(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}
