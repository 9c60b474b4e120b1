//! `cargo xtask check` scenarios. A local HTTP server (wiremock, 127.0.0.1) serves the vendors'
//! documents — the pinned copies, or copies changed the way a vendor might change them — and each
//! scenario asserts the exact findings and the exit code. No network.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every vendor's pinned documents, as `(vendor, file name, bytes)`.
fn pinned() -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    for vendor in ["engage-digital", "libredesk", "rocketchat"] {
        let dir = root().join("specs").join(vendor).join("upstream");
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            out.push((
                vendor.to_string(),
                p.file_name().unwrap().to_str().unwrap().to_string(),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    out
}

/// Change one served document by replacing text (asserting the text was there).
fn edit(docs: &mut [(String, String, Vec<u8>)], file: &str, from: &str, to: &str) {
    let doc = docs.iter_mut().find(|d| d.1 == file).unwrap();
    let text = String::from_utf8(doc.2.clone()).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    doc.2 = text.replace(from, to).into_bytes();
}

async fn serve(docs: &[(String, String, Vec<u8>)]) -> MockServer {
    let server = MockServer::start().await;
    for (vendor, file, bytes) in docs {
        Mock::given(path(format!("/{vendor}/{file}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes.clone()))
            .mount(&server)
            .await;
    }
    server
}

async fn xtask(args: Vec<String>) -> (Output, Duration) {
    tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(&args)
            .output()
            .unwrap();
        (out, start.elapsed())
    })
    .await
    .unwrap()
}

/// `check --live --mirror <server> --format json` for the given vendors' documents.
async fn check_json(docs: &[(String, String, Vec<u8>)], vendor: Option<&str>) -> (i32, Value) {
    let server = serve(docs).await;
    let mut args = vec![
        "check".into(),
        "--live".into(),
        "--mirror".into(),
        server.uri(),
        "--format".into(),
        "json".into(),
    ];
    if let Some(v) = vendor {
        args.extend(["--vendor".into(), v.into()]);
    }
    let (out, _) = xtask(args).await;
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), report)
}

fn vendor<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vendor"] == name)
        .unwrap()
}

