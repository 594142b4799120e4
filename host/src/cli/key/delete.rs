//! `notation key delete NAME...`.

use std::io::Write;

use crate::cli::args::KeyDeleteArgs;
use crate::cli::Context;
use crate::error::CliError;

/// Removes keys from the list (all or none); the key files stay.
pub fn run(ctx: &Context, args: KeyDeleteArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let path = ctx.config.signing_keys_file();
    let mut keys = ctx.config.load_signing_keys()?;
    let previous_default = keys.default.clone();
    let removed = keys.remove(&args.names)?;
    keys.save(&path)?;
    let is_default = |n: &String| previous_default.as_ref() == Some(n);
    match removed.as_slice() {
        [one] if is_default(one) => writeln!(
            out,
            "Removed default key {one} from Notation signing key list. The source key still exists."
        )?,
        [one] => writeln!(
            out,
            "Removed {one} from Notation signing key list. The source key still exists."
        )?,
        many => {
            writeln!(
                out,
                "Removed the following keys from Notation signing key list. The source keys still exist."
            )?;
            for name in many {
                if is_default(name) {
                    writeln!(out, "{name} (default)")?;
                } else {
                    writeln!(out, "{name}")?;
                }
            }
        }
    }
    Ok(())
}
