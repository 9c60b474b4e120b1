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
//! `SYNC_SIM_SEED=<n>` replays a run; the seed is printed on failure. Time is scaled: desks
//! are read every 250-400 ms instead of every 15 s, and Engage Digital's client limit (500
//! requests a minute) is scaled with it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use agentstatus_chatwoot::fake::{Agent as CwAgent, Chatwoot};
use agentstatus_engage_digital::fake::{Agent as EdAgent, EngageDigital};
use agentstatus_fakes::{Chaos, Fault, Faults};
use agentstatus_presence::registry::Settings;
use agentstatus_presence::{Availability, Presence};
use agentstatus_rocketchat::fake::{Agent as RcAgent, RocketChat};
use agentstatus_runtime::{ClientConfig, RateLimit, RetryPolicy};
use agentstatus_sync::{Desk, Engine, Options, People, Store};

use Availability::*;

const PEOPLE: usize = 300;
const CHANGES: usize = 150;
/// A change every this long.
const STEP: Duration = Duration::from_millis(50);
/// One person is changed again only after this long (so each change is seen on its own), and
/// only once the previous change arrived on every desk.
const QUIET: Duration = Duration::from_millis(3_000);
const INTERVAL_MS: [u64; 3] = [250, 250, 400];
/// Every person in the right state within this long after the last change, or, on a machine so
/// loaded that the engine's reads fall behind their intervals, within `CONVERGE_READS` reads of
/// every desk after the last change (counted at the fakes), whichever comes later; never more
/// than `CONVERGE_CAP`.
const CONVERGE: Duration = Duration::from_secs(12);
/// The bound in the desks' own reads: 30 intervals of the slowest desk.
const CONVERGE_READS: usize = 30;
const CONVERGE_CAP: Duration = Duration::from_secs(90);

/// The desks, in config order.
const CHAT: usize = 0; // Rocket.Chat: available, offline
const TICKETS: usize = 1; // Chatwoot: available, busy, offline
const EMAIL: usize = 2; // Engage Digital: available, away

/// What a person can do on each desk by hand.
const HUMAN: [&[Availability]; 3] = [
    &[Available, Offline],
    &[Available, Busy, Offline],
    &[Available, Away],
];

/// The rules' substitutes, as declared for the engine below.
fn holds(desk: usize, a: Availability) -> Availability {
    match (desk, a) {
        (CHAT, Busy | Away) => Offline,
        (TICKETS, Away) => Offline,
        (EMAIL, Busy | Offline) => Away,
        (_, a) => a,
    }
}

struct Fakes {
    rc: RocketChat,
    cw: Chatwoot,
    ed: EngageDigital,
}

fn rc_id(p: usize) -> String {
    format!("r{p}")
}
fn cw_id(p: usize) -> i64 {
    p as i64 + 1
}
fn ed_id(p: usize) -> String {
    format!("e{p}")
}
const CW_ADMIN: i64 = 100_000;

