//! `agentstatus-bench`: the measurements behind BENCHMARKS.md. Run them all with
//! `cargo xtask bench` (release build, one table); each subcommand prints markdown rows.
//!
//! - `client`: the same requests through the generated client, hand-written reqwest and raw
//!   hyper, against a minimal local server answering fixed bodies (its own thread and core).
//! - `decode`: 1,000 Engage Digital `AgentStatus` records, generated types vs hand-written structs.
//! - `scale --agents N --concurrency C`: set N agents through the presence layer vs raw reqwest
//!   doing the same HTTP calls, against the fakes running in a child process; peak memory of the
//!   client process.
//! - `codegen`: generating each vendor's complete API.
//! - `fakes --agents N`: (internal) serve seeded fakes until stdin closes.
//! - `sync-converge --people N --limit L --interval S`: the sync engine over three fakes (in a
//!   child process, `sync-fakes`), N people changed at once; `sync-lag`: lag from a change to
//!   its last write, polled and pushed (see `sync.rs`).

mod hand;
mod server;

use std::io::{BufRead, Write};
use std::time::Instant;

use agentstatus_presence::{Availability, Presence, set_many};
use agentstatus_runtime::ClientConfig;

const ROUNDS: usize = 7;

mod bulk;
mod sync;
mod trace;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory of this process (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match args.first().map(String::as_str) {
        Some("client") => rt.block_on(client()),
        Some("decode") => decode(),
        Some("scale") => rt.block_on(scale(
            arg(&args, "--agents", 10_000),
            arg(&args, "--concurrency", 32),
            // `--only presence|raw`: one variant, for profiling
            args.iter()
                .position(|a| a == "--only")
                .and_then(|i| args.get(i + 1))
                .map(String::as_str),
        )),
        Some("codegen") => codegen(),
        Some("fakes") => fakes(arg(&args, "--agents", 10_000)),
        Some("bulk") => {
            print!(
                "{}",
                rt.block_on(bulk::requests(arg(&args, "--agents", 10_000)))
            );
        }
        Some("sync") => print!("{}", sync::section()),
        Some("sync-fakes") => sync::fakes(
            arg(&args, "--people", 10_000),
            arg(&args, "--limit", 200) as u32,
        ),
        Some("sync-converge") => print!("{}", {
            trace::init();
            sync::converge(
                arg(&args, "--people", 10_000),
                arg(&args, "--limit", 200) as u32,
                std::time::Duration::from_secs(arg(&args, "--interval", 5) as u64),
            )
        }),
        Some("sync-lag") => print!(
            "{}",
            rt.block_on(sync::lag(
                arg(&args, "--people", 50),
                arg(&args, "--changes", 10)
            ))
        ),
        Some("bulk-paced") => {
            let limit = arg(&args, "--limit", 50) as u32;
            print!(
                "{}",
                rt.block_on(bulk::paced(arg(&args, "--agents", 1_000), limit))
            );
        }
        _ => {
            eprintln!(
                "usage: agentstatus-bench client | decode | scale [--agents N] [--concurrency C] | codegen | bulk [--agents N] | bulk-paced [--agents N] [--limit R] | sync | sync-converge [--people N] [--limit R] [--interval S] | sync-lag [--people N] [--changes K]"
            );
            std::process::exit(2);
        }
    }
}

