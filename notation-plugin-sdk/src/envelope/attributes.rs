//! Signing schemes and the signed / unsigned attributes of an envelope.

use time::OffsetDateTime;

use super::EnvelopeError;

/// Header (attribute) names shared by the JWS and COSE encodings.
pub mod header_names {
    /// Signing scheme (critical, required).
    pub const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
    /// Signing time (`notary.x509` only, not critical).
    pub const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
    /// Authentic signing time (`notary.x509.signingAuthority` only,
    /// critical).
    pub const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
    /// Expiry (optional, critical).
    pub const EXPIRY: &str = "io.cncf.notary.expiry";
    /// Verification plugin name (optional extended attribute, critical).
    pub const VERIFICATION_PLUGIN: &str = "io.cncf.notary.verificationPlugin";
    /// Verification plugin minimum version (optional extended attribute,
    /// critical).
    pub const VERIFICATION_PLUGIN_MIN_VERSION: &str = "io.cncf.notary.verificationPluginMinVersion";
    /// Signing agent (unsigned).
    pub const SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";
    /// Timestamp countersignature (unsigned).
    pub const TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";

    /// Whether `name` is a standard header that an extended attribute may
    /// not reuse.
    pub fn is_reserved(name: &str) -> bool {
        matches!(
            name,
            "alg" | "cty" | "crit" | "x5c" | "typ" | "kid" | "jku" | "jwk" | "x5u" | "x5t"
        ) || matches!(
            name,
            SIGNING_SCHEME
                | SIGNING_TIME
                | AUTHENTIC_SIGNING_TIME
                | EXPIRY
                | SIGNING_AGENT
                | TIMESTAMP_SIGNATURE
        )
    }
}

/// A Notary Project signing scheme.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SigningScheme {
    /// `notary.x509`: an end user signs with an X.509 certificate.
    X509,
    /// `notary.x509.signingAuthority`: a signing authority signs on the
    /// user's behalf and vouches for the signing time.
    X509SigningAuthority,
    /// Any other value (refused by [`super::parse`] and [`super::sign`]).
    Unknown(String),
}

impl SigningScheme {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            SigningScheme::X509 => "notary.x509",
            SigningScheme::X509SigningAuthority => "notary.x509.signingAuthority",
            SigningScheme::Unknown(s) => s,
        }
    }

    /// Parses a wire string.
    pub fn from_wire(s: &str) -> Self {
        match s {
            "notary.x509" => SigningScheme::X509,
            "notary.x509.signingAuthority" => SigningScheme::X509SigningAuthority,
            other => SigningScheme::Unknown(other.to_owned()),
        }
    }

    /// The header that carries the signing time under this scheme.
    pub fn time_header(&self) -> &'static str {
        match self {
            SigningScheme::X509SigningAuthority => header_names::AUTHENTIC_SIGNING_TIME,
            _ => header_names::SIGNING_TIME,
        }
    }
}

impl std::fmt::Display for SigningScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An extended signed attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtendedAttribute {
    /// Attribute name.
    pub key: String,
    /// Attribute value. COSE values are mapped to JSON: text, integers,
    /// booleans and arrays / maps thereof; byte strings become base64 text.
    pub value: serde_json::Value,
    /// Whether the attribute is listed in `crit`.
    pub critical: bool,
}

impl ExtendedAttribute {
    /// A critical text attribute, e.g. the verification plugin name.
    pub fn critical_text(key: impl Into<String>, value: impl Into<String>) -> Self {
        ExtendedAttribute {
            key: key.into(),
            value: serde_json::Value::String(value.into()),
            critical: true,
        }
    }
}

/// The signed attributes of an envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedAttributes {
    /// Signing scheme.
    pub signing_scheme: SigningScheme,
    /// Signing time; under `notary.x509.signingAuthority` this is the
    /// authentic signing time.
    pub signing_time: OffsetDateTime,
    /// Optional expiry.
    pub expiry: Option<OffsetDateTime>,
    /// Payload content type.
    pub content_type: String,
    /// Extended attributes, in the order they were found.
    pub extended: Vec<ExtendedAttribute>,
}

impl SignedAttributes {
    /// Looks up an extended attribute.
    pub fn extended_attribute(&self, key: &str) -> Option<&ExtendedAttribute> {
        self.extended.iter().find(|a| a.key == key)
    }

