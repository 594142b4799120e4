//! `notation certificate add --type T --store S FILE...`.

use std::io::Write;

use notation_host::truststore::StoreType;

use super::{check_store_name, trust_store};
use crate::cli::args::CertAddArgs;
use crate::cli::Context;
use crate::error::CliError;

/// Adds each file to the named store; reports which were added and which
/// failed (and why).
pub fn run(ctx: &Context, args: CertAddArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store_type = StoreType::from(args.store_type);
    let store = trust_store(ctx);
    // Validate the store name before touching anything.
    check_store_name(&args.store)?;
    let mut added = Vec::new();
    let mut failures = Vec::new();
    for path in &args.paths {
        match store.add_certificate_file(store_type, &args.store, path) {
            Ok(_) => added.push(path.display().to_string()),
            Err(e) => failures.push((path.display().to_string(), e.to_string())),
        }
    }
    if !added.is_empty() {
        writeln!(
            out,
            "Successfully added following certificates to named store {} of type {}:",
            args.store, store_type
        )?;
        for p in &added {
            writeln!(out, "{p}")?;
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::CertAddFailed {
            store_type: store_type.to_string(),
            store: args.store,
            failures,
        })
    }
}
