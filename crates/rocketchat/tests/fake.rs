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

#[tokio::test]
async fn rocketchat_rate_limiter_refuses_the_call_past_the_limit_per_route_with_its_headers() {
    use agentstatus_rocketchat::fake::{Agent, DEFAULT_CALLS, DEFAULT_INTERVAL, RocketChat};
    assert_eq!(
        (DEFAULT_CALLS, DEFAULT_INTERVAL),
        (10, std::time::Duration::from_secs(60)),
        "API_Enable_Rate_Limiter_Limit_Calls_Default and _Time_Default"
    );
    let fake = RocketChat::start().await.unwrap();
    fake.add_user("mgr", "t", true);
    fake.add_user("bot", "b", true);
    fake.add_agent(Agent::new("a1", "Ada", "available"));
    fake.set_rate_limit(3, DEFAULT_INTERVAL);
    fake.bypass_rate_limit("bot");
    agentstatus_runtime::ensure_tls_provider();
    let http = reqwest::Client::new();
    let url = fake.url();
    let list = |user: &str, token: &str| {
        http.get(format!("{url}/api/v1/livechat/users/agent"))
            .header("x-user-id", user)
            .header("x-auth-token", token)
    };
    for n in 1..=3u32 {
        let r = list("mgr", "t").send().await.unwrap();
        assert_eq!(r.status(), 200, "call {n}");
        assert_eq!(r.headers()["x-ratelimit-limit"], "3");
        assert_eq!(r.headers()["x-ratelimit-remaining"], (3 - n).to_string());
    }
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let r = list("mgr", "t").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-limit"], "3");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");
    let reset: u128 = r.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        reset > before && reset <= before + 60_000 + 1_000,
        "reset {reset} is the window's end in epoch milliseconds"
    );
    assert!(r.headers().get("retry-after").is_none());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], false);
    let error = body["error"].as_str().unwrap();
    assert!(
        error.starts_with("Error, too many requests. Please slow down. You must wait ")
            && error
                .ends_with(" seconds before trying this endpoint again. [error-too-many-requests]"),
        "{error}"
    );
    // another route (and method) has a window of its own
    let r = http
        .post(format!("{url}/api/v1/livechat/agent.status"))
        .header("x-user-id", "mgr")
        .header("x-auth-token", "t")
        .json(&json!({"agentId": "a1", "status": "not-available"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-ratelimit-remaining"], "2");
    // a user with api-bypass-rate-limit is not counted
    let r = list("bot", "b").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-ratelimit-limit").is_none());
    // nor is a call without credentials: 401 first
    let r = http
        .get(format!("{url}/api/v1/livechat/users/agent"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(fake.rate_limited(), 1);
}
