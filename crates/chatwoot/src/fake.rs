//! A fake Chatwoot server, behaving like the real one (not like its docs): see
//! `specs/chatwoot/NOTES.md`, "Fake server behaviour". In short:
//!
//! - auth: header `api_access_token`; absent -> 401 `{"errors": [...]}`, unknown -> 401
//!   `{"error": "Invalid Access Token"}`; an account the caller is not a member of -> 401, an
//!   unknown account -> 404 `{"error": "Resource could not be found"}`;
//! - `GET /api/v1/accounts/{account_id}/agents`: every member, with `availability_status`
//!   computed like the server: the stored availability when `auto_offline` is off, else
//!   `offline` unless the agent is connected (a live dashboard);
//! - `PATCH /api/v1/accounts/{account_id}/agents/{id}`: strong parameters: only `name`, `role`,
//!   `availability`, `auto_offline` are written, anything else (the documented
//!   `availability_status` included) is dropped with 200; a sent `role` is written (so a client
//!   forced to send `role: agent` demotes an administrator); the Enterprise edition writes the
//!   top-level `custom_role_id` whether it is sent or not; administrators only (401 `You are not
//!   authorized to do this action`, after the 404 for an unknown agent); an availability outside
//!   `online|busy|offline` is a 500;
//! - `POST /api/v1/profile/availability` `{"profile": {"account_id", "availability"}}`: the
//!   caller's own membership, any role; answers the caller's profile (`accounts[]` with the
//!   stored `availability` and the computed `availability_status`).
//! - rate limit: Rack::Attack's `req/ip` throttle, [`RACK_ATTACK_LIMIT`] requests per client IP
//!   per minute, counted in fixed windows aligned on the epoch (`Time.now.to_i / period`), the
//!   request past it answered before anything else with Rack::Attack's default 429: `Content-Type:
//!   text/plain`, body `Retry later\n`, no `Retry-After` (Chatwoot leaves
//!   `throttled_response_retry_after_header` off) and no `X-RateLimit-*`; every request counts,
//!   the refused ones too. On from the start, like a production server; a test that needs more
//!   raises it ([`Chatwoot::set_rate_limit`]).

// Handlers bail out early with a ready `Response`; its size does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agentstatus_fakes::axum::Router;
use agentstatus_fakes::axum::body::Bytes;
use agentstatus_fakes::axum::extract::{Path, State};
use agentstatus_fakes::axum::http::{HeaderMap, StatusCode};
use agentstatus_fakes::axum::response::{IntoResponse, Response};
use agentstatus_fakes::axum::routing::{get, patch, post};
use agentstatus_fakes::seed::{Availability, Secrets, Seed, Seeded, Seeder, Settings};
use agentstatus_fakes::serde_json::{Map, Value, json};
pub use agentstatus_fakes::{Chaos, Fault, Faults};
use agentstatus_fakes::{Fake, Shared, json as reply};

/// A user who is a member of the fake's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// The user id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Login email.
    pub email: String,
    /// The `api_access_token` of this user.
    pub token: String,
    /// `agent` or `administrator`.
    pub role: String,
    /// The stored availability: `online`, `busy` or `offline`.
    pub availability: String,
    /// Whether the server sets the user offline when no dashboard is connected.
    pub auto_offline: bool,
    /// A live dashboard connection (the server's presence ping).
    pub connected: bool,
    /// Enterprise edition: the custom role.
    pub custom_role_id: Option<i64>,
}

impl Agent {
    /// A connected agent (role `agent`, `auto_offline` on, no custom role).
    pub fn new(id: i64, name: &str, token: &str, availability: &str) -> Self {
        Self {
            id,
            name: name.into(),
            email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
            token: token.into(),
            role: "agent".into(),
            availability: availability.into(),
            auto_offline: true,
            connected: true,
            custom_role_id: None,
        }
    }

    /// This user as an administrator.
    pub fn administrator(mut self) -> Self {
        self.role = "administrator".into();
        self
    }

    /// What the server shows: `availability_status` from `auto_offline` and live presence.
    pub fn availability_status(&self) -> &str {
        if !self.auto_offline || self.connected {
            &self.availability
        } else {
            "offline"
        }
    }

    fn json(&self, account: i64, enterprise: bool) -> Value {
        let mut v = json!({
            "id": self.id, "account_id": account, "availability_status": self.availability_status(),
            "auto_offline": self.auto_offline, "confirmed": true, "email": self.email,
            "provider": "email", "available_name": self.name, "name": self.name,
            "role": self.role, "thumbnail": "",
        });
        if enterprise {
            v["custom_role_id"] = json!(self.custom_role_id);
        }
        v
    }
}

#[derive(Debug)]
struct Inner {
    account: i64,
    enterprise: bool,
    agents: BTreeMap<i64, Agent>,
    /// Requests allowed per window, and the window.
    limit: (u32, Duration),
    /// The current window (its number since the epoch) and the requests counted in it.
    window: (u128, u32),
    /// Requests answered 429.
    throttled: u64,
}

