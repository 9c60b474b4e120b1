//! The presence contract (`agentstatus_presence::testing`) against this vendor's fake.

use agentstatus_presence::testing::{Case, contract};

async fn case() -> Case {
    let fake = agentstatus_engage_digital::fake::EngageDigital::start()
        .await
        .unwrap();
    fake.add_supervisor_token("sup-token");
    // a custom "away" status: set by its name, read back by it
    fake.add_presence_status("5582b1f4776562af9b000008", "Lunch");
    fake.add_agent(agentstatus_engage_digital::fake::Agent::new(
        "e1",
        &[("c1", "Email"), ("c2", "Chat")],
        "away",
    ));
    fake.add_agent(agentstatus_engage_digital::fake::Agent::new(
        "e2",
        &[("c1", "Email")],
        "available",
    ));
    let url = fake.url();
    let client = |token: &str| {
        agentstatus_engage_digital::Client::with_token(&url, token.to_string().into()).unwrap()
    };
    Case::new(
        fake,
        Box::new(
            agentstatus_engage_digital::presence::EngageDigitalPresence::new(client("sup-token")),
        ),
        Box::new(
            agentstatus_engage_digital::presence::EngageDigitalPresence::new(client("wrong-token")),
        ),
        "e1",
        |f| f.state_changes(),
    )
    .with_state("Lunch", agentstatus_presence::Availability::Away)
}

#[tokio::test]
async fn meets_the_presence_contract() {
    contract(case().await).await;
}

/// `set` sends its `PUT` even when the read before it (which gives the channels) shows the
/// agent so already: that read may be a read replica's, behind (here every read is answered
/// with the fake's first answer), and a skip decided from it would leave the agent as it is.
/// An away with a custom status the read shows is sent as that custom status, kept.
#[tokio::test]
async fn a_stale_read_never_skips_sets_write() {
    use agentstatus_engage_digital::fake::{Agent, EngageDigital};
    use agentstatus_presence::{Availability, Presence};
    let fake = EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("sup-token");
    fake.add_presence_status("5582b1f4776562af9b000008", "Lunch");
    fake.add_agent(Agent::new(
        "e1",
        &[("c1", "Email"), ("c2", "Chat")],
        "available",
    ));
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age: std::time::Duration::from_secs(60),
    }));
    let client =
        agentstatus_engage_digital::Client::with_token(&fake.url(), "sup-token".to_string().into())
            .unwrap();
    let p = agentstatus_engage_digital::presence::EngageDigitalPresence::new(client);
    assert_eq!(
        p.get("e1").await.unwrap().availability,
        Availability::Available
    );
    // the agent goes away by hand; the replica still shows them available
    let mut e1 = fake.agent("e1").unwrap();
    for c in &mut e1.channels {
        c.status = "away".into();
    }
    fake.add_agent(e1);
    assert_eq!(
        p.get("e1").await.unwrap().availability,
        Availability::Available,
        "the replica's answer"
    );
    let after = p.set("e1", Availability::Available).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(fake.faults().count("PUT", "/status/e1"), 1, "sent");
    let e1 = fake.agent("e1").unwrap();
    assert!(
        e1.channels.iter().all(|c| c.status == "available"),
        "{e1:?}"
    );
    let changes = fake.state_changes();
    // already so, read fresh: sent all the same, and it changes nothing
    fake.faults().set_stale(None);
    p.set("e1", Availability::Available).await.unwrap();
    assert_eq!(fake.faults().count("PUT", "/status/e1"), 2);
    assert_eq!(fake.state_changes(), changes);
    // away with a custom status, read so: sent as that custom status, which stays
    p.set_with(
        "e1",
        &agentstatus_presence::SetRequest::new(Availability::Away).state("Lunch"),
    )
    .await
    .unwrap();
    let changes = fake.state_changes();
    let after = p.set("e1", Availability::Away).await.unwrap();
    assert_eq!(after.detail.state(), "Lunch");
    assert_eq!(fake.state_changes(), changes, "nothing changed");
}

