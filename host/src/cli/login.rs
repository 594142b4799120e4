//! `notation login`: check credentials against a registry and store them
//! (credential helper when configured, else docker's `config.json`).

use std::io::{BufRead, Write};

use notation_host::registry::credentials::{
    self, docker_config_path, StoredIn, DEFAULT_HELPER_TIMEOUT,
};
use notation_host::registry::{ClientOptions, CredentialResolver, Credentials, RegistryClient};

use super::args::LoginArgs;
use super::Context;
use crate::error::CliError;

/// Logs in to `server`.
pub fn run(ctx: &Context, args: LoginArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let username = args.registry.username.clone().filter(|u| !u.is_empty());
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(CliError::Terminal)?;
        Some(line.trim_end_matches(['\r', '\n']).to_string())
    } else {
        args.registry.password.clone()
    }
    .filter(|p| !p.is_empty());
    let creds = match (username, password) {
        (Some(u), Some(p)) => Credentials::basic(u, p),
        (None, Some(p)) => Credentials::identity_token(p),
        _ => {
            return Err(CliError::Other(
                "missing credentials: give --username with --password or --password-stdin \
                 (or set $NOTATION_USERNAME and $NOTATION_PASSWORD)"
                    .into(),
            ))
        }
    };
    let settings = ctx.config.load_settings()?;
    let server = args.server.trim_end_matches('/').to_string();
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
    client.ping()?;
    let docker_config = docker_config_path().ok_or_else(|| {
        CliError::Other("cannot locate docker's config.json: set DOCKER_CONFIG or HOME".into())
    })?;
    let notation_config = ctx.config.config_file();
    let stored = credentials::store(
        Some(notation_config.as_path()),
        &docker_config,
        &server,
        &creds,
        DEFAULT_HELPER_TIMEOUT,
    )?;
    if let StoredIn::PlainTextFile(path) = stored {
        eprintln!(
            "Warning: the credentials are stored unencrypted in {}. Configure a credential helper (\"credsStore\" in that file or in {}) to store them securely.",
            path.display(),
            notation_config.display()
        );
    }
    writeln!(out, "Login Succeeded")?;
    Ok(())
}
