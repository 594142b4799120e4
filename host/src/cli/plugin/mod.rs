//! `notation plugin ...`: installed plugins under `{config}/plugins`.

mod install;
mod list;
mod uninstall;

use std::io::Write;

use notation_plugin_sdk::client::discovery;

use super::args::PluginCommand;
use super::Context;
use crate::error::CliError;

/// Runs a `plugin` subcommand.
pub fn run(ctx: &Context, cmd: PluginCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        PluginCommand::List => list::run(ctx, out),
        PluginCommand::Install(a) => install::run(ctx, a, out),
        PluginCommand::Uninstall(a) => uninstall::run(ctx, a, out),
    }
}

/// Fails unless plugin `name` is installed (its executable is in place;
/// the plugin is not run).
pub fn ensure_installed(ctx: &Context, name: &str) -> Result<(), CliError> {
    discovery::locate(&ctx.config.plugins_dir(), name)
        .map(|_| ())
        .map_err(|source| CliError::PluginNotInstalled {
            name: name.to_string(),
            source,
        })
}
