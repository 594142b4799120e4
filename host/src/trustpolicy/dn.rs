//! Distinguished names in their string form (RFC 4514 style), as written in
//! `trustedIdentities`, and as read from certificates.
//!
//! Parsing rules:
//! * RDNs are separated by an unescaped `,` (or `;`, the older separator);
//!   spaces around separators, around `=` and at the ends of values are
//!   ignored unless escaped;
//! * an RDN is `type=value`; types are case-insensitive (kept upper case) and
//!   `S` is an alias of `ST`;
//! * escapes: `\` followed by one of `\ , ; + " < > = #` or a space stands for
//!   that character; `\` followed by two hex digits stands for that byte
//!   (UTF-8 sequences may be spelled as several such bytes);
//! * multi-valued RDNs (unescaped `+`), hex-encoded values (`#...`) and a
//!   type given twice are rejected.

use std::fmt;

use openssl::x509::X509NameRef;

/// Why a distinguished name string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnError {
    /// Nothing to parse.
    #[error("the distinguished name is empty")]
    Empty,
    /// An RDN is empty (e.g. two commas in a row or a trailing comma).
    #[error("empty RDN at position {position}")]
    EmptyRdn {
        /// Byte offset in the input.
        position: usize,
    },
    /// An RDN has no `=`.
    #[error("RDN at position {position} has no '=': write each RDN as TYPE=VALUE")]
    MissingEquals {
        /// Byte offset in the input.
        position: usize,
    },
    /// The attribute type is empty or has characters other than letters,
    /// digits, `-` and `.`.
    #[error("invalid attribute type {attribute_type:?}")]
    InvalidType {
        /// The type as written.
        attribute_type: String,
    },
    /// A backslash is not followed by a valid escape.
    #[error("invalid escape sequence at position {position}: escape ',', ';', '+', '\\' and leading or trailing spaces with '\\'")]
    InvalidEscape {
        /// Byte offset of the backslash.
        position: usize,
    },
    /// An unescaped `+` (multi-valued RDN) is not supported.
    #[error("multi-valued RDN at position {position} is not supported; escape '+' as '\\+' if it is part of a value")]
    MultiValuedRdn {
        /// Byte offset of the `+`.
        position: usize,
    },
    /// `#`-prefixed hex-encoded values are not supported.
    #[error("hex-encoded value for {attribute_type} is not supported")]
    HexValue {
        /// Attribute type.
        attribute_type: String,
    },
    /// The unescaped bytes are not UTF-8.
    #[error("value of {attribute_type} is not valid UTF-8 after unescaping")]
    InvalidUtf8 {
        /// Attribute type.
        attribute_type: String,
    },
    /// An attribute type appears more than once.
    #[error("attribute {attribute_type} appears more than once")]
    DuplicateAttribute {
        /// Attribute type.
        attribute_type: String,
    },
}

/// A parsed distinguished name: ordered `(TYPE, value)` pairs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DistinguishedName {
    attributes: Vec<(String, String)>,
}

/// Normalises an attribute type name: upper case, `S` → `ST`,
/// `EMAILADDRESS` → `E`.
pub fn normalize_type(t: &str) -> String {
    let upper = t.to_ascii_uppercase();
    match upper.as_str() {
        "S" => "ST".to_string(),
        "EMAILADDRESS" => "E".to_string(),
        _ => upper,
    }
}

