//! Drift between two versions of a vendor's OpenAPI documents, for `cargo xtask check` and
//! `cargo xtask update` (never a build script: the vendor crates' build graph has only
//! `agentstatus-codegen`).
//!
//! - [`diff()`]: a semantic diff of two documents' operations, each [`Finding`] marked breaking or
//!   not for a client, with the JSON pointer of the change ([`Side`]: in the old or the new one).
//! - [`positions_in_source`]: where those pointers are in the vendor's file (`line:col`), in
//!   YAML, JSON or the fenced spec of a docs page.
//! - [`Report`]: what the check found for each vendor, and the exit code it comes to;
//!   [`render()`] writes it as text, JSON, markdown or GitHub annotations.
//!
//! ```
//! let old = serde_json::json!({"openapi": "3.0.0", "paths": {"/a": {"get": {"responses": {}}}}});
//! let new = serde_json::json!({"openapi": "3.0.0", "paths": {}});
//! let findings = agentstatus_drift::diff(&old, &new);
//! assert!(findings[0].breaking);
//! assert_eq!(findings[0].pointer, "/paths/~1a/get");
//! ```
#![warn(missing_docs)]

mod compare;
mod diff;
mod layers;
mod locate;
mod render;
mod report;

pub use compare::{Comparison, Document, MAX_DOCUMENT_BYTES, Options, compare, compare_with};
pub use diff::{ChangeKind, Finding, Side, diff, diff_unapplied_security_schemes};
pub use layers::{
    ActionEffect, Layers, action_groups, client_layer, client_only, effective, layers, normalised,
};
pub use locate::{Position, positions, positions_in_source};
pub use render::{Format, render, render_comparison};
pub use report::{
    Counts, FailOn, Layer, OverlayAction, Policy, Report, Scope, Summary, Upstream, VendorReport,
};
