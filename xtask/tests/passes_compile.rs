//! The pass corpus (`crates/codegen/tests/passes/*.yaml`, one small spec per pass) through the
//! whole pipeline with `cargo xtask try`: every spec generates a crate that compiles, and its
//! round trips (`x-agentstatus-roundtrip`: values decoded into a generated type and encoded back
//! unchanged) pass. The codegen's own test checks that each pass changes its spec.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_pass_corpus_spec_compiles_and_round_trips() {
    let root = workspace();
    let dir = root.join("crates/codegen/tests/passes");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 16, "{specs:?}");
    let mut failed = Vec::new();
    for spec in &specs {
        let name = spec.file_stem().unwrap().to_string_lossy().to_string();
        let out_dir = root.join("target/compile-gate/passes").join(&name);
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .current_dir(&root)
            .args([
                "try",
                spec.to_str().unwrap(),
                "--out",
                out_dir.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.code() != Some(0) {
            failed.push(format!("{name}: exit {:?}\n{text}", out.status.code()));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[test]
fn try_exit_codes_say_unreadable_and_not_compiling() {
    let root = workspace();
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-try-")
        .tempdir()
        .unwrap();
    let tmp = scratch.path().to_path_buf();
    let run = |file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .current_dir(&root)
            .args(["try", file.to_str().unwrap(), "--out"])
            .arg(tmp.join("crate"))
            .output()
            .unwrap()
    };
    // not a document: 2, naming the file and the place
    let bad = tmp.join("bad.yaml");
    std::fs::write(&bad, "openapi: 3.0.0\npaths: [unclosed\n").unwrap();
    let o = run(&bad);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad.yaml"),
        "{o:?}"
    );
    // a Swagger version other than 2.0 (which is converted): 2, naming it
    let swagger = tmp.join("swagger.json");
    std::fs::write(&swagger, r#"{"swagger": "1.2", "paths": {}}"#).unwrap();
    let o = run(&swagger);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Swagger version \"1.2\" is not supported"),
        "{o:?}"
    );
    // a document without `info` (2.0 converted, or 3.0): 2, saying so; the isolation that
    // looks for a culprit among no operations once recursed until the stack overflowed
    for (name, text) in [
        ("swagger2.json", r#"{"swagger": "2.0", "paths": {}}"#),
        ("no-info.json", r#"{"openapi": "3.0.3", "paths": {}}"#),
    ] {
        let file = tmp.join(name);
        std::fs::write(&file, text).unwrap();
        let o = run(&file);
        assert_eq!(o.status.code(), Some(2), "{name}: {o:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("missing field `info`"),
            "{name}: {o:?}"
        );
    }
    assert_eq!(run(&tmp.join("missing.yaml")).status.code(), Some(2));
}
