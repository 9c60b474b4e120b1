//! Four more schedules nobody tried before (issue #30: "the same simulation will be rerun
//! with schedules and faults you have not seen"), on the three desks of the other simulations
//! (the vendors' fakes on 127.0.0.1, `common`):
//!
//! - **a desk down for the whole first half**: after the baseline, one desk answers every
//!   request with a 503 for half the script (dozens of its intervals) while people change on
//!   every desk, it included; then it answers again and the script goes on;
//! - **people flapping every poll**: a few people switch their state on one desk back and forth
//!   about once per read of it, for seconds, while others change as usual;
//! - **a restart during a burst of 429s**: every desk refuses most requests with 429 (some
//!   with `Retry-After: 1`), a mass change is made, the engine is killed while its writes are
//!   refused, restarted while the burst goes on, and the burst ends;
//! - **set back by hand right after sync's write**: the moment sync's write shows on a desk, and
//!   before that desk is read again, the person sets it back to the state sync last read there.
//!
//! What they found, fixed in the engine: with people flapping, a read under way when sync's
//! write landed showed sync's previous write and was taken for a person's change (decided on a
//! desk nobody touched, and written to the others); and a person setting a desk back right
//! after sync's write was never seen (the desk's watcher diffed its reads against what it last
//! read, which the write had replaced), so the other desks kept sync's state.
//!
//! Asserted in each: every person ends in the state the rules decide, within a bound after the
//! last change; every decision was made on a desk the person changed by hand (sync's own
//! writes coming back are never decided on: no echo); nothing is written once quiet; nothing
//! is still owed; and, where each change is seen on its own, the writes counted at the fakes
//! are exactly those the rules require and every change is decided exactly once (across the
//! restart: none lost, none replayed). With flapping, the writes are at most those of every
//! flap seen, and the decisions at most the flaps.
//!
//! They run one after the other (a lock), not side by side, to keep their timing. Each takes
//! 8-20 seconds. `SYNC_SIM_SEED=<n>` replays a run; the seed is printed on failure.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use agentstatus_fakes::{Chaos, Fault};
use agentstatus_presence::Availability;
use agentstatus_sync::Store;
use common::{CHAT, Fakes, HUMAN, Model, TICKETS};
use tokio::time::Instant;

/// One scenario at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const PEOPLE: usize = 120;
const STEP: Duration = Duration::from_millis(60);
/// A person is changed again only this long after their last change, and once it arrived.
const QUIET: Duration = Duration::from_millis(2_500);
/// Every person in the rules' state within this long after the last change, or within
/// `CONVERGE_READS` reads of the slowest desk on a loaded machine; never after `CONVERGE_CAP`.
const CONVERGE: Duration = Duration::from_secs(15);
const CONVERGE_READS: usize = 40;
const CONVERGE_CAP: Duration = Duration::from_secs(90);
const NAMES: [&str; 3] = ["chat", "tickets", "email"];

/// One scenario's run: the fakes, the engine, the script and the rules' model.
struct Run {
    f: Fakes,
    dir: tempfile::TempDir,
    db: std::path::PathBuf,
    seed: u64,
    on_fail: String,
    rng: fastrand::Rng,
    model: Model,
    /// Per person, the changes made by hand: (desk, state).
    script: HashMap<usize, Vec<(usize, Availability)>>,
    last_change: HashMap<usize, Instant>,
    engine: Option<tokio::task::JoinHandle<()>>,
    /// Human changes made.
    changes: usize,
}

impl Run {
    async fn start(name: &str) -> Run {
        let seed = common::seed();
        common::verbose();
        let f = Fakes::start(PEOPLE).await;
        let (dir, db) = common::scratch(name, seed);
        let engine = Some(common::spawn_engine(&f, &db));
        // the baseline read of every desk
        tokio::time::sleep(Duration::from_millis(800)).await;
        Run {
            f,
            dir,
            db,
            seed,
            on_fail: format!("({name}: replay with SYNC_SIM_SEED={seed})"),
            rng: fastrand::Rng::with_seed(seed),
            model: Model::new(PEOPLE),
            script: HashMap::new(),
            last_change: HashMap::new(),
            engine,
            changes: 0,
        }
    }

    /// Low-rate 503s and 429s everywhere (`desk` aside, if given).
    fn chaos(&self, except: Option<usize>) {
        for d in (0..3).filter(|d| Some(*d) != except) {
            self.f.faults(d).set_chaos(Some(Chaos {
                seed: self.seed.wrapping_add(d as u64),
                unavailable: 0.02,
                rate_limited: 0.02,
            }));
        }
    }

    /// Someone whose last change arrived everywhere a while ago, not in `skip`.
    async fn pick(&mut self, skip: &[usize]) -> usize {
        loop {
            let p = self.rng.usize(0..PEOPLE);
            let quiet = self
                .last_change
                .get(&p)
                .is_none_or(|t| t.elapsed() >= QUIET);
            if !skip.contains(&p) && quiet && self.model.arrived(&self.f, p) {
                return p;
            }
            tokio::task::yield_now().await;
        }
    }

