//! The simulation with the sync process's wall clock stepping (issue #30): an injected
//! [`SteppedClock`] is stepped forwards an hour (a virtual machine resumed), backwards three
//! hours (an NTP step), backwards two days while the engine is down (killed, restarted), and
//! forwards again, while people change their states on three desks (the vendors' fakes on
//! 127.0.0.1, whose clocks are not stepped: from the engine's side, their timestamps are skewed
//! by as much), with 503s and 429s at random, a desk down for several intervals, and writes
//! slowed at the fakes so that some are on their way across a step.
//!
//! Asserted, as in `simulation.rs`, against the rules' model: every person ends in the state
//! the rules decide, within a bound after the last change; the writes counted at the fakes are
//! exactly the writes the rules require (no echo written back, nothing written twice); every
//! human change decided exactly once, in the order the people made them (across the restart:
//! none lost, none replayed); nothing still owed. And what the clock used to break: `/health`
//! judges staleness by monotonic time (a desk read on time is not stale after the clock jumps
//! forward; a desk down is stale although the clock went back), and the lag from a decision to
//! its write is real time (not the hour the clock jumped).
//!
//! `SYNC_SIM_SEED=<n>` replays a run's script; the seed is printed on failure. Takes about
//! 15 seconds.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use agentstatus_fakes::{Chaos, Fault};
use agentstatus_presence::Availability;
use agentstatus_sync::{SteppedClock, Store};
use chrono::TimeDelta;
use common::{EMAIL, Fakes, HUMAN, Model, TICKETS};

const PEOPLE: usize = 120;
const CHANGES: usize = 95;
/// The time between two steps while a desk is down (so that the outage lasts 20 steps at most).
const STEP_DOWN: Duration = Duration::from_millis(250);
const STEP: Duration = Duration::from_millis(60);
/// A person is changed again only this long after their last change, and once it arrived.
const QUIET: Duration = Duration::from_millis(2_500);
/// Every person in the rules' state within this long after the last change, or within
/// `CONVERGE_READS` reads of the slowest desk on a loaded machine; never after `CONVERGE_CAP`.
const CONVERGE: Duration = Duration::from_secs(12);
const CONVERGE_READS: usize = 30;
const CONVERGE_CAP: Duration = Duration::from_secs(90);
/// A desk is stale after this many intervals without a successful read (10 x 400 ms for Engage
/// Digital, 10 x 250 ms for the others).
const STALE_AFTER: u32 = 10;
/// How long the desk is down: longer than it takes to be stale.
const OUTAGE: Duration = Duration::from_millis(5_000);
/// The longest lag from a decision to its write that real time allows here (the clock jumps
/// by an hour and more).
const LAG_BOUND_MS: u64 = 60_000;

/// The step the engine is killed at, restarted at, and the clock stepped forwards at after.
const KILL: usize = 66;
const RESTART: usize = 74;
const FORWARD: usize = 84;

/// The script's clock steps, by step number.
fn steps() -> Vec<(usize, TimeDelta, &'static str)> {
    vec![
        (
            10,
            TimeDelta::hours(1),
            "forwards an hour (a VM resumed), writes on their way",
        ),
        (
            25,
            TimeDelta::hours(-3),
            "backwards three hours (an NTP step)",
        ),
        (
            45,
            TimeDelta::minutes(-50),
            "backwards 50 minutes, a desk down",
        ),
        (
            KILL,
            TimeDelta::days(-2),
            "backwards two days, the engine down",
        ),
        (
            FORWARD,
            TimeDelta::days(2) + TimeDelta::hours(4),
            "forwards two days and four hours",
        ),
    ]
}

fn spawn(
    f: &Fakes,
    db: &std::path::Path,
    clock: &SteppedClock,
) -> (tokio::task::JoinHandle<()>, agentstatus_sync::Stats) {
    common::spawn_with_stats(
        common::desks(f, &common::client_config()),
        common::people(PEOPLE),
        db,
        common::options()
            .stale_after(STALE_AFTER)
            .wall_clock(clock.clone()),
    )
}

