//! The user (chat) status as the state's word: read from every agent read, set through
//! `users.setStatus` by `set_with`, against the fake (which runs the server's route, see
//! specs/rocketchat/NOTES.md#user-status) and, for the raw requests, a local HTTP server.

use agentstatus_presence::{Availability, ErrorKind, ListFilter, Presence, SetRequest};
use agentstatus_rocketchat::fake::{Agent, RocketChat};
use agentstatus_rocketchat::presence::RocketChatPresence;
use agentstatus_rocketchat::{Client, Credentials};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SET_STATUS: &str = "/api/v1/users.setStatus";

/// A fake with a manager `mgr` (allowed to set other users' status when `admin`) and two
/// agents, `a1` not available and `a2` available, both `online`.
async fn fake(admin: bool) -> (RocketChat, RocketChatPresence) {
    let fake = RocketChat::start().await.unwrap();
    fake.add_user("mgr", "mgr-token", true);
    if admin {
        fake.grant_edit_other_user_info("mgr");
    }
    fake.add_agent(Agent::new("a1", "Ada Lovelace", "not-available"));
    fake.add_agent(Agent::new("a2", "Bob Babbage", "available"));
    let client = Client::with_credentials(
        &fake.url(),
        Credentials::new("mgr", "mgr-token".to_string().into()),
    )
    .unwrap();
    (fake, RocketChatPresence::new(client))
}

#[tokio::test]
async fn every_read_carries_the_user_status_as_the_state_word() {
    let (fake, p) = fake(true).await;
    fake.set_presence("a1", "away");
    let a1 = p.get("a1").await.unwrap();
    assert_eq!(a1.availability, Availability::Offline);
    assert_eq!(a1.detail.vendor_status, "not-available");
    assert_eq!(a1.detail.state(), "away");
    let all = p.list(&ListFilter::all()).await.unwrap();
    let states: Vec<(&str, &str)> = all
        .iter()
        .map(|a| (a.agent_id.as_str(), a.detail.state()))
        .collect();
    assert_eq!(states, [("a1", "away"), ("a2", "online")]);
    // the availability is the livechat status's alone: a busy user status is still available
    fake.set_presence("a2", "busy");
    let a2 = p.get("a2").await.unwrap();
    assert_eq!(
        (a2.availability, a2.detail.state()),
        (Availability::Available, "busy")
    );
}

#[tokio::test]
async fn set_with_a_state_sets_the_user_status_and_the_livechat_status() {
    let (fake, p) = fake(true).await;
    let after = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available).state("busy"),
        )
        .await
        .unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(after.detail.state(), "busy");
    let stored = fake.agent("a1").unwrap();
    assert_eq!(
        (stored.status_livechat.as_str(), stored.status.as_str()),
        ("available", "busy")
    );
    assert_eq!(
        fake.state_changes(),
        2,
        "the user status and the livechat status"
    );
    assert_eq!(fake.faults().count("POST", SET_STATUS), 1);

    // the same again sends the user status all the same (the read before it may be a
    // replica's, behind) and changes nothing
    let again = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available).state("BUSY"),
        )
        .await
        .unwrap();
    assert_eq!(again.detail.state(), "busy");
    assert_eq!(fake.state_changes(), 2);
    assert_eq!(fake.faults().count("POST", SET_STATUS), 2);

    // only the user status differs: only it is sent
    let away = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available).state("away"),
        )
        .await
        .unwrap();
    assert_eq!(
        (away.availability, away.detail.state()),
        (Availability::Available, "away")
    );
    assert_eq!(fake.state_changes(), 3);

    // `set` leaves the user status alone
    let off = p.set("a1", Availability::Offline).await.unwrap();
    assert_eq!(
        (off.availability, off.detail.state()),
        (Availability::Offline, "away")
    );
    assert_eq!(fake.agent("a1").unwrap().status, "away");

    // offline with offline is allowed
    let gone = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Offline).state("offline"),
        )
        .await
        .unwrap();
    assert_eq!(
        (gone.availability, gone.detail.state()),
        (Availability::Offline, "offline")
    );
}

