//! `notation version`.

use std::io::Write;

use crate::error::CliError;

/// Prints the version block in upstream's layout.
pub fn run(out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out, "Notation - a tool to sign and verify artifacts.\n")?;
    writeln!(out, "Version:     {}", env!("CARGO_PKG_VERSION"))?;
    writeln!(out, "OS/Arch:     {}/{}", go_os(), go_arch())?;
    // As upstream, the commit line only when the build recorded one.
    if let Some(commit) = option_env!("NOTATION_GIT_COMMIT").filter(|c| !c.is_empty()) {
        writeln!(out, "Git commit:  {commit}")?;
    }
    Ok(())
}

/// OS name in Go's spelling, as upstream prints it.
fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

/// Architecture in Go's spelling.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}
