//! `notation login`: check credentials against a registry and save them in
//! a docker credential helper (never in plain text).

use std::io::{BufRead, IsTerminal, Read, Write};

use notation_host::registry::credentials::{
    self, docker_config_path, StoreError, DEFAULT_HELPER_TIMEOUT,
};
use notation_host::registry::{ClientOptions, CredentialResolver, Credentials, RegistryClient};
use zeroize::Zeroizing;

use super::args::LoginArgs;
use super::Context;
use crate::error::CliError;

/// Longest line read from stdin for `--password-stdin` or the username
/// prompt.
const MAX_LINE: u64 = 64 * 1024;

/// Logs in to `server`.
pub fn run(ctx: &Context, args: LoginArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let server = args.server.trim_end_matches('/').to_string();
    // Find where the credentials will go before asking for a password or
    // contacting the registry: without a credential helper there is
    // nowhere to put them.
    let notation_config = ctx.config.config_file();
    let docker_config = docker_config_path();
    let dest = credentials::destination(
        Some(notation_config.as_path()),
        docker_config.as_deref(),
        &server,
    )
    .map_err(store_error)?;

    let creds = read_credentials(&args)?;
    let settings = ctx.config.load_settings()?;
    let options = ClientOptions {
        insecure: args.registry.insecure_registry || settings.is_insecure_registry(&server),
        ..ClientOptions::default()
    };
    let resolver = CredentialResolver {
        explicit: Some(creds.clone()),
        notation_config: None,
        docker_config: None,
        helper_timeout: DEFAULT_HELPER_TIMEOUT,
    };
    // Any repository name works for GET /v2/.
    let client = RegistryClient::new(&server, "notation", options, Box::new(resolver))?;
    client.ping().map_err(|source| CliError::LoginFailed {
        server: server.clone(),
        source: Box::new(source),
    })?;
    credentials::store_to(&dest, &server, &creds, DEFAULT_HELPER_TIMEOUT)?;
    writeln!(out, "Login Succeeded")?;
    Ok(())
}

/// The credentials from the flags or environment, `--password-stdin`, or
/// prompts: hidden input on a terminal; otherwise, as upstream, a username
/// line (when none was given) and a password line read from stdin.
fn read_credentials(args: &LoginArgs) -> Result<Credentials, CliError> {
    let mut username = args.registry.username.clone().filter(|u| !u.is_empty());
    let password = if args.password_stdin {
        read_line(&mut std::io::stdin().lock())?
    } else if let Some(p) = args.registry.password.clone().filter(|p| !p.is_empty()) {
        Zeroizing::new(p)
    } else {
        let terminal = std::io::stdin().is_terminal();
        let mut stdin = std::io::stdin().lock();
        if username.is_none() {
            eprint!("Username: ");
            std::io::stderr().flush()?;
            let name = read_line(&mut stdin)?;
            username = Some(name.trim().to_string()).filter(|u| !u.is_empty());
        }
        let prompt = if username.is_some() {
            "Password: "
        } else {
            "Token: "
        };
        let password = if terminal {
            drop(stdin);
            Zeroizing::new(rpassword::prompt_password(prompt).map_err(CliError::Terminal)?)
        } else {
            eprint!("{prompt}");
            std::io::stderr().flush()?;
            let line = read_line(&mut stdin)?;
            eprintln!();
            line
        };
        if password.is_empty() {
            return Err(if username.is_some() {
                CliError::MissingLoginCredentials { what: "password" }
            } else {
                CliError::MissingLoginCredentials { what: "token" }
            });
        }
        password
    };
    match (username, password) {
        (_, p) if p.is_empty() => Err(CliError::MissingLoginCredentials { what: "password" }),
        (Some(u), p) => Ok(Credentials::basic(u, p.as_str())),
        (None, p) => Ok(Credentials::identity_token(p.as_str())),
    }
}

/// One line (at most [`MAX_LINE`] bytes), without its line ending.
fn read_line(input: &mut dyn BufRead) -> Result<Zeroizing<String>, CliError> {
    let mut line = Zeroizing::new(String::new());
    input
        .take(MAX_LINE)
        .read_line(&mut line)
        .map_err(CliError::Terminal)?;
    let len = line.trim_end_matches('\n').trim_end_matches('\r').len();
    line.truncate(len);
    Ok(line)
}

/// Maps a store error to the CLI error.
fn store_error(e: StoreError) -> CliError {
    match e {
        StoreError::Credential(c) => CliError::Credential(c),
        other => CliError::CredentialStore(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_line_strips_one_line_ending() {
        let mut input: &[u8] = b"s3cret \r\nsecond line\n";
        assert_eq!(read_line(&mut input).unwrap().as_str(), "s3cret ");
        let mut input: &[u8] = b"no-newline";
        assert_eq!(read_line(&mut input).unwrap().as_str(), "no-newline");
        let mut input: &[u8] = b"";
        assert_eq!(read_line(&mut input).unwrap().as_str(), "");
    }
}
