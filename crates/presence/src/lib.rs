//! The core of the presence API: read and set whether a support agent is available without
//! learning each vendor's quirks. This crate has the model ([`Availability`], [`AgentPresence`]),
//! the [`Presence`] trait, [`PresenceError`], [`set_many`], the adapter toolkit ([`adapter`](mod@adapter)),
//! the registry entry type ([`registry`]), presence changes as a stream ([`watch`]) and, behind the `testing` feature, the contract every
//! adapter must meet (the `testing` module). The adapters live in the vendor crates, behind their
//! `presence` feature (`agentstatus_libredesk::presence::LibredeskPresence`, ...); the
//! `agentstatus` facade has them all, one feature per vendor.
//!
//! ```no_run
//! use agentstatus_presence::{Availability, ListFilter, Presence};
//!
//! # async fn run(presence: Box<dyn Presence>) -> Result<(), Box<dyn std::error::Error>> {
//! presence.set("me", Availability::Away).await?; // idempotent
//! for agent in presence.list(&ListFilter::available()).await? {
//!     println!("{} {:?} is {}", agent.agent_id, agent.name, agent.availability);
//! }
//! # Ok(()) }
//! ```
//!
//! A whole program against a vendor's fake server: start it (the vendor crate's `fake` feature),
//! build the vendor's presence client (its `presence` feature), set, list, and branch on an
//! error's [`kind()`](PresenceError::kind). Dependencies: `agentstatus-presence`,
//! `agentstatus-rocketchat` with `features = ["presence", "fake"]`, `tokio`.
//!
//! ```
//! use agentstatus_presence::{Availability, ErrorKind, ListFilter, Presence};
//! use agentstatus_rocketchat::fake::{Agent, Fault, RocketChat};
//! use agentstatus_rocketchat::presence::RocketChatPresence;
//! use agentstatus_rocketchat::{Client, Credentials};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let fake = RocketChat::start().await?; // on 127.0.0.1, a free port
//!     fake.add_user("mgr", "mgr-token", true);
//!     fake.add_agent(Agent::new("a1", "Ada Lovelace", "not-available"));
//!
//!     let credentials = Credentials::new("mgr", "mgr-token".to_string().into());
//!     let client = Client::with_credentials(&fake.url(), credentials)?;
//!     let presence: Box<dyn Presence> = Box::new(RocketChatPresence::new(client));
//!
//!     let after = presence.set("a1", Availability::Available).await?;
//!     assert_eq!(after.availability, Availability::Available);
//!     let available = presence.list(&ListFilter::available()).await?;
//!     assert_eq!(available.len(), 1);
//!
//!     // the fake answers the next request 503, then 503 again: retried, then reported
//!     for _ in 0..4 {
//!         fake.faults().push(Fault::Status(503));
//!     }
//!     match presence.get("a1").await {
//!         Ok(a) => unreachable!("every attempt failed, yet {a:?}"),
//!         Err(e) => match e.kind() {
//!             ErrorKind::Vendor | ErrorKind::Network => println!("try again later: {e}"),
//!             ErrorKind::NotFound => println!("no such agent: {e}"),
//!             _ => return Err(e.into()),
//!         },
//!     }
//!     // Rocket.Chat has no busy state: an error, never a substitute
//!     let e = presence.set("a1", Availability::Busy).await.unwrap_err();
//!     assert_eq!(e.kind(), ErrorKind::Unsupported);
//!     Ok(())
//! }
//! ```
//!
//! # Mapping
//!
//! Reading maps every vendor state to an [`Availability`]; the vendor's own words stay in
//! [`Detail`]. Setting uses one vendor state per availability; a state a vendor cannot
//! represent is [`Failure::Unsupported`], never a substitute. Each adapter's module docs
//! have its mapping table (the README has them all).
//!
//! Where a vendor is richer than the four availabilities, [`Presence::set_with`] takes a
//! [`SetRequest`]: an expiry (`until`: Mattermost's timed "do not disturb") and the vendor's own
//! word for a state (`state`: a Twilio TaskRouter activity such as `Lunch`, Mattermost `dnd`,
//! Libredesk `away_and_reassigning`), read back from [`Detail::state`] and [`Detail::until`]. The
//! word must mean the availability asked for in the adapter's mapping, else the request is
//! refused; a vendor without expiries or without such states refuses the request with
//! [`Failure::UnsupportedOption`], naming the part. Nothing is dropped or substituted.
//!
//! `set` is idempotent on every vendor: it reads first (or sends an explicit state the server
//! treats idempotently) and changes nothing when the agent already has the desired
//! availability; a state changed by someone else in between, or refused by the server, is a
//! [`Failure::Conflict`] carrying the vendor's own word for what it found.
//!
//! # Limits
//!
//! Every operation (`get`, `set`, `list`, with the adapter's own resends, read-backs, toggles
//! and pages) runs within one deadline, the client's `RetryPolicy::deadline` (default 60 s;
//! each adapter's `with_deadline` overrides it): past it, the request in flight is abandoned
//! and the operation fails with [`Failure::Deadline`]. Paging is bounded by
//! [`ListLimits`]; bodies by the client's `max_response_bytes`; redirects are never followed.
#![warn(missing_docs)]

