//! Sync's writes in doubt across a `kill -9` (issue #30): the first attempts of the writes sync
//! sends are held by the fakes ([`agentstatus_fakes::Faults::hold_writes`]), and the engine is
//! killed while they are on their way (handed to a writer, not answered: whether they were
//! sent the engine cannot know). Then:
//!
//! - **they land after the restart**: the restarted engine sends what is owed again (it
//!   lands), the person changes a desk by hand, sync writes that, and then the vendor applies
//!   the held attempts, late, over it. The rules: the person's change was decided after those
//!   writes were sent, so it wins; sync puts it back (one write per late landing).
//! - **they land while sync is down**: the person changes the source desk back while sync is
//!   down, and the held attempts land meanwhile. The restarted engine reads the late writes as
//!   its own (their echo) and the person's change as theirs: decided, written everywhere.
//!
//! Asserted: every person ends in the state the rules decide, on every desk; one restoring
//! write per held attempt that landed over another state; the state changes at the fakes are
//! the rules' writes plus two per restoring write (the late write and the restoring one); every
//! human change decided exactly once; nothing owed.
//!
//! The engine before its writes in doubt were kept in the database (they were in memory only)
//! fails the first: the late writes land with no record of them and are decided as the
//! person's change on that desk, propagated everywhere (the person's change lost).

mod common;

use std::time::Duration;

use agentstatus_presence::Availability;
use agentstatus_sync::{Desk, Store};
use common::run::{Run, SERIAL};
use common::{CHAT, EMAIL, Fakes, TICKETS, holds};

use tokio::time::Instant;

use Availability::*;

/// Longer than the test takes from a held write's hand-out to its release.
const GRACE: Duration = Duration::from_secs(60);

/// Each step's bound: far longer than it takes on a loaded machine.
const STEP_BOUND: Duration = Duration::from_secs(30);

/// People per wave.
const N: usize = 4;

/// The reason every restoring write's decision gives, in part.
const PUT_BACK: &str = "landed late over";

/// The simulations' desks with the usual client (a held write is not given up on for
/// seconds: the engine is killed while it is on its way), and a late-write grace longer than
/// the test.
fn doubt_desks(f: &Fakes) -> Vec<Desk> {
    common::desks(f, &common::client_config())
        .into_iter()
        .map(|d| d.late_grace(GRACE))
        .collect()
}

