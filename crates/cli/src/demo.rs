//! `agentstatus demo`: every registered vendor's fake server (or `--vendor`'s), in-process, and
//! the same presence calls on each of them: as `$ agentstatus ...` steps for people, or as JSON
//! lines (one object per step) under `--output json`.

use std::io::Write;

use agentstatus::{AgentPresence, Availability, ErrorKind, ListFilter, Presence, Vendor};
use agentstatus_cli::output::{Output, render, sanitize, write_json_line};
use serde_json::json;

type Error = Box<dyn std::error::Error>;

/// Where the steps go: text for people, or one JSON object per step.
struct Steps {
    output: Output,
    out: std::io::StdoutLock<'static>,
}

impl Steps {
    /// A step: its command line, and the agents it answered.
    fn agents(&mut self, v: Vendor, step: &str, agents: &[AgentPresence]) -> std::io::Result<()> {
        match self.output {
            Output::Table => {
                writeln!(self.out, "$ agentstatus --vendor {v} {step}")?;
                write!(self.out, "{}", render(v, agents, Output::Table, false))?;
                writeln!(self.out)
            }
            Output::Json => write_json_line(
                &mut self.out,
                &json!({"vendor": v, "step": format!("agentstatus --vendor {v} {step}"), "agents": agents}),
            ),
        }
    }

    /// A step that prints a line of text: its command line and the line.
    fn note(
        &mut self,
        v: Vendor,
        step: &str,
        key: &str,
        value: serde_json::Value,
        text: &str,
    ) -> std::io::Result<()> {
        match self.output {
            Output::Table => writeln!(self.out, "$ agentstatus --vendor {v} {step}\n{text}\n"),
            Output::Json => write_json_line(
                &mut self.out,
                &json!({"vendor": v, "step": format!("agentstatus --vendor {v} {step}"), key: value}),
            ),
        }
    }
}

/// The counts of a bulk set, in the words `apply` uses.
#[derive(Default, serde::Serialize)]
struct Counts {
    changed: usize,
    unchanged: usize,
    unsupported: usize,
    failed: usize,
}

async fn walk(
    s: &mut Steps,
    p: &dyn Presence,
    agent: &str,
    changes: &dyn Fn() -> u64,
) -> Result<(), Error> {
    let v = p.vendor();
    s.agents(v, "list", &p.list(&ListFilter::all()).await?)?;
    let own = p.get(agent).await?;
    let own_id = own.agent_id.clone();
    s.agents(v, &format!("get {agent}"), &[own])?;
    s.agents(
        v,
        &format!("set {agent} available"),
        &[p.set(agent, Availability::Available).await?],
    )?;
    let before = changes();
    p.set(agent, Availability::Available).await?;
    let n = changes() - before;
    s.note(
        v,
        &format!("set {agent} available    # again: idempotent"),
        "state_changes",
        json!(n),
        &format!("state changes at the server: {n} (unchanged)"),
    )?;
    let step = format!("set {agent} busy");
    match p.set(agent, Availability::Busy).await {
        Ok(a) => s.agents(v, &step, &[a])?,
        Err(e) => s.note(
            v,
            &step,
            "error",
            json!({"kind": e.kind().as_str(), "message": e.to_string()}),
            &format!("agentstatus: error: {}", sanitize(&e.to_string())),
        )?,
    }
    // a roster each vendor can apply: every listed agent this adapter may set (Libredesk sets
    // only the own agent), all in the vendor's last availability (not available). An agent is
    // probed with a set to the state it already has, which writes nothing.
    let wanted = *p.supported().last().unwrap_or(&Availability::Offline);
    let mut roster = vec![(agent.to_string(), wanted)];
    for a in p.list(&ListFilter::all()).await? {
        if a.agent_id == own_id {
            continue;
        }
        match p.set(&a.agent_id, a.availability).await {
            Err(e) if e.kind() == ErrorKind::Unsupported => {}
            _ => roster.push((a.agent_id, wanted)),
        }
    }
    for pass in ["", "    # again: nothing to write"] {
        let results = p
            .set_many(roster.clone(), &agentstatus::BulkOptions::new(4))
            .await;
        let mut counts = Counts::default();
        let mut failures = Vec::new();
        for r in &results {
            match &r.outcome {
                Ok(a) if a.changed == Some(false) => counts.unchanged += 1,
                Ok(_) => counts.changed += 1,
                Err(e) => {
                    if e.kind() == ErrorKind::Unsupported {
                        counts.unsupported += 1;
                    } else {
                        counts.failed += 1;
                    }
                    failures.push(sanitize(&format!("{}: {e}", r.agent)));
                }
            }
        }
        let mut text = format!(
            "{} changed, {} unchanged, {} unsupported, {} failed",
            counts.changed, counts.unchanged, counts.unsupported, counts.failed
        );
        for f in &failures {
            text.push_str(&format!("\n  {f}"));
        }
        s.note(
            v,
            &format!(
                "apply roster.csv    # {} agent{}, all {wanted}{pass}",
                roster.len(),
                if roster.len() == 1 { "" } else { "s" }
            ),
            "summary",
            json!(counts),
            &text,
        )?;
    }
    s.agents(
        v,
        "list --available",
        &p.list(&ListFilter::available()).await?,
    )?;
    Ok(())
}

/// Every registered vendor's demo, or only `vendor`'s.
pub async fn run(vendor: Option<&str>, output: Output) -> Result<(), Error> {
    let registry: Vec<_> = agentstatus::registry()
        .into_iter()
        .filter(|e| vendor.is_none_or(|v| v == e.name))
        .collect();
    let mut s = Steps {
        output,
        out: std::io::stdout().lock(),
    };
    let table = output == Output::Table;
    if table {
        let titles: Vec<&str> = registry.iter().map(|e| e.title).collect();
        writeln!(
            s.out,
            "Starting fake {} servers on 127.0.0.1 ...",
            titles.join(", ")
        )?;
    }
    for entry in &registry {
        let Some(start) = entry.demo else {
            if table {
                writeln!(s.out, "\n== {}: no fake in this build ==", entry.title)?;
            }
            continue;
        };
        let demo = start().await?;
        if table {
            writeln!(s.out, "\n== {} ==", entry.title)?;
        }
        walk(&mut s, demo.presence.as_ref(), &demo.agent, &|| {
            (demo.changes)()
        })
        .await?;
    }
    if table {
        writeln!(
            s.out,
            "The same calls on every vendor. Point `agentstatus` at a fake server with `agentstatus fake`, at a real one with a config file (`agentstatus init`)."
        )?;
    }
    s.out.flush()?;
    Ok(())
}
