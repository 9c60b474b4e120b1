//! Presence changes pushed by the server through its event queue: [`ZulipEvents`](crate::events::ZulipEvents) registers a
//! queue for `presence` and `user_status` events (`POST /register`), long-polls `GET /events`
//! and yields each user an event names, read afresh (so the watcher sees what `get` sees). See
//! specs/zulip/NOTES.md#event-queue and #presence-events for what the server does.
//!
//! Nothing is lost:
//!
//! - after every registration (the first, and each one after the server dropped the queue:
//!   `BAD_EVENT_QUEUE_ID`, ten minutes without a request by default) the reader asks the watcher
//!   for a full read ([`Batch::Resync`](agentstatus_presence::watch::Batch::Resync)): what happened while no queue existed is in it;
//! - each request acknowledges only the events already handled (`last_event_id`), so a request
//!   that fails is repeated on the same queue without losing its events;
//! - the server pushes nothing when a user goes idle or offline by silence (clients work it out
//!   from the timestamps), nor anyone's coming online in a realm of more than 100 active users
//!   (`USER_LIMIT_FOR_SENDING_PRESENCE_UPDATE_EVENTS`), so each `heartbeat` (about once a minute)
//!   asks for a full read too, as does an answer naming more than 25 users (a full read is
//!   cheaper than their reads);
//! - the queue is registered for `restart` events too, which the server sends to every queue
//!   that asks for them when it restarts (on every upgrade; the queues survive it): each asks for
//!   a full read (the server was away for a moment), and one that says a new API feature level
//!   makes the reader register a new queue under it (and delete the old one), after a random
//!   delay within [`RESTART_SPREAD`](crate::events::RESTART_SPREAD), as the document asks of clients ("a random delay strategy
//!   to spread such restarts over 5 minutes or more"); the old queue is read until then, and the
//!   new registration is followed by a full read, so no change is lost.
//!
//! Bounded against a server that answers at once, forever (with irrelevant events, heartbeats or
//! `BAD_EVENT_QUEUE_ID`): requests to the queue start at least [`MIN_GAP`](crate::events::MIN_GAP) apart, so the reader
//! never makes more than one request a second however the server answers.

use agentstatus_presence::adapter::{Failed, call};
use agentstatus_presence::watch::{Batch, ChangeFeed, Origin};
use agentstatus_presence::{ErrorKind, Presence, PresenceError, async_trait};
use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::presence::{VENDOR, ZulipPresence, lenient};
use crate::{Client, types};

/// At most this many users named in one answer are read one by one (three requests each); more,
/// and a full read is cheaper.
const READS: usize = 25;

/// The least time between the starts of two requests to the queue (`POST /register`, `GET
/// /events`). A real server holds a `GET /events` until an event or a heartbeat (about a minute),
/// so this only ever delays a burst, which the server's queue keeps meanwhile.
pub const MIN_GAP: Duration = Duration::from_secs(1);

/// The event types the queue is registered for (`restart`: the server restarted).
const EVENT_TYPES: [&str; 3] = ["presence", "user_status", "restart"];

/// After a `restart` event that says a new API feature level, a new queue is registered after a
/// random delay of at most this long (the document's `restart` event: clients getting a new
/// queue after a server upgrade "must implement a random delay strategy to spread such restarts
/// over 5 minutes or more"). [`ZulipEvents::with_restart_spread`] sets another.
pub const RESTART_SPREAD: Duration = Duration::from_secs(300);

/// A queue registered on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Queue {
    id: String,
    /// The newest event handled (acknowledged with the next request).
    last_event_id: i64,
    /// The API feature level the server said when the queue was registered.
    feature_level: Option<i64>,
}

/// What one `GET /events` answer says.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The users a `presence` or `user_status` event names, in order, once each.
    pub users: Vec<String>,
    /// A `heartbeat` came.
    pub heartbeat: bool,
    /// The newest event id in the answer.
    pub last_event_id: Option<i64>,
    /// A `restart` event came: the feature level the newest one says (`Some(None)`: none said).
    pub restart: Option<Option<i64>>,
}

