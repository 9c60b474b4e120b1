//! A fake Zulip server, behaving like the server's code (not like its document): see
//! `specs/zulip/NOTES.md`, "Fake server behaviour". In short:
//!
//! - auth: HTTP Basic with a user's e-mail and API key (the fake's URL is the API root, as
//!   `https://example.zulipchat.com/api/v1` is); anything else is 401 `UNAUTHORIZED` with the
//!   server's message ("Invalid API key", "Malformed API key", "Account is deactivated", "This
//!   organization has been deactivated", ...) in Zulip's error body `{"result": "error", "msg",
//!   "code"}` and `WWW-Authenticate: Basic realm="zulip"`, or 400 for a scheme other than Basic;
//! - presence as the server keeps it: each user's `last_active_time` and `last_connected_time`;
//!   `POST /users/me/presence` (`active` or `idle`, the caller's own presence only) moves them
//!   as `do_update_user_presence` does (a timestamp moves only when 55 s newer), and is ignored
//!   for a user whose `presence_enabled` is off (invisible mode);
//! - reads in the legacy format: `active` when `last_active_time + 70 s >= last_connected_time`,
//!   else `idle`; `GET /users/{id}/presence` says `offline` when that timestamp is older than
//!   the offline threshold (200 s, the server's `OFFLINE_THRESHOLD_SECS`);
//! - `POST /users/me/status`: status text and emoji, and the deprecated `away`, which sets
//!   `presence_enabled` to its opposite: going invisible replaces the presence with one 320 s
//!   old (offline to everyone), coming back makes the user active now;
//! - the event queue: `POST /register` (event types `presence`, `user_status`, `heartbeat`;
//!   the initial state of `presence`, `user_status`, `realm_user`), long-poll `GET /events`
//!   (`last_event_id` acknowledges, `dont_block`, a `heartbeat` after [`Zulip::set_heartbeat`]),
//!   `DELETE /events`; a queue no request has waited on for [`Zulip::set_queue_timeout`]
//!   (the server's 10 minutes by default) is gone: `BAD_EVENT_QUEUE_ID`;
//! - a `presence` event when a user comes online (active after 130 s without activity) or
//!   changes invisible mode, a `user_status` event for every status change; going idle or
//!   offline by the passing of time sends none (the server's clients work it out); in a realm of
//!   more than [`USER_LIMIT_FOR_SENDING_PRESENCE_UPDATE_EVENTS`] (100) active users, only the
//!   forced ones (invisible mode) are sent;
//! - [`Zulip::restart`]: a `restart` event, with the feature level after the restart, in every
//!   queue registered for it; the queues survive, as the server's do.

// Handlers bail out early with a ready `Response`; its size does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentstatus_fakes::axum::Router;
use agentstatus_fakes::axum::body::Bytes;
use agentstatus_fakes::axum::extract::{Path, Query, State};
use agentstatus_fakes::axum::http::{HeaderMap, StatusCode};
use agentstatus_fakes::axum::response::Response;
use agentstatus_fakes::axum::routing::{get, post};
use agentstatus_fakes::seed::{Availability, Secrets, Seed, Seeded, Seeder, Settings};
use agentstatus_fakes::serde_json::{Map, Value, json};
use agentstatus_fakes::{Fake, Shared, json as reply};

/// `OFFLINE_THRESHOLD_SECS` (zproject/default_settings.py): older presence is offline.
pub const OFFLINE_THRESHOLD_SECS: i64 = 200;
/// `PRESENCE_PING_INTERVAL_SECS`: how often clients ping.
pub const PRESENCE_PING_INTERVAL_SECS: i64 = 60;
/// `PRESENCE_UPDATE_MIN_FREQ_SECONDS`: a timestamp moves only when this much newer.
pub const PRESENCE_UPDATE_MIN_FREQ_SECONDS: i64 = 55;
/// `PRESENCE_LEGACY_EVENT_OFFSET_FOR_ACTIVITY_SECONDS`: active this long after the last
/// activity, in the legacy format.
pub const LEGACY_ACTIVITY_OFFSET_SECS: i64 = 70;
/// `DEFAULT_EVENT_QUEUE_TIMEOUT_SECS` (zerver/tornado/event_queue.py): 10 minutes.
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(600);
/// `HEARTBEAT_MIN_FREQ_SECS` (the server adds 0-10 s at random).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(45);
/// The feature level the fake answers with (the document's newest), until [`Zulip::restart`]
/// says another.
pub const FEATURE_LEVEL: i64 = 378;
/// `USER_LIMIT_FOR_SENDING_PRESENCE_UPDATE_EVENTS` (zproject/default_settings.py):
/// `send_presence_changed` (zerver/actions/presence.py) sends no `presence` event in a realm with
/// more active users than this, unless the change is forced (invisible mode).
pub const USER_LIMIT_FOR_SENDING_PRESENCE_UPDATE_EVENTS: usize = 100;

