//! `agentstatus watch` stopped by a real signal (SIGINT, SIGTERM, sent with `kill`) releases
//! what its vendor's push channel holds before it exits: Graph's subscriptions are deleted
//! (the fake keeps them: none left), Twilio's workspace callback is put back as it was. The
//! built binary runs against the vendors' fakes on 127.0.0.1, started in this test.
//!
//! Microsoft Graph and Twilio TaskRouter are default features of the command; a build without
//! them compiles nothing here.
#![cfg(all(unix, feature = "msgraph", feature = "twilio-taskrouter"))]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentstatus::msgraph::fake::{self as graph, Msgraph};
use agentstatus::twilio_taskrouter::fake::{self as twilio, TwilioTaskrouter};

const GRAPH_SECRET: &str = "signals-graph-secret";
const TWILIO_TOKEN: &str = "signals-twilio-token";

/// How long each of the fake's answers takes once the signal is sent (well within the command's
/// 10 s for a shutdown).
const SLOW: Duration = Duration::from_millis(400);

/// `agentstatus --config <config> watch`, its stderr kept for the failure messages.
struct Watching {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Watching {
    fn start(config: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_with(config, env, &[])
    }

    /// With `global` options before `watch` (`--output json`).
    fn start_with(config: &Path, env: &[(&str, &str)], global: &[&str]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentstatus"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg("--config")
            .arg(config)
            .args(global)
            .args(["watch", "--interval", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, stderr }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Wait (at most `within`) for the process to exit by itself: its code, and its stderr
    /// once the pipe is drained.
    async fn exited(&mut self, within: Duration) -> (Option<i32>, String) {
        let t = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // what it wrote last, read by the thread draining the pipe
                tokio::time::sleep(Duration::from_millis(200)).await;
                return (status.code(), self.stderr());
            }
            assert!(
                t.elapsed() < within,
                "agentstatus watch still runs after {within:?}; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Send `signal` (`INT`, `TERM`) with `kill`, and wait for the exit: its code.
    async fn stop(&mut self, signal: &str) -> Option<i32> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal} {pid}");
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "agentstatus watch still runs 30 s after SIGTERM/SIGINT; stderr:\n{}",
            self.stderr()
        );
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port on 127.0.0.1 for the binary's webhook receiver.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Wait (at most 60 s) until `done`, else fail with the binary's stderr.
async fn until(what: &str, w: &Watching, mut done: impl FnMut() -> bool) {
    for _ in 0..1200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within 60 s; stderr:\n{}", w.stderr());
}

/// Graph's fake with two users, and a config watching them by change notifications through the
/// binary's own receiver (the subscriber's delegated token in a file).
async fn graph(dir: &Path) -> (Msgraph, std::path::PathBuf) {
    // the fake sends its validation requests with a client of its own
    agentstatus_runtime::ensure_tls_provider();
    let fake = Msgraph::start(GRAPH_SECRET).await.unwrap();
    let users = [graph::user_id(1), graph::user_id(2)];
    for (n, u) in users.iter().enumerate() {
        fake.add_user(u, &format!("User {n}"));
    }
    let token_file = dir.join("graph-token");
    std::fs::write(&token_file, fake.delegated_token(&users[1]) + "\n").unwrap();
    let port = free_port();
    let config = dir.join("graph.toml");
    std::fs::write(
        &config,
        format!(
            "vendor = \"msgraph\"\n\n[msgraph]\nbase_url = \"{}\"\nclient_id = \"{}\"\n\
             token_url = \"{}\"\nscopes = \"{}\"\nusers = \"{}\"\nwatch = \"notifications\"\n\
             webhook_listen = \"127.0.0.1:{port}\"\nwebhook_url = \"http://127.0.0.1:{port}/graph/notify\"\n\
             subscription_token_file = \"{}\"\n",
            fake.url(),
            graph::CLIENT_ID,
            fake.token_url(),
            graph::SCOPE,
            users.join(","),
            token_file.display()
        ),
    )
    .unwrap();
    (fake, config)
}

async fn graph_watch_stopped_by(signal: &str) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("agentstatus-signals-graph-{signal}-"))
        .tempdir()
        .unwrap();
    let (fake, config) = graph(dir.path()).await;
    let mut w = Watching::start(&config, &[("MSGRAPH_CLIENT_SECRET", GRAPH_SECRET)]);
    until("a subscription on the fake", &w, || {
        fake.subscriptions().len() == 1
    })
    .await;
    // the receiver answered Graph's validation: the subscription is the binary's
    assert!(
        fake.validations().iter().any(|v| v.accepted),
        "{:?}",
        fake.validations()
    );
    // the watch goes on reading (the full read after subscribing) before the signal
    tokio::time::sleep(Duration::from_millis(500)).await;
    // every answer from now on takes a while: only a shutdown that waits for its deletes
    // leaves nothing behind (a delete sent from a task at drop dies with the process)
    fake.faults().set_delay(SLOW);
    let code = w.stop(signal).await;
    assert_eq!(
        code,
        Some(0),
        "SIG{signal}: a clean stop; stderr:\n{}",
        w.stderr()
    );
    assert!(
        fake.subscriptions().is_empty(),
        "SIG{signal}: subscriptions left behind: {:?}; stderr:\n{}",
        fake.subscriptions(),
        w.stderr()
    );
}

/// What does not stop a watch, unlike another watch's lock: the subscriber's token file missing
/// for a while (a helper rewriting it) and connections dropped by Graph are reported on stderr
/// and retried; the watch subscribes once the file is back.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_file_missing_for_a_while_and_dropped_connections_do_not_stop_a_watch() {
    let dir = tempfile::Builder::new()
        .prefix("agentstatus-signals-graph-transient-")
        .tempdir()
        .unwrap();
    let (fake, config) = graph(dir.path()).await;
    let token_file = dir.path().join("graph-token");
    let token = std::fs::read_to_string(&token_file).unwrap();
    std::fs::remove_file(&token_file).unwrap();
    for _ in 0..3 {
        fake.faults().push(graph::Fault::DropConnection);
    }
    let mut w = Watching::start(&config, &[("MSGRAPH_CLIENT_SECRET", GRAPH_SECRET)]);
    until("the missing token file reported", &w, || {
        w.stderr().contains("subscription_token_file")
    })
    .await;
    // a read or two more: still watching, still saying so
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(w.child.try_wait().unwrap().is_none(), "{}", w.stderr());
    assert!(
        w.stderr().contains("(the next read catches up)"),
        "{}",
        w.stderr()
    );
    assert!(fake.subscriptions().is_empty());
    std::fs::write(&token_file, token).unwrap();
    until("a subscription once the file is back", &w, || {
        fake.subscriptions().len() == 1
    })
    .await;
    assert_eq!(w.stop("TERM").await, Some(0), "{}", w.stderr());
    assert!(fake.subscriptions().is_empty(), "{}", w.stderr());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graph_watch_stopped_by_sigint_leaves_no_subscription() {
    graph_watch_stopped_by("INT").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graph_watch_stopped_by_sigterm_leaves_no_subscription() {
    graph_watch_stopped_by("TERM").await;
}

/// A shutdown that cannot release the subscriptions (the subscriber's token file is gone) is
/// reported on stderr, as JSON with `--output json`, and the command still exits cleanly.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_release_at_shutdown_is_reported_and_the_exit_goes_on() {
    let dir = tempfile::Builder::new()
        .prefix("agentstatus-signals-graph-report-")
        .tempdir()
        .unwrap();
    let (fake, config) = graph(dir.path()).await;
    let mut w = Watching::start_with(
        &config,
        &[("MSGRAPH_CLIENT_SECRET", GRAPH_SECRET)],
        &["--output", "json"],
    );
    until("a subscription on the fake", &w, || {
        fake.subscriptions().len() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::fs::remove_file(dir.path().join("graph-token")).unwrap();
    let code = w.stop("TERM").await;
    assert_eq!(code, Some(0), "{}", w.stderr());
    // left to expire on Graph, and said so
    assert_eq!(fake.subscriptions().len(), 1);
    // the reader thread has the last lines once the pipe is closed
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stderr = w.stderr();
    let report: serde_json::Value = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["shutting_down"] == true)
        .unwrap_or_else(|| panic!("no shutdown report in:\n{stderr}"));
    assert_eq!(report["error"]["kind"], "invalid_input", "{report}");
    assert_eq!(report["error"]["vendor"], "msgraph", "{report}");
    let message = report["error"]["message"].as_str().unwrap();
    assert!(message.contains("subscription_token_file"), "{report}");
    assert!(report.get("continuing").is_none(), "{report}");
}

/// What the workspace posted its events to before the watch: another system's.
const THEIRS: &str = "https://reports.example.com/twilio/events";
const THEIR_FILTER: &str = "task.created";

async fn twilio_watch_stopped_by(signal: &str) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("agentstatus-signals-twilio-{signal}-"))
        .tempdir()
        .unwrap();
    let (fake, config, ours, _) = twilio_setup(dir.path()).await;
    let mut w = Watching::start(&config, &[("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)]);
    until(
        "the workspace's callback set to the binary's receiver",
        &w,
        || {
            fake.event_callback(twilio::WORKSPACE_SID)
                .is_some_and(|(url, _)| url == ours)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // only a shutdown that waits for the callback to be put back passes (see the Graph test)
    fake.faults().set_delay(SLOW);
    let code = w.stop(signal).await;
    assert_eq!(
        code,
        Some(0),
        "SIG{signal}: a clean stop; stderr:\n{}",
        w.stderr()
    );
    assert_eq!(
        fake.event_callback(twilio::WORKSPACE_SID),
        Some((THEIRS.to_string(), Some(THEIR_FILTER.to_string()))),
        "SIG{signal}: the workspace's callback put back; stderr:\n{}",
        w.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_twilio_watch_stopped_by_sigint_puts_the_callback_back() {
    twilio_watch_stopped_by("INT").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_twilio_watch_stopped_by_sigterm_puts_the_callback_back() {
    twilio_watch_stopped_by("TERM").await;
}

/// The twilio fake with ada, the workspace posting to [`THEIRS`], and a config watching it by
/// events (replacing theirs), its state file in `dir`: (fake, config, our URL, state file).
async fn twilio_setup(
    dir: &Path,
) -> (
    TwilioTaskrouter,
    std::path::PathBuf,
    String,
    std::path::PathBuf,
) {
    // the fake sends its event callbacks with a client of its own
    agentstatus_runtime::ensure_tls_provider();
    let fake = TwilioTaskrouter::start(TWILIO_TOKEN).await.unwrap();
    let ada = twilio::worker_sid_for("ada").unwrap();
    fake.add_worker(twilio::WORKSPACE_SID, &ada, "Ada Lovelace", "Available");
    fake.set_event_callback(twilio::WORKSPACE_SID, THEIRS, Some(THEIR_FILTER));
    let port = free_port();
    let ours = format!("http://127.0.0.1:{port}/twilio/events");
    let state = dir.join("state").join("twilio.json");
    let config = dir.join("twilio.toml");
    std::fs::write(
        &config,
        format!(
            "vendor = \"twilio-taskrouter\"\n\n[twilio-taskrouter]\nbase_url = \"{}\"\n\
             account_sid = \"{}\"\nworkspace_sid = \"{}\"\nwatch = \"events\"\n\
             webhook_listen = \"127.0.0.1:{port}\"\nwebhook_url = \"{ours}\"\n\
             webhook_replace_existing = \"true\"\nwebhook_state_file = \"{}\"\n",
            fake.url(),
            twilio::ACCOUNT_SID,
            twilio::WORKSPACE_SID,
            state.display(),
        ),
    )
    .unwrap();
    (fake, config, ours, state)
}

/// `agentstatus watch` until the workspace posts to `ours`, then `kill -9`: the callback stays
/// the dead watch's, and its state file holds what was there before.
async fn twilio_killed(fake: &TwilioTaskrouter, config: &Path, ours: &str, state: &Path) {
    let mut w = Watching::start(config, &[("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)]);
    until(
        "the workspace's callback set to the binary's receiver",
        &w,
        || {
            fake.event_callback(twilio::WORKSPACE_SID)
                .is_some_and(|(url, _)| url == ours)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let code = w.stop("KILL").await;
    assert_eq!(code, None, "killed by a signal; stderr:\n{}", w.stderr());
    assert_eq!(
        fake.event_callback(twilio::WORKSPACE_SID).unwrap().0,
        ours,
        "nothing can run after SIGKILL"
    );
    let text = std::fs::read_to_string(state).unwrap();
    assert!(text.contains(THEIRS), "{text}");
    assert!(!text.contains(TWILIO_TOKEN), "{text}");
}

/// `agentstatus --config <config> <args>` run to its end: (exit code, stdout, stderr).
fn agentstatus(
    config: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentstatus"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `kill -9` of a Twilio watch that replaced another system's callback loses nothing: the
/// next watch puts that callback back when it stops (SIGTERM).
#[tokio::test(flavor = "multi_thread")]
async fn a_twilio_watch_killed_with_sigkill_is_put_right_by_the_next_one() {
    let dir = tempfile::Builder::new()
        .prefix("agentstatus-signals-twilio-kill-next-")
        .tempdir()
        .unwrap();
    let (fake, config, ours, state) = twilio_setup(dir.path()).await;
    twilio_killed(&fake, &config, &ours, &state).await;
    let workspace = format!("/v1/Workspaces/{}", twilio::WORKSPACE_SID);
    let sets = fake.faults().count("POST", &workspace);
    let mut w = Watching::start(&config, &[("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)]);
    // the next run takes over its own URL (it is already set: it sets it again), then stops
    until("the next run's own update of the workspace", &w, || {
        fake.faults().count("POST", &workspace) > sets
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let code = w.stop("TERM").await;
    assert_eq!(code, Some(0), "{}", w.stderr());
    assert_eq!(
        fake.event_callback(twilio::WORKSPACE_SID),
        Some((THEIRS.to_string(), Some(THEIR_FILTER.to_string()))),
        "the callback from before the killed run; stderr:\n{}",
        w.stderr()
    );
    assert!(!state.exists(), "the record is removed once it is put back");
}

/// `kill -9`, then `agentstatus watch --restore`: the callback from before the killed watch is
/// put back without watching, said on stdout (its origin only); a second restore has nothing
/// to do.
#[tokio::test(flavor = "multi_thread")]
async fn watch_restore_puts_back_what_a_twilio_watch_killed_with_sigkill_replaced() {
    let dir = tempfile::Builder::new()
        .prefix("agentstatus-signals-twilio-kill-restore-")
        .tempdir()
        .unwrap();
    let (fake, config, ours, state) = twilio_setup(dir.path()).await;
    twilio_killed(&fake, &config, &ours, &state).await;
    let env = [("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)];
    let (code, stdout, stderr) = agentstatus(&config, &env, &["watch", "--restore"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        fake.event_callback(twilio::WORKSPACE_SID),
        Some((THEIRS.to_string(), Some(THEIR_FILTER.to_string())))
    );
    assert!(stdout.contains("https://reports.example.com"), "{stdout}");
    assert!(!stdout.contains("/twilio/events"), "origins only: {stdout}");
    assert!(!state.exists());
    let (code, stdout, stderr) =
        agentstatus(&config, &env, &["--output", "json", "watch", "--restore"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let said: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(said["restored"], false, "{said}");
    assert_eq!(said["vendor"], "twilio-taskrouter", "{said}");
}

/// `kill -9` of a Graph watch leaves its subscription on Graph (nothing runs after SIGKILL);
/// `agentstatus watch --restore` deletes it, and so does the next watch before subscribing
/// (one subscription, not two).
#[tokio::test(flavor = "multi_thread")]
async fn a_graph_watch_killed_with_sigkill_leaves_a_subscription_that_restore_or_the_next_run_deletes()
 {
    let dir = tempfile::Builder::new()
        .prefix("agentstatus-signals-graph-kill-")
        .tempdir()
        .unwrap();
    let (fake, config) = graph(dir.path()).await;
    let env = [("MSGRAPH_CLIENT_SECRET", GRAPH_SECRET)];
    for round in 0..2 {
        let mut w = Watching::start(&config, &env);
        until("a subscription on the fake", &w, || {
            fake.subscriptions().len() == 1
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(w.stop("KILL").await, None, "{}", w.stderr());
        assert_eq!(
            fake.subscriptions().len(),
            1,
            "left by the kill (round {round})"
        );
        if round == 0 {
            let (code, stdout, stderr) = agentstatus(&config, &env, &["watch", "--restore"]);
            assert_eq!(code, Some(0), "{stdout}\n{stderr}");
            assert!(stdout.contains("1 presence subscription"), "{stdout}");
            assert!(fake.subscriptions().is_empty(), "{stdout}");
        }
    }
    // the next run: the killed run's subscription is deleted before its own is made
    let killed = fake.subscriptions()[0].id.clone();
    let mut w = Watching::start(&config, &env);
    until("the next run's own subscription", &w, || {
        let now = fake.subscriptions();
        now.len() == 1 && now[0].id != killed
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.subscriptions().len(), 1, "{}", w.stderr());
    assert_eq!(w.stop("TERM").await, Some(0), "{}", w.stderr());
    assert!(fake.subscriptions().is_empty(), "{}", w.stderr());
}

/// Two `agentstatus watch` processes on one Twilio `webhook_state_file`: the second cannot take
/// the file while the first holds its lock, and stops at once with exit code 2 (a config that
/// cannot run now, like any other), its one error line naming the state file, its lock file and
/// the first process; it touches neither the workspace nor the record. Started with a port and
/// URL of its own, and with the very same config (its listen address the first's: refused for
/// the lock, not for the address), the JSON error's kind `in_use`. Before, the second kept
/// polling beside the first and printed the refusal every interval until the first stopped.
/// The first runs on, puts back what it replaced when it stops, and a watch started then takes
/// over and puts the same callback back in turn.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_twilio_watch_on_one_state_file_stops_at_once_naming_the_lock_and_its_holder() {
    let dir = tempfile::Builder::new()
        .prefix("agentstatus-signals-twilio-two-")
        .tempdir()
        .unwrap();
    let (fake, config, ours, state) = twilio_setup(dir.path()).await;
    let env = [("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)];
    let mut first = Watching::start(&config, &env);
    until("the first watch's callback", &first, || {
        fake.event_callback(twilio::WORKSPACE_SID)
            .is_some_and(|(url, _)| url == ours)
    })
    .await;
    // the second: the same state file, a port and URL of its own
    let port = free_port();
    let theirs_too = format!("http://127.0.0.1:{port}/twilio/second");
    let text = std::fs::read_to_string(&config).unwrap();
    let old_port = ours
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let second_config = dir.path().join("second.toml");
    std::fs::write(
        &second_config,
        text.replace(&ours, &theirs_too).replace(
            &format!("127.0.0.1:{old_port}"),
            &format!("127.0.0.1:{port}"),
        ),
    )
    .unwrap();
    let lock = format!("{}.lock", state.display());
    let holder = format!("process {}", first.child.id());
    let mut second = Watching::start(&second_config, &env);
    // at once: its first read, then the refusal (the interval is 1 s; before, it ran on)
    let (code, said) = second.exited(Duration::from_secs(20)).await;
    assert_eq!(code, Some(2), "{said}");
    assert_eq!(
        said.matches("in use by another watch").count(),
        1,
        "refused once, then stopped: {said}"
    );
    assert!(
        said.lines()
            .any(|l| l.starts_with("agentstatus: error: twilio-taskrouter: ")
                && l.contains("in use by another watch")),
        "{said}"
    );
    for named in [state.display().to_string(), lock.clone(), holder.clone()] {
        assert!(said.contains(&named), "{named:?} in {said}");
    }
    assert!(!said.contains("next read catches up"), "{said}");
    // the same config twice, JSON errors: the lock is what refuses it, not the listen address
    let mut same = Watching::start_with(&config, &env, &["--output", "json"]);
    let (code, said) = same.exited(Duration::from_secs(20)).await;
    assert_eq!(code, Some(2), "{said}");
    // the error object (written over several lines), after any JSON log line
    let error: serde_json::Value = said
        .match_indices('{')
        .filter_map(|(at, _)| {
            serde_json::Deserializer::from_str(&said[at..])
                .into_iter::<serde_json::Value>()
                .next()?
                .ok()
        })
        .find(|v| v.get("exit_code").is_some())
        .expect(&said);
    assert_eq!(error["error"]["kind"], "in_use", "{said}");
    assert_eq!(error["exit_code"], 2, "{said}");
    let message = error["error"]["message"].as_str().unwrap();
    for named in [state.display().to_string(), lock.clone(), holder.clone()] {
        assert!(message.contains(&named), "{named:?} in {said}");
    }
    // neither touched the first's callback nor its record (what it replaced)
    assert_eq!(
        fake.event_callback(twilio::WORKSPACE_SID).unwrap().0,
        ours,
        "the first's callback stays"
    );
    let record = std::fs::read_to_string(&state).unwrap();
    assert!(
        record.contains(&ours) && record.contains(THEIRS),
        "{record}"
    );
    assert!(!record.contains(&theirs_too), "{record}");
    // the first runs on, and stops: theirs is back
    assert!(
        first.child.try_wait().unwrap().is_none(),
        "{}",
        first.stderr()
    );
    assert_eq!(first.stop("TERM").await, Some(0), "{}", first.stderr());
    assert_eq!(
        fake.event_callback(twilio::WORKSPACE_SID),
        Some((THEIRS.to_string(), Some(THEIR_FILTER.to_string()))),
        "{}",
        first.stderr()
    );
    // the file free, a watch started now takes over, and puts theirs back in turn
    let mut next = Watching::start(&second_config, &env);
    until(
        "the next watch's callback, once the first stopped",
        &next,
        || {
            fake.event_callback(twilio::WORKSPACE_SID)
                .is_some_and(|(url, _)| url == theirs_too)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(next.stop("TERM").await, Some(0), "{}", next.stderr());
    assert_eq!(
        fake.event_callback(twilio::WORKSPACE_SID),
        Some((THEIRS.to_string(), Some(THEIR_FILTER.to_string()))),
        "{}",
        next.stderr()
    );
    assert!(!state.exists());
}

/// `agentstatus sync` over a Twilio desk whose `webhook_state_file` an `agentstatus watch`
/// holds: it stops at start with exit code 2 and one error naming the desk, the state file, its
/// lock file and the watch's process, as a second watch does (`--output json`: kind `in_use`),
/// touching neither the workspace's callback nor the record. Before, it logged "read failed"
/// every interval and ran on.
#[tokio::test(flavor = "multi_thread")]
async fn sync_over_a_desk_whose_feed_a_watch_holds_stops_at_start_naming_the_lock() {
    let dir = tempfile::Builder::new()
        .prefix("agentstatus-signals-twilio-sync-")
        .tempdir()
        .unwrap();
    let (fake, config, ours, state) = twilio_setup(dir.path()).await;
    let env = [("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)];
    let mut watch = Watching::start(&config, &env);
    until("the watch's callback", &watch, || {
        fake.event_callback(twilio::WORKSPACE_SID)
            .is_some_and(|(url, _)| url == ours)
    })
    .await;
    let port = free_port();
    let sync_url = format!("http://127.0.0.1:{port}/twilio/sync");
    let sync_toml = dir.path().join("sync.toml");
    std::fs::write(
        &sync_toml,
        format!(
            "database = \"state.db\"\npeople = \"people.csv\"\ninterval = 1\n\n\
             [desks.phones]\nvendor = \"twilio-taskrouter\"\nbase_url = \"{}\"\n\
             account_sid = \"{}\"\nworkspace_sid = \"{}\"\nwatch = \"events\"\n\
             webhook_listen = \"127.0.0.1:{port}\"\nwebhook_url = \"{sync_url}\"\n\
             webhook_replace_existing = \"true\"\nwebhook_state_file = \"{}\"\n",
            fake.url(),
            twilio::ACCOUNT_SID,
            twilio::WORKSPACE_SID,
            state.display(),
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("people.csv"),
        format!(
            "person,phones\nada,{}\n",
            twilio::worker_sid_for("ada").unwrap()
        ),
    )
    .unwrap();
    let lock = format!("{}.lock", state.display());
    let holder = format!("process {}", watch.child.id());
    for json in [false, true] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentstatus"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
            .env("NO_COLOR", "1")
            .arg("--config")
            .arg(&sync_toml);
        if json {
            cmd.args(["--output", "json"]);
        }
        cmd.arg("sync")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = cmd.spawn().unwrap();
        let mut sync = Watching {
            child,
            stderr: Arc::new(Mutex::new(Vec::new())),
        };
        let sink = sync.stderr.clone();
        let pipe = sync.child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        // at once: the interval is 1 s; before, it ran on reporting the refusal each interval
        let (code, said) = sync.exited(Duration::from_secs(20)).await;
        assert_eq!(code, Some(2), "{said}");
        assert!(!said.contains("next read catches up"), "{said}");
        let message = if json {
            let error: serde_json::Value = said
                .match_indices('{')
                .filter_map(|(at, _)| {
                    serde_json::Deserializer::from_str(&said[at..])
                        .into_iter::<serde_json::Value>()
                        .next()?
                        .ok()
                })
                .find(|v| v.get("exit_code").is_some())
                .expect(&said);
            assert_eq!(error["error"]["kind"], "in_use", "{said}");
            assert_eq!(error["exit_code"], 2, "{said}");
            error["error"]["message"].as_str().unwrap().to_string()
        } else {
            said.lines()
                .find(|l| l.starts_with("agentstatus: error: desk phones: "))
                .unwrap_or_else(|| panic!("{said}"))
                .to_string()
        };
        for named in [
            "desk phones".to_string(),
            state.display().to_string(),
            lock.clone(),
            holder.clone(),
        ] {
            assert!(message.contains(&named), "{named:?} in {message}");
        }
    }
    // the watch's callback and record untouched; it runs on
    assert_eq!(
        fake.event_callback(twilio::WORKSPACE_SID).unwrap().0,
        ours,
        "the watch's callback stays"
    );
    let record = std::fs::read_to_string(&state).unwrap();
    assert!(
        record.contains(&ours) && !record.contains(&sync_url),
        "{record}"
    );
    assert!(
        watch.child.try_wait().unwrap().is_none(),
        "{}",
        watch.stderr()
    );
    assert_eq!(watch.stop("TERM").await, Some(0), "{}", watch.stderr());
}
