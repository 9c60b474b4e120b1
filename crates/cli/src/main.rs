//! `agentstatus`: read and set support agents' availability on any registered vendor
//! (`agentstatus::registry()`), with one set of commands. See `agentstatus --help`.

mod apply;
mod config;
mod demo;
mod demo_sync;
mod fake;
mod init;
mod roster;
mod sync;
mod watch;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use agentstatus::{Availability, ErrorKind, ListFilter, PresenceError, SetRequest};
use agentstatus_cli::output::{self, Output, sanitize};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
use clap::{CommandFactory as _, Parser, Subcommand};

/// Exit codes, distinct per kind of failure.
pub mod exit {
    pub const OK: u8 = 0;
    /// Any other failure (a vendor error, a conflict, an answer we cannot read).
    pub const FAILURE: u8 = 1;
    /// Bad arguments, or a missing/invalid config file or secret; or what the config names is
    /// another process's (a watch's state file or notification URL another watch holds).
    pub const USAGE: u8 = 2;
    /// The vendor refused the credentials (401) or the permission (403).
    pub const AUTH: u8 = 3;
    pub const NOT_FOUND: u8 = 4;
    /// The vendor cannot represent the availability (or the operation).
    pub const UNSUPPORTED: u8 = 5;
    /// Could not reach the vendor (connect, timeout, dropped connection).
    pub const NETWORK: u8 = 6;
}