pub mod adapter;
pub mod bulk;
mod error;
pub mod lockfile;
pub mod receiver;
pub mod registry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod watch;

use std::fmt;
use std::str::FromStr;

pub use async_trait::async_trait;
/// The time crate of [`SetRequest::until`] and [`Detail::until`], for callers and adapters
/// without a dependency of their own.
pub use chrono;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub use bulk::{Applied, BulkOptions, BulkResult};
pub use error::{ErrorKind, Failure, PresenceError, Supported, escape_controls, is_unsafe_char};

/// Whether an agent can take work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Availability {
    /// Ready to take conversations.
    Available,
    /// Working, not taking new conversations (Chatwoot `busy`).
    Busy,
    /// Away from the desk for now (Libredesk `away_manual`, Engage Digital `away`).
    Away,
    /// Not working: logged off or unavailable.
    Offline,
}

impl Availability {
    /// Every availability, in the order above.
    pub const ALL: [Availability; 4] = [Self::Available, Self::Busy, Self::Away, Self::Offline];

    /// The lower-case name (`available`, `busy`, `away`, `offline`), as shown and parsed by the command.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Busy => "busy",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }
}

impl fmt::Display for Availability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Availability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown availability {s:?}: expected available, busy, away or offline")
            })
    }
}

/// A vendor, by name (`rocketchat`, `libredesk`, `engage-digital`, `chatwoot`, ...). Open: a
/// vendor crate names itself (`Vendor::new("chatwoot")`), nothing here lists vendors. Serialises
/// as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vendor(&'static str);

impl Vendor {
    /// The vendor called `name` (its folder under `specs/`).
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// The vendor's name, as registered (`rocketchat`, `libredesk`, ...).
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Vendor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

/// One channel of an agent (Engage Digital). Built with [`ChannelPresence::new`] outside this
/// crate (`#[non_exhaustive]`: a part added later is not a breaking change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ChannelPresence {
    /// The channel's id on the vendor.
    pub id: String,
    /// The channel's name, if the vendor sent one.
    pub name: Option<String>,
    /// `available` or `away`.
    pub status: String,
    /// `unoccupied`, `ok`, `busy` or `full`.
    pub busyness: Option<String>,
}

