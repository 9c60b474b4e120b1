//! End to end: the built `agentstatus` binary against the fake servers (127.0.0.1).

use std::path::PathBuf;
use std::process::Output;

use agentstatus::{
    chatwoot::fake as cw, engage_digital::fake as ed, libredesk::fake as ld, rocketchat::fake as rc,
};
use assert_cmd::Command;
use serde_json::Value;

const RC_TOKEN: &str = "rc-s3cr3t-token";
const LD_SECRET: &str = "ld-s3cr3t";
const ED_TOKEN: &str = "ed-s3cr3t-token";
const CW_TOKEN: &str = "cw-s3cr3t-token";

struct Fakes {
    rc: rc::RocketChat,
    ld: ld::Libredesk,
    ed: ed::EngageDigital,
    /// Removed when dropped (a failed test's too).
    dir: tempfile::TempDir,
}

async fn fakes(tag: &str) -> Fakes {
    let rc = rc::RocketChat::start().await.unwrap();
    rc.add_user("mgr", RC_TOKEN, true);
    // a service's admin or bot token: not counted by the server's rate limiter
    rc.bypass_rate_limit("mgr");
    rc.add_agent(rc::Agent::new("ada", "Ada Lovelace", "not-available"));
    rc.add_agent(rc::Agent::new("grace", "Grace Hopper", "available"));
    let ld = ld::Libredesk::start().await.unwrap();
    ld.add_agent(ld::Agent::new(
        1,
        "Ada Lovelace",
        "offline",
        "ada-key",
        LD_SECRET,
    ));
    ld.add_agent(ld::Agent::new(
        2,
        "Grace Hopper",
        "online",
        "grace-key",
        "other",
    ));
    let ed = ed::EngageDigital::start().await.unwrap();
    ed.add_supervisor_token(ED_TOKEN);
    ed.add_agent(ed::Agent::new(
        "ada",
        &[("c1", "Email"), ("c2", "Chat")],
        "away",
    ));
    ed.add_agent(ed::Agent::new("grace", &[("c1", "Email")], "available"));
    let dir = tempfile::Builder::new()
        .prefix(&format!("agentstatus-cli-{tag}-"))
        .tempdir()
        .unwrap();
    Fakes { rc, ld, ed, dir }
}

impl Fakes {
    /// A config file choosing `vendor`; everything else is the same for every vendor.
    fn config(&self, vendor: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{vendor}.toml"));
        std::fs::write(
            &path,
            format!(
                "vendor = \"{vendor}\"\n\n[rocketchat]\nbase_url = \"{}\"\nuser_id = \"mgr\"\n\n\
                 [libredesk]\nbase_url = \"{}\"\napi_key = \"ada-key\"\n\n\
                 [engage-digital]\nbase_url = \"{}\"\n",
                self.rc.url(),
                self.ld.url(),
                self.ed.url()
            ),
        )
        .unwrap();
        path
    }
}

/// Run the binary with every secret in the environment.
async fn run(config: Option<PathBuf>, args: &[&str]) -> Output {
    run_env(
        config,
        args,
        &[
            ("ROCKETCHAT_AUTH_TOKEN", RC_TOKEN),
            ("LIBREDESK_API_SECRET", LD_SECRET),
            ("ENGAGE_DIGITAL_TOKEN", ED_TOKEN),
        ],
    )
    .await
}

