//! `cargo xtask try` as a tool: what it runs is the crate it just wrote (two documents of one
//! name never share a test binary), what it prints is one visible line per reason whatever a
//! document names, and any file name makes a crate that compiles without a warning about its
//! name.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

mod support;
use support::root;

fn tmp(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("agentstatus-try-{tag}-"))
        .tempdir()
        .unwrap()
}

fn try_file(file: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(root())
        .args([
            "try",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The target directory every `try` crate builds in, as xtask finds it.
fn gate_target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("compile-gate")
}

/// `cargo` in a crate `try` wrote, in the target directory and with the environment `try`
/// gives it (`check` without `RUSTFLAGS`, as the gate checks).
fn cargo_in(dir: &Path, args: &[&str]) -> Output {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", gate_target())
        .env("CARGO_INCREMENTAL", "0");
    if args.first() == Some(&"check") {
        cargo.env_remove("RUSTFLAGS");
    }
    cargo.args(args).output().unwrap()
}

/// One operation and one type, with a round trip of `value` through `Agent`.
fn document(value: Value) -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "x-agentstatus-roundtrip": [{"type": "Agent", "value": value}],
        "paths": {"/agents/{id}": {"get": {
            "operationId": "get_agent",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Agent"}}}}}
        }}},
        "components": {"schemas": {"Agent": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}}
        }}}
    })
}

/// Two documents called `openapi.json` in two folders make crates of one name, built in one
/// target directory. Each keeps its own test binary: after the second was built, the first
/// crate's tests are still the first crate's (its round trip, which fails, still fails), where
/// both once shared `compile-gate/debug/deps/roundtrip-<hash>` and cargo, finding the second's
/// newer binary fresh, ran it for the first and reported its success.
#[test]
fn two_documents_of_one_name_never_share_a_test_binary() {
    let scratch = tmp("same-name");
    let (bad_dir, good_dir) = (scratch.path().join("bad"), scratch.path().join("good"));
    std::fs::create_dir_all(&bad_dir).unwrap();
    std::fs::create_dir_all(&good_dir).unwrap();
    // an extra property is not kept by the generated type: its round trip fails
    let bad = bad_dir.join("openapi.json");
    std::fs::write(&bad, document(json!({"name": "a", "extra": 1})).to_string()).unwrap();
    let good = good_dir.join("openapi.json");
    std::fs::write(&good, document(json!({"name": "a"})).to_string()).unwrap();
    let (bad_crate, good_crate) = (
        scratch.path().join("bad-crate"),
        scratch.path().join("good-crate"),
    );

    let o = try_file(&bad, &bad_crate);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("a round trip (x-agentstatus-roundtrip) failed"),
        "{}",
        text(&o)
    );
    let o = try_file(&good, &good_crate);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // the crates have names of their own
    let package = |dir: &Path| -> String {
        let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
        manifest["package"]["name"].as_str().unwrap().to_string()
    };
    assert_ne!(package(&bad_crate), package(&good_crate));
    assert!(
        package(&bad_crate).starts_with("try-openapi-"),
        "{}",
        package(&bad_crate)
    );

    // the first crate, tested again as it was left: its own round trip, failing
    let o = cargo_in(&bad_crate, &["test", "--quiet", "--tests"]);
    assert!(
        !o.status.success(),
        "the failing round trip passed:\n{}",
        text(&o)
    );
    assert!(text(&o).contains("roundtrip_0_Agent"), "{}", text(&o));
}

/// Hidden characters in what a document names, where the passes and isolation quote them.
fn hostile() -> Value {
    let odd = "\n\u{1b}[2J\u{202e}\u{2028}\u{7}";
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            // `unsupported-request-bodies`: skipped, with its media type key in the reason
            format!("/upload{odd}"): {"post": {
                "operationId": "upload",
                "requestBody": {"content": {
                    format!("application/x{odd}ml"): {"schema": {"type": "object"}}
                }},
                "responses": {"204": {"description": "done"}}
            }},
            "/agents": {"get": {
                "operationId": "list_agents",
                "parameters": [
                    {"name": format!("X-Id{odd}"), "in": "header", "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "schema": {"type": "string", "format": format!("f{odd}")}}
                ],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {
                        "name": {"type": "string", "pattern": format!("(a+)+{odd}")}
                    }}}}}}
            }}
        }
    })
}

/// Every line `try` prints about what it skipped, dropped or changed is one visible line: a
/// media type key, a path or a header name with a line break, an escape sequence or a bidi
/// override in it is written with `\u{..}` escapes (by the codegen, where the reason is made),
/// never raw, on stdout or stderr.
#[test]
fn every_reason_try_prints_is_one_visible_line() {
    let scratch = tmp("reasons");
    let file = scratch.path().join("hostile.json");
    std::fs::write(&file, hostile().to_string()).unwrap();
    let o = try_file(&file, &scratch.path().join("crate"));
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let raw: Vec<&str> = out
        .lines()
        .filter(|l| {
            l.chars().any(|c| {
                (c.is_control() && c != '\t')
                    || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            })
        })
        .collect();
    assert!(raw.is_empty(), "raw hidden characters: {raw:?}\n{out:?}");
    // and the names are there, seen (the skipped operation is its own cause line; the media
    // type lower-cased by `media-type-keys`)
    let escaped = "\\u{000a}\\u{001b}[2J\\u{202e}\\u{2028}\\u{0007}";
    assert!(
        out.lines()
            .any(|l| l.contains(&format!("POST /upload{escaped}"))
                && l.contains(&format!("application/x{}ml", escaped.replace("[2J", "[2j")))),
        "{out}"
    );
}

/// A document's file name, whatever it is, makes a crate (`try-<stem>`) that is a valid Cargo
/// package whose library name is snake case: `a--b.yaml` once made `try_a__b`, which rustc
/// warns about (`non_snake_case`) in every build of the crate.
#[test]
fn any_file_name_makes_a_crate_without_a_name_warning() {
    let scratch = tmp("names");
    let names = [
        "pass--case.yaml",
        "2020-09-14.yml",
        "Zendesk API.v2.json",
        "__Ünï code!!.json",
        &format!("{}.yaml", "long-".repeat(45)),
    ];
    for (i, name) in names.iter().enumerate() {
        let file = scratch.path().join(name);
        std::fs::write(&file, document(json!({"name": "a"})).to_string()).unwrap();
        let dir = scratch.path().join(format!("crate-{i}"));
        let o = try_file(&file, &dir);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o));
        // cargo replays the warnings of the check `try` just ran
        let o = cargo_in(&dir, &["check", "--message-format=short"]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let warnings: Vec<String> = text(&o)
            .lines()
            .filter(|l| l.contains("warning"))
            .map(str::to_string)
            .collect();
        assert!(warnings.is_empty(), "{name}: {warnings:#?}");
    }
}
