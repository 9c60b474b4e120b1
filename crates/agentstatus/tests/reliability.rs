//! Reliability against the fakes with fault injection: retries that lose no update and apply
//! none twice, a toggle that is never retried, deadlines, rate limits, malformed answers.

use std::time::{Duration, Instant};

use agentstatus::engage_digital::presence::EngageDigitalPresence;
use agentstatus::libredesk::presence::LibredeskPresence;
use agentstatus::rocketchat::presence::RocketChatPresence;
use agentstatus::{Availability, ErrorKind, ListFilter, Presence, set_many};
use agentstatus::{ClientConfig, RateLimit, RetryPolicy};
use agentstatus::{engage_digital::fake as ed, libredesk::fake as ld, rocketchat::fake as rc};
use agentstatus_fakes::{Chaos, Fault, Faults};

/// A retry budget for tests: many quick attempts.
fn config() -> ClientConfig {
    ClientConfig::default().with_retry(RetryPolicy {
        max_attempts: 16,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        deadline: Duration::from_secs(20),
    })
}

const CHAOS: Chaos = Chaos {
    seed: 7,
    unavailable: 0.30,
    rate_limited: 0.05,
};

fn alternating(
    agents: &[String],
    rounds: usize,
    a: Availability,
    b: Availability,
) -> Vec<Vec<(String, Availability)>> {
    (0..rounds)
        .map(|r| {
            agents
                .iter()
                .map(|id| (id.clone(), if r % 2 == 0 { a } else { b }))
                .collect()
        })
        .collect()
}

/// Run every round with [`CHAOS`] injected by `faults`; every update must succeed. Returns how
/// many did; chaos is off again afterwards.
async fn run_under_chaos(
    faults: &Faults,
    p: &dyn Presence,
    rounds: Vec<Vec<(String, Availability)>>,
    concurrency: usize,
) -> usize {
    faults.set_chaos(Some(CHAOS));
    let mut done = 0;
    for round in rounds {
        for r in set_many(p, round, concurrency).await {
            r.outcome.unwrap_or_else(|e| panic!("{}: {e}", r.agent));
            done += 1;
        }
    }
    faults.set_chaos(None);
    done
}

#[tokio::test]
async fn engage_digital_1000_updates_through_503s_and_429s_apply_exactly_once() {
    let fake = ed::EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("t");
    let agents: Vec<String> = (0..100).map(|i| format!("e{i}")).collect();
    for id in &agents {
        fake.add_agent(ed::Agent::new(
            id,
            &[("c1", "Email"), ("c2", "Chat")],
            "away",
        ));
    }
    let client = agentstatus::engage_digital::Client::with_config(
        &fake.url(),
        "t".to_string().into(),
        &config(),
    )
    .unwrap();
    let p = EngageDigitalPresence::new(client);
    let done = run_under_chaos(
        fake.faults(),
        &p,
        alternating(&agents, 10, Availability::Available, Availability::Away),
        8,
    )
    .await;
    assert_eq!(done, 1000);
    assert_eq!(
        fake.state_changes(),
        1000,
        "every update applied exactly once"
    );
    let requests = fake.faults().requests().len();
    assert!(
        requests < 2000 * 2,
        "retries within budget: {requests} requests for 2000 calls"
    );
    assert!(agents.iter().all(|a| {
        fake.agent(a)
            .unwrap()
            .channels
            .iter()
            .all(|c| c.status == "away")
    }));
}

#[tokio::test]
async fn rocketchat_1000_updates_through_503s_and_429s_apply_exactly_once() {
    let fake = rc::RocketChat::start().await.unwrap();
    fake.add_user("mgr", "t", true);
    // the injected 429s are the test's; the server's own limiter would refuse most of 1000
    fake.bypass_rate_limit("mgr");
    let agents: Vec<String> = (0..100).map(|i| format!("a{i}")).collect();
    for id in &agents {
        fake.add_agent(rc::Agent::new(id, "Agent", "not-available"));
    }
    let client = agentstatus::rocketchat::Client::with_config(
        &fake.url(),
        agentstatus::rocketchat::Credentials::new("mgr", "t".to_string().into()),
        &config(),
    )
    .unwrap();
    let p = RocketChatPresence::new(client);
    let done = run_under_chaos(
        fake.faults(),
        &p,
        alternating(&agents, 10, Availability::Available, Availability::Offline),
        8,
    )
    .await;
    assert_eq!(done, 1000);
    assert_eq!(
        fake.state_changes(),
        1000,
        "every update applied exactly once"
    );
}