async fn until(what: &str, on_fail: &str, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(
            t.elapsed() < STEP_BOUND,
            "{what}: not within {STEP_BOUND:?} {on_fail}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn decisions(db: &std::path::Path) -> Vec<agentstatus_sync::store::Decision> {
    Store::open_read_only(db)
        .and_then(|s| s.read(|t| t.decisions()))
        .unwrap_or_default()
}

fn owed(db: &std::path::Path) -> usize {
    Store::open_read_only(db)
        .and_then(|s| s.read(|t| t.outbox()))
        .map_or(usize::MAX, |o| o.len())
}

/// `N` people (never changed before) set tickets busy; the first attempt of each write sync
/// sends for them to chat and email is held; the engine is killed while those are on their
/// way. Their held attempts (person, desk, state).
async fn held_then_killed(
    run: &mut Run,
    used: &mut Vec<usize>,
) -> Vec<(usize, usize, Availability)> {
    let on_fail = run.on_fail.clone();
    let mut chosen = Vec::new();
    while chosen.len() < N {
        let p = run.pick(used).await;
        chosen.push(p);
        used.push(p);
    }
    let mut late = Vec::new();
    for &p in &chosen {
        for t in [CHAT, EMAIL] {
            assert_eq!(run.model.desk[p][t], Available);
            late.push((p, t, holds(t, Busy)));
        }
    }
    for t in [CHAT, EMAIL] {
        assert_eq!(run.f.faults(t).held_writes(), 0);
        run.f.faults(t).hold_writes(N);
    }
    for &p in &chosen {
        run.change(TICKETS, p, Busy);
    }
    until("sync's first attempts held at the fakes", &on_fail, || {
        [CHAT, EMAIL]
            .iter()
            .all(|&t| run.f.faults(t).held_writes() == N)
    })
    .await;
    // on their way, unanswered: killed now
    run.kill().await;
    late
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_in_doubt_when_killed_never_undo_a_persons_change() {
    let _serial = SERIAL.lock().await;
    let mut run = Run::start_with("doubt", doubt_desks).await;
    let on_fail = run.on_fail.clone();
    let mut used = Vec::new();
    let mut restores = [0u64; 3];

    // 1. the held attempts land after the restart, over the person's later change
    run.f
        .journal
        .event("wave 1: held, killed, landing after the restart");
    let late = held_then_killed(&mut run, &mut used).await;
    let chosen: Vec<usize> = used.clone();
    run.restart();
    // the restarted engine sends what is owed again: it lands
    until("the owed writes resent and landed", &on_fail, || {
        late.iter().all(|&(p, t, s)| run.f.state(t, p) == s) && owed(&run.db) == 0
    })
    .await;
    let decided = decisions(&run.db).len();
    for &p in &chosen {
        run.change(EMAIL, p, Available);
    }
    until("the person's change decided and written", &on_fail, || {
        decisions(&run.db).len() >= decided + N
            && chosen.iter().all(|p| run.model.arrived(&run.f, *p))
            && owed(&run.db) == 0
    })
    .await;
    for &(p, t, s) in &late {
        if run.f.state(t, p) != s {
            restores[t] += 1;
        }
    }
    for t in [CHAT, EMAIL] {
        assert_eq!(run.f.faults(t).release_writes().await, N);
    }
    run.f.journal.event("wave 1: the held writes released");

    // 2. the held attempts land while sync is down; the person changed the source back
    // meanwhile
    let t = Instant::now();
    while !(chosen.iter().all(|p| run.model.arrived(&run.f, *p))
        && owed(&run.db) == 0
        && decisions(&run.db)
            .iter()
            .filter(|d| d.reason.contains(PUT_BACK))
            .count() as u64
            >= restores.iter().sum::<u64>())
    {
        if t.elapsed() > STEP_BOUND {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    run.f
        .journal
        .event("wave 2: held, killed, landing while down");
    let first_wave = used.len();
    let late2 = held_then_killed(&mut run, &mut used).await;
    let chosen2: Vec<usize> = used[first_wave..].to_vec();
    for &p in &chosen2 {
        run.change(TICKETS, p, Available);
    }
    for t in [CHAT, EMAIL] {
        assert_eq!(run.f.faults(t).release_writes().await, N);
    }
    for &(p, t, s) in &late2 {
        assert_eq!(run.f.state(t, p), s, "the late write landed while down");
    }
    run.restart();

    // every person in the rules' state on every desk, every change decided (the restorations
    // too), nothing owed
    let due = run.changes + restores.iter().sum::<u64>() as usize;
    let t = Instant::now();
    loop {
        let wrong = run.model.wrong(&run.f);
        if wrong.is_empty() && decisions(&run.db).len() >= due && owed(&run.db) == 0 {
            break;
        }
        if t.elapsed() > STEP_BOUND {
            panic!(
                "{} desks wrong, e.g. {:?}; {} of {due} decisions {on_fail}\n{}",
                wrong.len(),
                &wrong[..wrong.len().min(6)],
                decisions(&run.db).len(),
                run.history(&wrong)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // quiet: nothing else is written (no echo of a restoring write, no flap)
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let settled = run.f.all_writes();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let at_fakes = run.f.all_writes();
    assert_eq!(at_fakes, settled, "written while quiet {on_fail}");
    let wrong = run.model.wrong(&run.f);
    assert!(wrong.is_empty(), "{wrong:?} {on_fail}");
    let log = decisions(&run.db);
    let (restoring, human): (Vec<_>, Vec<_>) =
        log.iter().partition(|d| d.reason.contains(PUT_BACK));
    let mut restored = [0u64; 3];
    for d in &restoring {
        let desk = common::run::NAMES
            .iter()
            .position(|n| *n == d.desk)
            .unwrap();
        restored[desk] += 1;
    }
    eprintln!(
        "{on_fail}: {} changes, {} decisions, restoring writes {restored:?} (expected {restores:?}), writes at the fakes {at_fakes:?} (the rules' {:?})",
        run.changes,
        human.len(),
        run.model.writes,
    );
    assert!(
        restores[CHAT] + restores[EMAIL] > 0,
        "the held writes of wave 1 land over the person's later change"
    );
    assert_eq!(
        restored, restores,
        "one restoring write per late write that landed over a later state {on_fail}"
    );
    let expected: Vec<u64> = (0..3)
        .map(|d| run.model.writes[d] + 2 * restores[d])
        .collect();
    assert_eq!(
        at_fakes, expected,
        "writes at the fakes (chat, tickets, email): the rules', and per restoring write the late write it undoes and itself {on_fail}"
    );
    assert_eq!(
        human.len(),
        run.changes,
        "every human change decided exactly once {on_fail}"
    );
    assert_eq!(owed(&run.db), 0, "nothing still owed {on_fail}");
    run.kill().await;
}
