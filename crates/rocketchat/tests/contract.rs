//! The presence contract (`agentstatus_presence::testing`) against this vendor's fake.

use agentstatus_presence::testing::{Case, contract};

async fn case() -> Case {
    let fake = agentstatus_rocketchat::fake::RocketChat::start()
        .await
        .unwrap();
    fake.add_user("mgr", "mgr-token", true);
    // an administrator's permission: it may set the agents' user status (the state's word)
    fake.grant_edit_other_user_info("mgr");
    // and an administrator bypasses the REST API rate limiter (the contract makes many calls)
    fake.bypass_rate_limit("mgr");
    fake.add_agent(agentstatus_rocketchat::fake::Agent::new(
        "a1",
        "Ada Lovelace",
        "not-available",
    ));
    fake.add_agent(agentstatus_rocketchat::fake::Agent::new(
        "a2",
        "Bob Babbage",
        "available",
    ));
    let url = fake.url();
    let client = |token: &str| {
        agentstatus_rocketchat::Client::with_credentials(
            &url,
            agentstatus_rocketchat::Credentials::new("mgr", token.to_string().into()),
        )
        .unwrap()
    };
    Case::new(
        fake,
        Box::new(agentstatus_rocketchat::presence::RocketChatPresence::new(
            client("mgr-token"),
        )),
        Box::new(agentstatus_rocketchat::presence::RocketChatPresence::new(
            client("wrong-token"),
        )),
        "a1",
        |f| f.state_changes(),
    )
    // the user status `offline` means offline (Rocket.Chat routes nothing to such an agent)
    .with_state("offline", agentstatus_presence::Availability::Offline)
}

#[tokio::test]
async fn meets_the_presence_contract() {
    contract(case().await).await;
}

/// Issue #30: a write the server answered (its status, the one asked for) is a write made, even
/// when the read back after it fails (the read route's limiter answers 429): before, `set`
/// failed, and a caller (sync) sent the write again later, over a change a person made since.
#[tokio::test]
async fn a_write_answered_is_made_even_when_its_read_back_fails() {
    use agentstatus_presence::Availability;
    use agentstatus_presence::registry::Settings;
    use agentstatus_rocketchat::fake::{Agent, RocketChat};
    use agentstatus_runtime::{ClientConfig, RetryPolicy};
    use std::time::Duration;
    let fake = RocketChat::start().await.unwrap();
    fake.add_user("mgr", "t", true);
    fake.bypass_rate_limit("mgr");
    fake.add_agent(Agent::new("a1", "Ada", "available"));
    let config = ClientConfig::default().with_retry(RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(10),
        deadline: Duration::from_secs(2),
    });
    let presence = (agentstatus_rocketchat::presence::entry().connect)(
        &Settings::new(fake.url(), config)
            .with_value("user_id", "mgr")
            .with_secret("token", "t".to_string().into()),
    )
    .unwrap();
    // the agent's own read refused, the write served
    fake.faults().refuse("GET", "/livechat/users/agent/a1", 429);
    let p = presence
        .set("a1", Availability::Offline)
        .await
        .expect("the write was answered: made");
    assert_eq!(
        (p.agent_id.as_str(), p.availability),
        ("a1", Availability::Offline)
    );
    assert_eq!(fake.agent("a1").unwrap().status_livechat, "not-available");
    fake.faults().stop_refusing();
    // a write that failed is still an error
    fake.faults().push(agentstatus_fakes::Fault::Status(500));
    presence
        .set("a1", Availability::Available)
        .await
        .expect_err("the write itself failed");
}

