//! A fake Rocket.Chat omnichannel server, behaving like the real one (not like its docs):
//!
//! - every call needs `X-Auth-Token` + `X-User-Id` of a known user, else 401
//!   `{status: "error", message: "You must be logged in to do this."}`;
//! - `POST /api/v1/livechat/agent.status` takes `{agentId?, status?}` (unknown fields: 400
//!   `invalid-params`); without `status` it toggles; the same status again changes nothing;
//!   changing another agent needs `manage-livechat-agents` (403); unknown agent 404
//!   `Agent not found`; a deactivated agent 400 `error-user-deactivated`; with business hours
//!   closed an agent changing itself gets 400 `error-business-hours-are-closed` (another agent's
//!   change is silently ignored, 200 with the current status). In
//!   [`RocketChat::set_legacy_toggle_only`] mode the server rejects `status` (older versions).
//! - `GET /api/v1/livechat/users/{type}[/{_id}]` and `GET /api/v1/omnichannel/agents/available`
//!   with their real answer shapes (`{user: null}` for a user without the role, 400
//!   `User not found`, 400 `Invalid type`).
//! - `GET /api/v1/users.presence`: every user updates its `_updatedAt` when anything of it
//!   changes (its livechat status included); `from` less than 10 minutes ago answers the users
//!   other than the caller updated since (`full: false`), anything else (no `from`, older,
//!   unreadable) every user not offline (`full: true`); `ids` the listed users not offline;
//!   with presence broadcast disabled `{users: [], full: true}`. Its users carry the chat
//!   `status`, never `statusLivechat`. With stale answers on ([`agentstatus_fakes::Stale`]),
//!   a delta is answered now and then as a read replica behind answers it: computed from the
//!   `_updatedAt`s of an older snapshot, so the users updated since are left out of it.
//! - `POST /api/v1/users.setStatus` `{status?, message?, userId?|username?}` as the route of
//!   `apps/meteor/app/api/server/v1/users.ts` (before Rocket.Chat 8.6) takes it: a body with
//!   neither a string `status` nor a string `message` is a 400 Match error; the workspace setting
//!   "Allow User Status Message Change" off is 400 `error-not-allowed`; another user (by `userId`
//!   or `username`) needs `edit-other-user-info` ([`RocketChat::grant_edit_other_user_info`]),
//!   else 403 `unauthorized`, and must exist, else 400 `error-invalid-user`; the message is
//!   stored first (`setStatusText`: trimmed, at most 120 characters, the same text again
//!   changing nothing, not even `_updatedAt`; [`RocketChat::set_status_text`] is the agent's
//!   own change in the UI); a status other than `online`, `away`, `busy`, `offline` is 400
//!   `error-invalid-status`, `offline` with "Allow Invisible status option" off 400
//!   `error-status-not-allowed`; else the status is stored (`status`, `statusDefault`), the same
//!   status again changing nothing but `_updatedAt`.
//! - the timed user status of Rocket.Chat 8.6 and later (`expiresAt` on `users.setStatus`, the
//!   "presence sync engine"): a string date in the future sets the status until then, answered
//!   `{success: true, statusExpiresAt}` (milliseconds, UTC) and shown as `statusExpiresAt` in
//!   `users.presence`; a past, present or unreadable one is 400 `{success: false, error:
//!   "expiresAt must be a future date [error-invalid-date]", errorType: "error-invalid-date"}`
//!   before anything is stored. When the time passes the user's status goes back to the one it
//!   had before the timed status (evaluated on every request and accessor, against the fake's
//!   clock: real time plus [`RocketChat::advance_clock`]); a status set again without
//!   `expiresAt` ends the timer. [`RocketChat::set_before_8_6`] makes the fake a server
//!   before 8.6: `expiresAt` ignored without an error, no `statusExpiresAt` anywhere.
//! - the REST API rate limiter (`apps/meteor/app/api/server/api.ts`), on from the start as the
//!   server has it: [`DEFAULT_CALLS`] calls per [`DEFAULT_INTERVAL`]
//!   (`API_Enable_Rate_Limiter_Limit_Calls_Default` and `_Time_Default`; another rule with
//!   [`RocketChat::set_rate_limit`], `API_Enable_Rate_Limiter` off with
//!   [`RocketChat::disable_rate_limit`]). The caller is authenticated first (a call without a
//!   known user and token is answered 401 and not counted); then each route and method counts
//!   its calls in a window that starts with the first call after the last one ended (Meteor's
//!   `RateLimiter` rule); every authenticated call counts, a refused one too; a user with
//!   `api-bypass-rate-limit` (admin, bot, app: [`RocketChat::bypass_rate_limit`]; the seeded
//!   API user of [`SEEDER`] is an administrator) is not counted. A counted call gets
//!   `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch milliseconds)
//!   on its answer, and past the limit 429 `{success: false, error: "Error, too many requests.
//!   Please slow down. You must wait N seconds before trying this endpoint again.
//!   [error-too-many-requests]"}`, no `Retry-After`. A test whose API user makes more calls
//!   than a livechat manager may gives it the bypass (or a raised limit) explicitly.
//!
//! Evidence for each behaviour: specs/rocketchat/NOTES.md#fake-server-behaviour.

