//! TaskRouter's workspace event callbacks as `watch`'s feed (`TaskrouterEvents`, feature
//! `watch`): the workspace's `EventCallbackUrl` pointed at a receiver the feed runs, with
//! `EventsFilter = worker.activity.update`, set with the generated `update_workspace` and put
//! back as it was at `TaskrouterEvents::shutdown` (the watcher's `Watcher::shutdown`; best
//! effort on drop). Evidence:
//! `specs/twilio-taskrouter/NOTES.md#push-channel-event-callbacks-for-watch`.
//!
//! **The workspace's setting is shared.** A workspace has one `EventCallbackUrl`: an operator
//! who already receives events there (a reporting pipeline, Flex plugins) would stop receiving
//! them while the feed runs. So the feed refuses to start when the workspace posts to another
//! URL, unless told to replace it ([`Webhook::replacing_existing`]; the registry's
//! `webhook_replace_existing = "true"`), and then it puts the previous URL and filter back when
//! it stops. A feed killed before it could (kill -9, a crash) leaves its own URL in place: the
//! next run finds its own URL, takes it over, and at its end clears it (the URL before the
//! killed run is not known any more). Put a fan-out proxy in front of both if both must receive
//! events.
//!
//! **What Twilio needs from you.** Twilio POSTs to a public URL: the receiver listens on
//! [`Webhook`]'s address (plain HTTP), and a reverse proxy with a certificate for the public
//! name forwards `https://<public name>/<path>` to it, the URL unchanged (the signature covers
//! it).
//!
//! **What it trusts.** Every event must carry `X-Twilio-Signature`, base64 HMAC-SHA1 over the
//! public URL and the sorted POST parameters keyed with the account's auth token
//! (`crate::signature`, feature `signature`), checked in constant time; a missing or wrong one is answered 403,
//! counted ([`FeedStats::refused`]) and never acted on. Bodies over [`MAX_BODY`] are refused
//! (413); a client that does not send its headers within [`REQUEST_TIMEOUT`] is cut off, and a
//! request not answered within it (a body that trickles in) answered 408; at most
//! [`MAX_CONNECTIONS`] are served at once (the toolkit's receiver, `agentstatus_presence::receiver`;
//! [`Webhook::with_receiver_limits`] changes these bounds). Only `worker.activity.update` events of the
//! configured workspace and account are used.
//!
//! **Nothing skipped silently.** Twilio guarantees neither delivery nor order. Per worker, an
//! event older than the newest one seen (by `WorkerVersion`, else `TimestampMs`/`Timestamp`) is
//! dropped ([`FeedStats::stale`]), and so is one older than the last full read the feed asked
//! for (that read already holds it, or something newer). A full read is asked for when the
//! feed starts (after the callback is set), when the receiver's queue overflows, when an event
//! names an activity the feed cannot place, and every heartbeat ([`Webhook::with_heartbeat`],
//! default [`DEFAULT_HEARTBEAT`]): an event Twilio never delivered is found by the next
//! heartbeat's read, and reported as a poll.

// without `watch`, the settings are parsed and checked but the feed that reads them is absent
#![cfg_attr(not(feature = "watch"), allow(dead_code))]

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentstatus_presence::{Failure, PresenceError};
use agentstatus_runtime::SecretString;

pub use agentstatus_presence::receiver::ReceiverLimits;

use crate::presence::VENDOR;

/// The event Twilio sends when a worker's activity changes.
pub const EVENT: &str = "worker.activity.update";

/// The largest event body the receiver reads (an event is a few hundred bytes plus the
/// worker's attributes).
pub const MAX_BODY: usize = 64 * 1024;

/// How long a client has to send a request's headers, and then to have it answered, its body
/// read included (Twilio waits 15 s for the answer; the receiver answers as soon as it has the
/// body): past either, the connection is cut off (or answered 408).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 64;

