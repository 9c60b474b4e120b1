//! Read a Teams user's presence as an application (OAuth 2.0 client credentials).
use agentstatus_msgraph::{Client, ClientConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("MSGRAPH_CLIENT_SECRET")?.into();
    // the token URL has the organisation's tenant in its path (never `common`)
    let credentials =
        Client::azureaadv2_credentials("00000000-0000-0000-0000-00000000c1d0", secret)
            .with_token_url(
                "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            );
    let client = Client::with_azureaadv2_credentials(
        "https://graph.microsoft.com/v1.0",
        credentials,
        &ClientConfig::default(),
    )?;
    let presence = client
        .user_get_presence()
        .user_id("fa8bf3dc-eca7-46b7-bad1-db199b62afc3")
        .send()
        .await?
        .into_inner();
    println!("{:?}/{:?}", presence.availability, presence.activity);
    Ok(())
}
