//! `notation sign`: sign an artifact in a registry or an OCI layout.

use std::collections::BTreeMap;
use std::io::Write;

use notation_host::artifact::{self, OpenOptions};
use notation_host::signing::{self, KeySelection, SignOptions, TimestampOptions};
use notation_plugin_sdk::envelope::EnvelopeFormat;

use super::args::{SignArgs, SignatureFormatArg, SigningFlags};
use super::output::parse_key_values;
use super::Context;
use crate::error::CliError;

/// Signs the artifact and prints `Successfully signed REF@DIGEST`.
pub fn run(ctx: &Context, args: SignArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // The flags, the TSA root and the key's whereabouts are checked before
    // the registry is touched: bad input fails fast.
    let flags = resolve_flags(ctx, &args.signing)?;
    let located = signing::locate_key(&ctx.config, &flags.selection, &flags.plugin_config)?;
    let opened = artifact::open(
        &ctx.config,
        &args.reference,
        &OpenOptions {
            oci_layout: args.oci_layout,
            insecure: args.registry.insecure_registry,
            force_referrers_tag: args.force_referrers_tag,
            username: args.registry.username.clone(),
            password: args.registry.password.clone(),
        },
    )?;
    // The key loads (OpenSSL parses it, or the plugin describes it) while
    // the reference resolves; resolving also starts what the push needs
    // (the envelope's upload session, the Referrers API probe). A key that
    // fails to load is reported first.
    let (key, subject) = std::thread::scope(|s| {
        let key = s.spawn(|| located.load());
        let subject = opened.store.resolve_for_signing(&opened.target);
        let key = key
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (key, subject)
    });
    let key = key?;
    warn_unused_timestamp(&flags, signing::host_timestamps(&key));
    let format = flags.format;
    let subject = subject?;
    if let Some(tag) = opened.tag() {
        eprintln!(
            "Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:{tag}) because tags are mutable and a tag reference can point to a different artifact than the one signed."
        );
    }
    if args.logging.detailed() {
        eprintln!(
            "Signing {} ({}, {} bytes) with a {} envelope",
            opened.digest_reference(&subject.digest),
            subject.media_type,
            subject.size,
            format
        );
    }
    let options = flags.sign_options();
    let pushed = signing::sign_and_push_timestamped(
        opened.store.as_ref(),
        &subject,
        &key,
        &options,
        flags.timestamp.as_ref(),
    )?;
    for w in &pushed.warnings {
        eprintln!("Warning: {w}");
    }
    writeln!(
        out,
        "Successfully signed {}",
        opened.digest_reference(&subject.digest)
    )?;
    writeln!(
        out,
        "Pushed the signature to {}",
        opened.digest_reference(&pushed.manifest.digest)
    )?;
    Ok(())
}

/// `--signature-format`, else `signatureFormat` in config.json, else JWS.
pub(super) fn signature_format(
    ctx: &Context,
    flag: Option<SignatureFormatArg>,
) -> Result<EnvelopeFormat, CliError> {
    Ok(match flag {
        Some(SignatureFormatArg::Jws) => EnvelopeFormat::Jws,
        Some(SignatureFormatArg::Cose) => EnvelopeFormat::Cose,
        None => match ctx.config.load_settings()?.signature_format.as_deref() {
            Some("cose") => EnvelopeFormat::Cose,
            Some("jws") | None => EnvelopeFormat::Jws,
            Some(other) => {
                return Err(CliError::UnknownSignatureFormat {
                    value: other.to_string(),
                })
            }
        },
    })
}

/// `--expiry` as a duration (`None` without the flag).
pub(super) fn expiry(flag: Option<&str>) -> Result<Option<std::time::Duration>, CliError> {
    flag.map(|v| {
        signing::parse_duration(v).ok_or_else(|| CliError::InvalidDuration {
            value: v.to_string(),
        })
    })
    .transpose()
}

/// The shared signing flags ([`SigningFlags`]), checked and resolved.
pub(super) struct ResolvedSigningFlags {
    /// Envelope format.
    pub format: EnvelopeFormat,
    /// Signature expiry, from now.
    pub expiry: Option<std::time::Duration>,
    /// `-m` pairs (the reserved prefix already refused).
    pub user_metadata: BTreeMap<String, String>,
    /// `--plugin-config` pairs.
    pub plugin_config: BTreeMap<String, String>,
    /// Which key to sign with.
    pub selection: KeySelection,
    /// The TSA to ask, with its root loaded.
    pub timestamp: Option<TimestampOptions>,
}

impl ResolvedSigningFlags {
    /// The signing options these flags ask for.
    pub fn sign_options(&self) -> SignOptions {
        SignOptions {
            format: self.format,
            expiry: self.expiry,
            user_metadata: self.user_metadata.clone(),
            plugin_config: self.plugin_config.clone(),
        }
    }
}

/// Checks and resolves the flags `sign` and `blob sign` share.
pub(super) fn resolve_flags(
    ctx: &Context,
    flags: &SigningFlags,
) -> Result<ResolvedSigningFlags, CliError> {
    // Timestamping flags first: an empty one is reported before the rest,
    // as upstream does.
    let timestamp = match (&flags.timestamp_url, &flags.timestamp_root_cert) {
        (Some(url), Some(root)) => Some(TimestampOptions::load(url, root)?),
        _ => None,
    };
    let user_metadata = parse_key_values("user-metadata", &flags.user_metadata)?;
    notation_plugin_sdk::envelope::check_user_annotations(&user_metadata)
        .map_err(signing::SigningError::from)?;
    let selection = match (&flags.key, &flags.plugin, &flags.id) {
        (Some(k), _, _) => KeySelection::Named(k.clone()),
        (None, Some(p), Some(id)) => KeySelection::Plugin {
            plugin: p.clone(),
            id: id.clone(),
        },
        _ => KeySelection::Default,
    };
    Ok(ResolvedSigningFlags {
        format: signature_format(ctx, flags.signature_format)?,
        expiry: expiry(flags.expiry.as_deref())?,
        user_metadata,
        plugin_config: parse_key_values("plugin-config", &flags.plugin_config)?,
        selection,
        timestamp,
    })
}

/// Warns when `--timestamp-url` was given but the plugin builds the whole
/// envelope (timestamping is then the plugin's job).
pub(super) fn warn_unused_timestamp(flags: &ResolvedSigningFlags, host_timestamps: bool) {
    if flags.timestamp.is_some() && !host_timestamps {
        eprintln!(
            "Warning: the signing plugin generates the whole signature envelope, so timestamping is up to the plugin; --timestamp-url is not used."
        );
    }
}
