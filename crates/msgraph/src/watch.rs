//! Microsoft Graph's change notifications on presences as `watch`'s feed
//! (`GraphSubscriptions`, feature `watch`): subscriptions (`POST /subscriptions` on
//! `communications/presences?$filter=id in (...)`, at most [`MAX_IDS`](crate::presence::MAX_IDS)
//! users each, renewed with `PATCH /subscriptions/{id}` before they expire, deleted at
//! the feed's `ChangeFeed::shutdown`, within [`SHUTDOWN_DEADLINE`], and, best effort, on drop) and the webhook receiver they
//! deliver to, run by the feed itself. Evidence: `specs/msgraph/NOTES.md#change-notifications-for-watch`.
//!
//! **What Graph needs from you.** Graph delivers by HTTPS POST to a public URL it validates
//! when a subscription is created: the receiver listens on [`Webhook`]'s address (plain HTTP),
//! and a reverse proxy (nginx, Caddy, a cloud load balancer) with a certificate for the public
//! name forwards `https://<public name>/<path>` to it. Graph accepts only **delegated** tokens
//! for presence subscriptions ("Application | Not supported"): the subscription calls are made
//! with a signed-in user's access token (Presence.Read.All), read from a file each time
//! ([`SubscriberToken::File`]) so that whatever refreshes it (a token helper, `az account
//! get-access-token`) can replace it while the feed runs. Reads stay the adapter's (client
//! credentials).
//!
//! **One watch per notification URL.** A starting feed deletes the subscriptions to its URL
//! that a killed run left, and so does its recovery (`agentstatus watch --restore`): beside a
//! running watch to the same URL, either would delete that watch's live subscriptions, which
//! would then hear nothing until its next renewal found them gone. With a lock file
//! ([`Webhook::with_lock_file`]; the registry's `webhook_lock_file`, by default
//! [`default_lock_file`]) the feed holds an exclusive OS lock on it (the toolkit's
//! [`LockFile`](agentstatus_presence::lockfile::LockFile), which records the holding process)
//! from before that cleanup until its subscriptions are deleted, and a recovery while it works;
//! a second one on this host is refused, naming the URL, the lock file and the holder
//! ([`ErrorKind::InUse`](agentstatus_presence::ErrorKind::InUse), before the feed binds its
//! listen address: `agentstatus watch` stops on it at once). The OS releases a killed watch's
//! lock.
//!
//! **Graph's clock.** Graph judges an `expirationDateTime` by its own clock (in the future, at
//! most an hour away) and answers the expiry it granted by it: the feed asks for the lifetime
//! from now by Graph's clock (its last answer's `Date`, when that is off ours) and renews after
//! two thirds of what is left by that clock, so a server clock off ours neither refuses the
//! subscriptions nor lets them expire.
//!
//! **What it trusts.** Notifications are basic ones (no resource data: those need an
//! encryption certificate): each names a presence, and the feed reads the named users afresh
//! with one bulk read (`getPresencesByUserId`), so a notification carries no state the feed
//! believes. Every notification's `clientState` must be the feed's random secret (compared in
//! constant time); a wrong or missing one is dropped and counted ([`FeedStats::refused`]),
//! never acted on. Bodies over [`MAX_BODY`] are refused.
//!
//! **Nothing skipped silently.** After every subscription is (re)created, after a lifecycle
//! notification (`missed`, `subscriptionRemoved`, `reauthorizationRequired`), after a renewal
//! finds the subscription gone, and when the receiver's queue overflows, the feed asks the
//! watcher for a full read ([`Batch::Resync`](agentstatus_presence::watch::Batch::Resync)). A notification Graph never delivered is not
//! seen by the feed at all: Graph says so with `missed` when it knows; otherwise the next
//! full read (the watcher's after any error, or the next resync) catches it.

// without `watch`, the settings are parsed and checked but the feed that reads them is absent
#![cfg_attr(not(feature = "watch"), allow(dead_code))]

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentstatus_presence::{Failure, PresenceError};
use agentstatus_runtime::SecretString;

use crate::presence::VENDOR;

/// The longest a presence subscription lasts (Learn changenotifications-for-presence: "a
/// maximum expiration time of an hour").
pub const MAX_LIFETIME: Duration = Duration::from_secs(3600);

/// The lifetime asked for by default: 55 minutes, under Graph's hour by a margin for the
/// clocks of this host and Graph's; renewed after two thirds of it.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(55 * 60);

/// The largest notification body the receiver reads (Graph batches notifications; 1 MiB is
/// more than a thousand of them).
pub const MAX_BODY: usize = 1 << 20;

/// How long `GraphSubscriptions`' shutdown (`ChangeFeed::shutdown`) may take to delete its
/// subscriptions; those not deleted by then expire by themselves within their lifetime.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// The webhook receiver's bounds on slow, many and large clients (the toolkit's, shared by every
/// push channel: `agentstatus_presence::receiver`): a client whose headers are not in within
/// [`HEADER_READ_TIMEOUT`] is cut off ("slowloris"), a request not answered within
/// [`REQUEST_TIMEOUT`] (a body that trickles in) is answered `408 Request Timeout`, at most
/// [`MAX_CONNECTIONS`] connections are served at once; Graph's webhook starts from
/// [`ReceiverLimits::default`] with a body bound of [`MAX_BODY`].
pub use agentstatus_presence::receiver::{
    HEADER_READ_TIMEOUT, MAX_CONNECTIONS, REQUEST_TIMEOUT, ReceiverLimits,
};

/// The longest `validationToken` the receiver echoes.
pub const MAX_VALIDATION_TOKEN: usize = 2048;

