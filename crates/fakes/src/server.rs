//! The HTTP server under every fake: an axum router on 127.0.0.1 (free port), with fault
//! injection and a request log in front of it.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

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
    /// Answer `429 Too Many Requests` with `Retry-After: <seconds>` (an HTTP date by the
    /// server's clock when it is off ours: [`Faults::set_clock_skew`]), without handling the
    /// request.
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
    /// Accept the request (its body read) and answer nothing for `after`; then handle it (its
    /// effect happens then, `after` late) and answer, to a client that has given up by then
    /// when its timeout is shorter. As an overloaded server that queues work past the client's
    /// deadline does, or a proxy whose upstream timeout is longer than the client's: the
    /// client sees a timeout (or a dropped connection), and the write lands all the same,
    /// later. The request is handled on a task of its own: a client that closes the connection
    /// does not cancel it. [`Faults::hold_writes`] holds writes until the test releases them.
    LateApply {
        /// How long after it arrived the request is handled.
        after: Duration,
    },
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

/// Stale answers, as from a read replica or a cache in front of the vendor: a `GET` (not given
/// a queued or random fault) is answered, with this probability, with an answer the same
/// request (method, path and query) got earlier, at most `max_age` ago (drawn among those
/// kept: any age up to `max_age`), without being handled. A state the vendor changed since
/// (a write it acknowledged included) does not show in it. A request without such an earlier
/// answer (a delta query's, whose `from` is new each time) is handled with a [`Behind`] of an
/// age drawn up to `max_age` among its extensions: a route that can answer as the vendor's
/// state was that long ago (Rocket.Chat's `users.presence?from=`, a delta computed from an
/// older snapshot) does, and says so; any other answers as it is. Only successful answers are
/// kept (not those given [`Behind`]), for `max_age` (at most 64 per request, the newest), and
/// only while this is on.
#[derive(Debug, Clone, PartialEq)]
pub struct Stale {
    /// The seed of the generator: the same seed gives the same draws in the same order.
    pub seed: u64,
    /// Probability that a `GET` is answered from an earlier answer.
    pub probability: f64,
    /// How old a stale answer may be, at most.
    pub max_age: Duration,
}

/// A request a read replica answers ([`Stale`]): as the vendor's state was this long ago, in
/// the request's extensions. A route that honours it (a delta computed from an older snapshot)
/// puts it in its answer's extensions, and the answer is counted as stale
/// ([`Faults::stale_answers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behind(pub Duration);

/// What [`Stale`] drew for a `GET`.
enum Drawn {
    /// An earlier answer to the same request.
    Kept(Kept),
    /// No earlier answer: handled, as the state was this long ago ([`Behind`]).
    Behind(Duration),
}

/// One request the server received and what it answered ([`Faults::exchanges`]): what a test's
/// failure report shows of a desk's traffic (which request met which fault, what each write
/// asked for and got).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// When the request arrived.
    pub at: std::time::Instant,
    /// Its method.
    pub method: String,
    /// Its path and query.
    pub uri: String,
    /// Its body (requests other than `GET`), its first [`EXCHANGE_BODY`] bytes, lossily as text.
    pub body: String,
    /// What came between the request and the vendor's routes, if anything: an injected
    /// [`Fault`] (its `Debug` form), `refused` ([`Faults::refuse`]), `stale` ([`Stale`]), or
    /// `slow` ([`Faults::set_delay`]: the delay, before any of those).
    pub fault: Option<String>,
    /// The status answered; `None` when the connection was dropped without an answer.
    pub status: Option<u16>,
}

/// How much of a request's body an [`Exchange`] keeps.
pub const EXCHANGE_BODY: usize = 256;

/// Requests [`Faults::exchanges`] keeps, the newest (a long test's log stays bounded).
const EXCHANGES_KEPT: usize = 200_000;

/// Earlier answers [`Stale`] keeps per request (method, path and query), the newest.
const STALE_KEPT: usize = 64;

/// One earlier answer, kept for [`Stale`].
#[derive(Debug, Clone)]
struct Kept {
    at: tokio::time::Instant,
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
}

/// [`Stale`] on: its generator, the answers kept per request, and the stale answers given.
#[derive(Debug)]
struct Replica {
    stale: Stale,
    /// [`Faults::set_stale_min_age`]: stale answers at least this old.
    min_age: Duration,
    rng: fastrand::Rng,
    kept: HashMap<String, VecDeque<Kept>>,
    recorded: u64,
}

