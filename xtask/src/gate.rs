//! The compile gate: generated code is not done until it builds. Each generated client is
//! written into a standalone crate with the dependencies a vendor crate gives its generated
//! code, and `cargo check`ed; every check shares one target directory
//! (`<target>/compile-gate`), so the dependencies are built once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::workspace::cargo;

/// The dependencies the generated code uses, as a vendor crate with `full` provides them
/// (kept in step with `crates/<vendor>/Cargo.toml`).
/// The package is `package` ([`package_name`]: unique per folder); its library keeps the name
/// the crate was given (`name`, `-` read as `_`), so code and tests `use` it by that name.
fn manifest(package: &str, name: &str, runtime: &Path) -> String {
    format!(
        r#"[package]
name = "{package}"
version = "0.0.0"
edition = "2024"
publish = false

[lib]
name = "{lib}"

# standalone: not a member of any workspace above it
[workspace]

[dependencies]
agentstatus-runtime = {{ path = "{runtime}" }}
progenitor-client = "0.15.1"
reqwest = {{ version = "0.13", default-features = false, features = ["json", "query", "http2", "charset"] }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"
chrono = {{ version = "0.4", default-features = false, features = ["serde", "std"] }}
uuid = {{ version = "1", features = ["serde"] }}
regress = "0.12"
"#,
        lib = name.replace('-', "_"),
        runtime = runtime.display().to_string().replace('\\', "/"),
    )
}

/// `src/lib.rs` of a gate crate: the generated client at the crate root, as in a vendor crate.
const LIB: &str = "//! A generated client, compiled as a vendor crate compiles it.\n\
#![allow(missing_docs)]\n\
pub use agentstatus_runtime::Inner;\n\
include!(\"client.rs\");\n\
agentstatus_runtime::client_hooks!();\n";

/// The package name of a gate crate called `name` written into `dir`: `name`, then a short
/// hash of `dir`'s absolute path (`try-openapi-1f0c9a2e`).
///
/// Every gate crate builds into one shared target directory, where cargo names a crate's
/// outputs (its library, its test binaries, their fingerprints) by package name and version,
/// not by folder: two crates of one name in two folders (two documents called `openapi.yaml`)
/// would share them, and one's `cargo test` could find the other's newer test binary fresh and
/// run it instead of building its own. A name per folder gives each its own.
pub fn package_name(name: &str, dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir)
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf());
    // FNV-1a: the same folder has the same name in every run and with every toolchain
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in dir.as_os_str().as_encoded_bytes() {
        hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{name}-{:08x}", (hash >> 32) as u32 ^ hash as u32)
}

/// Write a standalone crate called `name` holding `code` into `dir` (created if needed; its
/// `Cargo.toml`, `Cargo.lock`, `src/lib.rs` and `src/client.rs` are replaced). Its package is
/// named for its folder too ([`package_name`]).
pub fn write_crate(root: &Path, dir: &Path, name: &str, code: &str) -> Result<(), String> {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("{}: cannot create: {e}", src.display()))?;
    let files = [
        (
            dir.join("Cargo.toml"),
            manifest(&package_name(name, dir), name, &root.join("crates/runtime")),
        ),
        (src.join("lib.rs"), LIB.to_string()),
        (src.join("client.rs"), code.to_string()),
    ];
    for (path, text) in files {
        std::fs::write(&path, text)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    }
    // the workspace's versions: the same dependency builds, and nothing new to resolve
    let lock = dir.join("Cargo.lock");
    std::fs::copy(root.join("Cargo.lock"), &lock)
        .map_err(|e| format!("{}: cannot write: {e}", lock.display()))?;
    Ok(())
}

/// The extension at a document's root listing values to decode into a generated type and
/// encode back unchanged: `[{type: Resource, value: {...}}]`.
pub const ROUNDTRIP: &str = "x-agentstatus-roundtrip";