/// How the subscription calls authenticate: a signed-in user's (delegated) access token.
#[derive(Clone)]
pub enum SubscriberToken {
    /// Read from this file (trimmed) before each subscription call: a helper may refresh it.
    File(PathBuf),
    /// This token, for as long as it lasts (tests; a short-lived run).
    Fixed(SecretString),
}

impl fmt::Debug for SubscriberToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubscriberToken::File(p) => f.debug_tuple("File").field(p).finish(),
            SubscriberToken::Fixed(_) => f.write_str("Fixed(<redacted>)"),
        }
    }
}

impl SubscriberToken {
    /// The token now, never in an error.
    pub(crate) fn read(&self) -> Result<SecretString, PresenceError> {
        let text = match self {
            SubscriberToken::Fixed(t) => return Ok(t.clone()),
            SubscriberToken::File(path) => std::fs::read_to_string(path).map_err(|e| {
                invalid(format!(
                    "subscription_token_file {}: cannot be read ({})",
                    path.display(),
                    e.kind()
                ))
            })?,
        };
        let token = text.trim();
        if token.is_empty() {
            let SubscriberToken::File(path) = self else {
                unreachable!("a fixed token returned above")
            };
            return Err(invalid(format!(
                "subscription_token_file {}: empty",
                path.display()
            )));
        }
        Ok(token.to_string().into())
    }
}

/// What the receiver saw: shared by every clone of a [`Webhook`] and its feed.
#[derive(Debug, Default)]
pub struct Stats {
    received: AtomicU64,
    refused: AtomicU64,
    lifecycle: AtomicU64,
    validations: AtomicU64,
    resyncs: AtomicU64,
    overflows: AtomicU64,
}

/// A copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FeedStats {
    /// Change notifications accepted (right `clientState`).
    pub received: u64,
    /// Notifications dropped: wrong or missing `clientState`.
    pub refused: u64,
    /// Lifecycle notifications accepted.
    pub lifecycle: u64,
    /// Validation requests answered.
    pub validations: u64,
    /// Full reads the feed asked for.
    pub resyncs: u64,
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
            lifecycle: l(&self.lifecycle),
            validations: l(&self.validations),
            resyncs: l(&self.resyncs),
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

/// The webhook settings of the feed: where the receiver listens, the public URL Graph posts
/// to, the subscriber's token, the subscriptions' lifetime.
#[derive(Clone)]
pub struct Webhook {
    listen: Listen,
    public_url: String,
    token: SubscriberToken,
    lifetime: Duration,
    limits: ReceiverLimits,
    stats: Arc<Stats>,
    /// The lock file of this notification URL ([`Webhook::with_lock_file`]).
    lock_file: Option<PathBuf>,
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
            .field("token", &self.token)
            .field("lifetime", &self.lifetime)
            .field("limits", &self.limits)
            .field("lock_file", &self.lock_file)
            .finish()
    }
}

fn invalid(message: String) -> PresenceError {
    PresenceError::new(VENDOR, Failure::InvalidInput { message })
}

/// `url` checked as Graph's `notificationUrl` (the toolkit's check: `https://`, or `http://`
/// to loopback; no credentials, no fragment), normalised as Graph keeps it.
fn check_public_url(url: &str) -> Result<String, PresenceError> {
    agentstatus_presence::receiver::check_public_url(VENDOR, "webhook_url", "webhook_listen", url)
        .map(|parsed| parsed.to_string())
}

impl Webhook {
    /// Listen on `listen`; Graph posts to `public_url` (`https://`, which a reverse proxy
    /// forwards to `listen`); subscribe with `token`'s user.
    pub fn new(
        listen: SocketAddr,
        public_url: &str,
        token: SubscriberToken,
    ) -> Result<Self, PresenceError> {
        Ok(Self {
            listen: Listen::Addr(listen),
            public_url: check_public_url(public_url)?,
            token,
            lifetime: DEFAULT_LIFETIME,
            limits: ReceiverLimits::default().with_max_body(MAX_BODY),
            stats: Arc::default(),
            lock_file: None,
        })
    }

    /// Serve on `listener` (already bound: a test's port 0) instead of binding an address.
    pub fn with_listener(
        listener: std::net::TcpListener,
        public_url: &str,
        token: SubscriberToken,
    ) -> Result<Self, PresenceError> {
        Ok(Self {
            listen: Listen::Bound(Arc::new(Mutex::new(Some(listener)))),
            public_url: check_public_url(public_url)?,
            token,
            lifetime: DEFAULT_LIFETIME,
            limits: ReceiverLimits::default().with_max_body(MAX_BODY),
            stats: Arc::default(),
            lock_file: None,
        })
    }

    /// One watch per notification URL on this host: the feed locks `path` (an exclusive OS
    /// lock, the holding process recorded in it) from before it deletes what a killed run left
    /// until its own subscriptions are deleted, and its recovery locks it while it works; a
    /// second one is refused (see the [module](self)). Without it (the library's default)
    /// nothing is locked. The registry's `webhook_lock_file` defaults to [`default_lock_file`].
    pub fn with_lock_file(self, path: impl Into<PathBuf>) -> Self {
        Self {
            lock_file: Some(path.into()),
            ..self
        }
    }

    /// The lock file, if any ([`Webhook::with_lock_file`]).
    pub fn lock_file(&self) -> Option<&std::path::Path> {
        self.lock_file.as_deref()
    }

    /// Subscriptions that last `lifetime` (at most [`MAX_LIFETIME`], at least a second),
    /// renewed after two thirds of it.
    pub fn with_lifetime(self, lifetime: Duration) -> Result<Self, PresenceError> {
        if lifetime > MAX_LIFETIME || lifetime < Duration::from_secs(1) {
            return Err(invalid(format!(
                "a presence subscription lasts at most an hour (and at least a second); {} seconds asked",
                lifetime.as_secs()
            )));
        }
        Ok(Self { lifetime, ..self })
    }

