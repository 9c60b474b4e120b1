//! This vendor's fake behaves like the real server: here, its rate limit (Rack::Attack's
//! `req/ip` throttle, `specs/chatwoot/NOTES.md`, "Rate limit").

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agentstatus_chatwoot::fake::{Agent, Chatwoot, RACK_ATTACK_LIMIT};
use serde_json::json;

#[tokio::test]
async fn the_request_past_the_limit_gets_rack_attacks_429_and_every_route_counts() {
    assert_eq!(
        RACK_ATTACK_LIMIT, 3000,
        "the server's default RACK_ATTACK_LIMIT"
    );
    let fake = Chatwoot::start(1).await.unwrap();
    fake.add_agent(Agent::new(1, "Ada", "admin", "online").administrator());
    fake.add_agent(Agent::new(2, "Bob", "bob", "online"));
    // windows aligned on the epoch, as Rack::Attack's cache key: not near the end of one
    let period = Duration::from_secs(3600);
    let into = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % period.as_millis();
    if period.as_millis() - into < 10_000 {
        std::thread::sleep(Duration::from_millis(
            (period.as_millis() - into) as u64 + 100,
        ));
    }
    fake.set_rate_limit(4, period);
    agentstatus_runtime::ensure_tls_provider();
    let http = reqwest::Client::new();
    let list = || {
        http.get(format!("{}/api/v1/accounts/1/agents", fake.url()))
            .header("api_access_token", "admin")
    };
    for n in 1..=4 {
        let r = list().send().await.unwrap();
        assert_eq!(r.status(), 200, "request {n}");
        assert!(r.headers().get("x-ratelimit-limit").is_none());
    }
    let r = list().send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert!(
        r.headers().get("retry-after").is_none(),
        "Chatwoot leaves throttled_response_retry_after_header off"
    );
    assert_eq!(r.text().await.unwrap(), "Retry later\n");
    // one throttle for every route, before authentication
    let r = http
        .patch(format!("{}/api/v1/accounts/1/agents/2", fake.url()))
        .header("api_access_token", "admin")
        .json(&json!({"availability": "busy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let r = http
        .post(format!("{}/api/v1/profile/availability", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "throttled before the 401");
    assert_eq!(fake.rate_limited(), 3);
    assert_eq!(fake.agent(2).unwrap().availability, "online");
    // raised, it lets them through
    fake.set_rate_limit(u32::MAX, period);
    assert_eq!(list().send().await.unwrap().status(), 200);
}
