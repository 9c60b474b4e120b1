//! Stack use of the presence operations: every operation of the adapter (get, set, set_with,
//! list, set_many, a watcher's reads) runs on a thread with a small stack, as a service with many
//! tasks on small stacks would run them. Debug builds copy a future at every move, in stack
//! frames as large as the future; `adapter::within` and `adapter::call` move the operation's
//! and the generated call's futures to the heap first, so this passes on [`STACK_KB`] KiB.
//! `AGENTSTATUS_TEST_STACK_KB=<n>` runs it on another size, to find the least a build needs (a
//! stack overflow aborts the test process, so search by running the test binary: see the
//! commit that added this test).
//!
//! Measured on this test in a debug build (rustc 1.95, x86_64, the least stack it passes on,
//! to 8 KiB): 820 KiB with `within` and `call` as plain `async fn`s (set_many alone 788 KiB,
//! get 302 KiB), 412 KiB with `within` boxed, 278 KiB with both boxed (get 263 KiB, of which a
//! bare reqwest GET is about 150 KiB and the generated call about 220 KiB).

use std::sync::Arc;
use std::time::Duration;

use agentstatus_presence::watch::{WatchOptions, Watcher};
use agentstatus_presence::{Availability, BulkOptions, ListFilter, Presence, SetRequest};
use agentstatus_rocketchat::fake::{Agent, RocketChat};
use agentstatus_rocketchat::presence::RocketChatPresence;
use agentstatus_rocketchat::{Client, Credentials};

/// The stack the operations run on: 820 KiB were needed before `within` and `call` boxed
/// their futures, 278 KiB after (the module docs); a margin for other compilers.
const STACK_KB: usize = 384;

#[test]
fn every_operation_runs_on_a_small_stack() {
    let kb = std::env::var("AGENTSTATUS_TEST_STACK_KB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(STACK_KB);
    // the fake on a runtime of its own (ordinary stacks): only the client side is measured
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fake = server.block_on(async {
        let fake = RocketChat::start().await.unwrap();
        fake.add_user("mgr", "mgr-token", true);
        fake.grant_edit_other_user_info("mgr");
        fake.add_agent(Agent::new("a1", "Ada Lovelace", "not-available"));
        fake.add_agent(Agent::new("a2", "Bob Babbage", "available"));
        fake
    });
    let client = Client::with_credentials(
        &fake.url(),
        Credentials::new("mgr", "mgr-token".to_string().into()),
    )
    .unwrap();
    let presence = RocketChatPresence::new(client).with_user_id("mgr");
    let small = std::thread::Builder::new()
        .stack_size(kb * 1024)
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            // boxed: the test's own future is not on the small stack either
            rt.block_on(Box::pin(async move {
                let p: Arc<dyn Presence> = Arc::new(presence);
                let got = p.get("a1").await.unwrap();
                assert_eq!(got.availability, Availability::Offline);
                let set = p.set("a1", Availability::Available).await.unwrap();
                assert_eq!(set.availability, Availability::Available);
                let away = SetRequest::new(Availability::Offline).state("away");
                let with = p.set_with("a2", &away).await.unwrap();
                assert_eq!(with.detail.state(), "away");
                let all = p.list(&ListFilter::all()).await.unwrap();
                assert_eq!(all.len(), 2);
                let updates = vec![
                    ("a1".to_string(), Availability::Offline),
                    ("a2".to_string(), Availability::Available),
                ];
                let results = p.set_many(updates, &BulkOptions::new(4)).await;
                assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:?}");
                // a watcher's first read (the baseline) and one through the delta
                let mut w = Watcher::new(
                    p.clone(),
                    "desk",
                    WatchOptions::every(Duration::from_millis(100)).poll_only(true),
                );
                let wait = tokio::time::timeout(Duration::from_millis(350), w.next()).await;
                assert!(wait.is_err(), "nothing changed: {wait:?}");
                assert_eq!(w.snapshot().count(), 2);
            }));
        })
        .unwrap();
    small.join().expect("the operations ran on the small stack");
    drop(fake);
}
