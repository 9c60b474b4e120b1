//! Every registered vendor is a complete slice: sources with kept operations, an overlay whose
//! every action has a reason citing the vendor's notes, the notes themselves, golden files, wire
//! tests, a contract run against its fake, an example, and its rows in the README tables. The
//! contract itself runs in the vendor crate (`cargo test -p agentstatus-<vendor> --features
//! presence,fake`); this test makes sure it is there.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path, missing: &mut Vec<String>) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        missing.push(format!("{}: {e}", path.display()));
        String::new()
    })
}

#[test]
fn every_registered_vendor_is_a_complete_slice() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut missing = Vec::new();
    for entry in agentstatus::registry() {
        let v = entry.name;
        let specs = root.join("specs").join(v);
        let krate = root.join("crates").join(v);

        let sources: toml::Table =
            toml::from_str(&read(&specs.join("sources.toml"), &mut missing)).unwrap_or_default();
        let kept: usize = sources
            .get("source")
            .and_then(|s| s.as_array())
            .map_or(0, |list| {
                list.iter()
                    .filter_map(|s| s.get("operations")?.as_array())
                    .map(Vec::len)
                    .sum()
            });
        if kept == 0 {
            missing.push(format!("{v}: specs/{v}/sources.toml keeps no operation"));
        }

        let notes = read(&specs.join("NOTES.md"), &mut missing);
        if !notes.is_empty() && !notes.contains("## Fake server behaviour") {
            missing.push(format!(
                "{v}: specs/{v}/NOTES.md has no \"Fake server behaviour\" section"
            ));
        }
        let overlay: serde_json::Value =
            serde_saphyr::from_str(&read(&specs.join("overlay.yaml"), &mut missing))
                .unwrap_or_default();
        for (i, action) in overlay["actions"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let why = action["description"].as_str().unwrap_or_default();
            if why.trim().len() < 20 {
                missing.push(format!("{v}: overlay action {i} has no reason"));
            } else if !why.contains("NOTES.md") {
                missing.push(format!(
                    "{v}: overlay action {i} does not cite specs/{v}/NOTES.md"
                ));
            }
        }

        let golden = krate.join("generated/client.rs");
        if !golden.is_file() {
            missing.push(format!("{v}: no golden file {}", golden.display()));
        }
        let wire = read(&krate.join("tests/wire.rs"), &mut missing);
        if wire.matches("#[tokio::test]").count() < 2 {
            missing.push(format!(
                "{v}: crates/{v}/tests/wire.rs tests fewer than two requests"
            ));
        }
        let contract = read(&krate.join("tests/contract.rs"), &mut missing);
        if !contract.contains("contract(") {
            missing.push(format!(
                "{v}: crates/{v}/tests/contract.rs does not run the contract"
            ));
        }
        let examples = std::fs::read_dir(krate.join("examples"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
                    .count()
            })
            .unwrap_or(0);
        if examples == 0 {
            missing.push(format!("{v}: no example in crates/{v}/examples/"));
        }
        if entry.demo.is_none() {
            missing.push(format!(
                "{v}: no demo (build the crate with its `fake` feature)"
            ));
        }

        // the README: the endpoint table, the mapping table and the coverage table
        let title = entry.title;
        for (what, row) in [
            ("endpoint table", format!("| {title} | `agentstatus-{v}` |")),
            ("mapping table", format!("| {title} | ")),
            ("coverage table", format!("| {v} | ")),
        ] {
            if !readme.contains(&row) {
                missing.push(format!("{v}: README.md has no row `{row}` in the {what}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "incomplete vendor slices:\n{}",
        missing.join("\n")
    );
}
