//! The simulations' shared setup (`simulation.rs`, `simulation_unseen.rs`, `simulation_clock.rs`,
//! `simulation_schedules.rs`): three desks of three vendors' fakes on 127.0.0.1 (Rocket.Chat,
//! Chatwoot, Engage Digital), one agent per person on each, the engine's desks and people map
//! over them, and the engine started on its own task (aborting the task is a crash).
//!
//! Time is scaled: desks are read every 250-400 ms instead of every 15 s, and Engage Digital's
//! client limit (500 requests a minute) is scaled with it.

// each simulation is its own test binary and uses part of this
#![allow(dead_code)]

pub mod journal;
pub mod run;

use std::sync::Arc;
use std::time::Duration;

use agentstatus_chatwoot::fake::{Agent as CwAgent, Chatwoot};
use agentstatus_engage_digital::fake::{Agent as EdAgent, EngageDigital};
use agentstatus_fakes::Faults;
use agentstatus_presence::registry::Settings;
use agentstatus_presence::{Availability, Presence};
use agentstatus_rocketchat::fake::{Agent as RcAgent, RocketChat};
use agentstatus_runtime::{ClientConfig, RateLimit, RetryPolicy};
use agentstatus_sync::{Desk, Engine, Options, People, Stats, Store};
use journal::{Journal, Recorded};

use Availability::*;

/// Each desk's interval, in config order.
pub const INTERVAL_MS: [u64; 3] = [250, 250, 400];

/// How long after its failure a write of sync's may still land (`Desk::late_grace`), scaled
/// like the intervals (60 s, the default, over 60): longer than the slow answers the
/// simulations inject past the impatient client's timeout (1 s, given up at 700 ms).
pub const LATE_GRACE: Duration = Duration::from_secs(1);

/// The desks, in config order.
pub const CHAT: usize = 0; // Rocket.Chat: available, offline
pub const TICKETS: usize = 1; // Chatwoot: available, busy, offline
pub const EMAIL: usize = 2; // Engage Digital: available, away

/// What a person can do on each desk by hand.
pub const HUMAN: [&[Availability]; 3] = [
    &[Available, Offline],
    &[Available, Busy, Offline],
    &[Available, Away],
];

/// The rules' substitutes, as declared for the engine ([`desks`]).
pub fn holds(desk: usize, a: Availability) -> Availability {
    match (desk, a) {
        (CHAT, Busy | Away) => Offline,
        (TICKETS, Away) => Offline,
        (EMAIL, Busy | Offline) => Away,
        (_, a) => a,
    }
}

pub fn rc_id(p: usize) -> String {
    format!("r{p}")
}
pub fn cw_id(p: usize) -> i64 {
    p as i64 + 1
}
pub fn ed_id(p: usize) -> String {
    format!("e{p}")
}
/// The Chatwoot administrator whose token sync uses.
pub const CW_ADMIN: i64 = 100_000;

/// The three fakes, every person available on each, and the run's [`Journal`] (a failure while
/// they are alive writes its report).
pub struct Fakes {
    pub rc: RocketChat,
    pub cw: Chatwoot,
    pub ed: EngageDigital,
    pub people: usize,
    pub journal: Arc<Journal>,
}

impl Drop for Fakes {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let exchanges: Vec<(String, Vec<agentstatus_fakes::Exchange>)> = (0..3)
            .map(|d| (run::NAMES[d].to_string(), self.faults(d).exchanges()))
            .collect();
        let summary = journal::last_panic().unwrap_or_default();
        if let Some(path) = self
            .journal
            .write_report(&summary, &person_agents, &exchanges)
        {
            eprintln!("the failure's whole history: {}", path.display());
        }
    }
}

/// The person's agent on each desk, as (desk, agent id).
pub fn person_agents(p: usize) -> Vec<(String, String)> {
    vec![
        ("chat".to_string(), rc_id(p)),
        ("tickets".to_string(), cw_id(p).to_string()),
        ("email".to_string(), ed_id(p)),
    ]
}

impl Fakes {
    /// [`Fakes::start_named`] for a run without a name or seed of its own.
    pub async fn start(people: usize) -> Self {
        Self::start_named(people, "simulation", 0).await
    }

