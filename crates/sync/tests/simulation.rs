//! Proof by simulation: three desks of three vendors (their fakes on 127.0.0.1), a few hundred
//! people, a seeded script of human changes on random desks, faults on every desk (503, 429,
//! dropped connections before and after the change is made, latency), and the sync engine
//! killed in the middle (its future dropped: a crash at whatever await it was in) and
//! restarted from the same SQLite file.
//!
//! Asserted, against a model of the rules written here independently of the engine: every
//! person ends in the state the rules decide, within a bounded time after the last change;
//! the writes counted at the fakes (their state changes: a write that changes nothing is not
//! counted there, a duplicate or an echo write would be) are exactly the writes the rules
//! require; every human change is decided exactly once (none lost across the crash, none
//! replayed, none from an echo).
//!
//! Converged means all three: every person in the rules' state, every write done, and every
//! change decided. A change can owe no write (Chatwoot busy -> offline while chat is offline
//! and email away) and still be decided late: a state the agent left seconds ago is read again
//! before it is decided (a read under way, or a replica behind, may show it), an interval and
//! the desk's read lag later. Judged by the desks alone, such a last change left the engine
//! killed before its decision about half the time (seed 2132146923926906012: 149 of 150).
//!
//! `SYNC_SIM_SEED=<n>` replays a run; the seed is printed on failure (`SYNC_SIM_VERBOSE=1`: the
//! engine's log and each change made). Time is scaled: desks are read every 250-400 ms instead
//! of every 15 s, and Engage Digital's client limit (500 requests a minute) is scaled with it.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use agentstatus_fakes::{Chaos, Fault};
use agentstatus_presence::Availability;
use agentstatus_sync::Store;
use common::{Fakes, HUMAN, Model, spawn_engine};

const PEOPLE: usize = 300;
const CHANGES: usize = 150;
/// A change every this long.
const STEP: Duration = Duration::from_millis(50);
/// One person is changed again only after this long (so each change is seen on its own), and
/// only once the previous change arrived on every desk.
const QUIET: Duration = Duration::from_millis(3_000);
/// Every person in the right state within this long after the last change, or, on a machine so
/// loaded that the engine's reads fall behind their intervals, within `CONVERGE_READS` reads of
/// every desk after the last change (counted at the fakes), whichever comes later; never more
/// than `CONVERGE_CAP`.
const CONVERGE: Duration = Duration::from_secs(12);
/// The bound in the desks' own reads: 30 intervals of the slowest desk.
const CONVERGE_READS: usize = 30;
const CONVERGE_CAP: Duration = Duration::from_secs(90);

fn faults_everywhere(f: &Fakes, seed: u64) {
    for d in 0..3 {
        let q = f.faults(d);
        q.set_chaos(Some(Chaos {
            seed: seed.wrapping_add(d as u64),
            unavailable: 0.03,
            rate_limited: 0.02,
        }));
        q.set_delay(Duration::from_millis(1));
    }
}

fn inject(f: &Fakes, rng: &mut fastrand::Rng) {
    let d = rng.usize(0..3);
    let fault = match rng.u8(0..4) {
        0 => Fault::DropConnection,
        1 => Fault::DropAfterHandling,
        2 => Fault::Delay(Duration::from_millis(300)),
        _ => Fault::RateLimited {
            retry_after_secs: 0,
        },
    };
    f.faults(d).push(fault);
}

/// One simulation at a time (the seeds below), to keep their timing.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_desks_converge_through_faults_and_a_crash() {
    let _serial = SERIAL.lock().await;
    simulate(common::seed()).await;
}

/// Issue #30's seed whose last changes include one that owes no write and is read again
/// before it is decided: the run ended before that decision about half the time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_2132146923926906012_every_change_decided() {
    let _serial = SERIAL.lock().await;
    simulate(2_132_146_923_926_906_012).await;
}

