//! Detached signatures of arbitrary files ("blobs").
//!
//! Signing: the blob is described by a descriptor (`mediaType` from the
//! user, `digest` with the hash algorithm of the signing key's key spec —
//! SHA-256, SHA-384 or SHA-512 as the signature specification's algorithm
//! selection assigns —, `size` in bytes), which becomes the payload's
//! `targetArtifact`, exactly as for an OCI artifact. The envelope is written
//! to `{blob file name}.{jws|cose}.sig`.
//!
//! Keys: the same as [`crate::signing`] (local key, or a plugin). A plugin
//! with `SIGNATURE_GENERATOR.RAW` signs raw payloads (preferred, as for
//! OCI); otherwise it must have `SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB`:
//! `describe-key` gives the key spec (hence the digest algorithm), then
//! `generate-envelope` makes the envelope, which is checked as for OCI.
//!
//! Verification: the envelope format comes from the signature file
//! extension (else both formats are tried); the blob is digested with the
//! hash algorithm of the envelope's signature algorithm (the algorithm
//! deduced from the signing key), and the signed descriptor's digest, size
//! and (when given) media type must match. Everything else is the
//! verifier's workflow, under the blob trust policy statement chosen by
//! name or the global statement ([`crate::trustpolicy::blob`]).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use notation_plugin_sdk::client::ExternalPlugin;
use notation_plugin_sdk::descriptor::Descriptor;
use notation_plugin_sdk::envelope::{self, EnvelopeFormat, Signer};
use notation_plugin_sdk::protocol::{DescribeKeyRequest, CONTRACT_VERSION};
use notation_plugin_sdk::vocab::{Capability, HashAlgorithm, KeySpec};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::config::{ConfigDir, ConfigError, KeyRef};
use crate::signing::{self, KeySelection, SignOptions, SigningError, SigningKey};
use crate::trustpolicy::blob::BlobPolicyError;
use crate::trustpolicy::{PolicyStatement, Scopes, TrustPolicy};
use crate::truststore::TrustStore;
use crate::verifier::{Check, CheckStatus, Failure, SignatureOutcome, Verifier, VerifyInput};

/// Media type of a blob when the user gives none.
pub const DEFAULT_MEDIA_TYPE: &str = "application/octet-stream";

/// Suffix of every blob signature file name.
pub const SIGNATURE_SUFFIX: &str = ".sig";

