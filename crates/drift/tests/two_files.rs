//! `agentstatus-drift OLD NEW` as a CI job runs it: real vendor documents (the pinned copies in
//! `specs/`), a change made to a copy, files, standard input and `.gz`, every format, and the
//! exit codes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_agentstatus-drift"))
}

fn specs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs")
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Chatwoot's complete document, pinned: a response property removed and an enum value added
/// in a copy. Every operation is compared (no list of kept operations), the removal is
/// breaking and found at the old file's line, the enum value is not breaking.
#[test]
fn chatwoot_s_document_against_a_changed_copy() {
    let old_path = specs().join("chatwoot/upstream/swagger.json");
    let old = std::fs::read_to_string(&old_path).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&old).unwrap();
    assert!(
        doc["paths"].as_object().unwrap().len() > 50,
        "the complete API"
    );
    // a property of the agent and a value of its availability
    let new = old.replacen(
        "\"availability_status\": {",
        "\"availability_status_renamed\": {",
        1,
    );
    assert_ne!(new, old, "the document has the property");
    let tmp = tempdir();
    let dir = tmp.path();
    let new_path = dir.join("new.json");
    std::fs::write(&new_path, &new).unwrap();
    let o = run(
        &[old_path.to_str().unwrap(), new_path.to_str().unwrap()],
        None,
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("BREAKING"), "{out}");
    assert!(out.contains("availability_status"), "{out}");
    let line = old
        .lines()
        .position(|l| l.contains("\"availability_status\": {"))
        .unwrap()
        + 1;
    assert!(
        out.contains(&format!("swagger.json:{line}:")),
        "the removal is at the old file's line {line}: {out}"
    );
    // unchanged: exit 0, whatever --fail-on says
    let o = run(
        &[
            "--fail-on",
            "drift",
            old_path.to_str().unwrap(),
            old_path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("no change"));
}

