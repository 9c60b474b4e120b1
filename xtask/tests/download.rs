//! `cargo xtask check --live --mirror` against mirrors that answer badly: an endless body, a
//! huge Content-Length, redirects to another origin or in a loop, and a redirect within the
//! origin (followed, and the final URL reported). The mirrors are tiny HTTP servers on
//! 127.0.0.1 writing raw HTTP, so each can count the bytes it managed to write. No network.

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;
use support::{request_path, respond, root};

/// The download cap (`cargo xtask try`'s document cap): 64 MiB.
const CAP: u64 = 64 << 20;
/// What the loopback socket buffers (sender's and receiver's) and the client's read buffers may
/// hold beyond what the client read: the bound on bytes written past the point the client stops.
const SOCKET_SLACK: u64 = 16 << 20;

/// One request the server answered: its path and how many body bytes the server wrote before
/// it was done or the socket failed.
#[derive(Debug)]
struct Served {
    path: String,
    written: u64,
}

/// A raw HTTP/1.1 server on 127.0.0.1: each connection's request path goes to `answer`, which
/// writes the whole response and returns the body bytes it wrote.
fn serve(
    answer: impl Fn(&str, &mut TcpStream) -> u64 + Send + Sync + 'static,
) -> (String, Receiver<Served>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (tx, answer) = (tx.clone(), answer.clone());
            std::thread::spawn(move || {
                let path = request_path(&stream);
                let written = answer(&path, &mut stream);
                let _ = tx.send(Served { path, written });
            });
        }
    });
    (base, rx)
}

/// Write `head` and then the body `chunk` after `chunk` until the socket fails (the client
/// closed it) or `limit` bytes are written; the body bytes written.
fn flood(stream: &mut TcpStream, head: &str, chunked: bool, limit: u64) -> u64 {
    if stream.write_all(head.as_bytes()).is_err() {
        return 0;
    }
    let data = vec![b' '; 64 << 10];
    let mut framed = format!("{:x}\r\n", data.len()).into_bytes();
    framed.extend_from_slice(&data);
    framed.extend_from_slice(b"\r\n");
    let chunk = if chunked { &framed } else { &data };
    let mut written = 0u64;
    while written < limit {
        match stream.write(chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n as u64,
        }
    }
    written
}

fn redirect(stream: &mut TcpStream, location: &str) -> u64 {
    respond(
        stream,
        "302 Found",
        &format!("Location: {location}\r\n"),
        b"",
    )
}

/// `cargo xtask check --live --mirror MIRROR --vendor libredesk ARGS`, and how long it took.
fn check(mirror: &str, extra: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "check",
            "--live",
            "--mirror",
            mirror,
            "--vendor",
            "libredesk",
        ])
        .args(["--timeout", "20"])
        .args(extra)
        .output()
        .unwrap();
    (out, start.elapsed())
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Everything the server answered (waiting for the first answer, then for stragglers).
fn served(rx: &Receiver<Served>) -> Vec<Served> {
    let mut out = vec![
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the server answered nothing"),
    ];
    while let Ok(s) = rx.recv_timeout(Duration::from_millis(500)) {
        out.push(s);
    }
    out
}

const DOC: &str = "/libredesk/openapi.json";

/// An endless body, framed as given, is refused at the cap; the server wrote at most the cap
/// and the socket buffers before the client closed the connection; no retry.
fn endless(head: &'static str, chunked: bool) {
    // never truly endless: if the client read on, the server stops at 1 GiB
    let (mirror, rx) = serve(move |_, s| flood(s, head, chunked, 1 << 30));
    let (out, took) = check(&mirror, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "libredesk: could not check: {mirror}{DOC}: download stopped: the body is larger \
             than the 64 MiB cap"
        )),
        "{stdout}"
    );
    let served = served(&rx);
    assert_eq!(
        served.len(),
        1,
        "a body past the cap is not asked for again: {served:?}"
    );
    let written = served[0].written;
    eprintln!(
        "endless body ({}): the server wrote {written} bytes ({:.1} MiB) before the client \
         closed; took {took:?}",
        if chunked { "chunked" } else { "until close" },
        written as f64 / (1 << 20) as f64
    );
    assert!(
        written > CAP,
        "the client stopped before the cap: {written}"
    );
    assert!(
        written <= CAP + SOCKET_SLACK,
        "the client read on past the cap: {written} bytes written"
    );
}

#[test]
fn an_endless_body_without_content_length_is_refused_at_the_cap() {
    endless(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
        false,
    );
}

#[test]
fn an_endless_chunked_body_is_refused_at_the_cap() {
    endless(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        true,
    );
}

