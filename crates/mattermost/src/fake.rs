//! A fake Mattermost server, behaving like the real one (not like its document): see
//! `specs/mattermost/NOTES.md`, "Fake server behaviour". In short:
//!
//! - auth: `Authorization: Bearer <token>` of a user; anything else is 401 in an AppError body;
//! - `GET /api/v4/users` (pages, `active`), `GET /api/v4/users/{user_id}` (404 for no such user);
//! - `GET /api/v4/users/{user_id}/status`: any session; a user without a status is `offline`;
//! - `PUT /api/v4/users/{user_id}/status` `{user_id, status, dnd_end_time?}`: the body's
//!   `user_id` must be the path's (400), the caller must be that user or have
//!   `edit_other_users` (a `system_admin`: 403 otherwise); `online` (manual off), `away` and
//!   `offline` (manual), `dnd` (manual, the previous status kept, `dnd_end_time` truncated to
//!   the minute); anything else 400;
//! - `POST /api/v4/users/status/ids`: an empty list or an id that is not 26 characters is 400;
//!   unknown ids come back `offline`;
//! - a timed DND that has ended goes back to the previous status, manual off (the server's
//!   minute job; here before every request and on [`Mattermost::advance`]);
//! - activity ([`Mattermost::activity`]) sets a user `online` unless their status is manual;
//! - every status change is queued as the websocket event `status_change`
//!   ([`Mattermost::events`]).

// Handlers bail out early with a ready `Response`; its size does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use agentstatus_fakes::axum::Router;
use agentstatus_fakes::axum::body::Bytes;
use agentstatus_fakes::axum::extract::{Path, Query, State};
use agentstatus_fakes::axum::http::{HeaderMap, StatusCode};
use agentstatus_fakes::axum::response::Response;
use agentstatus_fakes::axum::routing::{get, post};
use agentstatus_fakes::seed::{Availability, Secrets, Seed, Seeded, Seeder, Settings};
use agentstatus_fakes::serde_json::{Value, json};
pub use agentstatus_fakes::{Chaos, Fault, Faults};
use agentstatus_fakes::{Fake, Shared, json as reply};

/// The id of the `n`th seeded user: 26 lower-case letters and digits, as Mattermost's ids are.
pub fn user_id(n: usize) -> String {
    format!("u{n:025}")
}

/// A user of the fake server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// 26 characters.
    pub id: String,
    /// The login name.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// The bearer token of this user's session.
    pub token: String,
    /// `system_user`, or `system_admin system_user` (who has `edit_other_users`).
    pub roles: String,
    /// `online`, `away`, `dnd`, `offline` or `ooo`.
    pub status: String,
    /// The user chose the status (activity does not override it).
    pub manual: bool,
    /// Milliseconds since the epoch.
    pub last_activity_at: i64,
    /// When a timed DND ends, in seconds since the epoch (0: none).
    pub dnd_end_time: i64,
    /// The status a DND replaced (restored when it ends).
    pub prev_status: String,
    /// Deactivated (milliseconds since the epoch), 0 when active.
    pub delete_at: i64,
}

impl User {
    /// An active `system_user` named `name` (`Ada Lovelace`: username `ada.lovelace`), with
    /// `status` set manually (`online`: automatically).
    pub fn new(id: &str, name: &str, token: &str, status: &str) -> Self {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        Self {
            id: id.into(),
            username: name.to_lowercase().replace(' ', "."),
            first_name: first.into(),
            last_name: last.into(),
            token: token.into(),
            roles: "system_user".into(),
            status: status.into(),
            manual: status != "online",
            last_activity_at: 0,
            dnd_end_time: 0,
            prev_status: String::new(),
            delete_at: 0,
        }
    }

    /// This user as a system administrator (`edit_other_users`).
    pub fn admin(mut self) -> Self {
        self.roles = "system_admin system_user".into();
        self
    }

    fn may_edit_others(&self) -> bool {
        self.roles.split_whitespace().any(|r| r == "system_admin")
    }

    fn json(&self) -> Value {
        json!({
            "id": self.id, "create_at": 0, "update_at": 0, "delete_at": self.delete_at,
            "username": self.username, "first_name": self.first_name,
            "last_name": self.last_name, "nickname": "", "email": format!("{}@example.com", self.username),
            "email_verified": true, "auth_service": "", "roles": self.roles, "locale": "en",
        })
    }

