//! Microsoft Graph (Teams presence): a user's `availability` and `activity`, read with
//! `GET /users/{id}/presence`, listed for a configured set of users through
//! `getPresencesByUserId` (at most 650 ids a request), and set in the application's own
//! presence session (`setPresence` with `sessionId` = the application's client id; Offline:
//! `clearPresence`). Evidence: `specs/msgraph/NOTES.md`.
//!
//! | vendor | vendor state (read) | Availability | set sends |
//! |---|---|---|---|
//! | Microsoft Graph | `Available`, `AvailableIdle` | Available | setPresence `Available`/`Available` |
//! | Microsoft Graph | `Busy`, `BusyIdle`, `DoNotDisturb` | Busy | setPresence `Busy`/`InACall` |
//! | Microsoft Graph | `Away`, `BeRightBack` | Away | setPresence `Away`/`Away` |
//! | Microsoft Graph | `Offline`, `PresenceUnknown` (or anything else) | Offline | clearPresence of the application's session |
//!
//! The vendor status in [`Detail`] is `<availability>/<activity>` (`Busy/InACall`). A session set
//! by `set` lasts [`DEFAULT_EXPIRATION`] (one hour); [`MsgraphPresence::set_for`] takes another,
//! PT5M..PT4H (Graph's range), refused outside before anything is sent. Graph lets an Available
//! session fade to Away after 5 minutes without renewal (NOTES.md#setpresence): a caller that keeps
//! someone available repeats `set`. The user's own preferred presence and other sessions (a Teams
//! client) can win over the application's: `set` reads the user back and answers `Conflict` with
//! what they read as, never a state they do not show. A read-back may be a replica's, behind the
//! write: one that disagrees is read again the read lag later ([`MsgraphPresence::with_read_lag`],
//! default two seconds, sync's default desk `read_lag`), and only that read decides.
//!
//! Agents are user object ids (GUIDs). `list` reads the users of the `users` setting
//! ([`MsgraphPresence::with_users`]): this part of Graph has no user listing (NOTES.md#kept-operations).
//!
//! `watch` polls `list`, or, with the `watch` feature and a webhook
//! ([`MsgraphPresence::with_webhook`]; the registry's `watch = "notifications"`), follows Graph's
//! change notifications ([`crate::watch`]).

use std::time::Duration;

use agentstatus_presence::adapter::{Adapter, ErrorBody, Failed, Step, call, within};
use agentstatus_presence::bulk::{self, Applied, BulkOptions, BulkResult};
use agentstatus_presence::registry::{Entry, Setting};
use agentstatus_presence::{
    AgentPresence, Availability, Detail, Failure, ListFilter, Presence, PresenceError, SetRequest,
    Vendor, async_trait,
};
use progenitor_client::ClientInfo;

use agentstatus_runtime::retry::resend;
use chrono::{DateTime, Utc};

use crate::{Client, types};

pub(crate) const VENDOR: Vendor = Vendor::new("msgraph");

/// Users per `getPresencesByUserId` (Graph's maximum).
pub const MAX_IDS: usize = 650;

/// How long a session set by `set` lasts: one hour (NOTES.md#setpresence).
pub const DEFAULT_EXPIRATION: Duration = Duration::from_secs(3600);

/// The shortest and longest session Graph takes (PT5M..PT4H).
pub const EXPIRATION_RANGE: (Duration, Duration) =
    (Duration::from_secs(5 * 60), Duration::from_secs(4 * 3600));

/// The token URL of the Microsoft identity platform for `tenant`.
pub fn token_url(tenant: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
}

/// The scope of a client credentials token for Graph.
pub const SCOPE: &str = "https://graph.microsoft.com/.default";

agentstatus_presence::adapter! {
    /// [`Presence`](agentstatus_presence::Presence) over a Microsoft Graph client authenticated
    /// as an application (client credentials, permission Presence.ReadWrite.All), whose
    /// presence session is `session_id`: the application's (client) id.
    pub struct MsgraphPresence(client: Client, session_id: String) {
        /// The users `list` reads (`with_users`).
        users: Vec<String> = Vec::new(),
        /// The change notifications' webhook (`with_webhook`); `None`: `watch` polls.
        webhook: Option<crate::watch::Webhook> = None,
        /// How far behind a presence read may be (a replica's): a read-back that disagrees
        /// with a write is read again this long later ([`DEFAULT_READ_LAG`] unless
        /// `with_read_lag`).
        read_lag: Duration = DEFAULT_READ_LAG,
    }
}

