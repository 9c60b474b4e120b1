//! Engage Digital: availability is per channel (`available`/`away`) with a server-computed
//! busyness; a disconnected agent is Offline. Setting sends every channel of the agent.
//!
//! | vendor | vendor state (read) | Availability | set sends |
//! |---|---|---|---|
//! | Engage Digital | a channel `available`, some available channel not `busy`/`full` | Available | every channel `available` |
//! | Engage Digital | channels `available`, all of them `busy`/`full` | Busy | unsupported (busyness is computed by the server) |
//! | Engage Digital | every channel `away` (with or without a custom status) | Away | every channel `away` |
//! | Engage Digital | `404 disconnected` | Offline | unsupported (the API cannot disconnect an agent) |
//!
//! `set_with` takes no options: the kept status operations have no expiry, and the custom "away"
//! statuses (read into `Detail::custom_status_id`) are not set by this adapter, so `until` and
//! `state` are `UnsupportedOption`.

use crate::{Client, OpenEnum, types};

use agentstatus_presence::adapter::{Adapter, ErrorBody, Step, call, within};
use agentstatus_presence::bulk::{self, Applied, BulkOptions, BulkResult};
use agentstatus_presence::{
    AgentPresence, Availability, ChannelPresence, Detail, Failure, ListFilter, Presence,
    PresenceError, Vendor, async_trait,
};

const VENDOR: Vendor = Vendor::new("engage-digital");

agentstatus_presence::adapter! {
    /// [`Presence`] over an Engage Digital client whose token may monitor the task view (or acts
    /// as the agent itself, for its own status).
    pub struct EngageDigitalPresence(client: Client);
}

impl ErrorBody for types::ErrorResponse {
    fn parts(self) -> (Option<String>, Option<String>) {
        (Some(self.error), self.message)
    }
}

impl ErrorBody for types::AgentStatusNotFound {
    fn parts(self) -> (Option<String>, Option<String>) {
        (Some(self.error.to_string()), self.message)
    }
}

fn presence(s: types::AgentStatus) -> AgentPresence {
    let channels: Vec<ChannelPresence> = s
        .channels
        .into_iter()
        .map(|c| ChannelPresence {
            id: c.id.unwrap_or_default(),
            name: c.name,
            status: c.status.unwrap_or_default(),
            busyness: c.busyness.map(|b| b.to_string()),
        })
        .collect();
    let available: Vec<&ChannelPresence> = channels
        .iter()
        .filter(|c| c.status == "available")
        .collect();
    let saturated = |c: &&ChannelPresence| matches!(c.busyness.as_deref(), Some("busy" | "full"));
    let (availability, vendor_status) = if available.is_empty() {
        (Availability::Away, "away")
    } else if available.iter().all(saturated) {
        (Availability::Busy, "available (busy)")
    } else {
        (Availability::Available, "available")
    };
    AgentPresence::new(
        s.agent_id.unwrap_or_default(),
        None,
        availability,
        Detail {
            vendor_status: vendor_status.to_string(),
            custom_status_id: s.custom_status.and_then(|c| c.id),
            channels,
            ..Detail::default()
        },
    )
}

#[async_trait]
impl Adapter for EngageDigitalPresence {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = &[Availability::Available, Availability::Away];

    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        match call(self.client.get_agent_status().agent_id(agent).send()).await {
            Ok(status) => Ok(presence(status)),
            Err(f)
                if matches!(&f.error, progenitor_client::Error::ErrorResponse(rv)
                    if rv.error == OpenEnum::Known(types::AgentStatusNotFoundError::Disconnected)) =>
            {
                Ok(AgentPresence::new(
                    agent.to_string(),
                    None,
                    Availability::Offline,
                    Detail {
                        vendor_status: "disconnected".into(),
                        ..Detail::default()
                    },
                ))
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        let current = self.get_now(agent).await?;
        if current.detail.vendor_status == "disconnected" {
            let failure = Failure::NotFound {
                status: Some(404),
                code: Some("disconnected".into()),
                message: Some(
                    "the agent is not connected; only a connected agent's status can be set".into(),
                ),
            };
            return Err(PresenceError::new(VENDOR, failure).with_agent(agent));
        }
        match self.change(agent, desired, &current).await? {
            Some(after) => Ok(after),
            None => Ok(current),
        }
    }

    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        match call(self.client.get_all_agent_status().send()).await {
            Ok(list) => Ok(list
                .into_iter()
                .map(presence)
                .filter(|p| filter.keep(p))
                .collect()),
            Err(f) => Err(f.into_error(VENDOR, None).await),
        }
    }

