#![no_main]
//! cargo-fuzz target: `armlet_fuzz::machine_file` (see emulator/fuzz/README.md).

libfuzzer_sys::fuzz_target!(|data: &[u8]| armlet_fuzz::machine_file(data));