// Handlers bail out early with a ready `Response`; its size does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agentstatus_fakes::axum::Router;
use agentstatus_fakes::axum::body::Bytes;
use agentstatus_fakes::axum::extract::Request;
use agentstatus_fakes::axum::extract::{Path, Query, State};
use agentstatus_fakes::axum::http::HeaderValue;
use agentstatus_fakes::axum::http::{HeaderMap, StatusCode};
use agentstatus_fakes::axum::middleware::{self, Next};
use agentstatus_fakes::axum::response::Response;
use agentstatus_fakes::axum::routing::{get, post};
use agentstatus_fakes::serde_json::{self, Value, json};
use chrono::{DateTime, Utc};

use agentstatus_fakes::seed::{Availability, Secrets, Seed, Seeded, Seeder, Settings};
pub use agentstatus_fakes::{Chaos, Fault, Faults};
use agentstatus_fakes::{Fake, Shared, json as reply};

/// A livechat agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// The user id (`_id`).
    pub id: String,
    /// The username (from the name, lower case, dots for spaces).
    pub username: String,
    /// Display name.
    pub name: String,
    /// `available` or `not-available`.
    pub status_livechat: String,
    /// The user's presence: `online`, `away`, `busy`, `offline`.
    pub status: String,
    /// The user's status message (`statusText`), empty when none.
    pub status_text: String,
    /// Whether the user is active (a deactivated agent's status cannot be changed).
    pub active: bool,
}

impl Agent {
    /// An active, online agent with the given livechat status.
    pub fn new(id: &str, name: &str, status_livechat: &str) -> Self {
        Self {
            id: id.into(),
            username: name.to_lowercase().replace(' ', "."),
            name: name.into(),
            status_livechat: status_livechat.into(),
            status: "online".into(),
            status_text: String::new(),
            active: true,
        }
    }

    fn json(&self) -> Value {
        json!({
            "_id": self.id, "username": self.username, "name": self.name, "status": self.status,
            "statusLivechat": self.status_livechat,
            "emails": [{"address": format!("{}@example.com", self.username), "verified": true}],
            "livechat": {"maxNumberSimultaneousChat": ""}
        })
    }
}

/// Someone who can call the API: a user id, its token, and whether it manages livechat
/// (`manage-livechat-agents`, `view-livechat-manager`) or is a plain agent (`view-l-room`).
#[derive(Debug, Clone)]
pub struct User {
    /// The user id sent in `X-User-Id`.
    pub user_id: String,
    /// The token sent in `X-Auth-Token`.
    pub token: String,
    /// Whether the user manages livechat agents (else it may change only itself).
    pub manager: bool,
}

#[derive(Debug, Default)]
struct Inner {
    agents: BTreeMap<String, Agent>,
    users: Vec<User>,
    business_hours_open: bool,
    legacy_toggle_only: bool,
    interfere_once: bool,
    /// Each user's `_updatedAt` (agents and API users alike).
    updated: BTreeMap<String, DateTime<Utc>>,
    /// Each user's earlier `_updatedAt`s, the newest last (at most [`UPDATES_KEPT`]): what a
    /// read replica behind still has ([`users_presence`] given a
    /// [`Behind`](agentstatus_fakes::Behind)).
    updates: BTreeMap<String, std::collections::VecDeque<DateTime<Utc>>>,
    presence_broadcast_disabled: bool,
    /// The users with the permission `edit-other-user-info` (administrators).
    edit_other_user_info: Vec<String>,
    /// The setting `Accounts_AllowUserStatusMessageChange` (on by default).
    status_change_allowed: bool,
    /// The setting `Accounts_AllowInvisibleStatusOption` (on by default).
    invisible_allowed: bool,
    /// The user status of API users that are not agents: (status, status text).
    user_statuses: BTreeMap<String, (String, String)>,
    /// The REST API rate limiter (shared with the routes' middleware).
    limiter: Arc<Mutex<Limiter>>,
    /// A server before Rocket.Chat 8.6: `expiresAt` is ignored.
    before_8_6: bool,
    /// Timed user statuses: per user, when the status expires and the status it returns to.
    timed: BTreeMap<String, (DateTime<Utc>, String)>,
    /// How far the fake's clock is ahead of real time ([`RocketChat::advance_clock`]).
    clock_offset: chrono::TimeDelta,
    /// How far the server's clock is off ours ([`RocketChat::set_clock_skew`]): its `Date`,
    /// `_updatedAt`, `users.presence`'s `from` and `X-RateLimit-Reset` go by it.
    server_skew: chrono::TimeDelta,
    /// [`RocketChat::set_paging_churn`]: on.
    churn: bool,
}

/// `API_Enable_Rate_Limiter_Limit_Calls_Default`: calls a route allows per interval (10).
pub const DEFAULT_CALLS: u32 = 10;

/// `API_Enable_Rate_Limiter_Limit_Time_Default`: the interval (60000 ms).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// The REST API rate limiter: one rule per route and method.
#[derive(Debug, Default)]
struct Limiter {
    /// Calls per interval; `None`: off.
    rule: Option<(u32, Duration)>,
    /// The API users' (user id, token): the server authenticates a call before counting it.
    known: HashSet<(String, String)>,
    /// Per route: when its window started, and the calls counted in it.
    windows: HashMap<&'static str, (Instant, u32)>,
    /// Users with `api-bypass-rate-limit`.
    bypass: HashSet<String>,
    /// Calls answered 429.
    limited: u64,
    /// Milliseconds the server's clock is ahead of ours ([`RocketChat::set_clock_skew`]).
    skew_ms: i64,
}

