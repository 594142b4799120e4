//! Decoding and verifying an RFC 3161 `TimeStampToken` (a CMS SignedData
//! over a `TSTInfo`).
//!
//! [`decode_unverified`] is the one decoder: it reads what a token states
//! (`genTime`, accuracy, message imprint, policy, nonce, the certificates
//! it carries) and checks **nothing** cryptographic. `notation inspect`
//! shows its result; [`verify_token`] decodes with it and then verifies.
//!
//! Order of checks in [`verify_token`]:
//! 1. decoding ([`decode_unverified`]): size cap; `ContentInfo` is
//!    `id-signedData`; the encapsulated content is `id-ct-TSTInfo` and
//!    present; the certificates decode (at most
//!    [`cert::MAX_CERTIFICATES`]); `TSTInfo` decodes: version 1, SHA-2
//!    imprint of the right length, `genTime` (fractional seconds allowed,
//!    as RFC 3161 permits), accuracy;
//! 2. exactly one `SignerInfo`; digest algorithm SHA-256/384/512,
//!    signature algorithm on an allow list (no SHA-1);
//! 3. the signer's certificate is in the token (matched by its
//!    `SignerIdentifier`);
//! 4. signed attributes: `content-type` is `id-ct-TSTInfo`;
//!    `signing-certificate-v2` is present and its first `ESSCertIDv2`
//!    hashes (and, when given, names) the signer's certificate;
//! 5. the CMS signature and message digest verify under the signer's
//!    certificate (openssl `CMS_verify`, with our own chain checks);
//! 6. the TSA chain (signer first, the token's other certificates as
//!    intermediates) leads to one of the trust anchors and meets the
//!    timestamping certificate requirements;
//! 7. every certificate of the TSA chain was valid at `genTime`.
//!
//! Revocation of the TSA chain ([`VerifiedTimestamp::tsa_chain`]) is
//! checked by the verifier's authentic-timestamp step, which owns the
//! revocation checker.

use cms::cert::x509::ext::pkix::name::GeneralName;
use cms::cert::x509::ext::Extensions;
use cms::cert::x509::serial_number::SerialNumber;
use cms::cert::x509::spki::AlgorithmIdentifierOwned;
use cms::cert::x509::Certificate;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{Int, ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode, Sequence, Tag, Tagged};
use notation_plugin_sdk::envelope::cert;
use notation_plugin_sdk::vocab::HashAlgorithm;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::hash::hash;
use openssl::stack::Stack;
use openssl::x509::X509;
use time::OffsetDateTime;
use x509_tsp::{Accuracy, MessageImprint, TspVersion};

use super::request::hash_of_oid;
use super::{message_digest, TimestampError, MAX_TOKEN_SIZE};
use crate::verifier::chain;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// The baseline time-stamp policy of RFC 3628 (ETSI TS 102 023).
const BASELINE_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.2023.1.1");
/// Signature algorithms accepted for the token's `SignerInfo`.
const SIGNATURE_ALGORITHMS: &[ObjectIdentifier] = &[
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"), // rsaEncryption (PKCS #1 v1.5)
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10"), // RSASSA-PSS
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11"), // sha256WithRSAEncryption
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12"), // sha384WithRSAEncryption
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13"), // sha512WithRSAEncryption
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),  // ecdsa-with-SHA256
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3"),  // ecdsa-with-SHA384
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4"),  // ecdsa-with-SHA512
];

/// `TSTInfo` (RFC 3161 section 2.4.2), as in `x509_tsp::TstInfo` but with
/// `genTime` kept as the raw element: RFC 3161 allows fractional seconds,
/// which the `der` crate's `GeneralizedTime` refuses.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TstInfo {
    version: TspVersion,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

/// `SigningCertificateV2` (RFC 5035).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Vec<Any>>,
}

