//! Fuzzes certificate loading and the certificate requirement checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notation_plugin_sdk::envelope::cert;

fuzz_target!(|data: &[u8]| {
    if let Ok(certs) = cert::load_certificates(data) {
        let _ = cert::check_signing_chain(&certs);
        let _ = cert::check_timestamping_chain(&certs);
    }
});
