//! A fake Twilio TaskRouter server, behaving like the real one as far as the vendor's own
//! evidence shows (`specs/twilio-taskrouter/NOTES.md`, "Fake server behaviour"). In short:
//!
//! - auth: HTTP Basic, the Account SID and its auth token, or an API key SID (`SK...`) and its
//!   secret; anything else is 401 with Twilio's error body
//!   `{"code": 20003, "message": "Authenticate", "more_info", "status": 401}`;
//! - Activities are defined per workspace (a name and an `available` flag that never changes);
//!   a new workspace has `Offline` (its default), `Available`, `Unavailable` and `Break`;
//! - `GET .../Workers/{Sid}` answers the Worker with an `ETag` header, a version that changes
//!   with every update; `POST .../Workers/{Sid}` is form-encoded (`ActivitySid`,
//!   `FriendlyName`, `Attributes`, `RejectPendingReservations`), and with an `If-Match` that is
//!   not the current `ETag` it is 412 and changes nothing;
//! - lists (`Workers`, `Activities`) page with `PageSize` (default 50, at most 1,000) and an
//!   opaque `PageToken`; `meta.next_page_url` is an absolute URL on `taskrouter.twilio.com`, as
//!   the real server writes it, whatever host the fake listens on;
//! - an unknown workspace, worker or malformed SID is 404 with `code` 20404.

// Handlers bail out early with a ready `Response`; its size does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};

use agentstatus_fakes::axum::Router;
use agentstatus_fakes::axum::body::Bytes;
use agentstatus_fakes::axum::extract::{Path, Query, State};
use agentstatus_fakes::axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use agentstatus_fakes::axum::response::Response;
use agentstatus_fakes::axum::routing::get;
use agentstatus_fakes::base64::Engine as _;
use agentstatus_fakes::seed::{Availability, Secrets, Seed, Seeded, Seeder, Settings};
use agentstatus_fakes::serde_json::{Value, json};
pub use agentstatus_fakes::{Chaos, Fault, Faults};
use agentstatus_fakes::{Fake, Shared, base64, form_urlencoded, json as reply};

/// Where the real server lives: its `url`s and `next_page_url`s point there.
const ORIGIN: &str = "https://taskrouter.twilio.com";

/// The Account SID the fake's credentials belong to.
pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";

/// The workspace [`TwilioTaskrouter::start`] creates.
pub const WORKSPACE_SID: &str = "WS00000000000000000000000000000001";

/// The activities a new workspace gets (name, available), `Offline` its default.
pub const DEFAULT_ACTIVITIES: [(&str, bool); 4] = [
    ("Offline", false),
    ("Available", true),
    ("Unavailable", false),
    ("Break", false),
];

/// An Activity of a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// `WA` + 32 hex digits.
    pub sid: String,
    /// The activity's `friendly_name`.
    pub name: String,
    /// Whether a worker in it may receive tasks.
    pub available: bool,
}

/// A Worker of a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    /// `WK` + 32 hex digits.
    pub sid: String,
    /// The worker's `friendly_name`.
    pub name: String,
    /// The SID of the activity the worker is in.
    pub activity_sid: String,
    /// The worker's attributes, a JSON string.
    pub attributes: String,
    /// Bumped by every update: the `ETag`.
    pub version: u64,
}

#[derive(Debug, Default)]
struct Workspace {
    activities: Vec<Activity>,
    workers: BTreeMap<String, Worker>,
}

#[derive(Debug)]
struct Inner {
    account_sid: String,
    auth_token: String,
    /// API key SID -> its secret.
    api_keys: HashMap<String, String>,
    workspaces: BTreeMap<String, Workspace>,
    /// Counts SIDs handed out.
    next_sid: u64,
}

agentstatus_fakes::fake! {
    /// A running fake Twilio TaskRouter server on 127.0.0.1 ([`FakeServer`]: `url()`,
    /// `faults()`, and `state_changes()`, the times a worker's activity changed).
    ///
    /// [`FakeServer`]: agentstatus_fakes::FakeServer
    pub struct TwilioTaskrouter(Inner);
}

/// `prefix` + 32 hex digits from `n`.
fn sid(prefix: &str, n: u64) -> String {
    format!("{prefix}{n:032x}")
}

