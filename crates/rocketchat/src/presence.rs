//! Rocket.Chat: `statusLivechat` `available` <-> Available, `not-available` <-> Offline; the
//! user status (`online`, `away`, `busy`, `offline`) is the state's word.
//!
//! | vendor | vendor state (read) | Availability | set sends |
//! |---|---|---|---|
//! | Rocket.Chat | `statusLivechat: available` | Available | `{agentId, status: "available"}` |
//! | Rocket.Chat | `statusLivechat: not-available` (or anything else) | Offline | `{agentId, status: "not-available"}` |
//! | Rocket.Chat | — | Busy, Away | unsupported |
//! | Rocket.Chat | user `status`: `online`, `away`, `busy`, `offline` (the state's word, `detail.state()`) | none: the livechat status decides | `set_with` a state: `users.setStatus` `{userId, status}`, then the livechat status |
//! | Rocket.Chat | a timed user status (8.6 and later, `statusExpiresAt`) | none: the livechat status decides | `set_with` a state and `until`: `users.setStatus` `{userId, status, expiresAt}` (RFC 3339, milliseconds, UTC), then the livechat status; `until` alone: unsupported |
//! | Rocket.Chat | `statusText`, `statusExpiresAt` (8.6 and later) of `users.presence`, for a user status `online`, `away` or `busy` | none: `detail.message` and `detail.until`, watched | a status message is not set |
//!
//! Every read (`get`, `list`, `watch`'s delta) carries the status message and the end of a timed
//! user status as `users.presence` shows them: the livechat reads have neither, so `get` asks
//! `users.presence?ids=` and `list` asks `users.presence` once (every user not offline) beside
//! its pages; an offline (invisible) user's are never shown by that read, so none is reported
//! for it anywhere (specs/rocketchat/NOTES.md#status-message-and-end). A write's answer (`set`,
//! `set_many`, `set_with`) is its livechat read back, without the message (and without the end,
//! except the one `set_with` set): writes cost no `users.presence` call, whose rate-limit
//! budget the reads use.
//!
//! Two statuses: the *livechat* status (`statusLivechat`, `livechat/agent.status`) decides the
//! availability, and the *user* (chat) status that every read of an agent carries is its word
//! ([`Detail::state`](agentstatus_presence::Detail::state)). `set_with` ([`SetRequest`]) with a
//! `state` of `online`, `away`, `busy` or `offline` reads the agent, sets the user status
//! (`POST /api/v1/users.setStatus`, sent even when a read shows the agent with it already: that
//! read may be a replica's, behind; a read-back without it is read again the read lag later
//! before it is a `Conflict`), then the livechat
//! status of the availability asked for, as `set` does, and reads both back (another result is
//! a `Conflict`). Any state goes with any availability except `offline` with available:
//! Rocket.Chat assigns no conversation to an agent whose user status is `offline`, so that
//! request is refused (`InvalidInput`, nothing sent) (specs/rocketchat/NOTES.md#user-status). Another user's status needs the credentials'
//! `edit-other-user-info` permission (an administrator's; a livechat manager does not have it);
//! `offline` needs the workspace's "Allow Invisible status option". `set` and `set_many` leave
//! the user status alone.
//!
//! An expiry (`until`) goes with a `state` only: the user status of Rocket.Chat 8.6 and later
//! takes `expiresAt` ("timed status expiration"; when the time passes the server's presence
//! engine restores the status it had before), sent as RFC 3339 in UTC with milliseconds, and
//! always sent (even when the agent already has the status). The livechat status, which decides
//! the availability, has no expiry (the route's validator refuses any field but `agentId` and
//! `status`), so `until` without a `state` is `UnsupportedOption`, nothing sent, and with one
//! only the user status goes back at that time, never the availability. An `until` not in the future is
//! `InvalidInput`, nothing sent. A server before 8.6 ignores `expiresAt` without an error: its
//! answer then carries no `statusExpiresAt`, so the adapter puts the user status read before the
//! change back (one more `users.setStatus` without an expiry, the livechat status untouched) and
//! answers `UnsupportedOption` for `until` saying the server predates 8.6; a status asked to end
//! is never left set for good (specs/rocketchat/NOTES.md#no-expiry-in-a-status). When that
//! restore itself fails, its error is the answer.
//!
//! `set` sends the explicit status, which the server treats idempotently; servers that reject it
//! (older versions) get read -> compare -> toggle -> read back. A read may be a read replica's,
//! behind: one that shows the agent as asked is confirmed by a second read that begins the read lag
//! later ([`RocketChatPresence::with_read_lag`], default two seconds, sync's default desk
//! `read_lag`), and only the two agreeing leave the agent untoggled; a toggle whose answer (the
//! server's own state after it) is not the state asked for went the wrong way (the read was behind,
//! or someone changed the agent meanwhile to the state asked for) and is put back by one more
//! toggle, decided by that answer; never more than two, each sent once (a `Conflict` when the
//! second answers another state too). `set_many`'s toggles, decided by its one read, are put back
//! the same way.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Client, ClientInfo, types};
use agentstatus_runtime::retry::resend;

