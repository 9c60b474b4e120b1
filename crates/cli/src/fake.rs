//! `agentstatus fake`: one or every registered vendor's fake server as a process, seeded from a
//! roster (or a default cast), on chosen or free ports of 127.0.0.1, with the config file that
//! points the command at it, faults from the command line, until SIGINT or SIGTERM.
//!
//! The fakes are the vendor crates' own (`agentstatus::<vendor>::fake`): each listens on a free
//! port; a chosen `--port` is a plain TCP relay in front of it, so faults, the request log and
//! the state are the fake's. How a vendor's fake is seeded (how it holds each availability,
//! numeric ids, credentials per agent, channels) is the vendor crate's own, next to its fake
//! (`agentstatus_fakes::seed::Seeded`), found through the registry (`agentstatus::seeder`):
//! nothing here names a vendor. A test checks that every registered vendor's fake holds the
//! default cast.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use agentstatus::Availability;
use agentstatus::registry::Entry;
use agentstatus_cli::output::{Output, write_json_line};
use agentstatus_fakes::seed::{self, Seeder};
use agentstatus_fakes::{FakeServer, Fault};

use crate::roster;

/// `agentstatus fake`'s own arguments (`--vendor` and `--output` are the command's).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Seed every fake with these agents: a roster as `apply` reads it (CSV
    /// `agent,availability`, an optional header, or JSON lines). Without it, a default cast of
    /// three agents. A vendor whose agent ids are numbers takes numbers (it says so); the first
    /// agent is the one the printed credentials belong to (`me`).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Listen on this port of 127.0.0.1 (default: a free port). With several vendors, give
    /// `VENDOR=PORT`, once per vendor to pin.
    #[arg(long, value_name = "[VENDOR=]PORT")]
    pub port: Vec<String>,
    /// Write the config file here (refused if the file exists, unless --force). Default: a
    /// temporary file, removed when the fake stops.
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
    /// Overwrite the --write-config file if it exists.
    #[arg(long)]
    pub force: bool,
    /// A fault for the next request to each fake, in order, repeatable: an HTTP status
    /// (`503`, `500`, `404`...), `429` or `429:SECS` (rate limited, with Retry-After), `drop`
    /// (close the connection unanswered), `drop-after` (handle the request, then close),
    /// `malformed` (handle it, answer a body that is not JSON), `delay:MS`.
    #[arg(long, value_name = "FAULT", value_parser = parse_fault)]
    pub fault: Vec<Fault>,
    /// Delay every request by MS milliseconds.
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub delay: Option<u64>,
}

/// The examples of `agentstatus fake --help`.
pub const EXAMPLES: &str = "Examples:
  agentstatus fake                                   # every vendor, free ports, a default cast
  agentstatus fake --vendor chatwoot --port 3000 --write-config fake.toml
  agentstatus fake --vendor rocketchat --seed roster.csv --fault 503 --fault 429
  agentstatus --output json fake --vendor libredesk  # one JSON line per vendor when ready

Then, in another shell, with the printed variables exported:
  agentstatus --config fake.toml list
  agentstatus --config fake.toml apply roster.csv

