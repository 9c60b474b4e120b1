//! A fake Microsoft Graph (Teams presence) server, behaving like the real one as far as
//! Microsoft's own evidence shows (`specs/msgraph/NOTES.md`, "Fake server behaviour"). In short:
//!
//! - the Microsoft identity platform's token endpoint, `POST /{tenant}/oauth2/v2.0/token`
//!   (client credentials: a form body with `grant_type=client_credentials`, `client_id`,
//!   `client_secret`, `scope=https://graph.microsoft.com/.default`), issues bearer tokens that
//!   expire (`expires_in`, 3599 seconds unless [`Msgraph::set_token_lifetime`]); its errors are
//!   RFC 6749 §5.2 bodies (`error`, `error_description`, `error_codes`, ...);
//! - every API call checks its token: none, unknown or expired is 401 with Graph's OData error
//!   `{"error": {"code": "InvalidAuthenticationToken", "message", "innerError"}}`;
//! - a user's presence is aggregated from presence sessions (each application's, `sessionId` =
//!   its client id, expiring after `expirationDuration`, PT5M..PT4H, 5 minutes by default) and
//!   the user's preferred presence, which beats every session while at least one session is
//!   alive; without a live session a user reads `Offline`/`Offline`; among sessions
//!   DoNotDisturb > Busy > Available > Away;
//! - `getPresencesByUserId` reads up to 650 users; more is 400;
//! - the API answers under `/` and under `/v1.0/` (Graph's own base path);
//! - change-notification subscriptions on presences (`POST` and `GET /subscriptions`, `PATCH`,
//!   `DELETE` and `GET /subscriptions/{id}`): a delegated token only ([`Msgraph::delegated_token`]; an
//!   application's is 403, as Learn's permission table says), at most 650 ids, an expiry at most
//!   an hour away, the notification URL validated (`?validationToken=`, 10 s) before the 201;
//!   every change of a user's presence is POSTed to each live subscription that names the user
//!   (basic notifications: the id, no state), and tests can drop notifications
//!   ([`Msgraph::drop_notifications`]) or send lifecycle events ([`Msgraph::lifecycle`]).
//!
//! The fake's clock starts at its start and moves with real time plus what
//! [`Msgraph::advance`] adds, so tests can let sessions and tokens expire without waiting; its
//! wall time may be off ours ([`Msgraph::set_clock_skew`]), as a real server's may be.

// Handlers bail out early with a ready `Response`; its size does not matter in a test server.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use agentstatus_fakes::axum::Router;
use agentstatus_fakes::axum::body::Bytes;
use agentstatus_fakes::axum::extract::{Path, Query, State};
use agentstatus_fakes::axum::http::{HeaderMap, StatusCode, header};
use agentstatus_fakes::axum::response::Response;
use agentstatus_fakes::axum::routing::{get, patch, post};
use agentstatus_fakes::base64::Engine as _;
use agentstatus_fakes::seed::{Availability, Secrets, Seed, Seeded, Seeder, Settings};
use agentstatus_fakes::serde_json::{Map, Value, json};
pub use agentstatus_fakes::{Chaos, Fault, Faults};
use agentstatus_fakes::{Fake, Shared, base64, form_urlencoded, json as reply};
use chrono::{DateTime, Utc};

/// The tenant (directory) the fake's application is registered in.
pub const TENANT: &str = "7d1b0d4e-0000-4000-8000-00000000aaaa";

/// The fake application's (client) id: its `client_id`, and the `sessionId` of its presence
/// sessions.
pub const CLIENT_ID: &str = "5f0e2c3a-0000-4000-8000-00000000c1d0";

/// The one scope a client credentials token can be asked for here.
pub const SCOPE: &str = "https://graph.microsoft.com/.default";

/// Users per `getPresencesByUserId` (Learn: "Maximum of 650 user IDs are supported per API
/// request").
pub const MAX_IDS: usize = 650;

/// The token lifetime the identity platform answers with (`expires_in`).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3599);

/// A session's lifetime when `expirationDuration` is absent (Learn presence-setpresence).
pub const DEFAULT_SESSION: Duration = Duration::from_secs(5 * 60);

/// The shortest and the longest `expirationDuration` (PT5M..PT4H).
pub const SESSION_RANGE: (Duration, Duration) =
    (Duration::from_secs(5 * 60), Duration::from_secs(4 * 3600));

/// A presence session of one application for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its base presence (`Available`, `Busy`, ...).
    pub availability: String,
    /// Its activity (`Available`, `InACall`, ...).
    pub activity: String,
    /// When it expires, on the fake's clock (time since the fake started).
    pub expires: Duration,
}

/// A user's preferred presence (`setUserPreferredPresence`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferred {
    /// Its base presence.
    pub availability: String,
    /// Its activity.
    pub activity: String,
    /// When it ends, on the fake's clock; `None`: until cleared.
    pub expires: Option<Duration>,
}

/// A user of the tenant.
#[derive(Debug, Clone, Default)]
pub struct User {
    /// Its display name (presence answers carry none; kept for the demo).
    pub name: String,
    /// Presence sessions by session id (an application's client id).
    pub sessions: BTreeMap<String, Session>,
    /// The user's preferred presence, if set.
    pub preferred: Option<Preferred>,
}

#[derive(Debug)]
struct Token {
    /// The signed-in user of a delegated token ([`Msgraph::delegated_token`]); `None`: the
    /// application's own (client credentials).
    user: Option<String>,
    expires: Duration,
    /// API calls it may still make ([`Msgraph::expire_tokens_after_calls`]).
    calls_left: Option<u32>,
}

