//! Just enough DER reading for the fields openssl does not expose: the
//! certificates carried in an OCSP response and the invalidity date of a
//! CRL entry. Definite lengths only; anything else is refused (`None`).

/// One element: its tag byte and contents.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    /// The identifier octet (single-byte tags only).
    pub tag: u8,
    /// The contents octets.
    pub content: &'a [u8],
    /// The whole element, tag and length included.
    pub raw: &'a [u8],
}

/// Reads the element at the start of `input`; returns it and the rest.
pub fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *input.first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = input.get(2..2 + n)?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let raw = input.get(..end)?;
    Some((
        Tlv {
            tag,
            content: &raw[header..],
            raw,
        },
        &input[end..],
    ))
}

/// The elements inside a constructed element's contents.
pub fn children(mut content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (t, rest) = read(content)?;
        out.push(t);
        content = rest;
    }
    Some(out)
}

const SEQUENCE: u8 = 0x30;

/// DER of the certificates in an `OCSPResponse`'s `BasicOCSPResponse`
/// (`certs [0] EXPLICIT SEQUENCE OF Certificate`), empty when absent.
pub fn ocsp_response_certs(response: &[u8]) -> Option<Vec<Vec<u8>>> {
    let (resp, _) = read(response)?;
    let parts = children(resp.content)?;
    // OCSPResponse ::= SEQUENCE { responseStatus, responseBytes [0] EXPLICIT }
    let bytes = parts.iter().find(|t| t.tag == 0xa0)?;
    let (rb, _) = read(bytes.content)?;
    let rb = children(rb.content)?;
    // ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING }
    let octets = rb.get(1).filter(|t| t.tag == 0x04)?;
    let (basic, _) = read(octets.content)?;
    if basic.tag != SEQUENCE {
        return None;
    }
    let basic = children(basic.content)?;
    let mut out = Vec::new();
    if let Some(certs) = basic.iter().skip(3).find(|t| t.tag == 0xa0) {
        let (seq, _) = read(certs.content)?;
        for c in children(seq.content)? {
            out.push(c.raw.to_vec());
        }
    }
    Some(out)
}

/// OID 2.5.29.24 (invalidityDate), encoded.
const INVALIDITY_DATE: &[u8] = &[0x55, 0x1d, 0x18];

/// The `invalidityDate` of a DER `revokedCertificates` entry, as the text
/// of its GeneralizedTime (`YYYYMMDDHHMMSSZ`), if present.
pub fn crl_entry_invalidity_date(entry: &[u8]) -> Option<String> {
    let (e, _) = read(entry)?;
    let fields = children(e.content)?;
    // SEQUENCE { userCertificate, revocationDate, crlEntryExtensions OPTIONAL }
    let exts = fields.get(2).filter(|t| t.tag == SEQUENCE)?;
    for ext in children(exts.content)? {
        let parts = children(ext.content)?;
        let oid = parts.first().filter(|t| t.tag == 0x06)?;
        if oid.content != INVALIDITY_DATE {
            continue;
        }
        let value = parts.last().filter(|t| t.tag == 0x04)?;
        let (time, _) = read(value.content)?;
        if time.tag != 0x18 {
            return None;
        }
        return std::str::from_utf8(time.content).ok().map(str::to_string);
    }
    None
}

/// The encoded OIDs of a DER CRL's `crlExtensions`, empty when absent.
pub fn crl_extension_oids(crl: &[u8]) -> Option<Vec<Vec<u8>>> {
    let (list, _) = read(crl)?;
    let (tbs, _) = read(list.content)?;
    let mut out = Vec::new();
    if let Some(exts) = children(tbs.content)?.iter().find(|t| t.tag == 0xa0) {
        let (seq, _) = read(exts.content)?;
        for ext in children(seq.content)? {
            let (oid, _) = read(ext.content)?;
            if oid.tag != 0x06 {
                return None;
            }
            out.push(oid.content.to_vec());
        }
    }
    Some(out)
}

/// Parses `YYYYMMDDHHMMSSZ` (optionally with fractional seconds).
pub fn parse_generalized_time(s: &str) -> Option<time::OffsetDateTime> {
    let s = s.strip_suffix('Z')?;
    let main = s.split('.').next()?;
    if main.len() != 14 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| main.get(r)?.parse::<u32>().ok();
    let month = time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(n(0..4)?).ok()?,
        month,
        u8::try_from(n(6..8)?).ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms(
        u8::try_from(n(8..10)?).ok()?,
        u8::try_from(n(10..12)?).ok()?,
        u8::try_from(n(12..14)?).ok()?,
    )
    .ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_definite_lengths_and_refuses_the_rest() {
        let (t, rest) = read(&[0x30, 0x01, 0x05, 0xff]).unwrap();
        assert_eq!((t.tag, t.content, rest), (0x30, &[0x05][..], &[0xff][..]));
        assert!(read(&[0x30, 0x80, 0, 0]).is_none());
        assert!(read(&[0x30, 0x05, 1]).is_none());
        assert!(read(&[0x1f, 0x01, 0]).is_none());
        assert!(children(&[0x02, 0x01]).is_none());
    }

    #[test]
    fn invalidity_date_of_a_crl_entry() {
        let time = b"20240131235959Z";
        // Extension { extnID 2.5.29.24, extnValue OCTET STRING { GeneralizedTime } }
        let mut ext = vec![0x06, 0x03, 0x55, 0x1d, 0x18, 0x04, 17, 0x18, 15];
        ext.extend_from_slice(time);
        let mut exts = vec![0x30, ext.len() as u8];
        exts.extend_from_slice(&ext);
        let mut seq = vec![0x30, exts.len() as u8];
        seq.extend_from_slice(&exts);
        // SEQUENCE { serial 1, UTCTime, extensions }
        let mut body = vec![0x02, 0x01, 0x01, 0x17, 0x0d];
        body.extend_from_slice(b"240101000000Z");
        body.extend_from_slice(&seq);
        let mut entry = vec![0x30, body.len() as u8];
        entry.extend_from_slice(&body);
        assert_eq!(
            crl_entry_invalidity_date(&entry).as_deref(),
            Some("20240131235959Z")
        );
        // Without extensions: none.
        let mut plain = vec![0x30, 18, 0x02, 0x01, 0x01, 0x17, 0x0d];
        plain.extend_from_slice(b"240101000000Z");
        assert_eq!(crl_entry_invalidity_date(&plain), None);
    }

    #[test]
    fn generalized_time() {
        let t = parse_generalized_time("20240131235959Z").unwrap();
        assert_eq!(t.unix_timestamp(), 1706745599);
        assert!(parse_generalized_time("2024013123595Z").is_none());
        assert!(parse_generalized_time("20241331235959Z").is_none());
    }
}