/// A route's rate limit, in front of its handler.
async fn rate_limit(
    limiter: Arc<Mutex<Limiter>>,
    route: &'static str,
    request: Request,
    next: Next,
) -> Response {
    let (user, token) = {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        (header("x-user-id"), header("x-auth-token"))
    };
    let verdict = {
        let mut l = limiter.lock().unwrap_or_else(|e| e.into_inner());
        // authentication first: an unknown caller is the handler's 401, never counted
        let authenticated = match (&user, token) {
            (Some(u), Some(t)) => l.known.contains(&(u.clone(), t)),
            _ => false,
        };
        match (l.rule, user) {
            (Some((calls, interval)), Some(user)) if authenticated && !l.bypass.contains(&user) => {
                let now = Instant::now();
                let window = l.windows.entry(route).or_insert((now, 0));
                if now.duration_since(window.0) > interval {
                    *window = (now, 0);
                }
                window.1 = window.1.saturating_add(1);
                let count = window.1;
                let reset = interval.saturating_sub(now.duration_since(window.0));
                if count > calls {
                    l.limited += 1;
                }
                Some((calls, calls.saturating_sub(count), reset, count > calls))
            }
            _ => None,
        }
    };
    let Some((calls, left, reset, refused)) = verdict else {
        return next.run(request).await;
    };
    let mut answer = if refused {
        let seconds = reset.as_millis().div_ceil(1000);
        reply(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"success": false, "error": format!("Error, too many requests. Please slow down. You must wait {seconds} seconds before trying this endpoint again. [error-too-many-requests]")}),
        )
    } else {
        next.run(request).await
    };
    let skew_ms = limiter
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .skew_ms;
    let epoch_ms = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i128
        + i128::from(skew_ms))
    .max(0) as u128;
    let h = answer.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(calls));
    h.insert("x-ratelimit-remaining", HeaderValue::from(left));
    if let Ok(v) = HeaderValue::from_str(&(epoch_ms + reset.as_millis()).to_string()) {
        h.insert("x-ratelimit-reset", v);
    }
    answer
}

/// The agent that joins and leaves with [`RocketChat::set_paging_churn`] (its id sorts before
/// the usual ones).
pub const CHURN_AGENT: &str = "0-churn";

impl Inner {
    fn add_churn_agent(&mut self) {
        self.touch(CHURN_AGENT);
        self.agents.insert(
            CHURN_AGENT.to_string(),
            Agent::new(CHURN_AGENT, "Comes And Goes", "available"),
        );
    }

    /// What the server's models do on every update: `_updatedAt` is now.
    fn touch(&mut self, id: &str) {
        let at = now() + self.server_skew;
        self.updated.insert(id.to_string(), at);
        let kept = self.updates.entry(id.to_string()).or_default();
        kept.push_back(at);
        while kept.len() > UPDATES_KEPT {
            kept.pop_front();
        }
    }

    /// The user's `_updatedAt` as a snapshot taken at `at` has it (a read replica that far
    /// behind): its last update then, if any is kept.
    fn updated_as_of(&self, id: &str, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.updates
            .get(id)?
            .iter()
            .rev()
            .find(|t| **t <= at)
            .copied()
    }

    /// The fake's clock for timed statuses: real time plus [`RocketChat::advance_clock`].
    fn clock(&self) -> DateTime<Utc> {
        now() + self.clock_offset
    }

    /// The user status of `id` (an agent or an API user), if it has one.
    fn user_status(&self, id: &str) -> Option<String> {
        match self.agents.get(id) {
            Some(a) => Some(a.status.clone()),
            None => self.user_statuses.get(id).map(|(status, _)| status.clone()),
        }
    }

    /// Store `status` as the user status of `id`; whether it changed.
    fn store_user_status(&mut self, id: &str, status: &str) -> bool {
        let changed = match self.agents.get_mut(id) {
            Some(a) => std::mem::replace(&mut a.status, status.to_string()) != status,
            None => {
                let entry = self.user_statuses.entry(id.to_string()).or_default();
                std::mem::replace(&mut entry.0, status.to_string()) != status
            }
        };
        self.touch(id);
        changed
    }

    /// `setStatusText` (apps/meteor/app/lib/server/functions/setStatusText.ts): the text
    /// trimmed and cut to 120 characters; the same text again changes nothing (not even
    /// `_updatedAt`), another is stored with `Users.updateStatusText` (an `updateOne`: `_updatedAt`
    /// moves).
    fn store_status_text(&mut self, id: &str, text: &str) {
        let text: String = text.trim().chars().take(120).collect();
        let slot = match self.agents.get_mut(id) {
            Some(a) => &mut a.status_text,
            None => &mut self.user_statuses.entry(id.to_string()).or_default().1,
        };
        if *slot != text {
            *slot = text;
            self.touch(id);
        }
    }

