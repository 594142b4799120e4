//! A plugin that misbehaves on purpose, for the host client's tests.
//!
//! Install it as `DIR/NAME/notation-NAME`. The mode comes from NAME: for
//! `fault-MODE` the mode is MODE, any other name is mode `good`.
//!
//! | mode        | behaviour                                                   |
//! |-------------|-------------------------------------------------------------|
//! | `good`      | implements all five commands correctly (through the SDK)    |
//! | `hang`      | writes its pid to `pid` next to the executable, sleeps forever |
//! | `orphan`    | starts `sleep 1000` (pid in `grandchild-pid`) holding stdout, then `hang` |
//! | `flood`     | writes 100 MiB to stdout, exits 0                           |
//! | `chatty`    | `good`, but prints debug text to stdout (Rust and raw fd 1) |
//! | `garbage`   | writes non-JSON to stderr, exits 1                          |
//! | `exit2`     | exits 2 without output                                      |
//! | `wrongname` | `good`, but its metadata reports another name               |
//!
//! With `pluginConfig` `only=envelope`, the metadata declares only
//! `SIGNATURE_GENERATOR.ENVELOPE` (hosts prefer RAW when both are there).
//!
//! In modes `good` and `chatty`, the `fault` entry of `pluginConfig`
//! changes `describe-key`: `hang` (pid file, sleep forever), `deny` (an
//! `ACCESS_DENIED` error object), `env` (an `ERROR` whose metadata lists
//! the `NOTATION_*` variables the plugin sees).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use notation_plugin_sdk::protocol::*;
use notation_plugin_sdk::vocab::{Capability, ErrorCode, KeySpec, SigningAlgorithm};
use notation_plugin_sdk::Plugin;

struct Fault {
    name: String,
    chatty: bool,
}

fn exe_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."))
}

fn hang() -> ! {
    // Best effort: the test reads the pid to check the host reaped us.
    let _ = std::fs::write(exe_dir().join("pid"), std::process::id().to_string());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

impl Fault {
    #[allow(clippy::print_stdout)]
    fn chatter(&self, what: &str) {
        if self.chatty {
            println!("debug: {what} starting");
            print!("debug: buffered, no newline; ");
            let raw = b"debug: raw write to fd 1\n";
            // SAFETY: write(2) on fd 1 with a valid buffer and its length.
            unsafe {
                libc::write(1, raw.as_ptr().cast(), raw.len());
            }
        }
    }
}

impl Plugin for Fault {
    fn get_plugin_metadata(&self, req: GetMetadataRequest) -> PluginResult<GetMetadataResponse> {
        self.chatter("get-plugin-metadata");
        let only_envelope = req
            .plugin_config
            .as_ref()
            .and_then(|c| c.get("only"))
            .is_some_and(|v| v == "envelope");
        let capabilities = if only_envelope {
            vec![Capability::SignatureGeneratorEnvelope]
        } else {
            vec![
                Capability::SignatureGeneratorRaw,
                Capability::SignatureGeneratorEnvelope,
                Capability::SignatureVerifierTrustedIdentity,
                Capability::SignatureVerifierRevocationCheck,
            ]
        };
        Ok(GetMetadataResponse::new(
            self.name.clone(),
            "Fault-injection plugin for tests",
            "0.1.0",
            "https://example.invalid/fault",
            capabilities,
        ))
    }

    fn describe_key(&self, req: DescribeKeyRequest) -> PluginResult<DescribeKeyResponse> {
        self.chatter("describe-key");
        let fault = req
            .plugin_config
            .as_ref()
            .and_then(|c| c.get("fault"))
            .map(String::as_str);
        match fault {
            Some("hang") => hang(),
            Some("deny") => Err(PluginError::new(
                ErrorCode::AccessDenied,
                "the fault plugin denies access to every key",
            )
            .with_metadata("keyId", req.key_id)),
            Some("env") => {
                let seen: BTreeMap<String, String> = std::env::vars()
                    .filter(|(k, _)| k.starts_with("NOTATION_"))
                    .map(|(k, _)| (k, "present".to_owned()))
                    .collect();
                Err(PluginError {
                    code: ErrorCode::Error,
                    message: "environment report".into(),
                    metadata: Some(seen),
                })
            }
            _ => Ok(DescribeKeyResponse {
                key_id: req.key_id,
                key_spec: KeySpec::Ec384,
            }),
        }
    }

    fn generate_signature(
        &self,
        req: GenerateSignatureRequest,
    ) -> PluginResult<GenerateSignatureResponse> {
        self.chatter("generate-signature");
        // Not a real signature: the payload reversed, so tests can check
        // the bytes made the round trip.
        let signature = req.payload.iter().rev().copied().collect();
        Ok(GenerateSignatureResponse {
            key_id: req.key_id,
            signature,
            signing_algorithm: SigningAlgorithm::EcdsaSha384,
            certificate_chain: vec![b"leaf".to_vec(), b"root".to_vec()],
        })
    }

    fn generate_envelope(
        &self,
        req: GenerateEnvelopeRequest,
    ) -> PluginResult<GenerateEnvelopeResponse> {
        self.chatter("generate-envelope");
        let mut envelope = b"envelope:".to_vec();
        envelope.extend(&req.payload);
        let mut annotations = BTreeMap::new();
        annotations.insert("io.example.fault".to_owned(), req.payload_type);
        Ok(GenerateEnvelopeResponse {
            signature_envelope: envelope,
            signature_envelope_type: req.signature_envelope_type,
            annotations: Some(annotations),
        })
    }

    fn verify_signature(
        &self,
        req: VerifySignatureRequest,
    ) -> PluginResult<VerifySignatureResponse> {
        self.chatter("verify-signature");
        let verification_results = req
            .trust_policy
            .signature_verification
            .into_iter()
            .map(|c| {
                let ok = c != Capability::SignatureVerifierRevocationCheck;
                let reason = (!ok).then(|| "certificate revoked (fault plugin)".to_owned());
                (
                    c,
                    VerificationResult {
                        success: ok,
                        reason,
                    },
                )
            })
            .collect();
        Ok(VerifySignatureResponse {
            verification_results,
            processed_attributes: req.signature.unprocessed_attributes,
        })
    }
}

fn main() {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let file = PathBuf::from(argv0)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = file.strip_prefix("notation-").unwrap_or(&file).to_owned();
    let mode = name.strip_prefix("fault-").unwrap_or("good").to_owned();
    match mode.as_str() {
        "hang" => hang(),
        "orphan" => {
            // A grandchild that keeps our stdout open, then hang: the host
            // must kill the whole process group, not just us.
            if let Ok(child) = std::process::Command::new("sleep").arg("1000").spawn() {
                let _ = std::fs::write(exe_dir().join("grandchild-pid"), child.id().to_string());
            }
            hang()
        }
        "flood" => {
            let chunk = vec![b'x'; 1024 * 1024];
            let mut out = std::io::stdout().lock();
            for _ in 0..100 {
                if out.write_all(&chunk).is_err() {
                    break; // the host stopped reading
                }
            }
            std::process::exit(0)
        }
        "garbage" => {
            let _ = std::io::stderr().write_all(b"panic: {\"errorCode\": not json \xff\xfe\n");
            std::process::exit(1)
        }
        "exit2" => std::process::exit(2),
        "wrongname" => notation_plugin_sdk::main(Fault {
            name: "com.example.someone-else".into(),
            chatty: false,
        }),
        "chatty" => notation_plugin_sdk::main(Fault { name, chatty: true }),
        _ => notation_plugin_sdk::main(Fault {
            name,
            chatty: false,
        }),
    }
}
