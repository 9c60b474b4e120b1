//! Vendor-specific behaviour of the adapters, against the fakes.

use std::time::Duration;

use agentstatus::engage_digital::presence::EngageDigitalPresence;
use agentstatus::libredesk::presence::LibredeskPresence;
use agentstatus::rocketchat::presence::RocketChatPresence;
use agentstatus::{Availability, BulkOptions, ErrorKind, Failure, ListFilter, Presence};
use agentstatus::{engage_digital::fake as ed, libredesk::fake as ld, rocketchat::fake as rc};

const STATUS: &str = "/api/v1/livechat/agent.status";

async fn rocketchat(legacy: bool) -> (rc::RocketChat, RocketChatPresence) {
    let fake = rc::RocketChat::start().await.unwrap();
    fake.add_user("mgr", "mgr-token", true);
    // the manager's calls are not what these tests are about: it bypasses the server's limiter
    fake.bypass_rate_limit("mgr");
    fake.add_user("a1", "a1-token", false);
    fake.add_agent(rc::Agent::new("a1", "Ada Lovelace", "not-available"));
    fake.set_legacy_toggle_only(legacy);
    let client = agentstatus::rocketchat::Client::with_credentials(
        &fake.url(),
        agentstatus::rocketchat::Credentials::new("mgr", "mgr-token".to_string().into()),
    )
    .unwrap();
    (fake, RocketChatPresence::new(client))
}

#[tokio::test]
async fn rocketchat_sends_the_explicit_status_once_per_change() {
    let (fake, p) = rocketchat(false).await;
    p.set("a1", Availability::Available).await.unwrap();
    p.set("a1", Availability::Available).await.unwrap();
    assert_eq!(
        fake.faults().count("POST", STATUS),
        2,
        "explicit status: the server decides"
    );
    assert_eq!(fake.state_changes(), 1);
}

#[tokio::test]
async fn rocketchat_toggle_fallback_never_double_fires() {
    let (fake, p) = rocketchat(true).await;
    // first call: the explicit status is rejected (older server), then one toggle
    let after = p.set("a1", Availability::Available).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(fake.faults().count("POST", STATUS), 2);
    assert_eq!(fake.state_changes(), 1);
    // already available: read, compare, no toggle at all
    p.set("a1", Availability::Available).await.unwrap();
    assert_eq!(fake.faults().count("POST", STATUS), 2);
    // a change: exactly one toggle, the server is known to be old now
    let after = p.set("a1", Availability::Offline).await.unwrap();
    assert_eq!(after.availability, Availability::Offline);
    assert_eq!(fake.faults().count("POST", STATUS), 3);
    assert_eq!(fake.state_changes(), 2);
    assert_eq!(fake.agent("a1").unwrap().status_livechat, "not-available");
}

#[tokio::test]
async fn rocketchat_toggle_that_went_the_wrong_way_is_put_back_once() {
    let (fake, p) = rocketchat(true).await;
    // someone else makes the agent available between our read and our toggle: the toggle's
    // answer (the server's state after it) says it undid their change, which is the state
    // asked for; one more toggle, decided by that answer, puts it back (before: `Conflict`,
    // the agent left not available)
    fake.interfere_once();
    let after = p.set("a1", Availability::Available).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(fake.agent("a1").unwrap().status_livechat, "available");
    // one rejected explicit POST, two toggles; never a third
    assert_eq!(fake.faults().count("POST", STATUS), 3);
}

#[tokio::test]
async fn rocketchat_business_hours_error_keeps_the_vendor_code() {
    let (fake, _) = rocketchat(false).await;
    fake.set_business_hours_open(false);
    let own = agentstatus::rocketchat::Client::with_credentials(
        &fake.url(),
        agentstatus::rocketchat::Credentials::new("a1", "a1-token".to_string().into()),
    )
    .unwrap();
    // the agent itself may not read other agents (view-livechat-manager), but may set itself
    let p = RocketChatPresence::new(own);
    let e = p.set("a1", Availability::Available).await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.code(), Some("error-business-hours-are-closed"));
    assert!(
        e.to_string().contains("error-business-hours-are-closed"),
        "{e}"
    );
    assert_eq!(fake.state_changes(), 0);
}