    /// The receiver's bounds on slow, many and large clients (default:
    /// [`ReceiverLimits::default`], bodies up to [`MAX_BODY`]). Zero timeouts, no connection or
    /// no body at all are refused.
    pub fn with_receiver_limits(self, limits: ReceiverLimits) -> Result<Self, PresenceError> {
        let limits = limits.checked(VENDOR)?;
        Ok(Self { limits, ..self })
    }

    /// The public URL Graph posts to.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// What the receiver of every feed made from this webhook saw so far.
    pub fn stats(&self) -> FeedStats {
        self.stats.snapshot()
    }
}

/// The registry's default `webhook_lock_file` for the notification URL `public_url`:
/// `$XDG_STATE_HOME/agentstatus/msgraph-<hash of the URL>.lock`, else
/// `$HOME/.local/state/agentstatus/...` (the XDG Base Directory default for state); `None` when
/// neither variable is set (or is not an absolute path): then nothing is locked.
pub fn default_lock_file(public_url: &str) -> Option<PathBuf> {
    let dir = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = dir("XDG_STATE_HOME").or_else(|| dir("HOME").map(|h| h.join(".local/state")))?;
    // FNV-1a: the same name for the same URL in every build (no secret: the URL has none)
    let hash = public_url.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    Some(
        base.join("agentstatus")
            .join(format!("msgraph-{hash:016x}.lock")),
    )
}

/// The lock of `webhook`'s lock file, if it has one (its directory made if missing); one held
/// by another process (or another feed in this one) is refused, naming the URL, the lock file
/// and the holder.
fn lock_webhook(
    webhook: &Webhook,
) -> Result<Option<agentstatus_presence::lockfile::LockFile>, PresenceError> {
    use agentstatus_presence::lockfile::{LockError, LockFile};
    let Some(path) = &webhook.lock_file else {
        return Ok(None);
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            invalid(format!(
                "webhook_lock_file {}: its directory cannot be made ({})",
                path.display(),
                e.kind()
            ))
        })?;
    }
    LockFile::acquire(path).map(Some).map_err(|e| match e {
        // not a passing trouble: refused until the other one stops ([`ErrorKind::InUse`])
        LockError::Held { holder, path } => PresenceError::in_use(
            VENDOR,
            format!(
                "webhook_url {}: in use by another watch ({}; lock file {}): one watch per notification URL, whose startup and --restore delete the subscriptions to it; stop the other one, or give this one a URL of its own",
                webhook.public_url,
                holder.as_deref().unwrap_or("a process that has not said which"),
                path.display()
            ),
            Some(path),
        ),
        e => invalid(format!("webhook_lock_file: {e}")),
    })
}

/// Refused before anything is sent: an id that is not a GUID's characters (hex digits and
/// hyphens) would break out of a subscription's `$filter` or path.
pub fn check_ids(users: &[String]) -> Result<(), PresenceError> {
    for u in users {
        if u.is_empty() || !u.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            return Err(invalid(format!(
                "{u:?}: a subscription names user object ids (GUIDs) only"
            )));
        }
    }
    Ok(())
}

#[cfg(feature = "watch")]
pub use feed::GraphSubscriptions;

#[cfg(feature = "watch")]
mod feed {
    use super::*;

    use std::collections::{BTreeSet, HashMap};

    use agentstatus_runtime::ExposeSecret as _;

