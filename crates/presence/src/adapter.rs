//! The adapter toolkit: what a vendor crate needs to turn its generated client into a
//! [`Presence`]. A vendor implements [`Adapter`]: its vendor, what it can set, its deadline and
//! its operations without the deadline (`get_now`, `set_now`, `list_now`, optionally
//! `set_many_now`); the [`Presence`] it gets runs each `get`, `set` and `list` within the
//! deadline ([`within`]), checks the availability before `set_now`, and names the operation of
//! every error.
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
//! use agentstatus_presence::adapter::{Adapter, ErrorBody};
//! use agentstatus_presence::{
//!     AgentPresence, Availability, Detail, ListFilter, Presence, PresenceError, Vendor, async_trait,
//! };
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
//! /// An adapter (a real one holds its generated client and calls it through `call`).
//! struct ExamplePresence {
//!     deadline: Duration,
//! }
//!
//! #[async_trait]
//! impl Adapter for ExamplePresence {
//!     const VENDOR: Vendor = Vendor::new("example");
//!     const SUPPORTED: &'static [Availability] = &[Availability::Available];
//!
//!     fn deadline(&self) -> Duration {
//!         self.deadline
//!     }
//!
//!     async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError> {
//!         let detail = Detail { vendor_status: "online".into(), ..Detail::default() };
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
//! let presence: Box<dyn Presence> = Box::new(ExamplePresence { deadline: Duration::from_secs(5) });
//! let e = presence.set("a1", Availability::Away).await.unwrap_err();
//! assert_eq!(e.to_string(), "example cannot set an agent away; it supports: available");
//! let e = presence.list(&ListFilter::all()).await.unwrap_err();
//! assert_eq!(e.operation(), Some("list"), "nothing was sent: the presence operation");
//! # }
//! ```

use std::future::Future;
use std::time::Duration;

pub use crate::error::{ErrorBody, Failed, SNIPPET, call, clip};

use crate::bulk::{self, Applied, BulkOptions, BulkResult};
use crate::{
    AgentPresence, Availability, Failure, ListFilter, Presence, PresenceError, Vendor, async_trait,
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
pub async fn within<T>(
    deadline: Duration,
    vendor: Vendor,
    step: Step,
    op: impl Future<Output = Result<T, PresenceError>>,
) -> Result<T, PresenceError> {
    let (result, seen) = agentstatus_runtime::observe(tokio::time::timeout(deadline, op)).await;
    match result {
        Ok(result) => result.map_err(|e| e.or_operation(seen.operation.unwrap_or(step.as_str()))),
        Err(_) => Err(PresenceError::new(vendor, Failure::Deadline { deadline })
            .with_operation(step.as_str())),
    }
}

/// A vendor's presence operations, without the deadline: implement this, and the type is a
/// [`Presence`] whose `get`, `set` and `list` run the operations [`within`] [`Adapter::deadline`]
/// (everything they send included), whose `set` refuses an availability not in
/// [`Adapter::SUPPORTED`] before `set_now` runs, and whose errors all name their operation.
///
/// Call the operations through [`Presence`] (`self.get(..)`, `self.list(..)`) to get a deadline
/// of their own, or directly (`self.get_now(..)`) inside another one. See the [module
/// docs](self) for an example.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// The vendor this adapter talks to.
    const VENDOR: Vendor;

    /// The availabilities `set` can set on this vendor.
    const SUPPORTED: &'static [Availability];

    /// The deadline of each `get`, `set` and `list` (usually the client's
    /// `RetryPolicy::deadline`, overridden by the adapter's `with_deadline`).
    fn deadline(&self) -> Duration;

    /// One agent's presence ([`Presence::get`] without the deadline).
    async fn get_now(&self, agent: &str) -> Result<AgentPresence, PresenceError>;

    /// Make `agent` `desired`, changing nothing if it already is ([`Presence::set`] without the
    /// deadline); `desired` is one of [`Adapter::SUPPORTED`].
    async fn set_now(
        &self,
        agent: &str,
        desired: Availability,
    ) -> Result<AgentPresence, PresenceError>;

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
}

#[async_trait]
impl<A: Adapter + ?Sized> Presence for A {
    fn vendor(&self) -> Vendor {
        A::VENDOR
    }

    fn supported(&self) -> &'static [Availability] {
        A::SUPPORTED
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
