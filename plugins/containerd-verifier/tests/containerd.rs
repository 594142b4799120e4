//! The verifier as containerd runs it (`pkg/imageverifier/bindir`): the
//! executable with `-name`, `-digest`, `-stdin-media-type` (and
//! `-operation` with `verify_on_run`), the JSON-encoded descriptor on
//! standard input, a clean environment, and the judgement read from the
//! exit code and standard output. The images and signatures are upstream's
//! e2e vectors pushed into a real `docker-registry`; the registry is plain
//! HTTP, which the verifier learns from containerd's `certs.d` `hosts.toml`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use notation_e2e::{push_layout, vectors_dir, Registry, RegistryAuth, RegistryConfig, TlsFiles};
use notation_host::registry::{Descriptor, Target};
use sha2::{Digest as _, Sha256};

const DESCRIPTOR: &str = "application/vnd.oci.descriptor.v1+json";
const INPUT: &str = "application/vnd.containerd.image-verifier.input.v1+json";

/// One registry for the whole file, with the vector images pushed once.
struct World {
    registry: Registry,
    signed: Descriptor,
    /// Another image (unsigned) in the repository of `signed`, tagged v2.
    other: Descriptor,
    unsigned: Descriptor,
    tampered: Descriptor,
    _dir: tempfile::TempDir,
    /// certs.d with `HOST/hosts.toml` saying plain HTTP.
    certs_d: PathBuf,
    docker_config: PathBuf,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let registry = Registry::start();
        // The world lives in a static, never dropped: stop it at exit.
        registry.stop_at_exit();
        let layouts = vectors_dir().join("oci-layouts");
        let signed = push_layout(&registry, &layouts.join("e2e-valid-signature"), "signed");
        let unsigned = push_layout(&registry, &layouts.join("e2e"), "unsigned");
        let tampered = push_layout(
            &registry,
            &layouts.join("e2e-invalid-signature"),
            "tampered",
        );
        // A second, unsigned image next to the signed one: the signed
        // manifest with one annotation more (same config and layers).
        let client = registry.client("signed");
        let (_, bytes) = client
            .get_manifest(&Target::Tag("v1".to_string()))
            .expect("signed manifest");
        let mut manifest: serde_json::Value = serde_json::from_slice(&bytes).expect("manifest");
        manifest["annotations"] = serde_json::json!({ "test.variant": "unsigned" });
        let bytes = serde_json::to_vec(&manifest).expect("manifest json");
        let other = Descriptor::new(
            signed.media_type.clone(),
            format!("sha256:{}", hex::encode(Sha256::digest(&bytes))),
            bytes.len() as u64,
        );
        client
            .put_manifest("v2", &other.media_type, &bytes)
            .expect("push the other image");
        // The same signed image under a repository the policy skips.
        push_layout(&registry, &layouts.join("e2e-valid-signature"), "skipped");
        let dir = tempfile::tempdir().expect("temp dir");
        notation_e2e::remove_at_exit(dir.path());
        let certs_d = dir.path().join("certs.d");
        let host_dir = certs_d.join(&registry.host);
        std::fs::create_dir_all(&host_dir).expect("certs.d");
        std::fs::write(
            host_dir.join("hosts.toml"),
            format!("server = \"http://{}\"\n", registry.host),
        )
        .expect("hosts.toml");
        let docker_config = dir.path().join("docker");
        std::fs::create_dir_all(&docker_config).expect("docker config dir");
        World {
            registry,
            signed,
            other,
            unsigned,
            tampered,
            _dir: dir,
            certs_d,
            docker_config,
        }
    })
}

/// A notation config dir trusting `cert` (a file of `localkeys/`) for every
/// repository but `HOST/skipped`, which is skipped.
fn config_dir(cert: &str, registry: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("truststore/x509/ca/e2e");
    std::fs::create_dir_all(&store).expect("trust store");
    std::fs::copy(
        vectors_dir().join("localkeys").join(cert),
        store.join("e2e.crt"),
    )
    .expect("cert");
    let policy = serde_json::json!({
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "skipped",
                "registryScopes": [format!("{registry}/skipped")],
                "signatureVerification": { "level": "skip" },
            },
            {
                "name": "everything",
                "registryScopes": ["*"],
                "signatureVerification": { "level": "strict" },
                "trustStores": ["ca:e2e"],
                "trustedIdentities": ["*"],
            }
        ]
    });
    std::fs::write(
        dir.path().join("trustpolicy.oci.json"),
        serde_json::to_vec_pretty(&policy).expect("json"),
    )
    .expect("policy");
    dir
}

