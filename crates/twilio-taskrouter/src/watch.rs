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
//! URL ([`ErrorKind::InUse`](agentstatus_presence::ErrorKind::InUse): `agentstatus watch` stops
//! on it), unless told to replace it ([`Webhook::replacing_existing`]; the registry's
//! `webhook_replace_existing = "true"`), and then it puts the previous URL and filter back when
//! it stops. **Durably:** with a state file ([`Webhook::with_state_file`]; the registry's
//! `webhook_state_file`, by default [`default_state_file`]) the previous URL and filter are
//! written there before the workspace is changed, and the record is removed once they are put
//! back. A feed killed before it could (kill -9, a crash, a power cut) leaves its own URL in the
//! workspace and the record on disk: the next run finds its own URL, takes the previous one from
//! the record and puts that back when it stops; `restore_recorded` (feature `watch`; `agentstatus watch
//! --restore`, [`ChangeFeed::recover`](agentstatus_presence::watch::ChangeFeed::recover)) puts
//! it back without watching. Without a state file the previous URL lives in memory only, and a
//! run after a kill can only clear the URL at its end. Put a fan-out proxy in front of both if
//! both must receive events.
//!
//! **One watch per state file.** The record is the feed's own: a second watch on the same file
//! would write its record over the first's (naming the first's URL as the one to put back), and
//! a recovery or `--restore` beside a running watch would take its callback away. So the feed
//! holds an exclusive lock on `<state file>.lock` (the toolkit's
//! [`LockFile`](agentstatus_presence::lockfile::LockFile), which records the holding process)
//! from before it reads the record until the callback is put back, and `restore_recorded` holds
//! it while it works; a second one is refused, naming the state file, the lock file and the
//! process holding it ([`ErrorKind::InUse`](agentstatus_presence::ErrorKind::InUse), before the
//! feed binds its listen address: `agentstatus watch` stops on it at once). The lock is the operating system's: a killed watch's is released with
//! its process, so the next run is never refused by a dead one.
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
//! for (that read already holds it, or something newer), both times by Twilio's clock (the
//! events' `TimestampMs`; the read's from our clock and the `Date` of Twilio's answers, so a
//! clock off ours does not make every event look older than the read). A full read is asked
//! for when the feed starts (after the callback is set), when the receiver's queue overflows,
//! when an event names an activity the feed cannot place, and every heartbeat
//! ([`Webhook::with_heartbeat`], default [`DEFAULT_HEARTBEAT`]): an event Twilio never
//! delivered is found by the next heartbeat's read, and reported as a poll.

// without `watch`, the settings are parsed and checked but the feed that reads them is absent
#![cfg_attr(not(feature = "watch"), allow(dead_code))]

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
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
    /// Where the replaced callback is recorded before the workspace changes
    /// ([`Webhook::with_state_file`]).
    state_file: Option<PathBuf>,
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
            .field("state_file", &self.state_file)
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
            state_file: None,
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
            state_file: None,
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

    /// Record the workspace's callback URL and filter in `path` before the feed replaces them,
    /// and remove the record once they are put back: a run killed before it could put them back
    /// (`kill -9`, a crash) leaves the record, the next run reads it (and puts that callback back
    /// when it stops), and `restore_recorded` (feature `watch`; `agentstatus watch --restore`) puts it back
    /// without watching. The file is written whole (a temporary file renamed over it), readable
    /// by its owner only (a callback URL may carry credentials), and holds one workspace's
    /// record. Without it (the library's default) the previous callback lives in memory only:
    /// after a kill the next run finds its own URL and can only clear it at its end. The
    /// registry's `webhook_state_file` defaults to [`default_state_file`]. One watch per file:
    /// the feed locks `<path>.lock` (see the [module](self)), and a second is refused.
    pub fn with_state_file(self, path: impl Into<PathBuf>) -> Self {
        Self {
            state_file: Some(path.into()),
            ..self
        }
    }

    /// Where the replaced callback is recorded, if anywhere ([`Webhook::with_state_file`]).
    pub fn state_file(&self) -> Option<&Path> {
        self.state_file.as_deref()
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

/// The registry's default `webhook_state_file` for `workspace`:
/// `$XDG_STATE_HOME/agentstatus/twilio-taskrouter-<workspace>.json`, else
/// `$HOME/.local/state/agentstatus/twilio-taskrouter-<workspace>.json` (the XDG Base Directory
/// default for state); `None` when neither variable is set (or is not an absolute path).
pub fn default_state_file(workspace: &str) -> Option<PathBuf> {
    let dir = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = dir("XDG_STATE_HOME").or_else(|| dir("HOME").map(|h| h.join(".local/state")))?;
    // a workspace SID is letters and digits: anything else stays out of the file name
    let safe: String = workspace
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(64)
        .collect();
    Some(
        base.join("agentstatus")
            .join(format!("twilio-taskrouter-{safe}.json")),
    )
}

/// What the feed records before it replaces a workspace's callback ([`Webhook::with_state_file`]).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallbackRecord {
    /// The workspace.
    pub workspace_sid: String,
    /// The feed's own callback URL, set after this record was written.
    pub callback_url: String,
    /// The workspace's `EventCallbackUrl` before (empty: none).
    pub previous_url: String,
    /// Its `EventsFilter` before (`None`: none).
    pub previous_filter: Option<String>,
}

