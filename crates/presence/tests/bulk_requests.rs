//! `Presence::set_many_with`: a bulk set whose updates carry an expiry or a vendor state. The
//! plain updates take the vendor's bulk path; each update with options is set through
//! `set_with`, so what the vendor cannot do is refused for that agent alone, as `set_with`
//! refuses it, with nothing sent.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use agentstatus_presence::adapter::{Adapter, Deadline};
use agentstatus_presence::bulk::{self, Applied, BulkOptions, BulkResult};
use agentstatus_presence::{
    AgentPresence, Availability, Detail, ErrorKind, Failure, ListFilter, Presence, PresenceError,
    SetRequest, Vendor, async_trait,
};
use chrono::{DateTime, TimeDelta, Utc};

const VENDOR: Vendor = Vendor::new("desk");

/// A desk whose busy state can end by itself; no vendor states by name.
#[derive(Default)]
struct Desk {
    state: Mutex<HashMap<String, Availability>>,
    /// What was sent, in order.
    log: Mutex<Vec<String>>,
}

impl Desk {
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn write(&self, agent: &str, to: Availability) -> AgentPresence {
        self.state.lock().unwrap().insert(agent.to_string(), to);
        AgentPresence::new(agent, None, to, Detail::default())
    }
}

impl Deadline for Desk {
    fn deadline(&self) -> Duration {
        Duration::from_secs(5)
    }
}

#[async_trait]
impl Adapter for Desk {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = &[
        Availability::Available,
        Availability::Busy,
        Availability::Away,
    ];
    const EXPIRING: &'static [Availability] = &[Availability::Busy];

    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        let now = self.state.lock().unwrap().get(agent).copied();
        let now = now.unwrap_or(Availability::Offline);
        Ok(AgentPresence::new(agent, None, now, Detail::default()))
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        self.log
            .lock()
            .unwrap()
            .push(format!("set {agent} {desired}"));
        Ok(self.write(agent, desired))
    }

    async fn set_with_now(
        &self,
        agent: &str,
        request: &SetRequest,
    ) -> Result<AgentPresence, PresenceError> {
        if request.state.is_some() {
            return Err(PresenceError::unsupported_option(
                VENDOR,
                "state",
                "no states by name",
            ));
        }
        let until = request.until.map(|t| t.to_rfc3339()).unwrap_or_default();
        let line = format!("set_with {agent} {} until {until}", request.availability);
        self.log.lock().unwrap().push(line);
        Ok(self.write(agent, request.availability))
    }

    async fn list_now(&self, _: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        Ok(Vec::new())
    }

    async fn set_many_now(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        let agents: Vec<&str> = updates.iter().map(|(a, _)| a.as_str()).collect();
        self.log
            .lock()
            .unwrap()
            .push(format!("set_many {}", agents.join(",")));
        bulk::each(updates, options, |agent, wanted| async move {
            self.check_supported(wanted)?;
            Ok(Applied::changed(self.write(&agent, wanted)))
        })
        .await
    }
}

fn at() -> DateTime<Utc> {
    DateTime::<Utc>::from(std::time::SystemTime::now()) + TimeDelta::minutes(30)
}

#[tokio::test]
async fn a_bulk_set_carries_expiry_and_state_refused_per_agent_where_the_vendor_has_none() {
    let desk = Desk::default();
    let until = at();
    let updates = vec![
        ("a1".to_string(), SetRequest::new(Availability::Available)),
        (
            "a2".into(),
            SetRequest::new(Availability::Busy).until(until),
        ),
        (
            "a3".into(),
            SetRequest::new(Availability::Away).until(until),
        ),
        (
            "a4".into(),
            SetRequest::new(Availability::Busy).state("Lunch"),
        ),
        ("a5".into(), SetRequest::new(Availability::Away)),
        (
            "a6".into(),
            SetRequest::new(Availability::Offline).until(until),
        ),
    ];
    let reported = Mutex::new(Vec::new());
    let progress = |r: &BulkResult| reported.lock().unwrap().push(r.agent.clone());
    let options = BulkOptions::new(4).with_progress(&progress);
    let results = desk.set_many_with(updates, &options).await;

    let agents: Vec<&str> = results.iter().map(|r| r.agent.as_str()).collect();
    assert_eq!(
        agents,
        ["a1", "a2", "a3", "a4", "a5", "a6"],
        "in the order given"
    );
    let wanted: Vec<Availability> = results.iter().map(|r| r.wanted).collect();
    use Availability::*;
    assert_eq!(wanted, [Available, Busy, Away, Busy, Away, Offline]);
    assert_eq!(reported.lock().unwrap().len(), 6, "each outcome reported");

    // the plain ones through the vendor's bulk path; the timed busy through set_with; nothing
    // sent for what the vendor cannot do
    assert_eq!(
        desk.log(),
        [
            "set_many a1,a5".to_string(),
            format!("set_with a2 busy until {}", until.to_rfc3339()),
        ]
    );
    let ok = |i: usize| results[i].outcome.as_ref().unwrap();
    assert_eq!(
        (ok(0).presence.availability, ok(0).changed),
        (Available, Some(true))
    );
    assert_eq!((ok(1).presence.availability, ok(1).changed), (Busy, None));
    assert_eq!(
        (ok(4).presence.availability, ok(4).changed),
        (Away, Some(true))
    );
    let err = |i: usize| results[i].outcome.as_ref().unwrap_err();
    for (i, option) in [(2, "until"), (3, "state")] {
        let e = err(i);
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(
            matches!(e.failure(), Failure::UnsupportedOption { option: o, .. } if *o == option),
            "{e:?}"
        );
        assert_eq!(e.operation(), Some("set"), "{e}");
    }
    assert!(
        err(3).to_string().contains("no states by name"),
        "{}",
        err(3)
    );
    // an availability the vendor cannot set at all is that, whatever the options
    assert!(
        matches!(err(5).failure(), Failure::Unsupported { .. }),
        "{:?}",
        err(5)
    );
}

#[tokio::test]
async fn a_bulk_set_without_options_is_the_vendors_bulk_path_alone() {
    let desk = Desk::default();
    let updates = vec![
        ("a1".to_string(), SetRequest::new(Availability::Busy)),
        ("a2".into(), Availability::Away.into()),
    ];
    let results = desk.set_many_with(updates, &BulkOptions::default()).await;
    assert_eq!(desk.log(), ["set_many a1,a2"]);
    assert!(results.iter().all(|r| r.outcome.is_ok()));
    // and a bulk set of timed requests only never takes the bulk path
    let desk = Desk::default();
    let until = at();
    let updates = vec![(
        "a1".to_string(),
        SetRequest::new(Availability::Busy).until(until),
    )];
    let results = desk.set_many_with(updates, &BulkOptions::default()).await;
    assert_eq!(desk.log().len(), 1);
    assert!(
        desk.log()[0].starts_with("set_with a1 busy"),
        "{:?}",
        desk.log()
    );
    assert_eq!(results[0].outcome.as_ref().unwrap().changed, None);
}