    fn status_json(&self) -> Value {
        json!({
            "user_id": self.id, "status": self.status, "manual": self.manual,
            "last_activity_at": self.last_activity_at, "dnd_end_time": self.dnd_end_time,
        })
    }
}

/// A websocket event as the server sends it.
pub fn status_change(user_id: &str, status: &str, seq: u64) -> Value {
    json!({
        "event": "status_change",
        "data": {"status": status, "user_id": user_id},
        "broadcast": {"omit_users": null, "user_id": user_id, "channel_id": "", "team_id": ""},
        "seq": seq,
    })
}

#[derive(Debug)]
struct Inner {
    users: BTreeMap<String, User>,
    /// Seconds added to the system clock (tests move time forward).
    offset: i64,
    /// Every `status_change` broadcast, in order: `(user_id, status)`.
    events: Vec<(String, String)>,
    /// The same events, to the open websockets.
    live: tokio::sync::broadcast::Sender<(String, String)>,
    /// Closes every open websocket (a dropped connection).
    kick: tokio::sync::broadcast::Sender<()>,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            users: BTreeMap::new(),
            offset: 0,
            events: Vec::new(),
            live: tokio::sync::broadcast::channel(1024).0,
            kick: tokio::sync::broadcast::channel(4).0,
        }
    }
}

impl Inner {
    fn now_secs(&self) -> i64 {
        let system = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        system + self.offset
    }

    fn broadcast(&mut self, user: &str, status: &str) {
        self.events.push((user.to_string(), status.to_string()));
        // no open websocket is no error
        let _ = self.live.send((user.to_string(), status.to_string()));
    }

    /// The minute job: every timed DND that has ended goes back to the status it replaced,
    /// manual off (UpdateExpiredDNDStatuses). Whether anything changed.
    fn expire(&mut self) -> bool {
        let now = self.now_secs();
        let mut ended = Vec::new();
        for u in self.users.values_mut() {
            if u.status == "dnd" && u.dnd_end_time > 0 && u.dnd_end_time <= now {
                u.status = std::mem::replace(&mut u.prev_status, "dnd".into());
                u.dnd_end_time = 0;
                u.manual = false;
                ended.push((u.id.clone(), u.status.clone()));
            }
        }
        let changed = !ended.is_empty();
        for (id, status) in ended {
            self.broadcast(&id, &status);
        }
        changed
    }
}

agentstatus_fakes::fake! {
    /// A running fake Mattermost server on 127.0.0.1 ([`FakeServer`]: `url()`, `faults()`,
    /// and `state_changes()`, the times a user's status changed).
    ///
    /// [`FakeServer`]: agentstatus_fakes::FakeServer
    pub struct Mattermost(Inner);
}

/// Mattermost's error body (model.AppError).
fn app_error(status: StatusCode, id: &str, message: &str, location: &str) -> Response {
    reply(
        status,
        json!({
            "id": id, "message": message, "detailed_error": "", "request_id": "fake-request",
            "status_code": status.as_u16(), "where": location,
        }),
    )
}

fn invalid_param(name: &str, location: &str) -> Response {
    app_error(
        StatusCode::BAD_REQUEST,
        "api.context.invalid_body_param.app_error",
        &format!("Invalid or missing {name} in request body."),
        location,
    )
}

fn invalid_url_param(name: &str) -> Response {
    app_error(
        StatusCode::BAD_REQUEST,
        "api.context.invalid_url_param.app_error",
        &format!("Invalid or missing {name} parameter in request URL."),
        "Context",
    )
}

