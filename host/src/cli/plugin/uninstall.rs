//! `notation plugin uninstall NAME`.

use std::io::Write;

use notation_host::plugin_manager::{uninstall, UninstallError};

use crate::cli::args::PluginUninstallArgs;
use crate::cli::output::confirm;
use crate::cli::Context;
use crate::error::CliError;

/// Removes a plugin after confirmation (skipped with `--yes`).
pub fn run(ctx: &Context, args: PluginUninstallArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let dir = ctx.config.plugins_dir();
    if !dir.join(&args.name).is_dir() {
        // Report a missing plugin before asking anything.
        return Err(UninstallError::NotFound {
            name: args.name,
            plugin_dir: dir,
        }
        .into());
    }
    let prompt = format!("Are you sure you want to uninstall plugin {:?}?", args.name);
    if !confirm(&prompt, args.yes)? {
        return Ok(());
    }
    uninstall(&dir, &args.name)?;
    writeln!(out, "Successfully uninstalled plugin {}", args.name)?;
    Ok(())
}
