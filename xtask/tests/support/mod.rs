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
