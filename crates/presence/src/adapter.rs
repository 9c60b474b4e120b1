//! The adapter toolkit: what a vendor crate needs to turn its generated client into a
//! [`Presence`]. A vendor declares its adapter type with [`adapter!`](crate::adapter!) (what
//! is the same for every vendor: the client, the deadline, `new`, `with_deadline`), then
//! implements [`Adapter`]: its vendor, what it can set, and its operations without the
//! deadline (`get_now`, `set_now`, `list_now`, optionally `set_many_now`); the [`Presence`] it
//! gets runs each `get`, `set` and `list` within the deadline ([`within`]), checks the
//! availability before `set_now`, and names the operation of every error. A vendor's
//! `presence.rs` is its mapping and those bodies.
//!
//! Inside the operations: [`call`] runs a generated client call, keeping what the client's hooks
//! recorded (the operation it sent, the answer's status), and [`Failed::into_error`] turns a
//! failed call into a [`PresenceError`] in that operation (the vendor's error body read through
//! [`ErrorBody`]); [`clip`] cuts a vendor's text for an error. An error the adapter builds
//! itself (an answer without the expected data, an agent missing from a list) needs no
//! operation: it gets the last one the presence operation sent, or the presence operation's
//! own name ([`Step`]) when it sent none. No operation name is written by hand.
//!
//! ```
//! use std::time::Duration;
//!
//! use agentstatus_presence::adapter::{Adapter, Deadline, ErrorBody};
//! use agentstatus_presence::{
//!     AgentPresence, Availability, Detail, ListFilter, Presence, PresenceError, Vendor, async_trait,
//! };
//! # use agentstatus_runtime::{ClientConfig, Inner, RetryPolicy};
//! # /// A generated client (progenitor's, with the runtime's `Inner`).
//! # struct Client { http: reqwest::Client, inner: Inner }
//! # impl progenitor_client::ClientInfo<Inner> for Client {
//! #     fn api_version() -> &'static str { "1" }
//! #     fn baseurl(&self) -> &str { "http://127.0.0.1:1" }
//! #     fn client(&self) -> &reqwest::Client { &self.http }
//! #     fn inner(&self) -> &Inner { &self.inner }
//! # }
//! # impl std::fmt::Debug for Client {
//! #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("Client") }
//! # }
//!
//! /// A vendor's error answer, as its generated client decodes it.
//! struct ApiError { code: Option<String>, message: Option<String> }
//!
//! impl ErrorBody for ApiError {
//!     fn parts(self) -> (Option<String>, Option<String>) {
//!         (self.code, self.message)
//!     }
//! }
//!
//! agentstatus_presence::adapter! {
//!     /// The adapter (its operations call `self.client` through `call`).
//!     pub struct ExamplePresence(client: Client);
//! }
//!
//! #[async_trait]
//! impl Adapter for ExamplePresence {
//!     const VENDOR: Vendor = Vendor::new("example");
//!     const SUPPORTED: &'static [Availability] = &[Availability::Available];
//!
//!     async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
//!         let detail = Detail::new("online");
//!         Ok(AgentPresence::new(agent, None, Availability::Available, detail))
//!     }
//!
//!     async fn set_now(&self, agent: &str, _: Availability) -> Result<AgentPresence, PresenceError> {
//!         self.get_now(agent).await
//!     }
//!
//!     async fn list_now(&self, _: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
//!         Err(PresenceError::not_found(Self::VENDOR, "anyone", None))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let retry = RetryPolicy { deadline: Duration::from_secs(7), ..RetryPolicy::default() };
//! let config = ClientConfig::default().with_retry(retry);
//! // the runtime builds the HTTP client (TLS provider, limits, timeouts) and its state
//! let (_, http, inner) = agentstatus_runtime::connect("http://127.0.0.1:1", vec![], &config).unwrap();
//! let client = Client { http, inner };
//! let adapter = ExamplePresence::new(client);
//! assert_eq!(adapter.deadline(), Duration::from_secs(7), "the client's deadline");
//! let adapter = adapter.with_deadline(Duration::from_secs(5));
//! assert_eq!(adapter.deadline(), Duration::from_secs(5));
//!
//! let presence: Box<dyn Presence> = Box::new(adapter);
//! let e = presence.set("a1", Availability::Away).await.unwrap_err();
//! assert_eq!(e.to_string(), "example cannot set an agent away; it supports: available");
//! let e = presence.list(&ListFilter::all()).await.unwrap_err();
//! assert_eq!(e.operation(), Some("list"), "nothing was sent: the presence operation");
//! # }
//! ```

