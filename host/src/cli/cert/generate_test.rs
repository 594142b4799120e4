//! `notation certificate generate-test NAME [--bits N] [--default] [--days N]`.
//!
//! Makes an RSA key and a self-signed certificate with upstream's test
//! profile (subject `C=US, ST=WA, L=Seattle, O=Notary, CN=NAME`,
//! keyUsage digitalSignature (critical), extKeyUsage codeSigning, no
//! basicConstraints), stores them in `localkeys/`, adds the certificate to
//! trust store `ca:NAME` and the key to the signing key list. Upstream's
//! certificate is valid for one day; `--days` makes it last longer.

use std::io::Write;
use std::path::Path;

use notation_host::config::{is_valid_name, ConfigError, KeySuite};
use notation_host::fsutil::{atomic_create_new, MODE_PRIVATE, MODE_PUBLIC};
use notation_host::truststore::StoreType;
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509Name, X509};

use super::trust_store;
use crate::cli::args::CertGenerateTestArgs;
use crate::cli::output::format_rfc3339;
use crate::cli::x509fmt::to_datetime;
use crate::cli::Context;
use crate::error::CliError;

/// Generates the key and certificate and registers them.
pub fn run(ctx: &Context, args: CertGenerateTestArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let name = args.name.as_str();
    if !is_valid_name(name) {
        return Err(ConfigError::InvalidName {
            name: name.to_string(),
        }
        .into());
    }
    // Check every destination first so a refusal changes nothing.
    let keys_path = ctx.config.signing_keys_file();
    let mut keys = ctx.config.load_signing_keys()?;
    if keys.get(name).is_some() {
        return Err(ConfigError::KeyExists {
            name: name.to_string(),
        }
        .into());
    }
    let (key_path, cert_path) = ctx.config.local_key_paths(name);
    let store = trust_store(ctx);
    let store_file = store
        .store_dir(StoreType::Ca, name)?
        .join(format!("{name}.crt"));
    for (what, path) in [
        ("key file", &key_path),
        ("certificate file", &cert_path),
        ("trust store certificate", &store_file),
    ] {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(CliError::TestKeyExists {
                name: name.to_string(),
                what,
                path: path.clone(),
            });
        }
    }

    writeln!(out, "generating RSA Key with {} bits", args.bits)?;
    let key = generate_key(args.bits)?;
    let cert = self_signed_certificate(&key, name, args.days)?;
    let not_after = to_datetime(cert.not_after())
        .map(format_rfc3339)
        .unwrap_or_else(|| cert.not_after().to_string());
    writeln!(out, "generated certificate expiring on {not_after}")?;

    let key_pem = key
        .private_key_to_pem_pkcs8()
        .map_err(CliError::crypto("encoding the private key"))?;
    let cert_pem = cert
        .to_pem()
        .map_err(CliError::crypto("encoding the certificate"))?;

    // Write, rolling back what was written if a later step fails.
    let mut written: Vec<&Path> = Vec::new();
    let result = (|| -> Result<(), CliError> {
        atomic_create_new(&key_path, &key_pem, MODE_PRIVATE).map_err(CliError::io(&key_path))?;
        written.push(&key_path);
        writeln!(out, "wrote key: {}", key_path.display())?;
        atomic_create_new(&cert_path, &cert_pem, MODE_PUBLIC).map_err(CliError::io(&cert_path))?;
        written.push(&cert_path);
        writeln!(out, "wrote certificate: {}", cert_path.display())?;
        keys.add(
            KeySuite::local(name, key_path.clone(), cert_path.clone()),
            args.default,
        )?;
        let added = store.add_certificate_file(StoreType::Ca, name, &cert_path)?;
        written.push(&store_file);
        debug_assert_eq!(added, store_file);
        keys.save(&keys_path)?;
        Ok(())
    })();
    if let Err(e) = result {
        for path in written {
            let _ = std::fs::remove_file(path);
        }
        if let Some(dir) = store_file.parent() {
            // Only removes the store directory when it is now empty.
            let _ = std::fs::remove_dir(dir);
        }
        return Err(e);
    }
    writeln!(
        out,
        "Successfully added {name}.crt to named store {name} of type ca"
    )?;
    writeln!(out, "{name}: added to signingkeys.json")?;
    if args.default {
        writeln!(out, "{name}: marked as default signing key")?;
    }
    Ok(())
}

fn generate_key(bits: u32) -> Result<PKey<Private>, CliError> {
    let rsa = Rsa::generate(bits).map_err(CliError::crypto("generating the RSA key"))?;
    PKey::from_rsa(rsa).map_err(CliError::crypto("generating the RSA key"))
}

fn self_signed_certificate(
    key: &PKey<Private>,
    common_name: &str,
    days: u32,
) -> Result<X509, CliError> {
    let build = || -> Result<X509, openssl::error::ErrorStack> {
        let mut name = X509Name::builder()?;
        name.append_entry_by_text("C", "US")?;
        name.append_entry_by_text("ST", "WA")?;
        name.append_entry_by_text("L", "Seattle")?;
        name.append_entry_by_text("O", "Notary")?;
        name.append_entry_by_text("CN", common_name)?;
        let name = name.build();

        let mut serial = BigNum::new()?;
        serial.rand(63, MsbOption::MAYBE_ZERO, false)?;
        serial.add_word(1)?;

        let mut b = X509::builder()?;
        b.set_version(2)?;
        let serial = Asn1Integer::from_bn(&serial)?;
        b.set_serial_number(&serial)?;
        b.set_subject_name(&name)?;
        b.set_issuer_name(&name)?;
        b.set_pubkey(key)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let not_before = Asn1Time::from_unix(now)?;
        let not_after = Asn1Time::from_unix(now + i64::from(days) * 86_400)?;
        b.set_not_before(&not_before)?;
        b.set_not_after(&not_after)?;
        b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
        b.append_extension(ExtendedKeyUsage::new().code_signing().build()?)?;
        b.sign(key, MessageDigest::sha256())?;
        Ok(b.build())
    };
    build().map_err(CliError::crypto("creating the self-signed certificate"))
}