    /// The presence engine: every timed status whose time has passed goes back to the status
    /// it replaced.
    fn expire(&mut self) {
        let clock = self.clock();
        let due: Vec<(String, String)> = self
            .timed
            .iter()
            .filter(|(_, (at, _))| *at <= clock)
            .map(|(id, (_, previous))| (id.clone(), previous.clone()))
            .collect();
        for (id, previous) in due {
            self.timed.remove(&id);
            self.store_user_status(&id, &previous);
        }
    }

    /// `statusExpiresAt` of `id` as the server writes it (a JavaScript `Date`'s ISO string).
    fn status_expires_at(&self, id: &str) -> Option<String> {
        self.timed
            .get(id)
            .map(|(at, _)| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    }
}

fn now() -> DateTime<Utc> {
    std::time::SystemTime::now().into()
}

agentstatus_fakes::fake! {
    /// A running fake Rocket.Chat server on 127.0.0.1 ([`FakeServer`]: `url()`, `faults()`, and
    /// `state_changes()`, the times an agent's livechat status or a user's status actually
    /// changed through the API).
    ///
    /// [`FakeServer`]: agentstatus_fakes::FakeServer
    pub struct RocketChat(Inner);
}

impl RocketChat {
    /// Start on 127.0.0.1 with a free port; business hours open, no users, no agents.
    pub async fn start() -> std::io::Result<Self> {
        // on, with the server's defaults
        let limiter = Arc::new(Mutex::new(Limiter {
            rule: Some((DEFAULT_CALLS, DEFAULT_INTERVAL)),
            ..Limiter::default()
        }));
        let state = Inner {
            business_hours_open: true,
            status_change_allowed: true,
            invisible_allowed: true,
            limiter: limiter.clone(),
            ..Inner::default()
        };
        // the server's rule key: the route's path and its method
        let limit = |route: &'static str| {
            let limiter = limiter.clone();
            middleware::from_fn(move |request: Request, next: Next| {
                rate_limit(limiter.clone(), route, request, next)
            })
        };
        let routes = Router::new()
            .route(
                "/api/v1/livechat/agent.status",
                post(agent_status).layer(limit("/api/v1/livechat/agent.statuspost")),
            )
            .route(
                "/api/v1/livechat/users/{kind}",
                get(list_users).layer(limit("/api/v1/livechat/users/:type/get")),
            )
            .route(
                "/api/v1/livechat/users/{kind}/{id}",
                get(get_user).layer(limit("/api/v1/livechat/users/:type/:_id/get")),
            )
            .route(
                "/api/v1/omnichannel/agents/available",
                get(available_agents).layer(limit("/api/v1/omnichannel/agents/availableget")),
            )
            .route(
                "/api/v1/users.presence",
                get(users_presence).layer(limit("/api/v1/users.presenceget")),
            )
            .route(
                "/api/v1/users.setStatus",
                post(set_status).layer(limit("/api/v1/users.setStatuspost")),
            );
        Fake::start(state, routes).await.map(Self)
    }

    /// Add an API user with its token; `manager` as in [`User::manager`].
    /// The user is counted by the rate limiter unless given [`RocketChat::bypass_rate_limit`].
    pub fn add_user(&self, user_id: &str, token: &str, manager: bool) {
        let mut s = self.0.lock();
        s.limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .known
            .insert((user_id.to_string(), token.to_string()));
        s.users.push(User {
            user_id: user_id.into(),
            token: token.into(),
            manager,
        });
    }

    /// The REST API rate limiter with another rule: `calls` per route and method per `interval`
    /// (the server's defaults, on from the start: [`DEFAULT_CALLS`] per [`DEFAULT_INTERVAL`]),
    /// from fresh windows.
    pub fn set_rate_limit(&self, calls: u32, interval: Duration) {
        let s = self.0.lock();
        let mut l = s.limiter.lock().unwrap_or_else(|e| e.into_inner());
        l.rule = Some((calls, interval));
        l.windows.clear();
    }

    /// Turn the REST API rate limiter off (the workspace setting `API_Enable_Rate_Limiter`
    /// false): no call is counted, none gets the `X-RateLimit-*` headers.
    pub fn disable_rate_limit(&self) {
        let s = self.0.lock();
        let mut l = s.limiter.lock().unwrap_or_else(|e| e.into_inner());
        l.rule = None;
        l.windows.clear();
    }

    /// Give the API user `user_id` `api-bypass-rate-limit` (the admin, bot and app roles have
    /// it): the limiter does not count its calls.
    pub fn bypass_rate_limit(&self, user_id: &str) {
        let s = self.0.lock();
        let mut l = s.limiter.lock().unwrap_or_else(|e| e.into_inner());
        l.bypass.insert(user_id.to_string());
    }

    /// Agents come and go while a client reads the agent list in pages: after every first page
    /// (`offset=0`) of `livechat/users/agent`, an agent whose id sorts first
    /// ([`CHURN_AGENT`]) leaves if it was there, else joins, so the next pages shift by one:
    /// every other read in pages misses one agent (the one the shift moves onto the page
    /// already read), the others see one twice.
    pub fn set_paging_churn(&self, on: bool) {
        let mut s = self.0.lock();
        s.churn = on;
        if on {
            s.add_churn_agent();
        } else {
            s.agents.remove(CHURN_AGENT);
        }
    }

