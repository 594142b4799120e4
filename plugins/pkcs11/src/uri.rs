//! PKCS#11 URIs (RFC 7512): `pkcs11:token=...;object=...;id=%01?pin-source=...`.
//!
//! The path part (before `?`) holds `;`-separated attributes that select a
//! token and an object; the query part holds `&`-separated attributes that
//! say how to reach it (module, PIN). Values are percent-decoded; `id` is a
//! byte string, every other value must be UTF-8. Unknown attributes are
//! refused unless they carry the vendor prefix `x-` (those are ignored), and
//! a path attribute may appear only once.

use std::path::PathBuf;

use crate::secret::Secret;

/// Object class selected by the `type` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    /// `public`: public key.
    Public,
    /// `private`: private key.
    Private,
    /// `cert`: certificate.
    Cert,
    /// `secret-key`: secret key.
    SecretKey,
    /// `data`: data object.
    Data,
}

/// A parsed PKCS#11 URI. Absent attributes are `None` and match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token`: token label.
    pub token: Option<String>,
    /// `manufacturer`: token manufacturer.
    pub manufacturer: Option<String>,
    /// `serial`: token serial number.
    pub serial: Option<String>,
    /// `model`: token model.
    pub model: Option<String>,
    /// `library-manufacturer`.
    pub library_manufacturer: Option<String>,
    /// `library-description`.
    pub library_description: Option<String>,
    /// `library-version` (`major[.minor]`).
    pub library_version: Option<String>,
    /// `slot-description`.
    pub slot_description: Option<String>,
    /// `slot-manufacturer`.
    pub slot_manufacturer: Option<String>,
    /// `slot-id`: decimal slot number.
    pub slot_id: Option<u64>,
    /// `object`: object label (CKA_LABEL).
    pub object: Option<String>,
    /// `id`: object id (CKA_ID), raw bytes.
    pub id: Option<Vec<u8>>,
    /// `type`: object class.
    pub object_type: Option<ObjectType>,
    /// `module-name` query attribute.
    pub module_name: Option<String>,
    /// `module-path` query attribute: path of the PKCS#11 library.
    pub module_path: Option<String>,
    /// `pin-source` query attribute: a `file:` URI or a path of a file
    /// holding the PIN.
    pub pin_source: Option<String>,
    /// `pin-value` query attribute: the PIN itself.
    pub pin_value: Option<Secret>,
}

/// Why a string is not a usable PKCS#11 URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// The `pkcs11:` scheme is missing.
    #[error("a PKCS#11 URI must start with `pkcs11:`")]
    MissingScheme,
    /// An attribute has no `=`.
    #[error("PKCS#11 URI attribute `{attribute}` has no `=value`")]
    MissingValue {
        /// The attribute text.
        attribute: String,
    },
    /// A `%` escape is not followed by two hex digits.
    #[error("PKCS#11 URI attribute `{attribute}` has a malformed percent escape")]
    BadPercentEncoding {
        /// Attribute name.
        attribute: String,
    },
    /// A value other than `id` does not decode to UTF-8.
    #[error("PKCS#11 URI attribute `{attribute}` is not valid UTF-8 after percent-decoding")]
    NotUtf8 {
        /// Attribute name.
        attribute: String,
    },
    /// An attribute appears twice.
    #[error("PKCS#11 URI attribute `{attribute}` appears more than once")]
    Duplicate {
        /// Attribute name.
        attribute: String,
    },
    /// An attribute is not defined by RFC 7512.
    #[error("PKCS#11 URI attribute `{attribute}` is not known (RFC 7512 attributes, or vendor attributes starting with `x-`)")]
    UnknownAttribute {
        /// Attribute name.
        attribute: String,
    },
    /// A value is not valid for its attribute.
    #[error("PKCS#11 URI attribute `{attribute}` has an invalid value: {expected}")]
    InvalidValue {
        /// Attribute name.
        attribute: String,
        /// What was expected.
        expected: &'static str,
    },
}

