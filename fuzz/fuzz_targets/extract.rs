//! `cargo fuzz run extract`: see [`agentstatus_fuzz::extract`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| agentstatus_fuzz::extract(data));