    /// The fakes, their journal named for the run (`name`, `seed`: its report's file).
    pub async fn start_named(people: usize, name: &str, seed: u64) -> Self {
        let rc = RocketChat::start().await.unwrap();
        rc.add_user("mgr", "rc-token", true);
        // the service's token is an admin's or a bot's: the server's rate limiter skips it
        rc.bypass_rate_limit("mgr");
        let cw = Chatwoot::start(1).await.unwrap();
        cw.add_agent(CwAgent::new(CW_ADMIN, "Admin", "cw-token", "online").administrator());
        let ed = EngageDigital::start().await.unwrap();
        ed.add_supervisor_token("ed-token");
        for p in 0..people {
            rc.add_agent(RcAgent::new(&rc_id(p), &format!("Person {p}"), "available"));
            cw.add_agent(CwAgent::new(
                cw_id(p),
                &format!("Person {p}"),
                &format!("t{p}"),
                "online",
            ));
            ed.add_agent(EdAgent::new(
                &ed_id(p),
                &[("mail", "Mail"), ("chat", "Chat")],
                "available",
            ));
        }
        Fakes {
            rc,
            cw,
            ed,
            people,
            journal: Journal::new(name, seed),
        }
    }

    pub fn faults(&self, desk: usize) -> &Faults {
        match desk {
            CHAT => self.rc.faults(),
            TICKETS => self.cw.faults(),
            _ => self.ed.faults(),
        }
    }

    /// State changes the desk's fake made (a write that changes nothing is not one; a duplicate
    /// or an echo write would be).
    pub fn writes(&self, desk: usize) -> u64 {
        match desk {
            CHAT => self.rc.state_changes(),
            TICKETS => self.cw.state_changes(),
            _ => self.ed.state_changes(),
        }
    }

    /// Every desk's writes.
    pub fn all_writes(&self) -> Vec<u64> {
        (0..3).map(|d| self.writes(d)).collect()
    }

    /// What the desk shows for the person now.
    pub fn state(&self, desk: usize, p: usize) -> Availability {
        match desk {
            CHAT => match self.rc.agent(&rc_id(p)).unwrap().status_livechat.as_str() {
                "available" => Available,
                _ => Offline,
            },
            TICKETS => match self.cw.agent(cw_id(p)).unwrap().availability_status() {
                "online" => Available,
                "busy" => Busy,
                _ => Offline,
            },
            _ => {
                let a = self.ed.agent(&ed_id(p)).unwrap();
                if a.channels.iter().any(|c| c.status == "available") {
                    Available
                } else {
                    Away
                }
            }
        }
    }

    /// What every desk shows for the person now.
    pub fn states(&self, p: usize) -> [Availability; 3] {
        [self.state(0, p), self.state(1, p), self.state(2, p)]
    }

    /// A person changes their state on a desk by hand (not a write through the API).
    pub fn human(&self, desk: usize, p: usize, a: Availability) {
        self.journal
            .script(p, format!("{} set to {a} by hand", run::NAMES[desk]));
        match desk {
            CHAT => {
                let mut agent = self.rc.agent(&rc_id(p)).unwrap();
                agent.status_livechat = if a == Available {
                    "available"
                } else {
                    "not-available"
                }
                .into();
                self.rc.add_agent(agent);
            }
            TICKETS => {
                let mut agent = self.cw.agent(cw_id(p)).unwrap();
                agent.availability = match a {
                    Available => "online",
                    Busy => "busy",
                    _ => "offline",
                }
                .into();
                self.cw.add_agent(agent);
            }
            _ => {
                let mut agent = self.ed.agent(&ed_id(p)).unwrap();
                for c in &mut agent.channels {
                    c.status = if a == Available { "available" } else { "away" }.into();
                }
                self.ed.add_agent(agent);
            }
        }
    }

    /// GET requests each desk's fake received so far (its reads).
    pub fn reads(&self) -> Vec<usize> {
        (0..3)
            .map(|d| {
                self.faults(d)
                    .requests()
                    .iter()
                    .filter(|(method, _)| method == "GET")
                    .count()
            })
            .collect()
    }

