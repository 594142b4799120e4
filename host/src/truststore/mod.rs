//! Trust stores: named collections of trusted root certificates.
//!
//! Layout: `{config}/truststore/x509/{ca,signingAuthority,tsa}/{name}/` with
//! one or more PEM or DER certificate files in each named store.
//!
//! API overview:
//! * [`StoreType`]: `ca`, `signingAuthority`, `tsa`.
//! * [`TrustStore::new`] (the `truststore` directory) or
//!   [`TrustStore::from_config_dir`] (the notation configuration directory).
//! * Read side: [`TrustStore::load`] returns a [`NamedStore`] after checking
//!   every rule below; [`TrustStore::list_stores`] / [`TrustStore::list_files`].
//! * Write side (for `notation cert add/list/delete`):
//!   [`TrustStore::add_certificate_file`] (atomic, never overwrites),
//!   [`TrustStore::delete_certificate_file`], [`TrustStore::delete_store`].
//!
//! Loading rules:
//! * the store name matches `[A-Za-z0-9_.-]+` and is not `.` or `..`;
//! * neither the named store directory nor any file in it is a symlink;
//! * sub-directories are ignored (reported in [`NamedStore::ignored`]);
//! * every regular file must hold at least one PEM or DER certificate;
//! * in `ca` and `signingAuthority` stores every certificate is a CA
//!   certificate or self-signed; in `tsa` stores every certificate is a
//!   self-signed CA certificate (a root);
//! * a store with no certificate is an error.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openssl::x509::X509;

use crate::trustpolicy::dn::DistinguishedName;

/// The kind of trust store; decides which signatures its roots may vouch for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreType {
    /// `ca`: roots of certificate authorities (signing scheme `notary.x509`).
    Ca,
    /// `signingAuthority`: roots of signing authorities
    /// (signing scheme `notary.x509.signingAuthority`).
    SigningAuthority,
    /// `tsa`: roots of timestamping authorities.
    Tsa,
}

impl StoreType {
    /// All store types, in directory listing order.
    pub const ALL: [StoreType; 3] = [StoreType::Ca, StoreType::SigningAuthority, StoreType::Tsa];

    /// The name used in trust policies and as the directory name.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreType::Ca => "ca",
            StoreType::SigningAuthority => "signingAuthority",
            StoreType::Tsa => "tsa",
        }
    }

    /// Parses a store type name (exact, case-sensitive).
    pub fn parse(s: &str) -> Option<StoreType> {
        StoreType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for StoreType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `name` is a valid named-store (or file) name: `[A-Za-z0-9_.-]+`,
/// and not `.` or `..`.
pub fn is_valid_store_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// Why a trust store could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum TrustStoreError {
    /// The store name is not usable as a directory name.
    #[error("named store name needs to follow [a-zA-Z0-9_.-]+ format (invalid trust store name {name:?}: use only letters, digits, '_', '.' and '-')")]
    InvalidStoreName {
        /// The name given.
        name: String,
    },
    /// The named store directory does not exist.
    #[error("{path:?} does not exist (trust store {store_type}:{name}; add a certificate with `notation cert add --type {store_type} --store {name} FILE`)")]
    StoreNotFound {
        /// Store type.
        store_type: StoreType,
        /// Store name.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A store directory or certificate file is a symlink.
    #[error("{} is a symbolic link: trust store directories and certificate files must not be symlinks", path.display())]
    Symlink {
        /// The offending path.
        path: PathBuf,
    },
    /// A path that must be a directory (or regular file) is something else.
    #[error("{} is not a {expected}", path.display())]
    WrongFileType {
        /// The offending path.
        path: PathBuf,
        /// What was expected ("directory" or "regular file").
        expected: &'static str,
    },
    /// Reading or writing failed.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A file holds no parsable certificate.
    #[error("could not parse a certificate from {path:?}, every file in a trust store must have a PEM or DER certificate in it")]
    InvalidCertificateFile {
        /// The file.
        path: PathBuf,
    },
    /// A certificate in a `ca`/`signingAuthority` store is neither a CA
    /// certificate nor self-signed.
    #[error("certificate with subject {subject:?} from file {path:?} is not a CA certificate or self-signed signing certificate")]
    NotCaOrSelfSigned {
        /// The file.
        path: PathBuf,
        /// Subject of the certificate.
        subject: String,
    },
    /// A certificate in a `tsa` store is not a self-signed CA certificate.
    #[error("certificate {subject:?} in {} is not a root CA certificate: a tsa trust store holds only root CA certificates", path.display())]
    NotRootCa {
        /// The file.
        path: PathBuf,
        /// Subject of the certificate.
        subject: String,
    },
    /// The named store holds no certificate.
    #[error("trust store {path:?} has no x509 certificates (add one with `notation cert add`)")]
    EmptyStore {
        /// The store directory.
        path: PathBuf,
    },
    /// Adding would overwrite an existing file.
    #[error("{} already exists in the trust store: delete it first or use another file name", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The file name to add or delete is not usable.
    #[error("invalid certificate file name {name:?}")]
    InvalidFileName {
        /// The name given.
        name: String,
    },
    /// The certificate file to delete does not exist.
    #[error("{} does not exist", path.display())]
    FileNotFound {
        /// The path.
        path: PathBuf,
    },
}

/// A certificate loaded from a trust store, with the file it came from.
#[derive(Debug, Clone)]
pub struct StoredCertificate {
    /// The file holding it.
    pub path: PathBuf,
    /// The certificate.
    pub certificate: X509,
}

/// A loaded, validated named store.
#[derive(Debug, Clone)]
pub struct NamedStore {
    /// Store type.
    pub store_type: StoreType,
    /// Store name.
    pub name: String,
    /// Every certificate of the store, file by file (files in name order).
    pub certificates: Vec<StoredCertificate>,
    /// Sub-directories that were ignored (callers may warn about them).
    pub ignored: Vec<PathBuf>,
}

/// A trust store reference: type and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreRef {
    /// Store type.
    pub store_type: StoreType,
    /// Store name.
    pub name: String,
}

