//! Zulip: a user's presence (`active`, `idle`, or offline when older than the server's offline
//! threshold), invisible mode (the user status `away`) and the user status (text and emoji), read
//! by numeric user id; only the credentials' own user can be set (`/users/me/...`). Evidence:
//! `specs/zulip/NOTES.md`.
//!
//! | vendor | vendor state (read) | Availability | set sends |
//! |---|---|---|---|
//! | Zulip | presence `active` (active within the offline threshold) | Available | `POST /users/me/status away=false` (whatever the read shows), then `POST /users/me/presence status=active` (own user only) |
//! | Zulip | presence `idle` (connected, not active) | Away | unsupported: idle is the server's reading of a client's silence, not a state it sets |
//! | Zulip | no presence within the offline threshold (200 s by default), no presence data, or invisible mode (user status `away`) | Offline | `POST /users/me/status away=true` (invisible mode; own user only) |
//! | Zulip | — | Busy | unsupported |
//!
//! The vendor status in [`Detail`] is the presence word (`active`, `idle`, `offline`),
//! ` invisible` in invisible mode, and the user status, `status: :emoji_name: text`. A presence
//! lasts as long as its client reports it: an Available set here reads Available for the
//! server's offline threshold, then offline unless a client of the user (or a later `set`)
//! reports again. Setting another user is refused (`Failure::OwnAgentOnly`): Zulip has no route
//! for it.
//!
//! `set` writes whatever the read before it shows (that read may be a replica's, behind: a
//! skip decided from it would leave the user as it was; the writes then change nothing), and a
//! read-back that shows the availability from before the write (as a replica behind it does)
//! is read again and not taken for a `Conflict` (specs/zulip/NOTES.md#stale-reads). `set_many`
//! skips a user its read shows right.
//!
//! `watch` uses the event queue ([`ZulipEvents`]) when the adapter has a long-poll client
//! ([`ZulipPresence::with_events_client`]; the registry entry gives it one).

use std::sync::OnceLock;

use agentstatus_presence::adapter::{Adapter, ErrorBody, Failed, Step, call, within};
use agentstatus_presence::bulk::{self, Applied, BulkOptions, BulkResult};
use agentstatus_presence::registry::{Entry, Setting};
use agentstatus_presence::watch::{ChangeFeed, WatchOptions};
use agentstatus_presence::{
    AgentPresence, Availability, Detail, Failure, ListFilter, Presence, PresenceError, Vendor,
    async_trait,
};
use serde_json::Value;

pub use crate::events::ZulipEvents;
use crate::{Client, types};

pub(crate) const VENDOR: Vendor = Vendor::new("zulip");

/// The offline threshold for a server that does not say its own (the document: "use 140 for
/// older Zulip servers").
const OLD_OFFLINE_THRESHOLD_SECS: f64 = 140.0;

agentstatus_presence::adapter! {
    /// [`Presence`](agentstatus_presence::Presence) over a Zulip client (HTTP Basic: a user's
    /// e-mail and API key). Reading needs any user's key; only that user can be set.
    pub struct ZulipPresence(client: Client) {
        /// The long-poll client of `watch` (a timeout above the server's heartbeat).
        events: Option<Client> = None,
        /// The credentials' own user id, learnt once.
        me: OnceLock<String> = OnceLock::new(),
        /// The event reader's longest delay before registering again after a restart with a
        /// new API feature level.
        restart_spread: std::time::Duration = crate::events::RESTART_SPREAD,
    }
}

impl ZulipPresence {
    /// `watch` reads the event queue with `client` (the same server and credentials, with a
    /// timeout above the server's heartbeat: 90 s or more, [`events_config`]); without it,
    /// `watch` polls.
    pub fn with_events_client(self, client: Client) -> Self {
        Self {
            events: Some(client),
            ..self
        }
    }

    /// The event reader registers a new queue at most `spread` after a `restart` event that says
    /// a new API feature level (default [`crate::events::RESTART_SPREAD`], five minutes; zero:
    /// at once). See [`ZulipEvents`].
    pub fn with_restart_spread(self, spread: std::time::Duration) -> Self {
        Self {
            restart_spread: spread,
            ..self
        }
    }
}

