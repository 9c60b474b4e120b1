//! Typed client for the Zulip presence API (a user's presence, invisible mode and user status,
//! and the event queue), generated from `specs/zulip/`, and the vendor's genuine quirks.
//! Example (`examples/zulip.rs`):
#![doc = concat!("```no_run\n", include_str!("../examples/zulip.rs"), "```")]
// The vendor's descriptions, generated verbatim into the client's docs, continue Markdown list
// items without indenting them (`GET /events`'s parameters): not ours to reflow by hand.
#![allow(clippy::doc_lazy_continuation)]
// ... and use reference-style links whose targets are on Zulip's site (`[inline URL
// preview][inline-url-previews]`), which rustdoc reads as links to items.
#![allow(rustdoc::broken_intra_doc_links)]

agentstatus_runtime::generated_client!(presence, fake);

/// The event-queue reader behind `watch` ([`presence::ZulipPresence`]'s change feed).
#[cfg(feature = "presence")]
pub mod events;
