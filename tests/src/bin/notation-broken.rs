//! `notation-broken`: a signing plugin with one deliberate contract defect,
//! for testing the conformance kit.
//!
//! The defect is chosen by the executable's file name,
//! `notation-broken-<defect>` (copy the binary under that name); plain
//! `notation-broken` has no defect and conforms. The plugin's metadata name
//! is the file name without `notation-`, so the name rule holds unless the
//! defect is `name-mismatch`.
//!
//! The conforming behaviour is a RAW + ENVELOPE signer with a fresh EC P-256
//! key and a two-certificate chain generated on every call.
//!
//! Defects: `bad-metadata`, `name-mismatch`, `bad-version`, `bad-describe`,
//! `bad-signature`, `bad-chain`, `bad-envelope`, `accepts-missing-key-id`,
//! `ignores-contract-version`, `garbage-crash`, `noisy-stdout`, `hang`.

use std::io::{Read, Write};

use base64::Engine as _;
use notation_plugin_sdk::envelope::{
    self, sign_raw, EnvelopeFormat, LocalSigner, Payload, SignRequest, SigningScheme,
};
use notation_plugin_sdk::protocol::{
    CriticalAttributes, DescribeKeyRequest, DescribeKeyResponse, GenerateEnvelopeRequest,
    GenerateEnvelopeResponse, GenerateSignatureRequest, GenerateSignatureResponse,
    GetMetadataRequest, GetMetadataResponse, PluginError, CONTRACT_VERSION,
};
use notation_plugin_sdk::vocab::{Capability, KeySpec, SigningAlgorithm};
use notation_plugin_sdk::Plugin;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509Builder, X509Name, X509};
use serde_json::Value;

struct Broken {
    name: String,
    defect: String,
}

fn ec_key() -> Result<PKey<Private>, PluginError> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    Ok(PKey::from_ec_key(EcKey::generate(&group)?)?)
}

fn cert(
    subject: &str,
    issuer: Option<(&X509, &PKey<Private>)>,
    key: &PKey<Private>,
    code_signing_leaf: bool,
) -> Result<X509, PluginError> {
    let mut name = X509Name::builder()?;
    name.append_entry_by_text("CN", subject)?;
    let name = name.build();
    let mut serial = BigNum::new()?;
    serial.rand(64, MsbOption::MAYBE_ZERO, false)?;
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(issuer.map(|(c, _)| c.subject_name()).unwrap_or(&name))?;
    b.set_pubkey(key)?;
    let (not_before, not_after) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(1)?);
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    match issuer {
        None => {
            b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
            b.append_extension(KeyUsage::new().critical().key_cert_sign().build()?)?;
        }
        Some(_) if code_signing_leaf => {
            b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
            b.append_extension(ExtendedKeyUsage::new().code_signing().build()?)?;
        }
        Some(_) => {
            // Defect: a leaf that may only sign certificates.
            b.append_extension(KeyUsage::new().critical().key_cert_sign().build()?)?;
            b.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
        }
    }
    let signer = issuer.map(|(_, k)| k).unwrap_or(key);
    b.sign(signer, MessageDigest::sha256())?;
    Ok(b.build())
}

/// A fresh key with a [leaf, root] chain.
fn fresh_key(good_leaf: bool) -> Result<(PKey<Private>, Vec<X509>), PluginError> {
    let root_key = ec_key()?;
    let root = cert("broken root", None, &root_key, true)?;
    let key = ec_key()?;
    let leaf = cert("broken signer", Some((&root, &root_key)), &key, good_leaf)?;
    Ok((key, vec![leaf, root]))
}

impl Plugin for Broken {
    fn get_plugin_metadata(
        &self,
        _req: GetMetadataRequest,
    ) -> Result<GetMetadataResponse, PluginError> {
        Ok(GetMetadataResponse {
            name: if self.defect == "name-mismatch" {
                "com.example.someone-else".to_owned()
            } else {
                self.name.clone()
            },
            description: "conformance kit test plugin".to_owned(),
            version: if self.defect == "bad-version" {
                "latest".to_owned()
            } else {
                "1.0.0".to_owned()
            },
            url: "https://example.invalid/broken".to_owned(),
            supported_contract_versions: vec![CONTRACT_VERSION.to_owned()],
            capabilities: vec![
                Capability::SignatureGeneratorRaw,
                Capability::SignatureGeneratorEnvelope,
            ],
        })
    }

    fn describe_key(&self, req: DescribeKeyRequest) -> Result<DescribeKeyResponse, PluginError> {
        Ok(DescribeKeyResponse {
            key_id: req.key_id,
            key_spec: KeySpec::Ec256,
        })
    }

    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        if self.defect == "hang" {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
        let (key, chain) = fresh_key(self.defect != "bad-chain")?;
        let alg = SigningAlgorithm::EcdsaSha256;
        let signature =
            sign_raw(&alg, &key, &req.payload).map_err(|e| PluginError::general(e.to_string()))?;
        Ok(GenerateSignatureResponse {
            key_id: req.key_id,
            signature,
            signing_algorithm: alg,
            certificate_chain: chain.iter().map(|c| c.to_der()).collect::<Result<_, _>>()?,
        })
    }

