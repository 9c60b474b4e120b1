//! One scenario's run, shared by `simulation_schedules.rs` and `simulation_faults.rs`: the
//! fakes, the engine (killed and restarted at will), a script of human changes made one at a
//! time per person, the rules' model, and the invariants checked at the end ([`Run::finish`]).

use std::collections::HashMap;
use std::time::Duration;

use agentstatus_fakes::Chaos;
use agentstatus_presence::Availability;
use agentstatus_sync::{Desk, Store};
use tokio::time::Instant;

use super::{Fakes, HUMAN, Model};

/// One scenario at a time.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub const PEOPLE: usize = 120;
pub const STEP: Duration = Duration::from_millis(60);
/// A person is changed again only this long after their last change, and once it arrived.
pub const QUIET: Duration = Duration::from_millis(2_500);
/// Every person in the rules' state within this long after the last change, or within
/// `CONVERGE_READS` reads of the slowest desk on a loaded machine; never after `CONVERGE_CAP`.
pub const CONVERGE: Duration = Duration::from_secs(15);
pub const CONVERGE_READS: usize = 40;
pub const CONVERGE_CAP: Duration = Duration::from_secs(90);
pub const NAMES: [&str; 3] = ["chat", "tickets", "email"];

/// One scenario's run: the fakes, the engine, the script and the rules' model.
pub struct Run {
    pub f: Fakes,
    pub dir: super::Scratch,
    pub db: std::path::PathBuf,
    pub seed: u64,
    pub on_fail: String,
    pub rng: fastrand::Rng,
    pub model: Model,
    /// Per person, the changes made by hand: (desk, state).
    pub script: HashMap<usize, Vec<(usize, Availability)>>,
    pub last_change: HashMap<usize, Instant>,
    pub engine: Option<tokio::task::JoinHandle<()>>,
    /// Human changes made.
    pub changes: usize,
    /// The engine's desks over the fakes (at each start).
    pub desks: fn(&Fakes) -> Vec<Desk>,
    /// Time to converge on top of [`CONVERGE`], for a schedule whose desks' limits make the
    /// writes it owes take longer (zero unless the schedule says).
    pub converge_extra: Duration,
}

impl Run {
    /// The fakes, the engine over the usual desks ([`super::desks`]), and their baseline read.
    pub async fn start(name: &str) -> Run {
        Run::start_with(name, |f| super::desks(f, &super::client_config())).await
    }

    /// [`Run::start`], the engine over the desks `desks` makes (again at each restart).
    pub async fn start_with(name: &str, desks: fn(&Fakes) -> Vec<Desk>) -> Run {
        let seed = super::seed();
        super::verbose();
        let f = Fakes::start_named(PEOPLE, name, seed).await;
        let (dir, db) = super::scratch(name, seed);
        f.journal.set_db(&db);
        let on_fail = f.journal.on_fail();
        let engine = Some(super::spawn(
            desks(&f),
            super::people(f.people),
            &db,
            super::options(),
        ));
        // the baseline read of every desk
        tokio::time::sleep(Duration::from_millis(800)).await;
        Run {
            f,
            dir,
            db,
            seed,
            on_fail,
            rng: fastrand::Rng::with_seed(seed),
            model: Model::new(PEOPLE),
            script: HashMap::new(),
            last_change: HashMap::new(),
            engine,
            changes: 0,
            desks,
            converge_extra: Duration::ZERO,
        }
    }

    /// Low-rate 503s and 429s everywhere (`desk` aside, if given).
    pub fn chaos(&self, except: Option<usize>) {
        self.f.journal.event(format!(
            "503s and 429s at random (2% each) on every desk{}",
            except.map_or_else(String::new, |d| format!(" but {}", NAMES[d]))
        ));
        for d in (0..3).filter(|d| Some(*d) != except) {
            self.f.faults(d).set_chaos(Some(Chaos {
                seed: self.seed.wrapping_add(d as u64),
                unavailable: 0.02,
                rate_limited: 0.02,
            }));
        }
    }

