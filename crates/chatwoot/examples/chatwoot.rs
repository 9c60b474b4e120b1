// Set an agent busy in a Chatwoot account and list who is online.
use agentstatus_chatwoot::types::{AgentUpdatePayload, AgentUpdatePayloadAvailability};
use agentstatus_chatwoot::{Client, ClientConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = std::env::var("CHATWOOT_API_ACCESS_TOKEN")?.into(); // sent as `api_access_token`
    let client =
        Client::with_user_api_key("https://app.chatwoot.com", token, &ClientConfig::default())?;
    // never send `role` with it: a forced role can demote an administrator
    let body =
        AgentUpdatePayload::builder().availability(Some(AgentUpdatePayloadAvailability::Busy));
    let agent = client
        .update_agent()
        .account_id(1)
        .id(7)
        .body(body)
        .send()
        .await?;
    println!("agent 7 is {:?}", agent.availability_status);
    for a in client
        .list_agents()
        .account_id(1)
        .send()
        .await?
        .into_inner()
    {
        println!("{:?} {:?}", a.name, a.availability_status);
    }
    Ok(())
}