#[derive(Parser)]
#[command(
    name = "agentstatus",
    version,
    about = "Read and set support agents' availability on any supported helpdesk vendor",
    after_help = after_help()
)]
struct Cli {
    /// The config file (default: $AGENTSTATUS_CONFIG, else ./agentstatus.toml).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The vendor to use (overrides the config file's `vendor`; for `fake`, `demo` and `init`,
    /// only this vendor).
    #[arg(long, global = true, value_name = "NAME", value_parser = vendor_names())]
    vendor: Option<String>,
    /// Table for people; JSON for programs: one object for one agent, JSON lines (one object per
    /// line, as produced) for lists; errors then go to stderr as a JSON object too.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    output: Output,
    /// Seconds one get, set or list may take in all (retries, read-backs, pages included).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    deadline: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show one agent's availability.
    #[command(after_help = "Examples:
  agentstatus get ada
  agentstatus get me                          # the agent the credentials belong to
  agentstatus --vendor chatwoot --output json get 42")]
    Get {
        /// The agent's id at the vendor (`me`: the agent the credentials belong to).
        agent: String,
    },
    /// Set one agent's availability (does nothing if it already is), optionally until a time
    /// or in the vendor's own state.
    #[command(
        after_help = "An expiry (--for, --until) or a vendor state (--state) that the vendor \
does not have is refused (exit 5), never dropped: Mattermost ends \"do not disturb\" (busy) \
by itself; Twilio TaskRouter takes any activity of the workspace by name, Engage Digital \
a custom away status by name, Mattermost, Libredesk and Rocket.Chat (its user status) their \
status words. The state must mean AVAILABILITY in the vendor's mapping.

Examples:
  agentstatus set ada available
  agentstatus set me away
  agentstatus --vendor libredesk --output json set me offline
  agentstatus --vendor mattermost set USER_ID busy --for 45m
  agentstatus --vendor mattermost set USER_ID busy --until 2026-12-06T17:00:00Z
  agentstatus --vendor twilio-taskrouter set WORKER_SID offline --state Lunch"
    )]
    Set {
        /// The agent's id at the vendor (`me`: the agent the credentials belong to).
        agent: String,
        /// The availability to set (each vendor supports some: see `agentstatus demo`).
        #[arg(value_parser = availability_parser(), ignore_case = true)]
        availability: Availability,
        /// End the state after DURATION (`30m`, `2h`, `1h30m`; units s, m, h, d), where the
        /// vendor can end it by itself.
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration, conflicts_with = "until")]
        for_: Option<Duration>,
        /// End the state at TIME (RFC 3339: `2026-12-06T17:00:00Z`, `2026-12-06T18:00:00+01:00`),
        /// where the vendor can end it by itself.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        until: Option<agentstatus::chrono::DateTime<agentstatus::chrono::Utc>>,
        /// The vendor's own word for the state (a Twilio TaskRouter activity, Mattermost `dnd`,
        /// Libredesk `away_and_reassigning`), as `get` shows it.
        #[arg(long, value_name = "WORD")]
        state: Option<String>,
    },
    /// List the vendor's agents.
    #[command(after_help = "Examples:
  agentstatus list
  agentstatus list --available
  agentstatus --output json list | jq -r .agent.agent_id    # JSON lines: one agent per line")]
    List {
        /// Only available agents.
        #[arg(long)]
        available: bool,
    },
    /// Apply a roster: FILE (or `-` for stdin) in CSV (`agent,availability`, an optional header)
    /// or JSON lines (`{"agent": ..., "availability": ...}`). One read of the current states, one
    /// write per agent that changes, at the vendor's rate limit; a summary at the end.
    #[command(after_help = "Examples:
  agentstatus apply roster.csv --dry-run     # the plan: who changes from what to what
  agentstatus apply roster.csv
  printf 'agent,availability\nada,away\n' | agentstatus apply -
  agentstatus --output json apply roster.jsonl")]
    Apply {
        /// The roster: a CSV or JSON-lines file, `-` for standard input.
        file: PathBuf,
        /// Show the plan (which agents change from what to what, which are already right or
        /// unsupported) without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Writes in flight at most (the vendor's rate limit paces them).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: u16,
    },
    /// Print presence changes as they happen, one line (or JSON object) per change, until SIGINT
    /// or SIGTERM. Every agent is read every --interval and compared with the previous read; a
    /// failed read is reported on stderr and the next one reports what changed meanwhile.
    #[command(after_help = watch::EXAMPLES)]
    Watch {
        /// Seconds between two reads of every agent (each read is one list, its pages at the
        /// vendor's rate limit).
        #[arg(long, value_name = "SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=86_400))]
        interval: u64,
        /// Print every agent's state first, as a change from nothing.
        #[arg(long)]
        initial: bool,
        /// Do not watch: undo what a watch stopped without releasing it (kill -9, a crash) left
        /// at the vendor (Twilio TaskRouter: the workspace's previous callback URL put back from
        /// webhook_state_file; Microsoft Graph: the subscriptions to webhook_url deleted), say
        /// what was done, and exit.
        #[arg(long, conflicts_with_all = ["interval", "initial"])]
        restore: bool,
    },
    /// Keep one availability per person across desks (sync.toml: the desks, a people map, the
    /// rules, a SQLite database), until SIGINT or SIGTERM; a summary on exit. --config names
    /// sync.toml (default ./sync.toml).
    #[command(after_help = sync::EXAMPLES)]
    Sync {
        /// Print the writes it would make; write nothing to the vendors or the database.
        #[arg(long)]
        dry_run: bool,
        /// One pass: read every desk, decide, write what is owed, exit.
        #[arg(long)]
        once: bool,
    },
    /// Run one (--vendor) or every vendor's fake server on 127.0.0.1, seeded, with a config file
    /// pointing the command at it, until SIGINT or SIGTERM: for trying the command, and for
    /// integration tests in any language.
    #[command(after_help = fake::EXAMPLES)]
    Fake(fake::Args),
    /// Write a commented config file for a vendor (--vendor; default every vendor, the first
    /// chosen): its settings and the environment variables of its secrets.
    #[command(after_help = "Examples:
  agentstatus init --vendor chatwoot            # ./agentstatus.toml
  agentstatus init --vendor libredesk desk.toml
  agentstatus init --force                      # overwrite an existing file")]
    Init {
        /// Where to write it (default: --config, else $AGENTSTATUS_CONFIG, else ./agentstatus.toml).
        file: Option<PathBuf>,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script.
    #[command(after_help = "Examples:
  agentstatus completion bash > ~/.local/share/bash-completion/completions/agentstatus
  agentstatus completion zsh > \"${fpath[1]}/_agentstatus\"
  agentstatus completion fish > ~/.config/fish/completions/agentstatus.fish")]
    Completion {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "Examples:
  agentstatus man > agentstatus.1 && man ./agentstatus.1
  agentstatus man | groff -man -Tutf8 | less")]
    Man,
    /// Start every registered vendor's fake server (or --vendor's) in-process and walk through
    /// get/set/list and a bulk set on each; with --sync, run sync between three of them and
    /// show a change made on one arriving in the others.
    #[command(after_help = "Examples:
  agentstatus demo
  agentstatus --vendor rocketchat demo
  agentstatus demo --sync                        # a change on one desk arriving in two others
  agentstatus --output json demo | jq .step      # JSON lines: one step per line")]
    Demo {
        /// Three desks of three vendors, `sync` between them, and a person's change on one
        /// arriving in the others.
        #[arg(long)]
        sync: bool,
    },
}

/// The roster's text and the name its errors use (`-`: standard input).
fn read_roster(file: &std::path::Path) -> Result<(String, String), String> {
    use std::io::Read;
    let limit = roster::MAX_BYTES as u64 + 1;
    let (mut reader, name): (Box<dyn Read>, String) = if file.as_os_str() == "-" {
        (Box::new(std::io::stdin()), "<stdin>".into())
    } else {
        let f = std::fs::File::open(file)
            .map_err(|e| format!("{}: cannot read the roster: {e}", file.display()))?;
        (Box::new(f), file.display().to_string())
    };
    let mut bytes = Vec::new();
    reader
        .by_ref()
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name}: cannot read the roster: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{name}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok((text, name))
}

