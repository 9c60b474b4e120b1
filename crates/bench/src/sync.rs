//! `agentstatus-bench sync-converge` and `sync-lag`: the sync engine (`agentstatus-sync`, as
//! `agentstatus sync` runs it) over the vendors' fakes.
//!
//! - `sync-converge --people N --limit L --interval S`: N people on three desks (Chatwoot,
//!   Rocket.Chat, Engage Digital; the fakes in a child process, `sync-fakes`, so that the peak
//!   memory measured is the sync process's), every one of them changed by hand on Chatwoot at
//!   once; the time until every write landed on the two other desks, against the time Engage
//!   Digital's rate limit allows (its fake enforces `L` requests a second, and the client's
//!   limiter is set to the same); 429s counted at the fake; requests per interval per desk in a
//!   quiet period before; peak RSS of the sync process.
//! - `sync-lag`: 50 people on Chatwoot (polled), Mattermost (pushed over its websocket) and
//!   Rocket.Chat (its presence delta), each change made by hand on Chatwoot or Mattermost; the
//!   time from the change until the last other desk shows it (median and worst of 10 each).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentstatus_presence::registry::Settings;
use agentstatus_presence::{Availability, Presence};
use agentstatus_runtime::{ClientConfig, RateLimit};
use agentstatus_sync::{Desk, Engine, Options, People, Store};

use crate::{peak_rss_kib, verdict};

fn rc_id(p: usize) -> String {
    format!("r{p:05}")
}
fn cw_id(p: usize) -> i64 {
    p as i64 + 1
}
fn ed_id(p: usize) -> String {
    format!("e{p:05}")
}
const CW_ADMIN: i64 = 1_000_000;

/// The child process: the three fakes with `people` agents each (Engage Digital limited to
/// `limit` requests a second), commanded over stdin (`human`, `state`), answering on stdout.
pub fn fakes(people: usize, limit: u32) {
    use agentstatus_chatwoot::fake::{Agent as CwAgent, Chatwoot};
    use agentstatus_engage_digital::fake::{Agent as EdAgent, EngageDigital};
    use agentstatus_rocketchat::fake::{Agent as RcAgent, RocketChat};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let rc = RocketChat::start().await.expect("fake");
        rc.add_user("mgr", "rc-token", true);
        let cw = Chatwoot::start(1).await.expect("fake");
        cw.add_agent(CwAgent::new(CW_ADMIN, "Admin", "cw-token", "online").administrator());
        let ed = EngageDigital::start().await.expect("fake");
        ed.add_supervisor_token("ed-token");
        for p in 0..people {
            rc.add_agent(RcAgent::new(&rc_id(p), &format!("Person {p}"), "available"));
            cw.add_agent(CwAgent::new(
                cw_id(p),
                &format!("Person {p}"),
                &format!("t{p}"),
                "online",
            ));
            ed.add_agent(EdAgent::new(&ed_id(p), &[("mail", "Mail")], "available"));
        }
        ed.set_rate_limit(limit, Duration::from_secs(1));
        // Rocket.Chat's own limiter on, at the server's defaults (10 calls per route a minute);
        // sync's user has `api-bypass-rate-limit`, as an admin's or a bot's token does
        rc.set_rate_limit(
            agentstatus_rocketchat::fake::DEFAULT_CALLS,
            agentstatus_rocketchat::fake::DEFAULT_INTERVAL,
        );
        rc.bypass_rate_limit("mgr");
        // Chatwoot's fake enforces its server's 3000 requests a minute from the start
        println!("urls {} {} {}", cw.url(), rc.url(), ed.url());
        std::io::stdout().flush().expect("stdout");
        loop {
            let line = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map(|n| (n, line))
            })
            .await
            .expect("stdin");
            let Ok((n, line)) = line else { return };
            if n == 0 {
                return;
            }
            match line.trim() {
                "human" => {
                    for p in 0..people {
                        let mut a = cw.agent(cw_id(p)).expect("agent");
                        a.availability = "busy".into();
                        cw.add_agent(a);
                    }
                    println!("ok");
                }
                "state" => {
                    let rc_done = (0..people)
                        .filter(|p| {
                            rc.agent(&rc_id(*p)).expect("agent").status_livechat != "available"
                        })
                        .count();
                    let ed_done = (0..people)
                        .filter(|p| {
                            ed.agent(&ed_id(*p))
                                .expect("agent")
                                .channels
                                .iter()
                                .all(|c| c.status == "away")
                        })
                        .count();
                    println!(
                        "state {rc_done} {ed_done} {} {} {} {} {} {}",
                        cw.faults().requests().len(),
                        rc.faults().requests().len(),
                        ed.faults().requests().len(),
                        ed.rate_limited(),
                        cw.rate_limited(),
                        rc.rate_limited()
                    );
                }
                _ => println!("?"),
            }
            std::io::stdout().flush().expect("stdout");
        }
    });
}