impl Replica {
    fn prune(&mut self, now: tokio::time::Instant) {
        let max_age = self.stale.max_age;
        self.kept.retain(|_, answers| {
            while answers
                .front()
                .is_some_and(|k| now.duration_since(k.at) > max_age)
            {
                answers.pop_front();
            }
            !answers.is_empty()
        });
    }
}

/// A write held by [`Faults::hold_writes`]: the request (its body read), the router that
/// handles it, and where its answer goes (to a client that has usually given up).
struct Held {
    router: Router,
    request: Request<Body>,
    answer: tokio::sync::oneshot::Sender<Response<Body>>,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("method", self.request.method())
            .field("uri", self.request.uri())
            .finish()
    }
}

/// The fault queue and request log shared by a fake and its server.
#[derive(Debug, Default)]
pub struct Faults {
    queue: Mutex<VecDeque<Fault>>,
    delay: Mutex<Duration>,
    log: Mutex<Vec<(String, String)>>,
    exchanges: Mutex<VecDeque<Exchange>>,
    chaos: Mutex<Option<(Chaos, fastrand::Rng)>>,
    replica: Mutex<Option<Replica>>,
    stale_answers: std::sync::atomic::AtomicU64,
    /// (method, what the path and query contain, status): refused without being handled.
    refused: Mutex<Vec<(String, String, u16)>>,
    /// Seconds the server's clock is ahead of ours (behind: negative).
    skew: std::sync::atomic::AtomicI64,
    /// Writes still to hold ([`Faults::hold_writes`]).
    to_hold: std::sync::atomic::AtomicUsize,
    /// The writes held, in the order they came.
    held: Mutex<Vec<Held>>,
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

    /// Answer some `GET`s with earlier answers ([`Stale`]; `None` stops it and forgets them).
    pub fn set_stale(&self, stale: Option<Stale>) {
        *self.replica.lock().unwrap() = stale.map(|stale| Replica {
            rng: fastrand::Rng::with_seed(stale.seed),
            min_age: Duration::ZERO,
            stale,
            kept: HashMap::new(),
            recorded: 0,
        });
    }

    /// Stale answers ([`Stale`], on) at least `min_age` old from now on (a replica that is
    /// always that far behind, at least): drawn among the earlier answers between `min_age` and
    /// `max_age` old; a request without one is handled ([`Behind`] an age between the two).
    pub fn set_stale_min_age(&self, min_age: Duration) {
        if let Some(r) = self.replica.lock().unwrap().as_mut() {
            r.min_age = min_age.min(r.stale.max_age);
        }
    }

