//! `notation certificate list [--type T] [--store S]`.

use std::io::Write;

use notation_host::truststore::StoreType;

use super::{files_or_empty, trust_store};
use crate::cli::args::CertListArgs;
use crate::cli::output::Table;
use crate::cli::Context;
use crate::error::CliError;

/// Prints `STORE TYPE / STORE NAME / CERTIFICATE` for every certificate file
/// matching the filters; prints nothing when there is none.
pub fn run(ctx: &Context, args: CertListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store = trust_store(ctx);
    let only_type = args.store_type.map(StoreType::from);
    let mut rows = Vec::new();
    let stores = match &args.store {
        Some(name) => {
            super::check_store_name(name)?;
            StoreType::ALL
                .into_iter()
                .filter(|t| only_type.is_none_or(|o| o == *t))
                .map(|t| (t, name.clone()))
                .collect::<Vec<_>>()
        }
        None => store
            .list_stores(only_type)?
            .into_iter()
            .map(|r| (r.store_type, r.name))
            .collect(),
    };
    for (store_type, name) in stores {
        for file in files_or_empty(&store, store_type, &name)? {
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            rows.push(vec![store_type.to_string(), name.clone(), file_name]);
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let mut table = Table::new(&["STORE TYPE", "STORE NAME", "CERTIFICATE"]);
    for r in rows {
        table.row(r);
    }
    table.write(out)?;
    Ok(())
}
