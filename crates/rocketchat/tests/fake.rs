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

/// `users.setStatus` runs the route's checks in the server's order
/// (specs/rocketchat/NOTES.md#user-status).
#[tokio::test]
async fn rocketchat_set_status_checks_like_the_route() {
    use agentstatus_rocketchat::fake::{Agent, RocketChat};
    let fake = RocketChat::start().await.unwrap();
    fake.add_user("a1", "t1", false); // an agent acting for itself
    fake.add_user("mgr", "tm", true); // a livechat manager, not an administrator
    // the route's checks, not the rate limiter, are under test: more calls than it allows a
    // minute, so the limit is raised for this test
    fake.set_rate_limit(1_000, agentstatus_rocketchat::fake::DEFAULT_INTERVAL);
    fake.add_agent(Agent::new("a1", "Ada Lovelace", "available"));
    fake.add_agent(Agent::new("a2", "Bob Babbage", "available"));
    agentstatus_runtime::ensure_tls_provider();
    let http = reqwest::Client::new();
    let post = |who: (&str, &str), body: Value| {
        http.post(format!("{}/api/v1/users.setStatus", fake.url()))
            .header("x-user-id", who.0)
            .header("x-auth-token", who.1)
            .json(&body)
    };
    let a1 = ("a1", "t1");
    let mgr = ("mgr", "tm");

    // the Match check: a string status or a string message
    for body in [
        json!({}),
        json!({"status": 1}),
        json!({"message": null, "status": null}),
    ] {
        let (status, answer) = send(post(a1, body.clone())).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            answer["error"].as_str().unwrap().starts_with("Match error"),
            "{answer}"
        );
    }
    // the caller's own status, by no user, its id or its username (exactly: isUserFromParams
    // compares it as it is; another spelling is another user's, which needs the permission)
    let (status, _) = send(post(
        a1,
        json!({"status": "busy", "username": "ADA.lovelace"}),
    ))
    .await;
    assert_eq!(status, 403);
    for body in [
        json!({"status": "busy"}),
        json!({"status": "away", "userId": "a1"}),
        json!({"status": "busy", "username": "ada.lovelace"}),
    ] {
        let (status, answer) = send(post(a1, body.clone())).await;
        assert_eq!(
            (status, &answer),
            (200, &json!({"success": true})),
            "{body}"
        );
    }
    assert_eq!(fake.agent("a1").unwrap().status, "busy");
    // a word the route does not take; the message before it is stored all the same
    let (status, answer) = send(post(a1, json!({"status": "dnd", "message": "at lunch"}))).await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("error-invalid-status"))
    );
    let a = fake.agent("a1").unwrap();
    assert_eq!(
        (a.status.as_str(), a.status_text.as_str()),
        ("busy", "at lunch")
    );
    // another user's: `edit-other-user-info`, which a livechat manager does not have
    let (status, answer) = send(post(mgr, json!({"status": "away", "userId": "a2"}))).await;
    assert_eq!(
        (status, &answer),
        (403, &json!({"success": false, "error": "unauthorized"}))
    );
    assert_eq!(fake.agent("a2").unwrap().status, "online");
    fake.grant_edit_other_user_info("mgr");
    let (status, _) = send(post(mgr, json!({"status": "away", "userId": "a2"}))).await;
    assert_eq!(status, 200);
    assert_eq!(fake.agent("a2").unwrap().status, "away");
    let (status, answer) = send(post(mgr, json!({"status": "away", "userId": "nobody"}))).await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("error-invalid-user"))
    );
    // the livechat reads carry it
    let (_, user) = send(
        http.get(format!("{}/api/v1/livechat/users/agent/a2", fake.url()))
            .header("x-user-id", "mgr")
            .header("x-auth-token", "tm"),
    )
    .await;
    assert_eq!(user["user"]["status"], "away");
    // the workspace settings
    fake.set_invisible_allowed(false);
    let (status, answer) = send(post(a1, json!({"status": "offline"}))).await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("error-status-not-allowed"))
    );
    fake.set_status_change_allowed(false);
    let (status, answer) = send(post(a1, json!({"status": "online"}))).await;
    assert_eq!(
        (status, answer["errorType"].as_str()),
        (400, Some("error-not-allowed"))
    );
    assert_eq!(fake.agent("a1").unwrap().status, "busy");
    // not logged in
    let (status, _) = send(post(("a1", "wrong"), json!({"status": "online"}))).await;
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

