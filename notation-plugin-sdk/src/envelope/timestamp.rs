//! Attaching an RFC 3161 timestamp token to an encoded envelope.
//!
//! A timestamp countersigns the envelope's primitive signature (the
//! `signature` bytes of [`super::SignatureEnvelope`]: for JWS the decoded
//! `signature` member, for COSE the `COSE_Sign1` signature). It is stored
//! as an unsigned attribute (`io.cncf.notary.timestampSignature` in the JWS
//! `header` or the COSE unprotected header), so attaching it leaves the
//! signed parts untouched. [`attach_timestamp`] re-encodes the envelope and
//! then checks that the signing input and the signature are byte for byte
//! what they were.

use coset::{CoseSign1, TaggedCborSerializable};

use super::{cose, jws, parse, EnvelopeError, EnvelopeFormat, SignatureEnvelope};

/// Returns `envelope` with `token` (a DER `TimeStampToken`) as its
/// timestamp signature, replacing any token it already had. The protected
/// header, payload, signature, certificate chain and signing agent are
/// kept.
pub fn attach_timestamp(
    format: EnvelopeFormat,
    envelope: &[u8],
    token: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let before = parse(format, envelope)?;
    let mut unsigned = before.unsigned_attributes.clone();
    unsigned.timestamp_signature = Some(token.to_vec());
    let chain_der = before
        .certificate_chain
        .iter()
        .map(|c| c.to_der())
        .collect::<Result<Vec<_>, _>>()?;
    let out = match format {
        EnvelopeFormat::Jws => {
            // The signing input is `BASE64URL(protected) '.' BASE64URL(payload)`
            // exactly as received; decoding is strict (no padding, no stray
            // bits), so re-encoding reproduces the same text.
            let input = before.signing_input();
            let dot = input
                .iter()
                .position(|b| *b == b'.')
                .ok_or(EnvelopeError::MissingSignature)?;
            let protected = base64_url_decode(&input[..dot])?;
            jws::encode_envelope(
                &protected,
                &before.payload_bytes,
                &before.signature,
                &chain_der,
                &unsigned,
            )
        }
        EnvelopeFormat::Cose => {
            let mut msg = CoseSign1::from_tagged_slice(envelope)
                .map_err(|source| EnvelopeError::MalformedCose { source })?;
            // Keep an x5chain that sits in the protected header there.
            let unprotected_chain = if msg
                .unprotected
                .rest
                .iter()
                .any(|(l, _)| *l == coset::Label::Int(cose::X5CHAIN_LABEL))
            {
                chain_der.as_slice()
            } else {
                &[]
            };
            msg.unprotected = cose::unprotected_header(unprotected_chain, &unsigned);
            // `to_tagged_vec` writes the protected header's original bytes.
            msg.to_tagged_vec()
                .map_err(|source| EnvelopeError::MalformedCose { source })?
        }
    };
    let after = parse(format, &out)?;
    if !same_signed_parts(&before, &after) || after.unsigned_attributes != unsigned {
        return Err(EnvelopeError::Encode {
            format,
            reason: "re-encoding with the timestamp changed the signed parts",
        });
    }
    Ok(out)
}

fn same_signed_parts(a: &SignatureEnvelope, b: &SignatureEnvelope) -> bool {
    a.signing_input() == b.signing_input()
        && a.signature == b.signature
        && a.certificate_chain.len() == b.certificate_chain.len()
        && a.certificate_chain
            .iter()
            .zip(&b.certificate_chain)
            .all(|(x, y)| x.to_der().ok() == y.to_der().ok())
}

fn base64_url_decode(text: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| EnvelopeError::InvalidBase64 { field: "protected" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::testing::generate_chain;
    use crate::envelope::{sign, LocalSigner, Payload, SignRequest, SigningScheme};
    use crate::vocab::KeySpec;

    #[test]
    fn attach_keeps_signed_parts() {
        let (key, chain) = generate_chain(&KeySpec::Ec256).unwrap();
        let signer = LocalSigner::new(key, chain).unwrap();
        let req = SignRequest {
            payload: Payload::new(crate::descriptor::Descriptor::new(
                "application/vnd.oci.image.manifest.v1+json",
                format!("sha256:{}", "d".repeat(64)),
                3,
            )),
            signing_scheme: SigningScheme::X509,
            signing_time: time::OffsetDateTime::now_utc(),
            expiry: None,
            signing_agent: Some("agent/1".into()),
            extended_attributes: Vec::new(),
        };
        for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
            let bytes = sign(format, &req, &signer).unwrap();
            let before = parse(format, &bytes).unwrap();
            let out = attach_timestamp(format, &bytes, b"\x30\x03\x02\x01\x01").unwrap();
            let after = parse(format, &out).unwrap();
            after.verify_integrity().unwrap();
            assert_eq!(after.signing_input(), before.signing_input());
            assert_eq!(after.signature, before.signature);
            assert_eq!(
                after.unsigned_attributes.timestamp_signature.as_deref(),
                Some(&b"\x30\x03\x02\x01\x01"[..])
            );
            assert_eq!(
                after.unsigned_attributes.signing_agent.as_deref(),
                Some("agent/1")
            );
            // replacing an existing token
            let again = attach_timestamp(format, &out, b"\x05\x00").unwrap();
            let again = parse(format, &again).unwrap();
            assert_eq!(
                again.unsigned_attributes.timestamp_signature.as_deref(),
                Some(&b"\x05\x00"[..])
            );
        }
    }
}
