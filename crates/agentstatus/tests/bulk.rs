//! Bulk presence on each vendor's fake: one read of the current states (in pages), one write per
//! agent that changes, results in input order, a second run of the same roster writes nothing,
//! one failure never stops the rest, and the toggle of older Rocket.Chat servers is sent once per
//! changed agent.

use std::time::Duration;

use agentstatus::chatwoot::fake as cw;
use agentstatus::{
    Availability, BulkOptions, ClientConfig, ErrorKind, Presence, RateLimit, set_many,
};
use agentstatus::{engage_digital::fake as ed, libredesk::fake as ld, rocketchat::fake as rc};

/// `n` agents, the even ones already in `wanted`; the roster lists them in reverse order (so
/// results are checked against input order, not the vendor's) plus one unknown agent.
fn roster(ids: &[String], wanted: Availability) -> Vec<(String, Availability)> {
    let mut r: Vec<(String, Availability)> =
        ids.iter().rev().map(|id| (id.clone(), wanted)).collect();
    r.insert(3, ("no-such-agent".to_string(), wanted));
    r
}

fn check_order_and_outcomes(
    results: &[agentstatus::BulkResult],
    roster: &[(String, Availability)],
    changed: usize,
) {
    let order: Vec<&str> = results.iter().map(|r| r.agent.as_str()).collect();
    let want: Vec<&str> = roster.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(order, want, "results in input order");
    let unknown = &results[3];
    assert_eq!(unknown.agent, "no-such-agent");
    let e = unknown.outcome.as_ref().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let applied: Vec<_> = results
        .iter()
        .filter(|r| r.agent != "no-such-agent")
        .map(|r| {
            r.outcome
                .as_ref()
                .unwrap_or_else(|e| panic!("{}: {e}", r.agent))
        })
        .collect();
    assert!(
        applied
            .iter()
            .all(|a| a.presence.availability == roster[0].1)
    );
    let n = applied.iter().filter(|a| a.changed == Some(true)).count();
    assert_eq!(n, changed, "changed agents");
    assert_eq!(
        applied.iter().filter(|a| a.changed == Some(false)).count(),
        applied.len() - changed
    );
}

