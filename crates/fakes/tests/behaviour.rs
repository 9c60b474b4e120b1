//! The fakes behave like the real servers, including where the real servers differ from their docs.

use std::time::Duration;

use agentstatus_fakes::{Fault, engage_digital as ed, libredesk as ld, rocketchat as rc};
use serde_json::{Value, json};

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn libredesk_documented_enum_fails_like_the_database_and_idle_never_overrides_manual_away() {
    let fake = ld::Libredesk::start().await.unwrap();
    fake.add_agent(ld::Agent::new(1, "Ada Lovelace", "online", "k", "s"));
    let http = reqwest::Client::new();
    let put = |body: Value| {
        http.put(format!("{}/api/v1/agents/me/availability", fake.url()))
            .header("authorization", "token k:s")
            .json(&body)
    };
    for documented in ["available", "busy"] {
        let (status, body) = send(put(json!({"status": documented}))).await;
        assert_eq!(status, 500, "{documented}");
        assert_eq!(body["status"], "error");
        assert_eq!(body["error_type"], "GeneralException");
    }
    let (status, body) = send(put(json!({"status": "away_manual"}))).await;
    assert_eq!(
        (status, body["data"]["availability_status"].as_str()),
        (200, Some("away_manual"))
    );
    let (status, body) = send(put(json!({"status": "offline", "source": "idle"}))).await;
    assert_eq!(
        (status, body["data"]["availability_status"].as_str()),
        (200, Some("away_manual"))
    );
    assert_eq!(fake.state_changes(), 1);
    // malformed body, wrong scheme
    let (status, body) = send(
        http.put(format!("{}/api/v1/agents/me/availability", fake.url()))
            .header("authorization", "token k:s")
            .body("{"),
    )
    .await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (400, Some("InputException"))
    );
    let (status, _) = send(
        http.get(format!("{}/api/v1/agents/me", fake.url()))
            .header("authorization", "Bearer k:s"),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn rocketchat_rejects_unknown_fields_and_toggles_without_status() {
    let fake = rc::RocketChat::start().await.unwrap();
    fake.add_user("a1", "t", false);
    fake.add_agent(rc::Agent::new("a1", "Ada", "available"));
    let http = reqwest::Client::new();
    let post = |body: Value| {
        http.post(format!("{}/api/v1/livechat/agent.status", fake.url()))
            .header("x-auth-token", "t")
            .header("x-user-id", "a1")
            .json(&body)
    };
    let (status, body) = send(post(json!({"agentId": "a1", "typo": 1}))).await;
    assert_eq!(
        (status, body["errorType"].as_str()),
        (400, Some("invalid-params"))
    );
    let (_, body) = send(post(json!({}))).await;
    assert_eq!(body["status"], "not-available");
    let (_, body) = send(post(json!({}))).await;
    assert_eq!(body["status"], "available");
    let (status, _) = send(post(json!({"agentId": "other"}))).await;
    assert_eq!(status, 403, "another agent needs manage-livechat-agents");
    let (status, _) = send(http.get(format!("{}/api/v1/livechat/users/agent", fake.url()))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn engage_digital_needs_every_channel_and_rate_limits() {
    let fake = ed::EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("t");
    fake.add_agent(ed::Agent::new(
        "e1",
        &[("c1", "Email"), ("c2", "Chat")],
        "away",
    ));
    let http = reqwest::Client::new();
    let put = |query: &str| {
        http.put(format!("{}/status/e1?{query}", fake.url()))
            .bearer_auth("t")
    };
    let (status, body) = send(put("status[c1]=available")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_params"))
    );
    let (status, body) = send(put("status%5Bc1%5D=available&status%5Bc2%5D=away")).await;
    assert_eq!(status, 200);
    assert_eq!(body["channels"][0]["status"], "available");
    assert_eq!(body["custom_status"], Value::Null);
    assert_eq!(fake.state_changes(), 1);

    fake.set_rate_limit(2, Duration::from_secs(60));
    let get = || {
        http.get(format!("{}/status/e1", fake.url()))
            .bearer_auth("t")
    };
    assert_eq!(send(get()).await.0, 200);
    assert_eq!(send(get()).await.0, 200);
    let (status, body) = send(get()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limit_exceeded"))
    );
}

#[tokio::test]
async fn faults_are_injected_in_order_and_counted() {
    let fake = ed::EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("t");
    let http = reqwest::Client::new();
    let get = || http.get(format!("{}/status", fake.url())).bearer_auth("t");
    fake.faults().push(Fault::Status(503));
    fake.faults().push(Fault::RateLimited {
        retry_after_secs: 7,
    });
    fake.faults().push(Fault::DropConnection);
    assert_eq!(get().send().await.unwrap().status().as_u16(), 503);
    let r = get().send().await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["retry-after"].to_str().unwrap()
        ),
        (429, "7")
    );
    assert!(get().send().await.is_err(), "connection dropped");
    assert_eq!(get().send().await.unwrap().status().as_u16(), 200);
    assert_eq!(fake.faults().count("GET", "/status"), 4);
    assert_eq!(fake.faults().pending(), 0);
}