fn is_id(id: &str) -> bool {
    id.len() == 26
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl Mattermost {
    /// Start the fake with no users.
    pub async fn start() -> std::io::Result<Self> {
        let routes = Router::new()
            .route("/api/v4/users", get(list_users))
            .route("/api/v4/users/status/ids", post(statuses_by_ids))
            .route("/api/v4/users/{user_id}", get(get_user))
            .route(
                "/api/v4/users/{user_id}/status",
                get(get_status).put(put_status),
            )
            .route("/api/v4/websocket", get(websocket));
        Fake::start(Inner::default(), routes).await.map(Self)
    }

    /// Add a user (or replace the one with the same id).
    pub fn add_user(&self, user: User) {
        self.0.lock().users.insert(user.id.clone(), user);
    }

    /// The user with this id, as the fake stores it now (after any DND that has ended).
    pub fn user(&self, id: &str) -> Option<User> {
        let shared = self.0.shared();
        let mut s = shared.lock();
        if s.expire() {
            shared.changed();
        }
        s.users.get(id).cloned()
    }

    /// Move the fake's clock `secs` seconds forward, and run the DND expiry job.
    pub fn advance(&self, secs: i64) {
        let shared = self.0.shared();
        let mut s = shared.lock();
        s.offset += secs;
        if s.expire() {
            shared.changed();
        }
    }

    /// The fake's clock, in seconds since the epoch.
    pub fn now(&self) -> i64 {
        self.0.lock().now_secs()
    }

    /// Activity of a user's client: `online` unless the user's status is manual
    /// (SetStatusOnline with manual = false).
    pub fn activity(&self, id: &str) {
        let shared = self.0.shared();
        let mut s = shared.lock();
        let now = s.now_secs() * 1000;
        let Some(u) = s.users.get_mut(id) else { return };
        if u.manual {
            return;
        }
        u.last_activity_at = now;
        if u.status != "online" {
            u.status = "online".into();
            s.broadcast(id, "online");
            shared.changed();
        }
    }

    /// The user's client went quiet: `away` unless the status is manual (SetStatusAwayIfNeeded
    /// with manual = false, after the away timeout).
    pub fn idle(&self, id: &str) {
        let shared = self.0.shared();
        let mut s = shared.lock();
        let Some(u) = s.users.get_mut(id) else { return };
        if u.manual || u.status == "away" {
            return;
        }
        u.status = "away".into();
        s.broadcast(id, "away");
        shared.changed();
    }

    /// Close every open websocket, as a network failure or a server restart would.
    pub fn drop_connections(&self) {
        let _ = self.0.lock().kick.send(());
    }

    /// Every `status_change` broadcast so far, from the `from`th, with its sequence number
    /// (its index), as the websocket sends it.
    pub fn events(&self, from: usize) -> Vec<Value> {
        let s = self.0.lock();
        s.events
            .iter()
            .enumerate()
            .skip(from)
            .map(|(i, (user, status))| status_change(user, status, i as u64))
            .collect()
    }
}

/// For `agentstatus fake` (through the registry): each agent a user with its status as
/// Mattermost holds an availability (`online`, `dnd`, `away`, `offline`; all but `online` as
/// chosen by the user). The first is a system administrator whose session token is the `token`
/// secret (the others' are `<token>-2`, `<token>-3`, ...); without agents, a system
/// administrator `agentstatus-fake` holds it.
impl Seeded for Mattermost {
    /// Mattermost's user ids are 26 lower-case letters and digits: `user_id(n)`.
    fn sample_id(n: usize, _: &str) -> String {
        user_id(n)
    }

    fn status(availability: Availability) -> Option<&'static str> {
        match availability {
            Availability::Available => Some("online"),
            Availability::Busy => Some("dnd"),
            Availability::Away => Some("away"),
            Availability::Offline => Some("offline"),
            _ => None,
        }
    }

    async fn seeded(agents: Vec<Seed>, secrets: Secrets) -> Result<(Self, Settings), String> {
        let fake = Self::start().await.map_err(|e| e.to_string())?;
        let token = secrets.get("token").cloned().unwrap_or_default();
        if agents.is_empty() {
            fake.add_user(
                User::new("agentstatus-fake", "agentstatus fake", &token, "online").admin(),
            );
        }
        for (i, s) in agents.iter().enumerate() {
            let n = i + 1;
            let user_token = if n == 1 {
                token.clone()
            } else {
                format!("{token}-{n}")
            };
            let user = User::new(&s.id, &s.name, &user_token, s.status);
            fake.add_user(if n == 1 { user.admin() } else { user });
        }
        Ok((fake, Vec::new()))
    }
}

/// A fake with users named `seeds` (ids `user_id(1)`, `user_id(2)`, ...), each with its
/// availability as Mattermost holds it (`online`, `dnd`, `away` or `offline`; all but `online`
/// chosen by the user). The first is a system administrator whose session token is `token`
/// (the others' are `token-2`, `token-3`, ...).
pub async fn seeded(seeds: &[(&str, Availability)], token: &str) -> std::io::Result<Mattermost> {
    let fake = Mattermost::start().await?;
    for (i, (name, availability)) in seeds.iter().enumerate() {
        let status = <Mattermost as Seeded>::status(*availability).unwrap_or("offline");
        let n = i + 1;
        let user_token = if n == 1 {
            token.to_string()
        } else {
            format!("{token}-{n}")
        };
        let user = User::new(&user_id(n), name, &user_token, status);
        fake.add_user(if n == 1 { user.admin() } else { user });
    }
    Ok(fake)
}

