//! Typed client for the Twilio TaskRouter agent presence API, generated from `specs/twilio-taskrouter/`, and the
//! vendor's genuine quirks. Example (`examples/twilio-taskrouter.rs`):
#![doc = concat!("```no_run\n", include_str!("../examples/twilio-taskrouter.rs"), "```")]

#[cfg(feature = "fake")]
pub mod fake;
#[cfg(feature = "presence")]
pub mod presence;
#[cfg(feature = "signature")]
pub mod signature;
#[cfg(feature = "presence")]
pub mod watch;

agentstatus_runtime::generated_client!();
