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

/// Every vendor: the folders of specs/ (a new vendor is covered without an edit here).
fn vendors() -> Vec<String> {
    agentstatus_codegen::vendor_folders(&root().join("specs")).unwrap()
}

/// Every vendor's pinned documents, as `(vendor, file name, bytes)`.
fn pinned() -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    for vendor in vendors() {
        let dir = root().join("specs").join(&vendor).join("upstream");
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

/// `check --live --mirror <server> --format json` for the given vendors' documents. The
/// server's address reads `MIRROR` in the report.
async fn check_json(docs: &[(String, String, Vec<u8>)], vendor: Option<&str>) -> (i32, Value) {
    let (code, stdout) = check_with(docs, vendor, &["--format", "json"]).await;
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (code, report)
}

/// `check --live --mirror <server> ARGS`: exit code and stdout, the server's address as `MIRROR`.
async fn check_with(
    docs: &[(String, String, Vec<u8>)],
    vendor: Option<&str>,
    extra: &[&str],
) -> (i32, String) {
    let server = serve(docs).await;
    let mut args = vec![
        "check".into(),
        "--live".into(),
        "--mirror".into(),
        server.uri(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    if let Some(v) = vendor {
        args.extend(["--vendor".into(), v.into()]);
    }
    let (out, _) = xtask(args).await;
    let stdout = String::from_utf8_lossy(&out.stdout).replace(&server.uri(), "MIRROR");
    (out.status.code().unwrap(), stdout)
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
            "breaking": false,
            "reaches_client": false,
            "pointer": "/components/schemas/AvailabilityRequest/properties/status/enum",
            "side": "new",
            "source": "openapi",
            "file": "MIRROR/libredesk/openapi.json",
            "line": 4570,
            "column": 13
        }])
    );
    assert_eq!(
        vendor(&report, "libredesk")["upstream"]["changed_sources"],
        json!(["openapi"])
    );
    // the overlay replaces the enum with the server's values: the vendor's new value does not
    // reach the client, and the correction (a remove + update pair) now disagrees with the
    // vendor: it conflicts, naming the change it keeps from the client
    let overlay = vendor(&report, "libredesk")["overlay"]
        .as_array()
        .unwrap()
        .clone();
    let conflicting: Vec<&Value> = overlay
        .iter()
        .filter(|a| a.get("conflicts").is_some())
        .collect();
    assert_eq!(conflicting.len(), 2, "{overlay:#?}");
    for a in &conflicting {
        assert_eq!(a["status"], "applies");
        assert_eq!(a["redundant"], false);
        assert_eq!(
            a["conflicts"],
            json!([
                "PUT /api/v1/agents/me/availability request body: status enum value do_not_disturb added"
            ])
        );
    }
    assert!(
        overlay
            .iter()
            .all(|a| a["status"] == "applies" && a["redundant"] == false),
        "{overlay:#?}"
    );
    assert_eq!(
        vendor(&report, "libredesk")["upstream"]["client"],
        json!([])
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
            "breaking": true,
            "reaches_client": true,
            "pointer": "/paths/~1status/get",
            "side": "old",
            "source": "reference",
            "file": "specs/engage-digital/upstream/engage-digital_openapi3.yaml",
            "line": 5413,
            "column": 5
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
            "breaking": true,
            "reaches_client": true,
            "pointer": "/paths/~1api~1v1~1livechat~1users~1{type}/get/parameters/6/schema",
            "side": "new",
            "source": "omnichannel",
            "file": "MIRROR/rocketchat/omnichannel.yaml",
            "line": 133,
            "column": 11
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
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-sources-")
        .tempdir()
        .unwrap();
    let dir = scratch.path().to_path_buf();
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
        stdout.contains("  raw only     PUT /api/v1/agents/me/availability request body: status: enum value do_not_disturb added"),
        "{stdout}"
    );
    assert!(stdout.contains("rocketchat: upstream (folder "), "{stdout}");
    assert!(stdout.ends_with("drift found (exit 1)\n"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn regen_twice_gives_identical_bytes_equal_to_the_committed_specs() {
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-regen-")
        .tempdir()
        .unwrap();
    let tmp = scratch.path().to_path_buf();
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
            vendors()
                .iter()
                .map(|v| std::fs::read(tmp.join(v).join("openapi.yaml")).unwrap())
                .collect::<Vec<_>>(),
        );
    }
    std::fs::remove_dir_all(&tmp).unwrap();
    assert!(runs[0] == runs[1], "two regen runs differ");
    for (i, v) in vendors().iter().enumerate() {
        assert_eq!(
            runs[0][i],
            std::fs::read(root().join("specs").join(v).join("openapi.yaml")).unwrap(),
            "{v}"
        );
    }
}