/// `set_with` sends its custom status even when the read before it shows the agent in it
/// already: that read may be a read replica's, behind (here at least 10 ms), and a skip decided
/// from it left the agent as it is (before: no `PUT` sent, 1 required; the agent left available).
#[tokio::test]
async fn a_stale_read_never_skips_set_withs_custom_status() {
    use agentstatus_engage_digital::fake::{Agent, EngageDigital};
    use agentstatus_presence::{Availability, Presence, SetRequest};
    use std::time::Duration;
    let fake = EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("sup-token");
    fake.add_presence_status("5582b1f4776562af9b000008", "Lunch");
    fake.add_agent(Agent::new(
        "e1",
        &[("c1", "Email"), ("c2", "Chat")],
        "available",
    ));
    let client =
        agentstatus_engage_digital::Client::with_token(&fake.url(), "sup-token".to_string().into())
            .unwrap();
    let p = agentstatus_engage_digital::presence::EngageDigitalPresence::new(client);
    let lunch = SetRequest::new(Availability::Away).state("Lunch");
    p.set_with("e1", &lunch).await.unwrap();
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age: Duration::from_secs(60),
    }));
    // read (and kept) at lunch
    assert_eq!(p.get("e1").await.unwrap().detail.state(), "Lunch");
    fake.faults().set_stale_min_age(Duration::from_millis(10));
    tokio::time::sleep(Duration::from_millis(20)).await;
    // the agent comes back by hand; the replica still shows them at lunch
    let mut e1 = fake.agent("e1").unwrap();
    for c in &mut e1.channels {
        c.status = "available".into();
    }
    e1.custom_status = None;
    fake.add_agent(e1);
    assert_eq!(
        p.get("e1").await.unwrap().detail.state(),
        "Lunch",
        "the replica's answer"
    );
    let puts = fake.faults().count("PUT", "/status/e1");
    let after = p.set_with("e1", &lunch).await.unwrap();
    assert_eq!(after.detail.state(), "Lunch");
    assert_eq!(fake.faults().count("PUT", "/status/e1") - puts, 1, "sent");
    let e1 = fake.agent("e1").unwrap();
    assert!(e1.channels.iter().all(|c| c.status == "away"), "{e1:?}");
}

/// A failed `set` says whether its last request could have changed the agent
/// (`PresenceError::last_request_wrote`): the read before the write answered with malformed
/// JSON is a read (the `PUT` was never sent: nothing may land later), a `PUT` whose connection
/// dropped after the server handled it is a write (applied, unanswered). Sync keeps only the
/// second in doubt (a write that may land late).
#[tokio::test]
async fn a_failed_set_says_whether_its_last_request_was_a_write() {
    use agentstatus_engage_digital::fake::{Agent, EngageDigital};
    use agentstatus_fakes::Fault;
    use agentstatus_presence::{Availability, Presence};
    let fake = EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("sup-token");
    fake.add_agent(Agent::new("e1", &[("c1", "Email")], "available"));
    // one attempt a request: a retried PUT would be answered
    let config =
        agentstatus_runtime::ClientConfig::default().with_retry(agentstatus_runtime::RetryPolicy {
            max_attempts: 1,
            base_delay: std::time::Duration::from_millis(5),
            max_delay: std::time::Duration::from_millis(10),
            deadline: std::time::Duration::from_secs(5),
        });
    let client = agentstatus_engage_digital::Client::with_config(
        &fake.url(),
        "sup-token".to_string().into(),
        &config,
    )
    .unwrap();
    let p = agentstatus_engage_digital::presence::EngageDigitalPresence::new(client);
    // the read before the write: malformed
    fake.faults().push(Fault::MalformedJson);
    let e = p.set("e1", Availability::Away).await.unwrap_err();
    assert_eq!(e.last_request_wrote(), Some(false), "{e}");
    assert_eq!(fake.faults().count("PUT", "/status/e1"), 0, "never sent");
    // the read answered, the write handled and its answer lost
    fake.faults().push(Fault::Delay(std::time::Duration::ZERO));
    fake.faults().push(Fault::DropAfterHandling);
    let e = p.set("e1", Availability::Away).await.unwrap_err();
    assert_eq!(e.last_request_wrote(), Some(true), "{e}");
    assert_eq!(fake.faults().count("PUT", "/status/e1"), 1, "sent");
}
