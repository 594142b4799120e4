//! `notation key add --plugin P --id ID [--plugin-config k=v] [--default] NAME`.

use std::io::Write;

use notation_host::config::KeySuite;

use crate::cli::args::KeyAddArgs;
use crate::cli::output::parse_key_values;
use crate::cli::{plugin, Context};
use crate::error::CliError;

/// Adds a plugin key to the signing key list.
pub fn run(ctx: &Context, args: KeyAddArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let config = parse_key_values("plugin-config", &args.plugin_config)?;
    if args.id.is_empty() {
        return Err(CliError::MissingKeyId);
    }
    plugin::ensure_installed(ctx, &args.plugin)?;
    let path = ctx.config.signing_keys_file();
    let mut keys = ctx.config.load_signing_keys()?;
    keys.add(
        KeySuite::plugin(&args.name, &args.id, &args.plugin, Some(config)),
        args.default,
    )?;
    keys.save(&path)?;
    if args.default {
        writeln!(out, "{}: marked as default", args.name)?;
    } else {
        writeln!(out, "{}", args.name)?;
    }
    Ok(())
}
