//! The presence contract (`agentstatus_presence::testing`) against this vendor's fake.

use agentstatus_presence::testing::{Case, contract};

async fn case() -> Case {
    let fake = agentstatus_engage_digital::fake::EngageDigital::start()
        .await
        .unwrap();
    fake.add_supervisor_token("sup-token");
    // a custom "away" status: set by its name, read back by it
    fake.add_presence_status("5582b1f4776562af9b000008", "Lunch");
    fake.add_agent(agentstatus_engage_digital::fake::Agent::new(
        "e1",
        &[("c1", "Email"), ("c2", "Chat")],
        "away",
    ));
    fake.add_agent(agentstatus_engage_digital::fake::Agent::new(
        "e2",
        &[("c1", "Email")],
        "available",
    ));
    let url = fake.url();
    let client = |token: &str| {
        agentstatus_engage_digital::Client::with_token(&url, token.to_string().into()).unwrap()
    };
    Case::new(
        fake,
        Box::new(
            agentstatus_engage_digital::presence::EngageDigitalPresence::new(client("sup-token")),
        ),
        Box::new(
            agentstatus_engage_digital::presence::EngageDigitalPresence::new(client("wrong-token")),
        ),
        "e1",
        |f| f.state_changes(),
    )
    .with_state("Lunch", agentstatus_presence::Availability::Away)
}

#[tokio::test]
async fn meets_the_presence_contract() {
    contract(case().await).await;
}