#[test]
fn a_content_length_past_the_cap_is_refused_before_the_body_is_read() {
    let (mirror, rx) = serve(|_, s| {
        flood(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3221225472\r\n\r\n",
            false,
            1 << 30,
        )
    });
    let (out, took) = check(&mirror, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "{mirror}{DOC}: download refused: the server announces 3221225472 bytes, more than \
             the 64 MiB cap"
        )),
        "{stdout}"
    );
    let served = served(&rx);
    assert_eq!(served.len(), 1, "{served:?}");
    let written = served[0].written;
    eprintln!(
        "3 GiB Content-Length: the server wrote {written} bytes ({:.1} MiB) before the client \
         closed; took {took:?}",
        written as f64 / (1 << 20) as f64
    );
    // only what the socket buffers took: the client read none of it
    assert!(written <= SOCKET_SLACK, "{written} bytes written");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn a_redirect_to_another_origin_is_refused_naming_both_urls() {
    let (elsewhere, elsewhere_rx) = serve(|_, s| respond(s, "200 OK", "", b"{}"));
    let target = format!("{elsewhere}{DOC}");
    let (mirror, rx) = {
        let target = target.clone();
        serve(move |_, s| redirect(s, &target))
    };
    let (out, _) = check(&mirror, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "{mirror}{DOC}: download refused: error following redirect: {mirror}{DOC} redirects \
             to {target}, outside its origin {mirror}"
        )),
        "{stdout}"
    );
    assert_eq!(
        served(&rx).len(),
        1,
        "a refused redirect is not asked for again"
    );
    assert!(
        elsewhere_rx
            .recv_timeout(Duration::from_millis(500))
            .is_err(),
        "the other origin was asked"
    );

    // the same server under another host name (same scheme and port) is another origin too
    let own_port = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let (mirror, _rx) = {
        let own_port = own_port.clone();
        serve(move |path, s| {
            let target = format!("http://localhost:{}{path}", own_port.get().unwrap());
            redirect(s, &target)
        })
    };
    let port = mirror.rsplit(':').next().unwrap();
    own_port.set(port.to_string()).unwrap();
    let (out, _) = check(&mirror, &[]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{mirror}{DOC} redirects to http://localhost:{port}{DOC}, outside its origin"
        )),
        "{stdout}"
    );
}

#[test]
fn a_redirect_loop_within_the_origin_stops_after_a_few_hops() {
    let (mirror, rx) = serve(|path, s| redirect(s, &format!("{path}x")));
    let (out, took) = check(&mirror, &[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "{mirror}{DOC}: download refused: error following redirect: {mirror}{DOC} \
             redirects more than 5 times"
        )),
        "{stdout}"
    );
    // the first request and five redirects followed
    assert_eq!(served(&rx).len(), 6);
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn a_redirect_within_the_origin_is_followed_and_the_final_url_reported() {
    // the vendor adds an enum value, so the report has a finding that names its document
    let pinned =
        std::fs::read_to_string(root().join("specs/libredesk/upstream/openapi.json")).unwrap();
    let from = "              \"busy\",\n              \"away\",";
    assert!(pinned.contains(from));
    let changed = pinned.replace(
        from,
        "              \"busy\",\n              \"do_not_disturb\",\n              \"away\",",
    );
    let (mirror, rx) = serve(move |path, s| match path {
        DOC => redirect(s, "/moved/openapi.json"),
        "/moved/openapi.json" => respond(
            s,
            "200 OK",
            "Content-Type: application/json\r\n",
            changed.as_bytes(),
        ),
        _ => respond(s, "404 Not Found", "", b""),
    });
    let (out, _) = check(&mirror, &["--format", "json"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let upstream = &report["vendors"][0]["upstream"];
    let final_url = format!("{mirror}/moved/openapi.json");
    assert_eq!(
        upstream["from"],
        format!("live, mirror {mirror}; openapi redirected to {final_url}")
    );
    let findings = upstream["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["file"], final_url.as_str());
    assert_eq!(findings[0]["change"], "enum-value-added");
    assert!(
        stderr.contains(&format!("fetch {mirror}{DOC}: redirected to {final_url}")),
        "{stderr}"
    );
    let paths: Vec<String> = served(&rx).into_iter().map(|s| s.path).collect();
    assert_eq!(paths, [DOC, "/moved/openapi.json"]);

    // the text report names the final URL too
    let (out, _) = check(&mirror, &[]);
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains(&format!(
            "libredesk: upstream (live, mirror {mirror}; openapi redirected to {final_url}): \
             changed: openapi"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("(at {final_url}:4570:13)")),
        "{stdout}"
    );
}
