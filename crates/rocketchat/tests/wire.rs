//! Wire tests: each kept operation against a local HTTP server that checks method, path, query,
//! headers and body, answering with bodies shaped like the real server's (specs/rocketchat/NOTES.md).

use agentstatus_rocketchat::{Client, Credentials, Error, types};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const USER: &str = "rbAXPnMktTFbNpwtJ";
const TOKEN: &str = "s3cr3t-rocketchat-token";

fn client(server: &MockServer) -> Client {
    Client::with_credentials(&server.uri(), Credentials::new(USER, TOKEN.into())).unwrap()
}

fn authed(m: wiremock::MockBuilder) -> wiremock::MockBuilder {
    m.and(header("x-auth-token", TOKEN))
        .and(header("x-user-id", USER))
}

fn user(id: &str, status_livechat: &str) -> Value {
    json!({
        "_id": id, "username": format!("{id}.name"), "name": "John Doe", "status": "online",
        "statusLivechat": status_livechat,
        "emails": [{"address": "john@example.com", "verified": true}],
        "livechat": {"maxNumberSimultaneousChat": "5"}
    })
}

#[tokio::test]
async fn update_agent_status_sends_explicit_status_once() {
    let server = MockServer::start().await;
    authed(Mock::given(method("POST")).and(path("/api/v1/livechat/agent.status")))
        .and(body_json(
            json!({"agentId": "J6Q87AnWP5aNc9xhx", "status": "not-available"}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "not-available", "success": true})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let answer = client(&server)
        .update_agent_status()
        .body(
            types::UpdateAgentStatusBody::builder()
                .agent_id(Some("J6Q87AnWP5aNc9xhx".to_string()))
                .status(Some(types::UpdateAgentStatusBodyStatus::NotAvailable)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status.as_deref(), Some("not-available"));
    let requests = server.received_requests().await.unwrap();
    assert!(requests[0].headers.get("api-version").is_none());
}

#[tokio::test]
async fn update_agent_status_without_status_is_the_documented_toggle() {
    let server = MockServer::start().await;
    authed(Mock::given(method("POST")).and(path("/api/v1/livechat/agent.status")))
        .and(body_json(json!({})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "available", "success": true})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let answer = client(&server)
        .update_agent_status()
        .body(types::UpdateAgentStatusBody::builder())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status.as_deref(), Some("available"));
}

#[test]
fn the_body_rejects_unknown_fields_like_the_server() {
    let err =
        serde_json::from_value::<types::UpdateAgentStatusBody>(json!({"agentId": "x", "typo": 1}));
    assert!(err.is_err());
}

#[tokio::test]
async fn update_agent_status_errors_are_typed() {
    for (status, body) in [
        (
            400,
            json!({"success": false, "error": "error-business-hours-are-closed"}),
        ),
        (
            400,
            json!({"success": false, "error": "error-user-deactivated"}),
        ),
        (
            401,
            json!({"status": "error", "message": "You must be logged in to do this."}),
        ),
        (
            403,
            json!({"success": false, "error": "User does not have the permissions required for this action [error-unauthorized]"}),
        ),
        (404, json!({"success": false, "error": "Agent not found"})),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v1/livechat/agent.status"))
            .respond_with(ResponseTemplate::new(status).set_body_json(&body))
            .mount(&server)
            .await;
        let err = client(&server)
            .update_agent_status()
            .body(types::UpdateAgentStatusBody::builder())
            .send()
            .await
            .unwrap_err();
        let Error::ErrorResponse(e) = err else {
            panic!("{status}: expected a typed error, got {err:?}")
        };
        assert_eq!(e.status().as_u16(), status);
        assert_eq!(e.error.as_deref(), body["error"].as_str());
        assert_eq!(e.message.as_deref(), body["message"].as_str());
    }
}

#[tokio::test]
async fn get_livechat_user_reads_one_agent_and_the_null_user() {
    let server = MockServer::start().await;
    authed(Mock::given(method("GET")).and(path("/api/v1/livechat/users/agent/abc")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"user": user("abc", "available"), "success": true})),
        )
        .expect(1)
        .mount(&server)
        .await;
    authed(Mock::given(method("GET")).and(path("/api/v1/livechat/users/agent/not-an-agent")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"user": null, "success": true})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server);
    let one = c
        .get_livechat_user()
        .type_(types::GetLivechatUserType::Agent)
        .id("abc")
        .send()
        .await
        .unwrap()
        .into_inner();
    let u = one.user.unwrap();
    assert_eq!(u.status_livechat.as_deref(), Some("available"));
    assert_eq!(u.emails[0].verified, Some(true));
    let none = c
        .get_livechat_user()
        .type_(types::GetLivechatUserType::Agent)
        .id("not-an-agent")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(none.user.is_none());
}

