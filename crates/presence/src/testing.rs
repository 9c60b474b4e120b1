//! The presence contract as a reusable test harness (feature `testing`): every vendor crate
//! runs the same assertions against its own fake (get / set / list, idempotent set, unsupported
//! states, `set_with`'s expiry and vendor states, not found, auth failure without the secret in
//! the message).
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
//!     clock: None,             // no clock to move: an expiry is set and read back only
//!     state: None,             // no state of its own beyond the mapping
//!     expiry_unread: false,    // an expiry set is read back
//! })
//! .await;
//! # }
//! ```

use std::time::Duration;

use crate::{Availability, ErrorKind, Failure, ListFilter, Presence, SetRequest};

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
    /// Moves the fake's clock forward ([`Case::with_clock`]), so the contract sees a state set
    /// with an expiry end at its time; without it, only the setting and reading back of an
    /// expiry are checked.
    pub clock: Option<Box<dyn Fn(Duration) + Send + Sync>>,
    /// A state of the vendor's own beyond its mapping that the fake has ([`Case::with_state`]),
    /// and the availability it means; without it, the contract checks that an unknown word is
    /// refused.
    pub state: Option<(String, Availability)>,
    /// The vendor ends a state by itself but its reads do not say when
    /// ([`Case::with_expiry_unread`]: Microsoft Graph's application sessions); without it, an
    /// expiry set must be read back.
    pub expiry_unread: bool,
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
            clock: None,
            state: None,
            expiry_unread: false,
        }
    }

    /// The case with the fake's clock: `advance(fake, by)` moves it forward (and runs whatever
    /// ends timed states). `F` is the fake's type as given to [`Case::new`].
    ///
    /// # Panics
    ///
    /// When the case's fake is not an `F` (a test written wrong).
    pub fn with_clock<F: Send + Sync + 'static>(self, advance: fn(&F, Duration)) -> Self {
        let fake = self
            .guard
            .downcast_ref::<std::sync::Arc<F>>()
            .expect("with_clock: the fake's type is the one given to Case::new")
            .clone();
        Self {
            clock: Some(Box::new(move |by| advance(&fake, by))),
            ..self
        }
    }

    /// The case with `state`, a state of the vendor's own word that the fake has (a Twilio
    /// TaskRouter activity, Mattermost `dnd`, ...), meaning `availability`.
    pub fn with_state(self, state: impl Into<String>, availability: Availability) -> Self {
        Self {
            state: Some((state.into(), availability)),
            ..self
        }
    }

    /// The case of a vendor whose reads do not carry the end of a state set with an expiry
    /// (Microsoft Graph: the application session's `expirationDuration` is not in its presence):
    /// the contract checks the timed set, its refusal in the past and, with a clock, its end, but
    /// not reading the expiry back.
    pub fn with_expiry_unread(self) -> Self {
        Self {
            expiry_unread: true,
            ..self
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

    // set_with: a plain request is a set
    for &a in p.supported() {
        let after = p.set_with(&case.agent, &SetRequest::new(a)).await.unwrap();
        assert_eq!(after.availability, a, "{vendor}: set_with {a}");
    }

    expiry(&case).await;
    state(&case).await;

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

/// An expiry: refused where the vendor has none (nothing changes), set and read back where it
/// has, and ended by the fake at its time when the case has the fake's clock.
async fn expiry(case: &Case) {
    let p = &case.presence;
    let vendor = p.vendor();
    let ten = Duration::from_secs(600);
    for &a in p.supported() {
        if p.expiring().contains(&a) {
            continue;
        }
        let changes = (case.changes)();
        let e = p
            .set_with(&case.agent, &SetRequest::new(a).for_duration(ten))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{vendor}: {e}");
        assert!(
            matches!(
                e.failure(),
                Failure::UnsupportedOption {
                    option: "until",
                    ..
                }
            ),
            "{vendor}: {e:?}"
        );
        assert!(e.to_string().contains("`until`"), "{e}");
        assert_eq!(
            (case.changes)(),
            changes,
            "{vendor}: a refused expiry changed state"
        );
    }
    for &a in p.expiring() {
        assert!(
            p.supported().contains(&a),
            "{vendor}: expiring {a} is not supported"
        );
    }
    let Some(&timed) = p.expiring().first() else {
        assert!(
            case.clock.is_none(),
            "{vendor}: the case has a clock, but the adapter ends no availability by itself"
        );
        return;
    };
    let before = *p
        .supported()
        .iter()
        .find(|a| **a != timed)
        .expect("a vendor with an expiry sets another availability too");
    p.set(&case.agent, before).await.unwrap();
    let request = SetRequest::new(timed).for_duration(ten);
    let until = request.until.unwrap();
    let after = p.set_with(&case.agent, &request).await.unwrap();
    assert_eq!(
        after.availability, timed,
        "{vendor}: set {timed} with an expiry"
    );
    if case.expiry_unread {
        assert_eq!(
            after.detail.until(),
            None,
            "{vendor}: reads an expiry: {after:?}"
        );
        let now = p.get(&case.agent).await.unwrap();
        assert_eq!(now.availability, timed, "{vendor}: {now:?}");
    } else {
        let read = after.detail.until().unwrap_or_else(|| {
            panic!("{vendor}: no expiry read back after setting one: {after:?}")
        });
        // vendors may round it down (Mattermost: to the minute), never later
        assert!(
            read <= until && until - read < chrono::TimeDelta::seconds(60),
            "{vendor}: asked to end at {until}, reads {read}"
        );
        let now = p.get(&case.agent).await.unwrap();
        assert_eq!((now.availability, now.detail.until()), (timed, Some(read)));

        // the same again changes nothing
        let changes = (case.changes)();
        p.set_with(&case.agent, &request).await.unwrap();
        assert_eq!(
            (case.changes)(),
            changes,
            "{vendor}: a second timed set changed state"
        );
    }

    // an end in the past is the caller's mistake
    let past = until - chrono::TimeDelta::hours(1);
    let e = p
        .set_with(&case.agent, &SetRequest::new(timed).until(past))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{vendor}: {e}");

    if let Some(advance) = &case.clock {
        advance(ten + Duration::from_secs(60));
        let ended = p.get(&case.agent).await.unwrap();
        assert_ne!(
            ended.availability, timed,
            "{vendor}: still {timed} after its end: {ended:?}"
        );
        assert_eq!(ended.detail.until(), None, "{vendor}: {ended:?}");
    }
}

/// A state by the vendor's own word: set, read back and refused when it means another
/// availability, where the case names one; an unknown word refused, changing nothing,
/// everywhere.
async fn state(case: &Case) {
    let p = &case.presence;
    let vendor = p.vendor();
    let first = p.supported()[0];
    let changes = (case.changes)();
    let e = p
        .set_with(&case.agent, &SetRequest::new(first).state("no-such-state"))
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Unsupported | ErrorKind::InvalidInput),
        "{vendor}: {e}"
    );
    assert!(
        e.to_string().contains("no-such-state") || e.to_string().contains("`state`"),
        "{e}"
    );
    assert_eq!(
        (case.changes)(),
        changes,
        "{vendor}: an unknown state changed state"
    );

    let Some((word, means)) = &case.state else {
        return;
    };
    let after = p
        .set_with(&case.agent, &SetRequest::new(*means).state(word))
        .await
        .unwrap();
    assert_eq!(after.availability, *means, "{vendor}: state {word}");
    assert!(
        after.detail.state().eq_ignore_ascii_case(word),
        "{vendor}: set {word:?}, reads {:?}",
        after.detail.state()
    );
    let read = p.get(&case.agent).await.unwrap();
    assert!(
        read.detail.state().eq_ignore_ascii_case(word),
        "{vendor}: {read:?}"
    );
    let changes = (case.changes)();
    p.set_with(&case.agent, &SetRequest::new(*means).state(word))
        .await
        .unwrap();
    assert_eq!(
        (case.changes)(),
        changes,
        "{vendor}: a second set of {word:?} changed state"
    );

    // the word asked as another availability: refused, never substituted
    if let Some(&other) = p.supported().iter().find(|a| *a != means) {
        let e = p
            .set_with(&case.agent, &SetRequest::new(other).state(word))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{vendor}: {e}");
        assert!(e.to_string().contains(other.as_str()), "{e}");
        assert_eq!(
            (case.changes)(),
            changes,
            "{vendor}: a refused state changed state"
        );
    }
}
