//! `agentstatus`: read and set support agents' availability on Rocket.Chat, Libredesk or
//! Engage Digital, with one set of commands. See `agentstatus --help`.

mod config;
mod demo;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use agentstatus_presence::{Availability, ErrorKind, ListFilter, PresenceError};
use clap::{Parser, Subcommand, ValueEnum};

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
    about = "Read and set support agents' availability on Rocket.Chat, Libredesk or Engage Digital",
    after_help = "Config: --config FILE, else $AGENTSTATUS_CONFIG, else ./agentstatus.toml (base URL per vendor, `vendor = \"...\"` picks one).\n\
Secrets come from the environment only: $ROCKETCHAT_AUTH_TOKEN, $LIBREDESK_API_SECRET, $ENGAGE_DIGITAL_TOKEN.\n\
Exit codes: 0 ok, 1 other failure, 2 usage or config, 3 auth, 4 not found, 5 unsupported, 6 network.\n\
Try it with nothing configured: agentstatus demo"
)]
struct Cli {
    /// The config file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The vendor to use (overrides the config file's `vendor`).
    #[arg(long, global = true, value_name = "NAME", value_parser = ["rocketchat", "libredesk", "engage-digital"])]
    vendor: Option<String>,
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Output {
    Table,
    Json,
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
    /// Start fake servers of all three vendors in-process and walk through get/set/list on each.
    Demo,
}

fn parse_availability(s: &str) -> Result<Availability, String> {
    s.parse()
}

fn exit_code(e: &PresenceError) -> u8 {
    match e.kind() {
        ErrorKind::Auth => exit::AUTH,
        ErrorKind::NotFound => exit::NOT_FOUND,
        ErrorKind::Unsupported => exit::UNSUPPORTED,
        ErrorKind::Network => exit::NETWORK,
        _ => exit::FAILURE,
    }
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("agentstatus: error: {message}");
    ExitCode::from(code)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Demo = cli.command {
        return match demo::run().await {
            Ok(()) => ExitCode::from(exit::OK),
            Err(e) => fail(exit::FAILURE, e),
        };
    }
    let path = config::path(cli.config);
    let presence = match config::load(&path).and_then(|c| {
        let vendor = c.vendor(cli.vendor.as_deref(), &path)?;
        c.presence(vendor, &path)
    }) {
        Ok(p) => p,
        Err(e) => return fail(exit::USAGE, e.0),
    };
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
        Command::Demo => unreachable!("handled above"),
    };
    match result {
        Ok(list) => {
            print!(
                "{}",
                output::render(presence.vendor(), &list, cli.output, one)
            );
            ExitCode::from(exit::OK)
        }
        Err(e) => fail(exit_code(&e), e),
    }
}