/// Why signing or verifying a blob failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The blob could not be read.
    #[error("cannot read blob {}: {source}", path.display())]
    ReadBlob {
        /// The blob.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The blob path names no file (e.g. `/` or `..`).
    #[error("{} does not name a file: give the path of the blob to sign", path.display())]
    NotAFileName {
        /// The path given.
        path: PathBuf,
    },
    /// `--media-type` is not `type/subtype`.
    #[error("invalid media type {value:?}: use the form type/subtype, for example application/octet-stream")]
    InvalidMediaType {
        /// The value given.
        value: String,
    },
    /// The signature file exists and `--force` was not given.
    #[error("signature file {} already exists: use --force to overwrite it, or --signature-directory to write elsewhere", path.display())]
    SignatureExists {
        /// The file.
        path: PathBuf,
    },
    /// The signature file could not be written.
    #[error("cannot write signature file {}: {source}", path.display())]
    WriteSignature {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The signature file could not be read (or is too large).
    #[error("cannot read signature file {}: {source}", path.display())]
    ReadSignature {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The signature file is not a decodable envelope.
    #[error("signature file {} is not a valid {format} signature envelope: {source}", path.display())]
    InvalidSignature {
        /// The file.
        path: PathBuf,
        /// The format tried.
        format: EnvelopeFormat,
        /// Why it does not decode.
        source: envelope::EnvelopeError,
    },
    /// Key resolution or envelope generation failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// The plugin has neither `SIGNATURE_GENERATOR.RAW` nor
    /// `SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB`.
    #[error("plugin {plugin} cannot sign blobs: its capabilities include neither SIGNATURE_GENERATOR.RAW nor SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB")]
    PluginCannotSignBlob {
        /// Plugin name.
        plugin: String,
    },
    /// The envelope was made with another algorithm than the key spec the
    /// digest was computed for.
    #[error("the signature was made with {signed}, but the key was described as {key_spec} (which signs with {expected}); the key's plugin or certificate is inconsistent")]
    AlgorithmMismatch {
        /// The key spec.
        key_spec: String,
        /// The algorithm the key spec implies.
        expected: String,
        /// The algorithm of the envelope.
        signed: String,
    },
    /// The blob trust policy could not be loaded or is invalid.
    #[error(transparent)]
    Policy(BlobPolicyError),
    /// No statement applies (unknown name, or no global statement).
    #[error("signature verification failed: {0}")]
    NoApplicablePolicy(#[source] BlobPolicyError),
    /// The signature was not accepted, yet no check reported a failure
    /// (should not happen; verification fails closed).
    #[error("signature verification failed: verification did not complete")]
    VerificationIncomplete,
    /// A check failed and the policy enforces it.
    #[error("signature verification failed: {}", blob_failure_line(*check, failure))]
    VerificationFailed {
        /// The failing check.
        check: Check,
        /// Why.
        failure: Failure,
    },
}

/// Upstream's words for a failed blob check: a blob whose digest, size or
/// media type differs from the signed descriptor is `integrity check failed.
/// signature does not match the given blob`; other failures read as for an
/// OCI artifact (`NAME validation failed. Failure reason: ...`).
fn blob_failure_line(check: Check, failure: &Failure) -> String {
    match failure {
        Failure::TargetDigestMismatch { .. } | Failure::TargetDescriptorMismatch { .. } => {
            format!("integrity check failed. signature does not match the given blob ({failure})")
        }
        _ => crate::verifier::failure_line(check, failure),
    }
}

/// A signing key and the key spec that decides the blob's digest algorithm.
#[derive(Debug)]
pub struct BlobSigningKey {
    /// The key, as used for OCI signing.
    pub key: SigningKey,
    /// Its key spec.
    pub key_spec: KeySpec,
}

/// Resolves `selection` for blob signing: a local key, a plugin with
/// `SIGNATURE_GENERATOR.RAW`, or (else) a plugin with
/// `SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB` after `describe-key`.
pub fn load_key(
    config: &ConfigDir,
    selection: &KeySelection,
    extra_plugin_config: &BTreeMap<String, String>,
) -> Result<BlobSigningKey, BlobError> {
    let (plugin, key_id, plugin_config) =
        match signing::load_key(config, selection, extra_plugin_config) {
            Ok(SigningKey::Local(s)) => {
                return Ok(BlobSigningKey {
                    key_spec: s.key_spec(),
                    key: SigningKey::Local(s),
                })
            }
            Ok(SigningKey::PluginRaw(s)) => {
                return Ok(BlobSigningKey {
                    key_spec: s.key_spec(),
                    key: SigningKey::PluginRaw(s),
                })
            }
            Ok(SigningKey::PluginEnvelope {
                plugin,
                key_id,
                config,
            }) => (plugin, key_id, config),
            // Possibly a plugin with only ENVELOPE_FOR_BLOB.
            Err(SigningError::PluginCannotSign { plugin }) => {
                let (key_id, plugin_config) =
                    plugin_key_ref(config, selection, extra_plugin_config)?;
                let external =
                    ExternalPlugin::find(&config.plugins_dir(), &plugin).map_err(|source| {
                        SigningError::Plugin {
                            plugin: plugin.clone(),
                            source,
                        }
                    })?;
                (external, key_id, plugin_config)
            }
            Err(e) => return Err(e.into()),
        };
    envelope_for_blob_key(plugin, key_id, plugin_config)
}

/// The key id and plugin config of a plugin key selection.
fn plugin_key_ref(
    config: &ConfigDir,
    selection: &KeySelection,
    extra: &BTreeMap<String, String>,
) -> Result<(String, BTreeMap<String, String>), BlobError> {
    let (id, mut plugin_config) = match selection {
        KeySelection::Plugin { id, .. } => (id.clone(), BTreeMap::new()),
        KeySelection::Default | KeySelection::Named(_) => {
            let keys = config.load_signing_keys().map_err(SigningError::from)?;
            let suite = match selection {
                KeySelection::Named(name) => keys.get(name),
                _ => keys.default_key(),
            }
            .ok_or(SigningError::NoDefaultKey)?;
            match suite.key_ref().map_err(SigningError::from)? {
                KeyRef::Plugin { id, config, .. } => {
                    (id.to_string(), config.cloned().unwrap_or_default())
                }
                KeyRef::Local { .. } => {
                    // load_key answered for a plugin key; the file changed.
                    return Err(SigningError::Config(ConfigError::KeyNotFound {
                        name: suite.name.clone(),
                    })
                    .into());
                }
            }
        }
    };
    plugin_config.extend(extra.clone());
    Ok((id, plugin_config))
}

fn envelope_for_blob_key(
    plugin: ExternalPlugin,
    key_id: String,
    plugin_config: BTreeMap<String, String>,
) -> Result<BlobSigningKey, BlobError> {
    let name = plugin.name().to_string();
    let plugin_err = |source| SigningError::Plugin {
        plugin: name.clone(),
        source,
    };
    let config_opt = (!plugin_config.is_empty()).then(|| plugin_config.clone());
    let metadata = plugin.metadata(config_opt.as_ref()).map_err(plugin_err)?;
    if !metadata
        .capabilities
        .contains(&Capability::SignatureGeneratorEnvelopeForBlob)
    {
        return Err(BlobError::PluginCannotSignBlob { plugin: name });
    }
    let described = plugin
        .describe_key(DescribeKeyRequest {
            contract_version: CONTRACT_VERSION.to_string(),
            key_id: key_id.clone(),
            plugin_config: config_opt,
        })
        .map_err(plugin_err)?;
    if described.key_spec.hash_algorithm().is_none() {
        return Err(SigningError::PluginResponse {
            plugin: name,
            what: "key spec",
            reason: format!("{:?} is not a supported key spec", described.key_spec),
        }
        .into());
    }
    Ok(BlobSigningKey {
        key_spec: described.key_spec,
        key: SigningKey::PluginEnvelope {
            plugin,
            key_id,
            config: plugin_config,
        },
    })
}

/// Whether `value` is a plausible `type/subtype` media type (RFC 6838
/// restricted names, parameters allowed after `;`).
pub fn is_valid_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((t, s)) = essence.split_once('/') else {
        return false;
    };
    let name = |x: &str| {
        !x.is_empty()
            && x.len() <= 127
            && x.as_bytes()[0].is_ascii_alphanumeric()
            && x.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    name(t) && name(s)
}

/// Digests the file at `path` with `hash` in one pass and returns
/// `algorithm:hex` and the number of bytes read.
pub fn digest_file(path: &Path, hash: &HashAlgorithm) -> Result<(String, u64), BlobError> {
    let read_err = |source| BlobError::ReadBlob {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    fn run<D: Digest>(file: &mut std::fs::File, prefix: &str) -> std::io::Result<(String, u64)> {
        let mut hasher = D::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut size: u64 = 0;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        Ok((format!("{prefix}:{}", hex::encode(hasher.finalize())), size))
    }
    match hash {
        HashAlgorithm::Sha256 => run::<Sha256>(&mut file, "sha256"),
        HashAlgorithm::Sha384 => run::<Sha384>(&mut file, "sha384"),
        HashAlgorithm::Sha512 => run::<Sha512>(&mut file, "sha512"),
        HashAlgorithm::Unknown(name) => Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!("hash algorithm {name:?} is not supported"),
        )),
    }
    .map_err(read_err)
}

/// The descriptor of the blob at `path`.
pub fn blob_descriptor(
    path: &Path,
    media_type: &str,
    hash: &HashAlgorithm,
) -> Result<Descriptor, BlobError> {
    if !is_valid_media_type(media_type) {
        return Err(BlobError::InvalidMediaType {
            value: media_type.to_string(),
        });
    }
    let (digest, size) = digest_file(path, hash)?;
    Ok(Descriptor::new(media_type, digest, size))
}

/// Signs the blob at `path` and returns the envelope bytes.
pub fn sign(
    key: &BlobSigningKey,
    path: &Path,
    media_type: &str,
    options: &SignOptions,
) -> Result<Vec<u8>, BlobError> {
    let hash = key
        .key_spec
        .hash_algorithm()
        .ok_or_else(|| envelope::EnvelopeError::UnsupportedKeySpec {
            key_spec: key.key_spec.clone(),
        })
        .map_err(SigningError::from)?;
    let descriptor = blob_descriptor(path, media_type, &hash)?;
    let bytes = signing::make_envelope(&key.key, &descriptor, options)?;
    // The digest algorithm was chosen from the key spec: the envelope must
    // be signed with the matching algorithm, or no verifier would accept it.
    let env = envelope::parse(options.format, &bytes).map_err(SigningError::from)?;
    let expected = key.key_spec.signing_algorithm();
    if expected.as_ref() != Some(&env.signing_algorithm) {
        return Err(BlobError::AlgorithmMismatch {
            key_spec: key.key_spec.as_str().to_string(),
            expected: expected.map(|a| a.as_str().to_string()).unwrap_or_default(),
            signed: env.signing_algorithm.as_str().to_string(),
        });
    }
    Ok(bytes)
}

/// `{directory}/{blob file name}.{format}.sig`, where `directory` defaults
/// to the current directory (`.`), as upstream's `--signature-directory`.
pub fn signature_path(
    blob: &Path,
    directory: Option<&Path>,
    format: EnvelopeFormat,
) -> Result<PathBuf, BlobError> {
    let file_name = blob.file_name().ok_or_else(|| BlobError::NotAFileName {
        path: blob.to_path_buf(),
    })?;
    let mut name = file_name.to_os_string();
    name.push(format!(".{}{SIGNATURE_SUFFIX}", format.name()));
    let dir = match directory {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(dir.join(name))
}

/// `path` made absolute (against the current directory) and cleaned
/// lexically: no `.` components, and each `..` removes the component
/// before it (as Go's `filepath.Abs`, so what is printed matches
/// upstream). Symbolic links are not resolved. If the current directory
/// is unknown, the path is only cleaned.
pub fn absolute_clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                // `..` at the root stays at the root.
                Some(Component::RootDir | Component::Prefix(_)) => {}
                // Nothing left to remove (only when the path stayed relative).
                None | Some(Component::ParentDir) => out.push(".."),
                Some(_) => {
                    out.pop();
                }
            },
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Writes the signature file atomically; an existing file is replaced only
/// with `force`.
pub fn write_signature(path: &Path, bytes: &[u8], force: bool) -> Result<(), BlobError> {
    let result = if force {
        crate::fsutil::atomic_write(path, bytes, crate::fsutil::MODE_PUBLIC)
    } else {
        crate::fsutil::atomic_create_new(path, bytes, crate::fsutil::MODE_PUBLIC)
    };
    result.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            BlobError::SignatureExists {
                path: path.to_path_buf(),
            }
        } else {
            BlobError::WriteSignature {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// Reads a signature file (at most [`envelope::MAX_ENVELOPE_SIZE`] bytes).
pub fn read_signature(path: &Path) -> Result<Vec<u8>, BlobError> {
    crate::fsutil::read_capped(path, envelope::MAX_ENVELOPE_SIZE as u64).map_err(|source| {
        BlobError::ReadSignature {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// The envelope format of a signature file: from its `.jws.sig` /
/// `.cose.sig` extension (any case, as the name check reads it), else the
/// first format that decodes `bytes` (JWS when neither does; verification
/// then reports why).
pub fn signature_format(path: &Path, bytes: &[u8]) -> EnvelopeFormat {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        if name.ends_with(&format!(".{}{SIGNATURE_SUFFIX}", format.name())) {
            return format;
        }
    }
    [EnvelopeFormat::Jws, EnvelopeFormat::Cose]
        .into_iter()
        .find(|f| envelope::parse(*f, bytes).is_ok())
        .unwrap_or(EnvelopeFormat::Jws)
}

/// A verifier that applies `statement` to every signature (the blob
/// statement is already chosen; see
/// [`BlobTrustPolicy::select`](crate::trustpolicy::blob::BlobTrustPolicy::select)).
pub fn verifier(
    statement: &PolicyStatement,
    trust_store: TrustStore,
    plugin_dir: Option<PathBuf>,
) -> Verifier {
    let mut only = statement.clone();
    only.scopes = Scopes::Global;
    Verifier::new(
        TrustPolicy {
            statements: vec![only],
        },
        trust_store,
        plugin_dir,
    )
}

/// One blob signature to verify.
#[derive(Debug, Clone)]
pub struct BlobVerifyRequest<'a> {
    /// The blob.
    pub blob: &'a Path,
    /// The envelope bytes.
    pub signature: &'a [u8],
    /// Their format (see [`signature_format`]).
    pub format: EnvelopeFormat,
    /// `--media-type`: must equal the signed media type when given.
    pub media_type: Option<String>,
    /// `-m key=value` pairs that must be in the signed payload.
    pub user_metadata: BTreeMap<String, String>,
    /// `--plugin-config` for a verification plugin.
    pub plugin_config: BTreeMap<String, String>,
}

/// Verifies one blob signature with `verifier` (from [`verifier`]). Returns
/// the outcome when the signature is accepted (possibly with logged
/// failures, or skipped by a `skip` statement), else the enforced failure.
pub fn verify(
    verifier: &Verifier,
    request: &BlobVerifyRequest<'_>,
) -> Result<SignatureOutcome, BlobError> {
    // Digest with the algorithm of the envelope's signature (deduced from
    // the signing key). An envelope that does not decode is digested with
    // SHA-256 only so that the verifier reports the decoding failure.
    let hash = envelope::parse(request.format, request.signature)
        .ok()
        .and_then(|env| env.signing_algorithm.hash_algorithm())
        .unwrap_or(HashAlgorithm::Sha256);
    let (digest, size) = digest_file(request.blob, &hash)?;
    let input = VerifyInput {
        repository: request.blob.display().to_string(),
        target_digest: digest,
        target_size: Some(size),
        target_media_type: request.media_type.clone(),
        envelope: request.signature.to_vec(),
        envelope_media_type: request.format.media_type().to_string(),
        user_metadata: request.user_metadata.clone(),
        plugin_config: request.plugin_config.clone(),
    };
    let outcome = verifier
        .verify_signature(&input)
        .map_err(|e| BlobError::Policy(BlobPolicyError::Policy(e)))?;
    if outcome.passed() {
        return Ok(outcome);
    }
    for (check, status) in outcome.checks {
        if let CheckStatus::Failed(failure) = status {
            return Err(BlobError::VerificationFailed { check, failure });
        }
    }
    // Not accepted without an enforced failure: fail closed.
    Err(BlobError::VerificationIncomplete)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trustpolicy::blob::{BlobTrustPolicy, PolicySelector};
    use crate::trustpolicy::VerificationLevel;
    use notation_plugin_sdk::envelope::LocalSigner;

    fn local_key(spec: KeySpec) -> BlobSigningKey {
        let (key, chain) = envelope::testing::generate_chain(&spec).unwrap();
        let signer = LocalSigner::new(key, chain).unwrap();
        BlobSigningKey {
            key_spec: signer.key_spec(),
            key: SigningKey::Local(signer),
        }
    }

    fn options(format: EnvelopeFormat) -> SignOptions {
        SignOptions {
            format,
            expiry: None,
            user_metadata: [("buildId".to_string(), "7".to_string())].into(),
            plugin_config: BTreeMap::new(),
        }
    }

    fn audit_statement() -> PolicyStatement {
        // Audit: integrity enforced, the (untrusted) test chain only logged.
        let policy = BlobTrustPolicy::from_json(
            br#"{"version":"1.0","trustPolicies":[{"name":"a","globalPolicy":true,
                "signatureVerification":{"level":"audit","override":{"revocation":"skip"}},
                "trustStores":["ca:none"],"trustedIdentities":["*"]}]}"#,
        )
        .unwrap();
        policy.select(&PolicySelector::Global).unwrap().clone()
    }

    #[test]
    fn digest_algorithm_follows_the_key_spec() {
        let dir = tempfile::tempdir().unwrap();
        let blob = dir.path().join("b.bin");
        std::fs::write(&blob, b"hello blob").unwrap();
        for (spec, prefix, hex_len) in [
            (KeySpec::Ec256, "sha256:", 64),
            (KeySpec::Ec384, "sha384:", 96),
            (KeySpec::Ec521, "sha512:", 128),
        ] {
            let key = local_key(spec);
            let bytes = sign(&key, &blob, "text/plain", &options(EnvelopeFormat::Jws)).unwrap();
            let env = envelope::parse(EnvelopeFormat::Jws, &bytes).unwrap();
            let t = env.payload().unwrap().target_artifact;
            assert!(t.digest.starts_with(prefix), "{}", t.digest);
            assert_eq!(t.digest.len(), prefix.len() + hex_len);
            assert_eq!(t.size, 10);
            assert_eq!(t.media_type, "text/plain");
            assert_eq!(
                t.annotations.unwrap().get("buildId").map(String::as_str),
                Some("7")
            );
        }
        let (d, n) = digest_file(&blob, &HashAlgorithm::Sha256).unwrap();
        assert_eq!(n, 10);
        assert_eq!(
            d,
            format!("sha256:{}", hex::encode(Sha256::digest(b"hello blob")))
        );
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        let dir = tempfile::tempdir().unwrap();
        let blob = dir.path().join("b.bin");
        std::fs::write(&blob, b"payload bytes").unwrap();
        let statement = audit_statement();
        let v = verifier(&statement, TrustStore::new(dir.path().join("ts")), None);
        for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
            let key = local_key(KeySpec::Rsa3072);
            let sig = sign(&key, &blob, DEFAULT_MEDIA_TYPE, &options(format)).unwrap();
            let mut req = BlobVerifyRequest {
                blob: &blob,
                signature: &sig,
                format,
                media_type: None,
                user_metadata: BTreeMap::new(),
                plugin_config: BTreeMap::new(),
            };
            let outcome = verify(&v, &req).unwrap();
            assert_eq!(outcome.level, VerificationLevel::Audit);
            assert!(matches!(
                outcome.status(Check::Integrity),
                CheckStatus::Passed
            ));

            req.media_type = Some(DEFAULT_MEDIA_TYPE.into());
            req.user_metadata = [("buildId".to_string(), "7".to_string())].into();
            verify(&v, &req).unwrap();

            req.media_type = Some("application/other".into());
            match verify(&v, &req) {
                Err(BlobError::VerificationFailed { check, .. }) => {
                    assert_eq!(check, Check::Integrity)
                }
                other => panic!("{other:?}"),
            }
            req.media_type = None;

            req.user_metadata = [("buildId".to_string(), "8".to_string())].into();
            match verify(&v, &req) {
                Err(BlobError::VerificationFailed { check, .. }) => {
                    assert_eq!(check, Check::UserMetadata)
                }
                other => panic!("{other:?}"),
            }
            req.user_metadata.clear();

            // Another blob: same size, different content.
            let other = dir.path().join("other.bin");
            std::fs::write(&other, b"payload bytez").unwrap();
            req.blob = &other;
            match verify(&v, &req) {
                Err(BlobError::VerificationFailed { check, failure }) => {
                    assert_eq!(check, Check::Integrity);
                    assert!(matches!(failure, Failure::TargetDigestMismatch { .. }));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn file_names_and_formats() {
        // Default: the current directory, whatever the blob's directory.
        let p = signature_path(Path::new("/tmp/x/my-blob.bin"), None, EnvelopeFormat::Jws).unwrap();
        assert_eq!(p, Path::new("./my-blob.bin.jws.sig"));
        let p = signature_path(
            Path::new("my-blob.bin"),
            Some(Path::new("/sigs")),
            EnvelopeFormat::Cose,
        )
        .unwrap();
        assert_eq!(p, Path::new("/sigs/my-blob.bin.cose.sig"));
        let p = signature_path(Path::new("my-blob.bin"), None, EnvelopeFormat::Jws).unwrap();
        assert_eq!(p, Path::new("./my-blob.bin.jws.sig"));
        assert!(signature_path(Path::new("/"), None, EnvelopeFormat::Jws).is_err());

        assert_eq!(
            signature_format(Path::new("a.cose.sig"), b"{}"),
            EnvelopeFormat::Cose
        );
        assert_eq!(
            signature_format(Path::new("a.jws.sig"), b""),
            EnvelopeFormat::Jws
        );
        // The name check accepts any case; so does the format from the name.
        assert_eq!(
            signature_format(Path::new("a.COSE.sig"), b"{}"),
            EnvelopeFormat::Cose
        );
        let key = local_key(KeySpec::Ec256);
        let dir = tempfile::tempdir().unwrap();
        let blob = dir.path().join("b");
        std::fs::write(&blob, b"x").unwrap();
        let cose = sign(
            &key,
            &blob,
            DEFAULT_MEDIA_TYPE,
            &options(EnvelopeFormat::Cose),
        )
        .unwrap();
        assert_eq!(
            signature_format(Path::new("renamed"), &cose),
            EnvelopeFormat::Cose
        );

        for ok in [
            "application/octet-stream",
            "text/plain; charset=utf-8",
            "a/b+json",
        ] {
            assert!(is_valid_media_type(ok), "{ok}");
        }
        for bad in ["", "octet-stream", "a/", "/b", "a b/c", "a/b/c"] {
            assert!(!is_valid_media_type(bad), "{bad}");
        }
    }

    #[test]
    fn absolute_paths_are_cleaned() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            absolute_clean(Path::new("./a.jws.sig")),
            cwd.join("a.jws.sig")
        );
        assert_eq!(
            absolute_clean(Path::new("/x/./y/../z/s.sig")),
            Path::new("/x/z/s.sig")
        );
        assert_eq!(
            absolute_clean(Path::new("/../../s.sig")),
            Path::new("/s.sig")
        );
        assert_eq!(absolute_clean(Path::new("sub/../b.sig")), cwd.join("b.sig"));
        let cleaned = absolute_clean(Path::new("../up.sig"));
        assert!(cleaned.is_absolute());
        assert!(!cleaned.components().any(|c| matches!(
            c,
            std::path::Component::ParentDir | std::path::Component::CurDir
        )));
    }

    #[test]
    fn signature_files_are_not_overwritten_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s").join("b.jws.sig");
        write_signature(&path, b"one", false).unwrap();
        assert!(matches!(
            write_signature(&path, b"two", false),
            Err(BlobError::SignatureExists { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_signature(&path, b"two", true).unwrap();
        assert_eq!(read_signature(&path).unwrap(), b"two");
    }
}
