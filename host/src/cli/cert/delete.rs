//! `notation certificate delete --type T --store S (--all | FILE)`.

use std::io::Write;

use notation_host::truststore::StoreType;

use super::{check_store_name, trust_store};
use crate::cli::args::CertDeleteArgs;
use crate::cli::output::confirm;
use crate::cli::Context;
use crate::error::CliError;

/// Deletes one certificate file, or the whole named store with `--all`,
/// after confirmation (skipped with `--yes`).
pub fn run(ctx: &Context, args: CertDeleteArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store_type = StoreType::from(args.store_type);
    let store = trust_store(ctx);
    check_store_name(&args.store)?;
    match args.file {
        Some(file) if !args.all => {
            let prompt = format!(
                "Are you sure you want to delete {file:?} in {:?} of type {:?}?",
                args.store,
                store_type.as_str()
            );
            if !confirm(&prompt, args.yes)? {
                return Ok(());
            }
            store
                .delete_certificate_file(store_type, &args.store, &file)
                .map_err(CliError::CertDelete)?;
            writeln!(
                out,
                "Successfully deleted {file} from trust store {} of type {store_type}",
                args.store
            )?;
        }
        _ => {
            let prompt = format!(
                "Are you sure you want to delete all certificates in {:?} of type {:?}?",
                args.store,
                store_type.as_str()
            );
            if !confirm(&prompt, args.yes)? {
                return Ok(());
            }
            let dir = store
                .delete_store(store_type, &args.store)
                .map_err(CliError::CertDeleteAll)?;
            writeln!(out, "Successfully deleted {}", dir.display())?;
        }
    }
    Ok(())
}