/// How far behind a presence read may be, unless told ([`MsgraphPresence::with_read_lag`]).
pub const DEFAULT_READ_LAG: Duration = Duration::from_secs(2);

impl MsgraphPresence {
    /// How far behind Graph's presence reads may be (default [`DEFAULT_READ_LAG`]): `set`'s
    /// read-back that disagrees with the session written is read again this long later before
    /// it is a `Conflict`.
    pub fn with_read_lag(self, read_lag: Duration) -> Self {
        Self { read_lag, ..self }
    }

    /// The users `list` reads: their object ids.
    pub fn with_users(self, users: Vec<String>) -> Self {
        Self { users, ..self }
    }

    /// `watch` through Graph's change notifications ([`crate::watch`], feature `watch`) for
    /// the users `list` reads, with `webhook`; without it (or without the feature) `watch`
    /// polls `list`.
    pub fn with_webhook(self, webhook: crate::watch::Webhook) -> Self {
        Self {
            webhook: Some(webhook),
            ..self
        }
    }

    /// The generated client.
    #[cfg(feature = "watch")]
    pub(crate) fn graph_client(&self) -> &Client {
        &self.client
    }

    /// `set`, with the application's session lasting `expiration` (PT5M..PT4H) instead of
    /// [`DEFAULT_EXPIRATION`]. Offline clears the session, which has no expiry: refused here.
    pub async fn set_for(
        &self,
        agent: &str,
        desired: Availability,
        expiration: Duration,
    ) -> Result<AgentPresence, PresenceError> {
        let set = async {
            check_expiration(desired, expiration)?;
            self.check_supported(desired)?;
            self.set_session(agent, desired, expiration).await
        };
        within(self.deadline, VENDOR, Step::Set, set).await
    }

    /// The presences of `ids` through getPresencesByUserId, [`MAX_IDS`] a request, in the
    /// order Graph answers.
    pub(crate) async fn read_many(
        &self,
        ids: &[String],
    ) -> Result<Vec<AgentPresence>, PresenceError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_IDS) {
            let body =
                types::CommunicationGetPresencesGraphBPreUserIdBody::builder().ids(chunk.to_vec());
            let request = self
                .client
                .communication_get_presences_graph_b_pre_user_id()
                .body(body);
            let page = match call(request.send()).await {
                Ok(p) => p,
                Err(f) => return Err(f.into_error(VENDOR, None).await),
            };
            if page
                .odata_next_link
                .as_deref()
                .is_some_and(|l| !l.is_empty())
            {
                let message = "getPresencesByUserId answered with an @odata.nextLink, which is not followed (NOTES.md#bulk-read)".into();
                return Err(PresenceError::new(
                    VENDOR,
                    Failure::InvalidResponse {
                        status: None,
                        message,
                    },
                ));
            }
            out.extend(page.value.iter().map(|p| presence("", p)));
        }
        Ok(out)
    }

    async fn set_session(
        &self,
        agent: &str,
        desired: Availability,
        expiration: Duration,
    ) -> Result<AgentPresence, PresenceError> {
        if desired == Availability::Offline {
            let body = types::CommunicationPresenceClearPresenceBody::builder()
                .session_id(Some(self.session_id.clone()));
            let request = self
                .client
                .communication_presence_clear_presence()
                .presence_id(agent)
                .body(body);
            if let Err(f) = call(request.send()).await {
                return Err(f.into_error(VENDOR, Some(agent)).await);
            }
        } else {
            let (availability, activity) = session_state(desired);
            let duration = expiration_duration(expiration)?;
            // the same state in the same session, sent again, leaves the session as one send
            // does (NOTES.md#setpresence): a POST, but idempotent, so it is resent on transient
            // failures (a dropped connection, 429, 5xx) with the client's retry policy
            let policy = self.client.inner().retry();
            let send = || {
                let body = types::CommunicationPresenceSetPresenceBody::builder()
                    .session_id(Some(self.session_id.clone()))
                    .availability(availability)
                    .activity(activity)
                    .expiration_duration(Some(duration.clone()));
                let request = self
                    .client
                    .communication_presence_set_presence()
                    .presence_id(agent)
                    .body(body);
                call(request.send())
            };
            if let Err(f) = resend(policy, |f: &Failed<_>| &f.error, send).await {
                return Err(f.into_error(VENDOR, Some(agent)).await);
            }
        }
        let mut after = self.get_now(agent).await?;
        if after.availability != desired {
            // the read-back may be a replica's, behind the write Graph acknowledged: a read
            // that begins the read lag later decides (another session, the user's preferred
            // presence, still wins there: a Conflict)
            tokio::time::sleep(self.read_lag).await;
            after = self.get_now(agent).await?;
        }
        if after.availability != desired {
            return Err(PresenceError::conflict(
                VENDOR,
                agent,
                desired,
                after.availability,
                after.detail.vendor_status.clone(),
            ));
        }
        Ok(after)
    }
}