async fn simulate(seed: u64) {
    let verbose = common::verbose();
    let mut rng = fastrand::Rng::with_seed(seed);
    let f = Fakes::start_named(PEOPLE, "sim", seed).await;
    let on_fail = f.journal.on_fail();
    // a scratch directory of an unpredictable name, removed when dropped
    let (dir, db) = common::scratch("sim", seed);
    f.journal.set_db(&db);

    let mut model = Model::new(PEOPLE);
    let mut engine = spawn_engine(&f, &db);
    // the baseline read of every desk
    tokio::time::sleep(Duration::from_millis(800)).await;
    faults_everywhere(&f, seed);

    let mut last_change: HashMap<usize, tokio::time::Instant> = HashMap::new();
    let mut crashed_at = None;
    for n in 0..CHANGES {
        if n == CHANGES / 2 {
            // kill -9: the engine's future is dropped wherever it was
            engine.abort();
            let _ = (&mut engine).await;
            crashed_at = Some(n);
        }
        if crashed_at.is_some() && n == CHANGES / 2 + 10 {
            // restarted from the same file, after 10 changes made while it was down
            engine = spawn_engine(&f, &db);
            crashed_at = None;
        }
        // a person changes again only once their last change has arrived everywhere (the
        // model's counts assume it; a person is slower than that in real life)
        let p = loop {
            let now = tokio::time::Instant::now();
            let p = rng.usize(0..PEOPLE);
            let quiet = last_change
                .get(&p)
                .is_none_or(|t| now.duration_since(*t) >= QUIET);
            if quiet && (0..3).all(|d| f.state(d, p) == model.desk[p][d]) {
                break p;
            }
            tokio::task::yield_now().await;
        };
        let now = tokio::time::Instant::now();
        let d = rng.usize(0..3);
        let choices: Vec<Availability> = HUMAN[d]
            .iter()
            .copied()
            .filter(|a| *a != model.desk[p][d])
            .collect();
        let a = choices[rng.usize(0..choices.len())];
        if verbose {
            eprintln!(
                "change {n}: p{p} on desk {d}, {} -> {a} (the desks: {:?})",
                model.desk[p][d], model.desk[p]
            );
        }
        f.human(d, p, a);
        model.change(d, p, a);
        last_change.insert(p, now);
        if rng.u8(0..3) == 0 {
            inject(&f, &mut rng);
        }
        tokio::time::sleep(STEP).await;
    }

    // converged within the bound? The people's states, the writes, and the decisions: a
    // change that owes no write shows nothing at the fakes while it is read again
    let started = tokio::time::Instant::now();
    let reads_before = f.reads();
    loop {
        let w = model.wrong(&f);
        let writes_done = (0..3).all(|d| f.writes(d) >= model.writes[d]);
        let decided = common::decisions(&db);
        if w.is_empty() && writes_done && decided >= CHANGES {
            break;
        }
        let reads_since = f.reads_since(&reads_before);
        assert!(
            started.elapsed() < CONVERGE
                || (reads_since < CONVERGE_READS && started.elapsed() < CONVERGE_CAP),
            "not converged {:?} ({reads_since} reads of the slowest desk) after the last change {on_fail}: {} wrong, e.g. {:?}; writes at the fakes {:?}, required {:?}; {decided} of {CHANGES} changes decided",
            started.elapsed(),
            w.len(),
            &w[..w.len().min(5)],
            (0..3).map(|d| f.writes(d)).collect::<Vec<_>>(),
            model.writes,
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let converged = started.elapsed();
    // quiet: a few more intervals, nothing else is written (no echo, no flapping)
    for d in 0..3 {
        f.faults(d).set_chaos(None);
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    engine.abort();
    let _ = engine.await;

    let w = model.wrong(&f);
    assert!(w.is_empty(), "{on_fail}: {w:?}");
    let at_fakes: Vec<u64> = (0..3).map(|d| f.writes(d)).collect();
    assert_eq!(
        at_fakes,
        model.writes.to_vec(),
        "writes at the fakes (chat, tickets, email) vs the writes the rules require {on_fail}"
    );
    let store = Store::open_read_only(&db).unwrap();
    let decisions = store.read(|t| t.decisions()).unwrap();
    assert_eq!(
        decisions.len(),
        CHANGES,
        "every human change decided exactly once, across the crash {on_fail}"
    );
    assert!(
        store.read(|t| t.outbox()).unwrap().is_empty(),
        "nothing still owed {on_fail}"
    );
    let requests: Vec<usize> = (0..3).map(|d| f.faults(d).requests().len()).collect();
    let decided: i64 = decisions.iter().map(|d| d.writes).sum();
    assert_eq!(
        decided as u64,
        model.writes.iter().sum::<u64>(),
        "writes the decision log owed vs the rules {on_fail}"
    );
    eprintln!(
        "simulation seed {seed}: {PEOPLE} people, {CHANGES} changes, {decided} writes decided, writes at the fakes {at_fakes:?} (chat, tickets, email), requests {requests:?}, converged {converged:?} after the last change"
    );
    drop(dir);
}
