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
//! `ws://` only for now: a `wss://` server (HTTPS) is not reached yet (the reader has no TLS
//! connector); use the REST API's bulk read by polling there.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use agentstatus_presence::Availability;
use agentstatus_runtime::{ExposeSecret as _, SecretString};
use futures_util::StreamExt as _;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::Client;

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
            Some(("http", rest)) => format!("ws://{rest}/api/v4/websocket"),
            Some(("ws", rest)) => format!("ws://{rest}/api/v4/websocket"),
            _ => {
                return Err(WatchError::Connect(
                    "the base URL must be http:// or ws:// (wss:// is not supported yet)".into(),
                ));
            }
        };
        Ok(Self {
            client,
            url,
            token,
            users,
            known: BTreeMap::new(),
            pending: VecDeque::new(),
            socket: None,
            connected_once: false,
        })
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
            match tokio_tungstenite::connect_async(request).await {
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

    async fn catch_up(&mut self) -> Result<(), WatchError> {
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
