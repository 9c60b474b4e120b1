//! The presence contract as a reusable test harness (feature `testing`): every vendor crate
//! runs the same assertions against its own fake (get / set / list, idempotent set, unsupported
//! states, not found, auth failure without the secret in the message).
//!
//! ```no_run
//! # async fn run(presence: Box<dyn agentstatus_presence::Presence>, bad: Box<dyn agentstatus_presence::Presence>) {
//! use agentstatus_presence::testing::{Case, contract};
//! contract(Case {
//!     presence,           // an adapter connected to the vendor's fake
//!     bad_auth: bad,      // the same, with a wrong secret that starts with `wrong-`
//!     agent: "a1".into(), // an agent it may set; the fake has at least one other agent
//!     unknown: "no-such-agent".into(), // an id the vendor accepts but has no agent for
//!     changes: Box::new(|| 0), // the fake's count of state changes
//!     guard: Box::new(()),     // keeps the fake running
//! })
//! .await;
//! # }
//! ```

use crate::{Availability, ErrorKind, ListFilter, Presence};

/// A vendor's fake with an adapter pointed at it.
pub struct Case {
    /// An adapter with valid credentials, pointed at the fake.
    pub presence: Box<dyn Presence>,
    /// An adapter with wrong credentials (the secret starts with `wrong-`).
    pub bad_auth: Box<dyn Presence>,
    /// An agent the adapter may set.
    pub agent: String,
    /// An agent id of the vendor's form that names no agent: `get` must say NotFound about it.
    /// [`Case::new`] makes it `no-such-agent`; a vendor whose ids have a pattern (and refuses
    /// other ids before sending) gives one of its own ([`Case::with_unknown`]).
    pub unknown: String,
    /// How many state changes the fake has seen.
    pub changes: Box<dyn Fn() -> u64 + Send + Sync>,
    /// Keeps the fake running.
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

impl Case {
    /// A case over `fake`, kept running while the case lives, whose state changes `changes`
    /// counts (as [`Demo::new`](crate::registry::Demo::new)): `presence` and `bad_auth` are
    /// adapters pointed at it, `agent` one the adapter may set.
    pub fn new<F: Send + Sync + 'static>(
        fake: F,
        presence: Box<dyn Presence>,
        bad_auth: Box<dyn Presence>,
        agent: impl Into<String>,
        changes: fn(&F) -> u64,
    ) -> Self {
        let fake = std::sync::Arc::new(fake);
        let counter = fake.clone();
        Self {
            presence,
            bad_auth,
            agent: agent.into(),
            unknown: "no-such-agent".into(),
            changes: Box::new(move || changes(&counter)),
            guard: Box::new(fake),
        }
    }

    /// The case with `unknown` as the id of no agent (instead of `no-such-agent`).
    pub fn with_unknown(self, unknown: impl Into<String>) -> Self {
        Self {
            unknown: unknown.into(),
            ..self
        }
    }
}

/// Run the contract against `case`; panics (with the vendor's name) on the first violation.
pub async fn contract(case: Case) {
    let p = &case.presence;
    let vendor = p.vendor();

    // get
    let start = p.get(&case.agent).await.unwrap();
    assert_eq!(start.agent_id, case.agent, "{vendor}");

    // set every supported availability; each reads back
    for &a in p.supported() {
        let after = p.set(&case.agent, a).await.unwrap();
        assert_eq!(after.availability, a, "{vendor}: set {a}");
        assert_eq!(
            p.get(&case.agent).await.unwrap().availability,
            a,
            "{vendor}: get after set {a}"
        );

        // idempotent: setting it again changes nothing at the server
        let changes = (case.changes)();
        let again = p.set(&case.agent, a).await.unwrap();
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
        let e = p.set(&case.agent, a).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{vendor}: {e}");
        assert!(e.to_string().contains(a.as_str()), "{e}");
    }
    assert_eq!((case.changes)(), changes);

    // list: everything, and only the available ones
    p.set(&case.agent, Availability::Available).await.unwrap();
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
    p.set(&case.agent, *p.supported().last().unwrap())
        .await
        .unwrap();
    let available = p.list(&ListFilter::available()).await.unwrap();
    assert!(
        !available.iter().any(|a| a.agent_id == case.agent),
        "{vendor}: {available:?}"
    );
    assert!(all.iter().any(|a| a.agent_id == other.agent_id));

    // not found
    let e = p.get(&case.unknown).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{vendor}: {e}");
    assert_eq!(
        (e.vendor(), e.agent()),
        (vendor, Some(case.unknown.as_str())),
        "{e}"
    );
    assert!(e.operation().is_some(), "{vendor}: {e}");

    // auth failure, without the secret in the message, in the client operation that failed
    let e = case.bad_auth.get(&case.agent).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{vendor}: {e}");
    assert_eq!(e.status(), Some(401));
    assert!(!e.to_string().contains("wrong-"), "{e}");
    let operation = e.operation().unwrap_or_default();
    assert!(
        !["", "get", "set", "list"].contains(&operation),
        "{vendor}: the generated client's operation, not {operation:?}: {e}"
    );
    assert!(
        e.to_string()
            .starts_with(&format!("{vendor}: {operation}: ")),
        "{e}"
    );
    let e = case
        .bad_auth
        .set(&case.agent, Availability::Available)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{vendor}: {e}");
}
