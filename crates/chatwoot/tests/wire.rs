//! Wire tests: each kept operation against a local HTTP server that checks method, path, headers
//! and the exact body, answering with bodies shaped like the real server's
//! (specs/chatwoot/NOTES.md). The adapter's requests are asserted too: `{"availability": ...}`
//! and never `role`.

use agentstatus_chatwoot::presence::ChatwootPresence;
use agentstatus_chatwoot::types::{self, AgentAvailabilityStatus};
use agentstatus_chatwoot::{Client, ClientConfig, Error, OpenEnum};
use agentstatus_presence::{Availability, ErrorKind, Presence};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "s3cr3t-chatwoot-access-token";

fn client(server: &MockServer) -> Client {
    Client::with_user_api_key(
        &server.uri(),
        TOKEN.to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap()
}

/// An agent as `_agent.json.jbuilder` renders it (Enterprise: with `custom_role_id`).
fn agent(id: i64, status: &str, custom_role_id: Option<i64>) -> Value {
    json!({
        "id": id, "account_id": 7, "availability_status": status, "auto_offline": true,
        "confirmed": true, "email": "ada@example.com", "provider": "email",
        "available_name": "Ada", "name": "Ada Lovelace", "role": "administrator",
        "thumbnail": "", "custom_role_id": custom_role_id
    })
}

#[tokio::test]
async fn list_agents_sends_the_token_header_and_decodes_unknown_statuses() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/7/agents"))
        .and(header("api_access_token", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            agent(1, "online", None),
            agent(2, "busy", Some(3)),
            agent(3, "on-break", None),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let list = client(&server)
        .list_agents()
        .account_id(7)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        list[0].availability_status,
        Some(OpenEnum::Known(AgentAvailabilityStatus::Online))
    );
    assert_eq!(list[1].custom_role_id, Some(3));
    assert_eq!(
        list[2].availability_status,
        Some(OpenEnum::Unknown("on-break".into())),
        "a value the vendor adds later decodes"
    );
}

#[tokio::test]
async fn the_adapter_patches_availability_only_and_keeps_the_custom_role() {
    for (custom_role, body) in [
        (None, json!({"availability": "busy"})),
        (
            Some(5),
            json!({"availability": "busy", "custom_role_id": 5}),
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/accounts/7/agents"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([agent(
                4,
                "online",
                custom_role
            )])))
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path("/api/v1/accounts/7/agents/4"))
            .and(header("api_access_token", TOKEN))
            .and(header("content-type", "application/json"))
            .and(body_json(&body)) // exactly this: no `role`, no `availability_status`
            .respond_with(ResponseTemplate::new(200).set_body_json(agent(4, "busy", custom_role)))
            .expect(1)
            .mount(&server)
            .await;
        let p = ChatwootPresence::new(client(&server), 7);
        let after = p.set("4", Availability::Busy).await.unwrap();
        assert_eq!(after.availability, Availability::Busy);
        assert_eq!(after.agent_id, "4");
    }
}

#[tokio::test]
async fn me_is_set_through_the_profile() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/profile/availability"))
        .and(header("api_access_token", TOKEN))
        .and(body_json(json!({"profile": {"account_id": 7, "availability": "busy"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 9, "name": "Ada", "email": "ada@example.com",
            "accounts": [
                {"id": 3, "availability": "online", "availability_status": "online", "permissions": []},
                {"id": 7, "availability": "busy", "availability_status": "offline", "auto_offline": true, "permissions": []}
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let after = ChatwootPresence::new(client(&server), 7)
        .set("me", Availability::Busy)
        .await
        .unwrap();
    assert_eq!(after.agent_id, "9");
    // stored busy, shown offline until the agent's dashboard is connected (auto_offline)
    assert_eq!(after.availability, Availability::Offline);
    assert!(
        after.detail.vendor_status.contains("stored: busy"),
        "{after:?}"
    );
}

#[tokio::test]
async fn errors_are_typed_as_the_server_sends_them() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/api/v1/accounts/7/agents/4"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "You are not authorized to do this action"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/7/agents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([agent(4, "online", None)])))
        .mount(&server)
        .await;
    let body = types::AgentUpdatePayload::builder()
        .availability(Some(types::AgentUpdatePayloadAvailability::Offline));
    let e = client(&server)
        .update_agent()
        .account_id(7)
        .id(4)
        .body(body)
        .send()
        .await
        .unwrap_err();
    let Error::ErrorResponse(rv) = e else {
        panic!("{e:?}")
    };
    assert_eq!(rv.status().as_u16(), 401);
    assert_eq!(
        rv.error.as_deref(),
        Some("You are not authorized to do this action")
    );

    let e = ChatwootPresence::new(client(&server), 7)
        .set("4", Availability::Offline)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.to_string().contains("not authorized"), "{e}");
}

#[test]
fn the_token_never_shows_in_debug_output() {
    let c = Client::with_user_api_key(
        "https://desk.example.com",
        TOKEN.to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap();
    assert!(!format!("{c:?}").contains(TOKEN));
    let e = Client::with_user_api_key(
        "https://desk.example.com",
        "bad\r\ntoken".to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap_err();
    assert!(!e.to_string().contains("bad"), "{e}");
}