/// The receiver's bounds by default (the toolkit's receiver, shared by every push channel):
/// [`REQUEST_TIMEOUT`] for the headers and for the answer, [`MAX_CONNECTIONS`], [`MAX_BODY`].
pub fn default_limits() -> ReceiverLimits {
    ReceiverLimits::default()
        .with_header_read_timeout(REQUEST_TIMEOUT)
        .with_request_timeout(REQUEST_TIMEOUT)
        .with_max_connections(MAX_CONNECTIONS)
        .with_max_body(MAX_BODY)
}

/// The time between two full reads the feed asks for while events arrive (or do not).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(60);

/// What the receiver and the feed saw: shared by every clone of a [`Webhook`] and its feed.
#[derive(Debug, Default)]
pub struct Stats {
    received: AtomicU64,
    refused: AtomicU64,
    ignored: AtomicU64,
    stale: AtomicU64,
    resyncs: AtomicU64,
    heartbeats: AtomicU64,
    overflows: AtomicU64,
}

/// A copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FeedStats {
    /// Events accepted (right signature).
    pub received: u64,
    /// Requests dropped: missing or wrong signature, or not a form POST.
    pub refused: u64,
    /// Signed events not used: another event type, workspace or account.
    pub ignored: u64,
    /// Events dropped as older than what the feed already had.
    pub stale: u64,
    /// Full reads the feed asked for (heartbeats included).
    pub resyncs: u64,
    /// Of those, heartbeats.
    pub heartbeats: u64,
    /// Times the receiver's queue was full (each followed by a full read).
    pub overflows: u64,
}

impl Stats {
    /// The counts now.
    pub fn snapshot(&self) -> FeedStats {
        let l = |a: &AtomicU64| a.load(Ordering::SeqCst);
        FeedStats {
            received: l(&self.received),
            refused: l(&self.refused),
            ignored: l(&self.ignored),
            stale: l(&self.stale),
            resyncs: l(&self.resyncs),
            heartbeats: l(&self.heartbeats),
            overflows: l(&self.overflows),
        }
    }
}

/// Where the receiver listens.
#[derive(Clone)]
enum Listen {
    Addr(SocketAddr),
    /// A listener bound by the caller (a test's port 0), taken by the first feed.
    Bound(Arc<Mutex<Option<std::net::TcpListener>>>),
}

/// The webhook settings of the feed: where the receiver listens, the public URL Twilio posts
/// to, the auth token events are signed with, the heartbeat, and whether an existing callback
/// URL may be replaced.
#[derive(Clone)]
pub struct Webhook {
    listen: Listen,
    public_url: String,
    auth_token: SecretString,
    heartbeat: Duration,
    replace_existing: bool,
    limits: ReceiverLimits,
    stats: Arc<Stats>,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listen = match &self.listen {
            Listen::Addr(a) => a.to_string(),
            Listen::Bound(_) => "bound listener".into(),
        };
        f.debug_struct("Webhook")
            .field("listen", &listen)
            .field("public_url", &self.public_url)
            .field("auth_token", &"<redacted>")
            .field("heartbeat", &self.heartbeat)
            .field("replace_existing", &self.replace_existing)
            .field("limits", &self.limits)
            .finish()
    }
}

fn invalid(message: String) -> PresenceError {
    PresenceError::new(VENDOR, Failure::InvalidInput { message })
}

/// `url` checked as the workspace's `EventCallbackUrl` (the toolkit's check: `https://`, or
/// `http://` to loopback; no credentials, no fragment), kept as given, not as `Url` would
/// rewrite it: Twilio signs the URL it was given.
fn check_public_url(url: &str) -> Result<String, PresenceError> {
    agentstatus_presence::receiver::check_public_url(VENDOR, "webhook_url", "webhook_listen", url)
        .map(|_| url.to_string())
}

/// The scheme and host of a URL, for messages (a callback URL may carry credentials).
pub(crate) fn origin_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "(not a URL)".into(),
    }
}