/// Wait (at most `within`) until the engine's `/health` judgement says what `want` accepts.
async fn health_until(
    stats: &agentstatus_sync::Stats,
    within: Duration,
    want: impl Fn(&[bool]) -> bool,
) -> Vec<bool> {
    let t = tokio::time::Instant::now();
    loop {
        let stale: Vec<bool> = stats.snapshot().desks.iter().map(|d| d.stale).collect();
        if want(&stale) || t.elapsed() >= within {
            return stale;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_clock_stepping_both_ways_changes_no_decision_and_no_write() {
    let seed = common::seed();
    common::verbose();
    let mut rng = fastrand::Rng::with_seed(seed);
    let f = Fakes::start_named(PEOPLE, "clock", seed).await;
    let on_fail = f.journal.on_fail();
    let (dir, db) = common::scratch("clock", seed);
    f.journal.set_db(&db);
    let clock = SteppedClock::new();
    let chaos = |d: usize| {
        Some(Chaos {
            seed: seed.wrapping_add(d as u64),
            unavailable: 0.02,
            rate_limited: 0.02,
        })
    };

    let mut model = Model::new(PEOPLE);
    let (first, mut stats) = spawn(&f, &db, &clock);
    let mut engine = Some(first);
    let mut all_stats = vec![stats.clone()];
    // the baseline read of every desk
    tokio::time::sleep(Duration::from_millis(800)).await;
    for d in 0..3 {
        f.faults(d).set_chaos(chaos(d));
    }
    let mut last_change: HashMap<usize, tokio::time::Instant> = HashMap::new();
    // per person, the changes made, in order: (desk, state)
    let mut script: HashMap<usize, Vec<(usize, Availability)>> = HashMap::new();
    let mut down: Option<tokio::time::Instant> = None;
    let mut stale_seen = false;
    let mut step_at = steps().into_iter().peekable();
    let mut down_engine = false;
    for n in 0..CHANGES {
        if n == KILL {
            assert!(down.is_none(), "the outage is over before the kill");
            common::kill(engine.take().unwrap(), &on_fail).await;
            down_engine = true;
        }
        if n == RESTART {
            let (again, s) = spawn(&f, &db, &clock);
            engine = Some(again);
            stats = s;
            all_stats.push(stats.clone());
            down_engine = false;
        }
        if n == FORWARD {
            // every change so far arrived, so that no write owed by the run before the restart
            // is still on its way (its lag is measured by the wall clock, the only clock two
            // runs share: see the crate docs)
            let t = tokio::time::Instant::now();
            while (0..PEOPLE).any(|p| !model.arrived(&f, p)) {
                assert!(
                    t.elapsed() < CONVERGE_CAP,
                    "not converged before the step {on_fail}: {:?}",
                    &model.wrong(&f)[..1]
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        if n == 40 {
            // Engage Digital down: every request a 503, for longer than it takes to be stale
            f.faults(EMAIL).set_chaos(Some(Chaos {
                seed,
                unavailable: 1.0,
                rate_limited: 0.0,
            }));
            down = Some(tokio::time::Instant::now());
        }
        if let Some(since) = down
            && since.elapsed() >= OUTAGE
        {
            // stale, although the clock went back meanwhile; the others are not
            let stale = health_until(&stats, Duration::from_secs(3), |s| s[EMAIL]).await;
            assert_eq!(
                stale,
                vec![false, false, true],
                "the desk down for {OUTAGE:?} ({STALE_AFTER} intervals are {:?}), the clock stepped back meanwhile: stale (chat, tickets, email) {on_fail}",
                Duration::from_millis(400) * STALE_AFTER
            );
            stale_seen = true;
            f.faults(EMAIL).set_chaos(chaos(EMAIL));
            down = None;
        }
        let p = loop {
            let now = tokio::time::Instant::now();
            let p = rng.usize(0..PEOPLE);
            let quiet = last_change
                .get(&p)
                .is_none_or(|t| now.duration_since(*t) >= QUIET);
            if quiet && model.arrived(&f, p) {
                break p;
            }
            tokio::task::yield_now().await;
        };
        let stepping = step_at.next_if(|(at, _, _)| *at == n);
        let in_flight = stepping.is_some() && !down_engine && down.is_none();
        let d = if in_flight {
            // the change on Chatwoot, its writes to the two others slowed at their fakes so
            // that they are on their way when the clock steps
            for t in [0, EMAIL] {
                for _ in 0..3 {
                    f.faults(t).push(Fault::Delay(Duration::from_millis(1_000)));
                }
            }
            TICKETS
        } else {
            rng.usize(0..3)
        };
        let choices: Vec<Availability> = HUMAN[d]
            .iter()
            .copied()
            .filter(|a| *a != model.desk[p][d])
            .collect();
        let a = if in_flight {
            // a change both others must follow
            if model.desk[p][TICKETS] == Availability::Available {
                Availability::Offline
            } else {
                Availability::Available
            }
        } else {
            choices[rng.usize(0..choices.len())]
        };
        let decided = if in_flight { common::decisions(&db) } else { 0 };
        f.human(d, p, a);
        model.change(d, p, a);
        script.entry(p).or_default().push((d, a));
        last_change.insert(p, tokio::time::Instant::now());
        if let Some((_, by, what)) = stepping {
            if in_flight {
                // decided, its writes not landed yet
                let t = tokio::time::Instant::now();
                while common::decisions(&db) == decided && t.elapsed() < Duration::from_secs(3) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            clock.step(by);
            eprintln!(
                "step {n}: the clock stepped {what} (now {})",
                clock.offset()
            );
            if !down_engine && down.is_none() {
                // every desk read on time is healthy, whatever the clock says now
                let stale =
                    health_until(&stats, Duration::from_secs(3), |s| s.iter().all(|s| !s)).await;
                assert_eq!(
                    stale,
                    vec![false; 3],
                    "no desk down, the clock stepped {what}: stale (chat, tickets, email) {on_fail}"
                );
            }
        }
        tokio::time::sleep(if down.is_some() { STEP_DOWN } else { STEP }).await;
    }
    assert!(stale_seen, "the outage was checked {on_fail}");

    // converged within the bound?
    let started = tokio::time::Instant::now();
    let reads_before = f.reads();
    loop {
        let w = model.wrong(&f);
        let writes_done = (0..3).all(|d| f.writes(d) >= model.writes[d]);
        // every change decided too: one that owes no write shows nothing at the fakes while the
        // engine reads the agent again before deciding it (a state it left seconds ago)
        let decided = common::decisions(&db);
        if w.is_empty() && writes_done && decided >= CHANGES {
            break;
        }
        let reads_since = f.reads_since(&reads_before);
        assert!(
            started.elapsed() < CONVERGE
                || (reads_since < CONVERGE_READS && started.elapsed() < CONVERGE_CAP),
            "not converged {:?} after the last change {on_fail}: {} wrong, e.g. {:?}; writes at the fakes {:?}, required {:?}; {decided} of {CHANGES} changes decided",
            started.elapsed(),
            w.len(),
            &w[..w.len().min(5)],
            f.all_writes(),
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
    let healthy = stats.snapshot();
    common::kill(engine.take().unwrap(), &on_fail).await;
    assert!(
        healthy.healthy(),
        "quiet, every desk read: {healthy:?} {on_fail}"
    );

    let w = model.wrong(&f);
    assert!(w.is_empty(), "{on_fail}: {w:?}");
    let at_fakes = f.all_writes();
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
        "every human change decided exactly once, across the steps and the restart {on_fail}"
    );
    // in the order the people made them, whatever the stamps say
    let names = ["chat", "tickets", "email"];
    for (p, changes) in &script {
        let logged: Vec<(String, String)> = decisions
            .iter()
            .filter(|d| d.person == format!("p{p}"))
            .map(|d| (d.desk.clone(), d.after.clone()))
            .collect();
        let made: Vec<(String, String)> = changes
            .iter()
            .map(|(d, a)| (names[*d].to_string(), a.as_str().to_string()))
            .collect();
        assert_eq!(logged, made, "p{p}'s decisions, in order {on_fail}");
    }
    assert!(
        store.read(|t| t.outbox()).unwrap().is_empty(),
        "nothing still owed {on_fail}"
    );
    let decided: i64 = decisions.iter().map(|d| d.writes).sum();
    assert_eq!(
        decided as u64,
        model.writes.iter().sum::<u64>(),
        "writes the decision log owed vs the rules {on_fail}"
    );
    // the lag is real time, not the clock's jumps
    for (run, s) in all_stats.iter().enumerate() {
        for d in s.snapshot().desks {
            assert!(
                d.lag_ms_max < LAG_BOUND_MS,
                "run {run}, desk {}: lag {} ms, the clock jumped by an hour or more {on_fail}",
                d.desk,
                d.lag_ms_max
            );
        }
    }
    let lags: Vec<Vec<u64>> = all_stats
        .iter()
        .map(|s| s.snapshot().desks.iter().map(|d| d.lag_ms_max).collect())
        .collect();
    let requests: Vec<usize> = (0..3).map(|d| f.faults(d).requests().len()).collect();
    eprintln!(
        "clock simulation seed {seed}: {PEOPLE} people, {CHANGES} changes, {decided} writes decided, writes at the fakes {at_fakes:?}, requests {requests:?}, longest lags per run {lags:?} ms, converged {converged:?} after the last change"
    );
    drop(dir);
}