/// Requests per second over `n` sequential calls of `f`.
async fn rate<F, Fut>(n: usize, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    for _ in 0..n {
        f().await;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

async fn client() {
    let addr = server::start();
    let base = format!("http://{addr}");
    let cfg = ClientConfig::default();

    let ld = agentstatus_libredesk::Client::with_config(
        &base,
        agentstatus_libredesk::Credentials::basic("key", "secret".to_string().into()),
        &cfg,
    )
    .expect("client");
    let ed =
        agentstatus_engage_digital::Client::with_config(&base, "token".to_string().into(), &cfg)
            .expect("client");
    let rc = agentstatus_rocketchat::Client::with_config(
        &base,
        agentstatus_rocketchat::Credentials::new("user", "token".to_string().into()),
        &cfg,
    )
    .expect("client");
    let raw = hand::Reqwest::new(&base);
    let hy = hand::Hyper::new(&base);

    println!(
        "| request | generated req/s | reqwest req/s | hyper req/s | generated / reqwest | generated / hyper | goal (≥ 0.95 of reqwest) |"
    );
    println!("|---|---|---|---|---|---|---|");
    type Case<'a> = (&'a str, usize, usize);
    let cases: [Case; 3] = [
        ("Libredesk `PUT /api/v1/agents/me/availability`", 0, 2000),
        ("Engage Digital `GET /status` (1,000 agents)", 1, 200),
        ("Rocket.Chat `POST /api/v1/livechat/agent.status`", 2, 2000),
    ];
    for (label, which, n) in cases {
        let (mut g, mut r, mut h) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            // interleaved, so drift in machine load hits all three alike
            g.push(match which {
                0 => {
                    rate(n, || async {
                        let body = agentstatus_libredesk::types::AvailabilityRequest::builder()
                            .status(
                                agentstatus_libredesk::types::AvailabilityRequestStatus::Online,
                            );
                        let a = ld
                            .update_availability()
                            .body(body)
                            .send()
                            .await
                            .expect("generated");
                        std::hint::black_box(a);
                    })
                    .await
                }
                1 => {
                    rate(n, || async {
                        let a = ed.get_all_agent_status().send().await.expect("generated");
                        std::hint::black_box(a);
                    })
                    .await
                }
                _ => {
                    rate(n, || async {
                        let body = agentstatus_rocketchat::types::UpdateAgentStatusBody::builder()
                            .status(Some(
                            agentstatus_rocketchat::types::UpdateAgentStatusBodyStatus::Available,
                        ));
                        let a = rc
                            .update_agent_status()
                            .body(body)
                            .send()
                            .await
                            .expect("generated");
                        std::hint::black_box(a);
                    })
                    .await
                }
            });
            r.push(rate(n, || raw.call(which)).await);
            h.push(rate(n, || hy.call(which)).await);
        }
        let (g, r, h) = (median(g), median(r), median(h));
        println!(
            "| {label} | {g:.0} | {r:.0} | {h:.0} | {:.3} | {:.3} | {} |",
            g / r,
            g / h,
            verdict(g / r >= 0.95)
        );
    }
}

fn decode() {
    let body = server::engage_status_body();
    let iterations = 200;
    let (mut g, mut h) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..iterations {
            let v: Vec<agentstatus_engage_digital::types::AgentStatus> =
                serde_json::from_slice(std::hint::black_box(&body)).expect("decodes");
            std::hint::black_box(v);
        }
        g.push(start.elapsed().as_secs_f64() / iterations as f64);
        let start = Instant::now();
        for _ in 0..iterations {
            let v: Vec<hand::AgentStatus> =
                serde_json::from_slice(std::hint::black_box(&body)).expect("decodes");
            std::hint::black_box(v);
        }
        h.push(start.elapsed().as_secs_f64() / iterations as f64);
    }
    let (g, h) = (median(g), median(h));
    println!(
        "| decode 1,000 `AgentStatus` ({} KiB) | generated types {:.0} µs | hand-written structs {:.0} µs | generated / hand-written time {:.3} | {} |",
        body.len() / 1024,
        g * 1e6,
        h * 1e6,
        g / h,
        verdict(g <= h)
    );
}

/// The goal column of a table row.
fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**not met**" }
}

fn codegen() {
    let specs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let vendors = agentstatus_codegen::vendor_folders(&specs).expect("specs/");
    for vendor in &vendors {
        let dir = specs.join(vendor);
        let mut t = Vec::new();
        for _ in 0..3 {
            let start = Instant::now();
            let g = agentstatus_codegen::Codegen::vendor(&dir)
                .full(true)
                .prepare()
                .and_then(|p| p.generate())
                .expect("generates");
            std::hint::black_box(g);
            t.push(start.elapsed().as_secs_f64());
        }
        let t = median(t);
        println!(
            "| codegen of the full {vendor} spec (release) | {t:.2} s | {} |",
            verdict(t < 2.0)
        );
    }
}

