//! The `agentstatus` command against hostile servers (`agentstatus_fakes::hostile`, loopback):
//! whatever a server answers, the command exits with a code, prints nothing that drives the
//! terminal, and never shows a secret.

use std::path::PathBuf;
use std::process::Output;

use agentstatus::registry::{Entry, SettingKind};
use agentstatus_fakes::hostile::{Hostile, Reply};
use assert_cmd::Command;
use serde_json::Value;

/// Every registered vendor: each test covers a new vendor without an edit here.
fn vendors() -> Vec<Entry> {
    agentstatus::registry()
}

/// An agent id `entry`'s adapter accepts without asking the server (its seeder's first sample id:
/// a number, a name, or Mattermost's 26 characters).
fn agent(entry: &Entry) -> String {
    let seeder = agentstatus::seeder(entry.name).expect("every registered vendor has a seeder");
    (seeder.sample_id)(1, "ada")
}

/// The secret a test gives `entry`'s secret setting `key` (through its environment variable).
fn secret_of(entry: &Entry, key: &str) -> String {
    format!("{}-{key}-cli-hostile-s3cr3t", entry.name)
}

/// Every secret of every vendor, with its environment variable.
fn secrets() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in vendors() {
        for s in e.settings {
            if let SettingKind::Secret { env } = s.kind {
                out.push((env.to_string(), secret_of(&e, s.key)));
            }
        }
    }
    out
}

/// A scratch directory, removed when dropped (a failed test's too).
struct Dir(tempfile::TempDir);

fn dir(tag: &str) -> Dir {
    let d = tempfile::Builder::new()
        .prefix(&format!("agentstatus-hostile-{tag}-"))
        .tempdir()
        .unwrap();
    Dir(d)
}

/// A config with every vendor pointing at `url` (with `extra` lines in each section); each
/// section's keys come from the vendor's registry entry.
fn config(dir: &Dir, vendor: &str, url: &str, extra: &str) -> PathBuf {
    let path = dir.0.path().join(format!("{vendor}.toml"));
    let mut text = format!("vendor = \"{vendor}\"\n");
    for e in vendors() {
        text.push_str(&format!("\n[{}]\nbase_url = \"{url}\"\n{extra}\n", e.name));
        for s in e.settings {
            match s.kind {
                SettingKind::Secret { .. } => {}
                SettingKind::Number => text.push_str(&format!("{} = 1\n", s.key)),
                SettingKind::Choice { default, .. } => {
                    text.push_str(&format!("{} = \"{default}\"\n", s.key))
                }
                // OAuth 2.0 client credentials: tokens from a well-behaved endpoint
                SettingKind::Text { .. } if s.key == "token_url" => text.push_str(&format!(
                    "{} = \"{}\"\n",
                    s.key,
                    agentstatus_fakes::hostile::token_endpoint()
                )),
                // an empty default (Graph's `users`) would leave `list` nothing to ask
                SettingKind::Text { default } => text.push_str(&format!(
                    "{} = \"{}\"\n",
                    s.key,
                    default.filter(|d| !d.is_empty()).unwrap_or("cli-user")
                )),
            }
        }
    }
    std::fs::write(&path, text).unwrap();
    path
}

async fn run(config: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = secrets();
    all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let config = config.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::cargo_bin("agentstatus").unwrap();
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in all {
            cmd.env(k, v);
        }
        cmd.arg("--config").arg(config).args(args).output().unwrap()
    })
    .await
    .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Nothing the command escapes (controls, line and paragraph separators, format characters)
/// is in `out` raw, but the line feeds ending its lines.
fn assert_terminal_safe(out: &str, what: &str) {
    assert!(
        !out.chars()
            .any(|c| c != '\n' && agentstatus_cli::output::is_unsafe_char(c)),
        "{what}: {out:?}"
    );
}

/// Characters a terminal or a line-oriented reader could take for something else, or that hide
/// what is shown, one of each kind: line and paragraph separators, vertical tab, form feed,
/// NEL, file/record separators, bidi marks and isolates, zero-width characters, the BOM, a tag.
const SNEAKY: &str = "a\u{2028}b\u{2029}c\u{b}d\u{c}e\u{85}f\u{1c}g\u{1e}h\u{200f}i\u{2067}j\u{61c}k\u{200b}l\u{2060}m\u{feff}n\u{e0041}o\u{ad}p";

