//! A vendor published as several files (Mattermost's fragments, joined by its build with `cat`):
//! `cargo xtask check` reads each fragment from a `--sources` folder or a mirror, and names a
//! change at the fragment it is in and at that fragment's own line and column, annotated on the
//! fragment's pinned copy. No network (a local folder, a wiremock server on 127.0.0.1).

use std::path::{Path, PathBuf};

use serde_json::Value;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Mattermost's pinned fragments, `status.yaml` changed: `dnd_end_time` becomes a string.
fn fragments() -> Vec<(String, Vec<u8>)> {
    let dir = root().join("specs/mattermost/upstream");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let mut bytes = std::fs::read(&p).unwrap();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if name == "status.yaml" {
            let text = String::from_utf8(bytes).unwrap();
            let from = "                dnd_end_time:\n                  type: integer";
            assert!(text.contains(from));
            bytes = text
                .replace(
                    from,
                    "                dnd_end_time:\n                  type: string",
                )
                .into_bytes();
        }
        out.push((name, bytes));
    }
    out
}

fn xtask(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn the_finding(report: &Value) -> Value {
    let vendor = report["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vendor"] == "mattermost")
        .unwrap();
    let findings = vendor["upstream"]["findings"].as_array().unwrap().clone();
    let typed: Vec<&Value> = findings
        .iter()
        .filter(|f| {
            f["pointer"]
                .as_str()
                .unwrap_or_default()
                .contains("dnd_end_time")
        })
        .collect();
    assert_eq!(typed.len(), 1, "{findings:#?}");
    typed[0].clone()
}

#[test]
fn a_change_in_one_fragment_is_named_at_that_fragments_own_line() {
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-fragments-")
        .tempdir()
        .unwrap();
    let dir = scratch.path().to_path_buf();
    std::fs::create_dir_all(dir.join("mattermost")).unwrap();
    for (name, bytes) in fragments() {
        std::fs::write(dir.join("mattermost").join(name), bytes).unwrap();
    }
    let out = xtask(&[
        "check",
        "--vendor",
        "mattermost",
        "--sources",
        dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = the_finding(&report);
    // in status.yaml, at the line and column of `dnd_end_time:` in status.yaml itself (not in
    // the joined document, where it is hundreds of lines further)
    assert!(
        f["file"]
            .as_str()
            .unwrap()
            .ends_with("mattermost/status.yaml"),
        "{f:#}"
    );
    assert_eq!(f["source"], "api/status.yaml", "{f:#}");
    assert_eq!(
        (
            f["line"].as_u64(),
            f["column"].as_u64(),
            f["breaking"].as_bool()
        ),
        (Some(64), Some(17), Some(true)),
        "{f:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mirror_serves_each_fragment_and_the_annotation_lands_on_its_pinned_copy() {
    let server = MockServer::start().await;
    for (name, bytes) in fragments() {
        Mock::given(path(format!("/mattermost/{name}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes))
            .mount(&server)
            .await;
    }
    let uri = server.uri();
    let out = tokio::task::spawn_blocking(move || {
        xtask(&[
            "check",
            "--vendor",
            "mattermost",
            "--live",
            "--mirror",
            &uri,
            "--format",
            "github",
        ])
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("::error file=specs/mattermost/upstream/status.yaml,line=64,col=17,"),
        "{text}"
    );
    // each fragment was fetched on its own, in the order sources.toml lists them
    let asked: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        asked,
        [
            "/mattermost/introduction.yaml",
            "/mattermost/users.yaml",
            "/mattermost/status.yaml",
            "/mattermost/definitions.yaml"
        ]
    );
}