    /// One `GET /status` (every connected agent), then one `PUT` per agent that changes, its
    /// result taken from the answer. An agent not listed is not connected: the single-agent
    /// path says so.
    async fn set_many_now(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        let current = match bulk::listed_by_id(self).await {
            Ok(current) => current,
            Err(e) => return bulk::fail_all(updates, &e),
        };
        let current = &current;
        bulk::each(updates, options, |agent, wanted| async move {
            self.check_supported(wanted)?;
            let Some(now) = current.get(&agent) else {
                let message = "not among the connected agents the server lists: only a connected agent's status can be set";
                return Err(PresenceError::not_found(VENDOR, agent, Some(message.into())));
            };
            let change = self.change(&agent, wanted, now);
            match within(self.deadline, VENDOR, Step::Set, change).await? {
                Some(after) => Ok(Applied::changed(after)),
                None => Ok(Applied::unchanged(now.clone())),
            }
        })
        .await
    }
}

impl EngageDigitalPresence {
    /// Make `agent` `desired` given its `current` presence: `None` if it already is (nothing
    /// sent), else the verified presence after one `PUT` of every channel.
    async fn change(
        &self,
        agent: &str,
        desired: Availability,
        current: &AgentPresence,
    ) -> Result<Option<AgentPresence>, PresenceError> {
        let (target, value) = match desired {
            Availability::Available => ("available", types::ChannelAvailability::Available),
            _ => ("away", types::ChannelAvailability::Away),
        };
        let done = current.detail.channels.iter().all(|c| c.status == target)
            && (desired != Availability::Available || current.detail.custom_status_id.is_none());
        if done {
            return Ok(None);
        }
        // The server needs every channel in the map.
        let channels: std::collections::HashMap<String, types::ChannelAvailability> = current
            .detail
            .channels
            .iter()
            .map(|c| (c.id.clone(), value))
            .collect();
        let change = self
            .client
            .change_agent_status()
            .agent_id(agent)
            .status(channels);
        match call(change.send()).await {
            // the answer is the agent's status after the change: verify it like every adapter
            Ok(status) => {
                let after = presence(status);
                if after.availability != desired {
                    let (found, said) = (after.availability, after.detail.vendor_status);
                    return Err(PresenceError::conflict(VENDOR, agent, desired, found, said));
                }
                Ok(Some(after))
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }
}

const SETTINGS: &[agentstatus_presence::registry::Setting] = {
    use agentstatus_presence::registry::Setting;
    &[Setting::secret(
        "token",
        "ENGAGE_DIGITAL_TOKEN",
        "an API access token (a supervisor's, to see every agent)",
    )]
};

/// Engage Digital in the registry: `[engage-digital]` with `base_url`
/// (`https://<account>.api.engagement.dimelo.com/1.0`) and the API token from
/// `$ENGAGE_DIGITAL_TOKEN` (or `token_env`); the documented 500 requests per minute apply.
pub fn entry() -> agentstatus_presence::registry::Entry {
    use agentstatus_presence::registry::Entry;
    Entry::new(VENDOR.as_str(), "Engage Digital", |s| {
        let config = s.apply(crate::default_config());
        let client = Client::with_config(&s.base_url, s.secret("token")?, &config)?;
        Ok(Box::new(EngageDigitalPresence::new(client)))
    })
    .with_settings(SETTINGS)
    .with_demo(demo())
}

#[cfg(feature = "fake")]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    use agentstatus_presence::registry::Demo;
    Some(|| {
        Box::pin(async {
            let fake = crate::fake::EngageDigital::start()
                .await
                .map_err(|e| e.to_string())?;
            fake.add_supervisor_token("demo-token");
            fake.add_agent(crate::fake::Agent::new(
                "ada",
                &[("email", "Email"), ("chat", "Chat")],
                "away",
            ));
            fake.add_agent(crate::fake::Agent::new(
                "grace",
                &[("email", "Email")],
                "available",
            ));
            let client = Client::with_token(&fake.url(), "demo-token".to_string().into())
                .map_err(|e| e.to_string())?;
            let presence = Box::new(EngageDigitalPresence::new(client));
            Ok(Demo::new(fake, presence, "ada", |f| f.state_changes()))
        })
    })
}

#[cfg(not(feature = "fake"))]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    None
}
