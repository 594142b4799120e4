//! The COSE_Sign1 envelope (`application/cose`).
//!
//! Header maps are written in CBOR deterministic order (keys sorted by
//! their encoded bytes), which is what upstream notation-core-go produces;
//! decoding accepts any order and verifies over the received protected
//! header bytes.

use std::collections::HashSet;

use coset::cbor::Value;
use coset::iana::EnumI64;
use coset::{
    iana, CborSerializable, ContentType, CoseSign1, Header, Label, ProtectedHeader,
    RegisteredLabelWithPrivate, TaggedCborSerializable,
};
use openssl::x509::X509;
use time::OffsetDateTime;

use crate::vocab::{KeySpec, SigningAlgorithm};

use super::attributes::{header_names as names, HeaderFacts};
use super::{
    algorithm, EnvelopeError, EnvelopeFormat, ExtendedAttribute, SignRequest, SignatureEnvelope,
    SignedAttributes, SigningScheme, UnsignedAttributes, MAX_ENVELOPE_SIZE, PAYLOAD_MEDIA_TYPE,
};

/// COSE header label of `x5chain`.
pub const X5CHAIN_LABEL: i64 = 33;

/// CBOR tag of an epoch-based date/time.
const EPOCH_TIME_TAG: u64 = 1;

fn malformed(source: coset::CoseError) -> EnvelopeError {
    EnvelopeError::MalformedCose { source }
}

fn encode_error(reason: &'static str) -> EnvelopeError {
    EnvelopeError::Encode {
        format: EnvelopeFormat::Cose,
        reason,
    }
}

fn time_value(t: OffsetDateTime) -> Value {
    Value::Tag(
        EPOCH_TIME_TAG,
        Box::new(Value::Integer(t.unix_timestamp().into())),
    )
}

/// Encoded bytes of a label, the sort key of deterministic CBOR maps.
fn label_sort_key(label: &Label) -> Vec<u8> {
    let value = match label {
        Label::Int(i) => Value::Integer((*i).into()),
        Label::Text(t) => Value::Text(t.clone()),
    };
    let mut out = Vec::new();
    // Writing a small integer or text to a Vec cannot fail.
    let _ = coset::cbor::ser::into_writer(&value, &mut out);
    out
}

fn sort_rest(header: &mut Header) {
    header
        .rest
        .sort_by_cached_key(|(label, _)| label_sort_key(label));
}

/// Maps a JSON attribute value to CBOR.
fn json_to_cbor(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Integer(i.into())
            } else if let Some(u) = n.as_u64() {
                Value::Integer(u.into())
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(json_to_cbor).collect()),
        serde_json::Value::Object(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (Value::Text(k.clone()), json_to_cbor(v)))
                .collect(),
        ),
    }
}

/// Maps a CBOR attribute value to JSON (byte strings become base64 text,
/// tags are dropped, non-text map keys are written in debug form).
fn cbor_to_json(v: &Value) -> serde_json::Value {
    use base64::Engine as _;
    match v {
        Value::Integer(i) => {
            let i: i128 = (*i).into();
            if let Ok(x) = i64::try_from(i) {
                serde_json::Value::from(x)
            } else if let Ok(x) = u64::try_from(i) {
                serde_json::Value::from(x)
            } else {
                serde_json::Value::String(i.to_string())
            }
        }
        Value::Bytes(b) => {
            serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Text(s) => serde_json::Value::String(s.clone()),
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Null => serde_json::Value::Null,
        Value::Tag(_, inner) => cbor_to_json(inner),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(cbor_to_json).collect()),
        Value::Map(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::Text(s) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    (key, cbor_to_json(v))
                })
                .collect(),
        ),
        _ => serde_json::Value::Null,
    }
}