#[tokio::test]
async fn libredesk_1000_updates_through_503s_and_429s_apply_exactly_once() {
    let fake = ld::Libredesk::start().await.unwrap();
    fake.add_agent(ld::Agent::new(1, "Ada Lovelace", "offline", "k", "s"));
    let client = agentstatus::libredesk::Client::with_config(
        &fake.url(),
        agentstatus::libredesk::Credentials::basic("k", "s".to_string().into()),
        &config(),
    )
    .unwrap();
    let p = LibredeskPresence::new(client);
    // one agent (the key's own): its updates are sequential
    let done = run_under_chaos(
        fake.faults(),
        &p,
        alternating(
            &["me".to_string()],
            1000,
            Availability::Available,
            Availability::Away,
        ),
        1,
    )
    .await;
    assert_eq!(done, 1000);
    assert_eq!(fake.state_changes(), 1000);
}

async fn legacy_rocketchat(config: &ClientConfig) -> (rc::RocketChat, RocketChatPresence) {
    let fake = rc::RocketChat::start().await.unwrap();
    fake.add_user("mgr", "t", true);
    fake.add_agent(rc::Agent::new("a1", "Ada", "not-available"));
    fake.set_legacy_toggle_only(true);
    let client = agentstatus::rocketchat::Client::with_config(
        &fake.url(),
        agentstatus::rocketchat::Credentials::new("mgr", "t".to_string().into()),
        config,
    )
    .unwrap();
    let p = RocketChatPresence::new(client);
    // learn that the server only toggles
    p.set("a1", Availability::Available).await.unwrap();
    (fake, p)
}

const STATUS: &str = "/api/v1/livechat/agent.status";

#[tokio::test]
async fn a_dropped_connection_mid_toggle_is_reported_not_retried() {
    let (fake, p) = legacy_rocketchat(&config()).await;
    let posts = fake.faults().count("POST", STATUS);
    let changes = fake.state_changes();
    fake.faults().push(Fault::Delay(Duration::ZERO)); // the read
    fake.faults().push(Fault::DropAfterHandling); // the toggle: applied, then the connection drops
    let e = p.set("a1", Availability::Offline).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert_eq!(
        fake.faults().count("POST", STATUS),
        posts + 1,
        "the toggle was sent once"
    );
    assert_eq!(fake.state_changes(), changes + 1, "and applied once");
}

#[tokio::test]
async fn a_toggle_is_not_retried_on_503_either() {
    let (fake, p) = legacy_rocketchat(&config()).await;
    let posts = fake.faults().count("POST", STATUS);
    fake.faults().push(Fault::Delay(Duration::ZERO));
    fake.faults().push(Fault::Status(503));
    let e = p.set("a1", Availability::Offline).await.unwrap_err();
    assert_eq!(e.status(), Some(503), "{e}");
    assert_eq!(fake.faults().count("POST", STATUS), posts + 1);
}

