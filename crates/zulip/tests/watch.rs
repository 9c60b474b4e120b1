//! The event-queue reader (`ZulipEvents`, the adapter's `change_feed`) against the fake, through
//! the presence `Watcher`: a change made on the fake arrives pushed; a change made while the
//! queue had expired arrives from the full read after registering again, once; what the server
//! never pushes (going offline by silence) arrives from the full read a heartbeat asks for.
#![cfg(all(feature = "presence", feature = "fake"))]

use std::sync::Arc;
use std::time::Duration;

use agentstatus_presence::watch::{Change, Origin, WatchOptions, Watcher};
use agentstatus_presence::{Availability, Presence};
use agentstatus_zulip::fake::{Zulip, seeded};
use agentstatus_zulip::presence::{ZulipPresence, events_config};
use agentstatus_zulip::{Client, ClientConfig};

const KEY: &str = "zulip-test-key";

fn client(fake: &Zulip, config: &ClientConfig) -> Client {
    Client::with_basic_auth(
        &fake.url(),
        "user1@zulip.example",
        KEY.to_string().into(),
        config,
    )
    .unwrap()
}

fn watched(fake: &Zulip) -> Watcher {
    let config = ClientConfig::default();
    let presence = ZulipPresence::new(client(fake, &config))
        .with_events_client(client(fake, &events_config(config.clone())));
    let options = WatchOptions::every(Duration::from_millis(100));
    Watcher::new(Arc::new(presence), "support", options)
}