/// `expiration` for `desired`, checked: PT5M..PT4H, and none for Offline.
fn check_expiration(desired: Availability, expiration: Duration) -> Result<(), PresenceError> {
    let message = if desired == Availability::Offline {
        "offline clears the application's presence session, which has no expiry: use set"
            .to_string()
    } else if expiration < EXPIRATION_RANGE.0 || expiration > EXPIRATION_RANGE.1 {
        format!(
            "a presence session lasts 5 minutes to 4 hours (PT5M..PT4H); {} seconds is outside",
            expiration.as_secs()
        )
    } else if expiration.subsec_nanos() != 0 {
        "a presence session's expiry is whole seconds".to_string()
    } else {
        return Ok(());
    };
    Err(PresenceError::new(
        VENDOR,
        Failure::InvalidInput { message },
    ))
}

/// `expiration` as the body's duration.
fn expiration_duration(
    expiration: Duration,
) -> Result<types::CommunicationPresenceSetPresenceBodyExpirationDuration, PresenceError> {
    iso_duration(expiration)
        .parse()
        .map_err(|e: types::error::ConversionError| {
            PresenceError::new(
                VENDOR,
                Failure::InvalidInput {
                    message: e.to_string(),
                },
            )
        })
}

/// `PT<h>H<m>M<s>S`, the parts that are not zero.
fn iso_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = "PT".to_string();
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || out == "PT" {
        out.push_str(&format!("{s}S"));
    }
    out
}

/// The session state `set` sends for `desired` (not Offline).
fn session_state(
    desired: Availability,
) -> (
    types::CommunicationPresenceSetPresenceBodyAvailability,
    types::CommunicationPresenceSetPresenceBodyActivity,
) {
    use types::CommunicationPresenceSetPresenceBodyActivity as Act;
    use types::CommunicationPresenceSetPresenceBodyAvailability as Av;
    match desired {
        Availability::Busy => (Av::Busy, Act::InACall),
        Availability::Away => (Av::Away, Act::Away),
        _ => (Av::Available, Act::Available),
    }
}

/// The Availability a Graph availability word means (NOTES.md#availability-and-activity).
pub fn availability(word: &str) -> Availability {
    match word {
        "Available" | "AvailableIdle" => Availability::Available,
        "Busy" | "BusyIdle" | "DoNotDisturb" => Availability::Busy,
        "Away" | "BeRightBack" => Availability::Away,
        _ => Availability::Offline,
    }
}

impl ErrorBody for types::MicrosoftGraphODataErrorsODataError {
    fn parts(self) -> (Option<String>, Option<String>) {
        (Some(self.error.code), Some(self.error.message))
    }
}

fn word<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn presence(agent: &str, p: &types::MicrosoftGraphPresence) -> AgentPresence {
    let availability_word = word(&p.availability);
    let activity_word = word(&p.activity);
    let id =
        p.id.clone()
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| agent.to_string());
    AgentPresence::new(
        id,
        None,
        availability(&availability_word),
        Detail::new(format!("{availability_word}/{activity_word}")),
    )
}