/// Is `s` a SID of kind `prefix` (`WK`, `WA`, `WS`): the prefix and 32 hex digits.
pub fn is_sid(prefix: &str, s: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// A Worker SID for an agent id of a roster: the id itself when it is one, else `WK` and the
/// id's bytes in hex, padded with zeros (ids of 1 to 16 bytes), so it reads back.
pub fn worker_sid_for(id: &str) -> Result<String, String> {
    if is_sid("WK", id) {
        return Ok(id.to_string());
    }
    if id.is_empty() || id.len() > 16 {
        return Err(format!(
            "{id:?} is not a Worker SID (WK + 32 hex digits), and too long to become one (16 bytes at most)"
        ));
    }
    let hex: String = id.bytes().map(|b| format!("{b:02x}")).collect();
    Ok(format!("WK{hex:0<32}"))
}

/// The fake's activity for an availability: the presence adapter's default name table.
pub fn activity_for(availability: Availability) -> Option<&'static str> {
    Some(match availability {
        Availability::Available => "Available",
        Availability::Busy => "Unavailable",
        Availability::Away => "Break",
        Availability::Offline => "Offline",
        _ => return None,
    })
}

impl Seeded for TwilioTaskrouter {
    fn status(availability: Availability) -> Option<&'static str> {
        activity_for(availability)
    }

    /// The default workspace with `agents` as its workers (their ids as the Worker SIDs),
    /// accepting the Account SID [`ACCOUNT_SID`] with the auth
    /// token `secrets["auth_token"]`; the settings are `account_sid` and `workspace_sid`.
    async fn seeded(agents: Vec<Seed>, secrets: Secrets) -> Result<(Self, Settings), String> {
        let token = secrets.get("auth_token").cloned().unwrap_or_default();
        let fake = Self::start(&token).await.map_err(|e| e.to_string())?;
        for a in &agents {
            // the roster's ids as they are: `agentstatus get <id>` then finds them (the client
            // sends any id, NOTES.md#sids-in-paths); real Worker SIDs are `WK` + 32 hex digits
            fake.add_worker(WORKSPACE_SID, &a.id, &a.name, a.status);
        }
        let settings = vec![
            ("account_sid", json!(ACCOUNT_SID)),
            ("workspace_sid", json!(WORKSPACE_SID)),
        ];
        Ok((fake, settings))
    }
}

/// How `agentstatus fake` starts this fake with agents (the registry's `seeder(name)`).
pub const SEEDER: Seeder = Seeder::of::<TwilioTaskrouter>();

impl TwilioTaskrouter {
    /// Start the fake: account [`ACCOUNT_SID`] with `auth_token`, and the workspace
    /// [`WORKSPACE_SID`] with the [`DEFAULT_ACTIVITIES`].
    pub async fn start(auth_token: &str) -> std::io::Result<Self> {
        let mut state = Inner {
            account_sid: ACCOUNT_SID.into(),
            auth_token: auth_token.into(),
            api_keys: HashMap::new(),
            workspaces: BTreeMap::new(),
            next_sid: 0x100,
        };
        state
            .workspaces
            .insert(WORKSPACE_SID.into(), Workspace::default());
        for (name, available) in DEFAULT_ACTIVITIES {
            add_activity(&mut state, WORKSPACE_SID, name, available);
        }
        let routes = Router::new()
            .route(
                "/v1/Workspaces/{workspace}/Activities",
                get(list_activities),
            )
            .route("/v1/Workspaces/{workspace}/Workers", get(list_workers))
            .route(
                "/v1/Workspaces/{workspace}/Workers/{sid}",
                get(fetch_worker).post(update_worker),
            );
        Fake::start(state, routes).await.map(Self)
    }

    /// Accept the API key `sid` (`SK...`) with `secret` as credentials too.
    pub fn add_api_key(&self, sid: &str, secret: &str) {
        self.0.lock().api_keys.insert(sid.into(), secret.into());
    }

    /// A workspace with the [`DEFAULT_ACTIVITIES`]; returns its SID.
    pub fn add_workspace(&self) -> String {
        let mut s = self.0.lock();
        s.next_sid += 1;
        let ws = sid("WS", s.next_sid);
        s.workspaces.insert(ws.clone(), Workspace::default());
        for (name, available) in DEFAULT_ACTIVITIES {
            add_activity(&mut s, &ws, name, available);
        }
        ws
    }

