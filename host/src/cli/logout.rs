//! `notation logout`: remove stored credentials for a registry.

use std::io::Write;

use notation_host::registry::credentials::{self, docker_config_path, DEFAULT_HELPER_TIMEOUT};

use super::args::LogoutArgs;
use super::Context;
use crate::error::CliError;

/// Logs out of `server`: its credential helper erases the credentials, and
/// a plain-text `auths` entry for it (left by docker or an older tool) is
/// removed from the config file in use.
pub fn run(ctx: &Context, args: LogoutArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let notation_config = ctx.config.config_file();
    let docker_config = docker_config_path();
    let server = args.server.trim_end_matches('/');
    credentials::erase(
        Some(notation_config.as_path()),
        docker_config.as_deref(),
        server,
        DEFAULT_HELPER_TIMEOUT,
    )?;
    writeln!(out, "Logout Succeeded")?;
    Ok(())
}