Ready: one line per vendor on stdout (under --output json: {\"event\":\"ready\",\"vendor\",\"url\",\"config\",\"env\",...}),
printed once every fake listens. Stops on SIGINT (Ctrl-C) or SIGTERM.

While it runs, standard input (unless a terminal) takes one command per line, each answered with
a line (JSON under --output json): `fault [VENDOR] FAULT`, `delay [VENDOR] MS`, `stop`.";

/// `--fault`'s values.
fn parse_fault(s: &str) -> Result<Fault, String> {
    let bad = || {
        format!(
            "unknown fault {s:?}: expected an HTTP status (503), 429 or 429:SECS, drop, drop-after, malformed or delay:MS"
        )
    };
    let number = |n: &str| n.parse::<u64>().map_err(|_| bad());
    Ok(match s {
        "drop" => Fault::DropConnection,
        "drop-after" => Fault::DropAfterHandling,
        "malformed" => Fault::MalformedJson,
        "429" => Fault::RateLimited {
            retry_after_secs: 0,
        },
        _ => {
            if let Some(secs) = s.strip_prefix("429:") {
                Fault::RateLimited {
                    retry_after_secs: number(secs)?.min(86_400),
                }
            } else if let Some(ms) = s.strip_prefix("delay:") {
                Fault::Delay(Duration::from_millis(number(ms)?.min(600_000)))
            } else {
                match s.parse::<u16>() {
                    Ok(code @ 400..=599) => Fault::Status(code),
                    _ => return Err(bad()),
                }
            }
        }
    })
}

/// One agent to seed.
#[derive(Debug, Clone)]
struct Seed {
    id: String,
    name: String,
    availability: Availability,
    /// Where it comes from: `roster.csv:3`, or `the default cast`.
    at: String,
}

/// A vendor's fake, as its server.
type Server = dyn std::ops::Deref<Target = FakeServer> + Send + Sync;

/// A fake, running.
struct Running {
    server: std::sync::Arc<Server>,
    /// The vendor's settings in its config section (besides `base_url`), as TOML values.
    keys: Vec<(&'static str, String)>,
}

/// Start a vendor's fake with `seeds` (checked already), accepting `secrets` (key -> value).
async fn start(
    seeder: &Seeder,
    seeds: &[Seed],
    secrets: BTreeMap<&'static str, String>,
) -> Result<Running, String> {
    let agents = seeds
        .iter()
        .filter_map(|s| seeder.seed(&s.id, &s.name, s.availability))
        .collect();
    let running = seeder.start(agents, secrets).await?;
    let keys = running
        .settings
        .iter()
        .map(|(key, value)| {
            toml::Value::try_from(value)
                .map(|v| (*key, v.to_string()))
                .map_err(|e| format!("setting `{key}` = {value}: not a TOML value: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Running {
        server: running.server,
        keys,
    })
}

fn number(s: &Seed) -> Result<i64, String> {
    s.id.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        format!(
            "{}: agent ids are positive numbers here, not {:?}",
            s.at, s.id
        )
    })
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The default cast of the vendor's fake ([`Seeder::default_cast`]).
fn default_cast(seeder: &Seeder) -> Vec<Seed> {
    seeder
        .default_cast()
        .into_iter()
        .map(|s| Seed {
            id: s.id,
            name: s.name,
            availability: s.availability,
            at: "the default cast".into(),
        })
        .collect()
}

/// The seeds for `entry`: the roster's agents, checked against what the vendor's fake can hold.
fn seeds(
    entry: &Entry,
    seeder: &Seeder,
    roster: Option<&[roster::Entry]>,
    name: &str,
) -> Result<Vec<Seed>, String> {
    let Some(roster) = roster else {
        return Ok(default_cast(seeder));
    };
    let holds: Vec<&str> = seeder.holds().map(Availability::as_str).collect();
    let mut out = Vec::with_capacity(roster.len());
    for r in roster {
        let at = format!("{name}:{}", r.line);
        if (seeder.status)(r.availability).is_none() {
            return Err(format!(
                "{at}: {} cannot hold an agent {} (it has {})",
                entry.name,
                r.availability,
                holds.join(", ")
            ));
        }
        let seed = Seed {
            id: r.agent.clone(),
            name: r.agent.clone(),
            availability: r.availability,
            at,
        };
        if seeder.numeric_ids {
            number(&seed).map_err(|e| format!("{e} ({})", entry.name))?;
        }
        out.push(seed);
    }
    if out.is_empty() {
        return Err(format!("{name}: no agents to seed"));
    }
    Ok(out)
}

/// The value the fake accepts for each of `entry`'s secrets ([`seed::fake_secrets`]).
fn secrets(entry: &Entry) -> Vec<(&'static str, &'static str, String)> {
    seed::fake_secrets(entry)
}

/// `--port`: vendor -> port.
fn ports(
    specs: &[String],
    vendors: &[&'static str],
) -> Result<BTreeMap<&'static str, u16>, String> {
    let mut out = BTreeMap::new();
    for spec in specs {
        let (vendor, port) = match spec.split_once('=') {
            Some((v, p)) => {
                let Some(v) = vendors.iter().find(|n| **n == v) else {
                    return Err(format!(
                        "--port {spec}: {v:?} is not a vendor being started ({})",
                        vendors.join(", ")
                    ));
                };
                (*v, p)
            }
            None if vendors.len() == 1 => (vendors[0], spec.as_str()),
            None => {
                return Err(format!(
                    "--port {spec}: several vendors start ({}): give VENDOR=PORT, or pick one with --vendor",
                    vendors.join(", ")
                ));
            }
        };
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("--port {spec}: not a port (1 to 65535)"))?;
        if out.insert(vendor, port).is_some() {
            return Err(format!("--port {spec}: {vendor} has a port already"));
        }
    }
    Ok(out)
}

/// Relay every connection to `port` of 127.0.0.1 to the fake at `to`.
async fn relay(port: u16, to: std::net::SocketAddr) -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("--port {port}: cannot listen on 127.0.0.1:{port}: {e}"))?;
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                // out of file descriptors, say: not a busy loop
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok(format!("http://127.0.0.1:{port}"))
}

/// A vendor's section: its entry, its URL, its settings as TOML values.
type Section<'a> = (&'a Entry, String, Vec<(&'static str, String)>);

/// The config file's text: `vendor` chooses the first, one section per vendor.
fn config_text(sections: &[Section<'_>]) -> String {
    let mut text = String::from(
        "# written by `agentstatus fake`: it points the command at the fakes it started\n",
    );
    if let Some((first, ..)) = sections.first() {
        text.push_str(&format!("vendor = {}", toml_string(first.name)));
        if sections.len() > 1 {
            text.push_str("    # the others: --vendor NAME");
        }
        text.push('\n');
    }
    for (entry, url, keys) in sections {
        text.push_str(&format!(
            "\n[{}]    # {}\nbase_url = {}\n",
            entry.name,
            entry.title,
            toml_string(url)
        ));
        for (key, value) in keys {
            text.push_str(&format!("{key} = {value}\n"));
        }
        for (key, env, value) in secrets(entry) {
            text.push_str(&format!(
                "# {key}: from ${env}; the fake accepts {value:?}\n"
            ));
        }
    }
    text
}

/// Write `text` to `path`, refusing an existing file unless `force`.
pub fn write_new(path: &Path, text: &str, force: bool) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{}: the file exists; not overwritten (--force to overwrite it)",
                path.display()
            )
        } else {
            format!("{}: cannot write the config file: {e}", path.display())
        }
    })?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("{}: cannot write the config file: {e}", path.display()))
}

