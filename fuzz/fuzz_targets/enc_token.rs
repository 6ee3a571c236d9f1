#![no_main]
//! The `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` token parser (and the
//! decryption it leads to, under a fixed key).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let key = sopx_core::cipher::DataKey::from_slice(&[7u8; 32]).unwrap();
    let _ = sopx_core::cipher::is_encrypted(s);
    let _ = sopx_core::cipher::decrypt(s, &key, "a:b:");
});