/// What a vendor says beyond the [`Availability`].
///
/// The vendor's own word for the agent's state, the one [`SetRequest::state`] takes, is
/// [`Detail::state`]; when the state ends by itself (Mattermost's timed "do not disturb"),
/// [`Detail::until`] says when.
///
/// Built with [`Detail::new`] (or `Default`) and the `with_*` methods outside this crate
/// (`#[non_exhaustive]`: a part added later, as [`Detail::message`] was, is not a breaking
/// change).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Detail {
    /// The vendor's own status, as shown (`not-available`, `away_manual`, `disconnected`,
    /// `dnd (manual) until 1765000000`, ...).
    pub vendor_status: String,
    /// Engage Digital: the custom "away" status selected, if any.
    pub custom_status_id: Option<String>,
    /// Engage Digital: per-channel status and busyness.
    pub channels: Vec<ChannelPresence>,
    /// The vendor's word for the state, set by adapters whose `vendor_status` can say more than
    /// the word (Mattermost: `dnd` of `dnd (manual) until ...`); when `None`, `vendor_status` is
    /// the word. Read it through [`Detail::state`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// When the vendor ends the state by itself (a timed "do not disturb"), if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// The status message the agent wrote beside its state (Rocket.Chat's `statusText`, "In a
    /// call"), where the vendor's reads carry one; `None` for none (an empty message included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A part of [`Detail`] that tells one state from another: what a watcher
/// ([`watch::Watcher`]) compares to decide that an agent changed. Each adapter declares its
/// own ([`Presence::observed`], [`adapter::Adapter::OBSERVED`]): the vendor's detail a user would
/// see change, never a value that moves on every read (Engage Digital's per-channel busyness,
/// which follows each conversation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DetailField {
    /// [`Detail::vendor_status`].
    VendorStatus,
    /// The state's word, [`Detail::state`] (a Rocket.Chat user status, an Engage Digital
    /// custom status's name: renaming it is a change).
    State,
    /// [`Detail::custom_status_id`].
    CustomStatus,
    /// [`Detail::until`]: for vendors whose reads carry the end the server keeps (a stable
    /// time), never one computed from a remaining duration at each read.
    Until,
    /// [`Detail::channels`], every channel's status and busyness.
    Channels,
    /// [`Detail::message`], the status message the agent wrote: a new message is a change.
    Message,
}

impl DetailField {
    /// What [`Presence::observed`] declares unless the adapter says otherwise: the vendor's
    /// status, the state's word, the custom status, the end of a timed state and the status
    /// message.
    pub const DEFAULT: &'static [DetailField] = &[
        DetailField::VendorStatus,
        DetailField::State,
        DetailField::CustomStatus,
        DetailField::Until,
        DetailField::Message,
    ];

    /// Whether `a` and `b` agree in this part.
    pub fn same(self, a: &Detail, b: &Detail) -> bool {
        match self {
            DetailField::VendorStatus => a.vendor_status == b.vendor_status,
            DetailField::State => a.state() == b.state(),
            DetailField::CustomStatus => a.custom_status_id == b.custom_status_id,
            DetailField::Until => a.until == b.until,
            DetailField::Channels => a.channels == b.channels,
            DetailField::Message => a.message == b.message,
        }
    }
}

impl ChannelPresence {
    /// A channel: its id, its name (if the vendor gives one), its status and its busyness.
    pub fn new(
        id: impl Into<String>,
        name: Option<String>,
        status: impl Into<String>,
        busyness: Option<String>,
    ) -> Self {
        Self {
            id: id.into(),
            name,
            status: status.into(),
            busyness,
        }
    }
}

impl Detail {
    /// The vendor's own status, as shown, and nothing else.
    pub fn new(vendor_status: impl Into<String>) -> Self {
        Self {
            vendor_status: vendor_status.into(),
            ..Self::default()
        }
    }

    /// With this custom status ([`Detail::custom_status_id`]).
    pub fn with_custom_status_id(self, custom_status_id: Option<String>) -> Self {
        Self {
            custom_status_id,
            ..self
        }
    }

    /// With these channels ([`Detail::channels`]).
    pub fn with_channels(self, channels: Vec<ChannelPresence>) -> Self {
        Self { channels, ..self }
    }

    /// With this word for the state ([`Detail::state`]).
    pub fn with_state(self, state: Option<String>) -> Self {
        Self { state, ..self }
    }

    /// Ending at `until` ([`Detail::until`]).
    pub fn with_until(self, until: Option<DateTime<Utc>>) -> Self {
        Self { until, ..self }
    }

    /// With this status message ([`Detail::message`]).
    pub fn with_message(self, message: Option<String>) -> Self {
        Self { message, ..self }
    }