/// `ESSCertIDv2` (RFC 5035); `hashAlgorithm` defaults to SHA-256.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// `IssuerSerial` (RFC 5035).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// What a timestamp token states, decoded by [`decode_unverified`].
///
/// **Nothing here is verified**: not the token's signature, not its
/// signed attributes, not the TSA chain nor its validity. Any party can
/// forge such a token; use it for display only, and [`verify_token`] for
/// anything that is relied upon.
#[derive(Debug, Clone)]
pub struct TimestampClaims {
    /// `TSTInfo.genTime` as stated.
    pub gen_time: OffsetDateTime,
    /// The accuracy: `TSTInfo.accuracy`, else one second under the
    /// baseline policy, else zero.
    pub accuracy: time::Duration,
    /// The TSA policy.
    pub policy: String,
    /// Hash algorithm of the message imprint (SHA-256, SHA-384 or
    /// SHA-512; its length is checked).
    pub imprint_hash: HashAlgorithm,
    /// The hashed message.
    pub imprint: Vec<u8>,
    /// The nonce's INTEGER content bytes, if present.
    pub nonce: Option<Vec<u8>>,
    /// The certificates the token carries, in its order (untrusted).
    pub certificates: Vec<X509>,
}

impl TimestampClaims {
    /// `genTime - accuracy`; an error if that is before year -9999.
    pub fn lower_limit(&self) -> Result<OffsetDateTime, TimestampError> {
        lower_limit(self.gen_time, self.accuracy)
    }

    /// `genTime + accuracy`; an error if that is after year 9999.
    pub fn upper_limit(&self) -> Result<OffsetDateTime, TimestampError> {
        upper_limit(self.gen_time, self.accuracy)
    }

    /// The stated time range `[genTime - accuracy, genTime + accuracy]`.
    pub fn time_range(&self) -> Result<(OffsetDateTime, OffsetDateTime), TimestampError> {
        Ok((self.lower_limit()?, self.upper_limit()?))
    }

    /// Checks that the imprint is the hash of `message` (for a verified
    /// token, that the timestamp is over `message`; here only that the
    /// token claims so).
    pub fn check_imprint(&self, message: &[u8]) -> Result<(), TimestampError> {
        check_imprint(&self.imprint_hash, &self.imprint, message)
    }
}

/// A verified timestamp: the token's claims, checked by [`verify_token`]
/// (signature, signed attributes, TSA chain and its validity at genTime),
/// and the TSA chain that was built.
#[derive(Debug, Clone)]
pub struct VerifiedTimestamp {
    /// What the token states, now verified.
    pub claims: TimestampClaims,
    /// The TSA chain openssl built, signer first, ending with the trust
    /// anchor.
    pub tsa_chain: Vec<X509>,
}

fn lower_limit(
    gen_time: OffsetDateTime,
    accuracy: time::Duration,
) -> Result<OffsetDateTime, TimestampError> {
    gen_time
        .checked_sub(accuracy)
        .ok_or(TimestampError::TimeRangeOverflow { gen_time })
}

fn upper_limit(
    gen_time: OffsetDateTime,
    accuracy: time::Duration,
) -> Result<OffsetDateTime, TimestampError> {
    gen_time
        .checked_add(accuracy)
        .ok_or(TimestampError::TimeRangeOverflow { gen_time })
}

fn check_imprint(
    imprint_hash: &HashAlgorithm,
    imprint: &[u8],
    message: &[u8],
) -> Result<(), TimestampError> {
    let md = message_digest(imprint_hash).ok_or_else(|| TimestampError::UnsupportedHash {
        oid: imprint_hash.to_string(),
    })?;
    let digest = hash(md, message)?;
    // Not secret: plain comparison is fine.
    if *digest == *imprint {
        Ok(())
    } else {
        Err(TimestampError::ImprintMismatch)
    }
}

fn malformed(part: &'static str) -> impl Fn(der::Error) -> TimestampError {
    move |source| TimestampError::MalformedToken { part, source }
}

fn invalid(problem: &'static str) -> TimestampError {
    TimestampError::InvalidToken { problem }
}

fn not_a_token(problem: &'static str) -> TimestampError {
    TimestampError::NotATimestampToken { problem }
}

