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
//! | Engage Digital | every channel `away` with a custom status (`custom_status: {id}`), by its name | Away | `set_with` the name: `custom_status_id` of the status of that name (`GET /presence_status`) |
//!
//! The custom "away" statuses (`GET /presence_status`: an id and a name each) are states by
//! their own word: a read of an agent with one carries its id (`Detail::custom_status_id`) and,
//! when the list of custom statuses can be read, its name as the state's word
//! ([`Detail::state`](agentstatus_presence::Detail::state); when it cannot, the name from the
//! last list read; before any, the word is `away`).
//! `set_with` ([`SetRequest`]) with `state` = a custom status's name (exact, as the list spells
//! it) and availability away sends `PUT /status/{agentId}?custom_status_id=<its id>` (the
//! documented parameter; no channel map, which would make the server ignore it), nothing when
//! the agent already has it, and checks the answer. A name no custom status has is refused
//! before anything is sent (`UnsupportedOption`, naming the ones there are), as is a name two
//! statuses share (`InvalidInput`, with their ids); a custom status asked as available is
//! `InvalidInput` (a custom status is an "away" status). `state` `away` (with away) is the
//! generic away: every channel `away` and no custom status (a server that keeps the custom
//! status is a `Conflict`); `available` is `set` available.
//! The kept status operations have no expiry: `until` is `UnsupportedOption`
//! (specs/engage-digital/NOTES.md#custom-away-statuses).
//!
//! `set` sends its `PUT` even when the read before it (which gives the channels the `PUT`
//! needs) shows the agent so already: that read may be a read replica's, behind, and a skip
//! decided from it would leave the agent as it was; the `PUT` then changes nothing (an away
//! the read shows with a custom status is sent as that custom status, which a channel map
//! would clear). `set_with` sends its custom status so too. `set_many` skips the agents its
//! one read shows right: a caller that knows a read may be behind for an agent sends that one
//! through `set`.

use std::collections::HashSet;

use crate::{Client, OpenEnum, types};

use agentstatus_presence::adapter::{Adapter, ErrorBody, Step, call, within};
use agentstatus_presence::bulk::{self, Applied, BulkOptions, BulkResult};
use agentstatus_presence::adapter::clip;
use agentstatus_presence::{
    AgentPresence, Availability, ChannelPresence, Detail, DetailField, Failure, ListFilter,
    Presence, PresenceError, SetRequest, Vendor, async_trait,
};

const VENDOR: Vendor = Vendor::new("engage-digital");

