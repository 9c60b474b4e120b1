//! Typed client for the Mattermost agent presence API, generated from `specs/mattermost/`, and the
//! vendor's genuine quirks. Example (`examples/mattermost.rs`):
#![doc = concat!("```no_run\n", include_str!("../examples/mattermost.rs"), "```")]

#[cfg(feature = "fake")]
pub mod fake;
#[cfg(feature = "presence")]
pub mod presence;
#[cfg(feature = "watch")]
pub mod watch;

agentstatus_runtime::generated_client!();
