//! `agentstatus fake` as a process, the way an integration test in any language uses it: start
//! it, read its ready lines, point `agentstatus --config <printed>` at it, stop it. And the rest
//! of a complete command: `init`, `completion`, `man`, `demo`'s flags.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_agentstatus"))
}

/// A scratch directory, removed at the end.
/// A scratch directory, removed when dropped (a failed test's too).
struct Dir(tempfile::TempDir);

fn dir(tag: &str) -> Dir {
    let d = tempfile::Builder::new()
        .prefix(&format!("agentstatus-fake-test-{tag}-"))
        .tempdir()
        .unwrap();
    Dir(d)
}

/// A running `agentstatus fake`: killed if the test ends before it is stopped.
struct Fake {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Fake {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(bin())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Fake {
            child,
            stdin,
            lines,
        }
    }

    /// Send a command line to its standard input.
    fn send(&mut self, line: &str) {
        use std::io::Write as _;
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Wait for it to exit (it was told to stop); its exit code.
    fn wait(mut self) -> Option<i32> {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("agentstatus fake did not stop");
    }

    /// The next line it prints (a minute at most: it is waiting for nothing but a bind).
    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(60))
            .expect("a line from agentstatus fake")
    }

    /// The ready line of each of `n` vendors.
    fn ready(&self, n: usize) -> Vec<Value> {
        (0..n)
            .map(|_| {
                let line = self.line();
                let v: Value =
                    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
                assert_eq!(v["event"], "ready", "{v}");
                v
            })
            .collect()
    }

    /// Stop it with SIGTERM; its exit code.
    fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("agentstatus fake did not stop on SIGTERM");
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run `agentstatus` with `env` only (and PATH).
fn run(args: &[&str], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The variables a ready line says to export.
fn env_of(ready: &Value) -> Vec<(String, String)> {
    ready["env"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Every registered vendor from one `agentstatus fake`: its printed config and variables drive
/// `list` and `apply` on each; SIGTERM stops it cleanly and removes the temporary config.
#[test]
fn fake_then_apply_and_list_on_every_vendor() {
    let d = dir("every");
    let registry = agentstatus::registry();
    let fake = Fake::start(&["--output", "json", "fake"]);
    let ready = fake.ready(registry.len());
    let mut config = None;
    for (entry, ready) in registry.iter().zip(&ready) {
        let vendor = entry.name;
        assert_eq!(ready["vendor"], vendor);
        let url = ready["url"].as_str().unwrap();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let path = ready["config"].as_str().unwrap().to_string();
        assert!(Path::new(&path).is_absolute(), "{path}");
        let env = env_of(ready);
        assert!(!env.is_empty(), "{vendor}: a secret variable");
        config = Some(path.clone());
        let base = ["--config", path.as_str(), "--vendor", vendor];

        // the default cast: three agents, one of them available
        let o = run(&[&base[..], &["--output", "json", "list"]].concat(), &env);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{vendor}: {err}");
        let agents = json_lines(&out);
        assert_eq!(agents.len(), 3, "{vendor}: {out}");
        let first = agents[0]["agent"]["agent_id"].as_str().unwrap().to_string();
        assert_ne!(
            agents[0]["agent"]["availability"], "available",
            "{vendor}: {out}"
        );
        assert!(agents.iter().all(|a| a["vendor"] == vendor), "{out}");

        // apply a roster: the first agent (the credentials' own on Libredesk) becomes available
        let roster = d.0.path().join(format!("{vendor}.csv"));
        std::fs::write(&roster, format!("agent,availability\n{first},available\n")).unwrap();
        let roster = roster.to_str().unwrap();
        let o = run(&[&base[..], &["apply", roster]].concat(), &env);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{vendor}: {out}{err}");
        assert!(
            out.contains("1 changed, 0 unchanged, 0 unsupported, 0 failed"),
            "{vendor}: {out}"
        );
        // again: nothing to write
        let o = run(&[&base[..], &["apply", roster]].concat(), &env);
        assert!(
            text(&o).0.contains("0 changed, 1 unchanged"),
            "{vendor}: {:?}",
            text(&o)
        );
        // the fake kept the state
        let o = run(
            &[&base[..], &["--output", "json", "get", &first]].concat(),
            &env,
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["agent"]["availability"], "available", "{vendor}: {v}");

        // an expiry: Mattermost ends "do not disturb" by itself (and reads its end back),
        // Microsoft Graph ends the application's session (a read does not carry its end); the
        // others cannot (exit 5, nothing sent), whether for the expiry or for busy itself
        let timed = ["--output", "json", "set", &first, "busy", "--for", "30m"];
        let o = run(&[&base[..], &timed[..]].concat(), &env);
        let (out, err) = text(&o);
        if vendor == "mattermost" {
            assert_eq!(o.status.code(), Some(0), "{vendor}: {err}");
            let v: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["agent"]["availability"], "busy", "{v}");
            assert_eq!(v["agent"]["detail"]["state"], "dnd", "{v}");
            assert!(v["agent"]["detail"]["until"].is_string(), "{v}");
        } else if vendor == "msgraph" {
            assert_eq!(o.status.code(), Some(0), "{vendor}: {err}");
            let v: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["agent"]["availability"], "busy", "{v}");
            // outside PT5M..PT4H: refused before sending, an input error
            let long = ["set", &first, "busy", "--for", "5h"];
            let o = run(&[&base[..], &long[..]].concat(), &env);
            assert_eq!(o.status.code(), Some(2), "{vendor}: {:?}", text(&o));
        } else {
            assert_eq!(o.status.code(), Some(5), "{vendor}: {out}{err}");
            assert!(err.contains(&format!("{vendor} cannot set")), "{err}");
        }

        // the wrong secret is refused by the fake: exit 3
        let wrong: Vec<(String, String)> = env
            .iter()
            .map(|(k, _)| (k.clone(), "wrong".into()))
            .collect();
        let o = run(&[&base[..], &["list"]].concat(), &wrong);
        assert_eq!(o.status.code(), Some(3), "{vendor}: {:?}", text(&o));
    }
    let config = config.unwrap();
    assert!(Path::new(&config).exists());
    assert_eq!(fake.terminate(), Some(0), "a graceful stop");
    assert!(
        !Path::new(&config).exists(),
        "the temporary config is removed"
    );
}

/// A free port of 127.0.0.1 (free when asked: the fake binds it right after).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One vendor, seeded from a roster, on a chosen port, its config written where asked, with a
/// fault injected from the command line.
#[test]
fn fake_seeds_listens_writes_the_config_and_injects_faults() {
    let d = dir("seeded");
    let seed = d.0.path().join("seed.csv");
    std::fs::write(
        &seed,
        "agent,availability\n7,busy\n8,available\n9,offline\n",
    )
    .unwrap();
    let config = d.0.path().join("fake.toml");
    let port = free_port();
    let fake = Fake::start(&[
        "--output",
        "json",
        "fake",
        "--vendor",
        "chatwoot",
        "--seed",
        seed.to_str().unwrap(),
        "--port",
        &port.to_string(),
        "--write-config",
        config.to_str().unwrap(),
        "--fault",
        "401",
    ]);
    let ready = fake.ready(1).remove(0);
    assert_eq!(ready["url"], format!("http://127.0.0.1:{port}"));
    assert_eq!(ready["agents"], 3);
    assert_eq!(
        std::path::absolute(&config).unwrap().to_str().unwrap(),
        ready["config"].as_str().unwrap()
    );
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(
        written.contains(&format!("base_url = \"http://127.0.0.1:{port}\"")),
        "{written}"
    );
    assert!(written.contains("vendor = \"chatwoot\""), "{written}");
    // no secret in the file: only the variable's name
    assert!(!written.contains("token = "), "{written}");
    let env = env_of(&ready);
    let cfg = config.to_str().unwrap();

    // the injected fault answers the first request (a 401 is not retried)
    let o = run(&["--config", cfg, "list"], &env);
    assert_ne!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("401 Unauthorized (injected fault)"),
        "{:?}",
        text(&o)
    );
    // then the fake answers, with the seeded agents
    let o = run(&["--config", cfg, "--output", "json", "list"], &env);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let agents = json_lines(&text(&o).0);
    let states: Vec<(String, String)> = agents
        .iter()
        .map(|a| {
            (
                a["agent"]["agent_id"].as_str().unwrap().into(),
                a["agent"]["availability"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [("7", "busy"), ("8", "available"), ("9", "offline")].map(|(a, b)| (a.into(), b.into()))
    );
    let roster = d.0.path().join("roster.csv");
    std::fs::write(
        &roster,
        "agent,availability\n7,available\n8,available\n9,busy\n",
    )
    .unwrap();
    let o = run(&["--config", cfg, "apply", roster.to_str().unwrap()], &env);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("2 changed, 1 unchanged, 0 unsupported, 0 failed"),
        "{out}"
    );
    // faults switched while it runs, on its standard input
    let mut fake = fake;
    fake.send("fault chatwoot 401");
    let ack: Value = serde_json::from_str(&fake.line()).unwrap();
    assert_eq!(ack["event"], "fault", "{ack}");
    assert_eq!(ack["vendor"], "chatwoot", "{ack}");
    let o = run(&["--config", cfg, "list"], &env);
    assert!(
        text(&o).1.contains("401 Unauthorized (injected fault)"),
        "{:?}",
        text(&o)
    );
    let o = run(&["--config", cfg, "list"], &env);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    fake.send("fault zendesk 503");
    let error: Value = serde_json::from_str(&fake.line()).unwrap();
    assert_eq!(error["event"], "error", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("not a running fake"),
        "{error}"
    );

    // the port is taken now: a second fake on it says so
    let o = run(
        &["fake", "--vendor", "chatwoot", "--port", &port.to_string()],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(
        text(&o)
            .1
            .contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{:?}",
        text(&o)
    );
    // `stop` on standard input: a graceful stop, as SIGTERM
    fake.send("stop");
    assert_eq!(
        serde_json::from_str::<Value>(&fake.line()).unwrap()["event"],
        "stopped"
    );
    assert_eq!(fake.wait(), Some(0));
    // a written config is the user's: it stays
    assert!(config.exists());
    // and is not overwritten by the next fake without --force
    let o = run(
        &["fake", "--vendor", "chatwoot", "--write-config", cfg],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(text(&o).1.contains("--force"), "{:?}", text(&o));
}

#[test]
fn bad_seeds_and_arguments_are_usage_errors_with_their_location() {
    let d = dir("bad");
    let seed = |name: &str, text: &str| {
        let p = d.0.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    for (args, says) in [
        (
            vec![
                "fake",
                "--vendor",
                "chatwoot",
                "--seed",
                &seed("ids.csv", "agent,availability\n1,available\nada,busy\n"),
            ],
            "ids.csv:3: agent ids are positive numbers here, not \"ada\"".to_string(),
        ),
        (
            vec![
                "fake",
                "--vendor",
                "rocketchat",
                "--seed",
                &seed("busy.csv", "ada,busy\n"),
            ],
            "busy.csv:1: rocketchat cannot hold an agent busy (it has available, offline)".into(),
        ),
        (
            vec![
                "fake",
                "--vendor",
                "rocketchat",
                "--seed",
                &seed("broken.csv", "ada,sleepy\n"),
            ],
            "broken.csv:1: unknown availability".into(),
        ),
        (vec!["fake", "--port", "8080"], "give VENDOR=PORT".into()),
        (
            vec!["--config", "x.toml", "fake"],
            "--write-config FILE".into(),
        ),
        (
            vec!["fake", "--fault", "teapot"],
            "unknown fault \"teapot\"".into(),
        ),
    ] {
        let o = run(&args, &[]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&says), "{args:?}: {err}");
    }
}

/// `init` writes a config with the vendor's settings and secret variable; the file loads, and
/// with its base URL pointed at a fake it works; an existing file is never overwritten without
/// `--force`.
#[test]
fn init_writes_a_config_that_loads() {
    let d = dir("init");
    let path = d.0.path().join("agentstatus.toml");
    let file = path.to_str().unwrap();
    let o = run(&["init", "--vendor", "chatwoot", file], &[]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let written = std::fs::read_to_string(&path).unwrap();
    for needle in [
        "vendor = \"chatwoot\"",
        "[chatwoot]",
        "account_id",
        "$CHATWOOT_API_ACCESS_TOKEN",
        "token_env",
    ] {
        assert!(written.contains(needle), "{needle}: {written}");
    }
    // it loads: the one thing missing is the secret, and the error names its variable
    let o = run(&["--config", file, "list"], &[]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("set $CHATWOOT_API_ACCESS_TOKEN"),
        "{:?}",
        text(&o)
    );
    // not overwritten
    std::fs::write(&path, "# mine\n").unwrap();
    let o = run(&["init", "--vendor", "chatwoot", file], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--force"), "{:?}", text(&o));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    let o = run(&["init", "--vendor", "chatwoot", "--force", file], &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);

    // pointed at a fake, the written file works as it is
    let fake = Fake::start(&["--output", "json", "fake", "--vendor", "chatwoot"]);
    let ready = fake.ready(1).remove(0);
    let url = ready["url"].as_str().unwrap();
    let pointed = written.replace("https://chatwoot.example.com", url);
    assert_ne!(pointed, written);
    std::fs::write(&path, pointed).unwrap();
    let o = run(&["--config", file, "list"], &env_of(&ready));
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(text(&o).0.contains("Grace Hopper"), "{:?}", text(&o));

    // every vendor at once loads too (each section's keys checked against its vendor)
    let all = d.0.path().join("all.toml");
    let o = run(&["init", all.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    for entry in agentstatus::registry() {
        let o = run(
            &[
                "--config",
                all.to_str().unwrap(),
                "--vendor",
                entry.name,
                "get",
                "me",
            ],
            &[],
        );
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", entry.name);
        assert!(
            err.contains("the secret is read from the environment"),
            "{}: {err}",
            entry.name
        );
    }
}

#[test]
fn bash_accepts_the_completion_script() {
    let o = run(&["completion", "bash"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let script = text(&o).0;
    assert!(script.contains("agentstatus"), "{script}");
    for sub in ["fake", "init", "completion", "man", "apply"] {
        assert!(script.contains(sub), "{sub}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let o = run(&["completion", shell], &[]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        assert!(!o.stdout.is_empty(), "{shell}");
    }
    let Ok(bash) = which("bash") else {
        eprintln!("no bash here: the script's syntax is not checked");
        return;
    };
    let d = dir("completion");
    let path = d.0.path().join("agentstatus.bash");
    std::fs::write(&path, &script).unwrap();
    let check = Command::new(&bash).arg("-n").arg(&path).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // sourced, it registers the completion
    let sourced = Command::new(&bash)
        .arg("-c")
        .arg(format!(
            "source {} && complete -p agentstatus",
            path.display()
        ))
        .output()
        .unwrap();
    assert!(
        sourced.status.success(),
        "{}",
        String::from_utf8_lossy(&sourced.stderr)
    );
    assert!(String::from_utf8_lossy(&sourced.stdout).contains("agentstatus"));
}

fn which(name: &str) -> Result<PathBuf, ()> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}

#[test]
fn the_man_page_has_every_subcommand_and_renders() {
    let o = run(&["man"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let page = text(&o).0;
    assert!(page.contains(".TH agentstatus 1"), "{page}");
    let help = text(&run(&["--help"], &[])).0;
    // every subcommand `--help` lists has its section, with its examples
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 9, "{commands:?}");
    for c in &commands {
        assert!(
            page.contains(&format!(".SH \"AGENTSTATUS {}\"", c.to_uppercase())),
            "{c}"
        );
    }
    assert_eq!(
        page.matches(".SS EXAMPLES").count(),
        commands.len(),
        "{page}"
    );
    let Ok(groff) = which("groff") else {
        eprintln!("no groff here: the page is not rendered");
        return;
    };
    let d = dir("man");
    let path = d.0.path().join("agentstatus.1");
    std::fs::write(&path, &page).unwrap();
    let rendered = Command::new(groff)
        .args(["-man", "-Tutf8", "-ww"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(rendered.status.success());
    let (out, warnings) = (
        String::from_utf8_lossy(&rendered.stdout),
        String::from_utf8_lossy(&rendered.stderr),
    );
    assert!(warnings.trim().is_empty(), "{warnings}");
    // a terminal's bold is overstruck (`A\x08A`): read the text without it
    let mut plain = String::new();
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\u{8}') {
            chars.next();
            continue;
        }
        plain.push(c);
    }
    assert!(plain.contains("AGENTSTATUS FAKE"), "{plain}");
    assert!(
        plain.contains("agentstatus fake --vendor chatwoot --port 3000"),
        "{plain}"
    );
}

#[test]
fn demo_honours_vendor_and_output_and_refuses_config() {
    let o = run(&["--vendor", "libredesk", "demo"], &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("== Libredesk =="), "{out}");
    assert!(!out.contains("== Rocket.Chat =="), "{out}");
    assert!(!out.contains("--vendor rocketchat"), "{out}");

    let o = run(&["--output", "json", "demo"], &[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let steps = json_lines(&out);
    for entry in agentstatus::registry() {
        let mine: Vec<&Value> = steps.iter().filter(|s| s["vendor"] == entry.name).collect();
        assert!(mine.len() >= 6, "{}: {out}", entry.name);
        // the demo's roster is one each vendor can apply: nothing fails, nothing is refused
        let summaries: Vec<&Value> = mine.iter().filter_map(|s| s.get("summary")).collect();
        assert_eq!(summaries.len(), 2, "{}", entry.name);
        for s in &summaries {
            assert_eq!(s["failed"], 0, "{}: {s}", entry.name);
            assert_eq!(s["unsupported"], 0, "{}: {s}", entry.name);
        }
        assert!(
            summaries[0]["changed"].as_u64().unwrap() >= 1,
            "{}",
            entry.name
        );
        assert_eq!(summaries[1]["changed"], 0, "{}: idempotent", entry.name);
    }

    let o = run(&["--config", "agentstatus.toml", "demo"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("reads no config file"),
        "{:?}",
        text(&o)
    );
}

#[test]
fn help_lists_the_availabilities_and_shows_examples() {
    let (out, _) = text(&run(&["set", "--help"], &[]));
    for a in ["available", "busy", "away", "offline"] {
        assert!(out.contains(a), "{a}: {out}");
    }
    assert!(out.contains("Examples:"), "{out}");
    let (out, _) = text(&run(&["--help"], &[]));
    assert!(out.contains("JSON lines"), "{out}");
    assert!(!out.contains("pretty"), "{out}");
}

/// A reader that closes the pipe before the script is written (`agentstatus completion bash |
/// head -1`, a missing shell): no panic, exit 0, as `man` does.
#[test]
fn completion_and_man_into_a_closed_pipe_do_not_panic() {
    for args in [["completion", "bash"].as_slice(), ["man"].as_slice()] {
        let mut child = Command::new(bin())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // close the reading end before the child writes
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
