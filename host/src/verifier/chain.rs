//! Chain building against trust anchors with openssl. Validity periods are
//! ignored here (`NO_CHECK_TIME`): they are checked by the authentic
//! timestamp step so each failure is reported by the right validation.
//!
//! Because partial chains are accepted, the path openssl builds may end in
//! a trust-store certificate that is not in the envelope (an anchor with the
//! same subject and key as an envelope certificate, or an intermediate).
//! [`verify_to_anchors`] therefore returns the built path, and
//! [`anchors_outside_envelope`] names the certificates the envelope checks
//! did not cover, so the caller applies the validity-period and CA rules to
//! them too.

use notation_plugin_sdk::envelope;
use openssl::error::ErrorStack;
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509KeyUsage, X509Ref, X509StoreContext, X509};

/// Why a chain does not lead to an anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainError {
    /// OpenSSL's reason.
    pub reason: &'static str,
    /// Depth of the failing certificate.
    pub depth: u32,
}

/// Verifies that `chain[0]` chains, through `chain[1..]` as untrusted
/// intermediates, to one of `anchors`. A trust anchor may be any
/// certificate of the path (partial chains are accepted, as an anchor is
/// what the user chose to trust). On success returns the path openssl
/// built, leaf first, ending with the trust anchor.
pub fn verify_to_anchors(
    chain: &[X509],
    anchors: &[X509],
) -> Result<Result<Vec<X509>, ChainError>, ErrorStack> {
    let Some(leaf) = chain.first() else {
        return Ok(Err(ChainError {
            reason: "empty certificate chain",
            depth: 0,
        }));
    };
    let mut builder = X509StoreBuilder::new()?;
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for a in anchors {
        let der = a.to_der()?;
        if !seen.contains(&der) {
            builder.add_cert(a.clone())?;
            seen.push(der);
        }
    }
    builder.set_flags(X509VerifyFlags::NO_CHECK_TIME | X509VerifyFlags::PARTIAL_CHAIN)?;
    let store = builder.build();
    let mut untrusted = Stack::new()?;
    for c in &chain[1..] {
        untrusted.push(c.clone())?;
    }
    let mut ctx = X509StoreContext::new()?;
    ctx.init(&store, leaf, &untrusted, |c| {
        let ok = c.verify_cert()?;
        Ok(if ok {
            let path: Vec<X509> = c
                .chain()
                .map(|s| s.iter().map(X509Ref::to_owned).collect())
                .unwrap_or_default();
            if path.is_empty() {
                Err(ChainError {
                    reason: "openssl returned no certificate path",
                    depth: 0,
                })
            } else {
                Ok(path)
            }
        } else {
            Err(ChainError {
                reason: c.error().error_string(),
                depth: c.error_depth(),
            })
        })
    })
}

/// The certificates of a built `path` that are not in the envelope's
/// `chain` (compared by DER encoding): trust-store certificates the path
/// relies on but the envelope checks never saw.
pub fn anchors_outside_envelope(path: &[X509], chain: &[X509]) -> Result<Vec<X509>, ErrorStack> {
    let mut envelope_der = Vec::with_capacity(chain.len());
    for c in chain {
        envelope_der.push(c.to_der()?);
    }
    let mut out = Vec::new();
    for c in path {
        if !envelope_der.contains(&c.to_der()?) {
            out.push(c.clone());
        }
    }
    Ok(out)
}

/// Which CA rule a trust-store certificate used as an issuer breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaRule {
    /// The certificate cannot be decoded.
    Undecodable,
    /// Basic constraints are missing, not critical, or do not say CA.
    NotCa,
    /// Key usage is missing or lacks `keyCertSign`.
    NoKeyCertSign,
}

impl CaRule {
    /// A short description.
    pub fn as_str(self) -> &'static str {
        match self {
            CaRule::Undecodable => "the certificate cannot be decoded",
            CaRule::NotCa => "basic constraints must be critical and mark the certificate as a CA",
            CaRule::NoKeyCertSign => "key usage must include keyCertSign",
        }
    }
}

/// The CA rules of the certificate requirements for a certificate that
/// issues others: critical basic constraints with `cA` true, and a key
/// usage with `keyCertSign`.
pub fn check_issuer_rules(cert: &X509Ref) -> Result<(), CaRule> {
    let bc = envelope::cert::basic_constraints(cert).map_err(|_| CaRule::Undecodable)?;
    if !bc.is_some_and(|bc| bc.critical && bc.ca) {
        return Err(CaRule::NotCa);
    }
    match cert.key_usage() {
        Some(ku) if ku.contains(X509KeyUsage::KEY_CERT_SIGN) => Ok(()),
        _ => Err(CaRule::NoKeyCertSign),
    }
}