struct Call<'a> {
    name: String,
    digest: String,
    media_type: &'a str,
    operation: Option<&'a str>,
    stdin: Vec<u8>,
    config: &'a Path,
    certs_d: &'a Path,
    deadline: Option<&'a str>,
}

impl<'a> Call<'a> {
    /// A pull of `repo` at `desc` as containerd makes it (verify_on_run off).
    fn pull(repo: &str, desc: &Descriptor, config: &'a Path) -> Call<'a> {
        let w = world();
        let mut stdin = serde_json::to_vec(desc).expect("descriptor json");
        stdin.push(b'\n'); // Go's json.Encoder ends with a newline.
        Call {
            name: format!("{}/{repo}:v1", w.registry.host),
            digest: desc.digest.clone(),
            media_type: DESCRIPTOR,
            operation: None,
            stdin,
            config,
            certs_d: &w.certs_d,
            deadline: None,
        }
    }

    /// The same check with verify_on_run on: `-operation` and the wrapped
    /// input.
    fn with_operation(mut self, op: &'a str, desc: &Descriptor) -> Call<'a> {
        let mut input = serde_json::json!({
            "descriptor": desc,
            "operation": op,
        });
        if op == "run" {
            input["annotations"] = serde_json::json!({
                "io.kubernetes.cri.container-name": "app",
                "io.kubernetes.cri.image-name": self.name,
            });
        }
        self.stdin = serde_json::to_vec(&input).expect("input json");
        self.stdin.push(b'\n');
        self.media_type = INPUT;
        self.operation = Some(op);
        self
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec![
            "-name".to_string(),
            self.name.clone(),
            "-digest".to_string(),
            self.digest.clone(),
            "-stdin-media-type".to_string(),
            self.media_type.to_string(),
        ];
        if let Some(op) = self.operation {
            args.extend(["-operation".to_string(), op.to_string()]);
        }
        args
    }

    fn run_with_args(&self, args: &[String]) -> Output {
        let w = world();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_notation-containerd-verifier"));
        cmd.args(args)
            .env_clear()
            .env("NOTATION_CONFIG", self.config)
            .env("NOTATION_CONTAINERD_CERTS_D", self.certs_d)
            .env("DOCKER_CONFIG", &w.docker_config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(d) = self.deadline {
            cmd.env("NOTATION_CONTAINERD_DEADLINE", d);
        }
        let mut child = cmd.spawn().expect("run the verifier");
        let mut stdin = child.stdin.take().expect("stdin");
        // Written like containerd: the child may not read all of it.
        let _ = stdin.write_all(&self.stdin);
        drop(stdin);
        child.wait_with_output().expect("verifier output")
    }

    fn run(&self) -> Output {
        self.run_with_args(&self.args())
    }
}

/// (exit code, stdout line, stderr), checking the output shape containerd
/// relies on: one line on stdout, never a panic.
fn judged(out: &Output) -> (i32, String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let code = out.status.code().expect("exited, not killed");
    assert_ne!(code, 101, "the verifier panicked: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stdout.trim_end().lines().count(),
        1,
        "one reason line on stdout: {stdout:?}"
    );
    (code, stdout.trim_end().to_string(), stderr)
}

#[test]
fn signed_and_trusted_is_allowed_on_pull_and_run() {
    let w = world();
    let cfg = config_dir("e2e.crt", &w.registry.host);
    let call = Call::pull("signed", &w.signed, cfg.path());
    let (code, line, err) = judged(&call.run());
    assert_eq!(code, 0, "{line}\n{err}");
    assert!(
        line.starts_with(&format!(
            "Successfully verified signature for {}/signed@{}",
            w.registry.host, w.signed.digest
        )),
        "{line}"
    );
    for op in ["pull", "run"] {
        let call = Call::pull("signed", &w.signed, cfg.path()).with_operation(op, &w.signed);
        let (code, line, err) = judged(&call.run());
        assert_eq!(code, 0, "-operation {op}: {line}\n{err}");
    }
}

#[test]
fn unsigned_is_refused() {
    let w = world();
    let cfg = config_dir("e2e.crt", &w.registry.host);
    for call in [
        Call::pull("unsigned", &w.unsigned, cfg.path()),
        Call::pull("unsigned", &w.unsigned, cfg.path()).with_operation("run", &w.unsigned),
    ] {
        let (code, line, err) = judged(&call.run());
        assert_eq!(code, 1, "{line}\n{err}");
        assert!(
            line.contains(&format!(
                "no signature is associated with \"{}/unsigned@{}\"",
                w.registry.host, w.unsigned.digest
            )),
            "{line}"
        );
    }
}

#[test]
fn untrusted_key_is_refused() {
    let w = world();
    // The trust store holds an unrelated certificate.
    let cfg = config_dir("new_e2e.crt", &w.registry.host);
    for call in [
        Call::pull("signed", &w.signed, cfg.path()),
        Call::pull("signed", &w.signed, cfg.path()).with_operation("run", &w.signed),
    ] {
        let (code, line, err) = judged(&call.run());
        assert_eq!(code, 1, "{line}\n{err}");
        assert!(
            line.starts_with(
                "signature verification failed for all the signatures associated with"
            ) && line.contains("authenticity validation failed"),
            "{line}"
        );
    }
}

#[test]
fn tampered_signature_is_refused() {
    let w = world();
    let cfg = config_dir("e2e.crt", &w.registry.host);
    let (code, line, err) = judged(&Call::pull("tampered", &w.tampered, cfg.path()).run());
    assert_eq!(code, 1, "{line}\n{err}");
    assert!(line.contains("integrity validation failed"), "{line}");
}

#[test]
fn skip_scope_is_allowed_without_signatures_checked() {
    let w = world();
    // Trusting nothing useful: only the skip statement lets it through.
    let cfg = config_dir("new_e2e.crt", &w.registry.host);
    for call in [
        Call::pull("skipped", &w.signed, cfg.path()),
        Call::pull("skipped", &w.signed, cfg.path()).with_operation("run", &w.signed),
    ] {
        let (code, line, err) = judged(&call.run());
        assert_eq!(code, 0, "{line}\n{err}");
        assert!(
            line.starts_with("Trust policy is configured to skip signature verification for"),
            "{line}"
        );
    }
}

#[test]
fn no_applicable_statement_is_refused() {
    let w = world();
    let cfg = config_dir("e2e.crt", &w.registry.host);
    let policy = serde_json::json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "elsewhere",
            "registryScopes": ["other.example/app"],
            "signatureVerification": { "level": "strict" },
            "trustStores": ["ca:e2e"],
            "trustedIdentities": ["*"],
        }]
    });
    std::fs::write(
        cfg.path().join("trustpolicy.oci.json"),
        serde_json::to_vec(&policy).expect("json"),
    )
    .expect("policy");
    let (code, line, err) = judged(&Call::pull("signed", &w.signed, cfg.path()).run());
    assert_eq!(code, 1, "{line}\n{err}");
    assert!(line.contains("has no applicable trust policy"), "{line}");
}