#[derive(Debug)]
struct Inner {
    client_secret: String,
    tokens: HashMap<String, Token>,
    token_lifetime: Duration,
    calls_per_token: Option<u32>,
    token_requests: u32,
    api_calls: u32,
    issued: u64,
    users: BTreeMap<String, User>,
    started: Instant,
    /// The wall clock at `started`: subscriptions' `expirationDateTime` are read against it.
    started_wall: DateTime<Utc>,
    /// How far the server's clock is off ours ([`Msgraph::set_clock_skew`]).
    skew: chrono::TimeDelta,
    offset: Duration,
    subscriptions: BTreeMap<String, Subscription>,
    subscriptions_issued: u64,
    /// Notifications still to drop ([`Msgraph::drop_notifications`]).
    to_drop: u32,
    deliveries: Deliveries,
    validations: Vec<Validation>,
    /// `GET /subscriptions` answers this many a page, with an `@odata.nextLink` to the next
    /// ([`Msgraph::page_subscriptions`]); `None`: all in one.
    subscriptions_page: Option<usize>,
    /// The origin the nextLinks point to instead of the fake's own
    /// ([`Msgraph::next_links_to`]).
    next_link_origin: Option<String>,
}

impl Inner {
    fn now(&self) -> Duration {
        self.started.elapsed() + self.offset
    }

    /// The fake's clock as a wall time: the server's, [`Msgraph::set_clock_skew`] off ours.
    fn wall(&self, at: Duration) -> DateTime<Utc> {
        self.started_wall
            + self.skew
            + chrono::TimeDelta::from_std(at).unwrap_or(chrono::TimeDelta::MAX)
    }

    /// Subscriptions whose expiry passed are gone (Graph deletes them).
    fn expire_subscriptions(&mut self) {
        let now = self.now();
        self.subscriptions.retain(|_, s| s.expires > now);
    }

    /// What every user reads as now.
    fn aggregates(&self) -> BTreeMap<String, (String, String)> {
        let now = self.now();
        self.users
            .iter()
            .map(|(id, u)| (id.clone(), aggregate(u, now)))
            .collect()
    }

    /// The notifications to send for `changed` users: one POST per live subscription naming
    /// any of them (or none, while [`Msgraph::drop_notifications`] says so).
    fn notifications(&mut self, changed: &[String]) -> Vec<(String, Value)> {
        self.expire_subscriptions();
        let mut out = Vec::new();
        let subscriptions: Vec<Subscription> = self.subscriptions.values().cloned().collect();
        for sub in subscriptions {
            let named: Vec<&String> = changed.iter().filter(|u| sub.ids.contains(u)).collect();
            if named.is_empty() {
                continue;
            }
            if self.to_drop > 0 {
                self.to_drop -= 1;
                self.deliveries.dropped += 1;
                continue;
            }
            let expires = self.wall(sub.expires);
            let value: Vec<Value> = named
                .iter()
                .map(|u| {
                    let resource = format!("communications/presences('{u}')");
                    json!({
                        "subscriptionId": sub.id,
                        "clientState": sub.client_state,
                        "changeType": "updated",
                        "resource": resource,
                        "subscriptionExpirationDateTime": expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        "resourceData": {
                            "@odata.type": "#Microsoft.Graph.presence",
                            "@odata.id": resource,
                            "id": u,
                        },
                        "tenantId": TENANT,
                    })
                })
                .collect();
            out.push((sub.notification_url.clone(), json!({ "value": value })));
        }
        out
    }
}

/// A change-notification subscription on presences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Its id (a GUID).
    pub id: String,
    /// The `resource` as given.
    pub resource: String,
    /// The users it names.
    pub ids: Vec<String>,
    /// Where notifications go.
    pub notification_url: String,
    /// Where lifecycle notifications go, if given.
    pub lifecycle_url: Option<String>,
    /// The subscriber's secret, sent back with every notification.
    pub client_state: Option<String>,
    /// When it expires, on the fake's clock.
    pub expires: Duration,
    /// How many times it was renewed (`PATCH`).
    pub renewals: u32,
    /// The signed-in user who created it.
    pub creator: String,
}

/// What the fake's notifications became.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deliveries {
    /// Answered with a 2xx.
    pub delivered: u32,
    /// Answered otherwise, or not at all.
    pub failed: u32,
    /// Dropped on purpose ([`Msgraph::drop_notifications`]).
    pub dropped: u32,
}

/// A validation request the fake sent to a notification URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// The URL, with its `validationToken`.
    pub url: String,
    /// The token sent.
    pub token: String,
    /// The answer's status, `None` when there was none within 10 s.
    pub status: Option<u16>,
    /// The answer's `Content-Type`.
    pub content_type: Option<String>,
    /// The answer's body (the first 1,024 bytes).
    pub body: String,
    /// The answer is what Graph accepts: 200, `text/plain`, the token exactly.
    pub accepted: bool,
}

/// The longest a presence subscription lasts (Learn changenotifications-for-presence: "a
/// maximum expiration time of an hour").
pub const SUBSCRIPTION_MAX: Duration = Duration::from_secs(3600);

/// How long Graph waits for the answer to a validation request (Learn webhooks: 10 seconds).
pub const VALIDATION_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP client the fake's validation requests and notifications go out with.
fn outgoing() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(VALIDATION_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("a plain HTTP client")
}

/// POST `body` to `url` as Graph sends notifications; whether a 2xx came back.
async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> bool {
    let answer = http
        .post(url)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(body.to_string())
        .send()
        .await;
    answer.is_ok_and(|a| a.status().is_success())
}

/// Send `notes` from a task, counting the outcomes in `state`.
fn deliver(state: &Shared<Inner>, notes: Vec<(String, Value)>) {
    if notes.is_empty() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        // no runtime to send from (a synchronous caller): every one failed, and said so
        state.lock().deliveries.failed += notes.len() as u32;
        return;
    };
    let state = state.clone();
    runtime.spawn(async move {
        let http = outgoing();
        for (url, body) in notes {
            let ok = post_json(&http, &url, &body).await;
            let mut s = state.lock();
            if ok {
                s.deliveries.delivered += 1;
            } else {
                s.deliveries.failed += 1;
            }
        }
    });
}