use std::future::Future;
use std::time::Duration;

pub use crate::error::{ErrorBody, Failed, SNIPPET, call, call_answer, clip};

use crate::bulk::{self, Applied, BulkOptions, BulkResult};
use crate::watch::{ChangeFeed, WatchOptions};
use crate::{
    AgentPresence, Availability, DetailField, Failure, ListFilter, Presence, PresenceError,
    SetRequest, Vendor, async_trait,
};

/// A presence operation, as [`Presence`] names it: what an error is in when the adapter sent no
/// client operation, and what a [`Failure::Deadline`] is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// [`Presence::get`].
    Get,
    /// [`Presence::set`] (and each agent's write in [`Presence::set_many`]).
    Set,
    /// [`Presence::list`].
    List,
}

impl Step {
    /// `get`, `set` or `list`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Set => "set",
            Self::List => "list",
        }
    }
}

/// Run one presence operation (`step`) within `deadline`: past it, whatever request is in flight
/// is abandoned and the operation fails with [`Failure::Deadline`]. An error without an
/// operation gets the last client operation `op` sent, else `step`'s name.
///
/// `op` is moved to the heap at once, and so is the future this returns: the caller's future
/// holds a pointer, and polling it never copies `op` through the timeout and the scope that
/// records the operations on the stack (debug builds used ~119 KB of stack per call before;
/// `crates/rocketchat/tests/stack.rs` runs every operation on a small stack).
pub fn within<T>(
    deadline: Duration,
    vendor: Vendor,
    step: Step,
    op: impl Future<Output = Result<T, PresenceError>>,
) -> impl Future<Output = Result<T, PresenceError>> {
    let op = Box::pin(op);
    Box::pin(async move {
        let (result, seen) = agentstatus_runtime::observe(tokio::time::timeout(deadline, op)).await;
        match result {
            Ok(result) => {
                result.map_err(|e| e.or_operation(seen.operation.unwrap_or(step.as_str())))
            }
            // the request in flight abandoned: a write's may still be applied
            Err(_) => {
                let e = PresenceError::new(vendor, Failure::Deadline { deadline })
                    .with_operation(step.as_str());
                Err(if seen.operation.is_some() {
                    e.with_last_request_wrote(seen.writes)
                } else {
                    e
                })
            }
        }
    })
}

/// The deadline of each `get`, `set` and `list` of an adapter: the client's
/// `RetryPolicy::deadline` unless the adapter's `with_deadline` overrode it. [`adapter!`](crate::adapter!)
/// implements it.
pub trait Deadline {
    /// The deadline of each `get`, `set` and `list`, everything they send included.
    fn deadline(&self) -> Duration;
}

/// The deadline a generated client was built with (its `RetryPolicy::deadline`): the deadline
/// of an adapter over it, until `with_deadline`.
pub fn client_deadline<C: progenitor_client::ClientInfo<agentstatus_runtime::Inner>>(
    client: &C,
) -> Duration {
    client.inner().deadline()
}