/// A decoded token: the claims plus what verification needs besides.
struct DecodedToken {
    signed_data: SignedData,
    /// DER of the encapsulated `TSTInfo`.
    tst_info_der: Vec<u8>,
    /// The carried certificates as parsed ASN.1, index for index with
    /// `claims.certificates`.
    parsed_certificates: Vec<Certificate>,
    claims: TimestampClaims,
}

/// Decodes `token` (DER `TimeStampToken`) without verifying anything.
///
/// Checks only its structure: size cap, CMS SignedData over an
/// encapsulated `TSTInfo`, at most [`cert::MAX_CERTIFICATES`] decodable
/// certificates, `TSTInfo` version 1 with a SHA-2 message imprint of the
/// right length, a valid `genTime` and accuracy. **The signature, the
/// signed attributes and the TSA chain are not checked**: the result may
/// be forged and is fit for display only. Use [`verify_token`] to rely on
/// a timestamp.
pub fn decode_unverified(token: &[u8]) -> Result<TimestampClaims, TimestampError> {
    decode(token).map(|d| d.claims)
}

fn decode(token: &[u8]) -> Result<DecodedToken, TimestampError> {
    if token.len() > MAX_TOKEN_SIZE {
        return Err(TimestampError::TooLarge {
            limit: MAX_TOKEN_SIZE,
        });
    }
    let ci = ContentInfo::from_der(token).map_err(malformed("ContentInfo"))?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(not_a_token("its content type is not SignedData"));
    }
    let sd: SignedData = ci.content.decode_as().map_err(malformed("SignedData"))?;
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(not_a_token("its encapsulated content type is not TSTInfo"));
    }
    let tst_info_der = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| not_a_token("it has no encapsulated TSTInfo"))?
        .decode_as::<OctetString>()
        .map_err(malformed("eContent"))?
        .into_bytes();

    let mut parsed_certificates = Vec::new();
    let mut certificates = Vec::new();
    for choice in sd.certificates.iter().flat_map(|set| set.0.iter()) {
        if let CertificateChoices::Certificate(c) = choice {
            if certificates.len() == cert::MAX_CERTIFICATES {
                return Err(TimestampError::TooManyCertificates {
                    limit: cert::MAX_CERTIFICATES,
                });
            }
            let der = c.to_der().map_err(malformed("certificate"))?;
            certificates.push(X509::from_der(&der)?);
            parsed_certificates.push(c.clone());
        }
    }

    let tst = TstInfo::from_der(&tst_info_der).map_err(malformed("TSTInfo"))?;
    let imprint_hash = hash_of_oid(&tst.message_imprint.hash_algorithm.oid).ok_or_else(|| {
        TimestampError::UnsupportedHash {
            oid: tst.message_imprint.hash_algorithm.oid.to_string(),
        }
    })?;
    let imprint = tst.message_imprint.hashed_message.as_bytes().to_vec();
    if message_digest(&imprint_hash).map(|m| m.size()) != Some(imprint.len()) {
        return Err(TimestampError::ImprintLength {
            hash: imprint_hash,
            length: imprint.len(),
        });
    }
    let gen_time = parse_gen_time(&tst.gen_time)?;
    let accuracy = match &tst.accuracy {
        Some(a) => accuracy_of(a)?,
        None if tst.policy == BASELINE_POLICY => time::Duration::SECOND,
        None => time::Duration::ZERO,
    };
    Ok(DecodedToken {
        tst_info_der,
        parsed_certificates,
        claims: TimestampClaims {
            gen_time,
            accuracy,
            policy: tst.policy.to_string(),
            imprint_hash,
            imprint,
            nonce: tst.nonce.as_ref().map(|n| n.as_bytes().to_vec()),
            certificates,
        },
        signed_data: sd,
    })
}