impl Pkcs11Uri {
    /// Parses a PKCS#11 URI (the scheme is case-insensitive).
    pub fn parse(input: &str) -> Result<Pkcs11Uri, UriError> {
        let rest = input
            .get(..7)
            .filter(|s| s.eq_ignore_ascii_case("pkcs11:"))
            .map(|_| &input[7..])
            .ok_or(UriError::MissingScheme)?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Pkcs11Uri::default();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, raw) = split_attr(attr)?;
            uri.set_path_attr(name, raw)?;
        }
        if let Some(query) = query {
            for attr in query.split('&').filter(|a| !a.is_empty()) {
                let (name, raw) = split_attr(attr)?;
                uri.set_query_attr(name, raw)?;
            }
        }
        Ok(uri)
    }

    fn set_path_attr(&mut self, name: &str, raw: &str) -> Result<(), UriError> {
        let text = |slot: &mut Option<String>| set_once(slot, name, decode_utf8(name, raw)?);
        match name {
            "token" => text(&mut self.token),
            "manufacturer" => text(&mut self.manufacturer),
            "serial" => text(&mut self.serial),
            "model" => text(&mut self.model),
            "library-manufacturer" => text(&mut self.library_manufacturer),
            "library-description" => text(&mut self.library_description),
            "library-version" => text(&mut self.library_version),
            "slot-description" => text(&mut self.slot_description),
            "slot-manufacturer" => text(&mut self.slot_manufacturer),
            "object" => text(&mut self.object),
            "id" => set_once(&mut self.id, name, percent_decode(name, raw)?),
            "slot-id" => {
                let v = decode_utf8(name, raw)?;
                let n = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                    v.parse::<u64>().ok()
                } else {
                    None
                };
                let n = n.ok_or(UriError::InvalidValue {
                    attribute: name.to_owned(),
                    expected: "a decimal slot number",
                })?;
                set_once(&mut self.slot_id, name, n)
            }
            "type" => {
                let t = match decode_utf8(name, raw)?.as_str() {
                    "public" => ObjectType::Public,
                    "private" => ObjectType::Private,
                    "cert" => ObjectType::Cert,
                    "secret-key" => ObjectType::SecretKey,
                    "data" => ObjectType::Data,
                    _ => {
                        return Err(UriError::InvalidValue {
                            attribute: name.to_owned(),
                            expected: "one of public, private, cert, secret-key, data",
                        })
                    }
                };
                set_once(&mut self.object_type, name, t)
            }
            other if other.starts_with("x-") => Ok(()),
            other => Err(UriError::UnknownAttribute {
                attribute: other.to_owned(),
            }),
        }
    }

    fn set_query_attr(&mut self, name: &str, raw: &str) -> Result<(), UriError> {
        match name {
            "module-name" => set_once(&mut self.module_name, name, decode_utf8(name, raw)?),
            "module-path" => set_once(&mut self.module_path, name, decode_utf8(name, raw)?),
            "pin-source" => set_once(&mut self.pin_source, name, decode_utf8(name, raw)?),
            "pin-value" => set_once(
                &mut self.pin_value,
                name,
                Secret::new(decode_utf8(name, raw)?),
            ),
            other if other.starts_with("x-") => Ok(()),
            other => Err(UriError::UnknownAttribute {
                attribute: other.to_owned(),
            }),
        }
    }

    /// The file named by `pin-source`: a `file:` URI (`file:///p`,
    /// `file:/p`, `file:p`) or a plain path.
    pub fn pin_source_path(&self) -> Option<PathBuf> {
        let src = self.pin_source.as_deref()?;
        let path = match src.get(..5) {
            Some(s) if s.eq_ignore_ascii_case("file:") => {
                let rest = &src[5..];
                // `file://host/path`: only an empty host or localhost.
                match rest.strip_prefix("//") {
                    Some(r) => match r.find('/') {
                        Some(i) => &r[i..],
                        None => r,
                    },
                    None => rest,
                }
            }
            _ => src,
        };
        Some(PathBuf::from(path))
    }
}

fn split_attr(attr: &str) -> Result<(&str, &str), UriError> {
    attr.split_once('=').ok_or_else(|| UriError::MissingValue {
        attribute: attr.to_owned(),
    })
}

fn set_once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), UriError> {
    if slot.is_some() {
        return Err(UriError::Duplicate {
            attribute: name.to_owned(),
        });
    }
    *slot = Some(value);
    Ok(())
}

fn decode_utf8(name: &str, raw: &str) -> Result<String, UriError> {
    String::from_utf8(percent_decode(name, raw)?).map_err(|_| UriError::NotUtf8 {
        attribute: name.to_owned(),
    })
}

