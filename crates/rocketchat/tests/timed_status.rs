//! The timed user status of Rocket.Chat 8.6 and later (`users.setStatus` `expiresAt`) as the
//! expiry (`until`) of a `set_with` with a state: the raw request, the fake's 8.6 route and its
//! presence engine, and a server before 8.6 that ignores the expiry
//! (specs/rocketchat/NOTES.md#no-expiry-in-a-status).

use std::time::Duration;

use agentstatus_presence::{Availability, ErrorKind, Failure, Presence, SetRequest};
use agentstatus_rocketchat::fake::{Agent, RocketChat};
use agentstatus_rocketchat::presence::RocketChatPresence;
use agentstatus_rocketchat::{Client, Credentials};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SET_STATUS: &str = "/api/v1/users.setStatus";
const AGENT_STATUS: &str = "/api/v1/livechat/agent.status";

/// A fake with an administrator `mgr` and an agent `a1`, not available, `online`.
async fn fake() -> (RocketChat, RocketChatPresence) {
    let fake = RocketChat::start().await.unwrap();
    fake.add_user("mgr", "mgr-token", true);
    fake.grant_edit_other_user_info("mgr");
    // an administrator: the server's rate limiter does not count it
    fake.bypass_rate_limit("mgr");
    fake.add_agent(Agent::new("a1", "Ada Lovelace", "not-available"));
    let client = Client::with_credentials(
        &fake.url(),
        Credentials::new("mgr", "mgr-token".to_string().into()),
    )
    .unwrap();
    (fake, RocketChatPresence::new(client))
}

fn now() -> DateTime<Utc> {
    std::time::SystemTime::now().into()
}

/// `t` truncated to the millisecond, as the wire carries it.
fn millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap()
}

fn user(status: &str, status_livechat: &str) -> Value {
    json!({"user": {"_id": "a1", "username": "ada", "name": "Ada", "status": status,
                    "statusLivechat": status_livechat}, "success": true})
}

/// The raw request: `expiresAt` in RFC 3339, UTC, milliseconds, next to the user and status.
#[tokio::test]
async fn the_expiry_is_sent_as_expires_at_in_utc_milliseconds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/livechat/users/agent/a1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("online", "not-available")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/livechat/users/agent/a1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("busy", "available")))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SET_STATUS))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"success": true, "statusExpiresAt": "2099-01-02T03:04:05.678Z"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(AGENT_STATUS))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "available", "success": true})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_credentials(
        &server.uri(),
        Credentials::new("mgr", "s3cr3t".to_string().into()),
    )
    .unwrap();
    // nanoseconds, in another offset: sent in UTC, cut to the millisecond
    let until = DateTime::parse_from_rfc3339("2099-01-02T05:04:05.678901234+02:00")
        .unwrap()
        .with_timezone(&Utc);
    let after = RocketChatPresence::new(client)
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available)
                .state("busy")
                .until(until),
        )
        .await
        .unwrap();
    assert_eq!(
        (after.availability, after.detail.state()),
        (Availability::Available, "busy")
    );
    // read back with its end, the answer's `statusExpiresAt`
    assert_eq!(
        after.detail.until(),
        Some("2099-01-02T03:04:05.678Z".parse().unwrap())
    );
    let requests = server.received_requests().await.unwrap();
    let sets: Vec<Value> = requests
        .iter()
        .filter(|r| r.url.path() == SET_STATUS)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        sets,
        [json!({"userId": "a1", "status": "busy", "expiresAt": "2099-01-02T03:04:05.678Z"})]
    );
    let set = requests
        .iter()
        .find(|r| r.url.path() == SET_STATUS)
        .unwrap();
    assert_eq!(set.headers.get("x-user-id").unwrap(), "mgr");
    assert_eq!(set.headers.get("x-auth-token").unwrap(), "s3cr3t");
    assert_eq!(set.headers.get("content-type").unwrap(), "application/json");
}