/// Verifies `token` (DER `TimeStampToken`) against `anchors` (TSA roots).
/// See the module docs for the checks.
pub fn verify_token(token: &[u8], anchors: &[X509]) -> Result<VerifiedTimestamp, TimestampError> {
    // 1. Decoding.
    let DecodedToken {
        signed_data: sd,
        tst_info_der,
        parsed_certificates,
        claims,
    } = decode(token)?;

    // 2. The signer and its algorithms.
    let signer_info = match sd.signer_infos.0.as_slice() {
        [one] => one,
        _ => return Err(invalid("it must have exactly one SignerInfo")),
    };
    if hash_of_oid(&signer_info.digest_alg.oid).is_none() {
        return Err(TimestampError::UnsupportedHash {
            oid: signer_info.digest_alg.oid.to_string(),
        });
    }
    if !SIGNATURE_ALGORITHMS.contains(&signer_info.signature_algorithm.oid) {
        return Err(invalid(
            "its signature algorithm is not RSA, RSASSA-PSS or ECDSA with SHA-2",
        ));
    }

    // 3. The signer's certificate.
    let signer_index = parsed_certificates
        .iter()
        .zip(&claims.certificates)
        .position(|(c, x)| identifies(&signer_info.sid, c, x))
        .ok_or(TimestampError::SignerCertificateMissing)?;
    let signer = claims.certificates[signer_index].clone();

    // 4. Signed attributes.
    check_signed_attributes(signer_info, &signer)?;

    // 5. CMS signature (openssl); the chain is checked below.
    let mut cms = CmsContentInfo::from_der(token)?;
    let mut only_signer = Stack::new()?;
    only_signer.push(signer.clone())?;
    let mut content = Vec::new();
    cms.verify(
        Some(&only_signer),
        None,
        None,
        Some(&mut content),
        CMSOptions::NOINTERN | CMSOptions::NO_SIGNER_CERT_VERIFY | CMSOptions::BINARY,
    )
    .map_err(|source| TimestampError::SignatureInvalid { source })?;
    if content != tst_info_der {
        return Err(invalid(
            "the signed content differs from the decoded TSTInfo",
        ));
    }

    // 6. TSA chain.
    let mut chain_in: Vec<X509> = vec![signer];
    chain_in.extend(
        claims
            .certificates
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != signer_index)
            .map(|(_, x)| x.clone()),
    );
    let path = match chain::verify_to_anchors(&chain_in, anchors)? {
        Ok(path) => path,
        Err(e) => {
            return Err(TimestampError::UntrustedTsa {
                reason: e.reason,
                depth: e.depth,
            })
        }
    };
    cert::check_timestamping_chain(&path).map_err(TimestampError::TsaCertificateRequirement)?;

    // 7. TSA chain valid at genTime.
    let gen_time = claims.gen_time;
    let at = gen_time.replace_nanosecond(0).unwrap_or(gen_time);
    cert::check_valid_at(&path, at)
        .map_err(|source| TimestampError::TsaNotValidAtGenTime { gen_time, source })?;

    Ok(VerifiedTimestamp {
        claims,
        tsa_chain: path,
    })
}

/// Whether `sid` names this certificate.
fn identifies(sid: &SignerIdentifier, c: &Certificate, x: &X509) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            c.tbs_certificate.issuer == ias.issuer
                && c.tbs_certificate.serial_number == ias.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => x
            .subject_key_id()
            .is_some_and(|k| k.as_slice() == ski.0.as_bytes()),
    }
}

fn single_value(si: &SignerInfo, oid: ObjectIdentifier) -> Result<Option<&Any>, TimestampError> {
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| invalid("its SignerInfo has no signed attributes"))?;
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(invalid("a signed attribute appears twice"));
    }
    match attr.values.as_slice() {
        [one] => Ok(Some(one)),
        _ => Err(invalid("a signed attribute must have exactly one value")),
    }
}

