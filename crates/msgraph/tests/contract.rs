#![cfg(all(feature = "presence", feature = "fake"))]
//! The presence contract against the fake, started and connected as `agentstatus fake` does.
use agentstatus_msgraph::{fake::SEEDER, presence::entry};

#[tokio::test]
async fn meets_the_presence_contract() {
    agentstatus_fakes::seed::contract(entry(), SEEDER).await;
}