agentstatus_fakes::fake! {
    /// A running fake Microsoft Graph server on 127.0.0.1, with its token endpoint
    /// ([`FakeServer`]: `url()`, `faults()`, and `state_changes()`, the times a user's
    /// sessions or preferred presence changed state).
    ///
    /// [`FakeServer`]: agentstatus_fakes::FakeServer
    pub struct Msgraph(Inner);
}

/// The precedence of a session's availability (Learn: "DoNotDisturb > Busy > Available >
/// Away"); availabilities Learn does not rank come last.
fn rank(availability: &str) -> u8 {
    match availability {
        "DoNotDisturb" => 5,
        "Busy" => 4,
        "Available" => 3,
        "Away" => 2,
        "BeRightBack" => 1,
        _ => 0,
    }
}

/// What `user` reads as at `now`: (availability, activity).
pub fn aggregate(user: &User, now: Duration) -> (String, String) {
    let live: Vec<&Session> = user.sessions.values().filter(|s| s.expires > now).collect();
    if live.is_empty() {
        return ("Offline".into(), "Offline".into());
    }
    if let Some(p) = user
        .preferred
        .as_ref()
        .filter(|p| p.expires.is_none_or(|e| e > now))
    {
        return (p.availability.clone(), p.activity.clone());
    }
    let top = live
        .iter()
        .max_by_key(|s| rank(&s.availability))
        .expect("one live session");
    (top.availability.clone(), top.activity.clone())
}

/// The availability/activity pairs `setPresence` takes (NOTES.md#setpresence).
pub const SESSION_STATES: [(&str, &str); 5] = [
    ("Available", "Available"),
    ("Busy", "InACall"),
    ("Busy", "InAConferenceCall"),
    ("Away", "Away"),
    ("DoNotDisturb", "Presenting"),
];

/// The availability/activity pairs `setUserPreferredPresence` takes
/// (NOTES.md#preferred-presence).
pub const PREFERRED_STATES: [(&str, &str); 6] = [
    ("Available", "Available"),
    ("Busy", "Busy"),
    ("DoNotDisturb", "DoNotDisturb"),
    ("BeRightBack", "BeRightBack"),
    ("Away", "Away"),
    ("Offline", "OffWork"),
];

/// The session the fake holds for an availability: the presence adapter's mapping.
pub fn session_for(availability: Availability) -> Option<(&'static str, &'static str)> {
    Some(match availability {
        Availability::Available => ("Available", "Available"),
        Availability::Busy => ("Busy", "InACall"),
        Availability::Away => ("Away", "Away"),
        Availability::Offline => ("Offline", "Offline"),
        _ => return None,
    })
}

/// A user object id (a GUID) for the `n`th sample user.
pub fn user_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

impl Seeded for Msgraph {
    /// A presence read carries no session's `expirationDuration` (NOTES.md#setpresence).
    const EXPIRY_UNREAD: bool = true;

    fn sample_id(n: usize, _: &str) -> String {
        user_id(n)
    }

    fn status(availability: Availability) -> Option<&'static str> {
        session_for(availability).map(|(a, _)| a)
    }

    /// The tenant with `agents` as its users, each (but the Offline ones) in a presence session
    /// of the fake's application that lasts 4 hours, as if the adapter had set it; accepting
    /// the client id [`CLIENT_ID`] with the secret `secrets["client_secret"]`. The settings:
    /// `tenant`, `client_id`, `token_url` (the fake's token endpoint) and `users` (the ids).
    async fn seeded(agents: Vec<Seed>, secrets: Secrets) -> Result<(Self, Settings), String> {
        let secret = secrets.get("client_secret").cloned().unwrap_or_default();
        let fake = Self::start(&secret).await.map_err(|e| e.to_string())?;
        for a in &agents {
            let state = session_for(a.availability)
                .ok_or_else(|| format!("msgraph's fake cannot hold {}", a.availability.as_str()))?;
            fake.add_user(&a.id, &a.name);
            if a.availability != Availability::Offline {
                fake.put_session(&a.id, CLIENT_ID, state.0, state.1, SESSION_RANGE.1);
            }
        }
        let users: Vec<&str> = agents.iter().map(|a| a.id.as_str()).collect();
        let settings = vec![
            ("client_id", json!(CLIENT_ID)),
            ("token_url", json!(fake.token_url())),
            ("users", json!(users.join(","))),
        ];
        Ok((fake, settings))
    }
}

/// How `agentstatus fake` starts this fake with agents (the registry's `seeder(name)`).
pub const SEEDER: Seeder = Seeder::of::<Msgraph>();

impl Msgraph {
    /// Start the fake: tenant [`TENANT`], application [`CLIENT_ID`] with `client_secret`, no
    /// users.
    pub async fn start(client_secret: &str) -> std::io::Result<Self> {
        let state = Inner {
            client_secret: client_secret.into(),
            tokens: HashMap::new(),
            token_lifetime: TOKEN_LIFETIME,
            calls_per_token: None,
            token_requests: 0,
            api_calls: 0,
            issued: 0,
            users: BTreeMap::new(),
            started: Instant::now(),
            started_wall: DateTime::<Utc>::from(std::time::SystemTime::now()),
            skew: chrono::TimeDelta::zero(),
            offset: Duration::ZERO,
            subscriptions: BTreeMap::new(),
            subscriptions_issued: 0,
            to_drop: 0,
            deliveries: Deliveries::default(),
            validations: Vec::new(),
            subscriptions_page: None,
            next_link_origin: None,
        };
        let api = || {
            Router::new()
                .route("/users/{id}/presence", get(get_presence))
                .route(
                    "/communications/presences/{id}/{action}",
                    post(presence_action),
                )
                .route(
                    "/communications/microsoft.graph.getPresencesByUserId",
                    post(get_presences),
                )
                .route(
                    "/subscriptions",
                    post(create_subscription).get(list_subscriptions),
                )
                .route(
                    "/subscriptions/{id}",
                    patch(renew_subscription)
                        .delete(delete_subscription)
                        .get(get_subscription),
                )
        };
        // each copy of the API knows the base path it is served under, for the absolute
        // `@odata.nextLink`s it writes (a nested router's handlers see the path without it)
        let routes = api()
            .layer(agentstatus_fakes::axum::Extension(BasePath("")))
            .nest(
                "/v1.0",
                api().layer(agentstatus_fakes::axum::Extension(BasePath("/v1.0"))),
            )
            .route("/{tenant}/oauth2/v2.0/token", post(token));
        Fake::start(state, routes).await.map(Self)
    }

