#![no_main]
//! The YAML store's fast scanner against saphyr-parser: wherever the fast
//! scanner reads a text, it must read exactly what saphyr reads (and refuse
//! what saphyr refuses).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(Err(e)) = sopx_core::stores::yaml::fast_agrees(text) {
        panic!("fast scanner disagrees with saphyr: {e}");
    }
});
