//! `agentstatus watch`: one line (or JSON object) per presence change, as it happens, until
//! SIGINT or SIGTERM.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use agentstatus::watch::{Change, WatchOptions, Watcher};
use agentstatus::{ErrorKind, Presence, PresenceError};
use agentstatus_cli::output::{self, Output, sanitize};

pub const EXAMPLES: &str = "Examples:
  agentstatus watch                               # a line per change, every 15 s
  agentstatus watch --interval 5 --initial        # every agent's state first, then changes
  agentstatus --output json watch | jq -c 'select(.after.availability == \"away\")'
  agentstatus watch --restore                     # after a kill -9: put back what the watch replaced";

/// Why watching stopped early.
pub enum Stopped {
    /// The vendor refused the credentials or cannot be watched, or another watch holds this
    /// one's state file or notification URL (its lock): retrying will not help.
    Failed(PresenceError),
    /// The output could not be written (a closed pipe is not an error).
    Output(std::io::Error),
}

/// How long a stopping `watch` waits for the feed to undo what it set up on the vendor.
const SHUTDOWN: Duration = Duration::from_secs(10);

/// Watch `presence` (its desk named after the vendor) until a signal; a failed read is reported
/// on stderr and the next one catches up, except failures retrying cannot mend (credentials,
/// permissions, an unsupported operation), which stop it, and a state file or notification
/// URL another watch holds ([`ErrorKind::InUse`]: a second watch started by mistake), which
/// stops it at once, naming the file, its lock file and the process holding it (exit 2). A
/// token file that cannot be read for a moment, a network error, are reported and retried.
pub async fn run(
    presence: Box<dyn Presence>,
    interval: Duration,
    initial: bool,
    out: Output,
) -> Result<(), Stopped> {
    // a push channel's warnings (a refused, badly signed callback) on stderr
    crate::sync::init_logs(out, "warn");
    let presence: Arc<dyn Presence> = Arc::from(presence);
    let desk = presence.vendor().to_string();
    let options = WatchOptions::every(interval).with_initial(initial);
    let mut watcher = Watcher::new(presence, desk, options);
    let ended = watch(&mut watcher, out).await;
    // whatever ended it (a signal, a closed pipe, a failure): what the vendor's feed holds
    // (Graph's subscriptions, Twilio's workspace callback URL) is released before the process
    // exits, within the feed's own deadline and at most `SHUTDOWN`
    match tokio::time::timeout(SHUTDOWN, watcher.shutdown()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => report(Trouble::Failed(&e), When::ShuttingDown, out),
        Err(_) => report(Trouble::ShutdownTimeout, When::ShuttingDown, out),
    }
    ended
}

/// `watch --restore`: what a watch stopped without releasing it left at the vendor, undone
/// ([`agentstatus::watch::ChangeFeed::recover`]), and said on stdout (a line, or a JSON object
/// `{"restored": bool, "message"}`); a desk whose watch polls has nothing to undo.
pub async fn restore(presence: Box<dyn Presence>, out: Output) -> Result<(), PresenceError> {
    let vendor = presence.vendor();
    let done = match presence.change_feed(&WatchOptions::default()) {
        Some(mut feed) => feed.recover().await?,
        None => None,
    };
    let message = done
        .clone()
        .unwrap_or_else(|| format!("{vendor}: nothing left by an earlier watch to restore"));
    let mut stdout = std::io::stdout().lock();
    let written = match out {
        Output::Table => writeln!(stdout, "{}", sanitize(&message)),
        Output::Json => output::write_json_line(
            &mut stdout,
            &serde_json::json!({"vendor": vendor, "restored": done.is_some(), "message": message}),
        ),
    };
    let _ = written.and_then(|()| stdout.flush());
    Ok(())
}

async fn watch(watcher: &mut Watcher, out: Output) -> Result<(), Stopped> {
    let stop = crate::fake::stopped();
    tokio::pin!(stop);
    loop {
        let next = tokio::select! {
            () = &mut stop => None,
            next = watcher.next() => Some(next),
        };
        let Some(next) = next else {
            return Ok(());
        };
        match next {
            Ok(change) => match print(&change, out) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(Stopped::Output(e)),
            },
            Err(e) if stops(&e) => return Err(Stopped::Failed(e)),
            Err(e) => report(Trouble::Failed(&e), When::Watching, out),
        }
    }
}

/// Whether `e` ends the watch: what trying again cannot mend (the credentials, an operation the
/// vendor cannot do), or not while another process runs (its lock on this watch's state file
/// or notification URL: polling beside it, and reporting the refusal every interval until it
/// stops, is not what the operator who started a second watch by mistake wants). Anything
/// else (a network error, a 5xx, a token file being rewritten) is reported and retried.
fn stops(e: &PresenceError) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Auth | ErrorKind::Unsupported | ErrorKind::InUse
    )
}

/// A change on stdout, flushed at once (a reader waits for each line).
fn print(change: &Change, out: Output) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match out {
        Output::Table => writeln!(
            stdout,
            "{} {}",
            change.observed_at.format("%Y-%m-%dT%H:%M:%SZ"),
            sanitize(&change.to_string())
        )?,
        Output::Json => output::write_json_line(&mut stdout, change)?,
    }
    stdout.flush()
}

/// What went wrong, for [`report`].
enum Trouble<'a> {
    /// A vendor's error: a failed read, or a failed release at shutdown.
    Failed(&'a PresenceError),
    /// The feed did not finish releasing what it holds within [`SHUTDOWN`].
    ShutdownTimeout,
}

/// When it went wrong, which says what happens next.
#[derive(Clone, Copy)]
enum When {
    /// Reading: watching goes on, the next read catches up.
    Watching,
    /// Releasing what the feed holds: the exit goes on, what was not released expires by itself.
    ShuttingDown,
}

/// Trouble on stderr, a line of text or a JSON object (`--output json`): the one writer of
/// `watch`'s reports.
fn report(trouble: Trouble<'_>, when: When, out: Output) {
    let mut stderr = std::io::stderr().lock();
    let _ = match out {
        Output::Table => {
            let message = match &trouble {
                Trouble::Failed(e) => sanitize(&e.to_string()),
                Trouble::ShutdownTimeout => timeout_message(),
            };
            match when {
                When::Watching => writeln!(
                    stderr,
                    "agentstatus: watch: {message} (the next read catches up)"
                ),
                When::ShuttingDown => writeln!(
                    stderr,
                    "agentstatus: watch: shutting down: {message} (what was not released expires by itself)"
                ),
            }
        }
        Output::Json => {
            let error = match &trouble {
                Trouble::Failed(e) => serde_json::json!({
                    "kind": e.kind().as_str(),
                    "message": e.to_string(),
                    "vendor": e.vendor(),
                    "status": e.status(),
                    "code": e.code(),
                }),
                Trouble::ShutdownTimeout => serde_json::json!({
                    "kind": "timeout",
                    "message": timeout_message(),
                }),
            };
            let flag = match when {
                When::Watching => "continuing",
                When::ShuttingDown => "shutting_down",
            };
            output::write_json_line(
                &mut stderr,
                &serde_json::json!({ "error": error, flag: true }),
            )
        }
    };
}

fn timeout_message() -> String {
    format!(
        "the feed did not release what it holds within {} s",
        SHUTDOWN.as_secs()
    )
}
