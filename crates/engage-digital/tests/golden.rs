//! The generated code is checked in (`generated/client.rs`), so any change of the generated API
//! shows in review, and a packaged or vendored crate compiles it without the build script.
//! After an intended change: `EXPECTORATE=overwrite cargo test -p agentstatus-engage-digital --features codegen --test golden`.

agentstatus_runtime::golden_test!(client);