use agentstatus_presence::adapter::{
    Adapter, ErrorBody, Failed, Step, call, call_answer, clip, within,
};
use agentstatus_presence::bulk::{self, Applied, BulkOptions, BulkResult};
use agentstatus_presence::watch::{Batch, ChangeFeed, Origin, WatchOptions};
use agentstatus_presence::{
    AgentPresence, Availability, Detail, DetailField, Failure, ListFilter, ListLimits, Presence,
    PresenceError, SetRequest, Vendor, async_trait,
};

const VENDOR: Vendor = Vendor::new("rocketchat");

agentstatus_presence::adapter! {
    /// [`Presence`] over a Rocket.Chat client whose credentials may read livechat agents
    /// (`view-livechat-manager`) and change them (`manage-livechat-agents`).
    pub struct RocketChatPresence(client: Client) {
        /// Learnt from the server: it rejects an explicit `status` (older versions), so `set`
        /// toggles.
        toggle_only: AtomicBool = AtomicBool::new(false),
        /// `list` pages within these ([`ListLimits::default`] unless `with_list_limits`).
        limits: ListLimits = ListLimits::default(),
        /// The credentials' user id (`with_user_id`): the presence delta leaves the caller out,
        /// so `watch` reads this agent itself; unknown, `watch` polls.
        user_id: Option<String> = None,
        /// How far behind the agent reads may be (a read replica's): on a toggle-only server a
        /// read that shows the agent as asked is confirmed by one that begins this long after
        /// it ([`DEFAULT_READ_LAG`] unless `with_read_lag`).
        read_lag: std::time::Duration = DEFAULT_READ_LAG,
    }
}

/// How far behind an agent read may be, unless told ([`RocketChatPresence::with_read_lag`]).
pub const DEFAULT_READ_LAG: std::time::Duration = std::time::Duration::from_secs(2);

impl RocketChatPresence {
    /// Bounds on `list`'s paging (default [`ListLimits::default`]).
    pub fn with_list_limits(self, limits: ListLimits) -> Self {
        Self { limits, ..self }
    }

    /// The credentials' user id, for `watch`'s presence delta (see [`RocketChatDelta`]);
    /// without it `watch` polls every agent.
    pub fn with_user_id(self, user_id: impl Into<String>) -> Self {
        Self {
            user_id: Some(user_id.into()),
            ..self
        }
    }

    /// How far behind the server's agent reads may be (a read replica's; default
    /// [`DEFAULT_READ_LAG`]): on a toggle-only server, `set` confirms a read that shows the
    /// agent as asked with a read that begins this long after it before it sends no toggle.
    pub fn with_read_lag(self, read_lag: std::time::Duration) -> Self {
        Self { read_lag, ..self }
    }
}

/// At most this many changed users are read one by one; more, and a full read is cheaper.
const DELTA_READS: usize = 25;

/// `watch` on Rocket.Chat: the presence delta (`GET /api/v1/users.presence?from=`, the users
/// updated since, with their status message and end), then each changed user's livechat
/// status, instead of every agent each interval. See specs/rocketchat/NOTES.md#presence-delta
/// for what the server does.
///
/// `from` is the server's own time (its previous answer's `Date` header, less two seconds and
/// the watch's read lag, [`WatchOptions::read_lag`]), so a client clock that differs from the
/// server's loses nothing, and neither does a read replica up to that lag behind (a delta it
/// computed from an older snapshot leaves out the users updated since; the next delta asks from
/// before them). A user updated within that time is named again by the next deltas (and read
/// again): a restatement, not a change. The first call only learns that
/// time and asks for a full read; `full: true` (presence broadcast disabled, a `from` the server
/// finds too old), a missing `Date` header, or more than 25 changed users ask for a full read too.
pub struct RocketChatDelta {
    presence: RocketChatPresence,
    user_id: String,
    since: Option<chrono::DateTime<chrono::Utc>>,
    ticker: tokio::time::Interval,
    /// How far before the last answer's `Date` the next delta asks from.
    overlap: chrono::TimeDelta,
    /// When the last delta request began.
    began: Option<tokio::time::Instant>,
}

/// `users.presence` calls the delta makes each interval: the delta itself, and the caller's own
/// read (`users.presence?ids=`, which the delta cannot include: the server answers `ids` or
/// `from`, never both, and leaves the caller out of `from`).
const PRESENCE_CALLS: u32 = 2;

impl std::fmt::Debug for RocketChatDelta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocketChatDelta")
            .field("user_id", &self.user_id)
            .field("since", &self.since)
            .finish_non_exhaustive()
    }
}

impl RocketChatDelta {
    /// The time between two deltas now: the watch's interval, or longer when the server counts
    /// this token's calls (at least 2 × 60 s / the route's `X-RateLimit-Limit`: the delta makes two `users.presence` calls a tick).
    pub fn interval(&self) -> std::time::Duration {
        self.ticker.period()
    }