/// Chatwoot's `req/ip` throttle: `RACK_ATTACK_LIMIT` (default 3000) requests per IP per minute
/// (`config/initializers/rack_attack.rb`; see `specs/chatwoot/NOTES.md`, "Rate limit").
pub const RACK_ATTACK_LIMIT: u32 = 3000;

/// Rack::Attack's throttle: count the request in its window (epoch-aligned, as Rack::Attack's
/// cache key `Time.now.to_i / period`), and its default 429 when past the limit.
fn throttle(s: &mut Inner) -> Result<(), Response> {
    let (limit, period) = s.limit;
    let period = period.as_millis().max(1);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let window = now / period;
    if s.window.0 != window {
        s.window = (window, 0);
    }
    s.window.1 = s.window.1.saturating_add(1);
    if s.window.1 > limit {
        s.throttled += 1;
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            [("content-type", "text/plain")],
            "Retry later\n",
        )
            .into_response());
    }
    Ok(())
}

agentstatus_fakes::fake! {
    /// A running fake Chatwoot server with one account, on 127.0.0.1 ([`FakeServer`]: `url()`,
    /// `faults()`, and `state_changes()`, the times a stored availability or role changed).
    ///
    /// [`FakeServer`]: agentstatus_fakes::FakeServer
    pub struct Chatwoot(Inner);
}

fn error(status: StatusCode, message: &str) -> Response {
    reply(status, json!({ "error": message }))
}

impl Chatwoot {
    /// Start the fake with account `account` (the Enterprise edition, as in the official images).
    pub async fn start(account: i64) -> std::io::Result<Self> {
        let state = Inner {
            account,
            enterprise: true,
            agents: BTreeMap::new(),
            limit: (RACK_ATTACK_LIMIT, Duration::from_secs(60)),
            window: (0, 0),
            throttled: 0,
        };
        let routes = Router::new()
            .route("/api/v1/accounts/{account_id}/agents", get(list))
            .route("/api/v1/accounts/{account_id}/agents/{id}", patch(update))
            .route("/api/v1/profile/availability", post(availability));
        Fake::start(state, routes).await.map(Self)
    }

    /// Add a member to the account (or replace the one with the same id).
    pub fn add_agent(&self, agent: Agent) {
        self.0.lock().agents.insert(agent.id, agent);
    }

    /// The member with this id, as the fake stores it now.
    pub fn agent(&self, id: i64) -> Option<Agent> {
        self.0.lock().agents.get(&id).cloned()
    }

    /// Connect or disconnect an agent's dashboard (live presence).
    pub fn set_connected(&self, id: i64, connected: bool) {
        if let Some(a) = self.0.lock().agents.get_mut(&id) {
            a.connected = connected;
        }
    }

    /// The Community edition: no custom roles, `custom_role_id` neither shown nor written.
    pub fn set_enterprise(&self, enterprise: bool) {
        self.0.lock().enterprise = enterprise;
    }

    /// Throttle at `requests` per `per` (the server's `RACK_ATTACK_LIMIT` per minute by
    /// default; `u32::MAX` to never throttle), counting from a fresh window.
    pub fn set_rate_limit(&self, requests: u32, per: Duration) {
        let mut s = self.0.lock();
        s.limit = (requests, per);
        s.window = (0, 0);
    }

    /// How many requests the throttle answered with 429.
    pub fn rate_limited(&self) -> u64 {
        self.0.lock().throttled
    }
}

/// The caller, from `api_access_token`, or the server's 401.
fn caller(s: &Inner, headers: &HeaderMap) -> Result<i64, Response> {
    let token = headers
        .get("api_access_token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if token.is_empty() {
        return Err(reply(
            StatusCode::UNAUTHORIZED,
            json!({"errors": ["You need to sign in or sign up before continuing."]}),
        ));
    }
    s.agents
        .values()
        .find(|a| a.token == token)
        .map(|a| a.id)
        .ok_or_else(|| error(StatusCode::UNAUTHORIZED, "Invalid Access Token"))
}

/// The account check of `Api::V1::Accounts::BaseController`.
fn account(s: &Inner, account_id: &str) -> Result<(), Response> {
    match account_id.parse::<i64>() {
        Ok(id) if id == s.account => Ok(()),
        _ => Err(error(StatusCode::NOT_FOUND, "Resource could not be found")),
    }
}

fn valid_availability(v: &str) -> bool {
    matches!(v, "online" | "busy" | "offline")
}

fn internal_error() -> Response {
    reply(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"status": 500, "error": "Internal Server Error"}),
    )
}

async fn list(
    State(state): State<Shared<Inner>>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = throttle(&mut s) {
        return r;
    }
    if let Err(r) = caller(&s, &headers).and_then(|_| account(&s, &account_id)) {
        return r;
    }
    let mut agents: Vec<&Agent> = s.agents.values().collect();
    agents.sort_by(|a, b| a.name.cmp(&b.name));
    let list: Vec<Value> = agents
        .iter()
        .map(|a| a.json(s.account, s.enterprise))
        .collect();
    reply(StatusCode::OK, Value::Array(list))
}

/// The JSON object body, or the server's answer to one it cannot read.
fn object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match agentstatus_fakes::serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "param is missing or the value is empty: agent"}),
        )),
    }
}