/// A user of the fake server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Zulip's numeric user id.
    pub user_id: i64,
    /// The name shown.
    pub full_name: String,
    /// The login e-mail (the Basic username).
    pub email: String,
    /// The API key (the Basic password).
    pub api_key: String,
    /// A bot (presence is not supported for bots).
    pub is_bot: bool,
    /// Not deactivated.
    pub is_active: bool,
    /// The `presence_enabled` setting: off is invisible mode (`away` in the user status).
    pub presence_enabled: bool,
    /// `last_active_time`, seconds since the epoch (`None`: never active).
    pub last_active: Option<i64>,
    /// `last_connected_time`, seconds since the epoch (`None` with `last_active`: no presence
    /// row at all).
    pub last_connected: Option<i64>,
    /// The status text (at most 60 characters).
    pub status_text: String,
    /// The status emoji's name.
    pub emoji_name: String,
    /// The status emoji's code.
    pub emoji_code: String,
    /// `unicode_emoji`, `realm_emoji` or `zulip_extra_emoji`.
    pub reaction_type: String,
    /// A `UserStatus` row exists (set once through `POST /users/me/status`).
    pub has_status: bool,
}

impl User {
    /// An active human user `name` (`Ada Lovelace`: `ada@zulip.example`) with `api_key`, no
    /// presence yet.
    pub fn new(user_id: i64, name: &str, api_key: &str) -> Self {
        let first = name.split_whitespace().next().unwrap_or("user").to_lowercase();
        Self {
            user_id,
            full_name: name.into(),
            email: format!("{first}@zulip.example"),
            api_key: api_key.into(),
            is_bot: false,
            is_active: true,
            presence_enabled: true,
            last_active: None,
            last_connected: None,
            status_text: String::new(),
            emoji_name: String::new(),
            emoji_code: String::new(),
            reaction_type: String::new(),
            has_status: false,
        }
    }

    /// The legacy presence (`format_legacy_presence_dict`): `(status, timestamp)`, or `None`
    /// without a presence row. A missing `last_active_time` reads as long ago (the server uses
    /// the date the user joined).
    fn legacy(&self) -> Option<(&'static str, i64)> {
        let connected = self.last_connected?;
        let active = self.last_active.unwrap_or(0);
        if active + LEGACY_ACTIVITY_OFFSET_SECS >= connected {
            Some(("active", active))
        } else {
            Some(("idle", connected))
        }
    }

    /// What other users see: `active`, `idle` or `offline`, and invisible mode.
    fn shown(&self, now: i64) -> (&'static str, bool) {
        let word = match self.legacy() {
            Some((_, t)) if now - t > OFFLINE_THRESHOLD_SECS => "offline",
            Some((s, _)) => s,
            None => "offline",
        };
        (word, !self.presence_enabled)
    }

    fn json(&self) -> Value {
        json!({
            "user_id": self.user_id, "email": self.email, "full_name": self.full_name,
            "is_active": self.is_active, "is_bot": self.is_bot, "is_admin": false,
            "is_owner": false, "is_guest": false, "role": 400, "timezone": "",
            "date_joined": "2024-01-01T00:00:00+00:00", "avatar_url": null,
            "delivery_email": null, "bot_type": null, "bot_owner_id": null,
        })
    }

    /// As `GET /users/me` answers it (the document's own-user fields).
    fn own_json(&self) -> Value {
        json!({
            "user_id": self.user_id, "email": self.email, "full_name": self.full_name,
            "is_active": self.is_active, "is_bot": self.is_bot, "is_admin": false,
            "is_owner": false, "is_guest": false, "role": 400, "timezone": "",
            "date_joined": "2024-01-01T00:00:00+00:00", "avatar_url": null,
            "delivery_email": null,
        })
    }

    /// `format_user_status`: what is set, `away` only when invisible.
    fn status_json(&self) -> Value {
        let mut out = Map::new();
        if !self.has_status && self.presence_enabled {
            return Value::Object(out);
        }
        if !self.presence_enabled {
            out.insert("away".into(), Value::Bool(true));
        }
        if !self.status_text.is_empty() {
            out.insert("status_text".into(), self.status_text.clone().into());
        }
        if !self.emoji_name.is_empty() {
            out.insert("emoji_name".into(), self.emoji_name.clone().into());
            out.insert("emoji_code".into(), self.emoji_code.clone().into());
            out.insert("reaction_type".into(), self.reaction_type.clone().into());
        }
        Value::Object(out)
    }

    /// The legacy presence dict, as `GET /realm/presence` and the events send it.
    fn legacy_json(&self) -> Option<Value> {
        let (status, timestamp) = self.legacy()?;
        Some(json!({"client": "website", "status": status, "timestamp": timestamp, "pushable": false}))
    }
}

/// An event queue (`ClientDescriptor` + `EventQueue`).
#[derive(Debug)]
struct Queue {
    user_id: i64,
    /// `None`: every event type.
    event_types: Option<Vec<String>>,
    events: VecDeque<Value>,
    next_event_id: i64,
    newest_pruned_id: i64,
    /// When a request last started waiting on it (or it was made).
    last_connection: Instant,
    /// A request is waiting on it now (a queue in use never expires).
    waiting: bool,
}

impl Queue {
    fn accepts(&self, kind: &str) -> bool {
        self.event_types
            .as_ref()
            .is_none_or(|t| t.iter().any(|k| k == kind))
    }

    fn push(&mut self, mut event: Value) {
        if let Value::Object(o) = &mut event {
            o.insert("id".into(), self.next_event_id.into());
        }
        self.next_event_id += 1;
        self.events.push_back(event);
    }
}

