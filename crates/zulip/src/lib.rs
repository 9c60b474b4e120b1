//! Typed client for the Zulip agent presence API, generated from `specs/zulip/`, and the
//! vendor's genuine quirks. Example (`examples/zulip.rs`):
#![doc = concat!("```no_run\n", include_str!("../examples/zulip.rs"), "```")]

agentstatus_runtime::generated_client!(presence, fake);
