//! The PKCS#11 plugin against SoftHSM2, as a real process through the host
//! client. Each test makes its own token in a temporary directory
//! (`SOFTHSM2_CONF`), generates RSA-3072 and EC-384 key pairs with
//! `pkcs11-tool`, issues certificates for the public keys from a test CA
//! and imports them (leaf with the key's id, root with another id).
//!
//! SoftHSM2 and OpenSC are required: when missing, the tests FAIL.

#[path = "../../localkey/tests/support/pki.rs"]
mod pki;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use notation_plugin_sdk::client::{ClientError, ExternalPlugin};
use notation_plugin_sdk::envelope::{verify_raw, PssSaltPolicy};
use notation_plugin_sdk::protocol::{DescribeKeyRequest, GenerateSignatureRequest};
use notation_plugin_sdk::vocab::{ErrorCode, KeySpec};
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;
use openssl::x509::X509;

pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const LABEL: &str = "notation-test";
const PIN: &str = "1234";
const PAYLOAD: &[u8] = b"eyJhbGciOiJQUzM4NCJ9.eyJ0YXJnZXRBcnRpZmFjdCI6e319";

/// SOFTHSM2_CONF is process-wide; tests that set it take this lock.
static ENV_LOCK: Mutex<()> = Mutex::new(());

fn require_softhsm() {
    let module_ok = Path::new(MODULE).exists();
    let tools_ok = ["softhsm2-util", "pkcs11-tool"]
        .iter()
        .all(|t| Command::new(t).arg("--help").output().is_ok());
    assert!(
        module_ok && tools_ok,
        "SoftHSM2 and OpenSC are required for the PKCS#11 tests but were not found \
         (module {MODULE}: {module_ok}; softhsm2-util/pkcs11-tool on PATH: {tools_ok}). \
         Install them, e.g. `apt-get install softhsm2 opensc`."
    );
}

struct Token {
    dir: tempfile::TempDir,
    _lock: MutexGuard<'static, ()>,
    ca: pki::Ca,
    rsa_leaf: X509,
    ec_leaf: X509,
    plugins: PathBuf,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn p11tool() -> Command {
    let mut c = Command::new("pkcs11-tool");
    c.args([
        "--module",
        MODULE,
        "--token-label",
        LABEL,
        "--login",
        "--pin",
        PIN,
    ]);
    c
}

/// Reads the public key with CKA_ID `id` from the token.
fn public_key(id: u8) -> PKey<Public> {
    let ctx = Pkcs11::new(MODULE).unwrap();
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = ctx
        .get_slots_with_initialized_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label() == LABEL)
        .unwrap();
    let session = ctx.open_ro_session(slot).unwrap();
    let handle = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::Id(vec![id]),
        ])
        .unwrap()[0];
    let attrs = session
        .get_attributes(
            handle,
            &[
                AttributeType::Modulus,
                AttributeType::PublicExponent,
                AttributeType::EcPoint,
            ],
        )
        .unwrap();
    let mut n = None;
    let mut e = None;
    let mut point = None;
    for a in attrs {
        match a {
            Attribute::Modulus(v) => n = Some(v),
            Attribute::PublicExponent(v) => e = Some(v),
            Attribute::EcPoint(v) => point = Some(v),
            _ => {}
        }
    }
    drop(session);
    ctx.finalize().unwrap();
    if let (Some(n), Some(e)) = (n, e) {
        let rsa = Rsa::from_public_components(
            BigNum::from_slice(&n).unwrap(),
            BigNum::from_slice(&e).unwrap(),
        )
        .unwrap();
        return PKey::from_rsa(rsa).unwrap();
    }
    // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point.
    let der = point.expect("EC point");
    let raw = match der[1] {
        l if l < 0x80 => &der[2..],
        0x81 => &der[3..],
        _ => panic!("unexpected EC point encoding"),
    };
    let group = EcGroup::from_curve_name(Nid::SECP384R1).unwrap();
    let mut ctx = BigNumContext::new().unwrap();
    let pt = EcPoint::from_bytes(&group, raw, &mut ctx).unwrap();
    PKey::from_ec_key(EcKey::from_public_key(&group, &pt).unwrap()).unwrap()
}