    use agentstatus_presence::adapter::{ErrorBody, Failed, call, call_answer};
    use agentstatus_presence::watch::{Batch, ChangeFeed, Origin};
    use agentstatus_presence::{AgentPresence, async_trait};
    use axum::body::Bytes;
    use axum::extract::{DefaultBodyLimit, Query, State};
    use axum::http::{HeaderValue, Method, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use base64::Engine as _;
    use chrono::{DateTime, Utc};
    use progenitor_client::ClientInfo;
    use serde_json::Value;
    use tokio::sync::mpsc;

    use crate::presence::{MAX_IDS, MsgraphPresence};
    use crate::types;

    /// Events queued by the receiver for the feed.
    const QUEUE: usize = 256;

    #[derive(Debug)]
    enum Event {
        /// Presences named by change notifications.
        Changed(Vec<String>),
        /// A lifecycle notification.
        Lifecycle { event: String, subscription: String },
    }

    #[derive(Clone)]
    struct Receiving {
        client_state: SecretString,
        events: mpsc::Sender<Event>,
        stats: Arc<Stats>,
        overflowed: Arc<std::sync::atomic::AtomicBool>,
    }

    /// Equal, in time that does not depend on where they differ.
    fn same_secret(a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The user id a change notification names: `resourceData.id`, else the id in
    /// `resource` (`communications/presences('<id>')` or `.../presences/<id>`).
    fn named_id(item: &Value) -> Option<String> {
        if let Some(id) = item.pointer("/resourceData/id").and_then(Value::as_str) {
            return Some(id.to_string());
        }
        let resource = item.get("resource").and_then(Value::as_str)?;
        let rest = resource
            .trim_start_matches('/')
            .strip_prefix("communications/presences")?;
        let id = rest
            .strip_prefix("('")
            .and_then(|r| r.strip_suffix("')"))
            .or_else(|| rest.strip_prefix('/'))?;
        Some(id.to_string())
    }

    /// The receiver: validation requests answered, notifications checked and queued.
    async fn receive(
        State(r): State<Receiving>,
        method: Method,
        Query(query): Query<HashMap<String, String>>,
        body: Bytes,
    ) -> Response {
        if let Some(token) = query.get("validationToken") {
            // Graph: answer 200, text/plain, the token (URL-decoded), within 10 seconds
            if token.len() > MAX_VALIDATION_TOKEN {
                return (StatusCode::BAD_REQUEST, "validationToken too long").into_response();
            }
            r.stats.validations.fetch_add(1, Ordering::SeqCst);
            let mut answer = (StatusCode::OK, token.clone()).into_response();
            let headers = answer.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            return answer;
        }
        if method != Method::POST {
            return StatusCode::METHOD_NOT_ALLOWED.into_response();
        }
        let Ok(doc) = serde_json::from_slice::<Value>(&body) else {
            return (StatusCode::BAD_REQUEST, "not a JSON notification").into_response();
        };
        let Some(items) = doc.get("value").and_then(Value::as_array) else {
            return (StatusCode::BAD_REQUEST, "no `value` array").into_response();
        };
        let secret = r.client_state.expose_secret().as_bytes();
        let mut ids = Vec::new();
        let mut events = Vec::new();
        for item in items {
            let state = item.get("clientState").and_then(Value::as_str);
            if !state.is_some_and(|s| same_secret(s.as_bytes(), secret)) {
                r.stats.refused.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            let subscription = item
                .get("subscriptionId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some(event) = item.get("lifecycleEvent").and_then(Value::as_str) {
                r.stats.lifecycle.fetch_add(1, Ordering::SeqCst);
                events.push(Event::Lifecycle {
                    event: event.to_string(),
                    subscription,
                });
            } else if let Some(id) = named_id(item) {
                r.stats.received.fetch_add(1, Ordering::SeqCst);
                ids.push(id);
            } else {
                // a notification the feed cannot read: it cannot say what changed
                r.stats.received.fetch_add(1, Ordering::SeqCst);
                events.push(Event::Lifecycle {
                    event: "unreadable".into(),
                    subscription,
                });
            }
        }
        if !ids.is_empty() {
            events.push(Event::Changed(ids));
        }
        for e in events {
            if r.events.try_send(e).is_err() {
                // full (or the feed is gone): the feed reads everything instead
                r.stats.overflows.fetch_add(1, Ordering::SeqCst);
                r.overflowed.store(true, Ordering::SeqCst);
            }
        }
        // Graph retries what is not answered 2xx within seconds: answered at once
        StatusCode::ACCEPTED.into_response()
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

    /// A live subscription.
    #[derive(Debug, Clone)]
    struct Live {
        id: String,
        renew_at: tokio::time::Instant,
    }

    /// `watch` on Microsoft Graph: subscriptions and their webhook. See the [module](super).
    pub struct GraphSubscriptions {
        presence: MsgraphPresence,
        users: Vec<String>,
        /// `users`, to look notified ids up in.
        user_set: std::collections::HashSet<String>,
        webhook: Webhook,
        client_state: SecretString,
        receiver: Option<Receiver>,
        /// Every subscription made and not yet deleted (one made by a `subscribe` that did not
        /// finish included, so a shutdown deletes it too).
        live: Vec<Live>,
        /// `live` covers every user: the last `subscribe` finished.
        subscribed: bool,
        api: Api,
        /// The notification URL's lock ([`Webhook::with_lock_file`]), from the first
        /// subscription until the subscriptions are deleted.
        lock: Option<agentstatus_presence::lockfile::LockFile>,
    }

    /// The subscription calls (the generated client's, on a copy of the adapter's client that
    /// carries the subscriber's token), the subscriptions' lifetime and public URL.
    #[derive(Clone)]
    struct Api {
        client: crate::Client,
        token: SubscriberToken,
        lifetime: Duration,
        public_url: String,
        /// Milliseconds Graph's clock is ahead of ours (behind: negative), from the `Date` of
        /// its last answer ([`Api::learn_clock`]): a subscription's expiry is Graph's to judge
        /// (in the future, at most an hour away), by its clock.
        server_ahead_ms: Arc<std::sync::atomic::AtomicI64>,
    }

    impl fmt::Debug for GraphSubscriptions {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("GraphSubscriptions")
                .field("users", &self.users.len())
                .field("webhook", &self.webhook)
                .field(
                    "subscriptions",
                    &self.live.iter().map(|l| &l.id).collect::<Vec<_>>(),
                )
                .finish_non_exhaustive()
        }
    }

    /// A random `clientState`: 32 bytes from the OS, base64url (43 characters; Graph takes 255).
    fn random_secret() -> Result<SecretString, PresenceError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| {
            invalid(format!(
                "no randomness for the subscription's clientState: {e}"
            ))
        })?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(bytes)
            .into())
    }

    /// The `resource` of a subscription to `ids`.
    pub(crate) fn resource(ids: &[String]) -> String {
        let list: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
        format!(
            "/communications/presences?$filter=id in ({})",
            list.join(",")
        )
    }

    impl GraphSubscriptions {
        /// A feed over `presence` (its client reads the changed users) for `users`, with
        /// `webhook`. Nothing is sent or bound until the watcher's first `next`.
        pub fn new(
            presence: MsgraphPresence,
            users: Vec<String>,
            webhook: Webhook,
        ) -> Result<Self, PresenceError> {
            check_ids(&users)?;
            if users.is_empty() {
                return Err(invalid(
                    "no users to subscribe to: set `users` (user object ids)".into(),
                ));
            }
            let api = Api {
                client: presence.graph_client().clone(),
                token: webhook.token.clone(),
                lifetime: webhook.lifetime,
                public_url: webhook.public_url.clone(),
                server_ahead_ms: Arc::default(),
            };
            Ok(Self {
                presence,
                user_set: users.iter().cloned().collect(),
                users,
                webhook,
                client_state: random_secret()?,
                receiver: None,
                live: Vec::new(),
                subscribed: false,
                api,
                lock: None,
            })
        }

