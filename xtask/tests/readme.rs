//! The README's client examples are the compiled `examples/` files, verbatim; its mapping and
//! coverage tables and ARCHITECTURE.md's pass table are what their sources say.

use std::path::Path;

#[test]
fn readme_shows_every_vendor_example_verbatim() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let examples = entry.unwrap().path().join("examples");
        let Ok(files) = std::fs::read_dir(&examples) else {
            continue;
        };
        for file in files {
            let path = file.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                readme.contains(&format!("```rust,no_run\n{text}```")),
                "README.md does not show {} verbatim",
                path.display()
            );
            seen += 1;
        }
    }
    assert!(seen >= 3, "expected an example per vendor, found {seen}");
}

#[test]
fn readme_mapping_table_is_the_adapters_docs_tables() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut adapters = 0;
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let Ok(lib) = std::fs::read_to_string(entry.unwrap().path().join("src/presence.rs")) else {
            continue;
        };
        adapters += 1;
        let rows: Vec<&str> = lib
            .lines()
            .filter_map(|l| l.strip_prefix("//! |"))
            .filter(|r| !r.starts_with(" vendor |") && !r.starts_with("---"))
            .collect();
        assert!(rows.len() >= 2, "an adapter's docs have its mapping table");
        for row in rows {
            assert!(
                readme.contains(&format!("|{row}")),
                "README.md lacks the mapping row |{row}"
            );
        }
    }
    assert!(
        adapters >= 3,
        "expected an adapter per vendor, found {adapters}"
    );
}

#[test]
fn readme_coverage_table_is_what_xtask_coverage_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("coverage")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    let start = "<!-- coverage:start (cargo xtask coverage --write-readme) -->\n";
    let block = readme
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once("<!-- coverage:end -->"))
        .map(|(block, _)| block)
        .expect("README.md has the coverage markers");
    assert_eq!(
        block, table,
        "README.md's coverage table is stale: run `cargo xtask coverage --write-readme`"
    );
    // at least 95% of each vendor's operations are generated and compile
    for line in table
        .lines()
        .filter(|l| l.ends_with("% |") && !l.contains("compiled %"))
    {
        let pct: f64 = line
            .trim_end_matches(" |")
            .rsplit("| ")
            .next()
            .unwrap()
            .trim_end_matches('%')
            .parse()
            .unwrap();
        assert!(pct >= 95.0, "{line}");
    }
}

/// The pass table is maintainers' material: it lives in ARCHITECTURE.md, which
/// `cargo xtask passes --write-readme` writes.
#[test]
fn architecture_pass_table_is_the_codegen_pipeline() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(root)
        .arg("passes")
        .output()
        .unwrap();
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.lines().count() >= 20, "{table}");
    assert!(
        architecture.contains(&format!(
            "<!-- passes:start (cargo xtask passes --write-readme) -->\n{table}<!-- passes:end -->"
        )),
        "ARCHITECTURE.md's pass table differs from `cargo xtask passes`: run `cargo xtask passes --write-readme`"
    );
    // one copy only: a second one would not be rewritten and would go stale
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        !readme.contains("<!-- passes:start"),
        "README.md has a pass table too: it belongs in ARCHITECTURE.md only"
    );
}