struct Fakes {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

#[derive(Debug, Clone, Copy)]
struct State {
    rc_done: usize,
    ed_done: usize,
    /// Requests received by the Chatwoot, Rocket.Chat and Engage Digital fakes.
    requests: [usize; 3],
    ed_429: u64,
    /// 429s answered by the Chatwoot and Rocket.Chat fakes.
    cw_429: u64,
    rc_429: u64,
}

impl Fakes {
    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").expect("child stdin");
        self.stdin.flush().expect("child stdin");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("child stdout");
        line.trim().to_string()
    }

    fn state(&mut self) -> State {
        let line = self.ask("state");
        let n: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().expect("number"))
            .collect();
        State {
            rc_done: n[0] as usize,
            ed_done: n[1] as usize,
            requests: [n[2] as usize, n[3] as usize, n[4] as usize],
            ed_429: n[5],
            cw_429: n[6],
            rc_429: n[7],
        }
    }
}

/// The three desks, as `agentstatus sync` connects them, Engage Digital's client limited to
/// `limit` requests a second.
fn desks(urls: &[String], limit: u32, interval: Duration) -> Vec<Desk> {
    let config = ClientConfig::default();
    let cw = (agentstatus_chatwoot::presence::entry().connect)(
        &Settings::new(&urls[0], config.clone())
            .with_value("account_id", "1")
            .with_secret("token", "cw-token".to_string().into()),
    )
    .expect("chatwoot");
    let rc = (agentstatus_rocketchat::presence::entry().connect)(
        &Settings::new(&urls[1], config.clone())
            .with_value("user_id", "mgr")
            .with_secret("token", "rc-token".to_string().into()),
    )
    .expect("rocketchat");
    let ed_config = config.with_rate_limit(Some(RateLimit {
        requests: limit,
        per: Duration::from_secs(1),
    }));
    let ed = agentstatus_engage_digital::presence::EngageDigitalPresence::new(
        agentstatus_engage_digital::Client::with_config(
            &urls[2],
            "ed-token".to_string().into(),
            &ed_config,
        )
        .expect("engage digital"),
    );
    vec![
        Desk::new("tickets", Arc::from(cw), interval)
            .substitute(Availability::Away, Availability::Offline),
        Desk::new("chat", Arc::from(rc), interval)
            .substitute(Availability::Busy, Availability::Offline)
            .substitute(Availability::Away, Availability::Offline),
        Desk::new("email", Arc::new(ed), interval)
            .substitute(Availability::Busy, Availability::Away)
            .substitute(Availability::Offline, Availability::Away),
    ]
}

/// A scratch directory for a sync database (`sync.db` in it), removed when dropped, a panic's
/// unwinding included.
fn temp_db(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("agentstatus-bench-{name}-"))
        .tempdir()
        .expect("temp dir")
}