    /// The token endpoint: `<url>/<TENANT>/oauth2/v2.0/token`.
    pub fn token_url(&self) -> String {
        format!("{}/{TENANT}/oauth2/v2.0/token", self.url())
    }

    /// Add (or rename) user `id`, without sessions: it reads Offline.
    pub fn add_user(&self, id: &str, name: &str) {
        let mut s = self.0.lock();
        s.users.entry(id.into()).or_default().name = name.into();
    }

    /// Put a presence session `session` (an application's id) on user `id`, lasting `lifetime`
    /// from now: someone else's application, or a Teams client.
    pub fn put_session(
        &self,
        id: &str,
        session: &str,
        availability: &str,
        activity: &str,
        lifetime: Duration,
    ) {
        let mut s = self.0.lock();
        let expires = s.now() + lifetime;
        if let Some(u) = s.users.get_mut(id) {
            u.sessions.insert(
                session.into(),
                Session {
                    availability: availability.into(),
                    activity: activity.into(),
                    expires,
                },
            );
        }
    }

    /// User `id` as the fake stores it now.
    pub fn user(&self, id: &str) -> Option<User> {
        self.0.lock().users.get(id).cloned()
    }

    /// What user `id` reads as now: (availability, activity).
    pub fn presence_of(&self, id: &str) -> Option<(String, String)> {
        let s = self.0.lock();
        let now = s.now();
        s.users.get(id).map(|u| aggregate(u, now))
    }

    /// The server's clock is `seconds` ahead of ours (behind: negative), as a real server's may
    /// be: every answer's `Date` says so (`Faults::set_clock_skew`), and the times the fake
    /// reads and writes (a subscription's `expirationDateTime`, checked to be in the future and
    /// at most an hour away, and answered; a notification's `subscriptionExpirationDateTime`)
    /// are by that clock.
    pub fn set_clock_skew(&self, seconds: i64) {
        self.faults().set_clock_skew(seconds);
        self.0.lock().skew = chrono::TimeDelta::seconds(seconds);
    }

    /// Move the fake's clock forward: sessions, preferred presences, tokens and subscriptions
    /// expire; a user whose presence changed by it (a session that ended) is notified to the
    /// subscriptions that are still alive.
    pub fn advance(&self, by: Duration) {
        let notes = {
            let mut s = self.0.lock();
            let before = s.aggregates();
            s.offset += by;
            let after = s.aggregates();
            let changed: Vec<String> = after
                .iter()
                .filter(|(id, a)| before.get(*id) != Some(a))
                .map(|(id, _)| id.clone())
                .collect();
            s.notifications(&changed)
        };
        deliver(self.0.shared(), notes);
    }

    /// A delegated access token of user `user` (as if the user signed in to the fake's
    /// application): what `POST /subscriptions` needs. It expires as the application's tokens
    /// do ([`Msgraph::set_token_lifetime`]).
    pub fn delegated_token(&self, user: &str) -> String {
        let mut s = self.0.lock();
        s.issued += 1;
        let token = format!(
            "fake-graph-delegated-{:016x}",
            s.issued.wrapping_mul(0x9e37_79b9)
        );
        let expires = s.now() + s.token_lifetime;
        s.tokens.insert(
            token.clone(),
            Token {
                user: Some(user.into()),
                expires,
                calls_left: None,
            },
        );
        token
    }