#[derive(Debug)]
struct Inner {
    users: BTreeMap<i64, User>,
    /// Seconds added to the system clock (tests move time forward).
    offset: i64,
    queues: BTreeMap<String, Queue>,
    queues_made: u64,
    queue_timeout: Duration,
    heartbeat: Duration,
    /// Wakes the requests waiting on a queue.
    wake: Arc<tokio::sync::Notify>,
    /// Every event sent, in order (the type and the user).
    sent: Vec<(String, i64)>,
    /// The API feature level `/register` and `restart` events say.
    feature_level: i64,
    /// `settings.SERVER_GENERATION`: when the server (last) started, in seconds.
    server_generation: i64,
    /// The realm is deactivated (`Realm.deactivated`): every request is refused.
    realm_deactivated: bool,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            users: BTreeMap::new(),
            offset: 0,
            queues: BTreeMap::new(),
            queues_made: 0,
            queue_timeout: DEFAULT_QUEUE_TIMEOUT,
            heartbeat: DEFAULT_HEARTBEAT,
            wake: Arc::new(tokio::sync::Notify::new()),
            sent: Vec::new(),
            feature_level: FEATURE_LEVEL,
            server_generation: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
            realm_deactivated: false,
        }
    }
}

impl Inner {
    fn now(&self) -> i64 {
        let system = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        system + self.offset
    }

    fn now_float(&self) -> f64 {
        let system = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        system + self.offset as f64
    }

    /// The garbage collection of `gc_event_queues`: a queue nobody waits on, idle for the
    /// timeout, is gone.
    fn collect(&mut self) {
        let timeout = self.queue_timeout;
        self.queues
            .retain(|_, q| q.waiting || q.last_connection.elapsed() < timeout);
    }

    fn send(&mut self, event: Value) {
        let kind = event["type"].as_str().unwrap_or_default().to_string();
        let user = event["user_id"].as_i64().unwrap_or_default();
        self.sent.push((kind.clone(), user));
        self.collect();
        for q in self.queues.values_mut() {
            if q.accepts(&kind) {
                q.push(event.clone());
            }
        }
        self.wake.notify_waiters();
    }

    /// `send_presence_changed`: a `presence` event for `id`, unless the realm has more than
    /// [`USER_LIMIT_FOR_SENDING_PRESENCE_UPDATE_EVENTS`] active users (`active_user_ids`, bots
    /// included) and the update is not forced.
    fn presence_event(&mut self, id: i64, force: bool) {
        let active = self.users.values().filter(|u| u.is_active).count();
        if active > USER_LIMIT_FOR_SENDING_PRESENCE_UPDATE_EVENTS && !force {
            return;
        }
        let now = self.now_float();
        let Some(u) = self.users.get(&id) else { return };
        let Some(dict) = u.legacy_json() else { return };
        let event = json!({
            "type": "presence", "email": u.email, "user_id": u.user_id,
            "server_timestamp": now, "presence": {"website": dict},
        });
        self.send(event);
    }

    /// `do_update_user_presence`: whether a presence event is owed.
    fn update_presence(&mut self, id: i64, at: i64, active: bool, force: bool) -> bool {
        let Some(u) = self.users.get_mut(&id) else {
            return false;
        };
        let creating = u.last_connected.is_none();
        let since_active = u.last_active.map_or(86_400, |t| at - t);
        let since_connected = u.last_connected.map_or(86_400, |t| at - t);
        let now_online =
            since_active > OFFLINE_THRESHOLD_SECS - PRESENCE_PING_INTERVAL_SECS - 10;
        let became_online = active && now_online;
        if creating {
            u.last_connected = Some(at);
            u.last_active = active.then_some(at);
        } else {
            if since_connected > PRESENCE_UPDATE_MIN_FREQ_SECONDS {
                u.last_connected = Some(at);
            }
            if active && since_active > PRESENCE_UPDATE_MIN_FREQ_SECONDS {
                u.last_active = Some(at);
                if u.last_connected.is_none_or(|c| at > c) {
                    u.last_connected = Some(at);
                }
            }
        }
        force || creating || became_online
    }

    /// The `presence_enabled` setting changed (`do_change_user_setting`).
    fn set_presence_enabled(&mut self, id: i64, enabled: bool) {
        let now = self.now();
        let Some(u) = self.users.get_mut(&id) else { return };
        if u.presence_enabled == enabled {
            return;
        }
        u.presence_enabled = enabled;
        if enabled {
            self.update_presence(id, now, true, true);
        } else {
            // the presence row is replaced by one old enough to read as offline
            u.last_active = None;
            u.last_connected = None;
            self.update_presence(id, now - OFFLINE_THRESHOLD_SECS - 120, false, true);
        }
        self.presence_event(id, true);
    }

    fn shown(&self, id: i64) -> Option<(&'static str, bool, String)> {
        let now = self.now();
        self.users.get(&id).map(|u| {
            let (w, inv) = u.shown(now);
            (w, inv, u.status_json().to_string())
        })
    }
}

agentstatus_fakes::fake! {
    /// A running fake Zulip server on 127.0.0.1 ([`FakeServer`]: `url()`, `faults()`, and
    /// `state_changes()`, the times what other users see of someone changed).
    ///
    /// [`FakeServer`]: agentstatus_fakes::FakeServer
    pub struct Zulip(Inner);
}