#[tokio::test]
async fn what_the_adapter_refuses_is_refused_before_anything_is_sent() {
    let (fake, p) = fake(true).await;
    // Rocket.Chat routes nothing to an agent whose user status is offline
    let e = p
        .set_with(
            "a2",
            &SetRequest::new(Availability::Available).state("offline"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("not available"), "{e}");
    // a word that is no user status: the known ones named
    let e = p
        .set_with("a2", &SetRequest::new(Availability::Available).state("dnd"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    let text = e.to_string();
    assert!(
        text.contains("`state`") && text.contains("\"dnd\"") && text.contains("`busy`"),
        "{text}"
    );
    // no expiry without a state: the livechat status has none (tests/timed_status.rs has the
    // user status's)
    let e = p
        .set_with(
            "a2",
            &SetRequest::new(Availability::Available)
                .for_duration(std::time::Duration::from_secs(600)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains("`until`"), "{e}");
    // busy and away availabilities stay unsupported, with or without a state
    let e = p
        .set_with("a2", &SetRequest::new(Availability::Busy).state("busy"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert_eq!(fake.faults().count("POST", SET_STATUS), 0);
    assert_eq!(fake.state_changes(), 0);
    assert_eq!(fake.agent("a2").unwrap().status, "online");
}

#[tokio::test]
async fn another_agents_user_status_needs_edit_other_user_info_and_changes_nothing_without() {
    let (fake, p) = fake(false).await;
    let e = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available).state("busy"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert_eq!(e.status(), Some(403), "{e}");
    // the user status goes first: its refusal leaves the livechat status as it was
    let a1 = fake.agent("a1").unwrap();
    assert_eq!(
        (a1.status_livechat.as_str(), a1.status.as_str()),
        ("not-available", "online")
    );
    assert_eq!(fake.state_changes(), 0);
}

#[tokio::test]
async fn the_servers_refusals_are_reported_with_their_code() {
    let (fake, p) = fake(true).await;
    fake.set_invisible_allowed(false);
    let e = p
        .set_with(
            "a1",
            &SetRequest::new(Availability::Offline).state("offline"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(400), Some("error-status-not-allowed")),
        "{e}"
    );
    fake.set_status_change_allowed(false);
    let e = p
        .set_with("a1", &SetRequest::new(Availability::Offline).state("busy"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.code()),
        (Some(400), Some("error-not-allowed")),
        "{e}"
    );
    assert_eq!(fake.state_changes(), 0);
}

fn user(status: &str, status_livechat: &str) -> Value {
    json!({"user": {"_id": "a1", "username": "ada", "name": "Ada", "status": status,
                    "statusLivechat": status_livechat}, "success": true})
}

/// The raw requests of `set_with`: a read, the user status, the livechat status, a read back.
#[tokio::test]
async fn set_with_sends_the_user_status_then_the_livechat_status() {
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
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/livechat/agent.status"))
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
    let after = RocketChatPresence::new(client)
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available).state("busy"),
        )
        .await
        .unwrap();
    assert_eq!(
        (after.availability, after.detail.state()),
        (Availability::Available, "busy")
    );

    let requests = server.received_requests().await.unwrap();
    let seen: Vec<(String, String, Value)> = requests
        .iter()
        .map(|r| {
            let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            (r.method.to_string(), r.url.path().to_string(), body)
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "GET".into(),
                "/api/v1/livechat/users/agent/a1".into(),
                Value::Null
            ),
            (
                "POST".into(),
                SET_STATUS.into(),
                json!({"userId": "a1", "status": "busy"})
            ),
            (
                "POST".into(),
                "/api/v1/livechat/agent.status".into(),
                json!({"agentId": "a1", "status": "available"})
            ),
            (
                "GET".into(),
                "/api/v1/livechat/users/agent/a1".into(),
                Value::Null
            ),
        ]
    );
    let set = &requests[1];
    assert_eq!(set.headers.get("x-user-id").unwrap(), "mgr");
    assert_eq!(set.headers.get("x-auth-token").unwrap(), "s3cr3t");
    assert_eq!(set.headers.get("content-type").unwrap(), "application/json");
}

/// A server whose read back shows another user status than the one set (someone changed it,
/// or the server's presence engine did): a conflict naming what was found.
#[tokio::test]
async fn a_user_status_read_back_different_is_a_conflict() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/livechat/users/agent/a1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user("online", "available")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SET_STATUS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/livechat/agent.status"))
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
    let e = RocketChatPresence::new(client)
        .set_with(
            "a1",
            &SetRequest::new(Availability::Available).state("away"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.to_string().contains("user status \\\"online\\\""), "{e}");
}

/// A write the server acknowledged is a write made, even when the read back after it fails:
/// reported failed, it would be sent again, over whatever the agent was set to meanwhile.
#[tokio::test]
async fn a_write_acknowledged_stands_when_its_read_back_fails() {
    let fake = RocketChat::start().await.unwrap();
    fake.add_user("mgr", "mgr-token", true);
    fake.bypass_rate_limit("mgr");
    fake.add_agent(Agent::new("a1", "Ada Lovelace", "available"));
    let client = Client::with_credentials(
        &fake.url(),
        Credentials::new("mgr", "mgr-token".to_string().into()),
    )
    .unwrap();
    let adapter = RocketChatPresence::new(client);
    fake.faults()
        .refuse("GET", "/api/v1/livechat/users/agent/a1", 503);
    let after = adapter.set("a1", Availability::Offline).await.unwrap();
    assert_eq!(after.availability, Availability::Offline);
    assert_eq!(after.agent_id, "a1");
    assert_eq!(fake.agent("a1").unwrap().status_livechat, "not-available");
    assert_eq!(
        fake.faults().count("POST", "/api/v1/livechat/agent.status"),
        1,
        "written once"
    );
}

/// `set_with` sends the user status even when the read before it shows the agent with it
/// already, and a read-back behind it is read again before it is a `Conflict`: the reads are a
/// replica's, at most 200 ms behind (the adapter told 300 ms). Before: no `users.setStatus`
/// sent (1 required), the agent left `online`, and the answer a `Conflict`.
#[tokio::test]
async fn a_stale_read_never_skips_set_withs_user_status() {
    use std::time::Duration;
    let (fake, p) = fake(true).await;
    let p = p.with_read_lag(Duration::from_millis(300));
    let busy = SetRequest::new(Availability::Available).state("busy");
    p.set_with("a1", &busy).await.unwrap();
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age: Duration::from_millis(200),
    }));
    assert_eq!(p.get("a1").await.unwrap().detail.state(), "busy");
    // the agent goes online by hand; the replica still shows busy
    fake.set_presence("a1", "online");
    assert_eq!(
        p.get("a1").await.unwrap().detail.state(),
        "busy",
        "the replica's answer"
    );
    let sent = fake.faults().count("POST", SET_STATUS);
    let after = p.set_with("a1", &busy).await.unwrap();
    assert_eq!(after.detail.state(), "busy");
    assert_eq!(fake.faults().count("POST", SET_STATUS) - sent, 1, "sent");
    assert_eq!(fake.agent("a1").unwrap().status, "busy");
}