#[test]
fn the_exact_digest_is_verified_not_the_name() {
    let w = world();
    let cfg = config_dir("e2e.crt", &w.registry.host);
    // The name's tag points at the signed image, but containerd resolved
    // another one: that one is judged, and it has no signature.
    let call = Call::pull("signed", &w.other, cfg.path());
    assert_eq!(call.name, format!("{}/signed:v1", w.registry.host));
    let (code, line, _) = judged(&call.run());
    assert_eq!(code, 1, "{line}");
    assert!(
        line.contains(&format!(
            "no signature is associated with \"{}/signed@{}\"",
            w.registry.host, w.other.digest
        )),
        "{line}"
    );
}

#[test]
fn registry_down_is_refused_quickly() {
    let w = world();
    let cfg = config_dir("e2e.crt", &w.registry.host);
    // A port nothing listens on.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let host = format!("127.0.0.1:{port}");
    let certs = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(certs.path().join(&host)).expect("dir");
    std::fs::write(
        certs.path().join(&host).join("hosts.toml"),
        format!("server = \"http://{host}\"\n"),
    )
    .expect("hosts.toml");
    let mut call = Call::pull("signed", &w.signed, cfg.path());
    call.name = format!("{host}/signed:v1");
    call.certs_d = certs.path();
    call.deadline = Some("3s");
    let started = Instant::now();
    let (code, line, err) = judged(&call.run());
    assert_eq!(code, 1, "{line}\n{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{line}");
    assert!(line.contains(&host), "{line}");
}

#[test]
fn a_registry_that_never_answers_is_refused_at_the_deadline() {
    let w = world();
    let cfg = config_dir("e2e.crt", &w.registry.host);
    // Accepts connections and reads, but never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = s.set_read_timeout(Some(Duration::from_millis(50)));
            let _ = s.read(&mut buf);
            held.push(s);
        }
    });
    let certs = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(certs.path().join(&host)).expect("dir");
    std::fs::write(
        certs.path().join(&host).join("hosts.toml"),
        format!("server = \"http://{host}\"\n"),
    )
    .expect("hosts.toml");
    let mut call = Call::pull("signed", &w.signed, cfg.path());
    call.name = format!("{host}/signed:v1");
    call.certs_d = certs.path();
    call.deadline = Some("1500ms");
    let started = Instant::now();
    let (code, line, err) = judged(&call.run());
    let took = started.elapsed();
    assert_eq!(code, 1, "{line}\n{err}");
    assert!(line.contains("did not finish within 1.5s"), "{line}\n{err}");
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(4),
        "took {took:?}"
    );
}

