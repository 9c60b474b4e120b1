//! What the xtask integration tests share: the workspace, tree copies, and a raw HTTP/1.1 server
//! side on 127.0.0.1 (request line in, answer out), so each test scripts its own server.
#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Copy a tree, leaving out build output and git metadata.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Read a request's head; its path.
pub fn request_path(stream: &TcpStream) -> String {
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    first.split(' ').nth(1).unwrap_or("").to_string()
}

/// Answer with `status`, extra `headers` (each ending in CRLF) and `body`; the body bytes
/// written (0 when the client had gone).
pub fn respond(stream: &mut TcpStream, status: &str, headers: &str, body: &[u8]) -> u64 {
    let head = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    match stream.write_all(body) {
        Ok(()) => body.len() as u64,
        Err(_) => 0,
    }
}

/// Generate the pass-corpus spec `name` (`crates/codegen/tests/passes/<name>.yaml`) into a crate
/// with `cargo xtask try`, give it `test` as `tests/wire.rs` (with tokio, wiremock,
/// futures-util, bytes, tracing and tracing-subscriber as dev-dependencies) and run it: `Err` with what `try` or the test said.
pub fn wire_test(xtask: &Path, name: &str, test: &str) -> Result<(), String> {
    let spec = root().join(format!("crates/codegen/tests/passes/{name}.yaml"));
    wire_test_document(xtask, &spec, test)
}

/// [`wire_test`] of any document (its crate is `try_<file stem>`).
pub fn wire_test_document(xtask: &Path, spec: &Path, test: &str) -> Result<(), String> {
    use std::process::Command;
    let root = root();
    let name = spec.file_stem().unwrap().to_string_lossy().to_string();
    let name = name.as_str();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("compile-gate");
    let out_dir = target.join("forms-wire").join(name);
    let out = Command::new(xtask)
        .current_dir(&root)
        .args([
            "try",
            spec.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    if out.status.code() != Some(0) {
        return Err(format!(
            "{name}: try: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let manifest = out_dir.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    if !text.contains("[dev-dependencies]") {
        text.push_str(
            "\n[dev-dependencies]\ntokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }\nwiremock = \"0.6\"\nfutures-util = \"0.3\"\nbytes = \"1\"\ntracing = \"0.1\"\ntracing-subscriber = { version = \"0.3\", default-features = false, features = [\"std\", \"fmt\"] }\n",
        );
        std::fs::write(&manifest, text).unwrap();
    }
    std::fs::create_dir_all(out_dir.join("tests")).unwrap();
    std::fs::write(out_dir.join("tests/wire.rs"), test).unwrap();
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&out_dir)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", "0")
        .args(["test", "--quiet", "--offline", "--test", "wire"])
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!(
            "{name}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}
