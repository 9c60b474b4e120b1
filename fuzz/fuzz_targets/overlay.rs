//! `cargo fuzz run overlay`: see [`agentstatus_fuzz::overlay`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| agentstatus_fuzz::overlay(data));