impl Token {
    fn new() -> Token {
        require_softhsm();
        let lock = ENV_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        std::env::set_var("SOFTHSM2_CONF", &conf);
        run(Command::new("softhsm2-util").args([
            "--init-token",
            "--free",
            "--label",
            LABEL,
            "--so-pin",
            "5678",
            "--pin",
            PIN,
        ]));
        run(p11tool().args([
            "--keypairgen",
            "--key-type",
            "rsa:3072",
            "--label",
            "rsa-key",
            "--id",
            "01",
        ]));
        run(p11tool().args([
            "--keypairgen",
            "--key-type",
            "EC:secp384r1",
            "--label",
            "ec-key",
            "--id",
            "02",
        ]));
        let ca = pki::make_ca("PKCS11 Test Root");
        let rsa_leaf = pki::make_leaf(&ca, &public_key(1), "RSA token signer");
        let ec_leaf = pki::make_leaf(&ca, &public_key(2), "EC token signer");
        for (cert, id, label) in [
            (&rsa_leaf, "01", "rsa-cert"),
            (&ec_leaf, "02", "ec-cert"),
            (&ca.cert, "99", "root"),
        ] {
            let path = dir.path().join(format!("{label}.der"));
            fs::write(&path, cert.to_der().unwrap()).unwrap();
            run(p11tool()
                .args(["--write-object"])
                .arg(&path)
                .args(["--type", "cert", "--id", id, "--label", label]));
        }
        let plugins = dir.path().join("plugins");
        fs::create_dir_all(plugins.join("pkcs11")).unwrap();
        fs::copy(
            env!("CARGO_BIN_EXE_notation-pkcs11"),
            plugins.join("pkcs11/notation-pkcs11"),
        )
        .unwrap();
        Token {
            dir,
            _lock: lock,
            ca,
            rsa_leaf,
            ec_leaf,
            plugins,
        }
    }

    fn plugin(&self) -> ExternalPlugin {
        ExternalPlugin::open(&self.plugins, "pkcs11").unwrap()
    }

    fn describe(&self, key_id: &str, cfg: &[(&str, &str)]) -> Result<KeySpec, ClientError> {
        self.plugin()
            .describe_key(DescribeKeyRequest {
                contract_version: "1.0".into(),
                key_id: key_id.into(),
                plugin_config: Some(config(cfg)),
            })
            .map(|r| r.key_spec)
    }

    fn sign(
        &self,
        key_id: &str,
        spec: KeySpec,
        cfg: &[(&str, &str)],
    ) -> Result<notation_plugin_sdk::protocol::GenerateSignatureResponse, ClientError> {
        self.plugin().generate_signature(GenerateSignatureRequest {
            contract_version: "1.0".into(),
            key_id: key_id.into(),
            plugin_config: Some(config(cfg)),
            hash_algorithm: spec.hash_algorithm().unwrap(),
            key_spec: spec,
            payload: PAYLOAD.to_vec(),
        })
    }
}

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn uri(path: &str) -> String {
    format!("pkcs11:token={LABEL};{path}?module-path={MODULE}&pin-value={PIN}")
}

fn plugin_error(r: Result<impl std::fmt::Debug, ClientError>) -> (ErrorCode, String) {
    match r {
        Err(ClientError::Plugin(e)) => (e.code, e.message),
        other => panic!("expected a plugin error, got {other:?}"),
    }
}

#[test]
fn rsa_3072_and_ec_384_sign_and_verify_against_the_token_certificate() {
    let t = Token::new();
    for (path, spec, leaf) in [
        ("object=rsa-key", KeySpec::Rsa3072, &t.rsa_leaf),
        ("object=ec-key", KeySpec::Ec384, &t.ec_leaf),
    ] {
        assert_eq!(t.describe(&uri(path), &[]).unwrap(), spec);
        let resp = t.sign(&uri(path), spec.clone(), &[]).unwrap();
        assert_eq!(
            Some(&resp.signing_algorithm),
            spec.signing_algorithm().as_ref()
        );
        // Chain: the certificate with the key's id, then the root found on
        // the token by subject.
        assert_eq!(
            resp.certificate_chain,
            vec![leaf.to_der().unwrap(), t.ca.cert.to_der().unwrap()]
        );
        let leaf_key = leaf.public_key().unwrap();
        verify_raw(
            &resp.signing_algorithm,
            &leaf_key,
            PAYLOAD,
            &resp.signature,
            PssSaltPolicy::DigestLength,
        )
        .unwrap_or_else(|e| panic!("{spec:?}: token signature does not verify: {e}"));
        if spec == KeySpec::Ec384 {
            assert_eq!(resp.signature.len(), 96, "ECDSA P-384 as r || s");
        }
    }
}

