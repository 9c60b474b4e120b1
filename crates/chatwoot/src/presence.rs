//! Chatwoot: an account member's `availability_status` `online` / `busy` / `offline` (see
//! `specs/chatwoot/NOTES.md#agent-availability-status`), read through the account's agent list
//! and set by id (an administrator's `PATCH`) or for the token's own user (`me`, the profile's
//! `availability`).
//!
//! | vendor | vendor state (read) | Availability | set sends |
//! |---|---|---|---|
//! | Chatwoot | `availability_status: online` | Available | `{"availability": "online"}` (`PATCH .../agents/{id}`, or `POST /api/v1/profile/availability` for `me`) |
//! | Chatwoot | `availability_status: busy` | Busy | `{"availability": "busy"}` |
//! | Chatwoot | `availability_status: offline` (or anything else) | Offline | `{"availability": "offline"}` |
//! | Chatwoot | — | Away | unsupported (the server's enum is `online`, `busy`, `offline`) |
//!
//! `set_with` takes no options: Chatwoot's availability (the kept operations) has no expiry and no states beyond its
//! three words, so `until` and `state` are `UnsupportedOption`.
//!
//! The `PATCH` never sends `role` (a forced role can demote an administrator) and always sends
//! the agent's current `custom_role_id` (the Enterprise edition clears it otherwise). Chatwoot
//! shows an agent with `auto_offline` on as `offline` until their dashboard is connected: `set`
//! then stores the availability and returns the agent as the server shows it (`Offline`, with
//! the stored value in the vendor status), because that is what routing sees.
//!
//! `set` sends its `PATCH` even when the agent list read before it (which gives the agent's
//! custom role) shows the agent so already: that read may be a read replica's, behind, and a
//! skip decided from it would leave the agent as it was; the `PATCH` then changes nothing.
//! `set_many` skips the agents its one read shows right: a caller that knows a read may be
//! behind for an agent sends that one through `set`.

use agentstatus_presence::adapter::{Adapter, ErrorBody, Step, call, clip, within};
use agentstatus_presence::bulk::{self, Applied, BulkOptions, BulkResult};
use agentstatus_presence::registry::{Entry, Setting};
use agentstatus_presence::{
    AgentPresence, Availability, Detail, Failure, ListFilter, Presence, PresenceError, Vendor,
    async_trait,
};

use crate::{Client, types};

const VENDOR: Vendor = Vendor::new("chatwoot");

agentstatus_presence::adapter! {
    /// [`Presence`] over a Chatwoot client, in one account (`new(client, account_id)`). Reading
    /// needs any member's token; setting another agent needs an administrator's; `me` is the
    /// token's own user.
    pub struct ChatwootPresence(client: Client, account_id: i64);
}

impl ErrorBody for types::ErrorResponse {
    fn parts(self) -> (Option<String>, Option<String>) {
        let message = self
            .error
            .or(self.message)
            .or_else(|| (!self.errors.is_empty()).then(|| self.errors.join("; ")));
        (None, message)
    }
}

fn availability(status: &str) -> Availability {
    match status {
        "online" => Availability::Available,
        "busy" => Availability::Busy,
        _ => Availability::Offline,
    }
}

fn wire(desired: Availability) -> &'static str {
    match desired {
        Availability::Available => "online",
        Availability::Busy => "busy",
        _ => "offline",
    }
}

/// The agent as the server shows it; `stored`, when known and different, is added to the
/// vendor status (an `auto_offline` agent without a live dashboard shows `offline`).
fn presence(a: &types::Agent, stored: Option<&str>) -> AgentPresence {
    let shown = a
        .availability_status
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut vendor_status = shown.clone();
    if let Some(stored) = stored.filter(|s| *s != shown) {
        vendor_status =
            format!("{shown} (stored: {stored}; shown once the agent is connected, auto_offline)");
    }
    AgentPresence::new(
        a.id.map(|i| i.to_string()).unwrap_or_default(),
        a.name.clone().or_else(|| a.available_name.clone()),
        availability(&shown),
        Detail::new(vendor_status),
    )
}

