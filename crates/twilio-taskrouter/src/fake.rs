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
//! - an unknown workspace, worker or malformed SID is 404 with `code` 20404;
//! - `GET`/`POST /v1/Workspaces/{Sid}` read and update the workspace; the update stores
//!   `EventCallbackUrl` and `EventsFilter` as Twilio does, and from then on every change of a
//!   worker's activity is POSTed to that URL as a `worker.activity.update` event callback
//!   (form-encoded, signed with `X-Twilio-Signature` over the URL and the sorted parameters,
//!   keyed with the auth token), from a task, one at a time in the order of the changes, never
//!   holding up the request that made the change; [`TwilioTaskrouter::drop_events`],
//!   [`TwilioTaskrouter::hold_events`] and [`TwilioTaskrouter::release_events`] lose or reorder
//!   them, as Twilio may (it guarantees neither delivery nor order).

// Handlers bail out early with a ready `Response`; its size does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

#[derive(Debug)]
struct Workspace {
    name: String,
    activities: Vec<Activity>,
    workers: BTreeMap<String, Worker>,
    /// Where events are POSTed; empty: nowhere (a new workspace's).
    event_callback_url: String,
    /// Which events (`worker.activity.update,...`); `None`: every event.
    events_filter: Option<String>,
}

impl Default for Workspace {
    fn default() -> Self {
        Self {
            name: "Support".into(),
            activities: Vec::new(),
            workers: BTreeMap::new(),
            event_callback_url: String::new(),
            events_filter: None,
        }
    }
}

/// What became of the event callbacks the fake had to send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deliveries {
    /// Answered with a 2xx.
    pub delivered: u32,
    /// Answered otherwise, or not at all (within [`EVENT_TIMEOUT`]).
    pub failed: u32,
    /// Lost on purpose ([`TwilioTaskrouter::drop_events`]).
    pub dropped: u32,
}

/// How long the fake waits for the answer to an event callback (Twilio's page: "respond ...
/// within 15 seconds").
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(15);

/// An event callback on its way: the URL, the form parameters, the signature.
#[derive(Debug, Clone)]
struct Outgoing {
    url: String,
    params: Vec<(String, String)>,
    signature: String,
}

/// The test knobs of the event callbacks.
#[derive(Debug, Default)]
struct EventKnobs {
    /// Lose the next this many.
    drop_next: u32,
    /// Keep them in `held` instead of sending.
    hold: bool,
    held: Vec<Outgoing>,
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
    /// Event callbacks to the sender task (set once the fake runs).
    outbox: Option<tokio::sync::mpsc::UnboundedSender<Outgoing>>,
    knobs: EventKnobs,
    deliveries: Arc<Mutex<Deliveries>>,
    /// Counts event SIDs (`EV...`).
    next_event: u64,
    /// Milliseconds the server's clock is ahead of ours ([`TwilioTaskrouter::set_clock_skew`]).
    skew_ms: i64,
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
        let (outbox, queue) = tokio::sync::mpsc::unbounded_channel();
        let deliveries = Arc::new(Mutex::new(Deliveries::default()));
        let mut state = Inner {
            account_sid: ACCOUNT_SID.into(),
            auth_token: auth_token.into(),
            api_keys: HashMap::new(),
            workspaces: BTreeMap::new(),
            next_sid: 0x100,
            outbox: Some(outbox),
            knobs: EventKnobs::default(),
            deliveries: deliveries.clone(),
            next_event: 0,
            skew_ms: 0,
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
            )
            .route(
                "/v1/Workspaces/{workspace}",
                get(fetch_workspace).post(update_workspace),
            );
        let fake = Fake::start(state, routes).await.map(Self)?;
        // the sender holds the queue and the counts, not the fake: it ends when the fake does
        tokio::spawn(send_events(queue, deliveries));
        Ok(fake)
    }

    /// The workspace's `event_callback_url` (empty: none) and `events_filter`.
    pub fn event_callback(&self, workspace: &str) -> Option<(String, Option<String>)> {
        let s = self.0.lock();
        let ws = s.workspaces.get(workspace)?;
        Some((ws.event_callback_url.clone(), ws.events_filter.clone()))
    }

    /// Set the workspace's `EventCallbackUrl` and `EventsFilter` behind the client's back (an
    /// operator's own callback, already there).
    pub fn set_event_callback(&self, workspace: &str, url: &str, filter: Option<&str>) {
        let mut s = self.0.lock();
        if let Some(ws) = s.workspaces.get_mut(workspace) {
            ws.event_callback_url = url.into();
            ws.events_filter = filter.map(str::to_string);
        }
    }

    /// The server's clock is `seconds` ahead of ours (behind: negative), as Twilio's may be:
    /// every answer's `Date` says so (`Faults::set_clock_skew`), and so do the event callbacks'
    /// `Timestamp` and `TimestampMs`.
    pub fn set_clock_skew(&self, seconds: i64) {
        self.faults().set_clock_skew(seconds);
        self.0.lock().skew_ms = seconds.saturating_mul(1000);
    }

    /// Lose the next `n` event callbacks (counted in [`Deliveries::dropped`]).
    pub fn drop_events(&self, n: u32) {
        self.0.lock().knobs.drop_next += n;
    }

    /// Keep event callbacks back until [`TwilioTaskrouter::release_events`].
    pub fn hold_events(&self) {
        self.0.lock().knobs.hold = true;
    }

    /// Send the event callbacks held back, in reverse order when `reversed` (the newest first:
    /// Twilio does not promise order), and stop holding; how many.
    pub fn release_events(&self, reversed: bool) -> usize {
        let mut s = self.0.lock();
        s.knobs.hold = false;
        let mut held = std::mem::take(&mut s.knobs.held);
        if reversed {
            held.reverse();
        }
        let n = held.len();
        if let Some(outbox) = &s.outbox {
            for e in held {
                let _ = outbox.send(e);
            }
        }
        n
    }

    /// What became of the event callbacks so far.
    pub fn deliveries(&self) -> Deliveries {
        let counts = self.0.lock().deliveries.clone();
        *counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// POST `params` to `workspace`'s callback URL with `signature` (`None`: the fake's own,
    /// correct one) as Twilio would: a test's forged or replayed event. The answer's status,
    /// `None` without a callback URL or an answer.
    pub async fn post_event(
        &self,
        workspace: &str,
        params: Vec<(String, String)>,
        signature: Option<&str>,
    ) -> Option<u16> {
        let (url, token) = {
            let s = self.0.lock();
            let ws = s.workspaces.get(workspace)?;
            (ws.event_callback_url.clone(), s.auth_token.clone())
        };
        if url.is_empty() {
            return None;
        }
        let signature = signature.map_or_else(
            || crate::signature::sign(token.as_bytes(), &url, &params),
            str::to_string,
        );
        let event = Outgoing {
            url,
            params,
            signature,
        };
        post_form(&outgoing(), &event).await
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
        let Some(w) = ws.workers.get(sid).cloned() else {
            return;
        };
        let mut next = w.clone();
        next.activity_sid = activity_sid;
        next.version += 1;
        ws.workers.insert(sid.into(), next.clone());
        if next.activity_sid != w.activity_sid {
            activity_changed(&mut s, workspace, &w, &next);
        }
    }
}

