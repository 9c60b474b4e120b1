//! Libredesk: `online` <-> Available, `away`/`away_manual`/`away_and_reassigning` -> Away (set as
//! `away_manual`), `offline` <-> Offline. The API sets only the credentials' own agent.
//!
//! | vendor | vendor state (read) | Availability | set sends |
//! |---|---|---|---|
//! | Libredesk | `online` | Available | `online` |
//! | Libredesk | `away`, `away_manual`, `away_and_reassigning` | Away | `away_manual` (what the web app sends; idle detection never overrides it) |
//! | Libredesk | `offline` (or anything else) | Offline | `offline` |
//! | Libredesk | — | Busy | unsupported |
//!
//! The status word is the state's word ([`Detail::state`](agentstatus_presence::Detail::state)):
//! `set_with` ([`SetRequest`]) takes any status the server stores as `state` (`online`, `away`,
//! `away_manual`, `away_and_reassigning`, `offline`), if it means the availability asked for
//! (`InvalidInput` otherwise, nothing sent): the server's availability route stores any value of
//! its enum (specs/libredesk/NOTES.md#states-by-their-own-word). Libredesk has no expiry: `until`
//! is `UnsupportedOption`.
//!
//! `set` and `set_with` send their `PUT` even when the read of the own agent before it shows
//! it so already: that read may be a read replica's, behind, and a skip decided from it would
//! leave the agent as it was; the `PUT` then changes nothing (an agent the read shows in a
//! status that means the availability asked for is sent that status, so `set` away keeps an
//! `away_and_reassigning`). `set_many` skips the updates its one read shows right: a caller
//! that knows a read may be behind sends that one through `set`.

use crate::{Client, types};

use agentstatus_presence::adapter::{Adapter, ErrorBody, Step, call, clip, within};
use agentstatus_presence::bulk::{self, Applied, BulkOptions, BulkResult};
use agentstatus_presence::{
    AgentPresence, Availability, Detail, Failure, ListFilter, Presence, PresenceError, SetRequest,
    Vendor, async_trait,
};

const VENDOR: Vendor = Vendor::new("libredesk");

agentstatus_presence::adapter! {
    /// [`Presence`] over a Libredesk client. The agent `me` (or the numeric id of the API key's
    /// own agent) can be set; listing needs the `users:manage` permission.
    pub struct LibredeskPresence(client: Client);
}

impl ErrorBody for types::ErrorEnvelope {
    fn parts(self) -> (Option<String>, Option<String>) {
        (self.error_type, Some(self.message))
    }
}

fn availability(status: &str) -> Availability {
    match status {
        "online" => Availability::Available,
        "away" | "away_manual" | "away_and_reassigning" => Availability::Away,
        _ => Availability::Offline,
    }
}

fn presence(
    id: Option<i64>,
    first: Option<String>,
    last: Option<String>,
    status: Option<String>,
) -> AgentPresence {
    let name = [first, last]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let raw = status.unwrap_or_default();
    AgentPresence::new(
        id.map(|i| i.to_string()).unwrap_or_default(),
        (!name.is_empty()).then_some(name),
        availability(&raw),
        Detail::new(raw),
    )
}

fn from_agent(a: types::Agent) -> AgentPresence {
    presence(a.id, a.first_name, a.last_name, a.availability_status)
}

#[async_trait]
impl Adapter for LibredeskPresence {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = &[
        Availability::Available,
        Availability::Away,
        Availability::Offline,
    ];

    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        let me = self.me().await?;
        if agent == "me" || agent == me.agent_id {
            return Ok(me);
        }
        self.list_now(&ListFilter::all())
            .await?
            .into_iter()
            .find(|p| p.agent_id == agent)
            .ok_or_else(|| PresenceError::not_found(VENDOR, agent, None))
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        let me = self.me().await?;
        if agent != "me" && agent != me.agent_id {
            return Err(PresenceError::own_agent_only(VENDOR, agent));
        }
        // sent even when the read shows the agent so already: that read may be a replica's,
        // behind (a skip decided from it would leave the agent as it is); an agent it shows
        // in a status that means `desired` is sent that status (`away_and_reassigning` stays
        // so), which then changes nothing
        let shown = me.detail.state().parse::<types::AvailabilityRequestStatus>();
        match shown {
            Ok(status) if me.availability == desired => {
                self.write_status(agent, desired, status, me).await
            }
            _ => self.write(agent, desired, me).await,
        }
    }

    /// A status by its word (`state`: `online`, `away`, `away_manual`, `away_and_reassigning`,
    /// `offline`); Libredesk has no expiry (`until`).
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
        let Ok(status) = state.parse::<types::AvailabilityRequestStatus>() else {
            let message = format!(
                "Libredesk sets the statuses `online`, `away`, `away_manual`, `away_and_reassigning` and `offline`, not {:?}",
                clip(state)
            );
            return Err(PresenceError::unsupported_option(VENDOR, "state", message));
        };
        let means = availability(&status.to_string());
        if means != desired {
            let message = format!("the status `{status}` means {means}, not {desired}");
            return Err(PresenceError::new(
                VENDOR,
                Failure::InvalidInput { message },
            ));
        }
        let me = self.me().await?;
        if agent != "me" && agent != me.agent_id {
            return Err(PresenceError::own_agent_only(VENDOR, agent));
        }
        // sent even when the read shows the agent so already (a replica's read may be behind)
        self.write_status(agent, desired, status, me).await
    }

    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        match call(self.client.list_agents().send()).await {
            Ok(answer) => Ok(answer
                .data
                .into_iter()
                .map(|a| {
                    presence(a.id, a.first_name, a.last_name, a.availability_status)
                        .with_email(a.email)
                })
                .filter(|p| filter.keep(p))
                .collect()),
            Err(f) => Err(f.into_error(VENDOR, None).await),
        }
    }

    /// Only the own agent can be set: one read of it, then one write per update that changes
    /// it (in order, so a roster naming it twice ends in its last state).
    async fn set_many_now(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        let me = match within(self.deadline, VENDOR, Step::Get, self.me()).await {
            Ok(me) => me,
            Err(e) => return bulk::fail_all(updates, &e),
        };
        let state = tokio::sync::Mutex::new(me);
        let state = &state;
        // one at a time: every update is about the same agent
        let options = options.with_concurrency(1);
        bulk::each(updates, &options, |agent, wanted| async move {
            self.check_supported(wanted)?;
            let mut me = state.lock().await;
            if agent != "me" && agent != me.agent_id {
                return Err(PresenceError::own_agent_only(VENDOR, agent));
            }
            if me.availability == wanted {
                return Ok(Applied::unchanged(me.clone()));
            }
            let write = self.write(&agent, wanted, me.clone());
            let after = within(self.deadline, VENDOR, Step::Set, write).await?;
            *me = after.clone();
            Ok(Applied::changed(after))
        })
        .await
    }
}

