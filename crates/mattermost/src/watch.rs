//! Presence changes pushed by the server: Mattermost's websocket (`/api/v4/websocket`) sends a
//! `status_change` event (`{"event": "status_change", "data": {"status", "user_id"}, "seq"}`,
//! `BroadcastStatus` in the server's platform/status.go) for every status change it saves.
//!
//! [`StatusWatch`] reads them for a set of users and yields each change once. A dropped
//! connection is recovered: the watch connects again and reads the users' statuses in bulk
//! (`POST /api/v4/users/status/ids`), yielding what changed while it was away, so no change is
//! lost (the server keeps no backlog of events). The token goes in the upgrade request's
//! `Authorization` header, never in the URL.
//!
//! `http://` and `ws://` base URLs are read over `ws://`; `https://` and `wss://` over `wss://`,
//! TLS by rustls (the workspace's TLS: the process's default crypto provider, ring under the
//! default `rustls-ring` feature, and the platform's certificate verifier, as the REST client's
//! reqwest does), or a rustls configuration of the caller's ([`StatusWatch::with_tls`]).
//!
//! [`MattermostFeed`] is the same websocket as a [`ChangeFeed`] for every user: what
//! [`Presence::change_feed`](agentstatus_presence::Presence::change_feed) of the Mattermost
//! adapter returns when it knows its token ([`MattermostPresence::with_websocket`], as the
//! registry's `connect` makes it), so `agentstatus watch` and `agentstatus sync` get pushes.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use agentstatus_presence::watch::{Batch, ChangeFeed, Origin};
use agentstatus_presence::{Availability, Failure, PresenceError, Vendor, async_trait};
use agentstatus_runtime::{ExposeSecret as _, SecretString};
use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::Client;
use crate::presence::MattermostPresence;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connection attempts in a row before [`StatusWatch::next`] gives up.
const ATTEMPTS: u32 = 5;

/// One status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The user whose status changed.
    pub user_id: String,
    /// Mattermost's word (`online`, `away`, `dnd`, `offline`, `ooo`).
    pub status: String,
    /// The word, mapped as the presence adapter maps it.
    pub availability: Availability,
}

/// Why a watch stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The websocket could not be opened (after five tries), or the base URL is not one.
    #[error("mattermost: websocket: {0}")]
    Connect(String),
    /// The bulk read after (re)connecting failed.
    #[error("mattermost: {0}")]
    Read(String),
}

/// A reader of `status_change` events for a set of users; see the [module](self).
pub struct StatusWatch {
    client: Client,
    url: String,
    token: SecretString,
    users: Vec<String>,
    /// Every user's change, none filtered (the feed: the watcher keeps the snapshot).
    everyone: bool,
    tls: Option<Arc<rustls::ClientConfig>>,
    known: BTreeMap<String, String>,
    pending: VecDeque<StatusChange>,
    socket: Option<Socket>,
    connected_once: bool,
}

impl std::fmt::Debug for StatusWatch {
    /// Without the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusWatch")
            .field("url", &self.url)
            .field("users", &self.users)
            .field("connected", &self.socket.is_some())
            .finish_non_exhaustive()
    }
}

impl StatusWatch {
    /// Watch `users` (Mattermost user ids) on the server at `base_url` (`http://host:port`, the
    /// same as the client's), authenticated with `token`; `client` (authenticated with the same
    /// token) does the bulk reads.
    pub fn new(
        client: Client,
        base_url: &str,
        token: SecretString,
        users: Vec<String>,
    ) -> Result<Self, WatchError> {
        let base = base_url.trim_end_matches('/');
        let url = match base.split_once("://") {
            Some(("http" | "ws", rest)) => format!("ws://{rest}/api/v4/websocket"),
            Some(("https" | "wss", rest)) => format!("wss://{rest}/api/v4/websocket"),
            _ => {
                return Err(WatchError::Connect(
                    "the base URL must be http://, https://, ws:// or wss://".into(),
                ));
            }
        };
        Ok(Self {
            client,
            url,
            token,
            users,
            everyone: false,
            tls: None,
            known: BTreeMap::new(),
            pending: VecDeque::new(),
            socket: None,
            connected_once: false,
        })
    }

    /// Every user's changes, each event as it comes (no bulk read on connecting, no
    /// filtering of restatements): the reader under [`MattermostFeed`].
    pub fn everyone(
        client: Client,
        base_url: &str,
        token: SecretString,
    ) -> Result<Self, WatchError> {
        let mut w = Self::new(client, base_url, token, Vec::new())?;
        w.everyone = true;
        Ok(w)
    }

