//! The generated code is checked in as a golden file, so any change of the generated API shows in
//! review. After an intended change: `EXPECTORATE=overwrite cargo test -p agentstatus-chatwoot --test golden`.

#[test]
fn generated_client_matches_golden_file() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/client.rs"));
    expectorate::assert_contents("tests/golden/client.rs", generated);
}
