//! Certificate details as upstream prints them.

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::nid::Nid;
use openssl::x509::{X509NameRef, X509Ref};
use sha2::{Digest, Sha256};

/// A distinguished name the way Go's `pkix.Name.String()` prints it: RFC
/// 2253 order (most specific first), comma separated, e.g.
/// `CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US`.
pub fn name_string(name: &X509NameRef) -> String {
    let mut parts: Vec<String> = name
        .entries()
        .map(|e| {
            let nid = e.object().nid();
            let key = match nid {
                Nid::COMMONNAME => "CN".to_string(),
                Nid::COUNTRYNAME => "C".to_string(),
                Nid::STATEORPROVINCENAME => "ST".to_string(),
                Nid::LOCALITYNAME => "L".to_string(),
                Nid::ORGANIZATIONNAME => "O".to_string(),
                Nid::ORGANIZATIONALUNITNAME => "OU".to_string(),
                Nid::STREETADDRESS => "STREET".to_string(),
                Nid::POSTALCODE => "POSTALCODE".to_string(),
                Nid::SERIALNUMBER => "SERIALNUMBER".to_string(),
                _ => e.object().to_string(),
            };
            let value = e
                .data()
                .to_string()
                .unwrap_or_else(|_| hex::encode(e.data().as_slice()));
            format!("{key}={}", escape_rfc2253(&value))
        })
        .collect();
    parts.reverse();
    parts.join(",")
}

fn escape_rfc2253(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Converts an ASN.1 time to a UTC date-time.
pub fn to_datetime(t: &Asn1TimeRef) -> Option<time::OffsetDateTime> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(t).ok()?;
    let secs = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    time::OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// Go's `time.Time.String()` for a UTC time: `2006-01-02 15:04:05 +0000 UTC`.
pub fn go_time_string(t: &Asn1TimeRef) -> String {
    const FMT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] +0000 UTC"
    );
    to_datetime(t)
        .and_then(|d| d.format(FMT).ok())
        .unwrap_or_else(|| t.to_string())
}

/// Lower-case hex SHA-256 of the DER certificate.
pub fn sha256_fingerprint(cert: &X509Ref) -> String {
    cert.to_der()
        .map(|der| hex::encode(Sha256::digest(der)))
        .unwrap_or_default()
}