        /// What `kill -9` leaves of this feed, for tests of what the next run recovers (feature
        /// `fake`): the operating system releases the lock (a process's open files close when
        /// it ends), and nothing of the feed's own clean-up runs: its subscriptions stay on
        /// Graph, its receiver task on its runtime.
        #[cfg(feature = "fake")]
        pub fn killed(self) {
            let mut feed = std::mem::ManuallyDrop::new(self);
            drop(feed.lock.take());
        }

        /// The subscriptions' ids now.
        pub fn subscriptions(&self) -> Vec<String> {
            self.live.iter().map(|l| l.id.clone()).collect()
        }

        /// Delete the subscriptions one by one, each forgotten once its delete has answered
        /// (so a cancelled call leaves the rest to a later one, or to `Drop`). The first failure
        /// is returned; the others are still tried.
        async fn delete_live(&mut self) -> Result<(), PresenceError> {
            self.subscribed = false;
            let mut first = None;
            while let Some(l) = self.live.last() {
                let id = l.id.clone();
                if let Err(e) = self.api.delete(&id).await
                    && first.is_none()
                {
                    first = Some(e);
                }
                self.live.pop();
            }
            first.map_or(Ok(()), Err)
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
                client_state: self.client_state.clone(),
                events: tx,
                stats: self.webhook.stats.clone(),
                overflowed: overflowed.clone(),
            };
            // the body bound, the timeouts and the connections are the toolkit's receiver's
            let app = axum::Router::new()
                .fallback(receive)
                .layer(DefaultBodyLimit::disable())
                .with_state(state);
            let task = tokio::spawn(agentstatus_presence::receiver::serve(
                listener,
                hyper_util::service::TowerToHyperService::new(app),
                self.webhook.limits,
            ));
            self.receiver = Some(Receiver {
                events: rx,
                overflowed,
                task,
            });
            Ok(())
        }

        /// Subscribe to every user, [`MAX_IDS`] a subscription, after deleting what an earlier
        /// run left behind.
        async fn subscribe(&mut self) -> Result<(), PresenceError> {
            // the URL is this feed's alone before what a killed run left is deleted
            if self.lock.is_none() {
                self.lock = lock_webhook(&self.webhook)?;
            }
            self.api.delete_stale().await?;
            let users = self.users.clone();
            for chunk in users.chunks(MAX_IDS) {
                match self.api.create(chunk, &self.client_state).await {
                    // kept at once: a shutdown while the rest are made deletes it
                    Ok(l) => self.live.push(l),
                    Err(e) => {
                        // none half-made: the ones created are deleted, best effort
                        self.drop_all().await;
                        return Err(e);
                    }
                }
            }
            self.subscribed = true;
            Ok(())
        }

        /// Forget every subscription, deleting them on Graph (best effort: one already gone
        /// answers 404); the next round subscribes again.
        async fn drop_all(&mut self) {
            let _ = self.delete_live().await;
        }

        fn resync(&self) -> Batch {
            self.webhook.stats.resyncs.fetch_add(1, Ordering::SeqCst);
            Batch::Resync
        }