    /// Add an activity to `workspace`; returns its SID.
    pub fn add_activity(&self, workspace: &str, name: &str, available: bool) -> String {
        add_activity(&mut self.0.lock(), workspace, name, available)
    }

    /// The activities of `workspace`.
    pub fn activities(&self, workspace: &str) -> Vec<Activity> {
        let s = self.0.lock();
        s.workspaces
            .get(workspace)
            .map(|w| w.activities.clone())
            .unwrap_or_default()
    }

    /// Add (or replace) worker `sid` in `workspace`, in the activity named `activity`.
    ///
    /// # Panics
    /// If the workspace or the activity does not exist (a test's mistake).
    pub fn add_worker(&self, workspace: &str, sid: &str, name: &str, activity: &str) {
        let mut s = self.0.lock();
        let ws = s
            .workspaces
            .get_mut(workspace)
            .expect("a workspace of the fake");
        let activity_sid = ws
            .activities
            .iter()
            .find(|a| a.name == activity)
            .map(|a| a.sid.clone())
            .expect("an activity of the workspace");
        ws.workers.insert(
            sid.into(),
            Worker {
                sid: sid.into(),
                name: name.into(),
                activity_sid,
                attributes: "{}".into(),
                version: 1,
            },
        );
    }

    /// Worker `sid` of `workspace`, as the fake stores it now.
    pub fn worker(&self, workspace: &str, sid: &str) -> Option<Worker> {
        let s = self.0.lock();
        s.workspaces.get(workspace)?.workers.get(sid).cloned()
    }

    /// The name of the activity worker `sid` is in.
    pub fn activity_of(&self, workspace: &str, sid: &str) -> Option<String> {
        let s = self.0.lock();
        let ws = s.workspaces.get(workspace)?;
        let w = ws.workers.get(sid)?;
        ws.activities
            .iter()
            .find(|a| a.sid == w.activity_sid)
            .map(|a| a.name.clone())
    }

    /// Move worker `sid` to the activity named `activity` behind the client's back (someone
    /// else's update: the `ETag` changes).
    pub fn move_worker(&self, workspace: &str, sid: &str, activity: &str) {
        let mut s = self.0.lock();
        let Some(ws) = s.workspaces.get_mut(workspace) else {
            return;
        };
        let Some(activity_sid) = ws
            .activities
            .iter()
            .find(|a| a.name == activity)
            .map(|a| a.sid.clone())
        else {
            return;
        };
        if let Some(w) = ws.workers.get_mut(sid) {
            w.activity_sid = activity_sid;
            w.version += 1;
        }
    }
}

fn add_activity(s: &mut Inner, workspace: &str, name: &str, available: bool) -> String {
    s.next_sid += 1;
    let sid = sid("WA", s.next_sid);
    if let Some(ws) = s.workspaces.get_mut(workspace) {
        ws.activities.push(Activity {
            sid: sid.clone(),
            name: name.into(),
            available,
        });
    }
    sid
}

/// Twilio's error body (twilio-go `client/error.go`, `TwilioRestError`).
fn error(status: StatusCode, code: u32, message: &str) -> Response {
    reply(
        status,
        json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status.as_u16(),
        }),
    )
}

fn not_found(path: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        20404,
        &format!("The requested resource {path} was not found"),
    )
}

/// The Basic credentials, checked, or the 401 answer.
fn authenticate(s: &Inner, headers: &HeaderMap) -> Result<(), Response> {
    let unauthorized = || error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .ok_or_else(unauthorized)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| unauthorized())?;
    let pair = String::from_utf8(bytes).map_err(|_| unauthorized())?;
    let (user, secret) = pair.split_once(':').ok_or_else(unauthorized)?;
    let ok = (user == s.account_sid && secret == s.auth_token && !secret.is_empty())
        || s.api_keys.get(user).is_some_and(|k| k == secret);
    if ok { Ok(()) } else { Err(unauthorized()) }
}

fn timestamp(version: u64) -> String {
    // a date that moves with each update, in Twilio's ISO 8601 form
    let minutes = version % 60;
    let hours = (version / 60) % 24;
    format!("2026-01-01T{hours:02}:{minutes:02}:00Z")
}

