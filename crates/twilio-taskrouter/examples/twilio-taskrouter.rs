//! Read a TaskRouter worker's activity with the account's credentials (HTTP Basic).
use agentstatus_twilio_taskrouter::{Client, ClientConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = std::env::var("TWILIO_AUTH_TOKEN")?.into();
    let client = Client::with_account_sid_auth_token(
        "https://taskrouter.twilio.com",
        "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        token,
        &ClientConfig::default(),
    )?;
    let worker = client
        .fetch_worker()
        .workspace_sid("WSXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
        .sid("WKXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
        .send()
        .await?;
    let etag = worker.headers().get("etag").cloned();
    let worker = worker.into_inner();
    println!(
        "{:?} is in {:?} (available: {:?}, ETag {etag:?})",
        worker.friendly_name, worker.activity_name, worker.available
    );
    Ok(())
}
