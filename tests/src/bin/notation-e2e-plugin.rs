//! `e2e-plugin`: a test plugin that behaves like the one upstream notation
//! uses in its own end-to-end suite (`test/e2e/plugin`), written with our
//! SDK. It lets the tests run upstream's plugin cases unchanged.
//!
//! * Capabilities: the two verifier capabilities always; the signing ones
//!   only when the request's `pluginConfig` switches them on
//!   (`SIGNATURE_GENERATOR.RAW=true`, `SIGNATURE_GENERATOR.ENVELOPE=true`).
//!   A host that decides with metadata fetched without the key's config
//!   therefore cannot sign with it.
//! * Keys: `pluginkeys.json` in the notation configuration directory, in
//!   the `signingkeys.json` layout (`keys[].id`, `keyPath`, `certPath`).
//! * `TAMPER_*` config entries replace a field of the response: key id,
//!   signature, signing algorithm, certificate chain, envelope, envelope
//!   type; `TAMPER_ANNOTATION=k=v` adds a manifest annotation.
//! * `io.cncf.notary.verificationPlugin` and `...MinVersion` config entries
//!   become critical signed attributes of the envelopes it makes.
//! * `verify-signature` answers both verifier capabilities; a config value
//!   other than `success` for `SIGNATURE_VERIFIER.REVOCATION_CHECK` or
//!   `SIGNATURE_VERIFIER.TRUSTED_IDENTITY` fails that check.
//! * `E2E_PLUGIN_VERSION` in the environment overrides its version (1.0.0).
//! * Registry credentials in its environment are refused.
//! * With `E2E_PLUGIN_LOG=FILE`, every call appends one line to FILE: the
//!   command and the `pluginConfig` it received, so tests can see what the
//!   host sent.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use notation_plugin_sdk::envelope::{
    self, cert::load_certificates, header_names, EnvelopeFormat, ExtendedAttribute, LocalSigner,
    Payload, SignRequest, Signer, SigningScheme,
};
use notation_plugin_sdk::protocol::*;
use notation_plugin_sdk::vocab::{Capability, ErrorCode, SigningAlgorithm};

const NAME: &str = "e2e-plugin";

struct E2ePlugin;

type Config = Option<PluginConfig>;

fn config_value<'a>(config: &'a Config, key: &str) -> Option<&'a str> {
    config.as_ref().and_then(|c| c.get(key)).map(String::as_str)
}

/// The notation configuration directory, found as the host finds it.
fn config_dir() -> Result<PathBuf, PluginError> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("NOTATION_CONFIG") {
        return Ok(dir);
    }
    if let Some(dir) = var("XDG_CONFIG_HOME") {
        return Ok(dir.join("notation"));
    }
    var("HOME")
        .map(|h| h.join(".config").join("notation"))
        .ok_or_else(|| PluginError::general("cannot locate the notation configuration directory"))
}

/// Loads key `key_id` from `pluginkeys.json`. Failures carry the code
/// upstream's plugin uses for them.
fn load_signer(key_id: &str) -> Result<LocalSigner, PluginError> {
    let bad = |m: String| PluginError::new(ErrorCode::Unknown("INVALID_CERTIFICATE".into()), m);
    let file = config_dir()?.join("pluginkeys.json");
    let text = std::fs::read(&file).map_err(|e| bad(format!("{}: {e}", file.display())))?;
    let doc: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| bad(format!("{}: {e}", file.display())))?;
    let entry = doc["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["id"] == key_id)
        .ok_or_else(|| bad(format!("keyPath or certPath not found for keyId: {key_id}")))?;
    let path = |field: &str| {
        entry[field]
            .as_str()
            .map(PathBuf::from)
            .ok_or_else(|| bad(format!("keyPath or certPath not found for keyId: {key_id}")))
    };
    let (key_path, cert_path) = (path("keyPath")?, path("certPath")?);
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| bad(format!("{}: {e}", p.display())));
    let key = openssl::pkey::PKey::private_key_from_pem(&read(&key_path)?)?;
    let chain = load_certificates(&read(&cert_path)?).map_err(|e| bad(e.to_string()))?;
    LocalSigner::new(key, chain).map_err(|e| bad(e.to_string()))
}

