//! A minimal DER reader: just enough to find the `basicConstraints`
//! extension of an X.509 certificate (the `openssl` crate does not expose
//! the CA flag). Works on bytes that openssl has already parsed, and still
//! never panics on malformed input.

/// One tag-length-value element.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
}

/// Reads one DER element from the front of `input`; returns it and the rest.
fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags do not occur in certificates' structure
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((
        Tlv {
            tag,
            content: &rest[..len],
        },
        &rest[len..],
    ))
}

const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];

/// The `basicConstraints` extension as found in a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BasicConstraints {
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// The `cA` field.
    pub ca: bool,
}

/// Finds `basicConstraints` in a DER certificate. `Ok(None)` when the
/// extension is absent, `Err(())` when the structure cannot be read.
#[allow(clippy::result_unit_err)]
pub(crate) fn basic_constraints(cert_der: &[u8]) -> Result<Option<BasicConstraints>, ()> {
    let (cert, _) = read_tlv(cert_der).ok_or(())?;
    let (tbs, _) = read_tlv(cert.content).ok_or(())?;
    let mut fields = tbs.content;
    while !fields.is_empty() {
        let (field, rest) = read_tlv(fields).ok_or(())?;
        fields = rest;
        if field.tag != 0xa3 {
            continue;
        }
        // [3] EXPLICIT Extensions ::= SEQUENCE OF Extension
        let (exts, _) = read_tlv(field.content).ok_or(())?;
        let mut list = exts.content;
        while !list.is_empty() {
            let (ext, rest) = read_tlv(list).ok_or(())?;
            list = rest;
            let (oid, mut body) = read_tlv(ext.content).ok_or(())?;
            if oid.tag != 0x06 || oid.content != OID_BASIC_CONSTRAINTS {
                continue;
            }
            let mut critical = false;
            let (next, after) = read_tlv(body).ok_or(())?;
            let value = if next.tag == 0x01 {
                critical = next.content.first().is_some_and(|b| *b != 0);
                body = after;
                read_tlv(body).ok_or(())?.0
            } else {
                next
            };
            if value.tag != 0x04 {
                return Err(());
            }
            let (bc, _) = read_tlv(value.content).ok_or(())?;
            let ca = match read_tlv(bc.content) {
                Some((flag, _)) if flag.tag == 0x01 => {
                    flag.content.first().is_some_and(|b| *b != 0)
                }
                _ => false,
            };
            return Ok(Some(BasicConstraints { critical, ca }));
        }
        return Ok(None);
    }
    Ok(None)
}