    /// A token the server rate-limits (no `api-bypass-rate-limit`: a `livechat-manager`'s) gets
    /// `X-RateLimit-Limit` on every answer of a counted call, `users.presence`'s included
    /// (specs/rocketchat/NOTES.md#rate-limit); a token the server does not count gets none.
    /// With one, the interval becomes at least what keeps [`PRESENCE_CALLS`] calls an interval
    /// within that limit per the server's window ([`crate::ROUTE_RATE_LIMIT`]'s minute, the
    /// server's default `Time_Default`): 12 s at the default 10 a minute, instead of a 429 every
    /// minute and a resynchronisation after each.
    fn follow_the_limit(&mut self, headers: &reqwest::header::HeaderMap) {
        let Some(limit) = headers
            .get("x-ratelimit-limit")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|n| *n > 0)
        else {
            return;
        };
        let least = crate::ROUTE_RATE_LIMIT.per.saturating_mul(PRESENCE_CALLS) / limit;
        if self.ticker.period() < least {
            let mut ticker =
                tokio::time::interval_at(tokio::time::Instant::now() + least, least);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            self.ticker = ticker;
        }
    }

    /// The server's clock from an answer's `Date` header.
    fn server_time(headers: &reqwest::header::HeaderMap) -> Option<chrono::DateTime<chrono::Utc>> {
        let date = headers.get(reqwest::header::DATE)?.to_str().ok()?;
        chrono::DateTime::parse_from_rfc2822(date)
            .ok()
            .map(|d| d.with_timezone(&chrono::Utc))
    }
}

#[async_trait]
impl ChangeFeed for RocketChatDelta {
    fn origin(&self) -> Origin {
        Origin::Delta
    }

    fn began(&self) -> Option<tokio::time::Instant> {
        self.began
    }

    async fn next(&mut self) -> Result<Batch, PresenceError> {
        self.ticker.tick().await;
        self.began = Some(tokio::time::Instant::now());
        let mut request = self.presence.client.get_users_presence();
        if let Some(since) = self.since {
            request = request.from(since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
        let answer = within(self.presence.deadline, VENDOR, Step::List, async {
            match call_answer(request.send()).await {
                Ok(answer) => Ok(answer),
                Err(f) => Err(f.into_error(VENDOR, None).await),
            }
        })
        .await?;
        self.follow_the_limit(answer.headers());
        let server_time = Self::server_time(answer.headers());
        let first = self.since.is_none();
        self.since = server_time.map(|t| t - self.overlap);
        let answer = answer.into_inner();
        if first || server_time.is_none() || answer.full != Some(false) {
            return Ok(Batch::Resync);
        }
        // the delta's users carry their status message and end (offline ones too, which the
        // other reads never show: `with_said` drops those)
        let said: std::collections::HashMap<String, Said> = answer
            .users
            .iter()
            .filter(|u| u.id.as_deref() != Some(self.user_id.as_str()))
            .filter_map(|u| Some((u.id.clone()?, Said::of(u))))
            .collect();
        if said.len() + 1 > DELTA_READS {
            return Ok(Batch::Resync);
        }
        let mut ids: Vec<&String> = said.keys().collect();
        ids.sort();
        let mut changed = Vec::with_capacity(ids.len() + 1);
        let not_an_agent =
            |e: &PresenceError| e.kind() == agentstatus_presence::ErrorKind::NotFound;
        for id in ids {
            let read = within(
                self.presence.deadline,
                VENDOR,
                Step::Get,
                self.presence.livechat_get(id),
            )
            .await;
            match read {
                Ok(p) => changed.push(with_said(p, said.get(id))),
                // a user who is not an agent, or no longer exists
                Err(e) if not_an_agent(&e) => {}
                Err(e) => return Err(e),
            }
        }
        // the caller, whom the delta leaves out: its own read, message and end included
        match Presence::get(&self.presence, &self.user_id).await {
            Ok(p) => changed.push(p),
            Err(e) if not_an_agent(&e) => {}
            Err(e) => return Err(e),
        }
        Ok(Batch::Changed(changed))
    }
}

impl ErrorBody for types::ApiError {
    fn parts(self) -> (Option<String>, Option<String>) {
        (
            self.error_type.or(self.error.clone()),
            self.message.or(self.error),
        )
    }
}

fn availability(status_livechat: &str) -> Availability {
    if status_livechat == "available" {
        Availability::Available
    } else {
        Availability::Offline
    }
}

/// What `users.presence` says of a user beyond the livechat reads (which carry neither,
/// specs/rocketchat/NOTES.md#status-message-and-end): its status message (`statusText`) and when
/// its timed user status ends (`statusExpiresAt`, Rocket.Chat 8.6 and later).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Said {
    message: Option<String>,
    until: Option<chrono::DateTime<chrono::Utc>>,
}

impl Said {
    fn of(u: &types::GetUsersPresenceResponseUsersItem) -> Self {
        Self {
            message: u
                .status_text
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            until: u
                .status_expires_at
                .as_deref()
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                .map(|at| at.with_timezone(&chrono::Utc)),
        }
    }
}

/// The user statuses `users.presence` shows a message and an end for: its full and `ids` reads
/// list the users whose status is `online`, `away` or `busy` only (`findUsersNotOffline`,
/// `findNotOfflineByIds`), so an offline (invisible) user's message and end are never read, and
/// not taken from the delta either: every read of an agent agrees.
const SAID_FOR: [&str; 3] = ["online", "away", "busy"];

/// `p` with what `users.presence` said of it, when its user status is one that read shows.
fn with_said(mut p: AgentPresence, said: Option<&Said>) -> AgentPresence {
    let shown = p
        .detail
        .state
        .as_deref()
        .is_some_and(|s| SAID_FOR.contains(&s));
    let said = said.filter(|_| shown).cloned().unwrap_or_default();
    p.detail.message = said.message;
    p.detail.until = said.until;
    p
}

/// An agent's presence from its livechat status (the availability, `vendor_status`) and its
/// user status (`status`, the state's word when the read carries one).
fn presence(
    id: Option<String>,
    name: Option<String>,
    status_livechat: Option<String>,
    status: Option<String>,
) -> AgentPresence {
    let raw = status_livechat.unwrap_or_default();
    let availability = availability(&raw);
    AgentPresence::new(
        id.unwrap_or_default(),
        name,
        availability,
        Detail::new(raw).with_state(status.filter(|s| !s.is_empty())),
    )
}

/// The user statuses `users.setStatus` takes (its route refuses any other with
/// `error-invalid-status`).
const USER_STATUSES: [(&str, types::SetUserStatusBodyStatus); 4] = [
    ("online", types::SetUserStatusBodyStatus::Online),
    ("away", types::SetUserStatusBodyStatus::Away),
    ("busy", types::SetUserStatusBodyStatus::Busy),
    ("offline", types::SetUserStatusBodyStatus::Offline),
];

/// The user status called `word` (any case), with its word as the server spells it.
fn user_status(word: &str) -> Option<(&'static str, types::SetUserStatusBodyStatus)> {
    USER_STATUSES
        .into_iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(word))
}