impl ChatwootPresence {
    async fn agents(&self) -> Result<Vec<types::Agent>, PresenceError> {
        let request = self.client.list_agents().account_id(self.account_id).send();
        match call(request).await {
            Ok(list) => Ok(list),
            Err(f) => Err(f.into_error(VENDOR, None).await),
        }
    }

    fn not_found(agent: &str) -> PresenceError {
        let message = "no such agent in the account".to_string();
        PresenceError::not_found(VENDOR, agent, Some(message))
    }

    async fn find(&self, agent: &str) -> Result<types::Agent, PresenceError> {
        if agent == "me" {
            let message = "Chatwoot cannot read `me` through the agent list: give the agent's numeric id (`me` can be set)".into();
            return Err(PresenceError::new(
                VENDOR,
                Failure::InvalidInput { message },
            ));
        }
        let id: i64 = agent.parse().map_err(|_| Self::not_found(agent))?;
        self.agents()
            .await?
            .into_iter()
            .find(|a| a.id == Some(id))
            .ok_or_else(|| Self::not_found(agent))
    }

    fn conflict(agent: &str, wanted: Availability, found: &str) -> PresenceError {
        PresenceError::conflict(VENDOR, agent, wanted, availability(found), clip(found))
    }

    /// The token's own user, through the profile.
    async fn set_me(&self, desired: Availability) -> Result<AgentPresence, PresenceError> {
        let wanted = wire(desired);
        let value: types::ProfileAvailabilityAvailability = wanted.parse().expect("a known value");
        let body = types::ProfileAvailabilityPayload::builder().profile(
            types::ProfileAvailability::builder()
                .account_id(self.account_id)
                .availability(value),
        );
        let profile = match call(self.client.update_availability().body(body).send()).await {
            Ok(p) => p,
            Err(f) => return Err(f.into_error(VENDOR, Some("me")).await),
        };
        let Some(membership) = profile.accounts.iter().find(|a| a.id == self.account_id) else {
            let message = format!(
                "the profile has no membership of account {}",
                self.account_id
            );
            let failure = Failure::InvalidResponse {
                status: Some(200),
                message,
            };
            return Err(PresenceError::new(VENDOR, failure));
        };
        let stored = membership.availability.to_string();
        if stored != wanted {
            return Err(Self::conflict("me", desired, &stored));
        }
        let shown = membership
            .availability_status
            .as_ref()
            .map_or_else(|| stored.clone(), ToString::to_string);
        let agent = types::Agent {
            id: Some(profile.id),
            name: profile.name.clone(),
            availability_status: Some(match shown.parse::<types::AgentAvailabilityStatus>() {
                Ok(known) => known.into(),
                Err(_) => crate::OpenEnum::Unknown(shown.clone()),
            }),
            ..types::Agent::default()
        };
        Ok(presence(&agent, Some(&stored)))
    }

    /// Make `agent` `desired` given its `current` listing: `None` if it already shows it and
    /// `force` is off (nothing sent), else the presence after one `PATCH` (no `role`, the
    /// current `custom_role_id`). `force`: sent even when `current` shows it (a read may be a
    /// replica's, behind).
    async fn patch(
        &self,
        agent: &str,
        desired: Availability,
        current: &types::Agent,
        force: bool,
    ) -> Result<Option<AgentPresence>, PresenceError> {
        let wanted = wire(desired);
        let shown = current
            .availability_status
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        if shown == wanted && !force {
            return Ok(None);
        }
        let value: types::AgentUpdatePayloadAvailability = wanted.parse().expect("a known value");
        // no `role`, ever; the current custom role, so the Enterprise edition keeps it
        let body = types::AgentUpdatePayload::builder()
            .availability(Some(value))
            .custom_role_id(current.custom_role_id);
        let id = current.id.unwrap_or_default();
        let request = self
            .client
            .update_agent()
            .account_id(self.account_id)
            .id(id)
            .body(body);
        let after = match call(request.send()).await {
            Ok(a) => a,
            Err(f) => return Err(f.into_error(VENDOR, Some(agent)).await),
        };
        let after_status = after
            .availability_status
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        if after_status == wanted {
            return Ok(Some(presence(&after, None)));
        }
        // shown offline only because the agent has no live dashboard (auto_offline): stored
        if after_status == "offline" && after.auto_offline == Some(true) {
            return Ok(Some(presence(&after, Some(wanted))));
        }
        Err(Self::conflict(agent, desired, &after_status))
    }
}