/// The end read back is the server's (`statusExpiresAt`), not the one asked for: a server that
/// keeps whole seconds answers its own; one whose answer cannot be read as a time gets the one
/// sent.
#[tokio::test]
async fn the_end_read_back_is_the_servers_statusexpiresat() {
    for (answer, expected) in [
        ("2099-01-02T03:04:06.000Z", "2099-01-02T03:04:06Z"),
        ("next tuesday", "2099-01-02T03:04:05.678Z"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/livechat/users/agent/a1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(user("busy", "available")))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(SET_STATUS))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"success": true, "statusExpiresAt": answer})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(AGENT_STATUS))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"status": "available", "success": true})),
            )
            .mount(&server)
            .await;
        let client = Client::with_credentials(
            &server.uri(),
            Credentials::new("mgr", "s3cr3t".to_string().into()),
        )
        .unwrap();
        let until: DateTime<Utc> = "2099-01-02T03:04:05.678901Z".parse().unwrap();
        let after = RocketChatPresence::new(client)
            .set_with(
                "a1",
                &SetRequest::new(Availability::Available)
                    .state("busy")
                    .until(until),
            )
            .await
            .unwrap();
        assert_eq!(
            after.detail.until(),
            Some(expected.parse().unwrap()),
            "{answer}"
        );
    }
}

/// Against an 8.6 fake: the timed status is set (even when the agent already has it), the
/// livechat status follows the availability, and when the time passes the user status is the
/// one from before again; the livechat status stays.
#[tokio::test]
async fn a_timed_status_is_set_and_expires_back_to_the_previous_status() {
    let (fake, p) = fake().await;
    let until = now() + TimeDelta::minutes(10);
    let after = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available)
                .state("away")
                .until(until),
        )
        .await
        .unwrap();
    assert_eq!(
        (after.availability, after.detail.state()),
        (Availability::Available, "away")
    );
    assert_eq!(fake.status_expires_at("a1"), Some(millis(until)));
    // the read back says when it ends: the server's `statusExpiresAt`
    assert_eq!(after.detail.until(), Some(millis(until)));
    assert_eq!(fake.faults().count("POST", SET_STATUS), 1);

    // a second timed status over the first: still returns to `online`, the first's previous
    let until = now() + TimeDelta::minutes(20);
    let second = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available)
                .state("busy")
                .until(until),
        )
        .await
        .unwrap();
    assert_eq!(fake.status_expires_at("a1"), Some(millis(until)));
    assert_eq!(second.detail.until(), Some(millis(until)));

    fake.advance_clock(Duration::from_secs(19 * 60));
    assert_eq!(p.get("a1").await.unwrap().detail.state(), "busy");
    fake.advance_clock(Duration::from_secs(2 * 60));
    let back = p.get("a1").await.unwrap();
    assert_eq!(
        (back.availability, back.detail.state()),
        (Availability::Available, "online")
    );
    assert_eq!(fake.status_expires_at("a1"), None);

    // the same status again, timed: sent anyway (the expiry is new), then expires
    let until = now() + TimeDelta::minutes(40);
    let sets = fake.faults().count("POST", SET_STATUS);
    p.set_with(
        "a1",
        &SetRequest::new(Availability::Available)
            .state("online")
            .until(until),
    )
    .await
    .unwrap();
    assert_eq!(fake.faults().count("POST", SET_STATUS), sets + 1);
    assert_eq!(fake.status_expires_at("a1"), Some(millis(until)));

    // an untimed status ends the timer, and its read back has no end
    let untimed = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available).state("away"),
        )
        .await
        .unwrap();
    assert_eq!(fake.status_expires_at("a1"), None);
    assert_eq!(untimed.detail.until(), None);
    fake.advance_clock(Duration::from_secs(3600));
    assert_eq!(p.get("a1").await.unwrap().detail.state(), "away");
}