/// When a timed user status ends: the server's `statusExpiresAt` (a JavaScript `Date`'s ISO
/// string), else (a server that wrote it another way) `sent`, the `expiresAt` the request
/// carried, to the millisecond as sent: the server took an expiry, and that is the one it was
/// given.
fn expires_at(answer: &str, sent: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(answer)
        .map(|at| at.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| {
            chrono::DateTime::from_timestamp_millis(sent.timestamp_millis()).unwrap_or(sent)
        })
}

fn wire(desired: Availability) -> (&'static str, types::UpdateAgentStatusBodyStatus) {
    match desired {
        Availability::Available => ("available", types::UpdateAgentStatusBodyStatus::Available),
        _ => (
            "not-available",
            types::UpdateAgentStatusBodyStatus::NotAvailable,
        ),
    }
}

impl RocketChatPresence {
    async fn post(
        &self,
        agent: &str,
        status: Option<types::UpdateAgentStatusBodyStatus>,
    ) -> Result<String, Failed<types::ApiError>> {
        let body = types::UpdateAgentStatusBody::builder()
            .agent_id(Some(agent.to_string()))
            .status(status);
        let answer = call(self.client.update_agent_status().body(body).send()).await?;
        Ok(answer.status.unwrap_or_default())
    }

    /// The explicit-status POST is idempotent (setting the current status again changes
    /// nothing), so unlike the toggle it is retried on transient failures, with the client's
    /// retry policy.
    async fn post_explicit(
        &self,
        agent: &str,
        status: types::UpdateAgentStatusBodyStatus,
    ) -> Result<String, Failed<types::ApiError>> {
        self.retried(|| self.post(agent, Some(status))).await
    }

    /// `send` until it succeeds, fails for good or the client's retry policy gives up
    /// ([`resend`]): for requests that are idempotent (an explicit status), never for the toggle.
    async fn retried<T, F, Fut>(&self, send: F) -> Result<T, Failed<types::ApiError>>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failed<types::ApiError>>>,
    {
        resend(self.client.inner().retry(), |f: &Failed<_>| &f.error, send).await
    }

    /// `POST /api/v1/users.setStatus` `{userId, status}` (no message: the status text stays);
    /// idempotent, so retried like the explicit livechat status.
    async fn post_user_status(
        &self,
        agent: &str,
        status: types::SetUserStatusBodyStatus,
    ) -> Result<(), Failed<types::ApiError>> {
        self.retried(|| async {
            let body = types::SetUserStatusBody::builder()
                .user_id(Some(agent.to_string()))
                .status(Some(status));
            call(self.client.set_user_status().body(body).send())
                .await
                .map(|_| ())
        })
        .await
    }

