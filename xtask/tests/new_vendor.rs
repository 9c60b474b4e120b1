//! `cargo xtask new-vendor` in a temporary copy of the workspace: the scaffold builds, its golden
//! and wire tests pass, the facade compiles with the new registry lines (the only shared file
//! edited) without shipping the vendor by default, and its contract test fails (the adapter is
//! not written yet) until someone writes it.
//!
//! It builds a crate family in its own target directory (`target/new-vendor`), which takes minutes
//! cold: ignored by default, run by `.ci/run`:
//! `cargo test -p xtask --test new_vendor -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if matches!(name.to_str(), Some("target" | ".git" | "fuzz")) {
            continue;
        }
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

fn xtask(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn cargo(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", workspace().join("target/new-vendor"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn bad_names_are_refused_and_nothing_is_written() {
    let dir = std::env::temp_dir().join(format!("agentstatus-nv-names-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[workspace]\n").unwrap();
    for bad in ["Acme", "acme_desk", "../escape", "cli", ""] {
        let o = xtask(&dir, &["new-vendor", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", text(&o));
        assert!(text(&o).contains("invalid vendor name"), "{}", text(&o));
    }
    assert_eq!(std::fs::read_dir(dir.join("specs")).unwrap().count(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "builds a scaffolded crate family (minutes cold); run by .ci/run"]
fn a_scaffolded_vendor_builds_and_needs_only_its_adapter() {
    let dir = std::env::temp_dir().join(format!("agentstatus-nv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_tree(&workspace(), &dir);

    let o = xtask(
        &dir.join("crates"),
        &["new-vendor", "acme-desk", "--title", "Acme Desk"],
    );
    assert!(o.status.success(), "{}", text(&o));
    for f in [
        "specs/acme-desk/sources.toml",
        "specs/acme-desk/overlay.yaml",
        "specs/acme-desk/NOTES.md",
        "crates/acme-desk/README.md",
        "crates/acme-desk/CHANGELOG.md",
        "crates/acme-desk/src/presence.rs",
        "crates/acme-desk/src/fake.rs",
        "crates/acme-desk/tests/contract.rs",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    // the shared files it touched: the facade's registry lines, nothing else
    let said = text(&o);
    let shared: Vec<&str> = said
        .lines()
        .map(str::trim)
        .filter(|f| !f.starts_with("specs/acme-desk/") && !f.starts_with("crates/acme-desk/"))
        .filter(|f| f.starts_with("specs/") || f.starts_with("crates/"))
        .collect();
    assert_eq!(
        shared,
        [
            "crates/agentstatus/Cargo.toml",
            "crates/agentstatus/src/lib.rs"
        ]
    );
    let facade = std::fs::read_to_string(dir.join("crates/agentstatus/Cargo.toml")).unwrap();
    let was = std::fs::read_to_string(workspace().join("crates/agentstatus/Cargo.toml")).unwrap();
    let added: Vec<&str> = facade.lines().filter(|l| !was.contains(l)).collect();
    assert_eq!(
        added.len(),
        2,
        "one dependency line, one `fakes` line: {added:?}"
    );
    assert!(
        added[0].starts_with(
            "acme-desk = { package = \"agentstatus-acme-desk\", path = \"../acme-desk\""
        ),
        "{facade}"
    );
    assert!(added[1].starts_with("fakes = [") && added[1].ends_with(", \"acme-desk?/fake\"]"));
    let default = facade
        .lines()
        .find(|l| l.starts_with("default = "))
        .unwrap();
    assert!(
        !default.contains("acme-desk"),
        "unfinished: not shipped: {default}"
    );
    let lib = std::fs::read_to_string(dir.join("crates/agentstatus/src/lib.rs")).unwrap();
    assert!(lib.contains("    \"acme-desk\" acme_desk;\n}"), "{lib}");

    // a second run writes nothing
    let o = xtask(&dir, &["new-vendor", "acme-desk"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("already exists"), "{}", text(&o));

    // what it writes is formatted as `cargo fmt` would
    let o = cargo(
        &dir,
        &["fmt", "-p", "agentstatus-acme-desk", "--check"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));

    // the workspace's own builds generate it from specs/ (crates/generate), as every vendor
    let generate = std::fs::read_to_string(dir.join("crates/generate/Cargo.toml")).unwrap();
    assert!(
        generate.contains(
            "agentstatus-acme-desk = { path = \"../acme-desk\", default-features = false, features = [\"codegen\"] }"
        ),
        "{generate}"
    );
    let features = ["--features", "presence,fake,codegen"];
    let mut args = vec!["test", "-p", "agentstatus-acme-desk", "--test", "golden"];
    args.extend(features);
    let o = cargo(&dir, &args, &[("EXPECTORATE", "overwrite")]);
    assert!(o.status.success(), "{}", text(&o));
    let mut args = vec![
        "test",
        "-p",
        "agentstatus-acme-desk",
        "--test",
        "golden",
        "--test",
        "wire",
        "--examples",
    ];
    args.extend(features);
    let o = cargo(&dir, &args, &[]);
    assert!(o.status.success(), "{}", text(&o));

    // the adapter is a skeleton: the contract says so
    let mut args = vec!["test", "-p", "agentstatus-acme-desk", "--test", "contract"];
    args.extend(features);
    let o = cargo(&dir, &args, &[]);
    assert!(!o.status.success());
    assert!(text(&o).contains("not written yet"), "{}", text(&o));

    // the facade (every vendor, the new one included) compiles with the registry lines
    let o = cargo(
        &dir,
        &[
            "check",
            "-p",
            "agentstatus",
            "--features",
            "fakes,acme-desk",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
