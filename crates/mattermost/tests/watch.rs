//! The `status_change` reader against the fake's websocket: a change made on the fake arrives,
//! and a change made while the connection is down arrives once it is back (the bulk read after
//! reconnecting), never twice.
#![cfg(all(feature = "watch", feature = "fake"))]

use std::time::Duration;

use agentstatus_mattermost::fake::{seeded, user_id};
use agentstatus_mattermost::watch::StatusWatch;
use agentstatus_mattermost::{Client, ClientConfig};
use agentstatus_presence::{Availability, Presence};

async fn next(w: &mut StatusWatch) -> agentstatus_mattermost::watch::StatusChange {
    tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .expect("a change within 10 s")
        .unwrap()
}

#[tokio::test]
async fn changes_arrive_and_a_dropped_connection_loses_none() {
    let fake = seeded(
        &[
            ("Ada Lovelace", Availability::Available),
            ("Bob Babbage", Availability::Available),
        ],
        "tok",
    )
    .await
    .unwrap();
    let client = || {
        Client::with_bearer_auth(
            &fake.url(),
            "tok".to_string().into(),
            &ClientConfig::default(),
        )
        .unwrap()
    };
    let (ada, bob) = (user_id(1), user_id(2));
    let mut watch = StatusWatch::new(
        client(),
        &fake.url(),
        "tok".to_string().into(),
        vec![bob.clone()],
    )
    .unwrap();
    let presence = agentstatus_mattermost::presence::MattermostPresence::new(client());

    // connect: the first read only learns where everyone is
    watch.start().await.unwrap();
    assert_eq!(watch.known().get(&bob).map(String::as_str), Some("online"));
    presence.set(&bob, Availability::Busy).await.unwrap();
    let change = next(&mut watch).await;
    assert_eq!(
        (change.user_id.as_str(), change.status.as_str()),
        (bob.as_str(), "dnd")
    );
    assert_eq!(change.availability, Availability::Busy);

    // an unwatched user's change is not yielded; the connection drops; Bob goes away meanwhile
    presence.set(&ada, Availability::Away).await.unwrap();
    fake.drop_connections();
    tokio::time::sleep(Duration::from_millis(200)).await;
    presence.set(&bob, Availability::Away).await.unwrap();
    let change = next(&mut watch).await;
    assert_eq!(
        (change.user_id.as_str(), change.status.as_str()),
        (bob.as_str(), "away")
    );
    assert_eq!(watch.known().get(&bob).map(String::as_str), Some("away"));

    // and the watch goes on after recovering
    presence.set(&bob, Availability::Available).await.unwrap();
    let change = next(&mut watch).await;
    assert_eq!(change.status, "online");
}

#[tokio::test]
async fn a_wrong_token_is_an_error_without_the_token() {
    let fake = seeded(&[("Ada Lovelace", Availability::Available)], "tok")
        .await
        .unwrap();
    let client = Client::with_bearer_auth(
        &fake.url(),
        "wrong-secret".to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap();
    let mut watch = StatusWatch::new(
        client,
        &fake.url(),
        "wrong-secret".to_string().into(),
        vec![user_id(1)],
    )
    .unwrap();
    let e = tokio::time::timeout(Duration::from_secs(20), watch.next())
        .await
        .unwrap()
        .unwrap_err();
    let text = format!("{e} {watch:?}");
    assert!(text.contains("401"), "{text}");
    assert!(!text.contains("wrong-secret"), "{text}");
}
