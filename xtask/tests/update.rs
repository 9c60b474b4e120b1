//! `cargo xtask update --sources DIR` on a copy of the workspace: one run pins the changed
//! document, records its provenance, regenerates openapi.yaml, rebuilds the vendor crate,
//! rewrites its golden files, runs its tests with every feature and writes its changelog entry,
//! the bump confirmed by cargo-semver-checks. The copy builds into this workspace's target
//! directory (`CARGO_TARGET_DIR` if set), so only the workspace's own crates compile again (a few
//! minutes on 2 cores).
//!
//! cargo-semver-checks (pinned, `cargo install --locked cargo-semver-checks@0.51.0`; `.ci/run`
//! installs it into a cache) is not built by this test: without it the semver part is skipped
//! with a loud message, unless `AGENTSTATUS_REQUIRE_SEMVER_CHECKS=1` (CI) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
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

/// The target directory the copy builds into: this build's own.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Is the pinned cargo-semver-checks installed? Without it the semver part is skipped, loudly;
/// with `AGENTSTATUS_REQUIRE_SEMVER_CHECKS=1` (CI), its absence fails the test.
fn semver_checks_installed() -> bool {
    let installed = Command::new(env!("CARGO"))
        .args(["semver-checks", "--version"])
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("0.51.0"));
    if !installed {
        assert!(
            std::env::var_os("AGENTSTATUS_REQUIRE_SEMVER_CHECKS").is_none(),
            "AGENTSTATUS_REQUIRE_SEMVER_CHECKS is set but cargo-semver-checks 0.51.0 is not installed"
        );
        eprintln!(
            "\n!!!!!!!!\n!!! update test: cargo-semver-checks 0.51.0 is NOT installed: the bump is \
             NOT confirmed by it in this run (cargo install --locked cargo-semver-checks@0.51.0)\n!!!!!!!!\n"
        );
    }
    installed
}

/// The copy as a git repository at one commit: cargo-semver-checks' baseline is `HEAD`.
fn git_commit_all(dir: &Path) {
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-qm",
            "before the update",
        ],
    ] {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }
}

const AGENT_RESPONSE: &str =
    "\"AgentResponse\": {\n        \"type\": \"object\",\n        \"properties\": {\n";