/// A client configuration for the long-poll of `GET /events`: `base`, with a timeout (and a
/// retry deadline) of two minutes, above the server's heartbeat (45-55 s) and its advice to use
/// `event_queue_longpoll_timeout_seconds` (90 s).
pub fn events_config(base: agentstatus_runtime::ClientConfig) -> agentstatus_runtime::ClientConfig {
    let long = std::time::Duration::from_secs(120);
    let mut retry = base.retry.clone();
    retry.deadline = retry.deadline.max(long);
    let connect = base.connect_timeout;
    base.with_retry(retry).with_timeouts(long, connect)
}

impl ErrorBody for types::CodedError {
    fn parts(self) -> (Option<String>, Option<String>) {
        (Some(self.code), Some(self.msg))
    }
}

impl ErrorBody for types::BadEventQueueIdError {
    fn parts(self) -> (Option<String>, Option<String>) {
        (Some(self.code), Some(self.msg))
    }
}

/// `POST /users/me/status`'s error answers: one `CodedError` under six names.
impl ErrorBody for types::UpdateStatusResponse {
    fn parts(self) -> (Option<String>, Option<String>) {
        use types::UpdateStatusResponse as R;
        match self {
            R::Variant0(e) | R::Variant1(e) | R::Variant2(e) | R::Variant3(e) | R::Variant4(e)
            | R::Variant5(e) => e.parts(),
        }
    }
}

/// The Availability of a presence word (`active`, `idle`, `offline`) and invisible mode.
pub fn availability(word: &str, invisible: bool) -> Availability {
    match word {
        _ if invisible => Availability::Offline,
        "active" => Availability::Available,
        "idle" => Availability::Away,
        _ => Availability::Offline,
    }
}

/// A user's status as the server sends it (`GET /users/{id}/status`, `/register`'s
/// `user_status`): invisible mode, and the text and emoji.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Status {
    pub away: bool,
    pub text: String,
    pub emoji: String,
}

impl Status {
    pub(crate) fn from_json(v: &Value) -> Self {
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        Self {
            away: v.get("away").and_then(Value::as_bool).unwrap_or(false),
            text: text("status_text"),
            emoji: text("emoji_name"),
        }
    }
}

/// The vendor's words: the presence word, ` invisible`, `, status: :emoji: text`.
fn vendor_status(word: &str, status: &Status) -> String {
    let mut out = word.to_string();
    if status.away {
        out.push_str(" invisible");
    }
    let mut said = Vec::new();
    if !status.emoji.is_empty() {
        said.push(format!(":{}:", status.emoji));
    }
    if !status.text.is_empty() {
        said.push(status.text.clone());
    }
    if !said.is_empty() {
        out.push_str(", status: ");
        out.push_str(&said.join(" "));
    }
    out
}

fn presence(id: &str, name: Option<String>, word: &str, status: &Status) -> AgentPresence {
    AgentPresence::new(
        id,
        name,
        availability(word, status.away),
        Detail::new(vendor_status(word, status)),
    )
}

/// A generated answer as JSON; an answer the generated type refuses (a field the document does
/// not have: specs/zulip/NOTES.md#closed-answers) is read as the JSON it is. (`Failed` is the
/// toolkit's error, as large as `call` returns it.)
#[allow(clippy::result_large_err)]
pub(crate) fn lenient<T: serde::Serialize, E>(
    answer: Result<T, Failed<E>>,
) -> Result<Value, Failed<E>> {
    match answer {
        Ok(v) => Ok(serde_json::to_value(v).unwrap_or(Value::Null)),
        Err(f) => {
            // the body as JSON when the generated type refused it; the call's error else
            let read = match &f.error {
                progenitor_client::Error::InvalidResponsePayload(bytes, _) => {
                    serde_json::from_slice(bytes).ok()
                }
                _ => None,
            };
            read.ok_or(f)
        }
    }
}

/// The message of a Zulip error answer (`{"result": "error", "msg", "code"}`).
fn message(f: &Failed<types::CodedError>) -> Option<&str> {
    match &f.error {
        progenitor_client::Error::ErrorResponse(rv) => Some(rv.msg.as_str()),
        _ => None,
    }
}

fn invalid_response(message: String) -> PresenceError {
    PresenceError::new(
        VENDOR,
        Failure::InvalidResponse {
            status: Some(200),
            message,
        },
    )
}

/// Reads of the own user after a write at most, while they show the availability from before
/// it ([`ZulipPresence::change`]).
const READ_BACKS: usize = 3;

