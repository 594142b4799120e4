//! The `notation` command line: [`args`] declares the command tree; each
//! command lives in its own file (groups in a folder) and exports one `run`.

pub mod args;
mod blob;
mod cert;
mod completion;
mod inspect;
mod key;
mod list;
mod login;
mod logout;
pub mod output;
mod plugin;
mod policy;
mod sign;
pub mod usage;
mod verify;
mod version;
mod x509fmt;

use std::io::Write;

use notation_host::config::ConfigDir;

use crate::error::CliError;
use args::{BlobCommand, Cli, Command};

/// What every command gets: the configuration directory.
#[derive(Debug, Clone)]
pub struct Context {
    /// The notation configuration directory in effect.
    pub config: ConfigDir,
}

/// Runs the parsed command, writing its normal output to `out`.
pub fn dispatch(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    // Commands that do not touch the configuration directory.
    match &cli.command {
        Command::Version => return version::run(out),
        Command::Completion(a) => return completion::run(a, out),
        _ => {}
    }
    let ctx = Context {
        config: ConfigDir::resolve()?,
    };
    // `-d` also traces registry requests and retries, and plugin requests
    // and responses, for every command that reaches a registry or a plugin.
    let debug = match &cli.command {
        Command::Sign(a) => a.logging.debug,
        Command::Verify(a) => a.logging.debug,
        Command::List(a) => a.logging.debug,
        Command::Inspect(a) => a.logging.debug,
        Command::Blob(BlobCommand::Sign(a)) => a.logging.debug,
        Command::Blob(BlobCommand::Verify(a)) => a.logging.debug,
        _ => false,
    };
    notation_host::registry::transport::set_debug(debug);
    notation_plugin_sdk::client::set_debug_log(debug);
    match cli.command {
        Command::Sign(a) => sign::run(&ctx, a, out),
        Command::Verify(a) => verify::run(&ctx, a, out),
        Command::List(a) => list::run(&ctx, a, out),
        Command::Inspect(a) => inspect::run(&ctx, a, out),
        Command::Key(c) => key::run(&ctx, c, out),
        Command::Certificate(c) => cert::run(&ctx, c, out),
        Command::Policy(c) => policy::run(&ctx, c, out),
        Command::Plugin(c) => plugin::run(&ctx, c, out),
        Command::Login(a) => login::run(&ctx, a, out),
        Command::Logout(a) => logout::run(&ctx, a, out),
        Command::Blob(c) => blob::run(&ctx, c, out),
        Command::Version | Command::Completion(_) => Ok(()),
    }
}