/// Zulip's error body (`JsonableError`): 400 unless said otherwise.
fn error(status: StatusCode, code: &str, msg: &str) -> Response {
    reply(status, json!({"result": "error", "msg": msg, "code": code}))
}

fn bad_request(msg: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "BAD_REQUEST", msg)
}

fn success(mut data: Map<String, Value>) -> Response {
    data.insert("result".into(), "success".into());
    data.insert("msg".into(), "".into());
    reply(StatusCode::OK, Value::Object(data))
}

fn bad_queue(queue_id: &str) -> Response {
    reply(
        StatusCode::BAD_REQUEST,
        json!({
            "result": "error", "msg": format!("Bad event queue ID: {queue_id}"),
            "code": "BAD_EVENT_QUEUE_ID", "queue_id": queue_id,
        }),
    )
}

impl Zulip {
    /// Start the fake with no users.
    pub async fn start() -> std::io::Result<Self> {
        let routes = Router::new()
            .route("/users", get(list_users))
            .route("/users/me", get(own_user))
            .route("/users/me/presence", post(update_presence))
            .route("/users/me/status", post(update_status))
            .route("/users/{user}", get(get_user))
            .route("/users/{user}/presence", get(user_presence))
            .route("/users/{user}/status", get(user_status))
            .route("/realm/presence", get(realm_presence))
            .route("/register", post(register))
            .route("/events", get(get_events).delete(delete_queue));
        Fake::start(Inner::default(), routes).await.map(Self)
    }

    /// Add a user (or replace the one with the same id).
    pub fn add_user(&self, user: User) {
        self.0.lock().users.insert(user.user_id, user);
    }

    /// The user with this id, as the fake stores it now.
    pub fn user(&self, id: i64) -> Option<User> {
        self.0.lock().users.get(&id).cloned()
    }

    /// What other users see of `id` now: `active`, `idle` or `offline`, and whether invisible.
    pub fn shown(&self, id: i64) -> Option<(&'static str, bool)> {
        self.0.lock().shown(id).map(|(w, i, _)| (w, i))
    }

    /// Move the fake's clock `secs` seconds forward (presence ages; queues do not).
    pub fn advance(&self, secs: i64) {
        self.0.lock().offset += secs;
    }

    /// The fake's clock, in seconds since the epoch.
    pub fn now(&self) -> i64 {
        self.0.lock().now()
    }

    /// How long a queue nobody waits on lives (default: the server's 10 minutes).
    pub fn set_queue_timeout(&self, timeout: Duration) {
        self.0.lock().queue_timeout = timeout;
    }

    /// How long a `GET /events` waits before answering with a `heartbeat` (default 45 s).
    pub fn set_heartbeat(&self, heartbeat: Duration) {
        self.0.lock().heartbeat = heartbeat;
    }

    /// The event queues alive now.
    pub fn queues(&self) -> usize {
        let mut s = self.0.lock();
        s.collect();
        s.queues.len()
    }

    /// The requests waiting on a queue now (long-polls without an event yet).
    pub fn waiting(&self) -> usize {
        self.0.lock().queues.values().filter(|q| q.waiting).count()
    }

    /// Every event sent so far: its type and user.
    pub fn events_sent(&self) -> Vec<(String, i64)> {
        self.0.lock().sent.clone()
    }

    /// The user's own client reports presence (`POST /users/me/presence` by that user):
    /// `active` or idle. Ignored in invisible mode, as the server does.
    pub fn ping(&self, id: i64, active: bool) {
        let shared = self.0.shared();
        let mut s = shared.lock();
        let before = s.shown(id);
        let enabled = s.users.get(&id).is_some_and(|u| u.presence_enabled);
        if !enabled {
            return;
        }
        let now = s.now();
        if s.update_presence(id, now, active, false) {
            s.presence_event(id, false);
        }
        if s.shown(id) != before {
            shared.changed();
        }
    }

    /// The server restarts (its Tornado process, as on every upgrade), now at `feature_level`
    /// (`None`: the same): as `setup_event_queue` does, the queues survive (`dump_event_queues`
    /// / `load_event_queues`), and each queue that accepts `restart` events (registered for
    /// them, or for every type) gets one (`send_restart_events`): `{"type": "restart",
    /// "zulip_version", "zulip_merge_base", "zulip_feature_level", "server_generation"}`.
    pub fn restart(&self, feature_level: Option<i64>) {
        let mut s = self.0.lock();
        if let Some(level) = feature_level {
            s.feature_level = level;
        }
        // a new generation, even within the same second as the last
        s.server_generation = s.now().max(s.server_generation + 1);
        let event = json!({
            "type": "restart", "zulip_version": "11.0-fake", "zulip_merge_base": "11.0-fake",
            "zulip_feature_level": s.feature_level, "server_generation": s.server_generation,
        });
        s.send(event);
    }

    /// The realm is deactivated (`do_deactivate_realm`): every request is refused with 401
    /// "This organization has been deactivated".
    pub fn deactivate_realm(&self) {
        self.0.lock().realm_deactivated = true;
    }

    /// The feature level the server says now.
    pub fn feature_level(&self) -> i64 {
        self.0.lock().feature_level
    }

