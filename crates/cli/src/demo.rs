//! `agentstatus demo`: every registered vendor's fake server, in-process, and the same presence
//! calls on each of them.

use agentstatus::{Availability, ListFilter, Presence};

use agentstatus_cli::output::{Output, render, sanitize};

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
        Err(e) => println!("agentstatus: error: {}", sanitize(&e.to_string())),
    }
    // a roster for every listed agent: one read, one write per agent that changes
    let wanted = p.supported()[0];
    let roster: Vec<(String, Availability)> = p
        .list(&ListFilter::all())
        .await?
        .into_iter()
        .map(|a| (a.agent_id, wanted))
        .collect();
    println!(
        "\n$ agentstatus --vendor {v} apply roster.csv    # {} agents, all {wanted}",
        roster.len()
    );
    for pass in ["", "    # again: nothing to write"] {
        let results = p
            .set_many(roster.clone(), &agentstatus::BulkOptions::new(4))
            .await;
        let changed = results
            .iter()
            .filter(|r| matches!(&r.outcome, Ok(a) if a.changed != Some(false)))
            .count();
        let failed: Vec<String> = results
            .iter()
            .filter_map(|r| {
                r.outcome
                    .as_ref()
                    .err()
                    .map(|e| sanitize(&format!("{}: {e}", r.agent)))
            })
            .collect();
        println!(
            "{} changed, {} unchanged, {} failed{pass}",
            changed,
            results.len() - changed - failed.len(),
            failed.len()
        );
        for f in failed {
            println!("  {f}");
        }
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
    let registry = agentstatus::registry();
    let titles: Vec<&str> = registry.iter().map(|e| e.title).collect();
    println!(
        "Starting fake {} servers on 127.0.0.1 ...\n",
        titles.join(", ")
    );
    for (i, entry) in registry.iter().enumerate() {
        let Some(start) = entry.demo else {
            println!("== {}: no fake in this build ==", entry.title);
            continue;
        };
        let demo = start().await?;
        println!("{}== {} ==", if i > 0 { "\n" } else { "" }, entry.title);
        walk(demo.presence.as_ref(), &demo.agent, &|| (demo.changes)()).await?;
    }
    println!(
        "\nThe same calls on every vendor. Point `agentstatus` at a real server with a config file: see `agentstatus --help`."
    );
    Ok(())
}
