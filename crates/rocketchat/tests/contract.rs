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

/// Issue #30: a write the server answered (its status, the one asked for) is a write made, even
/// when the read back after it fails (the read route's limiter answers 429): before, `set`
/// failed, and a caller (sync) sent the write again later, over a change a person made since.
#[tokio::test]
async fn a_write_answered_is_made_even_when_its_read_back_fails() {
    use agentstatus_presence::Availability;
    use agentstatus_presence::registry::Settings;
    use agentstatus_rocketchat::fake::{Agent, RocketChat};
    use agentstatus_runtime::{ClientConfig, RetryPolicy};
    use std::time::Duration;
    let fake = RocketChat::start().await.unwrap();
    fake.add_user("mgr", "t", true);
    fake.bypass_rate_limit("mgr");
    fake.add_agent(Agent::new("a1", "Ada", "available"));
    let config = ClientConfig::default().with_retry(RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(10),
        deadline: Duration::from_secs(2),
    });
    let presence = (agentstatus_rocketchat::presence::entry().connect)(
        &Settings::new(fake.url(), config)
            .with_value("user_id", "mgr")
            .with_secret("token", "t".to_string().into()),
    )
    .unwrap();
    // the agent's own read refused, the write served
    fake.faults().refuse("GET", "/livechat/users/agent/a1", 429);
    let p = presence
        .set("a1", Availability::Offline)
        .await
        .expect("the write was answered: made");
    assert_eq!(
        (p.agent_id.as_str(), p.availability),
        ("a1", Availability::Offline)
    );
    assert_eq!(fake.agent("a1").unwrap().status_livechat, "not-available");
    fake.faults().stop_refusing();
    // a write that failed is still an error
    fake.faults().push(agentstatus_fakes::Fault::Status(500));
    presence
        .set("a1", Availability::Available)
        .await
        .expect_err("the write itself failed");
}
