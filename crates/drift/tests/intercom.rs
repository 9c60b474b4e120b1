//! A real pair of another vendor's documents: Intercom's API 2.7 and 2.8, as published
//! (`tests/fixtures/intercom/README.md`: repository, commit, hashes), compared by the binary
//! as a CI job would, with every operation and with `--ops`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

fn fixture(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/intercom/{version}.yaml.gz"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentstatus-drift"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The fixtures are the published bytes at the pinned commit.
#[test]
fn the_fixtures_are_the_pinned_documents() {
    for (version, hash) in [
        (
            "2.7",
            "6acff636cc87df08e821ae69951d8dadcbec7bc0d59771421c38fed33a129e01",
        ),
        (
            "2.8",
            "6d91dff02eb9369bf64017d13712e1dd6223f0756796ec6359eae2d4d4facb1c",
        ),
    ] {
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(fixture(version)).unwrap())
            .read_to_end(&mut bytes)
            .unwrap();
        assert_eq!(sha256(&bytes), hash, "{version}");
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.contains(&format!("  version: '{version}'")),
            "{version}"
        );
    }
}

/// 2.7 -> 2.8: the search filter's `value` went from five alternatives (string, integer,
/// boolean, array of strings, array of integers) to four (the arrays merged into one array of
/// string-or-integer): breaking for a generated client (an untagged enum's variants change),
/// in both search endpoints, at the `line:col` of each document. New optional response
/// properties and the `Intercom-Version` header's new value `2.8` are not breaking; the
/// changed `info.version` is not an API change.
#[test]
fn intercom_2_7_to_2_8() {
    let (old, new) = (fixture("2.7"), fixture("2.8"));
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    let out = run(&["--format", "json", old, new]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let line = |f: &serde_json::Value| {
        format!(
            "{} {} {}: {} at {}:{}:{}",
            if f["breaking"] == true {
                "BREAKING"
            } else {
                "non-breaking"
            },
            f["operation"].as_str().unwrap(),
            f["location"].as_str().unwrap(),
            f["detail"].as_str().unwrap(),
            Path::new(f["file"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy(),
            f["line"],
            f["column"]
        )
    };
    let lines: Vec<String> = findings.iter().map(line).collect();
    let all = lines.join("\n");

    // the breaking ones: exactly the search filter's value, in both search endpoints
    let breaking: Vec<&String> = lines.iter().filter(|l| l.starts_with("BREAKING")).collect();
    assert_eq!(breaking.len(), 8, "{all}");
    assert_eq!(json["breaking"], 8);
    for op in ["POST /contacts/search", "POST /conversations/search"] {
        for (what, at) in [
            (
                "query.oneOf:single_filter_search_request.value.oneOf:#3: type changed from array<string> to array<oneOf>",
                "2.8.yaml.gz:13909:13",
            ),
            (
                "query.oneOf:single_filter_search_request.value.oneOf:#4: oneOf alternative #4 removed",
                "2.7.yaml.gz:13888:13",
            ),
        ] {
            let want = format!("BREAKING {op} request body: {what} at {at}");
            assert!(lines.contains(&want), "missing {want}\n{all}");
        }
    }

    // new optional response properties
    for want in [
        "non-breaking GET /admins response 200: admins[].team_priority_level: optional property added at 2.8.yaml.gz:9448:9",
        "non-breaking GET /teams/{id} response 200: admin_priority_level: optional property added at 2.8.yaml.gz:14226:9",
    ] {
        assert!(lines.iter().any(|l| l == want), "missing {want}\n{all}");
    }
    // the version header's new value, on every operation that has it
    let header: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("header parameter Intercom-Version: enum value 2.8 added"))
        .collect();
    assert!(header.len() > 90, "{all}");
    assert!(
        header.iter().all(|l| l.starts_with("non-breaking")),
        "{all}"
    );
    assert_eq!(findings.len(), 114, "{all}");
    assert!(!all.contains("info"), "{all}");

    // one operation, and its unchanged neighbour
    let out = run(&[
        "--ops",
        "POST /contacts/search",
        "--format",
        "json",
        old,
        new,
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (out.status.code(), &json["breaking"]),
        (Some(1), &serde_json::json!(4))
    );
    let out = run(&[
        "--ops",
        "GET /admins/{id}",
        "--fail-on",
        "breaking",
        old,
        new,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
