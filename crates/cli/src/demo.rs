//! `agentstatus demo`: the three fake vendor servers, in-process, and the same presence calls
//! on each of them.

use agentstatus_fakes::{engage_digital as ed, libredesk as ld, rocketchat as rc};
use agentstatus_presence::engage_digital::EngageDigitalPresence;
use agentstatus_presence::libredesk::LibredeskPresence;
use agentstatus_presence::rocketchat::RocketChatPresence;
use agentstatus_presence::{Availability, ListFilter, Presence};

use agentstatus_cli::output::{Output, render};

type Error = Box<dyn std::error::Error>;

async fn walk(p: &dyn Presence, agent: &str, changes: &dyn Fn() -> u64) -> Result<(), Error> {
    let v = p.vendor();
    println!("$ agentstatus --vendor {v} list");
    print!(
        "{}",
        render(v, &p.list(&ListFilter::all()).await?, Output::Table, false)
    );
    println!("\n$ agentstatus --vendor {v} get {agent}");
    print!(
        "{}",
        render(v, &[p.get(agent).await?], Output::Table, false)
    );
    println!("\n$ agentstatus --vendor {v} set {agent} available");
    print!(
        "{}",
        render(
            v,
            &[p.set(agent, Availability::Available).await?],
            Output::Table,
            false
        )
    );
    let before = changes();
    println!("\n$ agentstatus --vendor {v} set {agent} available    # again: idempotent");
    p.set(agent, Availability::Available).await?;
    println!(
        "state changes at the server: {} (unchanged)",
        changes() - before
    );
    println!("\n$ agentstatus --vendor {v} set {agent} busy");
    match p.set(agent, Availability::Busy).await {
        Ok(_) => println!("(set)"),
        Err(e) => println!("agentstatus: error: {e}"),
    }
    println!("\n$ agentstatus --vendor {v} list --available");
    print!(
        "{}",
        render(
            v,
            &p.list(&ListFilter::available()).await?,
            Output::Table,
            false
        )
    );
    Ok(())
}

pub async fn run() -> Result<(), Error> {
    println!("Starting fake Rocket.Chat, Libredesk and Engage Digital servers on 127.0.0.1 ...\n");

    let rocketchat = rc::RocketChat::start().await?;
    rocketchat.add_user("demo-manager", "demo-token", true);
    rocketchat.add_agent(rc::Agent::new("ada", "Ada Lovelace", "not-available"));
    rocketchat.add_agent(rc::Agent::new("grace", "Grace Hopper", "available"));
    let client = agentstatus_rocketchat::Client::with_credentials(
        &rocketchat.url(),
        agentstatus_rocketchat::Credentials::new("demo-manager", "demo-token".to_string().into()),
    )?;
    println!("== Rocket.Chat at {} ==", rocketchat.url());
    walk(&RocketChatPresence::new(client), "ada", &|| {
        rocketchat.state_changes()
    })
    .await?;

    let libredesk = ld::Libredesk::start().await?;
    libredesk.add_agent(ld::Agent::new(
        1,
        "Ada Lovelace",
        "offline",
        "demo-key",
        "demo-secret",
    ));
    libredesk.add_agent(ld::Agent::new(
        2,
        "Grace Hopper",
        "online",
        "grace-key",
        "grace-secret",
    ));
    let client = agentstatus_libredesk::Client::with_credentials(
        &libredesk.url(),
        agentstatus_libredesk::Credentials::basic("demo-key", "demo-secret".to_string().into()),
    )?;
    println!("\n== Libredesk at {} ==", libredesk.url());
    walk(&LibredeskPresence::new(client), "me", &|| {
        libredesk.state_changes()
    })
    .await?;

    let engage = ed::EngageDigital::start().await?;
    engage.add_supervisor_token("demo-token");
    engage.add_agent(ed::Agent::new(
        "ada",
        &[("email", "Email"), ("chat", "Chat")],
        "away",
    ));
    engage.add_agent(ed::Agent::new("grace", &[("email", "Email")], "available"));
    let client = agentstatus_engage_digital::Client::with_token(
        &engage.url(),
        "demo-token".to_string().into(),
    )?;
    println!("\n== Engage Digital at {} ==", engage.url());
    walk(&EngageDigitalPresence::new(client), "ada", &|| {
        engage.state_changes()
    })
    .await?;

    println!(
        "\nThe same calls on every vendor. Point `agentstatus` at a real server with a config file: see `agentstatus --help`."
    );
    Ok(())
}
