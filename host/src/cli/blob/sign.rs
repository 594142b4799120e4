//! `notation blob sign [flags] BLOB_PATH`: write a detached signature.

use std::io::Write;

use notation_host::blob;
use notation_host::signing::{self, KeySelection, SignOptions, TimestampOptions};

use super::Error;
use crate::cli::args::BlobSignArgs;
use crate::cli::output::parse_key_values;
use crate::cli::Context;
use crate::error::CliError;

/// Signs the blob and prints `Successfully signed PATH` and where the
/// signature file was written.
pub(super) fn run(ctx: &Context, args: BlobSignArgs, out: &mut dyn Write) -> Result<(), Error> {
    let format = crate::cli::sign::signature_format(ctx, args.signature_format)?;
    let expiry = crate::cli::sign::expiry(args.expiry.as_deref())?;
    let user_metadata = parse_key_values("user-metadata", &args.user_metadata)?;
    notation_plugin_sdk::envelope::check_user_annotations(&user_metadata)
        .map_err(signing::SigningError::from)
        .map_err(CliError::from)?;
    let plugin_config = parse_key_values("plugin-config", &args.plugin_config)?;
    if !blob::is_valid_media_type(&args.media_type) {
        return Err(blob::BlobError::InvalidMediaType {
            value: args.media_type.clone(),
        }
        .into());
    }
    // Fail before signing when the destination is already taken.
    let sig_path = blob::signature_path(&args.blob, args.signature_directory.as_deref(), format)?;
    if !args.force && std::fs::symlink_metadata(&sig_path).is_ok() {
        return Err(blob::BlobError::SignatureExists { path: sig_path }.into());
    }
    let selection = match (&args.key, &args.plugin, &args.id) {
        (Some(k), _, _) => KeySelection::Named(k.clone()),
        (None, Some(p), Some(id)) => KeySelection::Plugin {
            plugin: p.clone(),
            id: id.clone(),
        },
        _ => KeySelection::Default,
    };
    let key = blob::load_key(&ctx.config, &selection, &plugin_config)?;
    let timestamp = match (&args.timestamp_url, &args.timestamp_root_cert) {
        (Some(url), Some(root)) => Some(TimestampOptions::load(url, root).map_err(CliError::from)?),
        _ => None,
    };
    if timestamp.is_some() && !signing::host_timestamps(&key.key) {
        eprintln!(
            "Warning: the signing plugin generates the whole signature envelope, so timestamping is up to the plugin; --timestamp-url is not used."
        );
    }
    if args.logging.detailed() {
        eprintln!(
            "Signing {} ({}) with a {} envelope, key spec {}",
            args.blob.display(),
            args.media_type,
            format,
            key.key_spec.as_str()
        );
    }
    let options = SignOptions {
        format,
        expiry,
        user_metadata,
        plugin_config,
    };
    let mut envelope = blob::sign(&key, &args.blob, &args.media_type, &options)?;
    if let Some(ts) = &timestamp {
        envelope =
            signing::apply_timestamp(&key.key, format, envelope, ts).map_err(CliError::from)?;
    }
    blob::write_signature(&sig_path, &envelope, args.force)?;
    let shown = std::path::absolute(&sig_path).unwrap_or(sig_path);
    writeln!(out, "Successfully signed {}", args.blob.display())?;
    writeln!(out, "Signature file written to {}", shown.display())?;
    Ok(())
}