/// The pause between two of those reads.
const READ_BACK_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// One user's read: name, presence word and status.
struct Read {
    name: Option<String>,
    word: String,
    status: Status,
}

impl Read {
    fn availability(&self) -> Availability {
        availability(&self.word, self.status.away)
    }

    fn presence(self, agent: &str) -> AgentPresence {
        presence(agent, self.name, &self.word, &self.status)
    }
}

impl ZulipPresence {
    /// Change the own user `agent` from `current` (just read) to `desired`, and read it back.
    ///
    /// Available ends invisible mode whatever `current` shows (it may be a replica's read,
    /// behind: an invisible user it shows visible would stay invisible). A read-back that shows
    /// the availability `current` showed may be a replica's too, behind the write the server
    /// acknowledged: read again ([`READ_BACKS`] reads in all, [`READ_BACK_PAUSE`] apart); if
    /// every one shows it, the presence is the one written (the write's own answers say
    /// nothing of the state), not a `Conflict`. A read-back showing a third availability (no
    /// replica behind the write shows it) is a `Conflict`.
    async fn change(
        &self,
        agent: &str,
        current: &AgentPresence,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        match desired {
            Availability::Available => {
                self.set_away(agent, false).await?;
                self.report_active(agent).await?;
            }
            _ => self.set_away(agent, true).await?,
        }
        let mut after = self.read_parts(agent).await?;
        for _ in 1..READ_BACKS {
            if after.availability() == desired || after.availability() != current.availability {
                break;
            }
            tokio::time::sleep(READ_BACK_PAUSE).await;
            after = self.read_parts(agent).await?;
        }
        let shown = after.availability();
        if shown == desired {
            return Ok(after.presence(agent));
        }
        if shown == current.availability {
            // as the write left it: Available an `active` report out of invisible mode, Offline
            // invisible mode
            let Read { name, word, status } = after;
            let written = match desired {
                Availability::Available => Read {
                    name,
                    word: "active".into(),
                    status: Status {
                        away: false,
                        ..status
                    },
                },
                _ => Read {
                    name,
                    word,
                    status: Status { away: true, ..status },
                },
            };
            return Ok(written.presence(agent));
        }
        Err(PresenceError::conflict(
            VENDOR,
            agent,
            desired,
            shown,
            vendor_status(&after.word, &after.status),
        ))
    }

    /// The credentials' own user id (`GET /users/me`), read once.
    pub(crate) async fn me(&self) -> Result<String, PresenceError> {
        if let Some(me) = self.me.get() {
            return Ok(me.clone());
        }
        let answer = match call(self.client.get_own_user().send()).await {
            Ok(a) => a,
            Err(f) => return Err(f.into_error(VENDOR, Some("me")).await),
        };
        let id = answer
            .user_id
            .ok_or_else(|| invalid_response("GET /users/me: no `user_id`".into()))?
            .to_string();
        let _ = self.me.set(id.clone());
        Ok(id)
    }

