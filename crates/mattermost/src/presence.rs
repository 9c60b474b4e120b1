//! Mattermost: a user's status `online` / `away` / `dnd` / `offline` (and `ooo`, out of office,
//! set by the auto-responder), read by user id (`GET /api/v4/users/{user_id}/status`, the user
//! first read so an unknown id is a NotFound: the status routes answer `offline` for any id), in
//! bulk (`POST /api/v4/users/status/ids` over the pages of `GET /api/v4/users`), and set with
//! `PUT /api/v4/users/{user_id}/status` (the token's own user, or anyone's with
//! `edit_other_users`). Evidence: `specs/mattermost/NOTES.md`.
//!
//! | vendor | vendor state (read) | Availability | set sends |
//! |---|---|---|---|
//! | Mattermost | `status: online` | Available | `{"user_id", "status": "online"}` (activity drives it again: `manual` off) |
//! | Mattermost | `status: dnd` (with `dnd_end_time` when timed) | Busy | `{"user_id", "status": "dnd"}` (no end time; with `until`, `"dnd_end_time"` in seconds) |
//! | Mattermost | `status: away` | Away | `{"user_id", "status": "away"}` (manual) |
//! | Mattermost | `status: offline` (or `ooo`, or anything else) | Offline | `{"user_id", "status": "offline"}` (manual) |
//!
//! The vendor status in [`Detail`] is the status word, with `(manual)` when the user chose it
//! and `until <dnd_end_time>` (seconds since the epoch) for a timed "do not disturb";
//! [`Detail::state`](agentstatus_presence::Detail::state) is the word alone (`online`, `away`,
//! `dnd`, `offline`, `ooo`) and [`Detail::until`](agentstatus_presence::Detail::until) the end of a
//! timed "do not disturb". `set` sends a "do not disturb" without an end (the server keeps it until
//! it is changed). `set` and `set_with` send the status even when the read before it shows it
//! in place already: that read may be a read replica's, behind, and a skip decided from it
//! would leave the agent as it was; the `PUT` then changes nothing (except a timed "do not
//! disturb" the read shows with the end asked for, not sent again: sent over itself it would
//! bring the user back to `dnd` for good). `set_many` skips an agent whose read shows the
//! status in place already (and chosen: `online` needs no choice): a caller that knows a read
//! may be behind sends that one through `set`.
//!
//! `set_with` ([`SetRequest`]) takes the status word as `state` (`online`, `away`, `dnd`,
//! `offline`; it must mean the availability asked for: `dnd` is Busy; `ooo`, the auto-responder's,
//! cannot be set) and an end (`until`) for "do not disturb" only: the server truncates it to the
//! minute and, when it passes, puts the user back in the status the "do not disturb" replaced
//! (automatic, not manual). An end for another status is `UnsupportedOption`, and so is one for a
//! user already in "do not disturb": the server would keep `dnd` as the status to go back to, so
//! the end would bring the user back to `dnd` for good (set another availability first).

use agentstatus_presence::adapter::{Adapter, ErrorBody, Step, call, clip, within};
use agentstatus_presence::bulk::{self, Applied, BulkOptions, BulkResult};
use agentstatus_presence::chrono::{DateTime, Utc};
use agentstatus_presence::registry::{Entry, Setting};
use agentstatus_presence::{
    AgentPresence, Availability, Detail, Failure, ListFilter, Presence, PresenceError, SetRequest,
    Vendor, async_trait,
};

use crate::{Client, types};

const VENDOR: Vendor = Vendor::new("mattermost");

/// Users per page of `GET /api/v4/users` (the server's maximum is 200).
const PAGE: i64 = 200;

/// The most pages `list` reads (200,000 users): a server that never ends its list cannot keep
/// `list` going.
const MAX_PAGES: i64 = 1000;

agentstatus_presence::adapter! {
    /// [`Presence`](agentstatus_presence::Presence) over a Mattermost client. Reading needs any
    /// session's token; setting another user's status needs `edit_other_users` (a system
    /// administrator's token, or a bot's with that permission).
    pub struct MattermostPresence(client: Client) {
        /// The server's base URL and the token, for the websocket feed
        /// ([`MattermostPresence::with_websocket`]); without them `watch` polls.
        websocket: Option<(String, agentstatus_runtime::SecretString)> = None,
    }
}

impl ErrorBody for types::AppError {
    fn parts(self) -> (Option<String>, Option<String>) {
        (self.id, self.message)
    }
}

