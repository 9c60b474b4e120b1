//! After an intended change: `EXPECTORATE=overwrite cargo test -p agentstatus-twilio-taskrouter --features codegen --test golden`.
agentstatus_runtime::golden_test!(client);
