//! `agentstatus sync` end to end: the built binary, a sync.toml and a people map, two fakes of
//! two vendors on 127.0.0.1.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use agentstatus::{chatwoot::fake as cw, rocketchat::fake as rc};
use assert_cmd::Command;

const RC_TOKEN: &str = "rc-sync-s3cr3t";
const CW_TOKEN: &str = "cw-sync-s3cr3t";

struct Setup {
    rc: rc::RocketChat,
    cw: cw::Chatwoot,
    /// Removed when dropped (a failed test's too).
    dir: tempfile::TempDir,
}

async fn setup(tag: &str) -> Setup {
    let rc = rc::RocketChat::start().await.unwrap();
    rc.add_user("mgr", RC_TOKEN, true);
    // a service's admin or bot token: not counted by the server's rate limiter
    rc.bypass_rate_limit("mgr");
    rc.add_agent(rc::Agent::new("ada", "Ada Lovelace", "available"));
    rc.add_agent(rc::Agent::new("grace", "Grace Hopper", "available"));
    rc.add_agent(rc::Agent::new("bot", "Some Bot", "available"));
    let cw = cw::Chatwoot::start(1).await.unwrap();
    cw.add_agent(cw::Agent::new(1, "Ada Lovelace", CW_TOKEN, "online").administrator());
    cw.add_agent(cw::Agent::new(2, "Grace Hopper", "grace-token", "online"));
    let dir = tempfile::Builder::new()
        .prefix(&format!("agentstatus-cli-sync-{tag}-"))
        .tempdir()
        .unwrap();
    std::fs::write(
        dir.path().join("sync.toml"),
        format!(
            "database = \"state.db\"\npeople = \"people.csv\"\ninterval = 0.2\n\n\
             [desks.chat]\nvendor = \"rocketchat\"\nbase_url = \"{}\"\nuser_id = \"mgr\"\n\
             substitute = {{ busy = \"offline\", away = \"offline\" }}\n\n\
             [desks.tickets]\nvendor = \"chatwoot\"\nbase_url = \"{}\"\naccount_id = 1\n\
             substitute = {{ away = \"offline\" }}\n",
            rc.url(),
            cw.url()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("people.csv"),
        "person,chat,tickets\nada,ada,1\ngrace,grace,2\n",
    )
    .unwrap();
    Setup { rc, cw, dir }
}

async fn sync(config: &Path, args: &[&str]) -> Output {
    let config = config.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::cargo_bin("agentstatus").unwrap();
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("ROCKETCHAT_AUTH_TOKEN", RC_TOKEN)
            .env("CHATWOOT_API_ACCESS_TOKEN", CW_TOKEN)
            .env("NO_COLOR", "1")
            .arg("--config")
            .arg(config)
            .arg("sync")
            .args(args)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_passes_decide_write_and_dry_run_writes_nothing() {
    let s = setup("once").await;
    let config = s.dir.path().join("sync.toml");
    // the first pass is the baseline; the agent no one is named is reported
    let o = sync(&config, &["--once"]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("agent is no one in the people map"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(s.rc.state_changes() + s.cw.state_changes(), 0);

    // ada goes busy on Chatwoot by hand
    let mut ada = s.cw.agent(1).unwrap();
    ada.availability = "busy".into();
    s.cw.add_agent(ada);
    let o = sync(&config, &["--once", "--dry-run"]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "would set chat ada (ada) -> offline\n");
    assert_eq!(s.rc.state_changes(), 0, "a dry run writes nothing");

    let o = sync(&config, &["--once", "--output", "json"]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(s.rc.agent("ada").unwrap().status_livechat, "not-available");
    assert_eq!(s.rc.state_changes(), 1);
    let summary: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
    assert_eq!(summary["summary"]["decisions"], 1);
    assert_eq!(summary["summary"]["desks"][0]["writes_made"], 1);
    // the secrets are nowhere in what it printed
    for out in [text(&o.stdout), text(&o.stderr)] {
        assert!(!out.contains(RC_TOKEN) && !out.contains(CW_TOKEN));
    }

    // the echo decides nothing
    let o = sync(&config, &["--once"]).await;
    assert!(o.status.success());
    assert!(
        text(&o.stderr).contains("0 decisions"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(s.cw.agent(1).unwrap().availability, "busy");
    assert_eq!(s.rc.state_changes() + s.cw.state_changes(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_sync_follows_a_change_and_stops_on_sigterm_with_a_summary() {
    let s = setup("run").await;
    let config = s.dir.path().join("sync.toml");
    // a free port for /metrics
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text_config = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("listen = \"127.0.0.1:{port}\"\n{text_config}"),
    )
    .unwrap();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("agentstatus"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ROCKETCHAT_AUTH_TOKEN", RC_TOKEN)
        .env("CHATWOOT_API_ACCESS_TOKEN", CW_TOKEN)
        .env("NO_COLOR", "1")
        .arg("--config")
        .arg(&config)
        .arg("sync")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    // grace goes offline on Rocket.Chat by hand
    let mut grace = s.rc.agent("grace").unwrap();
    grace.status_livechat = "not-available".into();
    s.rc.add_agent(grace);
    let mut followed = false;
    for _ in 0..100 {
        if s.cw.agent(2).unwrap().availability == "offline" {
            followed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(followed, "Chatwoot never followed: {}", text(&o.stderr));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("agentstatus: sync: 1 decisions, 0 writes still owed"),
        "{err}"
    );
    assert!(err.contains("tickets (chatwoot): 0 changes seen"), "{err}");
    assert_eq!(s.cw.state_changes(), 1);
    assert!(
        metrics.contains(
            "agentstatus_sync_writes_total{desk=\"tickets\",vendor=\"chatwoot\",outcome=\"made\"} 1\n"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("agentstatus_sync_decisions_total 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_bad_config_or_people_map_is_a_usage_error_with_its_place() {
    let s = setup("bad").await;
    let config = s.dir.path().join("sync.toml");
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        good.replace("account_id = 1", "account_id = \"one\""),
    )
    .unwrap();
    let o = sync(&config, &["--once"]).await;
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("sync.toml:14:14: [desks.tickets] `account_id` must be an integer"),
        "{err}"
    );

    std::fs::write(&config, &good).unwrap();
    std::fs::write(
        s.dir.path().join("people.csv"),
        "person,chat,tickets\nada,ada,1\ngrace,ada,2\n",
    )
    .unwrap();
    let o = sync(&config, &["--once"]).await;
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains(
            "people.csv:3: agent \"ada\" of desk \"chat\" is already someone else's (line 2)"
        ),
        "{err}"
    );
    assert!(
        !s.dir.path().join("state.db").exists(),
        "nothing stored before the config is right"
    );
}

fn spawn_sync(config: &Path) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("agentstatus"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ROCKETCHAT_AUTH_TOKEN", RC_TOKEN)
        .env("CHATWOOT_API_ACCESS_TOKEN", CW_TOKEN)
        .env("NO_COLOR", "1")
        .arg("--config")
        .arg(config)
        .arg("sync")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

async fn until(what: impl Fn() -> bool) -> bool {
    for _ in 0..100 {
        if what() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_and_restart_loses_nothing_and_writes_nothing_twice() {
    let s = setup("kill").await;
    let config = s.dir.path().join("sync.toml");
    let mut child = spawn_sync(&config);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let mut ada = s.rc.agent("ada").unwrap();
    ada.status_livechat = "not-available".into();
    s.rc.add_agent(ada);
    assert!(until(|| s.cw.agent(1).unwrap().availability == "offline").await);
    // SIGKILL: no summary, no cleanup
    child.kill().unwrap();
    let _ = child.wait();
    // while it is down, grace goes busy on Chatwoot
    let mut grace = s.cw.agent(2).unwrap();
    grace.availability = "busy".into();
    s.cw.add_agent(grace);
    let mut child = spawn_sync(&config);
    let followed = until(|| s.rc.agent("grace").unwrap().status_livechat == "not-available").await;
    // a few more reads: nothing else moves
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    child.kill().unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        followed,
        "the change made while down was lost: {}",
        text(&o.stderr)
    );
    // one write each: ada's to Chatwoot before the kill, grace's to Rocket.Chat after
    assert_eq!((s.cw.state_changes(), s.rc.state_changes()), (1, 1));
    assert_eq!(s.rc.agent("ada").unwrap().status_livechat, "not-available");
    assert_eq!(s.cw.agent(1).unwrap().availability, "offline");
    let err = text(&o.stderr);
    assert_eq!(
        err.matches("decided").count(),
        1,
        "only grace's change is new: {err}"
    );
}

/// Two syncs given one config (one state database) would both send its outbox and decide its
/// changes: the second is refused at once, its error naming the database, its lock file and
/// the process that holds it; the first runs on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sync_on_the_same_database_is_refused_naming_the_holder() {
    let s = setup("twice").await;
    let config = s.dir.path().join("sync.toml");
    let mut first = spawn_sync(&config);
    let db = s.dir.path().join("state.db");
    assert!(
        until(|| db.exists()).await,
        "the first sync made its database"
    );
    let second = sync(&config, &[]).await;
    let err = text(&second.stderr);
    assert!(!second.status.success(), "{err}");
    assert!(err.contains("state.db"), "{err}");
    assert!(err.contains("in use by another sync"), "{err}");
    assert!(err.contains(&format!("process {}", first.id())), "{err}");
    assert!(err.contains("state.db.lock"), "{err}");
    assert!(first.try_wait().unwrap().is_none(), "the first one runs on");
    let _ = first.kill();
    let _ = first.wait();
}