/// Write `tests/roundtrip.rs` into the crate in `dir` from the document's [`ROUNDTRIP`] list.
/// Returns false when the document has none.
pub fn write_roundtrip(dir: &Path, doc: &Value) -> Result<bool, String> {
    let Some(list) = doc.get(ROUNDTRIP).and_then(Value::as_array) else {
        return Ok(false);
    };
    let mut test = String::from(
        "//! Values decoded into the generated types and encoded back unchanged.\n#![allow(non_snake_case)]\n",
    );
    for (i, case) in list.iter().enumerate() {
        let ty = case
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .ok_or_else(|| format!("{ROUNDTRIP}/{i}/type: not a type name"))?;
        let value = case
            .get("value")
            .ok_or_else(|| format!("{ROUNDTRIP}/{i}/value: missing"))?;
        let json = serde_json::to_string(value).expect("a JSON value");
        test.push_str(&format!(
            "\n#[test]\nfn roundtrip_{i}_{ty}() {{\n    let json: serde_json::Value = serde_json::from_str({json:?}).unwrap();\n    \
             let decoded: {name}::types::{ty} = serde_json::from_value(json.clone()).expect(\"decodes\");\n    \
             assert_eq!(serde_json::to_value(&decoded).unwrap(), json, \"{{decoded:?}}\");\n}}\n",
            name = crate_ident(dir),
        ));
    }
    let tests = dir.join("tests");
    std::fs::create_dir_all(&tests)
        .map_err(|e| format!("{}: cannot create: {e}", tests.display()))?;
    let file = tests.join("roundtrip.rs");
    std::fs::write(&file, test).map_err(|e| format!("{}: cannot write: {e}", file.display()))?;
    Ok(true)
}

/// The crate's name as a Rust identifier (from its Cargo.toml: its library's name, else its
/// package's).
fn crate_ident(dir: &Path) -> String {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok());
    let name = |section: &str| {
        manifest
            .as_ref()?
            .get(section)?
            .get("name")?
            .as_str()
            .map(str::to_string)
    };
    name("lib")
        .or_else(|| name("package"))
        .unwrap_or_default()
        .replace('-', "_")
}

/// Run the crate's tests (its round trips), not its doctests. `Err` holds what failed, and
/// says so when a test binary cargo ran was not built from this crate as it was just written
/// ([`stale_tests`]).
pub fn test(root: &Path, dir: &Path) -> Result<(), String> {
    let out = Command::new(cargo())
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir(root))
        .env("CARGO_INCREMENTAL", "0")
        // the crate's own tests only: never the doctests of generated code (vendor prose);
        // what cargo built, as JSON lines among the tests' output, to verify it
        .args([
            "test",
            "--quiet",
            "--tests",
            "--message-format=json-render-diagnostics",
        ])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let said: String = stdout
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_err())
        .map(|l| format!("{l}\n"))
        .collect();
    if !out.status.success() {
        return Err(format!("{said}{}", String::from_utf8_lossy(&out.stderr)));
    }
    let stale = stale_tests(&stdout);
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "cargo ran test binaries it did not build from this crate as it was just written \
             (found fresh: {}); their result is not this crate's",
            stale.join(", ")
        ))
    }
}