impl Webhook {
    /// Listen on `listen`; Twilio posts to `public_url` (`https://`, which a reverse proxy
    /// forwards to `listen`), signing with `auth_token` (the account's auth token).
    pub fn new(
        listen: SocketAddr,
        public_url: &str,
        auth_token: SecretString,
    ) -> Result<Self, PresenceError> {
        Ok(Self {
            listen: Listen::Addr(listen),
            public_url: check_public_url(public_url)?,
            auth_token,
            heartbeat: DEFAULT_HEARTBEAT,
            replace_existing: false,
            limits: default_limits(),
            stats: Arc::default(),
        })
    }

    /// Serve on `listener` (already bound: a test's port 0) instead of binding an address.
    pub fn with_listener(
        listener: std::net::TcpListener,
        public_url: &str,
        auth_token: SecretString,
    ) -> Result<Self, PresenceError> {
        Ok(Self {
            listen: Listen::Bound(Arc::new(Mutex::new(Some(listener)))),
            public_url: check_public_url(public_url)?,
            auth_token,
            heartbeat: DEFAULT_HEARTBEAT,
            replace_existing: false,
            limits: default_limits(),
            stats: Arc::default(),
        })
    }

    /// A full read every `heartbeat` (at least a second), finding what no event reported.
    pub fn with_heartbeat(self, heartbeat: Duration) -> Result<Self, PresenceError> {
        if heartbeat < Duration::from_secs(1) {
            return Err(invalid(format!(
                "webhook_heartbeat: at least a second ({} ms asked)",
                heartbeat.as_millis()
            )));
        }
        Ok(Self { heartbeat, ..self })
    }

    /// Replace a callback URL the workspace already has (another system's: it gets no events
    /// while the feed runs, and its URL and filter are put back at the end). Default: refuse.
    pub fn replacing_existing(self, replace_existing: bool) -> Self {
        Self {
            replace_existing,
            ..self
        }
    }

    /// The receiver's bounds on slow, many and large clients (default: [`default_limits`]).
    /// Zero timeouts, no connection or no body at all are refused.
    pub fn with_receiver_limits(self, limits: ReceiverLimits) -> Result<Self, PresenceError> {
        let limits = limits.checked(VENDOR)?;
        Ok(Self { limits, ..self })
    }

    /// The public URL Twilio posts to.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// What the receiver and feeds made from this webhook saw so far.
    pub fn stats(&self) -> FeedStats {
        self.stats.snapshot()
    }
}

#[cfg(feature = "watch")]
pub use feed::TaskrouterEvents;

#[cfg(feature = "watch")]
mod feed {
    use super::*;

    use std::collections::HashMap;

    use agentstatus_presence::receiver::{BodyError, read_body};
    use agentstatus_presence::watch::{Batch, ChangeFeed, Origin};
    use agentstatus_presence::{AgentPresence, Detail, async_trait};
    use agentstatus_runtime::ExposeSecret as _;
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper::header::{CONTENT_TYPE, HeaderValue};
    use hyper::{Method, Request, Response, StatusCode};
    use tokio::sync::mpsc;

    use crate::presence::TwilioTaskrouterPresence;
    use crate::types;

    /// Events queued by the receiver for the feed.
    const QUEUE: usize = 1024;

    /// One accepted event: its parameters.
    type Event = HashMap<String, String>;

    #[derive(Clone)]
    struct Receiving {
        urls: Arc<Vec<String>>,
        auth_token: SecretString,
        events: mpsc::Sender<Event>,
        stats: Arc<Stats>,
        overflowed: Arc<std::sync::atomic::AtomicBool>,
    }

    fn answer(status: StatusCode) -> Response<Full<Bytes>> {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = status;
        r
    }