    /// `POST /api/v1/users.setStatus` `{userId, status, expiresAt}` (Rocket.Chat 8.6 and
    /// later); the answer's `statusExpiresAt`, `None` when the server ignored the expiry (before
    /// 8.6). Idempotent, so retried like [`Self::post_user_status`].
    async fn post_timed_user_status(
        &self,
        agent: &str,
        status: types::SetUserStatusBodyStatus,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<String>, Failed<types::ApiError>> {
        let expires_at = until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.retried(|| async {
            let body = types::SetUserStatusBody::builder()
                .user_id(Some(agent.to_string()))
                .status(Some(status))
                .expires_at(Some(expires_at.clone()));
            call(self.client.set_user_status().body(body).send())
                .await
                .map(|answer| answer.status_expires_at.filter(|at| !at.is_empty()))
        })
        .await
    }

    fn conflict(agent: &str, wanted: Availability, found: &str) -> PresenceError {
        PresenceError::conflict(VENDOR, agent, wanted, availability(found), clip(found))
    }

    /// Older servers: read, compare, toggle, read back.
    ///
    /// A read may be a replica's, behind: one that shows the agent as asked is confirmed by a
    /// second that begins the read lag after it ([`RocketChatPresence::with_read_lag`]); only
    /// the two agreeing send no toggle. The toggle's answer is the server's own state after it:
    /// when it is not the one asked for, the agent was so before it (the read was behind, or
    /// someone changed it meanwhile) and the toggle undid that, so one more toggle, decided by
    /// that answer, puts it back ([`RocketChatPresence::toggle_to`]). A read-back that
    /// disagrees with the toggle's answer is a replica's, behind: the answer is returned.
    async fn set_by_toggle(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        // the availability is all this read is for: the livechat read alone
        let mut current = self.livechat_get(agent).await?;
        if current.availability == desired {
            tokio::time::sleep(self.read_lag).await;
            current = self.livechat_get(agent).await?;
            if current.availability == desired {
                return Ok(current);
            }
        }
        let after = self.toggle_to(agent, desired).await?;
        let back = self.livechat_get(agent).await?;
        if back.availability == desired {
            return Ok(back);
        }
        if after.is_empty() {
            // an answer without the status tells nothing: the read-back decides
            return Err(Self::conflict(agent, desired, &back.detail.vendor_status));
        }
        Ok(presence(
            Some(current.agent_id.clone()),
            current.name.clone(),
            Some(after),
            current.detail.state.clone(),
        ))
    }

    /// Toggle `agent` (read as not `desired`) to `desired`: the toggle's answer is the
    /// server's state after it; another state means the agent was `desired` before it (a read
    /// behind, or a change by someone meanwhile, which the toggle undid), and a second toggle
    /// puts it back. The toggle is not idempotent: each is sent once, never resent; two at
    /// most. The status after (empty when the answer does not say it: then no second toggle),
    /// or a `Conflict` when even the second answers another state (the agent changed under
    /// both).
    async fn toggle_to(&self, agent: &str, desired: Availability) -> Result<String, PresenceError> {
        let (wanted, _) = wire(desired);
        let mut after = String::new();
        for _ in 0..2 {
            after = match self.post(agent, None).await {
                Ok(status) => status,
                Err(f) => return Err(f.into_error(VENDOR, Some(agent)).await),
            };
            // an answer without the status (an older route's `success()`) tells nothing: no
            // second toggle is decided from it
            if after == wanted || after.is_empty() {
                return Ok(after);
            }
        }
        Err(Self::conflict(agent, desired, &after))
    }
}

fn rejects_status_field(e: &progenitor_client::Error<types::ApiError>) -> bool {
    match e {
        progenitor_client::Error::ErrorResponse(rv) => {
            rv.status().as_u16() == 400
                && rv.error_type.as_deref() == Some("invalid-params")
                && rv
                    .error
                    .as_deref()
                    .is_some_and(|m| m.contains("additional properties"))
        }
        _ => false,
    }
}

#[async_trait]
impl Adapter for RocketChatPresence {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = &[Availability::Available, Availability::Offline];
    /// The user status (a `state`) ends by itself on 8.6 and later; no availability does.
    const STATE_EXPIRES: bool = true;
    /// The livechat status, the user status (the state's word: a user status changed in
    /// Rocket.Chat's UI is a change, the livechat status staying), the status message
    /// (`statusText`) and the end of a timed user status (`statusExpiresAt`, a time the server
    /// keeps), the last two as `users.presence` shows them (users not offline).
    const OBSERVED: &'static [DetailField] = &[
        DetailField::VendorStatus,
        DetailField::State,
        DetailField::Message,
        DetailField::Until,
    ];