/// The Availability a Mattermost status word means.
pub fn availability(status: &str) -> Availability {
    match status {
        "online" => Availability::Available,
        "dnd" => Availability::Busy,
        "away" => Availability::Away,
        _ => Availability::Offline,
    }
}

fn wire(desired: Availability) -> types::UpdateUserStatusBodyStatus {
    match desired {
        Availability::Available => types::UpdateUserStatusBodyStatus::Online,
        Availability::Busy => types::UpdateUserStatusBodyStatus::Dnd,
        Availability::Away => types::UpdateUserStatusBodyStatus::Away,
        _ => types::UpdateUserStatusBodyStatus::Offline,
    }
}

/// The status a `state` names, if it can be set and means `desired`.
fn settable(
    state: &str,
    desired: Availability,
) -> Result<types::UpdateUserStatusBodyStatus, PresenceError> {
    let Ok(wanted) = state.parse::<types::UpdateUserStatusBodyStatus>() else {
        let message = format!(
            "Mattermost sets the statuses `online`, `away`, `dnd` and `offline`, not {:?} (`ooo` is the auto-responder's)",
            clip(state)
        );
        return Err(PresenceError::unsupported_option(VENDOR, "state", message));
    };
    let means = availability(&wanted.to_string());
    if means != desired {
        let message = format!("the status `{wanted}` means {means}, not {desired}");
        return Err(PresenceError::new(
            VENDOR,
            Failure::InvalidInput { message },
        ));
    }
    Ok(wanted)
}

