//! A fake RingCentral Engage Digital server, behaving like the real one (not like its docs):
//!
//! - auth: `Authorization: Bearer <token>`; unknown token 401 `{error, message, status}`; a token
//!   may monitor the task view (every agent) or only act as one agent (its own status);
//! - `GET /status` lists the connected agents; `GET /status/{agentId}` answers 404 with
//!   `not_found` (no such user) or `disconnected` (not connected);
//! - `PUT /status/{agentId}?status[<channel_id>]=away|available&custom_status_id=...`: the map
//!   must name *all* the agent's channels (else 400), values `away|available`; with a map the
//!   custom status is ignored; a custom status alone sets every channel away;
//! - `GET /presence_status` lists the custom statuses ordered by name, in pages (`offset`,
//!   `limit`: default 30, at most 150), with their `count`;
//! - after a configurable number of requests per window, counted over every token together (the
//!   account-level limit), 429 `{error: "rate_limit_exceeded", message: "Rate limit exceeded (500
//!   requests per minute max)", status: 429}`, the message stating the limit applied (the real
//!   default is 500 per minute per account).
//!
//! Evidence for each behaviour: specs/engage-digital/NOTES.md#fake-server-behaviour.

// Handlers bail out early with a ready `Response`; its size does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use agentstatus_fakes::axum::Router;
use agentstatus_fakes::axum::extract::{Path, RawQuery, State};
use agentstatus_fakes::axum::http::{HeaderMap, StatusCode};
use agentstatus_fakes::axum::response::Response;
use agentstatus_fakes::axum::routing::get;
use agentstatus_fakes::serde_json::{Value, json};

use agentstatus_fakes::seed::{Availability, Secrets, Seed, Seeded, Seeder, Settings};
pub use agentstatus_fakes::{Chaos, Fault, Faults};
use agentstatus_fakes::{Fake, Shared, json as reply};

/// One channel of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// The channel's id.
    pub id: String,
    /// The channel's name.
    pub name: String,
    /// `away` or `available`.
    pub status: String,
    /// `unoccupied`, `ok`, `busy` or `full`.
    pub busyness: String,
}

/// An agent and its channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// The agent's id.
    pub id: String,
    /// Whether the agent is connected (a disconnected agent answers 404 `disconnected`).
    pub connected: bool,
    /// The agent's channels and each one's status.
    pub channels: Vec<Channel>,
    /// The custom "away" status selected, if any.
    pub custom_status: Option<String>,
}

impl Agent {
    /// A connected agent with every channel in `status`, unoccupied.
    pub fn new(id: &str, channels: &[(&str, &str)], status: &str) -> Self {
        Self {
            id: id.into(),
            connected: true,
            channels: channels
                .iter()
                .map(|(id, name)| Channel {
                    id: (*id).into(),
                    name: (*name).into(),
                    status: status.into(),
                    busyness: "unoccupied".into(),
                })
                .collect(),
            custom_status: None,
        }
    }

    fn json(&self) -> Value {
        json!({
            "agent_id": self.id,
            "channels": self.channels.iter().map(|c| json!({
                "id": c.id, "name": c.name, "status": c.status, "busyness": c.busyness
            })).collect::<Vec<_>>(),
            "custom_status": self.custom_status.as_ref().map(|id| json!({"id": id})),
        })
    }
}

#[derive(Debug, Clone)]
struct Token {
    token: String,
    /// `None`: may monitor the task view (every agent); `Some(id)`: only that agent.
    agent: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    agents: BTreeMap<String, Agent>,
    tokens: Vec<Token>,
    presence_statuses: Vec<(String, String)>,
    rate: Option<(u32, Duration)>,
    window: Option<(Instant, u32)>,
    /// Requests answered 429 by the rate limit.
    rate_limited: u64,
}

agentstatus_fakes::fake! {
    /// A running fake Engage Digital server on 127.0.0.1 ([`FakeServer`]: `url()`, the base URL (the
    /// real API's base ends in `/1.0`; the fake serves at the root), `faults()`, and
    /// `state_changes()`, the times an agent's status (a channel or the custom status) actually
    /// changed).
    ///
    /// [`FakeServer`]: agentstatus_fakes::FakeServer
    pub struct EngageDigital(Inner);
}

