//! `agentstatus sync`: one availability per person across desks (`agentstatus-sync`), until
//! SIGINT or SIGTERM (or one pass with `--once`), with a summary on exit.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use agentstatus_cli::output::{self, Output, sanitize};
use agentstatus_sync::{Engine, Options, Planned, Store, SyncConfig, SyncError};

pub const EXAMPLES: &str = "Examples:
  agentstatus sync --config sync.toml                # until SIGINT/SIGTERM, logs on stderr
  agentstatus sync --config sync.toml --dry-run      # the writes it would make, none made
  agentstatus sync --config sync.toml --once         # one pass (from cron): read, decide, write
  AGENTSTATUS_LOG=debug agentstatus --output json sync   # JSON logs and summary

sync.toml names the database, the people map (CSV: a person column, then one column per desk
with the agent id there) or `match = \"email\"` (agents matched by their e-mail address) and one [desks.<name>] section per desk: `vendor`, `role` (source,
target, both), `interval`, `substitute = { busy = \"offline\" }` and the vendor's settings (as
in agentstatus.toml; secrets from the environment).";

/// Why sync did not run or stopped.
pub enum Error {
    /// The config, the people map or a desk's settings are wrong.
    Usage(String),
    /// The database failed.
    Failed(String),
    /// A desk's feed is another process's ([`SyncError::InUse`]: another watch holds its state
    /// file's or notification URL's lock): the error names the desk, the file, its lock file
    /// and the holder. Exit 2, as `agentstatus watch` refused the same.
    InUse(String),
}

/// Logs on stderr: `tracing` events, as text (or JSON lines with `--output json`), filtered by
/// `$AGENTSTATUS_LOG` (default `default`: `info` for sync, `warn` for watch).
pub(crate) fn init_logs(out: Output, default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("AGENTSTATUS_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    use std::io::IsTerminal as _;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false);
    let _ = match out {
        Output::Table => builder.try_init(),
        Output::Json => builder.json().try_init(),
    };
}

fn print_planned(p: &Planned, out: Output) {
    let mut stdout = std::io::stdout().lock();
    let _ = match out {
        Output::Table => writeln!(
            stdout,
            "would set {} {} ({}) -> {}",
            sanitize(&p.desk),
            sanitize(&p.agent),
            sanitize(&p.person),
            p.availability
        ),
        Output::Json => {
            output::write_json_line(&mut stdout, &serde_json::json!({ "would_set": p }))
        }
    };
    let _ = stdout.flush();
}

pub async fn run(
    path: &Path,
    dry_run: bool,
    once: bool,
    deadline: Duration,
    out: Output,
) -> Result<(), Error> {
    init_logs(out, "info");
    let registry = agentstatus::registry();
    let config = SyncConfig::load(path, &registry).map_err(|e| Error::Usage(e.0))?;
    let desks = config.connect(deadline).map_err(|e| Error::Usage(e.0))?;
    let people = config.load_people().map_err(|e| Error::Usage(e.0))?;
    let store = if dry_run {
        Store::open_copy(&config.database)
    } else {
        Store::open(&config.database)
    }
    .map_err(|e| Error::Failed(e.to_string()))?;
    let options = Options::default()
        .precedence(config.precedence.clone())
        .write_concurrency(config.write_concurrency)
        .stale_after(config.stale_after)
        .dry_run(dry_run);
    let mut engine =
        Engine::new(desks, people, store, options).map_err(|e| Error::Usage(e.to_string()))?;
    if dry_run {
        engine = engine.on_dry_run(move |p| print_planned(p, out));
    }
    let _metrics = match config.listen {
        Some(addr) if !once => {
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                Error::Usage(format!(
                    "{}: listen: cannot listen on {addr}: {e}",
                    config.path.display()
                ))
            })?;
            tracing::info!(%addr, "serving /health and /metrics");
            Some(tokio::spawn(agentstatus_sync::metrics::serve(
                listener,
                engine.stats(),
            )))
        }
        _ => None,
    };
    let result = if once {
        engine.once().await
    } else {
        engine.run(crate::fake::stopped()).await
    };
    let summary = result.map_err(|e| match e {
        SyncError::InUse { .. } => Error::InUse(e.to_string()),
        e => Error::Failed(e.to_string()),
    })?;
    match out {
        Output::Table => {
            let mut stderr = std::io::stderr().lock();
            for line in summary.to_string().lines() {
                let _ = writeln!(stderr, "agentstatus: sync: {}", sanitize(line));
            }
        }
        Output::Json => {
            let mut stdout = std::io::stdout().lock();
            let _ =
                output::write_json_line(&mut stdout, &serde_json::json!({ "summary": summary }));
        }
    }
    Ok(())
}
