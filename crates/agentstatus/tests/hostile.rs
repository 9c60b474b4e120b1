//! Hostile servers (`agentstatus_fakes::hostile`, on loopback addresses): no credential leaves
//! its origin, no panic, memory and time bounded by the configured limits. Every bound is
//! asserted on what was sent, read or counted, and on elapsed time against the configured limit
//! (never against the machine's speed).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use agentstatus::engage_digital::presence::EngageDigitalPresence;
use agentstatus::registry::{Entry, SettingKind, Settings};
use agentstatus::rocketchat::presence::RocketChatPresence;
use agentstatus::{Availability, ErrorKind, Failure, ListFilter, ListLimits, Presence};
use agentstatus::{ClientConfig, RetryPolicy};
use agentstatus_fakes::hostile::{Body, Hostile, Reply, Seen};

const RC_TOKEN: &str = "rc-hostile-s3cr3t";
const RC_USER: &str = "rc-user-id-s3cr3t";
const LD_SECRET: &str = "ld-hostile-s3cr3t";
const ED_TOKEN: &str = "ed-hostile-s3cr3t";

/// Quick retries, so tests that exhaust them stay short.
fn config() -> ClientConfig {
    ClientConfig::default().with_retry(RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        deadline: Duration::from_secs(10),
    })
}

#[derive(Clone, Copy, Debug)]
/// The vendors of the vendor-specific tests below (path layouts, the toggle).
enum V {
    RocketChat,
    EngageDigital,
}

fn presence(v: V, url: &str, config: &ClientConfig) -> Box<dyn Presence> {
    match v {
        V::RocketChat => Box::new(RocketChatPresence::new(
            agentstatus::rocketchat::Client::with_config(
                url,
                agentstatus::rocketchat::Credentials::new(RC_USER, RC_TOKEN.to_string().into()),
                config,
            )
            .unwrap(),
        )),
        V::EngageDigital => Box::new(EngageDigitalPresence::new(
            agentstatus::engage_digital::Client::with_config(
                url,
                ED_TOKEN.to_string().into(),
                config,
            )
            .unwrap(),
        )),
    }
}

/// Every registered vendor (the generic tests cover a new vendor without an edit here).
/// An agent id each vendor's adapter accepts without asking the server (its seeder's first
/// sample id: a number, a name, or Mattermost's 26 characters).
fn agent(entry: &Entry) -> String {
    let seeder = agentstatus::seeder(entry.name).expect("every registered vendor has a seeder");
    (seeder.sample_id)(1, "ada")
}

fn vendors() -> Vec<Entry> {
    agentstatus::registry()
}

/// The settings a test connects `entry` with: dummy values, one secret per secret setting.
fn settings(entry: &Entry, url: &str, config: &ClientConfig) -> Settings {
    let mut s = Settings::new(url, config.clone());
    for setting in entry.settings {
        s = match setting.kind {
            SettingKind::Secret { .. } => s.with_secret(
                setting.key,
                format!("s3cr3t-{}-{}", entry.name, setting.key).into(),
            ),
            SettingKind::Number => s.with_value(setting.key, "1"),
            SettingKind::Choice { default, .. } => s.with_value(setting.key, default),
            // OAuth 2.0 client credentials: tokens from a well-behaved endpoint
            SettingKind::Text { .. } if setting.key == "token_url" => {
                s.with_value(setting.key, agentstatus_fakes::hostile::token_endpoint())
            }
            SettingKind::Text { default } => s.with_value(setting.key, default.unwrap_or("user-x")),
        };
    }
    s
}

fn connect(entry: &Entry, url: &str, config: &ClientConfig) -> Box<dyn Presence> {
    (entry.connect)(&settings(entry, url, config)).unwrap_or_else(|e| panic!("{}: {e}", entry.name))
}

