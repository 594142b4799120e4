//! `notation plugin list`.

use std::io::Write;

use notation_plugin_sdk::client::discovery;

use crate::cli::output::Table;
use crate::cli::Context;
use crate::error::CliError;

/// Lists every plugin directory with its metadata, or why it is unusable.
pub fn run(ctx: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let candidates = discovery::list(&ctx.config.plugins_dir()).map_err(CliError::PluginList)?;
    let mut table = Table::new(&["NAME", "DESCRIPTION", "VERSION", "CAPABILITIES", "ERROR"]);
    for c in candidates {
        match c.plugin.and_then(|p| p.metadata(None)) {
            Ok(m) => {
                let caps: Vec<&str> = m.capabilities.iter().map(|c| c.as_str()).collect();
                table.row(vec![
                    c.name,
                    m.description.clone(),
                    m.version.clone(),
                    format!("[{}]", caps.join(" ")),
                    "<nil>".to_string(),
                ]);
            }
            Err(e) => table.row(vec![
                c.name,
                String::new(),
                String::new(),
                "[]".to_string(),
                e.to_string(),
            ]),
        }
    }
    table.write(out)?;
    Ok(())
}