#[test]
fn selection_by_id_serial_slot_and_pin_and_module_sources() {
    let t = Token::new();
    let info = run(Command::new("softhsm2-util").arg("--show-slots"));
    let serial = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("Serial number:"))
        .map(|s| s.trim().to_owned())
        .unwrap();
    let slot = info
        .lines()
        .find_map(|l| l.strip_prefix("Slot "))
        .map(|s| s.trim().to_owned())
        .unwrap();
    let pin_file = t.dir.path().join("pin.txt");
    fs::write(&pin_file, format!("{PIN}\n")).unwrap();
    let pin_path = pin_file.display().to_string();

    // Key by id, token by serial, PIN from a file: URI.
    let k =
        format!("pkcs11:serial={serial};id=%02?module-path={MODULE}&pin-source=file://{pin_path}");
    assert_eq!(t.describe(&k, &[]).unwrap(), KeySpec::Ec384);
    // Token by slot id, module and PIN from pluginConfig.
    let k = format!("pkcs11:slot-id={slot};object=rsa-key");
    assert_eq!(
        t.describe(&k, &[("module_path", MODULE), ("pin_file", &pin_path)])
            .unwrap(),
        KeySpec::Rsa3072
    );
    // Chain from a file instead of the token.
    let chain = t.dir.path().join("chain.pem");
    fs::write(&chain, pki::chain_pem(&[&t.rsa_leaf, &t.ca.cert])).unwrap();
    let resp = t
        .sign(
            &uri("object=rsa-key"),
            KeySpec::Rsa3072,
            &[("certificate_chain", &chain.display().to_string())],
        )
        .unwrap();
    assert_eq!(resp.certificate_chain.len(), 2);
    // A chain whose leaf belongs to another key is refused.
    fs::write(&chain, pki::chain_pem(&[&t.ec_leaf, &t.ca.cert])).unwrap();
    let (code, msg) = plugin_error(t.sign(
        &uri("object=rsa-key"),
        KeySpec::Rsa3072,
        &[("certificate_chain", &chain.display().to_string())],
    ));
    assert_eq!(code, ErrorCode::ValidationError, "{msg}");
}

#[test]
fn errors_map_to_contract_codes() {
    let t = Token::new();
    // Wrong PIN.
    let k = format!("pkcs11:token={LABEL};object=rsa-key?module-path={MODULE}&pin-value=0000");
    let (code, msg) = plugin_error(t.describe(&k, &[]));
    assert_eq!(code, ErrorCode::AccessDenied, "{msg}");
    assert!(!msg.contains("0000"), "PIN leaked: {msg}");
    // Missing token: the message names the label searched.
    let k =
        format!("pkcs11:token=no-such-token;object=rsa-key?module-path={MODULE}&pin-value={PIN}");
    let (code, msg) = plugin_error(t.describe(&k, &[]));
    assert_eq!(code, ErrorCode::ValidationError);
    assert!(msg.contains("no-such-token"), "{msg}");
    // Missing key.
    let (code, msg) = plugin_error(t.describe(&uri("object=no-such-key"), &[]));
    assert_eq!(code, ErrorCode::ValidationError);
    assert!(msg.contains("no-such-key"), "{msg}");
    // No module anywhere.
    let (code, msg) = plugin_error(t.describe("pkcs11:object=rsa-key", &[]));
    assert_eq!(code, ErrorCode::ValidationError);
    assert!(msg.contains("module_path"), "{msg}");
    // A module path that is not a PKCS#11 library.
    let (code, msg) =
        plugin_error(t.describe("pkcs11:object=rsa-key?module-path=/nonexistent/lib.so", &[]));
    assert_eq!(code, ErrorCode::ValidationError);
    assert!(msg.contains("/nonexistent/lib.so"), "{msg}");
    // Malformed URI.
    let (code, _) = plugin_error(t.describe("pkcs11:object=%zz", &[]));
    assert_eq!(code, ErrorCode::ValidationError);
    // Key spec in the request that does not match the key.
    let (code, msg) = plugin_error(t.sign(&uri("object=ec-key"), KeySpec::Ec256, &[]));
    assert_eq!(code, ErrorCode::ValidationError, "{msg}");
}

#[test]
fn passes_the_conformance_kit() {
    use notation_plugin_sdk::conformance::{run_conformance, ConformanceOptions, Outcome};
    let t = Token::new();
    for path in ["object=rsa-key", "id=%02"] {
        let options = ConformanceOptions {
            key_id: Some(uri(path)),
            ..ConformanceOptions::default()
        };
        let report = run_conformance(&t.plugins.join("pkcs11/notation-pkcs11"), &options);
        assert!(report.passed(), "{report}");
        for c in &report.checks {
            // Only the envelope checks are skipped: the plugin is RAW only.
            if c.id.starts_with("generate-envelope") {
                assert!(matches!(c.outcome, Outcome::Skip(_)), "{report}");
            } else {
                assert_eq!(c.outcome, Outcome::Pass, "{report}");
            }
        }
    }
}