#[async_trait]
impl Adapter for MsgraphPresence {
    const VENDOR: Vendor = VENDOR;
    const SUPPORTED: &'static [Availability] = &[
        Availability::Available,
        Availability::Busy,
        Availability::Away,
        Availability::Offline,
    ];
    /// The application's session ends by itself (`expirationDuration`, PT5M..PT4H).
    const EXPIRING: &'static [Availability] = &[
        Availability::Available,
        Availability::Busy,
        Availability::Away,
    ];

    /// Graph's change notifications (`watch::GraphSubscriptions`) when a webhook is
    /// configured ([`MsgraphPresence::with_webhook`]) and the `watch` feature is on; else `None`
    /// (the watcher polls `list`).
    fn change_feed(
        &self,
        options: &agentstatus_presence::watch::WatchOptions,
    ) -> Option<Box<dyn agentstatus_presence::watch::ChangeFeed>> {
        let _ = options;
        #[cfg(feature = "watch")]
        {
            let webhook = self.webhook.clone()?;
            let reader = MsgraphPresence::new(self.client.clone(), self.session_id.clone())
                .with_deadline(self.deadline);
            let feed = crate::watch::GraphSubscriptions::new(reader, self.users.clone(), webhook);
            match feed {
                Ok(f) => Some(Box::new(f)),
                // checked when configured (`entry`); a feed that cannot start polls
                Err(_) => None,
            }
        }
        #[cfg(not(feature = "watch"))]
        {
            None
        }
    }

    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        let request = self.client.user_get_presence().user_id(agent);
        match call(request.send()).await {
            Ok(p) => Ok(presence(agent, &p)),
            Err(f) => Err(f.into_error(VENDOR, Some(agent)).await),
        }
    }

    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        self.set_session(agent, desired, DEFAULT_EXPIRATION).await
    }

    /// An expiry (`until`) is the application session's `expirationDuration`, from now, rounded
    /// up to whole seconds and within PT5M..PT4H, as [`MsgraphPresence::set_for`]; Offline
    /// clears the session and has none. A vendor word (`state`) is not settable here.
    async fn set_with_now(
        &self,
        agent: &str,
        request: &SetRequest,
    ) -> Result<AgentPresence, PresenceError> {
        if request.state.is_some() {
            return Err(PresenceError::unsupported_option(
                VENDOR,
                "state",
                "the application's session sets an availability and activity pair of the mapping; no other word"
                    .to_string(),
            ));
        }
        let now: DateTime<Utc> = DateTime::from(std::time::SystemTime::now());
        let Some(until) = request.until_after(VENDOR, now)? else {
            return self.set_now(agent, request.availability).await;
        };
        let left: chrono::TimeDelta = until.signed_duration_since(now);
        let millis = u64::try_from(left.num_milliseconds()).unwrap_or(0);
        let expiration = Duration::from_secs(millis.div_ceil(1000));
        check_expiration(request.availability, expiration)?;
        self.set_session(agent, request.availability, expiration)
            .await
    }

    /// Each agent read first, and written only when it differs (`apply` reports what changed);
    /// a single `set` always writes, renewing the application's session (NOTES.md#setpresence).
    async fn set_many_now(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        // every agent read first with the bulk read (650 a request): a token endpoint or an
        // API that fails is asked once, not once per agent
        let mut ids: Vec<String> = updates.iter().map(|(a, _)| a.clone()).collect();
        ids.sort();
        ids.dedup();
        let known = match within(self.deadline, VENDOR, Step::Get, self.read_many(&ids)).await {
            Ok(all) => all
                .into_iter()
                .map(|p| (p.agent_id.clone(), p))
                .collect::<std::collections::HashMap<_, _>>(),
            Err(e) => return bulk::fail_all(updates, &e),
        };
        let known = &known;
        bulk::each(updates, options, |agent, wanted| async move {
            let work = async {
                self.check_supported(wanted)?;
                let now = match known.get(&agent) {
                    Some(p) => p.clone(),
                    // not in the bulk answer: asked alone (its own NotFound)
                    None => self.get_now(&agent).await?,
                };
                if now.availability == wanted {
                    return Ok(Applied::unchanged(now));
                }
                self.set_session(&agent, wanted, DEFAULT_EXPIRATION)
                    .await
                    .map(Applied::changed)
            };
            within(self.deadline, VENDOR, Step::Set, work).await
        })
        .await
    }

    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        if self.users.is_empty() {
            let message = "no users to list: set `users` (user object ids, comma-separated); Graph's presence API has no user listing".into();
            return Err(PresenceError::new(
                VENDOR,
                Failure::InvalidInput { message },
            ));
        }
        let mut all = self.read_many(&self.users).await?;
        all.retain(|p| filter.keep(p));
        Ok(all)
    }
}

