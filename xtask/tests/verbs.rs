//! Every verb is documented: the verbs `cargo xtask --help` lists (clap's list of subcommands)
//! are the verbs of xtask's module doc (`xtask/src/main.rs`) and of the docs' verb table (the
//! `## xtask verbs` section of ARCHITECTURE.md, or of README.md while it has it).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The verbs, from `xtask --help` (without clap's `help`).
fn verbs() -> BTreeSet<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let (_, commands) = help
        .split_once("\nCommands:\n")
        .expect("--help lists Commands:");
    let verbs: BTreeSet<String> = commands
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|v| *v != "help")
        .map(str::to_string)
        .collect();
    assert!(verbs.len() >= 13, "{help}");
    verbs
}

/// The first word after each of `lines`' `prefix`, up to a space or a backtick.
fn named(lines: impl Iterator<Item = String>, prefix: &str) -> BTreeSet<String> {
    lines
        .filter_map(|l| {
            let rest = l.strip_prefix(prefix)?;
            Some(rest.split([' ', '`']).next()?.to_string())
        })
        .collect()
}

#[test]
fn the_module_doc_lists_every_verb() {
    let main = std::fs::read_to_string(root().join("xtask/src/main.rs")).unwrap();
    let doc = main
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(|l| l.trim_start().to_string());
    assert_eq!(
        named(doc, "- `"),
        verbs(),
        "xtask/src/main.rs's module doc lists each verb as \"- `verb ...`\""
    );
}

#[test]
fn the_verb_table_lists_every_verb() {
    let docs = ["ARCHITECTURE.md", "README.md"]
        .iter()
        .filter_map(|f| Some((f, std::fs::read_to_string(root().join(f)).ok()?)))
        .find(|(_, text)| text.contains("\n## xtask verbs\n"));
    let Some((file, text)) = docs else {
        panic!("neither ARCHITECTURE.md nor README.md has a `## xtask verbs` section");
    };
    let (_, section) = text.split_once("\n## xtask verbs\n").unwrap();
    let section = section.split("\n## ").next().unwrap();
    let rows = section.lines().map(str::to_string);
    assert_eq!(
        named(rows, "| `"),
        verbs(),
        "{file}'s verb table has a row \"| `verb ...` | ... |\" for each verb"
    );
}
