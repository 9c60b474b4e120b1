//! The presence contract (`agentstatus_presence::testing`) against this vendor's fake.

use agentstatus_presence::testing::{Case, contract};

async fn case() -> Case {
    let fake = agentstatus_libredesk::fake::Libredesk::start()
        .await
        .unwrap();
    fake.add_agent(agentstatus_libredesk::fake::Agent::new(
        1,
        "Ada Lovelace",
        "offline",
        "ada-key",
        "ada-secret",
    ));
    fake.add_agent(agentstatus_libredesk::fake::Agent::new(
        2,
        "Bob Babbage",
        "online",
        "bob-key",
        "bob-secret",
    ));
    let url = fake.url();
    let client = |secret: &str| {
        agentstatus_libredesk::Client::with_credentials(
            &url,
            agentstatus_libredesk::Credentials::basic("ada-key", secret.to_string().into()),
        )
        .unwrap()
    };
    Case::new(
        fake,
        Box::new(agentstatus_libredesk::presence::LibredeskPresence::new(
            client("ada-secret"),
        )),
        Box::new(agentstatus_libredesk::presence::LibredeskPresence::new(
            client("wrong-secret"),
        )),
        "1",
        |f| f.state_changes(),
    )
    // a status of the server's enum beyond the one the mapping sends for Away
    .with_state(
        "away_and_reassigning",
        agentstatus_presence::Availability::Away,
    )
}

#[tokio::test]
async fn meets_the_presence_contract() {
    contract(case().await).await;
}