fn activity_json(account: &str, workspace: &str, a: &Activity) -> Value {
    json!({
        "account_sid": account,
        "available": a.available,
        "date_created": "2026-01-01T00:00:00Z",
        "date_updated": "2026-01-01T00:00:00Z",
        "friendly_name": a.name,
        "sid": a.sid,
        "workspace_sid": workspace,
        "url": format!("{ORIGIN}/v1/Workspaces/{workspace}/Activities/{}", a.sid),
        "links": {"workspace": format!("{ORIGIN}/v1/Workspaces/{workspace}")},
    })
}

fn worker_json(account: &str, workspace: &str, ws: &Workspace, w: &Worker) -> Value {
    let activity = ws.activities.iter().find(|a| a.sid == w.activity_sid);
    let base = format!("{ORIGIN}/v1/Workspaces/{workspace}");
    json!({
        "account_sid": account,
        "activity_name": activity.map(|a| a.name.clone()),
        "activity_sid": w.activity_sid,
        "attributes": w.attributes,
        "available": activity.map(|a| a.available),
        "date_created": "2026-01-01T00:00:00Z",
        "date_status_changed": timestamp(w.version),
        "date_updated": timestamp(w.version),
        "friendly_name": w.name,
        "sid": w.sid,
        "workspace_sid": workspace,
        "url": format!("{base}/Workers/{}", w.sid),
        "links": {
            "activity": format!("{base}/Activities/{}", w.activity_sid),
            "workspace": base,
        },
    })
}

/// `true`, `1` or `yes` (Twilio's truthy values for `Available`).
fn truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

/// One page of `items` (each with its SID) after the `PageToken`, with Twilio's `meta`.
fn page(
    items: Vec<(String, Value)>,
    key: &str,
    path: &str,
    query: &HashMap<String, String>,
) -> Result<Value, Response> {
    let size = match query.get("PageSize") {
        None => 50,
        Some(v) => match v.parse::<usize>() {
            Ok(n @ 1..=1000) => n,
            _ => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    20001,
                    "Invalid PageSize: must be between 1 and 1000",
                ));
            }
        },
    };
    let number: usize = query.get("Page").and_then(|p| p.parse().ok()).unwrap_or(0);
    // the token names the last SID of the previous page (opaque to clients)
    let after = match query.get("PageToken") {
        None => None,
        Some(t) => match t.strip_prefix("PA") {
            Some(last) if !last.is_empty() => Some(last.to_string()),
            _ => return Err(error(StatusCode::BAD_REQUEST, 20001, "Invalid PageToken")),
        },
    };
    let rest: Vec<(String, Value)> = items
        .into_iter()
        .filter(|(sid, _)| after.as_ref().is_none_or(|a| sid > a))
        .collect();
    let more = rest.len() > size;
    let this: Vec<(String, Value)> = rest.into_iter().take(size).collect();
    // the filters, as the real server repeats them in its page URLs
    let mut filters: Vec<(&String, &String)> = query
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "PageSize" | "Page" | "PageToken"))
        .collect();
    filters.sort();
    let url = |page: usize, token: Option<&str>| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &filters {
            q.append_pair(k, v);
        }
        q.append_pair("PageSize", &size.to_string());
        q.append_pair("Page", &page.to_string());
        if let Some(t) = token {
            q.append_pair("PageToken", t);
        }
        format!("{ORIGIN}{path}?{}", q.finish())
    };
    let next = (more)
        .then(|| {
            this.last()
                .map(|(sid, _)| url(number + 1, Some(&format!("PA{sid}"))))
        })
        .flatten();
    Ok(json!({
        key: this.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "meta": {
            "first_page_url": url(0, None),
            "key": key,
            "next_page_url": next,
            "page": number,
            "page_size": size,
            "previous_page_url": (number > 0).then(|| url(number - 1, None)),
            "url": url(number, after.as_ref().map(|a| format!("PA{a}")).as_deref()),
        }
    }))
}

async fn list_activities(
    State(state): State<Shared<Inner>>,
    Path(workspace): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = state.lock();
    if let Err(r) = authenticate(&s, &headers) {
        return r;
    }
    let path = format!("/v1/Workspaces/{workspace}/Activities");
    let Some(ws) = s.workspaces.get(&workspace) else {
        return not_found(&path);
    };
    let mut items: Vec<(String, Value)> = ws
        .activities
        .iter()
        .filter(|a| query.get("FriendlyName").is_none_or(|n| *n == a.name))
        .filter(|a| {
            query
                .get("Available")
                .is_none_or(|v| truthy(v) == a.available)
        })
        .map(|a| (a.sid.clone(), activity_json(&s.account_sid, &workspace, a)))
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    match page(items, "activities", &path, &query) {
        Ok(body) => reply(StatusCode::OK, body),
        Err(r) => r,
    }
}