impl EngageDigital {
    /// Start the fake on 127.0.0.1 and a free port.
    pub async fn start() -> std::io::Result<Self> {
        let routes = Router::new()
            .route("/status", get(all_status))
            .route("/status/{id}", get(agent_status).put(change_status))
            .route("/presence_status", get(presence_statuses));
        Fake::start(Inner::default(), routes).await.map(Self)
    }

    /// A token that may monitor the task view (read and change every agent).
    pub fn add_supervisor_token(&self, token: &str) {
        self.0.lock().tokens.push(Token {
            token: token.into(),
            agent: None,
        });
    }

    /// A token that may only read and change `agent`'s own status.
    pub fn add_agent_token(&self, token: &str, agent: &str) {
        self.0.lock().tokens.push(Token {
            token: token.into(),
            agent: Some(agent.into()),
        });
    }

    /// Add an agent (or replace the one with the same id).
    pub fn add_agent(&self, agent: Agent) {
        self.0.lock().agents.insert(agent.id.clone(), agent);
    }

    /// Add a custom "away" status (`GET /presence_status` lists it).
    pub fn add_presence_status(&self, id: &str, name: &str) {
        self.0
            .lock()
            .presence_statuses
            .push((id.into(), name.into()));
    }

    /// Rename the custom "away" status `id` (as an administrator does in Engage Digital's
    /// settings: its id stays, agents who have it keep it). Unknown id: nothing happens.
    pub fn rename_presence_status(&self, id: &str, name: &str) {
        let mut s = self.0.lock();
        if let Some(status) = s.presence_statuses.iter_mut().find(|(i, _)| i == id) {
            status.1 = name.into();
        }
    }

    /// The agent with this id, as the fake stores it now.
    pub fn agent(&self, id: &str) -> Option<Agent> {
        self.0.lock().agents.get(id).cloned()
    }

    /// How many requests the rate limit answered with 429.
    pub fn rate_limited(&self) -> u64 {
        self.0.lock().rate_limited
    }

    /// Answer 429 once more than `requests` arrive within `per`.
    pub fn set_rate_limit(&self, requests: u32, per: Duration) {
        let mut s = self.0.lock();
        s.rate = Some((requests, per));
        s.window = None;
    }
}

fn error(status: StatusCode, error: &str, message: &str) -> Response {
    reply(
        status,
        json!({"error": error, "message": message, "status": status.as_u16()}),
    )
}

/// Authenticate and rate-limit; the token's agent restriction, or the answer to send.
fn admit(s: &mut Inner, headers: &HeaderMap) -> Result<Option<String>, Response> {
    if let Some((max, per)) = s.rate {
        let now = Instant::now();
        let (start, count) = match s.window {
            Some((start, count)) if now.duration_since(start) < per => (start, count + 1),
            _ => (now, 1),
        };
        s.window = Some((start, count));
        if count > max {
            s.rate_limited += 1;
            // "The error message states the limit that was applied" (docs/basics/responses.md)
            let message = if per == Duration::from_secs(60) {
                format!("Rate limit exceeded ({max} requests per minute max)")
            } else {
                format!(
                    "Rate limit exceeded ({max} requests per {} ms max)",
                    per.as_millis()
                )
            };
            return Err(error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                &message,
            ));
        }
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Missing access token",
            )
        })?;
    s.tokens
        .iter()
        .find(|t| t.token == token)
        .map(|t| t.agent.clone())
        .ok_or_else(|| {
            error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Invalid access token",
            )
        })
}

/// [`admit`] for a request about agent `id`: a supervisor token may act for every agent, an
/// agent's own token only for itself.
fn admit_for(s: &mut Inner, headers: &HeaderMap, id: &str) -> Result<(), Response> {
    match admit(s, headers)? {
        Some(own) if own != id => Err(forbidden()),
        _ => Ok(()),
    }
}

fn forbidden() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "forbidden",
        "You are not allowed to monitor the task view",
    )
}

async fn all_status(State(state): State<Shared<Inner>>, headers: HeaderMap) -> Response {
    let mut s = state.lock();
    match admit(&mut s, &headers) {
        Ok(None) => {}
        Ok(Some(_)) => return forbidden(),
        Err(r) => return r,
    }
    let list: Vec<Value> = s
        .agents
        .values()
        .filter(|a| a.connected)
        .map(Agent::json)
        .collect();
    reply(StatusCode::OK, Value::Array(list))
}

