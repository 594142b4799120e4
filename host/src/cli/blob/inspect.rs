//! `notation blob inspect [-o json] SIGNATURE_PATH`: the details of a
//! blob signature file, in the same shape as `notation inspect` shows each
//! signature of an OCI artifact.

use std::io::Write;

use notation_host::blob;
use notation_plugin_sdk::envelope;

use super::Error;
use crate::cli::args::{BlobInspectArgs, OutputFormat};
use crate::cli::inspect::{tree_signature, SignatureJson};
use crate::cli::list::pretty;
use crate::cli::output::Node;

/// Prints the envelope's attributes, certificates and signed descriptor.
pub(super) fn run(args: BlobInspectArgs, out: &mut dyn Write) -> Result<(), Error> {
    super::check_signature_name(&args.signature)?;
    let bytes = blob::read_signature(&args.signature)?;
    let format = blob::signature_format(&args.signature, &bytes);
    let env =
        envelope::parse(format, &bytes).map_err(|source| blob::BlobError::InvalidSignature {
            path: args.signature.clone(),
            format,
            source,
        })?;
    match args.output {
        OutputFormat::Json => writeln!(out, "{}", pretty(&SignatureJson::of(&env, None)))?,
        OutputFormat::Text => {
            let mut root = Node::new(args.signature.display().to_string());
            tree_signature(&mut root, &env);
            root.write(out)?;
        }
    }
    Ok(())
}