impl fmt::Debug for CallbackRecord {
    /// The URLs by origin only: a callback URL may carry credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |u: &str| {
            if u.is_empty() {
                "(none)".to_string()
            } else {
                origin_of(u)
            }
        };
        f.debug_struct("CallbackRecord")
            .field("workspace_sid", &self.workspace_sid)
            .field("callback_url", &shown(&self.callback_url))
            .field("previous_url", &shown(&self.previous_url))
            .field("previous_filter", &self.previous_filter)
            .finish()
    }
}

/// The largest state file read (a record is a few hundred bytes).
const MAX_STATE_FILE: u64 = 64 * 1024;

fn state_error(path: &Path, what: String) -> PresenceError {
    invalid(format!("webhook_state_file {}: {what}", path.display()))
}

/// The record in `path` for `workspace`; `None` when there is no file. A file that cannot be
/// read, is too large, is not a record (its line and column said), or is another workspace's is
/// an error: the feed never guesses what the workspace had.
pub fn read_record(path: &Path, workspace: &str) -> Result<Option<CallbackRecord>, PresenceError> {
    use std::io::Read as _;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(state_error(path, format!("cannot be read ({})", e.kind()))),
    };
    let mut text = String::new();
    file.take(MAX_STATE_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| state_error(path, format!("cannot be read ({})", e.kind())))?;
    if text.len() as u64 > MAX_STATE_FILE {
        return Err(state_error(
            path,
            format!("larger than {MAX_STATE_FILE} bytes: not a record of this program's"),
        ));
    }
    let record: CallbackRecord = serde_json::from_str(&text).map_err(|e| {
        state_error(
            path,
            format!(
                "{}:{}: not a callback record ({}); fix or remove it after checking the workspace's EventCallbackUrl",
                e.line(),
                e.column(),
                agentstatus_presence::escape_controls(&e.to_string())
            ),
        )
    })?;
    if record.workspace_sid != workspace {
        return Err(state_error(
            path,
            format!(
                "holds the record of workspace {}, not {workspace}: give each workspace its own state file",
                agentstatus_presence::escape_controls(&record.workspace_sid)
            ),
        ));
    }
    Ok(Some(record))
}

/// Write `record` to `path` whole: a temporary file beside it (owner-only), flushed to disk,
/// renamed over it; the directory is made if missing.
pub fn write_record(path: &Path, record: &CallbackRecord) -> Result<(), PresenceError> {
    use std::io::Write as _;
    let fail = |what: &str, e: std::io::Error| state_error(path, format!("{what} ({})", e.kind()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail("its directory cannot be made", e))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let text = serde_json::to_string_pretty(record).unwrap_or_default();
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail("cannot be written", e));
    }
    // the rename itself on disk (best effort: not every file system syncs a directory)
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Take the lock of the state file `path` (`<path>.lock`, its directory made if missing): one
/// watch (or `restore_recorded`) per state file; another process's (or another feed's in this
/// one) is refused, naming the file, the lock file and the holder.
pub(crate) fn lock_state_file(
    path: &Path,
) -> Result<agentstatus_presence::lockfile::LockFile, PresenceError> {
    use agentstatus_presence::lockfile::{LockError, LockFile, lock_path};
    let lock = lock_path(path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            state_error(path, format!("its directory cannot be made ({})", e.kind()))
        })?;
    }
    LockFile::acquire(&lock).map_err(|e| match e {
        // not a passing trouble: refused until the other one stops ([`ErrorKind::InUse`])
        LockError::Held { holder, path: lock } => PresenceError::in_use(
            VENDOR,
            format!(
                "webhook_state_file {}: in use by another watch ({}; lock file {}): one watch per state file, whose record of the callback it replaced is its own; stop the other one, or give this one a state file of its own",
                path.display(),
                holder.as_deref().unwrap_or("a process that has not said which"),
                lock.display()
            ),
            Some(lock),
        ),
        e => state_error(path, format!("its lock file cannot be used: {e}")),
    })
}