agentstatus_presence::adapter! {
    /// [`Presence`] over an Engage Digital client whose token may monitor the task view (or acts
    /// as the agent itself, for its own status).
    pub struct EngageDigitalPresence(client: Client) {
        /// The custom statuses of the last read of them that succeeded: a read whose list of
        /// them fails names the agents' custom statuses from it (else their word would turn
        /// `away` until the next read, and a watcher would see a change that did not happen).
        names: std::sync::Mutex<Vec<types::PresenceStatus>> = std::sync::Mutex::new(Vec::new()),
    }
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
        .map(|c| {
            ChannelPresence::new(
                c.id.unwrap_or_default(),
                c.name,
                c.status.unwrap_or_default(),
                c.busyness.map(|b| b.to_string()),
            )
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
        Detail::new(vendor_status)
            .with_custom_status_id(s.custom_status.and_then(|c| c.id))
            .with_channels(channels),
    )
}

/// The word of the custom status `p` has, if `statuses` names it.
fn named(mut p: AgentPresence, statuses: &[types::PresenceStatus]) -> AgentPresence {
    let name = p
        .detail
        .custom_status_id
        .as_deref()
        .and_then(|id| statuses.iter().find(|s| s.id == id))
        .map(|s| s.name.clone());
    if name.is_some() {
        p.detail.state = name;
    }
    p
}

/// The custom statuses' names, for an error message (the first 20).
fn known_names(statuses: &[types::PresenceStatus]) -> String {
    const SHOWN: usize = 20;
    if statuses.is_empty() {
        return "it has none".into();
    }
    let mut names: Vec<String> = statuses
        .iter()
        .take(SHOWN)
        .map(|s| format!("`{}`", clip(&s.name)))
        .collect();
    if statuses.len() > SHOWN {
        names.push(format!("and {} more", statuses.len() - SHOWN));
    }
    format!("its custom statuses are {}", names.join(", "))
}

/// Pages of `GET /presence_status` at most (150 statuses each, the documented maximum).
const STATUS_PAGES: usize = 100;
const STATUS_PAGE: i32 = 150;

#[async_trait]
impl Adapter for EngageDigitalPresence {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = &[Availability::Available, Availability::Away];
    /// The status, the custom status and its name (renamed at Engage Digital: a change, the
    /// id staying); not the channels, whose busyness moves with every conversation.
    const OBSERVED: &'static [DetailField] = &[
        DetailField::VendorStatus,
        DetailField::State,
        DetailField::CustomStatus,
    ];

    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        let p = self.read(agent).await?;
        Ok(self.with_names(vec![p]).await.remove(0))
    }

    /// A custom "away" status by its name (`state`), with away; `away` (the generic away) and
    /// `available` as the mapping has them. No expiry (`until`).
    async fn set_with_now(
        &self,
        agent: &str,
        request: &SetRequest,
    ) -> Result<AgentPresence, PresenceError> {
        let (desired, Some(state), None) = (
            request.availability,
            request.state.as_deref(),
            request.until,
        ) else {
            request.refuse_options(VENDOR)?;
            return self.set_now(agent, request.availability).await;
        };
        let statuses = self.custom_statuses().await?;
        let same: Vec<&types::PresenceStatus> =
            statuses.iter().filter(|s| s.name == state).collect();
        let status = match same.as_slice() {
            [one] => *one,
            [] if desired == Availability::Available && state == "available" => {
                return self.set_now(agent, desired).await;
            }
            [] if desired == Availability::Away && state == "away" => {
                let current = self.connected(agent).await?;
                let after = self.change(agent, desired, &current, true, true).await?;
                let after = named(after.unwrap_or(current), &statuses);
                // whether a channel map clears a custom status is not documented: checked
                if let Some(kept) = &after.detail.custom_status_id {
                    let found = format!("away (custom status {:?} kept)", clip(kept));
                    return Err(PresenceError::conflict(
                        VENDOR,
                        agent,
                        desired,
                        after.availability,
                        found,
                    ));
                }
                return Ok(after);
            }
            [] => {
                let message = format!(
                    "Engage Digital has no custom status named {:?} ({}); its own states are `available` and `away`",
                    clip(state),
                    known_names(&statuses)
                );
                return Err(PresenceError::unsupported_option(VENDOR, "state", message));
            }
            many => {
                let ids: Vec<String> = many.iter().map(|s| format!("`{}`", clip(&s.id))).collect();
                let message = format!(
                    "{} custom statuses are named {:?} (ids {}): rename one at Engage Digital",
                    many.len(),
                    clip(state),
                    ids.join(", ")
                );
                return Err(PresenceError::new(
                    VENDOR,
                    Failure::InvalidInput { message },
                ));
            }
        };
        if desired != Availability::Away {
            let message = format!(
                "the custom status {:?} is an \"away\" status: it means away, not {desired}",
                clip(&status.name)
            );
            return Err(PresenceError::new(
                VENDOR,
                Failure::InvalidInput { message },
            ));
        }
        // the read says whether the agent is connected (only a connected agent's status can be
        // set); the status is sent even when it shows the agent in it already: that read may
        // be a replica's, behind (a skip decided from it would leave the agent as it is), and
        // the custom status sent again changes nothing
        self.connected(agent).await?;
        let change = self
            .client
            .change_agent_status()
            .agent_id(agent)
            .custom_status_id(status.id.clone());
        match call(change.send()).await {
            Ok(answer) => {
                let after = named(presence(answer), &statuses);
                if after.availability != desired
                    || after.detail.custom_status_id.as_deref() != Some(status.id.as_str())
                {
                    let found = format!(
                        "{} (custom status {:?})",
                        after.detail.vendor_status,
                        after.detail.custom_status_id.as_deref().unwrap_or("none")
                    );
                    return Err(PresenceError::conflict(
                        VENDOR,
                        agent,
                        desired,
                        after.availability,
                        clip(&found),
                    ));
                }
                Ok(after)
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        let current = self.connected(agent).await?;
        // sent even when the read shows the agent so already: that read may be a replica's,
        // behind (a skip decided from it would leave the agent as it is); the write then
        // changes nothing
        match self.change(agent, desired, &current, false, true).await? {
            Some(after) => Ok(self.with_names(vec![after]).await.remove(0)),
            None => Ok(self.with_names(vec![current]).await.remove(0)),
        }
    }

    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        match call(self.client.get_all_agent_status().send()).await {
            Ok(list) => {
                let all: Vec<AgentPresence> = list
                    .into_iter()
                    .map(presence)
                    .filter(|p| filter.keep(p))
                    .collect();
                Ok(self.with_names(all).await)
            }
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
            let change = self.change(&agent, wanted, now, false, false);
            match within(self.deadline, VENDOR, Step::Set, change).await? {
                Some(after) => Ok(Applied::changed(after)),
                None => Ok(Applied::unchanged(now.clone())),
            }
        })
        .await
    }
}

