//! `notation key ...`: the signing key list (`signingkeys.json`).

mod add;
mod delete;
mod list;
mod update;

use std::io::Write;

use super::args::KeyCommand;
use super::Context;
use crate::error::CliError;

/// Runs a `key` subcommand.
pub fn run(ctx: &Context, cmd: KeyCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        KeyCommand::Add(a) => add::run(ctx, a, out),
        KeyCommand::List => list::run(ctx, out),
        KeyCommand::Update(a) => update::run(ctx, a, out),
        KeyCommand::Delete(a) => delete::run(ctx, a, out),
    }
}
