//! The presence contract, one suite run against each vendor's fake server: the same assertions
//! for all three (get / set / list, idempotent set, unsupported state, auth failure, not found).

use agentstatus_fakes::{engage_digital as ed, libredesk as ld, rocketchat as rc};
use agentstatus_presence::engage_digital::EngageDigitalPresence;
use agentstatus_presence::libredesk::LibredeskPresence;
use agentstatus_presence::rocketchat::RocketChatPresence;
use agentstatus_presence::{Availability, ErrorKind, ListFilter, Presence};

/// A vendor's fake with an adapter pointed at it.
struct Case {
    presence: Box<dyn Presence>,
    /// An adapter with wrong credentials.
    bad_auth: Box<dyn Presence>,
    /// An agent the adapter may set.
    agent: &'static str,
    /// How many state changes the fake has seen.
    changes: Box<dyn Fn() -> u64>,
    _fake: Box<dyn std::any::Any>,
}

async fn rocketchat() -> Case {
    let fake = rc::RocketChat::start().await.unwrap();
    fake.add_user("mgr", "mgr-token", true);
    fake.add_agent(rc::Agent::new("a1", "Ada Lovelace", "not-available"));
    fake.add_agent(rc::Agent::new("a2", "Bob Babbage", "available"));
    let url = fake.url();
    let client = |token: &str| {
        agentstatus_rocketchat::Client::with_credentials(
            &url,
            agentstatus_rocketchat::Credentials::new("mgr", token.to_string().into()),
        )
        .unwrap()
    };
    let fake = std::sync::Arc::new(fake);
    let f = fake.clone();
    Case {
        presence: Box::new(RocketChatPresence::new(client("mgr-token"))),
        bad_auth: Box::new(RocketChatPresence::new(client("wrong-token"))),
        agent: "a1",
        changes: Box::new(move || f.state_changes()),
        _fake: Box::new(fake),
    }
}

async fn libredesk() -> Case {
    let fake = ld::Libredesk::start().await.unwrap();
    fake.add_agent(ld::Agent::new(
        1,
        "Ada Lovelace",
        "offline",
        "ada-key",
        "ada-secret",
    ));
    fake.add_agent(ld::Agent::new(
        2,
        "Bob Babbage",
        "online",
        "bob-key",
        "bob-secret",
    ));
    let url = fake.url();
    let client = |secret: &str| {
        agentstatus_libredesk::Client::with_credentials(
            &url,
            agentstatus_libredesk::Credentials::basic("ada-key", secret.to_string().into()),
        )
        .unwrap()
    };
    let fake = std::sync::Arc::new(fake);
    let f = fake.clone();
    Case {
        presence: Box::new(LibredeskPresence::new(client("ada-secret"))),
        bad_auth: Box::new(LibredeskPresence::new(client("wrong-secret"))),
        agent: "1",
        changes: Box::new(move || f.state_changes()),
        _fake: Box::new(fake),
    }
}

async fn engage_digital() -> Case {
    let fake = ed::EngageDigital::start().await.unwrap();
    fake.add_supervisor_token("sup-token");
    fake.add_agent(ed::Agent::new(
        "e1",
        &[("c1", "Email"), ("c2", "Chat")],
        "away",
    ));
    fake.add_agent(ed::Agent::new("e2", &[("c1", "Email")], "available"));
    let url = fake.url();
    let client = |token: &str| {
        agentstatus_engage_digital::Client::with_token(&url, token.to_string().into()).unwrap()
    };
    let fake = std::sync::Arc::new(fake);
    let f = fake.clone();
    Case {
        presence: Box::new(EngageDigitalPresence::new(client("sup-token"))),
        bad_auth: Box::new(EngageDigitalPresence::new(client("wrong-token"))),
        agent: "e1",
        changes: Box::new(move || f.state_changes()),
        _fake: Box::new(fake),
    }
}

async fn contract(case: Case) {
    let p = &case.presence;
    let vendor = p.vendor();

    // get
    let start = p.get(case.agent).await.unwrap();
    assert_eq!(start.agent_id, case.agent, "{vendor}");

    // set every supported availability; each reads back
    for &a in p.supported() {
        let after = p.set(case.agent, a).await.unwrap();
        assert_eq!(after.availability, a, "{vendor}: set {a}");
        assert_eq!(
            p.get(case.agent).await.unwrap().availability,
            a,
            "{vendor}: get after set {a}"
        );

        // idempotent: setting it again changes nothing at the server
        let changes = (case.changes)();
        let again = p.set(case.agent, a).await.unwrap();
        assert_eq!(again.availability, a);
        assert_eq!(
            (case.changes)(),
            changes,
            "{vendor}: second set {a} changed state"
        );
    }

    // unsupported states are an error, not a substitute, and change nothing
    let changes = (case.changes)();
    for a in Availability::ALL
        .into_iter()
        .filter(|a| !p.supported().contains(a))
    {
        let e = p.set(case.agent, a).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{vendor}: {e}");
        assert!(e.to_string().contains(a.as_str()), "{e}");
    }
    assert!(
        !p.supported().contains(&Availability::Busy),
        "{vendor}: no vendor can set Busy"
    );
    assert_eq!((case.changes)(), changes);

    // list: everything, and only the available ones
    p.set(case.agent, Availability::Available).await.unwrap();
    let all = p.list(&ListFilter::all()).await.unwrap();
    assert!(all.len() >= 2, "{vendor}: {all:?}");
    assert!(all.iter().any(|a| a.agent_id == case.agent));
    let available = p.list(&ListFilter::available()).await.unwrap();
    assert!(
        available
            .iter()
            .all(|a| a.availability == Availability::Available)
    );
    assert!(
        available.iter().any(|a| a.agent_id == case.agent),
        "{vendor}: {available:?}"
    );
    let other = all.iter().find(|a| a.agent_id != case.agent).unwrap();
    p.set(case.agent, *p.supported().last().unwrap())
        .await
        .unwrap();
    let available = p.list(&ListFilter::available()).await.unwrap();
    assert!(
        !available.iter().any(|a| a.agent_id == case.agent),
        "{vendor}: {available:?}"
    );
    assert!(all.iter().any(|a| a.agent_id == other.agent_id));

    // not found
    let e = p.get("no-such-agent").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{vendor}: {e}");

    // auth failure, without the secret in the message
    let e = case.bad_auth.get(case.agent).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{vendor}: {e}");
    assert_eq!(e.status(), Some(401));
    assert!(!e.to_string().contains("wrong-"), "{e}");
    let e = case
        .bad_auth
        .set(case.agent, Availability::Available)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{vendor}: {e}");
}

#[tokio::test]
async fn rocketchat_meets_the_contract() {
    contract(rocketchat().await).await;
}

#[tokio::test]
async fn libredesk_meets_the_contract() {
    contract(libredesk().await).await;
}

#[tokio::test]
async fn engage_digital_meets_the_contract() {
    contract(engage_digital().await).await;
}
