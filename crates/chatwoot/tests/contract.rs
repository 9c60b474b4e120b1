//! The presence contract (`agentstatus_presence::testing`) against Chatwoot's fake.

use agentstatus_chatwoot::fake::{Agent, Chatwoot};
use agentstatus_chatwoot::presence::ChatwootPresence;
use agentstatus_chatwoot::{Client, ClientConfig};
use agentstatus_presence::testing::{Case, contract};

async fn case() -> Case {
    let fake = Chatwoot::start(1).await.unwrap();
    fake.add_agent(Agent::new(1, "Ada Lovelace", "admin-token", "offline").administrator());
    fake.add_agent(Agent::new(2, "Bob Babbage", "bob-token", "online"));
    let url = fake.url();
    let adapter = |token: &str| {
        let client =
            Client::with_user_api_key(&url, token.to_string().into(), &ClientConfig::default())
                .unwrap();
        ChatwootPresence::new(client, 1)
    };
    Case::new(
        fake,
        Box::new(adapter("admin-token")),
        Box::new(adapter("wrong-token")),
        "1",
        |f| f.state_changes(),
    )
}

#[tokio::test]
async fn meets_the_presence_contract() {
    contract(case().await).await;
}
