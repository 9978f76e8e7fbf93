#![no_main]
//! cargo-fuzz target: `armlet_fuzz::guest_memory` (see emulator/fuzz/README.md).

libfuzzer_sys::fuzz_target!(|data: &[u8]| armlet_fuzz::guest_memory(data));