    /// The live subscriptions.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        let mut s = self.0.lock();
        s.expire_subscriptions();
        s.subscriptions.values().cloned().collect()
    }

    /// The next `n` notifications (one POST to one subscription each) are not sent: a delivery
    /// Graph gave up on.
    pub fn drop_notifications(&self, n: u32) {
        self.0.lock().to_drop = n;
    }

    /// What the notifications became so far.
    pub fn deliveries(&self) -> Deliveries {
        self.0.lock().deliveries
    }

    /// The validation requests sent so far, in order.
    pub fn validations(&self) -> Vec<Validation> {
        self.0.lock().validations.clone()
    }

    /// Send lifecycle event `event` (`reauthorizationRequired`, `subscriptionRemoved`,
    /// `missed`) for every live subscription, to its `lifecycleNotificationUrl` (its
    /// notification URL when it has none), and wait for the answers; `subscriptionRemoved`
    /// removes the subscription first, as Graph does. How many were answered with a 2xx.
    pub async fn lifecycle(&self, event: &str) -> usize {
        let notes: Vec<(String, Value)> = {
            let mut s = self.0.lock();
            s.expire_subscriptions();
            let subs: Vec<Subscription> = s.subscriptions.values().cloned().collect();
            if event == "subscriptionRemoved" {
                s.subscriptions.clear();
            }
            subs.iter()
                .map(|sub| {
                    let url = sub
                        .lifecycle_url
                        .clone()
                        .unwrap_or_else(|| sub.notification_url.clone());
                    let expires = s.wall(sub.expires);
                    let body = json!({"value": [{
                        "lifecycleEvent": event,
                        "subscriptionId": sub.id,
                        "clientState": sub.client_state,
                        "subscriptionExpirationDateTime": expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        "tenantId": TENANT,
                        "organizationId": TENANT,
                    }]});
                    (url, body)
                })
                .collect()
        };
        let http = outgoing();
        let mut ok = 0;
        for (url, body) in notes {
            if post_json(&http, &url, &body).await {
                ok += 1;
            }
        }
        ok
    }

    /// POST `body` to every live subscription's notification URL, as Graph would (a test's
    /// forged or malformed notification); how many were answered with a 2xx.
    pub async fn post_to_subscribers(&self, body: &Value) -> usize {
        let urls: Vec<String> = self
            .subscriptions()
            .into_iter()
            .map(|s| s.notification_url)
            .collect();
        let http = outgoing();
        let mut ok = 0;
        for url in urls {
            if post_json(&http, &url, body).await {
                ok += 1;
            }
        }
        ok
    }

    /// `GET /subscriptions` answers `n` subscriptions a page (at least one), each page but the
    /// last with an `@odata.nextLink` (`$skiptoken`) to the next, as Graph pages a large list.
    pub fn page_subscriptions(&self, n: usize) {
        self.0.lock().subscriptions_page = Some(n.max(1));
    }

    /// The `@odata.nextLink`s point to `origin` (`http://host:port`) instead of the fake: a
    /// server (or a man in the middle) sending the client elsewhere with its token.
    pub fn next_links_to(&self, origin: &str) {
        self.0.lock().next_link_origin = Some(origin.trim_end_matches('/').to_string());
    }

    /// The `expires_in` of the tokens issued from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.0.lock().token_lifetime = lifetime;
    }

    /// Tokens issued from now on expire, as far as the API is concerned, after `calls` API
    /// calls (the server's clock running ahead of the client's): the next call with them is
    /// 401 `InvalidAuthenticationToken`.
    pub fn expire_tokens_after_calls(&self, calls: u32) {
        self.0.lock().calls_per_token = Some(calls);
    }

    /// Every token issued so far stops working (as if expired).
    pub fn expire_tokens(&self) {
        self.0.lock().tokens.clear();
    }

    /// How many token requests the token endpoint answered (successful or not).
    pub fn token_requests(&self) -> u32 {
        self.0.lock().token_requests
    }

    /// How many API calls (token endpoint excluded) reached the fake.
    pub fn api_calls(&self) -> u32 {
        self.0.lock().api_calls
    }
}

/// An RFC 6749 §5.2 error answer, in the identity platform's shape.
fn token_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    reply(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description}"),
            "error_codes": [code],
            "timestamp": "2026-01-01 00:00:00Z",
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

/// `POST /{tenant}/oauth2/v2.0/token`: the client credentials grant.
async fn token(
    State(state): State<Shared<Inner>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock();
    s.token_requests += 1;
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    }
    if tenant != TENANT {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            "Tenant not found. Check to make sure you have the correct tenant ID.",
        );
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    // the client may authenticate in the body or with HTTP Basic (RFC 6749 §2.3.1)
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|p| {
            let (id, secret) = p.split_once(':')?;
            let decode = |x: &str| {
                form_urlencoded::parse(format!("x={x}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((decode(id)?, decode(secret)?))
        });
    let (client_id, secret) = match (&basic, form.get("client_id"), form.get("client_secret")) {
        (Some((id, secret)), _, None) => (Some(id.clone()), Some(secret.clone())),
        (None, id, secret) => (id.cloned(), secret.cloned()),
        (Some(_), _, Some(_)) => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                70002,
                "The client must authenticate with one method only.",
            );
        }
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if client_id.as_deref() != Some(CLIENT_ID) {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            "Application was not found in the directory.",
        );
    }
    if secret.as_deref() != Some(s.client_secret.as_str()) || s.client_secret.is_empty() {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided.",
        );
    }
    if form.get("scope").map(String::as_str) != Some(SCOPE) {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
        );
    }
    s.issued += 1;
    let access_token = format!(
        "fake-graph-access-{:016x}",
        s.issued.wrapping_mul(0x9e37_79b9)
    );
    let expires = s.now() + s.token_lifetime;
    let calls_left = s.calls_per_token;
    s.tokens.insert(
        access_token.clone(),
        Token {
            user: None,
            expires,
            calls_left,
        },
    );
    let lifetime = s.token_lifetime.as_secs();
    reply(
        StatusCode::OK,
        json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
        }),
    )
}

/// Graph's OData error body.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    reply(
        status,
        json!({
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": "2026-01-01T00:00:00",
                    "request-id": "00000000-0000-0000-0000-000000000001",
                    "client-request-id": "00000000-0000-0000-0000-000000000001",
                }
            }
        }),
    )
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("User {id} was not found in the tenant."),
    )
}

/// The bearer token, checked (and one of its calls used), or the 401 answer: the signed-in
/// user of a delegated token, `None` for the application's own.
fn authenticate(s: &mut Inner, headers: &HeaderMap) -> Result<Option<String>, Response> {
    s.api_calls += 1;
    let now = s.now();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token is empty.",
        ));
    };
    let expired = || {
        error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        )
    };
    let Some(t) = s.tokens.get_mut(token) else {
        return Err(expired());
    };
    if t.expires <= now || t.calls_left == Some(0) {
        return Err(expired());
    }
    if let Some(left) = t.calls_left.as_mut() {
        *left -= 1;
    }
    Ok(t.user.clone())
}

fn presence_json(id: &str, availability: &str, activity: &str) -> Value {
    json!({
        "@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#users('{id}')/presence/$entity"),
        "id": id,
        "availability": availability,
        "activity": activity,
        "statusMessage": null,
    })
}

/// The JSON object of a request body, or the 400 answer.
fn body_object(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, Response> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(bad_request("The request body must be application/json."));
    }
    match agentstatus_fakes::serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(bad_request("The request body is not a JSON object.")),
    }
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