/// Wait until a request is waiting on a queue of the fake.
async fn until_waiting(fake: &Zulip) {
    for _ in 0..200 {
        if fake.waiting() > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no request waits on the fake's queue");
}

async fn next(w: &mut Watcher) -> Change {
    tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .expect("a change within 10 s")
        .unwrap()
}

#[tokio::test]
async fn a_change_arrives_pushed_and_an_expired_queue_loses_none() {
    let fake = Arc::new(
        seeded(
            &[
                ("Ada Lovelace", Availability::Available),
                ("Grace Hopper", Availability::Offline),
            ],
            KEY,
        )
        .await
        .unwrap(),
    );
    fake.set_heartbeat(Duration::from_secs(30));
    let mut watcher = watched(&fake);
    let me = ZulipPresence::new(client(&fake, &ClientConfig::default()));

    // Grace's own client reports her active while the reader waits: pushed
    let f = fake.clone();
    let change = tokio::spawn(async move {
        until_waiting(&f).await;
        f.ping(2, true);
    });
    let c = next(&mut watcher).await;
    change.await.unwrap();
    assert_eq!(c.agent_id, "2");
    assert_eq!(c.origin, Origin::Push);
    assert_eq!(c.before.unwrap().availability, Availability::Offline);
    let after = c.after.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(after.name.as_deref(), Some("Grace Hopper"));
    assert_eq!(
        fake.queues(),
        1,
        "the reader's queue (each full read deletes its own)"
    );

    // nobody asks for ten minutes (here 300 ms): the server drops the queue; Ada goes invisible
    fake.set_queue_timeout(Duration::from_millis(300));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(fake.queues(), 0, "the queue expired");
    me.set("1", Availability::Offline).await.unwrap();

    // the reader hears BAD_EVENT_QUEUE_ID, registers again, and the full read has the change
    let c = next(&mut watcher).await;
    assert_eq!((c.agent_id.as_str(), c.origin), ("1", Origin::Poll));
    assert_eq!(c.before.unwrap().availability, Availability::Available);
    let after = c.after.unwrap();
    assert_eq!(after.availability, Availability::Offline);
    assert_eq!(after.detail.vendor_status, "offline invisible");
    assert_eq!(fake.queues(), 1, "a new queue");

    // and goes on pushing, without reporting Ada's change twice
    fake.set_queue_timeout(Duration::from_secs(600));
    let f = fake.clone();
    let back = tokio::spawn(async move {
        until_waiting(&f).await;
        let me = ZulipPresence::new(client(&f, &ClientConfig::default()));
        me.set("1", Availability::Available).await.unwrap();
    });
    let c = next(&mut watcher).await;
    back.await.unwrap();
    assert_eq!((c.agent_id.as_str(), c.origin), ("1", Origin::Push));
    assert_eq!(c.after.unwrap().availability, Availability::Available);
}

#[tokio::test]
async fn going_offline_by_silence_arrives_after_a_heartbeat() {
    let fake = Arc::new(
        seeded(
            &[
                ("Ada Lovelace", Availability::Available),
                ("Grace Hopper", Availability::Available),
            ],
            KEY,
        )
        .await
        .unwrap(),
    );
    fake.set_heartbeat(Duration::from_millis(300));
    let mut watcher = watched(&fake);
    let f = fake.clone();
    let silence = tokio::spawn(async move {
        until_waiting(&f).await;
        // five minutes without a report: both offline, and the server pushes nothing
        f.advance(300);
    });
    let first = next(&mut watcher).await;
    let second = next(&mut watcher).await;
    silence.await.unwrap();
    let mut ids = [first.agent_id.clone(), second.agent_id.clone()];
    ids.sort();
    assert_eq!(ids, ["1", "2"]);
    for c in [first, second] {
        assert_eq!(c.origin, Origin::Poll);
        assert_eq!(c.after.unwrap().availability, Availability::Offline);
    }
    assert!(
        fake.events_sent()
            .iter()
            .all(|(kind, _)| kind == "heartbeat"),
        "{:?}",
        fake.events_sent()
    );
}

#[tokio::test]
async fn the_adapter_without_a_long_poll_client_polls() {
    let fake = seeded(&[("Ada Lovelace", Availability::Available)], KEY)
        .await
        .unwrap();
    let presence = ZulipPresence::new(client(&fake, &ClientConfig::default()));
    let watcher = Watcher::new(Arc::new(presence), "support", WatchOptions::default());
    assert_eq!(watcher.origin(), Origin::Poll);
    let entry = agentstatus_zulip::presence::entry();
    let settings =
        agentstatus_presence::registry::Settings::new(fake.url(), ClientConfig::default())
            .with_value("email", "user1@zulip.example")
            .with_secret("api_key", KEY.to_string().into());
    let presence = (entry.connect)(&settings).unwrap();
    let watcher = Watcher::new(Arc::from(presence), "support", WatchOptions::default());
    assert_eq!(
        watcher.origin(),
        Origin::Push,
        "the registry's adapter reads the queue"
    );
}

/// A watcher whose reader registers again at once after a restart with a new API.
fn watched_restarting_at_once(fake: &Zulip) -> Watcher {
    let config = ClientConfig::default();
    let presence = ZulipPresence::new(client(fake, &config))
        .with_events_client(client(fake, &events_config(config.clone())))
        .with_restart_spread(Duration::ZERO);
    Watcher::new(
        Arc::new(presence),
        "support",
        WatchOptions::every(Duration::from_millis(100)),
    )
}

#[tokio::test]
async fn a_restart_with_a_new_api_is_followed_by_a_new_queue_without_losing_a_change() {
    let fake = Arc::new(
        seeded(
            &[
                ("Ada Lovelace", Availability::Available),
                ("Grace Hopper", Availability::Available),
            ],
            KEY,
        )
        .await
        .unwrap(),
    );
    // no heartbeat within the test: only the restart can make the reader read everything
    fake.set_heartbeat(Duration::from_secs(30));
    let mut watcher = watched_restarting_at_once(&fake);
    let f = fake.clone();
    let restart = tokio::spawn(async move {
        until_waiting(&f).await;
        // the reader's queue (each full read deletes its own)
        let before = f.queue_ids();
        assert_eq!(before.len(), 1);
        // the server is upgraded; meanwhile five minutes pass without a report (both offline,
        // which the server never pushes)
        f.advance(300);
        f.restart(Some(agentstatus_zulip::fake::FEATURE_LEVEL + 1));
        before
    });
    let first = next(&mut watcher).await;
    let second = next(&mut watcher).await;
    let before = restart.await.unwrap();
    let mut ids = [first.agent_id.clone(), second.agent_id.clone()];
    ids.sort();
    assert_eq!(ids, ["1", "2"]);
    for c in [first, second] {
        assert_eq!(
            c.origin,
            Origin::Poll,
            "from the full read after registering"
        );
        assert_eq!(c.after.unwrap().availability, Availability::Offline);
    }
    let after = fake.queue_ids();
    assert_eq!(after.len(), 1, "the old queue deleted: {after:?}");
    assert_ne!(after, before, "a queue registered under the new API");
    assert!(
        fake.events_sent().iter().any(|(kind, _)| kind == "restart"),
        "{:?}",
        fake.events_sent()
    );

    // and the new queue pushes
    let f = fake.clone();
    let back = tokio::spawn(async move {
        until_waiting(&f).await;
        f.ping(2, true);
    });
    let c = next(&mut watcher).await;
    back.await.unwrap();
    assert_eq!((c.agent_id.as_str(), c.origin), ("2", Origin::Push));
    assert_eq!(c.after.unwrap().availability, Availability::Available);
}

#[tokio::test]
async fn a_restart_with_the_same_api_keeps_the_queue_and_reads_everything() {
    let fake = Arc::new(
        seeded(&[("Ada Lovelace", Availability::Available)], KEY)
            .await
            .unwrap(),
    );
    fake.set_heartbeat(Duration::from_secs(30));
    // the default spread: a restart at a new level would wait minutes, this one does not
    let mut watcher = watched(&fake);
    let f = fake.clone();
    let restart = tokio::spawn(async move {
        until_waiting(&f).await;
        let before = f.queue_ids();
        f.advance(300);
        f.restart(None);
        before
    });
    let c = next(&mut watcher).await;
    let before = restart.await.unwrap();
    assert_eq!((c.agent_id.as_str(), c.origin), ("1", Origin::Poll));
    assert_eq!(c.after.unwrap().availability, Availability::Offline);
    assert_eq!(fake.queue_ids(), before, "the queue survived the restart");

    // the surviving queue still pushes
    let f = fake.clone();
    let back = tokio::spawn(async move {
        until_waiting(&f).await;
        f.ping(1, true);
    });
    let c = next(&mut watcher).await;
    back.await.unwrap();
    assert_eq!((c.agent_id.as_str(), c.origin), ("1", Origin::Push));
    assert_eq!(fake.queue_ids(), before);
}

#[tokio::test]
async fn above_the_event_limit_a_change_arrives_through_the_full_read() {
    use agentstatus_zulip::fake::{USER_LIMIT_FOR_SENDING_PRESENCE_UPDATE_EVENTS, User};
    let fake = Arc::new(
        seeded(
            &[
                ("Ada Lovelace", Availability::Available),
                ("Grace Hopper", Availability::Offline),
            ],
            KEY,
        )
        .await
        .unwrap(),
    );
    // one active user more than the server's limit
    let others = USER_LIMIT_FOR_SENDING_PRESENCE_UPDATE_EVENTS as i64 - 1;
    for id in 3..=2 + others {
        fake.add_user(User::new(id, &format!("Agent {id}"), &format!("key-{id}")));
        fake.seed_presence(id, "offline");
    }
    fake.set_heartbeat(Duration::from_millis(300));
    let mut watcher = watched(&fake);
    let f = fake.clone();
    let change = tokio::spawn(async move {
        until_waiting(&f).await;
        // Grace's own client reports her active: the server pushes nothing in a realm this big
        f.ping(2, true);
    });
    let c = next(&mut watcher).await;
    change.await.unwrap();
    assert_eq!((c.agent_id.as_str(), c.origin), ("2", Origin::Poll));
    assert_eq!(c.before.unwrap().availability, Availability::Offline);
    assert_eq!(c.after.unwrap().availability, Availability::Available);
    let sent = fake.events_sent();
    assert!(
        sent.iter().all(|(kind, _)| kind == "heartbeat"),
        "no presence event above the limit: {sent:?}"
    );
}