#[test]
fn standard_input_gzip_and_json_output() {
    let old = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - {name: q, in: query, schema: {type: string}}\n      responses:\n        '200': {description: ok}\n";
    let new = old.replace(
        "{name: q, in: query,",
        "{name: q, in: query, required: true,",
    );
    let tmp = tempdir();
    let dir = tmp.path();
    let gz = dir.join("old.yaml.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(old.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let o = run(
        &["--format", "json", gz.to_str().unwrap(), "-"],
        Some(new.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["breaking"], 1);
    let f = &v["findings"][0];
    assert_eq!(f["operation"], "GET /a");
    assert_eq!(f["file"], "-");
    assert_eq!(f["line"], 7);
    // GitHub annotations and markdown carry the same finding
    let o = run(
        &["--format", "github", gz.to_str().unwrap(), "-"],
        Some(new.as_bytes()),
    );
    assert!(
        text(&o).starts_with("::error file=-,line=7,"),
        "{}",
        text(&o)
    );
    let o = run(
        &["--format", "markdown", gz.to_str().unwrap(), "-"],
        Some(new.as_bytes()),
    );
    assert!(
        text(&o).contains("| **breaking** | GET /a |"),
        "{}",
        text(&o)
    );
}

#[test]
fn what_cannot_be_compared_exits_2_with_the_reason() {
    let tmp = tempdir();
    let dir = tmp.path();
    let ok = dir.join("ok.yaml");
    std::fs::write(
        &ok,
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n",
    )
    .unwrap();
    let swagger12 = dir.join("old.json");
    std::fs::write(&swagger12, r#"{"swagger": "1.2", "paths": {}}"#).unwrap();
    for (args, says) in [
        (
            vec![ok.to_str().unwrap(), "/no/such/file.yaml"],
            "cannot read",
        ),
        (
            vec![swagger12.to_str().unwrap(), ok.to_str().unwrap()],
            "Swagger version",
        ),
        (vec!["-", "-"], "only one of OLD, NEW"),
    ] {
        let o = run(&args, Some(b""));
        let all = format!("{}{}", text(&o), String::from_utf8_lossy(&o.stderr));
        assert_eq!(o.status.code(), Some(2), "{args:?}: {all}");
        assert!(all.contains(says), "{args:?}: {all}");
        assert!(!all.contains("panicked"), "{all}");
    }
}

/// A scratch directory, removed when dropped (a failed test's too).
fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("agentstatus-drift-")
        .tempdir()
        .unwrap()
}

/// Chatwoot's document with its own `overlay.yaml`, as a CI job outside the workspace runs it:
/// the vendor now declares `custom_role_id` nullable, which the overlay already adds. Two raw
/// findings, none in the client: `--fail-on breaking` (the client layer) passes, `--layer raw`
/// fails, and the action is reported redundant at its line in the overlay file.
#[test]
fn an_overlay_gives_the_client_layer_and_judges_its_actions() {
    let old_path = specs().join("chatwoot/upstream/swagger.json");
    let overlay = specs().join("chatwoot/overlay.yaml");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&old_path).unwrap()).unwrap();
    doc["components"]["schemas"]["agent"]["properties"]["custom_role_id"]["nullable"] =
        serde_json::json!(true);
    let tmp = tempdir();
    let dir = tmp.path().join("nullable");
    std::fs::create_dir_all(&dir).unwrap();
    let new_path = dir.join("new.json");
    std::fs::write(&new_path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let (o, n, ov) = (
        old_path.to_str().unwrap(),
        new_path.to_str().unwrap(),
        overlay.to_str().unwrap(),
    );
    // the kept operations of specs/chatwoot/sources.toml: the overlay is written for their slice
    let (get, patch) = (
        "GET /api/v1/accounts/{account_id}/agents",
        "PATCH /api/v1/accounts/{account_id}/agents/{id}",
    );
    let kept = |more: &[&'static str]| -> Vec<&str> {
        let mut args = vec!["--overlay", ov, "--ops", get, "--ops", patch];
        args.extend_from_slice(more);
        args.extend([o, n]);
        args
    };
    let out = run(&kept(&["--format", "json"]), None);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{json:#}");
    let raw = json["findings"].as_array().unwrap();
    assert!(!raw.is_empty(), "{json:#}");
    assert!(
        raw.iter().all(|f| f["reaches_client"] == false
            && f["location"].as_str().unwrap().contains("custom_role_id")),
        "{json:#}"
    );
    assert_eq!(json["client"], serde_json::json!([]), "{json:#}");
    assert_eq!(json["raw_breaking"].as_u64(), Some(raw.len() as u64));
    assert_eq!(json["breaking"], 0);
    let text = std::fs::read_to_string(&overlay).unwrap();
    let line = 1 + text[..text
        .find("$.components.schemas.agent.properties.custom_role_id")
        .unwrap()]
        .matches('\n')
        .count();
    let stale: Vec<&serde_json::Value> = json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] != "applies")
        .collect();
    assert_eq!(stale.len(), 1, "{json:#}");
    assert_eq!(stale[0]["redundant"], true);
    assert_eq!(
        stale[0]["target"],
        "$.components.schemas.agent.properties.custom_role_id"
    );
    assert_eq!(stale[0]["line"].as_u64(), Some(line as u64), "{json:#}");

    // judged on the raw documents, the vendor's change is breaking
    let out = run(&kept(&["--layer", "raw"]), None);
    assert_eq!(out.status.code(), Some(1), "{}", text_of(&out));
    // any drift: the redundant action is drift
    let out = run(&kept(&["--fail-on", "drift"]), None);
    let shown = text_of(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("raw only"), "{shown}");
    assert!(
        shown.contains("is redundant") && shown.contains(&format!("overlay.yaml:{line}:")),
        "{shown}"
    );
    // without the overlay the same change is breaking for the client
    let out = run(&["--ops", get, "--ops", patch, o, n], None);
    assert_eq!(out.status.code(), Some(1), "{}", text_of(&out));
}

/// An overlay action whose target the vendor removed matches nothing: the client would not
/// build, so even `--fail-on breaking` exits 1, naming the action's line; a broken overlay
/// file is exit 2 naming it.
#[test]
fn an_overlay_action_that_matches_nothing_fails_and_a_bad_overlay_cannot_compare() {
    let old_path = specs().join("chatwoot/upstream/swagger.json");
    let overlay = specs().join("chatwoot/overlay.yaml");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&old_path).unwrap()).unwrap();
    doc["components"]["schemas"]["agent"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("custom_role_id");
    let tmp = tempdir();
    let dir = tmp.path().join("removed");
    std::fs::create_dir_all(&dir).unwrap();
    let new_path = dir.join("new.json");
    std::fs::write(&new_path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let (o, n, ov) = (
        old_path.to_str().unwrap(),
        new_path.to_str().unwrap(),
        overlay.to_str().unwrap(),
    );
    let (get, patch) = (
        "GET /api/v1/accounts/{account_id}/agents",
        "PATCH /api/v1/accounts/{account_id}/agents/{id}",
    );
    let out = run(
        &[
            "--overlay",
            ov,
            "--ops",
            get,
            "--ops",
            patch,
            "--format",
            "github",
            o,
            n,
        ],
        None,
    );
    let shown = text_of(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.lines().any(|l| l.starts_with("::error file=")
            && l.contains("overlay.yaml")
            && l.contains("matches nothing")),
        "{shown}"
    );
    let bad = dir.join("bad-overlay.yaml");
    std::fs::write(
        &bad,
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $.paths\n    update: {}\n",
    )
    .unwrap();
    let out = run(&["--overlay", bad.to_str().unwrap(), o, n], None);
    let err = text_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad-overlay.yaml") && err.contains("description"),
        "{err}"
    );
}

fn text_of(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