#[tokio::test]
async fn rocketchat_manager_outside_business_hours_is_a_conflict_not_a_silent_success() {
    let (fake, p) = rocketchat(false).await;
    fake.set_business_hours_open(false);
    let e = p.set("a1", Availability::Available).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
}

#[tokio::test]
async fn libredesk_sets_only_its_own_agent_and_maps_away_to_away_manual() {
    let fake = ld::Libredesk::start().await.unwrap();
    fake.add_agent(ld::Agent::new(1, "Ada Lovelace", "online", "k1", "s1"));
    fake.add_agent(ld::Agent::new(2, "Bob Babbage", "online", "k2", "s2"));
    let client = agentstatus::libredesk::Client::with_credentials(
        &fake.url(),
        agentstatus::libredesk::Credentials::token("k1", "s1".to_string().into()),
    )
    .unwrap();
    let p = LibredeskPresence::new(client);
    let e = p.set("2", Availability::Away).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(matches!(e.failure(), Failure::OwnAgentOnly));
    let me = p.set("me", Availability::Away).await.unwrap();
    assert_eq!(me.agent_id, "1");
    assert_eq!(me.detail.vendor_status, "away_manual");
    assert_eq!(fake.agent(1).unwrap().availability_status, "away_manual");
    assert_eq!(
        p.get("2").await.unwrap().name.as_deref(),
        Some("Bob Babbage")
    );
}

async fn engage() -> (ed::EngageDigital, EngageDigitalPresence) {
    let fake = ed::EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("sup");
    fake.add_agent(ed::Agent::new(
        "e1",
        &[("c1", "Email"), ("c2", "Chat"), ("c3", "SMS")],
        "away",
    ));
    let client =
        agentstatus::engage_digital::Client::with_token(&fake.url(), "sup".to_string().into())
            .unwrap();
    (fake, EngageDigitalPresence::new(client))
}

#[tokio::test]
async fn engage_digital_sends_every_channel_and_reads_busyness() {
    let (fake, p) = engage().await;
    let after = p.set("e1", Availability::Available).await.unwrap();
    assert_eq!(after.detail.channels.len(), 3);
    assert!(
        fake.agent("e1")
            .unwrap()
            .channels
            .iter()
            .all(|c| c.status == "available")
    );
    let mut busy = fake.agent("e1").unwrap();
    for c in &mut busy.channels {
        c.busyness = "full".into();
    }
    fake.add_agent(busy);
    assert_eq!(p.get("e1").await.unwrap().availability, Availability::Busy);
}

#[tokio::test]
async fn engage_digital_disconnected_is_offline_and_cannot_be_set() {
    let (fake, p) = engage().await;
    let mut gone = ed::Agent::new("e9", &[("c1", "Email")], "away");
    gone.connected = false;
    fake.add_agent(gone);
    let got = p.get("e9").await.unwrap();
    assert_eq!(got.availability, Availability::Offline);
    assert_eq!(got.detail.vendor_status, "disconnected");
    let e = p.set("e9", Availability::Available).await.unwrap_err();
    assert_eq!(e.code(), Some("disconnected"));
    let e = p.get("nobody").await.unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::NotFound, Some("not_found"))
    );
}