#[test]
fn update_pins_regenerates_rewrites_golden_files_tests_and_writes_the_changelog() {
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-update-")
        .tempdir()
        .unwrap();
    let tmp = scratch.path().to_path_buf();
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
    // ... removes a field of a response of the `full` API (`Contact`: breaking, a major release) ...
    let country = "\"phone_number_country_code\": {\n            \"type\": \"string\",\n            \"nullable\": true\n          },\n          ";
    assert_eq!(changed.matches(country).count(), 1);
    let changed = changed.replace(country, "");
    // ... adds a value to the request enum the overlay pins (the vendor's change does not reach
    // the client) ...
    let busy = "              \"busy\",\n              \"away\",";
    assert!(changed.contains(busy));
    let changed = changed.replacen(
        busy,
        "              \"busy\",\n              \"do_not_disturb\",\n              \"away\",",
        1,
    );
    // ... and moves an operation of the `full` API (removed, and another added)
    let completion = "\"/api/v1/ai/completion\": {";
    assert_eq!(changed.matches(completion).count(), 1);
    let changed = changed.replace(completion, "\"/api/v1/ai/completions\": {");
    let sources = tmp.join("sources/libredesk");
    std::fs::create_dir_all(&sources).unwrap();
    std::fs::write(sources.join("openapi.json"), &changed).unwrap();
    let golden_before =
        std::fs::read_to_string(ws.join("crates/libredesk/generated/client.rs")).unwrap();
    assert!(!golden_before.contains("request_id"));

    let semver = semver_checks_installed();
    git_commit_all(&ws);
    let start = Instant::now();
    let mut update = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    update
        .args(["update", "--sources"])
        .arg(tmp.join("sources"))
        .current_dir(&ws)
        .env("CARGO_TARGET_DIR", target_dir());
    if semver {
        update.arg("--semver-checks");
    }
    let out = update.output().unwrap();
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!("update took {took:?}");
    let read = |p: &str| std::fs::read_to_string(ws.join(p)).unwrap_or_default();
    let (pinned_now, spec, golden, changelog, sources_toml) = (
        read("specs/libredesk/upstream/openapi.json"),
        read("specs/libredesk/openapi.yaml"),
        read("crates/libredesk/generated/client.rs"),
        read("crates/libredesk/CHANGELOG.md"),
        read("specs/libredesk/sources.toml"),
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
        .env("CARGO_TARGET_DIR", target_dir())
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
        // with the adapter, the fake and the complete API: the wire, contract, fake and both
        // golden tests run
        "update: test: cargo test -p agentstatus-libredesk --tests --features presence,fake",
        "update: test with the complete API: cargo test -p agentstatus-libredesk --features presence,fake,full --test golden_full",
    ] {
        assert!(stderr.contains(step), "{step} missing from:\n{stderr}");
    }
    // the adapter's tests ran, against the new client
    for test in [
        "tests/contract.rs",
        "tests/wire.rs",
        "tests/fake.rs",
        "tests/golden_full.rs",
    ] {
        assert!(
            stderr.contains(&format!("Running {test}")),
            "{test} did not run:\n{stderr}"
        );
    }
    assert!(!stderr.contains("test result: FAILED"), "{stderr}");
    // the bump: a field of a kept operation's response removed is a major change (0.x: 0.2.0)
    assert!(
        stdout.contains(
            " finding(s), major bump: agentstatus-libredesk 0.2.0 (changelog crates/libredesk/CHANGELOG.md)"
        ),
        "{stdout}"
    );
    // provenance: the pinned copy's origin is rewritten from what was read (a copy given with
    // --sources: the vendor's URL, the date, and that its commit is not known), in sources.toml
    // and in openapi.yaml's header; never the folder's path
    let origin = sources_toml
        .lines()
        .find(|l| l.starts_with("origin = "))
        .expect(&sources_toml);
    assert!(
        origin.starts_with("origin = \"https://raw.githubusercontent.com/")
            && origin.contains(" (pinned 20")
            && origin.contains("from a copy given with --sources, not downloaded"),
        "{origin}"
    );
    assert!(
        !sources_toml.contains("agentstatus-update-"),
        "{sources_toml}"
    );
    let recorded = origin
        .trim_start_matches("origin = \"")
        .trim_end_matches('"');
    assert!(
        spec.contains(recorded),
        "the header shows the origin:\n{}",
        &spec[..spec.len().min(2000)]
    );
    // cargo-semver-checks, pinned: its verdict and the spec-level one, said in the entry
    if semver {
        assert!(
            stderr.contains("update: confirm the bump with cargo-semver-checks: cargo semver-checks check-release -p agentstatus-libredesk --baseline-rev HEAD --release-type minor"),
            "{stderr}"
        );
        assert!(
            changelog.contains("cargo-semver-checks (cargo-semver-checks@0.51.0) agrees: the generated Rust API fits a major release."),
            "{changelog}"
        );
    }
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
            ": optional property added (specs/libredesk/upstream/openapi.json:4172:11)\n"
        ),
        "{changelog}"
    );
    // the bump: the rest of the `full` API lost a field and an operation (breaking: major, 0.x:
    // 0.2.0); the slice gained a field; the enum value is the vendor's document's only
    assert!(
        unreleased.contains(
            "0 breaking, 2 non-breaking change(s); 1 change(s) of the vendor's document that do \
             not reach the generated client; the rest of the `full` API: 6 breaking, 4 \
             non-breaking; semver: **major** (0.1.0 -> 0.2.0)."
        ),
        "{changelog}"
    );
    let section = |name: &str| {
        unreleased
            .split(&format!("### {name}\n"))
            .nth(1)
            .and_then(|a| a.split("\n### ").next())
            .unwrap_or_default()
            .to_string()
    };
    let removed = section("Removed");
    // the field removed (from `Contact`, in the `full` API): in spec terms, at its place in the
    // old pinned copy, and in the crate's terms
    assert!(
        removed.contains(
            "- **Breaking:** `full` API: `GET /api/v1/contacts/{id}` `response 200: \
             data.phone_number_country_code`: property removed (was at \
             specs/libredesk/upstream/openapi.json:2925:11)\n"
        ),
        "{changelog}"
    );
    assert!(
        removed
            .contains("- Rust API with `full`: field `types::Contact.phone_number_country_code`"),
        "{changelog}"
    );
    // the operation moved: removed and added in spec terms; its Rust method keeps its name
    // (the operationId did not change), so no Rust API line
    assert!(
        removed.contains(
            "- **Breaking:** `full` API: `POST /api/v1/ai/completion`: operation removed (was at \
             specs/libredesk/upstream/openapi.json:406:7)\n"
        ),
        "{changelog}"
    );
    assert!(
        added.contains("- `full` API: `POST /api/v1/ai/completions`: operation added ("),
        "{changelog}"
    );
    // the enum value the overlay keeps from the client: said, not counted as the crate's change
    assert!(
        added.contains(
            "- `PUT /api/v1/agents/me/availability` `request body: status`: enum value do_not_disturb added ("
        ) && added.contains("— in the vendor's document only: the overlay or the normaliser already made or overrides it"),
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
        unreleased.contains("Rust API: 1 change(s); Rust API with `full`: 2 change(s)."),
        "{changelog}"
    );
}

#[test]
fn update_writes_nothing_when_regen_could_not_merge_the_sources() {
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-update-refused-")
        .tempdir()
        .unwrap();
    let tmp = scratch.path().to_path_buf();
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