/// Decodes `%XX` escapes; every other byte is taken literally.
pub fn percent_decode(name: &str, raw: &str) -> Result<Vec<u8>, UriError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .ok_or(UriError::BadPercentEncoding {
                    attribute: name.to_owned(),
                })?;
            let digit = |b: u8| (b as char).to_digit(16);
            match (digit(hex[0]), digit(hex[1])) {
                (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                _ => {
                    return Err(UriError::BadPercentEncoding {
                        attribute: name.to_owned(),
                    })
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_uri() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=My%20Token;manufacturer=SoftHSM%20project;serial=abc123;model=SoftHSM%20v2;\
             object=sign%3bkey;id=%01%02%ff;slot-id=42;type=private;x-vendor=1\
             ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=12%2634&x-foo=bar",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("My Token"));
        assert_eq!(u.manufacturer.as_deref(), Some("SoftHSM project"));
        assert_eq!(u.serial.as_deref(), Some("abc123"));
        assert_eq!(u.model.as_deref(), Some("SoftHSM v2"));
        assert_eq!(u.object.as_deref(), Some("sign;key"));
        assert_eq!(u.id.as_deref(), Some(&[1u8, 2, 0xff][..]));
        assert_eq!(u.slot_id, Some(42));
        assert_eq!(u.object_type, Some(ObjectType::Private));
        assert_eq!(
            u.module_path.as_deref(),
            Some("/usr/lib/softhsm/libsofthsm2.so")
        );
        assert_eq!(u.pin_value.as_ref().unwrap().expose(), "12&34");
        assert!(!format!("{u:?}").contains("12&34"));
    }

    #[test]
    fn minimal_and_empty() {
        assert_eq!(Pkcs11Uri::parse("pkcs11:").unwrap(), Pkcs11Uri::default());
        let u = Pkcs11Uri::parse("PKCS11:object=k").unwrap();
        assert_eq!(u.object.as_deref(), Some("k"));
        // Empty value is a value (matches an empty label), not absence.
        let u = Pkcs11Uri::parse("pkcs11:token=").unwrap();
        assert_eq!(u.token.as_deref(), Some(""));
    }

    #[test]
    fn pin_source_forms() {
        let p = |s: &str| {
            Pkcs11Uri::parse(&format!("pkcs11:object=k?pin-source={s}"))
                .unwrap()
                .pin_source_path()
                .unwrap()
        };
        assert_eq!(p("file:///tmp/pin"), PathBuf::from("/tmp/pin"));
        assert_eq!(p("file:/tmp/pin"), PathBuf::from("/tmp/pin"));
        assert_eq!(p("file://localhost/tmp/pin"), PathBuf::from("/tmp/pin"));
        assert_eq!(p("/tmp/my%20pin"), PathBuf::from("/tmp/my pin"));
        assert_eq!(p("relative/pin"), PathBuf::from("relative/pin"));
    }

    #[test]
    fn malformed() {
        use UriError::*;
        type Check = fn(&UriError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("token=x", |e| matches!(e, MissingScheme)),
            ("pkcs1:token=x", |e| matches!(e, MissingScheme)),
            ("", |e| matches!(e, MissingScheme)),
            ("pkcs11:token", |e| matches!(e, MissingValue { .. })),
            ("pkcs11:token=a%2", |e| {
                matches!(e, BadPercentEncoding { .. })
            }),
            ("pkcs11:id=%zz", |e| matches!(e, BadPercentEncoding { .. })),
            ("pkcs11:object=%ff%fe", |e| matches!(e, NotUtf8 { .. })),
            ("pkcs11:token=a;token=b", |e| matches!(e, Duplicate { .. })),
            ("pkcs11:object=a?pin-value=1&pin-value=2", |e| {
                matches!(e, Duplicate { .. })
            }),
            ("pkcs11:colour=red", |e| {
                matches!(e, UnknownAttribute { .. })
            }),
            ("pkcs11:object=a?frobnicate=1", |e| {
                matches!(e, UnknownAttribute { .. })
            }),
            ("pkcs11:slot-id=abc", |e| matches!(e, InvalidValue { .. })),
            ("pkcs11:slot-id=-1", |e| matches!(e, InvalidValue { .. })),
            ("pkcs11:slot-id=99999999999999999999999", |e| {
                matches!(e, InvalidValue { .. })
            }),
            ("pkcs11:type=key", |e| matches!(e, InvalidValue { .. })),
        ];
        for (input, check) in cases {
            let err = Pkcs11Uri::parse(input).expect_err(input);
            assert!(check(&err), "{input}: unexpected {err:?}");
            assert!(!err.to_string().is_empty());
        }
    }
}
