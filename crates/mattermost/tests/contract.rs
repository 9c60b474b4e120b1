//! The presence contract (`agentstatus_presence::testing`) against Mattermost's fake.
#![cfg(all(feature = "presence", feature = "fake"))]

use agentstatus_mattermost::fake::{Mattermost, seeded, user_id};
use agentstatus_mattermost::presence::MattermostPresence;
use agentstatus_mattermost::{Client, ClientConfig};
use agentstatus_presence::Availability;
use agentstatus_presence::testing::{Case, contract};

#[tokio::test]
async fn meets_the_presence_contract() {
    let fake = seeded(
        &[
            ("Ada Lovelace", Availability::Offline),
            ("Grace Hopper", Availability::Available),
        ],
        "admin-token",
    )
    .await
    .unwrap();
    let url = fake.url();
    let adapter = |token: &str| {
        let client =
            Client::with_bearer_auth(&url, token.to_string().into(), &ClientConfig::default())
                .unwrap();
        Box::new(MattermostPresence::new(client))
    };
    let (good, bad) = (adapter("admin-token"), adapter("wrong-token"));
    let case = Case::new(fake, good, bad, user_id(2), |f| f.state_changes())
        .with_unknown("zzzzzzzzzzzzzzzzzzzzzzzzzz")
        // the fake ends a timed "do not disturb" when its clock passes the end, as the server's
        // minute job does
        .with_clock(|f: &Mattermost, by| f.advance(by.as_secs() as i64))
        .with_state("dnd", Availability::Busy);
    contract(case).await;
}

/// `set` and `set_with` send their `PUT` even when the status read before it shows the agent so
/// already: that read may be a read replica's, behind (here every read is answered with an
/// earlier answer at least 10 ms old), and a skip decided from it would leave the agent as it
/// is. Before: no `PUT` sent, the agent left in "do not disturb". `set_many` skips the agents its
/// read shows right (a caller that knows a read may be behind sends that one through `set`).
#[tokio::test]
async fn a_stale_read_never_skips_sets_write() {
    use agentstatus_presence::{Presence, SetRequest};
    use std::time::Duration;
    let fake = seeded(
        &[
            ("Ada Lovelace", Availability::Offline),
            ("Grace Hopper", Availability::Away),
        ],
        "admin-token",
    )
    .await
    .unwrap();
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age: Duration::from_secs(60),
    }));
    let client = Client::with_bearer_auth(
        &fake.url(),
        "admin-token".to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap();
    let p = MattermostPresence::new(client);
    let grace = user_id(2);
    assert_eq!(
        p.get(&grace).await.unwrap().availability,
        Availability::Away
    );
    fake.faults().set_stale_min_age(Duration::from_millis(10));
    tokio::time::sleep(Duration::from_millis(20)).await;
    // Grace goes "do not disturb" by hand; the replica still shows her away
    let set_by_hand = |status: &str| {
        let mut u = fake.user(&grace).unwrap();
        u.status = status.into();
        u.manual = true;
        fake.add_user(u);
    };
    set_by_hand("dnd");
    assert_eq!(
        p.get(&grace).await.unwrap().availability,
        Availability::Away,
        "the replica's answer"
    );
    let put = format!("/api/v4/users/{grace}/status");
    let after = p.set(&grace, Availability::Away).await.unwrap();
    assert_eq!(after.availability, Availability::Away);
    assert_eq!(fake.faults().count("PUT", &put), 1, "sent");
    assert_eq!(fake.user(&grace).unwrap().status, "away");
    // set_with's state, the same
    set_by_hand("dnd");
    let request = SetRequest::new(Availability::Away).state("away");
    p.set_with(&grace, &request).await.unwrap();
    assert_eq!(fake.faults().count("PUT", &put), 2, "sent");
    assert_eq!(fake.user(&grace).unwrap().status, "away");
    // the bulk path skips what its read shows right
    set_by_hand("dnd");
    let done = p
        .set_many(
            vec![(grace.clone(), Availability::Away)],
            &agentstatus_presence::bulk::BulkOptions::default(),
        )
        .await;
    assert_eq!(done[0].outcome.as_ref().unwrap().changed, Some(false));
    assert_eq!(fake.faults().count("PUT", &put), 2, "not sent");
}
