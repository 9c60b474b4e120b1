//! The loader and the normaliser: any bytes are parsed (JSON or YAML, BOM, CRLF, surrogate
//! escapes) and every pass runs, then the open-enum pass and the semantic diff; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

use agentstatus_codegen::{diff, load, normalise, open_enums};

fuzz_target!(|data: &[u8]| {
    let Ok(mut doc) = load::parse_bytes(data, std::path::Path::new("spec.yaml")) else { return };
    let before = doc.clone();
    let _ = normalise::normalise(&mut doc);
    let mut changes = Vec::new();
    open_enums::open_response_enums(&mut doc, &mut changes);
    let _ = diff::diff(&before, &doc);
    let _ = agentstatus_codegen::slice::check_refs(&doc, std::path::Path::new("spec.yaml"));
});