    /// GET requests the slowest desk has had since `before` (a [`Fakes::reads`] taken
    /// earlier): the simulations' convergence bound counts the slowest desk's reads.
    pub fn reads_since(&self, before: &[usize]) -> usize {
        self.reads()
            .iter()
            .zip(before)
            .map(|(now, before)| now - before)
            .min()
            .unwrap_or(0)
    }
}

/// The rules, as a model, for people changed one change at a time (each change arrived on
/// every desk before the person changes again): each human change makes the person's
/// availability the changed state, and each other desk holds it (or its substitute, [`holds`]);
/// a write is owed where the desk does not already.
pub struct Model {
    /// Per person, what each desk should show.
    pub desk: Vec<[Availability; 3]>,
    /// Writes the rules require, per desk.
    pub writes: [u64; 3],
}

impl Model {
    /// `people`, available everywhere.
    pub fn new(people: usize) -> Self {
        Model {
            desk: vec![[Available, Available, Available]; people],
            writes: [0; 3],
        }
    }

    /// A person changed desk `d` to `a` by hand.
    pub fn change(&mut self, d: usize, p: usize, a: Availability) {
        self.desk[p][d] = a;
        for t in 0..3 {
            if t == d {
                continue;
            }
            let target = holds(t, a);
            if self.desk[p][t] != target {
                self.desk[p][t] = target;
                self.writes[t] += 1;
            }
        }
    }

    /// Whether every desk shows the person as the rules say.
    pub fn arrived(&self, f: &Fakes, p: usize) -> bool {
        f.states(p) == self.desk[p]
    }

    /// Every (person, desk) not as the rules say.
    pub fn wrong(&self, f: &Fakes) -> Vec<String> {
        let mut wrong = Vec::new();
        for (p, want) in self.desk.iter().enumerate() {
            for (d, want) in want.iter().enumerate() {
                let got = f.state(d, p);
                if got != *want {
                    wrong.push(format!("p{p} on desk {d}: {got}, the rules say {want}"));
                }
            }
        }
        // a failure now is about them
        f.journal.suspect_named(&wrong);
        wrong
    }
}

/// The clients' retries, scaled like the intervals.
pub fn client_config() -> ClientConfig {
    ClientConfig::default().with_retry(RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        deadline: Duration::from_secs(5),
    })
}

/// [`client_config`], an attempt slower than 700 ms given up (a slow-answer fault waits 1 s),
/// and a call's retries within 3 s.
pub fn impatient_client_config() -> ClientConfig {
    ClientConfig::default()
        .with_timeouts(Duration::from_millis(700), Duration::from_millis(500))
        .with_retry(RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            deadline: Duration::from_secs(3),
        })
}

/// The engine's desks over the fakes, with `config` for every client, and the substitutes
/// [`holds`] models.
pub fn desks(f: &Fakes, config: &ClientConfig) -> Vec<Desk> {
    let rc = (agentstatus_rocketchat::presence::entry().connect)(
        &Settings::new(f.rc.url(), config.clone())
            .with_value("user_id", "mgr")
            .with_secret("token", "rc-token".to_string().into()),
    )
    .unwrap();
    let cw = (agentstatus_chatwoot::presence::entry().connect)(
        &Settings::new(f.cw.url(), config.clone())
            .with_value("account_id", "1")
            .with_secret("token", "cw-token".to_string().into()),
    )
    .unwrap();
    // Engage Digital's documented 500 requests a minute, scaled like the intervals
    let ed_client = agentstatus_engage_digital::Client::with_config(
        &f.ed.url(),
        "ed-token".to_string().into(),
        &config
            .clone()
            .with_rate_limit(Some(RateLimit::per_minute(500 * 20))),
    )
    .unwrap();
    let ed: Box<dyn Presence> =
        Box::new(agentstatus_engage_digital::presence::EngageDigitalPresence::new(ed_client));
    let ms = Duration::from_millis;
    // every call journaled, for a failure's report
    let rc = Recorded::wrap("chat", Arc::from(rc), &f.journal);
    let cw = Recorded::wrap("tickets", Arc::from(cw), &f.journal);
    let ed = Recorded::wrap("email", Arc::from(ed), &f.journal);
    vec![
        Desk::new("chat", rc, ms(INTERVAL_MS[0]))
            .substitute(Busy, Offline)
            .substitute(Away, Offline)
            .late_grace(LATE_GRACE),
        Desk::new("tickets", cw, ms(INTERVAL_MS[1]))
            .substitute(Away, Offline)
            .late_grace(LATE_GRACE),
        Desk::new("email", ed, ms(INTERVAL_MS[2]))
            .substitute(Busy, Away)
            .substitute(Offline, Away)
            .late_grace(LATE_GRACE),
    ]
}

