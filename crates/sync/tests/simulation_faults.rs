//! Faults and schedules nobody had tried (issue #30, "the same simulation will be rerun with
//! schedules and faults you have not seen"), on the three desks of the other simulations (the
//! vendors' fakes on 127.0.0.1, `common`), each asserting what the others do ([`Run::finish`]):
//! every person in the rules' state within a bound after the last change, no decision on a
//! desk the person never changed (no echo), nothing written once quiet, nothing owed, and the
//! writes at the fakes and the decisions exactly the rules' (none lost, none replayed):
//!
//! - **stale snapshots**: every desk answers some reads (30%) with an answer it gave up to a
//!   second earlier, as a read replica or a cache in front of the vendor does
//!   (`agentstatus_fakes::Stale`): a state before sync's write that the vendor had already
//!   acknowledged, a person's state before their change;
//! - **one agent unreadable for many rechecks**: right after sync's write to an agent lands, the
//!   person sets it back by hand, and from then on every read of that one agent fails (the
//!   desk's list still answers) for 12 s, longer than the recheck's reads of the agent
//!   lasted (10, an interval apart);
//! - **vendor clocks hours off ours**: Rocket.Chat's clock 3 hours ahead (its `Date`,
//!   `_updatedAt`, so the delta's `from=`, and `X-RateLimit-Reset` with its limiter on),
//!   Chatwoot's 5 hours behind, Engage Digital's 2 hours ahead, and 429s with `Retry-After` as a
//!   date by those clocks;
//! - **agents joining and leaving while a desk's list is read in pages**: Rocket.Chat's agent
//!   list (100 a page) shifts by one between its pages on every read
//!   (`RocketChat::set_paging_churn`), so every other full read of the desk misses an agent;
//! - **a restart while one desk is down**: the engine is killed, one desk answers nothing but
//!   503s, the engine restarts and people change on every desk for many intervals (the down
//!   desk included: seen when it is back), then the desk comes back;
//! - **two desks of one vendor on one fake**: two Chatwoot desks (two teams' administrators'
//!   tokens) on one server beside chat and email, with a crash (its own four-desk model).
//!
//! What they found, fixed in the engine: a stale read showing the state before sync's write
//! (or before a person's change) was decided as a person's change, and written everywhere
//! (154 writes where the rules require 61); a write whose read-back was stale was recorded as
//! not landed; an agent a paged list missed was decided offline on a desk nobody touched; a
//! recheck that failed 10 times dropped its observation for good (the person's change never
//! arrived). The restart while a desk is down, the clocks hours off and the two desks on one
//! server held as they were (the decision for the first: nothing is written to a desk before
//! this run has read it once; its owed writes wait in the outbox).
//!
//! They run one after the other (a lock). `SYNC_SIM_SEED=<n>` replays a run (the seed is
//! printed on failure); `SYNC_SIM_VERBOSE` logs.

mod common;

use std::time::Duration;

use agentstatus_fakes::{Chaos, Fault, Stale};
use agentstatus_presence::Availability;
use common::run::{Run, SERIAL, STEP};
use common::{CHAT, EMAIL, TICKETS};
use tokio::time::Instant;

