//! The engine's writes against fakes that enforce their vendors' rate limits: every write lands,
//! and not one request is answered 429.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentstatus_chatwoot::fake::{Agent as CwAgent, Chatwoot};
use agentstatus_engage_digital::fake::{Agent as EdAgent, EngageDigital};
use agentstatus_presence::registry::Settings;
use agentstatus_presence::{Availability, Presence};
use agentstatus_rocketchat::fake::{Agent as RcAgent, DEFAULT_CALLS, DEFAULT_INTERVAL, RocketChat};
use agentstatus_runtime::{ClientConfig, RateLimit};
use agentstatus_sync::{Desk, Engine, Options, People, Role, Store};

use Availability::*;

const PEOPLE: usize = 120;
/// Engage Digital's declared 500 requests a minute, scaled to a second so the test is short; the
/// fake enforces exactly this, the client is given exactly this (and paces under it).
const ED_LIMIT: u32 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writes_never_exceed_a_declared_limit_enforced_by_the_fake() {
    let cw = Chatwoot::start(1).await.unwrap();
    cw.add_agent(CwAgent::new(100_000, "Admin", "cw-token", "online").administrator());
    let ed = EngageDigital::start().await.unwrap();
    ed.add_supervisor_token("ed-token");
    ed.set_rate_limit(ED_LIMIT, Duration::from_secs(1));
    let rc = RocketChat::start().await.unwrap();
    rc.add_user("bot", "rc-token", true);
    // the server's own limiter, on; the sync service's token is a bot's, which bypasses it
    rc.set_rate_limit(DEFAULT_CALLS, DEFAULT_INTERVAL);
    rc.bypass_rate_limit("bot");
    for p in 0..PEOPLE {
        cw.add_agent(CwAgent::new(
            p as i64 + 1,
            &format!("Person {p}"),
            &format!("t{p}"),
            "online",
        ));
        ed.add_agent(EdAgent::new(
            &format!("e{p}"),
            &[("mail", "Mail"), ("chat", "Chat")],
            "available",
        ));
        rc.add_agent(RcAgent::new(
            &format!("r{p}"),
            &format!("Person {p}"),
            "available",
        ));
    }
    // Chatwoot through its registry entry: its declared limit (3000 a minute), which the fake
    // enforces from the start
    let chatwoot = (agentstatus_chatwoot::presence::entry().connect)(
        &Settings::new(cw.url(), ClientConfig::default())
            .with_value("account_id", "1")
            .with_secret("token", "cw-token".to_string().into()),
    )
    .unwrap();
    let rocketchat = (agentstatus_rocketchat::presence::entry().connect)(
        &Settings::new(rc.url(), ClientConfig::default())
            .with_value("user_id", "bot")
            .with_secret("token", "rc-token".to_string().into()),
    )
    .unwrap();
    let ed_client = agentstatus_engage_digital::Client::with_config(
        &ed.url(),
        "ed-token".to_string().into(),
        &ClientConfig::default().with_rate_limit(Some(RateLimit {
            requests: ED_LIMIT,
            per: Duration::from_secs(1),
        })),
    )
    .unwrap();
    let engage: Box<dyn Presence> =
        Box::new(agentstatus_engage_digital::presence::EngageDigitalPresence::new(ed_client));
    let second = Duration::from_secs(1);
    let desks = vec![
        Desk::new("chat", Arc::from(chatwoot), second).role(Role::Source),
        Desk::new("mail", Arc::from(engage), second)
            .role(Role::Target)
            .substitute(Busy, Away),
        Desk::new("rocket", Arc::from(rocketchat), second)
            .role(Role::Target)
            .substitute(Busy, Offline),
    ];
    let people = People::from_rows(
        &["chat", "mail", "rocket"],
        (0..PEOPLE)
            .map(|p| {
                (
                    format!("p{p}"),
                    vec![
                        Some((p + 1).to_string()),
                        Some(format!("e{p}")),
                        Some(format!("r{p}")),
                    ],
                )
            })
            .collect(),
    )
    .expect("people map");
    // a scratch directory of an unpredictable name, removed when dropped
    let dir = tempfile::Builder::new()
        .prefix("agentstatus-sync-limits-")
        .tempdir()
        .unwrap();
    let mut engine = Engine::new(
        desks,
        people,
        Store::open(&dir.path().join("sync.db")).unwrap(),
        Options::default(),
    )
    .unwrap();
    engine.once().await.unwrap();
    for p in 0..PEOPLE {
        let mut a = cw.agent(p as i64 + 1).unwrap();
        a.availability = "busy".into();
        cw.add_agent(a);
    }
    let started = Instant::now();
    let s = engine.once().await.unwrap();
    let took = started.elapsed();
    assert_eq!(s.decisions, PEOPLE as u64);
    assert_eq!(s.desks[1].writes_made, PEOPLE as u64, "{s}");
    assert_eq!(s.desks[2].writes_made, PEOPLE as u64, "{s}");
    assert_eq!(s.owed, 0);
    assert_eq!(ed.rate_limited(), 0, "Engage Digital answered 429");
    assert_eq!(cw.rate_limited(), 0, "Chatwoot answered 429");
    assert_eq!(rc.rate_limited(), 0, "Rocket.Chat answered 429");
    assert_eq!(ed.state_changes(), PEOPLE as u64);
    // the writes went at the client's pace, under the limit: PEOPLE requests at 39 a second
    // take at least (PEOPLE - 1) / 39 seconds
    let paced = RateLimit {
        requests: ED_LIMIT,
        per: Duration::from_secs(1),
    }
    .paced();
    assert!(
        took >= Duration::from_secs_f64((PEOPLE - 1) as f64 / f64::from(paced)),
        "{PEOPLE} writes in {took:?}: faster than the client's pace"
    );
    drop(dir);
}
