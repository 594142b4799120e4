//! `notation plugin install (--file | --url) SOURCE`.

use std::io::Write;
use std::path::Path;

use notation_host::plugin_manager::{install_from_file_with, install_from_url, InstallOptions};

use crate::cli::args::PluginInstallArgs;
use crate::cli::Context;
use crate::error::CliError;

/// Installs (or updates) a plugin from a file or an HTTPS URL.
pub fn run(ctx: &Context, args: PluginInstallArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let source = args.source.as_str();
    let dir = ctx.config.plugins_dir();
    let outcome = if args.url {
        let sum = args.sha256sum.as_deref().unwrap_or_default();
        install_from_url(&dir, source, sum, args.force)?
    } else {
        install_from_file_with(
            &dir,
            Path::new(source),
            &InstallOptions {
                force: args.force,
                sha256: args.sha256sum.clone(),
                ..InstallOptions::default()
            },
        )?
    };
    match &outcome.previous_version {
        Some(old) => writeln!(
            out,
            "Successfully updated plugin {} from version {old} to {}",
            outcome.name, outcome.version
        )?,
        None => writeln!(
            out,
            "Successfully installed plugin {}, version {}",
            outcome.name, outcome.version
        )?,
    }
    Ok(())
}
