//! Certificate details as upstream prints them.

use openssl::asn1::{Asn1Time, Asn1TimeRef};

pub use notation_plugin_sdk::envelope::cert::sha256_fingerprint;

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
