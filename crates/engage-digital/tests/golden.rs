//! The generated code is checked in (`generated/client.rs`), so any change of the generated API
//! shows in review, and a packaged or vendored crate compiles it without the build script.
//! After an intended change: `EXPECTORATE=overwrite cargo test --workspace`.

// The comparison needs the generator's output: never a test that passes without it (the
// manifest's `required-features = ["codegen"]` skips it then; this stops a build without the cfg).
#[cfg(not(agentstatus_codegen))]
compile_error!(
    "tests/golden.rs needs the generator: the build script generates only with the `codegen` feature"
);

#[test]
fn generated_client_matches_golden_file() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/client.rs"));
    expectorate::assert_contents("generated/client.rs", generated);
}