/// Builds the protected header for `attrs` signed with `alg`, with `crit`
/// in upstream's order (signing scheme, authentic signing time, expiry,
/// then critical extended attributes) and the map in deterministic order.
pub fn protected_header(
    alg: &SigningAlgorithm,
    attrs: &SignedAttributes,
) -> Result<Header, EnvelopeError> {
    let alg_id =
        algorithm::cose_algorithm_id(alg).ok_or_else(|| EnvelopeError::UnsupportedAlgorithm {
            value: alg.to_string(),
        })?;
    let iana_alg = iana::Algorithm::from_i64(alg_id).ok_or(encode_error("algorithm id"))?;
    let mut crit = vec![names::SIGNING_SCHEME.to_owned()];
    if attrs.signing_scheme == SigningScheme::X509SigningAuthority {
        crit.push(names::AUTHENTIC_SIGNING_TIME.to_owned());
    }
    if attrs.expiry.is_some() {
        crit.push(names::EXPIRY.to_owned());
    }
    let mut rest = vec![
        (
            Label::Text(names::SIGNING_SCHEME.to_owned()),
            Value::Text(attrs.signing_scheme.as_str().to_owned()),
        ),
        (
            Label::Text(attrs.signing_scheme.time_header().to_owned()),
            time_value(attrs.signing_time),
        ),
    ];
    if let Some(expiry) = attrs.expiry {
        rest.push((Label::Text(names::EXPIRY.to_owned()), time_value(expiry)));
    }
    for ExtendedAttribute {
        key,
        value,
        critical,
    } in &attrs.extended
    {
        if names::is_reserved(key) || rest.iter().any(|(l, _)| *l == Label::Text(key.clone())) {
            return Err(EnvelopeError::DuplicateAttribute { name: key.clone() });
        }
        if *critical {
            crit.push(key.clone());
        }
        rest.push((Label::Text(key.clone()), json_to_cbor(value)));
    }
    let mut header = Header {
        alg: Some(RegisteredLabelWithPrivate::Assigned(iana_alg)),
        crit: crit
            .into_iter()
            .map(RegisteredLabelWithPrivate::Text)
            .collect(),
        content_type: Some(ContentType::Text(attrs.content_type.clone())),
        rest,
        ..Header::default()
    };
    sort_rest(&mut header);
    Ok(header)
}

/// Encodes a protected header map to the bytes that go in the envelope.
pub fn encode_protected_header(header: Header) -> Result<Vec<u8>, EnvelopeError> {
    header.to_vec().map_err(malformed)
}

/// Builds the unprotected header: `x5chain` (omitted when `chain_der` is
/// empty), signing agent and timestamp token, in deterministic order.
pub fn unprotected_header(chain_der: &[Vec<u8>], unsigned: &UnsignedAttributes) -> Header {
    let mut header = Header::default();
    if !chain_der.is_empty() {
        header.rest.push((
            Label::Int(X5CHAIN_LABEL),
            Value::Array(chain_der.iter().cloned().map(Value::Bytes).collect()),
        ));
    }
    if let Some(agent) = &unsigned.signing_agent {
        header.rest.push((
            Label::Text(names::SIGNING_AGENT.to_owned()),
            Value::Text(agent.clone()),
        ));
    }
    if let Some(token) = &unsigned.timestamp_signature {
        header.rest.push((
            Label::Text(names::TIMESTAMP_SIGNATURE.to_owned()),
            Value::Bytes(token.clone()),
        ));
    }
    sort_rest(&mut header);
    header
}

/// The COSE `Sig_structure` for a COSE_Sign1 with these protected header
/// bytes and payload (no external AAD).
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let arr = Value::Array(vec![
        Value::Text("Signature1".to_owned()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]);
    let mut out = Vec::new();
    coset::cbor::ser::into_writer(&arr, &mut out).map_err(|_| encode_error("Sig_structure"))?;
    Ok(out)
}

/// Assembles a tagged COSE_Sign1 from already-encoded protected header
/// bytes, an unprotected header, the payload and the signature.
pub fn encode_sign1(
    protected: &[u8],
    unprotected: Header,
    payload: &[u8],
    signature: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let header = Header::from_slice(protected).map_err(malformed)?;
    let msg = CoseSign1 {
        protected: ProtectedHeader {
            original_data: Some(protected.to_vec()),
            header,
        },
        unprotected,
        payload: Some(payload.to_vec()),
        signature: signature.to_vec(),
    };
    msg.to_tagged_vec().map_err(malformed)
}