/// Every form a credential of any vendor takes on the wire.
fn credential_forms() -> Vec<String> {
    use base64::Engine as _;
    let mut forms: Vec<String> = vec![
        RC_TOKEN.into(),
        RC_USER.into(),
        LD_SECRET.into(),
        base64::engine::general_purpose::STANDARD.encode(format!("key:{LD_SECRET}")),
        ED_TOKEN.into(),
    ];
    for entry in vendors() {
        let s = settings(&entry, "http://127.0.0.1", &ClientConfig::default());
        for secret in entry
            .settings
            .iter()
            .filter(|x| matches!(x.kind, SettingKind::Secret { .. }))
        {
            let value = format!("s3cr3t-{}-{}", entry.name, secret.key);
            for text in entry
                .settings
                .iter()
                .filter(|x| !matches!(x.kind, SettingKind::Secret { .. }))
            {
                if let Ok(t) = s.text(text.key) {
                    forms.push(
                        base64::engine::general_purpose::STANDARD.encode(format!("{t}:{value}")),
                    );
                }
            }
            forms.push(value);
        }
    }
    forms
}

fn rc_agent(id: &str, name: &str, status: &str) -> String {
    serde_json::json!({"_id": id, "name": name, "statusLivechat": status}).to_string()
}

/// A correct answer of `v` for a read of one agent.
fn good_answer(v: V, req: &Seen) -> Reply {
    match v {
        V::RocketChat if req.method() == "POST" => {
            Reply::json(200, r#"{"status":"available","success":true}"#)
        }
        V::RocketChat => Reply::json(
            200,
            format!(
                r#"{{"user":{},"success":true}}"#,
                rc_agent("a1", "Ada", "available")
            ),
        ),
        V::EngageDigital => Reply::json(
            200,
            r#"{"agent_id":"a1","channels":[{"id":"c1","status":"available"}]}"#,
        ),
    }
}

#[tokio::test]
async fn redirects_are_never_followed_and_no_credential_reaches_another_origin() {
    // another origin on another loopback address, and one on the same address, other port
    let elsewhere = Hostile::start("127.0.0.2", |_| Reply::json(200, "{}"))
        .await
        .unwrap();
    for v in vendors() {
        for status in [301, 302, 303, 307, 308] {
            for target in [
                format!("{}/api/v1/steal", elsewhere.url()),
                "http://desk.example.net/plain-http".to_string(),
                "https://user:pw@evil.example/x?token=abc".to_string(),
            ] {
                let location = target.clone();
                let origin = Hostile::start("127.0.0.1", move |_| {
                    Reply::json(status, "{}").header("location", &location)
                })
                .await
                .unwrap();
                let p = connect(&v, &origin.url(), &config());
                for op in ["get", "set"] {
                    let result = match op {
                        "get" => p.get(&agent(&v)).await,
                        _ => p.set(&agent(&v), Availability::Available).await,
                    };
                    let e = result.unwrap_err();
                    let Failure::Redirect { redirect, .. } = e.failure() else {
                        panic!("{v:?} {status} {op}: not a redirect error: {e}");
                    };
                    assert_eq!(redirect.status, status);
                    let shown = e.to_string();
                    assert!(shown.contains("base_url"), "{shown}");
                    assert!(
                        !shown.contains("pw") && !shown.contains("token=abc"),
                        "{shown}"
                    );
                    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
                }
                // every request went to the configured origin, once each (a POST included)
                let seen = origin.seen();
                assert_eq!(seen.len(), 2, "{v:?} {status}: {seen:?}");
                assert!(seen.iter().all(|r| r.header("referer").is_none()));
            }
        }
    }
    assert_eq!(
        elsewhere.connections(),
        0,
        "nothing reached the other origin"
    );
    assert!(elsewhere.seen().is_empty());
    let _ = credential_forms(); // the other origin saw no request at all, so no credential form
}

#[tokio::test]
async fn a_redirect_loop_is_named_as_such() {
    let origin = Hostile::start("127.0.0.1", |req| {
        Reply::json(307, "{}").header("location", req.target())
    })
    .await
    .unwrap();
    for v in vendors() {
        let e = connect(&v, &origin.url(), &config())
            .get(&agent(&v))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("redirect loop"), "{v:?}: {e}");
    }
}

