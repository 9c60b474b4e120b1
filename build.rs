//! The one build script of every vendor crate (`build = "../../build.rs"`).
//!
//! Reads which vendor the crate is from `[package.metadata.agentstatus] vendor = "..."`, runs the
//! codegen library on `specs/<vendor>/` (openapi.yaml + overlay.yaml), writes `OUT_DIR/client.rs`
//! and asks cargo to rerun only when one of the files it read changes.

use std::path::{Path, PathBuf};

fn fail(message: impl std::fmt::Display) -> ! {
    // One clean line per error, no panic and no backtrace.
    for line in message.to_string().lines() {
        println!("cargo::error={line}");
    }
    std::process::exit(1);
}

fn vendor(manifest: &Path) -> String {
    let text = std::fs::read_to_string(manifest)
        .unwrap_or_else(|e| fail(format!("{}: cannot read: {e}", manifest.display())));
    let doc: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| fail(format!("{}: {e}", manifest.display())));
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
    let crate_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let manifest = crate_dir.join("Cargo.toml");
    println!("cargo::rerun-if-changed={}", manifest.display());
    let vendor = vendor(&manifest);
    let spec_dir = crate_dir.join("../../specs").join(&vendor);
    // Declared before generating, so that fixing a broken spec reruns the script.
    for file in [
        agentstatus_codegen::OPENAPI_FILE,
        agentstatus_codegen::OVERLAY_FILE,
    ] {
        println!("cargo::rerun-if-changed={}", spec_dir.join(file).display());
    }
    let generated = agentstatus_codegen::generate_vendor(&spec_dir).unwrap_or_else(|e| fail(e));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("client.rs");
    std::fs::write(&out, generated.code)
        .unwrap_or_else(|e| fail(format!("{}: cannot write: {e}", out.display())));
}
