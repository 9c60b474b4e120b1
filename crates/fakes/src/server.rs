//! The HTTP server under every fake: an axum router on 127.0.0.1 (free port), with fault
//! injection and a request log in front of it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// A fault to inject into the next request the fake receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Answer with this status and a plain-text body, without handling the request.
    Status(u16),
    /// Answer `429 Too Many Requests` with `Retry-After: <seconds>`, without handling the request.
    RateLimited {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
    /// Handle the request, then answer 200 with a body that is not valid JSON.
    MalformedJson,
    /// Close the connection without handling the request or answering.
    DropConnection,
    /// Handle the request (its effect happens), then close the connection without answering.
    DropAfterHandling,
    /// Answer with this status and an HTML page (a proxy's or a web server's error page), without
    /// handling the request.
    Html(u16),
    /// Handle the request, then answer with its status and headers but only the first half of
    /// its body (the JSON cut off), the `Content-Length` matching what is sent.
    Truncated,
    /// Handle the request, then answer 200 with JSON of another shape (an object where an
    /// array is expected and the other way round: `{"maintenance": true}` or `[{"id": null}]`,
    /// whichever the real answer is not).
    WrongShape,
    /// Handle the request, then send its status, headers (the whole body's `Content-Length`) and
    /// the first half of its body, and reset the connection.
    ResetMidBody,
}

/// Random faults: each request (not given a queued fault) fails with these probabilities, drawn
/// from a seeded generator so a run can be repeated.
#[derive(Debug, Clone, PartialEq)]
pub struct Chaos {
    /// The seed of the generator: the same seed gives the same faults in the same order.
    pub seed: u64,
    /// Probability of `503 Service Unavailable` (the request is not handled).
    pub unavailable: f64,
    /// Probability of `429 Too Many Requests` with `Retry-After: 0` (not handled).
    pub rate_limited: f64,
}

/// The fault queue and request log shared by a fake and its server.
#[derive(Debug, Default)]
pub struct Faults {
    queue: Mutex<VecDeque<Fault>>,
    delay: Mutex<Duration>,
    log: Mutex<Vec<(String, String)>>,
    chaos: Mutex<Option<(Chaos, fastrand::Rng)>>,
}

impl Faults {
    /// Inject `fault` into the next request not yet given a fault (first in, first out).
    pub fn push(&self, fault: Fault) {
        self.queue.lock().unwrap().push_back(fault);
    }

    /// Delay every request by `delay` (on top of any queued fault).
    pub fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    /// Inject random faults into every request from now on (`None` stops them).
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        *self.chaos.lock().unwrap() = chaos.map(|c| {
            let rng = fastrand::Rng::with_seed(c.seed);
            (c, rng)
        });
    }

    /// Faults still queued.
    pub fn pending(&self) -> usize {
        self.queue.lock().unwrap().len()
    }

    /// How many requests with this method and path the server received (faulted ones included).
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, p)| m.eq_ignore_ascii_case(method) && p == path)
            .count()
    }

    /// Every request received, as `(method, path)`.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.log.lock().unwrap().clone()
    }

    fn next(&self) -> Option<Fault> {
        if let Some(f) = self.queue.lock().unwrap().pop_front() {
            return Some(f);
        }
        let mut chaos = self.chaos.lock().unwrap();
        let (c, rng) = chaos.as_mut()?;
        let draw = rng.f64();
        if draw < c.unavailable {
            Some(Fault::Status(503))
        } else if draw < c.unavailable + c.rate_limited {
            Some(Fault::RateLimited {
                retry_after_secs: 0,
            })
        } else {
            None
        }
    }
}

/// A running fake server: its address, its fault queue and request log, and the count of state
/// changes its routes made. Dropping it stops the server. A vendor's fake dereferences to it,
/// so `fake.url()`, `fake.faults()` and `fake.state_changes()` work on every one.
#[derive(Debug)]
pub struct FakeServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    faults: Arc<Faults>,
    changes: Arc<AtomicU64>,
}

