//! The JWS envelope: flattened JWS JSON serialization
//! (`application/jose+json`).
//!
//! The protected header is written with its keys sorted and the payload
//! with every object's keys sorted, both with Go's JSON escaping, which is
//! what upstream notation-core-go produces. Decoding accepts any order and
//! verifies over the received bytes.

use std::collections::HashSet;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use openssl::x509::X509;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::vocab::{KeySpec, SigningAlgorithm};

use super::attributes::{header_names as names, HeaderFacts};
use super::payload::{go_escape, sorted_json};
use super::{
    algorithm, EnvelopeError, EnvelopeFormat, ExtendedAttribute, SignRequest, SignatureEnvelope,
    SignedAttributes, SigningScheme, UnsignedAttributes, MAX_ENVELOPE_SIZE, PAYLOAD_MEDIA_TYPE,
};

/// Header names JWS (RFC 7515/7518) defines; they may not appear in `crit`.
const REGISTERED: &[&str] = &[
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
];

fn format_time(t: OffsetDateTime) -> Result<String, EnvelopeError> {
    t.format(&Rfc3339)
        .map_err(|_| EnvelopeError::TimeOutOfRange {
            name: "time".to_owned(),
        })
}

/// Builds the protected header JSON for `attrs` signed with `alg`: keys
/// sorted, `crit` in upstream's order (signing scheme, critical extended
/// attributes, authentic signing time, expiry).
pub fn encode_protected_header(
    alg: &SigningAlgorithm,
    attrs: &SignedAttributes,
) -> Result<Vec<u8>, EnvelopeError> {
    use serde_json::Value;
    let alg_name = algorithm::jws_alg(alg).ok_or_else(|| EnvelopeError::UnsupportedAlgorithm {
        value: alg.to_string(),
    })?;
    let mut map = serde_json::Map::new();
    let mut crit = vec![Value::from(names::SIGNING_SCHEME)];
    for attr in &attrs.extended {
        if names::is_reserved(&attr.key) || map.contains_key(&attr.key) {
            return Err(EnvelopeError::DuplicateAttribute {
                name: attr.key.clone(),
            });
        }
        if attr.critical {
            crit.push(Value::from(attr.key.clone()));
        }
        map.insert(attr.key.clone(), attr.value.clone());
    }
    map.insert("alg".to_owned(), Value::from(alg_name));
    map.insert("cty".to_owned(), Value::from(attrs.content_type.clone()));
    map.insert(
        names::SIGNING_SCHEME.to_owned(),
        Value::from(attrs.signing_scheme.as_str()),
    );
    map.insert(
        attrs.signing_scheme.time_header().to_owned(),
        Value::from(format_time(attrs.signing_time)?),
    );
    if attrs.signing_scheme == SigningScheme::X509SigningAuthority {
        crit.push(Value::from(names::AUTHENTIC_SIGNING_TIME));
    }
    if let Some(expiry) = attrs.expiry {
        crit.push(Value::from(names::EXPIRY));
        map.insert(names::EXPIRY.to_owned(), Value::from(format_time(expiry)?));
    }
    map.insert("crit".to_owned(), Value::Array(crit));
    Ok(sorted_json(&Value::Object(map)).into_bytes())
}

/// Re-encodes a JSON payload the way upstream JWS signing does (every
/// object's keys sorted, Go escaping).
pub fn canonical_payload(payload_json: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let value: serde_json::Value = serde_json::from_slice(payload_json)
        .map_err(|source| EnvelopeError::InvalidPayload { source })?;
    Ok(sorted_json(&value).into_bytes())
}

/// The JWS signing input `BASE64URL(protected) '.' BASE64URL(payload)`.
pub fn signing_input(protected: &[u8], payload: &[u8]) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(protected),
        URL_SAFE_NO_PAD.encode(payload)
    )
}

/// Assembles the flattened JWS JSON envelope.
pub fn encode_envelope(
    protected: &[u8],
    payload: &[u8],
    signature: &[u8],
    chain_der: &[Vec<u8>],
    unsigned: &UnsignedAttributes,
) -> Vec<u8> {
    let q = |s: &str| go_escape(&serde_json::Value::from(s).to_string());
    let mut header = String::from("{");
    if let Some(token) = &unsigned.timestamp_signature {
        header.push_str(&format!(
            "{}:{},",
            q(names::TIMESTAMP_SIGNATURE),
            q(&STANDARD.encode(token))
        ));
    }
    let certs: Vec<String> = chain_der.iter().map(|c| q(&STANDARD.encode(c))).collect();
    header.push_str(&format!("\"x5c\":[{}]", certs.join(",")));
    if let Some(agent) = &unsigned.signing_agent {
        header.push_str(&format!(",{}:{}", q(names::SIGNING_AGENT), q(agent)));
    }
    header.push('}');
    format!(
        "{{\"payload\":\"{}\",\"protected\":\"{}\",\"header\":{},\"signature\":\"{}\"}}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(protected),
        header,
        URL_SAFE_NO_PAD.encode(signature)
    )
    .into_bytes()
}