async fn list_workers(
    State(state): State<Shared<Inner>>,
    Path(workspace): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = state.lock();
    if let Err(r) = authenticate(&s, &headers) {
        return r;
    }
    let path = format!("/v1/Workspaces/{workspace}/Workers");
    let Some(ws) = s.workspaces.get(&workspace) else {
        return not_found(&path);
    };
    let activity = |w: &Worker| ws.activities.iter().find(|a| a.sid == w.activity_sid);
    let items: Vec<(String, Value)> = ws
        .workers
        .values()
        .filter(|w| {
            query
                .get("ActivityName")
                .is_none_or(|n| activity(w).is_some_and(|a| a.name == *n))
        })
        .filter(|w| {
            query
                .get("ActivitySid")
                .is_none_or(|v| *v == w.activity_sid)
        })
        .filter(|w| {
            query
                .get("Available")
                .is_none_or(|v| activity(w).is_some_and(|a| a.available) == truthy(v))
        })
        .filter(|w| query.get("FriendlyName").is_none_or(|n| *n == w.name))
        .map(|w| {
            (
                w.sid.clone(),
                worker_json(&s.account_sid, &workspace, ws, w),
            )
        })
        .collect();
    match page(items, "workers", &path, &query) {
        Ok(body) => reply(StatusCode::OK, body),
        Err(r) => r,
    }
}

fn with_etag(mut response: Response, version: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

async fn fetch_worker(
    State(state): State<Shared<Inner>>,
    Path((workspace, sid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let s = state.lock();
    if let Err(r) = authenticate(&s, &headers) {
        return r;
    }
    let path = format!("/v1/Workspaces/{workspace}/Workers/{sid}");
    let Some(ws) = s.workspaces.get(&workspace) else {
        return not_found(&path);
    };
    let Some(w) = ws.workers.get(&sid) else {
        return not_found(&path);
    };
    with_etag(
        reply(
            StatusCode::OK,
            worker_json(&s.account_sid, &workspace, ws, w),
        ),
        w.version,
    )
}

async fn update_worker(
    State(state): State<Shared<Inner>>,
    Path((workspace, sid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = authenticate(&s, &headers) {
        return r;
    }
    let account = s.account_sid.clone();
    let path = format!("/v1/Workspaces/{workspace}/Workers/{sid}");
    let Some(ws) = s.workspaces.get_mut(&workspace) else {
        return not_found(&path);
    };
    let Some(current) = ws.workers.get(&sid).cloned() else {
        return not_found(&path);
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !body.is_empty() && !is_form {
        return error(
            StatusCode::BAD_REQUEST,
            20001,
            "Request body must be application/x-www-form-urlencoded",
        );
    }
    if let Some(tag) = headers.get(header::IF_MATCH) {
        let wanted = tag.to_str().unwrap_or_default().trim().trim_matches('"');
        if wanted != current.version.to_string() {
            return error(
                StatusCode::PRECONDITION_FAILED,
                20412,
                "Precondition Failed",
            );
        }
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let mut next = current.clone();
    if let Some(a) = form.get("ActivitySid") {
        if !ws.activities.iter().any(|x| x.sid == *a) {
            return error(
                StatusCode::BAD_REQUEST,
                20001,
                &format!("ActivitySid {a} is not valid for this Workspace"),
            );
        }
        next.activity_sid = a.clone();
    }
    if let Some(n) = form.get("FriendlyName") {
        next.name = n.clone();
    }
    if let Some(a) = form.get("Attributes") {
        if agentstatus_fakes::serde_json::from_str::<Value>(a).is_err() {
            return error(
                StatusCode::BAD_REQUEST,
                20001,
                "Attributes must be a valid JSON string",
            );
        }
        next.attributes = a.clone();
    }
    if next != current {
        next.version += 1;
        if next.activity_sid != current.activity_sid {
            state.changed();
        }
        ws.workers.insert(sid.clone(), next.clone());
    }
    let body = worker_json(&account, &workspace, ws, &next);
    with_etag(reply(StatusCode::OK, body), next.version)
}
