//! The fuzz targets' bodies, shared by the `cargo fuzz` binaries (`fuzz_targets/`) and by the
//! replay test (`tests/replay.rs`), which runs every seed and every saved crash input as an
//! ordinary test. Each function must return for any input: a panic is the bug being hunted.

use agentstatus_codegen::{
    Stage, check_refs, find_fences, from_docs_page, overlay::OverlayFile, parse_bytes, run_stage,
};
use std::path::Path;

/// The docs-page extractor: any page text gives a document or an error.
pub fn extract(page: &[u8]) {
    let Ok(page) = std::str::from_utf8(page) else {
        return;
    };
    let _ = find_fences(page);
    let _ = from_docs_page(page, Path::new("page.md"));
}

/// The overlay engine: an overlay (JSON/YAML) and a document (JSON), separated by a NUL byte.
/// Parsing, validating, applying and checking never panic.
pub fn overlay(data: &[u8]) {
    let (overlay, doc) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{\"openapi\": \"3.0.0\", \"paths\": {}}"[..]),
    };
    let path = Path::new("overlay.yaml");
    let Ok(overlay) = parse_bytes(overlay, path) else {
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
/// escapes) and every normalisation pass runs, then the fixes (the open-enum pass among them), the
/// semantic diff and the `$ref` check.
pub fn normalise(data: &[u8]) {
    let path = Path::new("spec.yaml");
    let Ok(mut doc) = parse_bytes(data, path) else {
        return;
    };
    let before = doc.clone();
    let _ = run_stage(Stage::Normalise, &mut doc);
    let _ = run_stage(Stage::Fix, &mut doc);
    let _ = agentstatus_drift::diff(&before, &doc);
    let _ = check_refs(&doc, path);
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

/// The `Retry-After` parser and the deadline arithmetic after it: any header bytes give a delay
/// or nothing, and comparing any delay with a deadline never overflows.
pub fn retry_after(value: &[u8]) {
    use agentstatus_runtime::retry::{deadline_after, ends_after, parse_retry_after};
    use std::time::{Duration, Instant, SystemTime};
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    if let Some(wait) = parse_retry_after(value, now) {
        let deadline = deadline_after(Instant::now(), Duration::from_secs(60));
        let _ = ends_after(wait, deadline);
        let _ = deadline_after(Instant::now(), wait);
    }
}

/// The command's table and JSON renderers: any agent data (split from the input at NUL bytes
/// into id, name, vendor status, custom status, channel name, state word) renders without a panic; the table has one line
/// per agent and no character that could drive a terminal; the JSON lines parse back to the data.
pub fn render(data: &[u8]) {
    use agentstatus_cli::output::{Output, render};
    use agentstatus_presence::{
        AgentPresence, Availability, ChannelPresence, Detail, Vendor, is_unsafe_char,
    };
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let mut next = || parts.next().unwrap_or_default().to_string();
    let agent_id = next();
    let name = Some(next());
    let vendor_status = next();
    let custom_status_id = Some(next());
    let channel = Some(next());
    let state = Some(next());
    let message = Some(next());
    let agent = AgentPresence::new(
        agent_id,
        name,
        Availability::Busy,
        Detail::new(vendor_status)
            .with_custom_status_id(custom_status_id)
            .with_channels(vec![ChannelPresence::new("c", channel, "available", None)])
            .with_state(state)
            .with_until(None)
            .with_message(message),
    );
    let list = [agent.clone(), agent];
    let table = render(Vendor::new("engage-digital"), &list, Output::Table, false);
    assert_eq!(table.lines().count(), 3, "one line per agent");
    assert!(!table.chars().any(|c| c != '\n' && is_unsafe_char(c)));
    let json = render(Vendor::new("engage-digital"), &list, Output::Json, false);
    assert!(!json.chars().any(|c| c != '\n' && is_unsafe_char(c)));
    // JSON lines: one object per agent, each line valid JSON
    assert_eq!(json.lines().count(), 2, "one line per agent");
    let last = json.lines().last().unwrap_or_default();
    let back: serde_json::Value = serde_json::from_str(last).expect("valid JSON");
    assert_eq!(back["agent"]["agent_id"].as_str(), Some(list[1].agent_id.as_str()));
    assert_eq!(
        back["agent"]["detail"]["state"].as_str(),
        list[1].detail.state.as_deref()
    );
}

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The targets by name, for the replay test.
pub const TARGETS: [(&str, Target); 6] = [
    ("extract", extract),
    ("overlay", overlay),
    ("normalise", normalise),
    ("decode", decode),
    ("retry_after", retry_after),
    ("render", render),
];
