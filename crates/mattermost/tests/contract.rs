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
