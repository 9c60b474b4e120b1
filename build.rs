//! The one build script of every vendor crate (`build = "../../build.rs"`).
//!
//! Reads which vendor the crate is from `[package.metadata.agentstatus] vendor = "..."`, runs the
//! codegen library on `specs/<vendor>/` (openapi.yaml + overlay.yaml; with the crate's `full`
//! feature, the vendor's complete document named in sources.toml), writes `OUT_DIR/client.rs`
//! and asks cargo to rerun only when one of the files it read changes.
//!
//! All of this only with the crate's `codegen` feature (which `full` implies), on in the
//! workspace's own builds (`crates/generate`, with `--workspace`). Without it — a git or path dependency —
//! the script does nothing and links no generator: the crate compiles its checked-in
//! `generated/client.rs`, as its package does.

#[cfg(feature = "codegen")]
use std::path::{Path, PathBuf};

#[cfg(feature = "codegen")]
use agentstatus_codegen::{Codegen, Generated, Prepared};

#[cfg(feature = "codegen")]
fn fail(message: impl std::fmt::Display) -> ! {
    // One clean line per error, no panic and no backtrace.
    for line in message.to_string().lines() {
        println!("cargo::error={line}");
    }
    std::process::exit(1);
}

#[cfg(feature = "codegen")]
fn read_manifest(manifest: &Path) -> toml::Table {
    let text = std::fs::read_to_string(manifest)
        .unwrap_or_else(|e| fail(format!("{}: cannot read: {e}", manifest.display())));
    toml::from_str(&text).unwrap_or_else(|e| fail(format!("{}: {e}", manifest.display())))
}

#[cfg(feature = "codegen")]
/// A crate the generated code uses (`uuid`, `regress`) must be a dependency this build has: a
/// non-optional one, or an optional one when building `full` (which enables them). Otherwise the
/// build fails here, naming the manifest and the fix, rather than in rustc.
fn check_extra_crates(
    manifest: &Path,
    doc: &toml::Table,
    generated: &Generated,
    full: bool,
    spec: &Path,
) {
    for name in generated.extra_crates() {
        let dep = doc.get("dependencies").and_then(|d| d.get(name));
        let optional = dep
            .and_then(|d| d.get("optional"))
            .and_then(toml::Value::as_bool)
            .unwrap_or(false);
        if dep.is_none() || (optional && !full) {
            fail(format!(
                "{}: the generated client uses the `{name}` crate (from {}: {}), but [dependencies] {}: make `{name}` a non-optional dependency of this crate",
                manifest.display(),
                spec.display(),
                if name == "uuid" {
                    "a `format: uuid`"
                } else {
                    "a `pattern`"
                },
                if dep.is_none() {
                    "does not have it"
                } else {
                    "has it only with the `full` feature"
                }
            ));
        }
    }
}

#[cfg(feature = "codegen")]
fn vendor(doc: &toml::Table, manifest: &Path) -> String {
    doc.get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("agentstatus"))
        .and_then(|a| a.get("vendor"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            fail(format!(
                "{}: missing `[package.metadata.agentstatus] vendor = \"<folder under specs/>\"`",
                manifest.display()
            ))
        })
}

fn main() {
    #[cfg(feature = "codegen")]
    generate();
    // nothing to do: rerun only when the manifest (its features) changes
    #[cfg(not(feature = "codegen"))]
    println!("cargo::rerun-if-changed=Cargo.toml");
}

#[cfg(feature = "codegen")]
fn generate() {
    let crate_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let manifest = crate_dir.join("Cargo.toml");
    println!("cargo::rerun-if-changed={}", manifest.display());
    let manifest_doc = read_manifest(&manifest);
    let vendor = vendor(&manifest_doc, &manifest);
    let specs = crate_dir.join("../../specs");
    let spec_dir = specs.canonicalize().unwrap_or(specs).join(&vendor);
    // Declared before generating, so that fixing a broken spec reruns the script. The overlay is
    // optional: a missing file named here would make cargo rerun the script on every build.
    let overlay = spec_dir.join(agentstatus_codegen::OVERLAY_FILE);
    if overlay.exists() {
        println!("cargo::rerun-if-changed={}", overlay.display());
    }
    let full = std::env::var_os("CARGO_FEATURE_FULL").is_some();
    let generated = if full {
        // the vendor's complete API: sources.toml names the documents
        // declared before generating, so that fixing a broken sources.toml reruns the script
        let sources = spec_dir.join(agentstatus_codegen::SOURCES_FILE);
        println!("cargo::rerun-if-changed={}", sources.display());
        let generated = Codegen::vendor(&spec_dir)
            .full(true)
            .prepare()
            .and_then(Prepared::generate)
            .unwrap_or_else(|e| fail(e));
        for d in &generated.isolated.dropped {
            println!(
                "cargo::warning=component `{}` not generated: {}",
                agentstatus_codegen::reason::visible(&d.pointer),
                agentstatus_codegen::reason::one_line(&d.reason)
            );
        }
        // one warning per cause, with how many operations it cost and the first of them
        let skipped = generated
            .isolated
            .skipped
            .iter()
            .chain(&generated.prepared.removed)
            .map(|s| (s.operation.as_str(), s.reason.as_str()));
        for (cause, n, first) in agentstatus_codegen::reason::by_cause(skipped) {
            println!(
                "cargo::warning=not generated: {}",
                agentstatus_codegen::reason::cause_line(&cause, n, &first, "operation")
            );
        }
        generated
    } else {
        let openapi = spec_dir.join(agentstatus_codegen::OPENAPI_FILE);
        println!("cargo::rerun-if-changed={}", openapi.display());
        Codegen::vendor(&spec_dir)
            .prepare()
            .and_then(Prepared::generate)
            .unwrap_or_else(|e| fail(e))
    };
    check_extra_crates(&manifest, &manifest_doc, &generated, full, &spec_dir);
    // every file the codegen read (its answer, not a list rebuilt here)
    for file in &generated.prepared.files {
        println!("cargo::rerun-if-changed={}", file.display());
    }
    // the crate compiles OUT_DIR/client.rs rather than its packaged copy in generated/
    println!("cargo::rustc-check-cfg=cfg(agentstatus_codegen)");
    println!("cargo::rustc-cfg=agentstatus_codegen");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    // the public surface of the generated client, for the `full` golden file
    let surface = generated.surface().unwrap_or_else(|e| fail(e));
    for (name, text) in [("client.rs", generated.code), ("surface.txt", surface)] {
        let out = out_dir.join(name);
        std::fs::write(&out, text)
            .unwrap_or_else(|e| fail(format!("{}: cannot write: {e}", out.display())));
    }
}
