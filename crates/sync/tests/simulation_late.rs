//! Sync's own writes applied late (issue #30, "the carried race"), on the three desks of the
//! other simulations (the vendors' fakes on 127.0.0.1, `common`): the first attempt of a write
//! sync sends is accepted by the vendor and not answered; the client gives up (its attempt
//! timeout, 700 ms: `impatient_client_config`) and sync counts it failed, its outcome unknown;
//! sync's retry gets through; then a person changes the agent (or changes back on the desk
//! that decided, and sync writes that); then the vendor applies the first attempt, late, over
//! that change.
//!
//! No timing luck: the fakes hold the first attempts ([`agentstatus_fakes::Faults::hold_writes`])
//! until the test releases them, and each step waits for what the engine has done (the
//! attempts held at the fakes, the retries landed, the decisions logged, the outbox empty)
//! before the next.
//!
//! Waves of four people each (never changed before), two kinds, sources on every desk:
//!
//! - **their change on the desk**: a person changes chat (or email); the first attempts of
//!   sync's writes to the other two desks are held; the person then sets tickets busy by hand;
//!   the held attempts land (tickets offline, over their busy). The rules: busy on tickets is
//!   their last change, and sync must put it back (one write each).
//! - **their change undone at the source**: a person changes one desk; the first attempts to
//!   the other two are held; the person changes the first desk back, and sync writes that to
//!   the others; the held attempts land over sync's newer state on both. Sync must put it back
//!   on both (one write each).
//!
//! Two waves hold the first retry of each write too: two attempts land late, in order.
//!
//! Asserted: every person ends in the state the rules decide (none lost their change); one
//! restoring write per held attempt that landed over another state (counted by their decisions
//! in the log); the state changes at the fakes are the rules' writes plus two per restoring
//! write (the late write it undoes, a change the rules never asked for, and itself); every
//! human change decided exactly once; nothing written once quiet; nothing owed.
//!
//! On the engine before the fix (main at e2dfe9b), each late write was read as a state that
//! had just ended, read again, and then decided as a person's change on the desk where it
//! landed (or taken for sync's own echo): the first wave fails, its 4 people all left offline
//! on tickets over their busy (0 restoring writes of 4); without the per-wave wait, all 20
//! people of the first five waves lost their change (44 desk states wrong).

mod common;

use std::time::Duration;

use agentstatus_presence::Availability;
use agentstatus_sync::{Desk, Store};
use common::run::{Run, SERIAL};
use common::{CHAT, EMAIL, Fakes, TICKETS, holds};

use tokio::time::Instant;

use Availability::*;

/// Longer than any wave takes from a held write's failure to its release.
const GRACE: Duration = Duration::from_secs(30);

/// Each step's bound: far longer than it takes on a loaded machine.
const STEP_BOUND: Duration = Duration::from_secs(30);

/// The simulations' desks, with the impatient client (a held write fails after 700 ms) and a
/// late-write grace longer than a wave.
fn late_desks(f: &Fakes) -> Vec<Desk> {
    common::desks(f, &common::impatient_client_config())
        .into_iter()
        .map(|d| d.late_grace(GRACE))
        .collect()
}

/// The reason every restoring write's decision gives, in part.
const PUT_BACK: &str = "landed late over";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Then: the person sets tickets busy by hand.
    TheirChangeOnTickets,
    /// Then: the person changes the source desk back.
    UndoneAtTheSource,
}