    /// Whether `self` and `other` agree in every one of `fields` (the observed state of an
    /// adapter, [`Presence::observed`]).
    pub fn same_observed(&self, other: &Detail, fields: &[DetailField]) -> bool {
        fields.iter().all(|f| f.same(self, other))
    }

    /// The vendor's own word for the agent's state (Mattermost `dnd`, a Twilio TaskRouter
    /// activity's name, Libredesk `away_and_reassigning`, ...): what [`SetRequest::state`] takes
    /// to set that state again. Each adapter's module docs list its words.
    pub fn state(&self) -> &str {
        self.state.as_deref().unwrap_or(&self.vendor_status)
    }

    /// When the vendor ends the state by itself, if it does ([`SetRequest::until`] set it, or
    /// the agent chose it at the vendor).
    pub fn until(&self) -> Option<DateTime<Utc>> {
        self.until
    }
}

/// What [`Presence::set_with`] asks for: an [`Availability`] and, where the vendor allows it, an
/// expiry ([`until`](Self::until)) and the vendor's own word for the state
/// ([`state`](Self::state)). A vendor that cannot do a part refuses the whole request with
/// [`Failure::UnsupportedOption`] naming the part, before sending anything; nothing is dropped
/// silently.
///
/// ```
/// use std::time::Duration;
/// use agentstatus_presence::{Availability, SetRequest};
///
/// // Mattermost: "do not disturb" for 30 minutes, then back to the status before it
/// let busy = SetRequest::new(Availability::Busy).for_duration(Duration::from_secs(30 * 60));
/// assert!(busy.until.is_some());
/// // Twilio TaskRouter: the workspace's own activity `Lunch` (unavailable, read as Offline)
/// let lunch = SetRequest::new(Availability::Offline).state("Lunch");
/// assert_eq!(lunch.state.as_deref(), Some("Lunch"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetRequest {
    /// The availability to set.
    pub availability: Availability,
    /// When the vendor should end the state by itself (and go back to what it was before, as
    /// the vendor does it); `None`: until changed.
    pub until: Option<DateTime<Utc>>,
    /// The vendor's own word for the state ([`Detail::state`]); it must mean `availability` in
    /// the adapter's mapping, else the request is refused (never substituted).
    pub state: Option<String>,
}

impl SetRequest {
    /// Set `availability`, without expiry, in the state the adapter's mapping uses for it.
    pub fn new(availability: Availability) -> Self {
        Self {
            availability,
            until: None,
            state: None,
        }
    }

    /// The request, ending at `until`.
    pub fn until(self, until: DateTime<Utc>) -> Self {
        Self {
            until: Some(until),
            ..self
        }
    }

    /// The request, ending `duration` from now (by this machine's clock; the vendor's may
    /// differ). A duration past what a time can hold ends at the latest time there is
    /// (`DateTime::<Utc>::MAX_UTC`), never a panic.
    pub fn for_duration(self, duration: std::time::Duration) -> Self {
        let now = DateTime::<Utc>::from(std::time::SystemTime::now());
        let until = chrono::TimeDelta::from_std(duration)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.until(until)
    }

    /// The request, in the vendor's state called `state` ([`Detail::state`]).
    pub fn state(self, state: impl Into<String>) -> Self {
        Self {
            state: Some(state.into()),
            ..self
        }
    }

    /// The [`Failure::UnsupportedOption`] for the first part of this request beyond a plain
    /// availability (an expiry, then a state), on a vendor that has neither: what
    /// [`Presence::set_with`] answers by default.
    pub fn refuse_options(&self, vendor: Vendor) -> Result<(), PresenceError> {
        if self.until.is_some() {
            return Err(self.no_expiry(vendor, &[]));
        }
        if let Some(state) = &self.state {
            return Err(PresenceError::unsupported_option(
                vendor,
                "state",
                format!(
                    "it has no states beyond its mapping of the availabilities (asked for {:?})",
                    clip_word(state)
                ),
            ));
        }
        Ok(())
    }