fn check_signed_attributes(si: &SignerInfo, signer: &X509) -> Result<(), TimestampError> {
    let content_type = single_value(si, ID_CONTENT_TYPE)?
        .ok_or_else(|| invalid("its content-type signed attribute is missing"))?
        .decode_as::<ObjectIdentifier>()
        .map_err(malformed("content-type attribute"))?;
    if content_type != ID_CT_TST_INFO {
        return Err(invalid("its content-type signed attribute is not TSTInfo"));
    }
    let bad = |problem| TimestampError::SigningCertificateAttribute { problem };
    let v2: SigningCertificateV2 = single_value(si, ID_AA_SIGNING_CERTIFICATE_V2)?
        .ok_or_else(|| bad("is missing"))?
        .decode_as()
        .map_err(malformed("signing-certificate-v2 attribute"))?;
    let first = v2
        .certs
        .first()
        .ok_or_else(|| bad("lists no certificate"))?;
    let hash_alg = match &first.hash_algorithm {
        None => HashAlgorithm::Sha256,
        Some(a) => hash_of_oid(&a.oid).ok_or_else(|| TimestampError::UnsupportedHash {
            oid: a.oid.to_string(),
        })?,
    };
    let md = message_digest(&hash_alg).ok_or_else(|| bad("uses an unsupported hash"))?;
    let signer_der = signer.to_der()?;
    if *hash(md, &signer_der)? != *first.cert_hash.as_bytes() {
        return Err(bad("does not identify the TSA's signing certificate"));
    }
    if let Some(is) = &first.issuer_serial {
        let parsed = Certificate::from_der(&signer_der).map_err(malformed("certificate"))?;
        let issuer_named = is.issuer.iter().any(
            |g| matches!(g, GeneralName::DirectoryName(n) if *n == parsed.tbs_certificate.issuer),
        );
        if !issuer_named || is.serial_number != parsed.tbs_certificate.serial_number {
            return Err(bad(
                "names another issuer and serial number than the TSA's signing certificate",
            ));
        }
    }
    Ok(())
}

fn accuracy_of(a: &Accuracy) -> Result<time::Duration, TimestampError> {
    let bad = || TimestampError::AccuracyOutOfRange;
    let seconds = i64::try_from(a.seconds.unwrap_or(0)).map_err(|_| bad())?;
    let millis = i64::from(a.millis.unwrap_or(0));
    let micros = i64::from(a.micros.unwrap_or(0));
    if !(0..=999).contains(&millis) || !(0..=999).contains(&micros) || seconds > 86_400 * 366 {
        return Err(bad());
    }
    Ok(time::Duration::seconds(seconds)
        + time::Duration::milliseconds(millis)
        + time::Duration::microseconds(micros))
}

