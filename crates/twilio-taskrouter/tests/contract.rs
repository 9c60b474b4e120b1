//! The presence contract (`agentstatus_presence::testing`) against Twilio TaskRouter's fake.

use agentstatus_presence::Availability;
use agentstatus_presence::testing::{Case, contract};
use agentstatus_twilio_taskrouter::fake::{ACCOUNT_SID, TwilioTaskrouter, WORKSPACE_SID};
use agentstatus_twilio_taskrouter::presence::TwilioTaskrouterPresence;
use agentstatus_twilio_taskrouter::{Client, ClientConfig};

const ADA: &str = "WK000000000000000000000000000000a1";
const BOB: &str = "WK000000000000000000000000000000b2";

async fn case() -> Case {
    let fake = TwilioTaskrouter::start("good-token").await.unwrap();
    // an activity of the workspace's own, beyond the name table: unavailable, so Offline
    fake.add_activity(WORKSPACE_SID, "Lunch", false);
    fake.add_worker(WORKSPACE_SID, ADA, "Ada Lovelace", "Offline");
    fake.add_worker(WORKSPACE_SID, BOB, "Bob Babbage", "Available");
    let url = fake.url();
    let adapter = |token: &str| {
        let client = Client::with_account_sid_auth_token(
            &url,
            ACCOUNT_SID,
            token.to_string().into(),
            &ClientConfig::default(),
        )
        .unwrap();
        TwilioTaskrouterPresence::new(client, WORKSPACE_SID.to_string())
    };
    Case::new(
        fake,
        Box::new(adapter("good-token")),
        Box::new(adapter("wrong-token")),
        ADA,
        |f| f.state_changes(),
    )
    // a Worker SID (the client refuses other ids before sending) that names no worker
    .with_unknown("WK0000000000000000000000000000dead")
    .with_state("Lunch", Availability::Offline)
}

#[tokio::test]
async fn meets_the_presence_contract() {
    contract(case().await).await;
}

/// Ada in `Lunch` (unavailable, not in the name table: Offline) is read so by a replica after
/// she moved to `Available` (the replica at most 200 ms behind, the adapter told 300 ms).
/// `set(Offline)` left her Available before (the stale read showed Lunch, which means Offline:
/// 0 updates sent, 1 required); now the read's `ETag` goes with an update that keeps her in
/// Lunch, the server refuses it (412: the worker changed since), a read the read lag later
/// shows her Available, and she is moved to `Offline`. A worker that is in Lunch stays in it.
#[tokio::test]
async fn a_stale_read_never_skips_sets_write() {
    use agentstatus_presence::{Presence, SetRequest};
    use std::time::Duration;
    let fake = TwilioTaskrouter::start("good-token").await.unwrap();
    fake.add_activity(WORKSPACE_SID, "Lunch", false);
    fake.add_worker(WORKSPACE_SID, ADA, "Ada Lovelace", "Lunch");
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age: Duration::from_millis(200),
    }));
    let client = Client::with_account_sid_auth_token(
        &fake.url(),
        ACCOUNT_SID,
        "good-token".to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap();
    let p = TwilioTaskrouterPresence::new(client, WORKSPACE_SID.to_string())
        .with_read_lag(Duration::from_millis(300));
    let worker = format!("/v1/Workspaces/{WORKSPACE_SID}/Workers/{ADA}");
    // a worker really in Lunch stays in it: the update that keeps her there changes nothing
    let changes = fake.state_changes();
    let after = p.set(ADA, Availability::Offline).await.unwrap();
    assert_eq!(after.detail.vendor_status, "Lunch");
    assert_eq!(fake.state_changes(), changes);
    // she goes Available by hand; the replica still shows her in Lunch
    fake.move_worker(WORKSPACE_SID, ADA, "Available");
    assert_eq!(
        p.get(ADA).await.unwrap().detail.vendor_status,
        "Lunch",
        "the replica's answer"
    );
    let posts = fake.faults().count("POST", &worker);
    let after = p.set(ADA, Availability::Offline).await.unwrap();
    assert_eq!(after.availability, Availability::Offline);
    assert_eq!(
        fake.activity_of(WORKSPACE_SID, ADA).as_deref(),
        Some("Offline")
    );
    // the update refused (412), then the move
    assert_eq!(fake.faults().count("POST", &worker) - posts, 2);
    // set_with's activity, the same: the replica shows her Offline after she went to Lunch by
    // hand (before: nothing sent, she was left in Lunch)
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(p.get(ADA).await.unwrap().detail.vendor_status, "Offline");
    fake.move_worker(WORKSPACE_SID, ADA, "Lunch");
    assert_eq!(
        p.get(ADA).await.unwrap().detail.vendor_status,
        "Offline",
        "the replica's answer"
    );
    let request = SetRequest::new(Availability::Offline).state("Offline");
    let after = p.set_with(ADA, &request).await.unwrap();
    assert_eq!(after.detail.vendor_status, "Offline");
    assert_eq!(
        fake.activity_of(WORKSPACE_SID, ADA).as_deref(),
        Some("Offline")
    );
}