    /// Take `api-bypass-rate-limit` away from the user again: its calls are counted.
    pub fn stop_bypassing_rate_limit(&self, user_id: &str) {
        let s = self.0.lock();
        let mut l = s.limiter.lock().unwrap_or_else(|e| e.into_inner());
        l.bypass.remove(user_id);
    }

    /// How many calls the rate limiter answered with 429.
    pub fn rate_limited(&self) -> u64 {
        let s = self.0.lock();
        let l = s.limiter.lock().unwrap_or_else(|e| e.into_inner());
        l.limited
    }

    /// Add an agent (or replace the one with the same id).
    pub fn add_agent(&self, agent: Agent) {
        let mut s = self.0.lock();
        s.touch(&agent.id);
        s.agents.insert(agent.id.clone(), agent);
    }

    /// An agent changes its livechat status in Rocket.Chat's own UI (not through this API): the
    /// status and `_updatedAt` change; [`state_changes`](agentstatus_fakes::FakeServer::state_changes)
    /// counts changes made through the API only. Unknown agent: nothing happens.
    pub fn set_status_livechat(&self, id: &str, status_livechat: &str) {
        let mut s = self.0.lock();
        if let Some(a) = s.agents.get_mut(id) {
            a.status_livechat = status_livechat.into();
            s.touch(id);
        }
    }

    /// An agent's chat presence changes (`online`, `away`, `busy`, `offline`): `_updatedAt`
    /// changes, the livechat status does not. Unknown agent: nothing happens.
    pub fn set_presence(&self, id: &str, status: &str) {
        let mut s = self.0.lock();
        if let Some(a) = s.agents.get_mut(id) {
            a.status = status.into();
            s.touch(id);
        }
    }

    /// An agent writes a status message in Rocket.Chat's own UI (`setStatusText`: trimmed, cut
    /// to 120 characters; the same text again changes nothing): `statusText` and `_updatedAt`
    /// change, nothing else. Unknown agent: nothing happens.
    pub fn set_status_text(&self, id: &str, text: &str) {
        let mut s = self.0.lock();
        if s.agents.contains_key(id) {
            s.store_status_text(id, text);
        }
    }

    /// Give the API user `user_id` the permission `edit-other-user-info` (by default only
    /// administrators have it, livechat managers not): it may set other users' status.
    pub fn grant_edit_other_user_info(&self, user_id: &str) {
        self.0.lock().edit_other_user_info.push(user_id.into());
    }

    /// The workspace setting "Allow User Status Message Change"
    /// (`Accounts_AllowUserStatusMessageChange`, on by default): off, `users.setStatus` is
    /// refused.
    pub fn set_status_change_allowed(&self, allowed: bool) {
        self.0.lock().status_change_allowed = allowed;
    }

    /// The workspace setting "Allow Invisible status option"
    /// (`Accounts_AllowInvisibleStatusOption`, on by default): off, the status `offline` is
    /// refused.
    pub fn set_invisible_allowed(&self, allowed: bool) {
        self.0.lock().invisible_allowed = allowed;
    }

    /// The workspace setting `Presence_broadcast_disabled`.
    pub fn set_presence_broadcast_disabled(&self, disabled: bool) {
        self.0.lock().presence_broadcast_disabled = disabled;
    }

    /// The agent with this id, as the fake stores it now (timed statuses evaluated first).
    pub fn agent(&self, id: &str) -> Option<Agent> {
        let mut s = self.0.lock();
        s.expire();
        s.agents.get(id).cloned()
    }

    /// Behave like a server before Rocket.Chat 8.6: `users.setStatus` ignores `expiresAt`
    /// without an error and no answer carries `statusExpiresAt`.
    pub fn set_before_8_6(&self, before: bool) {
        self.0.lock().before_8_6 = before;
    }

    /// When the timed user status of `id` expires, if it has one (timed statuses evaluated
    /// first).
    pub fn status_expires_at(&self, id: &str) -> Option<DateTime<Utc>> {
        let mut s = self.0.lock();
        s.expire();
        s.timed.get(id).map(|(at, _)| *at)
    }

    /// Move the fake's clock for timed statuses forward by `by` (real time goes on too).
    pub fn advance_clock(&self, by: Duration) {
        let mut s = self.0.lock();
        s.clock_offset += chrono::TimeDelta::from_std(by).unwrap_or(chrono::TimeDelta::MAX);
    }

    /// The server's clock is `seconds` ahead of ours (behind: negative), as a server whose NTP
    /// is broken: its `Date` header, `_updatedAt` (so `users.presence`'s `from`, which the
    /// caller takes from the server's `Date`), `X-RateLimit-Reset` and the `Retry-After` of
    /// injected 429s go by its clock.
    pub fn set_clock_skew(&self, seconds: i64) {
        self.faults().set_clock_skew(seconds);
        let mut s = self.0.lock();
        s.server_skew = chrono::TimeDelta::seconds(seconds);
        s.limiter.lock().unwrap_or_else(|e| e.into_inner()).skew_ms = seconds.saturating_mul(1000);
    }

    /// Open or close the business hours (closed: making an agent available is refused).
    pub fn set_business_hours_open(&self, open: bool) {
        self.0.lock().business_hours_open = open;
    }