#[tokio::test]
async fn list_livechat_users_sends_filters_and_decodes_the_page() {
    let server = MockServer::start().await;
    let mut bot = user("bot", "not-available");
    bot["livechat"] = Value::Null;
    authed(Mock::given(method("GET")).and(path("/api/v1/livechat/users/agent")))
        .and(query_param("onlyAvailable", "true"))
        .and(query_param("count", "50"))
        .and(query_param("offset", "0"))
        .and(query_param("sort", r#"{"username":1}"#))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [user("a", "available"), bot], "count": 2, "offset": 0, "total": 2, "success": true
        })))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .list_livechat_users()
        .type_(types::ListLivechatUsersType::Agent)
        .only_available(true)
        .count(50)
        .offset(0)
        .sort(r#"{"username":1}"#)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.total, Some(2));
    assert_eq!(page.users.len(), 2);
    assert!(page.users[1].livechat.is_none());
    assert!(page.users[0].livechat.is_some());
}

#[tokio::test]
async fn list_available_agents_decodes_the_real_shape() {
    let server = MockServer::start().await;
    authed(Mock::given(method("GET")).and(path("/api/v1/omnichannel/agents/available")))
        .and(query_param("text", "jo"))
        .and(query_param("includeExtension", "1001"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "agents": [user("a", "available"), user("b", "available")],
            "offset": 0, "count": 2, "total": 7, "success": true
        })))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .list_available_agents()
        .text("jo")
        .include_extension("1001")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.total, Some(7));
    let ids: Vec<_> = page
        .agents
        .iter()
        .map(|a| a.id.as_deref().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b"]);
}

#[test]
fn secrets_never_show_in_debug() {
    let creds = Credentials::new(USER, TOKEN.into());
    let client = Client::with_credentials("https://chat.example.com", creds.clone()).unwrap();
    let debug = format!("{client:?}");
    assert!(debug.contains("\"x-auth-token\": Sensitive"), "{debug}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(!format!("{creds:?}").contains(TOKEN));
}

#[tokio::test]
async fn the_generated_constructor_sends_both_headers_marked_sensitive() {
    let server = MockServer::start().await;
    authed(Mock::given(method("GET")).and(path("/api/v1/omnichannel/agents/available")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "agents": [], "offset": 0, "count": 0, "total": 0, "success": true
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_auth_token_and_user_id(
        &server.uri(),
        TOKEN.into(),
        USER.into(),
        &agentstatus_rocketchat::ClientConfig::default(),
    )
    .unwrap();
    let debug = format!("{client:?}");
    for name in ["x-auth-token", "x-user-id"] {
        assert!(debug.contains(&format!("\"{name}\": Sensitive")), "{debug}");
    }
    assert!(!debug.contains(TOKEN) && !debug.contains(USER), "{debug}");
    let page = client.list_available_agents().send().await.unwrap();
    assert_eq!(page.into_inner().total, Some(0));
}

#[tokio::test]
async fn set_user_status_sends_the_user_and_the_status_and_types_its_errors() {
    let server = MockServer::start().await;
    authed(Mock::given(method("POST")).and(path("/api/v1/users.setStatus")))
        .and(body_json(
            json!({"userId": "J6Q87AnWP5aNc9xhx", "status": "busy"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    let answer = client(&server)
        .set_user_status()
        .body(
            types::SetUserStatusBody::builder()
                .user_id(Some("J6Q87AnWP5aNc9xhx".to_string()))
                .status(Some(types::SetUserStatusBodyStatus::Busy)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.success, Some(true));
    // the raw request: JSON, exactly the two fields (no message: the status text stays)
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let sent: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        sent,
        json!({"userId": "J6Q87AnWP5aNc9xhx", "status": "busy"})
    );
    assert_eq!(
        requests[0].headers.get("content-type").unwrap(),
        "application/json"
    );

    // the route's errors (specs/rocketchat/NOTES.md#user-status) decode into the shared schema
    for (status, body) in [
        (
            400,
            json!({"success": false, "error": "Valid status types include online, away, offline, and busy. [error-invalid-status]", "errorType": "error-invalid-status"}),
        ),
        (
            400,
            json!({"success": false, "error": "Invisible status is disabled [error-status-not-allowed]", "errorType": "error-status-not-allowed"}),
        ),
        (403, json!({"success": false, "error": "unauthorized"})),
        (
            401,
            json!({"status": "error", "message": "You must be logged in to do this."}),
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v1/users.setStatus"))
            .respond_with(ResponseTemplate::new(status).set_body_json(&body))
            .mount(&server)
            .await;
        let err = client(&server)
            .set_user_status()
            .body(
                types::SetUserStatusBody::builder()
                    .status(Some(types::SetUserStatusBodyStatus::Offline)),
            )
            .send()
            .await
            .unwrap_err();
        let Error::ErrorResponse(e) = err else {
            panic!("{status}: expected a typed error, got {err:?}")
        };
        assert_eq!(e.status().as_u16(), status);
        assert_eq!(e.error.as_deref(), body["error"].as_str());
        assert_eq!(e.error_type.as_deref(), body["errorType"].as_str());
    }
}

#[test]
fn set_user_status_takes_only_the_four_statuses() {
    for word in ["online", "away", "busy", "offline"] {
        let body: types::SetUserStatusBody =
            serde_json::from_value(json!({"status": word})).unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"status": word})
        );
    }
    assert!(serde_json::from_value::<types::SetUserStatusBody>(json!({"status": "dnd"})).is_err());
}