    /// The verification plugin name, if the signature names one.
    pub fn verification_plugin(&self) -> Option<&str> {
        self.extended_attribute(header_names::VERIFICATION_PLUGIN)
            .and_then(|a| a.value.as_str())
    }

    /// The verification plugin minimum version, if present.
    pub fn verification_plugin_min_version(&self) -> Option<&str> {
        self.extended_attribute(header_names::VERIFICATION_PLUGIN_MIN_VERSION)
            .and_then(|a| a.value.as_str())
    }

    /// Fails on the first critical extended attribute whose name is not in
    /// `understood`.
    pub fn check_critical_understood(&self, understood: &[&str]) -> Result<(), EnvelopeError> {
        match self
            .extended
            .iter()
            .find(|a| a.critical && !understood.contains(&a.key.as_str()))
        {
            Some(a) => Err(EnvelopeError::UnknownCriticalAttribute {
                name: a.key.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// The unsigned attributes of an envelope (the certificate chain is kept
/// separately in [`super::SignatureEnvelope::certificate_chain`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnsignedAttributes {
    /// Signing agent, e.g. `notation/1.3.2`. Informational only.
    pub signing_agent: Option<String>,
    /// RFC 3161 `TimeStampToken` (DER), if the envelope is timestamped.
    pub timestamp_signature: Option<Vec<u8>>,
}

/// Drops sub-second precision and moves to UTC.
pub(crate) fn truncate_time(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
}

/// Checks the scheme-dependent rules shared by both formats and returns the
/// signing time. `signing_time` / `authentic_signing_time` are what the
/// header held; `crit` lists the critical names; `present` says whether a
/// header name is present in the protected header.
pub(crate) struct HeaderFacts<'a> {
    pub scheme: &'a SigningScheme,
    pub signing_time: Option<OffsetDateTime>,
    pub authentic_signing_time: Option<OffsetDateTime>,
    pub expiry: Option<OffsetDateTime>,
    pub crit: &'a [String],
}

impl HeaderFacts<'_> {
    /// Applies the signing scheme and criticality rules.
    pub(crate) fn check(
        &self,
        is_present: impl Fn(&str) -> bool,
        forbidden_in_crit: impl Fn(&str) -> bool,
    ) -> Result<OffsetDateTime, EnvelopeError> {
        let time = match self.scheme {
            SigningScheme::X509 => {
                if self.authentic_signing_time.is_some() {
                    return Err(EnvelopeError::AttributeNotAllowed {
                        name: header_names::AUTHENTIC_SIGNING_TIME.to_owned(),
                        scheme: self.scheme.to_string(),
                    });
                }
                self.signing_time
                    .ok_or_else(|| EnvelopeError::MissingAttribute {
                        name: header_names::SIGNING_TIME.to_owned(),
                    })?
            }
            SigningScheme::X509SigningAuthority => {
                if self.signing_time.is_some() {
                    return Err(EnvelopeError::AttributeNotAllowed {
                        name: header_names::SIGNING_TIME.to_owned(),
                        scheme: self.scheme.to_string(),
                    });
                }
                self.authentic_signing_time
                    .ok_or_else(|| EnvelopeError::MissingAttribute {
                        name: header_names::AUTHENTIC_SIGNING_TIME.to_owned(),
                    })?
            }
            SigningScheme::Unknown(v) => {
                return Err(EnvelopeError::UnsupportedSigningScheme { value: v.clone() })
            }
        };
        if self.crit.is_empty() {
            return Err(EnvelopeError::MissingAttribute {
                name: "crit".to_owned(),
            });
        }
        let mut must = vec![header_names::SIGNING_SCHEME];
        if self.expiry.is_some() {
            must.push(header_names::EXPIRY);
        }
        if *self.scheme == SigningScheme::X509SigningAuthority {
            must.push(header_names::AUTHENTIC_SIGNING_TIME);
        }
        for name in must {
            if !self.crit.iter().any(|c| c == name) {
                return Err(EnvelopeError::NotMarkedCritical {
                    name: name.to_owned(),
                });
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for name in self.crit {
            if forbidden_in_crit(name) || !is_present(name) || !seen.insert(name.as_str()) {
                return Err(EnvelopeError::InvalidCriticalEntry { name: name.clone() });
            }
        }
        Ok(time)
    }
}