    /// Behave like an older server that only toggles and rejects an explicit `status`.
    pub fn set_legacy_toggle_only(&self, legacy: bool) {
        self.0.lock().legacy_toggle_only = legacy;
    }

    /// The next `agent.status` call finds its agent toggled by someone else just before.
    pub fn interfere_once(&self) {
        self.0.lock().interfere_once = true;
    }
}

fn unauthorized() -> Response {
    reply(
        StatusCode::UNAUTHORIZED,
        json!({"status": "error", "message": "You must be logged in to do this."}),
    )
}

fn failure(error: &str, error_type: Option<&str>) -> Response {
    let mut body = json!({"success": false, "error": error});
    if let Some(t) = error_type {
        body["errorType"] = json!(t);
    }
    reply(StatusCode::BAD_REQUEST, body)
}

fn forbidden() -> Response {
    reply(
        StatusCode::FORBIDDEN,
        json!({"success": false, "error": "User does not have the permissions required for this action [error-unauthorized]"}),
    )
}

fn caller(state: &Inner, headers: &HeaderMap) -> Option<User> {
    let token = headers.get("x-auth-token")?.to_str().ok()?;
    let user = headers.get("x-user-id")?.to_str().ok()?;
    state
        .users
        .iter()
        .find(|u| u.token == token && u.user_id == user)
        .cloned()
}

fn flip(status: &str) -> &'static str {
    if status == "available" {
        "not-available"
    } else {
        "available"
    }
}

async fn agent_status(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock();
    s.expire();
    let Some(me) = caller(&s, &headers) else {
        return unauthorized();
    };
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return failure("Invalid body [invalid-params]", Some("invalid-params")),
        }
    };
    let fields = body.as_object().expect("checked above");
    let allowed: &[&str] = if s.legacy_toggle_only {
        &["agentId"]
    } else {
        &["agentId", "status"]
    };
    if let Some(extra) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        return failure(
            &format!("must NOT have additional properties: {extra} [invalid-params]"),
            Some("invalid-params"),
        );
    }
    let wanted = match fields.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(v)) if v == "available" || v == "not-available" => Some(v.clone()),
        Some(_) => {
            return failure(
                "must be equal to one of the allowed values [invalid-params]",
                Some("invalid-params"),
            );
        }
    };
    let agent_id = match fields.get("agentId") {
        Some(Value::String(id)) => id.clone(),
        None | Some(Value::Null) => me.user_id.clone(),
        Some(_) => return failure("must be string [invalid-params]", Some("invalid-params")),
    };
    let other = agent_id != me.user_id;
    if other && !me.manager {
        return forbidden();
    }
    let open = s.business_hours_open;
    let interfere = std::mem::take(&mut s.interfere_once);
    let Some(agent) = s.agents.get_mut(&agent_id) else {
        return reply(
            StatusCode::NOT_FOUND,
            json!({"success": false, "error": "Agent not found"}),
        );
    };
    if !agent.active {
        return failure("error-user-deactivated", None);
    }
    if interfere {
        agent.status_livechat = flip(&agent.status_livechat).into();
    }
    let new = wanted.unwrap_or_else(|| flip(&agent.status_livechat).to_string());
    if new == agent.status_livechat {
        let current = agent.status_livechat.clone();
        return reply(StatusCode::OK, json!({"status": current, "success": true}));
    }
    if !open {
        if other {
            let current = agent.status_livechat.clone();
            return reply(StatusCode::OK, json!({"status": current, "success": true}));
        }
        return failure("error-business-hours-are-closed", None);
    }
    agent.status_livechat = new.clone();
    s.touch(&agent_id);
    state.changed();
    reply(StatusCode::OK, json!({"status": new, "success": true}))
}

/// A Meteor error as the API's failure helper answers it: 400 `{success: false, error:
/// "<reason> [<code>]", errorType: <code>}`.
fn meteor_error(code: &str, reason: &str) -> Response {
    failure(&format!("{reason} [{code}]"), Some(code))
}

