//! Typed client for the Microsoft Graph agent presence API, generated from `specs/msgraph/`, and the
//! vendor's genuine quirks. Example (`examples/msgraph.rs`):
#![doc = concat!("```no_run\n", include_str!("../examples/msgraph.rs"), "```")]

#[cfg(feature = "fake")]
pub mod fake;
#[cfg(feature = "presence")]
pub mod presence;
#[cfg(feature = "presence")]
pub mod watch;

agentstatus_runtime::generated_client!();