/// Read an events answer (`{"events": [...]}`), whatever else its events carry.
pub(crate) fn read_events(answer: &Value) -> Answer {
    let mut out = Answer::default();
    let mut seen = HashSet::new();
    let events = answer.get("events").and_then(Value::as_array);
    for e in events.into_iter().flatten() {
        if let Some(id) = e.get("id").and_then(Value::as_i64) {
            out.last_event_id = Some(out.last_event_id.map_or(id, |l: i64| l.max(id)));
        }
        match e.get("type").and_then(Value::as_str) {
            Some("heartbeat") => out.heartbeat = true,
            Some("restart") => {
                out.restart = Some(e.get("zulip_feature_level").and_then(Value::as_i64));
            }
            Some("presence" | "user_status") => {
                if let Some(user) = e.get("user_id").and_then(Value::as_i64) {
                    let user = user.to_string();
                    if seen.insert(user.clone()) {
                        out.users.push(user);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// `watch` on Zulip: the event queue. See the [module](self).
pub struct ZulipEvents {
    presence: ZulipPresence,
    events: Client,
    queue: Option<Queue>,
    /// When the last request to the queue started.
    last_request: Option<tokio::time::Instant>,
    /// The longest random delay before registering again after a restart with a new API.
    restart_spread: Duration,
    /// When to register a new queue (a restart said a new API feature level).
    reregister_at: Option<tokio::time::Instant>,
}

impl std::fmt::Debug for ZulipEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZulipEvents")
            .field("queue", &self.queue)
            .field("reregister_at", &self.reregister_at)
            .finish_non_exhaustive()
    }
}

impl ZulipEvents {
    /// A reader that registers and long-polls with `events` (the same server and credentials,
    /// a timeout above the heartbeat: [`crate::presence::events_config`]) and reads the users
    /// the events name with `presence`.
    pub fn new(presence: ZulipPresence, events: Client) -> Self {
        Self {
            presence,
            events,
            queue: None,
            last_request: None,
            restart_spread: RESTART_SPREAD,
            reregister_at: None,
        }
    }

    /// Register again at most `spread` after a restart that says a new API feature level
    /// (default [`RESTART_SPREAD`]; zero: at once).
    pub fn with_restart_spread(self, spread: Duration) -> Self {
        Self {
            restart_spread: spread,
            ..self
        }
    }

    /// The queue registered now, if any (its id).
    pub fn queue_id(&self) -> Option<&str> {
        self.queue.as_ref().map(|q| q.id.as_str())
    }

    /// Wait until [`MIN_GAP`] has passed since the last request to the queue started.
    async fn pace(&mut self) {
        if let Some(last) = self.last_request {
            tokio::time::sleep_until(last + MIN_GAP).await;
        }
        self.last_request = Some(tokio::time::Instant::now());
    }

    async fn register(&mut self) -> Result<(), PresenceError> {
        self.pace().await;
        let body = types::RegisterQueueBody::builder()
            .event_types(Some(types::EventTypes(
                EVENT_TYPES.iter().map(ToString::to_string).collect(),
            )))
            // no initial state: the watcher's full read is the state
            .fetch_event_types(Vec::new());
        let answer = call(self.events.register_queue().body(body).send()).await;
        let state = match lenient(answer) {
            Ok(v) => v,
            Err(f) => return Err(f.into_error(VENDOR, None).await),
        };
        let id = state.get("queue_id").and_then(Value::as_str);
        let last = state.get("last_event_id").and_then(Value::as_i64);
        let feature_level = state.get("zulip_feature_level").and_then(Value::as_i64);
        let (Some(id), Some(last)) = (id, last) else {
            let message = "POST /register: no `queue_id` or `last_event_id`".into();
            let failure = agentstatus_presence::Failure::InvalidResponse {
                status: Some(200),
                message,
            };
            return Err(PresenceError::new(VENDOR, failure));
        };
        self.queue = Some(Queue {
            id: id.to_string(),
            last_event_id: last,
            feature_level,
        });
        // a queue registered now is under the server's current API: a re-registration a
        // restart scheduled (the server then dropped the queue, say) is done
        self.reregister_at = None;
        Ok(())
    }

    /// Register a new queue in place of `old`, and delete `old` (the server would keep it for
    /// its ten idle minutes otherwise). A failed delete loses nothing: the queue expires.
    async fn register_again(&mut self, old: &str) -> Result<(), PresenceError> {
        self.register().await?;
        let body = types::DeleteQueueBody::builder().queue_id(old.to_string());
        let _ = call(self.events.delete_queue().body(body).send()).await;
        Ok(())
    }
}

/// A random delay in `0..=spread` (each reader its own, so that a server's clients do not all
/// register again at once).
fn jitter(spread: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    if spread.is_zero() {
        return Duration::ZERO;
    }
    // a fresh `RandomState` is randomly keyed: its empty hash is a random number
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    spread.mul_f64((r >> 11) as f64 / (1u64 << 53) as f64)
}

/// The server dropped the queue (it expired, or the server restarted without it).
fn bad_queue(f: &Failed<types::BadEventQueueIdError>) -> bool {
    match &f.error {
        progenitor_client::Error::ErrorResponse(rv) => rv.code == "BAD_EVENT_QUEUE_ID",
        progenitor_client::Error::InvalidResponsePayload(bytes, _) => {
            serde_json::from_slice::<Value>(bytes)
                .ok()
                .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_string))
                .as_deref()
                == Some("BAD_EVENT_QUEUE_ID")
        }
        _ => false,
    }
}

#[async_trait]
impl ChangeFeed for ZulipEvents {
    fn origin(&self) -> Origin {
        Origin::Push
    }

    async fn next(&mut self) -> Result<Batch, PresenceError> {
        loop {
            let Some(queue) = self.queue.clone() else {
                self.register().await?;
                return Ok(Batch::Resync);
            };
            if self
                .reregister_at
                .is_some_and(|at| tokio::time::Instant::now() >= at)
            {
                // a restart said a new API: a queue registered under it, and a full read (a
                // failed registration is tried again on the next call, the old queue kept)
                self.register_again(&queue.id).await?;
                return Ok(Batch::Resync);
            }
            self.pace().await;
            let request = self
                .events
                .get_events()
                .queue_id(queue.id.clone())
                .last_event_id(queue.last_event_id)
                .send();
            let answer = match lenient(call(request).await) {
                Ok(v) => read_events(&v),
                Err(f) if bad_queue(&f) => {
                    self.queue = None;
                    continue;
                }
                Err(f) => return Err(f.into_error(VENDOR, None).await),
            };
            if let (Some(q), Some(last)) = (self.queue.as_mut(), answer.last_event_id) {
                q.last_event_id = q.last_event_id.max(last);
            }
            if let Some(level) = answer.restart {
                if level.is_some() && level != queue.feature_level && self.reregister_at.is_none() {
                    let at = tokio::time::Instant::now() + jitter(self.restart_spread);
                    self.reregister_at = Some(at);
                    if self.restart_spread.is_zero() {
                        // at once: the new queue's full read is the one this restart asks for
                        continue;
                    }
                }
                // the server was away a moment: a full read (which sees these users too)
                return Ok(Batch::Resync);
            }
            if answer.heartbeat || answer.users.len() > READS {
                // what silence changed is never pushed: a full read (which sees these users too)
                return Ok(Batch::Resync);
            }
            let mut changed = Vec::with_capacity(answer.users.len());
            for user in &answer.users {
                match Presence::get(&self.presence, user).await {
                    Ok(p) => changed.push(p),
                    // a user deactivated since, or a bot
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            if !changed.is_empty() {
                return Ok(Batch::Changed(changed));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_name_users_once_and_the_newest_id() {
        let answer = json!({"result": "success", "msg": "", "events": [
            {"type": "presence", "user_id": 8, "email": "a@x", "server_timestamp": 1.5, "presence": {}, "id": 3},
            {"type": "user_status", "user_id": 9, "status_text": "lunch", "scheduled_end_time": 5, "id": 4},
            {"type": "presence", "user_id": 8, "id": 5},
            {"type": "restart", "id": 6},
        ]});
        let a = read_events(&answer);
        assert_eq!(a.users, ["8", "9"]);
        assert_eq!(a.last_event_id, Some(6));
        assert!(!a.heartbeat);
        // a restart that says no feature level (a server before feature level 59)
        assert_eq!(a.restart, Some(None));
        let a = read_events(&json!({"events": [
            {"type": "restart", "zulip_feature_level": 377, "server_generation": 1, "id": 1},
            {"type": "restart", "zulip_feature_level": 379, "server_generation": 2, "id": 2},
        ]}));
        assert_eq!(a.restart, Some(Some(379)), "the newest restart's level");
        assert!(a.users.is_empty());
        let a = read_events(&json!({"events": [{"type": "heartbeat", "id": 7}]}));
        assert!(a.heartbeat);
        assert!(a.users.is_empty());
        assert_eq!(
            read_events(&json!({"events": "nonsense"})),
            Answer::default()
        );
    }

    #[test]
    fn jitter_stays_within_the_spread_and_varies() {
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
        let spread = Duration::from_secs(300);
        let delays: Vec<Duration> = (0..32).map(|_| jitter(spread)).collect();
        assert!(delays.iter().all(|d| *d <= spread));
        assert!(
            delays.iter().any(|d| *d != delays[0]),
            "random delays, not one: {delays:?}"
        );
    }
}
