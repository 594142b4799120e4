//! `notation blob sign [flags] BLOB_PATH`: write a detached signature.

use std::io::Write;

use notation_host::blob;
use notation_host::signing;

use super::Error;
use crate::cli::args::BlobSignArgs;
use crate::cli::Context;
use crate::error::CliError;

/// Signs the blob and prints `Successfully signed PATH` and where the
/// signature file was written.
pub(super) fn run(ctx: &Context, args: BlobSignArgs, out: &mut dyn Write) -> Result<(), Error> {
    let flags = crate::cli::sign::resolve_flags(ctx, &args.signing)?;
    let format = flags.format;
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
    let key = blob::load_key(&ctx.config, &flags.selection, &flags.plugin_config)?;
    crate::cli::sign::warn_unused_timestamp(&flags, signing::host_timestamps(&key.key));
    if args.logging.detailed() {
        eprintln!(
            "Signing {} ({}) with a {} envelope, key spec {}",
            args.blob.display(),
            args.media_type,
            format,
            key.key_spec.as_str()
        );
    }
    let options = flags.sign_options();
    let mut envelope = blob::sign(&key, &args.blob, &args.media_type, &options)?;
    if let Some(ts) = &flags.timestamp {
        envelope =
            signing::apply_timestamp(&key.key, format, envelope, ts).map_err(CliError::from)?;
    }
    blob::write_signature(&sig_path, &envelope, args.force)?;
    let shown = std::path::absolute(&sig_path).unwrap_or(sig_path);
    writeln!(out, "Successfully signed {}", args.blob.display())?;
    writeln!(out, "Signature file written to {}", shown.display())?;
    Ok(())
}