    /// One request: a signed form POST is queued for the feed.
    async fn receive(
        r: Receiving,
        request: Request<agentstatus_presence::receiver::Body>,
    ) -> Response<Full<Bytes>> {
        if request.method() != Method::POST {
            return answer(StatusCode::METHOD_NOT_ALLOWED);
        }
        let is_form = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let signature = request
            .headers()
            .get(crate::signature::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = match read_body(request.into_body()).await {
            Ok(b) => b,
            Err(e) => {
                if e == BodyError::TooLarge {
                    r.stats.refused.fetch_add(1, Ordering::SeqCst);
                }
                return answer(e.status());
            }
        };
        let params = crate::signature::form(&body);
        let key = r.auth_token.expose_secret().as_bytes();
        let signed = is_form
            && signature.as_deref().is_some_and(|s| {
                r.urls
                    .iter()
                    .any(|u| crate::signature::verify(key, u, &params, s))
            });
        if !signed {
            r.stats.refused.fetch_add(1, Ordering::SeqCst);
            return answer(StatusCode::FORBIDDEN);
        }
        r.stats.received.fetch_add(1, Ordering::SeqCst);
        if r.events.try_send(params.into_iter().collect()).is_err() {
            // full (or the feed is gone): the feed reads everything instead
            r.stats.overflows.fetch_add(1, Ordering::SeqCst);
            r.overflowed.store(true, Ordering::SeqCst);
        }
        // Twilio's page: "respond ... with 204 No Content and a Content-Type header of
        // application/json within 15 seconds"
        let mut ok = answer(StatusCode::NO_CONTENT);
        ok.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        ok
    }

    struct Receiver {
        events: mpsc::Receiver<Event>,
        overflowed: Arc<std::sync::atomic::AtomicBool>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for Receiver {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    /// The workspace's callback before the feed set its own.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Previous {
        url: String,
        filter: Option<String>,
    }

    /// Where an event stands among a worker's events: `WorkerVersion`, and the time.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Order {
        version: Option<u64>,
        at_ms: Option<i64>,
    }

    impl Order {
        fn of(e: &Event) -> Self {
            let at_ms = e
                .get("TimestampMs")
                .and_then(|t| t.trim().parse::<i64>().ok())
                .or_else(|| {
                    e.get("Timestamp")
                        .map(String::as_str)
                        .and_then(timestamp_ms)
                });
            Order {
                version: e.get("WorkerVersion").and_then(|v| v.trim().parse().ok()),
                at_ms,
            }
        }

        /// Whether `self` is newer than `than`: by version when both have one, else by time;
        /// neither: newer (nothing to tell them apart).
        fn newer(&self, than: &Order) -> bool {
            match (self.version, than.version) {
                (Some(a), Some(b)) => a > b,
                _ => match (self.at_ms, than.at_ms) {
                    (Some(a), Some(b)) => a > b,
                    _ => true,
                },
            }
        }
    }

    /// `Timestamp` in milliseconds: seconds since the epoch, or an RFC 3339 date.
    fn timestamp_ms(t: &str) -> Option<i64> {
        let t = t.trim();
        if let Ok(secs) = t.parse::<i64>() {
            return secs.checked_mul(1000);
        }
        chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|d| d.timestamp_millis())
    }

    fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    /// `watch` on Twilio TaskRouter: the workspace's event callbacks. See the [module](super).
    pub struct TaskrouterEvents {
        presence: TwilioTaskrouterPresence,
        webhook: Webhook,
        account_sid: Option<String>,
        receiver: Option<Receiver>,
        /// Set: the callback is ours, and this was there before.
        previous: Option<Previous>,
        /// The newest event seen per worker.
        last: HashMap<String, Order>,
        /// When the last full read the feed asked for began (ms since the epoch).
        floor_ms: i64,
        /// Activity SID -> (name, available).
        activities: HashMap<String, (String, bool)>,
        next_heartbeat: Option<tokio::time::Instant>,
    }

