//! `notation blob sign [flags] BLOB_PATH`: write a detached signature.

use std::io::Write;

use notation_host::blob;
use notation_host::signing;

use super::Error;
use crate::cli::args::BlobSignArgs;
use crate::cli::output::confirm;
use crate::cli::Context;
use crate::error::CliError;

/// Signs the blob and prints `Successfully signed PATH` and where the
/// signature file was written (absolute, cleaned; by default in the current
/// directory). An existing signature file is replaced with `--force` or
/// after the user confirms.
pub(super) fn run(ctx: &Context, args: BlobSignArgs, out: &mut dyn Write) -> Result<(), Error> {
    let flags = crate::cli::sign::resolve_flags(ctx, &args.signing)?;
    let format = flags.format;
    if !blob::is_valid_media_type(&args.media_type) {
        return Err(blob::BlobError::InvalidMediaType {
            value: args.media_type.clone(),
        }
        .into());
    }
    // Ask before signing when the destination is already taken; "no" (or
    // no answer) leaves the file alone and is not an error, as upstream.
    let sig_path = blob::absolute_clean(&blob::signature_path(
        &args.blob,
        args.signature_directory.as_deref(),
        format,
    )?);
    let mut overwrite = args.force;
    if !overwrite && std::fs::symlink_metadata(&sig_path).is_ok() {
        if !confirm(
            "The signature file already exists, do you want to overwrite it?",
            false,
        )? {
            return Ok(());
        }
        overwrite = true;
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
    if args.force {
        // As upstream, once the signature is made.
        eprintln!("Warning: existing signature file will be overwritten");
    }
    blob::write_signature(&sig_path, &envelope, overwrite)?;
    writeln!(out, "Successfully signed {}", args.blob.display())?;
    writeln!(out, "Signature file written to {}", sig_path.display())?;
    Ok(())
}
