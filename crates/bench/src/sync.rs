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
    // two threads, as the machine has two cores: a server answers a write while it writes out
    // a 10,000-agent list to someone else (a real one has many workers); on one thread every
    // Engage Digital write waited for Chatwoot's and Engage Digital's lists at each poll
    // (100-250 ms each, on a loaded machine: BENCHMARKS.md, "Sync")
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
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
        let read_line = || {
            tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map(|n| (n, line))
            })
        };
        let mut reading = read_line();
        // from `human` on: every 10 ms, the state changes each fake made since (the writes
        // that landed: each of sync's writes changes one agent), for the timeline
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut mark: Option<(tokio::time::Instant, u64, u64)> = None;
        let mut samples: Vec<(u64, u64, u64)> = Vec::new();
        // from `human` on: each time the fakes' thread took 30 ms or more to come back to its
        // 10 ms tick (ms since `human`, the time since the last tick), for the timeline
        let mut stalls: Vec<(u64, u64)> = Vec::new();
        let mut last_tick = tokio::time::Instant::now();
        loop {
            let line = tokio::select! {
                _ = tick.tick() => {
                    let now = tokio::time::Instant::now();
                    let since = now - last_tick;
                    last_tick = now;
                    if let (Some((at, _, _)), true) = (mark, since >= Duration::from_millis(30)) {
                        stalls.push((at.elapsed().as_millis() as u64, since.as_millis() as u64));
                    }
                    if let Some((at, ed0, rc0)) = mark {
                        samples.push((
                            at.elapsed().as_millis() as u64,
                            ed.state_changes() - ed0,
                            rc.state_changes() - rc0,
                        ));
                    }
                    continue;
                }
                line = &mut reading => line.expect("stdin"),
            };
            reading = read_line();
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
                    mark = Some((
                        tokio::time::Instant::now(),
                        ed.state_changes(),
                        rc.state_changes(),
                    ));
                    println!("ok");
                }
                // the writes landed since `human` (cheap: two counters)
                "done" => {
                    let (ed_n, rc_n) = mark.map_or((0, 0), |(_, ed0, rc0)| {
                        (ed.state_changes() - ed0, rc.state_changes() - rc0)
                    });
                    println!("done {rc_n} {ed_n}");
                }
                // the samples since `human`, `ms:ed:rc` each, where the counts changed
                "timeline" => {
                    let mut out = String::from("timeline");
                    let mut last = (u64::MAX, u64::MAX);
                    for (ms, e, r) in samples.drain(..) {
                        if (e, r) != last {
                            out.push_str(&format!(" {ms}:{e}:{r}"));
                            last = (e, r);
                        }
                    }
                    for (ms, took) in stalls.drain(..) {
                        out.push_str(&format!(" stall:{ms}:{took}"));
                    }
                    mark = None;
                    println!("{out}");
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

/// A sample of the fakes' counters: ms since `human`, Engage Digital writes, Rocket.Chat writes.
type Sample = (u64, u64, u64);
/// A stall of the fakes' thread: ms since `human`, ms since its previous tick.
type Stall = (u64, u64);

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

    /// The writes landed since `human` on Rocket.Chat and Engage Digital (two counters).
    fn done(&mut self) -> (usize, usize) {
        let line = self.ask("done");
        let n: Vec<usize> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().expect("number"))
            .collect();
        (n[0], n[1])
    }

    /// The fakes' samples since `human`: (ms, Engage Digital writes, Rocket.Chat writes), at
    /// each 10 ms sample where a count changed.
    fn timeline(&mut self) -> (Vec<Sample>, Vec<Stall>) {
        let line = self.ask("timeline");
        let (stalls, samples): (Vec<&str>, Vec<&str>) = line
            .split_whitespace()
            .skip(1)
            .partition(|s| s.starts_with("stall:"));
        let stalls = stalls
            .iter()
            .filter_map(|s| {
                let mut n = s.split(':').skip(1).map(|v| v.parse().unwrap_or(0));
                Some((n.next()?, n.next()?))
            })
            .collect();
        let samples = samples
            .into_iter()
            .map(|s| {
                let n: Vec<u64> = s.split(':').map(|v| v.parse().expect("number")).collect();
                (n[0], n[1], n[2])
            })
            .collect();
        (samples, stalls)
    }
}

/// CPU time (user + system) of process `pid` so far, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // after the command name in parentheses: state is field 3, utime 14, stime 15
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // fields counted from 3 (state) at index 0
    (ticks(11) + ticks(12)) / 100.0
}