fn findings(report: &Value, name: &str) -> Value {
    vendor(report, name)["upstream"]["findings"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_change_is_exit_0() {
    let (code, report) = check_json(&pinned(), None).await;
    assert_eq!(code, 0, "{report:#}");
    for v in report["vendors"].as_array().unwrap() {
        assert_eq!(v["reproducible"], true);
        assert_eq!(v["upstream"]["changed_sources"], json!([]));
        assert_eq!(v["upstream"]["findings"], json!([]));
        assert!(
            v["overlay"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["status"] == "applies")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn libredesk_adds_a_status_enum_value_non_breaking() {
    let mut docs = pinned();
    edit(
        &mut docs,
        "openapi.json",
        "              \"busy\",\n              \"away\",",
        "              \"busy\",\n              \"do_not_disturb\",\n              \"away\",",
    );
    let (code, report) = check_json(&docs, Some("libredesk")).await;
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report, "libredesk"),
        json!([{
            "operation": "PUT /api/v1/agents/me/availability",
            "change": "enum-value-added",
            "location": "request body: status",
            "detail": "enum value do_not_disturb added",
            "breaking": false
        }])
    );
    assert_eq!(
        vendor(&report, "libredesk")["upstream"]["changed_sources"],
        json!(["openapi"])
    );
    // the enum correction still applies
    assert!(
        vendor(&report, "libredesk")["overlay"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "applies")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn engage_digital_removes_get_status_breaking() {
    let mut docs = pinned();
    // GET /status is the only operation of its path: drop the path item
    edit(
        &mut docs,
        "engage-digital_openapi3.yaml",
        "  /status:\r\n    get:",
        "  /status-gone:\r\n    get:",
    );
    let (code, report) = check_json(&docs, Some("engage-digital")).await;
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report, "engage-digital"),
        json!([{
            "operation": "GET /status",
            "change": "operation-removed",
            "location": "",
            "detail": "operation removed",
            "breaking": true
        }])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rocketchat_parameter_type_change_breaking() {
    let mut docs = pinned();
    edit(
        &mut docs,
        "omnichannel.yaml",
        "        - name: onlyAvailable\n          in: query\n          schema:\n            type: boolean",
        "        - name: onlyAvailable\n          in: query\n          schema:\n            type: string",
    );
    let (code, report) = check_json(&docs, Some("rocketchat")).await;
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report, "rocketchat"),
        json!([{
            "operation": "GET /api/v1/livechat/users/{type}",
            "change": "parameter-changed",
            "location": "query parameter onlyAvailable",
            "detail": "type changed from boolean to string",
            "breaking": true
        }])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_fenced_spec_is_exit_2_naming_page_and_position() {
    let mut docs = pinned();
    edit(
        &mut docs,
        "update-agent-status.md",
        "\"openapi\": \"3.0.0\",",
        "\"openapi\": \"3.0.0\",,",
    );
    let server = serve(&docs).await;
    let (out, _) = xtask(vec![
        "check".into(),
        "--live".into(),
        "--mirror".into(),
        server.uri(),
        "--vendor".into(),
        "rocketchat".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let page = format!("{}/rocketchat/update-agent-status.md:14:22:", server.uri());
    assert!(stdout.contains(&page), "expected {page} in:\n{stdout}");
    assert!(
        stdout.contains("in the fenced `POST /api/v1/livechat/agent.status` spec: invalid JSON"),
        "{stdout}"
    );
    assert!(stdout.contains("could not check (exit 2)"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_that_times_out_is_exit_2_within_the_timeout() {
    let server = MockServer::start().await;
    Mock::given(path("/libredesk/openapi.json"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let (out, elapsed) = xtask(vec![
        "check".into(),
        "--live".into(),
        "--mirror".into(),
        server.uri(),
        "--timeout".into(),
        "1".into(),
        "--vendor".into(),
        "libredesk".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("download failed after 2 attempts: timed out"),
        "{stdout}"
    );
    // two attempts of 1 s and a 0.5 s pause, with room for a loaded machine; never the 60 s delay
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overlay_target_that_no_longer_matches_is_reported() {
    let mut docs = pinned();
    // the vendor renames the schema the enum correction targets; the shape is unchanged
    let doc = docs.iter_mut().find(|d| d.1 == "openapi.json").unwrap();
    doc.2 = String::from_utf8(doc.2.clone())
        .unwrap()
        .replace("AvailabilityRequest", "AvailabilityUpdate")
        .into_bytes();
    let (code, report) = check_json(&docs, Some("libredesk")).await;
    assert_eq!(code, 1);
    assert_eq!(findings(&report, "libredesk"), json!([]));
    let stale: Vec<_> = vendor(&report, "libredesk")["overlay"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] != "applies")
        .map(|a| {
            (
                a["index"].as_u64().unwrap(),
                a["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        stale,
        [
            (0, "no-match".to_string()),
            (1, "no-match".to_string()),
            (2, "no-match".to_string())
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fix_the_vendor_made_is_reported_as_already_applied() {
    let mut docs = pinned();
    edit(
        &mut docs,
        "openapi.json",
        "              \"available\",\n              \"busy\",\n              \"away\",\n              \"offline\"\n",
        "              \"online\",\n              \"away\",\n              \"away_manual\",\n              \"away_and_reassigning\",\n              \"offline\"\n",
    );
    let (code, report) = check_json(&docs, Some("libredesk")).await;
    assert_eq!(code, 1);
    let overlay = vendor(&report, "libredesk")["overlay"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(overlay[0]["status"], "already-applied");
    assert_eq!(overlay[1]["status"], "already-applied");
    // the documentation action and every other correction still apply
    assert!(
        overlay[2..].iter().all(|a| a["status"] == "applies"),
        "{overlay:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sources_dir_is_read_like_a_mirror_and_text_is_the_default() {
    let dir = std::env::temp_dir().join(format!("agentstatus-sources-{}", std::process::id()));
    let mut docs = pinned();
    edit(
        &mut docs,
        "openapi.json",
        "              \"busy\",\n              \"away\",",
        "              \"busy\",\n              \"do_not_disturb\",\n              \"away\",",
    );
    for (v, f, bytes) in &docs {
        std::fs::create_dir_all(dir.join(v)).unwrap();
        std::fs::write(dir.join(v).join(f), bytes).unwrap();
    }
    let (out, _) = xtask(vec![
        "check".into(),
        "--sources".into(),
        dir.display().to_string(),
    ])
    .await;
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("  non-breaking PUT /api/v1/agents/me/availability request body: status: enum value do_not_disturb added"),
        "{stdout}"
    );
    assert!(stdout.contains("rocketchat: upstream (folder "), "{stdout}");
    assert!(stdout.ends_with("drift found (exit 1)\n"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn regen_twice_gives_identical_bytes_equal_to_the_committed_specs() {
    let tmp = std::env::temp_dir().join(format!("agentstatus-regen-{}", std::process::id()));
    for (v, f, bytes) in pinned() {
        std::fs::create_dir_all(tmp.join(&v).join("upstream")).unwrap();
        std::fs::write(tmp.join(&v).join("upstream").join(f), bytes).unwrap();
        std::fs::copy(
            root().join("specs").join(&v).join("sources.toml"),
            tmp.join(&v).join("sources.toml"),
        )
        .unwrap();
    }
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (out, _) = xtask(vec![
            "--specs".into(),
            tmp.display().to_string(),
            "regen".into(),
        ])
        .await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        runs.push(
            ["engage-digital", "libredesk", "rocketchat"]
                .map(|v| std::fs::read(tmp.join(v).join("openapi.yaml")).unwrap()),
        );
    }
    std::fs::remove_dir_all(&tmp).unwrap();
    assert!(runs[0] == runs[1], "two regen runs differ");
    for (i, v) in ["engage-digital", "libredesk", "rocketchat"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            runs[0][i],
            std::fs::read(root().join("specs").join(v).join("openapi.yaml")).unwrap(),
            "{v}"
        );
    }
}

/// A temporary copy of specs/ (sources.toml and pinned copies) for commands that write.
fn specs_copy(tag: &str) -> PathBuf {
    let tmp = std::env::temp_dir().join(format!("agentstatus-{tag}-{}", std::process::id()));
    for (v, f, bytes) in pinned() {
        std::fs::create_dir_all(tmp.join(&v).join("upstream")).unwrap();
        std::fs::write(tmp.join(&v).join("upstream").join(f), bytes).unwrap();
        for file in ["sources.toml", "overlay.yaml", "openapi.yaml"] {
            std::fs::copy(
                root().join("specs").join(&v).join(file),
                tmp.join(&v).join(file),
            )
            .unwrap();
        }
    }
    tmp
}

#[tokio::test(flavor = "multi_thread")]
async fn regen_live_updates_pinned_copies_and_spec_and_refuses_a_removed_operation() {
    let tmp = specs_copy("regen-live");
    let mut docs = pinned();
    edit(
        &mut docs,
        "openapi.json",
        "              \"busy\",\n              \"away\",",
        "              \"busy\",\n              \"do_not_disturb\",\n              \"away\",",
    );
    let server = serve(&docs).await;
    let args = |v: &str| {
        vec![
            "--specs".to_string(),
            tmp.display().to_string(),
            "regen".into(),
            "--live".into(),
            "--mirror".into(),
            server.uri(),
            "--vendor".into(),
            v.into(),
        ]
    };
    let (out, _) = xtask(args("libredesk")).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pinned_now = std::fs::read_to_string(tmp.join("libredesk/upstream/openapi.json")).unwrap();
    assert!(pinned_now.contains("do_not_disturb"));
    let spec = std::fs::read_to_string(tmp.join("libredesk/openapi.yaml")).unwrap();
    assert!(spec.contains("do_not_disturb"));
    // and the workspace check against that copy now sees a reproducible spec
    let (out, _) = xtask(vec![
        "--specs".into(),
        tmp.display().to_string(),
        "check".into(),
        "--vendor".into(),
        "libredesk".into(),
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // a kept operation removed upstream: regen fails naming it, and writes nothing
    let mut docs = pinned();
    edit(
        &mut docs,
        "engage-digital_openapi3.yaml",
        "  /status:\r\n    get:",
        "  /status-gone:\r\n    get:",
    );
    let server2 = serve(&docs).await;
    let before =
        std::fs::read(tmp.join("engage-digital/upstream/engage-digital_openapi3.yaml")).unwrap();
    let (out, _) = xtask(vec![
        "--specs".into(),
        tmp.display().to_string(),
        "regen".into(),
        "--live".into(),
        "--mirror".into(),
        server2.uri(),
        "--vendor".into(),
        "engage-digital".into(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let after =
        std::fs::read(tmp.join("engage-digital/upstream/engage-digital_openapi3.yaml")).unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("kept operation `GET /status`"), "{stderr}");
    assert!(before == after, "the pinned copy is left alone");
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_lists_every_normaliser_change_with_vendor_and_pointer() {
    let (out, _) = xtask(vec![
        "check".into(),
        "--explain".into(),
        "--vendor".into(),
        "libredesk".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("libredesk: full: unsupported-request-bodies at /paths/~1api~1v1~1media/post: request body multipart/form-data cannot be sent"),
        "{stdout}"
    );
    assert!(
        stdout.contains("libredesk: slice: doc-code-fences at /info/description:"),
        "{stdout}"
    );
}
