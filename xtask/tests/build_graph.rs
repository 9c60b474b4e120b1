//! The vendor crates' build script compiles the generator (with their `codegen` feature, as the
//! workspace builds them), never the drift engine: the semantic diff, the source positions and the
//! report renderers are `agentstatus-drift`, which only xtask uses; without `codegen` (a git or
//! path dependency) it compiles no generator at all. Read from `cargo tree` for Rocket.Chat (every
//! vendor crate has the same build script).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `cargo tree --offline -p <package> <args>`: its stdout.
fn tree(package: &str, args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args(["tree", "--offline", "-p", package])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree -p {package} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The package names of a `--prefix none` or `--prefix depth` listing at `depth` (any depth when
/// `None`).
fn names(listing: &str, depth: Option<usize>) -> Vec<String> {
    listing
        .lines()
        .filter_map(|l| {
            let name = l.trim_start_matches(|c: char| c.is_ascii_digit());
            let d: Option<usize> = l[..l.len() - name.len()].parse().ok();
            (depth.is_none() || d == depth).then(|| name.split(' ').next().unwrap().to_string())
        })
        .collect()
}

#[test]
fn build_scripts_compile_codegen_but_not_the_drift_engine() {
    const VENDOR: &str = "agentstatus-rocketchat";
    // the build dependencies
    let build = names(
        &tree(
            VENDOR,
            &["-e", "build", "--features", "codegen", "--prefix", "none"],
        ),
        None,
    );
    assert!(
        build.iter().any(|n| n == "agentstatus-codegen"),
        "{build:?}"
    );
    for absent in ["agentstatus-drift", "granit-parser"] {
        assert!(!build.iter().any(|n| n == absent), "{absent} in {build:?}");
    }
    // and everything they and the library compile
    let all = names(
        &tree(
            VENDOR,
            &[
                "-e",
                "build,normal",
                "--features",
                "codegen",
                "--prefix",
                "none",
            ],
        ),
        None,
    );
    assert!(all.iter().any(|n| n == "serde-saphyr"), "{all:?}");
    assert!(!all.iter().any(|n| n == "agentstatus-drift"), "{all:?}");
    // xtask does use it (so the name above is the right one)
    let xtask = names(&tree("xtask", &["-e", "normal", "--prefix", "none"]), None);
    assert!(xtask.iter().any(|n| n == "agentstatus-drift"), "{xtask:?}");
}

#[test]
fn granit_parser_reaches_the_build_script_only_through_serde_saphyr() {
    // the YAML event parser is serde-saphyr's own dependency, so the build script compiles it
    // anyway; codegen no longer depends on it (the positions it gave are the drift engine's)
    let listing = tree(
        "agentstatus-rocketchat",
        &[
            "-e",
            "build,normal",
            "--features",
            "codegen",
            "--prefix",
            "depth",
            "-i",
            "granit-parser",
        ],
    );
    assert_eq!(names(&listing, Some(1)), ["serde-saphyr"], "{listing}");
}

#[test]
fn without_codegen_a_vendor_crate_compiles_no_generator() {
    // what a git or path dependency builds: the default features, with and without `presence`
    for features in [None, Some("presence,fake")] {
        let mut args = vec!["-e", "build,normal", "--prefix", "none"];
        if let Some(f) = features {
            args.extend(["--features", f]);
        }
        let all = names(&tree("agentstatus-rocketchat", &args), None);
        assert!(all.iter().any(|n| n == "reqwest"), "{all:?}");
        for absent in [
            "agentstatus-codegen",
            "progenitor-impl",
            "typify-impl",
            "openapiv3",
            "prettyplease",
            "toml",
        ] {
            assert!(!all.iter().any(|n| n == absent), "{absent} in {all:?}");
        }
    }
    // and `full`, not checked in, asks for the generator
    let full = names(
        &tree(
            "agentstatus-rocketchat",
            &["-e", "build", "--features", "full", "--prefix", "none"],
        ),
        None,
    );
    assert!(full.iter().any(|n| n == "agentstatus-codegen"), "{full:?}");
}