/// The 1-minute load average.
pub(crate) fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Where the time of one convergence went: each phase's end, in seconds from the change made
/// by hand, and what the Engage Digital writes achieved.
#[derive(Debug, Default)]
struct Phases {
    /// The engine's first decision (Chatwoot's read saw the change).
    seen: f64,
    /// Every person decided.
    decided: f64,
    /// The first Engage Digital write landed at the fake.
    first_ed: f64,
    /// Every Rocket.Chat write landed.
    rc_done: f64,
    /// Every Engage Digital write landed.
    ed_done: f64,
    /// Every outcome recorded by the engine (`writes_made`).
    recorded: f64,
    /// Engage Digital writes per second from its first write to its last.
    ed_rate: f64,
    /// The longest time without an Engage Digital write landing, within its write phase.
    ed_longest_gap: f64,
    /// Time within the write phase in gaps of 50 ms or more without a write landing.
    ed_gaps: f64,
    /// CPU seconds of the sync process and of the fakes' process, from the change to the last
    /// write.
    sync_cpu: f64,
    fakes_cpu: f64,
    /// Load average at the start and at the end.
    load: (String, String),
    /// Requests the Rocket.Chat fake received from the change to convergence.
    rc_requests: usize,
}

impl Phases {
    fn read_timeline(&mut self, timeline: &[(u64, u64, u64)], people: u64) {
        let ed: Vec<(f64, u64)> = timeline
            .iter()
            .map(|(ms, e, _)| (*ms as f64 / 1000.0, *e))
            .collect();
        let first = ed.iter().find(|(_, e)| *e > 0);
        let last = ed.iter().find(|(_, e)| *e >= people);
        if let (Some(&(t0, e0)), Some(&(t1, _))) = (first, last) {
            self.first_ed = t0;
            self.ed_done = t1;
            if t1 > t0 {
                self.ed_rate = (people - e0) as f64 / (t1 - t0);
            }
        }
        if let Some(&(ms, _, _)) = timeline.iter().find(|(_, _, r)| *r >= people) {
            self.rc_done = ms as f64 / 1000.0;
        }
        for w in ed.windows(2) {
            if w[0].1 == 0 || w[0].1 >= people {
                continue;
            }
            let gap = w[1].0 - w[0].0;
            self.ed_longest_gap = self.ed_longest_gap.max(gap);
            if gap >= 0.05 {
                self.ed_gaps += gap;
            }
        }
    }