/// `--vendor` choices: the registered vendors.
fn vendor_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(agentstatus::registry().into_iter().map(|e| e.name))
}

/// The help's footer: config, secrets (from each vendor's settings) and exit codes.
fn after_help() -> String {
    use agentstatus::registry::SettingKind;
    let mut secrets = Vec::new();
    for e in agentstatus::registry() {
        for s in e.settings {
            if let SettingKind::Secret { env } = s.kind {
                secrets.push(format!("${env} ({})", e.name));
            }
        }
    }
    format!(
        "Config: --config FILE, else $AGENTSTATUS_CONFIG, else ./agentstatus.toml (base URL per vendor, `vendor = \"...\"` picks one).\n\
Secrets come from the environment only: {}.\n\
Exit codes: 0 ok, 1 other failure, 2 usage, config, an id that cannot be sent or a watch's state file or URL another watch holds, 3 auth, 4 not found, 5 unsupported, 6 network or deadline.\n\
Try it with nothing configured: agentstatus demo; point it at a fake server: agentstatus fake.

Examples:
  agentstatus init --vendor rocketchat           # a commented config to fill in
  agentstatus get ada
  agentstatus set ada available
  agentstatus --output json list
  agentstatus apply roster.csv --dry-run
  agentstatus watch --interval 5
  agentstatus fake --vendor chatwoot --write-config fake.toml",
        secrets.join(", ")
    )
}

/// `<AVAILABILITY>`'s values: every [`Availability`], listed in the help and completions.
fn availability_parser() -> impl clap::builder::TypedValueParser<Value = Availability> {
    PossibleValuesParser::new(
        Availability::ALL.map(|a| PossibleValue::new(a.as_str()).help(availability_help(a))),
    )
    .try_map(|s| s.parse::<Availability>())
}

/// A duration such as `90s`, `30m`, `2h`, `1h30m` or `1d` (`--for`): at least one number with
/// its unit, the sum more than zero.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected = || {
        format!(
            "expected a duration such as 30m, 2h or 1h30m (units s, m, h, d), not {:?}",
            sanitize(text)
        )
    };
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return Err(expected()),
        };
        let n: u64 = digits.parse().map_err(|_| expected())?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(|| format!("{:?} is too long a duration", sanitize(text)))?;
    }
    if !digits.is_empty() || total == 0 {
        return Err(expected());
    }
    Ok(Duration::from_secs(total))
}

