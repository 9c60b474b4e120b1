//! Set an Engage Digital agent available on every channel.
//! `ENGAGE_DIGITAL_ACCOUNT=acme ENGAGE_DIGITAL_TOKEN=... \
//!  cargo run -p agentstatus-engage-digital --example engage_digital -- <agent id>`
use std::collections::HashMap;

use agentstatus_engage_digital::{Client, base_url, types::ChannelAvailability};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = std::env::args()
        .nth(1)
        .ok_or("usage: engage_digital <agent id>")?;
    let url = base_url(&std::env::var("ENGAGE_DIGITAL_ACCOUNT")?, None);
    let client = Client::with_token(&url, std::env::var("ENGAGE_DIGITAL_TOKEN")?.into())?;

    // The server needs every channel in the map: read them first.
    let current = client.get_agent_status().agent_id(&agent).send().await?;
    let channels: HashMap<String, ChannelAvailability> = current
        .channels
        .iter()
        .filter_map(|c| Some((c.id.clone()?, ChannelAvailability::Available)))
        .collect();
    let updated = client
        .change_agent_status()
        .agent_id(&agent)
        .status(channels)
        .send()
        .await?;
    for channel in &updated.channels {
        println!("{:?}: {:?}", channel.name, channel.status);
    }
    Ok(())
}
