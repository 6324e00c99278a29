#![no_main]
//! cargo-fuzz binary for `cordon_fuzz_targets::spamhaus_json` (see that crate).

libfuzzer_sys::fuzz_target!(|data: &[u8]| cordon_fuzz_targets::spamhaus_json(data));