/// Parses the text of a GeneralizedTime as RFC 3161 uses it:
/// `YYYYMMDDhhmmss[.f...]Z` (UTC, optional fractional seconds).
fn parse_gen_time(any: &Any) -> Result<OffsetDateTime, TimestampError> {
    let text = String::from_utf8_lossy(any.value()).into_owned();
    let bad = || TimestampError::InvalidGenTime {
        value: text.clone(),
    };
    if any.tag() != Tag::GeneralizedTime {
        return Err(bad());
    }
    let s = text.as_str();
    let body = s.strip_suffix('Z').ok_or_else(bad)?;
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| whole[r].parse::<u32>().map_err(|_| bad());
    let month = time::Month::try_from(num(4..6)? as u8).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(num(0..4)? as i32, month, num(6..8)? as u8)
        .map_err(|_| bad())?;
    let nanos = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let digits: u32 = f.parse().map_err(|_| bad())?;
            digits * 10u32.pow(9 - f.len() as u32)
        }
        Some(_) => return Err(bad()),
    };
    let t = time::Time::from_hms_nano(
        num(8..10)? as u8,
        num(10..12)? as u8,
        num(12..14)? as u8,
        nanos,
    )
    .map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, t).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gt(s: &str) -> Any {
        Any::new(Tag::GeneralizedTime, s.as_bytes()).unwrap()
    }

    #[test]
    fn gen_time_forms() {
        let t = parse_gen_time(&gt("20240229123456Z")).unwrap();
        assert_eq!(t.unix_timestamp(), 1709210096);
        let t = parse_gen_time(&gt("20240229123456.25Z")).unwrap();
        assert_eq!(t.nanosecond(), 250_000_000);
        for bad in [
            "20240229123456",
            "20240230123456Z",
            "2024022912345Z",
            "20240229123456.Z",
            "20240229123456.1234567890Z",
            "20240229123456+0100",
        ] {
            assert!(parse_gen_time(&gt(bad)).is_err(), "{bad}");
        }
        let utc = Any::new(Tag::UtcTime, b"240229123456Z".as_slice()).unwrap();
        assert!(parse_gen_time(&utc).is_err());
    }

    #[test]
    fn accuracy_range() {
        let a = Accuracy {
            seconds: Some(1),
            millis: Some(500),
            micros: None,
        };
        assert_eq!(accuracy_of(&a).unwrap(), time::Duration::milliseconds(1500));
        let bad = Accuracy {
            seconds: None,
            millis: Some(1000),
            micros: None,
        };
        assert!(matches!(
            accuracy_of(&bad),
            Err(TimestampError::AccuracyOutOfRange)
        ));
        let too_long = Accuracy {
            seconds: Some(86_400 * 367),
            millis: None,
            micros: None,
        };
        assert!(accuracy_of(&too_long).is_err());
    }

    fn at(gen_time: OffsetDateTime, accuracy: time::Duration) -> TimestampClaims {
        TimestampClaims {
            gen_time,
            accuracy,
            policy: "1.2.3".into(),
            imprint_hash: HashAlgorithm::Sha256,
            imprint: vec![0; 32],
            nonce: None,
            certificates: Vec::new(),
        }
    }

    #[test]
    fn time_range_at_the_edges_of_the_calendar_is_refused_not_panicking() {
        let accuracy = time::Duration::seconds(2);
        let last = parse_gen_time(&gt("99991231235959.5Z")).unwrap();
        let ts = at(last, accuracy);
        assert!(matches!(
            ts.upper_limit(),
            Err(TimestampError::TimeRangeOverflow { .. })
        ));
        assert_eq!(ts.lower_limit().unwrap(), last - accuracy);
        let first = time::PrimitiveDateTime::MIN.assume_utc();
        let ts = at(first, accuracy);
        assert!(matches!(
            ts.lower_limit(),
            Err(TimestampError::TimeRangeOverflow { .. })
        ));
        assert_eq!(ts.upper_limit().unwrap(), first + accuracy);
    }

    #[test]
    fn unverified_time_range_uses_checked_arithmetic() {
        let gen_time = parse_gen_time(&gt("99991231235959.5Z")).unwrap();
        let claims = |accuracy| TimestampClaims {
            gen_time,
            accuracy,
            policy: "1.2.3".into(),
            imprint_hash: HashAlgorithm::Sha256,
            imprint: openssl::sha::sha256(b"sig").to_vec(),
            nonce: None,
            certificates: Vec::new(),
        };
        let ms = time::Duration::milliseconds(400);
        assert_eq!(
            claims(ms).time_range().unwrap(),
            (gen_time - ms, gen_time + ms)
        );
        assert!(matches!(
            claims(time::Duration::SECOND).time_range(),
            Err(TimestampError::TimeRangeOverflow { .. })
        ));
        claims(ms).check_imprint(b"sig").unwrap();
        assert!(matches!(
            claims(ms).check_imprint(b"other"),
            Err(TimestampError::ImprintMismatch)
        ));
    }

    #[test]
    fn garbage_is_refused_not_panicking() {
        for bytes in [
            &b""[..],
            b"\x30\x00",
            b"\x30\x03\x02\x01\x01",
            &[0xff; 64][..],
        ] {
            assert!(verify_token(bytes, &[]).is_err());
            assert!(decode_unverified(bytes).is_err());
        }
    }

    #[test]
    fn structure_errors_are_typed() {
        let too_big = vec![0u8; MAX_TOKEN_SIZE + 1];
        assert!(matches!(
            decode_unverified(&too_big),
            Err(TimestampError::TooLarge { .. })
        ));
        // A ContentInfo of type id-data, not SignedData.
        let data = ContentInfo {
            content_type: ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1"),
            content: Any::new(Tag::OctetString, b"x".as_slice()).unwrap(),
        }
        .to_der()
        .unwrap();
        assert!(matches!(
            decode_unverified(&data),
            Err(TimestampError::NotATimestampToken { .. })
        ));
        assert!(matches!(
            verify_token(&data, &[]),
            Err(TimestampError::NotATimestampToken { .. })
        ));
    }
}