    fn generate_envelope(
        &self,
        req: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, PluginError> {
        let format =
            EnvelopeFormat::from_media_type(&req.signature_envelope_type).ok_or_else(|| {
                PluginError::validation("signatureEnvelopeType", "unsupported envelope type")
            })?;
        let payload = Payload::from_json(&req.payload)
            .map_err(|e| PluginError::validation("payload", e.to_string()))?;
        let (key, chain) = fresh_key(true)?;
        let signer =
            LocalSigner::new(key, chain).map_err(|e| PluginError::general(e.to_string()))?;
        let sign_req = SignRequest {
            payload,
            signing_scheme: SigningScheme::X509,
            signing_time: now_attributes()?
                .expiry
                .ok_or_else(|| PluginError::general("no signing time"))?,
            expiry: None,
            signing_agent: None,
            extended_attributes: Vec::new(),
        };
        let bytes = envelope::sign(format, &sign_req, &signer)
            .map_err(|e| PluginError::general(e.to_string()))?;
        Ok(GenerateEnvelopeResponse {
            signature_envelope: bytes,
            signature_envelope_type: req.signature_envelope_type,
            annotations: None,
        })
    }
}

/// The current time inside a `CriticalAttributes::expiry`. This test crate
/// does not depend on `time` directly, so the value is produced by the
/// protocol's RFC 3339 decoding.
fn now_attributes() -> Result<CriticalAttributes, PluginError> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| PluginError::general(e.to_string()))?
        .as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let stamp = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    serde_json::from_value(serde_json::json!({
        "contentType": "application/vnd.cncf.notary.payload.v1+json",
        "signingScheme": "notary.x509",
        "expiry": stamp,
    }))
    .map_err(|e| PluginError::general(e.to_string()))
}

fn b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

fn b64e(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Rewrites one base64 field of a JSON response by flipping its last byte.
fn corrupt_field(stdout: &[u8], field: &str) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<Value>(stdout) else {
        return stdout.to_vec();
    };
    if let Some(mut bytes) = v[field].as_str().and_then(b64) {
        if let Some(last) = bytes.last_mut() {
            *last ^= 0x01;
        }
        v[field] = Value::String(b64e(&bytes));
    }
    serde_json::to_vec(&v).unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let exe = std::path::Path::new(
        args.first()
            .map(String::as_str)
            .unwrap_or("notation-broken"),
    )
    .file_name()
    .map(|n| n.to_string_lossy().into_owned())
    .unwrap_or_default();
    let name = exe.strip_prefix("notation-").unwrap_or(&exe).to_owned();
    let defect = name.strip_prefix("broken-").unwrap_or("").to_owned();
    let command = args.get(1).cloned().unwrap_or_default();
    let plugin = Broken {
        name: name.clone(),
        defect: defect.clone(),
    };

    let mut stdin = Vec::new();
    let _ = std::io::stdin().take(64 << 20).read_to_end(&mut stdin);
    let parsed: Option<Value> = serde_json::from_slice(&stdin).ok();

    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    // Defects that bypass the SDK runner.
    match (defect.as_str(), command.as_str()) {
        ("bad-metadata", "get-plugin-metadata") => {
            let body = format!(
                r#"{{"name":"{name}","description":"x","version":"1.0.0","url":"https://example.invalid","supportedContractVersions":["1.0"],"capabilities":[]}}"#
            );
            let _ = out.write_all(body.as_bytes());
            std::process::exit(0);
        }
        ("garbage-crash", _) if parsed.is_none() && command != "get-plugin-metadata" => {
            let _ = err.write_all(b"panic: unexpected input\n");
            std::process::exit(2);
        }
        ("accepts-missing-key-id", "describe-key")
            if parsed.as_ref().is_some_and(|v| v.get("keyId").is_none()) =>
        {
            let _ = out.write_all(br#"{"keyId":"default","keySpec":"EC-256"}"#);
            std::process::exit(0);
        }
        _ => {}
    }
    let mut input = stdin;
    if defect == "ignores-contract-version" {
        if let Some(mut v) = parsed.clone() {
            if v.get("contractVersion").is_some() {
                v["contractVersion"] = Value::String(CONTRACT_VERSION.to_owned());
                input = serde_json::to_vec(&v).unwrap_or_default();
            }
        }
    }

    let mut stdout_buf = Vec::new();
    let mut stderr_buf = Vec::new();
    let code = notation_plugin_sdk::runner::run(
        &plugin,
        &args,
        &input[..],
        &mut stdout_buf,
        &mut stderr_buf,
    );
    if code == 0 {
        match (defect.as_str(), command.as_str()) {
            ("bad-describe", "describe-key") => {
                if let Ok(mut v) = serde_json::from_slice::<Value>(&stdout_buf) {
                    v["keyId"] = Value::String("not-the-requested-key".to_owned());
                    stdout_buf = serde_json::to_vec(&v).unwrap_or_default();
                }
            }
            ("bad-signature", "generate-signature") => {
                stdout_buf = corrupt_field(&stdout_buf, "signature");
            }
            ("bad-envelope", "generate-envelope") => {
                stdout_buf = corrupt_field(&stdout_buf, "signatureEnvelope");
            }
            _ => {}
        }
    } else if defect == "noisy-stdout" {
        // A log line on stdout on the error path.
        let _ = out.write_all(b"DEBUG request failed, see stderr\n");
    }
    let _ = out.write_all(&stdout_buf);
    let _ = out.flush();
    let _ = err.write_all(&stderr_buf);
    std::process::exit(code);
}
