//! `notation key list`.

use std::io::Write;

use crate::cli::output::Table;
use crate::cli::Context;
use crate::error::CliError;

/// Prints the signing key list; the default key is marked with `* `.
pub fn run(ctx: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let keys = ctx.config.load_signing_keys()?;
    let mut table = Table::new(&["NAME", "KEY PATH", "CERTIFICATE PATH", "ID", "PLUGIN NAME"]);
    for key in &keys.keys {
        let name = if keys.default.as_deref() == Some(key.name.as_str()) {
            format!("* {}", key.name)
        } else {
            key.name.clone()
        };
        let path = |p: &Option<std::path::PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        table.row(vec![
            name,
            path(&key.key_path),
            path(&key.cert_path),
            key.id.clone().unwrap_or_default(),
            key.plugin_name.clone().unwrap_or_default(),
        ]);
    }
    table.write(out)?;
    Ok(())
}