    /// The ids of the event queues alive now, in order.
    pub fn queue_ids(&self) -> Vec<String> {
        let mut s = self.0.lock();
        s.collect();
        s.queues.keys().cloned().collect()
    }
}

/// For `agentstatus fake` (through the registry): each agent a user whose presence is as
/// Zulip shows an availability (`active` now, `idle`: connected but last active ten minutes
/// ago, `offline`: last seen an hour ago). The first user's API key is the `api_key` secret
/// (the others' are `<key>-2`, `<key>-3`, ...), and its e-mail is the `email` setting.
impl Seeded for Zulip {
    const NUMERIC_IDS: bool = true;

    fn status(availability: Availability) -> Option<&'static str> {
        match availability {
            Availability::Available => Some("active"),
            Availability::Away => Some("idle"),
            Availability::Offline => Some("offline"),
            _ => None,
        }
    }

    async fn seeded(agents: Vec<Seed>, secrets: Secrets) -> Result<(Self, Settings), String> {
        let key = secrets.get("api_key").cloned().unwrap_or_default();
        let mut users = Vec::new();
        for (i, s) in agents.iter().enumerate() {
            users.push((s.number()?, s.name.clone(), s.status, i + 1));
        }
        if users.is_empty() {
            users.push((1, "agentstatus fake".into(), "active", 1));
        }
        let fake = Self::start().await.map_err(|e| e.to_string())?;
        let mut email = String::new();
        for (id, name, status, n) in users {
            let user_key = if n == 1 {
                key.clone()
            } else {
                format!("{key}-{n}")
            };
            let mut user = User::new(id, &name, &user_key);
            user.email = format!("user{id}@zulip.example");
            if n == 1 {
                email = user.email.clone();
            }
            fake.add_user(user);
            fake.seed_presence(id, status);
        }
        Ok((fake, vec![("email", json!(email))]))
    }
}

impl Zulip {
    /// Give `id` the presence Zulip shows as `word` (`active`, `idle`, `offline`) now.
    pub fn seed_presence(&self, id: i64, word: &str) {
        let mut s = self.0.lock();
        let now = s.now();
        let Some(u) = s.users.get_mut(&id) else { return };
        let (active, connected) = match word {
            "active" => (now, now),
            "idle" => (now - 600, now),
            _ => (now - 3600, now - 3600),
        };
        u.last_active = Some(active);
        u.last_connected = Some(connected);
    }
}

/// A fake with users named `seeds` (ids 1, 2, ...; e-mails `user<id>@zulip.example`), each
/// with the presence Zulip shows as its availability (`active`, `idle` or `offline`). User
/// 1's API key is `api_key` (the others' are `<api_key>-2`, ...).
pub async fn seeded(seeds: &[(&str, Availability)], api_key: &str) -> std::io::Result<Zulip> {
    let fake = Zulip::start().await?;
    for (i, (name, availability)) in seeds.iter().enumerate() {
        let id = i as i64 + 1;
        let key = if id == 1 {
            api_key.to_string()
        } else {
            format!("{api_key}-{id}")
        };
        let mut user = User::new(id, name, &key);
        user.email = format!("user{id}@zulip.example");
        fake.add_user(user);
        let word = <Zulip as Seeded>::status(*availability).unwrap_or("offline");
        fake.seed_presence(id, word);
    }
    Ok(fake)
}

/// This fake for the registry (the `agentstatus` facade's `seeder("zulip")`).
pub const SEEDER: Seeder = Seeder::of::<Zulip>();

/// A 401 as `authenticated_rest_api_view` (zerver/decorator.py) answers it: every failure of
/// `get_basic_credentials` and `validate_api_key` is raised as `UnauthorizedError(msg)`
/// (zerver/lib/exceptions.py): code `UNAUTHORIZED`, the inner error's message, and
/// `WWW-Authenticate: Basic realm="zulip"`.
fn unauthorized(msg: &str) -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", msg);
    r.headers_mut().insert(
        "www-authenticate",
        agentstatus_fakes::axum::http::HeaderValue::from_static("Basic realm=\"zulip\""),
    );
    r
}

