//! The presence contract (`agentstatus_presence::testing`) against this vendor's fake.

use agentstatus_presence::testing::{Case, contract};

async fn case() -> Case {
    let fake = agentstatus_libredesk::fake::Libredesk::start()
        .await
        .unwrap();
    fake.add_agent(agentstatus_libredesk::fake::Agent::new(
        1,
        "Ada Lovelace",
        "offline",
        "ada-key",
        "ada-secret",
    ));
    fake.add_agent(agentstatus_libredesk::fake::Agent::new(
        2,
        "Bob Babbage",
        "online",
        "bob-key",
        "bob-secret",
    ));
    let url = fake.url();
    let client = |secret: &str| {
        agentstatus_libredesk::Client::with_credentials(
            &url,
            agentstatus_libredesk::Credentials::basic("ada-key", secret.to_string().into()),
        )
        .unwrap()
    };
    Case::new(
        fake,
        Box::new(agentstatus_libredesk::presence::LibredeskPresence::new(
            client("ada-secret"),
        )),
        Box::new(agentstatus_libredesk::presence::LibredeskPresence::new(
            client("wrong-secret"),
        )),
        "1",
        |f| f.state_changes(),
    )
    // a status of the server's enum beyond the one the mapping sends for Away
    .with_state(
        "away_and_reassigning",
        agentstatus_presence::Availability::Away,
    )
}

#[tokio::test]
async fn meets_the_presence_contract() {
    contract(case().await).await;
}

/// `set` and `set_with` send their `PUT` even when the read of the own agent before it shows it
/// so already: that read may be a read replica's, behind (here every read is answered with an
/// earlier answer at least 10 ms old), and a skip decided from it would leave the agent as it
/// is. Before: no `PUT` sent, the agent left away (and offline).
#[tokio::test]
async fn a_stale_read_never_skips_sets_write() {
    use agentstatus_libredesk::fake::{Agent, Libredesk};
    use agentstatus_presence::{Availability, Presence, SetRequest};
    use std::time::Duration;
    let fake = Libredesk::start().await.unwrap();
    fake.add_agent(Agent::new(
        1,
        "Ada Lovelace",
        "online",
        "ada-key",
        "ada-secret",
    ));
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age: Duration::from_secs(60),
    }));
    let client = agentstatus_libredesk::Client::with_credentials(
        &fake.url(),
        agentstatus_libredesk::Credentials::basic("ada-key", "ada-secret".to_string().into()),
    )
    .unwrap();
    let p = agentstatus_libredesk::presence::LibredeskPresence::new(client);
    assert_eq!(
        p.get("me").await.unwrap().availability,
        Availability::Available
    );
    fake.faults().set_stale_min_age(Duration::from_millis(10));
    tokio::time::sleep(Duration::from_millis(20)).await;
    // Ada goes away by hand; the replica still shows her online
    let set_by_hand = |status: &str| {
        let mut ada = fake.agent(1).unwrap();
        ada.availability_status = status.into();
        fake.add_agent(ada);
    };
    set_by_hand("away_manual");
    assert_eq!(
        p.get("me").await.unwrap().availability,
        Availability::Available,
        "the replica's answer"
    );
    let put = "/api/v1/agents/me/availability";
    let after = p.set("me", Availability::Available).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(fake.faults().count("PUT", put), 1, "sent");
    assert_eq!(fake.agent(1).unwrap().availability_status, "online");
    // set_with's state, the same
    set_by_hand("offline");
    let request = SetRequest::new(Availability::Available).state("online");
    let after = p.set_with("me", &request).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(fake.faults().count("PUT", put), 2, "sent");
    assert_eq!(fake.agent(1).unwrap().availability_status, "online");
}