/// A toggle-only (older) server whose reads are a replica's (every `GET` answered with an
/// earlier answer at most `max_age` old), agents a1 not available and a2 available, and the
/// adapter (its read lag `read_lag`) after one read of each.
async fn toggling_behind(
    max_age: std::time::Duration,
    read_lag: std::time::Duration,
) -> (
    agentstatus_rocketchat::fake::RocketChat,
    agentstatus_rocketchat::presence::RocketChatPresence,
) {
    use agentstatus_presence::Presence;
    let fake = agentstatus_rocketchat::fake::RocketChat::start()
        .await
        .unwrap();
    fake.add_user("mgr", "mgr-token", true);
    fake.bypass_rate_limit("mgr");
    fake.set_legacy_toggle_only(true);
    let agent = agentstatus_rocketchat::fake::Agent::new;
    fake.add_agent(agent("a1", "Ada Lovelace", "not-available"));
    fake.add_agent(agent("a2", "Bob Babbage", "available"));
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age,
    }));
    let client = agentstatus_rocketchat::Client::with_credentials(
        &fake.url(),
        agentstatus_rocketchat::Credentials::new("mgr", "mgr-token".to_string().into()),
    )
    .unwrap();
    let p =
        agentstatus_rocketchat::presence::RocketChatPresence::new(client).with_read_lag(read_lag);
    p.get("a1").await.unwrap();
    p.get("a2").await.unwrap();
    p.list(&agentstatus_presence::ListFilter::all())
        .await
        .unwrap();
    (fake, p)
}

const TOGGLE: &str = "/api/v1/livechat/agent.status";

/// On a toggle-only server a read that is behind (a1 shown not available while someone made
/// it available) sends a toggle that goes the wrong way: its answer says so, and a second
/// toggle puts the agent back (before: `Conflict`, the agent left not available; toggles sent
/// 1, required 2).
#[tokio::test]
async fn a_stale_read_never_leaves_a_toggle_the_wrong_way() {
    use agentstatus_presence::{Availability, Presence};
    use std::time::Duration;
    let (fake, p) = toggling_behind(Duration::from_secs(60), Duration::from_millis(10)).await;
    fake.faults().set_stale_min_age(Duration::from_millis(10));
    tokio::time::sleep(Duration::from_millis(20)).await;
    fake.set_status_livechat("a1", "available");
    let sent = fake.faults().count("POST", TOGGLE);
    let after = p.set("a1", Availability::Available).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(fake.agent("a1").unwrap().status_livechat, "available");
    // the explicit status the server rejects, then two toggles
    assert_eq!(fake.faults().count("POST", TOGGLE) - sent, 3);
    // set_many's toggle, decided by its one read (the list read before a1 changed), is put
    // back the same way (before: `Conflict`, a1 left not available)
    let sent = fake.faults().count("POST", TOGGLE);
    let done = p
        .set_many(
            vec![("a1".to_string(), Availability::Available)],
            &agentstatus_presence::bulk::BulkOptions::default(),
        )
        .await;
    let applied = done[0].outcome.as_ref().unwrap();
    assert_eq!(applied.presence.availability, Availability::Available);
    assert_eq!(fake.agent("a1").unwrap().status_livechat, "available");
    assert_eq!(fake.faults().count("POST", TOGGLE) - sent, 2);
}

/// On a toggle-only server a read that shows the agent as asked (a2 available, which someone
/// just made not available) is confirmed by a read the read lag later before no toggle is
/// sent (before: no toggle, the agent left not available; sent 0, required 1).
#[tokio::test]
async fn a_stale_read_never_skips_sets_toggle() {
    use agentstatus_presence::{Availability, Presence};
    use std::time::Duration;
    // the replica at most 200 ms behind, the adapter told 400 ms
    let (fake, p) = toggling_behind(Duration::from_millis(200), Duration::from_millis(400)).await;
    fake.set_status_livechat("a2", "not-available");
    let sent = fake.faults().count("POST", TOGGLE);
    let after = p.set("a2", Availability::Available).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(fake.agent("a2").unwrap().status_livechat, "available");
    // the explicit status the server rejects, then one toggle
    assert_eq!(fake.faults().count("POST", TOGGLE) - sent, 2);
}
