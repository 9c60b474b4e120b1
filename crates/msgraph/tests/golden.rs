//! After an intended change: `EXPECTORATE=overwrite cargo test -p agentstatus-msgraph --features codegen --test golden`.
agentstatus_runtime::golden_test!(client);
