#![cfg(all(feature = "presence", feature = "fake"))]
use agentstatus_presence::testing::{Case, contract};

use agentstatus_twilio_taskrouter::{Client, fake::TwilioTaskrouter, presence::TwilioTaskrouterPresence};

#[tokio::test]
async fn meets_the_presence_contract() {
    let fake = TwilioTaskrouter::start().await.unwrap();
    let url = fake.url(); // `bad` gets a wrong secret (`wrong-...`) once the client has one
    let adapter = || Box::new(TwilioTaskrouterPresence::new(Client::new(&url, Default::default())));
    let (good, bad) = (adapter(), adapter());
    contract(Case::new(fake, good, bad, "agent-1", |f| f.state_changes())).await;
}
