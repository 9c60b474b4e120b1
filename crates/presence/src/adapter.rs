//! What an adapter (in its vendor's crate) needs to turn a generated client into a
//! [`Presence`](crate::Presence): run a call keeping the answer's status ([`call`]), turn a
//! failed call into a [`PresenceError`](crate::PresenceError) ([`Failed::into_error`], with the
//! vendor's error body through [`ErrorBody`]), bound an operation by its deadline ([`within`]),
//! and cut a vendor's text for an error ([`clip`]).
//!
//! ```
//! use agentstatus_presence::adapter::ErrorBody;
//!
//! /// A vendor's error answer, as its generated client decodes it.
//! struct ApiError { code: Option<String>, message: Option<String> }
//!
//! impl ErrorBody for ApiError {
//!     fn parts(self) -> (Option<String>, Option<String>) {
//!         (self.code, self.message)
//!     }
//! }
//! ```

pub use crate::error::{ErrorBody, Failed, SNIPPET, call, clip, within};
