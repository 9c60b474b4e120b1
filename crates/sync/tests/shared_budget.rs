//! Desks sharing one server share its budget (issue #30): two Chatwoot desks of one server (two
//! tokens, as two accounts' or two teams' desks would be), configured in `sync.toml`, are paced
//! together under the server's one limit, which Chatwoot counts per client IP (Rack::Attack's
//! `req/ip`: specs/chatwoot/NOTES.md, "Rate limit"). The fake enforces that limit over both
//! tokens together; not one request is answered 429. Each desk paced on its own (before) sent
//! up to twice the limit, and the fake refused the excess.

use std::path::Path;
use std::time::{Duration, Instant};

use agentstatus_chatwoot::fake::{Agent as CwAgent, Chatwoot};
use agentstatus_sync::{Engine, Options, People, Store, SyncConfig};

/// People per desk side: each desk gets half of them written (more than the bulk threshold).
const PEOPLE: usize = 40;
/// The server's limit, per second (scaled down from Chatwoot's 3000 a minute so the test is
/// short); the fake enforces it, both desks declare it.
const LIMIT: u32 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desks_of_one_server_never_exceed_its_limit_together() {
    let cw = Chatwoot::start(1).await.unwrap();
    cw.add_agent(CwAgent::new(100_000, "Admin one", "tok-one", "online").administrator());
    cw.add_agent(CwAgent::new(100_001, "Admin two", "tok-two", "online").administrator());
    cw.set_rate_limit(LIMIT, Duration::from_secs(1));
    for p in 0..PEOPLE {
        cw.add_agent(CwAgent::new(
            p as i64 + 1,
            &format!("Person {p} (one)"),
            &format!("a{p}"),
            "online",
        ));
        cw.add_agent(CwAgent::new(
            1_000 + p as i64,
            &format!("Person {p} (two)"),
            &format!("b{p}"),
            "online",
        ));
    }
    // the secrets from the environment, as the service reads them (this test binary is its own
    // process, with this one test: nothing else reads the environment meanwhile)
    unsafe {
        std::env::set_var("AGENTSTATUS_SHARED_BUDGET_ONE", "tok-one");
        std::env::set_var("AGENTSTATUS_SHARED_BUDGET_TWO", "tok-two");
    }
    let url = cw.url();
    let toml = format!(
        r#"database = "unused.db"
people = "people.csv"
interval = 1

[desks.one]
vendor = "chatwoot"
base_url = "{url}"
account_id = 1
token_env = "AGENTSTATUS_SHARED_BUDGET_ONE"
rate_limit = "{LIMIT}/s"

[desks.two]
vendor = "chatwoot"
base_url = "{url}/"
account_id = 1
token_env = "AGENTSTATUS_SHARED_BUDGET_TWO"
rate_limit = "{LIMIT}/s"
"#
    );
    let registry = [agentstatus_chatwoot::presence::entry()];
    let config = SyncConfig::parse(Path::new("test/sync.toml"), toml, &registry).unwrap();
    let desks = config.connect(Duration::from_secs(30)).unwrap();
    let people = People::from_rows(
        &["one", "two"],
        (0..PEOPLE)
            .map(|p| {
                (
                    format!("p{p}"),
                    vec![Some((p + 1).to_string()), Some((1_000 + p).to_string())],
                )
            })
            .collect(),
    )
    .expect("people map");
    // a scratch directory of an unpredictable name, removed when dropped
    let dir = tempfile::Builder::new()
        .prefix("agentstatus-sync-shared-budget-")
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
    // half the people change on desk one, half on desk two: both desks are written at once
    for p in 0..PEOPLE {
        let id = if p < PEOPLE / 2 {
            p as i64 + 1
        } else {
            1_000 + p as i64
        };
        let mut a = cw.agent(id).unwrap();
        a.availability = "busy".into();
        cw.add_agent(a);
    }
    let started = Instant::now();
    let s = engine.once().await.unwrap();
    let took = started.elapsed();
    assert_eq!(s.decisions, PEOPLE as u64, "{s}");
    assert_eq!(s.owed, 0, "{s}");
    assert_eq!(s.desks[0].writes_made, (PEOPLE / 2) as u64, "{s}");
    assert_eq!(s.desks[1].writes_made, (PEOPLE / 2) as u64, "{s}");
    for p in 0..PEOPLE {
        for id in [p as i64 + 1, 1_000 + p as i64] {
            assert_eq!(cw.agent(id).unwrap().availability, "busy", "agent {id}");
        }
    }
    let requests = cw.faults().requests().len();
    assert_eq!(
        cw.rate_limited(),
        0,
        "the server answered 429: its two desks together sent more than its {LIMIT} a second ({requests} requests, {took:?} for the second pass)"
    );
    drop(dir);
}
