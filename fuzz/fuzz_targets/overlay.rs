//! The overlay engine: an overlay (JSON/YAML) and a document (JSON), separated by a NUL byte.
//! Parsing, validating, applying and checking never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

use agentstatus_codegen::{load, overlay::OverlayFile};

fuzz_target!(|data: &[u8]| {
    let (overlay, doc) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{\"openapi\": \"3.0.0\", \"paths\": {}}"[..]),
    };
    let path = std::path::Path::new("overlay.yaml");
    let Ok(overlay) = load::parse_bytes(overlay, path) else { return };
    let Ok(overlay) = OverlayFile::from_value(overlay, path) else { return };
    let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(doc) else { return };
    let mut copy = doc.clone();
    let _ = overlay.apply(&mut doc);
    let _ = overlay.check(&mut copy);
});