/// The test binaries cargo's JSON messages (`--message-format=json`) say it found fresh
/// instead of building them. `try` writes the crate's sources before it runs the tests, so a
/// fresh test binary is not built from them: an older build of another crate of the same name
/// in the shared target directory ([`package_name`]), or a clock that did not move.
fn stale_tests(messages: &str) -> Vec<String> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact"
                && m["fresh"] == true
                && m["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "test"))
        })
        .map(|m| {
            m["executable"]
                .as_str()
                .or(m["target"]["name"].as_str())
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

/// What `cargo check` said about one crate.
#[derive(Debug, Clone)]
pub struct Checked {
    /// It compiles.
    pub ok: bool,
    /// The compiler's errors, rendered (at most the first 20).
    pub errors: Vec<String>,
    /// How many errors in all.
    pub error_count: usize,
    /// The line (1-based) of each error's primary place in `src/client.rs`, with the error's
    /// headline (`E0277: the trait bound ... is not satisfied`).
    pub client_lines: Vec<(usize, String)>,
    /// Wall time of the check.
    pub elapsed: Duration,
}

/// The gate's shared target directory: `compile-gate` in the workspace's target directory as
/// cargo resolves it (`CARGO_TARGET_DIR`, else `build.target-dir`, else `<root>/target`:
/// [`crate::workspace::target_dir`]); `<root>/target` if cargo cannot say.
pub fn target_dir(root: &Path) -> PathBuf {
    crate::workspace::target_dir(root)
        .unwrap_or_else(|_| root.join("target"))
        .join("compile-gate")
}

/// `cargo check` the crate in `dir`.
pub fn check(root: &Path, dir: &Path) -> Result<Checked, String> {
    let start = Instant::now();
    let out = Command::new(cargo())
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir(root))
        // no incremental caches: each generated crate is checked once, and large documents'
        // caches run to hundreds of megabytes
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .args(["check", "--quiet", "--message-format=json"])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut errors = Vec::new();
    let mut error_count = 0;
    let mut client_lines = Vec::new();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-message" || msg["message"]["level"] != "error" {
            continue;
        }
        // "aborting due to N previous errors" carries no span
        if msg["message"]["spans"].as_array().is_none_or(Vec::is_empty) {
            continue;
        }
        error_count += 1;
        for span in msg["message"]["spans"].as_array().into_iter().flatten() {
            if span["is_primary"] == true
                && span["file_name"]
                    .as_str()
                    .is_some_and(|f| f.ends_with("client.rs"))
                && let Some(line) = span["line_start"].as_u64()
            {
                let code = msg["message"]["code"]["code"].as_str().unwrap_or("error");
                let text = msg["message"]["message"].as_str().unwrap_or_default();
                let headline: String = format!("{code}: {text}").chars().take(160).collect();
                client_lines.push((line as usize, headline));
            }
        }
        if errors.len() < 20 {
            errors.push(
                msg["message"]["rendered"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
    }
    if !out.status.success() && error_count == 0 {
        // cargo itself failed (a dependency, the lock file, ...): not the generated code's fault
        return Err(format!(
            "cargo check in {} failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(Checked {
        ok: out.status.success(),
        errors,
        error_count,
        client_lines,
        elapsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_is_named_for_its_folder() {
        let a = package_name("try-openapi", Path::new("/tmp/a/crate"));
        let b = package_name("try-openapi", Path::new("/tmp/b/crate"));
        assert_ne!(a, b);
        assert_eq!(a, package_name("try-openapi", Path::new("/tmp/a/crate")));
        assert!(
            a.starts_with("try-openapi-") && a.len() == "try-openapi-".len() + 8,
            "{a}"
        );
    }

    #[test]
    fn a_test_binary_found_fresh_is_not_trusted() {
        let built = r#"{"reason":"compiler-artifact","target":{"kind":["test"],"name":"roundtrip"},"fresh":false,"executable":"/t/debug/deps/roundtrip-1"}"#;
        let lib = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"x"},"fresh":true,"executable":null}"#;
        let fresh = r#"{"reason":"compiler-artifact","target":{"kind":["test"],"name":"roundtrip"},"fresh":true,"executable":"/t/debug/deps/roundtrip-2"}"#;
        let out = format!("{built}\n{lib}\nrunning 1 test\n.\n{{not json\n");
        assert!(stale_tests(&out).is_empty());
        assert_eq!(
            stale_tests(&format!("{out}{fresh}\n")),
            ["/t/debug/deps/roundtrip-2"]
        );
    }

    #[test]
    fn the_manifest_names_the_runtime_by_path_and_stands_alone() {
        let m = manifest("gate-x-0123abcd", "gate-x", Path::new("/w/crates/runtime"));
        assert!(m.contains("name = \"gate-x-0123abcd\""));
        assert!(m.contains("agentstatus-runtime = { path = \"/w/crates/runtime\" }"));
        assert!(m.contains("\n[workspace]\n"));
        let parsed: toml::Table = toml::from_str(&m).unwrap();
        assert!(parsed["dependencies"].get("uuid").is_some());
        // the library keeps the crate's own name: `use gate_x::...` whatever the folder
        assert_eq!(parsed["lib"]["name"].as_str(), Some("gate_x"));
    }
}