    /// The [`Failure::UnsupportedOption`] for this request's expiry on a vendor that can end
    /// only the `expiring` availabilities by itself.
    pub fn no_expiry(&self, vendor: Vendor, expiring: &[Availability]) -> PresenceError {
        let asked = self
            .until
            .map(|u| {
                format!(
                    " (asked to end {} at {})",
                    self.availability,
                    u.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )
            })
            .unwrap_or_default();
        let message = if expiring.is_empty() {
            format!("it has no state that ends by itself{asked}")
        } else {
            let names: Vec<&str> = expiring.iter().map(|a| a.as_str()).collect();
            format!("it can end only {} by itself{asked}", names.join(", "))
        };
        PresenceError::unsupported_option(vendor, "until", message)
    }

    /// The expiry, checked: [`Failure::InvalidInput`] when it is not after `now`.
    pub fn until_after(
        &self,
        vendor: Vendor,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, PresenceError> {
        match self.until {
            Some(until) if until <= now => {
                let message = format!(
                    "the expiry {} is not in the future",
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
                Err(PresenceError::new(
                    vendor,
                    Failure::InvalidInput { message },
                ))
            }
            until => Ok(until),
        }
    }
}

impl From<Availability> for SetRequest {
    fn from(availability: Availability) -> Self {
        Self::new(availability)
    }
}

/// A caller's word, clipped and escaped for an error message.
fn clip_word(word: &str) -> String {
    adapter::clip(word)
}

/// An agent's presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AgentPresence {
    /// The agent's id on the vendor (what `get` and `set` take).
    pub agent_id: String,
    /// The agent's display name, if the vendor sent one.
    pub name: Option<String>,
    /// The vendor's state, mapped.
    pub availability: Availability,
    /// What the vendor said beyond the mapped availability.
    pub detail: Detail,
    /// The agent's e-mail address, where the vendor's list answer carries one (`sync` can
    /// match people by it); `None` otherwise. Not serialized when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl AgentPresence {
    /// An agent's presence, with the vendor's own words in `detail`.
    pub fn new(
        agent_id: impl Into<String>,
        name: Option<String>,
        availability: Availability,
        detail: Detail,
    ) -> Self {
        Self {
            agent_id: agent_id.into(),
            name,
            availability,
            detail,
            email: None,
        }
    }

    /// With the agent's e-mail address (blank is none).
    pub fn with_email(self, email: Option<String>) -> Self {
        Self {
            email: email.filter(|e| !e.trim().is_empty()),
            ..self
        }
    }
}

/// Which agents [`Presence::list`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListFilter {
    /// Only agents whose availability is [`Availability::Available`].
    pub available_only: bool,
}

impl ListFilter {
    /// Every agent the vendor lists.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only available agents.
    pub fn available() -> Self {
        Self {
            available_only: true,
        }
    }

    /// Does `p` pass this filter? (For adapters whose vendor cannot filter server-side.)
    pub fn keep(&self, p: &AgentPresence) -> bool {
        !self.available_only || p.availability == Availability::Available
    }
}

/// Bounds on [`Presence::list`] for vendors that page: a server that ignores the offset, or
/// reports an absurd total, cannot keep the client paging. A page that brings no agent not
/// already seen ends the list (the server is repeating itself); reaching a bound fails with
/// [`Failure::TooManyPages`]. The operation's deadline bounds the time as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListLimits {
    /// Pages requested at most. Default 1,000.
    pub max_pages: u32,
    /// Agents collected at most. Default 100,000.
    pub max_agents: usize,
}

impl Default for ListLimits {
    fn default() -> Self {
        Self {
            max_pages: 1_000,
            max_agents: 100_000,
        }
    }
}

impl ListLimits {
    /// At most `max_pages` pages and `max_agents` agents.
    pub fn new(max_pages: u32, max_agents: usize) -> Self {
        Self {
            max_pages,
            max_agents,
        }
    }
}