/// Rows: the convergence table, then the requests-per-interval table (separated by a line
/// `--`).
pub fn converge(people: usize, limit: u32, interval: Duration) -> String {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let exe = std::env::current_exe().expect("exe");
    let mut child = Command::new(exe)
        .args([
            "sync-fakes",
            "--people",
            &people.to_string(),
            "--limit",
            &limit.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("child");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut fakes = Fakes {
        child,
        stdin,
        stdout,
    };
    let mut line = String::new();
    fakes.stdout.read_line(&mut line).expect("urls");
    let urls: Vec<String> = line
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect();
    let scratch = temp_db("converge");
    let db = scratch.path().join("sync.db");
    let out = rt.block_on(async {
        let names = ["tickets", "chat", "email"];
        let rows = (0..people)
            .map(|p| {
                (
                    format!("p{p}"),
                    vec![Some(cw_id(p).to_string()), Some(rc_id(p)), Some(ed_id(p))],
                )
            })
            .collect();
        let mut engine = Engine::new(
            desks(&urls, limit, interval),
            People::from_rows(&names, rows),
            Store::open(&db).expect("store"),
            // enough writes in flight to keep 200 a second going at this machine's latency
            Options::default().write_concurrency(32),
        )
        .expect("engine");
        let stats = engine.stats();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            engine
                .run(async {
                    let _ = stopped.await;
                })
                .await
        });
        // the baseline: every desk read once, and twice more
        while !stats.snapshot().desks.iter().all(|d| d.last_read.is_some()) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(interval * 2).await;
        let ask = |f: &mut Fakes| tokio::task::block_in_place(|| f.state());
        // a quiet period: what watching costs
        let quiet = 5u32;
        let before = ask(&mut fakes);
        tokio::time::sleep(interval * quiet).await;
        let after = ask(&mut fakes);
        let per_interval: Vec<f64> = (0..3)
            .map(|d| (after.requests[d] - before.requests[d]) as f64 / f64::from(quiet))
            .collect();
        // every person changes on Chatwoot at once
        let ed_before = ask(&mut fakes).requests[2];
        tokio::task::block_in_place(|| fakes.ask("human"));
        let start = Instant::now();
        let mut last = ask(&mut fakes);
        let deadline = Duration::from_secs(1800);
        // when the first Engage Digital write landed (the change seen, the first batch decided)
        let mut first_ed = None;
        while (last.rc_done < people || last.ed_done < people) && start.elapsed() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            last = ask(&mut fakes);
            if first_ed.is_none() && last.ed_done > 0 {
                first_ed = Some(start.elapsed().as_secs_f64());
            }
        }
        let first_ed = first_ed.unwrap_or(f64::NAN);
        let took = start.elapsed().as_secs_f64();
        let converged = last.rc_done == people && last.ed_done == people;
        let summary = stats.snapshot();
        let _ = stop.send(());
        let _ = task.await;
        let ed_requests = last.requests[2] - ed_before;
        // what the limit allows: one interval to see the change (Chatwoot is polled), then
        // Engage Digital's writes (one per person) at its limit
        let bound = interval.as_secs_f64() + people as f64 / f64::from(limit);
        let ratio = took / bound;
        let rss = peak_rss_kib() as f64 / 1024.0;
        let writes: u64 = summary.desks.iter().map(|d| d.writes_made).sum();
        let all_429 = last.ed_429 + last.cw_429 + last.rc_429;
        let mut out = format!(
            "| {people} | 3 (Chatwoot → Rocket.Chat, Engage Digital) | Engage Digital {limit}/s (fake and client); Chatwoot 3000/min, Rocket.Chat 10 per route a minute (fakes; sync's token bypasses it) | {took:.1} s (first write {first_ed:.1} s) | {bound:.1} s | {ratio:.3} | {} + {} + {} | {ed_requests} | {writes} | {rss:.0} MiB | {} |\n",
            last.ed_429,
            last.cw_429,
            last.rc_429,
            if converged {
                verdict(ratio <= 1.05 && all_429 == 0).to_string()
            } else {
                format!("**not met**: {} + {} of {people} after {took:.0} s", last.rc_done, last.ed_done)
            }
        );
        out.push_str("--\n");
        let how = ["poll (one list of every agent)", "delta (`users.presence?from=`, then a read per changed agent)", "poll (`GET /status`)"];
        let vendor = ["Chatwoot", "Rocket.Chat", "Engage Digital"];
        for ((vendor, how), n) in vendor.iter().zip(how).zip(&per_interval) {
            out.push_str(&format!("| {vendor} | {how} | {people} | {n:.1} |\n"));
        }
        out
    });
    drop(fakes.stdin);
    let _ = fakes.child.wait();
    drop(scratch);
    out
}