    /// How many stale answers ([`Stale`]) the server gave so far.
    pub fn stale_answers(&self) -> u64 {
        self.stale_answers.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Refuse every request with `method` whose path and query contain `contains` (one agent's
    /// reads, say) with `status` and a plain-text body, without handling it, until
    /// [`Faults::stop_refusing`]; before any queued or random fault.
    pub fn refuse(&self, method: &str, contains: &str, status: u16) {
        self.refused
            .lock()
            .unwrap()
            .push((method.to_string(), contains.to_string(), status));
    }

    /// Refuse nothing more ([`Faults::refuse`]).
    pub fn stop_refusing(&self) {
        self.refused.lock().unwrap().clear();
    }

    /// The server's clock is `seconds` ahead of ours (behind: negative): every answer's `Date`
    /// says so, and an injected 429 gives `Retry-After` as an HTTP date by that clock (the
    /// vendor's own times, `_updatedAt` and the like, are the vendor fake's to skew).
    pub fn set_clock_skew(&self, seconds: i64) {
        self.skew
            .store(seconds, std::sync::atomic::Ordering::SeqCst);
    }

    /// The server's clock now ([`Faults::set_clock_skew`]).
    pub fn server_now(&self) -> SystemTime {
        let skew = self.skew.load(std::sync::atomic::Ordering::SeqCst);
        let now = SystemTime::now();
        if skew >= 0 {
            now + Duration::from_secs(skew.unsigned_abs())
        } else {
            now - Duration::from_secs(skew.unsigned_abs())
        }
    }

    /// Hold the next `n` writes (`0`: none more; those held stay held until
    /// [`Faults::release_writes`]): a request whose method is not `GET`, `HEAD` or `OPTIONS`
    /// is accepted (its body read) and neither handled nor answered, before any queued or
    /// random fault ([`Faults::refuse`] still refuses first); the writes after them are served
    /// as usual (a retry of a held write gets through). The client's timeout ends its call
    /// (its deadline, or a dropped connection, is all it sees), and the write lands when the
    /// test releases it: [`Fault::LateApply`] with the moment chosen by the test rather than by
    /// a timer, so a schedule can make a person's change land between a write sent and that
    /// write applied, without depending on timing.
    pub fn hold_writes(&self, n: usize) {
        self.to_hold.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many writes are held now ([`Faults::hold_writes`]).
    pub fn held_writes(&self) -> usize {
        self.held.lock().unwrap().len()
    }

    /// Handle every held write ([`Faults::hold_writes`]), one after the other in the order
    /// they came (each has had its effect when the next is handled, and all of them when this
    /// returns), and answer each (its client has usually given up). How many were handled.
    /// Writes that come meanwhile are held (or not) as [`Faults::hold_writes`] says.
    pub async fn release_writes(&self) -> usize {
        let held = std::mem::take(&mut *self.held.lock().unwrap());
        let n = held.len();
        for h in held {
            let answer = h
                .router
                .oneshot(h.request)
                .await
                .unwrap_or_else(|e| match e {});
            let _ = h.answer.send(answer);
        }
        n
    }

    /// Whether a request with `method` is held ([`Faults::hold_writes`]): one fewer to hold.
    fn holds(&self, method: &axum::http::Method) -> bool {
        use axum::http::Method;
        use std::sync::atomic::Ordering::SeqCst;
        ![Method::GET, Method::HEAD, Method::OPTIONS].contains(method)
            && self
                .to_hold
                .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                .is_ok()
    }

    fn skewed(&self) -> bool {
        self.skew.load(std::sync::atomic::Ordering::SeqCst) != 0
    }

    fn refusal(&self, method: &str, uri: &str) -> Option<u16> {
        self.refused
            .lock()
            .unwrap()
            .iter()
            .find(|(m, c, _)| m.eq_ignore_ascii_case(method) && uri.contains(c.as_str()))
            .map(|(_, _, status)| *status)
    }

    /// An earlier answer to `key`, or without one an age to answer it as of, drawn when
    /// [`Stale`] is on and its probability says so.
    fn stale_answer(&self, key: &str) -> Option<Drawn> {
        let mut replica = self.replica.lock().unwrap();
        let r = replica.as_mut()?;
        if r.rng.f64() >= r.stale.probability {
            return None;
        }
        let now = tokio::time::Instant::now();
        r.prune(now);
        let min_age = r.min_age;
        let old_enough = r.kept.get(key).map_or(0, |a| {
            a.iter()
                .take_while(|k| now.duration_since(k.at) >= min_age)
                .count()
        });
        if old_enough == 0 {
            let age = min_age + (r.stale.max_age - min_age).mul_f64(r.rng.f64());
            return Some(Drawn::Behind(age));
        }
        let pick = r.rng.usize(0..old_enough);
        let kept = r.kept.get(key)?.get(pick).cloned()?;
        self.stale_answers
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(Drawn::Kept(kept))
    }

    /// Whether answers are kept for [`Stale`].
    fn keeping(&self) -> bool {
        self.replica.lock().unwrap().is_some()
    }

    fn keep(&self, key: String, kept: Kept) {
        let mut replica = self.replica.lock().unwrap();
        let Some(r) = replica.as_mut() else { return };
        r.recorded += 1;
        if r.recorded % 256 == 0 {
            r.prune(kept.at);
        }
        let answers = r.kept.entry(key).or_default();
        answers.push_back(kept);
        while answers.len() > STALE_KEPT {
            answers.pop_front();
        }
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

    /// Every request received (the newest 200,000) with the fault it met and the status
    /// answered, in the order they arrived ([`Exchange`]).
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().unwrap().iter().cloned().collect()
    }

    fn exchanged(&self, exchange: Exchange) {
        let mut log = self.exchanges.lock().unwrap();
        if log.len() == EXCHANGES_KEPT {
            log.pop_front();
        }
        log.push_back(exchange);
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
    let at = std::time::Instant::now();
    faults
        .log
        .lock()
        .unwrap()
        .push((req.method().to_string(), req.uri().path().to_string()));
    let method = req.method().to_string();
    let uri = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    // a write's body is kept (its start) for the exchange log; the routes get all of it
    let (req, body) = if req.method() == axum::http::Method::GET {
        (req, String::new())
    } else {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => bytes,
            Err(_) => {
                faults.exchanged(Exchange {
                    at,
                    method,
                    uri,
                    body: String::new(),
                    fault: Some("the request's body could not be read".into()),
                    status: None,
                });
                return Err(Dropped);
            }
        };
        let kept = String::from_utf8_lossy(&bytes[..bytes.len().min(EXCHANGE_BODY)]).into_owned();
        (Request::from_parts(parts, Body::from(bytes)), kept)
    };
    let delay = *faults.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (fault, answered) = answer(router, &faults, req).await;
    // a slow server ([`Faults::set_delay`]) is said too: its answers may come after a client
    // gave up
    let fault = match (fault, delay.is_zero()) {
        (fault, true) => fault,
        (None, false) => Some(format!("slow ({delay:?})")),
        (Some(f), false) => Some(format!("slow ({delay:?}), {f}")),
    };
    faults.exchanged(Exchange {
        at,
        method,
        uri,
        body,
        fault,
        status: answered.as_ref().ok().map(|r| r.status().as_u16()),
    });
    let mut answer = answered?;
    if faults.skewed() {
        let date = httpdate::fmt_http_date(faults.server_now());
        if let Ok(v) = header::HeaderValue::from_str(&date) {
            answer.headers_mut().insert(header::DATE, v);
        }
    }
    Ok(answer)
}

/// The answer to `req`, and the fault it met (for the exchange log).
async fn answer(
    router: Router,
    faults: &Faults,
    req: Request<Body>,
) -> (Option<String>, Result<Response<Body>, Dropped>) {
    let mut fault = None;
    let answered = answer_noting(router, faults, req, &mut fault).await;
    (fault, answered)
}

async fn answer_noting(
    router: Router,
    faults: &Faults,
    req: Request<Body>,
    noted: &mut Option<String>,
) -> Result<Response<Body>, Dropped> {
    let uri = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    if let Some(code) = faults.refusal(req.method().as_str(), &uri) {
        *noted = Some("refused".into());
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Ok(Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(format!("{status} (injected fault)")))
            .expect("static response"));
    }
    if faults.holds(req.method()) {
        let request = buffered(req).await?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        faults.held.lock().unwrap().push(Held {
            router,
            request,
            answer: tx,
        });
        // answered when released (to a client that has usually given up)
        return rx.await.map_err(|_| Dropped);
    }
    let late = router.clone();
    let call = |req| async move { router.oneshot(req).await.map_err(|e| match e {}) };
    let next = faults.next();
    if let Some(f) = &next {
        *noted = Some(format!("{f:?}"));
    }
    match next {
        None if req.method() == axum::http::Method::GET && faults.keeping() => {
            let key = format!("GET {uri}");
            let mut req = req;
            match faults.stale_answer(&key) {
                Some(Drawn::Kept(kept)) => {
                    *noted = Some("stale".into());
                    let mut r = Response::new(Body::from(kept.body));
                    *r.status_mut() = kept.status;
                    *r.headers_mut() = kept.headers;
                    return Ok(r);
                }
                Some(Drawn::Behind(age)) => {
                    req.extensions_mut().insert(Behind(age));
                }
                None => {}
            }
            let (parts, body) = call(req).await?.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|_| Dropped)?;
            if parts.extensions.get::<Behind>().is_some() {
                // answered as of earlier: a stale answer, not one to keep
                faults
                    .stale_answers
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            } else if parts.status.is_success() {
                faults.keep(
                    key,
                    Kept {
                        at: tokio::time::Instant::now(),
                        status: parts.status,
                        headers: parts.headers.clone(),
                        body: body.clone(),
                    },
                );
            }
            Ok(Response::from_parts(parts, Body::from(body)))
        }
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
        Some(Fault::RateLimited { retry_after_secs }) => {
            // a server whose clock is off ours says when, by its clock (an HTTP date)
            let retry_after = if faults.skewed() {
                httpdate::fmt_http_date(faults.server_now() + Duration::from_secs(retry_after_secs))
            } else {
                retry_after_secs.to_string()
            };
            Ok(Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header(header::RETRY_AFTER, retry_after)
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("429 Too Many Requests (injected fault)"))
                .expect("static response"))
        }
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
        Some(Fault::LateApply { after }) => {
            let request = buffered(req).await?;
            let (tx, rx) = tokio::sync::oneshot::channel();
            // a task of its own: the client closing the connection does not cancel it
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                let answer = late.oneshot(request).await.unwrap_or_else(|e| match e {});
                let _ = tx.send(answer);
            });
            rx.await.map_err(|_| Dropped)
        }
    }
}

