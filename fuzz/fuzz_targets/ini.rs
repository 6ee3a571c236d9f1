#![no_main]
//! The Ini store's parser and tree walks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sopx_fuzz::store(sopx_core::stores::Format::Ini, data));
