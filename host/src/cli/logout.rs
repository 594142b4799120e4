//! `notation logout`: remove stored credentials for a registry.

use std::io::Write;

use notation_host::registry::credentials::{self, docker_config_path, DEFAULT_HELPER_TIMEOUT};

use super::args::LogoutArgs;
use super::Context;
use crate::error::CliError;

/// Logs out of `server`.
pub fn run(ctx: &Context, args: LogoutArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let docker_config = docker_config_path().ok_or_else(|| {
        CliError::Other("cannot locate docker's config.json: set DOCKER_CONFIG or HOME".into())
    })?;
    let notation_config = ctx.config.config_file();
    let server = args.server.trim_end_matches('/');
    credentials::erase(
        Some(notation_config.as_path()),
        &docker_config,
        server,
        DEFAULT_HELPER_TIMEOUT,
    )?;
    writeln!(out, "Logout Succeeded")?;
    Ok(())
}
