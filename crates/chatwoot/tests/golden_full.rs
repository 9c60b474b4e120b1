//! With the `full` feature, the complete API's public surface (operation names and signatures)
//! is kept as a golden file: the whole generated code is too big to review.
//! After an intended change: `EXPECTORATE=overwrite cargo test -p <crate> --features full --test golden_full`.
#![cfg(feature = "full")]

#[test]
fn full_api_surface_matches_golden_file() {
    let surface = include_str!(concat!(env!("OUT_DIR"), "/surface.txt"));
    expectorate::assert_contents("tests/golden/full-surface.txt", surface);
}