/// Signs `req` into a COSE envelope with `payload` as the payload bytes.
pub(crate) fn sign(
    req: &SignRequest,
    payload: &[u8],
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
    let protected = encode_protected_header(protected_header(alg, &attrs)?)?;
    let tbs = sig_structure(&protected, payload)?;
    let (signature, chain) = super::sign_and_check(
        EnvelopeFormat::Cose,
        &tbs,
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
    encode_sign1(
        &protected,
        unprotected_header(&chain_der, &unsigned),
        payload,
        &signature,
    )
}

fn text_attr(name: &str, v: &Value) -> Result<String, EnvelopeError> {
    match v {
        Value::Text(s) => Ok(s.clone()),
        _ => Err(EnvelopeError::InvalidAttribute {
            name: name.to_owned(),
            expected: "a text string",
        }),
    }
}

fn time_attr(name: &str, v: &Value) -> Result<OffsetDateTime, EnvelopeError> {
    let invalid = || EnvelopeError::InvalidAttribute {
        name: name.to_owned(),
        expected: "an epoch date/time (tag 1) with an integer value",
    };
    match v {
        Value::Tag(EPOCH_TIME_TAG, inner) => match inner.as_ref() {
            Value::Integer(i) => {
                let secs = i64::try_from(i128::from(*i)).map_err(|_| invalid())?;
                OffsetDateTime::from_unix_timestamp(secs).map_err(|_| {
                    EnvelopeError::TimeOutOfRange {
                        name: name.to_owned(),
                    }
                })
            }
            _ => Err(invalid()),
        },
        _ => Err(invalid()),
    }
}

/// Decodes a tagged COSE_Sign1 envelope and checks its structure. An empty
/// certificate chain is allowed here; [`super::parse`] refuses it.
pub fn decode(bytes: &[u8]) -> Result<SignatureEnvelope, EnvelopeError> {
    if bytes.len() > MAX_ENVELOPE_SIZE {
        return Err(EnvelopeError::TooLarge {
            size: bytes.len(),
            limit: MAX_ENVELOPE_SIZE,
        });
    }
    let msg = CoseSign1::from_tagged_slice(bytes).map_err(malformed)?;
    let protected = &msg.protected.header;

    let alg = match &protected.alg {
        Some(RegisteredLabelWithPrivate::Assigned(a)) => {
            let id = a.to_i64();
            algorithm::from_cose_algorithm_id(id).ok_or_else(|| {
                EnvelopeError::UnsupportedAlgorithm {
                    value: id.to_string(),
                }
            })?
        }
        Some(other) => {
            return Err(EnvelopeError::UnsupportedAlgorithm {
                value: format!("{other:?}"),
            })
        }
        None => {
            return Err(EnvelopeError::MissingAttribute {
                name: "alg".to_owned(),
            })
        }
    };
    let content_type = match &protected.content_type {
        Some(ContentType::Text(t)) => t.clone(),
        Some(other) => {
            return Err(EnvelopeError::UnsupportedContentType {
                value: format!("{other:?}"),
            })
        }
        None => {
            return Err(EnvelopeError::MissingAttribute {
                name: "content type".to_owned(),
            })
        }
    };
    if content_type != PAYLOAD_MEDIA_TYPE {
        return Err(EnvelopeError::UnsupportedContentType {
            value: content_type,
        });
    }
    let mut crit = Vec::with_capacity(protected.crit.len());
    for c in &protected.crit {
        match c {
            RegisteredLabelWithPrivate::Text(t) => crit.push(t.clone()),
            other => {
                return Err(EnvelopeError::InvalidCriticalEntry {
                    name: format!("{other:?}"),
                })
            }
        }
    }

    // Sets for the membership tests below, so that many header entries or
    // `crit` entries cost linear, not quadratic, time.
    let crit_set: HashSet<&str> = crit.iter().map(String::as_str).collect();
    let present: HashSet<&str> = protected
        .rest
        .iter()
        .filter_map(|(l, _)| match l {
            Label::Text(t) => Some(t.as_str()),
            Label::Int(_) => None,
        })
        .collect();

    let mut scheme = None;
    let mut signing_time = None;
    let mut authentic_signing_time = None;
    let mut expiry = None;
    let mut extended = Vec::new();
    let mut protected_chain = None;
    for (label, value) in &protected.rest {
        let Label::Text(key) = label else {
            // The COSE envelope spec allows `x5chain` in the protected
            // header too. Other integer labels carry nothing Notary
            // defines; a critical one is refused through `crit` (only text
            // entries are accepted there).
            if *label == Label::Int(X5CHAIN_LABEL) {
                protected_chain = Some(decode_x5chain(value)?);
            }
            continue;
        };
        match key.as_str() {
            names::SIGNING_SCHEME => {
                scheme = Some(SigningScheme::from_wire(&text_attr(key, value)?))
            }
            names::SIGNING_TIME => signing_time = Some(time_attr(key, value)?),
            names::AUTHENTIC_SIGNING_TIME => authentic_signing_time = Some(time_attr(key, value)?),
            names::EXPIRY => expiry = Some(time_attr(key, value)?),
            _ => extended.push(ExtendedAttribute {
                key: key.clone(),
                value: cbor_to_json(value),
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
    let time = facts.check(|name| present.contains(name), |_| false)?;

    let mut chain = Vec::new();
    let mut signing_agent = None;
    let mut timestamp_signature = None;
    for (label, value) in &msg.unprotected.rest {
        match label {
            Label::Int(X5CHAIN_LABEL) => chain = decode_x5chain(value)?,
            Label::Text(t) if t == names::SIGNING_AGENT => {
                signing_agent = Some(text_attr(t, value)?)
            }
            Label::Text(t) if t == names::TIMESTAMP_SIGNATURE => match value {
                Value::Bytes(b) => timestamp_signature = Some(b.clone()),
                _ => {
                    return Err(EnvelopeError::InvalidAttribute {
                        name: t.clone(),
                        expected: "a byte string",
                    })
                }
            },
            _ => {}
        }
    }

    if let Some(from_protected) = protected_chain {
        if !chain.is_empty() {
            // Two chains would leave the signer ambiguous.
            return Err(EnvelopeError::InvalidAttribute {
                name: "x5chain".to_owned(),
                expected: "in the protected or the unprotected header, not both",
            });
        }
        chain = from_protected;
    }
    let payload = msg
        .payload
        .clone()
        .ok_or_else(|| EnvelopeError::MissingAttribute {
            name: "payload".to_owned(),
        })?;
    if msg.signature.is_empty() {
        return Err(EnvelopeError::MissingSignature);
    }
    let signing_input = msg.tbs_data(b"");
    Ok(SignatureEnvelope {
        format: EnvelopeFormat::Cose,
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
        signature: msg.signature,
        unsigned_attributes: UnsignedAttributes {
            signing_agent,
            timestamp_signature,
        },
        signing_input,
    })
}

/// Decodes an `x5chain` header value: one certificate as a byte string,
/// or an array of them, leaf first (at most
/// [`super::cert::MAX_CERTIFICATES`], checked before decoding).
fn decode_x5chain(value: &Value) -> Result<Vec<X509>, EnvelopeError> {
    let not_chain = || EnvelopeError::InvalidAttribute {
        name: "x5chain".to_owned(),
        expected: "an array of byte strings",
    };
    let ders: Vec<&Vec<u8>> = match value {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Bytes(b) => Ok(b),
                _ => Err(not_chain()),
            })
            .collect::<Result<_, _>>()?,
        Value::Bytes(b) => vec![b],
        _ => return Err(not_chain()),
    };
    super::cert::check_chain_length(ders.len())?;
    ders.into_iter()
        .enumerate()
        .map(|(index, der)| {
            X509::from_der(der)
                .map_err(|source| EnvelopeError::InvalidCertificate { index, source })
        })
        .collect()
}
