//! A restart while a desk answers from a read replica (issue #30, found by
//! `simulation_unseen` seed 1084879911936069646): sync's write to an agent lands and is
//! recorded, the engine is killed, and the restarted engine's first reads come from a replica
//! still showing the state before that write. What the engine before it saw its writes replace
//! is not known to the new one (it is kept in memory), so the old state looked like a person's
//! change: decided, and written to every other desk. A change seen in a read that began less
//! than the desk's read lag after the engine started is read again then, and decided from that.

mod common;

use std::time::Duration;

use agentstatus_fakes::Stale;
use agentstatus_presence::Availability::*;
use common::{CHAT, EMAIL, Fakes, TICKETS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_behind_a_write_made_before_a_restart_is_not_a_change() {
    let seed = common::seed();
    let f = Fakes::start_named(8, "restart-replica", seed).await;
    let on_fail = f.journal.on_fail();
    let (dir, db) = common::scratch("restart-replica", seed);
    f.journal.set_db(&db);
    let engine = common::spawn_engine(&f, &db);
    tokio::time::sleep(Duration::from_millis(800)).await;
    // tickets answers every read it can from an earlier answer, up to 1.5 s old (under the
    // desk's read lag, 2 s)
    f.cw.faults().set_stale(Some(Stale {
        seed,
        probability: 1.0,
        max_age: Duration::from_millis(1_500),
    }));
    tokio::time::sleep(Duration::from_millis(600)).await;
    f.human(CHAT, 3, Offline);
    // sync's write to tickets lands and is recorded (nothing owed), and the engine is killed
    let t = tokio::time::Instant::now();
    loop {
        let owed = agentstatus_sync::Store::open_read_only(&db)
            .and_then(|s| s.read(|t| t.outbox()))
            .map(|o| o.len())
            .unwrap_or(1);
        if f.states(3) == [Offline, Offline, Away] && owed == 0 && common::decisions(&db) == 1 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the write landed {on_fail}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    common::kill(engine, &on_fail).await;
    f.journal.event("the engine killed");
    // the replica's answers from before the write are still within its age
    let engine = common::spawn_engine(&f, &db);
    f.journal.event("the engine restarted");
    tokio::time::sleep(Duration::from_millis(4_000)).await;
    f.cw.faults().set_stale(None);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    common::kill(engine, &on_fail).await;
    let stale = f.cw.faults().stale_answers();
    assert!(stale > 0, "tickets answered from its replica {on_fail}");
    f.journal.suspect([3]);
    assert_eq!(
        f.states(3),
        [Offline, Offline, Away],
        "p3 as they set chat, after the restart {on_fail}"
    );
    assert_eq!(
        common::decisions(&db),
        1,
        "one change, one decision: the replica's old state is not a change {on_fail}"
    );
    assert_eq!(
        [f.writes(CHAT), f.writes(TICKETS), f.writes(EMAIL)],
        [0, 1, 1],
        "sync's two writes, nothing more {on_fail}"
    );
    drop(dir);
}
