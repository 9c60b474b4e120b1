// Report your own Zulip presence active and read who is around (HTTP Basic: e-mail + API key).
use agentstatus_zulip::types::{UpdatePresenceBody, UpdatePresenceBodyStatus};
use agentstatus_zulip::{Client, ClientConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = std::env::var("ZULIP_API_KEY")?.into(); // sent as `Authorization: Basic`
    let client = Client::with_basic_auth(
        "https://example.zulipchat.com/api/v1",
        "iago@zulip.com",
        key,
        &ClientConfig::default(),
    )?;
    // only the credentials' own user: there is no route for anyone else's presence
    let body = UpdatePresenceBody::builder()
        .status(UpdatePresenceBodyStatus::Active)
        .ping_only(true);
    client.update_presence().body(body).send().await?;
    // the legacy format, keyed by e-mail: `active` or `idle` with a timestamp; older than the
    // server's offline threshold (200 s by default) means offline
    let realm = client.get_presence().send().await?.into_inner();
    for (email, clients) in realm.presences {
        if let Some(aggregated) = clients.get("aggregated") {
            println!(
                "{email}: {:?} at {:?}",
                aggregated.status, aggregated.timestamp
            );
        }
    }
    Ok(())
}
