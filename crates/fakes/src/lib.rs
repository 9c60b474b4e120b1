//! The machinery under every vendor's fake server (each vendor crate has its own fake behind
//! its `fake` feature): the skeleton ([`Fake`]: the vendor's state, [`Shared`] by its routes,
//! served on 127.0.0.1 with a free port), fault injection ([`Fault`], [`Chaos`]; a read replica's stale answers,
//! [`Stale`]; one agent's requests refused, [`Faults::refuse`]; a clock off ours,
//! [`Faults::set_clock_skew`]; writes applied after their client gave up, [`Fault::LateApply`]
//! and [`Faults::hold_writes`]) and a request
//! log ([`Faults`]; with each request's fault and status, [`Exchange`]), so a vendor's fake holds only its routes and the vendor's behaviour;
//! [`seed`], how a program picking a vendor by name starts its fake with agents; and
//! [`hostile`], a raw HTTP server that answers on purpose badly.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use agentstatus_fakes::axum::{Router, http::StatusCode, routing::get};
//! use agentstatus_fakes::{Fault, Faults, json, serve};
//!
//! let router = Router::new().route("/ping", get(|| async { json(StatusCode::OK, "pong".into()) }));
//! let faults = Arc::new(Faults::default());
//! let server = serve(router, faults.clone()).await?;
//! faults.push(Fault::Status(503)); // the next request fails
//! println!("point a client at {}", server.url());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
// Handlers bail out early with a ready `Response`; its size does not matter in a test server.
#![allow(clippy::result_large_err)]

mod fake;
pub mod hostile;
pub mod seed;
mod server;

pub use fake::{Fake, Shared};
pub use server::{
    Behind, Chaos, EXCHANGE_BODY, Exchange, FakeServer, Fault, Faults, Stale, json, serve,
};

/// What a vendor's fake is written with, re-exported so vendor crates need no versions of their
/// own: `axum` for the routes, `serde_json`, `base64` and `form_urlencoded` for bodies.
pub use {axum, base64, form_urlencoded, serde_json};
