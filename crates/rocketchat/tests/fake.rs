//! This vendor's fake behaves like the real server, including where the server differs from its docs.

use serde_json::{Value, json};

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn rocketchat_rejects_unknown_fields_and_toggles_without_status() {
    let fake = agentstatus_rocketchat::fake::RocketChat::start()
        .await
        .unwrap();
    fake.add_user("a1", "t", false);
    fake.add_agent(agentstatus_rocketchat::fake::Agent::new(
        "a1",
        "Ada",
        "available",
    ));
    agentstatus_runtime::ensure_tls_provider();
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