/// The limiter is on from the start, with the server's defaults, and it authenticates first: a
/// call with a wrong token is the 401 it always was and uses none of the user's calls.
#[tokio::test]
async fn rocketchat_rate_limiter_is_on_by_default_and_counts_only_authenticated_calls() {
    use agentstatus_rocketchat::fake::{DEFAULT_CALLS, RocketChat};
    let fake = RocketChat::start().await.unwrap();
    fake.add_user("mgr", "t", true);
    fake.add_user("admin", "a", true);
    fake.bypass_rate_limit("admin");
    agentstatus_runtime::ensure_tls_provider();
    let http = reqwest::Client::new();
    let url = fake.url();
    let list = |user: &str, token: &str| {
        http.get(format!("{url}/api/v1/livechat/users/agent"))
            .header("x-user-id", user)
            .header("x-auth-token", token)
    };
    // a wrong token, many times: 401 each, never counted against the user
    for _ in 0..(DEFAULT_CALLS + 5) {
        let r = list("mgr", "wrong").send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers().get("x-ratelimit-limit").is_none());
    }
    for n in 1..=DEFAULT_CALLS {
        let r = list("mgr", "t").send().await.unwrap();
        assert_eq!(r.status(), 200, "call {n}");
        assert_eq!(
            r.headers()["x-ratelimit-remaining"],
            (DEFAULT_CALLS - n).to_string()
        );
    }
    let r = list("mgr", "t").send().await.unwrap();
    assert_eq!(
        r.status(),
        429,
        "the default limit: {DEFAULT_CALLS} a minute"
    );
    assert_eq!(fake.rate_limited(), 1);
    // the administrator bypasses it
    for _ in 0..(DEFAULT_CALLS + 2) {
        assert_eq!(list("admin", "a").send().await.unwrap().status(), 200);
    }
    // API_Enable_Rate_Limiter off: nothing counted, no headers
    fake.disable_rate_limit();
    let r = list("mgr", "t").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-ratelimit-limit").is_none());
}

/// Issue #30: a client's own retries honour the server's wait when the server says it the way
/// Rocket.Chat does (a 429 with `X-RateLimit-Reset` in epoch milliseconds, no `Retry-After`):
/// the retry is sent once the window has ended, and succeeds. Before, the retries backed off a
/// few milliseconds each, all inside the window, and the call failed with the 429.
#[tokio::test]
async fn a_clients_retry_waits_for_rocket_chats_rate_limit_reset_then_succeeds() {
    use agentstatus_rocketchat::fake::{Agent, RocketChat};
    use agentstatus_rocketchat::{Client, Credentials, types};
    use agentstatus_runtime::{ClientConfig, RetryPolicy};
    use std::time::{Duration, Instant};
    let fake = RocketChat::start().await.unwrap();
    fake.add_user("mgr", "t", true);
    fake.add_agent(Agent::new("a1", "Ada", "available"));
    let window = Duration::from_millis(800);
    fake.set_rate_limit(2, window);
    // backoff alone would try four times within 40 ms: well inside the window
    let config = ClientConfig::default().with_retry(RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(10),
        deadline: Duration::from_secs(5),
    });
    let client =
        Client::with_config(&fake.url(), Credentials::new("mgr", "t".into()), &config).unwrap();
    let list = || {
        client
            .list_livechat_users()
            .type_(types::ListLivechatUsersType::Agent)
            .send()
    };
    let started = Instant::now();
    list().await.unwrap();
    list().await.unwrap();
    let third = Instant::now();
    let page = list().await.expect("retried once the window ended");
    assert_eq!(page.users.len(), 1);
    let waited = third.elapsed();
    assert_eq!(
        fake.rate_limited(),
        1,
        "one 429, then the retry got through"
    );
    assert!(
        started.elapsed() >= window && waited < window + Duration::from_millis(600),
        "waited {waited:?} for a window of {window:?}"
    );

    // a reset past the call's deadline is not waited for: the call gives up at once with the
    // server's 429, and the error says how long the server asked for
    let long = Duration::from_secs(30);
    fake.set_rate_limit(1, long);
    let short = ClientConfig::default().with_retry(RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(10),
        deadline: Duration::from_secs(2),
    });
    let client =
        Client::with_config(&fake.url(), Credentials::new("mgr", "t".into()), &short).unwrap();
    client
        .list_livechat_users()
        .type_(types::ListLivechatUsersType::Agent)
        .send()
        .await
        .unwrap();
    let before = fake.rate_limited();
    let t = Instant::now();
    let e = client
        .list_livechat_users()
        .type_(types::ListLivechatUsersType::Agent)
        .send()
        .await
        .expect_err("rate limited past the deadline");
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(e.status().map(|s| s.as_u16()), Some(429), "{e}");
    assert_eq!(
        fake.rate_limited() - before,
        1,
        "one attempt: no retry inside the window"
    );
    let wait = agentstatus_runtime::retry::server_wait(
        e.status().unwrap(),
        match &e {
            progenitor_client::Error::ErrorResponse(r) => r.headers(),
            progenitor_client::Error::UnexpectedResponse(r) => r.headers(),
            other => panic!("not an answer: {other}"),
        },
        std::time::SystemTime::now(),
    )
    .expect("the 429 says when its window ends");
    assert!(wait > Duration::from_secs(20) && wait <= long, "{wait:?}");
}
