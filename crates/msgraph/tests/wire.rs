//! One test per kept operation: a local server checks what the client sends (NOTES.md).
use agentstatus_msgraph::{Client, ClientInfo};

#[tokio::test]
async fn the_client_talks_to_the_configured_base_url() {
    let server = wiremock::MockServer::start().await;
    let client = Client::new(&server.uri(), Default::default());
    assert_eq!(client.baseurl(), server.uri());
}
