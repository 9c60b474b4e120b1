//! The presence API against Rocket.Chat's fake server: build the vendor's presence client, set,
//! list, and branch on an error's kind. `cargo run -p agentstatus --features fakes --example presence`
use agentstatus::rocketchat::fake::{Agent, Fault, RocketChat};
use agentstatus::rocketchat::presence::RocketChatPresence;
use agentstatus::rocketchat::{Client, Credentials};
use agentstatus::{Availability, ErrorKind, ListFilter, Presence};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // a stateful fake of the vendor's server on 127.0.0.1 (feature `fakes`; a vendor crate's `fake`)
    let fake = RocketChat::start().await?;
    fake.add_user("mgr", "mgr-token", true);
    fake.add_agent(Agent::new("a1", "Ada Lovelace", "not-available"));

    // the vendor's presence client, built as against the real server
    let credentials = Credentials::new("mgr", "mgr-token".to_string().into());
    let client = Client::with_credentials(&fake.url(), credentials)?;
    let presence = RocketChatPresence::new(client);

    presence.set("a1", Availability::Available).await?; // idempotent on every vendor
    for agent in presence.list(&ListFilter::available()).await? {
        println!(
            "{} {:?} is {}",
            agent.agent_id, agent.name, agent.availability
        );
    }

    // a dropped connection is retried: reads are idempotent
    fake.faults().push(Fault::DropConnection);
    assert_eq!(
        presence.get("a1").await?.availability,
        Availability::Available
    );

    // one error type, with a kind to branch on (and the vendor's own words in its message)
    match presence.set("a1", Availability::Busy).await {
        Ok(_) => unreachable!("Rocket.Chat has no busy state"),
        Err(e) => match e.kind() {
            ErrorKind::Unsupported => println!("not on this vendor: {e}"),
            ErrorKind::Auth => println!("check the token: {e}"),
            ErrorKind::Network | ErrorKind::RateLimited => println!("try again later: {e}"),
            _ => return Err(e.into()),
        },
    }
    Ok(())
}
