#![cfg(all(feature = "presence", feature = "fake"))]
//! The presence contract against the fake, started and connected as `agentstatus fake` does;
//! then the adapter against the fake where Graph differs from the other vendors: the token's
//! life, sessions that expire, a preferred presence that outranks the application.
use std::time::Duration;

use agentstatus_msgraph::fake::{self, CLIENT_ID, Msgraph};
use agentstatus_msgraph::presence::{MsgraphPresence, entry};
use agentstatus_msgraph::{Client, ClientConfig};
use agentstatus_presence::{Availability, ErrorKind, ListFilter, Presence};

#[tokio::test]
async fn meets_the_presence_contract() {
    agentstatus_fakes::seed::contract(entry(), fake::SEEDER).await;
}

const SECRET: &str = "contract-secret";

async fn start() -> (Msgraph, MsgraphPresence) {
    let fake = Msgraph::start(SECRET).await.unwrap();
    for n in 1..=3 {
        fake.add_user(&fake::user_id(n), &format!("User {n}"));
    }
    let credentials = Client::azureaadv2_credentials(CLIENT_ID, SECRET.to_string().into())
        .with_token_url(fake.token_url());
    let client =
        Client::with_azureaadv2_credentials(&fake.url(), credentials, &ClientConfig::default())
            .unwrap();
    let users = (1..=3).map(fake::user_id).collect();
    let adapter = MsgraphPresence::new(client, CLIENT_ID.to_string()).with_users(users);
    (fake, adapter)
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires_and_after_the_server_drops_it() {
    let (fake, a) = start().await;
    // a token of 2 seconds is refreshed after half its life (the runtime's skew is at most half)
    fake.set_token_lifetime(Duration::from_secs(2));
    a.get(&fake::user_id(1)).await.unwrap();
    a.list(&ListFilter::all()).await.unwrap();
    assert_eq!(fake.token_requests(), 1, "one token for both calls");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    a.get(&fake::user_id(1)).await.unwrap();
    assert_eq!(fake.token_requests(), 2, "refreshed before it expired");
    assert_eq!(fake.api_calls(), 3, "no call was refused");

    // the server stops accepting it (its clock ran ahead): one refresh, the call retried
    fake.set_token_lifetime(Duration::from_secs(3599));
    fake.expire_tokens();
    let before = fake.api_calls();
    a.get(&fake::user_id(2)).await.unwrap();
    assert_eq!(fake.token_requests(), 3);
    assert_eq!(
        fake.api_calls(),
        before + 2,
        "the refused call and its retry"
    );
}

#[tokio::test]
async fn the_apps_session_expires_and_set_for_chooses_how_long() {
    let (fake, a) = start().await;
    let user = fake::user_id(1);
    let p = a
        .set_for(&user, Availability::Away, Duration::from_secs(5 * 60))
        .await
        .unwrap();
    assert_eq!(p.availability, Availability::Away);
    assert_eq!(p.detail.vendor_status, "Away/Away");
    let session = fake.user(&user).unwrap().sessions[CLIENT_ID].clone();
    assert_eq!(
        (session.availability.as_str(), session.activity.as_str()),
        ("Away", "Away")
    );
    fake.advance(Duration::from_secs(5 * 60 + 1));
    // (the token outlives the 5 minutes: 3599 s)
    assert_eq!(
        a.get(&user).await.unwrap().availability,
        Availability::Offline
    );

    // `set` lasts an hour
    a.set(&user, Availability::Busy).await.unwrap();
    fake.advance(Duration::from_secs(59 * 60));
    let p = a.get(&user).await.unwrap();
    assert_eq!(
        (p.availability, p.detail.vendor_status.as_str()),
        (Availability::Busy, "Busy/InACall")
    );
    fake.advance(Duration::from_secs(2 * 60));
    assert_eq!(
        a.get(&user).await.unwrap().availability,
        Availability::Offline
    );
}

#[tokio::test]
async fn what_outranks_the_app_is_a_conflict_never_a_claimed_state() {
    let (fake, a) = start().await;
    let user = fake::user_id(2);
    // a Teams client in Do not disturb beats the application's Available
    fake.put_session(
        &user,
        "teams-desktop",
        "DoNotDisturb",
        "DoNotDisturb",
        Duration::from_secs(3600),
    );
    let e = a.set(&user, Availability::Available).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.to_string().contains("DoNotDisturb/DoNotDisturb"), "{e}");
    // offline clears the application's session, but the Teams client keeps the user present
    let e = a.set(&user, Availability::Offline).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(!fake.user(&user).unwrap().sessions.contains_key(CLIENT_ID));
    // list reads every configured user, by the bulk read
    let all = a.list(&ListFilter::all()).await.unwrap();
    let states: Vec<(String, Availability)> = all
        .iter()
        .map(|p| (p.agent_id.clone(), p.availability))
        .collect();
    assert_eq!(
        states,
        [
            (fake::user_id(1), Availability::Offline),
            (fake::user_id(2), Availability::Busy),
            (fake::user_id(3), Availability::Offline),
        ]
    );
}

#[tokio::test]
async fn set_many_writes_only_what_differs() {
    use agentstatus_presence::bulk::BulkOptions;
    let (fake, a) = start().await;
    let updates = vec![
        (fake::user_id(1), Availability::Available),
        (fake::user_id(2), Availability::Offline),
    ];
    let first = a.set_many(updates.clone(), &BulkOptions::default()).await;
    let changed: Vec<Option<bool>> = first
        .iter()
        .map(|r| r.outcome.as_ref().unwrap().changed)
        .collect();
    assert_eq!(
        changed,
        [Some(true), Some(false)],
        "user 2 was Offline already"
    );
    let writes = fake.state_changes();
    let again = a.set_many(updates, &BulkOptions::default()).await;
    assert!(
        again
            .iter()
            .all(|r| r.outcome.as_ref().unwrap().changed == Some(false))
    );
    assert_eq!(fake.state_changes(), writes);
}

/// A read-back behind the session written (a replica's, here at most 200 ms behind; the
/// adapter told 300 ms) is no `Conflict`: a read the read lag later decides (before: `Conflict`,
/// found Offline, though the user was Available).
#[tokio::test]
async fn a_stale_read_back_is_no_conflict() {
    let (fake, a) = start().await;
    let a = a.with_read_lag(Duration::from_millis(300));
    let user = fake::user_id(1);
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age: Duration::from_millis(200),
    }));
    assert_eq!(
        a.get(&user).await.unwrap().availability,
        Availability::Offline
    );
    let after = a.set(&user, Availability::Available).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(
        fake.presence_of(&user).map(|(a, _)| a).as_deref(),
        Some("Available")
    );
}
