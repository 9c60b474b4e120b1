//! `cargo fuzz run retry_after`: see [`agentstatus_fuzz::retry_after`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| agentstatus_fuzz::retry_after(data));