/// `POST /api/v1/users.setStatus` as the route of apps/meteor/app/api/server/v1/users.ts
/// (before 8.6) runs it, check by check, with 8.6's `expiresAt` unless
/// [`RocketChat::set_before_8_6`].
async fn set_status(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock();
    s.expire();
    let Some(me) = caller(&s, &headers) else {
        return unauthorized();
    };
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => return failure("Invalid body", None),
        }
    };
    // check(bodyParams, Match.OneOf(ObjectIncluding({status: Maybe(String), message: String}),
    // ObjectIncluding({status: String, message: Maybe(String)})))
    let field = |k: &str| body.as_object().and_then(|o| o.get(k));
    let string_or_absent =
        |v: Option<&Value>| matches!(v, None | Some(Value::Null | Value::String(_)));
    let is_string = |v: Option<&Value>| matches!(v, Some(Value::String(_)));
    let (status, message) = (field("status"), field("message"));
    let matches = body.is_object()
        && ((string_or_absent(status) && is_string(message))
            || (is_string(status) && string_or_absent(message)));
    if !matches {
        return failure(
            "Match error: Failed Match.OneOf, Match.Maybe or Match.Optional validation",
            None,
        );
    }
    // 8.6: an `expiresAt` must be a date in the future (RocketChat/Rocket.Chat#41048)
    let expires_at = match field("expiresAt") {
        _ if s.before_8_6 => None,
        None | Some(Value::Null) => None,
        Some(v) => match v
            .as_str()
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc))
        {
            Some(at) if at > s.clock() => Some(at),
            _ => return meteor_error("error-invalid-date", "expiresAt must be a future date"),
        },
    };
    if !s.status_change_allowed {
        return meteor_error("error-not-allowed", "Change status is not allowed");
    }
    // isUserFromParams: no user named, or the caller named by id or username
    let by_id = field("userId")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty());
    let by_name = field("username")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty());
    let my_name = s.agents.get(&me.user_id).map(|a| a.username.as_str());
    let myself = (by_id.is_none() && by_name.is_none())
        || by_id == Some(me.user_id.as_str())
        || (by_name.is_some() && by_name == my_name);
    let target = if myself {
        me.user_id.clone()
    } else if s.edit_other_user_info.contains(&me.user_id) {
        // getUserFromParams: by id, else by username
        let found = match (by_id, by_name) {
            (Some(id), _) => (s.agents.contains_key(id) || s.users.iter().any(|u| u.user_id == id))
                .then(|| id.to_string()),
            (None, Some(name)) => s
                .agents
                .values()
                .find(|a| a.username.eq_ignore_ascii_case(name))
                .map(|a| a.id.clone()),
            (None, None) => None,
        };
        match found {
            Some(id) => id,
            None => {
                return meteor_error(
                    "error-invalid-user",
                    "The required \"userId\" or \"username\" param provided does not match any users",
                );
            }
        }
    } else {
        return reply(
            StatusCode::FORBIDDEN,
            json!({"success": false, "error": "unauthorized"}),
        );
    };
    // the message is stored before the status is checked
    if let Some(Value::String(text)) = message {
        s.store_status_text(&target, text);
    }
    let Some(Value::String(status)) = status else {
        return reply(StatusCode::OK, json!({"success": true}));
    };
    if status.is_empty() {
        // `if (this.bodyParams.status)`: an empty status sets nothing
        return reply(StatusCode::OK, json!({"success": true}));
    }
    if !["online", "away", "offline", "busy"].contains(&status.as_str()) {
        return meteor_error(
            "error-invalid-status",
            "Valid status types include online, away, offline, and busy.",
        );
    }
    if status == "offline" && !s.invisible_allowed {
        return meteor_error("error-status-not-allowed", "Invisible status is disabled");
    }
    // a timed status returns to the status before the first timed one; an untimed one ends
    // the timer
    let previous = match s.timed.remove(&target) {
        Some((_, previous)) => previous,
        None => s.user_status(&target).unwrap_or_default(),
    };
    if let Some(at) = expires_at {
        s.timed.insert(target.clone(), (at, previous));
    }
    let changed = s.store_user_status(&target, status);
    if changed {
        state.changed();
    }
    match s.status_expires_at(&target) {
        Some(at) => reply(
            StatusCode::OK,
            json!({"success": true, "statusExpiresAt": at}),
        ),
        None => reply(StatusCode::OK, json!({"success": true})),
    }
}

/// The checks of the manager-only endpoints, in the server's order: a known caller (401), a
/// valid user `kind` where the route has one (400), the manager role (403).
fn admit_manager(s: &Inner, headers: &HeaderMap, kind: Option<&str>) -> Result<(), Response> {
    let me = caller(s, headers).ok_or_else(unauthorized)?;
    if let Some(kind) = kind {
        check_kind(kind)?;
    }
    if me.manager { Ok(()) } else { Err(forbidden()) }
}

fn check_kind(kind: &str) -> Result<(), Response> {
    if kind == "agent" || kind == "manager" {
        Ok(())
    } else {
        Err(failure("Invalid type", None))
    }
}

async fn list_users(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let mut s = state.lock();
    s.expire();
    if let Err(r) = admit_manager(&s, &headers, Some(&kind)) {
        return r;
    }
    let only_available = q.get("onlyAvailable").is_some_and(|v| v == "true");
    let offset: usize = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
    let count: usize = q.get("count").and_then(|v| v.parse().ok()).unwrap_or(50);
    let all: Vec<&Agent> = if kind == "agent" {
        s.agents
            .values()
            .filter(|a| !only_available || a.status_livechat == "available")
            .collect()
    } else {
        Vec::new()
    };
    let total = all.len();
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(count)
        .map(|a| a.json())
        .collect();
    if s.churn && kind == "agent" && offset == 0 {
        // someone joins or leaves while the pages are read: the later pages shift
        if s.agents.remove(CHURN_AGENT).is_none() {
            s.add_churn_agent();
        }
    }
    reply(
        StatusCode::OK,
        json!({"users": page, "count": page.len(), "offset": offset, "total": total, "success": true}),
    )
}

async fn get_user(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
) -> Response {
    let mut s = state.lock();
    s.expire();
    if let Err(r) = admit_manager(&s, &headers, Some(&kind)) {
        return r;
    }
    match s.agents.get(&id) {
        Some(a) if kind == "agent" => {
            reply(StatusCode::OK, json!({"user": a.json(), "success": true}))
        }
        Some(_) => reply(StatusCode::OK, json!({"user": null, "success": true})),
        None if s.users.iter().any(|u| u.user_id == id) => {
            reply(StatusCode::OK, json!({"user": null, "success": true}))
        }
        None => failure("User not found", None),
    }
}

