// Set a Mattermost user "do not disturb" for an hour and read everyone's status in bulk.
use agentstatus_mattermost::types::{UpdateUserStatusBody, UpdateUserStatusBodyStatus};
use agentstatus_mattermost::{Client, ClientConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = std::env::var("MATTERMOST_TOKEN")?.into(); // sent as `Authorization: Bearer`
    let client = Client::with_bearer_auth(
        "https://mattermost.example.com",
        token,
        &ClientConfig::default(),
    )?;
    let user = "4xp9fdt77pncbef59f4k1qe83o";
    // the end is in seconds since the epoch (the server truncates it to the minute)
    let end = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        + 3600;
    let body = UpdateUserStatusBody::builder()
        .user_id(user.to_string())
        .status(UpdateUserStatusBodyStatus::Dnd)
        .dnd_end_time(Some(end as i64));
    let status = client
        .update_user_status()
        .user_id(user)
        .body(body)
        .send()
        .await?;
    println!(
        "{user} is {:?} until {:?}",
        status.status, status.dnd_end_time
    );
    let users = client.get_users().per_page(200).send().await?.into_inner();
    let ids: Vec<String> = users.iter().filter_map(|u| u.id.clone()).collect();
    for s in client
        .get_users_statuses_by_ids()
        .body(ids)
        .send()
        .await?
        .into_inner()
    {
        println!("{:?} {:?}", s.user_id, s.status);
    }
    Ok(())
}
