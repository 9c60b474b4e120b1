//! Sync's own bulk writes are not changes to the desk's watcher (issue #30: "the changes sync
//! itself wrote are recognised when they come back"; the bench saw each Engage Digital poll
//! report every agent sync had written since the last one). Many people changed at once on
//! one desk (the bulk path, a few seconds of writes at Engage Digital's client pace, the desk
//! read every 400 ms meanwhile): a read begun after a write's answer is diffed against the
//! state written, so the writes come back as echoes only from reads under way as they landed.

mod common;

use std::time::Duration;

use agentstatus_presence::Availability;
use common::{CHAT, EMAIL, Fakes, TICKETS};

const PEOPLE: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_writes_are_not_reported_back_as_changes_by_the_next_reads() {
    common::verbose();
    let f = Fakes::start(PEOPLE).await;
    let (dir, db) = common::scratch("bulk-echo", 0);
    let (engine, stats) = common::spawn_with_stats(
        common::desks(&f, &common::client_config()),
        common::people(PEOPLE),
        &db,
        common::options(),
    );
    // the baseline read of every desk
    tokio::time::sleep(Duration::from_millis(800)).await;
    for p in 0..PEOPLE {
        f.human(CHAT, p, Availability::Offline);
    }
    let t = tokio::time::Instant::now();
    while (f.writes(TICKETS) as usize) < PEOPLE || (f.writes(EMAIL) as usize) < PEOPLE {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "not written within 60 s: {:?}",
            f.all_writes()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // a few reads of every desk after the last write
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let s = stats.snapshot();
    common::kill(engine, "").await;
    let (tickets, email) = (&s.desks[TICKETS], &s.desks[EMAIL]);
    eprintln!(
        "{PEOPLE} written to each of tickets and email in {:?}; echoes seen: tickets {}, email {}; reads failed {} {}",
        t.elapsed(),
        tickets.echoes,
        email.echoes,
        tickets.read_failures,
        email.read_failures
    );
    assert_eq!(f.all_writes(), vec![0, PEOPLE as u64, PEOPLE as u64]);
    assert_eq!(s.decisions, PEOPLE as u64);
    // a write that lands while a read is under way may come back in that read (a fraction of
    // them: reads take milliseconds, the writes seconds), never every one
    for (name, d) in [("tickets", tickets), ("email", email)] {
        assert!(
            d.echoes <= PEOPLE as u64 / 4,
            "{name}: {} of sync's {PEOPLE} writes reported back as changes by the reads after them",
            d.echoes
        );
    }
    drop(dir);
}
