//! A simulation's failure explains itself: the fakes dropped by a panic write the run's report
//! (`common::journal`) with the seed, the failing person's script, what each desk showed sync
//! of them, the engine's decisions, sync's writes and the requests the fakes received for them
//! with the fault each met and the status answered.

mod common;

use std::time::Duration;

use agentstatus_fakes::Fault;
use agentstatus_presence::Availability;
use common::{CHAT, EMAIL, Fakes, TICKETS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_writes_the_failing_persons_whole_history() {
    let seed = 4_242;
    let f = Fakes::start_named(4, "failure-report", seed).await;
    let path = f.journal.path();
    let _ = std::fs::remove_file(&path);
    let (dir, db) = common::scratch("failure-report", seed);
    f.journal.set_db(&db);
    let engine = common::spawn_engine(&f, &db);
    tokio::time::sleep(Duration::from_millis(800)).await;
    // p2 goes offline on chat; the first write to email meets an HTML error page
    f.ed.faults().push(Fault::Html(502));
    f.human(CHAT, 2, Availability::Offline);
    let t = tokio::time::Instant::now();
    while f.states(2)
        != [
            Availability::Offline,
            Availability::Offline,
            Availability::Away,
        ]
    {
        assert!(t.elapsed() < Duration::from_secs(10), "p2's change arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    common::kill(engine, "").await;
    f.journal.event("the engine killed");
    let wrong = vec!["p2 on desk 1: offline, the rules say busy".to_string()];
    f.journal.suspect_named(&wrong);
    // the failure: the fakes (and the scratch directory) dropped while panicking
    let failed = std::thread::spawn(move || {
        let _f = f;
        let _dir = dir;
        panic!("not converged: induced for the test");
    })
    .join();
    assert!(failed.is_err());
    let report = std::fs::read_to_string(&path).expect("the report is written");
    for want in [
        "seed 4242",
        "SYNC_SIM_SEED=4242",
        "not converged: induced for the test",
        "the engine killed",
        "== p2 (chat r2, tickets 3, email e2)",
        "SCRIPT     chat set to offline by hand",
        "offline (not-available)",
        "tickets    sync wrote offline",
        "email      the fake received PUT /status/e2?status%5Bchat%5D=away",
        "-> 502 (Html(502))",
        "on chat (r2): available -> offline, wanted offline, 2 writes",
        "email: ",
    ] {
        assert!(report.contains(want), "the report has {want:?}:\n{report}");
    }
    // the database is kept for a post-mortem
    assert!(db.exists(), "the failed run's database is kept");
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
    let _ = (TICKETS, EMAIL);
}
