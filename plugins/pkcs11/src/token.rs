//! Talking to the PKCS#11 module: token and key lookup, key spec, chain,
//! signing. Every handle is scoped: sessions close on drop, the module is
//! finalised on drop.

use std::path::{Path, PathBuf};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use notation_plugin_sdk::vocab::{HashAlgorithm, KeySpec};
use openssl::hash::{hash, MessageDigest};
use openssl::x509::X509;

use crate::secret::Secret;
use crate::uri::Pkcs11Uri;
use crate::Pkcs11Error;

/// DER-encoded OIDs of the named curves, as found in `CKA_EC_PARAMS`.
const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

/// The loaded module; finalised when dropped.
pub struct Module {
    ctx: Option<Pkcs11>,
    path: PathBuf,
}

impl Drop for Module {
    fn drop(&mut self) {
        if let Some(ctx) = self.ctx.take() {
            // Nothing useful can be done if finalisation fails at exit.
            let _ = ctx.finalize();
        }
    }
}

/// An open, logged-in (if a PIN was given) session on the selected token,
/// with the selected private key.
pub struct KeySession {
    session: Session,
    key: ObjectHandle,
    key_id: Option<Vec<u8>>,
    /// Key spec read from the key's attributes.
    pub key_spec: KeySpec,
    modulus: Option<Vec<u8>>,
}

