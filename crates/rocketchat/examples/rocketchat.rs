//! Set a Rocket.Chat agent available, then list the available agents.
//! `ROCKETCHAT_URL=https://chat.example.com ROCKETCHAT_USER_ID=... ROCKETCHAT_AUTH_TOKEN=... \
//!  cargo run -p agentstatus-rocketchat --example rocketchat -- <agent id>`
use agentstatus_rocketchat::{Client, Credentials, types};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = std::env::args()
        .nth(1)
        .ok_or("usage: rocketchat <agent id>")?;
    let credentials = Credentials::new(
        std::env::var("ROCKETCHAT_USER_ID")?,
        std::env::var("ROCKETCHAT_AUTH_TOKEN")?.into(),
    );
    let client = Client::with_credentials(&std::env::var("ROCKETCHAT_URL")?, credentials)?;

    // Send the explicit status: without it, agent.status toggles.
    let body = types::UpdateAgentStatusBody::builder()
        .agent_id(Some(agent.clone()))
        .status(Some(types::UpdateAgentStatusBodyStatus::Available));
    let answer = client.update_agent_status().body(body).send().await?;
    println!("{agent} is now {:?}", answer.status);

    let page = client
        .list_livechat_users()
        .type_(types::ListLivechatUsersType::Agent)
        .only_available(true)
        .send()
        .await?;
    for user in &page.users {
        println!("{:?} {:?}", user.username, user.status_livechat);
    }
    Ok(())
}