/// Set many agents at once: [`Presence::set_many`] with at most `concurrency` writes in flight,
/// each agent's outcome in the order given. The request rate is bounded by the clients' rate
/// limit (Engage Digital: 500 per minute by default); memory grows with the results only.
///
/// ```no_run
/// # async fn run(presence: &dyn agentstatus_presence::Presence) {
/// use agentstatus_presence::{Availability, set_many};
/// let updates = vec![("a1".to_string(), Availability::Available), ("a2".to_string(), Availability::Away)];
/// for r in set_many(presence, updates, 8).await {
///     if let Err(e) = r.outcome { eprintln!("{}: {e}", r.agent); }
/// }
/// # }
/// ```
pub async fn set_many(
    presence: &dyn Presence,
    updates: Vec<(String, Availability)>,
    concurrency: usize,
) -> Vec<BulkResult> {
    presence
        .set_many(updates, &BulkOptions::new(concurrency))
        .await
}

/// Read and set agents' availability on one vendor. Vendor adapters get it by implementing
/// [`adapter::Adapter`] (which adds the deadline and names every error's operation); a test
/// double or a wrapper may implement it directly.
///
/// Its methods are async functions; the trait is object safe (`Box<dyn Presence>`, `&dyn
/// Presence`: the registry and the command pick a vendor at run time), which is why it is
/// written with [`macro@async_trait`] and the rendered signatures below show the boxed futures
/// that macro makes of them. What you call and implement:
///
/// ```text
/// fn vendor(&self) -> Vendor;
/// fn supported(&self) -> &'static [Availability];
/// fn expiring(&self) -> &'static [Availability]; // provided: none
/// async fn get(&self, agent: &str) -> Result<AgentPresence, PresenceError>;
/// async fn set(&self, agent: &str, desired: Availability) -> Result<AgentPresence, PresenceError>;
/// async fn set_with(&self, agent: &str, request: &SetRequest) -> Result<AgentPresence, PresenceError>; // provided: options refused
/// async fn list(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError>;
/// async fn set_many(&self, updates: Vec<(String, Availability)>, options: &BulkOptions<'_>) -> Vec<BulkResult>; // provided
/// async fn set_many_with(&self, updates: Vec<(String, SetRequest)>, options: &BulkOptions<'_>) -> Vec<BulkResult>; // provided
/// fn check_supported(&self, desired: Availability) -> Result<(), PresenceError>; // provided
/// fn change_feed(&self, options: &watch::WatchOptions) -> Option<Box<dyn watch::ChangeFeed>>; // provided: None, so watchers poll
/// ```
///
/// An implementation writes `async fn` too, under `#[agentstatus_presence::async_trait]`
/// (re-exported here, so no other dependency is needed).
#[async_trait]
pub trait Presence: Send + Sync {
    /// The vendor this adapter talks to.
    fn vendor(&self) -> Vendor;

    /// The availabilities [`Presence::set`] can set on this vendor.
    fn supported(&self) -> &'static [Availability];

    /// `async fn get(&self, agent: &str) -> Result<AgentPresence, PresenceError>`: one agent's
    /// presence.
    async fn get(&self, agent: &str) -> Result<AgentPresence, PresenceError>;

    /// `async fn set(&self, agent: &str, desired: Availability) -> Result<AgentPresence,
    /// PresenceError>`: make `agent` `desired`; changes nothing if it already is. Returns the
    /// presence after. An adapter that reads the agent first (for what its write needs) sends
    /// the write even when that read shows the agent so already, where the write is idempotent:
    /// the read may be a read replica's, behind, and a skip decided from it could leave the
    /// agent as it was ([`Presence::set_many`] skips the agents its read shows right). Where
    /// the write needs the current state (a toggle, an activity kept), the adapter checks the
    /// read with what the vendor offers (an `If-Match` on the read's `ETag`, a second read the
    /// read lag later); a read-back behind the write is not a `Conflict`.
    async fn set(&self, agent: &str, desired: Availability)
    -> Result<AgentPresence, PresenceError>;

