//! A fake Libredesk server, behaving like the real one (not like its docs):
//!
//! - auth: `Authorization: Basic base64(key:secret)` or `Authorization: token key:secret`
//!   (case-sensitive prefixes, no `Bearer`); anything else is 401 with the error envelope;
//! - `PUT /api/v1/agents/me/availability` writes `status` into the database enum
//!   `online|away|away_manual|away_and_reassigning|offline`: the documented `available`/`busy`
//!   fail there and answer **500**; a malformed body is 400 `InputException`; `source: idle`
//!   never overrides `away_manual` or `away_and_reassigning` (200, unchanged); the same status
//!   again changes nothing;
//! - `GET /api/v1/agents/me`; `GET /api/v1/agents` (needs `users:manage`, else 403);
//! - envelopes `{status: "success", message: null, data}` and
//!   `{status: "error", message, data: null, error_type}`.
//!
//! Evidence for each behaviour: specs/libredesk/NOTES.md#fake-server-behaviour.

// Handlers bail out early with a ready `Response`; its size does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use agentstatus_fakes::axum::Router;
use agentstatus_fakes::axum::body::Bytes;
use agentstatus_fakes::axum::extract::State;
use agentstatus_fakes::axum::http::{HeaderMap, StatusCode};
use agentstatus_fakes::axum::response::Response;
use agentstatus_fakes::axum::routing::{get, put};
use agentstatus_fakes::base64::{self, Engine as _};
use agentstatus_fakes::serde_json::{self, Value, json};

use agentstatus_fakes::seed::{Availability, Secrets, Seed, Seeded, Seeder, Settings};
pub use agentstatus_fakes::{Chaos, Fault, Faults};
use agentstatus_fakes::{Fake, Shared, json as reply};

/// The database enum of `users.availability_status`.
pub const STATUSES: &[&str] = &[
    "online",
    "away",
    "away_manual",
    "away_and_reassigning",
    "offline",
];

/// An agent, with the API key and secret that authenticate as it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// The agent's id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Login email.
    pub email: String,
    /// The stored status: `online`, `away`, `away_manual`, `away_and_reassigning` or `offline`.
    pub availability_status: String,
    /// The API key this agent authenticates with.
    pub api_key: String,
    /// The API secret paired with `api_key`.
    pub api_secret: String,
    /// Holds `users:manage` (may list agents).
    pub manage_users: bool,
}

impl Agent {
    /// An agent with `status`, authenticating with `api_key` and `api_secret`.
    pub fn new(id: i64, name: &str, status: &str, api_key: &str, api_secret: &str) -> Self {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        Self {
            id,
            first_name: first.into(),
            last_name: last.into(),
            email: format!("{}@example.com", first.to_lowercase()),
            availability_status: status.into(),
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            manage_users: true,
        }
    }

    fn full(&self) -> Value {
        json!({
            "id": self.id, "created_at": "2025-08-28T10:00:00Z", "updated_at": "2025-08-28T10:00:00Z",
            "first_name": self.first_name, "last_name": self.last_name, "email": self.email,
            "type": "agent", "availability_status": self.availability_status,
            "phone_number_country_code": null, "phone_number": null, "avatar_url": null,
            "enabled": true, "last_active_at": null, "last_login_at": null,
            // as the server's get-user query answers: permissions is NULL when no role grants
            // one, custom_attributes and meta are not selected (null)
            "roles": ["Agent"], "permissions": if self.manage_users { json!(["users:manage"]) } else { Value::Null },
            "custom_attributes": null, "meta": null, "teams": [], "api_key": self.api_key, "api_key_last_used_at": null
        })
    }

    fn compact(&self) -> Value {
        json!({
            "id": self.id, "type": "agent", "first_name": self.first_name, "last_name": self.last_name,
            "email": self.email, "enabled": true, "avatar_url": null, "external_user_id": null,
            "availability_status": self.availability_status,
            "created_at": "2025-08-28T10:00:00Z", "updated_at": "2025-08-28T10:00:00Z"
        })
    }
}

#[derive(Debug, Default)]
struct Inner {
    agents: BTreeMap<i64, Agent>,
}

agentstatus_fakes::fake! {
    /// A running fake Libredesk server on 127.0.0.1 ([`FakeServer`]: `url()`, `faults()`, and
    /// `state_changes()`, the times an agent's availability actually changed).
    ///
    /// [`FakeServer`]: agentstatus_fakes::FakeServer
    pub struct Libredesk(Inner);
}

impl Libredesk {
    /// Start the fake on 127.0.0.1 and a free port.
    pub async fn start() -> std::io::Result<Self> {
        let routes = Router::new()
            .route("/api/v1/agents/me/availability", put(update_availability))
            .route("/api/v1/agents/me", get(me))
            .route("/api/v1/agents", get(list));
        Fake::start(Inner::default(), routes).await.map(Self)
    }