/// Remove the record in `path` (gone already: fine).
pub fn remove_record(path: &Path) -> Result<(), PresenceError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(state_error(
            path,
            format!("cannot be removed ({})", e.kind()),
        )),
    }
}

#[cfg(feature = "watch")]
pub use feed::{TaskrouterEvents, restore_recorded};

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

    /// The header a Twilio Webhooks Rule adds when it signs with its own shared key
    /// (`key=<sid>,algorithm=HMAC_SHA256`): specs/twilio-taskrouter/NOTES.md.
    const SIGNATURE_SETTINGS: &str = "x-twilio-webhooks-signature-settings";

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
        // a Webhooks Rule signs with its own shared key and algorithm, said in this header
        let rule_signed = request.headers().contains_key(SIGNATURE_SETTINGS);
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
            // the reason, never the signature, the body or the token
            let reason = if !is_form {
                "not a form POST (Content-Type is not application/x-www-form-urlencoded)"
            } else if signature.is_none() {
                "no X-Twilio-Signature header: not sent by Twilio"
            } else if rule_signed {
                "signed under a Twilio Webhooks Rule (X-Twilio-Webhooks-Signature-Settings: its shared key and algorithm), which this receiver does not check: only the account's auth token (HMAC-SHA1)"
            } else {
                "X-Twilio-Signature does not match: forged, or webhook_url is not the exact URL Twilio posts to (a proxy that rewrites the path, query or scheme), or the auth token is not the account's primary one"
            };
            tracing::warn!(
                vendor = "twilio-taskrouter",
                webhook_url = %origin_of(r.urls.first().map(String::as_str).unwrap_or_default()),
                "event callback refused (403): {reason}"
            );
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

    /// How many milliseconds Twilio's clock is ahead of ours (behind: negative) by an answer's
    /// `Date` (the runtime's reading, `agentstatus_runtime::retry::server_now`: ours within its
    /// tolerance of a couple of seconds); `None` without one.
    fn server_ahead_ms(headers: &reqwest::header::HeaderMap) -> Option<i64> {
        headers.get(reqwest::header::DATE)?;
        let now = std::time::SystemTime::now();
        let server = agentstatus_runtime::retry::server_now(headers, now);
        Some(match server.duration_since(now) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
        })
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
        /// When the last full read the feed asked for began (ms since the epoch, by Twilio's
        /// clock: the events' `TimestampMs` are compared with it).
        floor_ms: i64,
        /// Milliseconds Twilio's clock is ahead of ours, from the `Date` of its last answer.
        server_ahead_ms: i64,
        /// Activity SID -> (name, available).
        activities: HashMap<String, (String, bool)>,
        next_heartbeat: Option<tokio::time::Instant>,
        /// The state file's lock ([`lock_state_file`]), from the first subscription until the
        /// callback is put back.
        lock: Option<agentstatus_presence::lockfile::LockFile>,
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
                server_ahead_ms: 0,
                activities: HashMap::new(),
                next_heartbeat: None,
                lock: None,
            }
        }

        /// What `kill -9` leaves of this feed, for tests of what the next run recovers (feature
        /// `fake`): the operating system releases the state file's lock (a process's open files
        /// close when it ends), and nothing of the feed's own clean-up runs: its callback stays
        /// in the workspace, its record on disk, its receiver task on its runtime (gone with the
        /// runtime, as with the process).
        #[cfg(feature = "fake")]
        pub fn killed(self) {
            let mut feed = std::mem::ManuallyDrop::new(self);
            drop(feed.lock.take());
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

        /// Point the workspace's callback at the receiver, remembering what was there: in the
        /// state file first, when there is one ([`Webhook::with_state_file`]), so a kill after
        /// the change loses nothing.
        async fn subscribe(&mut self) -> Result<(), PresenceError> {
            let (ws, ahead) = fetch_workspace_answer(&self.presence).await?;
            if let Some(ahead) = ahead {
                self.server_ahead_ms = ahead;
            }
            let url = ws.event_callback_url.clone().unwrap_or_default();
            let filter = ws.events_filter.clone().filter(|f| !f.is_empty());
            let ours = self.webhook.public_url.clone();
            let workspace = self.presence.workspace().to_string();
            // the state file is this feed's alone from before its record is read until the
            // callback is put back
            if let Some(path) = &self.webhook.state_file
                && self.lock.is_none()
            {
                self.lock = Some(lock_state_file(path)?);
            }
            let recorded = match &self.webhook.state_file {
                Some(path) => read_record(path, &workspace)?,
                None => None,
            };
            // a run that could not put the previous callback back left its own URL (this
            // webhook_url, or the one it had before the config changed) and its record
            let killed = recorded.filter(|r| !url.is_empty() && r.callback_url == url);
            let previous = if let Some(r) = killed {
                Previous {
                    url: r.previous_url,
                    filter: r.previous_filter,
                }
            } else if url == ours {
                // left by a run without a record: what was there before is unknown now
                // (cleared at the end)
                Previous {
                    url: String::new(),
                    filter: None,
                }
            } else if url.is_empty() || self.webhook.replace_existing {
                // (a record found here is stale: the workspace was changed since it was written)
                Previous { url, filter }
            } else {
                // another system's while it is there: a watch stops rather than retry
                return Err(PresenceError::in_use(
                    VENDOR,
                    format!(
                        "workspace {}: its events already go to another callback URL ({}...): the feed would take them from it; set webhook_replace_existing = \"true\" to replace it while watching (it is put back at the end), or use watch = \"poll\"",
                        self.presence.workspace(),
                        origin_of(&url)
                    ),
                    None,
                ));
            };
            if let Some(path) = &self.webhook.state_file {
                let record = CallbackRecord {
                    workspace_sid: workspace,
                    callback_url: ours.clone(),
                    previous_url: previous.url.clone(),
                    previous_filter: previous.filter.clone(),
                };
                write_record(path, &record)?;
            }
            update_workspace(&self.presence, &ours, Some(EVENT)).await?;
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
            // by Twilio's clock, which stamps the events: a clock off ours would drop every
            // event as older than the read (Twilio's behind) or keep those it holds (ahead)
            self.floor_ms = now_ms().saturating_add(self.server_ahead_ms);
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
                Detail::new(name.clone()),
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
        fetch_workspace_answer(p).await.map(|(ws, _)| ws)
    }

    /// The workspace, and how far Twilio's clock is ahead of ours by the answer's `Date`.
    async fn fetch_workspace_answer(
        p: &TwilioTaskrouterPresence,
    ) -> Result<(types::TaskrouterV1Workspace, Option<i64>), PresenceError> {
        let request = p.twilio_client().fetch_workspace().sid(p.workspace());
        match agentstatus_presence::adapter::call_answer(request.send()).await {
            Ok(rv) => {
                let ahead = server_ahead_ms(rv.headers());
                Ok((rv.into_inner(), ahead))
            }
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

    /// Put `previous` back when the workspace's callback is still `ours`, then remove the
    /// record in `state_file` (also when someone else's callback is there now: theirs stays, and
    /// the record is of no use any more). A failure keeps the record for the next run.
    async fn restore(
        p: &TwilioTaskrouterPresence,
        ours: &str,
        previous: &Previous,
        state_file: Option<&Path>,
    ) -> Result<(), PresenceError> {
        let ws = fetch_workspace(p).await?;
        if ws.event_callback_url.as_deref() == Some(ours) {
            update_workspace(p, &previous.url, previous.filter.as_deref()).await?;
        }
        // else someone set another one since: theirs stays
        match state_file {
            Some(path) => remove_record(path),
            None => Ok(()),
        }
    }

    /// Put back the callback a killed run recorded in `state_file` ([`Webhook::with_state_file`])
    /// without watching (`agentstatus watch --restore`): when the workspace still posts to the
    /// recorded run's URL, its previous URL and filter are set again; the record is removed
    /// (also when someone else's callback is there now, which stays). `Ok(None)`: no record.
    /// The words say what was done, each URL by its origin only.
    ///
    /// The state file's lock is held meanwhile: a watch running on the same file is not
    /// undone behind its back (refused, naming it). A state file whose directory does not
    /// exist holds no record: nothing is made.
    pub async fn restore_recorded(
        presence: &TwilioTaskrouterPresence,
        state_file: &Path,
    ) -> Result<Option<String>, PresenceError> {
        if state_file
            .parent()
            .is_some_and(|d| !d.as_os_str().is_empty() && !d.exists())
        {
            return Ok(None);
        }
        let _lock = lock_state_file(state_file)?;
        restore_recorded_locked(presence, state_file).await
    }

    /// [`restore_recorded`], the state file's lock held by the caller.
    async fn restore_recorded_locked(
        presence: &TwilioTaskrouterPresence,
        state_file: &Path,
    ) -> Result<Option<String>, PresenceError> {
        let workspace = presence.workspace();
        let Some(record) = read_record(state_file, workspace)? else {
            return Ok(None);
        };
        let ws = fetch_workspace(presence).await?;
        let now = ws.event_callback_url.unwrap_or_default();
        let shown = |u: &str| {
            if u.is_empty() {
                "none".to_string()
            } else {
                format!("{}...", origin_of(u))
            }
        };
        let done = if now == record.callback_url {
            update_workspace(
                presence,
                &record.previous_url,
                record.previous_filter.as_deref(),
            )
            .await?;
            format!(
                "workspace {workspace}: the callback URL a stopped watch left ({}) is replaced by the one recorded before it ({}, filter {})",
                shown(&record.callback_url),
                shown(&record.previous_url),
                record.previous_filter.as_deref().unwrap_or("none")
            )
        } else {
            format!(
                "workspace {workspace}: its callback URL ({}) is no longer the stopped watch's ({}): left as it is",
                shown(&now),
                shown(&record.callback_url)
            )
        };
        remove_record(state_file)?;
        Ok(Some(done))
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
            let state_file = self.webhook.state_file.clone();
            // the state file stays this feed's until the callback is back
            let lock = self.lock.take();
            runtime.spawn(async move {
                let _ = restore(&presence, &ours, &previous, state_file.as_deref()).await;
                drop(lock);
            });
        }
    }

    #[async_trait]
    impl ChangeFeed for TaskrouterEvents {
        fn origin(&self) -> Origin {
            Origin::Push
        }

        /// The previous callback put back ([`TaskrouterEvents::shutdown`]), its record removed.
        async fn shutdown(&mut self) -> Result<(), PresenceError> {
            self.receiver = None;
            let restored = match self.previous.take() {
                Some(p) => {
                    let state_file = self.webhook.state_file.clone();
                    restore(
                        &self.presence,
                        &self.webhook.public_url,
                        &p,
                        state_file.as_deref(),
                    )
                    .await
                }
                None => Ok(()),
            };
            // the state file is free for the next watch (a failed restore kept its record)
            self.lock = None;
            restored
        }

        /// The callback a killed run recorded, put back ([`restore_recorded`]); without a
        /// state file nothing was recorded.
        async fn recover(&mut self) -> Result<Option<String>, PresenceError> {
            match self.webhook.state_file.clone() {
                // this feed's own lock, when it holds it
                Some(path) if self.lock.is_some() => {
                    restore_recorded_locked(&self.presence, &path).await
                }
                Some(path) => restore_recorded(&self.presence, &path).await,
                None => Ok(None),
            }
        }

        async fn next(&mut self) -> Result<Batch, PresenceError> {
            loop {
                // the state file before anything else: a second watch on it (the same config
                // started twice, its listen address taken as well) is refused for what it is
                if let Some(path) = &self.webhook.state_file
                    && self.lock.is_none()
                {
                    self.lock = Some(lock_state_file(path)?);
                }
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
