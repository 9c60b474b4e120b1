//! Set the API key's own Libredesk agent away, then read it back.
//! `LIBREDESK_URL=https://desk.example.com LIBREDESK_API_KEY=... LIBREDESK_API_SECRET=... \
//!  cargo run -p agentstatus-libredesk --example libredesk`
use agentstatus_libredesk::{Client, Credentials, types};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let credentials = Credentials::basic(
        std::env::var("LIBREDESK_API_KEY")?,
        std::env::var("LIBREDESK_API_SECRET")?.into(),
    );
    let client = Client::with_credentials(&std::env::var("LIBREDESK_URL")?, credentials)?;

    // `away_manual` is what the web app sends for a manual "away" (idle changes never undo it).
    let body =
        types::AvailabilityRequest::builder().status(types::AvailabilityRequestStatus::AwayManual);
    client.update_availability().body(body).send().await?;

    let me = client.get_current_agent().send().await?.into_inner();
    let agent = me.data.ok_or("no agent in the answer")?;
    println!("{:?} is {:?}", agent.email, agent.availability_status);
    Ok(())
}