        /// The configured users among `ids`, read afresh (one bulk read, within the adapter's
        /// deadline of a `list`).
        async fn read(&self, ids: BTreeSet<String>) -> Result<Vec<AgentPresence>, PresenceError> {
            let wanted: Vec<String> = ids
                .into_iter()
                .filter(|i| self.user_set.contains(i))
                .collect();
            if wanted.is_empty() {
                return Ok(Vec::new());
            }
            let deadline = agentstatus_presence::adapter::Deadline::deadline(&self.presence);
            let read = self.presence.read_many(&wanted);
            agentstatus_presence::adapter::within(
                deadline,
                VENDOR,
                agentstatus_presence::adapter::Step::List,
                read,
            )
            .await
        }
    }

    impl Api {
        /// Graph's clock now: ours, moved by how far its last answer's `Date` was off ours
        /// (the runtime's reading: `agentstatus_runtime::retry::server_now`, ours within its
        /// tolerance of a couple of seconds).
        fn server_now(&self) -> DateTime<Utc> {
            let ahead = self.server_ahead_ms.load(Ordering::SeqCst);
            DateTime::<Utc>::from(std::time::SystemTime::now())
                + chrono::TimeDelta::milliseconds(ahead)
        }

        /// Keep how far Graph's clock is off ours, from an answer's `Date`.
        fn learn_clock(&self, headers: &reqwest::header::HeaderMap) {
            if headers.get(reqwest::header::DATE).is_none() {
                return;
            }
            let now = std::time::SystemTime::now();
            let server = agentstatus_runtime::retry::server_now(headers, now);
            let ahead = match server.duration_since(now) {
                Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
                Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
            };
            self.server_ahead_ms.store(ahead, Ordering::SeqCst);
        }

        /// The `expirationDateTime` asked for: the lifetime from now by Graph's clock (which
        /// refuses one more than an hour away, or past, by its own clock).
        fn expiry(&self) -> DateTime<Utc> {
            self.server_now()
                + chrono::TimeDelta::from_std(self.lifetime).unwrap_or(chrono::TimeDelta::zero())
        }

        /// When to renew a subscription Graph granted until `granted` (its answer's
        /// `expirationDateTime`, if any, by Graph's clock): after two thirds of the lifetime
        /// asked for, or of the time Graph granted when that is shorter.
        fn renew_at(&self, granted: Option<DateTime<Utc>>) -> tokio::time::Instant {
            let mut wait = self.lifetime * 2 / 3;
            if let Some(at) = granted {
                // a `Date` is to the second, and was written before the answer travelled:
                // Graph's clock may be up to a second past it (renewing early is harmless;
                // late, the subscription is gone)
                let now = match self.server_ahead_ms.load(Ordering::SeqCst) {
                    0 => self.server_now(),
                    _ => self.server_now() + chrono::TimeDelta::seconds(1),
                };
                let left = at
                    .signed_duration_since(now)
                    .to_std()
                    .unwrap_or(Duration::ZERO);
                wait = wait.min(left * 2 / 3);
            }
            tokio::time::Instant::now() + wait
        }

        /// The generated client over the adapter's HTTP client and base URL, its requests
        /// carrying the subscriber's token as read now (in a sensitive header: never shown)
        /// instead of the application's credentials.
        fn subscriber(&self) -> Result<crate::Client, PresenceError> {
            let token = self.token.read()?;
            let inner = self
                .client
                .inner()
                .with_bearer(&token)
                .map_err(|_| invalid("the subscriber's token is not a header value".into()))?;
            Ok(crate::Client::new_with_client(
                self.client.baseurl(),
                self.client.client().clone(),
                inner,
            ))
        }

        async fn create(
            &self,
            ids: &[String],
            client_state: &SecretString,
        ) -> Result<Live, PresenceError> {
            let client = self.subscriber()?;
            let asked = self.expiry();
            let body = types::MicrosoftGraphSubscription::builder()
                .change_type(Some("updated".to_string()))
                .notification_url(Some(self.public_url.clone()))
                .lifecycle_notification_url(Some(self.public_url.clone()))
                .resource(Some(resource(ids)))
                .expiration_date_time(Some(asked))
                // a `SecretText` (`format: password`, the overlay): never shown by `Debug`
                .client_state(Some(agentstatus_runtime::SecretText::from(client_state)))
                .include_resource_data(Some(false))
                .latest_supported_tls_version(Some("v1_2".to_string()));
            let request = client
                .subscriptions_subscription_create_subscription()
                .body(body);
            let created = match call_answer(request.send()).await {
                Ok(answer) => {
                    self.learn_clock(answer.headers());
                    answer.into_inner()
                }
                Err(f) => return Err(failed(f, "subscription_create").await),
            };
            let Some(id) = created.id else {
                return Err(PresenceError::new(
                    VENDOR,
                    Failure::InvalidResponse {
                        status: Some(201),
                        message: "POST /subscriptions: no `id` in the answer".into(),
                    },
                )
                .with_operation("subscription_create"));
            };
            Ok(Live {
                id,
                // what Graph granted, else what was asked for, by Graph's clock
                renew_at: self.renew_at(created.expiration_date_time.or(Some(asked))),
            })
        }

        /// Delete the presence subscriptions the signed-in user has to this feed's public URL
        /// (`GET /subscriptions`, every page: its `@odata.nextLink`s followed, at most
        /// [`SUBSCRIPTION_PAGES`], on the API's own origin only): those of a run that ended
        /// without deleting them (killed), which Graph keeps until they expire and which could
        /// stand in the way of new ones (one presence subscription per user and application,
        /// Learn says).
        async fn delete_stale(&self) -> Result<usize, PresenceError> {
            let client = self.subscriber()?;
            let request = client.subscriptions_subscription_list_subscription();
            let mut page = match call_answer(request.send()).await {
                Ok(answer) => {
                    // Graph's clock, before any expiry is asked of it
                    self.learn_clock(answer.headers());
                    answer.into_inner()
                }
                Err(f) => return Err(failed(f, "subscription_list").await),
            };
            let mut stale: Vec<String> = Vec::new();
            let mut pages = 1;
            loop {
                stale.extend(
                    std::mem::take(&mut page.value)
                        .into_iter()
                        .filter(|s| {
                            s.notification_url.as_deref() == Some(self.public_url.as_str())
                                && s.resource.as_deref().is_some_and(|r| {
                                    r.trim_start_matches('/')
                                        .starts_with("communications/presences")
                                })
                        })
                        .filter_map(|s| s.id),
                );
                let Some(next) = page.odata_next_link.take().filter(|l| !l.is_empty()) else {
                    break;
                };
                if pages >= SUBSCRIPTION_PAGES {
                    return Err(PresenceError::new(
                        VENDOR,
                        Failure::InvalidResponse {
                            status: None,
                            message: format!(
                                "GET /subscriptions still had an @odata.nextLink after {SUBSCRIPTION_PAGES} pages ({} subscriptions of this watch found): not read further",
                                stale.len()
                            ),
                        },
                    )
                    .with_operation("subscription_list"));
                }
                page = next_subscriptions(&client, &next).await?;
                pages += 1;
            }
            for id in &stale {
                self.delete(id).await?;
            }
            Ok(stale.len())
        }

        /// When to renew it next; `Ok(None)`: the subscription is gone (404).
        async fn renew(&self, id: &str) -> Result<Option<tokio::time::Instant>, PresenceError> {
            check_ids(&[id.to_string()])?;
            let client = self.subscriber()?;
            let asked = self.expiry();
            let body =
                types::MicrosoftGraphSubscription::builder().expiration_date_time(Some(asked));
            let request = client
                .subscriptions_subscription_update_subscription()
                .subscription_id(id)
                .body(body);
            // any 2xx: Learn's 200 with the subscription, the document's 204 (the overlay);
            // the answer is not read (its `Date` is): the next renewal is timed from the
            // expiry asked for, by Graph's clock
            match call_answer(request.send()).await {
                Ok(answer) => {
                    self.learn_clock(answer.headers());
                    Ok(Some(self.renew_at(Some(asked))))
                }
                Err(f) => {
                    let e = failed(f, "subscription_renew").await;
                    if e.status() == Some(404) {
                        Ok(None)
                    } else {
                        Err(e)
                    }
                }
            }
        }

        async fn delete(&self, id: &str) -> Result<(), PresenceError> {
            check_ids(&[id.to_string()])?;
            let client = self.subscriber()?;
            let request = client
                .subscriptions_subscription_delete_subscription()
                .subscription_id(id);
            match call(request.send()).await {
                Ok(()) => Ok(()),
                Err(f) => {
                    let e = failed(f, "subscription_delete").await;
                    if e.status() == Some(404) {
                        Ok(())
                    } else {
                        Err(e)
                    }
                }
            }
        }
    }

    /// Pages of `GET /subscriptions` read at most at startup (Graph pages its list; a server
    /// whose nextLinks never end cannot keep a starting watch reading).
    pub const SUBSCRIPTION_PAGES: usize = 100;

    /// The page of `GET /subscriptions` an `@odata.nextLink` names, read with the subscriber's
    /// token through the client (its rate limit, retries, deadline and body bound) — only when
    /// the link is on the API's own origin (scheme, host and port of the client's base URL): a
    /// link elsewhere is refused, and the token is never sent there.
    async fn next_subscriptions(
        client: &crate::Client,
        next: &str,
    ) -> Result<types::CollectionOfSubscription, PresenceError> {
        let bad = |message: String| {
            PresenceError::new(
                VENDOR,
                Failure::InvalidResponse {
                    status: None,
                    message,
                },
            )
            .with_operation("subscription_list")
        };
        let base = reqwest::Url::parse(client.baseurl())
            .map_err(|e| bad(format!("the client's base URL: {e}")))?;
        let url = base
            .join(next)
            .map_err(|_| bad("GET /subscriptions: its @odata.nextLink is not a URL".into()))?;
        if url.origin() != base.origin() {
            return Err(bad(format!(
                "GET /subscriptions: its @odata.nextLink goes to another origin ({}) than the API's ({}): not followed (the user's token would go with it)",
                agentstatus_presence::adapter::clip(&url.origin().ascii_serialization()),
                base.origin().ascii_serialization()
            )));
        }
        let mut request = reqwest::Request::new(reqwest::Method::GET, url);
        request.headers_mut().insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static("application/json"),
        );
        agentstatus_runtime::authorize::<()>(client.inner(), &mut request)
            .await
            .map_err(|e| bad(e.to_string()))?;
        let answer = agentstatus_runtime::execute(client.client(), client.inner(), request)
            .await
            .map_err(|e| {
                PresenceError::new(
                    VENDOR,
                    Failure::Network {
                        message: agentstatus_presence::adapter::clip(&e.without_url().to_string()),
                    },
                )
                .with_operation("subscription_list")
            })?;
        let status = answer.status();
        let bytes = answer.bytes().await.map_err(|e| {
            bad(format!(
                "GET /subscriptions (a next page): the body could not be read: {}",
                agentstatus_presence::adapter::clip(&e.without_url().to_string())
            ))
        })?;
        if !status.is_success() {
            let said = serde_json::from_slice::<types::OdataError>(&bytes)
                .map(|e| format!("[{}] {}", e.error.code, e.error.message))
                .unwrap_or_default();
            return Err(PresenceError::new(
                VENDOR,
                Failure::Http {
                    status: status.as_u16(),
                    code: None,
                    message: Some(agentstatus_presence::adapter::clip(&format!(
                        "GET /subscriptions (a next page) {said}"
                    ))),
                },
            )
            .with_operation("subscription_list"));
        }
        // not quoted: a subscription carries its clientState
        serde_json::from_slice(&bytes).map_err(|e| {
            PresenceError::new(
                VENDOR,
                Failure::InvalidResponse {
                    status: Some(status.as_u16()),
                    message: format!(
                        "GET /subscriptions (a next page) is not what the document declares (at line {} column {}); its body is not shown: it may carry a subscription's clientState",
                        e.line(),
                        e.column()
                    ),
                },
            )
            .with_operation("subscription_list")
        })
    }

    /// The error of a failed subscription call, in `operation`. A success answer that is not
    /// what the document declares (a body that does not decode, a 2xx status not declared) is
    /// not quoted, as other answers' bodies are: a subscription carries the secret
    /// `clientState`.
    async fn failed<E: ErrorBody>(f: Failed<E>, operation: &'static str) -> PresenceError {
        use progenitor_client::Error as E;
        let unquoted = match &f.error {
            E::InvalidResponsePayload(_, e) => Some((
                f.status,
                format!(
                    "the answer is not what the document declares (at line {} column {}); its \
                     body is not shown: it may carry the subscription's clientState",
                    e.line(),
                    e.column()
                ),
            )),
            E::UnexpectedResponse(r) if r.status().is_success() => Some((
                Some(r.status().as_u16()),
                "the answer's success status is not the one the document declares; its body \
                 is not shown: it may carry the subscription's clientState"
                    .to_string(),
            )),
            _ => None,
        };
        match unquoted {
            Some((status, message)) => {
                PresenceError::new(VENDOR, Failure::InvalidResponse { status, message })
                    .with_operation(operation)
            }
            None => f.into_error(VENDOR, None).await.with_operation(operation),
        }
    }

    /// Graph's error body as the ChangeNotifications module declares it (`odata.error`, an
    /// older generation of Microsoft's converter than the presence calls':
    /// specs/msgraph/NOTES.md#two-generations-of-the-converter).
    impl ErrorBody for types::OdataError {
        fn parts(self) -> (Option<String>, Option<String>) {
            (Some(self.error.code), Some(self.error.message))
        }
    }

    impl Drop for GraphSubscriptions {
        /// The subscriptions are deleted from a task when a runtime is there to run it (best
        /// effort: `ChangeFeed::shutdown` is the way that waits for it); else they expire by
        /// themselves within their lifetime.
        fn drop(&mut self) {
            if self.live.is_empty() {
                return;
            }
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return;
            };
            let live = std::mem::take(&mut self.live);
            let api = self.api.clone();
            // the URL stays this feed's until its subscriptions are deleted
            let lock = self.lock.take();
            runtime.spawn(async move {
                for l in live {
                    let _ = api.delete(&l.id).await;
                }
                drop(lock);
            });
        }
    }

    #[async_trait]
    impl ChangeFeed for GraphSubscriptions {
        fn origin(&self) -> Origin {
            Origin::Push
        }

        /// Delete every subscription, within [`SHUTDOWN_DEADLINE`], and stop the receiver.
        /// Those a failure or the deadline left are Graph's to expire (within the lifetime).
        async fn shutdown(&mut self) -> Result<(), PresenceError> {
            let deleted = tokio::time::timeout(SHUTDOWN_DEADLINE, self.delete_live()).await;
            self.receiver = None;
            // the URL is free for the next watch (what was not deleted expires by itself)
            self.lock = None;
            match deleted {
                Ok(r) => r,
                Err(_) => Err(PresenceError::new(
                    VENDOR,
                    Failure::Deadline {
                        deadline: SHUTDOWN_DEADLINE,
                    },
                )
                .with_operation("subscription_delete")),
            }
        }

        /// Delete the presence subscriptions to this feed's URL that a run killed before its
        /// shutdown left on Graph (what a starting feed does first), without subscribing.
        async fn recover(&mut self) -> Result<Option<String>, PresenceError> {
            // never beside a running watch to the same URL: its live subscriptions would go
            let _lock = match self.lock {
                Some(_) => None,
                None => lock_webhook(&self.webhook)?,
            };
            let deleted = self.api.delete_stale().await?;
            Ok((deleted > 0).then(|| {
                format!(
                    "{deleted} presence subscription(s) to this watch's notification URL, left by a run that was stopped without deleting them, deleted"
                )
            }))
        }

        async fn next(&mut self) -> Result<Batch, PresenceError> {
            loop {
                // the URL's lock before anything else: a second watch to it (the same config
                // started twice, its listen address taken as well) is refused for what it is
                if self.lock.is_none() {
                    self.lock = lock_webhook(&self.webhook)?;
                }
                if self.receiver.is_none() {
                    self.start_receiver().await?;
                }
                if !self.subscribed {
                    // what a cancelled round made first (none, usually) goes
                    self.drop_all().await;
                    self.subscribe().await?;
                    // what changed before the subscriptions existed is in a full read
                    return Ok(self.resync());
                }
                let receiver = self.receiver.as_mut().expect("started above");
                if receiver.overflowed.swap(false, Ordering::SeqCst) {
                    return Ok(self.resync());
                }
                let renew_at = self
                    .live
                    .iter()
                    .map(|l| l.renew_at)
                    .min()
                    .expect("subscriptions exist");
                let event = tokio::select! {
                    e = receiver.events.recv() => e,
                    () = tokio::time::sleep_until(renew_at) => {
                        let now = tokio::time::Instant::now();
                        let due: Vec<String> = self
                            .live
                            .iter()
                            .filter(|l| l.renew_at <= now)
                            .map(|l| l.id.clone())
                            .collect();
                        let mut gone = false;
                        for id in due {
                            match self.api.renew(&id).await? {
                                Some(at) => {
                                    if let Some(l) = self.live.iter_mut().find(|l| l.id == id) {
                                        l.renew_at = at;
                                    }
                                }
                                None => gone = true,
                            }
                        }
                        if gone {
                            // a subscription expired or was removed: all made anew by the
                            // next round, and a full read
                            self.drop_all().await;
                        }
                        continue;
                    }
                };
                let Some(event) = event else {
                    self.receiver = None;
                    return Err(PresenceError::new(
                        VENDOR,
                        Failure::Network {
                            message: "the webhook receiver stopped".into(),
                        },
                    ));
                };
                let mut ids = BTreeSet::new();
                let mut lifecycle = Vec::new();
                let mut take = |e: Event| match e {
                    Event::Changed(list) => ids.extend(list),
                    Event::Lifecycle {
                        event,
                        subscription,
                    } => lifecycle.push((event, subscription)),
                };
                take(event);
                while let Ok(e) = receiver.events.try_recv() {
                    take(e);
                }
                if !lifecycle.is_empty() {
                    for (event, subscription) in lifecycle {
                        let ours = self.live.iter().any(|l| l.id == subscription);
                        // Graph: reauthorize by renewing, with a valid token
                        let renewed = if ours && event == "reauthorizationRequired" {
                            let next = self.api.renew(&subscription).await?;
                            if let (Some(at), Some(l)) =
                                (next, self.live.iter_mut().find(|l| l.id == subscription))
                            {
                                l.renew_at = at;
                            }
                            next.is_some()
                        } else {
                            true
                        };
                        if (ours && event == "subscriptionRemoved") || !renewed {
                            // made anew by the next round, then a full read
                            self.drop_all().await;
                        }
                    }
                    // `missed`, and any other: what was lost is in a full read
                    return Ok(self.resync());
                }
                let changed = self.read(ids).await?;
                if !changed.is_empty() {
                    return Ok(Batch::Changed(changed));
                }
            }
        }
    }
}