/// An ISO 8601 duration of hours, minutes and seconds (`PT1H30M`, `PT300S`); days too (`P1D`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut secs: u64 = 0;
    let mut take = |part: &str, units: &[(char, u64)]| -> Option<()> {
        let mut number = String::new();
        let mut next = 0;
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
            } else {
                let at = units[next..].iter().position(|(u, _)| *u == c)? + next;
                let n: u64 = number.parse().ok()?;
                secs = secs.checked_add(n.checked_mul(units[at].1)?)?;
                number.clear();
                next = at + 1;
            }
        }
        number.is_empty().then_some(())
    };
    take(days, &[('D', 86_400)])?;
    take(time, &[('H', 3600), ('M', 60), ('S', 1)])?;
    if rest.is_empty() || rest.ends_with('T') {
        return None;
    }
    Some(Duration::from_secs(secs))
}

async fn get_presence(
    State(state): State<Shared<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = authenticate(&mut s, &headers) {
        return r;
    }
    let now = s.now();
    match s.users.get(&id) {
        Some(u) => {
            let (a, act) = aggregate(u, now);
            reply(StatusCode::OK, presence_json(&id, &a, &act))
        }
        None => not_found(&id),
    }
}

/// `POST /communications/presences/{id}/microsoft.graph.<action>` (the namespace may be left
/// out, as Graph allows: `.../setPresence`).
async fn presence_action(
    State(state): State<Shared<Inner>>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = authenticate(&mut s, &headers) {
        return r;
    }
    let action = action.strip_prefix("microsoft.graph.").unwrap_or(&action);
    if !matches!(
        action,
        "setPresence" | "clearPresence" | "setUserPreferredPresence" | "clearUserPreferredPresence"
    ) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Resource not found for the segment '{action}'."),
        );
    }
    let map = if action == "clearUserPreferredPresence" {
        Map::new()
    } else {
        match body_object(&headers, &body) {
            Ok(m) => m,
            Err(r) => return r,
        }
    };
    let now = s.now();
    let Some(user) = s.users.get_mut(&id) else {
        return not_found(&id);
    };
    let before = aggregate(user, now);
    let before_sessions = user.sessions.clone();
    let before_preferred = user.preferred.clone();
    match action {
        "setPresence" => {
            let Some(session) = text(&map, "sessionId").filter(|t| !t.is_empty()) else {
                return bad_request("sessionId is required: the application's id.");
            };
            if session != CLIENT_ID {
                return bad_request("sessionId must be the id of the calling application.");
            }
            let (Some(availability), Some(activity)) =
                (text(&map, "availability"), text(&map, "activity"))
            else {
                return bad_request("availability and activity are required.");
            };
            if !SESSION_STATES.contains(&(availability, activity)) {
                return bad_request(&format!(
                    "The combination of availability '{availability}' and activity '{activity}' is not supported."
                ));
            }
            let lifetime = match map.get("expirationDuration") {
                None | Some(Value::Null) => DEFAULT_SESSION,
                Some(Value::String(d)) => match parse_duration(d) {
                    Some(l) if (SESSION_RANGE.0..=SESSION_RANGE.1).contains(&l) => l,
                    _ => {
                        return bad_request("expirationDuration must be between PT5M and PT4H.");
                    }
                },
                Some(_) => return bad_request("expirationDuration must be a duration."),
            };
            user.sessions.insert(
                session.into(),
                Session {
                    availability: availability.into(),
                    activity: activity.into(),
                    expires: now + lifetime,
                },
            );
        }
        "clearPresence" => {
            let Some(session) = text(&map, "sessionId").filter(|t| !t.is_empty()) else {
                return bad_request("sessionId is required: the application's id.");
            };
            if session != CLIENT_ID {
                return bad_request("sessionId must be the id of the calling application.");
            }
            user.sessions.remove(session);
        }
        "setUserPreferredPresence" => {
            let (Some(availability), Some(activity)) =
                (text(&map, "availability"), text(&map, "activity"))
            else {
                return bad_request("availability and activity are required.");
            };
            if !PREFERRED_STATES.contains(&(availability, activity)) {
                return bad_request(&format!(
                    "The combination of availability '{availability}' and activity '{activity}' is not supported."
                ));
            }
            let expires = match map.get("expirationDuration") {
                None | Some(Value::Null) => None,
                Some(Value::String(d)) => match parse_duration(d) {
                    Some(l) if !l.is_zero() => Some(now + l),
                    _ => return bad_request("expirationDuration is not a valid duration."),
                },
                Some(_) => return bad_request("expirationDuration must be a duration."),
            };
            user.preferred = Some(Preferred {
                availability: availability.into(),
                activity: activity.into(),
                expires,
            });
        }
        _ => user.preferred = None,
    }
    // a state change: what the user reads as, or a session's or the preference's state (not
    // a session's expiry alone: a keep-alive changes nothing anyone sees)
    let state_of = |m: &BTreeMap<String, Session>| -> Vec<(String, String, String)> {
        m.iter()
            .filter(|(_, v)| v.expires > now)
            .map(|(k, v)| (k.clone(), v.availability.clone(), v.activity.clone()))
            .collect()
    };
    let preferred_state = |p: &Option<Preferred>| {
        p.as_ref()
            .map(|p| (p.availability.clone(), p.activity.clone()))
    };
    let reads_otherwise = aggregate(user, now) != before;
    let changed = reads_otherwise
        || state_of(&user.sessions) != state_of(&before_sessions)
        || preferred_state(&user.preferred) != preferred_state(&before_preferred);
    // subscribers hear of what the user reads as (the presence resource), not of sessions
    let notes = if reads_otherwise {
        s.notifications(std::slice::from_ref(&id))
    } else {
        Vec::new()
    };
    drop(s);
    deliver(&state, notes);
    if changed {
        state.changed();
    }
    Response::builder()
        .status(StatusCode::OK)
        .body(agentstatus_fakes::axum::body::Body::empty())
        .expect("static response")
}