/// A usage problem (exit 2) or a failure to start (exit 1).
pub enum Error {
    Usage(String),
    Failed(String),
}

/// Run the fakes until SIGINT or SIGTERM.
pub async fn run(args: Args, vendor: Option<&str>, output: Output) -> Result<(), Error> {
    let registry = agentstatus::registry();
    let chosen: Vec<&Entry> = registry
        .iter()
        .filter(|e| vendor.is_none_or(|v| v == e.name))
        .collect();
    let mut plan = Vec::new();
    for entry in &chosen {
        match agentstatus::seeder(entry.name) {
            Some(s) => plan.push((*entry, s)),
            None if vendor.is_some() => {
                return Err(Error::Usage(format!(
                    "{}: this build has no fake for it (build with its feature: --features {})",
                    entry.name, entry.name
                )));
            }
            None => eprintln!(
                "agentstatus fake: {}: no fake in this build, skipped",
                entry.name
            ),
        }
    }
    if plan.is_empty() {
        return Err(Error::Usage("no vendor with a fake in this build".into()));
    }
    let names: Vec<&'static str> = plan.iter().map(|(e, _)| e.name).collect();
    let ports = ports(&args.port, &names).map_err(Error::Usage)?;
    let roster = match &args.seed {
        None => None,
        Some(path) => {
            let (text, name) = crate::read_roster(path).map_err(Error::Usage)?;
            Some((roster::parse(&text, &name).map_err(Error::Usage)?, name))
        }
    };
    let mut running = Vec::new();
    for (entry, seeder) in &plan {
        let seeds = seeds(
            entry,
            seeder,
            roster.as_ref().map(|(r, _)| r.as_slice()),
            roster.as_ref().map_or("", |(_, n)| n.as_str()),
        )
        .map_err(Error::Usage)?;
        let secrets: BTreeMap<&'static str, String> =
            secrets(entry).into_iter().map(|(k, _, v)| (k, v)).collect();
        let fake = start(seeder, &seeds, secrets)
            .await
            .map_err(|e| Error::Failed(format!("{}: the fake did not start: {e}", entry.name)))?;
        let server: &FakeServer = &fake.server;
        for f in &args.fault {
            server.faults().push(f.clone());
        }
        if let Some(ms) = args.delay {
            server.faults().set_delay(Duration::from_millis(ms));
        }
        let url = match ports.get(entry.name) {
            Some(port) => relay(*port, server.addr()).await.map_err(Error::Failed)?,
            None => server.url(),
        };
        running.push((*entry, url, fake, seeds.len()));
    }
    let sections: Vec<_> = running
        .iter()
        .map(|(e, url, fake, _)| (*e, url.clone(), fake.keys.clone()))
        .collect();
    let text = config_text(&sections);
    let (path, temporary) = match &args.write_config {
        Some(p) => {
            write_new(p, &text, args.force).map_err(Error::Usage)?;
            (p.clone(), None)
        }
        None => {
            // a directory of its own, its name unpredictable and only this user's (the
            // config names the fakes' secrets): nobody else can put a link where it is written
            let dir = tempfile::Builder::new()
                .prefix("agentstatus-fake-")
                .tempdir()
                .map_err(|e| Error::Failed(format!("cannot create a temporary directory: {e}")))?;
            let p = dir.path().join("agentstatus.toml");
            write_new(&p, &text, true).map_err(Error::Failed)?;
            (p, Some(dir))
        }
    };
    // an absolute path: the reader may run elsewhere
    let path = std::path::absolute(&path).unwrap_or(path);
    let result = announce(&running, &path, &text, output)
        .map_err(|e| Error::Failed(format!("cannot write the output: {e}")));
    if result.is_ok() {
        let servers: Vec<(&'static str, std::sync::Arc<Server>)> = running
            .iter()
            .map(|(e, _, r, _)| (e.name, r.server.clone()))
            .collect();
        tokio::select! {
            () = stopped() => {}
            () = control(&servers, output) => {}
            () = log_requests(&servers, output) => {}
        }
        if output == Output::Json {
            let mut out = std::io::stdout().lock();
            let _ = write_json_line(&mut out, &serde_json::json!({"event": "stopped"}));
            let _ = out.flush();
        } else {
            eprintln!("agentstatus fake: stopped");
        }
    }
    // removed (also when the ready lines could not be written)
    drop(temporary);
    drop(running);
    result
}

/// The ready lines: one per vendor, once every fake listens.
fn announce(
    running: &[(&Entry, String, Running, usize)],
    path: &Path,
    text: &str,
    output: Output,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for (entry, url, _, agents) in running {
        let env: BTreeMap<&str, String> = secrets(entry)
            .into_iter()
            .map(|(_, env, v)| (env, v))
            .collect();
        match output {
            Output::Json => write_json_line(
                &mut out,
                &serde_json::json!({
                    "event": "ready",
                    "vendor": entry.name,
                    "title": entry.title,
                    "url": url,
                    "config": path,
                    "env": env,
                    "agents": agents,
                    "args": ["--config", path, "--vendor", entry.name],
                }),
            )?,
            Output::Table => {
                let exports: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
                writeln!(
                    out,
                    "{} ready at {url} ({agents} agents): {} agentstatus --config {} --vendor {} list",
                    entry.name,
                    exports.join(" "),
                    path.display(),
                    entry.name
                )?;
            }
        }
    }
    if output == Output::Table {
        writeln!(out, "\n# {}\n{text}", path.display())?;
        eprintln!("agentstatus fake: running; stop with Ctrl-C (SIGINT) or SIGTERM");
    }
    out.flush()
}

/// A command on standard input: `fault [VENDOR] FAULT`, `delay [VENDOR] MS`, `stop`.
#[derive(Debug, PartialEq)]
enum Control {
    Fault(Option<String>, Fault),
    Delay(Option<String>, Duration),
    Stop,
}

fn parse_control(line: &str, vendors: &[&str]) -> Result<Control, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let vendor = |w: &str| -> Result<String, String> {
        vendors
            .iter()
            .find(|v| **v == w)
            .map(|v| v.to_string())
            .ok_or_else(|| format!("{w:?} is not a running fake ({})", vendors.join(", ")))
    };
    let delay = |ms: &str| -> Result<Duration, String> {
        ms.parse::<u64>()
            .ok()
            .filter(|ms| *ms <= 600_000)
            .map(Duration::from_millis)
            .ok_or_else(|| format!("delay {ms:?}: milliseconds, 0 to 600000"))
    };
    match words.as_slice() {
        ["fault", f] => Ok(Control::Fault(None, parse_fault(f)?)),
        ["fault", v, f] => Ok(Control::Fault(Some(vendor(v)?), parse_fault(f)?)),
        ["delay", ms] => Ok(Control::Delay(None, delay(ms)?)),
        ["delay", v, ms] => Ok(Control::Delay(Some(vendor(v)?), delay(ms)?)),
        ["stop"] => Ok(Control::Stop),
        _ => Err(format!(
            "unknown command `{}`: expected `fault [VENDOR] FAULT`, `delay [VENDOR] MS` or `stop`",
            agentstatus::escape_controls(line)
        )),
    }
}