const SETTINGS: &[Setting] = &[
    Setting::text(
        "client_id",
        "the application (client) id; also the id of its presence session",
        None,
    ),
    Setting::secret(
        "client_secret",
        "MSGRAPH_CLIENT_SECRET",
        "the application's client secret (client credentials flow)",
    ),
    Setting::text(
        "token_url",
        "the token endpoint: https://login.microsoftonline.com/<tenant id or domain>/oauth2/v2.0/token (never `common`)",
        None,
    ),
    Setting::text(
        "scopes",
        "the scopes asked for, space-separated (client credentials take the resource's .default)",
        Some(SCOPE),
    ),
    Setting::text(
        "users",
        "the user object ids `list` reads, comma-separated (Graph has no presence listing)",
        Some(""),
    ),
    Setting::choice(
        "watch",
        "how `watch` sees changes: `poll` (list every interval) or `notifications` (Graph's change notifications: webhook_listen, webhook_url, subscription_token_file)",
        &["poll", "notifications"],
        "poll",
    ),
    Setting::text(
        "webhook_listen",
        "with watch = \"notifications\": the address the webhook receiver listens on (ip:port, plain HTTP behind a reverse proxy)",
        Some(""),
    ),
    Setting::text(
        "webhook_url",
        "the public https:// URL Graph posts notifications to, forwarded by a reverse proxy to webhook_listen",
        Some(""),
    ),
    Setting::text(
        "subscription_token_file",
        "a file holding a signed-in user's access token (Presence.Read.All, delegated: Graph refuses application tokens for presence subscriptions), read at each subscription call",
        Some(""),
    ),
    Setting::text(
        "webhook_lock_file",
        "with watch = \"notifications\": the lock file that keeps a second watch (or --restore) to webhook_url on this host from deleting the running one's subscriptions (default: $XDG_STATE_HOME/agentstatus/msgraph-<hash of webhook_url>.lock, else ~/.local/state/...; none without either)",
        Some(""),
    ),
];

/// The webhook of `watch = "notifications"` and the `webhook_*` settings: `None` with
/// `watch = "poll"` (the default), an error naming what is missing or wrong otherwise.
fn webhook_setting(
    s: &agentstatus_presence::registry::Settings,
    users: &[String],
) -> Result<Option<crate::watch::Webhook>, String> {
    if s.text("watch").unwrap_or("poll") != "notifications" {
        return Ok(None);
    }
    let get = |k: &str| s.text(k).unwrap_or("").trim().to_string();
    let (listen, url, token) = (
        get("webhook_listen"),
        get("webhook_url"),
        get("subscription_token_file"),
    );
    let missing: Vec<&str> = [
        ("webhook_listen", &listen),
        ("webhook_url", &url),
        ("subscription_token_file", &token),
    ]
    .iter()
    .filter(|(_, v)| v.is_empty())
    .map(|(k, _)| *k)
    .collect();
    if !missing.is_empty() {
        return Err(format!(
            "watch = \"notifications\" needs webhook_listen, webhook_url and subscription_token_file; missing: {}",
            missing.join(", ")
        ));
    }
    if !cfg!(feature = "watch") {
        return Err("watch = \"notifications\", but this build has no change notifications (agentstatus-msgraph's `watch` feature)".into());
    }
    if users.is_empty() {
        return Err(
            "watch = \"notifications\", but `users` is empty: a subscription names its users"
                .into(),
        );
    }
    crate::watch::check_ids(users).map_err(|e| format!("users: {e}"))?;
    let listen: std::net::SocketAddr = listen
        .parse()
        .map_err(|_| format!("webhook_listen {listen:?}: not an ip:port address"))?;
    let token = crate::watch::SubscriberToken::File(token.into());
    let webhook = crate::watch::Webhook::new(listen, &url, token).map_err(|e| e.to_string())?;
    let lock_file = match get("webhook_lock_file").as_str() {
        "" => crate::watch::default_lock_file(webhook.public_url()),
        path => Some(std::path::PathBuf::from(path)),
    };
    Ok(Some(match lock_file {
        Some(path) => webhook.with_lock_file(path),
        None => webhook,
    }))
}

