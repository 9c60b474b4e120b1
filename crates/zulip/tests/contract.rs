#![cfg(all(feature = "presence", feature = "fake"))]
//! The presence contract against the fake, started and connected as `agentstatus fake` does.
use agentstatus_zulip::{fake::SEEDER, presence::entry};

#[tokio::test]
async fn meets_the_presence_contract() {
    agentstatus_fakes::seed::contract(entry(), SEEDER).await;
}

/// A fake whose reads are a replica's, at least 10 ms behind (every `GET` answered with an
/// earlier answer once there is one that old), with Ada (user 1) active, and her adapter.
async fn behind() -> (
    agentstatus_zulip::fake::Zulip,
    agentstatus_zulip::presence::ZulipPresence,
) {
    use agentstatus_presence::{Availability, Presence};
    use std::time::Duration;
    let fake = agentstatus_zulip::fake::seeded(&[("Ada Lovelace", Availability::Available)], "k")
        .await
        .unwrap();
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age: Duration::from_secs(60),
    }));
    let client = agentstatus_zulip::Client::with_basic_auth(
        &fake.url(),
        "user1@zulip.example",
        "k".to_string().into(),
        &agentstatus_zulip::ClientConfig::default(),
    )
    .unwrap();
    let p = agentstatus_zulip::presence::ZulipPresence::new(client);
    assert_eq!(
        p.get("1").await.unwrap().availability,
        Availability::Available
    );
    fake.faults().set_stale_min_age(Duration::from_millis(10));
    tokio::time::sleep(Duration::from_millis(20)).await;
    (fake, p)
}

/// `set` Available ends invisible mode even when the read before it shows the user visible and
/// active: that read may be a replica's, behind, and a skip decided from it left the user
/// invisible (before: no `POST /users/me/status` sent, 1 required).
#[tokio::test]
async fn a_stale_read_never_skips_sets_write() {
    use agentstatus_presence::{Availability, Presence};
    let (fake, p) = behind().await;
    // Ada goes invisible by hand; the replica still shows her active
    let mut ada = fake.user(1).unwrap();
    ada.presence_enabled = false;
    fake.add_user(ada);
    assert!(fake.shown(1).unwrap().1, "invisible");
    assert_eq!(
        p.get("1").await.unwrap().availability,
        Availability::Available,
        "the replica's answer"
    );
    let after = p.set("1", Availability::Available).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(fake.faults().count("POST", "/users/me/status"), 1, "sent");
    assert_eq!(fake.shown(1), Some(("active", false)), "visible");
}

/// A read-back that shows the state from before the write (a replica behind the write the
/// server acknowledged) is no `Conflict` (before: `Conflict`, found Available): `set` reads
/// again, then returns the state written.
#[tokio::test]
async fn a_stale_read_back_is_no_conflict() {
    use agentstatus_presence::{Availability, Presence};
    let (fake, p) = behind().await;
    let reads = fake.faults().count("GET", "/users/1/status");
    let after = p.set("1", Availability::Offline).await.unwrap();
    assert_eq!(after.availability, Availability::Offline);
    assert!(
        after.detail.vendor_status.contains(" invisible"),
        "{after:?}"
    );
    assert_eq!(fake.shown(1), Some(("offline", true)));
    // the read before, and three read-backs
    assert_eq!(fake.faults().count("GET", "/users/1/status") - reads, 4);
}