#[async_trait]
impl Adapter for ChatwootPresence {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = &[
        Availability::Available,
        Availability::Busy,
        Availability::Offline,
    ];

    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        Ok(presence(&self.find(agent).await?, None))
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        if agent == "me" {
            return self.set_me(desired).await;
        }
        let current = self.find(agent).await?;
        // sent even when the list shows the agent so already: that read may be a replica's,
        // behind (a skip decided from it would leave the agent as it is); the `PATCH` then
        // changes nothing
        match self.patch(agent, desired, &current, true).await? {
            Some(after) => Ok(after),
            None => Ok(presence(&current, None)),
        }
    }

    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        Ok(self
            .agents()
            .await?
            .iter()
            .map(|a| presence(a, None).with_email(a.email.clone()))
            .filter(|p| filter.keep(p))
            .collect())
    }

    /// One read of the account's agents, then one `PATCH` per agent that changes (`me`: one
    /// profile `POST`), each result taken from the write's answer.
    async fn set_many_now(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        let listed = match within(self.deadline, VENDOR, Step::List, self.agents()).await {
            Ok(list) => list,
            Err(e) => return bulk::fail_all(updates, &e),
        };
        let current: std::collections::HashMap<String, types::Agent> = listed
            .into_iter()
            .filter_map(|a| Some((a.id?.to_string(), a)))
            .collect();
        let current = &current;
        bulk::each(updates, options, |agent, wanted| async move {
            self.check_supported(wanted)?;
            if agent == "me" {
                let after = within(self.deadline, VENDOR, Step::Set, self.set_me(wanted)).await?;
                return Ok(Applied::unknown(after));
            }
            let now = current.get(&agent).ok_or_else(|| Self::not_found(&agent))?;
            let patch = self.patch(&agent, wanted, now, false);
            match within(self.deadline, VENDOR, Step::Set, patch).await? {
                Some(after) => Ok(Applied::changed(after)),
                None => Ok(Applied::unchanged(presence(now, None))),
            }
        })
        .await
    }
}

const SETTINGS: &[Setting] = &[
    Setting::text("account_id", "the numeric id of the Chatwoot account", None).number(),
    Setting::secret(
        "token",
        "CHATWOOT_API_ACCESS_TOKEN",
        "a user's access token (Profile settings); an administrator's to set other agents",
    ),
];

/// Chatwoot in the registry: `[chatwoot]` with `base_url`, `account_id`, and the user's access
/// token from `$CHATWOOT_API_ACCESS_TOKEN` (or `token_env`), sent as `api_access_token`.
pub fn entry() -> Entry {
    Entry::new(VENDOR.as_str(), "Chatwoot", |s| {
        let config = s.apply(crate::default_config());
        let client = Client::with_user_api_key(&s.base_url, s.secret("token")?, &config)?;
        Ok(Box::new(ChatwootPresence::new(
            client,
            s.number("account_id")?,
        )))
    })
    .with_settings(SETTINGS)
    .with_demo(demo())
}

#[cfg(feature = "fake")]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    use agentstatus_presence::registry::Demo;
    Some(|| {
        Box::pin(async {
            let fake = crate::fake::Chatwoot::start(1)
                .await
                .map_err(|e| e.to_string())?;
            fake.add_agent(
                crate::fake::Agent::new(1, "Ada Lovelace", "demo-token", "offline").administrator(),
            );
            fake.add_agent(crate::fake::Agent::new(
                2,
                "Grace Hopper",
                "grace-token",
                "online",
            ));
            let client = Client::with_user_api_key(
                &fake.url(),
                "demo-token".to_string().into(),
                &crate::ClientConfig::default(),
            )
            .map_err(|e| e.to_string())?;
            let presence = Box::new(ChatwootPresence::new(client, 1));
            Ok(Demo::new(fake, presence, "1", |f| f.state_changes()))
        })
    })
}

#[cfg(not(feature = "fake"))]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    None
}
