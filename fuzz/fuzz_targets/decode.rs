//! Response decoding of the generated vendor types: any body is decoded or rejected, never a
//! panic (unknown enum values become `OpenEnum::Unknown`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = serde_json::from_slice::<Vec<agentstatus_engage_digital::types::AgentStatus>>(body);
    let _ = serde_json::from_slice::<agentstatus_engage_digital::types::AgentStatusNotFound>(body);
    let _ = serde_json::from_slice::<agentstatus_engage_digital::types::GetAllPresenceStatusResponse>(body);
    let _ = serde_json::from_slice::<agentstatus_libredesk::types::AgentResponse>(body);
    let _ = serde_json::from_slice::<agentstatus_libredesk::types::AgentListResponse>(body);
    let _ = serde_json::from_slice::<agentstatus_libredesk::types::ErrorEnvelope>(body);
    let _ = serde_json::from_slice::<agentstatus_rocketchat::types::ListLivechatUsersResponse>(body);
    let _ = serde_json::from_slice::<agentstatus_rocketchat::types::GetLivechatUserResponse>(body);
    let _ = serde_json::from_slice::<agentstatus_rocketchat::types::UpdateAgentStatusResponse>(body);
    let _ = serde_json::from_slice::<agentstatus_rocketchat::types::ApiError>(body);
});