/// `has_api_key_format` (zerver/lib/utils.py): 32 ASCII letters and digits.
fn has_api_key_format(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The caller, from `Authorization: Basic base64(email:api_key)`, or the server's error, in the
/// server's order (specs/zulip/NOTES.md#authentication-errors): no header, a header that is not
/// two words or whose credentials are not base64 of exactly one `email:key` pair, a scheme other
/// than Basic (400), then `access_user_by_api_key` (the key's format, the user with that key,
/// the e-mail) and `validate_account_and_subdomain` (the realm, then the user, deactivated).
fn caller(s: &Inner, headers: &HeaderMap) -> Result<i64, Response> {
    use agentstatus_fakes::base64::Engine as _;
    let Some(value) = headers.get("authorization") else {
        // rest_dispatch: MissingAuthenticationError, answered as `json_unauthorized()`
        return Err(unauthorized(
            "Not logged in: API authentication or user session required",
        ));
    };
    let invalid = || unauthorized("Invalid authorization header for basic auth");
    let words: Vec<&str> = value
        .to_str()
        .map_err(|_| invalid())?
        .split_whitespace()
        .collect();
    let [scheme, credentials] = words[..] else {
        return Err(invalid());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        // a JsonableError inside the try, which catches only ValueError and KeyError: 400
        return Err(bad_request(
            "This endpoint requires HTTP basic authentication.",
        ));
    }
    let decoded = agentstatus_fakes::base64::engine::general_purpose::STANDARD
        .decode(credentials)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    // `role, api_key = ....split(":")`: exactly one colon
    let parts: Vec<&str> = decoded.split(':').collect();
    let [email, key] = parts[..] else {
        return Err(invalid());
    };
    // validate_api_key: "Remove whitespace to protect users from trivial errors."
    let (email, key) = (email.trim(), key.trim());
    let user = s.users.values().find(|u| !key.is_empty() && u.api_key == key);
    let Some(user) = user else {
        // The server checks the format first; the fake accepts its users' keys in any format
        // (tests use readable ones), so a key that is no user's is checked here.
        return Err(unauthorized(if has_api_key_format(key) {
            "Invalid API key"
        } else {
            "Malformed API key"
        }));
    };
    if !user.email.eq_ignore_ascii_case(email) {
        return Err(unauthorized("Invalid API key"));
    }
    if s.realm_deactivated {
        return Err(unauthorized("This organization has been deactivated"));
    }
    if !user.is_active {
        return Err(unauthorized("Account is deactivated"));
    }
    Ok(user.user_id)
}

fn session<'a>(
    state: &'a Shared<Inner>,
    headers: &HeaderMap,
) -> Result<(std::sync::MutexGuard<'a, Inner>, i64), Response> {
    let s = state.lock();
    let me = caller(&s, headers)?;
    Ok((s, me))
}

/// A form body's fields (`application/x-www-form-urlencoded`).
fn form(body: &[u8]) -> BTreeMap<String, String> {
    agentstatus_fakes::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A `Json[bool]` parameter: `true`/`false`, else the server's 400.
fn json_bool(f: &BTreeMap<String, String>, key: &str) -> Result<Option<bool>, Response> {
    match f.get(key).map(String::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(bad_request(&format!("{key} is not valid JSON"))),
    }
}

/// A `Json[list[str]]` parameter.
fn json_list(f: &BTreeMap<String, String>, key: &str) -> Result<Option<Vec<String>>, Response> {
    match f.get(key) {
        None => Ok(None),
        Some(text) => agentstatus_fakes::serde_json::from_str::<Vec<String>>(text)
            .map(Some)
            .map_err(|_| bad_request(&format!("{key} is not a list"))),
    }
}

async fn list_users(State(state): State<Shared<Inner>>, headers: HeaderMap) -> Response {
    let (s, _) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let members: Vec<Value> = s.users.values().map(User::json).collect();
    let mut data = Map::new();
    data.insert("members".into(), Value::Array(members));
    success(data)
}

async fn own_user(State(state): State<Shared<Inner>>, headers: HeaderMap) -> Response {
    let (s, me) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(Value::Object(user)) = s.users.get(&me).map(User::own_json) else {
        return bad_request("No such user");
    };
    success(user)
}

/// `access_user_by_id`: an active user of the realm, else 400 "No such user".
fn target<'a>(s: &'a Inner, id: &str) -> Result<&'a User, Response> {
    id.parse::<i64>()
        .ok()
        .and_then(|id| s.users.get(&id))
        .filter(|u| u.is_active)
        .ok_or_else(|| bad_request("No such user"))
}

async fn get_user(
    State(state): State<Shared<Inner>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (s, _) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match target(&s, &user_id) {
        Ok(u) => {
            let mut data = Map::new();
            data.insert("user".into(), u.json());
            success(data)
        }
        Err(r) => r,
    }
}

async fn user_status(
    State(state): State<Shared<Inner>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (s, _) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match target(&s, &user_id) {
        Ok(u) if u.is_bot => bad_request("No such user"),
        Ok(u) => {
            let mut data = Map::new();
            data.insert("status".into(), u.status_json());
            success(data)
        }
        Err(r) => r,
    }
}

/// `get_presence_backend`: by id or e-mail, the legacy format, `offline` past the threshold.
async fn user_presence(
    State(state): State<Shared<Inner>>,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (s, _) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let found = match user.parse::<i64>() {
        Ok(id) => s.users.get(&id),
        Err(_) => s
            .users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(&user)),
    };
    let Some(u) = found.filter(|u| u.is_active) else {
        return bad_request("No such user");
    };
    if u.is_bot {
        return bad_request("Presence is not supported for bot users.");
    }
    let Some((status, timestamp)) = u.legacy() else {
        return bad_request(&format!("No presence data for {user}"));
    };
    let aggregated = if s.now() - timestamp > OFFLINE_THRESHOLD_SECS {
        "offline"
    } else {
        status
    };
    let mut data = Map::new();
    data.insert(
        "presence".into(),
        json!({
            "aggregated": {"status": aggregated, "timestamp": timestamp},
            "website": {"status": status, "timestamp": timestamp},
        }),
    );
    success(data)
}