    /// Person `p` sets desk `d` by hand to `a`.
    fn change(&mut self, d: usize, p: usize, a: Availability) {
        self.f.human(d, p, a);
        self.model.change(d, p, a);
        self.script.entry(p).or_default().push((d, a));
        self.last_change.insert(p, Instant::now());
        self.changes += 1;
    }

    /// Person `p` changes desk `d` (random if `None`) by hand to another state.
    fn change_any(&mut self, d: Option<usize>, p: usize) {
        let d = d.unwrap_or_else(|| self.rng.usize(0..3));
        let choices: Vec<Availability> = HUMAN[d]
            .iter()
            .copied()
            .filter(|a| *a != self.model.desk[p][d])
            .collect();
        let a = choices[self.rng.usize(0..choices.len())];
        self.change(d, p, a);
    }

    async fn kill(&mut self) {
        common::kill(self.engine.take().expect("running"), &self.on_fail).await;
    }

    fn restart(&mut self) {
        assert!(self.engine.is_none());
        self.engine = Some(common::spawn_engine(&self.f, &self.db));
    }

    /// Every person in the rules' state, and what was written, within the bound.
    async fn converge(&self) -> Duration {
        let started = Instant::now();
        let reads_before = self.f.reads();
        loop {
            let w = self.model.wrong(&self.f);
            if w.is_empty() {
                return started.elapsed();
            }
            let reads_since = self.f.reads_since(&reads_before);
            assert!(
                started.elapsed() < CONVERGE
                    || (reads_since < CONVERGE_READS && started.elapsed() < CONVERGE_CAP),
                "not converged {:?} after the last change {}: {} wrong, e.g. {:?}; writes at the fakes {:?}, the rules' {:?}\n{}",
                started.elapsed(),
                self.on_fail,
                w.len(),
                &w[..w.len().min(5)],
                self.f.all_writes(),
                self.model.writes,
                self.history(&w),
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The script and the decisions of the first people `wrong` names.
    fn history(&self, wrong: &[String]) -> String {
        let decisions = Store::open_read_only(&self.db)
            .and_then(|s| s.read(|t| t.decisions()))
            .unwrap_or_default();
        let mut out = String::new();
        for w in wrong.iter().take(3) {
            let Some(p) = w
                .strip_prefix('p')
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            out.push_str(&format!("p{p}: script {:?}\n", self.script.get(&p)));
            for d in decisions.iter().filter(|d| d.person == format!("p{p}")) {
                out.push_str(&format!(
                    "  decided on {}: {:?} -> {} ({} writes; {})\n",
                    d.desk, d.before, d.after, d.writes, d.reason
                ));
            }
        }
        out
    }

    /// Converged, quiet, and the invariants. `exact`: each change was seen on its own (the
    /// writes and the decisions are exactly the rules'); else bounded by them.
    async fn finish(mut self, exact: bool) {
        let converged = self.converge().await;
        let on_fail = self.on_fail.clone();
        // the writes the rules require are done (a write still on its way lands first)
        let t = Instant::now();
        while exact
            && (0..3).any(|d| self.f.writes(d) < self.model.writes[d])
            && t.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // quiet: faults off, a few intervals more; nothing else is written (no echo, no flap)
        for d in 0..3 {
            self.f.faults(d).set_chaos(None);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let settled = self.f.all_writes();
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        self.kill().await;
        let at_fakes = self.f.all_writes();
        assert_eq!(
            at_fakes, settled,
            "written while quiet: an echo or a flap {on_fail}"
        );
        let w = self.model.wrong(&self.f);
        assert!(w.is_empty(), "{on_fail}: {w:?}\n{}", self.history(&w));
        let store = Store::open_read_only(&self.db).unwrap();
        let decisions = store.read(|t| t.decisions()).unwrap();
        // never decided on a desk the person did not change by hand: sync's own writes coming
        // back are echoes
        for d in &decisions {
            let p: usize = d.person[1..].parse().unwrap();
            let touched = self
                .script
                .get(&p)
                .is_some_and(|s| s.iter().any(|(desk, _)| NAMES[*desk] == d.desk));
            assert!(
                touched,
                "{} decided on {} ({:?} -> {}), a desk they never changed: an echo taken for a change {on_fail}\n{}",
                d.person,
                d.desk,
                d.before,
                d.after,
                self.history(&[format!("p{p} ")])
            );
        }
        assert!(
            store.read(|t| t.outbox()).unwrap().is_empty(),
            "nothing still owed {on_fail}"
        );
        if exact {
            assert_eq!(
                at_fakes,
                self.model.writes.to_vec(),
                "writes at the fakes (chat, tickets, email) vs the writes the rules require {on_fail}"
            );
            assert_eq!(
                decisions.len(),
                self.changes,
                "every human change decided exactly once {on_fail}"
            );
        } else {
            for d in 0..3 {
                assert!(
                    at_fakes[d] <= self.model.writes[d],
                    "writes at the fakes {at_fakes:?}, at most {:?} (every change seen) {on_fail}",
                    self.model.writes
                );
            }
            assert!(
                decisions.len() <= self.changes,
                "{} decisions for {} changes {on_fail}",
                decisions.len(),
                self.changes
            );
        }
        let requests: Vec<usize> = (0..3).map(|d| self.f.faults(d).requests().len()).collect();
        eprintln!(
            "{on_fail}: {PEOPLE} people, {} changes, {} decisions, writes at the fakes {at_fakes:?} (the rules' {:?}), requests {requests:?}, converged {converged:?} after the last change",
            self.changes,
            decisions.len(),
            self.model.writes
        );
        drop(self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_down_for_the_whole_first_half() {
    let _serial = SERIAL.lock().await;
    let mut run = Run::start("down-first-half").await;
    let down = run.rng.usize(0..3);
    run.chaos(Some(down));
    // every request a 503 (its reads and its writes), from the start of the script
    run.f.faults(down).set_chaos(Some(Chaos {
        seed: run.seed,
        unavailable: 1.0,
        rate_limited: 0.0,
    }));
    const STEPS: usize = 100;
    for n in 0..STEPS {
        if n == STEPS / 2 {
            run.chaos(None);
        }
        let p = run.pick(&[]).await;
        run.change_any(None, p);
        tokio::time::sleep(STEP).await;
    }
    run.finish(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_flapping_every_poll() {
    let _serial = SERIAL.lock().await;
    let mut run = Run::start("flapping").await;
    run.chaos(None);
    // four people flap, each on one desk, about once per read of it (chat and tickets are read
    // every 250 ms, email every 400 ms), for 6 s
    let flappers: Vec<(usize, usize)> = (0..4).map(|i| (i * 7, i % 3)).collect();
    let skip: Vec<usize> = flappers.iter().map(|(p, _)| *p).collect();
    let started = Instant::now();
    let mut next_flap = Instant::now();
    while started.elapsed() < Duration::from_secs(6) {
        if Instant::now() >= next_flap {
            for &(p, d) in &flappers {
                run.change_any(Some(d), p);
            }
            let period = common::INTERVAL_MS[0] + run.rng.u64(0..60) - 30;
            next_flap = Instant::now() + Duration::from_millis(period);
        }
        let p = run.pick(&skip).await;
        run.change_any(None, p);
        tokio::time::sleep(STEP).await;
    }
    // the flappers stop on whatever state they flapped to last: every desk follows it
    run.finish(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_during_a_burst_of_429s() {
    let _serial = SERIAL.lock().await;
    let mut run = Run::start("429-burst").await;
    run.chaos(None);
    const STEPS: usize = 80;
    for n in 0..STEPS {
        if n == STEPS / 3 {
            // the burst: every desk refuses most requests; some ask for a second
            for d in 0..3 {
                for _ in 0..10 {
                    run.f.faults(d).push(Fault::RateLimited {
                        retry_after_secs: 1,
                    });
                }
                run.f.faults(d).set_chaos(Some(Chaos {
                    seed: run.seed.wrapping_add(d as u64),
                    unavailable: 0.0,
                    rate_limited: 0.85,
                }));
            }
            // many people at once on one desk (the bulk path)
            let d = run.rng.usize(0..3);
            let mut chosen = Vec::new();
            while chosen.len() < 30 {
                let p = run.pick(&chosen).await;
                chosen.push(p);
            }
            for &p in &chosen {
                run.change_any(Some(d), p);
            }
            // the engine sees them and owes their writes while refused, is killed, and comes
            // back while the burst goes on
            tokio::time::sleep(Duration::from_millis(700)).await;
            run.kill().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            run.restart();
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            run.chaos(None);
            continue;
        }
        let p = run.pick(&[]).await;
        run.change_any(None, p);
        if n % 10 == 0 {
            // a short burst on one desk now and then
            let d = run.rng.usize(0..3);
            for _ in 0..5 {
                run.f.faults(d).push(Fault::RateLimited {
                    retry_after_secs: 1,
                });
            }
        }
        tokio::time::sleep(STEP).await;
    }
    run.finish(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_back_by_hand_right_after_syncs_write() {
    use Availability::*;
    let _serial = SERIAL.lock().await;
    let mut run = Run::start("set-back").await;
    // ten people, one after the other: each goes offline on chat; the moment sync's write shows
    // on tickets (before tickets is read again), they set tickets back to online by hand. The
    // rules: that is their last change, and chat and email follow it
    for i in 0..10 {
        let p = i * 11;
        run.change(CHAT, p, Offline);
        let t = Instant::now();
        while run.f.state(TICKETS, p) != Offline {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "sync's write never came {}",
                run.on_fail
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        run.change(TICKETS, p, Available);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // whether email got the first write before the second decision is a matter of timing
    run.finish(false).await;
}
