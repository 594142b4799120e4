//! Fuzzes the JWS envelope decoder and, when it accepts, the integrity
//! check and payload decoder. None may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notation_plugin_sdk::envelope::{self, EnvelopeFormat};

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = envelope::jws::decode(data) {
        let _ = env.verify_integrity();
        let _ = env.payload();
        let _ = env.check_critical_attributes();
    }
    let _ = envelope::parse(EnvelopeFormat::Jws, data);
});