/// The `users` setting: ids separated by commas or whitespace.
pub fn parse_users(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Microsoft Graph in the registry: `[msgraph]` with `base_url`
/// (`https://graph.microsoft.com/v1.0`), `token_url` (the tenant's
/// `https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`, see [`token_url`]),
/// `client_id`, the client secret from `$MSGRAPH_CLIENT_SECRET` (or `client_secret_env`),
/// `scopes` (default Graph's `.default`) and `users`, the user ids `list` reads; for `watch` by
/// change notifications (feature `watch`), `watch = "notifications"` with `webhook_listen`,
/// `webhook_url` and `subscription_token_file` (see [`crate::watch`]).
pub fn entry() -> Entry {
    Entry::new(VENDOR.as_str(), "Microsoft Graph", |s| {
        let config = s.apply(crate::ClientConfig::default());
        let client_id = s.text("client_id")?;
        // required, not built from a tenant: a default on login.microsoftonline.com would
        // send the secret there from any configuration that forgot it (and from tests)
        let token_url = s.text("token_url")?.to_string();
        let scopes = s.text("scopes").unwrap_or(SCOPE);
        let credentials = Client::azureaadv2_credentials(client_id, s.secret("client_secret")?)
            .with_token_url(token_url)
            .with_scopes(scopes.split_whitespace());
        let client = Client::with_azureaadv2_credentials(&s.base_url, credentials, &config)?;
        let users = parse_users(s.text("users").unwrap_or(""));
        let webhook = webhook_setting(s, &users)?;
        let mut presence = MsgraphPresence::new(client, client_id.to_string()).with_users(users);
        if let Some(lag) = s.read_lag() {
            presence = presence.with_read_lag(lag);
        }
        if let Some(w) = webhook {
            presence = presence.with_webhook(w);
        }
        Ok(Box::new(presence))
    })
    .with_settings(SETTINGS)
    .with_demo(demo())
}

#[cfg(feature = "fake")]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    use agentstatus_presence::registry::Demo;
    Some(|| {
        Box::pin(async {
            use crate::fake::{self, Msgraph};
            let fake = Msgraph::start("demo-secret")
                .await
                .map_err(|e| e.to_string())?;
            let (ada, grace) = (fake::user_id(1), fake::user_id(2));
            fake.add_user(&ada, "Ada Lovelace");
            fake.add_user(&grace, "Grace Hopper");
            fake.put_session(
                &grace,
                fake::CLIENT_ID,
                "Available",
                "Available",
                EXPIRATION_RANGE.1,
            );
            let credentials =
                Client::azureaadv2_credentials(fake::CLIENT_ID, "demo-secret".to_string().into())
                    .with_token_url(fake.token_url());
            let client = Client::with_azureaadv2_credentials(
                &fake.url(),
                credentials,
                &crate::ClientConfig::default(),
            )
            .map_err(|e| e.to_string())?;
            let presence = Box::new(
                MsgraphPresence::new(client, fake::CLIENT_ID.to_string())
                    .with_users(vec![ada.clone(), grace]),
            );
            Ok(Demo::new(fake, presence, ada, |f| f.state_changes()))
        })
    })
}

#[cfg(not(feature = "fake"))]
fn demo() -> Option<agentstatus_presence::registry::DemoFn> {
    None
}