/// A temporary copy of specs/ (sources.toml and pinned copies) for commands that write.
/// Removed when dropped (a failed test's too).
fn specs_copy(tag: &str) -> tempfile::TempDir {
    let scratch = tempfile::Builder::new()
        .prefix(&format!("agentstatus-{tag}-"))
        .tempdir()
        .unwrap();
    let tmp = scratch.path().to_path_buf();
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
    scratch
}

#[tokio::test(flavor = "multi_thread")]
async fn regen_live_updates_pinned_copies_and_spec_and_refuses_a_removed_operation() {
    let copy = specs_copy("regen-live");
    let tmp = copy.path().to_path_buf();
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
        stdout.contains("libredesk: full: form-bodies at /paths/~1api~1v1~1media/post/requestBody: multipart/form-data body (progenitor cannot send it): generated as a typed body sent as multipart"),
        "{stdout}"
    );
    assert!(
        stdout.contains("libredesk: slice: nullable-without-type at /components/schemas/ErrorEnvelope/properties/data/nullable:"),
        "{stdout}"
    );
}

// ---- issue 15: no blind spots, CI-native reports ----

const COUNT: &str = "    count:\n      name: count\n      in: query\n      required: false\n      schema:\n        type: integer\n      example: 25\n      description: 'The number of items to return.";