#[tokio::test]
async fn engage_digital_reads_once_and_writes_each_changed_agent_once() {
    let fake = ed::EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("t");
    let ids: Vec<String> = (0..40).map(|i| format!("e{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let status = if i % 2 == 0 { "available" } else { "away" };
        fake.add_agent(ed::Agent::new(
            id,
            &[("c1", "Email"), ("c2", "Chat")],
            status,
        ));
    }
    let client =
        agentstatus::engage_digital::Client::with_token(&fake.url(), "t".to_string().into())
            .unwrap();
    let p = agentstatus::engage_digital::presence::EngageDigitalPresence::new(client);
    let updates = roster(&ids, Availability::Available);
    let results = set_many(&p, updates.clone(), 8).await;
    check_order_and_outcomes(&results, &updates, 20);
    let reqs = fake.faults().requests();
    let puts = reqs.iter().filter(|(m, _)| m == "PUT").count();
    assert_eq!(puts, 20, "one write per changed agent");
    assert_eq!(fake.state_changes(), 20);
    // one list read, and the unknown agent's own read (it is not connected)
    assert_eq!(
        reqs.iter()
            .filter(|(m, p)| m == "GET" && p == "/status")
            .count(),
        1
    );
    // one list read; the unknown agent is not among the connected ones: no request for it
    assert_eq!(reqs.len(), 1 + 20);

    // the same roster again: reads only
    let before = fake.faults().requests().len();
    let results = set_many(&p, updates.clone(), 8).await;
    check_order_and_outcomes(&results, &updates, 0);
    let again = &fake.faults().requests()[before..];
    assert!(again.iter().all(|(m, _)| m == "GET"), "{again:?}");
    assert_eq!(fake.state_changes(), 20);
}

#[tokio::test]
async fn engage_digital_runs_at_the_servers_rate_limit_without_429s() {
    let fake = ed::EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("t");
    let ids: Vec<String> = (0..30).map(|i| format!("e{i}")).collect();
    for id in &ids {
        fake.add_agent(ed::Agent::new(id, &[("c1", "Email")], "away"));
    }
    fake.set_rate_limit(20, Duration::from_secs(1));
    let config = ClientConfig::default()
        .with_rate_limit(Some(RateLimit {
            requests: 20,
            per: Duration::from_secs(1),
        }))
        .with_retry(agentstatus::RetryPolicy::none());
    let client = agentstatus::engage_digital::Client::with_config(
        &fake.url(),
        "t".to_string().into(),
        &config,
    )
    .unwrap();
    let p = agentstatus::engage_digital::presence::EngageDigitalPresence::new(client);
    let updates: Vec<_> = ids
        .iter()
        .map(|i| (i.clone(), Availability::Available))
        .collect();
    // no retries: a single 429 would be a failed update
    for r in set_many(&p, updates, 16).await {
        r.outcome.unwrap_or_else(|e| panic!("{}: {e}", r.agent));
    }
    assert_eq!(fake.state_changes(), 30);
}

#[tokio::test]
async fn rocketchat_reads_in_pages_and_takes_the_result_from_the_write() {
    let fake = rc::RocketChat::start().await.unwrap();
    fake.add_user("mgr", "t", true);
    // an admin's or bot's token, as a bulk run needs: not counted by the server's limiter
    fake.bypass_rate_limit("mgr");
    let ids: Vec<String> = (0..250).map(|i| format!("a{i:03}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let status = if i % 2 == 0 {
            "available"
        } else {
            "not-available"
        };
        fake.add_agent(rc::Agent::new(id, id, status));
    }
    let client = agentstatus::rocketchat::Client::with_credentials(
        &fake.url(),
        agentstatus::rocketchat::Credentials::new("mgr", "t".to_string().into()),
    )
    .unwrap();
    let p = agentstatus::rocketchat::presence::RocketChatPresence::new(client);
    let updates = roster(&ids, Availability::Available);
    let results = set_many(&p, updates.clone(), 8).await;
    check_order_and_outcomes(&results, &updates, 125);
    let reqs = fake.faults().requests();
    let posts = reqs.iter().filter(|(m, _)| m == "POST").count();
    assert_eq!(
        posts, 125,
        "one explicit status per changed agent, no read back"
    );
    let pages = reqs
        .iter()
        .filter(|(m, p)| m == "GET" && p == "/api/v1/livechat/users/agent")
        .count();
    assert_eq!(pages, 3, "250 agents in pages of 100");
    assert_eq!(fake.state_changes(), 125);
    let presence_reads = reqs
        .iter()
        .filter(|(m, p)| m == "GET" && p == "/api/v1/users.presence")
        .count();
    assert_eq!(
        presence_reads, 1,
        "the status messages and ends: one users.presence for the whole list"
    );
    assert_eq!(
        reqs.len(),
        3 + 1 + 125,
        "3 pages, one users.presence and 125 writes"
    );

    let before = reqs.len();
    let results = set_many(&p, updates.clone(), 8).await;
    check_order_and_outcomes(&results, &updates, 0);
    let again = &fake.faults().requests()[before..];
    assert!(
        again.iter().all(|(m, _)| m == "GET"),
        "a second run writes nothing"
    );
}

#[tokio::test]
async fn rocketchat_toggle_is_sent_once_per_changed_agent_on_older_servers() {
    let fake = rc::RocketChat::start().await.unwrap();
    fake.add_user("mgr", "t", true);
    // an admin's or bot's token, as a bulk run needs: not counted by the server's limiter
    fake.bypass_rate_limit("mgr");
    fake.set_legacy_toggle_only(true);
    let ids: Vec<String> = (0..40).map(|i| format!("a{i:02}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let status = if i % 2 == 0 {
            "available"
        } else {
            "not-available"
        };
        fake.add_agent(rc::Agent::new(id, id, status));
    }
    let client = agentstatus::rocketchat::Client::with_credentials(
        &fake.url(),
        agentstatus::rocketchat::Credentials::new("mgr", "t".to_string().into()),
    )
    .unwrap();
    let p = agentstatus::rocketchat::presence::RocketChatPresence::new(client);
    let updates: Vec<_> = ids
        .iter()
        .map(|i| (i.clone(), Availability::Offline))
        .collect();
    let concurrency = 4;
    for r in set_many(&p, updates, concurrency).await {
        r.outcome.unwrap_or_else(|e| panic!("{}: {e}", r.agent));
    }
    // every changed agent toggled exactly once: a second toggle would have undone it
    assert_eq!(fake.state_changes(), 20);
    for id in &ids {
        assert_eq!(
            fake.agent(id).unwrap().status_livechat,
            "not-available",
            "{id}"
        );
    }
    let posts = fake
        .faults()
        .requests()
        .iter()
        .filter(|(m, _)| m == "POST")
        .count();
    // 20 toggles, plus at most one rejected explicit status per write in flight before the
    // adapter learnt the server is old (they change nothing)
    assert!((20..=20 + concurrency).contains(&posts), "{posts}");
}

#[tokio::test]
async fn chatwoot_reads_once_and_patches_each_changed_agent_once() {
    let fake = cw::Chatwoot::start(1).await.unwrap();
    fake.add_agent(cw::Agent::new(1, "Admin", "admin", "online").administrator());
    let ids: Vec<String> = (2..42).map(|i| i.to_string()).collect();
    for (i, id) in ids.iter().enumerate() {
        let status = if i % 2 == 0 { "busy" } else { "online" };
        fake.add_agent(cw::Agent::new(
            id.parse().unwrap(),
            &format!("Agent {id}"),
            &format!("tok{id}"),
            status,
        ));
    }
    let client = agentstatus::chatwoot::Client::with_user_api_key(
        &fake.url(),
        "admin".to_string().into(),
        &ClientConfig::default(),
    )
    .unwrap();
    let p = agentstatus::chatwoot::presence::ChatwootPresence::new(client, 1);
    let updates = roster(&ids, Availability::Busy);
    let results = p.set_many(updates.clone(), &BulkOptions::new(8)).await;
    check_order_and_outcomes(&results, &updates, 20);
    let reqs = fake.faults().requests();
    assert_eq!(reqs.iter().filter(|(m, _)| m == "PATCH").count(), 20);
    assert_eq!(reqs.len(), 1 + 20, "one list, one write per changed agent");
    assert_eq!(fake.state_changes(), 20);
}

#[tokio::test]
async fn libredesk_sets_its_own_agent_once() {
    let fake = ld::Libredesk::start().await.unwrap();
    fake.add_agent(ld::Agent::new(1, "Ada", "online", "k", "s"));
    let client = agentstatus::libredesk::Client::with_credentials(
        &fake.url(),
        agentstatus::libredesk::Credentials::basic("k", "s".to_string().into()),
    )
    .unwrap();
    let p = agentstatus::libredesk::presence::LibredeskPresence::new(client);
    let updates = vec![
        ("me".to_string(), Availability::Away),
        ("2".to_string(), Availability::Away),
        ("1".to_string(), Availability::Away),
    ];
    let results = set_many(&p, updates, 8).await;
    assert_eq!(results[0].outcome.as_ref().unwrap().changed, Some(true));
    assert_eq!(
        results[1].outcome.as_ref().unwrap_err().kind(),
        ErrorKind::Unsupported,
        "another agent"
    );
    assert_eq!(results[2].outcome.as_ref().unwrap().changed, Some(false));
    assert_eq!(fake.state_changes(), 1);
    assert_eq!(fake.faults().requests().len(), 2, "one read, one write");
}