#[tokio::test]
async fn an_explicit_status_survives_a_dropped_connection_and_applies_once() {
    let fake = rc::RocketChat::start().await.unwrap();
    fake.add_user("mgr", "t", true);
    fake.add_agent(rc::Agent::new("a1", "Ada", "not-available"));
    let client = agentstatus::rocketchat::Client::with_config(
        &fake.url(),
        agentstatus::rocketchat::Credentials::new("mgr", "t".to_string().into()),
        &config(),
    )
    .unwrap();
    let p = RocketChatPresence::new(client);
    fake.faults().push(Fault::DropAfterHandling);
    let after = p.set("a1", Availability::Available).await.unwrap();
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(
        fake.faults().count("POST", STATUS),
        2,
        "resent: the explicit status is idempotent"
    );
    assert_eq!(fake.state_changes(), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_fails_at_the_deadline() {
    let fake = ed::EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("t");
    fake.add_agent(ed::Agent::new("e1", &[("c1", "Email")], "away"));
    let mut cfg = config();
    cfg.retry.deadline = Duration::from_millis(300);
    let client =
        agentstatus::engage_digital::Client::with_config(&fake.url(), "t".to_string().into(), &cfg)
            .unwrap();
    // the client's 300 ms call deadline is what this test is about: the adapter's operation
    // deadline (equal by default, so the two would race) is set beyond it
    let p = EngageDigitalPresence::new(client).with_deadline(Duration::from_secs(10));
    fake.faults().set_delay(Duration::from_secs(60));
    let start = Instant::now();
    let e = p.get("e1").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert!(e.to_string().contains("timed out"), "{e}");
    // bounded by the 300 ms deadline, not by the 30 s attempt timeout nor the 60 s delay
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn transient_errors_are_retried_and_exhausted_retries_are_reported() {
    let fake = ed::EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("t");
    fake.add_agent(ed::Agent::new("e1", &[("c1", "Email")], "away"));
    let mut cfg = config();
    cfg.retry.max_attempts = 3;
    let client =
        agentstatus::engage_digital::Client::with_config(&fake.url(), "t".to_string().into(), &cfg)
            .unwrap();
    let p = EngageDigitalPresence::new(client);
    fake.faults().push(Fault::Status(503));
    fake.faults().push(Fault::RateLimited {
        retry_after_secs: 0,
    });
    p.get("e1").await.unwrap();
    assert_eq!(fake.faults().count("GET", "/status/e1"), 3);
    for _ in 0..3 {
        fake.faults().push(Fault::Status(502));
    }
    let e = p.get("e1").await.unwrap_err();
    assert_eq!(
        (e.kind(), e.status()),
        (ErrorKind::Vendor, Some(502)),
        "{e}"
    );
    fake.faults().push(Fault::Status(500));
    let e = p.get("e1").await.unwrap_err();
    assert_eq!(e.status(), Some(500), "500 is not retried");
    assert_eq!(fake.faults().count("GET", "/status/e1"), 7);
}

#[tokio::test]
async fn malformed_answers_are_typed_errors_with_status_and_snippet() {
    let fake = ed::EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("t");
    fake.add_agent(ed::Agent::new("e1", &[("c1", "Email")], "away"));
    let client = agentstatus::engage_digital::Client::with_config(
        &fake.url(),
        "t".to_string().into(),
        &config(),
    )
    .unwrap();
    let p = EngageDigitalPresence::new(client);
    fake.faults().push(Fault::MalformedJson);
    let e = p.get("e1").await.unwrap_err();
    assert_eq!(
        (e.kind(), e.status()),
        (ErrorKind::InvalidResponse, Some(200)),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("the body starts: {\"status\": \"succ"),
        "{e}"
    );
    fake.faults().push(Fault::DropConnection);
    fake.faults().push(Fault::DropConnection);
    p.get("e1").await.unwrap();
}

#[tokio::test]
async fn the_client_rate_limit_is_never_exceeded() {
    let fake = ed::EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("t");
    fake.add_agent(ed::Agent::new("e1", &[("c1", "Email")], "away"));
    fake.set_rate_limit(12, Duration::from_millis(200));
    let limited = ClientConfig::default()
        .with_retry(RetryPolicy::none())
        .with_rate_limit(Some(RateLimit {
            requests: 5,
            per: Duration::from_millis(200),
        }));
    let client = agentstatus::engage_digital::Client::with_config(
        &fake.url(),
        "t".to_string().into(),
        &limited,
    )
    .unwrap();
    let p = EngageDigitalPresence::new(client);
    for _ in 0..30 {
        p.list(&ListFilter::all()).await.unwrap();
    }
    // the same burst without the client's limit does hit the server's
    let unlimited = ClientConfig::default().with_retry(RetryPolicy::none());
    let client = agentstatus::engage_digital::Client::with_config(
        &fake.url(),
        "t".to_string().into(),
        &unlimited,
    )
    .unwrap();
    let p = EngageDigitalPresence::new(client);
    let mut limited_answers = 0;
    for _ in 0..30 {
        if let Err(e) = p.list(&ListFilter::all()).await {
            assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
            limited_answers += 1;
        }
    }
    assert!(limited_answers > 0);
}

#[test]
fn credentials_are_refused_over_plain_http_to_a_remote_host() {
    let e = agentstatus::engage_digital::Client::with_token(
        "http://acme.api.example.com/1.0",
        "t".to_string().into(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("refusing to send credentials over plain http://"),
        "{e}"
    );
    let opt_in = agentstatus::engage_digital::default_config().allow_insecure_http(true);
    assert!(
        agentstatus::engage_digital::Client::with_config(
            "http://acme.api.example.com/1.0",
            "t".to_string().into(),
            &opt_in
        )
        .is_ok()
    );
}
