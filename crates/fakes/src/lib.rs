//! Stateful, in-process fake servers of the vendors' agent presence APIs, for tests, examples and
//! the `agentstatus demo`. They behave like the *real* servers (see `VENDOR-NOTES.md`), not like
//! the vendors' docs, and each listens on 127.0.0.1 with a free port.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! use agentstatus_fakes::{Fault, rocketchat};
//!
//! let fake = rocketchat::RocketChat::start().await?;
//! fake.add_user("manager-id", "manager-token", true);
//! fake.add_agent(rocketchat::Agent::new("agent-1", "Ada Lovelace", "not-available"));
//! fake.faults().push(Fault::Status(503)); // the next request fails
//! println!("point a client at {}", fake.url());
//! # Ok(()) }
//! ```

// Handlers bail out early with a ready `Response`; its size does not matter in a test server.
#![allow(clippy::result_large_err)]

pub mod engage_digital;
pub mod hostile;
pub mod libredesk;
pub mod rocketchat;
mod server;

pub use server::{Chaos, FakeServer, Fault, Faults};
