#![no_main]
//! cargo-fuzz binary for `cordon_fuzz_targets::scan_line` (see that crate).

libfuzzer_sys::fuzz_target!(|data: &[u8]| cordon_fuzz_targets::scan_line(data));
