//! The presence contract (`agentstatus_presence::testing`) against this vendor's fake.

use agentstatus_presence::testing::{Case, contract};

async fn case() -> Case {
    let fake = agentstatus_rocketchat::fake::RocketChat::start()
        .await
        .unwrap();
    fake.add_user("mgr", "mgr-token", true);
    // an administrator's permission: it may set the agents' user status (the state's word)
    fake.grant_edit_other_user_info("mgr");
    // and an administrator bypasses the REST API rate limiter (the contract makes many calls)
    fake.bypass_rate_limit("mgr");
    fake.add_agent(agentstatus_rocketchat::fake::Agent::new(
        "a1",
        "Ada Lovelace",
        "not-available",
    ));
    fake.add_agent(agentstatus_rocketchat::fake::Agent::new(
        "a2",
        "Bob Babbage",
        "available",
    ));
    let url = fake.url();
    let client = |token: &str| {
        agentstatus_rocketchat::Client::with_credentials(
            &url,
            agentstatus_rocketchat::Credentials::new("mgr", token.to_string().into()),
        )
        .unwrap()
    };
    Case::new(
        fake,
        Box::new(agentstatus_rocketchat::presence::RocketChatPresence::new(
            client("mgr-token"),
        )),
        Box::new(agentstatus_rocketchat::presence::RocketChatPresence::new(
            client("wrong-token"),
        )),
        "a1",
        |f| f.state_changes(),
    )
    // the user status `offline` means offline (Rocket.Chat routes nothing to such an agent)
    .with_state("offline", agentstatus_presence::Availability::Offline)
}

#[tokio::test]
async fn meets_the_presence_contract() {
    contract(case().await).await;
}