/// One row per person: their agent on each desk.
pub fn people(n: usize) -> People {
    People::from_rows(
        &["chat", "tickets", "email"],
        (0..n)
            .map(|p| {
                (
                    format!("p{p}"),
                    vec![Some(rc_id(p)), Some(cw_id(p).to_string()), Some(ed_id(p))],
                )
            })
            .collect(),
    )
    .expect("people map")
}

/// The options every simulation runs the engine with: changes gathered for 50 ms.
pub fn options() -> Options {
    Options::default().settle(Duration::from_millis(50))
}

/// Start the engine over `desks` on its own task, its state in `db`; aborting the task is a
/// crash.
pub fn spawn(
    desks: Vec<Desk>,
    people: People,
    db: &std::path::Path,
    options: Options,
) -> tokio::task::JoinHandle<()> {
    spawn_with_stats(desks, people, db, options).0
}

/// [`spawn`], and the engine's counters, readable while it runs.
pub fn spawn_with_stats(
    desks: Vec<Desk>,
    people: People,
    db: &std::path::Path,
    options: Options,
) -> (tokio::task::JoinHandle<()>, Stats) {
    let store = Store::open(db).unwrap();
    let mut engine = Engine::new(desks, people, store, options).unwrap();
    let stats = engine.stats();
    let task = tokio::spawn(async move {
        engine.run(std::future::pending()).await.unwrap();
    });
    (task, stats)
}

/// Start the engine over the fakes with [`client_config`] and [`options`].
pub fn spawn_engine(f: &Fakes, db: &std::path::Path) -> tokio::task::JoinHandle<()> {
    spawn(desks(f, &client_config()), people(f.people), db, options())
}

/// A crash: the engine's task aborted wherever it is. It must still be running (it never stops
/// on its own: a panic or an error would have ended it).
pub async fn kill(engine: tokio::task::JoinHandle<()>, on_fail: &str) {
    assert!(
        !engine.is_finished(),
        "the engine stopped on its own {on_fail}"
    );
    engine.abort();
    match engine.await {
        Err(e) if e.is_cancelled() => {}
        Err(e) => panic!("the engine panicked {on_fail}: {e}"),
        Ok(()) => panic!("the engine returned on its own {on_fail}"),
    }
}

/// The run's seed: `SYNC_SIM_SEED`, else a random one (printed on failure, to replay).
pub fn seed() -> u64 {
    std::env::var("SYNC_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..))
}

/// `SYNC_SIM_VERBOSE`: the engine's log (RUST_LOG, default info) with the test's own lines.
pub fn verbose() -> bool {
    let on = std::env::var_os("SYNC_SIM_VERBOSE").is_some();
    if on {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .with_writer(std::io::stderr)
            .try_init();
    }
    on
}

/// Decisions logged so far in the database at `db` (read beside the engine: WAL mode).
pub fn decisions(db: &std::path::Path) -> usize {
    Store::open_read_only(db)
        .and_then(|s| s.read(|t| t.decisions()))
        .map(|d| d.len())
        .unwrap_or(0)
}

/// A scratch directory of an unpredictable name (removed when dropped, kept when dropped by a
/// failure: its database is part of the failure's report) and the database in it.
pub fn scratch(name: &str, seed: u64) -> (Scratch, std::path::PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("agentstatus-sync-{name}-{seed}-"))
        .tempdir()
        .unwrap();
    let db = dir.path().join("sync.db");
    (Scratch(Some(dir)), db)
}

/// A scratch directory: removed when dropped, unless a failure drops it.
pub struct Scratch(Option<tempfile::TempDir>);

impl Scratch {
    pub fn path(&self) -> &std::path::Path {
        self.0.as_ref().expect("until dropped").path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take()
            && std::thread::panicking()
        {
            eprintln!(
                "the failed run's database is kept in {}",
                dir.keep().display()
            );
        }
    }
}