/// `set_many`'s list says a worker changes; the read of it for its `ETag` (a replica's, behind,
/// showing it done already) decides nothing alone: before, the worker was reported unchanged
/// and left as it was (0 updates sent, 1 required).
#[tokio::test]
async fn set_manys_read_for_the_etag_never_skips_the_write() {
    use agentstatus_presence::Presence;
    use agentstatus_presence::bulk::BulkOptions;
    use std::time::Duration;
    let fake = TwilioTaskrouter::start("good-token").await.unwrap();
    fake.add_worker(WORKSPACE_SID, ADA, "Ada Lovelace", "Offline");
    let client = Client::with_account_sid_auth_token(
        &fake.url(),
        ACCOUNT_SID,
        "good-token".to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap();
    let p = TwilioTaskrouterPresence::new(client, WORKSPACE_SID.to_string())
        .with_read_lag(Duration::from_millis(300));
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age: Duration::from_millis(200),
    }));
    // the worker read (and kept) Offline; she goes Available by hand, then Offline again is
    // asked of set_many while she is Available: the list (fresh: never asked before) says so,
    // the worker read (the replica's) says Offline
    assert_eq!(
        p.get(ADA).await.unwrap().availability,
        Availability::Offline
    );
    fake.move_worker(WORKSPACE_SID, ADA, "Available");
    let done = p
        .set_many(
            vec![(ADA.to_string(), Availability::Offline)],
            &BulkOptions::default(),
        )
        .await;
    let applied = done[0].outcome.as_ref().unwrap();
    assert_eq!(applied.presence.availability, Availability::Offline);
    assert_eq!(
        fake.activity_of(WORKSPACE_SID, ADA).as_deref(),
        Some("Offline")
    );
}

/// The registry's adapter takes the read lag its settings declare (sync's desk `read_lag`): a
/// 412 is decided again from a read that long later, not the default two seconds later.
#[tokio::test]
async fn the_registrys_adapter_waits_the_declared_read_lag() {
    use agentstatus_presence::registry::Settings;
    use std::time::{Duration, Instant};
    let fake = TwilioTaskrouter::start("good-token").await.unwrap();
    fake.add_worker(WORKSPACE_SID, ADA, "Ada Lovelace", "Offline");
    let settings = Settings::new(fake.url(), ClientConfig::default())
        .with_value("account_sid", ACCOUNT_SID)
        .with_value("workspace_sid", WORKSPACE_SID)
        .with_secret("auth_token", "good-token".to_string().into())
        .with_read_lag(Duration::from_millis(100));
    let p = (agentstatus_twilio_taskrouter::presence::entry().connect)(&settings).unwrap();
    fake.faults().set_stale(Some(agentstatus_fakes::Stale {
        seed: 7,
        probability: 1.0,
        max_age: Duration::from_millis(50),
    }));
    assert_eq!(
        p.get(ADA).await.unwrap().availability,
        Availability::Offline
    );
    fake.move_worker(WORKSPACE_SID, ADA, "Available");
    let began = Instant::now();
    let after = p.set(ADA, Availability::Offline).await.unwrap();
    assert_eq!(after.availability, Availability::Offline);
    assert_eq!(
        fake.activity_of(WORKSPACE_SID, ADA).as_deref(),
        Some("Offline")
    );
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
}
