//! This vendor's fake behaves like the real server, including where the server differs from its docs.

use std::time::Duration;

use agentstatus_engage_digital::fake::Fault;
use serde_json::Value;

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn engage_digital_needs_every_channel_and_rate_limits() {
    let fake = agentstatus_engage_digital::fake::EngageDigital::start()
        .await
        .unwrap();
    fake.add_supervisor_token("t");
    fake.add_agent(agentstatus_engage_digital::fake::Agent::new(
        "e1",
        &[("c1", "Email"), ("c2", "Chat")],
        "away",
    ));
    agentstatus_runtime::ensure_tls_provider();
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
    let fake = agentstatus_engage_digital::fake::EngageDigital::start()
        .await
        .unwrap();
    fake.add_supervisor_token("t");
    agentstatus_runtime::ensure_tls_provider();
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