/// Signs `req` into a JWS envelope with `payload_json` as the payload (it
/// is re-encoded with sorted keys first).
pub(crate) fn sign(
    req: &SignRequest,
    payload_json: &[u8],
    alg: &SigningAlgorithm,
    key_spec: &KeySpec,
    signer: &dyn super::Signer,
) -> Result<Vec<u8>, EnvelopeError> {
    let attrs = SignedAttributes {
        signing_scheme: req.signing_scheme.clone(),
        signing_time: req.signing_time,
        expiry: req.expiry,
        content_type: PAYLOAD_MEDIA_TYPE.to_owned(),
        extended: req.extended_attributes.clone(),
    };
    let protected = encode_protected_header(alg, &attrs)?;
    let payload = canonical_payload(payload_json)?;
    let input = signing_input(&protected, &payload);
    let (signature, chain) = super::sign_and_check(
        EnvelopeFormat::Jws,
        input.as_bytes(),
        alg,
        key_spec,
        req.signing_time,
        signer,
    )?;
    let chain_der = chain
        .iter()
        .map(|c| c.to_der())
        .collect::<Result<Vec<_>, _>>()?;
    let unsigned = UnsignedAttributes {
        signing_agent: req.signing_agent.clone(),
        timestamp_signature: None,
    };
    Ok(encode_envelope(
        &protected, &payload, &signature, &chain_der, &unsigned,
    ))
}

/// The envelope's JSON shape. Unknown top-level members are ignored, as
/// upstream does.
#[derive(Deserialize)]
struct RawEnvelope {
    payload: String,
    protected: String,
    #[serde(default)]
    header: RawHeader,
    signature: String,
}

#[derive(Deserialize, Default)]
struct RawHeader {
    #[serde(default)]
    x5c: Option<Vec<String>>,
    #[serde(rename = "io.cncf.notary.signingAgent", default)]
    signing_agent: Option<String>,
    #[serde(rename = "io.cncf.notary.timestampSignature", default)]
    timestamp_signature: Option<String>,
}