/// This fake for the registry (the `agentstatus` facade's `seeder("mattermost")`).
pub const SEEDER: Seeder = Seeder::of::<Mattermost>();

/// The caller, from `Authorization: Bearer <token>`, or the server's 401.
fn caller(s: &Inner, headers: &HeaderMap) -> Result<String, Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .unwrap_or_default();
    s.users
        .values()
        .find(|u| !token.is_empty() && u.token == token && u.delete_at == 0)
        .map(|u| u.id.clone())
        .ok_or_else(|| {
            app_error(
                StatusCode::UNAUTHORIZED,
                "api.context.session_expired.app_error",
                "Invalid or expired session, please login again.",
                "ServeHTTP",
            )
        })
}

/// Lock the state, run the DND job, and check the session.
fn session<'a>(
    state: &'a Shared<Inner>,
    headers: &HeaderMap,
) -> Result<(std::sync::MutexGuard<'a, Inner>, String), Response> {
    let mut s = state.lock();
    if s.expire() {
        state.changed();
    }
    let me = caller(&s, headers)?;
    Ok((s, me))
}

#[derive(Debug, serde::Deserialize)]
struct Page {
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    per_page: Option<String>,
    #[serde(default)]
    active: Option<String>,
}

async fn list_users(
    State(state): State<Shared<Inner>>,
    Query(q): Query<Page>,
    headers: HeaderMap,
) -> Response {
    let (s, _) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page: usize = match q.page.as_deref().map(str::parse).transpose() {
        Ok(p) => p.unwrap_or(0),
        Err(_) => return invalid_url_param("page"),
    };
    let per_page: usize = match q.per_page.as_deref().map(str::parse).transpose() {
        Ok(p) => p.unwrap_or(60).min(200),
        Err(_) => return invalid_url_param("per_page"),
    };
    let active = q.active.as_deref() == Some("true");
    let mut users: Vec<&User> = s
        .users
        .values()
        .filter(|u| !active || u.delete_at == 0)
        .collect();
    users.sort_by(|a, b| a.username.cmp(&b.username));
    let list: Vec<Value> = users
        .iter()
        .skip(page.saturating_mul(per_page))
        .take(per_page)
        .map(|u| u.json())
        .collect();
    reply(StatusCode::OK, Value::Array(list))
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
    if !is_id(&user_id) {
        return invalid_url_param("user_id");
    }
    match s.users.get(&user_id) {
        Some(u) => reply(StatusCode::OK, u.json()),
        None => app_error(
            StatusCode::NOT_FOUND,
            "app.user.missing_account.const",
            "Unable to find the user.",
            "GetUser",
        ),
    }
}

/// The status the server answers for an id: the stored one, or `offline` for one it has none of.
fn status_of(s: &Inner, id: &str) -> Value {
    match s.users.get(id) {
        Some(u) => u.status_json(),
        None => {
            json!({"user_id": id, "status": "offline", "manual": false, "last_activity_at": 0, "dnd_end_time": 0})
        }
    }
}

async fn get_status(
    State(state): State<Shared<Inner>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (s, _) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !is_id(&user_id) {
        return invalid_url_param("user_id");
    }
    reply(StatusCode::OK, status_of(&s, &user_id))
}