fn only<'a>(findings: &'a Value, change: &str) -> Vec<&'a Value> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["change"] == change)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shared_component_changed_in_one_source_is_a_finding_and_a_located_conflict() {
    // gap 1: Rocket.Chat's omnichannel.yaml and its pinned older copy share `count`
    let mut docs = pinned();
    edit(
        &mut docs,
        "omnichannel.yaml",
        COUNT,
        &COUNT.replace("type: integer", "type: string"),
    );
    let (code, report) = check_json(&docs, Some("rocketchat")).await;
    assert_eq!(code, 1, "{report:#}");
    let f = findings(&report, "rocketchat");
    assert_eq!(
        only(&f, "parameter-changed"),
        [&json!({
            "operation": "GET /api/v1/livechat/users/{type}",
            "change": "parameter-changed",
            "location": "query parameter count",
            "detail": "type changed from integer to string",
            "breaking": true,
            "reaches_client": true,
            "pointer": "/components/parameters/count/schema",
            "side": "new",
            "source": "omnichannel",
            "file": "MIRROR/rocketchat/omnichannel.yaml",
            "line": 15958,
            "column": 7
        })]
    );
    assert_eq!(
        only(&f, "source-conflict"),
        [&json!({
            "operation": "",
            "change": "source-conflict",
            "location": "component parameters/count",
            "detail": "source `omnichannel` now defines `components/parameters/count` differently from source `omnichannel-c748daf7` (MIRROR/rocketchat/omnichannel-c748daf7.yaml:17239:5): regen cannot merge them until a maintainer decides which is right",
            "breaking": true,
            "pointer": "/components/parameters/count",
            "side": "new",
            "source": "omnichannel",
            "file": "MIRROR/rocketchat/omnichannel.yaml",
            "line": 15954,
            "column": 5
        })]
    );
    // the client layer: the conflict, and the change as the merged effective document has it
    // (in every kept operation that uses `count`)
    let client = vendor(&report, "rocketchat")["upstream"]["client"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        !client.is_empty()
            && client
                .iter()
                .all(|c| c["breaking"] == true && c["location"] == "query parameter count"),
        "{client:#?}"
    );
    assert_eq!(
        report["summary"]["vendors"]["rocketchat"]["breaking"],
        1 + client.len()
    );
    assert_eq!(
        report["summary"]["vendors"]["rocketchat"]["raw_breaking"],
        f.as_array().unwrap().len()
    );

    // `count` becoming required: breaking, reported the same way
    let mut docs = pinned();
    edit(
        &mut docs,
        "omnichannel.yaml",
        COUNT,
        &COUNT.replace("required: false", "required: true"),
    );
    let (code, report) = check_json(&docs, Some("rocketchat")).await;
    assert_eq!(code, 1);
    let f = findings(&report, "rocketchat");
    let required = only(&f, "required-changed");
    assert_eq!(required.len(), 1, "{f:#}");
    assert_eq!(required[0]["detail"], "parameter became required");
    assert_eq!(required[0]["breaking"], true);
    assert_eq!(only(&f, "source-conflict").len(), 1);

    // a description-only edit of a shared component: no finding, no conflict, exit 0
    let mut docs = pinned();
    edit(
        &mut docs,
        "omnichannel.yaml",
        COUNT,
        &COUNT.replace("The number of items", "How many items"),
    );
    let (code, report) = check_json(&docs, Some("rocketchat")).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        vendor(&report, "rocketchat")["upstream"]["changed_sources"],
        json!(["omnichannel"])
    );
    assert_eq!(findings(&report, "rocketchat"), json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn regen_of_conflicting_sources_names_both_vendor_files_and_positions() {
    let mut docs = pinned();
    edit(
        &mut docs,
        "omnichannel.yaml",
        COUNT,
        &COUNT.replace("type: integer", "type: string"),
    );
    let copy = specs_copy("regen-conflict");
    let tmp = copy.path().to_path_buf();
    let server = serve(&docs).await;
    let before = std::fs::read(tmp.join("rocketchat/openapi.yaml")).unwrap();
    let (out, _) = xtask(vec![
        "--specs".into(),
        tmp.display().to_string(),
        "regen".into(),
        "--live".into(),
        "--mirror".into(),
        server.uri(),
        "--vendor".into(),
        "rocketchat".into(),
    ])
    .await;
    let after = std::fs::read(tmp.join("rocketchat/openapi.yaml")).unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&server.uri(), "MIRROR");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("error: MIRROR/rocketchat/omnichannel-c748daf7.yaml:17239:5: source `omnichannel-c748daf7` defines `components/parameters/count` differently from source `omnichannel` (MIRROR/rocketchat/omnichannel.yaml:15954:5); regen cannot merge them"),
        "{stderr}"
    );
    assert!(before == after, "nothing written");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_body_media_type_change_is_breaking() {
    // gap 2
    let mut docs = pinned();
    edit(
        &mut docs,
        "openapi.json",
        "\"application/json\": {\n              \"schema\": {\n                \"$ref\": \"#/components/schemas/AvailabilityRequest\"",
        "\"application/x-www-form-urlencoded\": {\n              \"schema\": {\n                \"$ref\": \"#/components/schemas/AvailabilityRequest\"",
    );
    let (code, report) = check_json(&docs, Some("libredesk")).await;
    assert_eq!(code, 1);
    let got: Vec<_> = findings(&report, "libredesk")
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["change"].as_str().unwrap().to_string(),
                f["detail"].as_str().unwrap().to_string(),
                f["breaking"].as_bool().unwrap(),
                format!(
                    "{}:{}:{}",
                    f["file"].as_str().unwrap(),
                    f["line"],
                    f["column"]
                ),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "media-type-added".into(),
                "request body media type application/x-www-form-urlencoded added".into(),
                false,
                "MIRROR/libredesk/openapi.json:166:13".into()
            ),
            (
                "media-type-removed".into(),
                "request body media type application/json removed".into(),
                true,
                "specs/libredesk/upstream/openapi.json:166:13".into()
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheme_the_vendor_declares_and_the_overlay_applies_is_checked() {
    // gap 3: Engage Digital declares bearerAuth, applies it nowhere; the overlay applies it
    let mut docs = pinned();
    edit(
        &mut docs,
        "engage-digital_openapi3.yaml",
        "scheme: bearer",
        "scheme: basic",
    );
    let (code, report) = check_json(&docs, Some("engage-digital")).await;
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report, "engage-digital"),
        json!([{
            "operation": "",
            "change": "security-scheme-changed",
            "location": "security scheme bearerAuth",
            "detail": "security scheme bearerAuth changed from http:bearer:: to http:basic::",
            "breaking": true,
            "pointer": "/components/securitySchemes/bearerAuth",
            "side": "new",
            "source": "reference",
            "file": "MIRROR/engage-digital/engage-digital_openapi3.yaml",
            "line": 10006,
            "column": 5
        }])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_additive_all_of_is_a_property_added_and_one_of_is_compared() {
    // gap 4
    let mut docs = pinned();
    edit(
        &mut docs,
        "openapi.json",
        "\"description\": \"Current agent details\",\n            \"content\": {\n              \"application/json\": {\n                \"schema\": {\n                  \"$ref\": \"#/components/schemas/AgentResponse\"\n                }",
        "\"description\": \"Current agent details\",\n            \"content\": {\n              \"application/json\": {\n                \"schema\": {\"allOf\": [\n                  {\"$ref\": \"#/components/schemas/AgentResponse\"},\n                  {\"type\": \"object\", \"properties\": {\"team\": {\"oneOf\": [{\"type\": \"string\"}]}}}\n                ]}",
    );
    let (code, report) = check_json(&docs, Some("libredesk")).await;
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report, "libredesk"),
        json!([{
            "operation": "GET /api/v1/agents/me",
            "change": "property-added",
            "location": "response 200: team",
            "detail": "optional property added",
            "breaking": false,
            "reaches_client": true,
            "pointer": "/paths/~1api~1v1~1agents~1me/get/responses/200/content/application~1json/schema/allOf/1/properties/team",
            "side": "new",
            "source": "openapi",
            "file": "MIRROR/libredesk/openapi.json",
            "line": 116,
            "column": 53
        }])
    );
    // and the alternatives of that `oneOf` are compared: with the allOf document pinned (in a
    // copy of specs/), an alternative added to a response breaks it
    let copy = specs_copy("one-of");
    let tmp = copy.path().to_path_buf();
    let changed = docs
        .iter()
        .find(|d| d.1 == "openapi.json")
        .unwrap()
        .2
        .clone();
    std::fs::write(tmp.join("libredesk/upstream/openapi.json"), &changed).unwrap();
    let specs = tmp.display().to_string();
    let (out, _) = xtask(vec![
        "--specs".into(),
        specs.clone(),
        "regen".into(),
        "--vendor".into(),
        "libredesk".into(),
    ])
    .await;
    assert!(out.status.success());
    let mut more = docs.clone();
    edit(
        &mut more,
        "openapi.json",
        "{\"oneOf\": [{\"type\": \"string\"}]}",
        "{\"oneOf\": [{\"type\": \"string\"}, {\"type\": \"integer\"}]}",
    );
    let server = serve(&more).await;
    let (out, _) = xtask(vec![
        "--specs".into(),
        specs,
        "check".into(),
        "--live".into(),
        "--mirror".into(),
        server.uri(),
        "--vendor".into(),
        "libredesk".into(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    std::fs::remove_dir_all(&tmp).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &findings(&report, "libredesk")[0];
    assert_eq!(
        (&f["change"], &f["location"], &f["detail"], &f["breaking"]),
        (
            &json!("variant-added"),
            &json!("response 200: team.oneOf:#1"),
            &json!("oneOf alternative #1 added"),
            &json!(true)
        )
    );
    assert_eq!(findings(&report, "libredesk").as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn constraints_are_compared_tightened_request_is_breaking() {
    // gap 5
    let mut docs = pinned();
    edit(
        &mut docs,
        "openapi.json",
        "\"description\": \"Origin of the status change.",
        "\"maxLength\": 8,\n            \"description\": \"Origin of the status change.",
    );
    let (code, report) = check_json(&docs, Some("libredesk")).await;
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report, "libredesk"),
        json!([{
            "operation": "PUT /api/v1/agents/me/availability",
            "change": "constraint-changed",
            "location": "request body: source",
            "detail": "maxLength 8 added (tightened)",
            "breaking": true,
            "reaches_client": true,
            "pointer": "/components/schemas/AvailabilityRequest/properties/source/maxLength",
            "side": "new",
            "source": "openapi",
            "file": "MIRROR/libredesk/openapi.json",
            "line": 4584,
            "column": 13
        }])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_with_explain_is_one_json_document() {
    // gap 6
    let (out, _) = xtask(vec![
        "check".into(),
        "--format".into(),
        "json".into(),
        "--explain".into(),
        "--vendor".into(),
        "libredesk".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let explain = vendor(&report, "libredesk")["explain"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        explain.contains(&json!("full: form-bodies at /paths/~1api~1v1~1media/post/requestBody: multipart/form-data body (progenitor cannot send it): generated as a typed body sent as multipart, 1 file property")),
        "{explain:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_on_summary_markdown_and_github_annotations() {
    // gap 7: a non-breaking change
    let mut docs = pinned();
    edit(
        &mut docs,
        "openapi.json",
        "              \"busy\",\n              \"away\",",
        "              \"busy\",\n              \"do_not_disturb\",\n              \"away\",",
    );
    let (code, report) = check_json(&docs, None).await;
    assert_eq!(code, 1, "default: fail on any drift");
    // the overlay pins the request enum: the new value is a raw change only, and the enum
    // correction (two actions) conflicts with it
    let counts = json!({"breaking": 0, "non_breaking": 0, "raw_breaking": 0, "raw_non_breaking": 1,
        "not_in_client": 1, "full_breaking": 0, "full_non_breaking": 0, "overlay": 2,
        "reproducibility": 0, "error": false});
    assert_eq!(report["summary"]["vendors"]["libredesk"], counts);
    assert_eq!(report["summary"]["total"], counts);
    let (code, _) = check_with(&docs, None, &["--fail-on", "breaking"]).await;
    assert_eq!(
        code, 0,
        "a non-breaking change does not fail --fail-on breaking"
    );
    let (code, gh) = check_with(&docs, Some("libredesk"), &["--format", "github"]).await;
    assert_eq!(code, 1);
    assert!(
        gh.starts_with("::notice file=specs/libredesk/upstream/openapi.json,line=4570,col=13,title=libredesk%3A non-breaking enum-value-added::PUT /api/v1/agents/me/availability request body: status: enum value do_not_disturb added (in MIRROR/libredesk/openapi.json:4570:13) [raw only: does not reach the client"),
        "{gh}"
    );
    assert_eq!(
        gh.lines()
            .filter(
                |l| l.starts_with("::warning file=specs/libredesk/overlay.yaml,")
                    && l.contains("conflicts with the vendor's change")
            )
            .count(),
        2,
        "{gh}"
    );
    assert!(
        gh.ends_with("drift check: 0 breaking, 0 non-breaking (client), 1 raw change(s) not in the client, `full` API 0 breaking / 0 other, 2 overlay, 0 reproducibility: drift found (exit 1)\n"),
        "{gh}"
    );
    let (_, md) = check_with(&docs, Some("libredesk"), &["--format", "markdown"]).await;
    assert!(
        md.contains("| libredesk | 0 | 0 | 1 | 0 / 0 | 2 | 0 | yes |\n"),
        "{md}"
    );
    assert!(
        md.contains("| non-breaking | PUT /api/v1/agents/me/availability | request body: status | enum value do_not_disturb added | **no** (raw only) | `MIRROR/libredesk/openapi.json:4570:13` |\n"),
        "{md}"
    );

    // a breaking change fails --fail-on breaking, and is an error annotation
    let mut docs = pinned();
    edit(
        &mut docs,
        "engage-digital_openapi3.yaml",
        "  /status:\r\n    get:",
        "  /status-gone:\r\n    get:",
    );
    let (code, gh) = check_with(
        &docs,
        Some("engage-digital"),
        &["--fail-on", "breaking", "--format", "github"],
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        gh.starts_with("::error file=specs/engage-digital/upstream/engage-digital_openapi3.yaml,line=5413,col=5,title=engage-digital%3A breaking operation-removed::GET /status: operation removed (in specs/engage-digital/upstream/engage-digital_openapi3.yaml:5413:5)\n"),
        "{gh}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_workspace_is_the_one_the_current_directory_is_in() {
    // gap 8: a copy of the workspace's specs, run from inside it
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-ws-")
        .tempdir()
        .unwrap();
    let tmp = scratch.path().to_path_buf();
    let copy = specs_copy("ws-specs");
    let specs = copy.path().to_path_buf();
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::rename(&specs, tmp.join("specs")).unwrap();
    std::fs::write(tmp.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    // the copy's openapi.yaml differs from the real one's: only a check of the copy sees it
    let spec = tmp.join("specs/libredesk/openapi.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replace("\"available\"", "\"on-duty\"")
            .replace("- available\n", "- on-duty\n"),
    )
    .unwrap();
    let run = |dir: PathBuf, args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
                    .args(&args)
                    .current_dir(dir)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let out = run(
        tmp.join("specs/libredesk"),
        &["check", "--vendor", "libredesk", "--format", "json"],
    )
    .await;
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["workspace"], tmp.display().to_string());
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(vendor(&report, "libredesk")["reproducible"], false);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("check: {}", tmp.join("specs").display())),
        "says which tree it checks"
    );
    // outside any workspace: a clear error, not the tree the binary was built in
    let outside = tmp.join("specs");
    std::fs::remove_file(tmp.join("Cargo.toml")).unwrap();
    let out = run(outside, &["check"]).await;
    std::fs::remove_dir_all(&tmp).unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not inside the agentstatus workspace"),
        "{stderr}"
    );
    // --specs is documented
    let (out, _) = xtask(vec!["--help".into()]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("--specs <DIR>"));
}

/// Rocket.Chat's `POST livechat/agent.status` is kept from a docs-page snapshot, and the pinned
/// `omnichannel.yaml` defines it too (without the request body the page documents): the check
/// says so, at the operation in that source, as a notice that changes no exit code.
#[tokio::test(flavor = "multi_thread")]
async fn a_kept_operation_the_vendor_now_publishes_is_a_notice() {
    let (code, report) = check_json(&pinned(), Some("rocketchat")).await;
    assert_eq!(code, 0, "{report:#}");
    let notices = &vendor(&report, "rocketchat")["upstream"]["notices"];
    let published = only(notices, "operation-published");
    // both of Rocket.Chat's OpenAPI sources define it
    let sources: Vec<&str> = published
        .iter()
        .map(|f| f["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        ["omnichannel", "omnichannel-c748daf7"],
        "{report:#}"
    );
    let f = published[0];
    assert_eq!(f["operation"], "POST /api/v1/livechat/agent.status");
    assert_eq!(f["line"], 545, "the operation in omnichannel.yaml: {f:#}");
    assert!(
        f["detail"]
            .as_str()
            .unwrap()
            .contains("is kept from source `update-agent-status` (a docs-page snapshot)"),
        "{f:#}"
    );
    let (code, text) = check_with(&pinned(), Some("rocketchat"), &[]).await;
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("rocketchat: notice: POST /api/v1/livechat/agent.status is kept from source"),
        "{text}"
    );
}

/// Chatwoot's newer document declares `custom_role_id` nullable, which the overlay already
/// adds: a change of the vendor's document (the raw layer) that does not reach the generated
/// client, and an overlay action now redundant (judged on the effective documents: the same
/// without it, but for its description).
#[tokio::test(flavor = "multi_thread")]
async fn a_correction_the_vendor_now_makes_does_not_reach_the_client_and_its_action_is_redundant() {
    let mut docs = pinned();
    let field = "\"custom_role_id\": {\n            \"type\": \"integer\",\n";
    edit(
        &mut docs,
        "swagger.json",
        field,
        &format!("{field}            \"nullable\": true,\n"),
    );
    let (code, report) = check_json(&docs, Some("chatwoot")).await;
    // drift (a redundant overlay action), but nothing breaks the client
    assert_eq!(code, 1, "{report:#}");
    let chatwoot = vendor(&report, "chatwoot");
    let raw = findings(&report, "chatwoot");
    let raw = raw.as_array().unwrap();
    assert!(!raw.is_empty(), "{chatwoot:#}");
    for f in raw {
        assert!(
            f["location"].as_str().unwrap().contains("custom_role_id"),
            "{f:#}"
        );
        assert_eq!(f["reaches_client"], false, "{f:#}");
    }
    assert_eq!(chatwoot["upstream"]["client"], json!([]), "{chatwoot:#}");
    assert_eq!(
        chatwoot["upstream"].get("full_client"),
        None,
        "{chatwoot:#}"
    );
    let summary = &report["summary"]["vendors"]["chatwoot"];
    assert_eq!(summary["breaking"], 0, "{summary:#}");
    assert_eq!(summary["not_in_client"], raw.len(), "{summary:#}");
    let actions = chatwoot["overlay"].as_array().unwrap();
    let redundant: Vec<&Value> = actions.iter().filter(|a| a["redundant"] == true).collect();
    assert_eq!(redundant.len(), 1, "{actions:#?}");
    assert_eq!(
        redundant[0]["target"],
        "$.components.schemas.agent.properties.custom_role_id"
    );
    assert_eq!(redundant[0]["status"], "already-applied");
    assert_eq!(redundant[0]["documentation_differs"], true);
    assert!(
        actions
            .iter()
            .filter(|a| a["redundant"] != true)
            .all(|a| a["status"] == "applies" && a.get("conflicts").is_none()),
        "{actions:#?}"
    );

    // --fail-on breaking judges the client layer: exit 0; the raw layer: exit 1
    let (code, text) = check_with(&docs, Some("chatwoot"), &["--fail-on", "breaking"]).await;
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("raw only") && text.contains("does not reach the client"),
        "{text}"
    );
    assert!(!text.contains("BREAKING"), "{text}");
    assert!(
        text.contains(
            "overlay action 5 `$.components.schemas.agent.properties.custom_role_id` is redundant"
        ),
        "{text}"
    );
    let (code, _) = check_with(
        &docs,
        Some("chatwoot"),
        &["--fail-on", "breaking", "--layer", "raw"],
    )
    .await;
    assert_eq!(code, 1);
    // both layers in the other formats
    let (_, md) = check_with(&docs, Some("chatwoot"), &["--format", "markdown"]).await;
    assert!(md.contains("| reaches the client |"), "{md}");
    assert!(md.contains("**no** (raw only)"), "{md}");
    assert!(md.contains("is redundant"), "{md}");
    let (_, gh) = check_with(&docs, Some("chatwoot"), &["--format", "github"]).await;
    assert!(gh.lines().any(|l| l.starts_with("::notice ")), "{gh}");
    assert!(!gh.lines().any(|l| l.starts_with("::error ")), "{gh}");
}

/// An operation of Chatwoot's `full = true` source that is not kept disappears: its own
/// section, judged unless `--scope slice`.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_source_is_diffed_in_full_in_its_own_scope() {
    let mut docs = pinned();
    let doc = docs.iter_mut().find(|d| d.1 == "swagger.json").unwrap();
    let mut swagger: Value = serde_json::from_slice(&doc.2).unwrap();
    let removed = "/platform/api/v1/users/{id}/login";
    assert!(
        swagger["paths"]
            .as_object_mut()
            .unwrap()
            .remove(removed)
            .is_some()
    );
    doc.2 = serde_json::to_vec_pretty(&swagger).unwrap();
    let (code, report) = check_json(&docs, Some("chatwoot")).await;
    assert_eq!(code, 1, "{report:#}");
    let up = &vendor(&report, "chatwoot")["upstream"];
    assert_eq!(
        up["findings"],
        json!([]),
        "the kept operations did not change"
    );
    for layer in ["full", "full_client"] {
        let full = up[layer].as_array().unwrap();
        assert_eq!(full.len(), 1, "{layer}: {up:#}");
        assert_eq!(full[0]["operation"], format!("GET {removed}"));
        assert_eq!(full[0]["change"], "operation-removed");
        assert_eq!(full[0]["breaking"], true);
    }
    // a removal is placed in the pinned copy
    assert_eq!(
        up["full"][0]["file"],
        "specs/chatwoot/upstream/swagger.json"
    );
    assert!(up["full"][0]["line"].as_u64().is_some(), "{up:#}");
    assert_eq!(report["summary"]["vendors"]["chatwoot"]["full_breaking"], 1);
    for (scope, exit) in [("all", 1), ("full", 1), ("slice", 0)] {
        let (code, text) = check_with(
            &docs,
            Some("chatwoot"),
            &["--fail-on", "breaking", "--scope", scope],
        )
        .await;
        assert_eq!(code, exit, "--scope {scope}: {text}");
        assert!(
            text.contains("the rest of the `full` API") && text.contains(removed),
            "{text}"
        );
    }
}