/// Report an event: a JSON line on stdout under `--output json`, else a line on stderr.
fn event(output: Output, value: serde_json::Value, text: &str) {
    if output == Output::Json {
        let mut out = std::io::stdout().lock();
        let _ = write_json_line(&mut out, &value).and_then(|()| out.flush());
    } else {
        eprintln!("agentstatus fake: {}", agentstatus::escape_controls(text));
    }
}

/// Commands from standard input, one per line, until `stop` (a terminal's input is not read:
/// a fake started in the background would be stopped by the shell for reading it).
async fn control(servers: &[(&'static str, std::sync::Arc<Server>)], output: Output) {
    use std::io::IsTerminal as _;
    if std::io::stdin().is_terminal() {
        return std::future::pending().await;
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let vendors: Vec<&str> = servers.iter().map(|(v, _)| *v).collect();
    while let Some(line) = rx.recv().await {
        if line.trim().is_empty() {
            continue;
        }
        let command = match parse_control(&line, &vendors) {
            Ok(c) => c,
            Err(e) => {
                event(
                    output,
                    serde_json::json!({"event": "error", "message": e}),
                    &e,
                );
                continue;
            }
        };
        let chosen = |v: &Option<String>| {
            servers
                .iter()
                .filter(|(name, _)| v.as_deref().is_none_or(|v| v == *name))
                .map(|(name, s)| (*name, &***s))
                .collect::<Vec<_>>()
        };
        match command {
            Control::Stop => return,
            Control::Fault(v, fault) => {
                for (name, server) in chosen(&v) {
                    server.faults().push(fault.clone());
                    let what = format!("{fault:?}");
                    event(
                        output,
                        serde_json::json!({"event": "fault", "vendor": name, "fault": what}),
                        &format!("{name}: the next request gets {what}"),
                    );
                }
            }
            Control::Delay(v, delay) => {
                for (name, server) in chosen(&v) {
                    server.faults().set_delay(delay);
                    let ms = delay.as_millis() as u64;
                    event(
                        output,
                        serde_json::json!({"event": "delay", "vendor": name, "ms": ms}),
                        &format!("{name}: every request delayed {ms} ms"),
                    );
                }
            }
        }
    }
    // standard input closed: run until a signal
    std::future::pending().await
}

/// For people (table output): each request the fakes receive, on stderr, as it comes.
async fn log_requests(servers: &[(&'static str, std::sync::Arc<Server>)], output: Output) {
    if output != Output::Table {
        return std::future::pending().await;
    }
    let mut seen = vec![0; servers.len()];
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        for ((name, server), seen) in servers.iter().zip(seen.iter_mut()) {
            let requests = server.faults().requests();
            for (method, path) in requests.iter().skip(*seen) {
                eprintln!("{name}: {method} {}", agentstatus::escape_controls(path));
            }
            *seen = requests.len();
        }
    }
}

/// Until SIGINT or SIGTERM.
pub(crate) async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_vendor_has_a_fake() {
        for entry in agentstatus::registry() {
            let seeder = agentstatus::seeder(entry.name)
                .unwrap_or_else(|| panic!("{}: no seeder", entry.name));
            // the default cast is something the fake can hold
            let cast = default_cast(&seeder);
            assert_eq!(cast.len(), 3);
            assert!(
                cast.iter()
                    .all(|s| (seeder.status)(s.availability).is_some())
            );
            assert!(
                cast.iter()
                    .any(|s| s.availability == Availability::Available)
            );
            assert!(
                cast.iter()
                    .any(|s| s.availability != Availability::Available)
            );
            assert!(!secrets(&entry).is_empty(), "{}", entry.name);
        }
    }

    #[test]
    fn faults_parse_and_bad_ones_say_what_is_expected() {
        assert_eq!(parse_fault("503"), Ok(Fault::Status(503)));
        assert_eq!(
            parse_fault("429:7"),
            Ok(Fault::RateLimited {
                retry_after_secs: 7
            })
        );
        assert_eq!(parse_fault("drop"), Ok(Fault::DropConnection));
        assert_eq!(
            parse_fault("delay:250"),
            Ok(Fault::Delay(Duration::from_millis(250)))
        );
        for bad in ["200", "99999", "slow", "429:x", "delay:", ""] {
            let e = parse_fault(bad).unwrap_err();
            assert!(e.contains("expected an HTTP status"), "{bad}: {e}");
        }
    }

    #[test]
    fn control_commands_parse_and_bad_ones_say_what_is_expected() {
        let vendors = ["rocketchat", "chatwoot"];
        assert_eq!(
            parse_control("fault 503", &vendors),
            Ok(Control::Fault(None, Fault::Status(503)))
        );
        assert_eq!(
            parse_control("  fault chatwoot  drop ", &vendors),
            Ok(Control::Fault(
                Some("chatwoot".into()),
                Fault::DropConnection
            ))
        );
        assert_eq!(
            parse_control("delay 20", &vendors),
            Ok(Control::Delay(None, Duration::from_millis(20)))
        );
        assert_eq!(parse_control("stop", &vendors), Ok(Control::Stop));
        for (bad, says) in [
            ("fault zendesk 503", "not a running fake"),
            ("fault 200", "unknown fault"),
            ("delay soon", "milliseconds"),
            ("reboot\u{1b}[2J", "unknown command `reboot\\u{1b}[2J`"),
        ] {
            let e = parse_control(bad, &vendors).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn ports_name_their_vendor_when_several_start() {
        let one = ports(&["8080".into()], &["chatwoot"]).unwrap();
        assert_eq!(one.get("chatwoot"), Some(&8080));
        let two = ["rocketchat", "chatwoot"];
        assert!(
            ports(&["8080".into()], &two)
                .unwrap_err()
                .contains("VENDOR=PORT")
        );
        assert_eq!(
            ports(&["chatwoot=9".into()], &two).unwrap().get("chatwoot"),
            Some(&9)
        );
        assert!(
            ports(&["zendesk=9".into()], &two)
                .unwrap_err()
                .contains("not a vendor")
        );
        assert!(
            ports(&["chatwoot=0".into()], &two)
                .unwrap_err()
                .contains("not a port")
        );
    }
}
