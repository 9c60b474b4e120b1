//! `agentstatus demo --sync`: three desks of three vendors (their fakes, in-process), `sync`
//! between them (the engine of `agentstatus sync`, its state in a temporary SQLite file), and a
//! person's change on one desk arriving in the others, as text or as JSON lines.
//!
//! The person is Ada, the fakes' first agent (the one their credentials belong to), available
//! everywhere at the start. Her change "by hand" is made through the desk's API by a client of
//! its own (as her browser would), not by sync: sync recognises it as a human change, decides,
//! and writes the other desks, each in the state it can hold (declared substitutes, printed).

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentstatus::registry::{Entry, SettingKind, Settings};
use agentstatus::{Availability, ClientConfig, Presence};
use agentstatus_cli::output::{Output, write_json_line};
use agentstatus_fakes::seed::{Running, Seeder, fake_secrets};
use agentstatus_sync::{Desk, Engine, Options, People, Store};
use serde_json::json;

type Error = Box<dyn std::error::Error>;

/// Vendors the demo prefers, in this order; any other vendor with a fake comes after them.
/// Libredesk is left out: its API sets only the credentials' own agent.
const PREFERRED: &[&str] = &["chatwoot", "rocketchat", "engage-digital", "mattermost"];

/// How often sync reads each desk in the demo (a real desk: `interval` in sync.toml, 15 s).
const INTERVAL: Duration = Duration::from_millis(200);

/// How long a change may take to arrive before the demo gives up.
const PATIENCE: Duration = Duration::from_secs(20);

struct DemoDesk {
    entry: Entry,
    /// Kept running while the demo lives.
    running: Running,
    /// Ada's id there.
    ada: String,
    /// Sync's client.
    sync: Arc<dyn Presence>,
    /// Ada's own client (her "hand").
    hand: Box<dyn Presence>,
    substitute: Vec<(Availability, Availability)>,
}

/// The three desks: the preferred vendors compiled in, then any other with a fake.
fn choose() -> Vec<(Entry, Seeder)> {
    let registry = agentstatus::registry();
    let mut order: Vec<&Entry> = PREFERRED
        .iter()
        .filter_map(|name| registry.iter().find(|e| e.name == *name))
        .collect();
    for e in &registry {
        if !order.iter().any(|o| o.name == e.name) && e.name != "libredesk" {
            order.push(e);
        }
    }
    order
        .into_iter()
        .filter_map(|e| {
            let seeder = agentstatus::seeder(e.name)?;
            // it must hold available and something else
            let holds: Vec<Availability> = seeder.holds().collect();
            (holds.contains(&Availability::Available) && holds.len() > 1).then_some((*e, seeder))
        })
        .take(3)
        .collect()
}

/// What a desk holds for a state it cannot: offline, else away, else its first other state.
fn substitutes(holds: &[Availability]) -> Vec<(Availability, Availability)> {
    let instead = [
        Availability::Offline,
        Availability::Away,
        Availability::Busy,
    ]
    .into_iter()
    .find(|a| holds.contains(a))
    .unwrap_or(Availability::Available);
    Availability::ALL
        .into_iter()
        .filter(|a| !holds.contains(a))
        .map(|a| (a, instead))
        .collect()
}

async fn start(entry: Entry, seeder: Seeder) -> Result<DemoDesk, Error> {
    let id = (seeder.sample_id)(1, "ada");
    let ada = seeder
        .seed(&id, "Ada Lovelace", Availability::Available)
        .ok_or("the fake cannot hold available")?;
    let secrets = fake_secrets(&entry);
    let accepted = secrets.iter().map(|(k, _, v)| (*k, v.clone())).collect();
    let running = seeder
        .start(vec![ada], accepted)
        .await
        .map_err(|e| format!("{}: the fake did not start: {e}", entry.title))?;
    let connect = || -> Result<Box<dyn Presence>, Error> {
        let mut settings = Settings::new(running.server.url(), ClientConfig::default());
        for s in entry.settings {
            match s.kind {
                SettingKind::Text { default: Some(d) } | SettingKind::Choice { default: d, .. } => {
                    settings = settings.with_value(s.key, d);
                }
                _ => {}
            }
        }
        for (key, value) in &running.settings {
            let value = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            settings = settings.with_value(key, value);
        }
        for (key, _, value) in &secrets {
            settings = settings.with_secret(key, value.clone().into());
        }
        (entry.connect)(&settings)
            .map_err(|e| format!("{}: cannot connect: {e}", entry.title).into())
    };
    let sync: Arc<dyn Presence> = Arc::from(connect()?);
    let hand = connect()?;
    let holds: Vec<Availability> = seeder.holds().collect();
    Ok(DemoDesk {
        entry,
        running,
        ada: id,
        sync,
        hand,
        substitute: substitutes(&holds),
    })
}