/// The realm's presence in the legacy format, keyed by e-mail (`get_presence_dict_by_realm`:
/// active humans connected in the last two weeks).
fn realm_presences(s: &Inner) -> Map<String, Value> {
    let two_weeks = s.now() - 14 * 86_400;
    let mut out = Map::new();
    for u in s.users.values() {
        if !u.is_active || u.is_bot || u.last_connected.is_none_or(|c| c < two_weeks) {
            continue;
        }
        let Some(dict) = u.legacy_json() else { continue };
        let aggregated = json!({"client": dict["client"], "status": dict["status"], "timestamp": dict["timestamp"]});
        out.insert(u.email.clone(), json!({"aggregated": aggregated, "website": dict}));
    }
    out
}

async fn realm_presence(State(state): State<Shared<Inner>>, headers: HeaderMap) -> Response {
    let (s, _) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut data = Map::new();
    data.insert("presences".into(), Value::Object(realm_presences(&s)));
    data.insert("server_timestamp".into(), s.now_float().into());
    success(data)
}

/// `update_active_status_backend`: the caller's own presence.
async fn update_presence(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut s, me) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if s.users.get(&me).is_some_and(|u| u.is_bot) {
        return bad_request("This endpoint does not accept bot requests.");
    }
    let f = form(&body);
    let Some(status) = f.get("status") else {
        return bad_request("Missing 'status' argument");
    };
    let active = match status.as_str() {
        "active" => true,
        "idle" => false,
        other => return bad_request(&format!("Invalid status: {other}")),
    };
    let ping_only = match json_bool(&f, "ping_only") {
        Ok(v) => v.unwrap_or(false),
        Err(r) => return r,
    };
    let before = s.shown(me);
    if s.users.get(&me).is_some_and(|u| u.presence_enabled) {
        let now = s.now();
        if s.update_presence(me, now, active, false) {
            s.presence_event(me, false);
        }
    }
    if s.shown(me) != before {
        state.changed();
    }
    let mut data = Map::new();
    if !ping_only {
        data.insert("presences".into(), Value::Object(realm_presences(&s)));
        data.insert("server_timestamp".into(), s.now_float().into());
    }
    success(data)
}

/// `update_user_status_backend`: the caller's own status.
async fn update_status(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut s, me) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if s.users.get(&me).is_some_and(|u| u.is_bot) {
        return bad_request("This endpoint does not accept bot requests.");
    }
    let f = form(&body);
    let away = match json_bool(&f, "away") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let text = f.get("status_text").map(|t| t.trim().to_string());
    let emoji = f.get("emoji_name").cloned();
    if away.is_none() && text.is_none() && emoji.is_none() {
        return bad_request("Client did not pass any new values.");
    }
    if text.as_ref().is_some_and(|t| t.chars().count() > 60) {
        return bad_request("status_text is too long (limit: 60 characters)");
    }
    let before = s.shown(me);
    if let Some(away) = away {
        s.set_presence_enabled(me, !away);
    }
    let Some(u) = s.users.get_mut(&me) else {
        return bad_request("No such user");
    };
    u.has_status = true;
    let mut event = json!({"type": "user_status", "user_id": me});
    if let Some(away) = away {
        event["away"] = away.into();
    }
    if let Some(text) = text {
        u.status_text = text.clone();
        event["status_text"] = text.into();
    }
    if let Some(name) = emoji {
        let code = f.get("emoji_code").cloned().unwrap_or_default();
        let kind = f
            .get("reaction_type")
            .cloned()
            .unwrap_or_else(|| "unicode_emoji".into());
        u.emoji_name = name.clone();
        u.emoji_code = if name.is_empty() { String::new() } else { code };
        u.reaction_type = if name.is_empty() { String::new() } else { kind };
        event["emoji_name"] = name.into();
        event["emoji_code"] = u.emoji_code.clone().into();
        event["reaction_type"] = u.reaction_type.clone().into();
    }
    s.send(event);
    if s.shown(me) != before {
        state.changed();
    }
    success(Map::new())
}

