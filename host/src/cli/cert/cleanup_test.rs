//! `notation certificate cleanup-test NAME [--yes]`: undoes generate-test.

use std::io::{self, Write};

use notation_host::truststore::{StoreType, TrustStoreError};

use super::trust_store;
use crate::cli::args::CertCleanupTestArgs;
use crate::cli::output::confirm;
use crate::cli::Context;
use crate::error::{go_io_reason, CliError};

/// Why a trust store change failed, with an I/O cause worded as Go words it.
fn trust_store_reason(e: &TrustStoreError) -> String {
    match e {
        TrustStoreError::Io { path, source } => {
            format!("{}: {}", path.display(), go_io_reason(source))
        }
        other => other.to_string(),
    }
}

/// Removes the trust store certificate, the key list entry and the two
/// local files; a step whose target is already gone is reported and skipped.
pub fn run(ctx: &Context, args: CertCleanupTestArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let name = args.name.as_str();
    if !notation_host::config::is_valid_name(name) {
        return Err(CliError::InvalidKeyName {
            name: name.to_string(),
        });
    }
    let (key_path, cert_path) = ctx.config.local_key_paths(name);
    let prompt = format!(
        "The test key {name} and its corresponding certificate will be cleaned up with the following changes:\n\
         - Delete certificate {name}.crt from trust store {name} of type ca\n\
         - Remove key {name} from signingkeys.json\n\
         - Delete key file: {}\n\
         - Delete certificate file: {}\n\n\
         Are you sure you want to continue?",
        key_path.display(),
        cert_path.display()
    );
    if !confirm(&prompt, args.yes)? {
        return Ok(());
    }
    let mut failures = Vec::new();

    // 1. trust store certificate
    let store = trust_store(ctx);
    let file = format!("{name}.crt");
    match store.delete_certificate_file(StoreType::Ca, name, &file) {
        Ok(_) => {
            writeln!(
                out,
                "Successfully deleted {file} from trust store {name} of type ca."
            )?;
            if let Ok(dir) = store.store_dir(StoreType::Ca, name) {
                let _ = std::fs::remove_dir(dir); // only when empty
            }
        }
        Err(TrustStoreError::StoreNotFound { .. } | TrustStoreError::FileNotFound { .. }) => {
            writeln!(
                out,
                "Certificate {file} does not exist in trust store {name} of type ca."
            )?
        }
        Err(e) => failures.push(format!(
            "failed to delete certificate {file} from trust store {name} of type ca: {}",
            trust_store_reason(&e)
        )),
    }

    // 2. key list entry
    let keys_path = ctx.config.signing_keys_file();
    match ctx.config.load_signing_keys() {
        Ok(mut keys) if keys.get(name).is_some() => {
            let res = keys
                .remove(&[name.to_string()])
                .and_then(|_| keys.save(&keys_path));
            match res {
                Ok(()) => writeln!(
                    out,
                    "Successfully removed key {name} from signingkeys.json."
                )?,
                Err(e) => failures.push(format!(
                    "failed to remove key {name} from signingkeys.json: {e}"
                )),
            }
        }
        Ok(_) => writeln!(out, "Key {name} does not exist in signingkeys.json.")?,
        Err(e) => failures.push(format!(
            "failed to remove key {name} from signingkeys.json: {e}"
        )),
    }

    // 3. and 4. local files
    for (what, label, path) in [
        ("key file", "Key file", &key_path),
        ("certificate file", "Certificate file", &cert_path),
    ] {
        match std::fs::remove_file(path) {
            Ok(()) => writeln!(out, "Successfully deleted {what}: {}.", path.display())?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                writeln!(out, "{label} {} does not exist.", path.display())?
            }
            Err(e) => failures.push(format!(
                "failed to delete {what} {}: {}",
                path.display(),
                go_io_reason(&e)
            )),
        }
    }

    if !failures.is_empty() {
        return Err(CliError::CleanupFailed {
            name: name.to_string(),
            reasons: failures,
        });
    }
    writeln!(out, "Cleanup completed successfully.")?;
    Ok(())
}