    /// The presence delta ([`RocketChatDelta`]) when the credentials' user id is known
    /// ([`RocketChatPresence::with_user_id`]) and the interval is under 9 minutes (the server
    /// answers a `from` older than 10 minutes with everything).
    fn change_feed(&self, options: &WatchOptions) -> Option<Box<dyn ChangeFeed>> {
        let user_id = self.user_id.clone()?;
        if options.interval >= std::time::Duration::from_secs(9 * 60) {
            return None;
        }
        let mut ticker = tokio::time::interval(options.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let presence = RocketChatPresence::new(self.client.clone())
            .with_deadline(self.deadline)
            .with_user_id(user_id.clone());
        // two seconds (the server's `_updatedAt` and `Date` are not one instant), and what a
        // replica may not have yet
        // (at most an hour: the server answers a `from` older than 10 minutes with everything)
        let lag = options.read_lag.min(std::time::Duration::from_secs(3600));
        let overlap = chrono::TimeDelta::seconds(2)
            + chrono::TimeDelta::from_std(lag).unwrap_or_default();
        Some(Box::new(RocketChatDelta {
            presence,
            user_id,
            since: None,
            ticker,
            overlap,
            began: None,
        }))
    }

    /// The livechat read (`RocketChatPresence::livechat_get`) with the status message and
    /// the end of a timed status that `users.presence?ids=` gives (one request more).
    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        let p = self.livechat_get(agent).await?;
        let said = self.said(Some(std::slice::from_ref(&p.agent_id))).await?;
        let found = said.get(&p.agent_id);
        Ok(with_said(p, found))
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        if self.toggle_only.load(Ordering::Relaxed) {
            return self.set_by_toggle(agent, desired).await;
        }
        let (wanted, status) = wire(desired);
        match self.post_explicit(agent, status).await {
            // the livechat read back: a write's answer, no message or end (see the module docs).
            // The server said it holds the status: a read back that fails (a 429 of the read
            // route's limiter, a dropped connection) does not make the write one that failed,
            // which a caller would send again over a change made since (issue #30); the
            // answer is then the write's own (no name, no user status). A read back that
            // disagrees with the answer is a replica's, behind: the answer's status stands
            Ok(after) if after == wanted => match self.livechat_get(agent).await {
                Ok(back) if back.availability == desired => Ok(back),
                Ok(back) => Ok(presence(
                    Some(back.agent_id.clone()),
                    back.name.clone(),
                    Some(after),
                    back.detail.state.clone(),
                )),
                Err(_) => Ok(presence(Some(agent.to_string()), None, Some(after), None)),
            },
            Ok(after) => Err(Self::conflict(agent, desired, &after)),
            Err(f) if rejects_status_field(&f.error) => {
                // nothing changed: the body was rejected before anything happened
                self.toggle_only.store(true, Ordering::Relaxed);
                self.set_by_toggle(agent, desired).await
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    /// A user status by its word (`state`: `online`, `away`, `busy`, `offline`), until
    /// `until` when given (Rocket.Chat 8.6 and later), with the livechat status of the
    /// availability asked for; `until` without a state is unsupported.
    async fn set_with_now(
        &self,
        agent: &str,
        request: &SetRequest,
    ) -> Result<AgentPresence, PresenceError> {
        let (desired, Some(state)) = (request.availability, request.state.as_deref()) else {
            if request.until.is_some() {
                let message = "only the user status (`state`) ends by itself on Rocket.Chat \
                    (8.6 and later); the livechat status, which decides the availability, has \
                    no expiry"
                    .to_string();
                return Err(PresenceError::unsupported_option(VENDOR, "until", message));
            }
            request.refuse_options(VENDOR)?;
            return self.set_now(agent, request.availability).await;
        };
        let Some((word, status)) = user_status(state) else {
            let message = format!(
                "Rocket.Chat's user status is `online`, `away`, `busy` or `offline`, not {:?}",
                clip(state)
            );
            return Err(PresenceError::unsupported_option(VENDOR, "state", message));
        };
        if word == "offline" && desired == Availability::Available {
            let message = "the user status `offline` means offline, not available: Rocket.Chat \
                assigns no conversation to an agent whose user status is offline"
                .to_string();
            return Err(PresenceError::new(
                VENDOR,
                Failure::InvalidInput { message },
            ));
        }
        let until = request.until_after(VENDOR, std::time::SystemTime::now().into())?;
        // The user status first: its likeliest failure (no `edit-other-user-info`) then
        // changes nothing; then the livechat status, as `set` does it, whose read back shows
        // both.
        // the user status before (the livechat read carries it): no message or end needed
        let now = self.livechat_get(agent).await?;
        let mut ends = None;
        if let Some(until) = until {
            match self.post_timed_user_status(agent, status, until).await {
                Ok(Some(at)) => ends = Some(expires_at(&at, until)),
                Ok(None) => return Err(self.restore_untimed(agent, word, &now, until).await),
                Err(f) => return Err(f.into_error(VENDOR, Some(agent)).await),
            }
        } else if let Err(f) = self.post_user_status(agent, status).await {
            // sent even when the read shows the agent in it already: that read may be a
            // replica's, behind (a skip decided from it would leave the agent as it is)
            return Err(f.into_error(VENDOR, Some(agent)).await);
        }
        let mut back = self.set_now(agent, desired).await?;
        if back.detail.state() != word {
            // the read back may be a replica's, behind the user status just set: a read the
            // read lag later decides
            tokio::time::sleep(self.read_lag).await;
            let again = self.livechat_get(agent).await?;
            if again.availability == desired {
                back = again;
            }
        }
        if back.availability != desired || back.detail.state() != word {
            let found = format!(
                "{} (user status {:?})",
                back.detail.vendor_status,
                back.detail.state.as_deref().unwrap_or_default()
            );
            return Err(PresenceError::conflict(
                VENDOR,
                agent,
                desired,
                back.availability,
                clip(&found),
            ));
        }
        // the read back has the end `users.presence` shows (none for an offline user status,
        // which that read does not list): the answer's own end, when it gave one
        if ends.is_some() {
            back.detail.until = ends;
        }
        Ok(back)
    }

    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let page_size = 100;
        let mut offset = 0i64;
        let mut pages = 0u32;
        loop {
            let too_many = |pages, agents, limit, total| {
                let failure = Failure::TooManyPages {
                    pages,
                    agents,
                    limit,
                    total,
                };
                PresenceError::new(VENDOR, failure)
            };
            if pages >= self.limits.max_pages {
                return Err(too_many(pages, seen.len(), "max_pages reached", None));
            }
            let request = self
                .client
                .list_livechat_users()
                .type_(types::ListLivechatUsersType::Agent)
                .only_available(filter.available_only)
                .offset(offset)
                .count(page_size);
            let page = match call(request.send()).await {
                Ok(page) => page,
                Err(f) => return Err(f.into_error(VENDOR, None).await),
            };
            pages += 1;
            let got = page.users.len() as i64;
            let before = seen.len();
            for u in page.users {
                // a server that ignores `offset` sends the same agents again: keep each once
                if let Some(id) = &u.id
                    && !seen.insert(id.clone())
                {
                    continue;
                }
                // the first verified address, else the first
                let email = u
                    .emails
                    .iter()
                    .find(|e| e.verified == Some(true))
                    .or(u.emails.first())
                    .and_then(|e| e.address.clone());
                let p = presence(u.id, u.name, u.status_livechat, u.status).with_email(email);
                if filter.keep(&p) {
                    out.push(p);
                }
            }
            if seen.len() > self.limits.max_agents {
                return Err(too_many(
                    pages,
                    seen.len(),
                    "max_agents reached",
                    page.total,
                ));
            }
            offset = offset.saturating_add(got);
            let nothing_new = seen.len() == before;
            if got == 0 || nothing_new || page.total.is_none_or(|t| offset >= t) {
                break;
            }
        }
        if out.is_empty() {
            return Ok(out);
        }
        // the agents' status messages and ends: one read of every user not offline
        let said = self.said(None).await?;
        Ok(out
            .into_iter()
            .map(|p| {
                let found = said.get(&p.agent_id);
                with_said(p, found)
            })
            .collect())
    }

    /// One read of every agent (in pages), then one `agent.status` per agent that changes,
    /// its result taken from the answer (no read back). The toggle of older servers is sent
    /// once per changed agent, never resent.
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
                let message = "not among the agents the server lists".to_string();
                return Err(PresenceError::not_found(VENDOR, agent, Some(message)));
            };
            if now.availability == wanted {
                return Ok(Applied::unchanged(now.clone()));
            }
            within(
                self.deadline,
                VENDOR,
                Step::Set,
                self.write(&agent, wanted, now),
            )
            .await
        })
        .await
    }
}