impl Module {
    /// Loads and initialises the PKCS#11 library at `path`.
    pub fn load(path: &Path) -> Result<Module, Pkcs11Error> {
        let ctx = Pkcs11::new(path).map_err(|e| Pkcs11Error::ModuleLoad {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(|e| Pkcs11Error::ModuleLoad {
                path: path.to_owned(),
                detail: e.to_string(),
            })?;
        Ok(Module {
            ctx: Some(ctx),
            path: path.to_owned(),
        })
    }

    fn ctx(&self) -> &Pkcs11 {
        // Only `Drop` takes the context out.
        self.ctx
            .as_ref()
            .expect("module context present until drop")
    }

    /// Finds the one initialised token matching the URI's token attributes.
    pub fn find_slot(&self, uri: &Pkcs11Uri) -> Result<Slot, Pkcs11Error> {
        let slots = self
            .ctx()
            .get_slots_with_initialized_token()
            .map_err(|e| Pkcs11Error::token_op("list slots", e))?;
        let mut matches = Vec::new();
        for slot in slots {
            if uri.slot_id.is_some_and(|id| id != slot.id()) {
                continue;
            }
            let info = self
                .ctx()
                .get_token_info(slot)
                .map_err(|e| Pkcs11Error::token_op("read token information", e))?;
            let eq = |want: &Option<String>, have: &str| {
                want.as_deref()
                    .is_none_or(|w| w.trim_end() == have.trim_end())
            };
            if eq(&uri.token, info.label())
                && eq(&uri.serial, info.serial_number())
                && eq(&uri.manufacturer, info.manufacturer_id())
                && eq(&uri.model, info.model())
            {
                matches.push(slot);
            }
        }
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => Err(Pkcs11Error::TokenNotFound {
                searched: token_description(uri),
                module: self.path.clone(),
            }),
            _ => Err(Pkcs11Error::TokenAmbiguous {
                searched: token_description(uri),
                count: matches.len(),
            }),
        }
    }

    /// Opens a session on `slot`, logs in with `pin` if one is given, and
    /// finds the private key selected by the URI.
    pub fn open_key(
        &self,
        slot: Slot,
        uri: &Pkcs11Uri,
        pin: Option<&Secret>,
    ) -> Result<KeySession, Pkcs11Error> {
        let session = self
            .ctx()
            .open_ro_session(slot)
            .map_err(|e| Pkcs11Error::token_op("open a session", e))?;
        if let Some(pin) = pin {
            let auth = AuthPin::from(pin.expose());
            match session.login(UserType::User, Some(&auth)) {
                Ok(()) => {}
                Err(cryptoki::error::Error::Pkcs11(
                    cryptoki::error::RvError::UserAlreadyLoggedIn,
                    _,
                )) => {}
                Err(e) => return Err(Pkcs11Error::login(e)),
            }
        }
        let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
        if let Some(label) = &uri.object {
            template.push(Attribute::Label(label.as_bytes().to_vec()));
        }
        if let Some(id) = &uri.id {
            template.push(Attribute::Id(id.clone()));
        }
        let found = session
            .find_objects(&template)
            .map_err(|e| Pkcs11Error::token_op("search for the key", e))?;
        let key = match found.as_slice() {
            [one] => *one,
            [] => {
                return Err(Pkcs11Error::KeyNotFound {
                    searched: key_description(uri),
                    logged_in: pin.is_some(),
                })
            }
            _ => {
                return Err(Pkcs11Error::KeyAmbiguous {
                    searched: key_description(uri),
                    count: found.len(),
                })
            }
        };
        let attrs = session
            .get_attributes(
                key,
                &[
                    AttributeType::KeyType,
                    AttributeType::Modulus,
                    AttributeType::EcParams,
                    AttributeType::Id,
                ],
            )
            .map_err(|e| Pkcs11Error::token_op("read the key's attributes", e))?;
        let mut key_type = None;
        let mut modulus = None;
        let mut ec_params = None;
        let mut key_id = None;
        for a in attrs {
            match a {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::Modulus(m) => modulus = Some(m),
                Attribute::EcParams(p) => ec_params = Some(p),
                Attribute::Id(id) => key_id = Some(id),
                _ => {}
            }
        }
        let key_spec = match key_type {
            Some(t) if t == KeyType::RSA => {
                let m = modulus.as_deref().unwrap_or_default();
                // Leading zero bytes do not count towards the key size.
                let first = m.iter().position(|b| *b != 0).unwrap_or(m.len());
                let bits = (m.len() - first) * 8;
                match bits {
                    2048 => KeySpec::Rsa2048,
                    3072 => KeySpec::Rsa3072,
                    4096 => KeySpec::Rsa4096,
                    _ => {
                        return Err(Pkcs11Error::UnsupportedKey {
                            detail: format!("RSA key of {bits} bits"),
                        })
                    }
                }
            }
            Some(t) if t == KeyType::EC => match ec_params.as_deref() {
                Some(OID_P256) => KeySpec::Ec256,
                Some(OID_P384) => KeySpec::Ec384,
                Some(OID_P521) => KeySpec::Ec521,
                _ => {
                    return Err(Pkcs11Error::UnsupportedKey {
                        detail: "EC key on a curve other than P-256, P-384, P-521".to_owned(),
                    })
                }
            },
            Some(t) => {
                return Err(Pkcs11Error::UnsupportedKey {
                    detail: format!("key type {t}"),
                })
            }
            None => {
                return Err(Pkcs11Error::UnsupportedKey {
                    detail: "key type not readable".to_owned(),
                })
            }
        };
        Ok(KeySession {
            session,
            key,
            key_id,
            key_spec,
            modulus,
        })
    }
}

impl KeySession {
    /// Hashes `payload` with `hash_alg` and signs the digest on the token:
    /// RSASSA-PSS (MGF1 with the same hash, salt length = hash length) or
    /// ECDSA, returned as fixed-width `r || s`.
    pub fn sign(&self, hash_alg: &HashAlgorithm, payload: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let (md, mech, mgf, len) = match hash_alg {
            HashAlgorithm::Sha256 => (
                MessageDigest::sha256(),
                MechanismType::SHA256,
                PkcsMgfType::MGF1_SHA256,
                32u64,
            ),
            HashAlgorithm::Sha384 => (
                MessageDigest::sha384(),
                MechanismType::SHA384,
                PkcsMgfType::MGF1_SHA384,
                48,
            ),
            HashAlgorithm::Sha512 => (
                MessageDigest::sha512(),
                MechanismType::SHA512,
                PkcsMgfType::MGF1_SHA512,
                64,
            ),
            HashAlgorithm::Unknown(s) => {
                return Err(Pkcs11Error::UnsupportedHash { value: s.clone() })
            }
        };
        let digest = hash(md, payload).map_err(|e| Pkcs11Error::Crypto {
            detail: e.to_string(),
        })?;
        let is_rsa = matches!(
            self.key_spec,
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096
        );
        if is_rsa {
            let params = PkcsPssParams {
                hash_alg: mech,
                mgf,
                s_len: len.into(),
            };
            self.session
                .sign(&Mechanism::RsaPkcsPss(params), self.key, &digest)
                .map_err(|e| Pkcs11Error::token_op("sign", e))
        } else {
            let width = match self.key_spec {
                KeySpec::Ec256 => 32,
                KeySpec::Ec384 => 48,
                _ => 66,
            };
            let sig = self
                .session
                .sign(&Mechanism::Ecdsa, self.key, &digest)
                .map_err(|e| Pkcs11Error::token_op("sign", e))?;
            // PKCS#11 defines the ECDSA signature as r || s, each as wide as
            // the curve order: exactly what the envelopes carry.
            if sig.len() != 2 * width {
                return Err(Pkcs11Error::Crypto {
                    detail: format!(
                        "the token returned an ECDSA signature of {} bytes, expected {}",
                        sig.len(),
                        2 * width
                    ),
                });
            }
            Ok(sig)
        }
    }

