//! Conformance kit: runs a plugin executable the way a host does and
//! reports, check by check, where it departs from the plugin contract.
//!
//! [`run_conformance`] never panics on plugin behaviour; every problem is a
//! failed row in the [`Report`]. The checks, by identifier:
//!
//! | id | what is checked |
//! |----|-----------------|
//! | `metadata.valid` | `get-plugin-metadata` answers a complete, valid response with known capabilities and a contract version compatible with 1.0 |
//! | `metadata.name` | the name equals the executable's `notation-NAME` and is usable as a directory name |
//! | `metadata.version` | the version is a semantic version (needed for upgrades and minimum versions) |
//! | `error.garbage-stdin` | a request that is not JSON gives exit 1 and a `VALIDATION_ERROR` object on stderr |
//! | `error.missing-key-id` | a request without `keyId` gives `VALIDATION_ERROR` |
//! | `error.contract-version` | a request with contract version 99.0 gives `UNSUPPORTED_CONTRACT_VERSION` |
//! | `describe-key` | answers the same `keyId` and a supported `keySpec` |
//! | `generate-signature` | the signature, with the algorithm the key spec implies, verifies over the payload with the returned leaf certificate |
//! | `generate-signature.certificate-chain` | the returned chain meets the signing certificate requirements |
//! | `generate-envelope.jws`, `generate-envelope.cose` | the envelope parses, verifies with its leaf, carries the request's target artifact unchanged, and its chain meets the requirements |
//! | `stdout.clean` | stdout holds exactly one JSON value on success and nothing on failure |
//! | `no-hang` | every call finished within the time-out |
//!
//! Checks that need a key are skipped (not failed) without
//! [`ConformanceOptions::key_id`]; capability-specific checks are skipped
//! when the plugin does not claim the capability.

mod report;

use std::path::Path;
use std::time::Duration;

use openssl::x509::X509;
use serde_json::{json, Value};

use crate::client::process;
use crate::descriptor::Descriptor;
use crate::envelope::{
    self, cert::check_signing_chain, key_spec_of_certificate, verify_raw, EnvelopeFormat, Payload,
    PssSaltPolicy, PAYLOAD_MEDIA_TYPE,
};
use crate::protocol::{
    self, Command, DescribeKeyResponse, GenerateEnvelopeRequest, GenerateEnvelopeResponse,
    GenerateSignatureRequest, GenerateSignatureResponse, GetMetadataResponse, Message,
    PluginConfig, PluginError, CONTRACT_VERSION,
};
use crate::vocab::{Capability, ErrorCode, KeySpec};

pub use report::{CheckResult, Outcome, Report};

/// Default per-call time-out of the kit.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How to exercise the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConformanceOptions {
    /// A key id the plugin can sign with; signing checks are skipped
    /// without one.
    pub key_id: Option<String>,
    /// `pluginConfig` sent with every request.
    pub plugin_config: Option<PluginConfig>,
    /// Time-out of each call; a call that takes longer fails `no-hang`.
    pub timeout: Duration,
    /// Cap on each output stream of each call.
    pub max_output_bytes: u64,
}

impl Default for ConformanceOptions {
    fn default() -> Self {
        ConformanceOptions {
            key_id: None,
            plugin_config: None,
            timeout: DEFAULT_TIMEOUT,
            max_output_bytes: crate::client::MAX_OUTPUT_BYTES,
        }
    }
}

/// A finished call.
struct Call {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

struct Kit<'a> {
    path: &'a Path,
    name: String,
    opts: &'a ConformanceOptions,
    rows: Vec<CheckResult>,
    stdout_problems: Vec<String>,
    hangs: Vec<String>,
}

/// Runs every check against the plugin executable at `plugin_path`.
pub fn run_conformance(plugin_path: &Path, options: &ConformanceOptions) -> Report {
    let file_name = plugin_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut kit = Kit {
        path: plugin_path,
        name: file_name,
        opts: options,
        rows: Vec::new(),
        stdout_problems: Vec::new(),
        hangs: Vec::new(),
    };
    kit.run_all();
    Report {
        plugin: plugin_path.to_owned(),
        checks: kit.rows,
    }
}

fn fail(msg: impl Into<String>) -> Outcome {
    Outcome::Fail(msg.into())
}