    /// `async fn list(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError>`:
    /// the agents the vendor lists (Engage Digital: the connected ones).
    async fn list(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError>;

    /// `async fn set_many(&self, updates: Vec<(String, Availability)>, options: &BulkOptions<'_>)
    /// -> Vec<BulkResult>`: make each agent its wanted availability: outcomes in the order given, one failure never
    /// stopping the rest. The default calls [`Presence::set`] for each agent; adapters whose API
    /// allows it read the current states in pages, skip agents already right and send one write
    /// per agent that changes, taking the result from the write's answer. Idempotence, conflict
    /// detection and the never-twice toggle rule are those of `set`. Its one read may be a read
    /// replica's, behind: a caller that knows an agent may show as it was (it held the wanted
    /// state until lately) sends that one through `set` instead.
    async fn set_many(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        bulk::each(updates, options, |agent, wanted| async move {
            self.set(&agent, wanted).await.map(|presence| Applied {
                presence,
                changed: None,
            })
        })
        .await
    }

    /// `async fn set_many_with(&self, updates: Vec<(String, SetRequest)>, options:
    /// &BulkOptions<'_>) -> Vec<BulkResult>`: [`Presence::set_many`] with the options of a
    /// [`SetRequest`] for each agent (an expiry, the vendor's own word for the state). Updates
    /// without options go through [`Presence::set_many`] (the vendor's bulk path, reads
    /// shared); each update with options is set on its own through [`Presence::set_with`], so
    /// an option this vendor lacks fails that agent alone with [`Failure::UnsupportedOption`]
    /// (an expiry on an availability it cannot end by itself, a state it does not have), as
    /// `set_with` refuses it, and nothing is sent for it. The plain updates are applied first,
    /// then the others; outcomes in the order given, one failure never stopping the rest.
    async fn set_many_with(
        &self,
        updates: Vec<(String, SetRequest)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        bulk::split_requests(
            updates,
            options,
            |plain| self.set_many(plain, options),
            |agent, request| async move {
                self.set_with(&agent, &request)
                    .await
                    .map(Applied::unknown)
            },
        )
        .await
    }

    /// The vendor's own feed of changes, better than polling (a delta query, a push channel),
    /// for [`watch::Watcher`]. Default: none, so watchers poll [`Presence::list`].
    fn change_feed(&self, options: &watch::WatchOptions) -> Option<Box<dyn watch::ChangeFeed>> {
        let _ = options;
        None
    }

    /// `async fn set_with(&self, agent: &str, request: &SetRequest) -> Result<AgentPresence,
    /// PresenceError>`: [`Presence::set`] with the options of a [`SetRequest`]: an expiry, the
    /// vendor's own word for the state. The default refuses an availability this vendor cannot
    /// set ([`Failure::Unsupported`]) and any option ([`Failure::UnsupportedOption`], naming it)
    /// before sending anything, and otherwise calls [`Presence::set`]; adapters whose vendor has
    /// them override it (through [`adapter::Adapter::set_with_now`]).
    async fn set_with(
        &self,
        agent: &str,
        request: &SetRequest,
    ) -> Result<AgentPresence, PresenceError> {
        self.check_supported(request.availability)?;
        request.refuse_options(self.vendor())?;
        self.set(agent, request.availability).await
    }

    /// The parts of [`Detail`] that make a change of state for a watcher
    /// ([`watch::Watcher`]): besides the [`Availability`], a change in any of them is reported
    /// (an Engage Digital custom status renamed, a Rocket.Chat user status), a change in any
    /// other part is not. Default: [`DetailField::DEFAULT`].
    fn observed(&self) -> &'static [DetailField] {
        DetailField::DEFAULT
    }

    /// The availabilities [`Presence::set_with`] can set with an expiry
    /// ([`SetRequest::until`]) on this vendor: none by default (Mattermost: busy).
    fn expiring(&self) -> &'static [Availability] {
        &[]
    }

    /// The [`Failure::Unsupported`] error for `desired`, if this vendor cannot set it.
    fn check_supported(&self, desired: Availability) -> Result<(), PresenceError> {
        if self.supported().contains(&desired) {
            Ok(())
        } else {
            Err(PresenceError::unsupported(
                self.vendor(),
                desired,
                self.supported(),
            ))
        }
    }
}
