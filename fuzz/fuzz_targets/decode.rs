//! `cargo fuzz run decode`: see [`agentstatus_fuzz::decode`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| agentstatus_fuzz::decode(data));
