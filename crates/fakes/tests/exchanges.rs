//! The exchange log: each request with the fault it met and the status answered.

use std::sync::Arc;
use std::time::Duration;

use agentstatus_fakes::axum::{Router, http::StatusCode, routing::get};
use agentstatus_fakes::{Fault, Faults, json, serve};

#[tokio::test]
async fn each_request_is_logged_with_its_fault_its_status_and_a_writes_body() {
    let router = Router::new().route(
        "/agents/{id}",
        get(|| async { json(StatusCode::OK, "ok".into()) })
            .put(|| async { json(StatusCode::OK, "set".into()) }),
    );
    let faults = Arc::new(Faults::default());
    let server = serve(router, faults.clone()).await.unwrap();
    agentstatus_runtime::ensure_tls_provider();
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", server.url());
    faults.push(Fault::Html(502));
    let r = http.get(url("/agents/a1?x=1")).send().await.unwrap();
    assert_eq!(r.status(), 502);
    let r = http
        .put(url("/agents/a1"))
        .body(r#"{"status":"away"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    faults.push(Fault::DropConnection);
    assert!(http.get(url("/agents/a2")).send().await.is_err());
    faults.set_delay(Duration::from_millis(10));
    http.get(url("/agents/a3")).send().await.unwrap();
    let log = faults.exchanges();
    let seen: Vec<String> = log
        .iter()
        .map(|x| {
            format!(
                "{} {} {:?} {:?} {:?}",
                x.method, x.uri, x.body, x.fault, x.status
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            r#"GET /agents/a1?x=1 "" Some("Html(502)") Some(502)"#,
            r#"PUT /agents/a1 "{\"status\":\"away\"}" None Some(200)"#,
            r#"GET /agents/a2 "" Some("DropConnection") None"#,
            r#"GET /agents/a3 "" Some("slow (10ms)") Some(200)"#,
        ]
    );
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at));
}