fn stderr_head(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let t = text.trim();
    if t.is_empty() {
        return "(empty)".to_owned();
    }
    let mut end = t.len().min(300);
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    t[..end].to_owned()
}

impl Kit<'_> {
    fn row(&mut self, id: &'static str, title: &'static str, outcome: Outcome) {
        self.rows.push(CheckResult { id, title, outcome });
    }

    fn config_value(&self) -> Value {
        match &self.opts.plugin_config {
            Some(c) => json!(c),
            None => Value::Null,
        }
    }

    /// Runs one command; records time-outs and stdout problems.
    fn call(&mut self, command: Command, input: &[u8], why: &str) -> Result<Call, String> {
        match process::invoke(
            &self.name,
            self.path,
            command,
            input,
            self.opts.timeout,
            self.opts.max_output_bytes,
        ) {
            Ok(done) => {
                let call = Call {
                    code: done.status.code(),
                    stdout: done.stdout,
                    stderr: done.stderr,
                };
                self.check_stdout(command, why, &call);
                Ok(call)
            }
            Err(crate::client::ClientError::TimedOut { timeout, .. }) => {
                let msg = format!("{command} ({why}) did not finish within {timeout:?}");
                self.hangs.push(msg.clone());
                Err(msg)
            }
            Err(e) => Err(format!("{command} ({why}): {e}")),
        }
    }

    fn check_stdout(&mut self, command: Command, why: &str, call: &Call) {
        let problem = if call.code == Some(0) {
            let mut stream =
                serde_json::Deserializer::from_slice(&call.stdout).into_iter::<Value>();
            match (stream.next(), stream.next()) {
                (Some(Ok(_)), None) => None,
                (None, _) => Some("empty stdout on success".to_owned()),
                (Some(Err(e)), _) => Some(format!("stdout is not one JSON value ({e})")),
                (Some(Ok(_)), Some(_)) => {
                    Some("stdout has more than one JSON value or trailing text".to_owned())
                }
            }
        } else if !call.stdout.iter().all(u8::is_ascii_whitespace) {
            Some(format!(
                "stdout is not empty on failure: {}",
                stderr_head(&call.stdout)
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            self.stdout_problems.push(format!("{command} ({why}): {p}"));
        }
    }

    /// Expects exit 0 and a valid response of type `T`.
    fn expect_ok<T: Message>(
        &mut self,
        command: Command,
        input: &[u8],
        why: &str,
    ) -> Result<T, String> {
        let call = self.call(command, input, why)?;
        if call.code != Some(0) {
            return Err(format!(
                "{command} failed with exit code {:?}; stderr: {}",
                call.code,
                stderr_head(&call.stderr)
            ));
        }
        protocol::from_slice::<T>(&call.stdout)
            .map_err(|e| format!("{command} answered an invalid response: {}", e.message))
    }

    /// Expects exit 1 and an error object with `code` on stderr.
    fn expect_error(
        &mut self,
        command: Command,
        input: &[u8],
        why: &str,
        code: ErrorCode,
    ) -> Outcome {
        let call = match self.call(command, input, why) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        if call.code == Some(0) {
            return fail(format!(
                "{command} succeeded for {why}; it must fail with {code}"
            ));
        }
        if call.code != Some(1) {
            return fail(format!(
                "{command} exited with {:?} for {why}; errors must exit with 1 and an error object on stderr",
                call.code
            ));
        }
        match protocol::from_slice::<PluginError>(&call.stderr) {
            Ok(err) if err.code == code => Outcome::Pass,
            Ok(err) => fail(format!(
                "{command} answered {} for {why}; expected {code} (message: {})",
                err.code, err.message
            )),
            Err(e) => fail(format!(
                "stderr is not a valid error object ({}): {}",
                e.message,
                stderr_head(&call.stderr)
            )),
        }
    }

    fn run_all(&mut self) {
        let metadata = self.check_metadata();
        let Some(metadata) = metadata else {
            self.finish();
            return;
        };
        let caps = metadata.capabilities.clone();
        let raw = caps.contains(&Capability::SignatureGeneratorRaw);
        let envelope_cap = caps.contains(&Capability::SignatureGeneratorEnvelope);
        let blob = caps.contains(&Capability::SignatureGeneratorEnvelopeForBlob);
        let signer = raw || envelope_cap || blob;
        let key_command = if raw || blob {
            Some(Command::DescribeKey)
        } else if envelope_cap {
            Some(Command::GenerateEnvelope)
        } else if caps.iter().any(Capability::is_verifier) {
            Some(Command::VerifySignature)
        } else {
            None
        };

        self.check_errors(key_command, signer);

        // describe-key and generate-signature.
        let mut key_spec = None;
        if raw || blob {
            key_spec = self.check_describe_key();
        } else {
            self.row(
                "describe-key",
                "describe-key answers the key id and a supported key spec",
                Outcome::Skip(
                    "the plugin claims neither SIGNATURE_GENERATOR.RAW nor ENVELOPE_FOR_BLOB"
                        .into(),
                ),
            );
        }
        if raw {
            self.check_generate_signature(key_spec);
        } else {
            let why = Outcome::Skip("the plugin does not claim SIGNATURE_GENERATOR.RAW".into());
            self.row(
                "generate-signature",
                "the raw signature verifies with the returned leaf certificate",
                why.clone(),
            );
            self.row(
                "generate-signature.certificate-chain",
                "the returned chain meets the certificate requirements",
                why,
            );
        }
        for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
            let id = match format {
                EnvelopeFormat::Jws => "generate-envelope.jws",
                EnvelopeFormat::Cose => "generate-envelope.cose",
            };
            let title = "the envelope parses, verifies and carries the request's payload";
            if !envelope_cap {
                self.row(
                    id,
                    title,
                    Outcome::Skip("the plugin does not claim SIGNATURE_GENERATOR.ENVELOPE".into()),
                );
                continue;
            }
            let outcome = self.check_envelope(format);
            self.row(id, title, outcome);
        }
        self.finish();
    }

    fn finish(&mut self) {
        let stdout = if self.stdout_problems.is_empty() {
            Outcome::Pass
        } else {
            fail(self.stdout_problems.join("\n"))
        };
        self.row(
            "stdout.clean",
            "stdout carries only the JSON response",
            stdout,
        );
        let hang = if self.hangs.is_empty() {
            Outcome::Pass
        } else {
            fail(self.hangs.join("\n"))
        };
        self.row("no-hang", "every call finished within the time-out", hang);
    }

    fn check_metadata(&mut self) -> Option<GetMetadataResponse> {
        let req = match &self.opts.plugin_config {
            Some(c) => json!({ "pluginConfig": c }),
            None => json!({}),
        };
        let input = req.to_string().into_bytes();
        let result =
            self.expect_ok::<GetMetadataResponse>(Command::GetPluginMetadata, &input, "metadata");
        let metadata = match result {
            Ok(m) => m,
            Err(e) => {
                self.row(
                    "metadata.valid",
                    "get-plugin-metadata answers a valid response",
                    fail(e),
                );
                let skip = Outcome::Skip("no valid metadata".into());
                self.row(
                    "metadata.name",
                    "the name matches the executable and is a valid directory name",
                    skip.clone(),
                );
                self.row(
                    "metadata.version",
                    "the version is a semantic version",
                    skip,
                );
                return None;
            }
        };
        let mut problems = Vec::new();
        if !metadata.supports_our_contract() {
            problems.push(format!(
                "supportedContractVersions {:?} has no version compatible with {CONTRACT_VERSION}",
                metadata.supported_contract_versions
            ));
        }
        let unknown: Vec<&str> = metadata
            .capabilities
            .iter()
            .filter(|c| !c.is_known())
            .map(|c| c.as_str())
            .collect();
        if !unknown.is_empty() {
            problems.push(format!("unknown capabilities {unknown:?}"));
        }
        let outcome = if problems.is_empty() {
            Outcome::Pass
        } else {
            fail(problems.join("; "))
        };
        self.row(
            "metadata.valid",
            "get-plugin-metadata answers a valid response",
            outcome,
        );

        let file = self
            .name
            .strip_suffix(".exe")
            .unwrap_or(&self.name)
            .to_owned();
        let name_outcome = match file.strip_prefix("notation-") {
            None => fail(format!(
                "the executable is named `{file}`; plugin executables must be named `notation-<plugin name>`"
            )),
            Some(expected) if expected != metadata.name => fail(format!(
                "metadata name is `{}` but the executable is `{file}`; the name must equal the part after `notation-`",
                metadata.name
            )),
            Some(_) => match crate::client::discovery::validate_name(&metadata.name) {
                Ok(()) => Outcome::Pass,
                Err(e) => fail(e.to_string()),
            },
        };
        self.row(
            "metadata.name",
            "the name matches the executable and is a valid directory name",
            name_outcome,
        );

        let v = metadata
            .version
            .strip_prefix('v')
            .unwrap_or(&metadata.version);
        let version_outcome = match semver::Version::parse(v) {
            Ok(_) => Outcome::Pass,
            Err(e) => fail(format!(
                "version `{}` is not a semantic version: {e}",
                metadata.version
            )),
        };
        self.row(
            "metadata.version",
            "the version is a semantic version",
            version_outcome,
        );
        Some(metadata)
    }

    fn envelope_request_json(&self, key_id: Option<&str>, version: &str) -> Value {
        let mut req = json!({
            "contractVersion": version,
            "payload": base64_encode(&sample_payload().to_struct_json()),
            "payloadType": PAYLOAD_MEDIA_TYPE,
            "signatureEnvelopeType": EnvelopeFormat::Jws.media_type(),
        });
        if let Some(k) = key_id {
            req["keyId"] = json!(k);
        }
        if let Some(c) = &self.opts.plugin_config {
            req["pluginConfig"] = json!(c);
        }
        req
    }

    fn check_errors(&mut self, key_command: Option<Command>, signer: bool) {
        let garbage_title = "a request that is not JSON gives VALIDATION_ERROR";
        let missing_title = "a request without keyId gives VALIDATION_ERROR";
        let version_title = "contract version 99.0 gives UNSUPPORTED_CONTRACT_VERSION";
        let Some(command) = key_command else {
            let skip = Outcome::Skip("the plugin claims no command besides metadata".into());
            self.row("error.garbage-stdin", garbage_title, skip.clone());
            self.row("error.missing-key-id", missing_title, skip.clone());
            self.row("error.contract-version", version_title, skip);
            return;
        };
        let outcome = self.expect_error(
            command,
            b"this is not JSON {",
            "garbage stdin",
            ErrorCode::ValidationError,
        );
        self.row("error.garbage-stdin", garbage_title, outcome);

        let key_id = self
            .opts
            .key_id
            .clone()
            .unwrap_or_else(|| "conformance-key".into());
        let request = |with_key: bool, version: &str| -> Value {
            match command {
                Command::GenerateEnvelope => {
                    self.envelope_request_json(with_key.then_some(key_id.as_str()), version)
                }
                Command::VerifySignature => json!({
                    "contractVersion": version,
                    "signature": {
                        "criticalAttributes": {
                            "contentType": PAYLOAD_MEDIA_TYPE,
                            "signingScheme": "notary.x509",
                        },
                        "unprocessedAttributes": [],
                        "certificateChain": [],
                    },
                    "trustPolicy": {
                        "trustedIdentities": [],
                        "signatureVerification": [],
                    },
                    "pluginConfig": self.config_value(),
                }),
                _ => {
                    let mut r =
                        json!({ "contractVersion": version, "pluginConfig": self.config_value() });
                    if with_key {
                        r["keyId"] = json!(key_id);
                    }
                    r
                }
            }
        };
        let missing_key = request(false, CONTRACT_VERSION).to_string().into_bytes();
        let bad_version = request(true, "99.0").to_string().into_bytes();
        if signer {
            let outcome = self.expect_error(
                command,
                &missing_key,
                "a request without keyId",
                ErrorCode::ValidationError,
            );
            self.row("error.missing-key-id", missing_title, outcome);
        } else {
            self.row(
                "error.missing-key-id",
                missing_title,
                Outcome::Skip("not a signing plugin".into()),
            );
        }
        let outcome = self.expect_error(
            command,
            &bad_version,
            "contract version 99.0",
            ErrorCode::UnsupportedContractVersion,
        );
        self.row("error.contract-version", version_title, outcome);
    }

    fn check_describe_key(&mut self) -> Option<KeySpec> {
        let title = "describe-key answers the key id and a supported key spec";
        let Some(key_id) = self.opts.key_id.clone() else {
            self.row(
                "describe-key",
                title,
                Outcome::Skip("no key id given (--key-id)".into()),
            );
            return None;
        };
        let req = json!({
            "contractVersion": CONTRACT_VERSION,
            "keyId": key_id,
            "pluginConfig": self.config_value(),
        });
        let input = req.to_string().into_bytes();
        match self.expect_ok::<DescribeKeyResponse>(
            Command::DescribeKey,
            &input,
            "describe the key",
        ) {
            Err(e) => {
                self.row("describe-key", title, fail(e));
                None
            }
            Ok(resp) if resp.key_id != key_id => {
                self.row(
                    "describe-key",
                    title,
                    fail(format!(
                        "keyId in the response is {:?}, the request had {key_id:?}",
                        resp.key_id
                    )),
                );
                None
            }
            Ok(resp) if !resp.key_spec.is_known() => {
                self.row(
                    "describe-key",
                    title,
                    fail(format!(
                        "keySpec {:?} is not one of the supported key specs",
                        resp.key_spec.as_str()
                    )),
                );
                None
            }
            Ok(resp) => {
                self.row("describe-key", title, Outcome::Pass);
                Some(resp.key_spec)
            }
        }
    }

    fn check_generate_signature(&mut self, key_spec: Option<KeySpec>) {
        let title = "the raw signature verifies with the returned leaf certificate";
        let chain_title = "the returned chain meets the certificate requirements";
        let (Some(key_id), Some(key_spec)) = (self.opts.key_id.clone(), key_spec) else {
            let why = Outcome::Skip("needs a key id and a successful describe-key".into());
            self.row("generate-signature", title, why.clone());
            self.row("generate-signature.certificate-chain", chain_title, why);
            return;
        };
        // Both known, since describe-key passed.
        let (Some(alg), Some(hash)) = (key_spec.signing_algorithm(), key_spec.hash_algorithm())
        else {
            return;
        };
        let payload = b"eyJhbGciOiJQUzI1NiJ9.eyJjb25mb3JtYW5jZSI6dHJ1ZX0".to_vec();
        let req = GenerateSignatureRequest {
            contract_version: CONTRACT_VERSION.to_owned(),
            key_id: key_id.clone(),
            plugin_config: self.opts.plugin_config.clone(),
            key_spec: key_spec.clone(),
            hash_algorithm: hash,
            payload: payload.clone(),
        };
        let input = match protocol::to_vec(&req) {
            Ok(i) => i,
            Err(e) => {
                self.row("generate-signature", title, fail(e.message));
                return;
            }
        };
        let resp = match self.expect_ok::<GenerateSignatureResponse>(
            Command::GenerateSignature,
            &input,
            "sign",
        ) {
            Ok(r) => r,
            Err(e) => {
                let skip = Outcome::Skip("generate-signature failed".into());
                self.row("generate-signature", title, fail(e));
                self.row("generate-signature.certificate-chain", chain_title, skip);
                return;
            }
        };
        let chain: Result<Vec<X509>, String> = resp
            .certificate_chain
            .iter()
            .enumerate()
            .map(|(i, der)| {
                X509::from_der(der)
                    .map_err(|_| format!("certificateChain[{i}] is not a DER certificate"))
            })
            .collect();
        let outcome =
            (|| -> Result<(), String> {
                if resp.key_id != key_id {
                    return Err(format!(
                        "keyId in the response is {:?}, the request had {key_id:?}",
                        resp.key_id
                    ));
                }
                if resp.signing_algorithm != alg {
                    return Err(format!(
                        "signingAlgorithm is {} but key spec {} requires {}",
                        resp.signing_algorithm, key_spec, alg
                    ));
                }
                let chain = chain.as_ref().map_err(Clone::clone)?;
                let leaf = chain.first().ok_or("certificateChain is empty")?;
                let leaf_spec = key_spec_of_certificate(leaf).map_err(|e| e.to_string())?;
                if leaf_spec != key_spec {
                    return Err(format!(
                    "the leaf certificate's key is {leaf_spec} but describe-key said {key_spec}"
                ));
                }
                let pk = leaf.public_key().map_err(|e| e.to_string())?;
                if verify_raw(
                    &alg,
                    &pk,
                    &payload,
                    &resp.signature,
                    PssSaltPolicy::DigestLength,
                )
                .is_ok()
                {
                    return Ok(());
                }
                if verify_raw(&alg, &pk, &payload, &resp.signature, PssSaltPolicy::Auto).is_ok() {
                    return Err("the RSASSA-PSS salt length is not the hash length".into());
                }
                Err(format!(
                "the signature does not verify over the payload with the leaf certificate's key \
                 ({alg}; ECDSA must be r || s, hashing with {})",
                key_spec.hash_algorithm().map(|h| h.to_string()).unwrap_or_default()
            ))
            })();
        self.row(
            "generate-signature",
            title,
            outcome.map_or_else(fail, |()| Outcome::Pass),
        );
        let chain_outcome = match chain {
            Err(e) => fail(e),
            Ok(chain) => match check_signing_chain(&chain) {
                Ok(()) => Outcome::Pass,
                Err(e) => fail(e.to_string()),
            },
        };
        self.row(
            "generate-signature.certificate-chain",
            chain_title,
            chain_outcome,
        );
    }

    fn check_envelope(&mut self, format: EnvelopeFormat) -> Outcome {
        let Some(key_id) = self.opts.key_id.clone() else {
            return Outcome::Skip("no key id given (--key-id)".into());
        };
        let payload = sample_payload();
        let req = GenerateEnvelopeRequest {
            contract_version: CONTRACT_VERSION.to_owned(),
            key_id,
            plugin_config: self.opts.plugin_config.clone(),
            expiry_duration_in_seconds: Some(3600),
            payload: payload.to_struct_json(),
            payload_type: PAYLOAD_MEDIA_TYPE.to_owned(),
            signature_envelope_type: format.media_type().to_owned(),
        };
        let input = match protocol::to_vec(&req) {
            Ok(i) => i,
            Err(e) => return fail(e.message),
        };
        let call = match self.call(Command::GenerateEnvelope, &input, format.name()) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        if call.code != Some(0) {
            if let Ok(err) = protocol::from_slice::<PluginError>(&call.stderr) {
                if format == EnvelopeFormat::Cose && err.code == ErrorCode::ValidationError {
                    return Outcome::Skip(format!(
                        "the plugin does not produce COSE: {}",
                        err.message
                    ));
                }
            }
            return fail(format!(
                "generate-envelope failed with exit code {:?}; stderr: {}",
                call.code,
                stderr_head(&call.stderr)
            ));
        }
        let resp = match protocol::from_slice::<GenerateEnvelopeResponse>(&call.stdout) {
            Ok(r) => r,
            Err(e) => return fail(format!("invalid response: {}", e.message)),
        };
        if resp.signature_envelope_type != format.media_type() {
            return fail(format!(
                "signatureEnvelopeType is {:?}, the request asked for {:?}",
                resp.signature_envelope_type,
                format.media_type()
            ));
        }
        let env = match envelope::parse(format, &resp.signature_envelope) {
            Ok(e) => e,
            Err(e) => return fail(format!("the envelope does not parse as {format}: {e}")),
        };
        if let Err(e) = env.verify_integrity() {
            return fail(format!(
                "the envelope does not verify with its leaf certificate: {e}"
            ));
        }
        match env.payload() {
            Ok(p) => {
                let (want, got) = (&payload.target_artifact, &p.target_artifact);
                if want.media_type != got.media_type
                    || want.digest != got.digest
                    || want.size != got.size
                {
                    return fail(
                        "the envelope's targetArtifact differs from the request's payload",
                    );
                }
                let want_ann = want.annotations.clone().unwrap_or_default();
                let got_ann = got.annotations.clone().unwrap_or_default();
                if want_ann.iter().any(|(k, v)| got_ann.get(k) != Some(v)) {
                    return fail("the envelope dropped or changed annotations of the request's targetArtifact");
                }
            }
            Err(e) => {
                return fail(format!(
                    "the envelope's payload is not a Notary payload: {e}"
                ))
            }
        }
        match check_signing_chain(&env.certificate_chain) {
            Ok(()) => Outcome::Pass,
            Err(e) => fail(format!("certificate chain: {e}")),
        }
    }
}

fn sample_payload() -> Payload {
    let mut d = Descriptor::new(
        "application/vnd.oci.image.manifest.v1+json",
        "sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333",
        16724,
    );
    d.annotations = Some([("io.example.conformance".to_owned(), "kept".to_owned())].into());
    Payload::new(d)
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
