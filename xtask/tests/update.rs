//! `cargo xtask update --sources DIR` on a copy of the workspace: one run pins the changed
//! document, regenerates openapi.yaml, rebuilds the vendor crate, rewrites its golden files,
//! runs its tests and writes its changelog entry. The copy builds into this workspace's target
//! directory, so only the workspace's own crates compile again (a few minutes on 2 cores).

use std::path::Path;
use std::time::Instant;

mod support;
use support::{copy_tree, root};

/// The workspace minus the fuzz crate (outside the workspace) and what is not source.
fn workspace_copy(tmp: &Path) {
    let root = root();
    for dir in ["crates", "xtask", "specs", ".cargo"] {
        copy_tree(&root.join(dir), &tmp.join(dir));
    }
    for file in ["Cargo.toml", "Cargo.lock", "build.rs", "README.md"] {
        std::fs::copy(root.join(file), tmp.join(file)).unwrap();
    }
}

const AGENT_RESPONSE: &str =
    "\"AgentResponse\": {\n        \"type\": \"object\",\n        \"properties\": {\n";

#[test]
fn update_pins_regenerates_rewrites_golden_files_tests_and_writes_the_changelog() {
    let tmp = std::env::temp_dir().join(format!("agentstatus-update-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let ws = tmp.join("ws");
    workspace_copy(&ws);

    // the vendor adds an optional property to a response: a minor release
    let pinned =
        std::fs::read_to_string(root().join("specs/libredesk/upstream/openapi.json")).unwrap();
    assert!(pinned.contains(AGENT_RESPONSE));
    // ... and, as an attacker would, puts code in its description (doctests of every form) and
    // a type path that registers a constructor: neither may run in update's build and tests
    let marker = tmp.join("PWNED");
    let run = format!(
        "std::fs::write({:?}, \"x\").unwrap();",
        marker.display().to_string()
    );
    let description = format!(
        "Request id.\n\n```rust\n{run}\n```\n\n    {run}\n\n> ```\n> {run}\n> ```\n\u{202E}"
    );
    let type_path = format!(
        "agentstatus_runtime::OpenEnum<[String; {{ #[used] #[unsafe(link_section = \".init_array\")] \
         static I: extern \"C\" fn() = {{ extern \"C\" fn f() {{ let _ = std::fs::write({:?}, \"x\"); }} f }}; 1 }}]>",
        marker.display().to_string()
    );
    let request_id = serde_json::json!({
        "type": "string",
        "description": description,
        "x-rust-type": {"crate": "agentstatus-runtime", "version": "*", "path": type_path},
    });
    let changed = pinned.replace(
        AGENT_RESPONSE,
        &format!("{AGENT_RESPONSE}          \"request_id\": {request_id},\n"),
    );
    let sources = tmp.join("sources/libredesk");
    std::fs::create_dir_all(&sources).unwrap();
    std::fs::write(sources.join("openapi.json"), &changed).unwrap();
    let golden_before =
        std::fs::read_to_string(ws.join("crates/libredesk/generated/client.rs")).unwrap();
    assert!(!golden_before.contains("request_id"));

    let start = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["update", "--sources"])
        .arg(tmp.join("sources"))
        .current_dir(&ws)
        .env("CARGO_TARGET_DIR", root().join("target"))
        .output()
        .unwrap();
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!("update took {took:?}");
    let read = |p: &str| std::fs::read_to_string(ws.join(p)).unwrap_or_default();
    let (pinned_now, spec, golden, changelog) = (
        read("specs/libredesk/upstream/openapi.json"),
        read("specs/libredesk/openapi.yaml"),
        read("crates/libredesk/generated/client.rs"),
        read("crates/libredesk/CHANGELOG.md"),
    );
    let other_vendors_untouched = ["rocketchat", "engage-digital"].iter().all(|v| {
        read(&format!("crates/{v}/CHANGELOG.md"))
            == std::fs::read_to_string(root().join(format!("crates/{v}/CHANGELOG.md"))).unwrap()
            && read(&format!("specs/{v}/openapi.yaml"))
                == std::fs::read_to_string(root().join(format!("specs/{v}/openapi.yaml"))).unwrap()
    });
    // the vendor crate's doctests (its own; the generated code has none) run here too
    let doctests = std::process::Command::new(env!("CARGO"))
        .args(["test", "-p", "agentstatus-libredesk", "--doc"])
        .current_dir(&ws)
        .env("CARGO_TARGET_DIR", root().join("target"))
        .output()
        .unwrap();
    let pwned = marker.exists();
    std::fs::remove_dir_all(&tmp).unwrap();

    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        doctests.status.success(),
        "{}",
        String::from_utf8_lossy(&doctests.stderr)
    );
    assert!(
        !pwned,
        "the document's code ran in update:\n{stdout}\n{stderr}"
    );
    assert!(
        !golden.contains("link_section"),
        "a type path reached the code"
    );
    assert!(
        golden.contains("pub request_id: ::std::option::Option<::std::string::String>"),
        "{golden}"
    );
    // one run: pinned, regenerated, rebuilt, golden rewritten, tested, changelog written
    assert_eq!(pinned_now, changed);
    assert!(spec.contains("request_id:"), "{spec}");
    for step in [
        "update: rebuild: cargo build -p agentstatus-libredesk --features codegen",
        "update: rewrite golden files: cargo test -p agentstatus-libredesk --features codegen --test golden",
        "update: rewrite the full API's golden files: cargo test -p agentstatus-libredesk --features full --test golden_full",
        // with the adapter and the fake: the wire, contract and fake tests run
        "update: test: cargo test -p agentstatus-libredesk --tests --features presence,fake",
    ] {
        assert!(stderr.contains(step), "{step} missing from:\n{stderr}");
    }
    assert!(
        stdout.contains(
            "update: libredesk: 2 finding(s), minor bump: agentstatus-libredesk 0.1.1 (changelog crates/libredesk/CHANGELOG.md)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("update: rocketchat: nothing to update"),
        "{stdout}"
    );
    assert!(
        stderr.contains("update: rocketchat: no ")
            && stderr.contains("rocketchat folder: not updated"),
        "{stderr}"
    );
    assert!(other_vendors_untouched);
    // Keep a Changelog, the finding with its position, the bump
    assert!(changelog.starts_with("# Changelog\n"), "{changelog}");
    let unreleased = changelog
        .split("## [Unreleased]\n")
        .nth(1)
        .expect(&changelog);
    // under `### Added` (after the entries already there)
    let added = unreleased
        .split("### Added\n")
        .nth(1)
        .and_then(|a| a.split("\n### ").next())
        .expect(&changelog);
    assert!(
        added.contains(
            "\n- `GET /api/v1/agents/me` `response 200: request_id`: optional property added ("
        ),
        "{changelog}"
    );
    assert!(
        unreleased.contains(
            ": optional property added (specs/libredesk/upstream/openapi.json:4176:11)\n"
        ),
        "{changelog}"
    );
    assert!(
        unreleased
            .contains("0 breaking, 2 non-breaking change(s); semver: **minor** (0.1.0 -> 0.1.1)."),
        "{changelog}"
    );
    // in the crate's own terms: the generated field, in the slice and in `full`
    for api in ["Rust API", "Rust API with `full`"] {
        assert!(
            added
                .lines()
                .any(|l| l.starts_with(&format!("- {api}: field `types::"))
                    && l.contains(
                        ".request_id`: `request_id: ::std::option::Option<::std::string::String>`"
                    )),
            "{api}: {changelog}"
        );
    }
    assert!(
        unreleased.contains("Rust API: 1 change(s); Rust API with `full`: 1 change(s)."),
        "{changelog}"
    );
}

#[test]
fn update_writes_nothing_when_regen_could_not_merge_the_sources() {
    let tmp =
        std::env::temp_dir().join(format!("agentstatus-update-refused-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let specs = tmp.join("specs");
    copy_tree(&root().join("specs"), &specs);
    // Rocket.Chat changes `count`, which its pinned older copy also defines
    let sources = tmp.join("sources/rocketchat");
    copy_tree(&root().join("specs/rocketchat/upstream"), &sources);
    let count = "    count:\n      name: count\n      in: query\n      required: false\n      schema:\n        type: integer";
    let doc = std::fs::read_to_string(sources.join("omnichannel.yaml")).unwrap();
    assert!(doc.contains(count));
    std::fs::write(
        sources.join("omnichannel.yaml"),
        doc.replace(count, &count.replace("integer", "string")),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--specs")
        .arg(&specs)
        .args(["update", "--vendor", "rocketchat", "--sources"])
        .arg(tmp.join("sources"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let untouched = ["upstream/omnichannel.yaml", "openapi.yaml"]
        .iter()
        .all(|f| {
            std::fs::read(specs.join("rocketchat").join(f)).unwrap()
                == std::fs::read(root().join("specs/rocketchat").join(f)).unwrap()
        });
    std::fs::remove_dir_all(&tmp).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    // paths are relative to the tree worked on (here the folder holding --specs)
    assert!(
        stderr.contains("error: rocketchat: specs/rocketchat: nothing was written; regen or the build would fail:\n  sources/rocketchat/omnichannel.yaml:15954:5: source `omnichannel` now defines `components/parameters/count` differently from source `omnichannel-c748daf7` (sources/rocketchat/omnichannel-c748daf7.yaml:17239:5)"),
        "{stderr}"
    );
    assert!(
        untouched,
        "the pinned copy and openapi.yaml are left as they were"
    );
}