async fn available_agents(State(state): State<Shared<Inner>>, headers: HeaderMap) -> Response {
    let mut s = state.lock();
    s.expire();
    if let Err(r) = admit_manager(&s, &headers, None) {
        return r;
    }
    let agents: Vec<Value> = s
        .agents
        .values()
        .filter(|a| a.status_livechat == "available")
        .map(Agent::json)
        .collect();
    reply(
        StatusCode::OK,
        json!({"agents": agents, "offset": 0, "count": agents.len(), "total": agents.len(), "success": true}),
    )
}

/// `_updatedAt`s kept per user for a replica's delta ([`Inner::updated_as_of`]).
const UPDATES_KEPT: usize = 64;

/// `GET /api/v1/users.presence` as apps/meteor/app/api/server/v1/users.ts answers it. Given a
/// [`Behind`](agentstatus_fakes::Behind) (stale answers on: a read replica that far behind),
/// the delta (`from`) is computed from the snapshot the replica has: the users whose
/// `_updatedAt` then was at or after `from` (a user updated since shows as it is now: the
/// adapter reads each one's livechat status anyway), and the answer says so.
async fn users_presence(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
    behind: Option<agentstatus_fakes::axum::Extension<agentstatus_fakes::Behind>>,
) -> Response {
    let mut s = state.lock();
    s.expire();
    let Some(me) = caller(&s, &headers) else {
        return unauthorized();
    };
    let answer = |users: Vec<Value>, full: bool| {
        reply(
            StatusCode::OK,
            json!({"users": users, "full": full, "success": true}),
        )
    };
    if s.presence_broadcast_disabled {
        return answer(Vec::new(), true);
    }
    // the projection: no statusLivechat
    let user = |a: &Agent| {
        let mut u = json!({"_id": a.id, "username": a.username, "name": a.name,
               "status": a.status, "utcOffset": 0, "statusText": a.status_text});
        if let Some(at) = s.status_expires_at(&a.id) {
            u["statusExpiresAt"] = json!(at);
        }
        u
    };
    let not_offline = |a: &&Agent| a.status != "offline";
    if let Some(ids) = q.get("ids") {
        let ids: Vec<&str> = ids.split(',').collect();
        let users = s
            .agents
            .values()
            .filter(|a| ids.contains(&a.id.as_str()))
            .filter(not_offline)
            .map(user)
            .collect();
        return answer(users, false);
    }
    // `new Date(from)`: an unreadable date is NaN, and NaN < 10 is false
    let from = q
        .get("from")
        .and_then(|f| DateTime::parse_from_rfc3339(f).ok())
        .map(|f| f.with_timezone(&Utc));
    if let Some(from) =
        from.filter(|f| (now() + s.server_skew - *f) < chrono::TimeDelta::minutes(10))
    {
        let Some(agentstatus_fakes::axum::Extension(behind)) = behind else {
            let users = s
                .agents
                .values()
                .filter(|a| a.id != me.user_id)
                .filter(|a| s.updated.get(&a.id).is_some_and(|t| *t >= from))
                .map(user)
                .collect();
            return answer(users, false);
        };
        // a replica's snapshot, `behind` ago by the server's clock
        let snapshot = now() + s.server_skew
            - chrono::TimeDelta::from_std(behind.0).unwrap_or_default();
        let users = s
            .agents
            .values()
            .filter(|a| a.id != me.user_id)
            .filter(|a| s.updated_as_of(&a.id, snapshot).is_some_and(|t| t >= from))
            .map(user)
            .collect();
        let mut r = answer(users, false);
        r.extensions_mut().insert(behind);
        return r;
    }
    answer(
        s.agents.values().filter(not_offline).map(user).collect(),
        true,
    )
}

/// For `agentstatus fake` (through the registry): the agents as livechat agents, and an API user
/// `agentstatus-fake`, a manager with `edit-other-user-info` (an administrator: it may set the
/// agents' user status), whose token is the `token` secret.
impl Seeded for RocketChat {
    fn status(availability: Availability) -> Option<&'static str> {
        match availability {
            Availability::Available => Some("available"),
            Availability::Offline => Some("not-available"),
            _ => None,
        }
    }

    async fn seeded(agents: Vec<Seed>, secrets: Secrets) -> Result<(Self, Settings), String> {
        let fake = Self::start().await.map_err(|e| e.to_string())?;
        let token = secrets.get("token").cloned().unwrap_or_default();
        // an administrator, as a sync service's token is: it may edit other users and bypasses
        // the REST API rate limiter
        fake.add_user("agentstatus-fake", &token, true);
        fake.grant_edit_other_user_info("agentstatus-fake");
        fake.bypass_rate_limit("agentstatus-fake");
        for s in agents {
            fake.add_agent(Agent::new(&s.id, &s.name, s.status));
        }
        Ok((fake, vec![("user_id", json!("agentstatus-fake"))]))
    }
}

/// This fake for the registry (the `agentstatus` facade's `seeder("rocketchat")`).
pub const SEEDER: Seeder = Seeder::of::<RocketChat>();