/// `POST /communications/getPresencesByUserId`.
async fn get_presences(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = authenticate(&mut s, &headers) {
        return r;
    }
    let map = match body_object(&headers, &body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Some(ids) = map.get("ids").and_then(Value::as_array) else {
        return bad_request("ids is required: the users' ids.");
    };
    if ids.len() > MAX_IDS {
        return bad_request(&format!(
            "At most {MAX_IDS} user ids are supported per request; {} were given.",
            ids.len()
        ));
    }
    let now = s.now();
    let mut value = Vec::new();
    for id in ids {
        let Some(id) = id.as_str() else {
            return bad_request("ids must be strings.");
        };
        if let Some(u) = s.users.get(id) {
            let (a, act) = aggregate(u, now);
            let mut p = presence_json(id, &a, &act);
            if let Some(o) = p.as_object_mut() {
                o.remove("@odata.context");
            }
            value.push(p);
        }
    }
    reply(
        StatusCode::OK,
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.presence)",
            "value": value,
        }),
    )
}

/// The users a presence subscription's `resource` names: `communications/presences/{id}` or
/// `communications/presences?$filter=id in ('{id}', ...)` (a leading `/` allowed); `None` for
/// anything else.
pub fn resource_ids(resource: &str) -> Option<Vec<String>> {
    let rest = resource
        .trim_start_matches('/')
        .strip_prefix("communications/presences")?;
    if let Some(id) = rest.strip_prefix('/') {
        let ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        return ok.then(|| vec![id.to_string()]);
    }
    let filter = rest.strip_prefix("?$filter=")?;
    let list = filter
        .strip_prefix("id in (")
        .or_else(|| filter.strip_prefix("id%20in%20("))?
        .strip_suffix(')')?;
    let mut ids = Vec::new();
    for part in list.split(',') {
        let id = part.trim().strip_prefix('\'')?.strip_suffix('\'')?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            return None;
        }
        ids.push(id.to_string());
    }
    Some(ids)
}

fn subscription_json(s: &Inner, sub: &Subscription) -> Value {
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
        "id": sub.id,
        "resource": sub.resource,
        "applicationId": CLIENT_ID,
        "changeType": "updated",
        "clientState": sub.client_state,
        "notificationUrl": sub.notification_url,
        "lifecycleNotificationUrl": sub.lifecycle_url,
        "expirationDateTime": s.wall(sub.expires).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "creatorId": sub.creator,
        "includeResourceData": false,
        "latestSupportedTlsVersion": "v1_2",
        "encryptionCertificate": null,
        "encryptionCertificateId": null,
        "notificationUrlAppId": null,
    })
}

/// `expirationDateTime` of `map`, on the fake's clock, checked: in the future, at most
/// [`SUBSCRIPTION_MAX`] away.
fn subscription_expiry(s: &Inner, map: &Map<String, Value>) -> Result<Duration, Response> {
    let Some(text) = text(map, "expirationDateTime") else {
        return Err(bad_request("expirationDateTime is required."));
    };
    let Ok(at) = DateTime::parse_from_rfc3339(text) else {
        return Err(bad_request(
            "expirationDateTime is not a valid date and time.",
        ));
    };
    let now = s.now();
    let wall_now = s.wall(now);
    let ahead = at.with_timezone(&Utc).signed_duration_since(wall_now);
    let Ok(ahead) = ahead.to_std() else {
        return Err(bad_request(
            "Subscription expiration must be in the future.",
        ));
    };
    if ahead > SUBSCRIPTION_MAX {
        return Err(bad_request(
            "Subscription expiration can only be 60 minutes in the future.",
        ));
    }
    Ok(now + ahead)
}

/// A URL the fake can send to: `https://`, or `http://` on loopback (the tests' receivers).
fn sendable(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    match u.scheme() {
        "https" => true,
        "http" => matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    }
}

/// The validation request Graph sends before creating a subscription: POST
/// `<url>?validationToken=<token>`; the answer must be 200, `text/plain`, the token (decoded)
/// exactly, within 10 s.
async fn validate(state: &Shared<Inner>, url: &str, token: &str) -> bool {
    let Ok(mut target) = reqwest::Url::parse(url) else {
        return false;
    };
    target
        .query_pairs_mut()
        .append_pair("validationToken", token);
    let answer = outgoing()
        .post(target.clone())
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body("")
        .send()
        .await;
    let (status, content_type, body) = match answer {
        Ok(a) => {
            let status = a.status().as_u16();
            let content_type = a
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = a.text().await.unwrap_or_default();
            (Some(status), content_type, body)
        }
        Err(_) => (None, None, String::new()),
    };
    let accepted = status == Some(200)
        && content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("text/plain"))
        && body == token;
    let body: String = body.chars().take(1024).collect();
    state.lock().validations.push(Validation {
        url: target.to_string(),
        token: token.into(),
        status,
        content_type,
        body,
        accepted,
    });
    accepted
}

