//! This vendor's fake behaves like the real server, including where the server differs from its docs.

use serde_json::{Value, json};

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn libredesk_documented_enum_fails_like_the_database_and_idle_never_overrides_manual_away() {
    let fake = agentstatus_libredesk::fake::Libredesk::start()
        .await
        .unwrap();
    fake.add_agent(agentstatus_libredesk::fake::Agent::new(
        1,
        "Ada Lovelace",
        "online",
        "k",
        "s",
    ));
    agentstatus_runtime::ensure_tls_provider();
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