/// Serve seeded fakes (half Rocket.Chat, half Engage Digital agents) until stdin closes.
fn fakes(agents: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let rc = agentstatus_rocketchat::fake::RocketChat::start()
            .await
            .expect("fake");
        rc.add_user("mgr", "t", true);
        rc.bypass_rate_limit("mgr");
        let ed = agentstatus_engage_digital::fake::EngageDigital::start()
            .await
            .expect("fake");
        ed.add_supervisor_token("t");
        for i in 0..agents / 2 {
            rc.add_agent(agentstatus_rocketchat::fake::Agent::new(
                &format!("a{i}"),
                "Agent",
                "not-available",
            ));
            ed.add_agent(agentstatus_engage_digital::fake::Agent::new(
                &format!("e{i}"),
                &[("c1", "Email"), ("c2", "Chat")],
                "away",
            ));
        }
        println!("{} {}", rc.url(), ed.url());
        std::io::stdout().flush().expect("stdout");
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
        })
        .await
        .expect("stdin");
    });
}

struct Fakes {
    child: std::process::Child,
    rc: String,
    ed: String,
}

fn start_fakes(agents: usize) -> Fakes {
    let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args(["fakes", "--agents", &agents.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("fakes");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("urls");
    let mut urls = line.split_whitespace().map(str::to_string);
    Fakes {
        rc: urls.next().expect("rocketchat url"),
        ed: urls.next().expect("engage url"),
        child,
    }
}

impl Drop for Fakes {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

async fn scale(agents: usize, concurrency: usize, only: Option<&str>) {
    let half = agents / 2;
    let cfg = ClientConfig::default();
    let mut presence_times = Vec::new();
    let mut raw_times = Vec::new();
    for round in 0..3 {
        for variant in [round % 2, 1 - round % 2] {
            if only.is_some_and(|o| (o == "presence") != (variant == 0)) {
                continue;
            }
            let fakes = start_fakes(agents);
            // clients are built before the clock starts (building one loads the TLS roots)
            if variant == 0 {
                let rc = agentstatus_rocketchat::presence::RocketChatPresence::new(
                    agentstatus_rocketchat::Client::with_config(
                        &fakes.rc,
                        agentstatus_rocketchat::Credentials::new("mgr", "t".to_string().into()),
                        &cfg,
                    )
                    .expect("client"),
                );
                let ed = agentstatus_engage_digital::presence::EngageDigitalPresence::new(
                    agentstatus_engage_digital::Client::with_config(
                        &fakes.ed,
                        "t".to_string().into(),
                        &cfg,
                    )
                    .expect("client"),
                );
                let rc_updates = (0..half)
                    .map(|i| (format!("a{i}"), Availability::Available))
                    .collect();
                let ed_updates = (0..half)
                    .map(|i| (format!("e{i}"), Availability::Available))
                    .collect();
                let start = Instant::now();
                let (a, b) = futures::join!(
                    set_many(&rc as &dyn Presence, rc_updates, concurrency / 2),
                    set_many(&ed as &dyn Presence, ed_updates, concurrency / 2)
                );
                presence_times.push(start.elapsed().as_secs_f64());
                assert!(
                    a.iter().chain(&b).all(|r| r.outcome.is_ok()),
                    "every update succeeds"
                );
                std::hint::black_box((a, b));
            } else {
                let raw = hand::Reqwest::with_auth("http://unused", "t", "mgr");
                let start = Instant::now();
                let (a, b) = futures::join!(
                    raw.scale_rocketchat(&fakes.rc, half, concurrency / 2),
                    raw.scale_engage(&fakes.ed, half, concurrency / 2)
                );
                raw_times.push(start.elapsed().as_secs_f64());
                assert_eq!(a + b, 2 * half, "every update succeeds");
            }
        }
    }
    if only.is_some() {
        println!("presence {presence_times:?} raw {raw_times:?}");
        return;
    }
    let (p, r) = (median(presence_times), median(raw_times));
    println!(
        "| set {agents} agents (Rocket.Chat + Engage Digital fakes), concurrency {concurrency} | presence {p:.2} s | raw reqwest {r:.2} s | presence / raw {:.3} | client peak RSS {} MiB | {} |",
        p / r,
        peak_rss_kib() / 1024,
        verdict(p / r <= 1.10)
    );
}
