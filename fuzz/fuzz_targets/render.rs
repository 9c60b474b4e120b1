//! `cargo fuzz run render`: see [`agentstatus_fuzz::render`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| agentstatus_fuzz::render(data));