    /// The user's name, or NotFound (Zulip's 400 "No such user"), or a bot (NotFound too:
    /// presence is not supported for bots).
    async fn user(&self, agent: &str, id: i64) -> Result<Option<String>, PresenceError> {
        match call(self.client.get_user().user_id(id).send()).await {
            Ok(answer) => {
                let user = answer.user;
                if user.as_ref().and_then(|u| u.is_bot) == Some(true) {
                    return Err(PresenceError::not_found(VENDOR, agent, None));
                }
                Ok(user.and_then(|u| u.full_name))
            }
            Err(f) if message(&f) == Some("No such user") => {
                Err(PresenceError::not_found(VENDOR, agent, None))
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    async fn status(&self, agent: &str, id: i64) -> Result<Status, PresenceError> {
        match call(self.client.get_user_status().user_id(id).send()).await {
            Ok(answer) => {
                let v = answer
                    .status
                    .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
                    .unwrap_or(Value::Null);
                Ok(Status::from_json(&v))
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    /// The presence word the server shows (`offline` past its threshold, or without data).
    async fn word(&self, agent: &str) -> Result<String, PresenceError> {
        let request = self.client.get_user_presence().user_id_or_email(agent).send();
        match call(request).await {
            Ok(answer) => Ok(answer
                .presence
                .get("aggregated")
                .and_then(|a| a.status.clone())
                .unwrap_or_else(|| "offline".into())),
            Err(f) if message(&f).is_some_and(|m| m.starts_with("No presence data")) => {
                Ok("offline".into())
            }
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    async fn read(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        Ok(self.read_parts(agent).await?.presence(agent))
    }

    async fn read_parts(&self, agent: &str) -> Result<Read, PresenceError> {
        let id = check_id(agent)?;
        let name = self.user(agent, id).await?;
        let status = self.status(agent, id).await?;
        let word = self.word(agent).await?;
        Ok(Read { name, word, status })
    }

    async fn set_away(&self, agent: &str, away: bool) -> Result<(), PresenceError> {
        let body = types::UpdateStatusBody::builder().away(Some(away));
        match call(self.client.update_status().body(body).send()).await {
            Ok(_) => Ok(()),
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    async fn report_active(&self, agent: &str) -> Result<(), PresenceError> {
        let body = types::UpdatePresenceBody::builder()
            .status(types::UpdatePresenceBodyStatus::Active)
            .ping_only(true);
        match call(self.client.update_presence().body(body).send()).await {
            Ok(_) => Ok(()),
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }
}

#[async_trait]
impl Adapter for ZulipPresence {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = &[Availability::Available, Availability::Offline];

    /// The event queue ([`ZulipEvents`]) when the adapter has a long-poll client.
    fn change_feed(&self, _: &WatchOptions) -> Option<Box<dyn ChangeFeed>> {
        let events = self.events.clone()?;
        let reader = ZulipPresence::new(self.client.clone()).with_deadline(self.deadline);
        Some(Box::new(
            ZulipEvents::new(reader, events).with_restart_spread(self.restart_spread),
        ))
    }

    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        self.read(agent).await
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        check_id(agent)?;
        let me = self.me().await?;
        if agent != me {
            return Err(PresenceError::own_agent_only(VENDOR, agent));
        }
        let current = self.read(agent).await?;
        // changed even when the read shows the user so already: that read may be a replica's,
        // behind (a skip decided from it would leave the user as it is); the writes then
        // change nothing
        self.change(agent, &current, desired).await
    }

    /// The credentials' own user is learnt once, before any update: a server that cannot say
    /// who that is fails every update with one request, not one per update; every other agent
    /// is refused without a request (only the own user can be set). Each agent is read once:
    /// the read that decides whether it changes is the one the change starts from.
    async fn set_many_now(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        let me = match within(self.deadline, VENDOR, Step::Get, self.me()).await {
            Ok(me) => me,
            Err(e) => return bulk::fail_all(updates, &e),
        };
        let me = &me;
        // one at a time: every update that can be made is about the same user
        let options = options.with_concurrency(1);
        bulk::each(updates, &options, |agent, wanted| async move {
            self.check_supported(wanted)?;
            check_id(&agent)?;
            if &agent != me {
                return Err(PresenceError::own_agent_only(VENDOR, agent));
            }
            let before = self.read(&agent).await?;
            if before.availability == wanted {
                return Ok(Applied::unchanged(before));
            }
            let change = self.change(&agent, &before, wanted);
            let after = within(self.deadline, VENDOR, Step::Set, change).await?;
            Ok(Applied::changed(after))
        })
        .await
    }

    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        let members = match call(self.client.get_users().send()).await {
            Ok(answer) => answer.members,
            Err(f) => return Err(f.into_error(VENDOR, None).await),
        };
        let state = self.snapshot().await?;
        let mut out = Vec::new();
        for m in members {
            if m.is_bot == Some(true) || m.is_active == Some(false) {
                continue;
            }
            let (Some(id), email) = (m.user_id, m.email.clone().unwrap_or_default()) else {
                continue;
            };
            let id = id.to_string();
            let word = state.word(&email);
            let status = state.status(&id);
            out.push(presence(&id, m.full_name.clone(), &word, &status));
        }
        Ok(out.into_iter().filter(|p| filter.keep(p)).collect())
    }
}

/// The realm's presence and user statuses, from `POST /register`'s initial state.
struct Snapshot {
    presences: Value,
    statuses: Value,
    now: f64,
    threshold: f64,
}

impl Snapshot {
    /// The legacy presence of `email`, offline past the threshold, as the server's own
    /// `GET /users/{id}/presence` says it.
    fn word(&self, email: &str) -> String {
        let aggregated = self.presences.get(email).and_then(|p| p.get("aggregated"));
        let status = aggregated
            .and_then(|a| a.get("status"))
            .and_then(Value::as_str);
        let timestamp = aggregated
            .and_then(|a| a.get("timestamp"))
            .and_then(Value::as_f64);
        match (status, timestamp) {
            (Some(s), Some(t)) if self.now.floor() - t <= self.threshold => s.to_string(),
            _ => "offline".into(),
        }
    }

    fn status(&self, id: &str) -> Status {
        self.statuses
            .get(id)
            .map(Status::from_json)
            .unwrap_or_default()
    }
}

impl ZulipPresence {
    /// `POST /register` for the initial state of `presence` and `user_status` (the legacy
    /// presence format), then `DELETE /events` of the queue it made.
    async fn snapshot(&self) -> Result<Snapshot, PresenceError> {
        let body = types::RegisterQueueBody::builder()
            .event_types(Some(types::EventTypes(vec!["user_status".to_string()])))
            .fetch_event_types(vec!["presence".to_string(), "user_status".to_string()])
            .slim_presence(false);
        let answer = call(self.client.register_queue().body(body).send()).await;
        let state = match lenient(answer) {
            Ok(v) => v,
            Err(f) => return Err(f.into_error(VENDOR, None).await),
        };
        if let Some(queue) = state.get("queue_id").and_then(Value::as_str) {
            let body = types::DeleteQueueBody::builder().queue_id(queue.to_string());
            // a queue left behind expires on its own in ten minutes
            let _ = call(self.client.delete_queue().body(body).send()).await;
        }
        let now = state
            .get("server_timestamp")
            .and_then(Value::as_f64)
            .ok_or_else(|| invalid_response("POST /register: no `server_timestamp`".into()))?;
        let threshold = state
            .get("server_presence_offline_threshold_seconds")
            .and_then(Value::as_f64)
            .unwrap_or(OLD_OFFLINE_THRESHOLD_SECS);
        Ok(Snapshot {
            presences: state.get("presences").cloned().unwrap_or(Value::Null),
            statuses: state.get("user_status").cloned().unwrap_or(Value::Null),
            now,
            threshold,
        })
    }
}

/// Refuses what is not a Zulip user id (a positive number) before sending: it lands in the
/// URL's path.
pub fn check_id(agent: &str) -> Result<i64, PresenceError> {
    agent
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && !agent.starts_with('+') && !agent.starts_with('0'))
        .ok_or_else(|| {
            let message = "a Zulip user id is a positive number".into();
            PresenceError::new(VENDOR, Failure::InvalidInput { message })
        })
}

const SETTINGS: &[Setting] = &[
    Setting::text("email", "the e-mail of the user whose API key this is", None),
    Setting::secret(
        "api_key",
        "ZULIP_API_KEY",
        "the user's API key (Personal settings > Account & privacy > API key); only this user's presence can be set",
    ),
];

/// `[zulip]` with `base_url` (the server's API root, `https://example.zulipchat.com/api/v1`),
/// `email` and `api_key`.
pub fn entry() -> Entry {
    Entry::new("zulip", "Zulip", |s| {
        let config = s.apply(crate::ClientConfig::default());
        let email = s.text("email")?;
        let key = s.secret("api_key")?;
        let client = Client::with_basic_auth(&s.base_url, email, key.clone(), &config)?;
        let events = Client::with_basic_auth(&s.base_url, email, key, &events_config(config))?;
        Ok(Box::new(
            ZulipPresence::new(client).with_events_client(events),
        ))
    })
    .with_settings(SETTINGS)
    .with_demo(demo())
}

#[cfg(feature = "fake")]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    use agentstatus_presence::registry::Demo;
    Some(|| {
        Box::pin(async {
            let fake = crate::fake::seeded(
                &[
                    ("Ada Lovelace", Availability::Offline),
                    ("Grace Hopper", Availability::Available),
                ],
                "demo-key",
            )
            .await
            .map_err(|e| e.to_string())?;
            let client = Client::with_basic_auth(
                &fake.url(),
                "user1@zulip.example",
                "demo-key".to_string().into(),
                &crate::ClientConfig::default(),
            )
            .map_err(|e| e.to_string())?;
            let presence = Box::new(ZulipPresence::new(client));
            Ok(Demo::new(fake, presence, "1", |f| f.state_changes()))
        })
    })
}

#[cfg(not(feature = "fake"))]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    None
}