/// Declare a vendor's adapter type over its generated client: the struct (its `client`, the
/// fields the vendor adds, its deadline; `Debug`), `new` and `with_deadline`, and its
/// [`Deadline`]. The vendor then implements [`Adapter`] for it, and its operations use
/// `self.client` and the fields it added.
///
/// ```text
/// agentstatus_presence::adapter! {
///     /// docs of the type
///     pub struct AcmePresence(client: Client, account_id: i64) {
///         /// a field `new` starts with the value after `=`
///         learnt: AtomicBool = AtomicBool::new(false),
///     }
/// }
/// ```
///
/// `new(client, account_id)` takes the client and the fields listed after it in the
/// parentheses; the fields in braces start with their value. Each operation's deadline is the
/// client's `RetryPolicy::deadline` ([`client_deadline`]) until `with_deadline`.
#[macro_export]
macro_rules! adapter {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident(client: $client:ty $(, $arg:ident: $arg_ty:ty)* $(,)?)
        $({
            $($(#[$field_meta:meta])* $field:ident: $field_ty:ty = $init:expr),* $(,)?
        })?
        $(;)?
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name {
            client: $client,
            $($arg: $arg_ty,)*
            $($($(#[$field_meta])* $field: $field_ty,)*)?
            deadline: ::std::time::Duration,
        }

        impl $name {
            /// The adapter over `client`; each `get`, `set` and `list` runs within the client's
            /// `RetryPolicy::deadline` (see `with_deadline`).
            pub fn new(client: $client $(, $arg: $arg_ty)*) -> Self {
                let deadline = $crate::adapter::client_deadline(&client);
                Self {
                    client,
                    $($arg,)*
                    $($($field: $init,)*)?
                    deadline,
                }
            }

            /// One deadline for each `get`, `set` and `list`, everything they send included.
            pub fn with_deadline(self, deadline: ::std::time::Duration) -> Self {
                Self { deadline, ..self }
            }
        }

        impl $crate::adapter::Deadline for $name {
            fn deadline(&self) -> ::std::time::Duration {
                self.deadline
            }
        }
    };
}

/// The error of an adapter operation that is not written yet (a scaffold's, `cargo xtask
/// new-vendor`): invalid input, saying so, so the contract test names what is missing.
pub fn unwritten(vendor: Vendor) -> PresenceError {
    let message = "the adapter is not written yet (src/presence.rs)".into();
    PresenceError::new(vendor, Failure::InvalidInput { message })
}

/// A vendor's presence operations, without the deadline: implement this, and the type is a
/// [`Presence`] whose `get`, `set` and `list` run the operations [`within`] its [`Deadline`]
/// (everything they send included), whose `set` refuses an availability not in
/// [`Adapter::SUPPORTED`] before `set_now` runs, and whose errors all name their operation.
///
/// Call the operations through [`Presence`] (`self.get(..)`, `self.list(..)`) to get a deadline
/// of their own, or directly (`self.get_now(..)`) inside another one. See the [module
/// docs](self) for an example.
#[async_trait]
pub trait Adapter: Deadline + Send + Sync {
    /// The vendor this adapter talks to.
    const VENDOR: Vendor;

    /// The availabilities `set` can set on this vendor.
    const SUPPORTED: &'static [Availability];

    /// The availabilities `set_with` can set with an expiry ([`SetRequest::until`]) on this
    /// vendor ([`Presence::expiring`]); none by default. An expiry on any other is refused with
    /// [`Failure::UnsupportedOption`] before [`Adapter::set_with_now`] runs.
    const EXPIRING: &'static [Availability] = &[];

    /// Whether an expiry can go with a vendor state ([`SetRequest::state`]) whatever the
    /// availability (Rocket.Chat's timed user status): `true` passes every request with an
    /// expiry to [`Adapter::set_with_now`], which refuses what it cannot end itself; `false` by
    /// default, so [`Adapter::EXPIRING`] alone decides before it runs.
    const STATE_EXPIRES: bool = false;

    /// The parts of [`Detail`](crate::Detail) a watcher compares ([`Presence::observed`]):
    /// every part the vendor's users see change, none that moves on every read. Default
    /// [`DetailField::DEFAULT`].
    const OBSERVED: &'static [DetailField] = DetailField::DEFAULT;

    /// One agent's presence ([`Presence::get`] without the deadline).
    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError>;

    /// Make `agent` `desired`, changing nothing if it already is ([`Presence::set`] without the
    /// deadline); `desired` is one of [`Adapter::SUPPORTED`].
    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError>;

    /// [`Presence::set_with`] without the deadline; `request.availability` is one of
    /// [`Adapter::SUPPORTED`]. The default refuses every option of the request
    /// ([`SetRequest::refuse_options`]: an expiry, a state by name) and otherwise calls
    /// [`Adapter::set_now`]; a vendor that has timed states or states beyond its mapping
    /// overrides it, refusing what it cannot do with [`Failure::UnsupportedOption`] and a state
    /// whose availability is not the one asked for with [`Failure::InvalidInput`].
    async fn set_with_now(
        &self,
        agent: &str,
        request: &SetRequest,
    ) -> Result<AgentPresence, PresenceError> {
        request.refuse_options(Self::VENDOR)?;
        self.set_now(agent, request.availability).await
    }

    /// The agents the vendor lists ([`Presence::list`] without the deadline).
    async fn list_now(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError>;

    /// [`Presence::set_many`]. The default calls [`Presence::set`] for each agent; an adapter
    /// whose API allows it reads the current states once (through [`Presence::list`], say),
    /// then writes each agent that changes through [`bulk::each`], each write [`within`] the
    /// deadline. An error of an agent without an operation gets the last one sent for it, else
    /// the last one sent before the writes began (the read).
    async fn set_many_now(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        bulk::each(updates, options, |agent, wanted| async move {
            Presence::set(self, &agent, wanted)
                .await
                .map(|presence| Applied {
                    presence,
                    changed: None,
                })
        })
        .await
    }

    /// [`Presence::change_feed`]: the vendor's own feed of changes (a delta query, a push
    /// channel), if it has one. Default: none, so watchers poll [`Presence::list`].
    fn change_feed(&self, options: &WatchOptions) -> Option<Box<dyn ChangeFeed>> {
        let _ = options;
        None
    }
}

#[async_trait]
impl<A: Adapter + ?Sized> Presence for A {
    fn change_feed(&self, options: &WatchOptions) -> Option<Box<dyn ChangeFeed>> {
        Adapter::change_feed(self, options)
    }

    fn vendor(&self) -> Vendor {
        A::VENDOR
    }

    fn supported(&self) -> &'static [Availability] {
        A::SUPPORTED
    }

    fn expiring(&self) -> &'static [Availability] {
        A::EXPIRING
    }

    fn observed(&self) -> &'static [DetailField] {
        A::OBSERVED
    }

    async fn get(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
        within(self.deadline(), A::VENDOR, Step::Get, self.get_now(agent)).await
    }

    async fn set(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError> {
        let set = async {
            self.check_supported(desired)?;
            self.set_now(agent, desired).await
        };
        within(self.deadline(), A::VENDOR, Step::Set, set).await
    }

    async fn set_with(
        &self,
        agent: &str,
        request: &SetRequest,
    ) -> Result<AgentPresence, PresenceError> {
        let set = async {
            self.check_supported(request.availability)?;
            if request.until.is_some()
                && !A::STATE_EXPIRES
                && !A::EXPIRING.contains(&request.availability)
            {
                return Err(request.no_expiry(A::VENDOR, A::EXPIRING));
            }
            if request.until.is_none() && request.state.is_none() {
                return self.set_now(agent, request.availability).await;
            }
            self.set_with_now(agent, request).await
        };
        within(self.deadline(), A::VENDOR, Step::Set, set).await
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<AgentPresence>, PresenceError> {
        within(
            self.deadline(),
            A::VENDOR,
            Step::List,
            self.list_now(filter),
        )
        .await
    }

    async fn set_many(
        &self,
        updates: Vec<(String, Availability)>,
        options: &BulkOptions<'_>,
    ) -> Vec<BulkResult> {
        // one scope for the whole bulk set, so its writes know what its read sent
        agentstatus_runtime::observe(self.set_many_now(updates, options))
            .await
            .0
    }
}