impl RocketChatPresence {
    /// `GET livechat/users/agent/{id}`: the livechat status and the user status, no status
    /// message, no end (the route picks `_id, username, name, status, statusLivechat, emails,
    /// livechat`).
    async fn livechat_get(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        let answer = call(
            self.client
                .get_livechat_user()
                .type_(types::GetLivechatUserType::Agent)
                .id(agent)
                .send(),
        )
        .await;
        let not_found = |code: Option<String>, message: Option<String>, status| {
            let failure = Failure::NotFound {
                status,
                code,
                message,
            };
            PresenceError::new(VENDOR, failure).with_agent(agent)
        };
        match answer {
            Ok(answer) => match answer.user {
                Some(u) => Ok(presence(
                    u.id.or(Some(agent.into())),
                    u.name,
                    u.status_livechat,
                    u.status,
                )),
                None => Err(not_found(
                    None,
                    Some("the user is not a livechat agent".into()),
                    Some(200),
                )),
            },
            Err(Failed {
                error: progenitor_client::Error::ErrorResponse(rv),
                ..
            }) if rv.status().as_u16() == 400 && rv.error.as_deref() == Some("User not found") => {
                Err(not_found(rv.error.clone(), rv.error.clone(), Some(400)))
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    /// `GET users.presence` (every user not offline) or, with `ids`, `users.presence?ids=` (those
    /// of them not offline): what it says of each, by user id. No ids: nothing asked.
    async fn said(
        &self,
        ids: Option<&[String]>,
    ) -> Result<std::collections::HashMap<String, Said>, PresenceError> {
        let mut request = self.client.get_users_presence();
        if let Some(ids) = ids {
            if ids.is_empty() {
                return Ok(std::collections::HashMap::new());
            }
            request = request.ids(ids.join(","));
        }
        let answer = match call(request.send()).await {
            Ok(answer) => answer,
            Err(f) => {
                return Err(f
                    .into_error(VENDOR, None)
                    .await
                    .with_operation("get_users_presence"));
            }
        };
        Ok(answer
            .users
            .iter()
            .filter_map(|u| Some((u.id.clone()?, Said::of(u))))
            .collect())
    }

    /// A server before 8.6 set the user status `word` without its expiry `until`: put back the
    /// status read before (`before`), and the error to answer: `UnsupportedOption` for `until`,
    /// or the restore's own failure.
    async fn restore_untimed(
        &self,
        agent: &str,
        word: &str,
        before: &AgentPresence,
        until: chrono::DateTime<chrono::Utc>,
    ) -> PresenceError {
        let previous = before.detail.state();
        let asked = until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let restored = if previous == word {
            format!("the user status was already `{word}` and stays so")
        } else if let Some((previous, status)) = user_status(previous) {
            if let Err(f) = self.post_user_status(agent, status).await {
                return f.into_error(VENDOR, Some(agent)).await;
            }
            format!("the user status was put back to `{previous}`")
        } else {
            // a status that `users.setStatus` cannot set again: say so rather than guess
            let message = format!(
                "the server predates Rocket.Chat 8.6 and set the user status `{word}` without \
                 its expiry ({asked}); the status read before, {:?}, cannot be put back, so \
                 `{word}` stays until changed",
                clip(previous)
            );
            return PresenceError::unsupported_option(VENDOR, "until", message);
        };
        let message = format!(
            "the server predates Rocket.Chat 8.6: it ignored the expiry ({asked}) of the user \
             status `{word}` (its answer has no `statusExpiresAt`); {restored}, the livechat \
             status unchanged"
        );
        PresenceError::unsupported_option(VENDOR, "until", message)
    }

    /// One write for an agent whose current state `now` differs from `desired`.
    async fn write(
        &self,
        agent: &str,
        desired: Availability,
        now: &AgentPresence,
    ) -> Result<Applied, PresenceError> {
        let (wanted, status) = wire(desired);
        let after = |status: String| {
            // the livechat status is all that changes: the message and end stay as listed
            let mut p = presence(
                Some(now.agent_id.clone()),
                now.name.clone(),
                Some(status),
                now.detail.state.clone(),
            );
            p.detail.message = now.detail.message.clone();
            p.detail.until = now.detail.until;
            Applied::changed(p)
        };
        if !self.toggle_only.load(Ordering::Relaxed) {
            match self.post_explicit(agent, status).await {
                Ok(s) if s == wanted => return Ok(after(s)),
                Ok(s) => return Err(Self::conflict(agent, desired, &s)),
                Err(f) if rejects_status_field(&f.error) => {
                    self.toggle_only.store(true, Ordering::Relaxed);
                }
                Err(f) => return Err(f.into_error(VENDOR, Some(agent)).await),
            }
        }
        // older servers: the listed state was the read, which may be behind: a toggle whose
        // answer is not the state asked for is put back by a second (`toggle_to`)
        match self.toggle_to(agent, desired).await? {
            s if s == wanted => Ok(after(s)),
            s => Err(Self::conflict(agent, desired, &s)),
        }
    }
}

const SETTINGS: &[agentstatus_presence::registry::Setting] = {
    use agentstatus_presence::registry::Setting;
    &[
        Setting::text(
            "user_id",
            "the id of the user the personal access token belongs to",
            None,
        ),
        Setting::secret(
            "token",
            "ROCKETCHAT_AUTH_TOKEN",
            "the user's personal access token",
        ),
    ]
};

/// Rocket.Chat in the registry: `[rocketchat]` with `base_url`, `user_id`, and the token from
/// `$ROCKETCHAT_AUTH_TOKEN` (or `token_env`). No rate limit by default (the admin, bot and app
/// roles a sync service's token has bypass the server's); an operator's `rate_limit` is counted
/// as the server counts it, per route and method ([`crate::RateLimitScope::Operation`]).
pub fn entry() -> agentstatus_presence::registry::Entry {
    use agentstatus_presence::registry::Entry;
    Entry::new(VENDOR.as_str(), "Rocket.Chat", |s| {
        let user_id = s.text("user_id")?;
        let creds = crate::Credentials::new(user_id, s.secret("token")?);
        // the server counts each route and method on its own: so does an operator's `rate_limit`
        let config = s.apply(
            crate::ClientConfig::default().with_rate_limit_scope(crate::RateLimitScope::Operation),
        );
        let client = Client::with_config(&s.base_url, creds, &config)?;
        let presence = RocketChatPresence::new(client).with_user_id(user_id);
        Ok(Box::new(match s.read_lag() {
            Some(lag) => presence.with_read_lag(lag),
            None => presence,
        }))
    })
    .with_settings(SETTINGS)
    .with_demo(demo())
}

#[cfg(feature = "fake")]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    use agentstatus_presence::registry::Demo;
    Some(|| {
        Box::pin(async {
            let fake = crate::fake::RocketChat::start()
                .await
                .map_err(|e| e.to_string())?;
            fake.add_user("demo-manager", "demo-token", true);
            // the demo's token stands for a service's admin or bot token, which the server's
            // rate limiter does not count
            fake.bypass_rate_limit("demo-manager");
            fake.add_agent(crate::fake::Agent::new(
                "ada",
                "Ada Lovelace",
                "not-available",
            ));
            fake.add_agent(crate::fake::Agent::new(
                "grace",
                "Grace Hopper",
                "available",
            ));
            let client = Client::with_credentials(
                &fake.url(),
                crate::Credentials::new("demo-manager", "demo-token".to_string().into()),
            )
            .map_err(|e| e.to_string())?;
            let presence = Box::new(RocketChatPresence::new(client));
            Ok(Demo::new(fake, presence, "ada", |f| f.state_changes()))
        })
    })
}

#[cfg(not(feature = "fake"))]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    None
}
