//! `cargo xtask new-vendor` in a temporary copy of the workspace (a git repository of its own):
//! it changes nothing but `specs/<name>/`, `crates/<name>/` and the registry lines of the facade
//! (`git status`, `git diff`); the scaffold builds, its golden and wire tests pass, the
//! workspace's own builds generate it (the facade's `codegen`), the facade compiles with it
//! without shipping it by default, its contract test fails (the adapter is not written yet) until
//! someone writes it, and `agentstatus fake --vendor <name>` refuses, saying its fake is not
//! written yet.
//!
//! It builds a crate family in its own target directory (`new-vendor` under `CARGO_TARGET_DIR`,
//! else `target/new-vendor`), which takes minutes cold: ignored by default, run by `.ci/run`:
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
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace().join("target"), PathBuf::from)
        .join("new-vendor");
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", text(&o));
    String::from_utf8(o.stdout).unwrap()
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
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-nv-names-")
        .tempdir()
        .unwrap();
    let dir = scratch.path().to_path_buf();
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
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-nv-")
        .tempdir()
        .unwrap();
    let dir = scratch.path().to_path_buf();
    copy_tree(&workspace(), &dir);
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "the workspace"]);

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
    // what git sees: the vendor's two folders and the facade's registry lines, nothing else
    let status = git(&dir, &["status", "--porcelain", "--untracked-files=normal"]);
    let mut changed: Vec<&str> = status.lines().map(|l| l[3..].trim()).collect();
    changed.sort();
    assert_eq!(
        changed,
        [
            "crates/acme-desk/",
            "crates/agentstatus/Cargo.toml",
            "crates/agentstatus/src/lib.rs",
            "specs/acme-desk/"
        ],
        "{status}"
    );
    let diff = git(&dir, &["diff", "-U0", "--no-color"]);
    let mut lines: Vec<&str> = diff
        .lines()
        .filter(|l| (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++"))
        .filter(|l| !l.starts_with("---"))
        .collect();
    lines.sort();
    let facade_was =
        std::fs::read_to_string(workspace().join("crates/agentstatus/Cargo.toml")).unwrap();
    let was = |key: &str| {
        facade_was
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap()
            .to_string()
    };
    let (codegen, fakes) = (was("codegen = ["), was("fakes = ["));
    let mut expected = vec![
        format!("+{}, \"acme-desk/codegen\"]", codegen.trim_end_matches(']')),
        format!("+{}, \"acme-desk?/fake\"]", fakes.trim_end_matches(']')),
        "+    \"acme-desk\" acme_desk;".to_string(),
        format!("-{codegen}"),
        format!("-{fakes}"),
    ];
    let dependency = lines
        .iter()
        .find(|l| l.starts_with("+acme-desk = "))
        .unwrap_or_else(|| panic!("no dependency line: {diff}"));
    assert!(
        dependency.starts_with(
            "+acme-desk = { package = \"agentstatus-acme-desk\", path = \"../acme-desk\""
        ),
        "{dependency}"
    );
    expected.push(dependency.to_string());
    expected.sort();
    assert_eq!(lines, expected, "{diff}");

    // the shared files it says it touched: the facade's registry lines, nothing else
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

    // the workspace's own builds generate it from specs/, as every vendor: crates/generate
    // (unchanged) turns the facade's `codegen` on, which turns on the vendor's
    let o = cargo(
        &dir,
        &[
            "tree",
            "-p",
            "agentstatus-generate",
            "-e",
            "features",
            "-i",
            "agentstatus-acme-desk",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("agentstatus-acme-desk feature \"codegen\""),
        "{}",
        text(&o)
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

    // `agentstatus fake` finds its fake through the registry, and refuses it until it is written
    let o = cargo(
        &dir,
        &[
            "run",
            "-q",
            "-p",
            "agentstatus-cli",
            "--features",
            "agentstatus/acme-desk",
            "--",
            "fake",
            "--vendor",
            "acme-desk",
        ],
        &[],
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("acme-desk: the fake did not start: the fake is not written yet"),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--spec`: the scaffold takes the document's security scheme (here OAuth 2.0 client
/// credentials, not a bearer token): the initial `openapi.yaml` generates its constructors, the
/// registry entry's settings are their credentials, and the crate builds with it.
#[test]
#[ignore = "builds a scaffolded crate family (minutes cold); run by .ci/run"]
fn a_scaffold_from_a_document_connects_with_its_own_scheme() {
    let scratch = tempfile::Builder::new()
        .prefix("agentstatus-nv-spec-")
        .tempdir()
        .unwrap();
    let dir = scratch.path().to_path_buf();
    copy_tree(&workspace(), &dir);
    let spec = dir.join("acme.yaml");
    std::fs::write(
        &spec,
        r#"openapi: 3.0.3
info: {title: Acme, version: "1"}
security: [{aad: []}]
components:
  securitySchemes:
    aad:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: "https://login.example.com/{tenant}/token"
          scopes: {"https://acme.example.com/.default": all}
paths:
  /agents:
    get:
      operationId: list_agents
      responses: {"200": {description: ok}}
"#,
    )
    .unwrap();
    let o = xtask(
        &dir,
        &["new-vendor", "acme-desk", "--spec", spec.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let presence = std::fs::read_to_string(dir.join("crates/acme-desk/src/presence.rs")).unwrap();
    // formatted by rustfmt: compared without whitespace
    let flat: String = presence.split_whitespace().collect();
    for shows in [
        r#"Setting::secret("client_secret", "ACME_DESK_CLIENT_SECRET","#,
        r#"Some("https://acme.example.com/.default")"#,
        "crate::Client::with_aad_credentials(&s.base_url, credentials, &config)?",
    ] {
        let shows: String = shows.split_whitespace().collect();
        assert!(flat.contains(&shows), "no {shows} in\n{presence}");
    }
    assert!(!presence.to_lowercase().contains("bearer"), "{presence}");
    let openapi = std::fs::read_to_string(dir.join("specs/acme-desk/openapi.yaml")).unwrap();
    assert!(openapi.contains("securitySchemes"), "{openapi}");
    // the scaffold builds with the generated constructor, formatted as `cargo fmt` would
    let o = cargo(
        &dir,
        &["fmt", "-p", "agentstatus-acme-desk", "--check"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = cargo(
        &dir,
        &[
            "test",
            "-p",
            "agentstatus-acme-desk",
            "--features",
            "presence,fake,codegen",
            "--test",
            "golden",
        ],
        &[("EXPECTORATE", "overwrite")],
    );
    assert!(o.status.success(), "{}", text(&o));
    let client = std::fs::read_to_string(dir.join("crates/acme-desk/generated/client.rs")).unwrap();
    assert!(client.contains("pub fn with_aad_credentials("), "{client}");
    let _ = std::fs::remove_dir_all(&dir);
}
