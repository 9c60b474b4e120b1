//! With the `full` feature, the complete API's public surface (operation names and signatures)
//! is kept as a golden file: the whole generated code is too big to review.
//! After an intended change: `EXPECTORATE=overwrite cargo test -p <crate> --features full --test golden_full`.

agentstatus_runtime::golden_test!(full_surface);