#[test]
fn malformed_input_is_refused_cleanly() {
    let w = world();
    let cfg = config_dir("e2e.crt", &w.registry.host);
    let base = || Call::pull("signed", &w.signed, cfg.path());

    let mut garbage = base();
    garbage.stdin = b"\x00\xffnot json".to_vec();
    let mut wrong_digest = base();
    wrong_digest.stdin = serde_json::to_vec(&w.other).expect("json");
    let mut empty = base();
    empty.stdin = Vec::new();
    let mut huge = base();
    huge.stdin = vec![b' '; 2 * 1024 * 1024];
    let mut unknown_type = base();
    unknown_type.media_type = "application/json";
    let mut no_descriptor = base().with_operation("run", &w.signed);
    no_descriptor.stdin = br#"{"operation":"run"}"#.to_vec();
    let mut bad_digest = base();
    bad_digest.digest = "sha256:nothex".to_string();
    let mut no_registry = base();
    no_registry.name = "signed:v1".to_string();
    let mut bad_op = base();
    bad_op.operation = Some("delete");

    let cases: Vec<(&str, &Call, &str)> = vec![
        ("garbage stdin", &garbage, "standard input is not a valid"),
        (
            "descriptor of another digest",
            &wrong_digest,
            "refusing to guess",
        ),
        ("empty stdin", &empty, "standard input is not a valid"),
        ("oversized stdin", &huge, "larger than"),
        (
            "unknown media type",
            &unknown_type,
            "unsupported -stdin-media-type",
        ),
        (
            "input without descriptor",
            &no_descriptor,
            "no \"descriptor\"",
        ),
        ("bad digest", &bad_digest, "invalid digest"),
        ("name without registry", &no_registry, "no registry host"),
        ("bad operation", &bad_op, "invalid -operation"),
    ];
    for (what, call, expected) in cases {
        let (code, line, err) = judged(&call.run());
        assert_eq!(code, 2, "{what}: {line}\n{err}");
        assert!(line.contains(expected), "{what}: {line}");
    }

    // Missing and unknown flags.
    let call = base();
    for (what, args, expected) in [
        ("no flags", vec![], "missing required flag -name"),
        (
            "no digest",
            vec!["-name".to_string(), call.name.clone()],
            "missing required flag -digest",
        ),
        (
            "unknown flag",
            vec!["-policy".to_string(), "x".to_string()],
            "unknown flag",
        ),
        ("dangling flag", vec!["-name".to_string()], "needs a value"),
    ] {
        let (code, line, err) = judged(&call.run_with_args(&args));
        assert_eq!(code, 2, "{what}: {line}\n{err}");
        assert!(line.contains(expected), "{what}: {line}");
    }
}

/// A private CA and a server certificate for 127.0.0.1 issued by it, as
/// PEM files in `dir`.
fn tls_files(dir: &Path) -> TlsFiles {
    use openssl::asn1::Asn1Time;
    use openssl::bn::{BigNum, MsbOption};
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
    use openssl::x509::{X509NameBuilder, X509};

    let key = || {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("curve");
        PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey")
    };
    let cert = |cn: &str,
                pubkey: &PKey<openssl::pkey::Private>,
                ca: Option<(&X509, &PKey<openssl::pkey::Private>)>,
                signer: &PKey<openssl::pkey::Private>| {
        let mut name = X509NameBuilder::new().expect("name");
        name.append_entry_by_text("CN", cn).expect("cn");
        let name = name.build();
        let mut b = X509::builder().expect("builder");
        b.set_version(2).expect("version");
        let mut serial = BigNum::new().expect("bn");
        serial.rand(64, MsbOption::MAYBE_ZERO, false).expect("rand");
        b.set_serial_number(&serial.to_asn1_integer().expect("serial"))
            .expect("serial");
        b.set_subject_name(&name).expect("subject");
        b.set_issuer_name(ca.map_or(&*name, |(c, _)| c.subject_name()))
            .expect("issuer");
        b.set_pubkey(pubkey).expect("pubkey");
        b.set_not_before(&Asn1Time::days_from_now(0).expect("time"))
            .expect("nb");
        b.set_not_after(&Asn1Time::days_from_now(2).expect("time"))
            .expect("na");
        match ca {
            None => b
                .append_extension(BasicConstraints::new().critical().ca().build().expect("bc"))
                .expect("ext"),
            Some((c, _)) => {
                let san = SubjectAlternativeName::new()
                    .ip("127.0.0.1")
                    .build(&b.x509v3_context(Some(c), None))
                    .expect("san");
                b.append_extension(san).expect("ext");
            }
        }
        b.sign(signer, MessageDigest::sha256()).expect("sign");
        b.build()
    };
    let ca_key = key();
    let ca = cert("containerd verifier test CA", &ca_key, None, &ca_key);
    let server_key = key();
    let server = cert("127.0.0.1", &server_key, Some((&ca, &ca_key)), &ca_key);
    let write = |file: &str, pem: Vec<u8>| {
        let p = dir.join(file);
        std::fs::write(&p, pem).expect("write pem");
        p
    };
    TlsFiles {
        certificate: write("server.pem", server.to_pem().expect("pem")),
        key: write(
            "server.key",
            server_key.private_key_to_pem_pkcs8().expect("pem"),
        ),
        ca: write("ca.pem", ca.to_pem().expect("pem")),
    }
}