    /// Someone whose last change arrived everywhere a while ago, and was decided, not in
    /// `skip`.
    pub async fn pick(&mut self, skip: &[usize]) -> usize {
        loop {
            let p = self.rng.usize(0..PEOPLE);
            let quiet = self
                .last_change
                .get(&p)
                .is_none_or(|t| t.elapsed() >= QUIET);
            if !skip.contains(&p) && quiet && self.model.arrived(&self.f, p) && self.seen(p) {
                return p;
            }
            tokio::task::yield_now().await;
        }
    }

    /// Whether sync decided every change the person made so far. A change that needs no write
    /// (busy on tickets when the others already hold its substitutes) has "arrived" at once;
    /// changed again before its desk was read (a desk whose reads wait out 429s for seconds),
    /// it was never there for any read to see, and the rules' model, which counts it, would be
    /// wrong, not the engine.
    fn seen(&self, p: usize) -> bool {
        let made = self.script.get(&p).map_or(0, Vec::len);
        made == 0
            || Store::open_read_only(&self.db)
                .and_then(|s| s.read(|t| t.decisions()))
                .is_ok_and(|d| d.iter().filter(|d| d.person == format!("p{p}")).count() >= made)
    }

    /// Person `p` sets desk `d` by hand to `a`.
    pub fn change(&mut self, d: usize, p: usize, a: Availability) {
        self.f.human(d, p, a);
        self.model.change(d, p, a);
        self.script.entry(p).or_default().push((d, a));
        self.last_change.insert(p, Instant::now());
        self.changes += 1;
    }

    /// Person `p` changes desk `d` (random if `None`) by hand to another state.
    pub fn change_any(&mut self, d: Option<usize>, p: usize) {
        let d = d.unwrap_or_else(|| self.rng.usize(0..3));
        let choices: Vec<Availability> = HUMAN[d]
            .iter()
            .copied()
            .filter(|a| *a != self.model.desk[p][d])
            .collect();
        let a = choices[self.rng.usize(0..choices.len())];
        self.change(d, p, a);
    }

    pub async fn kill(&mut self) {
        self.f.journal.event("the engine killed");
        super::kill(self.engine.take().expect("running"), &self.on_fail).await;
    }

    pub fn restart(&mut self) {
        assert!(self.engine.is_none());
        self.f.journal.event("the engine restarted");
        self.engine = Some(super::spawn(
            (self.desks)(&self.f),
            super::people(self.f.people),
            &self.db,
            super::options(),
        ));
    }

    /// Every person in the rules' state, and what was written, within the bound.
    pub async fn converge(&self) -> Duration {
        let started = Instant::now();
        let reads_before = self.f.reads();
        loop {
            let w = self.model.wrong(&self.f);
            if w.is_empty() {
                return started.elapsed();
            }
            let reads_since = self.f.reads_since(&reads_before);
            assert!(
                started.elapsed() < CONVERGE + self.converge_extra
                    || (reads_since < CONVERGE_READS && started.elapsed() < CONVERGE_CAP),
                "not converged {:?} after the last change: {} wrong, e.g. {:?}; writes at the fakes {:?}, the rules' {:?} {}",
                started.elapsed(),
                w.len(),
                &w[..w.len().min(5)],
                self.f.all_writes(),
                self.model.writes,
                self.on_fail,
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The people `wrong` names (`p12 ...`) are what a failure is about: their whole history goes
    /// in the failure's report ([`super::journal`]), whose file this names.
    pub fn history(&self, wrong: &[String]) -> String {
        self.f.journal.suspect_named(wrong);
        format!(
            "their script, observations, decisions and writes: {}",
            self.f.journal.path().display()
        )
    }

    /// Converged, quiet, and the invariants. `exact`: each change was seen on its own (the
    /// writes and the decisions are exactly the rules'); else bounded by them.
    pub async fn finish(mut self, exact: bool) {
        let converged = self.converge().await;
        let on_fail = self.on_fail.clone();
        // the writes the rules require are done (a write still on its way lands first), and
        // every change is decided: one that owes no write shows nothing at the fakes while the
        // engine reads the agent again before deciding it (a state it left seconds ago), an
        // interval and the desk's read lag after it was seen
        let t = Instant::now();
        while exact
            && ((0..3).any(|d| self.f.writes(d) < self.model.writes[d])
                || super::decisions(&self.db) < self.changes)
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
