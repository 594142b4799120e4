//! `notation certificate show --type T --store S FILE`.

use std::io::Write;

use notation_host::truststore::{parse_certificates, StoreType};

use super::trust_store;
use crate::cli::args::CertShowArgs;
use crate::cli::x509fmt::{go_time_string, sha256_fingerprint};
use crate::cli::Context;
use crate::error::CliError;
use notation_host::verifier::chain::upstream_subject;

const RULE: &str =
    "--------------------------------------------------------------------------------";

/// Prints every certificate of one trust store file, leaf first.
pub fn run(ctx: &Context, args: CertShowArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store_type = StoreType::from(args.store_type);
    super::check_store_name(&args.store)?;
    if !notation_host::truststore::is_valid_store_name(&args.file) {
        return Err(CliError::CertShow {
            file: args.file,
            reason: "a certificate file name uses only letters, digits, '_', '.' and '-'".into(),
        });
    }
    let path = trust_store(ctx)
        .store_dir(store_type, &args.store)?
        .join(&args.file);
    let bytes = notation_host::fsutil::read_capped(&path, 16 * 1024 * 1024).map_err(|e| {
        CliError::CertShow {
            file: args.file.clone(),
            reason: format!(
                "cannot read {}: {e}. Use `notation certificate list` to see the stored certificates",
                path.display()
            ),
        }
    })?;
    let certs = parse_certificates(&bytes).ok_or_else(|| CliError::CertShow {
        file: args.file.clone(),
        reason: "no valid certificate found in the file".into(),
    })?;
    writeln!(out, "Certificate details")?;
    writeln!(out, "{RULE}")?;
    for (i, cert) in certs.iter().enumerate() {
        if i > 0 {
            writeln!(out, "{RULE}")?;
        }
        writeln!(out, "Issuer: {}", upstream_subject(cert.issuer_name()))?;
        writeln!(out, "Subject: {}", upstream_subject(cert.subject_name()))?;
        writeln!(out, "Valid from: {}", go_time_string(cert.not_before()))?;
        writeln!(out, "Valid to: {}", go_time_string(cert.not_after()))?;
        writeln!(out, "IsCA: {}", notation_host::truststore::is_ca(cert))?;
        writeln!(out, "SHA256 Thumbprint: {}", sha256_fingerprint(cert))?;
    }
    Ok(())
}