    impl fmt::Debug for TaskrouterEvents {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TaskrouterEvents")
                .field("webhook", &self.webhook)
                .field("subscribed", &self.previous.is_some())
                .field("workers_seen", &self.last.len())
                .finish_non_exhaustive()
        }
    }

    impl TaskrouterEvents {
        /// A feed over `presence` (its client sets the callback and reads activities) with
        /// `webhook`. Events whose `AccountSid` is not `account_sid` (when given) are ignored.
        /// Nothing is sent or bound until the watcher's first `next`.
        pub fn new(
            presence: TwilioTaskrouterPresence,
            webhook: Webhook,
            account_sid: Option<String>,
        ) -> Self {
            Self {
                presence,
                webhook,
                account_sid,
                receiver: None,
                previous: None,
                last: HashMap::new(),
                floor_ms: i64::MIN,
                activities: HashMap::new(),
                next_heartbeat: None,
            }
        }

        /// Whether the workspace's callback is the feed's now.
        pub fn subscribed(&self) -> bool {
            self.previous.is_some()
        }

        /// Put the workspace's callback URL and filter back as they were before the feed set
        /// its own (when the callback is still the feed's: one someone set since is left), and
        /// stop the receiver.
        pub async fn shutdown(mut self) -> Result<(), PresenceError> {
            ChangeFeed::shutdown(&mut self).await
        }

        async fn start_receiver(&mut self) -> Result<(), PresenceError> {
            let listener = match &self.webhook.listen {
                Listen::Addr(a) => tokio::net::TcpListener::bind(a)
                    .await
                    .map_err(|e| invalid(format!("webhook_listen {a}: cannot listen ({e})")))?,
                Listen::Bound(cell) => {
                    let taken = cell.lock().unwrap_or_else(|p| p.into_inner()).take();
                    let Some(l) = taken else {
                        return Err(invalid(
                            "the webhook's listener is taken by another feed".into(),
                        ));
                    };
                    l.set_nonblocking(true)
                        .and_then(|()| tokio::net::TcpListener::from_std(l))
                        .map_err(|e| invalid(format!("the webhook's listener: {e}")))?
                }
            };
            let (tx, rx) = mpsc::channel(QUEUE);
            let overflowed = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let state = Receiving {
                urls: Arc::new(crate::signature::url_variants(&self.webhook.public_url)),
                auth_token: self.webhook.auth_token.clone(),
                events: tx,
                stats: self.webhook.stats.clone(),
                overflowed: overflowed.clone(),
            };
            // one request: a signed form POST queued; the timeouts, the connections and the
            // body bound are the toolkit's receiver's
            let service = hyper::service::service_fn(move |request| {
                let r = state.clone();
                async move { Ok::<_, std::convert::Infallible>(receive(r, request).await) }
            });
            let task = tokio::spawn(agentstatus_presence::receiver::serve(
                listener,
                service,
                self.webhook.limits,
            ));
            self.receiver = Some(Receiver {
                events: rx,
                overflowed,
                task,
            });
            Ok(())
        }

        /// Point the workspace's callback at the receiver, remembering what was there.
        async fn subscribe(&mut self) -> Result<(), PresenceError> {
            let ws = fetch_workspace(&self.presence).await?;
            let url = ws.event_callback_url.clone().unwrap_or_default();
            let filter = ws.events_filter.clone().filter(|f| !f.is_empty());
            let ours = &self.webhook.public_url;
            let previous = if url.is_empty() {
                Previous { url, filter }
            } else if url == *ours {
                // left by a run that could not put the previous one back: unknown now
                Previous {
                    url: String::new(),
                    filter: None,
                }
            } else if self.webhook.replace_existing {
                Previous { url, filter }
            } else {
                return Err(invalid(format!(
                    "workspace {}: its events already go to another callback URL ({}...): the feed would take them from it; set webhook_replace_existing = \"true\" to replace it while watching (it is put back at the end), or use watch = \"poll\"",
                    self.presence.workspace(),
                    origin_of(&url)
                )));
            };
            update_workspace(&self.presence, ours, Some(EVENT)).await?;
            self.previous = Some(previous);
            Ok(())
        }

        /// The workspace's activities, afresh.
        async fn load_activities(&mut self) -> Result<(), PresenceError> {
            let list = self.presence.all_activities().await?;
            self.activities = list
                .into_iter()
                .filter_map(|a| {
                    let sid = a.sid.as_deref()?.to_string();
                    Some((
                        sid,
                        (
                            a.friendly_name.clone().unwrap_or_default(),
                            a.available.unwrap_or(false),
                        ),
                    ))
                })
                .collect();
            Ok(())
        }

        fn resync(&mut self) -> Batch {
            self.webhook.stats.resyncs.fetch_add(1, Ordering::SeqCst);
            self.floor_ms = now_ms();
            self.next_heartbeat = Some(tokio::time::Instant::now() + self.webhook.heartbeat);
            Batch::Resync
        }

        /// The worker's presence an event says, or `Err(())` when the feed cannot tell (an
        /// activity it does not know: a full read then).
        fn presence_of(&self, worker: &str, e: &Event) -> Result<AgentPresence, ()> {
            let sid = e.get("WorkerActivitySid").ok_or(())?;
            let (known_name, available) = self.activities.get(sid).ok_or(())?;
            let name = e
                .get("WorkerActivityName")
                .filter(|n| !n.is_empty())
                .unwrap_or(known_name);
            Ok(AgentPresence::new(
                worker,
                e.get("WorkerName").filter(|n| !n.is_empty()).cloned(),
                self.presence.names().availability(name, *available),
                Detail {
                    vendor_status: name.clone(),
                    ..Detail::default()
                },
            ))
        }

        /// What `events` say, in the order they came; `None`: a full read is owed.
        async fn take(
            &mut self,
            events: Vec<Event>,
        ) -> Result<Option<Vec<AgentPresence>>, PresenceError> {
            let stats = self.webhook.stats.clone();
            let workspace = self.presence.workspace().to_string();
            let mut out: Vec<AgentPresence> = Vec::new();
            for e in events {
                let ours = e.get("EventType").map(String::as_str) == Some(EVENT)
                    && e.get("WorkspaceSid") == Some(&workspace)
                    && self
                        .account_sid
                        .as_ref()
                        .is_none_or(|a| e.get("AccountSid").is_none_or(|x| x == a));
                let Some(worker) = e.get("WorkerSid").filter(|w| !w.is_empty() && ours) else {
                    stats.ignored.fetch_add(1, Ordering::SeqCst);
                    continue;
                };
                let order = Order::of(&e);
                let before_read = order.at_ms.is_some_and(|t| t < self.floor_ms);
                let older = self.last.get(worker).is_some_and(|l| !order.newer(l));
                if before_read || older {
                    stats.stale.fetch_add(1, Ordering::SeqCst);
                    continue;
                }
                let presence = match self.presence_of(worker, &e) {
                    Ok(p) => p,
                    Err(()) => {
                        // an activity made since the feed read them: read them again, once
                        self.load_activities().await?;
                        match self.presence_of(worker, &e) {
                            Ok(p) => p,
                            Err(()) => return Ok(None),
                        }
                    }
                };
                self.last.insert(worker.clone(), order);
                // a later event of the same worker in this batch replaces an earlier one
                out.retain(|p| p.agent_id != *worker);
                out.push(presence);
            }
            Ok(Some(out))
        }
    }

    async fn fetch_workspace(
        p: &TwilioTaskrouterPresence,
    ) -> Result<types::TaskrouterV1Workspace, PresenceError> {
        let request = p.twilio_client().fetch_workspace().sid(p.workspace());
        match agentstatus_presence::adapter::call_answer(request.send()).await {
            Ok(rv) => Ok(rv.into_inner()),
            Err(f) => Err(f
                .into_error(VENDOR, None)
                .await
                .with_operation("fetch_workspace")),
        }
    }

    async fn update_workspace(
        p: &TwilioTaskrouterPresence,
        url: &str,
        filter: Option<&str>,
    ) -> Result<(), PresenceError> {
        let body = types::UpdateWorkspaceRequest::builder()
            .event_callback_url(Some(url.to_string()))
            .events_filter(Some(filter.unwrap_or_default().to_string()));
        let request = p
            .twilio_client()
            .update_workspace()
            .sid(p.workspace())
            .body(body);
        match agentstatus_presence::adapter::call_answer(request.send()).await {
            Ok(_) => Ok(()),
            Err(f) => Err(f
                .into_error(VENDOR, None)
                .await
                .with_operation("update_workspace")),
        }
    }

    /// Put `previous` back when the workspace's callback is still `ours`.
    async fn restore(
        p: &TwilioTaskrouterPresence,
        ours: &str,
        previous: &Previous,
    ) -> Result<(), PresenceError> {
        let ws = fetch_workspace(p).await?;
        if ws.event_callback_url.as_deref() != Some(ours) {
            // someone set another one since: theirs stays
            return Ok(());
        }
        update_workspace(p, &previous.url, previous.filter.as_deref()).await
    }

    impl Drop for TaskrouterEvents {
        /// The previous callback is put back from a task when a runtime is there to run it
        /// (best effort: [`TaskrouterEvents::shutdown`] waits for it).
        fn drop(&mut self) {
            let Some(previous) = self.previous.take() else {
                return;
            };
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return;
            };
            let presence = self.presence.duplicate();
            let ours = self.webhook.public_url.clone();
            runtime.spawn(async move {
                let _ = restore(&presence, &ours, &previous).await;
            });
        }
    }

    #[async_trait]
    impl ChangeFeed for TaskrouterEvents {
        fn origin(&self) -> Origin {
            Origin::Push
        }

        /// The previous callback put back ([`TaskrouterEvents::shutdown`]).
        async fn shutdown(&mut self) -> Result<(), PresenceError> {
            self.receiver = None;
            match self.previous.take() {
                Some(p) => restore(&self.presence, &self.webhook.public_url, &p).await,
                None => Ok(()),
            }
        }

        async fn next(&mut self) -> Result<Batch, PresenceError> {
            loop {
                if self.receiver.is_none() {
                    self.start_receiver().await?;
                }
                if self.previous.is_none() {
                    self.load_activities().await?;
                    self.subscribe().await?;
                    // what changed before the callback was set is in a full read
                    return Ok(self.resync());
                }
                let heartbeat = *self
                    .next_heartbeat
                    .get_or_insert_with(|| tokio::time::Instant::now() + self.webhook.heartbeat);
                let receiver = self.receiver.as_mut().expect("started above");
                if receiver.overflowed.swap(false, Ordering::SeqCst) {
                    return Ok(self.resync());
                }
                let first = tokio::select! {
                    e = receiver.events.recv() => Some(e),
                    () = tokio::time::sleep_until(heartbeat) => None,
                };
                let Some(first) = first else {
                    self.webhook.stats.heartbeats.fetch_add(1, Ordering::SeqCst);
                    return Ok(self.resync());
                };
                let Some(first) = first else {
                    self.receiver = None;
                    return Err(PresenceError::new(
                        VENDOR,
                        Failure::Network {
                            message: "the event callback receiver stopped".into(),
                        },
                    ));
                };
                let mut events = vec![first];
                while let Ok(e) = receiver.events.try_recv() {
                    events.push(e);
                }
                match self.take(events).await? {
                    None => return Ok(self.resync()),
                    Some(changed) if !changed.is_empty() => return Ok(Batch::Changed(changed)),
                    Some(_) => {}
                }
            }
        }
    }
}