/// A server before 8.6 ignores `expiresAt`: the status read before is put back and `until` is
/// unsupported, naming the version; the livechat status is not touched.
#[tokio::test]
async fn a_server_before_8_6_gets_the_status_put_back_and_until_unsupported() {
    let (fake, p) = fake().await;
    fake.set_before_8_6(true);
    let e = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available)
                .state("busy")
                .for_duration(Duration::from_secs(600)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(
        matches!(
            e.failure(),
            Failure::UnsupportedOption {
                option: "until",
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("8.6") && text.contains("put back to `online`"),
        "{text}"
    );
    let a1 = fake.agent("a1").unwrap();
    assert_eq!(
        (a1.status.as_str(), a1.status_livechat.as_str()),
        ("online", "not-available")
    );
    // the timed set, then the restore; no livechat status
    assert_eq!(fake.faults().count("POST", SET_STATUS), 2);
    assert_eq!(fake.faults().count("POST", AGENT_STATUS), 0);
    assert_eq!(fake.status_expires_at("a1"), None);

    // already in the status asked for: nothing to put back, still unsupported
    let e = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available)
                .state("online")
                .for_duration(Duration::from_secs(600)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.failure(),
            Failure::UnsupportedOption {
                option: "until",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(fake.faults().count("POST", SET_STATUS), 3);
    assert_eq!(fake.agent("a1").unwrap().status, "online");
}

/// A past `until`, and `until` without a state, are refused before anything is sent.
#[tokio::test]
async fn a_past_until_and_until_without_a_state_are_refused_before_sending() {
    let (fake, p) = fake().await;
    let e = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available)
                .state("busy")
                .until(now() - TimeDelta::minutes(1)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("not in the future"), "{e}");

    let e = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available).for_duration(Duration::from_secs(600)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.failure(),
            Failure::UnsupportedOption {
                option: "until",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("livechat status"), "{e}");
    assert_eq!(fake.faults().requests(), Vec::<(String, String)>::new());
    assert_eq!(fake.state_changes(), 0);
    let a1 = fake.agent("a1").unwrap();
    assert_eq!(
        (a1.status.as_str(), a1.status_livechat.as_str()),
        ("online", "not-available")
    );
}

/// The fake's 8.6 route itself: a past or unreadable `expiresAt` is 400 `error-invalid-date`
/// and stores nothing; a future one is answered with `statusExpiresAt` and shown by
/// `users.presence`; before 8.6 the field is ignored.
#[tokio::test]
async fn the_fakes_route_checks_expires_at_like_8_6() {
    let (fake, _) = fake().await;
    let http = reqwest::Client::new();
    let post = |body: Value| {
        http.post(format!("{}{SET_STATUS}", fake.url()))
            .header("x-user-id", "mgr")
            .header("x-auth-token", "mgr-token")
            .json(&body)
            .send()
    };
    for bad in [
        json!("2020-01-01T00:00:00.000Z"),
        json!("tomorrow"),
        json!(12),
    ] {
        let answer = post(json!({"userId": "a1", "status": "busy", "expiresAt": bad}))
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{bad}");
        assert_eq!(
            answer.json::<Value>().await.unwrap(),
            json!({"success": false,
                   "error": "expiresAt must be a future date [error-invalid-date]",
                   "errorType": "error-invalid-date"}),
            "{bad}"
        );
        assert_eq!(fake.agent("a1").unwrap().status, "online");
    }
    let until = millis(now() + TimeDelta::hours(1));
    let at = until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let answer = post(json!({"userId": "a1", "status": "busy", "expiresAt": at}))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({"success": true, "statusExpiresAt": at})
    );
    let presence: Value = http
        .get(format!("{}/api/v1/users.presence?ids=a1", fake.url()))
        .header("x-user-id", "mgr")
        .header("x-auth-token", "mgr-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(presence["users"][0]["statusExpiresAt"], json!(at));

    fake.set_before_8_6(true);
    let answer =
        post(json!({"userId": "a1", "status": "away", "expiresAt": "2020-01-01T00:00:00Z"}))
            .await
            .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.json::<Value>().await.unwrap(),
        json!({"success": true})
    );
    assert_eq!(fake.agent("a1").unwrap().status, "away");
    assert_eq!(fake.status_expires_at("a1"), None);
}

/// A server before 8.6 (no `statusExpiresAt` in the answer) whose restore fails: the restore's
/// error is the answer (the status did not end, and the caller must know), the restore was the
/// status read before without an expiry, and the livechat status was never sent.
#[tokio::test]
async fn a_failed_restore_is_the_answer() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/livechat/users/agent/a1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("away", "available")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SET_STATUS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SET_STATUS))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"success": false, "error": "unauthorized"})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let client = Client::with_credentials(
        &server.uri(),
        Credentials::new("mgr", "s3cr3t".to_string().into()),
    )
    .unwrap();
    let e = RocketChatPresence::new(client)
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available)
                .state("busy")
                .for_duration(Duration::from_secs(600)),
        )
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Auth, Some(403)), "{e}");
    assert!(!e.to_string().contains("s3cr3t"), "{e}");
    let requests = server.received_requests().await.unwrap();
    let sets: Vec<Value> = requests
        .iter()
        .filter(|r| r.url.path() == SET_STATUS)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(sets.len(), 2, "{sets:?}");
    assert_eq!(sets[0]["status"], "busy");
    assert!(sets[0]["expiresAt"].is_string(), "{sets:?}");
    assert_eq!(sets[1], json!({"userId": "a1", "status": "away"}));
    assert!(requests.iter().all(|r| r.url.path() != AGENT_STATUS));
}