/// The HTTP client event callbacks go out with.
fn outgoing() -> reqwest::Client {
    // a reqwest client with rustls needs the process's TLS provider chosen
    agentstatus_runtime::ensure_tls_provider();
    reqwest::Client::builder()
        .timeout(EVENT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("a plain HTTP client")
}

/// POST one event callback; the answer's status.
async fn post_form(http: &reqwest::Client, e: &Outgoing) -> Option<u16> {
    let body = {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &e.params {
            body.append_pair(k, v);
        }
        body.finish()
    };
    let answer = http
        .post(&e.url)
        .header(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header(crate::signature::HEADER, &e.signature)
        .body(body)
        .send()
        .await;
    answer.ok().map(|a| a.status().as_u16())
}

/// The sender: one event callback at a time, in the order they were made.
async fn send_events(
    mut queue: tokio::sync::mpsc::UnboundedReceiver<Outgoing>,
    deliveries: Arc<Mutex<Deliveries>>,
) {
    let mut http = None;
    while let Some(e) = queue.recv().await {
        // made with the first event: a fake that never sends one never builds a client
        let http = http.get_or_insert_with(outgoing);
        let ok = post_form(http, &e)
            .await
            .is_some_and(|s| (200..300).contains(&s));
        let mut d = deliveries.lock().unwrap_or_else(|e| e.into_inner());
        if ok {
            d.delivered += 1;
        } else {
            d.failed += 1;
        }
    }
}

/// Whether `filter` (a workspace's `EventsFilter`, comma-separated) selects `event`.
fn selects(filter: Option<&str>, event: &str) -> bool {
    filter.is_none_or(|f| f.split(',').any(|e| e.trim() == event))
}

/// Seconds and milliseconds since the epoch, now.
fn epoch_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// A worker of `workspace` moved from `before`'s activity to `after`'s: its
/// `worker.activity.update` event callback, queued (or held, or lost) when the workspace has a
/// callback URL whose filter selects it. Parameters: Twilio's event callback page (the common
/// ones, the worker's and the activity change's), NOTES.md#push-channel-event-callbacks-for-watch.
fn activity_changed(s: &mut Inner, workspace: &str, before: &Worker, after: &Worker) {
    const EVENT: &str = "worker.activity.update";
    let Some(ws) = s.workspaces.get(workspace) else {
        return;
    };
    if ws.event_callback_url.is_empty() || !selects(ws.events_filter.as_deref(), EVENT) {
        return;
    }
    let name_of = |sid: &str| {
        ws.activities
            .iter()
            .find(|a| a.sid == sid)
            .map(|a| a.name.clone())
            .unwrap_or_default()
    };
    let (activity, previous) = (name_of(&after.activity_sid), name_of(&before.activity_sid));
    let url = ws.event_callback_url.clone();
    let workspace_name = ws.name.clone();
    s.next_event += 1;
    // by the server's clock
    let ms =
        u128::try_from((epoch_ms() as i128).saturating_add(i128::from(s.skew_ms))).unwrap_or(0);
    let p = |k: &str, v: String| (k.to_string(), v);
    let params = vec![
        p("AccountSid", s.account_sid.clone()),
        p("WorkspaceSid", workspace.to_string()),
        p("WorkspaceName", workspace_name),
        p("Sid", sid("EV", s.next_event)),
        p("EventType", EVENT.into()),
        p(
            "EventDescription",
            format!("Worker {} updated to {activity} Activity", after.name),
        ),
        p("ResourceType", "worker".into()),
        p("ResourceSid", after.sid.clone()),
        p("Timestamp", (ms / 1000).to_string()),
        p("TimestampMs", ms.to_string()),
        p("WorkerSid", after.sid.clone()),
        p("WorkerName", after.name.clone()),
        p("WorkerAttributes", after.attributes.clone()),
        p("WorkerActivitySid", after.activity_sid.clone()),
        p("WorkerActivityName", activity),
        p("WorkerVersion", after.version.to_string()),
        p("WorkerPreviousActivitySid", before.activity_sid.clone()),
        p("WorkerPreviousActivityName", previous),
        p("WorkerTimeInPreviousActivity", "0".into()),
        p("WorkerTimeInPreviousActivityMs", "0".into()),
    ];
    let signature = crate::signature::sign(s.auth_token.as_bytes(), &url, &params);
    let event = Outgoing {
        url,
        params,
        signature,
    };
    if s.knobs.drop_next > 0 {
        s.knobs.drop_next -= 1;
        s.deliveries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .dropped += 1;
    } else if s.knobs.hold {
        s.knobs.held.push(event);
    } else if let Some(outbox) = &s.outbox {
        let _ = outbox.send(event);
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
        ws.workers.insert(sid.clone(), next.clone());
        if next.activity_sid != current.activity_sid {
            state.changed();
            activity_changed(&mut s, &workspace, &current, &next);
        }
    }
    let Some(ws) = s.workspaces.get(&workspace) else {
        return not_found(&path);
    };
    let body = worker_json(&account, &workspace, ws, &next);
    with_etag(reply(StatusCode::OK, body), next.version)
}

fn workspace_json(account: &str, sid: &str, ws: &Workspace) -> Value {
    let default = ws.activities.first();
    json!({
        "account_sid": account,
        "date_created": "2026-01-01T00:00:00Z",
        "date_updated": "2026-01-01T00:00:00Z",
        "default_activity_name": default.map(|a| a.name.clone()),
        "default_activity_sid": default.map(|a| a.sid.clone()),
        "event_callback_url": ws.event_callback_url,
        "events_filter": ws.events_filter,
        "friendly_name": ws.name,
        "multi_task_enabled": true,
        "prioritize_queue_order": "FIFO",
        "sid": sid,
        "timeout_activity_name": default.map(|a| a.name.clone()),
        "timeout_activity_sid": default.map(|a| a.sid.clone()),
        "url": format!("{ORIGIN}/v1/Workspaces/{sid}"),
        "links": {
            "activities": format!("{ORIGIN}/v1/Workspaces/{sid}/Activities"),
            "workers": format!("{ORIGIN}/v1/Workspaces/{sid}/Workers"),
        },
    })
}

async fn fetch_workspace(
    State(state): State<Shared<Inner>>,
    Path(workspace): Path<String>,
    headers: HeaderMap,
) -> Response {
    let s = state.lock();
    if let Err(r) = authenticate(&s, &headers) {
        return r;
    }
    let Some(ws) = s.workspaces.get(&workspace) else {
        return not_found(&format!("/v1/Workspaces/{workspace}"));
    };
    reply(
        StatusCode::OK,
        workspace_json(&s.account_sid, &workspace, ws),
    )
}

/// `POST /v1/Workspaces/{Sid}`: `FriendlyName`, `EventCallbackUrl` (empty: none; otherwise an
/// absolute http(s) URL, else 400 code 20001, **the fake's choice**) and `EventsFilter` (empty:
/// none, every event) stored as given.
async fn update_workspace(
    State(state): State<Shared<Inner>>,
    Path(workspace): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = authenticate(&s, &headers) {
        return r;
    }
    let account = s.account_sid.clone();
    let Some(ws) = s.workspaces.get_mut(&workspace) else {
        return not_found(&format!("/v1/Workspaces/{workspace}"));
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
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    if let Some(url) = form.get("EventCallbackUrl")
        && !url.is_empty()
        && !reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
    {
        return error(
            StatusCode::BAD_REQUEST,
            20001,
            "EventCallbackUrl must be a valid URL",
        );
    }
    if let Some(n) = form.get("FriendlyName") {
        ws.name = n.clone();
    }
    if let Some(url) = form.get("EventCallbackUrl") {
        ws.event_callback_url = url.clone();
    }
    if let Some(f) = form.get("EventsFilter") {
        ws.events_filter = (!f.is_empty()).then(|| f.clone());
    }
    reply(StatusCode::OK, workspace_json(&account, &workspace, ws))
}
