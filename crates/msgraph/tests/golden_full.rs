//! After an intended change: `EXPECTORATE=overwrite cargo test -p agentstatus-msgraph --features full --test golden_full`.
agentstatus_runtime::golden_test!(full_surface);
