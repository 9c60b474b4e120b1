//! The contract harness itself, against an in-memory adapter whose agent ids have a pattern
//! (`a` and digits) and which refuses any other id before "sending" (as a vendor with
//! patterned ids does): the suite takes the vendor's own unknown id.
#![cfg(feature = "testing")]

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use agentstatus_presence::adapter::{Adapter, Deadline};
use agentstatus_presence::testing::{Case, contract};
use agentstatus_presence::{
    AgentPresence, Availability, Detail, Failure, ListFilter, PresenceError, Vendor, async_trait,
};

const VENDOR: Vendor = Vendor::new("patterned");

/// The vendor's state: agents and the count of changes.
#[derive(Default)]
struct Desk {
    agents: Mutex<BTreeMap<String, Availability>>,
    changes: AtomicU64,
}

struct Patterned {
    desk: std::sync::Arc<Desk>,
    authenticated: bool,
}

impl Deadline for Patterned {
    fn deadline(&self) -> Duration {
        Duration::from_secs(5)
    }
}

impl Patterned {
    /// What a client with a pattern on the id does: refuse it before sending; then the
    /// server's answers (401 with wrong credentials, 404 for no such agent).
    fn check(&self, agent: &str) -> Result<(), PresenceError> {
        if !(agent.starts_with('a')
            && agent.len() > 1
            && agent[1..].bytes().all(|b| b.is_ascii_digit()))
        {
            let message = format!("agent id {agent:?} does not match ^a[0-9]+$");
            return Err(PresenceError::new(
                VENDOR,
                Failure::InvalidInput { message },
            ));
        }
        if !self.authenticated {
            let failure = Failure::Http {
                status: 401,
                code: None,
                message: None,
            };
            return Err(PresenceError::new(VENDOR, failure).with_operation("get_agent"));
        }
        Ok(())
    }

    fn presence(agent: &str, availability: Availability) -> AgentPresence {
        let detail = Detail::new(availability.as_str());
        AgentPresence::new(agent, None, availability, detail)
    }
}

#[async_trait]
impl Adapter for Patterned {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = &[Availability::Available, Availability::Away];

    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        self.check(agent)?;
        let agents = self.desk.agents.lock().unwrap();
        match agents.get(agent) {
            Some(&a) => Ok(Self::presence(agent, a)),
            None => Err(PresenceError::not_found(VENDOR, agent, None).with_operation("get_agent")),
        }
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        self.get_now(agent).await?;
        let mut agents = self.desk.agents.lock().unwrap();
        let now = agents.get_mut(agent).expect("read above");
        if *now != desired {
            *now = desired;
            self.desk.changes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(Self::presence(agent, desired))
    }

    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        let agents = self.desk.agents.lock().unwrap();
        Ok(agents
            .iter()
            .map(|(id, &a)| Self::presence(id, a))
            .filter(|p| filter.keep(p))
            .collect())
    }
}

fn case() -> Case {
    let desk = std::sync::Arc::new(Desk::default());
    desk.agents.lock().unwrap().extend([
        ("a1".to_string(), Availability::Away),
        ("a2".to_string(), Availability::Available),
    ]);
    let adapter = |authenticated| {
        Box::new(Patterned {
            desk: desk.clone(),
            authenticated,
        })
    };
    let (good, bad) = (adapter(true), adapter(false));
    Case::new(desk.clone(), good, bad, "a1", |d| {
        d.changes.load(Ordering::SeqCst)
    })
}

#[tokio::test]
async fn the_suite_asks_for_the_vendors_own_unknown_id() {
    contract(case().with_unknown("a999")).await;
}

#[tokio::test]
#[should_panic(expected = "does not match")]
async fn by_default_the_unknown_id_is_no_such_agent() {
    let case = case();
    assert_eq!(case.unknown, "no-such-agent");
    contract(case).await;
}

/// An adapter that drops what it cannot do instead of refusing it: claims an expiry for Away
/// (when `EXPIRES`) and ignores both the expiry and the state of a `set_with`.
struct Careless<const EXPIRES: bool>(Patterned);

impl<const EXPIRES: bool> Deadline for Careless<EXPIRES> {
    fn deadline(&self) -> Duration {
        self.0.deadline()
    }
}

#[async_trait]
impl<const EXPIRES: bool> Adapter for Careless<EXPIRES> {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = Patterned::SUPPORTED;
    const EXPIRING: &'static [Availability] = if EXPIRES { &[Availability::Away] } else { &[] };

    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        self.0.get_now(agent).await
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        self.0.set_now(agent, desired).await
    }

    async fn set_with_now(
        &self,
        agent: &str,
        request: &agentstatus_presence::SetRequest,
    ) -> Result<AgentPresence, PresenceError> {
        self.0.set_now(agent, request.availability).await
    }

    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        self.0.list_now(filter).await
    }
}

fn careless<const EXPIRES: bool>() -> Case {
    let desk = std::sync::Arc::new(Desk::default());
    desk.agents.lock().unwrap().extend([
        ("a1".to_string(), Availability::Away),
        ("a2".to_string(), Availability::Available),
    ]);
    let adapter = |authenticated| {
        Box::new(Careless::<EXPIRES>(Patterned {
            desk: desk.clone(),
            authenticated,
        }))
    };
    let (good, bad) = (adapter(true), adapter(false));
    Case::new(desk.clone(), good, bad, "a1", |d| {
        d.changes.load(Ordering::SeqCst)
    })
    .with_unknown("a999")
}

#[tokio::test]
#[should_panic(expected = "no expiry read back")]
async fn an_expiry_claimed_but_dropped_fails_the_contract() {
    contract(careless::<true>()).await;
}

#[tokio::test]
#[should_panic(expected = "unwrap_err")]
async fn a_state_ignored_instead_of_refused_fails_the_contract() {
    contract(careless::<false>()).await;
}