impl EngageDigitalPresence {
    /// One agent's presence as `GET /status/{agentId}` has it (a custom status by id only).
    async fn read(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
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
                    Detail::new("disconnected"),
                ))
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }


    /// [`Self::read`], for a change: a disconnected agent is `NotFound`.
    async fn connected(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        let current = self.read(agent).await?;
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
        Ok(current)
    }

    /// `presences` with their custom statuses' names as the state's word, when one of them has
    /// a custom status and the list of custom statuses can be read (one list for all; a list
    /// that cannot be read leaves the ids alone: the read itself succeeded).
    async fn with_names(&self, presences: Vec<AgentPresence>) -> Vec<AgentPresence> {
        if presences
            .iter()
            .all(|p| p.detail.custom_status_id.is_none())
        {
            return presences;
        }
        let statuses = match self.custom_statuses().await {
            Ok(statuses) => {
                *self.names.lock().unwrap_or_else(|e| e.into_inner()) = statuses.clone();
                statuses
            }
            // the names of the last list read (none before the first): a name renamed
            // meanwhile shows at the next read that succeeds
            Err(_) => self.names.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        };
        presences
            .into_iter()
            .map(|p| named(p, &statuses))
            .collect()
    }

    /// Every custom "away" status (`GET /presence_status`, 150 a page, the documented
    /// maximum), until a short or empty page or a page with nothing new (a server that ignores
    /// `offset`); at most `STATUS_PAGES` pages.
    async fn custom_statuses(&self) -> Result<Vec<types::PresenceStatus>, PresenceError> {
        let mut out: Vec<types::PresenceStatus> = Vec::new();
        let mut seen = HashSet::new();
        let mut offset = 0i32;
        for _ in 0..STATUS_PAGES {
            let request = self
                .client
                .get_all_presence_status()
                .offset(offset)
                .limit(STATUS_PAGE);
            let page = match call(request.send()).await {
                Ok(page) => page,
                Err(f) => return Err(f.into_error(VENDOR, None).await),
            };
            let got = page.records.len();
            let before = out.len();
            for status in page.records {
                if seen.insert(status.id.clone()) {
                    out.push(status);
                }
            }
            // `count` is not documented (a total or the page's size), so it decides nothing
            if got < STATUS_PAGE as usize || out.len() == before {
                return Ok(out);
            }
            offset = offset.saturating_add(got as i32);
        }
        let failure = Failure::TooManyPages {
            pages: STATUS_PAGES as u32,
            agents: out.len(),
            limit: "max_pages reached (custom statuses)",
            total: None,
        };
        Err(PresenceError::new(VENDOR, failure))
    }

    /// Make `agent` `desired` given its `current` presence: `None` if it already is (nothing
    /// sent) and `force` is off, else the verified presence after one `PUT` of every channel.
    /// `generic`: away must be the generic away (no custom status). `force`: sent even when
    /// `current` shows it done (a read may be a replica's, behind); an away with a custom status
    /// that `current` shows (and `generic` does not forbid) is sent as that custom status (a
    /// channel map would clear it).
    async fn change(
        &self,
        agent: &str,
        desired: Availability,
        current: &AgentPresence,
        generic: bool,
        force: bool,
    ) -> Result<Option<AgentPresence>, PresenceError> {
        let (target, value) = match desired {
            Availability::Available => ("available", types::ChannelAvailability::Available),
            _ => ("away", types::ChannelAvailability::Away),
        };
        let keeps_custom = desired != Availability::Available && !generic;
        let done = current.detail.channels.iter().all(|c| c.status == target)
            && (keeps_custom || current.detail.custom_status_id.is_none());
        if done && !force {
            return Ok(None);
        }
        if let Some(id) = current
            .detail
            .custom_status_id
            .clone()
            .filter(|_| done && keeps_custom)
        {
            let change = self
                .client
                .change_agent_status()
                .agent_id(agent)
                .custom_status_id(id);
            return match call(change.send()).await {
                Ok(status) => {
                    let after = presence(status);
                    if after.availability != desired {
                        let (found, said) = (after.availability, after.detail.vendor_status);
                        return Err(PresenceError::conflict(VENDOR, agent, desired, found, said));
                    }
                    Ok(Some(after))
                }
                Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
            };
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