    /// `wss://` with this rustls configuration (its roots, its provider) instead of the
    /// default (the process's crypto provider and the platform's verifier).
    pub fn with_tls(self, config: Arc<rustls::ClientConfig>) -> Self {
        Self {
            tls: Some(config),
            ..self
        }
    }

    /// The websocket's URL (`ws://` or `wss://`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the websocket is open.
    pub fn is_connected(&self) -> bool {
        self.socket.is_some()
    }

    /// Connect now and learn where every watched user is (else the first [`StatusWatch::next`]
    /// does): a change made after this returns is yielded.
    pub async fn start(&mut self) -> Result<(), WatchError> {
        if self.socket.is_none() {
            self.connect().await?;
        }
        Ok(())
    }

    /// Close the connection (the next [`StatusWatch::next`] connects again and catches up).
    pub fn disconnect(&mut self) {
        self.socket = None;
    }

    /// The statuses last seen, by user id.
    pub fn known(&self) -> &BTreeMap<String, String> {
        &self.known
    }

    /// The next change of a watched user's status: from the websocket, or, after a dropped
    /// connection, from the bulk read that follows reconnecting.
    pub async fn next(&mut self) -> Result<StatusChange, WatchError> {
        loop {
            if let Some(change) = self.pending.pop_front() {
                return Ok(change);
            }
            let Some(socket) = self.socket.as_mut() else {
                self.connect().await?;
                continue;
            };
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    if let Some(change) = self.event(text.as_str()) {
                        return Ok(change);
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => self.socket = None,
                Some(Ok(_)) => {}
            }
        }
    }

    /// A `status_change` for a watched user that changes what is known.
    fn event(&mut self, text: &str) -> Option<StatusChange> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        if v.get("event")?.as_str()? != "status_change" {
            return None;
        }
        let user = v.pointer("/data/user_id")?.as_str()?;
        let status = v.pointer("/data/status")?.as_str()?;
        self.observe(user, status)
    }

    fn observe(&mut self, user: &str, status: &str) -> Option<StatusChange> {
        if self.everyone {
            return Some(StatusChange {
                user_id: user.to_string(),
                status: status.to_string(),
                availability: crate::presence::availability(status),
            });
        }
        if !self.users.iter().any(|u| u == user) {
            return None;
        }
        let before = self.known.insert(user.to_string(), status.to_string());
        (before.as_deref() != Some(status)).then(|| StatusChange {
            user_id: user.to_string(),
            status: status.to_string(),
            availability: crate::presence::availability(status),
        })
    }

    /// Open the websocket (a few tries, backing off), then read every watched user's status:
    /// the first time to know where they are, after a drop to queue what changed meanwhile.
    async fn connect(&mut self) -> Result<(), WatchError> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            let mut request = self
                .url
                .as_str()
                .into_client_request()
                .map_err(|e| WatchError::Connect(e.to_string()))?;
            let bearer = format!("Bearer {}", self.token.expose_secret());
            let Ok(mut value) = bearer.parse::<reqwest::header::HeaderValue>() else {
                return Err(WatchError::Connect(
                    "the token cannot be sent in a header".into(),
                ));
            };
            value.set_sensitive(true);
            request.headers_mut().insert("authorization", value);
            let connector = match self.connector() {
                Ok(c) => c,
                Err(e) => return Err(WatchError::Connect(e)),
            };
            let connect =
                tokio_tungstenite::connect_async_tls_with_config(request, None, false, connector);
            match connect.await {
                Ok((socket, _)) => {
                    self.socket = Some(socket);
                    self.catch_up().await?;
                    self.connected_once = true;
                    return Ok(());
                }
                // the error names the URL and status, never the request's headers
                Err(e) => last = e.to_string(),
            }
        }
        Err(WatchError::Connect(format!(
            "{} after {ATTEMPTS} attempts: {last}",
            self.url
        )))
    }

    /// The TLS of a `wss://` URL: the caller's, or rustls with the process's crypto provider
    /// and the platform's verifier; `None` for `ws://`.
    fn connector(&self) -> Result<Option<tokio_tungstenite::Connector>, String> {
        if !self.url.starts_with("wss://") {
            return Ok(None);
        }
        if let Some(config) = &self.tls {
            return Ok(Some(tokio_tungstenite::Connector::Rustls(config.clone())));
        }
        agentstatus_runtime::ensure_tls_provider();
        let Some(provider) = rustls::crypto::CryptoProvider::get_default().cloned() else {
            return Err(
                "wss:// needs a rustls crypto provider (the `rustls-ring` feature, or one installed by the program)"
                    .into(),
            );
        };
        use rustls_platform_verifier::BuilderVerifierExt as _;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_platform_verifier()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth();
        Ok(Some(tokio_tungstenite::Connector::Rustls(Arc::new(config))))
    }

    async fn catch_up(&mut self) -> Result<(), WatchError> {
        if self.everyone {
            return Ok(());
        }
        if self.users.is_empty() {
            return Ok(());
        }
        let request = self
            .client
            .get_users_statuses_by_ids()
            .body(self.users.clone())
            .send();
        let statuses = request
            .await
            .map_err(|e| WatchError::Read(e.to_string()))?
            .into_inner();
        for s in statuses {
            let (Some(user), Some(status)) = (s.user_id, s.status) else {
                continue;
            };
            let change = self.observe(&user, &status.to_string());
            if let Some(change) = change.filter(|_| self.connected_once) {
                self.pending.push_back(change);
            }
        }
        Ok(())
    }
}