/// A JSON object kept in document order, refusing duplicate member names
/// (two implementations could otherwise read different values from the
/// same signed bytes).
struct StrictObject(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrictObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictObject, A::Error> {
                let mut out: Vec<(String, serde_json::Value)> = Vec::new();
                // A set, not a scan of `out`: a header with many members
                // would otherwise cost quadratic time.
                let mut seen = HashSet::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    if !seen.insert(k.clone()) {
                        return Err(serde::de::Error::custom(format!("duplicate header {k:?}")));
                    }
                    out.push((k, v));
                }
                Ok(StrictObject(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn b64url(field: &'static str, s: &str) -> Result<Vec<u8>, EnvelopeError> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| EnvelopeError::InvalidBase64 { field })
}

fn text_attr<'a>(name: &str, v: &'a serde_json::Value) -> Result<&'a str, EnvelopeError> {
    v.as_str().ok_or_else(|| EnvelopeError::InvalidAttribute {
        name: name.to_owned(),
        expected: "a string",
    })
}

fn time_attr(name: &str, v: &serde_json::Value) -> Result<OffsetDateTime, EnvelopeError> {
    OffsetDateTime::parse(text_attr(name, v)?, &Rfc3339).map_err(|_| {
        EnvelopeError::InvalidAttribute {
            name: name.to_owned(),
            expected: "an RFC 3339 date-time",
        }
    })
}

/// Decodes a JWS envelope and checks its structure. An empty certificate
/// chain is allowed here; [`super::parse`] refuses it.
pub fn decode(bytes: &[u8]) -> Result<SignatureEnvelope, EnvelopeError> {
    if bytes.len() > MAX_ENVELOPE_SIZE {
        return Err(EnvelopeError::TooLarge {
            size: bytes.len(),
            limit: MAX_ENVELOPE_SIZE,
        });
    }
    let raw: RawEnvelope =
        serde_json::from_slice(bytes).map_err(|source| EnvelopeError::MalformedJson {
            part: "envelope",
            source,
        })?;
    let protected_bytes = b64url("protected", &raw.protected)?;
    let payload = b64url("payload", &raw.payload)?;
    let signature = b64url("signature", &raw.signature)?;
    let StrictObject(protected) = serde_json::from_slice(&protected_bytes).map_err(|source| {
        EnvelopeError::MalformedJson {
            part: "protected header",
            source,
        }
    })?;

    let get = |name: &str| protected.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let alg_name = text_attr(
        "alg",
        get("alg").ok_or_else(|| EnvelopeError::MissingAttribute {
            name: "alg".to_owned(),
        })?,
    )?;
    let alg =
        algorithm::from_jws_alg(alg_name).ok_or_else(|| EnvelopeError::UnsupportedAlgorithm {
            value: alg_name.to_owned(),
        })?;
    let content_type = text_attr(
        "cty",
        get("cty").ok_or_else(|| EnvelopeError::MissingAttribute {
            name: "cty".to_owned(),
        })?,
    )?
    .to_owned();
    if content_type != PAYLOAD_MEDIA_TYPE {
        return Err(EnvelopeError::UnsupportedContentType {
            value: content_type,
        });
    }
    let crit: Vec<String> = match get("crit") {
        None => Vec::new(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|i| text_attr("crit", i).map(str::to_owned))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(EnvelopeError::InvalidAttribute {
                name: "crit".to_owned(),
                expected: "an array of strings",
            })
        }
    };

    // Sets for the membership tests below, so that many header members or
    // `crit` entries cost linear, not quadratic, time.
    let crit_set: HashSet<&str> = crit.iter().map(String::as_str).collect();
    let present: HashSet<&str> = protected.iter().map(|(k, _)| k.as_str()).collect();

    let mut scheme = None;
    let mut signing_time = None;
    let mut authentic_signing_time = None;
    let mut expiry = None;
    let mut extended = Vec::new();
    for (key, value) in &protected {
        match key.as_str() {
            "alg" | "cty" | "crit" => {}
            names::SIGNING_SCHEME => {
                scheme = Some(SigningScheme::from_wire(text_attr(key, value)?))
            }
            names::SIGNING_TIME => signing_time = Some(time_attr(key, value)?),
            names::AUTHENTIC_SIGNING_TIME => authentic_signing_time = Some(time_attr(key, value)?),
            names::EXPIRY => expiry = Some(time_attr(key, value)?),
            _ => extended.push(ExtendedAttribute {
                key: key.clone(),
                value: value.clone(),
                critical: crit_set.contains(key.as_str()),
            }),
        }
    }
    let scheme = scheme.ok_or_else(|| EnvelopeError::MissingAttribute {
        name: names::SIGNING_SCHEME.to_owned(),
    })?;
    let facts = HeaderFacts {
        scheme: &scheme,
        signing_time,
        authentic_signing_time,
        expiry,
        crit: &crit,
    };
    let time = facts.check(
        |name| present.contains(name),
        |name| REGISTERED.contains(&name),
    )?;

    let x5c = raw.header.x5c.unwrap_or_default();
    super::cert::check_chain_length(x5c.len())?;
    let mut chain = Vec::new();
    for (index, c) in x5c.iter().enumerate() {
        let der = STANDARD
            .decode(c)
            .map_err(|_| EnvelopeError::InvalidBase64 { field: "x5c" })?;
        chain.push(
            X509::from_der(&der)
                .map_err(|source| EnvelopeError::InvalidCertificate { index, source })?,
        );
    }
    let timestamp_signature = match raw.header.timestamp_signature {
        Some(t) => Some(
            STANDARD
                .decode(t)
                .map_err(|_| EnvelopeError::InvalidBase64 {
                    field: "io.cncf.notary.timestampSignature",
                })?,
        ),
        None => None,
    };
    if signature.is_empty() {
        return Err(EnvelopeError::MissingSignature);
    }
    // Sign over the received text, not a re-encoding of it.
    let signing_input = format!("{}.{}", raw.protected, raw.payload).into_bytes();
    Ok(SignatureEnvelope {
        format: EnvelopeFormat::Jws,
        payload_bytes: payload,
        signed_attributes: SignedAttributes {
            signing_scheme: scheme,
            signing_time: time,
            expiry,
            content_type,
            extended,
        },
        signing_algorithm: alg,
        certificate_chain: chain,
        signature,
        unsigned_attributes: UnsignedAttributes {
            signing_agent: raw.header.signing_agent,
            timestamp_signature,
        },
        signing_input,
    })
}