impl Fakes {
    async fn start() -> Self {
        let rc = RocketChat::start().await.unwrap();
        rc.add_user("mgr", "rc-token", true);
        // the service's token is an admin's or a bot's: the server's rate limiter skips it
        rc.bypass_rate_limit("mgr");
        let cw = Chatwoot::start(1).await.unwrap();
        cw.add_agent(CwAgent::new(CW_ADMIN, "Admin", "cw-token", "online").administrator());
        let ed = EngageDigital::start().await.unwrap();
        ed.add_supervisor_token("ed-token");
        for p in 0..PEOPLE {
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
        Fakes { rc, cw, ed }
    }

    fn faults(&self, desk: usize) -> &Faults {
        match desk {
            CHAT => self.rc.faults(),
            TICKETS => self.cw.faults(),
            _ => self.ed.faults(),
        }
    }

    fn writes(&self, desk: usize) -> u64 {
        match desk {
            CHAT => self.rc.state_changes(),
            TICKETS => self.cw.state_changes(),
            _ => self.ed.state_changes(),
        }
    }

    /// What the desk shows for the person now.
    fn state(&self, desk: usize, p: usize) -> Availability {
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

    /// A person changes their state on a desk by hand (not a write through the API).
    fn human(&self, desk: usize, p: usize, a: Availability) {
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
}

fn client_config() -> ClientConfig {
    ClientConfig::default().with_retry(RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        deadline: Duration::from_secs(5),
    })
}

fn desks(f: &Fakes) -> Vec<Desk> {
    let rc = (agentstatus_rocketchat::presence::entry().connect)(
        &Settings::new(f.rc.url(), client_config())
            .with_value("user_id", "mgr")
            .with_secret("token", "rc-token".to_string().into()),
    )
    .unwrap();
    let cw = (agentstatus_chatwoot::presence::entry().connect)(
        &Settings::new(f.cw.url(), client_config())
            .with_value("account_id", "1")
            .with_secret("token", "cw-token".to_string().into()),
    )
    .unwrap();
    // Engage Digital's documented 500 requests a minute, scaled like the intervals
    let ed_client = agentstatus_engage_digital::Client::with_config(
        &f.ed.url(),
        "ed-token".to_string().into(),
        &client_config().with_rate_limit(Some(RateLimit::per_minute(500 * 20))),
    )
    .unwrap();
    let ed: Box<dyn Presence> =
        Box::new(agentstatus_engage_digital::presence::EngageDigitalPresence::new(ed_client));
    let ms = Duration::from_millis;
    vec![
        Desk::new("chat", Arc::from(rc), ms(INTERVAL_MS[0]))
            .substitute(Busy, Offline)
            .substitute(Away, Offline),
        Desk::new("tickets", Arc::from(cw), ms(INTERVAL_MS[1])).substitute(Away, Offline),
        Desk::new("email", Arc::from(ed), ms(INTERVAL_MS[2]))
            .substitute(Busy, Away)
            .substitute(Offline, Away),
    ]
}

fn people() -> People {
    People::from_rows(
        &["chat", "tickets", "email"],
        (0..PEOPLE)
            .map(|p| {
                (
                    format!("p{p}"),
                    vec![Some(rc_id(p)), Some(cw_id(p).to_string()), Some(ed_id(p))],
                )
            })
            .collect(),
    )
}

/// Start the engine on its own task; aborting the task is a crash.
fn spawn_engine(f: &Fakes, db: &std::path::Path) -> tokio::task::JoinHandle<()> {
    let store = Store::open(db).unwrap();
    let mut engine = Engine::new(
        desks(f),
        people(),
        store,
        Options::default().settle(Duration::from_millis(50)),
    )
    .unwrap();
    tokio::spawn(async move {
        engine.run(std::future::pending()).await.unwrap();
    })
}

/// The rules, as a model: each human change makes the person's availability the changed
/// state, and each other desk holds it (or its substitute); a write is owed where the desk
/// does not already.
struct Model {
    desk: Vec<[Availability; 3]>,
    writes: [u64; 3],
}

impl Model {
    fn change(&mut self, d: usize, p: usize, a: Availability) {
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
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_desks_converge_through_faults_and_a_crash() {
    let seed: u64 = std::env::var("SYNC_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let on_fail = format!("(replay with SYNC_SIM_SEED={seed})");
    let mut rng = fastrand::Rng::with_seed(seed);
    let f = Fakes::start().await;
    // a scratch directory of an unpredictable name, removed when dropped
    let dir = tempfile::Builder::new()
        .prefix(&format!("agentstatus-sync-sim-{seed}-"))
        .tempdir()
        .unwrap();
    let db = dir.path().join("sync.db");

    let mut model = Model {
        desk: vec![[Available, Available, Available]; PEOPLE],
        writes: [0; 3],
    };
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
        f.human(d, p, a);
        model.change(d, p, a);
        last_change.insert(p, now);
        if rng.u8(0..3) == 0 {
            inject(&f, &mut rng);
        }
        tokio::time::sleep(STEP).await;
    }

    // converged within the bound?
    let started = tokio::time::Instant::now();
    let reads = |f: &Fakes| -> Vec<usize> {
        (0..3)
            .map(|d| {
                f.faults(d)
                    .requests()
                    .iter()
                    .filter(|(method, _)| method == "GET")
                    .count()
            })
            .collect()
    };
    let reads_before = reads(&f);
    let wrong = |f: &Fakes, model: &Model| -> Vec<String> {
        let mut wrong = Vec::new();
        for p in 0..PEOPLE {
            for d in 0..3 {
                let got = f.state(d, p);
                if got != model.desk[p][d] {
                    wrong.push(format!(
                        "p{p} on desk {d}: {got}, the rules say {}",
                        model.desk[p][d]
                    ));
                }
            }
        }
        wrong
    };
    loop {
        let w = wrong(&f, &model);
        let writes_done = (0..3).all(|d| f.writes(d) >= model.writes[d]);
        if w.is_empty() && writes_done {
            break;
        }
        let reads_since = reads(&f)
            .iter()
            .zip(&reads_before)
            .map(|(now, before)| now - before)
            .min()
            .unwrap_or(0);
        assert!(
            started.elapsed() < CONVERGE
                || (reads_since < CONVERGE_READS && started.elapsed() < CONVERGE_CAP),
            "not converged {:?} ({reads_since} reads of the slowest desk) after the last change {on_fail}: {} wrong, e.g. {:?}; writes at the fakes {:?}, required {:?}",
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

    let w = wrong(&f, &model);
    assert!(w.is_empty(), "{on_fail}: {w:?}");
    let at_fakes: Vec<u64> = (0..3).map(|d| f.writes(d)).collect();
    assert_eq!(
        at_fakes,
        model.writes.to_vec(),
        "writes at the fakes (chat, tickets, email) vs the writes the rules require {on_fail}"
    );
    let store = Store::open(&db).unwrap();
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