/// `POST /subscriptions`.
async fn create_subscription(
    State(state): State<Shared<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (sub, token) = {
        let mut s = state.lock();
        let user = match authenticate(&mut s, &headers) {
            Ok(u) => u,
            Err(r) => return r,
        };
        let Some(user) = user else {
            // Learn changenotifications-for-presence: "Application | Not supported."
            return error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "Presence subscriptions need a delegated token (Presence.Read.All); application permissions are not supported.",
            );
        };
        let map = match body_object(&headers, &body) {
            Ok(m) => m,
            Err(r) => return r,
        };
        if text(&map, "changeType") != Some("updated") {
            return bad_request("changeType must be 'updated' for presence subscriptions.");
        }
        let Some(resource) = text(&map, "resource") else {
            return bad_request("resource is required.");
        };
        let Some(ids) = resource_ids(resource) else {
            return bad_request(&format!("Resource '{resource}' is not supported."));
        };
        if ids.len() > MAX_IDS {
            return bad_request(&format!(
                "At most {MAX_IDS} user ids are supported per subscription; {} were given.",
                ids.len()
            ));
        }
        if map.get("includeResourceData") == Some(&Value::Bool(true))
            && map.get("encryptionCertificate").is_none_or(Value::is_null)
        {
            return bad_request(
                "encryptionCertificate is required when includeResourceData is true.",
            );
        }
        let Some(url) = text(&map, "notificationUrl").filter(|u| sendable(u)) else {
            return bad_request("notificationUrl must be an https URL.");
        };
        let lifecycle_url = match map.get("lifecycleNotificationUrl") {
            None | Some(Value::Null) => None,
            Some(Value::String(u)) if sendable(u) => Some(u.clone()),
            Some(_) => return bad_request("lifecycleNotificationUrl must be an https URL."),
        };
        let client_state = match map.get("clientState") {
            None | Some(Value::Null) => None,
            Some(Value::String(c)) if c.chars().count() <= 255 => Some(c.clone()),
            Some(_) => return bad_request("clientState is at most 255 characters."),
        };
        let expires = match subscription_expiry(&s, &map) {
            Ok(e) => e,
            Err(r) => return r,
        };
        s.subscriptions_issued += 1;
        let n = s.subscriptions_issued;
        let sub = Subscription {
            id: format!("5ab5c0de-0000-4000-8000-{n:012}"),
            resource: resource.into(),
            ids,
            notification_url: url.into(),
            lifecycle_url,
            client_state,
            expires,
            renewals: 0,
            creator: user,
        };
        let token = format!(
            "Validation: Testing client application reachability for subscription Request-Id: 0000{n:04}-abcd-4000-8000-000000000000"
        );
        (sub, token)
    };
    // Graph validates before it answers, with no lock held (the receiver may call back)
    let mut urls = vec![sub.notification_url.clone()];
    if let Some(l) = sub
        .lifecycle_url
        .as_ref()
        .filter(|l| **l != sub.notification_url)
    {
        urls.push(l.clone());
    }
    for url in urls {
        if !validate(&state, &url, &token).await {
            return bad_request(
                "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
            );
        }
    }
    let mut s = state.lock();
    let answer = subscription_json(&s, &sub);
    s.subscriptions.insert(sub.id.clone(), sub);
    drop(s);
    state.changed();
    reply(StatusCode::CREATED, answer)
}

fn subscription_not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("The object '{id}' doesn't exist."),
    )
}

/// `PATCH /subscriptions/{id}`: a new `expirationDateTime`.
async fn renew_subscription(
    State(state): State<Shared<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = authenticate(&mut s, &headers) {
        return r;
    }
    let map = match body_object(&headers, &body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    s.expire_subscriptions();
    if !s.subscriptions.contains_key(&id) {
        return subscription_not_found(&id);
    }
    let expires = match subscription_expiry(&s, &map) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let sub = s.subscriptions.get_mut(&id).expect("checked above");
    sub.expires = expires;
    sub.renewals += 1;
    let sub = sub.clone();
    let answer = subscription_json(&s, &sub);
    reply(StatusCode::OK, answer)
}

/// `DELETE /subscriptions/{id}`.
async fn delete_subscription(
    State(state): State<Shared<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = authenticate(&mut s, &headers) {
        return r;
    }
    s.expire_subscriptions();
    if s.subscriptions.remove(&id).is_none() {
        return subscription_not_found(&id);
    }
    drop(s);
    state.changed();
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(agentstatus_fakes::axum::body::Body::empty())
        .expect("static response")
}

/// The base path a copy of the API is served under: `""` or Graph's own `/v1.0`.
#[derive(Debug, Clone, Copy)]
struct BasePath(&'static str);

/// `GET /subscriptions`: the signed-in user's (a delegated token), or every one (the
/// application's token).
async fn list_subscriptions(
    State(state): State<Shared<Inner>>,
    agentstatus_fakes::axum::Extension(BasePath(base)): agentstatus_fakes::axum::Extension<
        BasePath,
    >,
    uri: agentstatus_fakes::axum::http::Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock();
    let user = match authenticate(&mut s, &headers) {
        Ok(u) => u,
        Err(r) => return r,
    };
    s.expire_subscriptions();
    let mut value: Vec<Value> = s
        .subscriptions
        .values()
        .filter(|sub| user.as_ref().is_none_or(|u| *u == sub.creator))
        .map(|sub| subscription_json(&s, sub))
        .collect();
    let mut body = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions",
    });
    if let Some(size) = s.subscriptions_page {
        let from: usize = query
            .get("$skiptoken")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let total = value.len();
        value = value.into_iter().skip(from).take(size).collect();
        if from + size < total {
            let origin = s.next_link_origin.clone().unwrap_or_else(|| {
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("127.0.0.1");
                format!("http://{host}")
            });
            // absolute, under the base path the request came to (`/v1.0`), as Graph writes it
            body["@odata.nextLink"] = json!(format!(
                "{origin}{base}{}?$skiptoken={}",
                uri.path(),
                from + size
            ));
        }
    }
    body["value"] = json!(value);
    reply(StatusCode::OK, body)
}

/// `GET /subscriptions/{id}`.
async fn get_subscription(
    State(state): State<Shared<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock();
    if let Err(r) = authenticate(&mut s, &headers) {
        return r;
    }
    s.expire_subscriptions();
    match s.subscriptions.get(&id) {
        Some(sub) => reply(StatusCode::OK, subscription_json(&s, sub)),
        None => subscription_not_found(&id),
    }
}