/// `POST /register`: a queue for the event types asked (every type without `event_types`), and
/// the initial state of `fetch_event_types` (else of the event types).
async fn register(State(state): State<Shared<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let (mut s, me) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let f = form(&body);
    let event_types = match json_list(&f, "event_types") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let fetch = match json_list(&f, "fetch_event_types") {
        Ok(v) => v.or_else(|| event_types.clone()),
        Err(r) => return r,
    };
    let slim = match json_bool(&f, "slim_presence") {
        Ok(v) => v.unwrap_or(false),
        Err(r) => return r,
    };
    s.collect();
    s.queues_made += 1;
    let queue_id = format!("fake-queue-{:04}", s.queues_made);
    let queue = Queue {
        user_id: me,
        event_types,
        events: VecDeque::new(),
        next_event_id: 0,
        newest_pruned_id: -1,
        last_connection: Instant::now(),
        waiting: false,
    };
    s.queues.insert(queue_id.clone(), queue);
    let wants = |k: &str| fetch.as_ref().is_none_or(|f| f.iter().any(|x| x == k));
    let mut data = Map::new();
    data.insert("queue_id".into(), queue_id.into());
    data.insert("last_event_id".into(), (-1).into());
    data.insert("zulip_version".into(), "11.0-fake".into());
    data.insert("zulip_feature_level".into(), s.feature_level.into());
    data.insert("zulip_merge_base".into(), "11.0-fake".into());
    data.insert("event_queue_longpoll_timeout_seconds".into(), 90.into());
    if wants("presence") {
        let presences = if slim {
            let mut out = Map::new();
            for u in s.users.values().filter(|u| u.is_active && !u.is_bot) {
                if let (Some(c), a) = (u.last_connected, u.last_active) {
                    out.insert(
                        u.user_id.to_string(),
                        json!({"active_timestamp": a.unwrap_or(0), "idle_timestamp": c}),
                    );
                }
            }
            out
        } else {
            realm_presences(&s)
        };
        data.insert("presences".into(), Value::Object(presences));
        data.insert("server_timestamp".into(), s.now_float().into());
        data.insert(
            "server_presence_ping_interval_seconds".into(),
            PRESENCE_PING_INTERVAL_SECS.into(),
        );
        data.insert(
            "server_presence_offline_threshold_seconds".into(),
            OFFLINE_THRESHOLD_SECS.into(),
        );
    }
    if wants("user_status") {
        let mut out = Map::new();
        for u in s.users.values().filter(|u| u.is_active && !u.is_bot) {
            let status = u.status_json();
            if status.as_object().is_some_and(|o| !o.is_empty()) {
                out.insert(u.user_id.to_string(), status);
            }
        }
        data.insert("user_status".into(), Value::Object(out));
    }
    if wants("realm_user") {
        let users: Vec<Value> = s.users.values().filter(|u| u.is_active).map(User::json).collect();
        data.insert("realm_users".into(), Value::Array(users));
    }
    success(data)
}

#[derive(Debug, serde::Deserialize)]
struct EventsQuery {
    #[serde(default)]
    queue_id: Option<String>,
    #[serde(default)]
    last_event_id: Option<String>,
    #[serde(default)]
    dont_block: Option<String>,
}

/// Marks the queue as no longer waited on when the request ends (answered or dropped).
struct Waiting {
    state: Shared<Inner>,
    queue_id: String,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(q) = self.state.lock().queues.get_mut(&self.queue_id) {
            q.waiting = false;
        }
    }
}

/// `GET /events` (`fetch_events`): acknowledge up to `last_event_id`, answer at once when
/// events are queued (or with `dont_block`), else wait for one or for the heartbeat.
async fn get_events(
    State(state): State<Shared<Inner>>,
    Query(q): Query<EventsQuery>,
    headers: HeaderMap,
) -> Response {
    let dont_block = match q.dont_block.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return bad_request("dont_block is not valid JSON"),
    };
    let wake;
    let heartbeat;
    {
        let (mut s, me) = match session(&state, &headers) {
            Ok(x) => x,
            Err(r) => return r,
        };
        let Some(queue_id) = q.queue_id.as_deref() else {
            return bad_request("Missing 'queue_id' argument");
        };
        let Some(last) = q.last_event_id.as_deref() else {
            return bad_request("Missing 'last_event_id' argument");
        };
        let Ok(last) = last.parse::<i64>() else {
            return bad_request("last_event_id is not an integer");
        };
        s.collect();
        let Some(queue) = s.queues.get_mut(queue_id).filter(|q| q.user_id == me) else {
            return bad_queue(queue_id);
        };
        if last < queue.newest_pruned_id {
            return bad_request(&format!(
                "An event newer than {last} has already been pruned!"
            ));
        }
        while queue.events.front().is_some_and(|e| e["id"].as_i64() <= Some(last)) {
            queue.newest_pruned_id = queue.events.pop_front().map_or(-1, |e| e["id"].as_i64().unwrap_or(-1));
        }
        if queue.newest_pruned_id != last {
            return bad_request(&format!("Event {last} was not in this queue"));
        }
        if !queue.events.is_empty() || dont_block {
            let mut data = Map::new();
            data.insert("events".into(), Value::Array(queue.events.iter().cloned().collect()));
            return success(data);
        }
        queue.waiting = true;
        queue.last_connection = Instant::now();
        wake = s.wake.clone();
        heartbeat = s.heartbeat;
    }
    let queue_id = q.queue_id.unwrap_or_default();
    let _waiting = Waiting {
        state: state.clone(),
        queue_id: queue_id.clone(),
    };
    let until = tokio::time::Instant::now() + heartbeat;
    loop {
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut s = state.lock();
            let Some(queue) = s.queues.get_mut(&queue_id) else {
                return bad_queue(&queue_id);
            };
            if !queue.events.is_empty() {
                let mut data = Map::new();
                data.insert("events".into(), Value::Array(queue.events.iter().cloned().collect()));
                return success(data);
            }
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep_until(until) => {
                let mut s = state.lock();
                if let Some(queue) = s.queues.get_mut(&queue_id) {
                    queue.push(json!({"type": "heartbeat"}));
                }
                s.sent.push(("heartbeat".into(), 0));
            }
        }
    }
}

/// `DELETE /events` with `queue_id` in the form.
async fn delete_queue(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut s, me) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let f = form(&body);
    let Some(queue_id) = f.get("queue_id") else {
        return bad_request("Missing 'queue_id' argument");
    };
    s.collect();
    if s.queues.get(queue_id).is_none_or(|q| q.user_id != me) {
        return bad_queue(queue_id);
    }
    s.queues.remove(queue_id);
    success(Map::new())
}
