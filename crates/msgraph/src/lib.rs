//! Typed client for the Microsoft Graph agent presence API, generated from `specs/msgraph/`, and the
//! vendor's genuine quirks. Example (`examples/msgraph.rs`):
#![doc = concat!("```no_run\n", include_str!("../examples/msgraph.rs"), "```")]

agentstatus_runtime::generated_client!(presence, fake);
