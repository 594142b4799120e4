//! `notation key update --default NAME`.

use std::io::Write;

use crate::cli::args::KeyUpdateArgs;
use crate::cli::Context;
use crate::error::CliError;

/// Marks a key as the default (the only update upstream offers).
pub fn run(ctx: &Context, args: KeyUpdateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let path = ctx.config.signing_keys_file();
    let mut keys = ctx.config.load_signing_keys()?;
    if !args.default {
        // Still report an unknown name, so a typo does not pass silently.
        if keys.get(&args.name).is_none() {
            return Err(notation_host::config::ConfigError::KeyNotFound { name: args.name }.into());
        }
        eprintln!("Warning: --default flag is not set, command did not take effect");
        return Ok(());
    }
    keys.set_default(&args.name)?;
    keys.save(&path)?;
    writeln!(out, "{}: marked as default", args.name)?;
    Ok(())
}