#[test]
fn private_registry_with_credentials_and_a_certs_d_ca() {
    use base64::Engine as _;

    let dir = tempfile::tempdir().expect("temp dir");
    let tls = tls_files(dir.path());
    let registry = Registry::start_with_config(&RegistryConfig {
        auth: RegistryAuth::Htpasswd {
            user: "puller".to_string(),
            password: "pull-secret".to_string(),
        },
        tls: Some(tls.clone()),
    });
    let signed = push_layout(
        &registry,
        &vectors_dir().join("oci-layouts/e2e-valid-signature"),
        "private/app",
    );
    let cfg = config_dir("e2e.crt", &registry.host);

    // certs.d/HOST/hosts.toml naming the CA by a relative path.
    let certs_d = dir.path().join("certs.d");
    let host_dir = certs_d.join(&registry.host);
    std::fs::create_dir_all(&host_dir).expect("certs.d");
    std::fs::copy(&tls.ca, host_dir.join("registry-ca.pem")).expect("ca");
    std::fs::write(
        host_dir.join("hosts.toml"),
        format!(
            "server = \"https://{}\"\n\n[host.\"https://{}\"]\n  capabilities = [\"pull\", \"resolve\"]\n  ca = \"registry-ca.pem\"\n",
            registry.host, registry.host
        ),
    )
    .expect("hosts.toml");
    let no_ca = dir.path().join("empty-certs.d");
    std::fs::create_dir_all(&no_ca).expect("dir");

    // docker's config.json with the pull credentials.
    let docker = dir.path().join("docker");
    std::fs::create_dir_all(&docker).expect("docker dir");
    let auth = base64::engine::general_purpose::STANDARD.encode("puller:pull-secret");
    std::fs::write(
        docker.join("config.json"),
        serde_json::to_vec(
            &serde_json::json!({ "auths": { registry.host.clone(): { "auth": auth } } }),
        )
        .expect("json"),
    )
    .expect("config.json");
    let no_creds = dir.path().join("docker-empty");
    std::fs::create_dir_all(&no_creds).expect("dir");

    let mut stdin = serde_json::to_vec(&signed).expect("json");
    stdin.push(b'\n');
    let run = |certs: &Path, docker_config: &Path| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_notation-containerd-verifier"))
            .args([
                "-name",
                &format!("{}/private/app:v1", registry.host),
                "-digest",
                &signed.digest,
                "-stdin-media-type",
                DESCRIPTOR,
            ])
            .env_clear()
            .env("NOTATION_CONFIG", cfg.path())
            .env("NOTATION_CONTAINERD_CERTS_D", certs)
            .env("DOCKER_CONFIG", docker_config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the verifier");
        let mut input = child.stdin.take().expect("stdin");
        let _ = input.write_all(&stdin);
        drop(input);
        judged(&child.wait_with_output().expect("output"))
    };

    let (code, line, err) = run(&certs_d, &docker);
    assert_eq!(code, 0, "{line}\n{err}");
    assert!(
        line.starts_with("Successfully verified signature for"),
        "{line}"
    );

    let (code, line, err) = run(&certs_d, &no_creds);
    assert_eq!(code, 1, "without credentials: {line}\n{err}");
    assert!(line.contains("answered 401"), "{line}");

    let (code, line, err) = run(&no_ca, &docker);
    assert_eq!(code, 1, "without the CA: {line}\n{err}");
    assert!(line.contains("certificate verify failed"), "{line}");
}
