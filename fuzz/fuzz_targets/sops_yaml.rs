#![no_main]
//! The `.sops.yaml` reader.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = sopx_core::config::parse_rules(s, ".sops.yaml");
    }
});
