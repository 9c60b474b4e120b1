//! Engage Digital desks of one account share its budget (issue #30): the vendor counts its limit
//! per account ("The default account-level limit is 500 API requests per minute":
//! specs/engage-digital/NOTES.md, "How the limit is counted"), and an account is one origin, so
//! two desks of one account with two tokens, configured in `sync.toml`, are paced together under
//! that one limit. The fake counts every token's requests against it; not one request is
//! answered 429. Each desk paced on its own would send up to twice the limit.

use std::path::Path;
use std::time::Duration;

use agentstatus_engage_digital::fake::{Agent, EngageDigital};
use agentstatus_presence::ListFilter;
use agentstatus_sync::SyncConfig;

/// The account's limit, per second (scaled down from 500 a minute so the test is short); the
/// fake enforces it over both tokens, both desks declare it.
const LIMIT: u32 = 10;

/// Reads per desk: together three times the limit, so pacing each desk alone would exceed it.
const READS: usize = 15;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desks_of_one_account_never_exceed_its_limit_together() {
    let fake = EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("tok-one");
    fake.add_supervisor_token("tok-two");
    fake.add_agent(Agent::new("a1", &[("c1", "Email")], "available"));
    fake.set_rate_limit(LIMIT, Duration::from_secs(1));
    // the secrets from the environment, as the service reads them (this test binary is its own
    // process, with this one test: nothing else reads the environment meanwhile)
    unsafe {
        std::env::set_var("AGENTSTATUS_ENGAGE_BUDGET_ONE", "tok-one");
        std::env::set_var("AGENTSTATUS_ENGAGE_BUDGET_TWO", "tok-two");
    }
    let url = fake.url();
    let toml = format!(
        r#"database = "unused.db"
people = "people.csv"
interval = 1

[desks.mail]
vendor = "engage-digital"
base_url = "{url}"
token_env = "AGENTSTATUS_ENGAGE_BUDGET_ONE"
rate_limit = "{LIMIT}/s"

[desks.social]
vendor = "engage-digital"
base_url = "{url}/"
token_env = "AGENTSTATUS_ENGAGE_BUDGET_TWO"
rate_limit = "{LIMIT}/s"
"#
    );
    let registry = [agentstatus_engage_digital::presence::entry()];
    let config = SyncConfig::parse(Path::new("test/sync.toml"), toml, &registry).unwrap();
    let desks = config.connect(Duration::from_secs(60)).unwrap();
    assert_eq!(desks.len(), 2);
    // both desks read at once, as two watchers of one service do
    let reads = desks.iter().map(|d| {
        let presence = d.presence.clone();
        tokio::spawn(async move {
            for _ in 0..READS {
                presence.list(&ListFilter::all()).await.unwrap();
            }
        })
    });
    for r in reads.collect::<Vec<_>>() {
        r.await.unwrap();
    }
    let requests = fake.faults().requests().len();
    assert!(requests >= 2 * READS, "{requests}");
    assert_eq!(
        fake.rate_limited(),
        0,
        "the account answered 429: its two desks together sent more than its {LIMIT} a second ({requests} requests)"
    );
}