fn find<'a>(s: &'a mut Inner, id: &str) -> Result<&'a mut Agent, Response> {
    match s.agents.get_mut(id) {
        None => Err(error(StatusCode::NOT_FOUND, "not_found", "User not found")),
        Some(a) if !a.connected => Err(error(
            StatusCode::NOT_FOUND,
            "disconnected",
            "User is not connected",
        )),
        Some(a) => Ok(a),
    }
}

async fn agent_status(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = admit_for(&mut s, &headers, &id) {
        return r;
    }
    match find(&mut s, &id) {
        Ok(a) => reply(StatusCode::OK, a.json()),
        Err(r) => r,
    }
}

async fn change_status(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = admit_for(&mut s, &headers, &id) {
        return r;
    }
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    let mut custom = None;
    for (k, v) in agentstatus_fakes::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if let Some(channel) = k.strip_prefix("status[").and_then(|r| r.strip_suffix(']')) {
            map.insert(channel.to_string(), v.into_owned());
        } else if k == "custom_status_id" {
            custom = Some(v.into_owned());
        }
    }
    let known_custom = custom
        .as_ref()
        .is_none_or(|c| s.presence_statuses.iter().any(|(id, _)| id == c));
    let agent = match find(&mut s, &id) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let before = agent.clone();
    if !map.is_empty() {
        if let Some((_, bad)) = map.iter().find(|(_, v)| *v != "away" && *v != "available") {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_params",
                &format!("status must be either away or available, not {bad:?}"),
            );
        }
        let ids: Vec<&String> = agent.channels.iter().map(|c| &c.id).collect();
        if map.len() != ids.len() || !ids.iter().all(|id| map.contains_key(*id)) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_params",
                "status must contain all channels",
            );
        }
        for c in &mut agent.channels {
            c.status = map[&c.id].clone();
        }
        agent.custom_status = None;
    } else if let Some(custom) = custom {
        if !known_custom {
            return error(
                StatusCode::NOT_FOUND,
                "not_found",
                "Presence status not found",
            );
        }
        for c in &mut agent.channels {
            c.status = "away".into();
        }
        agent.custom_status = Some(custom);
    } else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_params",
            "status or custom_status_id is required",
        );
    }
    let changed = *agent != before;
    let body = agent.json();
    if changed {
        state.changed();
    }
    reply(StatusCode::OK, body)
}

/// `GET /presence_status?offset=&limit=`: the custom statuses ordered by name, `limit` of them
/// (default 30, at most 150) from `offset` (default 0), with their `count`.
async fn presence_statuses(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = admit(&mut s, &headers) {
        return r;
    }
    let (mut offset, mut limit) = (0usize, 30usize);
    for (k, v) in agentstatus_fakes::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match (&*k, v.parse::<usize>()) {
            ("offset", Ok(n)) => offset = n,
            ("limit", Ok(n)) => limit = n.min(150),
            _ => {}
        }
    }
    let mut all: Vec<&(String, String)> = s.presence_statuses.iter().collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    let records: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    reply(
        StatusCode::OK,
        json!({"count": all.len(), "offset": offset, "limit": limit, "records": records}),
    )
}

/// For `agentstatus fake` (through the registry): a supervisor token (the `token` secret), each
/// agent on two channels, `email` and `chat`.
impl Seeded for EngageDigital {
    fn status(availability: Availability) -> Option<&'static str> {
        match availability {
            Availability::Available => Some("available"),
            Availability::Away => Some("away"),
            _ => None,
        }
    }

    async fn seeded(agents: Vec<Seed>, secrets: Secrets) -> Result<(Self, Settings), String> {
        let fake = Self::start().await.map_err(|e| e.to_string())?;
        fake.add_supervisor_token(&secrets.get("token").cloned().unwrap_or_default());
        for s in agents {
            let channels = [("email", "Email"), ("chat", "Chat")];
            fake.add_agent(Agent::new(&s.id, &channels, s.status));
        }
        Ok((fake, vec![]))
    }
}

/// This fake for the registry (the `agentstatus` facade's `seeder("engage-digital")`).
pub const SEEDER: Seeder = Seeder::of::<EngageDigital>();