async fn update(
    State(state): State<Shared<Inner>>,
    Path((account_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = throttle(&mut s) {
        return r;
    }
    let me = match caller(&s, &headers).and_then(|me| account(&s, &account_id).map(|()| me)) {
        Ok(me) => me,
        Err(r) => return r,
    };
    // fetch_agent runs before check_authorization: 404 first
    let Some(target) = id.parse::<i64>().ok().filter(|i| s.agents.contains_key(i)) else {
        return error(StatusCode::NOT_FOUND, "Resource could not be found");
    };
    if s.agents[&me].role != "administrator" {
        return error(
            StatusCode::UNAUTHORIZED,
            "You are not authorized to do this action",
        );
    }
    let top = match object(&body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    // the params wrapper nests top-level keys under `agent` unless the body has it already
    let params = match top.get("agent") {
        Some(Value::Object(inner)) => inner.clone(),
        _ => top.clone(),
    };
    // strong parameters: name, email, role, availability, auto_offline; the rest is dropped
    let text = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(v) = text("availability")
        && !valid_availability(&v)
    {
        return internal_error();
    }
    if let Some(v) = text("role")
        && !matches!(v.as_str(), "agent" | "administrator")
    {
        return internal_error();
    }
    let enterprise = s.enterprise;
    let account = s.account;
    let agent = s.agents.get_mut(&target).expect("checked above");
    let before = (agent.availability.clone(), agent.role.clone());
    if let Some(v) = text("name") {
        agent.name = v;
    }
    if let Some(v) = text("role") {
        agent.role = v;
    }
    if let Some(v) = text("availability") {
        agent.availability = v;
    }
    if let Some(v) = params.get("auto_offline").and_then(Value::as_bool) {
        agent.auto_offline = v;
    }
    if enterprise {
        // written whether sent or not: omitting it clears the custom role
        agent.custom_role_id = top.get("custom_role_id").and_then(Value::as_i64);
    }
    let changed = (agent.availability.clone(), agent.role.clone()) != before;
    let answer = agent.json(account, enterprise);
    if changed {
        state.changed();
    }
    reply(StatusCode::OK, answer)
}

async fn availability(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = throttle(&mut s) {
        return r;
    }
    let me = match caller(&s, &headers) {
        Ok(me) => me,
        Err(r) => return r,
    };
    let top = match object(&body) {
        Ok(m) => m,
        Err(_) => {
            return reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "param is missing or the value is empty: profile"}),
            );
        }
    };
    let params = match top.get("profile") {
        Some(Value::Object(inner)) => inner.clone(),
        _ => top,
    };
    let account_matches = params.get("account_id").and_then(Value::as_i64) == Some(s.account);
    if !account_matches {
        return error(StatusCode::NOT_FOUND, "Resource could not be found");
    }
    let Some(wanted) = params
        .get("availability")
        .and_then(Value::as_str)
        .filter(|v| valid_availability(v))
        .map(str::to_string)
    else {
        return internal_error();
    };
    let account = s.account;
    let agent = s.agents.get_mut(&me).expect("the caller exists");
    let changed = agent.availability != wanted;
    agent.availability = wanted;
    let a = agent.clone();
    if changed {
        state.changed();
    }
    reply(
        StatusCode::OK,
        json!({
            "id": a.id, "account_id": account, "available_name": a.name, "name": a.name,
            "display_name": a.name, "email": a.email, "confirmed": true, "provider": "email",
            "role": a.role, "type": "User", "uid": a.email, "ui_settings": {},
            "accounts": [{
                "id": account, "name": "Acme", "status": "active", "role": a.role,
                "availability": a.availability, "availability_status": a.availability_status(),
                "auto_offline": a.auto_offline, "permissions": [],
            }],
        }),
    )
}

/// For `agentstatus fake` (through the registry): account 1, numeric agent ids; the first agent
/// is an administrator whose token is the `token` secret (the printed credentials are its), the
/// others' tokens are `other-<id>`.
impl Seeded for Chatwoot {
    const NUMERIC_IDS: bool = true;

    fn status(availability: Availability) -> Option<&'static str> {
        match availability {
            Availability::Available => Some("online"),
            Availability::Busy => Some("busy"),
            Availability::Offline => Some("offline"),
            _ => None,
        }
    }

    async fn seeded(agents: Vec<Seed>, secrets: Secrets) -> Result<(Self, Settings), String> {
        const ACCOUNT: i64 = 1;
        let fake = Self::start(ACCOUNT).await.map_err(|e| e.to_string())?;
        let token = secrets.get("token").cloned().unwrap_or_default();
        for (i, s) in agents.iter().enumerate() {
            let id = s.number()?;
            let agent = if i == 0 {
                Agent::new(id, &s.name, &token, s.status).administrator()
            } else {
                Agent::new(id, &s.name, &format!("other-{id}"), s.status)
            };
            fake.add_agent(agent);
        }
        Ok((fake, vec![("account_id", json!(ACCOUNT))]))
    }
}

/// This fake for the registry (the `agentstatus` facade's `seeder("chatwoot")`).
pub const SEEDER: Seeder = Seeder::of::<Chatwoot>();