fn is_special(c: u8) -> bool {
    matches!(
        c,
        b'\\' | b',' | b';' | b'+' | b'"' | b'<' | b'>' | b'=' | b'#' | b' '
    )
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

impl DistinguishedName {
    /// Parses a DN string (see the module docs for the rules).
    pub fn parse(input: &str) -> Result<DistinguishedName, DnError> {
        let b = input.as_bytes();
        if input.trim().is_empty() {
            return Err(DnError::Empty);
        }
        let mut attributes: Vec<(String, String)> = Vec::new();
        let mut i = 0;
        loop {
            // attribute type
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            let rdn_start = i;
            if i >= b.len() || b[i] == b',' || b[i] == b';' {
                return Err(DnError::EmptyRdn {
                    position: rdn_start,
                });
            }
            let type_start = i;
            while i < b.len() && b[i] != b'=' && b[i] != b',' && b[i] != b';' {
                i += 1;
            }
            if i >= b.len() || b[i] != b'=' {
                return Err(DnError::MissingEquals {
                    position: rdn_start,
                });
            }
            let raw_type = input[type_start..i].trim();
            if raw_type.is_empty()
                || !raw_type
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
            {
                return Err(DnError::InvalidType {
                    attribute_type: raw_type.to_string(),
                });
            }
            let attribute_type = normalize_type(raw_type);
            i += 1; // '='
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            if i < b.len() && b[i] == b'#' {
                return Err(DnError::HexValue { attribute_type });
            }
            // value
            let mut value: Vec<u8> = Vec::new();
            let mut keep = 0; // length of value up to the last escaped or non-space byte
            while i < b.len() {
                let c = b[i];
                match c {
                    b',' | b';' => break,
                    b'+' => return Err(DnError::MultiValuedRdn { position: i }),
                    b'\\' => {
                        let next = *b.get(i + 1).ok_or(DnError::InvalidEscape { position: i })?;
                        if is_special(next) {
                            value.push(next);
                            i += 2;
                        } else {
                            let hi = hex_val(next);
                            let lo = b.get(i + 2).copied().and_then(hex_val);
                            match (hi, lo) {
                                (Some(h), Some(l)) => {
                                    value.push((h << 4) | l);
                                    i += 3;
                                }
                                _ => return Err(DnError::InvalidEscape { position: i }),
                            }
                        }
                        keep = value.len();
                    }
                    _ => {
                        value.push(c);
                        if c != b' ' {
                            keep = value.len();
                        }
                        i += 1;
                    }
                }
            }
            value.truncate(keep);
            let value = String::from_utf8(value).map_err(|_| DnError::InvalidUtf8 {
                attribute_type: attribute_type.clone(),
            })?;
            if attributes.iter().any(|(t, _)| *t == attribute_type) {
                return Err(DnError::DuplicateAttribute { attribute_type });
            }
            attributes.push((attribute_type, value));
            if i >= b.len() {
                break;
            }
            i += 1; // separator
            if b[i..].iter().all(|c| *c == b' ') {
                return Err(DnError::EmptyRdn { position: i });
            }
        }
        Ok(DistinguishedName { attributes })
    }

    /// The subject or issuer name of a certificate. Attribute types use
    /// openssl's short names, normalised like parsed types (e.g. `C`, `ST`,
    /// `L`, `O`, `OU`, `CN`, `E`); unknown types use their dotted OID.
    /// Repeated types are kept (see [`DistinguishedName::has_duplicates`]).
    pub fn from_x509_name(name: &X509NameRef) -> DistinguishedName {
        let attributes =
            name.entries()
                .map(|e| {
                    let nid = e.object().nid();
                    let t = match nid.short_name() {
                        Ok(s) if nid != openssl::nid::Nid::UNDEF => normalize_type(s),
                        _ => e.object().to_string(),
                    };
                    let v = e.data().to_string().unwrap_or_else(|_| {
                        String::from_utf8_lossy(e.data().as_slice()).into_owned()
                    });
                    (t, v)
                })
                .collect();
        DistinguishedName { attributes }
    }

    /// The `(TYPE, value)` pairs in order.
    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }

    /// The value of an attribute type (normalised name, e.g. `"ST"`), if present once.
    pub fn get(&self, attribute_type: &str) -> Option<&str> {
        let t = normalize_type(attribute_type);
        self.attributes
            .iter()
            .find(|(k, _)| *k == t)
            .map(|(_, v)| v.as_str())
    }

    /// Whether some attribute type appears more than once.
    pub fn has_duplicates(&self) -> bool {
        self.attributes
            .iter()
            .enumerate()
            .any(|(i, (t, _))| self.attributes[..i].iter().any(|(u, _)| u == t))
    }

    /// Whether every attribute of `self` is present in `other` with an equal
    /// value (exact, case-sensitive). A DN with repeated types on `other`'s side
    /// only matches when each type named by `self` appears once in `other`.
    pub fn is_subset_of(&self, other: &DistinguishedName) -> bool {
        self.attributes.iter().all(|(t, v)| {
            let mut found = other.attributes.iter().filter(|(u, _)| u == t);
            matches!((found.next(), found.next()), (Some((_, w)), None) if w == v)
        })
    }
}

fn escape_value(v: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if matches!(c, '\\' | ',' | ';' | '+' | '"' | '<' | '>' | '=')
            || edge_space
            || (i == 0 && c == '#')
        {
            write!(f, "\\{c}")?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

impl fmt::Display for DistinguishedName {
    /// `TYPE=value, TYPE=value` with RFC 4514 escaping; parses back to an equal DN.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (t, v)) in self.attributes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{t}=")?;
            escape_value(v, f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_escapes_and_spaces() {
        let dn =
            DistinguishedName::parse(r"C=US, S=WA,O=Acme\, Inc.;OU=\ a\\b\; , CN=x\2Cy").unwrap();
        assert_eq!(dn.get("ST"), Some("WA"));
        assert_eq!(dn.get("O"), Some("Acme, Inc."));
        assert_eq!(dn.get("OU"), Some(r" a\b;"));
        assert_eq!(dn.get("CN"), Some("x,y"));
        let again = DistinguishedName::parse(&dn.to_string()).unwrap();
        assert_eq!(again, dn);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(DistinguishedName::parse("  "), Err(DnError::Empty));
        assert!(matches!(
            DistinguishedName::parse("C=US,,O=x"),
            Err(DnError::EmptyRdn { .. })
        ));
        assert!(matches!(
            DistinguishedName::parse("C=US,"),
            Err(DnError::EmptyRdn { .. })
        ));
        assert!(matches!(
            DistinguishedName::parse("CUS"),
            Err(DnError::MissingEquals { .. })
        ));
        assert!(matches!(
            DistinguishedName::parse("C=US+O=x"),
            Err(DnError::MultiValuedRdn { .. })
        ));
        assert!(matches!(
            DistinguishedName::parse(r"C=U\S"),
            Err(DnError::InvalidEscape { .. })
        ));
        assert!(matches!(
            DistinguishedName::parse("C=US\\"),
            Err(DnError::InvalidEscape { .. })
        ));
        assert!(matches!(
            DistinguishedName::parse("C=#0101"),
            Err(DnError::HexValue { .. })
        ));
        assert!(matches!(
            DistinguishedName::parse("ST=a, S=b"),
            Err(DnError::DuplicateAttribute { .. })
        ));
        assert!(matches!(
            DistinguishedName::parse("C =US, O x=1"),
            Err(DnError::InvalidType { .. })
        ));
    }

    #[test]
    fn subset() {
        let small = DistinguishedName::parse("C=US, ST=WA, O=acme").unwrap();
        let big = DistinguishedName::parse("CN=x, O=acme, ST=WA, C=US").unwrap();
        assert!(small.is_subset_of(&big));
        assert!(!big.is_subset_of(&small));
        let other = DistinguishedName::parse("C=US, ST=wa, O=acme").unwrap();
        assert!(!other.is_subset_of(&big));
    }
}