async fn put_status(
    State(state): State<Shared<Inner>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut s, me) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !is_id(&user_id) {
        return invalid_url_param("user_id");
    }
    let Ok(Value::Object(body)) = agentstatus_fakes::serde_json::from_slice::<Value>(&body) else {
        return invalid_param("status", "updateUserStatus");
    };
    // Go's decoder: a field of the wrong type fails the whole body
    let text = |k: &str| match body.get(k) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(v)) => Ok(v.clone()),
        Some(_) => Err(()),
    };
    let (Ok(body_user), Ok(wanted)) = (text("user_id"), text("status")) else {
        return invalid_param("status", "updateUserStatus");
    };
    let end = match body.get("dnd_end_time") {
        None | Some(Value::Null) => 0,
        Some(v) => match v.as_i64() {
            Some(e) => e,
            None => return invalid_param("status", "updateUserStatus"),
        },
    };
    if body_user != user_id {
        return invalid_param("user_id", "updateUserStatus");
    }
    let may = me == user_id || s.users.get(&me).is_some_and(User::may_edit_others);
    if !may {
        return app_error(
            StatusCode::FORBIDDEN,
            "api.context.permissions.app_error",
            "You do not have the appropriate permissions.",
            "updateUserStatus",
        );
    }
    if !matches!(wanted.as_str(), "online" | "offline" | "away" | "dnd") {
        return invalid_param("status", "updateUserStatus");
    }
    let now_ms = s.now_secs() * 1000;
    // a user with no status row starts from `offline`, automatic
    let mut u = s.users.get(&user_id).cloned().unwrap_or_else(|| {
        let mut u = User::new(&user_id, "", "", "offline");
        u.manual = false;
        u
    });
    let before = (u.status.clone(), u.manual, u.dnd_end_time);
    let broadcast = match wanted.as_str() {
        "online" => {
            // SetStatusOnline(manual=true): "for online there's no manual setting"
            let changed = u.status != "online";
            u.status = "online".into();
            u.manual = false;
            u.last_activity_at = now_ms;
            changed
        }
        "offline" => {
            u.status = "offline".into();
            u.manual = true;
            u.last_activity_at = now_ms;
            true
        }
        "away" => {
            u.status = "away".into();
            u.manual = true;
            true
        }
        _ => {
            // SetStatusDoNotDisturbTimed: the previous status kept, the end truncated to the minute
            u.prev_status = std::mem::replace(&mut u.status, "dnd".into());
            u.manual = true;
            u.dnd_end_time = end - end.rem_euclid(60);
            true
        }
    };
    let after = (u.status.clone(), u.manual, u.dnd_end_time);
    let answer = u.status_json();
    let status = u.status.clone();
    if s.users.contains_key(&user_id) {
        s.users.insert(user_id.clone(), u);
    }
    if broadcast {
        s.broadcast(&user_id, &status);
    }
    if after != before {
        state.changed();
    }
    reply(StatusCode::OK, answer)
}

async fn statuses_by_ids(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (s, _) = match session(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    // model.ArrayFromJSON: anything but an array of strings reads as no ids
    let ids: Vec<String> = agentstatus_fakes::serde_json::from_slice(&body).unwrap_or_default();
    if ids.is_empty() || ids.iter().any(|id| id.len() != 26) {
        return invalid_param("user_ids", "getUserStatusesByIds");
    }
    let list: Vec<Value> = ids.iter().map(|id| status_of(&s, id)).collect();
    reply(StatusCode::OK, Value::Array(list))
}

/// `GET /api/v4/websocket`: authenticated by the upgrade request's bearer token (or a 401), it
/// sends `hello`, then every `status_change` as the server's `BroadcastStatus` does, each with
/// the connection's next `seq`; [`Mattermost::drop_connections`] closes it.
async fn websocket(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    upgrade: axum::extract::ws::WebSocketUpgrade,
) -> Response {
    let (mut live, mut kick) = {
        let (s, _) = match session(&state, &headers) {
            Ok(x) => x,
            Err(r) => return r,
        };
        (s.live.subscribe(), s.kick.subscribe())
    };
    upgrade.on_upgrade(move |mut socket| async move {
        use axum::extract::ws::Message;
        use futures_util::SinkExt as _;
        let hello = json!({"event": "hello", "data": {"server_version": "fake"}, "broadcast": {"omit_users": null, "user_id": "", "channel_id": "", "team_id": ""}, "seq": 0});
        if socket.send(Message::Text(hello.to_string().into())).await.is_err() {
            return;
        }
        let mut seq = 1u64;
        loop {
            tokio::select! {
                _ = kick.recv() => {
                    let _ = socket.close().await;
                    return;
                }
                // what the client sends: pings are answered (by reading, as the server's
                // gorilla/websocket does), anything else is ignored; a closed socket ends
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                    Some(Ok(_)) => {}
                },
                event = live.recv() => {
                    let Ok((user, status)) = event else { return };
                    let text = status_change(&user, &status, seq).to_string();
                    seq += 1;
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
            }
        }
    })
}