const VENDOR: Vendor = Vendor::new("mattermost");

fn feed_error(e: WatchError) -> PresenceError {
    let failure = match e {
        WatchError::Connect(message) | WatchError::Read(message) => Failure::Network { message },
    };
    PresenceError::new(VENDOR, failure)
}

/// Mattermost's websocket as a [`ChangeFeed`] ([`Origin::Push`]) for every user; see the
/// [module](self).
///
/// - Each `status_change` event (with those that arrived with it) is one
///   [`Batch::Changed`], the users' statuses read in one `POST /api/v4/users/status/ids` (the
///   event carries the status word only: the read adds `manual` and a DND's end, as `list`
///   shows them, so a push and a poll describe an agent alike).
/// - Each connection, the first and every one after a drop, is followed by a
///   [`Batch::Resync`]: the server keeps no backlog, so what changed while no connection was
///   open is only in a full read.
/// - At each interval the connection is pinged; a connection that answered nothing since the
///   last ping is dropped (a half-open TCP connection is a dropped one), otherwise the feed
///   answers an empty [`Batch::Changed`]: the desk is alive though nothing changed (what
///   `sync`'s `/health` reads).
/// - Five failed connection attempts in a row are an error (the watcher reads every agent after
///   its interval and calls again, which connects again).
pub struct MattermostFeed {
    watch: StatusWatch,
    presence: MattermostPresence,
    heartbeat: tokio::time::Interval,
    /// A ping is out, and nothing has been heard since.
    awaiting: bool,
}

impl std::fmt::Debug for MattermostFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MattermostFeed")
            .field("watch", &self.watch)
            .finish_non_exhaustive()
    }
}

impl MattermostFeed {
    /// A feed over `watch` (made with [`StatusWatch::everyone`]), reading statuses with
    /// `presence`, pinging every `interval`.
    pub fn new(watch: StatusWatch, presence: MattermostPresence, interval: Duration) -> Self {
        let mut heartbeat =
            tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            watch,
            presence,
            heartbeat,
            awaiting: false,
        }
    }

    /// The websocket's URL.
    pub fn url(&self) -> &str {
        self.watch.url()
    }
}

#[async_trait]
impl ChangeFeed for MattermostFeed {
    fn origin(&self) -> Origin {
        Origin::Push
    }

    async fn next(&mut self) -> Result<Batch, PresenceError> {
        loop {
            if self.watch.socket.is_none() {
                self.awaiting = false;
                self.watch.connect().await.map_err(feed_error)?;
                self.heartbeat.reset();
                return Ok(Batch::Resync);
            }
            let socket = self.watch.socket.as_mut().expect("checked above");
            let message = tokio::select! {
                m = socket.next() => m,
                _ = self.heartbeat.tick() => {
                    if self.awaiting {
                        // nothing since the last ping: the connection is gone
                        self.watch.socket = None;
                        continue;
                    }
                    if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                        self.watch.socket = None;
                        continue;
                    }
                    self.awaiting = true;
                    return Ok(Batch::Changed(Vec::new()));
                }
            };
            let mut users = Vec::new();
            let mut message = message;
            loop {
                match message {
                    Some(Ok(m)) => {
                        self.awaiting = false;
                        if let Message::Text(text) = &m
                            && let Some(change) = self.watch.event(text.as_str())
                            && !users.contains(&change.user_id)
                        {
                            users.push(change.user_id);
                        }
                        if matches!(m, Message::Close(_)) {
                            self.watch.socket = None;
                            break;
                        }
                    }
                    Some(Err(_)) | None => {
                        self.watch.socket = None;
                        break;
                    }
                }
                // what else has arrived already joins this batch
                let socket = self.watch.socket.as_mut().expect("open");
                match socket.next().now_or_never() {
                    Some(m) => message = m,
                    None => break,
                }
            }
            if users.is_empty() {
                // a hello, a pong, another event, or the drop (the loop reconnects)
                continue;
            }
            let changed = self.presence.statuses(users).await?;
            return Ok(Batch::Changed(changed));
        }
    }
}