/// A certificate's subject as upstream notation prints it (Go's
/// `pkix.Name.String()`): relative distinguished names in reverse order
/// (`CN=e2e,O=Notary,L=Seattle,ST=WA,C=US` for a certificate issued as
/// `C=US, ST=WA, L=Seattle, O=Notary, CN=e2e`), comma separated, no spaces,
/// values of the same type joined with `+`, RFC 4514 escaping. Attributes
/// outside Go's nine named ones come last, as `TYPE=value` (Go prints them
/// as a dotted OID with a hex DER value; only those differ).
pub fn upstream_subject(name: &openssl::x509::X509NameRef) -> String {
    // Go's fixed order for its named attributes (reversed when printed).
    const NAMED: [&str; 9] = [
        "C",
        "ST",
        "L",
        "street",
        "postalCode",
        "O",
        "OU",
        "CN",
        "serialNumber",
    ];
    const PRINTED: [&str; 9] = [
        "C",
        "ST",
        "L",
        "STREET",
        "POSTALCODE",
        "O",
        "OU",
        "CN",
        "SERIALNUMBER",
    ];
    let mut named: [Vec<String>; 9] = Default::default();
    let mut other: Vec<String> = Vec::new();
    for e in name.entries() {
        let nid = e.object().nid();
        let short = nid.short_name().unwrap_or("");
        let value = e
            .data()
            .to_string()
            .unwrap_or_else(|_| String::from_utf8_lossy(e.data().as_slice()).into_owned());
        match NAMED.iter().position(|n| *n == short) {
            // Go keeps one common name and one serial number: the last.
            Some(i @ (7 | 8)) => named[i] = vec![value],
            Some(i) => named[i].push(value),
            None => {
                let t = if short.is_empty() {
                    e.object().to_string()
                } else {
                    short.to_string()
                };
                other.push(format!("{t}={}", escape_rdn_value(&value)));
            }
        }
    }
    // Sequence: unnamed attributes first, then the named ones in Go's
    // order; printed in reverse.
    let mut rdns: Vec<String> = other;
    for (i, values) in named.iter().enumerate() {
        if !values.is_empty() {
            rdns.push(
                values
                    .iter()
                    .map(|v| format!("{}={}", PRINTED[i], escape_rdn_value(v)))
                    .collect::<Vec<_>>()
                    .join("+"),
            );
        }
    }
    rdns.reverse();
    rdns.join(",")
}

/// RFC 4514 escaping as Go applies it.
fn escape_rdn_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == ' ' || c == '#'))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The first certificate of a chain that is not valid at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidAt {
    /// The certificate's subject, see [`upstream_subject`].
    pub subject: String,
    /// Its `notBefore`.
    pub not_before: time::OffsetDateTime,
    /// Its `notAfter`.
    pub not_after: time::OffsetDateTime,
    /// True when the time is after `notAfter` (expired), false when it is
    /// before `notBefore` (not valid yet).
    pub expired: bool,
}

/// The first certificate of `chain` whose validity period does not contain
/// `at`, or `None` when all do (or the times cannot be read).
pub fn first_invalid_at(chain: &[X509], at: time::OffsetDateTime) -> Option<InvalidAt> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).ok()?;
    let to_time = |t: &openssl::asn1::Asn1TimeRef| -> Option<time::OffsetDateTime> {
        let d = epoch.diff(t).ok()?;
        time::OffsetDateTime::from_unix_timestamp(i64::from(d.days) * 86_400 + i64::from(d.secs))
            .ok()
    };
    let at = at.replace_nanosecond(0).unwrap_or(at);
    for c in chain {
        let not_before = to_time(c.not_before())?;
        let not_after = to_time(c.not_after())?;
        if at < not_before || at > not_after {
            return Some(InvalidAt {
                subject: upstream_subject(c.subject_name()),
                not_before,
                not_after,
                expired: at > not_after,
            });
        }
    }
    None
}

/// A time as Go's `time.RFC1123Z` layout prints it
/// (`Mon, 02 Jan 2006 15:04:05 -0700`), as upstream's messages show times.
pub fn rfc1123z(t: &time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
    );
    t.format(f).unwrap_or_else(|_| t.to_string())
}

/// A time as Go's `time.Time.String()` prints a UTC time
/// (`2025-04-01 23:56:04.6738192 +0000 UTC`), as upstream's certificate
/// messages show times.
pub fn go_utc(t: &time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let mut s = t.format(f).unwrap_or_else(|_| t.to_string());
    if t.nanosecond() != 0 {
        let frac = format!("{:09}", t.nanosecond());
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::x509::X509NameBuilder;
    use time::macros::datetime;

    #[test]
    fn subjects_print_as_upstream_prints_them() {
        let mut b = X509NameBuilder::new().unwrap();
        for (k, v) in [
            ("C", "US"),
            ("ST", "WA"),
            ("L", "Seattle"),
            ("O", "Notary, Inc."),
            ("OU", "Eng"),
            ("CN", "e2e"),
        ] {
            b.append_entry_by_text(k, v).unwrap();
        }
        let name = b.build();
        assert_eq!(
            upstream_subject(&name),
            "CN=e2e,OU=Eng,O=Notary\\, Inc.,L=Seattle,ST=WA,C=US"
        );
        // Go's fixed order, whatever the certificate's order.
        let mut b = X509NameBuilder::new().unwrap();
        for (k, v) in [
            ("O", "Internet Widgits Pty Ltd"),
            ("C", "AU"),
            ("ST", "Some-State"),
        ] {
            b.append_entry_by_text(k, v).unwrap();
        }
        assert_eq!(
            upstream_subject(&b.build()),
            "O=Internet Widgits Pty Ltd,ST=Some-State,C=AU"
        );
    }

    #[test]
    fn times_print_as_go_prints_them() {
        assert_eq!(
            rfc1123z(&datetime!(2023-06-27 06:10:00 UTC)),
            "Tue, 27 Jun 2023 06:10:00 +0000"
        );
        assert_eq!(
            go_utc(&datetime!(2025-04-01 23:56:04.6738192 UTC)),
            "2025-04-01 23:56:04.6738192 +0000 UTC"
        );
        assert_eq!(
            go_utc(&datetime!(2000-09-17 14:09:10 +02:00)),
            "2000-09-17 12:09:10 +0000 UTC"
        );
    }
}