/// Lag from a change to its last write, polled (Chatwoot) and pushed (Mattermost).
pub async fn lag(people: usize, changes: usize) -> String {
    use agentstatus_chatwoot::fake::{Agent as CwAgent, Chatwoot};
    use agentstatus_rocketchat::fake::{Agent as RcAgent, RocketChat};
    let interval = Duration::from_secs(1);
    let rc = RocketChat::start().await.expect("fake");
    rc.add_user("mgr", "rc-token", true);
    rc.bypass_rate_limit("mgr");
    let cw = Chatwoot::start(1).await.expect("fake");
    cw.add_agent(CwAgent::new(CW_ADMIN, "Admin", "cw-token", "online").administrator());
    let seeds: Vec<(String, Availability)> = (0..people)
        .map(|p| (format!("Person {p:03}"), Availability::Available))
        .collect();
    let seeds: Vec<(&str, Availability)> = seeds.iter().map(|(n, a)| (n.as_str(), *a)).collect();
    let mm = agentstatus_mattermost::fake::seeded(&seeds, "mm-token")
        .await
        .expect("fake");
    for p in 0..people {
        rc.add_agent(RcAgent::new(&rc_id(p), &format!("Person {p}"), "available"));
        cw.add_agent(CwAgent::new(
            cw_id(p),
            &format!("Person {p}"),
            &format!("t{p}"),
            "online",
        ));
    }
    let config = ClientConfig::default();
    let connect_cw = || {
        (agentstatus_chatwoot::presence::entry().connect)(
            &Settings::new(cw.url(), config.clone())
                .with_value("account_id", "1")
                .with_secret("token", "cw-token".to_string().into()),
        )
        .expect("chatwoot")
    };
    let connect_mm = || {
        (agentstatus_mattermost::presence::entry().connect)(
            &Settings::new(mm.url(), config.clone())
                .with_secret("token", "mm-token".to_string().into()),
        )
        .expect("mattermost")
    };
    let rc_presence = (agentstatus_rocketchat::presence::entry().connect)(
        &Settings::new(rc.url(), config.clone())
            .with_value("user_id", "mgr")
            .with_secret("token", "rc-token".to_string().into()),
    )
    .expect("rocketchat");
    let mm_id = |p: usize| agentstatus_mattermost::fake::user_id(p + 1);
    let names = ["tickets", "team", "chat"];
    let rows = (0..people)
        .map(|p| {
            (
                format!("p{p}"),
                vec![Some(cw_id(p).to_string()), Some(mm_id(p)), Some(rc_id(p))],
            )
        })
        .collect();
    let desks = vec![
        Desk::new("tickets", Arc::from(connect_cw()), interval)
            .substitute(Availability::Away, Availability::Offline),
        Desk::new("team", Arc::from(connect_mm()), interval),
        Desk::new("chat", Arc::from(rc_presence), interval)
            .substitute(Availability::Busy, Availability::Offline)
            .substitute(Availability::Away, Availability::Offline),
    ];
    let scratch = temp_db("lag");
    let db = scratch.path().join("sync.db");
    let mut engine = Engine::new(
        desks,
        People::from_rows(&names, rows),
        Store::open(&db).expect("store"),
        Options::default(),
    )
    .expect("engine");
    let stats = engine.stats();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        engine
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    while !stats.snapshot().desks.iter().all(|d| d.last_read.is_some()) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(interval * 2).await;
    let cw_hand = connect_cw();
    let mm_hand = connect_mm();
    let cw_state = |p: usize| {
        cw.agent(cw_id(p))
            .expect("agent")
            .availability_status()
            .to_string()
    };
    let mm_state = |p: usize| mm.user(&mm_id(p)).expect("user").status;
    let rc_state = |p: usize| rc.agent(&rc_id(p)).expect("agent").status_livechat;
    let mut rows = String::new();
    for (round, source) in ["tickets", "team"].into_iter().enumerate() {
        let mut lags = Vec::new();
        for n in 0..changes {
            // each source changes people of its own (a person the other source changed is
            // busy everywhere already)
            let p = (round * changes + n) % people;
            // available -> busy on the source; then back, so each person is used once each way
            let to = if ((round * changes + n) / people).is_multiple_of(2) {
                Availability::Busy
            } else {
                Availability::Available
            };
            let start = Instant::now();
            let (hand, id): (&dyn Presence, String) = if source == "tickets" {
                (cw_hand.as_ref(), cw_id(p).to_string())
            } else {
                (mm_hand.as_ref(), mm_id(p))
            };
            hand.set(&id, to).await.expect("set by hand");
            let want_cw = if to == Availability::Busy {
                "busy"
            } else {
                "online"
            };
            let want_mm = if to == Availability::Busy {
                "dnd"
            } else {
                "online"
            };
            let want_rc = if to == Availability::Busy {
                "not-available"
            } else {
                "available"
            };
            loop {
                let arrived = (source == "tickets" || cw_state(p) == want_cw)
                    && (source == "team" || mm_state(p) == want_mm)
                    && rc_state(p) == want_rc;
                if arrived {
                    break;
                }
                if start.elapsed() > Duration::from_secs(60) {
                    panic!("{source}: change {n} did not arrive in 60 s");
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            lags.push(start.elapsed().as_secs_f64());
            // the echo is seen before the next change
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        lags.sort_by(|a, b| a.total_cmp(b));
        let median = lags[lags.len() / 2];
        let worst = lags[lags.len() - 1];
        let (vendor, how) = if source == "tickets" {
            ("Chatwoot", "polled every 1 s")
        } else {
            ("Mattermost", "pushed: websocket `status_change`")
        };
        rows.push_str(&format!(
            "| {vendor} ({how}) | Rocket.Chat{} | {changes} | {median:.2} s | {worst:.2} s |\n",
            if source == "tickets" {
                ", Mattermost"
            } else {
                ", Chatwoot"
            }
        ));
    }
    let _ = stop.send(());
    let _ = task.await;
    drop(scratch);
    rows
}

/// The whole sync section of BENCHMARKS.md (what `cargo xtask bench` writes): lag, then 10,000
/// people converging and the requests per interval, about 2 minutes.
pub fn section() -> String {
    let started = Instant::now();
    let mut out = String::from(
        "`agentstatus-bench sync` (`cargo xtask bench --sync` rewrites this section alone; about 2 minutes on this machine): the sync engine as `agentstatus sync` runs it, over the vendors' fakes, built in release.\n\n",
    );
    out.push_str("**Lag** from a change made by hand on one desk until the last other desk shows it (the change seen, decided, and written to both others): 50 people on Chatwoot (polled every 1 s), Mattermost (pushed over its websocket, pinged every 1 s) and Rocket.Chat (its presence delta every 1 s); 10 changes made by hand on each source, one at a time. A polled change waits for the next read (up to an interval); a pushed one waits for the engine's settle time (200 ms, which gathers changes into one cycle) and the writes.\n\n| change made on | written to | changes | median | worst |\n|---|---|---|---|---|\n");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    out.push_str(&rt.block_on(lag(50, 10)));
    drop(rt);
    // in a process of its own, so that its peak memory is the sync engine's alone
    let exe = std::env::current_exe().expect("exe");
    let run = Command::new(exe)
        .args([
            "sync-converge",
            "--people",
            "10000",
            "--limit",
            "200",
            "--interval",
            "5",
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("sync-converge");
    assert!(run.status.success(), "sync-converge failed");
    let converge = String::from_utf8_lossy(&run.stdout).into_owned();
    let (rows, requests) = converge.split_once("--\n").expect("two tables");
    out.push_str("\n**10,000 people converging.** 10,000 people on three desks (Chatwoot, Rocket.Chat, Engage Digital; the fakes in a child process), each desk read every 5 s; every person changes to busy by hand on Chatwoot at once; sync decides the 10,000 changes in batches (`agentstatus_sync::DECIDE_BATCH` people per transaction) and writes each batch's 10,000 agents on Rocket.Chat (busy held as offline) and 10,000 on Engage Digital (busy held as away) while it decides the next. Every fake enforces its server's rate limit (429 past it): Engage Digital's declared 500 requests a minute (`agentstatus_engage_digital::default_config`), scaled on the fake and the client to 200 requests a second so that the run takes a minute, not 20; Chatwoot's Rack::Attack 3000 requests a minute (`agentstatus_chatwoot::default_config`, only read here); Rocket.Chat's 10 calls per route a minute, which sync's user bypasses (`api-bypass-rate-limit`, as an admin's or a bot's token: `specs/rocketchat/NOTES.md`, \"Rate limit\"), so Rocket.Chat's writes are bound by the machine. Each client paces 3% under its declared limit (`agentstatus_runtime::MARGIN_PERCENT`: 194 a second here). Goal: every write landed within 5% of what the limits allow (one interval to see the change, then one Engage Digital request per person at its limit), zero 429s counted at the fakes (Engage Digital + Chatwoot + Rocket.Chat). Memory: peak RSS of the sync process (the fakes are in the other process).\n\n| people | desks | rate limits | converged in | the limits allow | ratio | 429s at the fakes (ED + CW + RC) | Engage Digital requests | writes made | sync peak RSS | goal (≤ 1.05, no 429) |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    out.push_str(rows);
    out.push_str("\n**Requests per interval per desk** while nothing changes (10,000 people, the mean over 5 intervals, counted at the fakes): what watching costs.\n\n| desk | how sync watches it | agents | requests per interval |\n|---|---|---|---|\n");
    out.push_str(requests);
    out.push_str(&format!(
        "\n(The section took {:.0} s.)\n",
        started.elapsed().as_secs_f64()
    ));
    out
}