/// Appends `command pluginConfig` to `$E2E_PLUGIN_LOG` when it is set.
fn record(command: &str, config: &Config) {
    let Some(file) = std::env::var_os("E2E_PLUGIN_LOG") else {
        return;
    };
    // The SDK runner asks the plugin for its metadata before every command
    // to check capabilities; only calls the host made are recorded.
    if std::env::args().nth(1).as_deref() != Some(command) {
        return;
    }
    let line = format!(
        "{command} {}\n",
        serde_json::to_string(config).unwrap_or_default()
    );
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
    if let Err(e) = appended {
        panic!("E2E_PLUGIN_LOG: {e}");
    }
}

fn refuse_registry_credentials() -> Result<(), PluginError> {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if set("NOTATION_USERNAME") || set("NOTATION_PASSWORD") {
        return Err(PluginError::new(
            ErrorCode::ValidationError,
            "registry credentials are not eliminated",
        ));
    }
    Ok(())
}

impl notation_plugin_sdk::Plugin for E2ePlugin {
    fn get_plugin_metadata(&self, req: GetMetadataRequest) -> PluginResult<GetMetadataResponse> {
        record("get-plugin-metadata", &req.plugin_config);
        refuse_registry_credentials()?;
        let mut caps = vec![
            Capability::SignatureVerifierTrustedIdentity,
            Capability::SignatureVerifierRevocationCheck,
        ];
        for cap in [
            Capability::SignatureGeneratorRaw,
            Capability::SignatureGeneratorEnvelope,
        ] {
            if config_value(&req.plugin_config, cap.as_str()) == Some("true") {
                caps.push(cap);
            }
        }
        let version = std::env::var("E2E_PLUGIN_VERSION").unwrap_or_else(|_| "1.0.0".into());
        Ok(GetMetadataResponse::new(
            NAME,
            "The e2e-plugin is a Notation compatible plugin for Notation E2E test",
            version,
            "https://example.invalid/notation-rs/e2e-plugin",
            caps,
        ))
    }

    fn describe_key(&self, req: DescribeKeyRequest) -> PluginResult<DescribeKeyResponse> {
        record("describe-key", &req.plugin_config);
        refuse_registry_credentials()?;
        let signer = load_signer(&req.key_id)?;
        Ok(DescribeKeyResponse {
            key_id: req.key_id,
            key_spec: signer.key_spec(),
        })
    }

    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> PluginResult<GenerateSignatureResponse> {
        record("generate-signature", &req.plugin_config);
        refuse_registry_credentials()?;
        let signer = load_signer(&req.key_id)?;
        let (signature, chain) = signer
            .sign(&req.payload)
            .map_err(|e| PluginError::general(e.to_string()))?;
        let signing_algorithm = signer
            .key_spec()
            .signing_algorithm()
            .ok_or_else(|| PluginError::general("unsupported key spec"))?;
        let mut resp = GenerateSignatureResponse {
            key_id: req.key_id.clone(),
            signature,
            signing_algorithm,
            certificate_chain: chain.iter().map(|c| c.to_der()).collect::<Result<_, _>>()?,
        };
        let cfg = &req.plugin_config;
        if let Some(v) = config_value(cfg, "TAMPER_KEY_ID") {
            resp.key_id = v.to_owned();
        }
        if let Some(v) = config_value(cfg, "TAMPER_SIGNATURE") {
            resp.signature = v.as_bytes().to_vec();
        }
        if let Some(v) = config_value(cfg, "TAMPER_SIGNATURE_ALGORITHM") {
            resp.signing_algorithm = SigningAlgorithm::from_wire(v);
        }
        if let Some(v) = config_value(cfg, "TAMPER_CERTIFICATE_CHAIN") {
            resp.certificate_chain = vec![v.as_bytes().to_vec()];
        }
        Ok(resp)
    }

