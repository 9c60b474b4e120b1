//! `agentstatus --vendor msgraph list` against Microsoft Graph's fake (`agentstatus fake --vendor
//! msgraph`), through the OAuth 2.0 client credentials flow: the token is fetched once per run,
//! fetched again after the API refuses it (401), and never printed — also not with
//! `RUST_LOG=trace`. The fake's request log (its stderr) counts the token requests.
//!
//! Microsoft Graph is a default feature of the command; a build without it
//! (`--no-default-features`) says so and checks nothing.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

const SECRET_VAR: &str = "MSGRAPH_CLIENT_SECRET";
/// What `agentstatus fake` accepts: `fake-<vendor>-<key>`.
const SECRET: &str = "fake-msgraph-client_secret";
/// The prefix of the fake's access tokens.
const TOKEN_PREFIX: &str = "fake-graph-access-";

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_agentstatus"))
}

struct Fake {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    /// Removed when dropped (a failed test's too).
    dir: tempfile::TempDir,
}

impl Fake {
    /// `agentstatus fake --vendor msgraph`, its config written in a scratch directory, the
    /// `faults` queued; its request log collected from its stderr.
    fn start(tag: &str, faults: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("agentstatus-msgraph-cli-{tag}-"))
            .tempdir()
            .unwrap();
        let config = dir.path().join("fake.toml");
        let mut args = vec![
            "fake".to_string(),
            "--vendor".into(),
            "msgraph".into(),
            "--write-config".into(),
            config.to_str().unwrap().into(),
        ];
        for f in faults {
            args.push("--fault".into());
            args.push((*f).into());
        }
        let mut child = Command::new(bin())
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        for _ in 0..1200 {
            if config.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(config.exists(), "agentstatus fake wrote no config");
        Fake { child, log, dir }
    }

    fn config(&self) -> String {
        self.dir
            .path()
            .join("fake.toml")
            .to_str()
            .unwrap()
            .to_string()
    }

    /// The requests logged so far that match `what` (`POST /.../token`), once the log has
    /// caught up (it is written every 200 ms).
    fn count(&self, what: impl Fn(&str) -> bool) -> usize {
        std::thread::sleep(Duration::from_millis(700));
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with("msgraph: ") && what(l))
            .count()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_token(line: &str) -> bool {
    line.contains("POST /") && line.ends_with("/oauth2/v2.0/token")
}

fn is_bulk(line: &str) -> bool {
    line.ends_with("/communications/microsoft.graph.getPresencesByUserId")
}

fn run(config: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(["--config", config, "--vendor", "msgraph"])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn in_this_build() -> bool {
    // the test links the facade with the command's features: its registry is the command's
    let there = agentstatus::find("msgraph").is_some();
    if !there {
        eprintln!(
            "msgraph is not compiled into this build of agentstatus: it is a default feature (`--features msgraph`)"
        );
    }
    there
}

#[test]
fn list_goes_through_the_client_credentials_flow_and_never_prints_a_secret() {
    if !in_this_build() {
        return;
    }
    let fake = Fake::start("list", &[]);
    let config = fake.config();
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("vendor = \"msgraph\""), "{written}");
    // the secret is read from the environment, never written as a key (the comment names the
    // value the fake accepts, as for every vendor)
    assert!(
        !written.contains("client_secret ="),
        "no secret in the config: {written}"
    );
    assert!(written.contains("$MSGRAPH_CLIENT_SECRET"), "{written}");

    let o = run(
        &config,
        &["--output", "json", "list"],
        &[(SECRET_VAR, SECRET), ("RUST_LOG", "trace")],
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    let agents: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(agents.len(), 3, "the default cast: {all}");
    assert!(
        agents
            .iter()
            .any(|a| a["agent"]["availability"] == "available"),
        "{all}"
    );
    assert!(
        !all.contains(SECRET),
        "the client secret was printed: {all}"
    );
    assert!(
        !all.contains(TOKEN_PREFIX),
        "an access token was printed: {all}"
    );
    // one token for the run, one bulk read
    assert_eq!(fake.count(is_token), 1, "{:?}", fake.log.lock().unwrap());
    assert_eq!(fake.count(is_bulk), 1);

    // a wrong secret: the token endpoint's invalid_client, an authentication error (exit 3),
    // without the secret
    let o = run(
        &config,
        &["list"],
        &[(SECRET_VAR, "wrong-secret-value"), ("RUST_LOG", "trace")],
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(3), "{all}");
    assert!(!all.contains("wrong-secret-value"), "{all}");
    assert_eq!(fake.count(is_bulk), 1, "no API call without a token");
}

#[test]
fn a_refused_token_is_fetched_again_once_and_the_call_retried() {
    if !in_this_build() {
        return;
    }
    // the token request passes (a 1 ms delay), then the API answers 401 once: the server no
    // longer accepts the token (expired on its clock)
    let fake = Fake::start("refresh", &["delay:1", "401"]);
    let config = fake.config();
    let o = run(
        &config,
        &["--output", "json", "list"],
        &[(SECRET_VAR, SECRET), ("RUST_LOG", "trace")],
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).lines().count(),
        3,
        "{all}"
    );
    assert!(
        !all.contains(SECRET) && !all.contains(TOKEN_PREFIX),
        "{all}"
    );
    assert_eq!(
        fake.count(is_token),
        2,
        "fetched, then fetched again after the 401"
    );
    assert_eq!(fake.count(is_bulk), 2, "the refused call, then its retry");
}
