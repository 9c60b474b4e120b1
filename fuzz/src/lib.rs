//! The fuzz targets' bodies, shared by the `cargo fuzz` binaries (`fuzz_targets/`) and by the
//! replay test (`tests/replay.rs`), which runs every seed and every saved crash input as an
//! ordinary test. Each function must return for any input: a panic is the bug being hunted.

use agentstatus_codegen::{diff, extract, load, normalise, open_enums, overlay::OverlayFile};
use std::path::Path;

/// The docs-page extractor: any page text gives a document or an error.
pub fn extract(page: &[u8]) {
    let Ok(page) = std::str::from_utf8(page) else {
        return;
    };
    let _ = extract::find_fences(page);
    let _ = extract::from_docs_page(page, Path::new("page.md"));
}

/// The overlay engine: an overlay (JSON/YAML) and a document (JSON), separated by a NUL byte.
/// Parsing, validating, applying and checking never panic.
pub fn overlay(data: &[u8]) {
    let (overlay, doc) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{\"openapi\": \"3.0.0\", \"paths\": {}}"[..]),
    };
    let path = Path::new("overlay.yaml");
    let Ok(overlay) = load::parse_bytes(overlay, path) else {
        return;
    };
    let Ok(overlay) = OverlayFile::from_value(overlay, path) else {
        return;
    };
    let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(doc) else {
        return;
    };
    let mut copy = doc.clone();
    let _ = overlay.apply(&mut doc);
    let _ = overlay.check(&mut copy);
}

/// The loader and the normaliser: any bytes are parsed (JSON or YAML, BOM, CRLF, surrogate
/// escapes) and every pass runs, then the open-enum pass, the semantic diff and the `$ref` check.
pub fn normalise(data: &[u8]) {
    let path = Path::new("spec.yaml");
    let Ok(mut doc) = load::parse_bytes(data, path) else {
        return;
    };
    let before = doc.clone();
    let _ = normalise::normalise(&mut doc);
    let mut changes = Vec::new();
    open_enums::open_response_enums(&mut doc, &mut changes);
    let _ = diff::diff(&before, &doc);
    let _ = agentstatus_codegen::slice::check_refs(&doc, path);
}

/// Response decoding of the generated vendor types: any body is decoded or rejected (unknown
/// enum values become `OpenEnum::Unknown`).
pub fn decode(body: &[u8]) {
    use serde_json::from_slice;
    let _ = from_slice::<Vec<agentstatus_engage_digital::types::AgentStatus>>(body);
    let _ = from_slice::<agentstatus_engage_digital::types::AgentStatusNotFound>(body);
    let _ = from_slice::<agentstatus_engage_digital::types::GetAllPresenceStatusResponse>(body);
    let _ = from_slice::<agentstatus_libredesk::types::AgentResponse>(body);
    let _ = from_slice::<agentstatus_libredesk::types::AgentListResponse>(body);
    let _ = from_slice::<agentstatus_libredesk::types::ErrorEnvelope>(body);
    let _ = from_slice::<agentstatus_rocketchat::types::ListLivechatUsersResponse>(body);
    let _ = from_slice::<agentstatus_rocketchat::types::GetLivechatUserResponse>(body);
    let _ = from_slice::<agentstatus_rocketchat::types::UpdateAgentStatusResponse>(body);
    let _ = from_slice::<agentstatus_rocketchat::types::ApiError>(body);
}

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The targets by name, for the replay test.
pub const TARGETS: [(&str, Target); 4] = [
    ("extract", extract),
    ("overlay", overlay),
    ("normalise", normalise),
    ("decode", decode),
];
