//! Typed client for the Zulip presence API (a user's presence, invisible mode and user status,
//! and the event queue), generated from `specs/zulip/`, and the vendor's genuine quirks.
//! Example (`examples/zulip.rs`):
#![doc = concat!("```no_run\n", include_str!("../examples/zulip.rs"), "```")]

agentstatus_runtime::generated_client!(presence, fake);

/// The event-queue reader behind `watch` ([`presence::ZulipPresence`]'s change feed).
#[cfg(feature = "presence")]
pub mod events;