async fn run_env(config: Option<PathBuf>, args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::cargo_bin("agentstatus").unwrap();
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        cmd.args(args).output().unwrap()
    })
    .await
    .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_commands_work_on_every_vendor_by_changing_one_config_line() {
    let f = fakes("same").await;
    for (vendor, agent, settable) in [
        ("rocketchat", "ada", "offline"),
        ("libredesk", "me", "away"),
        ("engage-digital", "ada", "away"),
    ] {
        let config = f.config(vendor);
        let o = run(Some(config.clone()), &["set", agent, "available"]).await;
        assert_eq!(o.status.code(), Some(0), "{vendor}: {}", stderr(&o));
        assert!(stdout(&o).contains("available"), "{vendor}: {}", stdout(&o));

        let o = run(Some(config.clone()), &["--output", "json", "get", agent]).await;
        assert_eq!(o.status.code(), Some(0), "{vendor}: {}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["vendor"], vendor);
        assert_eq!(v["agent"]["availability"], "available");

        let o = run(Some(config.clone()), &["set", agent, settable]).await;
        assert_eq!(o.status.code(), Some(0), "{vendor}: {}", stderr(&o));

        let o = run(
            Some(config.clone()),
            &["--output", "json", "list", "--available"],
        )
        .await;
        assert_eq!(o.status.code(), Some(0), "{vendor}: {}", stderr(&o));
        // JSON lines: one object per agent
        let v: Vec<Value> = stdout(&o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let ids: Vec<&str> = v
            .iter()
            .map(|a| a["agent"]["agent_id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&"grace") || ids.contains(&"2"),
            "{vendor}: {ids:?}"
        );
        assert!(
            !ids.contains(&"ada") && !ids.contains(&"1"),
            "{vendor}: {ids:?}"
        );

        let o = run(Some(config), &["list"]).await;
        assert!(stdout(&o).starts_with("AGENT"), "{}", stdout(&o));
    }
    assert_eq!(f.rc.agent("ada").unwrap().status_livechat, "not-available");
    assert_eq!(f.ld.agent(1).unwrap().availability_status, "away_manual");
    assert!(
        f.ed.agent("ada")
            .unwrap()
            .channels
            .iter()
            .all(|c| c.status == "away")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn vendor_flag_overrides_the_config() {
    let f = fakes("flag").await;
    let o = run(
        Some(f.config("rocketchat")),
        &["--vendor", "libredesk", "get", "me"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("Ada Lovelace"));
}

#[tokio::test(flavor = "multi_thread")]
async fn distinct_exit_codes() {
    let f = fakes("codes").await;
    let cfg = f.config("rocketchat");
    // not found
    let o = run(Some(cfg.clone()), &["get", "nobody"]).await;
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    // unsupported
    let o = run(Some(cfg.clone()), &["set", "ada", "busy"]).await;
    assert_eq!(o.status.code(), Some(5));
    assert!(
        stderr(&o).contains("rocketchat cannot set an agent busy"),
        "{}",
        stderr(&o)
    );
    // auth failure, secret not echoed
    let o = run_env(
        Some(cfg.clone()),
        &["get", "ada"],
        &[("ROCKETCHAT_AUTH_TOKEN", "wrong-s3cr3t")],
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(!stderr(&o).contains("wrong-s3cr3t") && !stdout(&o).contains("wrong-s3cr3t"));
    // network: nothing listens there
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let path = f.dir.path().join("closed.toml");
    std::fs::write(
        &path,
        format!("vendor = \"engage-digital\"\n[engage-digital]\nbase_url = \"{url}\"\n"),
    )
    .unwrap();
    let o = run(Some(path), &["list"]).await;
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    // every error is one line
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_arguments_are_usage_errors() {
    let f = fakes("args").await;
    let cfg = f.config("rocketchat");
    for args in [
        &["set", "ada", "sleepy"][..],
        &["get"][..],
        &["--vendor", "zendesk", "get", "ada"][..],
        &["frobnicate"][..],
        &["--output", "xml", "list"][..],
    ] {
        let o = run(Some(cfg.clone()), args).await;
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    // no secret can be given on the command line
    let o = run(Some(cfg), &["--token", "x", "get", "ada"]).await;
    assert_eq!(o.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_secret_names_the_variable() {
    let f = fakes("secret").await;
    let o = run_env(Some(f.config("libredesk")), &["get", "me"], &[]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("set $LIBREDESK_API_SECRET"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn config_errors_name_the_file_and_position() {
    let f = fakes("config").await;
    let path = f.dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "vendor = \"rocketchat\"\n[rocketchat]\nbase_url = 5\nuser_id = \"x\"\n",
    )
    .unwrap();
    let o = run(Some(path.clone()), &["get", "ada"]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("{}:3:12", path.display())),
        "{}",
        stderr(&o)
    );
    let o = run(Some(f.dir.path().join("missing.toml")), &["get", "ada"]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read the config file"),
        "{}",
        stderr(&o)
    );
    // every section is checked against its vendor's registry entry, with the position
    for (text, at, says) in [
        (
            "vendor = \"chatwoot\"\n[chatwoot]\nbase_url = \"https://x\"\naccount = 1\n",
            ":4:1",
            "unknown key `account`",
        ),
        (
            "vendor = \"chatwoot\"\n[chatwoot]\nbase_url = \"https://x\"\naccount_id = \"one\"\n",
            ":4:14",
            "must be an integer",
        ),
        (
            "vendor = \"chatwoot\"\n[chatwoot]\nbase_url = \"https://x\"\ntoken = \"s3cr3t\"\n",
            ":4:1",
            "is a secret",
        ),
        (
            "vendor = \"libredesk\"\n[libredesk]\nbase_url = \"https://x\"\napi_key = \"k\"\nscheme = \"bearer\"\n",
            ":5:10",
            "must be one of basic, token",
        ),
        (
            "vendor = \"acme\"\n[acme]\nbase_url = \"https://x\"\n",
            ":2:2",
            "unknown vendor section [acme]",
        ),
        ("vendor = \"acme\"\n", ":1:10", "unknown vendor \"acme\""),
        (
            "vendor = \"chatwoot\"\n[chatwoot]\naccount_id = 1\n",
            ":2:2",
            "needs `base_url`",
        ),
        (
            "vendor = \"chatwoot\"\n[chatwoot]\nbase_url = \"https://x\"\nrate_limit = \"0/min\"\naccount_id = 1\n",
            ":4:14",
            "[chatwoot] `rate_limit` \"0/min\": zero requests",
        ),
        (
            "vendor = \"chatwoot\"\n[chatwoot]\nbase_url = \"https://x\"\nrate_limit = \"10/fortnight\"\naccount_id = 1\n",
            ":4:14",
            "unknown unit \"fortnight\"",
        ),
    ] {
        let path = f.dir.path().join("sections.toml");
        std::fs::write(&path, text).unwrap();
        let o = run_env(
            Some(path.clone()),
            &["get", "1"],
            &[
                ("CHATWOOT_API_ACCESS_TOKEN", "t"),
                ("LIBREDESK_API_SECRET", "s"),
            ],
        )
        .await;
        assert_eq!(o.status.code(), Some(2), "{text}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("{}{at}", path.display())),
            "{text}: {err}"
        );
        assert!(err.contains(says), "{text}: {err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_are_not_sent_over_plain_http_to_a_remote_host_unless_allowed() {
    let f = fakes("insecure").await;
    let path = f.dir.path().join("remote.toml");
    std::fs::write(&path, "vendor = \"libredesk\"\n[libredesk]\nbase_url = \"http://desk.example.com\"\napi_key = \"k\"\n").unwrap();
    let o = run(Some(path), &["get", "me"]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("refusing to send credentials over plain http://"),
        "{}",
        stderr(&o)
    );
    // opting in gets past the check (and then fails to connect: nothing is reachable here)
    let path = f.dir.path().join("optin.toml");
    std::fs::write(&path, "vendor = \"libredesk\"\n[libredesk]\nbase_url = \"http://127.0.0.1:9\"\napi_key = \"k\"\nallow_insecure_http = true\n").unwrap();
    let o = run(Some(path), &["get", "me"]).await;
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_runs_with_nothing_configured() {
    let o = run_env(None, &["demo"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    // every registered vendor, none by hand
    let registry = agentstatus::registry();
    for entry in &registry {
        assert!(out.contains(&format!("== {} ==", entry.title)), "{out}");
    }
    assert_eq!(
        out.matches("state changes at the server: 0 (unchanged)")
            .count(),
        registry.len(),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_sync_shows_a_change_on_one_desk_arriving_in_the_others() {
    let o = run_env(None, &["demo", "--sync"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Starting fake Chatwoot, Rocket.Chat, Engage Digital servers on 127.0.0.1"),
        "{out}"
    );
    assert!(
        out.contains("$ agentstatus sync --config sync.toml &"),
        "{out}"
    );
    assert!(out.contains("[desks.rocketchat]"), "{out}");
    // the first change: by hand on Chatwoot, arriving in the two others
    let first = out
        .split("# Ada goes busy by hand on Chatwoot")
        .nth(1)
        .expect(&out);
    let first = first.split("# Ada goes").next().unwrap();
    assert!(first.contains("chatwoot/1: busy"), "{first}");
    assert!(
        first.contains("-> arrived in Rocket.Chat: rocketchat/ada: offline (busy is held as offline there), after "),
        "{first}"
    );
    assert!(
        first.contains("-> arrived in Engage Digital: engage-digital/ada: "),
        "{first}"
    );
    // the second: by hand on Rocket.Chat
    let second = out
        .split("# Ada goes available by hand on Rocket.Chat")
        .nth(1)
        .expect(&out);
    assert!(
        second.contains("-> arrived in Chatwoot: chatwoot/1: available, after "),
        "{second}"
    );
    assert!(
        second.contains("-> arrived in Engage Digital: engage-digital/ada: available, after "),
        "{second}"
    );
    // two decisions, nothing owed; no echo decided anything
    assert!(out.contains("2 decisions, 0 writes still owed"), "{out}");

    // JSON lines: the same story, and the writes counted
    let o = run_env(None, &["--output", "json", "demo", "--sync"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let arrived: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["step"] == "arrived").collect();
    assert_eq!(arrived.len(), 4, "{lines:?}");
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(summary["decisions"], 2, "{summary}");
    let writes: u64 = summary["desks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["writes_made"].as_u64().unwrap())
        .sum();
    assert_eq!(writes, 4, "one write per other desk per change: {summary}");
    // --vendor chooses nothing here
    let o = run_env(None, &["--vendor", "rocketchat", "demo", "--sync"], &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_plans_applies_and_is_idempotent() {
    let f = fakes("apply").await;
    let config = f.config("engage-digital");
    let roster = f.dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "agent,availability\nada,available\ngrace,available\n",
    )
    .unwrap();
    let roster = roster.to_str().unwrap().to_string();

    // the plan writes nothing
    let o = run(Some(config.clone()), &["apply", &roster, "--dry-run"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("will change"), "{out}");
    assert!(
        out.contains("plan: 1 to change, 1 unchanged, 0 unsupported, 0 failed"),
        "{out}"
    );
    assert_eq!(f.ed.state_changes(), 0);

    let o = run(Some(config.clone()), &["apply", &roster]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("1 changed, 1 unchanged, 0 unsupported, 0 failed"),
        "{}",
        stdout(&o)
    );
    // not a terminal: plain progress lines
    assert!(stderr(&o).contains("[2/2]"), "{}", stderr(&o));
    assert_eq!(f.ed.state_changes(), 1);
    let puts = f.ed.faults().count("PUT", "/status/ada");
    assert_eq!(puts, 1);

    // the same roster again: no write at all
    let o = run(
        Some(config.clone()),
        &["--output", "json", "apply", &roster],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["summary"]["changed"], 0);
    assert_eq!(report["summary"]["unchanged"], 2);
    assert_eq!(report["results"][0]["agent"], "ada");
    assert_eq!(f.ed.faults().count("PUT", "/status/ada"), 1);
    assert_eq!(f.ed.state_changes(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_reports_failures_and_unsupported_states_and_reads_stdin() {
    let f = fakes("apply-fail").await;
    let config = f.config("rocketchat");
    let roster = f.dir.path().join("roster.jsonl");
    std::fs::write(
        &roster,
        "{\"agent\": \"ada\", \"availability\": \"available\"}\n{\"agent\": \"nobody\", \"availability\": \"available\"}\n{\"agent\": \"grace\", \"availability\": \"away\"}\n",
    )
    .unwrap();
    let o = run(
        Some(config.clone()),
        &["--output", "json", "apply", roster.to_str().unwrap()],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["summary"]["changed"], 1, "{report}");
    assert_eq!(report["summary"]["failed"], 1, "{report}");
    assert_eq!(report["summary"]["unsupported"], 1, "{report}");
    assert_eq!(report["results"][1]["result"], "failed");
    assert!(
        report["results"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("nobody")
    );
    assert_eq!(report["results"][2]["result"], "unsupported");

    // a broken roster: a usage error naming the line
    let bad = f.dir.path().join("bad.csv");
    std::fs::write(&bad, "ada,available\ngrace,napping\n").unwrap();
    let o = run(Some(config.clone()), &["apply", bad.to_str().unwrap()]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.csv:2: unknown availability"),
        "{}",
        stderr(&o)
    );

    // `-` reads standard input
    let args: Vec<String> = [
        "--config",
        config.to_str().unwrap(),
        "apply",
        "-",
        "--dry-run",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let o = tokio::task::spawn_blocking(move || {
        Command::cargo_bin("agentstatus")
            .unwrap()
            .env_clear()
            .env("ROCKETCHAT_AUTH_TOKEN", RC_TOKEN)
            .args(args)
            .write_stdin("agent,availability\ngrace,offline\n")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("plan: 1 to change"), "{}", stdout(&o));
}

/// A roster naming the two agents a vendor has and 2,000 it does not: `apply` reads the list
/// once for the whole roster, in the plan and in the run, however many agents it does not know
/// (it used to read the list again for each, on Chatwoot and Libredesk, or read each agent),
/// and still reports each unknown agent, with its roster line.
#[tokio::test(flavor = "multi_thread")]
async fn apply_resolves_unknown_agents_from_one_read_of_the_list() {
    const UNKNOWN: usize = 2_000;
    let f = fakes("unknown").await;
    let cw = cw::Chatwoot::start(1).await.unwrap();
    cw.add_agent(cw::Agent::new(1, "Ada Lovelace", CW_TOKEN, "offline").administrator());
    cw.add_agent(cw::Agent::new(2, "Grace Hopper", "cw-other", "online"));
    let cw_config = f.dir.path().join("chatwoot.toml");
    std::fs::write(
        &cw_config,
        format!(
            "vendor = \"chatwoot\"\n[chatwoot]\nbase_url = \"{}\"\naccount_id = 1\n",
            cw.url()
        ),
    )
    .unwrap();
    let vendors: [(&str, PathBuf, [&str; 2], &agentstatus_fakes::Faults); 4] = [
        (
            "rocketchat",
            f.config("rocketchat"),
            ["ada", "grace"],
            f.rc.faults(),
        ),
        (
            "libredesk",
            f.config("libredesk"),
            ["1", "2"],
            f.ld.faults(),
        ),
        (
            "engage-digital",
            f.config("engage-digital"),
            ["ada", "grace"],
            f.ed.faults(),
        ),
        ("chatwoot", cw_config, ["1", "2"], cw.faults()),
    ];
    // numeric ids: what Chatwoot's and Libredesk's agents have
    let unknown: Vec<String> = (0..UNKNOWN).map(|i| (900_000 + i).to_string()).collect();
    for (vendor, config, known, faults) in vendors {
        let roster = f.dir.path().join(format!("{vendor}-unknown.csv"));
        let mut text = format!(
            "agent,availability\n{},available\n{},available\n",
            known[0], known[1]
        );
        for id in &unknown {
            text.push_str(&format!("{id},available\n"));
        }
        std::fs::write(&roster, text).unwrap();
        let roster = roster.to_str().unwrap();
        for dry_run in [true, false] {
            let mut args = vec!["--output", "json", "apply", roster];
            if dry_run {
                args.push("--dry-run");
            }
            let before = faults.requests().len();
            let o = run_env(
                Some(config.clone()),
                &args,
                &[
                    ("ROCKETCHAT_AUTH_TOKEN", RC_TOKEN),
                    ("LIBREDESK_API_SECRET", LD_SECRET),
                    ("ENGAGE_DIGITAL_TOKEN", ED_TOKEN),
                    ("CHATWOOT_API_ACCESS_TOKEN", CW_TOKEN),
                ],
            )
            .await;
            let sent = &faults.requests()[before..];
            let what = format!("{vendor} dry_run={dry_run}");
            // one read of the list (and a write or two for the known agents), not one per agent
            assert!(
                sent.len() <= 6,
                "{what}: {} requests: {:?}",
                sent.len(),
                &sent[..sent.len().min(12)]
            );
            assert_eq!(o.status.code(), Some(1), "{what}: {}", stderr(&o));
            let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
            let results = report["results"].as_array().unwrap();
            assert_eq!(results.len(), UNKNOWN + 2, "{what}");
            if dry_run {
                for r in &results[..2] {
                    assert!(
                        r["result"] == "changed" || r["result"] == "unchanged",
                        "{what}: {r}"
                    );
                }
            }
            for (i, id) in unknown.iter().enumerate() {
                let r = &results[i + 2];
                assert_eq!(r["agent"], id.as_str(), "{what}: {r}");
                assert_eq!(r["line"], i + 4, "{what}: {r}");
                let reason = r["reason"].as_str().unwrap_or_default();
                assert!(reason.contains(&format!("{id:?}")), "{what}: {r}");
                if vendor == "libredesk" && !dry_run {
                    // the run can change the own agent only, and says so
                    assert_eq!(r["result"], "unsupported", "{what}: {r}");
                } else {
                    assert_eq!(r["result"], "failed", "{what}: {r}");
                    assert!(reason.contains("no agent"), "{what}: {r}");
                }
            }
        }
    }
}

/// `agentstatus watch` as a child process: its stdout lines, as they come.
struct Watching {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    errors: std::sync::mpsc::Receiver<String>,
}

impl Watching {
    fn start(config: PathBuf, args: &[&str]) -> Self {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("agentstatus"))
            .env_clear()
            .env("ROCKETCHAT_AUTH_TOKEN", RC_TOKEN)
            .env("LIBREDESK_API_SECRET", LD_SECRET)
            .env("ENGAGE_DIGITAL_TOKEN", ED_TOKEN)
            .arg("--config")
            .arg(config)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let (tx, errors) = std::sync::mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Self {
            child,
            lines,
            errors,
        }
    }

    fn next(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a change within 30 s");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    fn next_error(&self) -> Value {
        let line = self
            .errors
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("an error within 60 s");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_prints_each_change_as_it_happens_and_survives_a_failed_read() {
    let f = fakes("watch").await;
    let config = f.config("rocketchat");
    let mut w = Watching::start(
        config.clone(),
        &["--output", "json", "watch", "--interval", "1", "--initial"],
    );
    // --initial: every agent first, as a change from nothing, in id order
    for id in ["ada", "grace"] {
        let c = w.next();
        assert_eq!(c["agent_id"], id, "{c}");
        assert_eq!(c["before"], Value::Null, "{c}");
        assert_eq!(c["origin"], "poll", "{c}");
        assert_eq!(c["vendor"], "rocketchat", "{c}");
    }
    // a change made elsewhere (here: by the command) arrives once
    let o = run(Some(config.clone()), &["set", "ada", "available"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let c = w.next();
    assert_eq!(c["agent_id"], "ada", "{c}");
    assert_eq!(c["before"]["availability"], "offline", "{c}");
    assert_eq!(c["after"]["availability"], "available", "{c}");
    assert_eq!(c["after"]["detail"]["vendor_status"], "available", "{c}");
    assert!(c["observed_at"].as_str().unwrap().ends_with('Z'), "{c}");

    // the vendor fails every attempt of a read: reported on stderr, watching goes on
    for _ in 0..8 {
        f.rc.faults().push(rc::Fault::Status(503));
    }
    let e = w.next_error();
    assert_eq!(e["continuing"], true, "{e}");
    assert_eq!(e["error"]["vendor"], "rocketchat", "{e}");
    let o = run(Some(config.clone()), &["set", "grace", "offline"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let c = w.next();
    assert_eq!(c["agent_id"], "grace", "{c}");
    assert_eq!(c["after"]["availability"], "offline", "{c}");
    // nothing else changed: no line for ada
    assert!(
        w.lines
            .recv_timeout(std::time::Duration::from_secs(3))
            .is_err(),
        "a line without a change"
    );

    // SIGTERM: a clean stop
    let pid = w.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = w.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_stops_when_the_credentials_are_refused() {
    let f = fakes("watch-auth").await;
    let config = f.config("rocketchat");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("agentstatus"))
        .env_clear()
        .env("ROCKETCHAT_AUTH_TOKEN", "wrong")
        .arg("--config")
        .arg(config)
        .args(["watch", "--interval", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(status.status.code(), Some(3), "{}", stderr(&status));
    assert!(
        stderr(&status).contains("agentstatus: error:"),
        "{}",
        stderr(&status)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_works_on_every_vendor_by_changing_one_config_line() {
    let f = fakes("watch-every").await;
    for (vendor, agent, id, to) in [
        ("rocketchat", "grace", "grace", "offline"),
        ("libredesk", "me", "1", "away"),
        ("engage-digital", "grace", "grace", "away"),
    ] {
        let config = f.config(vendor);
        let w = Watching::start(
            config.clone(),
            &["--output", "json", "watch", "--interval", "1", "--initial"],
        );
        // the first read: every agent, as a change from nothing
        let first = w.next();
        assert_eq!(first["vendor"], vendor, "{first}");
        assert_eq!(first["before"], Value::Null, "{vendor}: {first}");
        while w
            .lines
            .recv_timeout(std::time::Duration::from_millis(500))
            .is_ok()
        {}
        let o = run(Some(config), &["set", agent, to]).await;
        assert!(o.status.success(), "{vendor}: {}", stderr(&o));
        let c = w.next();
        assert_eq!(c["agent_id"], id, "{vendor}: {c}");
        assert_eq!(c["after"]["availability"], to, "{vendor}: {c}");
        assert_ne!(c["before"]["availability"], to, "{vendor}: {c}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn set_takes_an_expiry_and_a_vendor_state_where_the_vendor_has_them() {
    let f = fakes("set-with").await;
    let ld = f.config("libredesk");
    let rc = f.config("rocketchat");

    // a state of Libredesk's own, by its word: set, and shown
    let o = run(
        Some(ld.clone()),
        &[
            "--output",
            "json",
            "set",
            "me",
            "away",
            "--state",
            "away_and_reassigning",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("away_and_reassigning"),
        "{}",
        stdout(&o)
    );
    let changes = f.ld.state_changes();

    // a word that means another availability: refused (the caller's mistake), nothing changes
    let o = run(
        Some(ld.clone()),
        &["set", "me", "available", "--state", "away_and_reassigning"],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("means away, not available"),
        "{}",
        stderr(&o)
    );

    // an expiry Libredesk does not have: Unsupported, naming it
    let o = run(Some(ld.clone()), &["set", "me", "offline", "--for", "30m"]).await;
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("libredesk cannot set `until`"),
        "{}",
        stderr(&o)
    );
    let o = run(
        Some(ld.clone()),
        &["set", "me", "offline", "--until", "2099-01-01T00:00:00Z"],
    )
    .await;
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert_eq!(f.ld.state_changes(), changes, "a refused set changed state");

    // Rocket.Chat's states are its user status words (`online`, `away`, `busy`, `offline`):
    // another word is refused before sending
    let o = run(
        Some(rc.clone()),
        &["set", "ada", "available", "--state", "dnd"],
    )
    .await;
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rocketchat cannot set `state`"),
        "{}",
        stderr(&o)
    );

    // bad durations and times are usage errors naming the argument, before any request
    let changes = f.rc.state_changes();
    for (args, named) in [
        (
            &["set", "ada", "available", "--for", "soon"][..],
            "--for <DURATION>",
        ),
        (
            &["set", "ada", "available", "--for", "0m"][..],
            "--for <DURATION>",
        ),
        (
            &["set", "ada", "available", "--until", "5pm"][..],
            "--until <TIME>",
        ),
        (
            &[
                "set",
                "ada",
                "available",
                "--for",
                "1h",
                "--until",
                "2099-01-01T00:00:00Z",
            ][..],
            "--until <TIME>",
        ),
        (
            &["set", "ada", "available", "--until", "2001-01-01T00:00:00Z"][..],
            "--until <TIME>': it is not in the future",
        ),
    ] {
        let o = run(Some(rc.clone()), args).await;
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(named), "{args:?}: {}", stderr(&o));
    }
    assert_eq!(f.rc.state_changes(), changes, "a refused set changed state");
}