    fn row(&self) -> String {
        format!(
            "| {:.1} s | {:.1} s | {:.1} s | {:.1} s | {:.1} s | {:.1} s | {:.1}/s | {:.0} ms ({:.1} s in gaps ≥ 50 ms) | {} | {:.1} s, {:.1} s | {} → {} |\n",
            self.seen,
            self.decided,
            self.first_ed,
            self.rc_done,
            self.ed_done,
            self.recorded,
            self.ed_rate,
            self.ed_longest_gap * 1000.0,
            self.ed_gaps,
            self.rc_requests,
            self.sync_cpu,
            self.fakes_cpu,
            self.load.0,
            self.load.1,
        )
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

/// How many times the section runs the convergence (median and worst are reported).
const CONVERGE_RUNS: usize = 3;

/// Rows: the convergence table, where the time went, then the requests-per-interval table
/// (separated by lines `--`).
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
            People::from_rows(&names, rows).expect("people map"),
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
        let requests_before = ask(&mut fakes).requests;
        let (ed_before, rc_before) = (requests_before[2], requests_before[1]);
        let before_change = stats.snapshot();
        let mut phases = Phases {
            load: (load(), String::new()),
            ..Phases::default()
        };
        let child = fakes.child.id();
        let cpu0 = (cpu_seconds(std::process::id()), cpu_seconds(child));
        tokio::task::block_in_place(|| fakes.ask("human"));
        let start = Instant::now();
        tracing::info!(target: "agentstatus_bench", "changed by hand");
        let deadline = Duration::from_secs(1800);
        let people_u = people as u64;
        let written = |s: &agentstatus_sync::Summary| -> u64 {
            s.desks.iter().map(|d| d.writes_made).sum::<u64>()
                - before_change.desks.iter().map(|d| d.writes_made).sum::<u64>()
        };
        // the fakes' counters every 100 ms (the full check of every agent comes at the end);
        // the engine's counters beside them
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let t = start.elapsed().as_secs_f64();
            let s = stats.snapshot();
            let decided = s.decisions - before_change.decisions;
            if phases.seen == 0.0 && decided > 0 {
                phases.seen = t;
            }
            if phases.decided == 0.0 && decided >= people_u {
                phases.decided = t;
            }
            let (rc_n, ed_n) = tokio::task::block_in_place(|| fakes.done());
            if (rc_n >= people && ed_n >= people) || start.elapsed() > deadline {
                break;
            }
        }
        let took = start.elapsed().as_secs_f64();
        let cpu1 = (cpu_seconds(std::process::id()), cpu_seconds(child));
        phases.sync_cpu = cpu1.0 - cpu0.0;
        phases.fakes_cpu = cpu1.1 - cpu0.1;
        // every agent checked, the requests and 429s counted, as of convergence
        let last = ask(&mut fakes);
        let summary = stats.snapshot();
        // until every outcome is recorded (at most 60 s more)
        let until = Instant::now() + Duration::from_secs(60);
        while written(&stats.snapshot()) < 2 * people_u && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if written(&stats.snapshot()) >= 2 * people_u {
            phases.recorded = start.elapsed().as_secs_f64();
        } else {
            phases.recorded = f64::NAN;
        }
        phases.load.1 = load();
        let (timeline, stalls) = tokio::task::block_in_place(|| fakes.timeline());
        // the raw samples, for a closer look: `ms ed rc` a line, then `stall ms took` for each
        // time the fakes' thread came back to its 10 ms tick 30 ms or more after the last
        if let Some(path) = std::env::var_os("AGENTSTATUS_BENCH_TIMELINE") {
            let mut lines: String = timeline
                .iter()
                .map(|(ms, e, r)| format!("{ms} {e} {r}\n"))
                .collect();
            for (ms, took) in &stalls {
                lines.push_str(&format!("stall {ms} {took}\n"));
            }
            let _ = std::fs::write(path, lines);
        }
        crate::trace::flush();
        phases.read_timeline(&timeline, people_u);
        let first_ed = phases.first_ed;
        let converged = last.rc_done == people && last.ed_done == people;
        let after = ask(&mut fakes);
        let _ = stop.send(());
        let _ = task.await;
        let ed_requests = last.requests[2] - ed_before;
        // what the limit allows: one interval to see the change (Chatwoot is polled), then
        // Engage Digital's writes (one per person) at its limit
        let bound = interval.as_secs_f64() + people as f64 / f64::from(limit);
        let ratio = took / bound;
        let rss = peak_rss_kib() as f64 / 1024.0;
        let writes: u64 = summary.desks.iter().map(|d| d.writes_made).sum();
        let all_429 = after.ed_429 + after.cw_429 + after.rc_429;
        let mut out = format!(
            "| {people} | 3 (Chatwoot → Rocket.Chat, Engage Digital) | Engage Digital {limit}/s (fake and client); Chatwoot 3000/min, Rocket.Chat 10 per route a minute (fakes; sync's token bypasses it) | {took:.1} s (first write {first_ed:.1} s) | {bound:.1} s | {ratio:.3} | {} + {} + {} | {ed_requests} | {writes} | {rss:.0} MiB | {} |\n",
            after.ed_429,
            after.cw_429,
            after.rc_429,
            if converged {
                verdict(ratio <= 1.05 && all_429 == 0).to_string()
            } else {
                format!("**not met**: {} + {} of {people} after {took:.0} s", last.rc_done, last.ed_done)
            }
        );
        out.push_str("--\n");
        phases.rc_requests = last.requests[1] - rc_before;
        out.push_str(&phases.row());
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
        People::from_rows(&names, rows).expect("people map"),
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
/// people converging (three runs, each with where its time went) and the requests per
/// interval, about 5 minutes.
pub fn section() -> String {
    let started = Instant::now();
    let mut out = String::from(
        "`agentstatus-bench sync` (`cargo xtask bench --sync` rewrites this section alone; about 5 minutes on this machine): the sync engine as `agentstatus sync` runs it, over the vendors' fakes, built in release.\n\n",
    );
    out.push_str("**Lag** from a change made by hand on one desk until the last other desk shows it (the change seen, decided, and written to both others): 50 people on Chatwoot (polled every 1 s), Mattermost (pushed over its websocket, pinged every 1 s) and Rocket.Chat (its presence delta every 1 s); 10 changes made by hand on each source, one at a time. A polled change waits for the next read (up to an interval); a pushed one waits for the engine's settle time (200 ms, which gathers changes into one cycle) and the writes.\n\n| change made on | written to | changes | median | worst |\n|---|---|---|---|---|\n");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    out.push_str(&rt.block_on(lag(50, 10)));
    drop(rt);
    // in a process of its own, so that its peak memory is the sync engine's alone; three runs
    // (a shared 2-core machine: one run is not a measurement)
    let exe = std::env::current_exe().expect("exe");
    let mut rows = String::new();
    let mut phases = String::new();
    let mut requests = String::new();
    let mut ratios = Vec::new();
    let mut rejected = Vec::new();
    for run in 1..=CONVERGE_RUNS {
        let out = Command::new(&exe)
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
        assert!(out.status.success(), "sync-converge failed");
        let converge = String::from_utf8_lossy(&out.stdout).into_owned();
        let parts: Vec<&str> = converge.split("--\n").collect();
        let [row, phase, reqs] = parts[..] else {
            panic!("sync-converge: three tables expected, got {converge:?}")
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        ratios.push(
            cells
                .get(6)
                .and_then(|r| r.parse::<f64>().ok())
                .unwrap_or(f64::NAN),
        );
        rejected.push(
            cells
                .get(7)
                .map(|c| {
                    c.split('+')
                        .filter_map(|n| n.trim().parse::<u64>().ok())
                        .sum()
                })
                .unwrap_or(u64::MAX),
        );
        rows.push_str(&format!("| {run} {row}"));
        phases.push_str(&format!("| {run} {phase}"));
        requests = reqs.to_string();
    }
    let mut sorted = ratios.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = sorted[sorted.len() / 2];
    let worst = sorted[sorted.len() - 1];
    let all_429: u64 = rejected.iter().sum();
    out.push_str("\n**10,000 people converging.** 10,000 people on three desks (Chatwoot, Rocket.Chat, Engage Digital; the fakes in a child process), each desk read every 5 s; every person changes to busy by hand on Chatwoot at once; sync decides the 10,000 changes in batches (`agentstatus_sync::DECIDE_BATCH` people per transaction) and writes each batch's 10,000 agents on Rocket.Chat (busy held as offline) and 10,000 on Engage Digital (busy held as away) while it decides the next. Every fake enforces its server's rate limit (429 past it): Engage Digital's declared 500 requests a minute (`agentstatus_engage_digital::default_config`), scaled on the fake and the client to 200 requests a second so that the run takes a minute, not 20; Chatwoot's Rack::Attack 3000 requests a minute (`agentstatus_chatwoot::default_config`, only read here); Rocket.Chat's 10 calls per route a minute, which sync's user bypasses (`api-bypass-rate-limit`, as an admin's or a bot's token: `specs/rocketchat/NOTES.md`, \"Rate limit\"), so Rocket.Chat's writes are bound by the machine. Each client paces 3% under its declared limit (`agentstatus_runtime::MARGIN_PERCENT`: 194 a second here) and never lets more than the declared limit share one window at the server (`agentstatus_runtime::RateLimit`). Goal: every write landed within 5% of what the limits allow (one interval to see the change, then one Engage Digital request per person at its limit), zero 429s counted at the fakes (Engage Digital + Chatwoot + Rocket.Chat). Memory: peak RSS of the sync process (the fakes are in the other process). Writes made: the outcomes the engine had recorded when the fakes showed every agent converged.\n\n| run | people | desks | rate limits | converged in | the limits allow | ratio | 429s at the fakes (ED + CW + RC) | Engage Digital requests | writes made | sync peak RSS | goal (≤ 1.05, no 429) |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    out.push_str(&rows);
    out.push_str(&format!(
        "\n{CONVERGE_RUNS} runs: ratio median {median:.3}, worst {worst:.3}; {all_429} 429s in all. Goal: {}.\n",
        verdict(worst <= 1.05 && all_429 == 0)
    ));
    out.push_str("\n**Where the time goes**, per run: seconds from the change made by hand until the engine's first decision (Chatwoot's next read saw the change), until every person was decided, until the first Engage Digital write landed at its fake, until every Rocket.Chat and every Engage Digital write landed (the fakes' counters, sampled every 10 ms in their process), until the engine had recorded every outcome; Engage Digital's writes per second from its first write to its last (the client paces 194), the longest time without one landing (and the time in gaps of 50 ms or more); the requests the Rocket.Chat fake received (writes, and the delta's reads of the changed agents); the CPU time of the sync process and of the fakes' process over the convergence; the load average at its start and end.\n\n| run | first decision | all decided | first ED write | RC writes done | ED writes done | all recorded | ED writes/s | longest ED gap | Rocket.Chat requests | CPU: sync, fakes | load |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    out.push_str(&phases);
    out.push_str("\n**Requests per interval per desk** while nothing changes (10,000 people, the mean over 5 intervals, counted at the fakes): what watching costs.\n\n| desk | how sync watches it | agents | requests per interval |\n|---|---|---|---|\n");
    out.push_str(&requests);
    out.push_str(&format!(
        "\n(The section took {:.0} s.)\n",
        started.elapsed().as_secs_f64()
    ));
    out
}