/// An RFC 3339 time (`--until`), in UTC.
fn parse_time(
    text: &str,
) -> Result<agentstatus::chrono::DateTime<agentstatus::chrono::Utc>, String> {
    agentstatus::chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&agentstatus::chrono::Utc))
        .map_err(|e| {
            format!(
                "expected an RFC 3339 time such as 2026-12-06T17:00:00Z, not {:?}: {e}",
                sanitize(text)
            )
        })
}

fn availability_help(a: Availability) -> &'static str {
    match a {
        Availability::Available => "taking work",
        Availability::Busy => "signed in, taking no new work",
        Availability::Away => "away for a while",
        Availability::Offline => "signed out",
        _ => "",
    }
}

fn exit_code(e: &PresenceError) -> u8 {
    match e.kind() {
        ErrorKind::InvalidInput | ErrorKind::InUse => exit::USAGE,
        ErrorKind::Auth => exit::AUTH,
        ErrorKind::NotFound => exit::NOT_FOUND,
        ErrorKind::Unsupported => exit::UNSUPPORTED,
        ErrorKind::Network => exit::NETWORK,
        _ => exit::FAILURE,
    }
}

/// Report an error on stderr: a line of text, or under `--output json` one JSON object
/// (`{"error": {"kind", "message", "vendor", "status", "code"}, "exit_code"}`). Any text from a
/// server in it is already cut to 200 characters; controls, line and paragraph separators and
/// format characters ([`output::is_unsafe_char`]) are escaped either way.
fn fail(
    output: Output,
    code: u8,
    kind: &str,
    message: &str,
    e: Option<&PresenceError>,
) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let _ = match output {
        Output::Table => writeln!(stderr, "agentstatus: error: {}", sanitize(message)),
        Output::Json => {
            let error = serde_json::json!({
                "error": {
                    "kind": kind,
                    "message": message,
                    "vendor": e.map(|e| e.vendor()),
                    "status": e.and_then(PresenceError::status),
                    "code": e.and_then(PresenceError::code),
                },
                "exit_code": code,
            });
            output::write_json(&mut stderr, &error).and_then(|()| writeln!(stderr))
        }
    };
    ExitCode::from(code)
}

/// The output could not be written (a closed pipe is handled before: it is not a failure).
fn output_failed(output: Output, e: &std::io::Error) -> ExitCode {
    fail(
        output,
        exit::FAILURE,
        "output",
        &format!("cannot write the output: {e}"),
        None,
    )
}