    /// Add an agent (or replace the one with the same id).
    pub fn add_agent(&self, agent: Agent) {
        self.0.lock().agents.insert(agent.id, agent);
    }

    /// The agent with this id, as the fake stores it now.
    pub fn agent(&self, id: i64) -> Option<Agent> {
        self.0.lock().agents.get(&id).cloned()
    }
}

fn error(status: StatusCode, message: &str, error_type: &str) -> Response {
    reply(
        status,
        json!({"status": "error", "message": message, "data": null, "error_type": error_type}),
    )
}

fn success(data: Value) -> Response {
    reply(
        StatusCode::OK,
        json!({"status": "success", "message": null, "data": data}),
    )
}

/// The agent the `Authorization` header authenticates, or the 401 answer.
fn authenticate(s: &Inner, headers: &HeaderMap) -> Result<i64, Response> {
    let unauthorized = |m: &str| error(StatusCode::UNAUTHORIZED, m, "GeneralException");
    let value = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("invalid or expired session"))?;
    let pair = if let Some(b64) = value.strip_prefix("Basic ") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| unauthorized("invalid basic auth"))?;
        String::from_utf8(bytes).map_err(|_| unauthorized("invalid basic auth"))?
    } else if let Some(p) = value.strip_prefix("token ") {
        p.trim().to_string()
    } else {
        return Err(unauthorized("unknown authorization scheme"));
    };
    let (key, secret) = pair
        .split_once(':')
        .ok_or_else(|| unauthorized("authorization value should be `key`:`token`"))?;
    s.agents
        .values()
        .find(|a| a.api_key == key && a.api_secret == secret)
        .map(|a| a.id)
        .ok_or_else(|| unauthorized("Invalid API key or secret"))
}

async fn update_availability(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock();
    let id = match authenticate(&s, &headers) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON", "InputException");
    };
    let Some(status) = body.get("status").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid `status`",
            "InputException",
        );
    };
    let source = body.get("source").and_then(Value::as_str).unwrap_or("user");
    if !STATUSES.contains(&status) {
        // the value goes straight into the database enum, which rejects it
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error updating user",
            "GeneralException",
        );
    }
    let agent = s.agents.get_mut(&id).expect("authenticated");
    let manual_away = matches!(
        agent.availability_status.as_str(),
        "away_manual" | "away_and_reassigning"
    );
    let changed = !(source == "idle" && manual_away) && agent.availability_status != status;
    if changed {
        agent.availability_status = status.into();
    }
    let data = agent.full();
    if changed {
        state.changed();
    }
    success(data)
}

async fn me(State(state): State<Shared<Inner>>, headers: HeaderMap) -> Response {
    let s = state.lock();
    match authenticate(&s, &headers) {
        Ok(id) => success(s.agents[&id].full()),
        Err(r) => r,
    }
}

async fn list(State(state): State<Shared<Inner>>, headers: HeaderMap) -> Response {
    let s = state.lock();
    let id = match authenticate(&s, &headers) {
        Ok(id) => id,
        Err(r) => return r,
    };
    if !s.agents[&id].manage_users {
        return error(
            StatusCode::FORBIDDEN,
            "Permission denied",
            "PermissionException",
        );
    }
    success(Value::Array(
        s.agents.values().map(Agent::compact).collect(),
    ))
}

/// For `agentstatus fake` (through the registry): numeric agent ids; the first agent's API key
/// is `agentstatus-fake` with the `secret` secret (the printed credentials are its), the others'
/// `agentstatus-fake-<id>` with `other-<id>`.
impl Seeded for Libredesk {
    const NUMERIC_IDS: bool = true;

    fn status(availability: Availability) -> Option<&'static str> {
        match availability {
            Availability::Available => Some("online"),
            Availability::Away => Some("away_manual"),
            Availability::Offline => Some("offline"),
            _ => None,
        }
    }

    async fn seeded(agents: Vec<Seed>, secrets: Secrets) -> Result<(Self, Settings), String> {
        let fake = Self::start().await.map_err(|e| e.to_string())?;
        let secret = secrets.get("secret").cloned().unwrap_or_default();
        for (i, s) in agents.iter().enumerate() {
            let (key, secret) = if i == 0 {
                ("agentstatus-fake".to_string(), secret.clone())
            } else {
                (
                    format!("agentstatus-fake-{}", s.id),
                    format!("other-{}", s.id),
                )
            };
            fake.add_agent(Agent::new(s.number()?, &s.name, s.status, &key, &secret));
        }
        Ok((fake, vec![("api_key", json!("agentstatus-fake"))]))
    }
}

/// This fake for the registry (the `agentstatus` facade's `seeder("libredesk")`).
pub const SEEDER: Seeder = Seeder::of::<Libredesk>();
