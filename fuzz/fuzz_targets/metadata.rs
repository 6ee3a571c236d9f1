#![no_main]
//! The `sops` metadata reader, given any JSON value (as the stores hand it).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(m) = sopx_core::metadata::Metadata::from_value(&v) {
        let _ = m.rules();
        let _ = m.to_value();
    }
});
