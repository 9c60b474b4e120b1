//! A source whose shared components differ from another's, merged through its `rename` table
//! (Microsoft Graph's ChangeNotifications module beside CloudCommunications): without the table
//! `regen` refuses to pick a definition; a rename of nothing, or to a name a source already
//! has, is refused at its line of sources.toml; and `check` names a change in a renamed
//! component at the line of its old name in the vendor's file. No network (copies in a
//! scratch folder).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A copy of msgraph's specs folder in `tmp`, its sources.toml edited by `edit`.
fn msgraph_copy(tmp: &Path, edit: impl FnOnce(String) -> String) -> PathBuf {
    let from = root().join("specs/msgraph");
    let to = tmp.join("msgraph");
    std::fs::create_dir_all(to.join("upstream")).unwrap();
    for file in ["overlay.yaml", "openapi.yaml"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    for entry in std::fs::read_dir(from.join("upstream")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, to.join("upstream").join(p.file_name().unwrap())).unwrap();
    }
    let sources = std::fs::read_to_string(from.join("sources.toml")).unwrap();
    std::fs::write(to.join("sources.toml"), edit(sources)).unwrap();
    to
}

fn xtask(specs: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--specs")
        .arg(specs)
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

const RENAME_LINE: &str = "rename = { \"responses/error\"";

/// The 1-based line of sources.toml that holds the `rename` table.
fn rename_line(sources: &str) -> usize {
    sources
        .lines()
        .position(|l| l.starts_with(RENAME_LINE))
        .expect("msgraph's sources.toml renames the error answer")
        + 1
}

#[test]
fn regen_merges_only_through_a_declared_rename_refused_where_it_is_wrong() {
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-rename-")
        .tempdir()
        .unwrap();
    let specs = scratch.path().to_path_buf();

    // as committed: regen writes the committed openapi.yaml again
    let dir = msgraph_copy(&specs, |s| s);
    let out = xtask(&specs, &["regen", "--vendor", "msgraph"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read(dir.join("openapi.yaml")).unwrap(),
        std::fs::read(root().join("specs/msgraph/openapi.yaml")).unwrap()
    );

    // without the table: the two definitions of `responses/error` are named, neither picked
    let _ = std::fs::remove_dir_all(specs.join("msgraph"));
    msgraph_copy(&specs, |s| {
        s.lines()
            .filter(|l| !l.starts_with("rename = "))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let out = xtask(&specs, &["regen", "--vendor", "msgraph"]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains(
            "defines `components/responses/error` differently from source `cloud-communications`"
        ),
        "{said}"
    );
    assert!(said.contains("ChangeNotifications.yml:"), "{said}");

    // a rename of a component the source does not have, or to a name the other source has
    for (from, to, why) in [
        (
            "\"responses/error\" = \"changeNotifications.error\"",
            "\"responses/nothing\" = \"changeNotifications.error\"",
            "defines no `components/responses/nothing`",
        ),
        (
            "\"parameters/top\" = \"changeNotifications.top\"",
            "\"parameters/top\" = \"skip\"",
            "already defines `components/parameters/skip`",
        ),
        (
            "\"responses/error\" = \"changeNotifications.error\"",
            "\"responses/error\" = \"changeNotifications.error\", \"schemas/odata.error\" = \"microsoft.graph.presence\"",
            "source `cloud-communications` defines `components/schemas/microsoft.graph.presence` too",
        ),
    ] {
        let _ = std::fs::remove_dir_all(specs.join("msgraph"));
        let mut line = 0;
        msgraph_copy(&specs, |s| {
            assert!(s.contains(from));
            line = rename_line(&s);
            s.replace(from, to)
        });
        let out = xtask(&specs, &["regen", "--vendor", "msgraph"]);
        assert!(!out.status.success(), "{to}");
        let said = text(&out);
        assert!(said.contains(why), "{to}: {said}");
        assert!(
            said.contains(&format!("msgraph/sources.toml:{line}:")),
            "{to}: not at line {line}: {said}"
        );
    }
}

#[test]
fn check_names_a_change_in_a_renamed_component_at_its_old_name_in_the_vendors_file() {
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-rename-check-")
        .tempdir()
        .unwrap();
    let current = scratch.path().join("msgraph");
    std::fs::create_dir_all(&current).unwrap();
    let upstream = root().join("specs/msgraph/upstream");
    std::fs::copy(
        upstream.join("CloudCommunications.yml"),
        current.join("CloudCommunications.yml"),
    )
    .unwrap();
    // the error answer of ChangeNotifications now in another media type
    let pinned = std::fs::read_to_string(upstream.join("ChangeNotifications.yml")).unwrap();
    let from = "  responses:\n    error:\n      description: error\n      content:\n        application/json:";
    assert!(pinned.contains(from));
    let line = pinned[..pinned.find(from).unwrap()].lines().count() + 5;
    let changed = pinned.replace(
        from,
        &from.replace("application/json", "application/problem+json"),
    );
    std::fs::write(current.join("ChangeNotifications.yml"), changed).unwrap();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "check",
            "--vendor",
            "msgraph",
            "--format",
            "json",
            "--sources",
        ])
        .arg(scratch.path())
        .current_dir(root())
        .output()
        .unwrap();
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    let vendor = &report["vendors"][0];
    let findings = vendor["upstream"]["findings"].as_array().unwrap();
    let added: Vec<&Value> = findings
        .iter()
        .filter(|f| f["change"] == "media-type-added")
        .collect();
    // one per kept operation answering with it
    assert_eq!(added.len(), 4, "{findings:#?}");
    for f in added {
        // the merged document's name, found at the vendor's own
        assert!(
            f["pointer"]
                .as_str()
                .unwrap()
                .starts_with("/components/responses/changeNotifications.error/"),
            "{f}"
        );
        assert_eq!(f["source"], "change-notifications", "{f}");
        assert!(
            f["file"]
                .as_str()
                .unwrap()
                .ends_with("ChangeNotifications.yml"),
            "{f}"
        );
        assert_eq!(f["line"], line, "{f}");
    }
}
