//! `cargo fuzz run normalise`: see [`agentstatus_fuzz::normalise`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| agentstatus_fuzz::normalise(data));