    /// The certificate chain from the token: the certificate with the key's
    /// `CKA_ID`, then issuers found among the token's certificates by
    /// subject name, as far as they go.
    pub fn chain_from_token(&self) -> Result<Vec<X509>, Pkcs11Error> {
        let id = self
            .key_id
            .clone()
            .filter(|id| !id.is_empty())
            .ok_or(Pkcs11Error::NoCertificate { id_hex: None })?;
        let certs = self.certificates(&[Attribute::Id(id.clone())])?;
        let leaf = certs.into_iter().next().ok_or(Pkcs11Error::NoCertificate {
            id_hex: Some(hex::encode(&id)),
        })?;
        let all = self.certificates(&[])?;
        let mut chain = vec![leaf];
        while chain.len() < 10 {
            let last = &chain[chain.len() - 1];
            let issuer = last.issuer_name().to_der().unwrap_or_default();
            let subject = last.subject_name().to_der().unwrap_or_default();
            if issuer == subject {
                break; // self-signed root
            }
            let next = all.iter().find(|c| {
                c.subject_name().to_der().unwrap_or_default() == issuer
                    && c.public_key()
                        .is_ok_and(|k| last.verify(&k).unwrap_or(false))
            });
            match next {
                Some(c) => chain.push(c.clone()),
                None => break,
            }
        }
        Ok(chain)
    }

    fn certificates(&self, extra: &[Attribute]) -> Result<Vec<X509>, Pkcs11Error> {
        let mut template = vec![Attribute::Class(ObjectClass::CERTIFICATE)];
        template.extend_from_slice(extra);
        let handles = self
            .session
            .find_objects(&template)
            .map_err(|e| Pkcs11Error::token_op("search for certificates", e))?;
        let mut out = Vec::new();
        for h in handles {
            let attrs = self
                .session
                .get_attributes(h, &[AttributeType::Value])
                .map_err(|e| Pkcs11Error::token_op("read a certificate", e))?;
            for a in attrs {
                if let Attribute::Value(der) = a {
                    if let Ok(cert) = X509::from_der(&der) {
                        out.push(cert);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Checks that `leaf` is for this key: same key spec and, for RSA, the
    /// same modulus.
    pub fn check_leaf(&self, leaf: &X509) -> Result<(), Pkcs11Error> {
        let mismatch = || Pkcs11Error::CertificateMismatch;
        let pk = leaf.public_key().map_err(|_| mismatch())?;
        let spec =
            notation_plugin_sdk::envelope::key_spec_of_public_key(&pk).map_err(|_| mismatch())?;
        if spec != self.key_spec {
            return Err(mismatch());
        }
        if let (Ok(rsa), Some(m)) = (pk.rsa(), &self.modulus) {
            let first = m.iter().position(|b| *b != 0).unwrap_or(m.len());
            if rsa.n().to_vec() != m[first..] {
                return Err(mismatch());
            }
        }
        Ok(())
    }
}

fn token_description(uri: &Pkcs11Uri) -> String {
    let mut parts = Vec::new();
    if let Some(t) = &uri.token {
        parts.push(format!("token label {t:?}"));
    }
    if let Some(s) = &uri.serial {
        parts.push(format!("serial {s:?}"));
    }
    if let Some(m) = &uri.manufacturer {
        parts.push(format!("manufacturer {m:?}"));
    }
    if let Some(m) = &uri.model {
        parts.push(format!("model {m:?}"));
    }
    if let Some(id) = uri.slot_id {
        parts.push(format!("slot id {id}"));
    }
    if parts.is_empty() {
        "any initialised token".to_owned()
    } else {
        parts.join(", ")
    }
}

fn key_description(uri: &Pkcs11Uri) -> String {
    let mut parts = vec![format!(
        "private key on the token ({})",
        token_description(uri)
    )];
    if let Some(o) = &uri.object {
        parts.push(format!("label {o:?}"));
    }
    if let Some(id) = &uri.id {
        parts.push(format!("id {}", hex::encode(id)));
    }
    parts.join(", ")
}