fn word(s: &types::Status) -> String {
    s.status
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// The vendor's words: the status, `(manual)`, `until <seconds>`.
fn vendor_status(s: &types::Status) -> String {
    let mut out = word(s);
    if s.manual == Some(true) && out != "online" {
        out.push_str(" (manual)");
    }
    if let Some(end) = s.dnd_end_time.filter(|e| *e > 0 && out.starts_with("dnd")) {
        out.push_str(&format!(" until {end}"));
    }
    out
}

/// The display name Mattermost shows: first and last name, else the nickname, else the username.
fn name(u: &types::User) -> Option<String> {
    let full = [u.first_name.as_deref(), u.last_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Some(full)
        .filter(|f| !f.is_empty())
        .or_else(|| u.nickname.clone().filter(|n| !n.is_empty()))
        .or_else(|| u.username.clone())
}

fn presence(agent: &str, name: Option<String>, s: &types::Status) -> AgentPresence {
    AgentPresence::new(
        agent,
        name,
        availability(&word(s)),
        Detail::new(vendor_status(s))
            .with_state(Some(word(s)))
            .with_until(
                s.dnd_end_time
                    .filter(|e| *e > 0 && word(s) == "dnd")
                    .and_then(|e| DateTime::<Utc>::from_timestamp(e, 0)),
            ),
    )
}

impl MattermostPresence {
    /// Watch changes over the websocket (`status_change` pushes, `watch::MattermostFeed`
    /// with the `watch` feature) at `base_url` (the client's) with `token` (the client's).
    pub fn with_websocket(self, base_url: &str, token: agentstatus_runtime::SecretString) -> Self {
        Self {
            websocket: Some((base_url.to_string(), token)),
            ..self
        }
    }

    /// The statuses of `ids` in one bulk read, without names (what a push names).
    pub async fn statuses(&self, ids: Vec<String>) -> Result<Vec<AgentPresence>, PresenceError> {
        let request = self.client.get_users_statuses_by_ids().body(ids).send();
        let statuses = match call(request).await {
            Ok(s) => s,
            Err(f) => return Err(f.into_error(VENDOR, None).await),
        };
        Ok(statuses
            .iter()
            .filter_map(|s| Some(presence(s.user_id.as_deref()?, None, s)))
            .collect())
    }

    /// `set_many`'s one agent, saying whether it wrote anything: nothing sent when the read
    /// shows the agent so already (`set` sends it whatever the read shows).
    async fn set_saying(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<(AgentPresence, bool), PresenceError> {
        self.set_status(agent, desired, wire(desired), None, false)
            .await
    }

    /// Make `agent` `wanted` (which means `desired`), a "do not disturb" ending at `end`
    /// (seconds since the epoch) when given, saying whether it wrote anything. `force`: sent
    /// even when the read shows the agent so already (that read may be a replica's, behind),
    /// except a timed "do not disturb" the read shows with that end: sent again it would bring
    /// the agent back to `dnd` for good, if the read is right.
    async fn set_status(
        &self,
        agent: &str,
        desired: Availability,
        wanted: types::UpdateUserStatusBodyStatus,
        end: Option<i64>,
        force: bool,
    ) -> Result<(AgentPresence, bool), PresenceError> {
        check_id(agent)?;
        let user = self.user(agent).await?;
        let current = self.status(agent).await?;
        let now = word(&current);
        let current_end = current.dnd_end_time.unwrap_or(0);
        // in place already, and chosen (an automatic away/offline would be undone by activity)
        let in_place = now == wanted.to_string()
            && (now == "online" || current.manual == Some(true))
            && (now != "dnd" || current_end == end.map_or(0, |e| e - e.rem_euclid(60)));
        if in_place && (!force || end.is_some()) {
            return Ok((presence(agent, name(&user), &current), false));
        }
        if end.is_some() && now == "dnd" {
            // SetStatusDoNotDisturbTimed keeps the status it replaces to go back to: `dnd` here,
            // so the end would bring the agent back to "do not disturb", for good
            let message = format!(
                "agent {agent:?} is in \"do not disturb\" already, and Mattermost ends a timed one by going back to the status it replaced (`dnd` again, for good): set another availability first"
            );
            return Err(PresenceError::unsupported_option(VENDOR, "until", message));
        }
        let mut body = types::UpdateUserStatusBody::builder()
            .user_id(agent.to_string())
            .status(wanted);
        if let Some(end) = end {
            body = body.dnd_end_time(Some(end));
        }
        let request = self.client.update_user_status().user_id(agent).body(body);
        let after = match call(request.send()).await {
            Ok(s) => s,
            Err(f) => return Err(f.into_error(VENDOR, Some(agent)).await),
        };
        let shown = presence(agent, name(&user), &after);
        if shown.availability != desired {
            return Err(PresenceError::conflict(
                VENDOR,
                agent,
                desired,
                shown.availability,
                shown.detail.vendor_status.clone(),
            ));
        }
        Ok((shown, true))
    }

    async fn user(&self, agent: &str) -> Result<types::User, PresenceError> {
        match call(self.client.get_user().user_id(agent).send()).await {
            Ok(u) => Ok(u),
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    async fn status(&self, agent: &str) -> Result<types::Status, PresenceError> {
        match call(self.client.get_user_status().user_id(agent).send()).await {
            Ok(s) => Ok(s),
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    /// Every active user, page by page.
    async fn users(&self) -> Result<Vec<types::User>, PresenceError> {
        let mut out = Vec::new();
        for page in 0..MAX_PAGES {
            let request = self
                .client
                .get_users()
                .page(page)
                .per_page(PAGE)
                .active(true)
                .send();
            let users = match call(request).await {
                Ok(u) => u,
                Err(f) => return Err(f.into_error(VENDOR, None).await),
            };
            let last = (users.len() as i64) < PAGE;
            out.extend(users);
            if last {
                break;
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Adapter for MattermostPresence {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = &[
        Availability::Available,
        Availability::Busy,
        Availability::Away,
        Availability::Offline,
    ];
    const EXPIRING: &'static [Availability] = &[Availability::Busy];

    /// The websocket's `status_change` pushes (`watch::MattermostFeed`), when the
    /// adapter knows its token ([`MattermostPresence::with_websocket`]; the registry's
    /// `connect` does) and the `watch` feature is on; else `None` (the watcher polls).
    fn change_feed(
        &self,
        options: &agentstatus_presence::watch::WatchOptions,
    ) -> Option<Box<dyn agentstatus_presence::watch::ChangeFeed>> {
        #[cfg(feature = "watch")]
        {
            let (base, token) = self.websocket.clone()?;
            let watch =
                crate::watch::StatusWatch::everyone(self.client.clone(), &base, token).ok()?;
            let presence =
                MattermostPresence::new(self.client.clone()).with_deadline(self.deadline);
            Some(Box::new(crate::watch::MattermostFeed::new(
                watch,
                presence,
                options.interval,
            )))
        }
        #[cfg(not(feature = "watch"))]
        {
            let _ = options;
            None
        }
    }

    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        check_id(agent)?;
        let user = self.user(agent).await?;
        let status = self.status(agent).await?;
        Ok(presence(agent, name(&user), &status))
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        // sent even when the read shows the agent so already: that read may be a replica's,
        // behind (a skip decided from it would leave the agent as it is); the `PUT` then
        // changes nothing
        self.set_status(agent, desired, wire(desired), None, true)
            .await
            .map(|(p, _)| p)
    }

    /// A status by its word (`state`: `online`, `away`, `dnd`, `offline`), and "do not disturb"
    /// with an end (`until`, sent as `dnd_end_time`; the server truncates it to the minute).
    async fn set_with_now(
        &self,
        agent: &str,
        request: &SetRequest,
    ) -> Result<AgentPresence, PresenceError> {
        let desired = request.availability;
        let wanted = match &request.state {
            None => wire(desired),
            Some(state) => settable(state, desired)?,
        };
        let now = DateTime::<Utc>::from(std::time::SystemTime::now());
        let end = match request.until_after(VENDOR, now)? {
            None => None,
            Some(until) if wanted == types::UpdateUserStatusBodyStatus::Dnd => {
                Some(until.timestamp())
            }
            Some(_) => {
                let message = format!(
                    "only \"do not disturb\" (busy, `dnd`) ends by itself on Mattermost; `{wanted}` lasts until changed"
                );
                return Err(PresenceError::unsupported_option(VENDOR, "until", message));
            }
        };
        self.set_status(agent, desired, wanted, end, true)
            .await
            .map(|(p, _)| p)
    }

    /// Each agent as `set` does it, saying whether it wrote (so a second apply reports
    /// everything unchanged).
    async fn set_many_now(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        bulk::each(updates, options, |agent, wanted| async move {
            self.check_supported(wanted)?;
            let set = self.set_saying(&agent, wanted);
            match within(self.deadline, VENDOR, Step::Set, set).await? {
                (after, true) => Ok(Applied::changed(after)),
                (after, false) => Ok(Applied::unchanged(after)),
            }
        })
        .await
    }

    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        let users = self.users().await?;
        let mut out = Vec::with_capacity(users.len());
        // the bulk read takes ids in chunks (each id 26 characters)
        for chunk in users.chunks(PAGE as usize) {
            let ids: Vec<String> = chunk.iter().filter_map(|u| u.id.clone()).collect();
            if ids.is_empty() {
                continue;
            }
            let request = self.client.get_users_statuses_by_ids().body(ids).send();
            let statuses = match call(request).await {
                Ok(s) => s,
                Err(f) => return Err(f.into_error(VENDOR, None).await),
            };
            for u in chunk {
                let Some(id) = u.id.as_deref() else { continue };
                let offline = types::Status {
                    status: Some(types::StatusStatus::Offline.into()),
                    user_id: Some(id.to_string()),
                    ..types::Status::default()
                };
                let s = statuses
                    .iter()
                    .find(|s| s.user_id.as_deref() == Some(id))
                    .unwrap_or(&offline);
                out.push(presence(id, name(u), s).with_email(u.email.clone()));
            }
        }
        Ok(out.into_iter().filter(|p| filter.keep(p)).collect())
    }
}

/// Refuses what is not a Mattermost id (26 lower-case letters and digits) before sending: it
/// would land in the URL's path.
pub fn check_id(agent: &str) -> Result<(), PresenceError> {
    if agent.len() == 26
        && agent
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        let message = "a Mattermost user id is 26 lower-case letters and digits".into();
        Err(PresenceError::new(
            VENDOR,
            Failure::InvalidInput { message },
        ))
    }
}

const SETTINGS: &[Setting] = &[Setting::secret(
    "token",
    "MATTERMOST_TOKEN",
    "a personal access token or bot token (a system administrator's, or one with edit_other_users, to set other users)",
)];

/// `[mattermost]` with `base_url` (the server, without `/api/v4`) and `token`.
pub fn entry() -> Entry {
    Entry::new("mattermost", "Mattermost", |s| {
        let config = s.apply(crate::ClientConfig::default());
        let token = s.secret("token")?;
        let client = Client::with_bearer_auth(&s.base_url, token.clone(), &config)?;
        Ok(Box::new(
            MattermostPresence::new(client).with_websocket(&s.base_url, token),
        ))
    })
    .with_settings(SETTINGS)
    .with_demo(demo())
}

#[cfg(feature = "fake")]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    use agentstatus_presence::registry::Demo;
    Some(|| {
        Box::pin(async {
            let fake = crate::fake::seeded(
                &[
                    ("Ada Lovelace", Availability::Offline),
                    ("Grace Hopper", Availability::Available),
                ],
                "demo-token",
            )
            .await
            .map_err(|e| e.to_string())?;
            let client = Client::with_bearer_auth(
                &fake.url(),
                "demo-token".to_string().into(),
                &crate::ClientConfig::default(),
            )
            .map_err(|e| e.to_string())?;
            let presence = Box::new(MattermostPresence::new(client));
            let first = crate::fake::user_id(1);
            Ok(Demo::new(fake, presence, first, |f| f.state_changes()))
        })
    })
}

#[cfg(not(feature = "fake"))]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    None
}
