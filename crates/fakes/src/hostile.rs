//! A hostile HTTP/1.1 server for tests: it answers exactly what a test scripts (redirects,
//! huge, endless or slow bodies, absurd headers, escape sequences, connections dropped or never
//! answered), records every request head as it arrived on the wire (the raw request line
//! included, so a test sees the path exactly as sent) and counts the body bytes it managed to
//! write. It listens on any loopback address (`127.0.0.2` is "another origin" for tests).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! use agentstatus_fakes::hostile::{Hostile, Reply};
//!
//! let server = Hostile::start("127.0.0.1", |_req| Reply::json(302, "{}").header("location", "http://127.0.0.2/")).await?;
//! println!("point a client at {}", server.url());
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET /api/v1/x HTTP/1.1`, exactly as sent.
    pub request_line: String,
    /// The header lines, as sent (`name: value`).
    pub headers: Vec<String>,
    /// The body bytes that were read.
    pub body: Vec<u8>,
}

impl Seen {
    /// The request method (`GET`, ...).
    pub fn method(&self) -> &str {
        self.request_line.split(' ').next().unwrap_or_default()
    }

    /// The request target (path and query) exactly as sent.
    pub fn target(&self) -> &str {
        self.request_line.split(' ').nth(1).unwrap_or_default()
    }

    /// The value of header `name` (case-insensitive), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|h| {
            let (n, v) = h.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// How the body of a [`Reply`] is sent.
#[derive(Debug, Clone)]
pub enum Body {
    /// These bytes, with `Content-Length`.
    Fixed(Vec<u8>),
    /// `Content-Length: announced`, then `chunk` repeated until `announced` bytes are sent.
    Huge {
        /// The `Content-Length` sent.
        announced: u64,
        /// The bytes repeated.
        chunk: Vec<u8>,
    },
    /// Chunked transfer encoding, `chunk` repeated forever with `pause` between chunks.
    Endless {
        /// The bytes of each chunk.
        chunk: Vec<u8>,
        /// The wait between chunks.
        pause: Duration,
    },
}

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An answer.
    Answer {
        /// The status code.
        status: u16,
        /// Header lines, sent as given (any name, any value).
        headers: Vec<(String, String)>,
        /// The body and how it is framed.
        body: Body,
    },
    /// Never answer (keep the connection open).
    Hang,
    /// Close the connection without answering, after `after`.
    Close {
        /// How long to wait before closing.
        after: Duration,
    },
}

impl Reply {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Reply::Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Body::Fixed(body.into().into_bytes()),
        }
    }

    /// `status` with `body` sent as [`Body`] says, as JSON.
    pub fn body(status: u16, body: Body) -> Self {
        Reply::Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        }
    }

    /// Add a header (sent as given: any bytes a test wants).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Reply::Answer { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A running hostile server. Dropping it stops it.
pub struct Hostile {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    written: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    /// Listen on `ip` (a loopback address) with a free port; `handler` scripts every answer.
    pub async fn start(
        ip: &str,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind((ip, 0)).await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let task = tokio::spawn({
            let (seen, written, connections) = (seen.clone(), written.clone(), connections.clone());
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (seen, written, handler) = (seen.clone(), written.clone(), handler.clone());
                    tokio::spawn(async move {
                        let _ = serve(stream, &seen, &written, &*handler).await;
                    });
                }
            }
        });
        Ok(Self {
            addr,
            seen,
            written,
            connections,
            task,
        })
    }

    /// `http://<ip>:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Body bytes written to clients so far (what the client was made to receive, at most).
    pub fn body_bytes_written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}

/// The largest request head or body a test client is expected to send.
const MAX_REQUEST: usize = 1 << 20;

async fn serve(
    mut stream: TcpStream,
    seen: &Mutex<Vec<Seen>>,
    written: &AtomicU64,
    handler: &Handler,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        // read one request head
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if buf.len() > MAX_REQUEST {
                return Ok(());
            }
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default().to_string();
        let headers: Vec<String> = lines.map(str::to_string).collect();
        let mut req = Seen {
            request_line,
            headers,
            body: Vec::new(),
        };
        let length: usize = req
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
            .min(MAX_REQUEST);
        buf.drain(..head_end + 4);
        while buf.len() < length {
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        req.body = buf.drain(..length).collect();
        let reply = handler(&req);
        seen.lock().unwrap().push(req);
        match reply {
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Ok(());
            }
            Reply::Close { after } => {
                tokio::time::sleep(after).await;
                return Ok(());
            }
            Reply::Answer {
                status,
                headers,
                body,
            } => {
                let mut out = format!("HTTP/1.1 {status} X\r\n");
                for (n, v) in &headers {
                    out.push_str(&format!("{n}: {v}\r\n"));
                }
                match &body {
                    Body::Fixed(b) => out.push_str(&format!("content-length: {}\r\n", b.len())),
                    Body::Huge { announced, .. } => {
                        out.push_str(&format!("content-length: {announced}\r\n"))
                    }
                    Body::Endless { .. } => out.push_str("transfer-encoding: chunked\r\n"),
                }
                out.push_str("\r\n");
                stream.write_all(out.as_bytes()).await?;
                match body {
                    Body::Fixed(b) => {
                        stream.write_all(&b).await?;
                        written.fetch_add(b.len() as u64, Ordering::SeqCst);
                    }
                    Body::Huge { announced, chunk } => {
                        let mut left = announced;
                        while left > 0 && !chunk.is_empty() {
                            let n = (chunk.len() as u64).min(left) as usize;
                            stream.write_all(&chunk[..n]).await?;
                            written.fetch_add(n as u64, Ordering::SeqCst);
                            left -= n as u64;
                        }
                    }
                    Body::Endless { chunk, pause } => loop {
                        stream
                            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                            .await?;
                        stream.write_all(&chunk).await?;
                        stream.write_all(b"\r\n").await?;
                        written.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                        if !pause.is_zero() {
                            tokio::time::sleep(pause).await;
                        }
                    },
                }
                stream.flush().await?;
            }
        }
    }
}

/// A well-behaved OAuth 2.0 token endpoint on loopback, started once for the test process (its
/// own thread and runtime, so it outlives each test's runtime): every request gets a Bearer
/// token for an hour. Tests of a vendor whose credentials are OAuth 2.0 client credentials point
/// its `token_url` here, so they judge the hostile vendor API's answers; the token endpoint's own
/// hostile answers are the runtime's tests (crates/runtime/tests/oauth2.rs).
pub fn token_endpoint() -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the token endpoint");
            rt.block_on(async move {
                let server = Hostile::start("127.0.0.1", |_| {
                    Reply::json(
                        200,
                        r#"{"access_token":"hostile-test-token","token_type":"Bearer","expires_in":3600}"#,
                    )
                })
                .await
                .expect("the token endpoint listens on loopback");
                let _ = tx.send(format!("{}/token", server.url()));
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("the token endpoint started")
    })
}
