//! `notation certificate ...`: the trust store, and test keys.

mod add;
mod cleanup_test;
mod delete;
mod generate_test;
mod list;
mod show;

use std::io::Write;

use notation_host::truststore::{StoreType, TrustStore, TrustStoreError};

use super::args::{CertCommand, StoreTypeArg};
use super::Context;
use crate::error::CliError;

/// Runs a `certificate` subcommand.
pub fn run(ctx: &Context, cmd: CertCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        CertCommand::Add(a) => add::run(ctx, a, out),
        CertCommand::List(a) => list::run(ctx, a, out),
        CertCommand::Show(a) => show::run(ctx, a, out),
        CertCommand::Delete(a) => delete::run(ctx, a, out),
        CertCommand::GenerateTest(a) => generate_test::run(ctx, a, out),
        CertCommand::CleanupTest(a) => cleanup_test::run(ctx, a, out),
    }
}

impl From<StoreTypeArg> for StoreType {
    fn from(a: StoreTypeArg) -> Self {
        match a {
            StoreTypeArg::Ca => StoreType::Ca,
            StoreTypeArg::SigningAuthority => StoreType::SigningAuthority,
            StoreTypeArg::Tsa => StoreType::Tsa,
        }
    }
}

/// Refuses a named store name upstream refuses, in upstream's words.
fn check_store_name(name: &str) -> Result<(), CliError> {
    if notation_host::truststore::is_valid_store_name(name) {
        Ok(())
    } else {
        Err(CliError::InvalidStoreName {
            name: name.to_string(),
        })
    }
}

/// The trust store of the configuration directory.
fn trust_store(ctx: &Context) -> TrustStore {
    TrustStore::from_config_dir(ctx.config.root())
}

/// Lists the certificate files of a store; a missing store is empty.
fn files_or_empty(
    store: &TrustStore,
    store_type: StoreType,
    name: &str,
) -> Result<Vec<std::path::PathBuf>, TrustStoreError> {
    match store.list_files(store_type, name) {
        Err(TrustStoreError::StoreNotFound { .. }) => Ok(Vec::new()),
        other => other,
    }
}