struct Counts {
    /// Restoring writes expected per desk.
    restores: [u64; 3],
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

fn outbox(db: &std::path::Path) -> Vec<agentstatus_sync::store::Owed> {
    Store::open_read_only(db)
        .and_then(|s| s.read(|t| t.outbox()))
        .unwrap_or_default()
}

/// One wave: `n` people (never changed before: available everywhere) change `source` by hand;
/// the other desks hold the first `attempts` attempts of each write sync sends for them (the
/// first, and its retries); sync's next retry of each lands (the held attempts failed at the
/// client: their outcome unknown to sync); then (`kind`) their second change, decided and
/// written; then the held attempts land, late, in the order they were sent.
async fn wave(
    run: &mut Run,
    used: &mut Vec<usize>,
    (source, kind, attempts): (usize, Kind, usize),
    n: usize,
    counts: &mut Counts,
) {
    let on_fail = run.on_fail.clone();
    let targets: Vec<usize> = (0..3).filter(|d| *d != source).collect();
    let mut chosen = Vec::new();
    while chosen.len() < n {
        let p = run.pick(used).await;
        chosen.push(p);
        used.push(p);
    }
    // the first change, and the writes it owes (the first attempt of each is held)
    let first = match source {
        CHAT => Offline,
        TICKETS => Busy,
        _ => Away,
    };
    let mut late: Vec<(usize, usize, Availability)> = Vec::new();
    for &p in &chosen {
        for &t in &targets {
            assert_eq!(run.model.desk[p][t], Available);
            late.push((p, t, holds(t, first)));
        }
    }
    for &t in &targets {
        assert_eq!(run.f.faults(t).held_writes(), 0);
        run.f.faults(t).hold_writes(n * attempts);
    }
    for &p in &chosen {
        run.change(source, p, first);
    }
    until("sync's first attempts held at the fakes", &on_fail, || {
        targets
            .iter()
            .all(|&t| run.f.faults(t).held_writes() == n * attempts)
    })
    .await;
    // the desks show the writes' states while their first attempts are held: each failed at
    // the client (its outcome unknown to sync) and sync's retry got through
    until("sync's retries of the held writes landed", &on_fail, || {
        late.iter().all(|&(p, t, state)| run.f.state(t, p) == state)
            && no_writes_owed(&run.db, &chosen)
    })
    .await;
    let decided = common::decisions(&run.db);
    for &p in &chosen {
        match kind {
            Kind::TheirChangeOnTickets => run.change(TICKETS, p, Busy),
            Kind::UndoneAtTheSource => run.change(source, p, Available),
        }
    }
    // their second change decided, and every write it owes done: the desks show the rules'
    // state, the held attempts still to land
    until("the second changes decided and written", &on_fail, || {
        common::decisions(&run.db) >= decided + n
            && chosen.iter().all(|p| run.model.arrived(&run.f, *p))
            && no_writes_owed(&run.db, &chosen)
    })
    .await;
    // a held attempt that lands over another state than its own is put back
    let mut restores = 0;
    for &(p, t, state) in &late {
        if run.f.state(t, p) != state {
            counts.restores[t] += 1;
            restores += 1;
        }
    }
    let restored_before = put_back(&run.db, &chosen);
    // the vendor applies them now, late
    for &t in &targets {
        assert_eq!(run.f.faults(t).release_writes().await, n * attempts);
    }
    // put back (the next wave's held writes are its own)
    let t = Instant::now();
    while !(put_back(&run.db, &chosen) >= restored_before + restores
        && chosen.iter().all(|p| run.model.arrived(&run.f, *p))
        && no_writes_owed(&run.db, &chosen))
    {
        if t.elapsed() > STEP_BOUND {
            let lost: Vec<String> = chosen
                .iter()
                .filter(|p| !run.model.arrived(&run.f, **p))
                .map(|p| {
                    format!(
                        "p{p}: {:?}, the rules say {:?}",
                        run.f.states(*p),
                        run.model.desk[*p]
                    )
                })
                .collect();
            panic!(
                "the late writes not undone within {STEP_BOUND:?}: {} of the wave's {n} people lost their change {lost:?}; {} restoring writes of {restores} {on_fail}",
                lost.len(),
                put_back(&run.db, &chosen) - restored_before,
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The restoring writes' decisions logged for these people.
fn put_back(db: &std::path::Path, people: &[usize]) -> usize {
    Store::open_read_only(db)
        .and_then(|s| s.read(|t| t.decisions()))
        .unwrap_or_default()
        .iter()
        .filter(|d| {
            d.reason.contains(PUT_BACK) && people.iter().any(|p| d.person == format!("p{p}"))
        })
        .count()
}

/// Nothing in the outbox for these people.
fn no_writes_owed(db: &std::path::Path, people: &[usize]) -> bool {
    outbox(db)
        .iter()
        .all(|o| !people.iter().any(|p| o.person == format!("p{p}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_writes_never_undo_a_persons_change() {
    let _serial = SERIAL.lock().await;
    let mut run = Run::start_with("late", late_desks).await;
    let mut counts = Counts { restores: [0; 3] };
    let mut used = Vec::new();
    // (the desk changed first, the second change, the attempts of each write held)
    let waves = [
        (CHAT, Kind::TheirChangeOnTickets, 1),
        (EMAIL, Kind::UndoneAtTheSource, 1),
        (EMAIL, Kind::TheirChangeOnTickets, 1),
        (CHAT, Kind::UndoneAtTheSource, 1),
        (TICKETS, Kind::UndoneAtTheSource, 1),
        // the first retry held too: two attempts of each write land late, the first over
        // the second change, the second over the first
        (CHAT, Kind::TheirChangeOnTickets, 2),
        (TICKETS, Kind::UndoneAtTheSource, 2),
    ];
    for w in waves {
        wave(&mut run, &mut used, w, 4, &mut counts).await;
    }
    let on_fail = run.on_fail.clone();
    // every person in the rules' state (none lost their change), and every change decided,
    // the restorations too (a change that owes no write shows nothing at the fakes while the
    // engine reads the agent again before deciding it)
    let t = Instant::now();
    let decisions_due = run.changes + counts.restores.iter().sum::<u64>() as usize;
    loop {
        let wrong = run.model.wrong(&run.f);
        if wrong.is_empty() && common::decisions(&run.db) >= decisions_due {
            break;
        }
        if t.elapsed() > Duration::from_secs(20) {
            let mut lost: Vec<&str> = wrong.iter().filter_map(|w| w.split(' ').next()).collect();
            lost.dedup();
            panic!(
                "{} people lost their change ({} desks wrong), e.g. {:?}; {} of {decisions_due} decisions {on_fail}\n{}",
                lost.len(),
                wrong.len(),
                &wrong[..wrong.len().min(6)],
                common::decisions(&run.db),
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
    let store = Store::open_read_only(&run.db).unwrap();
    let decisions = store.read(|t| t.decisions()).unwrap();
    let (restores, human): (Vec<_>, Vec<_>) =
        decisions.iter().partition(|d| d.reason.contains(PUT_BACK));
    let mut restored = [0u64; 3];
    for d in &restores {
        let desk = common::run::NAMES
            .iter()
            .position(|n| *n == d.desk)
            .unwrap();
        restored[desk] += 1;
    }
    let expected: Vec<u64> = (0..3)
        .map(|d| run.model.writes[d] + 2 * counts.restores[d])
        .collect();
    eprintln!(
        "{on_fail}: {} changes, {} decisions, {} restoring writes {restored:?} (expected {:?}), writes at the fakes {at_fakes:?} (the rules' {:?}, and two per restoring write)",
        run.changes,
        human.len(),
        restores.len(),
        counts.restores,
        run.model.writes,
    );
    assert_eq!(
        restored, counts.restores,
        "one restoring write per late write that landed over a later state {on_fail}"
    );
    assert!(
        counts.restores.iter().filter(|n| **n > 0).count() >= 2,
        "late writes landed on several desks: {:?}",
        counts.restores
    );
    assert_eq!(
        at_fakes, expected,
        "writes at the fakes (chat, tickets, email): the rules', and per restoring write the late write it undoes and itself {on_fail}"
    );
    assert_eq!(
        human.len(),
        run.changes,
        "every human change decided exactly once {on_fail}"
    );
    assert!(
        store.read(|t| t.outbox()).unwrap().is_empty(),
        "nothing still owed {on_fail}"
    );
    run.kill().await;
}