impl FakeServer {
    /// The address the server listens on (127.0.0.1 and a free port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`: the base URL to give a client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The faults queued or drawn for the next requests, and the log of requests received.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// How many times the fake's state actually changed (an agent's status, say): what a
    /// test counts to prove a write was, or was not, made. Counted by the routes through
    /// [`Shared::changed`](crate::Shared::changed).
    pub fn state_changes(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

async fn handle(
    router: Router,
    faults: Arc<Faults>,
    req: Request<Body>,
) -> Result<Response<Body>, Dropped> {
    faults
        .log
        .lock()
        .unwrap()
        .push((req.method().to_string(), req.uri().path().to_string()));
    let delay = *faults.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let call = |req| async move { router.oneshot(req).await.map_err(|e| match e {}) };
    match faults.next() {
        None => call(req).await,
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            call(req).await
        }
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Ok(Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(format!("{status} (injected fault)")))
                .expect("static response"))
        }
        Some(Fault::RateLimited { retry_after_secs }) => Ok(Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header(header::RETRY_AFTER, retry_after_secs.to_string())
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("429 Too Many Requests (injected fault)"))
            .expect("static response")),
        Some(Fault::MalformedJson) => {
            let _ = call(req).await?;
            Ok(Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"status\": \"succ"))
                .expect("static response"))
        }
        Some(Fault::Html(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Ok(Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .body(Body::from(format!(
                    "<!DOCTYPE html>\n<html><head><title>{status}</title></head><body><h1>{status}</h1><hr><center>nginx</center></body></html>\n"
                )))
                .expect("static response"))
        }
        Some(Fault::Truncated) => {
            let (parts, body) = call(req).await?.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|_| Dropped)?;
            let half = body.slice(..body.len() / 2);
            let mut r = Response::from_parts(parts, Body::from(half.clone()));
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, half.len().into());
            Ok(r)
        }
        Some(Fault::WrongShape) => {
            let (_, body) = call(req).await?.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|_| Dropped)?;
            let other = if body.trim_ascii_start().starts_with(b"[") {
                "{\"maintenance\": true}"
            } else {
                "[{\"id\": null}]"
            };
            Ok(Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(other))
                .expect("static response"))
        }
        Some(Fault::ResetMidBody) => {
            let (mut parts, body) = call(req).await?.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|_| Dropped)?;
            parts
                .headers
                .insert(header::CONTENT_LENGTH, body.len().into());
            let half = body.slice(..body.len() / 2);
            let chunks: [Result<axum::body::Bytes, std::io::Error>; 2] = [
                Ok(half),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection reset mid-body by fault injection",
                )),
            ];
            Ok(Response::from_parts(
                parts,
                Body::from_stream(futures_util::stream::iter(chunks)),
            ))
        }
        Some(Fault::DropConnection) => Err(Dropped),
        Some(Fault::DropAfterHandling) => {
            let _ = call(req).await?;
            Err(Dropped)
        }
    }
}

/// Serve `router` on 127.0.0.1 with a free port, `faults` in front of it.
pub async fn serve(router: Router, faults: Arc<Faults>) -> std::io::Result<FakeServer> {
    serve_counting(router, faults, Arc::default()).await
}

pub(crate) async fn serve_counting(
    router: Router,
    faults: Arc<Faults>,
    changes: Arc<AtomicU64>,
) -> std::io::Result<FakeServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let served = faults.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let router = router.clone();
            let faults = served.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        handle(router.clone(), faults.clone(), req.map(Body::new))
                    });
                // An error here is a dropped connection (injected, or the client went away).
                // `with_upgrades`: a websocket route (Mattermost's) gets its connection; without
                // it hyper answers 101 and closes, and the upgrade never happens.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    Ok(FakeServer {
        addr,
        task,
        faults,
        changes,
    })
}

/// A JSON answer with `status`.
pub fn json(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("static response")
}