#[tokio::test]
async fn the_legacy_toggle_is_sent_once_on_redirect_drop_or_timeout() {
    for (case, answer) in [
        (
            "307",
            Reply::json(307, "{}").header("location", "/api/v1/livechat/agent.status"),
        ),
        (
            "308",
            Reply::json(308, "{}").header("location", "http://127.0.0.2:9/x"),
        ),
        (
            "dropped",
            Reply::Close {
                after: Duration::ZERO,
            },
        ),
        ("no answer", Reply::Hang),
    ] {
        let toggles = Arc::new(AtomicU32::new(0));
        let origin = Hostile::start("127.0.0.1", {
            let toggles = toggles.clone();
            move |req| {
                let body = String::from_utf8_lossy(&req.body).to_string();
                if req.method() == "POST" && body.contains("\"status\"") {
                    // an older server: rejects the explicit status
                    Reply::json(
                        400,
                        r#"{"success":false,"error":"must NOT have additional properties","errorType":"invalid-params"}"#,
                    )
                } else if req.method() == "POST" {
                    toggles.fetch_add(1, Ordering::SeqCst);
                    answer.clone()
                } else {
                    Reply::json(
                        200,
                        format!(
                            r#"{{"user":{},"success":true}}"#,
                            rc_agent("a1", "Ada", "not-available")
                        ),
                    )
                }
            }
        })
        .await
        .unwrap();
        // many retries allowed, a short attempt timeout: the toggle must still go out once
        let cfg = ClientConfig::default()
            .with_retry(RetryPolicy {
                max_attempts: 10,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(1),
                deadline: Duration::from_secs(5),
            })
            .with_timeouts(Duration::from_millis(300), Duration::from_secs(1));
        let p = presence(V::RocketChat, &origin.url(), &cfg);
        let e = p.set("a1", Availability::Available).await.unwrap_err();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(toggles.load(Ordering::SeqCst), 1, "{case}: {e}");
    }
}

#[tokio::test]
async fn each_attempt_has_its_own_timeout_thirty_seconds_by_default() {
    let defaults = ClientConfig::default();
    assert_eq!(defaults.timeout, Duration::from_secs(30));
    assert_eq!(defaults.retry.deadline, Duration::from_secs(60));
    assert_eq!(defaults.max_response_bytes, 64 * 1024 * 1024);
    // a server that never answers: a timed-out attempt is not retried (the deadline governs),
    // so the call ends after one attempt timeout, well before the deadline
    let origin = Hostile::start("127.0.0.1", |_| Reply::Hang).await.unwrap();
    let cfg = config().with_timeouts(Duration::from_millis(400), Duration::from_secs(1));
    for v in vendors() {
        let before = origin.seen().len();
        let start = Instant::now();
        let e = connect(&v, &origin.url(), &cfg)
            .get(&agent(&v))
            .await
            .unwrap_err();
        let took = start.elapsed();
        assert!(e.to_string().contains("timed out"), "{v:?}: {e}");
        assert!(
            took >= Duration::from_millis(400) && took < Duration::from_secs(5),
            "{v:?}: {took:?}"
        );
        assert_eq!(origin.seen().len() - before, 1, "{v:?}: one attempt");
    }
}

