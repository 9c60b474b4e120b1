//! `agentstatus-bench bulk`: requests per requested update of `Presence::set_many` on each
//! vendor's fake (10,000 agents, half already in the wanted state), and the wall time of a bulk
//! run paced by a rate limit the fake enforces (Engage Digital), against `changed / limit`.

use std::time::{Duration, Instant};

use agentstatus_presence::{Availability, set_many};
use agentstatus_runtime::{ClientConfig, RateLimit, RetryPolicy};

use crate::verdict;

fn row(
    vendor: &str,
    agents: usize,
    changed: usize,
    requests: usize,
    writes: usize,
    ok: bool,
) -> String {
    let per = requests as f64 / agents as f64;
    format!(
        "| {vendor} | {agents} | {changed} | {requests} | {writes} | {per:.3} | {} |\n",
        verdict(ok && per <= 0.55 && writes == changed)
    )
}

/// Requests per update on each fake, `agents` agents, the even ones already right.
pub async fn requests(agents: usize) -> String {
    let mut out = String::new();
    let half = agents / 2;
    let ids: Vec<String> = (0..agents).map(|i| format!("a{i:06}")).collect();

    // Engage Digital: GET /status (every connected agent), then one PUT per changed agent
    {
        use agentstatus_engage_digital::fake::{Agent, EngageDigital};
        let fake = EngageDigital::start().await.expect("fake");
        fake.add_supervisor_token("t");
        for (i, id) in ids.iter().enumerate() {
            let s = if i % 2 == 0 { "available" } else { "away" };
            fake.add_agent(Agent::new(id, &[("c1", "Email")], s));
        }
        let client = agentstatus_engage_digital::Client::with_config(
            &fake.url(),
            "t".to_string().into(),
            &ClientConfig::default(),
        )
        .expect("client");
        let p = agentstatus_engage_digital::presence::EngageDigitalPresence::new(client);
        let updates = ids
            .iter()
            .map(|i| (i.clone(), Availability::Available))
            .collect();
        let ok = set_many(&p, updates, 32)
            .await
            .iter()
            .all(|r| r.outcome.is_ok());
        let reqs = fake.faults().requests();
        let writes = reqs.iter().filter(|(m, _)| m == "PUT").count();
        out.push_str(&row("engage-digital", agents, half, reqs.len(), writes, ok));
    }

    // Rocket.Chat: the agents in pages of 100, then one agent.status per changed agent
    {
        use agentstatus_rocketchat::fake::{Agent, RocketChat};
        let fake = RocketChat::start().await.expect("fake");
        fake.add_user("mgr", "t", true);
        fake.bypass_rate_limit("mgr");
        for (i, id) in ids.iter().enumerate() {
            let s = if i % 2 == 0 {
                "available"
            } else {
                "not-available"
            };
            fake.add_agent(Agent::new(id, id, s));
        }
        let client = agentstatus_rocketchat::Client::with_credentials(
            &fake.url(),
            agentstatus_rocketchat::Credentials::new("mgr", "t".to_string().into()),
        )
        .expect("client");
        let p = agentstatus_rocketchat::presence::RocketChatPresence::new(client);
        let updates = ids
            .iter()
            .map(|i| (i.clone(), Availability::Available))
            .collect();
        let ok = set_many(&p, updates, 32)
            .await
            .iter()
            .all(|r| r.outcome.is_ok());
        let reqs = fake.faults().requests();
        let writes = reqs.iter().filter(|(m, _)| m == "POST").count();
        out.push_str(&row("rocketchat", agents, half, reqs.len(), writes, ok));
    }

    // Chatwoot: the account's agents in one list, then one PATCH per changed agent
    {
        use agentstatus_chatwoot::fake::{Agent, Chatwoot};
        let fake = Chatwoot::start(1).await.expect("fake");
        // this counts requests per update, not the server's 3000 requests a minute: raised
        fake.set_rate_limit(u32::MAX, Duration::from_secs(60));
        fake.add_agent(Agent::new(1_000_000, "Admin", "admin", "online").administrator());
        for i in 0..agents {
            let s = if i % 2 == 0 { "busy" } else { "online" };
            fake.add_agent(Agent::new(
                i as i64,
                &format!("Agent {i}"),
                &format!("t{i}"),
                s,
            ));
        }
        let client = agentstatus_chatwoot::Client::with_user_api_key(
            &fake.url(),
            "admin".to_string().into(),
            &ClientConfig::default(),
        )
        .expect("client");
        let p = agentstatus_chatwoot::presence::ChatwootPresence::new(client, 1);
        let updates = (0..agents)
            .map(|i| (i.to_string(), Availability::Busy))
            .collect();
        let ok = set_many(&p, updates, 32)
            .await
            .iter()
            .all(|r| r.outcome.is_ok());
        let reqs = fake.faults().requests();
        let writes = reqs.iter().filter(|(m, _)| m == "PATCH").count();
        out.push_str(&row("chatwoot", agents, half, reqs.len(), writes, ok));
    }
    out.push_str("| libredesk | — | — | — | — | — | n/a: the API sets only the credentials' own agent (one read, one write) |\n");
    out
}

/// Wall time of a bulk run at the Engage Digital fake's rate limit, which the client's own
/// limit matches (one request every `1 / limit` s): goal within 5% of `requests / limit`, no 429.
pub async fn paced(agents: usize, limit: u32) -> String {
    use agentstatus_engage_digital::fake::{Agent, EngageDigital};
    let fake = EngageDigital::start().await.expect("fake");
    fake.add_supervisor_token("t");
    let ids: Vec<String> = (0..agents).map(|i| format!("a{i:06}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let s = if i % 2 == 0 { "available" } else { "away" };
        fake.add_agent(Agent::new(id, &[("c1", "Email")], s));
    }
    let per = Duration::from_secs(1);
    fake.set_rate_limit(limit, per);
    let config = ClientConfig::default()
        .with_rate_limit(Some(RateLimit {
            requests: limit,
            per,
        }))
        .with_retry(RetryPolicy::none()); // a 429 would be a failed update, not a silent retry
    let client = agentstatus_engage_digital::Client::with_config(
        &fake.url(),
        "t".to_string().into(),
        &config,
    )
    .expect("client");
    let p = agentstatus_engage_digital::presence::EngageDigitalPresence::new(client);
    let updates = ids
        .iter()
        .map(|i| (i.clone(), Availability::Available))
        .collect();
    let start = Instant::now();
    let results = set_many(&p, updates, 16).await;
    let took = start.elapsed().as_secs_f64();
    let rejected = results
        .iter()
        .filter(|r| matches!(&r.outcome, Err(e) if e.status() == Some(429)))
        .count();
    let failed = results.iter().filter(|r| r.outcome.is_err()).count();
    let requests = fake.faults().requests().len();
    // the first request goes at once: the rest are spaced by 1 / limit
    let ideal = (requests.saturating_sub(1)) as f64 / f64::from(limit);
    let ratio = took / ideal;
    format!(
        "| engage-digital | {agents} | {} | {limit}/s | {took:.2} s | {ideal:.2} s | {ratio:.3} | {rejected} | {} |\n",
        agents / 2,
        verdict(ratio <= 1.05 && rejected == 0 && failed == 0)
    )
}