use Availability::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_snapshots_on_every_desk() {
    let _serial = SERIAL.lock().await;
    let mut run = Run::start("stale").await;
    run.chaos(None);
    for d in 0..3 {
        run.f.faults(d).set_stale(Some(Stale {
            seed: run.seed.wrapping_add(10 + d as u64),
            probability: 0.3,
            max_age: Duration::from_secs(1),
        }));
    }
    const STEPS: usize = 100;
    for _ in 0..STEPS {
        let p = run.pick(&[]).await;
        run.change_any(None, p);
        tokio::time::sleep(STEP).await;
    }
    let stale: Vec<u64> = (0..3).map(|d| run.f.faults(d).stale_answers()).collect();
    assert!(
        stale.iter().all(|n| *n > 0),
        "every desk gave stale answers: {stale:?} {}",
        run.on_fail
    );
    // the replicas catch up once quiet (before `finish` counts what is written while quiet)
    run.converge().await;
    for d in 0..3 {
        run.f.faults(d).set_stale(None);
    }
    eprintln!("stale answers per desk: {stale:?}");
    run.finish(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_agent_unreadable_for_many_rechecks() {
    let _serial = SERIAL.lock().await;
    let mut run = Run::start("unreadable").await;
    // two people, one after the other, on the email desk (Engage Digital: one agent's read is
    // `GET /status/<id>`, the list `GET /status`): sync writes away then available there;
    // the moment the second write shows, the person sets email back to away by hand, and every
    // read of their agent fails from then on for 12 s (the recheck's reads of one agent, an
    // interval apart, gave up after 10: 4 s)
    for p in [100, 116] {
        run.change(CHAT, p, Offline);
        wait_for(&run, EMAIL, p, Away).await;
        run.change(CHAT, p, Available);
        wait_for(&run, EMAIL, p, Available).await;
        let agent = format!("/status/{}", common::ed_id(p));
        let reads_before = run.f.faults(EMAIL).count("GET", &agent);
        run.f.faults(EMAIL).refuse("GET", &agent, 503);
        run.change(EMAIL, p, Away);
        // their change reaches the other desks while their agent still cannot be read alone
        let t = Instant::now();
        while !run.model.arrived(&run.f, p) {
            assert!(
                t.elapsed() < Duration::from_secs(12),
                "p{p}'s change on email never arrived while their agent could not be read {}: {:?}, the rules say {:?}\n{}",
                run.on_fail,
                run.f.states(p),
                run.model.desk[p],
                run.history(&[format!("p{p} ")])
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // the agent's own reads were tried, and refused, more times than a recheck used to try
        let refused = run.f.faults(EMAIL).count("GET", &agent) - reads_before;
        assert!(
            refused >= 10,
            "p{p}'s agent was read alone {refused} times while refused {}",
            run.on_fail
        );
        tokio::time::sleep(Duration::from_millis(12_000).saturating_sub(t.elapsed())).await;
        run.f.faults(EMAIL).stop_refusing();
    }
    run.finish(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_clocks_hours_off_ours() {
    let _serial = SERIAL.lock().await;
    let mut run = Run::start("skew").await;
    const HOUR: i64 = 3600;
    run.f.rc.set_clock_skew(3 * HOUR);
    run.f.cw.faults().set_clock_skew(-5 * HOUR);
    run.f.ed.faults().set_clock_skew(2 * HOUR);
    // Rocket.Chat's limiter counts sync's calls too (no bypass), a few a second per route: its
    // 429s say when to come back in `X-RateLimit-Reset`, by its clock
    run.f.rc.set_rate_limit(12, Duration::from_secs(1));
    run.f.rc.stop_bypassing_rate_limit("mgr");
    // which makes chat's writes slow: each costs up to three requests (a retry's read of the
    // agent, the write, its read back), two of them on the agent read route that the rechecks
    // use too, at 12 a second, after the 429s' waits; the 80-odd writes the script owes chat
    // take most of the 15 s bound alone
    run.converge_extra = Duration::from_secs(15);
    run.chaos(None);
    const STEPS: usize = 80;
    for n in 0..STEPS {
        if n % 10 == 5 {
            // a burst on one desk: 429s whose Retry-After is a date by the desk's clock, and
            // many people at once there (its writes go through the refusals)
            let d = run.rng.usize(0..3);
            for _ in 0..6 {
                run.f.faults(d).push(Fault::RateLimited {
                    retry_after_secs: 1,
                });
            }
            let mut chosen = Vec::new();
            while chosen.len() < 6 {
                let p = run.pick(&chosen).await;
                chosen.push(p);
            }
            for &p in &chosen {
                run.change_any(Some(d), p);
            }
        }
        let p = run.pick(&[]).await;
        run.change_any(None, p);
        tokio::time::sleep(STEP).await;
    }
    run.converge().await;
    // every injected 429 (a date by its server's clock) was answered, and the desks' reads go
    // on after them
    let t = Instant::now();
    while (0..3).any(|d| run.f.faults(d).pending() > 0) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "a desk stopped sending requests after a 429 dated by its clock: {:?} left {}",
            (0..3)
                .map(|d| run.f.faults(d).pending())
                .collect::<Vec<_>>(),
            run.on_fail
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let limited = run.f.rc.rate_limited();
    eprintln!("Rocket.Chat's limiter refused {limited} calls");
    run.finish(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_joining_and_leaving_while_a_desk_is_read_in_pages() {
    let _serial = SERIAL.lock().await;
    let mut run = Run::start("paging").await;
    run.f.rc.set_paging_churn(true);
    // faults make the Rocket.Chat desk read its whole list again (its delta fails)
    run.chaos(None);
    let lists_before = run
        .f
        .rc
        .faults()
        .count("GET", "/api/v1/livechat/users/agent");
    const STEPS: usize = 80;
    for _ in 0..STEPS {
        let p = run.pick(&[]).await;
        run.change_any(None, p);
        tokio::time::sleep(STEP).await;
    }
    let lists = run
        .f
        .rc
        .faults()
        .count("GET", "/api/v1/livechat/users/agent")
        - lists_before;
    assert!(
        lists >= 4,
        "the desk was read in pages {lists} times {}",
        run.on_fail
    );
    eprintln!("Rocket.Chat's agent list read {lists} times (pages)");
    run.finish(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_while_one_desk_is_down() {
    let _serial = SERIAL.lock().await;
    let mut run = Run::start("restart-down").await;
    run.chaos(None);
    // a few changes as usual
    for _ in 0..15 {
        let p = run.pick(&[]).await;
        run.change_any(None, p);
        tokio::time::sleep(STEP).await;
    }
    let down = run.rng.usize(0..3);
    run.kill().await;
    run.f.faults(down).set_chaos(Some(Chaos {
        seed: run.seed,
        unavailable: 1.0,
        rate_limited: 0.0,
    }));
    run.restart();
    let written = run.f.writes(down);
    // people change on every desk for 40 steps (dozens of the down desk's intervals): the writes
    // owed to it wait in the outbox; a person's change on it waits for its first read
    for _ in 0..40 {
        let p = run.pick(&[]).await;
        run.change_any(None, p);
        tokio::time::sleep(STEP).await;
    }
    assert_eq!(
        run.f.writes(down),
        written,
        "written to a desk that answers nothing {}",
        run.on_fail
    );
    run.chaos(None);
    for _ in 0..30 {
        let p = run.pick(&[]).await;
        run.change_any(None, p);
        tokio::time::sleep(STEP).await;
    }
    run.finish(true).await;
}

/// Until the desk shows the person in `a` (sync's write arrived), within 10 s.
async fn wait_for(run: &Run, d: usize, p: usize, a: Availability) {
    let t = Instant::now();
    while run.f.state(d, p) != a {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "sync's write of {a} to p{p} on desk {d} never came {}",
            run.on_fail
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Two desks of one vendor on one server: each person has an agent in each of two teams of one
/// Chatwoot account (`tickets`, `tickets-b`: two desks, two administrators' tokens, one fake,
/// each desk listing every agent of the account and reporting the other team's as no one),
/// beside chat and email. People change on all four desks one at a time, with faults; the two
/// Chatwoot desks share the server's budget and its request log, and the writes the fake counts
/// are both desks' together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desks_of_one_vendor_on_one_fake() {
    use agentstatus_chatwoot::fake::Agent as CwAgent;
    use agentstatus_presence::registry::Settings;
    use agentstatus_sync::{Desk, People};
    use std::sync::Arc;

    let _serial = SERIAL.lock().await;
    const N: usize = 60;
    /// The second team's agent of person `p` on the Chatwoot server.
    fn cw_b(p: usize) -> i64 {
        500 + p as i64
    }
    const B: usize = 3; // the second Chatwoot desk, after chat, tickets, email
    let seed = common::seed();
    common::verbose();
    let mut rng = fastrand::Rng::with_seed(seed);
    let f = common::Fakes::start_named(N, "two-desks", seed).await;
    let on_fail = f.journal.on_fail();
    f.cw.add_agent(CwAgent::new(100_001, "Admin B", "cw-token-b", "online").administrator());
    for p in 0..N {
        f.cw.add_agent(CwAgent::new(
            cw_b(p),
            &format!("Person {p} (team B)"),
            &format!("tb{p}"),
            "online",
        ));
    }
    let desks = |f: &common::Fakes| -> Vec<Desk> {
        let mut desks = common::desks(f, &common::client_config());
        let b = (agentstatus_chatwoot::presence::entry().connect)(
            &Settings::new(f.cw.url(), common::client_config())
                .with_value("account_id", "1")
                .with_secret("token", "cw-token-b".to_string().into()),
        )
        .unwrap();
        desks.push(
            Desk::new("tickets-b", Arc::from(b), Duration::from_millis(300))
                .substitute(Away, Offline),
        );
        desks
    };
    let people = || {
        People::from_rows(
            &["chat", "tickets", "email", "tickets-b"],
            (0..N)
                .map(|p| {
                    (
                        format!("p{p}"),
                        vec![
                            Some(common::rc_id(p)),
                            Some(common::cw_id(p).to_string()),
                            Some(common::ed_id(p)),
                            Some(cw_b(p).to_string()),
                        ],
                    )
                })
                .collect(),
        )
        .unwrap()
    };
    // what each desk shows, and what a person does by hand there
    let state = |f: &common::Fakes, d: usize, p: usize| -> Availability {
        if d == B {
            match f.cw.agent(cw_b(p)).unwrap().availability_status() {
                "online" => Available,
                "busy" => Busy,
                _ => Offline,
            }
        } else {
            f.state(d, p)
        }
    };
    let human = |f: &common::Fakes, d: usize, p: usize, a: Availability| {
        if d == B {
            let mut agent = f.cw.agent(cw_b(p)).unwrap();
            agent.availability = match a {
                Available => "online",
                Busy => "busy",
                _ => "offline",
            }
            .into();
            f.cw.add_agent(agent);
        } else {
            f.human(d, p, a);
        }
    };
    let holds = |d: usize, a: Availability| {
        if d == B {
            common::holds(TICKETS, a)
        } else {
            common::holds(d, a)
        }
    };
    let (dir, db) = common::scratch("two-desks", seed);
    f.journal.set_db(&db);
    let mut engine = Some(common::spawn(desks(&f), people(), &db, common::options()));
    tokio::time::sleep(Duration::from_millis(800)).await;
    for d in 0..3 {
        f.faults(d).set_chaos(Some(Chaos {
            seed: seed.wrapping_add(d as u64),
            unavailable: 0.02,
            rate_limited: 0.02,
        }));
    }
    let mut model = vec![[Available; 4]; N];
    let mut writes = [0u64; 4];
    let mut last: Vec<Option<Instant>> = vec![None; N];
    let mut changes = 0;
    const STEPS: usize = 90;
    for n in 0..STEPS {
        if n == STEPS / 2 {
            // a crash, and a restart
            common::kill(engine.take().unwrap(), &on_fail).await;
            engine = Some(common::spawn(desks(&f), people(), &db, common::options()));
        }
        // someone whose last change arrived everywhere a while ago
        let p = loop {
            let p = rng.usize(0..N);
            let quiet = last[p].is_none_or(|t| t.elapsed() >= Duration::from_millis(2_500));
            if quiet && (0..4).all(|d| state(&f, d, p) == model[p][d]) {
                break p;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let d = rng.usize(0..4);
        let can: &[Availability] = if d == B {
            common::HUMAN[TICKETS]
        } else {
            common::HUMAN[d]
        };
        let choices: Vec<Availability> =
            can.iter().copied().filter(|a| *a != model[p][d]).collect();
        let a = choices[rng.usize(0..choices.len())];
        human(&f, d, p, a);
        model[p][d] = a;
        for t in (0..4).filter(|t| *t != d) {
            let target = holds(t, a);
            if model[p][t] != target {
                model[p][t] = target;
                writes[t] += 1;
            }
        }
        last[p] = Some(Instant::now());
        changes += 1;
        tokio::time::sleep(STEP).await;
    }
    let wrong = |f: &common::Fakes| -> Vec<String> {
        let mut w = Vec::new();
        for (p, want) in model.iter().enumerate() {
            for (d, want) in want.iter().enumerate() {
                let got = state(f, d, p);
                if got != *want {
                    w.push(format!("p{p} on desk {d}: {got}, the rules say {want}"));
                }
            }
        }
        w
    };
    let t = Instant::now();
    loop {
        let w = wrong(&f);
        if w.is_empty() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "not converged {on_fail}: {} wrong, e.g. {:?}",
            w.len(),
            &w[..w.len().min(5)]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let converged = t.elapsed();
    for d in 0..3 {
        f.faults(d).set_chaos(None);
    }
    // the writes the rules require are done, and every change decided (one that owes no write
    // shows nothing at the fakes while the engine reads the agent again before deciding it),
    // then nothing more (no echo across the two desks)
    let want = [writes[CHAT], writes[TICKETS] + writes[B], writes[EMAIL]];
    let t = Instant::now();
    while (f.all_writes() != want || common::decisions(&db) < changes)
        && t.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let settled = f.all_writes();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    common::kill(engine.take().unwrap(), &on_fail).await;
    assert_eq!(f.all_writes(), settled, "written while quiet {on_fail}");
    assert_eq!(
        settled,
        want.to_vec(),
        "writes at the fakes (chat, both Chatwoot desks, email) vs the rules' {on_fail}"
    );
    let store = agentstatus_sync::Store::open_read_only(&db).unwrap();
    assert_eq!(
        store.read(|t| t.decisions()).unwrap().len(),
        changes,
        "every change decided once {on_fail}"
    );
    assert!(
        store.read(|t| t.outbox()).unwrap().is_empty(),
        "nothing owed {on_fail}"
    );
    eprintln!(
        "{on_fail}: {N} people on four desks (two on one Chatwoot server), {changes} changes, writes {settled:?}, converged {converged:?} after the last change"
    );
    drop(dir);
}
