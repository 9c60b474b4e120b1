//! Not published, and empty: this crate exists for its manifest. It depends on the facade with
//! its `codegen` feature, which turns on every registered vendor crate with `codegen`, so a
//! command over the whole workspace (`cargo build --workspace`, `cargo test --workspace`, CI's
//! clippy and docs) builds each vendor client from the code the build script generates from
//! `specs/<vendor>/`, the design of this workspace, while a git or path dependency on a vendor
//! crate compiles its checked-in `generated/client.rs` and no generator. A new vendor needs no
//! line here. See ARCHITECTURE.md, "Light from git".
