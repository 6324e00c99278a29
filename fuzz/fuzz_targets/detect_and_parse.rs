#![no_main]
//! cargo-fuzz binary for `cordon_fuzz_targets::detect_and_parse` (see that crate).

libfuzzer_sys::fuzz_target!(|data: &[u8]| cordon_fuzz_targets::detect_and_parse(data));
