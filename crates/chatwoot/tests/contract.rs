//! The presence contract (`agentstatus_presence::testing`) against Chatwoot's fake.

use agentstatus_chatwoot::fake::{Agent, Chatwoot};
use agentstatus_chatwoot::presence::ChatwootPresence;
use agentstatus_chatwoot::{Client, ClientConfig};
use agentstatus_presence::testing::{Case, contract};

async fn case() -> Case {
    let fake = Chatwoot::start(1).await.unwrap();
    fake.add_agent(Agent::new(1, "Ada Lovelace", "admin-token", "offline").administrator());
    fake.add_agent(Agent::new(2, "Bob Babbage", "bob-token", "online"));
    let url = fake.url();
    let adapter = |token: &str| {
        let client =
            Client::with_user_api_key(&url, token.to_string().into(), &ClientConfig::default())
                .unwrap();
        ChatwootPresence::new(client, 1)
    };
    Case::new(
        fake,
        Box::new(adapter("admin-token")),
        Box::new(adapter("wrong-token")),
        "1",
        |f| f.state_changes(),
    )
}

#[tokio::test]
async fn meets_the_presence_contract() {
    contract(case().await).await;
}

/// `set` sends its `PATCH` even when the agent list read before it shows the agent so already:
/// that read may be a read replica's, behind (here every read is answered with the fake's first
/// answer), and a skip decided from it would leave the agent as it is. `set_many` skips the
/// agents its one read shows right.
#[tokio::test]
async fn a_stale_read_never_skips_sets_write() {
    use agentstatus_presence::{Availability, Presence};
    let fake = Chatwoot::start(1).await.unwrap();
    fake.add_agent(Agent::new(1, "Ada Lovelace", "admin-token", "offline").administrator());
    fake.add_agent(Agent::new(2, "Bob Babbage", "bob-token", "online"));
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age: std::time::Duration::from_secs(60),
    }));
    let client = Client::with_user_api_key(
        &fake.url(),
        "admin-token".to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap();
    let p = ChatwootPresence::new(client, 1);
    assert_eq!(
        p.get("2").await.unwrap().availability,
        Availability::Available
    );
    // Bob goes busy by hand; the replica still shows him online
    let mut bob = fake.agent(2).unwrap();
    bob.availability = "busy".into();
    fake.add_agent(bob);
    assert_eq!(
        p.get("2").await.unwrap().availability,
        Availability::Available,
        "the replica's answer"
    );
    let patch = "/api/v1/accounts/1/agents/2";
    let after = p.set("2", Availability::Available).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(fake.faults().count("PATCH", patch), 1, "sent");
    assert_eq!(fake.agent(2).unwrap().availability_status(), "online");
    // the bulk path skips what its read shows right (the caller sends a doubtful one alone)
    let mut bob = fake.agent(2).unwrap();
    bob.availability = "busy".into();
    fake.add_agent(bob);
    let done = p
        .set_many(
            vec![("2".to_string(), Availability::Available)],
            &agentstatus_presence::bulk::BulkOptions::default(),
        )
        .await;
    assert_eq!(done[0].outcome.as_ref().unwrap().changed, Some(false));
    assert_eq!(fake.faults().count("PATCH", patch), 1, "not sent");
}