fn failed(output: Output, e: &PresenceError) -> ExitCode {
    fail(
        output,
        exit_code(e),
        e.kind().as_str(),
        &e.to_string(),
        Some(e),
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = cli.output;
    if let Command::Set { until: Some(t), .. } = &cli.command {
        let now = agentstatus::chrono::DateTime::<agentstatus::chrono::Utc>::from(
            std::time::SystemTime::now(),
        );
        if *t <= now {
            let message = format!(
                "invalid value '{}' for '--until <TIME>': it is not in the future",
                t.to_rfc3339_opts(agentstatus::chrono::SecondsFormat::Secs, true)
            );
            return fail(out, exit::USAGE, "usage", &message, None);
        }
    }
    match cli.command {
        Command::Demo { sync } => {
            if let Some(path) = &cli.config {
                let message = format!(
                    "demo starts its own fake servers and reads no config file: drop --config {} (to point the command at a fake, run `agentstatus fake`)",
                    path.display()
                );
                return fail(out, exit::USAGE, "usage", &message, None);
            }
            if sync && cli.vendor.is_some() {
                return fail(
                    out,
                    exit::USAGE,
                    "usage",
                    "demo --sync chooses its three vendors: drop --vendor",
                    None,
                );
            }
            let result = if sync {
                demo_sync::run(out).await
            } else {
                demo::run(cli.vendor.as_deref(), out).await
            };
            return match result {
                Ok(()) => ExitCode::from(exit::OK),
                // a closed pipe (`| head`) is not worth a message
                Err(e)
                    if e.downcast_ref::<std::io::Error>()
                        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
                {
                    ExitCode::from(exit::OK)
                }
                Err(e) => fail(out, exit::FAILURE, "demo", &e.to_string(), None),
            };
        }
        Command::Fake(args) => {
            if let Some(path) = &cli.config {
                let message = format!(
                    "fake writes a config file and reads none: drop --config {} (--write-config FILE says where to write it)",
                    path.display()
                );
                return fail(out, exit::USAGE, "usage", &message, None);
            }
            return match fake::run(args, cli.vendor.as_deref(), out).await {
                Ok(()) => ExitCode::from(exit::OK),
                Err(fake::Error::Usage(e)) => fail(out, exit::USAGE, "usage", &e, None),
                Err(fake::Error::Failed(e)) => fail(out, exit::FAILURE, "fake", &e, None),
            };
        }
        Command::Init { file, force } => {
            let registry = agentstatus::registry();
            let entries: Vec<&agentstatus::registry::Entry> = registry
                .iter()
                .filter(|e| cli.vendor.as_deref().is_none_or(|v| v == e.name))
                .collect();
            let path = file.unwrap_or_else(|| config::path(cli.config));
            return match fake::write_new(&path, &init::text(&entries), force) {
                Ok(()) => {
                    eprintln!(
                        "agentstatus: wrote {}: fill in base_url and the settings marked CHANGE-ME, export the secrets' variables, then `agentstatus --config {} list`",
                        path.display(),
                        path.display()
                    );
                    ExitCode::from(exit::OK)
                }
                Err(e) => fail(out, exit::USAGE, "usage", &e, None),
            };
        }
        Command::Completion { shell } => {
            // generated into memory first: clap_complete panics when its writer fails (a reader
            // that closed the pipe early), and the script is a few kilobytes
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "agentstatus", &mut script);
            let mut stdout = std::io::stdout().lock();
            return match stdout.write_all(&script).and_then(|()| stdout.flush()) {
                Ok(()) => ExitCode::from(exit::OK),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(exit::OK),
                Err(e) => output_failed(out, &e),
            };
        }
        Command::Man => {
            let mut stdout = std::io::stdout().lock();
            return match man(&mut stdout).and_then(|()| stdout.flush()) {
                Ok(()) => ExitCode::from(exit::OK),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(exit::OK),
                Err(e) => output_failed(out, &e),
            };
        }
        Command::Sync { dry_run, once } => {
            let path = cli.config.unwrap_or_else(|| PathBuf::from("sync.toml"));
            let deadline = Duration::from_secs(cli.deadline);
            return match sync::run(&path, dry_run, once, deadline, out).await {
                Ok(()) => ExitCode::from(exit::OK),
                Err(sync::Error::Usage(e)) => fail(out, exit::USAGE, "usage", &e, None),
                Err(sync::Error::Failed(e)) => fail(out, exit::FAILURE, "sync", &e, None),
                Err(sync::Error::InUse(e)) => fail(out, exit::USAGE, "in_use", &e, None),
            };
        }
        _ => {}
    }
    let path = config::path(cli.config);
    let deadline = Duration::from_secs(cli.deadline);
    let registry = agentstatus::registry();
    let presence = match config::load(&path, &registry).and_then(|c| {
        let entry = c.vendor(cli.vendor.as_deref(), &registry)?;
        c.presence(entry, deadline)
    }) {
        Ok(p) => p,
        Err(e) => return fail(out, exit::USAGE, "usage", &e.0, None),
    };
    if let Command::Watch { restore: true, .. } = cli.command {
        return match watch::restore(presence, out).await {
            Ok(()) => ExitCode::from(exit::OK),
            Err(e) => failed(out, &e),
        };
    }
    if let Command::Watch {
        interval, initial, ..
    } = cli.command
    {
        return match watch::run(presence, Duration::from_secs(interval), initial, out).await {
            Ok(()) => ExitCode::from(exit::OK),
            Err(watch::Stopped::Failed(e)) => failed(out, &e),
            Err(watch::Stopped::Output(e)) => output_failed(out, &e),
        };
    }
    if let Command::Apply {
        file,
        dry_run,
        concurrency,
    } = &cli.command
    {
        let (text, name) = match read_roster(file) {
            Ok(t) => t,
            Err(e) => return fail(out, exit::USAGE, "usage", &e, None),
        };
        let entries = match roster::parse(&text, &name) {
            Ok(e) => e,
            Err(e) => return fail(out, exit::USAGE, "usage", &e, None),
        };
        return match apply::run(
            presence.as_ref(),
            entries,
            *dry_run,
            usize::from(*concurrency),
            out,
        )
        .await
        {
            Ok(true) => ExitCode::from(exit::OK),
            Ok(false) => ExitCode::from(exit::FAILURE),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(exit::FAILURE),
            Err(e) => output_failed(out, &e),
        };
    }
    let one = matches!(cli.command, Command::Get { .. } | Command::Set { .. });
    let result = match cli.command {
        Command::Get { agent } => presence.get(&agent).await.map(|p| vec![p]),
        Command::Set {
            agent,
            availability,
            for_,
            until,
            state,
        } => {
            let mut request = SetRequest::new(availability);
            if let Some(d) = for_ {
                request = request.for_duration(d);
            }
            if let Some(t) = until {
                request = request.until(t);
            }
            if let Some(word) = state {
                request = request.state(word);
            }
            presence.set_with(&agent, &request).await.map(|p| vec![p])
        }
        Command::List { available } => {
            let filter = if available {
                ListFilter::available()
            } else {
                ListFilter::all()
            };
            presence.list(&filter).await
        }
        _ => unreachable!("handled above"),
    };
    match result {
        Ok(list) => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            match output::write(&mut stdout, presence.vendor(), &list, out, one)
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::from(exit::OK),
                // a closed pipe (`| head`) is not worth a message
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(exit::OK),
                Err(e) => output_failed(out, &e),
            }
        }
        Err(e) => failed(out, &e),
    }
}