impl LibredeskPresence {
    async fn me(&self) -> Result<AgentPresence, PresenceError> {
        match call(self.client.get_current_agent().send()).await {
            Ok(answer) => answer.data.map(from_agent).ok_or_else(|| {
                let message = "the answer has no `data`".into();
                let failure = Failure::InvalidResponse {
                    status: Some(200),
                    message,
                };
                PresenceError::new(VENDOR, failure)
            }),
            Err(f) => Err(f.into_error(VENDOR, Some("me")).await),
        }
    }

    /// One `PUT` of the own agent's availability, verified from the answer.
    async fn write(
        &self,
        agent: &str,
        desired: Availability,
        me: AgentPresence,
    ) -> Result<AgentPresence, PresenceError> {
        let status = match desired {
            Availability::Available => types::AvailabilityRequestStatus::Online,
            Availability::Away => types::AvailabilityRequestStatus::AwayManual,
            _ => types::AvailabilityRequestStatus::Offline,
        };
        self.write_status(agent, desired, status, me).await
    }

    /// One `PUT` of the own agent's `status` (which means `desired`), verified from the answer.
    async fn write_status(
        &self,
        agent: &str,
        desired: Availability,
        status: types::AvailabilityRequestStatus,
        me: AgentPresence,
    ) -> Result<AgentPresence, PresenceError> {
        let body = types::AvailabilityRequest::builder()
            .status(status)
            .source(Some(types::AvailabilityRequestSource::User));
        match call(self.client.update_availability().body(body).send()).await {
            Ok(answer) => {
                let after = answer.data.map(from_agent).unwrap_or(me);
                if after.availability != desired {
                    let (found, said) = (after.availability, after.detail.vendor_status);
                    let conflict =
                        PresenceError::conflict(VENDOR, after.agent_id, desired, found, said);
                    return Err(conflict);
                }
                Ok(after)
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }
}

const SETTINGS: &[agentstatus_presence::registry::Setting] = {
    use agentstatus_presence::registry::Setting;
    &[
        Setting::text("api_key", "the agent's API key", None),
        Setting::choice(
            "scheme",
            "how the key and secret are sent: `basic` (Authorization: Basic) or `token` (Authorization: token key:secret)",
            &["basic", "token"],
            "basic",
        ),
        Setting::secret("secret", "LIBREDESK_API_SECRET", "the API secret"),
    ]
};

/// Libredesk in the registry: `[libredesk]` with `base_url`, `api_key`, `scheme` (`basic` or
/// `token`), and the API secret from `$LIBREDESK_API_SECRET` (or `secret_env`).
pub fn entry() -> agentstatus_presence::registry::Entry {
    use agentstatus_presence::registry::Entry;
    Entry::new(VENDOR.as_str(), "Libredesk", |s| {
        let (key, secret) = (s.text("api_key")?, s.secret("secret")?);
        let creds = match s.text("scheme")? {
            "token" => crate::Credentials::token(key, secret),
            _ => crate::Credentials::basic(key, secret),
        };
        let config = s.apply(crate::ClientConfig::default());
        let client = Client::with_config(&s.base_url, creds, &config)?;
        Ok(Box::new(LibredeskPresence::new(client)))
    })
    .with_settings(SETTINGS)
    .with_demo(demo())
}

#[cfg(feature = "fake")]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    use agentstatus_presence::registry::Demo;
    Some(|| {
        Box::pin(async {
            let fake = crate::fake::Libredesk::start()
                .await
                .map_err(|e| e.to_string())?;
            fake.add_agent(crate::fake::Agent::new(
                1,
                "Ada Lovelace",
                "offline",
                "demo-key",
                "demo-secret",
            ));
            fake.add_agent(crate::fake::Agent::new(
                2,
                "Grace Hopper",
                "online",
                "grace-key",
                "grace-secret",
            ));
            let client = Client::with_credentials(
                &fake.url(),
                crate::Credentials::basic("demo-key", "demo-secret".to_string().into()),
            )
            .map_err(|e| e.to_string())?;
            let presence = Box::new(LibredeskPresence::new(client));
            Ok(Demo::new(fake, presence, "me", |f| f.state_changes()))
        })
    })
}

#[cfg(not(feature = "fake"))]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    None
}