    fn generate_envelope(
        &self,
        req: GenerateEnvelopeRequest,
    ) -> PluginResult<GenerateEnvelopeResponse> {
        record("generate-envelope", &req.plugin_config);
        refuse_registry_credentials()?;
        let signer = load_signer(&req.key_id)?;
        let format =
            EnvelopeFormat::from_media_type(&req.signature_envelope_type).ok_or_else(|| {
                PluginError::validation(
                    "signatureEnvelopeType",
                    format!(
                        "unsupported envelope type {:?}",
                        req.signature_envelope_type
                    ),
                )
            })?;
        let payload = Payload::from_json(&req.payload)
            .map_err(|e| PluginError::validation("payload", e.to_string()))?;
        let cfg = &req.plugin_config;
        let extended_attributes = [
            header_names::VERIFICATION_PLUGIN,
            header_names::VERIFICATION_PLUGIN_MIN_VERSION,
        ]
        .into_iter()
        .filter_map(|k| config_value(cfg, k).map(|v| ExtendedAttribute::critical_text(k, v)))
        .collect();
        let now = time::OffsetDateTime::now_utc();
        let sign_req = SignRequest {
            payload,
            signing_scheme: SigningScheme::X509,
            signing_time: now,
            expiry: req
                .expiry_duration_in_seconds
                .filter(|s| *s > 0)
                .map(|s| now + time::Duration::seconds(s as i64)),
            signing_agent: Some(NAME.to_owned()),
            extended_attributes,
        };
        let envelope = envelope::sign(format, &sign_req, &signer).map_err(|e| {
            PluginError::new(ErrorCode::Unknown("SIGNING_ERROR".into()), e.to_string())
        })?;
        let mut resp = GenerateEnvelopeResponse {
            signature_envelope: envelope,
            signature_envelope_type: req.signature_envelope_type.clone(),
            annotations: Some(BTreeMap::new()),
        };
        if let Some(v) = config_value(cfg, "TAMPER_SIGNATURE_ENVELOPE") {
            resp.signature_envelope = v.as_bytes().to_vec();
        }
        if let Some(v) = config_value(cfg, "TAMPER_SIGNATURE_ENVELOPE_TYPE") {
            resp.signature_envelope_type = v.to_owned();
        }
        if let Some(v) = config_value(cfg, "TAMPER_ANNOTATION") {
            let (k, v) = v
                .split_once('=')
                .filter(|(_, v)| !v.contains('='))
                .ok_or_else(|| PluginError::general("invalid annotation"))?;
            resp.annotations = Some(BTreeMap::from([(k.to_owned(), v.to_owned())]));
        }
        Ok(resp)
    }

    fn verify_signature(
        &self,
        req: VerifySignatureRequest,
    ) -> PluginResult<VerifySignatureResponse> {
        record("verify-signature", &req.plugin_config);
        refuse_registry_credentials()?;
        let mut results = HashMap::new();
        for (cap, reason) in [
            (
                Capability::SignatureVerifierRevocationCheck,
                "revocation check failed",
            ),
            (
                Capability::SignatureVerifierTrustedIdentity,
                "trusted identity check failed",
            ),
        ] {
            let ok = config_value(&req.plugin_config, cap.as_str()).is_none_or(|v| v == "success");
            results.insert(
                cap,
                VerificationResult {
                    success: ok,
                    reason: (!ok).then(|| reason.to_owned()),
                },
            );
        }
        Ok(VerifySignatureResponse {
            verification_results: results,
            processed_attributes: Vec::new(),
        })
    }
}

fn main() {
    notation_plugin_sdk::main(E2ePlugin)
}
