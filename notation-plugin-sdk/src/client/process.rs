//! Running one plugin command as a child process.
//!
//! The mechanics (input thread, capped concurrent readers, one deadline,
//! process group killed on failure, `ETXTBSY` retry) are
//! [`crate::process::run_command`]'s; this module adds what is particular
//! to plugins: the command-line argument, the environment minus registry
//! credentials (see [`is_credential_variable`]), and errors that name the
//! plugin and command ([`ClientError`]).

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use super::{ClientError, OutputStream};
use crate::process::{self, RunError, RunLimits, Stream};
use crate::protocol::Command;

/// What a finished child left behind.
pub(crate) type Finished = process::Output;

/// Whether an environment variable is withheld from plugins because it may
/// carry registry credentials.
///
/// Withheld: `NOTATION_USERNAME`, `NOTATION_PASSWORD`, and every variable
/// whose name (compared case-insensitively) starts with `NOTATION_` and
/// contains `PASSWORD`, `TOKEN`, `SECRET` or `CREDENTIAL`.
pub fn is_credential_variable(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    let upper = name.to_ascii_uppercase();
    if upper == "NOTATION_USERNAME" || upper == "NOTATION_PASSWORD" {
        return true;
    }
    upper.starts_with("NOTATION_")
        && ["PASSWORD", "TOKEN", "SECRET", "CREDENTIAL"]
            .iter()
            .any(|w| upper.contains(w))
}

/// Runs `path command` with `input` on stdin, under `timeout` and with each
/// output stream capped at `max_output` bytes.
pub(crate) fn invoke(
    name: &str,
    path: &Path,
    command: Command,
    input: &[u8],
    timeout: Duration,
    max_output: u64,
) -> Result<Finished, ClientError> {
    let mut cmd = std::process::Command::new(path);
    cmd.arg(command.as_str());
    for (key, _) in std::env::vars_os() {
        if is_credential_variable(&key) {
            cmd.env_remove(key);
        }
    }
    let limits = RunLimits {
        timeout,
        max_output,
    };
    process::run_command(cmd, input, limits).map_err(|e| {
        let name = name.to_owned();
        match e {
            RunError::Spawn { source } | RunError::Wait { source } => ClientError::CouldNotRun {
                name,
                command,
                path: path.to_owned(),
                source,
            },
            RunError::TimedOut { timeout } => ClientError::TimedOut {
                name,
                command,
                timeout,
            },
            RunError::OutputTooLarge { stream, limit } => ClientError::OutputTooLarge {
                name,
                command,
                stream: output_stream(stream),
                limit,
            },
            RunError::Read { stream, source } => ClientError::ReadOutput {
                name,
                command,
                stream: output_stream(stream),
                source,
            },
        }
    })
}

fn output_stream(stream: Stream) -> OutputStream {
    match stream {
        Stream::Stdout => OutputStream::Stdout,
        Stream::Stderr => OutputStream::Stderr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_variables() {
        for name in [
            "NOTATION_USERNAME",
            "NOTATION_PASSWORD",
            "notation_password",
            "NOTATION_REGISTRY_TOKEN",
            "NOTATION_AUTH_SECRET",
            "NOTATION_CREDENTIALS_FILE",
        ] {
            assert!(is_credential_variable(OsStr::new(name)), "{name}");
        }
        for name in [
            "PATH",
            "HOME",
            "NOTATION_PLUGIN_TIMEOUT",
            "PASSWORD",
            "XDG_CONFIG_HOME",
        ] {
            assert!(!is_credential_variable(OsStr::new(name)), "{name}");
        }
    }
}