#[tokio::test]
async fn one_deadline_bounds_a_whole_operation_with_its_resends() {
    // every connection is dropped after 300 ms: the explicit status is resent (idempotent),
    // but the whole `set` ends at its 1 s deadline, within a second
    let deadline = Duration::from_secs(1);
    for v in vendors() {
        let origin = Hostile::start("127.0.0.1", |_| Reply::Close {
            after: Duration::from_millis(300),
        })
        .await
        .unwrap();
        let cfg = ClientConfig::default().with_retry(RetryPolicy {
            max_attempts: 100,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
            deadline,
        });
        let p = connect(&v, &origin.url(), &cfg);
        let start = Instant::now();
        let e = p
            .set(&agent(&v), Availability::Available)
            .await
            .unwrap_err();
        let took = start.elapsed();
        assert_eq!(e.kind(), ErrorKind::Network, "{v:?}: {e}");
        assert!(
            took < deadline + Duration::from_secs(1),
            "{v:?}: {took:?} for a {deadline:?} deadline"
        );
        assert!(
            origin.seen().len() >= 2,
            "{v:?}: resent within the deadline"
        );
    }
    // a server that never answers: `list`, with the adapter's own deadline
    let origin = Hostile::start("127.0.0.1", |_| Reply::Hang).await.unwrap();
    let p = RocketChatPresence::new(
        agentstatus::rocketchat::Client::with_config(
            &origin.url(),
            agentstatus::rocketchat::Credentials::new(RC_USER, RC_TOKEN.to_string().into()),
            &config(),
        )
        .unwrap(),
    )
    .with_deadline(Duration::from_millis(500));
    let start = Instant::now();
    let e = p.list(&ListFilter::all()).await.unwrap_err();
    assert!(matches!(e.failure(), Failure::Deadline { .. }), "{e}");
    assert!(start.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn absurd_retry_after_values_are_not_waited_for_and_do_not_panic() {
    for value in [
        "18446744073709551615",
        "99999999999999999999999999999",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "-5",
        "soon",
    ] {
        for v in vendors() {
            let origin = Hostile::start("127.0.0.1", move |_| {
                Reply::json(503, "{}").header("retry-after", value)
            })
            .await
            .unwrap();
            let start = Instant::now();
            let e = connect(&v, &origin.url(), &config())
                .get(&agent(&v))
                .await
                .unwrap_err();
            assert_eq!(e.status(), Some(503), "{v:?} {value}: {e}");
            assert!(start.elapsed() < Duration::from_secs(5), "{v:?} {value}");
        }
    }
}

/// The path segments of a request target, percent-decoded.
fn segments(target: &str) -> Vec<String> {
    let path = target.split('?').next().unwrap_or_default();
    path.split('/')
        .skip(1)
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

#[tokio::test]
async fn every_agent_id_is_exactly_one_path_segment() {
    let ids = [
        "a\\b",
        "..\\..\\..\\me",
        "a/b",
        "%2e%2e",
        "%2F",
        "a?b=c",
        "a#b",
        "a;b",
        "a\u{1}b\r\n",
        "\u{1b}[31m",
        "…",
        "...",
    ];
    for (v, prefix) in [
        (
            V::RocketChat,
            vec!["api", "v1", "livechat", "users", "agent"],
        ),
        (V::EngageDigital, vec!["status"]),
    ] {
        let origin = Hostile::start("127.0.0.1", move |req| good_answer(v, req))
            .await
            .unwrap();
        let p = presence(v, &origin.url(), &config());
        for id in ids {
            let before = origin.seen().len();
            let _ = p.get(id).await;
            let _ = p.set(id, Availability::Available).await;
            for req in &origin.seen()[before..] {
                if req.method() == "POST" {
                    continue; // Rocket.Chat's agent.status: the id travels in the body
                }
                if segments(req.target()).last().map(String::as_str) == Some("users.presence") {
                    continue; // Rocket.Chat's status message and end: the id is in the query
                }
                let mut want: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
                want.push(id.to_string());
                assert_eq!(
                    segments(req.target()),
                    want,
                    "{v:?} {id:?}: {}",
                    req.request_line
                );
                assert!(!req.target().contains('#') && !req.target().contains('\\'));
            }
            assert!(origin.seen().len() > before, "{v:?} {id:?}: nothing sent");
        }
        // `.` and `..` cannot be one segment: refused before anything is sent
        for id in [".", ".."] {
            let before = origin.seen().len();
            let e = p.get(id).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{v:?} {id:?}: {e}");
            assert_eq!(origin.seen().len(), before, "{v:?} {id:?}: sent anyway");
        }
    }
}

const LIMIT: u64 = 1 << 20;

fn limited() -> ClientConfig {
    config().with_max_response_bytes(LIMIT)
}

#[tokio::test]
async fn bodies_are_bounded_while_streaming() {
    for v in vendors() {
        // announced: 500 MB (refused from the header, before reading)
        let origin = Hostile::start("127.0.0.1", |_| {
            Reply::body(
                200,
                Body::Huge {
                    announced: 500_000_000,
                    chunk: vec![b' '; 64 * 1024],
                },
            )
        })
        .await
        .unwrap();
        let e = connect(&v, &origin.url(), &limited())
            .get(&agent(&v))
            .await
            .unwrap_err();
        assert!(
            matches!(e.failure(), Failure::ResponseTooLarge { cause, .. } if cause.limit == LIMIT),
            "{v:?}: {e}"
        );
        assert!(e.to_string().contains("1048576 bytes"), "{e}");
        drop(origin);

        // endless, chunked, as fast as loopback goes: the client stops at the limit; what the
        // server could write beyond it is what the sockets buffer, not the body
        let origin = Hostile::start("127.0.0.1", |_| {
            Reply::body(
                200,
                Body::Endless {
                    chunk: vec![b' '; 16 * 1024],
                    pause: Duration::ZERO,
                },
            )
        })
        .await
        .unwrap();
        let start = Instant::now();
        let e = connect(&v, &origin.url(), &limited())
            .get(&agent(&v))
            .await
            .unwrap_err();
        assert!(
            matches!(e.failure(), Failure::ResponseTooLarge { .. }),
            "{v:?}: {e}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let written = origin.body_bytes_written();
        assert!(
            written < LIMIT + 32 * (1 << 20),
            "{v:?}: the server wrote {written} bytes"
        );
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}

#[tokio::test]
async fn a_slow_endless_body_ends_at_the_deadline() {
    let origin = Hostile::start("127.0.0.1", |_| {
        Reply::body(
            200,
            Body::Endless {
                chunk: b" ".to_vec(),
                pause: Duration::from_millis(20),
            },
        )
    })
    .await
    .unwrap();
    let cfg = config().with_retry(RetryPolicy {
        deadline: Duration::from_millis(800),
        ..config().retry
    });
    for v in vendors() {
        let start = Instant::now();
        let e = connect(&v, &origin.url(), &cfg)
            .get(&agent(&v))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network, "{v:?}: {e}");
        assert!(start.elapsed() < Duration::from_millis(1800), "{v:?}");
    }
}

fn rc_page(ids: impl Iterator<Item = String>, total: i64) -> Reply {
    let users: Vec<String> = ids.map(|id| rc_agent(&id, "x", "available")).collect();
    Reply::json(
        200,
        format!(
            r#"{{"users":[{}],"count":100,"offset":0,"total":{total},"success":true}}"#,
            users.join(",")
        ),
    )
}

#[tokio::test]
async fn paging_stops_when_the_server_ignores_the_offset() {
    // the same 100 agents on every page, with an absurd total
    let origin = Hostile::start("127.0.0.1", |_| {
        rc_page((0..100).map(|i| format!("a{i}")), 1_000_000_000)
    })
    .await
    .unwrap();
    let p = presence(V::RocketChat, &origin.url(), &config());
    let list = p.list(&ListFilter::all()).await.unwrap();
    assert_eq!(list.len(), 100, "each agent once");
    let pages = origin
        .seen()
        .iter()
        .filter(|r| segments(r.target()).last().map(String::as_str) == Some("agent"))
        .count();
    assert_eq!(pages, 2, "the repeated page ended the list");
    // and one read of the status messages and ends after the pages
    assert_eq!(origin.seen().len(), 3);
}

#[tokio::test]
async fn paging_is_capped_by_the_list_limits() {
    // new agents on every page, forever
    let page = Arc::new(AtomicU32::new(0));
    let origin = Hostile::start("127.0.0.1", {
        let page = page.clone();
        move |_| {
            let n = page.fetch_add(1, Ordering::SeqCst);
            rc_page((0..100).map(move |i| format!("p{n}-a{i}")), i64::MAX)
        }
    })
    .await
    .unwrap();
    let client = agentstatus::rocketchat::Client::with_config(
        &origin.url(),
        agentstatus::rocketchat::Credentials::new(RC_USER, RC_TOKEN.to_string().into()),
        &config(),
    )
    .unwrap();
    let p = RocketChatPresence::new(client).with_list_limits(ListLimits::new(5, 100_000));
    let e = p.list(&ListFilter::all()).await.unwrap_err();
    assert!(
        matches!(e.failure(), Failure::TooManyPages { pages: 5, .. }),
        "{e}"
    );
    assert_eq!(origin.seen().len(), 5);
    let p = p.with_list_limits(ListLimits::new(1_000, 250));
    let before = origin.seen().len();
    let e = p.list(&ListFilter::all()).await.unwrap_err();
    assert!(matches!(e.failure(), Failure::TooManyPages { .. }), "{e}");
    assert_eq!(
        origin.seen().len() - before,
        3,
        "stopped at the page past 250 agents"
    );
}

#[tokio::test]
async fn vendor_messages_are_cut_and_escaped() {
    let huge = format!("\u{1b}[2J{}", "m".repeat(1_000_000));
    for v in vendors() {
        let message = huge.clone();
        let origin = Hostile::start("127.0.0.1", move |_| {
            let body = serde_json::json!({
                "success": false, "status": "error", "error": message, "message": message,
                "errorType": message, "error_type": message,
            });
            Reply::json(400, body.to_string())
        })
        .await
        .unwrap();
        let e = connect(&v, &origin.url(), &config())
            .get(&agent(&v))
            .await
            .unwrap_err();
        let shown = e.to_string();
        assert!(shown.chars().count() < 700, "{v:?}: {} chars", shown.len());
        assert!(!shown.contains('\u{1b}'), "{v:?}: {shown}");
    }
}

#[tokio::test]
async fn no_credential_appears_in_any_error() {
    // every failure a server can cause: an error status, a redirect, a dropped connection, a
    // body that does not decode, one over the limit
    let n = Arc::new(AtomicU32::new(0));
    let origin = Hostile::start("127.0.0.1", {
        let n = n.clone();
        move |_| match n.fetch_add(1, Ordering::SeqCst) % 5 {
            0 => Reply::json(500, r#"{"error":"boom","message":"boom"}"#),
            1 => Reply::json(302, "{}").header("location", "http://127.0.0.2:1/x"),
            2 => Reply::Close {
                after: Duration::ZERO,
            },
            3 => Reply::json(200, "not json"),
            _ => Reply::body(
                200,
                Body::Huge {
                    announced: 10 * LIMIT,
                    chunk: vec![b' '; 1024],
                },
            ),
        }
    })
    .await
    .unwrap();
    let cfg = limited().with_retry(RetryPolicy::none());
    for v in vendors() {
        let p = connect(&v, &origin.url(), &cfg);
        for _ in 0..5 {
            let errors = [
                p.get(&agent(&v)).await.unwrap_err(),
                p.set(&agent(&v), Availability::Available)
                    .await
                    .unwrap_err(),
                p.list(&ListFilter::all()).await.unwrap_err(),
            ];
            for e in errors {
                let shown = format!("{e} {e:?}");
                for secret in credential_forms() {
                    assert!(!shown.contains(&secret), "{v:?}: {shown}");
                }
            }
        }
    }
}