/// Text as roff: backslashes and dashes escaped, a line starting with `.` or `'` kept text.
fn roff(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.starts_with(['.', '\'']) {
            out.push_str("\\&");
        }
        out.push_str(&line.replace('\\', "\\e").replace('-', "\\-"));
    }
    out
}

/// `after_help` as roff: its prose as paragraphs, its `Examples:` as a block kept as written.
fn roff_after_help(w: &mut dyn std::io::Write, text: &str, heading: &str) -> std::io::Result<()> {
    let (prose, examples) = match text.split_once("Examples:") {
        Some((p, e)) => (p, Some(e)),
        None => (text, None),
    };
    let prose = prose.trim();
    if !prose.is_empty() {
        for paragraph in prose.split("\n\n") {
            writeln!(w, ".PP\n{}", roff(paragraph.trim()))?;
        }
    }
    if let Some(examples) = examples {
        writeln!(w, "{heading} EXAMPLES\n.nf\n.RS 2")?;
        for line in examples.trim_matches('\n').lines() {
            writeln!(w, "{}", roff(line.trim_start()))?;
        }
        writeln!(w, ".RE\n.fi")?;
    }
    Ok(())
}

/// The man page: `agentstatus(1)` with a section per subcommand (its synopsis, options and
/// examples), all from the one clap definition.
fn man(w: &mut dyn std::io::Write) -> std::io::Result<()> {
    // not built: a subcommand's section lists its own options, not the global ones again
    let command = Cli::command();
    let page = clap_mangen::Man::new(command.clone());
    page.render_title(w)?;
    page.render_name_section(w)?;
    page.render_synopsis_section(w)?;
    page.render_description_section(w)?;
    page.render_options_section(w)?;
    writeln!(w, ".SH COMMANDS")?;
    let subcommands: Vec<&clap::Command> = command
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .collect();
    for sub in &subcommands {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        writeln!(
            w,
            ".TP\n\\fBagentstatus {}\\fR\n{}",
            roff(sub.get_name()),
            roff(&about)
        )?;
    }
    if let Some(after) = command.get_after_help() {
        roff_after_help(w, &after.to_string(), ".SH")?;
    }
    for sub in subcommands {
        let name = format!("agentstatus {}", sub.get_name());
        writeln!(w, ".SH \"{}\"", roff(&name.to_uppercase()))?;
        let about = sub
            .get_long_about()
            .or(sub.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        writeln!(w, "{}", roff(&about))?;
        // the subcommand's synopsis and options, as subsections
        let sub_page = clap_mangen::Man::new(sub.clone().name(name.clone()).bin_name(name));
        let mut part = Vec::new();
        sub_page.render_synopsis_section(&mut part)?;
        sub_page.render_options_section(&mut part)?;
        w.write_all(
            String::from_utf8_lossy(&part)
                .replace(".SH ", ".SS ")
                .as_bytes(),
        )?;
        if let Some(after) = sub.get_after_help() {
            roff_after_help(w, &after.to_string(), ".SS")?;
        }
    }
    page.render_version_section(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_examples_and_every_argument_a_help() {
        let command = Cli::command();
        assert!(
            command
                .get_after_help()
                .unwrap()
                .to_string()
                .contains("Examples:")
        );
        for sub in command.get_subcommands() {
            let name = sub.get_name();
            let after = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(after.contains("Examples:"), "{name}: no examples");
            assert!(after.contains("agentstatus "), "{name}");
            for arg in sub.get_arguments() {
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                assert!(!help.trim().is_empty(), "{name} {}: no help", arg.get_id());
            }
        }
        for arg in command.get_arguments() {
            assert!(arg.get_help().is_some(), "{}", arg.get_id());
        }
    }

    #[test]
    fn availability_values_come_from_the_type() {
        let command = Cli::command();
        let set = command.find_subcommand("set").unwrap();
        let arg = set
            .get_arguments()
            .find(|a| a.get_id() == "availability")
            .unwrap();
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_string())
            .collect();
        let all: Vec<String> = Availability::ALL.iter().map(|a| a.to_string()).collect();
        assert_eq!(values, all);
        let cli = Cli::try_parse_from(["agentstatus", "set", "ada", "AWAY"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Set {
                availability: Availability::Away,
                ..
            }
        ));
        assert!(Cli::try_parse_from(["agentstatus", "set", "ada", "sleepy"]).is_err());
    }

    #[test]
    fn durations_and_times_parse_or_say_what_they_expect() {
        let ok = |t: &str| parse_duration(t).unwrap().as_secs();
        assert_eq!(
            (ok("90s"), ok("30m"), ok("2h"), ok("1h30m"), ok("1d")),
            (90, 1_800, 7_200, 5_400, 86_400)
        );
        for bad in [
            "",
            "30",
            "m",
            "0m",
            "1x",
            "-5m",
            "1.5h",
            "99999999999999999999d",
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains("duration"), "{bad:?}: {e}");
        }
        let t = parse_time("2026-12-06T18:00:00+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-06T17:00:00+00:00");
        let e = parse_time("tomorrow").unwrap_err();
        assert!(e.contains("RFC 3339") && e.contains("tomorrow"), "{e}");

        let cli = Cli::try_parse_from([
            "agentstatus",
            "set",
            "ada",
            "busy",
            "--for",
            "45m",
            "--state",
            "dnd",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Set { for_: Some(d), state: Some(ref s), until: None, .. }
                if d.as_secs() == 2_700 && s == "dnd"
        ));
        // one expiry at a time; a bad one names its argument
        let both = [
            "agentstatus",
            "set",
            "ada",
            "busy",
            "--for",
            "1h",
            "--until",
            "2026-12-06T17:00:00Z",
        ];
        assert!(Cli::try_parse_from(both).is_err());
        let e = Cli::try_parse_from(["agentstatus", "set", "ada", "busy", "--for", "soon"])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("--for <DURATION>") && e.contains("soon"), "{e}");
        let e = Cli::try_parse_from(["agentstatus", "set", "ada", "busy", "--until", "5pm"])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("--until <TIME>") && e.contains("5pm"), "{e}");
    }
}
