//! The presence contract (`agentstatus_presence::testing`) against Twilio TaskRouter's fake.

use agentstatus_presence::Availability;
use agentstatus_presence::testing::{Case, contract};
use agentstatus_twilio_taskrouter::fake::{ACCOUNT_SID, TwilioTaskrouter, WORKSPACE_SID};
use agentstatus_twilio_taskrouter::presence::TwilioTaskrouterPresence;
use agentstatus_twilio_taskrouter::{Client, ClientConfig};

const ADA: &str = "WK000000000000000000000000000000a1";
const BOB: &str = "WK000000000000000000000000000000b2";

async fn case() -> Case {
    let fake = TwilioTaskrouter::start("good-token").await.unwrap();
    // an activity of the workspace's own, beyond the name table: unavailable, so Offline
    fake.add_activity(WORKSPACE_SID, "Lunch", false);
    fake.add_worker(WORKSPACE_SID, ADA, "Ada Lovelace", "Offline");
    fake.add_worker(WORKSPACE_SID, BOB, "Bob Babbage", "Available");
    let url = fake.url();
    let adapter = |token: &str| {
        let client = Client::with_account_sid_auth_token(
            &url,
            ACCOUNT_SID,
            token.to_string().into(),
            &ClientConfig::default(),
        )
        .unwrap();
        TwilioTaskrouterPresence::new(client, WORKSPACE_SID.to_string())
    };
    Case::new(
        fake,
        Box::new(adapter("good-token")),
        Box::new(adapter("wrong-token")),
        ADA,
        |f| f.state_changes(),
    )
    // a Worker SID (the client refuses other ids before sending) that names no worker
    .with_unknown("WK0000000000000000000000000000dead")
    .with_state("Lunch", Availability::Offline)
}

#[tokio::test]
async fn meets_the_presence_contract() {
    contract(case().await).await;
}
