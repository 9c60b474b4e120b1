//! `agentstatus`: read and set support agents' availability on any registered vendor
//! (`agentstatus::registry()`), with one set of commands. See `agentstatus --help`.

mod apply;
mod config;
mod demo;
mod roster;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use agentstatus::{Availability, ErrorKind, ListFilter, PresenceError};
use agentstatus_cli::output::{self, Output, sanitize};
use clap::{Parser, Subcommand};

/// Exit codes, distinct per kind of failure.
pub mod exit {
    pub const OK: u8 = 0;
    /// Any other failure (a vendor error, a conflict, an answer we cannot read).
    pub const FAILURE: u8 = 1;
    /// Bad arguments, or a missing/invalid config file or secret.
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
    /// The config file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The vendor to use (overrides the config file's `vendor`).
    #[arg(long, global = true, value_name = "NAME", value_parser = vendor_names())]
    vendor: Option<String>,
    /// Table for people; JSON for programs (errors then go to stderr as a JSON object too).
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
    Get { agent: String },
    /// Set one agent's availability (does nothing if it already is).
    Set {
        agent: String,
        #[arg(value_parser = parse_availability)]
        availability: Availability,
    },
    /// List the vendor's agents.
    List {
        /// Only available agents.
        #[arg(long)]
        available: bool,
    },
    /// Apply a roster: FILE (or `-` for stdin) in CSV (`agent,availability`, an optional header)
    /// or JSON lines (`{"agent": ..., "availability": ...}`). One read of the current states, one
    /// write per agent that changes, at the vendor's rate limit; a summary at the end.
    Apply {
        file: PathBuf,
        /// Show the plan (which agents change from what to what, which are already right or
        /// unsupported) without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Writes in flight at most (the vendor's rate limit paces them).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: u16,
    },
    /// Start every registered vendor's fake server in-process and walk through get/set/list and
    /// a bulk set on each.
    Demo,
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
Exit codes: 0 ok, 1 other failure, 2 usage, config or an id that cannot be sent, 3 auth, 4 not found, 5 unsupported, 6 network or deadline.\n\
Try it with nothing configured: agentstatus demo",
        secrets.join(", ")
    )
}

fn parse_availability(s: &str) -> Result<Availability, String> {
    s.parse()
}

fn exit_code(e: &PresenceError) -> u8 {
    match e.kind() {
        ErrorKind::InvalidInput => exit::USAGE,
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
    if let Command::Demo = cli.command {
        return match demo::run().await {
            Ok(()) => ExitCode::from(exit::OK),
            Err(e) => fail(out, exit::FAILURE, "demo", &e.to_string(), None),
        };
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
            Err(e) => fail(
                out,
                exit::FAILURE,
                "output",
                &format!("cannot write the output: {e}"),
                None,
            ),
        };
    }
    let one = matches!(cli.command, Command::Get { .. } | Command::Set { .. });
    let result = match cli.command {
        Command::Get { agent } => presence.get(&agent).await.map(|p| vec![p]),
        Command::Set {
            agent,
            availability,
        } => presence.set(&agent, availability).await.map(|p| vec![p]),
        Command::List { available } => {
            let filter = if available {
                ListFilter::available()
            } else {
                ListFilter::all()
            };
            presence.list(&filter).await
        }
        Command::Demo | Command::Apply { .. } => unreachable!("handled above"),
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
                Err(e) => fail(
                    out,
                    exit::FAILURE,
                    "output",
                    &format!("cannot write the output: {e}"),
                    None,
                ),
            }
        }
        Err(e) => failed(out, &e),
    }
}