struct Printer {
    output: Output,
    out: std::io::StdoutLock<'static>,
}

impl Printer {
    fn line(&mut self, text: &str, value: serde_json::Value) -> std::io::Result<()> {
        match self.output {
            Output::Table => writeln!(self.out, "{text}"),
            Output::Json => write_json_line(&mut self.out, &value),
        }
    }
}

/// What desk `d` should show once a change to `a` arrived.
fn held(d: &DemoDesk, a: Availability) -> Availability {
    d.substitute
        .iter()
        .find(|(from, _)| *from == a)
        .map_or(a, |(_, to)| *to)
}

/// Ada changes to `to` by hand on desk `from`; print each other desk as the change arrives.
async fn change(
    p: &mut Printer,
    desks: &[DemoDesk],
    from: usize,
    to: Availability,
) -> Result<(), Error> {
    let source = &desks[from];
    let v = source.entry.name;
    p.line(
        &format!("\n# Ada goes {to} by hand on {}", source.entry.title),
        json!({"step": "human", "desk": v, "agent": source.ada, "availability": to}),
    )?;
    let after = source.hand.set(&source.ada, to).await?;
    p.line(
        &format!("{v}/{}: {}", source.ada, after.availability),
        json!({"step": "changed", "desk": v, "agent": source.ada, "availability": after.availability}),
    )?;
    let start = Instant::now();
    let mut waiting: Vec<usize> = (0..desks.len()).filter(|d| *d != from).collect();
    while !waiting.is_empty() {
        if start.elapsed() > PATIENCE {
            let names: Vec<&str> = waiting.iter().map(|d| desks[*d].entry.name).collect();
            return Err(format!(
                "the change did not arrive in {} within {} s",
                names.join(", "),
                PATIENCE.as_secs()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        let mut still = Vec::new();
        for d in waiting {
            let desk = &desks[d];
            let want = held(desk, to);
            let now = desk.hand.get(&desk.ada).await?;
            if now.availability != want {
                still.push(d);
                continue;
            }
            let note = if want == to {
                String::new()
            } else {
                format!(" ({to} is held as {want} there)")
            };
            let ms = start.elapsed().as_millis();
            p.line(
                &format!(
                    "  -> arrived in {}: {}/{}: {want}{note}, after {:.1} s",
                    desk.entry.title,
                    desk.entry.name,
                    desk.ada,
                    ms as f64 / 1000.0
                ),
                json!({"step": "arrived", "desk": desk.entry.name, "agent": desk.ada, "availability": want, "wanted": to, "after_ms": ms}),
            )?;
        }
        waiting = still;
    }
    Ok(())
}

/// The demo; see the [module docs](self).
pub async fn run(output: Output) -> Result<(), Error> {
    let chosen = choose();
    if chosen.len() < 3 {
        return Err(format!(
            "demo --sync needs three vendors with fakes in this build (this one has {})",
            chosen.len()
        )
        .into());
    }
    let mut p = Printer {
        output,
        out: std::io::stdout().lock(),
    };
    let titles: Vec<&str> = chosen.iter().map(|(e, _)| e.title).collect();
    p.line(
        &format!(
            "Starting fake {} servers on 127.0.0.1, Ada Lovelace available on each ...",
            titles.join(", ")
        ),
        json!({"step": "start", "desks": chosen.iter().map(|(e, _)| e.name).collect::<Vec<_>>()}),
    )?;
    let mut desks = Vec::new();
    for (entry, seeder) in chosen {
        desks.push(start(entry, seeder).await?);
    }
    // the sync database in a directory of its own (an unpredictable name, only this user's),
    // removed when the demo ends, however it ends
    let dir = tempfile::Builder::new()
        .prefix("agentstatus-demo-sync-")
        .tempdir()?;
    run_sync(&mut p, &desks, dir.path()).await
}

async fn run_sync(p: &mut Printer, desks: &[DemoDesk], dir: &std::path::Path) -> Result<(), Error> {
    // the config this demo runs, as sync.toml and people.csv would say it
    let names: Vec<&str> = desks.iter().map(|d| d.entry.name).collect();
    let mut toml = format!(
        "database = \"sync.db\"\npeople = \"people.csv\"\ninterval = {}\n",
        INTERVAL.as_secs_f64()
    );
    for d in desks {
        toml.push_str(&format!(
            "\n[desks.{}]\nvendor = \"{}\"\nbase_url = \"{}\"\n",
            d.entry.name,
            d.entry.name,
            d.running.server.url()
        ));
        if !d.substitute.is_empty() {
            let subs: Vec<String> = d
                .substitute
                .iter()
                .map(|(a, b)| format!("{a} = \"{b}\""))
                .collect();
            toml.push_str(&format!("substitute = {{ {} }}\n", subs.join(", ")));
        }
    }
    let people_csv = format!(
        "person,{}\nada,{}\n",
        names.join(","),
        desks
            .iter()
            .map(|d| d.ada.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    if p.output == Output::Table {
        p.line(
            &format!(
                "\n$ cat sync.toml    # (the fakes' settings and secrets left out)\n{toml}\n$ cat people.csv\n{people_csv}\n$ agentstatus sync --config sync.toml &"
            ),
            json!(null),
        )?;
    } else {
        p.line(
            "",
            json!({"step": "sync", "config": toml, "people": people_csv}),
        )?;
    }
    let engine_desks: Vec<Desk> = desks
        .iter()
        .map(|d| {
            d.substitute.iter().fold(
                Desk::new(d.entry.name, d.sync.clone(), INTERVAL),
                |desk, (a, b)| desk.substitute(*a, *b),
            )
        })
        .collect();
    let people = People::from_rows(
        &names,
        vec![(
            "ada".to_string(),
            desks.iter().map(|d| Some(d.ada.clone())).collect(),
        )],
    )?;
    let store = Store::open(&dir.join("sync.db"))?;
    let mut engine = Engine::new(
        engine_desks,
        people,
        store,
        Options::default().settle(Duration::from_millis(20)),
    )?;
    let stats = engine.stats();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        engine
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    // sync has read every desk once (its baseline)
    let start = Instant::now();
    loop {
        let s = stats.snapshot();
        if s.desks.iter().all(|d| d.last_read.is_some()) {
            break;
        }
        if start.elapsed() > PATIENCE || task.is_finished() {
            return Err("sync did not read every desk".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // two reads of each desk, so the watchers' baselines are in place
    tokio::time::sleep(INTERVAL * 2).await;
    change(p, desks, 0, Availability::Busy).await?;
    tokio::time::sleep(INTERVAL * 2).await;
    change(p, desks, 1, Availability::Available).await?;
    tokio::time::sleep(INTERVAL * 2).await;
    let _ = stop.send(());
    let summary = task.await.map_err(|e| e.to_string())??;
    match p.output {
        Output::Table => {
            p.line(
                "\n# sync stopped (as on SIGTERM); its summary:",
                json!(null),
            )?;
            for line in summary.to_string().lines() {
                p.line(line, json!(null))?;
            }
            p.line(
                "\nEvery change decided once, written once to each other desk, its echo recognised. Run it on your desks: agentstatus sync --config sync.toml (see the README's sync section).",
                json!(null),
            )?;
        }
        Output::Json => p.line("", json!({"step": "summary", "summary": summary}))?,
    }
    p.out.flush()?;
    Ok(())
}