/// Every error names its operation, and no adapter writes one: a failed call names the generated
/// client method (progenitor's operation id, recorded by the client's hooks), an error found in
/// an answer the call that read it, a bulk agent missing from the list the list's call, and a
/// refusal before anything was sent, or a deadline, the presence operation.
#[tokio::test]
async fn errors_name_their_operation() {
    let (fake, p) = engage().await;
    let e = p.get("nobody").await.unwrap_err();
    assert_eq!(e.operation(), Some("get_agent_status"), "{e}");
    assert_eq!(e.agent(), Some("nobody"));
    assert!(
        e.to_string()
            .starts_with("engage-digital: get_agent_status: no agent \"nobody\" HTTP 404"),
        "{e}"
    );
    let mut gone = ed::Agent::new("e9", &[("c1", "Email")], "away");
    gone.connected = false;
    fake.add_agent(gone);
    let e = p.set("e9", Availability::Available).await.unwrap_err();
    assert_eq!(
        (e.operation(), e.code()),
        (Some("get_agent_status"), Some("disconnected"))
    );
    let e = p.get("..").await.unwrap_err();
    assert_eq!(
        (e.kind(), e.operation()),
        (ErrorKind::InvalidInput, Some("get")),
        "{e}"
    );
    let updates = vec![("zz".to_string(), Availability::Available)];
    let done = p.set_many(updates, &BulkOptions::default()).await;
    let e = done[0].outcome.as_ref().unwrap_err();
    assert_eq!(
        (e.kind(), e.operation()),
        (ErrorKind::NotFound, Some("get_all_agent_status"))
    );
    fake.faults().set_delay(Duration::from_millis(300));
    let e = p
        .with_deadline(Duration::from_millis(50))
        .list(&ListFilter::all())
        .await
        .unwrap_err();
    assert!(matches!(e.failure(), Failure::Deadline { .. }), "{e}");
    assert_eq!(e.operation(), Some("list"));

    let fake = ld::Libredesk::start().await.unwrap();
    fake.add_agent(ld::Agent::new(1, "Ada Lovelace", "online", "k1", "s1"));
    let client = agentstatus::libredesk::Client::with_credentials(
        &fake.url(),
        agentstatus::libredesk::Credentials::token("k1", "s1".to_string().into()),
    )
    .unwrap();
    let e = LibredeskPresence::new(client).get("99").await.unwrap_err();
    assert_eq!(
        (e.kind(), e.operation()),
        (ErrorKind::NotFound, Some("list_agents")),
        "{e}"
    );
    assert_eq!(e.to_string(), "libredesk: list_agents: no agent \"99\"");
}

#[tokio::test]
async fn engage_digital_rate_limit_is_its_own_kind() {
    let (fake, p) = engage().await;
    fake.set_rate_limit(1, Duration::from_secs(60));
    p.get("e1").await.unwrap();
    let e = p.get("e1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    assert_eq!(e.code(), Some("rate_limit_exceeded"));
}

#[tokio::test]
async fn engage_digital_verifies_the_answer_of_a_set() {
    use agentstatus_fakes::hostile::{Hostile, Reply};
    // a server that answers the PUT with the agent still away (refused, or changed back)
    let server = Hostile::start("127.0.0.1", |_| {
        Reply::json(
            200,
            r#"{"agent_id":"e1","channels":[{"id":"c1","status":"away"}]}"#,
        )
    })
    .await
    .unwrap();
    let client =
        agentstatus::engage_digital::Client::with_token(&server.url(), "t".to_string().into())
            .unwrap();
    let p = EngageDigitalPresence::new(client);
    let e = p.set("e1", Availability::Available).await.unwrap_err();
    assert!(
        matches!(
            e.failure(),
            Failure::Conflict {
                wanted: Availability::Available,
                found: Availability::Away,
                vendor_status,
                ..
            } if vendor_status == "away"
        ),
        "{e}"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "a read, then one PUT");
    assert_eq!(seen[1].method(), "PUT");
}

#[tokio::test]
async fn rocketchat_conflict_keeps_the_vendors_word() {
    use agentstatus_fakes::hostile::{Hostile, Reply};
    let server = Hostile::start("127.0.0.1", |req| match req.method() {
        "POST" => Reply::json(200, r#"{"status":"on-break","success":true}"#),
        _ => Reply::json(
            200,
            r#"{"user":{"_id":"a1","statusLivechat":"on-break"},"success":true}"#,
        ),
    })
    .await
    .unwrap();
    let client = agentstatus::rocketchat::Client::with_credentials(
        &server.url(),
        agentstatus::rocketchat::Credentials::new("mgr", "t".to_string().into()),
    )
    .unwrap();
    let e = RocketChatPresence::new(client)
        .set("a1", Availability::Offline)
        .await
        .unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains("\"on-break\""), "{shown}");
    assert!(
        !shown.contains("is offline after setting offline"),
        "{shown}"
    );
}