/// The lines a reader that breaks lines wherever Unicode or a common library does would see.
fn reader_lines(out: &str) -> usize {
    out.split([
        '\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}',
        '\u{2029}',
    ])
    .filter(|l| !l.is_empty())
    .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn server_names_cannot_panic_the_table_or_drive_the_terminal() {
    let huge = "N".repeat(65_536);
    let names = [
        huge.clone(),
        "Ada\r\nforged  row  available".into(),
        "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}1m\u{202e}txt.exe".into(),
    ];
    let users: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| serde_json::json!({"_id": format!("a{i}"), "name": n, "statusLivechat": "available"}))
        .collect();
    let page =
        serde_json::json!({"users": users, "count": 3, "offset": 0, "total": 3, "success": true})
            .to_string();
    let server = Hostile::start("127.0.0.1", move |_| Reply::json(200, page.clone()))
        .await
        .unwrap();
    let d = dir("names");
    let cfg = config(&d, "rocketchat", &server.url(), "");
    let o = run(&cfg, &["list"], &[]).await;
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(out.lines().count(), 4, "a header and three rows: {out:?}");
    assert!(out.contains(&huge));
    assert_terminal_safe(&out, "table");

    let o = run(&cfg, &["--output", "json", "list"], &[]).await;
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert_terminal_safe(&out, "json");
    // JSON lines: one object per agent
    let back: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back.len(), names.len(), "{out}");
    for (i, n) in names.iter().enumerate() {
        assert_eq!(
            back[i]["agent"]["name"],
            n.as_str(),
            "the data itself is kept"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn separators_and_format_characters_in_server_data_are_escaped_in_every_format() {
    let users: Vec<Value> = (0..3)
        .map(|i| serde_json::json!({"_id": format!("a{i}{SNEAKY}"), "name": format!("{SNEAKY}{i}"), "statusLivechat": "available"}))
        .collect();
    let one = serde_json::json!({"user": users[0], "success": true}).to_string();
    let page =
        serde_json::json!({"users": users, "count": 3, "offset": 0, "total": 3, "success": true})
            .to_string();
    let server = Hostile::start("127.0.0.1", move |req| {
        if req.target().starts_with("/api/v1/livechat/users/agent/") {
            Reply::json(200, one.clone())
        } else {
            Reply::json(200, page.clone())
        }
    })
    .await
    .unwrap();
    let d = dir("separators");
    let cfg = config(&d, "rocketchat", &server.url(), "");
    let o = run(&cfg, &["list"], &[]).await;
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(reader_lines(&out), 4, "a header and three rows: {out:?}");
    assert_terminal_safe(&out, "table");
    assert!(out.contains("a\\u{2028}b\\u{2029}c"), "{out}");

    for args in [
        &["--output", "json", "list"][..],
        &["--output", "json", "get", "a0"],
    ] {
        let o = run(&cfg, args, &[]).await;
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert_terminal_safe(&out, "json");
        assert_eq!(reader_lines(&out), out.lines().count(), "{out:?}");
        // JSON's own escapes (serde_json leaves U+2028 and U+2029 raw)
        assert!(out.contains(r"a\u2028b\u2029c\u000bd"), "{out}");
        // `get`: one object; `list`: JSON lines, the first line the first agent
        let first = if args.contains(&"get") {
            out.as_str()
        } else {
            out.lines().next().unwrap()
        };
        let back: Value = serde_json::from_str(first).unwrap();
        let agent = &back["agent"];
        assert_eq!(
            agent["name"],
            format!("{SNEAKY}0"),
            "the data itself is kept"
        );
        assert_eq!(agent["agent_id"], format!("a0{SNEAKY}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn separators_and_format_characters_in_server_errors_are_escaped() {
    let body = serde_json::json!({"success": false, "error": SNEAKY, "message": SNEAKY, "errors": [SNEAKY], "status": "error"})
        .to_string();
    let server = Hostile::start("127.0.0.1", move |_| Reply::json(400, body.clone()))
        .await
        .unwrap();
    let d = dir("separator-errors");
    let roster = d.0.path().join("roster.csv");
    std::fs::write(&roster, "agent,availability\n1,available\n2,available\n").unwrap();
    let roster = roster.to_str().unwrap();
    for entry in vendors() {
        let id = agent(&entry);
        let id = id.as_str();
        let vendor = entry.name;
        let cfg = config(&d, vendor, &server.url(), "");
        for args in [
            &["get", id][..],
            &["set", id, "available"],
            &["list"],
            &["apply", roster, "--dry-run"],
            &["apply", roster],
        ] {
            let o = run(&cfg, args, &[]).await;
            let (out, err) = text(&o);
            let what = format!("{vendor} {args:?}");
            assert_ne!(o.status.code(), Some(0), "{what}: {err}");
            assert_terminal_safe(&out, &what);
            assert_terminal_safe(&err, &what);
            assert_eq!(reader_lines(&out), out.lines().count(), "{what}: {out:?}");
            assert_eq!(reader_lines(&err), err.lines().count(), "{what}: {err:?}");

            let mut json = vec!["--output", "json"];
            json.extend_from_slice(args);
            let o = run(&cfg, &json, &[]).await;
            let (out, err) = text(&o);
            assert_terminal_safe(&out, &what);
            assert_terminal_safe(&err, &what);
            let doc = if out.is_empty() { &err } else { &out };
            assert_eq!(reader_lines(doc), doc.lines().count(), "{what}: {doc:?}");
            serde_json::from_str::<Value>(doc).unwrap_or_else(|e| panic!("{what}: {e}: {doc}"));
        }
    }
}

/// `apply` against a server that fails every request: the one read of the list fails, and no
/// agent is then asked about on its own (2,000 requests that would fail the same way).
#[tokio::test(flavor = "multi_thread")]
async fn apply_asks_a_failing_server_once_not_once_per_agent() {
    let server = Hostile::start("127.0.0.1", |_| Reply::json(500, r#"{"error":"boom"}"#))
        .await
        .unwrap();
    let d = dir("apply-down");
    let roster = d.0.path().join("roster.csv");
    let mut text_ = String::from("agent,availability\n");
    for i in 0..2_000 {
        text_.push_str(&format!("{i},available\n"));
    }
    std::fs::write(&roster, text_).unwrap();
    let roster = roster.to_str().unwrap();
    for entry in vendors() {
        let vendor = entry.name;
        let cfg = config(&d, vendor, &server.url(), "");
        for dry_run in [true, false] {
            let mut args = vec!["--output", "json", "apply", roster];
            if dry_run {
                args.push("--dry-run");
            }
            let before = server.seen().len();
            let o = run(&cfg, &args, &[]).await;
            let (out, err) = text(&o);
            let sent = server.seen().len() - before;
            assert!(sent <= 2, "{vendor} dry_run={dry_run}: {sent} requests");
            assert_eq!(o.status.code(), Some(1), "{vendor}: {err}");
            let report: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(report["summary"]["failed"], 2_000, "{vendor}: {out}");
            assert_eq!(report["results"][1999]["line"], 2_001);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_json_on_stderr_under_output_json() {
    let server = Hostile::start("127.0.0.1", |req| {
        Reply::json(307, "{}").header("location", req.target())
    })
    .await
    .unwrap();
    let d = dir("json-errors");
    for entry in vendors() {
        let id = agent(&entry);
        let id = id.as_str();
        let vendor = entry.name;
        let cfg = config(&d, vendor, &server.url(), "");
        let o = run(&cfg, &["--output", "json", "get", id], &[]).await;
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{vendor}: {err}");
        assert!(out.is_empty(), "{vendor}: {out}");
        let e: Value =
            serde_json::from_str(&err).unwrap_or_else(|x| panic!("{vendor}: {x}: {err}"));
        assert_eq!(e["exit_code"], 1);
        assert_eq!(e["error"]["kind"], "invalid_response");
        assert_eq!(e["error"]["vendor"], vendor);
        assert_eq!(e["error"]["status"], 307);
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("redirect loop"),
            "{err}"
        );
        // the same in text
        let o = run(&cfg, &["get", id], &[]).await;
        let (_, err) = text(&o);
        assert!(
            err.starts_with("agentstatus: error: ") && err.contains("redirect loop"),
            "{err}"
        );
    }
    // a usage error too
    let o = run(
        &d.0.path().join("missing.toml"),
        &["--output", "json", "get", "1"],
        &[],
    )
    .await;
    let e: Value = serde_json::from_str(&text(&o).1).unwrap();
    assert_eq!(e["exit_code"], 2);
    assert_eq!(e["error"]["kind"], "usage");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overflowing_retry_after_is_an_error_not_a_panic() {
    let server = Hostile::start("127.0.0.1", |_| {
        Reply::json(503, "{}").header("retry-after", "18446744073709551615")
    })
    .await
    .unwrap();
    let d = dir("retry-after");
    for entry in vendors() {
        let id = agent(&entry);
        let id = id.as_str();
        let vendor = entry.name;
        let cfg = config(&d, vendor, &server.url(), "");
        for args in [&["get", id][..], &["set", id, "available"], &["list"]] {
            let o = run(&cfg, args, &[]).await;
            let (_, err) = text(&o);
            assert_eq!(o.status.code(), Some(1), "{vendor} {args:?}: {err}");
            assert!(err.contains("503"), "{err}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn path_injection_ids_stay_one_segment() {
    let server = Hostile::start("127.0.0.1", |_| Reply::json(404, r#"{"error":"nope"}"#))
        .await
        .unwrap();
    let d = dir("ids");
    let cases = [
        (
            "rocketchat",
            "..\\..\\..\\me",
            "/api/v1/livechat/users/agent/..%5C..%5C..%5Cme",
        ),
        (
            "engage-digital",
            "..\\..\\..\\me",
            "/status/..%5C..%5C..%5Cme",
        ),
        ("engage-digital", "a\\b", "/status/a%5Cb"),
        ("engage-digital", "a/b?c#d", "/status/a%2Fb%3Fc%23d"),
    ];
    for (vendor, id, target) in cases {
        let cfg = config(&d, vendor, &server.url(), "");
        let before = server.seen().len();
        let _ = run(&cfg, &["get", id], &[]).await;
        let seen = server.seen();
        assert_eq!(seen[before].target(), target, "{vendor} {id:?}");
    }
    for vendor in ["rocketchat", "engage-digital"] {
        let cfg = config(&d, vendor, &server.url(), "");
        let before = server.seen().len();
        let o = run(&cfg, &["get", ".."], &[]).await;
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{vendor}: {err}");
        assert!(err.contains("path segment"), "{err}");
        assert_eq!(server.seen().len(), before, "{vendor}: nothing sent");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn vendor_messages_are_cut_to_200_characters() {
    let message = format!("\u{1b}[31m{}", "x".repeat(1_000_000));
    let body = serde_json::json!({"success": false, "error": message, "message": message, "status": "error"})
        .to_string();
    let server = Hostile::start("127.0.0.1", move |_| Reply::json(400, body.clone()))
        .await
        .unwrap();
    let d = dir("messages");
    for entry in vendors() {
        let id = agent(&entry);
        let id = id.as_str();
        let vendor = entry.name;
        let cfg = config(&d, vendor, &server.url(), "");
        let o = run(&cfg, &["get", id], &[]).await;
        let (_, err) = text(&o);
        assert!(err.chars().count() < 700, "{vendor}: {} chars", err.len());
        assert_terminal_safe(&err, vendor);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_base_urls_and_secrets_are_refused_with_the_config_key() {
    let d = dir("refusals");
    for entry in vendors() {
        let id = agent(&entry);
        let id = id.as_str();
        let vendor = entry.name;
        let cfg = config(&d, vendor, "https://desk.example.com/api#frag", "");
        let (_, err) = text(&run(&cfg, &["get", id], &[]).await);
        assert!(
            err.contains("fragment") && err.contains("base_url"),
            "{err}"
        );

        let cfg = config(&d, vendor, "http://desk.example.com", "");
        let o = run(&cfg, &["get", id], &[]).await;
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            err.contains("allow_insecure_http = true") && err.contains(&format!("[{vendor}]")),
            "{err}"
        );
        assert!(!err.contains("ClientConfig"), "{err}");

        let cfg = config(&d, vendor, "https://desk.example.com", "");
        for secret in ["pässwort", "s3cr3t\r\nX-Injected: 1", "tab\tbed"] {
            let env: Vec<(String, &str)> =
                secrets().into_iter().map(|(k, _)| (k, secret)).collect();
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let o = run(&cfg, &["get", id], &env).await;
            let (out, err) = text(&o);
            assert_eq!(o.status.code(), Some(2), "{vendor} {secret:?}: {err}");
            assert!(err.contains("invalid credential"), "{err}");
            assert!(!err.contains(secret) && !out.contains(secret), "{err}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_any_output_even_with_trace_logging() {
    let server = Hostile::start("127.0.0.1", |req| match req.method() {
        "POST" => Reply::json(500, r#"{"error":"boom"}"#),
        _ => Reply::json(302, "{}").header("location", "http://127.0.0.2:9/steal"),
    })
    .await
    .unwrap();
    let d = dir("trace");
    for entry in vendors() {
        let id = agent(&entry);
        let id = id.as_str();
        let vendor = entry.name;
        let cfg = config(&d, vendor, &server.url(), "");
        for args in [&["get", id][..], &["set", id, "available"], &["list"]] {
            for output in ["table", "json"] {
                let mut all = vec!["--output", output];
                all.extend_from_slice(args);
                let o = run(&cfg, &all, &[("RUST_LOG", "trace")]).await;
                let (out, err) = text(&o);
                for (_, secret) in secrets() {
                    assert!(
                        !out.contains(&secret) && !err.contains(&secret),
                        "{vendor} {all:?}: {out}{err}"
                    );
                }
            }
        }
    }
}