impl fmt::Display for StoreRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.store_type, self.name)
    }
}

/// The trust store root directory (`{config}/truststore`).
#[derive(Debug, Clone)]
pub struct TrustStore {
    root: PathBuf,
    /// Stores read ahead by [`TrustStore::preloaded`]; `load` answers them
    /// from memory.
    preloaded: Arc<HashMap<StoreRef, NamedStore>>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> TrustStoreError + '_ {
    move |source| TrustStoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Parses every certificate in `bytes` (PEM with one or more certificates,
/// or one or more concatenated DER certificates). `None` if nothing parses
/// or anything but certificates is present.
pub fn parse_certificates(bytes: &[u8]) -> Option<Vec<X509>> {
    notation_plugin_sdk::envelope::cert::load_certificates(bytes).ok()
}

/// Whether the certificate's signature verifies with its own public key.
pub fn is_self_signed(cert: &X509) -> bool {
    cert.public_key()
        .and_then(|k| cert.verify(&k))
        .unwrap_or(false)
}

/// Whether the certificate carries `basicConstraints` with `cA` true.
pub fn is_ca(cert: &X509) -> bool {
    notation_plugin_sdk::envelope::cert::basic_constraints(cert)
        .ok()
        .flatten()
        .is_some_and(|bc| bc.ca)
}

fn subject_of(cert: &X509) -> String {
    DistinguishedName::from_x509_name(cert.subject_name()).to_string()
}

/// Checks the certificates of one file against the rules of `store_type`.
pub fn check_certificates_for_store(
    store_type: StoreType,
    path: &Path,
    certs: &[X509],
) -> Result<(), TrustStoreError> {
    for cert in certs {
        let ok = match store_type {
            StoreType::Ca | StoreType::SigningAuthority => is_ca(cert) || is_self_signed(cert),
            StoreType::Tsa => is_ca(cert) && is_self_signed(cert),
        };
        if !ok {
            let subject = subject_of(cert);
            let path = path.to_path_buf();
            return Err(match store_type {
                StoreType::Tsa => TrustStoreError::NotRootCa { path, subject },
                _ => TrustStoreError::NotCaOrSelfSigned { path, subject },
            });
        }
    }
    Ok(())
}

/// Reads and checks one certificate file (must be a regular file, not a symlink).
pub fn read_certificate_file(
    store_type: StoreType,
    path: &Path,
) -> Result<Vec<X509>, TrustStoreError> {
    let meta = fs::symlink_metadata(path).map_err(io_err(path))?;
    if meta.file_type().is_symlink() {
        return Err(TrustStoreError::Symlink {
            path: path.to_path_buf(),
        });
    }
    if !meta.is_file() {
        return Err(TrustStoreError::WrongFileType {
            path: path.to_path_buf(),
            expected: "regular file",
        });
    }
    let bytes = fs::read(path).map_err(io_err(path))?;
    let certs =
        parse_certificates(&bytes).ok_or_else(|| TrustStoreError::InvalidCertificateFile {
            path: path.to_path_buf(),
        })?;
    check_certificates_for_store(store_type, path, &certs)?;
    Ok(certs)
}

impl TrustStore {
    /// A trust store rooted at `root` (the `truststore` directory itself).
    pub fn new(root: impl Into<PathBuf>) -> TrustStore {
        TrustStore {
            root: root.into(),
            preloaded: Arc::default(),
        }
    }

    /// This trust store with the stores `refs` read now, once: its
    /// [`TrustStore::load`] answers them from memory from then on (a store
    /// that fails to load is not kept, so its error comes from the disk
    /// when it is asked for). One verification reads each store once this
    /// way, and can read them while it waits for the network.
    pub fn preloaded(&self, refs: &[StoreRef]) -> TrustStore {
        let mut loaded = (*self.preloaded).clone();
        for r in refs {
            if loaded.contains_key(r) {
                continue;
            }
            if let Ok(store) = self.load(r.store_type, &r.name) {
                loaded.insert(r.clone(), store);
            }
        }
        TrustStore {
            root: self.root.clone(),
            preloaded: Arc::new(loaded),
        }
    }

    /// The trust store of a notation configuration directory
    /// (`{config}/truststore`).
    pub fn from_config_dir(config_dir: &Path) -> TrustStore {
        TrustStore::new(config_dir.join("truststore"))
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Directory of a named store (the name is validated).
    pub fn store_dir(&self, store_type: StoreType, name: &str) -> Result<PathBuf, TrustStoreError> {
        if !is_valid_store_name(name) {
            return Err(TrustStoreError::InvalidStoreName {
                name: name.to_string(),
            });
        }
        Ok(self.root.join("x509").join(store_type.as_str()).join(name))
    }

    fn existing_store_dir(
        &self,
        store_type: StoreType,
        name: &str,
    ) -> Result<PathBuf, TrustStoreError> {
        let dir = self.store_dir(store_type, name)?;
        // No component from the root down may be a symlink for the store itself.
        match fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(TrustStoreError::StoreNotFound {
                store_type,
                name: name.to_string(),
                path: dir,
            }),
            Err(e) => Err(TrustStoreError::Io {
                path: dir,
                source: e,
            }),
            Ok(m) if m.file_type().is_symlink() => Err(TrustStoreError::Symlink { path: dir }),
            Ok(m) if !m.is_dir() => Err(TrustStoreError::WrongFileType {
                path: dir,
                expected: "directory",
            }),
            Ok(_) => Ok(dir),
        }
    }

    /// Loads and validates a named store (see the module docs for the
    /// rules); one read ahead by [`TrustStore::preloaded`] comes from memory.
    pub fn load(&self, store_type: StoreType, name: &str) -> Result<NamedStore, TrustStoreError> {
        let key = StoreRef {
            store_type,
            name: name.to_string(),
        };
        if let Some(store) = self.preloaded.get(&key) {
            return Ok(store.clone());
        }
        let dir = self.existing_store_dir(store_type, name)?;
        let mut store = NamedStore {
            store_type,
            name: name.to_string(),
            certificates: Vec::new(),
            ignored: Vec::new(),
        };
        for path in sorted_entries(&dir)? {
            let meta = fs::symlink_metadata(&path).map_err(io_err(&path))?;
            if meta.file_type().is_symlink() {
                return Err(TrustStoreError::Symlink { path });
            }
            if meta.is_dir() {
                store.ignored.push(path);
                continue;
            }
            let certs = read_certificate_file(store_type, &path)?;
            store
                .certificates
                .extend(certs.into_iter().map(|certificate| StoredCertificate {
                    path: path.clone(),
                    certificate,
                }));
        }
        if store.certificates.is_empty() {
            return Err(TrustStoreError::EmptyStore { path: dir });
        }
        Ok(store)
    }

    /// Lists existing named stores, optionally of one type only, sorted.
    /// Missing directories count as empty.
    pub fn list_stores(&self, only: Option<StoreType>) -> Result<Vec<StoreRef>, TrustStoreError> {
        let mut out = Vec::new();
        for store_type in StoreType::ALL {
            if only.is_some_and(|t| t != store_type) {
                continue;
            }
            let dir = self.root.join("x509").join(store_type.as_str());
            if !dir.is_dir() {
                continue;
            }
            for path in sorted_entries(&dir)? {
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if is_valid_store_name(name) && path.is_dir() {
                    out.push(StoreRef {
                        store_type,
                        name: name.to_string(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Lists the certificate files (regular files, not symlinks) of a named store.
    pub fn list_files(
        &self,
        store_type: StoreType,
        name: &str,
    ) -> Result<Vec<PathBuf>, TrustStoreError> {
        let dir = self.existing_store_dir(store_type, name)?;
        let mut out = Vec::new();
        for path in sorted_entries(&dir)? {
            let meta = fs::symlink_metadata(&path).map_err(io_err(&path))?;
            if meta.is_file() {
                out.push(path);
            }
        }
        Ok(out)
    }

    /// Adds a certificate file to a named store, creating the store if needed.
    /// The file must parse and satisfy the store type's rules; it is written
    /// atomically under its own file name and never replaces an existing file.
    /// Returns the path written.
    pub fn add_certificate_file(
        &self,
        store_type: StoreType,
        name: &str,
        source: &Path,
    ) -> Result<PathBuf, TrustStoreError> {
        let file_name = source
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| is_valid_store_name(n))
            .ok_or_else(|| TrustStoreError::InvalidFileName {
                name: source.display().to_string(),
            })?
            .to_string();
        let bytes = fs::read(source).map_err(io_err(source))?;
        let certs =
            parse_certificates(&bytes).ok_or_else(|| TrustStoreError::InvalidCertificateFile {
                path: source.to_path_buf(),
            })?;
        check_certificates_for_store(store_type, source, &certs)?;

        let dir = self.store_dir(store_type, name)?;
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let dir = self.existing_store_dir(store_type, name)?;
        let dest = dir.join(&file_name);
        if fs::symlink_metadata(&dest).is_ok() {
            return Err(TrustStoreError::AlreadyExists { path: dest });
        }
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io_err(&dir))?;
        tmp.write_all(&bytes).map_err(io_err(&dest))?;
        tmp.as_file().sync_all().map_err(io_err(&dest))?;
        tmp.persist_noclobber(&dest).map_err(|e| {
            if e.error.kind() == io::ErrorKind::AlreadyExists {
                TrustStoreError::AlreadyExists { path: dest.clone() }
            } else {
                TrustStoreError::Io {
                    path: dest.clone(),
                    source: e.error,
                }
            }
        })?;
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(dest)
    }

    /// Deletes one certificate file from a named store.
    pub fn delete_certificate_file(
        &self,
        store_type: StoreType,
        name: &str,
        file_name: &str,
    ) -> Result<PathBuf, TrustStoreError> {
        if !is_valid_store_name(file_name) {
            return Err(TrustStoreError::InvalidFileName {
                name: file_name.to_string(),
            });
        }
        let dir = self.existing_store_dir(store_type, name)?;
        let path = dir.join(file_name);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(TrustStoreError::FileNotFound { path })
            }
            Err(e) => return Err(TrustStoreError::Io { path, source: e }),
            Ok(m) if m.is_dir() => {
                return Err(TrustStoreError::WrongFileType {
                    path,
                    expected: "regular file",
                })
            }
            Ok(_) => {}
        }
        fs::remove_file(&path).map_err(io_err(&path))?;
        Ok(path)
    }

    /// Deletes a whole named store (all its files). Returns the removed directory.
    pub fn delete_store(
        &self,
        store_type: StoreType,
        name: &str,
    ) -> Result<PathBuf, TrustStoreError> {
        let dir = self.existing_store_dir(store_type, name)?;
        fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(dir)
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, TrustStoreError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        out.push(entry.map_err(io_err(dir))?.path());
    }
    out.sort();
    Ok(out)
}
