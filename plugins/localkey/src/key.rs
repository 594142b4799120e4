//! Loading private keys and certificate chains from files.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use openssl::ec::EcKey;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::X509;
use zeroize::Zeroizing;

use crate::LocalKeyError;

/// Largest key or certificate file read (1 MiB; real ones are a few KiB).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a whole file, at most [`MAX_FILE_BYTES`]. The buffer is zeroed on drop.
pub fn read_capped(path: &Path) -> Result<Zeroizing<Vec<u8>>, LocalKeyError> {
    let io = |source| LocalKeyError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut buf = Zeroizing::new(Vec::new());
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(LocalKeyError::FileTooLarge {
            path: path.to_owned(),
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(buf)
}

/// Whether the key file content is encrypted (PEM `ENCRYPTED PRIVATE KEY`,
/// legacy `Proc-Type: 4,ENCRYPTED`, or DER that only parses as encrypted
/// PKCS#8).
pub fn is_encrypted(bytes: &[u8]) -> bool {
    if is_pem(bytes) {
        contains(bytes, b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
            || contains(bytes, b"Proc-Type: 4,ENCRYPTED")
    } else {
        !parses_unencrypted_der(bytes)
    }
}

fn is_pem(bytes: &[u8]) -> bool {
    contains(bytes, b"-----BEGIN ")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn parses_unencrypted_der(bytes: &[u8]) -> bool {
    PKey::private_key_from_der(bytes).is_ok()
        || Rsa::private_key_from_der(bytes).is_ok()
        || EcKey::private_key_from_der(bytes).is_ok()
}

/// Parses a private key: PEM (PKCS#1, PKCS#8, SEC1; encrypted PKCS#8 or
/// legacy encrypted PEM with `passphrase`) or DER (the same forms).
pub fn parse_private_key(
    path: &Path,
    bytes: &[u8],
    passphrase: Option<&[u8]>,
) -> Result<PKey<Private>, LocalKeyError> {
    let unreadable = || LocalKeyError::KeyUnreadable {
        path: path.to_owned(),
    };
    if is_encrypted(bytes) {
        let pass = passphrase.ok_or_else(|| LocalKeyError::PassphraseRequired {
            path: path.to_owned(),
        })?;
        let key = if is_pem(bytes) {
            PKey::private_key_from_pem_passphrase(bytes, pass)
        } else {
            PKey::private_key_from_pkcs8_passphrase(bytes, pass)
        };
        // openssl does not tell a wrong passphrase from a corrupt file;
        // both are reported as a failure to decrypt.
        return key.map_err(|_| LocalKeyError::DecryptFailed {
            path: path.to_owned(),
        });
    }
    if is_pem(bytes) {
        // PEM_read_bio_PrivateKey reads PKCS#8, PKCS#1 and SEC1 alike.
        return PKey::private_key_from_pem(bytes).map_err(|_| unreadable());
    }
    if let Ok(k) = PKey::private_key_from_der(bytes) {
        return Ok(k);
    }
    if let Ok(rsa) = Rsa::private_key_from_der(bytes) {
        return PKey::from_rsa(rsa).map_err(|_| unreadable());
    }
    if let Ok(ec) = EcKey::private_key_from_der(bytes) {
        return PKey::from_ec_key(ec).map_err(|_| unreadable());
    }
    Err(unreadable())
}

/// Loads a certificate chain, leaf first: one or more PEM certificates, or
/// one DER certificate.
pub fn load_chain(path: &Path) -> Result<Vec<X509>, LocalKeyError> {
    let bytes = read_capped(path)?;
    let bad = || LocalKeyError::ChainUnreadable {
        path: path.to_owned(),
    };
    let chain = if is_pem(&bytes) {
        X509::stack_from_pem(&bytes).map_err(|_| bad())?
    } else {
        vec![X509::from_der(&bytes).map_err(|_| bad())?]
    };
    if chain.is_empty() {
        return Err(bad());
    }
    Ok(chain)
}

/// Reads a passphrase from a file, dropping one trailing line ending.
pub fn passphrase_from_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, LocalKeyError> {
    let mut bytes = read_capped(path)?;
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    Ok(bytes)
}