/// `req` with its body read: handled later, after its client may have closed the connection.
async fn buffered(req: Request<Body>) -> Result<Request<Body>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|_| Dropped)?;
    Ok(Request::from_parts(parts, Body::from(body)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::{Query, State};
    use axum::routing::{get, post};

    /// A server whose `POST /set?v=<n>` appends `n` to what it holds, `GET /get` reads it.
    async fn recorder() -> (FakeServer, Arc<Mutex<Vec<u32>>>) {
        let applied: Arc<Mutex<Vec<u32>>> = Arc::default();
        let router = Router::new()
            .route(
                "/set",
                post(
                    |State(s): State<Arc<Mutex<Vec<u32>>>>,
                     Query(q): Query<HashMap<String, u32>>| async move {
                        s.lock().unwrap().push(q["v"]);
                        json(StatusCode::OK, serde_json::json!({"ok": true}))
                    },
                ),
            )
            .route(
                "/get",
                get(|State(s): State<Arc<Mutex<Vec<u32>>>>| async move {
                    let held = s.lock().unwrap().clone();
                    json(StatusCode::OK, serde_json::json!(held))
                }),
            )
            .with_state(applied.clone());
        let server = serve(router, Arc::new(Faults::default())).await.unwrap();
        (server, applied)
    }

    fn impatient() -> reqwest::Client {
        agentstatus_runtime::ensure_tls_provider();
        reqwest::Client::builder()
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_late_apply_lands_after_the_client_gave_up() {
        let (server, applied) = recorder().await;
        server.faults().push(Fault::LateApply {
            after: Duration::from_millis(400),
        });
        let sent = tokio::time::Instant::now();
        let e = impatient()
            .post(format!("{}/set?v=1", server.url()))
            .send()
            .await
            .expect_err("no answer within the client's timeout");
        assert!(e.is_timeout(), "{e}");
        assert!(
            applied.lock().unwrap().is_empty(),
            "not applied when the client gave up"
        );
        while applied.lock().unwrap().is_empty() {
            assert!(sent.elapsed() < Duration::from_secs(5), "never applied");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            sent.elapsed() >= Duration::from_millis(400),
            "applied {:?} after it was sent, before `after`",
            sent.elapsed()
        );
        assert_eq!(*applied.lock().unwrap(), vec![1]);
        // the next request is served as usual
        let r = impatient()
            .post(format!("{}/set?v=2", server.url()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        assert_eq!(*applied.lock().unwrap(), vec![1, 2]);
    }

    #[tokio::test]
    async fn held_writes_land_when_released_in_the_order_they_came() {
        let (server, applied) = recorder().await;
        let faults = server.faults();
        faults.hold_writes(2);
        for v in [1, 2] {
            let e = impatient()
                .post(format!("{}/set?v={v}", server.url()))
                .send()
                .await
                .expect_err("a held write is not answered");
            assert!(e.is_timeout(), "{e}");
        }
        // reads are not held
        let read: Vec<u32> = impatient()
            .get(format!("{}/get", server.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(read.is_empty());
        assert_eq!(faults.held_writes(), 2);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(applied.lock().unwrap().is_empty(), "held, not applied");
        // the third write is served as usual, before the held ones land
        let r = impatient()
            .post(format!("{}/set?v=3", server.url()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        assert_eq!(*applied.lock().unwrap(), vec![3]);
        assert_eq!(faults.held_writes(), 2);
        assert_eq!(faults.release_writes().await, 2);
        assert_eq!(
            *applied.lock().unwrap(),
            vec![3, 1, 2],
            "the held ones in the order they came"
        );
        assert_eq!(faults.held_writes(), 0);
        assert_eq!(faults.release_writes().await, 0);
    }
}
