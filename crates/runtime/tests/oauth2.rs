//! OAuth 2.0 client credentials end to end: the client generated from `tests/oauth2/spec.yaml`
//! (`tests/oauth2/client.rs`, kept equal to agentstatus-codegen's output by its
//! `tests/oauth2.rs`) against a token server issuing expiring tokens and an API checking them,
//! both on 127.0.0.1. Every log event (`tracing` and `log`, at trace level) is captured, and
//! neither the client secret nor any issued token may appear in it.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use agentstatus_runtime::{
    BuildError, ClientAuth, ClientConfig, Inner, RetryPolicy, SecretString, TokenErrorKind,
};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

#[allow(missing_docs, dead_code, unused_imports, clippy::all)]
mod generated {
    include!("oauth2/client.rs");
}
use generated::{Client, ClientInfo as _};
agentstatus_runtime::client_hooks!();

const CLIENT_ID: &str = "app-0001";
const SECRET: &str = "cl1ent-s3cret-VALUE";

// ---------------------------------------------------------------------------------------------
// log capture: every `tracing` event and every `log` record, at trace level, into one buffer

fn logs() -> &'static Mutex<String> {
    static LOGS: OnceLock<Mutex<String>> = OnceLock::new();
    LOGS.get_or_init(|| Mutex::new(String::new()))
}

struct Capture;

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        logs()
            .lock()
            .unwrap()
            .push_str(&String::from_utf8_lossy(buf));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct LogRecords;

impl log::Log for LogRecords {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!(
            "{} {}: {}\n",
            record.level(),
            record.target(),
            record.args()
        );
        logs().lock().unwrap().push_str(&line);
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| Capture)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        log::set_boxed_logger(Box::new(LogRecords)).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

// ---------------------------------------------------------------------------------------------
// the token server and the API

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Token,
    NotJson,
    Huge,
    Redirect,
    ServerError,
    NotBearer,
}

struct Server {
    /// Lifetime of the tokens issued, in seconds (`expires_in`).
    lifetime: AtomicU64,
    /// How long the token endpoint takes to answer, in ms.
    delay_ms: AtomicU64,
    /// How long the API takes to answer, in ms.
    api_delay_ms: AtomicU64,
    /// The next token requests answered with this (status, `Retry-After`, body) instead, one
    /// each, before the credentials are checked.
    failures: Mutex<std::collections::VecDeque<(u16, Option<&'static str>, serde_json::Value)>>,
    answer: Mutex<Answer>,
    /// The API answers 401 to every request.
    reject_all: AtomicBool,
    token_requests: AtomicUsize,
    api_requests: AtomicUsize,
    issued: Mutex<Vec<(String, Instant)>>,
    revoked: Mutex<Vec<String>>,
    /// What went where it must not: the secret to the API, a token to the token endpoint.
    leaks: Mutex<Vec<String>>,
    /// How the client authenticated to the token endpoint, last time.
    client_auth: Mutex<Option<&'static str>>,
    /// The `scope` of the last token request.
    scope: Mutex<Option<String>>,
}

impl Server {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            lifetime: AtomicU64::new(3600),
            delay_ms: AtomicU64::new(0),
            api_delay_ms: AtomicU64::new(0),
            failures: Mutex::new(Default::default()),
            answer: Mutex::new(Answer::Token),
            reject_all: AtomicBool::new(false),
            token_requests: AtomicUsize::new(0),
            api_requests: AtomicUsize::new(0),
            issued: Mutex::new(Vec::new()),
            revoked: Mutex::new(Vec::new()),
            leaks: Mutex::new(Vec::new()),
            client_auth: Mutex::new(None),
            scope: Mutex::new(None),
        })
    }

    fn tokens(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }

    fn api(&self) -> usize {
        self.api_requests.load(Ordering::SeqCst)
    }

    fn issued(&self) -> Vec<String> {
        self.issued
            .lock()
            .unwrap()
            .iter()
            .map(|(t, _)| t.clone())
            .collect()
    }
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn token(State(s): State<Arc<Server>>, headers: HeaderMap, body: String) -> Response {
    s.token_requests.fetch_add(1, Ordering::SeqCst);
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let failure = s.failures.lock().unwrap().pop_front();
    if let Some((status, retry_after, body)) = failure {
        let mut r = json(StatusCode::from_u16(status).unwrap(), body);
        if let Some(after) = retry_after {
            r.headers_mut()
                .insert("retry-after", after.parse().unwrap());
        }
        return r;
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if authorization.starts_with("Bearer") {
        s.leaks
            .lock()
            .unwrap()
            .push("a token sent to the token endpoint".into());
    }
    let (id, secret) = if let Some(basic) = authorization.strip_prefix("Basic ") {
        use base64::Engine as _;
        let pair = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .unwrap_or_default();
        let pair = String::from_utf8(pair).unwrap_or_default();
        let (id, secret) = pair.split_once(':').unwrap_or_default();
        *s.client_auth.lock().unwrap() = Some("basic");
        let dec = |x: &str| {
            url::form_urlencoded::parse(format!("x={x}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        (Some(dec(id)), Some(dec(secret)))
    } else {
        *s.client_auth.lock().unwrap() = Some("post");
        (field("client_id"), field("client_secret"))
    };
    *s.scope.lock().unwrap() = field("scope");
    if field("grant_type").as_deref() != Some("client_credentials") {
        return json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "unsupported_grant_type"}),
        );
    }
    if id.as_deref() != Some(CLIENT_ID) || secret.as_deref() != Some(SECRET) {
        // a careless server echoes what it got: the client must not repeat it
        return json(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({
                "error": "invalid_client",
                "error_description": format!("AADSTS7000215: Invalid client secret provided: {}", secret.unwrap_or_default()),
                "error_uri": "https://login.example.com/error?code=7000215"
            }),
        );
    }
    let answer = *s.answer.lock().unwrap();
    match answer {
        Answer::NotJson => return (StatusCode::OK, "<html>sign in</html>").into_response(),
        Answer::Huge => return (StatusCode::OK, "x".repeat(100 * 1024)).into_response(),
        Answer::Redirect => {
            return (
                StatusCode::FOUND,
                [("location", "https://elsewhere.example/token?x=1")],
            )
                .into_response();
        }
        Answer::ServerError => return (StatusCode::BAD_GATEWAY, "upstream").into_response(),
        Answer::NotBearer | Answer::Token => {}
    }
    let n = s.tokens();
    let token = format!("tok{n}-{:016x}", fastrand_u64());
    let lifetime = s.lifetime.load(Ordering::SeqCst);
    s.issued.lock().unwrap().push((
        token.clone(),
        Instant::now()
            .checked_add(Duration::from_secs(lifetime))
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1 << 32)),
    ));
    let token_type = if answer == Answer::NotBearer {
        "mac"
    } else {
        "Bearer"
    };
    json(
        StatusCode::OK,
        serde_json::json!({"access_token": token, "token_type": token_type, "expires_in": lifetime}),
    )
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish()
}

fn unauthorized() -> Response {
    json(
        StatusCode::UNAUTHORIZED,
        serde_json::json!({"error": {"code": "InvalidAuthenticationToken"}}),
    )
}

/// The API's check: a Bearer token issued, unexpired, not revoked; the secret nowhere.
fn authorized(s: &Server, uri: &Uri, headers: &HeaderMap, body: &str) -> bool {
    s.api_requests.fetch_add(1, Ordering::SeqCst);
    if headers
        .keys()
        .any(|k| k.as_str().starts_with("x-agentstatus"))
    {
        s.leaks
            .lock()
            .unwrap()
            .push("the hooks' own header sent to the API".into());
    }
    let everything = format!("{uri} {headers:?} {body}");
    if everything.contains(SECRET) {
        s.leaks
            .lock()
            .unwrap()
            .push("the secret sent to the API".into());
    }
    if s.reject_all.load(Ordering::SeqCst) {
        return false;
    }
    let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    s.issued
        .lock()
        .unwrap()
        .iter()
        .any(|(t, until)| t == token && Instant::now() < *until)
        && !s.revoked.lock().unwrap().iter().any(|r| r == token)
}

async fn me(State(s): State<Arc<Server>>, uri: Uri, headers: HeaderMap) -> Response {
    let delay = s.api_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if authorized(&s, &uri, &headers, "") {
        json(StatusCode::OK, serde_json::json!({"name": "Ada"}))
    } else {
        unauthorized()
    }
}

async fn put_state(
    State(s): State<Arc<Server>>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    if authorized(&s, &uri, &headers, &body) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        unauthorized()
    }
}

/// The token server (`/tenant-1/oauth2/v2.0/token`) and the API (`/v1.0/...`) on one port, and
/// its base URL.
async fn start(server: Arc<Server>) -> String {
    let app = axum::Router::new()
        .route("/tenant-1/oauth2/v2.0/token", post(token))
        .route("/v1.0/me", get(me))
        .route("/v1.0/me/state", put(put_state))
        .with_state(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn config() -> ClientConfig {
    ClientConfig::default().with_retry(RetryPolicy {
        deadline: Duration::from_secs(10),
        ..RetryPolicy::default()
    })
}

async fn client(origin: &str, secret: &str) -> Client {
    capture_logs();
    let credentials = Client::azure_ad_credentials(CLIENT_ID, SecretString::from(secret))
        .with_token_url(format!("{origin}/tenant-1/oauth2/v2.0/token"));
    Client::with_azure_ad_credentials(&format!("{origin}/v1.0"), credentials, &config()).unwrap()
}

fn no_leaks(server: &Server, texts: &[&str]) {
    assert!(
        server.leaks.lock().unwrap().is_empty(),
        "{:?}",
        server.leaks.lock().unwrap()
    );
    for text in texts {
        assert!(!text.contains(SECRET), "the secret in {text}");
        for t in server.issued() {
            assert!(!text.contains(&t), "a token in {text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_share_one_token_request() {
    let server = Server::new();
    server.delay_ms.store(300, Ordering::SeqCst);
    let origin = start(server.clone()).await;
    let client = client(&origin, SECRET).await;
    let calls = (0..16).map(|i| {
        let c = client.clone();
        tokio::spawn(async move {
            if i % 2 == 0 {
                c.get_me().send().await.map(|r| r.status())
            } else {
                c.put_state()
                    .body(generated::types::PutStateBody {
                        state: Some("away".into()),
                    })
                    .send()
                    .await
                    .map(|r| r.status())
            }
        })
    });
    for call in futures_util::future::join_all(calls).await {
        assert!(call.unwrap().unwrap().is_success());
    }
    assert_eq!(
        server.tokens(),
        1,
        "one token request for 16 concurrent calls"
    );
    assert_eq!(server.api(), 16);
    // the scopes the document's operations require, as the `scope` parameter
    assert_eq!(
        server.scope.lock().unwrap().as_deref(),
        Some("Presence.Read.All Presence.ReadWrite.All")
    );
    assert_eq!(*server.client_auth.lock().unwrap(), Some("post"));
    // a clone made later shares the cache
    client.clone().get_me().send().await.unwrap();
    assert_eq!(server.tokens(), 1);
    no_leaks(&server, &[&format!("{client:?}")]);
}

#[tokio::test]
async fn a_token_is_refreshed_before_it_expires() {
    let server = Server::new();
    // 2 s tokens: refreshed after 1 s (the 60 s skew is cut to half the lifetime)
    server.lifetime.store(2, Ordering::SeqCst);
    let origin = start(server.clone()).await;
    let client = client(&origin, SECRET).await;
    client.get_me().send().await.unwrap();
    client.get_me().send().await.unwrap();
    assert_eq!(server.tokens(), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    client.get_me().send().await.unwrap();
    assert_eq!(server.tokens(), 2, "one refresh before expiry");
    client.get_me().send().await.unwrap();
    assert_eq!(server.tokens(), 2);
    // every call was accepted the first time: refreshed before, not after, the API refused it
    assert_eq!(server.api(), 4);
    no_leaks(&server, &[]);
}

#[tokio::test]
async fn an_absurd_expires_in_is_capped_not_a_panic() {
    let server = Server::new();
    server.lifetime.store(u64::MAX, Ordering::SeqCst);
    let origin = start(server.clone()).await;
    let client = client(&origin, SECRET).await;
    client.get_me().send().await.unwrap();
    client.get_me().send().await.unwrap();
    assert_eq!((server.tokens(), server.api()), (1, 2));
}

#[tokio::test]
async fn a_401_refreshes_once_and_retries_once() {
    let server = Server::new();
    let origin = start(server.clone()).await;
    let client = client(&origin, SECRET).await;
    client.get_me().send().await.unwrap();
    assert_eq!((server.tokens(), server.api()), (1, 1));
    // the server revokes the token before its expiry
    let first = server.issued()[0].clone();
    server.revoked.lock().unwrap().push(first);
    let me = client.get_me().send().await.unwrap();
    assert_eq!(me.into_inner().name.as_deref(), Some("Ada"));
    assert_eq!(
        (server.tokens(), server.api()),
        (2, 3),
        "one refresh, one retry"
    );
    // a body is sent again with the retry
    server
        .revoked
        .lock()
        .unwrap()
        .push(server.issued()[1].clone());
    let put = client
        .put_state()
        .body(generated::types::PutStateBody {
            state: Some("busy".into()),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    assert_eq!((server.tokens(), server.api()), (3, 5));

    // an API that refuses every token: one refresh, one retry, then its 401 is the answer
    server.reject_all.store(true, Ordering::SeqCst);
    let e = client.get_me().send().await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(401), "{e}");
    assert_eq!((server.tokens(), server.api()), (4, 7));
    no_leaks(&server, &[&e.to_string(), &format!("{e:?}")]);
}

#[tokio::test]
async fn invalid_client_is_the_typed_error_without_the_secret() {
    let server = Server::new();
    let origin = start(server.clone()).await;
    let wrong = "wr0ng-s3cret-VALUE";
    let client = client(&origin, wrong).await;
    let e = client.get_me().send().await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("invalid_client"), "{text}");
    assert!(text.contains("token endpoint"), "{text}");
    assert!(
        !text.contains(wrong),
        "the secret echoed by the server: {text}"
    );
    assert_eq!(server.api(), 0, "nothing sent to the API without a token");
    // the failed call's error, typed, without another token request
    let last = client.inner().oauth2().unwrap().last_error().await.unwrap();
    assert_eq!(server.tokens(), 1);
    let typed = client.inner().oauth2().unwrap().token().await.unwrap_err();
    assert_eq!(last, typed);
    match &typed.kind {
        TokenErrorKind::Rejected {
            status,
            error,
            description,
            uri,
        } => {
            assert_eq!((*status, error.as_str()), (401, "invalid_client"));
            let description = description.as_deref().unwrap();
            assert!(description.starts_with("AADSTS7000215"), "{description}");
            assert!(description.contains("[redacted]"), "{description}");
            assert_eq!(
                uri.as_deref(),
                Some("https://login.example.com/error?code=7000215")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(typed.token_url.ends_with("/tenant-1/oauth2/v2.0/token"));
    for text in [typed.to_string(), format!("{typed:?}"), format!("{e:?}")] {
        assert!(!text.contains(wrong), "{text}");
    }
    no_leaks(&server, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_fetch_is_shared_by_the_callers_waiting_for_it() {
    let server = Server::new();
    server.delay_ms.store(300, Ordering::SeqCst);
    let origin = start(server.clone()).await;
    let client = client(&origin, "wrong").await;
    let calls = (0..8).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.get_me().send().await.map(|_| ()) })
    });
    for call in futures_util::future::join_all(calls).await {
        assert!(
            call.unwrap()
                .unwrap_err()
                .to_string()
                .contains("invalid_client")
        );
    }
    assert_eq!(
        server.tokens(),
        1,
        "no stampede on a failing token endpoint"
    );
}

#[tokio::test]
async fn bad_token_answers_each_say_what_they_are() {
    let server = Server::new();
    let origin = start(server.clone()).await;
    let client = client(&origin, SECRET).await;
    let oauth = client.inner().oauth2().unwrap().clone();
    for (answer, expect) in [
        (Answer::NotJson, "not a JSON token answer"),
        (Answer::Huge, "larger than 65536 bytes"),
        (Answer::Redirect, "redirects are not followed"),
        (
            Answer::ServerError,
            "answered HTTP 502 without an OAuth 2.0 error",
        ),
        (Answer::NotBearer, "`token_type` is `mac`, not Bearer"),
    ] {
        *server.answer.lock().unwrap() = answer;
        let e = oauth.token().await.unwrap_err();
        match (answer, &e.kind) {
            (
                Answer::NotJson | Answer::NotBearer,
                TokenErrorKind::InvalidAnswer { status: 200, .. },
            )
            | (Answer::Huge, TokenErrorKind::TooLarge { limit: 65536 })
            | (Answer::Redirect, TokenErrorKind::Redirect(_))
            | (Answer::ServerError, TokenErrorKind::Status { status: 502 }) => {}
            _ => panic!("{answer:?}: {e:?}"),
        }
        let text = e.to_string();
        assert!(text.contains(expect), "{answer:?}: {text}");
        // the redirect's target is named without its query
        assert!(!text.contains("x=1"), "{text}");
        no_leaks(&server, &[&text, &format!("{e:?}")]);
    }
    // a token endpoint that cannot be reached
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let credentials = Client::azure_ad_credentials(CLIENT_ID, SecretString::from(SECRET))
        .with_token_url(format!("http://127.0.0.1:{port}/token"));
    let unreachable =
        Client::with_azure_ad_credentials(&format!("{origin}/v1.0"), credentials, &config())
            .unwrap();
    let e = unreachable
        .inner()
        .oauth2()
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert!(matches!(e.kind, TokenErrorKind::Network { .. }), "{e:?}");
    assert!(e.to_string().contains("could not connect"), "{e}");
    assert!(!e.to_string().contains(SECRET));
}

#[tokio::test]
async fn a_slow_token_endpoint_is_bounded_by_the_deadline() {
    let server = Server::new();
    server.delay_ms.store(5_000, Ordering::SeqCst);
    let origin = start(server.clone()).await;
    let credentials = Client::azure_ad_credentials(CLIENT_ID, SecretString::from(SECRET))
        .with_token_url(format!("{origin}/tenant-1/oauth2/v2.0/token"));
    let config = ClientConfig::default().with_retry(RetryPolicy {
        deadline: Duration::from_millis(300),
        ..RetryPolicy::default()
    });
    let client =
        Client::with_azure_ad_credentials(&format!("{origin}/v1.0"), credentials, &config).unwrap();
    let started = Instant::now();
    let e = client.inner().oauth2().unwrap().token().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            e.kind,
            TokenErrorKind::TimedOut { .. } | TokenErrorKind::Network { .. }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn basic_client_authentication_when_asked_for() {
    let server = Server::new();
    let origin = start(server.clone()).await;
    capture_logs();
    // a secret with characters that RFC 6749 §2.3.1's form-encoding changes
    let credentials = Client::azure_ad_credentials(CLIENT_ID, SecretString::from(SECRET))
        .with_token_url(format!("{origin}/tenant-1/oauth2/v2.0/token"))
        .with_client_auth(ClientAuth::Basic)
        .with_scopes(["https://graph.example.com/.default"]);
    let client =
        Client::with_azure_ad_credentials(&format!("{origin}/v1.0"), credentials, &config())
            .unwrap();
    client.get_me().send().await.unwrap();
    assert_eq!(*server.client_auth.lock().unwrap(), Some("basic"));
    assert_eq!(
        server.scope.lock().unwrap().as_deref(),
        Some("https://graph.example.com/.default")
    );
    no_leaks(&server, &[]);
}

#[test]
fn the_documents_token_url_needs_its_tenant() {
    // the document's tokenUrl has `{tenant}`: the constructor with the defaults says so
    let e = Client::with_azure_ad(
        "https://graph.example.com/v1.0",
        CLIENT_ID,
        SecretString::from(SECRET),
        &ClientConfig::default(),
    )
    .unwrap_err();
    assert!(matches!(e, BuildError::InvalidTokenUrl { .. }), "{e:?}");
    assert!(e.to_string().contains("with_token_url"), "{e}");
    // plain http to a host that is not loopback is refused for the token URL too
    let credentials = Client::azure_ad_credentials(CLIENT_ID, SecretString::from(SECRET))
        .with_token_url("http://login.example.com/t/token");
    let e = Client::with_azure_ad_credentials(
        "https://graph.example.com/v1.0",
        credentials,
        &ClientConfig::default(),
    )
    .unwrap_err();
    assert!(matches!(e, BuildError::InsecureHttp { .. }), "{e:?}");
    assert!(!format!("{e} {e:?}").contains(SECRET));
}

/// Runs last among its peers in time, but checks only what it produced itself plus whatever else
/// was logged: no secret and none of its tokens, at trace level, through a whole flow (fetch,
/// 401, refresh, retry, failure).
#[tokio::test]
async fn neither_secret_nor_token_is_ever_logged_at_trace() {
    let server = Server::new();
    let origin = start(server.clone()).await;
    let client = client(&origin, SECRET).await;
    client.get_me().send().await.unwrap();
    server
        .revoked
        .lock()
        .unwrap()
        .push(server.issued()[0].clone());
    client.get_me().send().await.unwrap();
    let bad = self::client(&origin, &format!("{SECRET}-wrong")).await;
    bad.get_me().send().await.unwrap_err();
    assert_eq!(server.tokens(), 3);
    let logs = logs().lock().unwrap().clone();
    assert!(
        logs.contains("requesting an OAuth 2.0 token"),
        "the capture works: {logs}"
    );
    assert!(!logs.contains(SECRET), "the secret is logged:\n{logs}");
    for t in server.issued() {
        assert!(!logs.contains(&t), "a token is logged:\n{logs}");
    }
    no_leaks(&server, &[]);
}

#[tokio::test]
async fn the_token_goes_only_to_the_apis_origin() {
    let server = Server::new();
    let origin = start(server.clone()).await;
    let client = client(&origin, SECRET).await;
    let oauth = client.inner().oauth2().unwrap();
    let http = reqwest::Client::new();
    // another host, another port, another scheme: no token, and none fetched for it
    let port = origin.rsplit(':').next().unwrap();
    for other in [
        "http://localhost:1/v1.0/me".to_string(),
        format!("https://127.0.0.1:{port}/v1.0/me"),
        "http://127.0.0.1:1/v1.0/me".to_string(),
    ] {
        let mut request = http.get(&other).build().unwrap();
        oauth.authorize(&mut request).await.unwrap();
        assert!(request.headers().get("authorization").is_none(), "{other}");
    }
    assert_eq!(server.tokens(), 0);
    // the API's origin gets it, as a sensitive header
    let mut request = http.get(format!("{origin}/v1.0/me")).build().unwrap();
    oauth.authorize(&mut request).await.unwrap();
    let header = request.headers().get("authorization").unwrap();
    assert!(header.is_sensitive());
    assert_eq!(server.tokens(), 1);
    let issued = &server.issued()[0];
    assert!(
        !format!("{request:?}").contains(issued.as_str()),
        "{request:?}"
    );
}

/// RFC 6749, Appendix A: a client id or secret is visible ASCII and spaces. A line break, a tab
/// or non-ASCII text is refused when the client is built, without sending it or showing it.
#[test]
fn a_client_secret_outside_rfc_6749_is_refused_when_the_client_is_built() {
    for secret in ["pässwort", "s3cr3t\r\nX-Injected: 1", "tab\tbed"] {
        let credentials = Client::azure_ad_credentials("app", secret.to_string().into())
            .with_token_url("https://login.example.com/contoso/oauth2/v2.0/token");
        let e = Client::with_azure_ad_credentials(
            "https://api.example.com/v1.0",
            credentials,
            &config(),
        )
        .map(|_| ())
        .unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(
            text.contains("invalid credential") && text.contains("client secret"),
            "{text}"
        );
        assert!(!text.contains(secret), "{text}");
    }
    let credentials = Client::azure_ad_credentials("app\n", "fine secret ~".to_string().into())
        .with_token_url("https://login.example.com/contoso/oauth2/v2.0/token");
    let e =
        Client::with_azure_ad_credentials("https://api.example.com/v1.0", credentials, &config())
            .map(|_| ())
            .unwrap_err();
    assert!(e.to_string().contains("client id"), "{e}");
    let credentials = Client::azure_ad_credentials("app", "fine secret ~".to_string().into())
        .with_token_url("https://login.example.com/contoso/oauth2/v2.0/token");
    assert!(
        Client::with_azure_ad_credentials("https://api.example.com/v1.0", credentials, &config())
            .is_ok()
    );
}

// ---------------------------------------------------------------------------------------------
// the token endpoint's transient failures, and one budget per call

/// A client of `origin` whose retries wait at most 50 ms (unless `Retry-After` says more) and
/// whose calls have `deadline`.
async fn quick_client(origin: &str, deadline: Duration) -> Client {
    capture_logs();
    let credentials = Client::azure_ad_credentials(CLIENT_ID, SecretString::from(SECRET))
        .with_token_url(format!("{origin}/tenant-1/oauth2/v2.0/token"));
    let config = ClientConfig::default().with_retry(RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        deadline,
        ..RetryPolicy::default()
    });
    Client::with_azure_ad_credentials(&format!("{origin}/v1.0"), credentials, &config).unwrap()
}

#[tokio::test]
async fn a_token_endpoints_5xx_and_429_are_retried_and_retry_after_is_honoured() {
    let server = Server::new();
    let origin = start(server.clone()).await;
    let temporarily = serde_json::json!({"error": "temporarily_unavailable"});
    server.failures.lock().unwrap().extend([
        (500, None, serde_json::json!({})),
        (503, None, temporarily.clone()),
        (429, Some("1"), serde_json::json!({})),
    ]);
    let client = quick_client(&origin, Duration::from_secs(10)).await;
    let started = Instant::now();
    client.get_me().send().await.unwrap();
    let took = started.elapsed();
    assert_eq!(
        server.tokens(),
        4,
        "three transient failures, then the token"
    );
    assert_eq!(server.api(), 1);
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After: 1 waited for: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");

    // at most max_attempts (4) in all: the fourth failure is the answer, typed and transient
    let server = Server::new();
    let origin = start(server.clone()).await;
    server
        .failures
        .lock()
        .unwrap()
        .extend((0..5).map(|_| (502, None, serde_json::json!({}))));
    let client = quick_client(&origin, Duration::from_secs(10)).await;
    let e = client.get_me().send().await.unwrap_err();
    assert!(e.to_string().contains("HTTP 502"), "{e}");
    assert_eq!(server.tokens(), 4);
    assert_eq!(server.api(), 0, "nothing sent to the API without a token");
    let typed = client.inner().oauth2().unwrap().last_error().await.unwrap();
    assert!(
        matches!(typed.kind, TokenErrorKind::Status { status: 502 }),
        "{typed:?}"
    );
    assert!(typed.is_transient());
    no_leaks(&server, &[&e.to_string()]);
}

#[tokio::test]
async fn a_refusal_by_the_token_endpoint_is_never_retried() {
    for (status, error) in [
        (400, "invalid_client"),
        (401, "invalid_client"),
        (400, "invalid_scope"),
    ] {
        let server = Server::new();
        let origin = start(server.clone()).await;
        server
            .failures
            .lock()
            .unwrap()
            .extend((0..4).map(|_| (status, None, serde_json::json!({"error": error}))));
        let client = quick_client(&origin, Duration::from_secs(10)).await;
        let e = client.get_me().send().await.unwrap_err();
        assert!(e.to_string().contains(error), "{e}");
        assert_eq!(server.tokens(), 1, "{status} {error}: asked once");
        let typed = client.inner().oauth2().unwrap().last_error().await.unwrap();
        assert!(!typed.is_transient(), "{typed:?}");
        assert_eq!(typed.status(), Some(status));
    }
}

#[tokio::test]
async fn a_dropped_connection_at_the_token_url_is_retried() {
    use agentstatus_fakes::hostile::{Hostile, Reply};
    let answered = Arc::new(AtomicUsize::new(0));
    let token_server = Hostile::start("127.0.0.1", {
        let answered = answered.clone();
        move |_| {
            if answered.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::Close {
                    after: Duration::ZERO,
                }
            } else {
                Reply::json(
                    200,
                    r#"{"access_token":"t0k3n-after-a-drop","token_type":"Bearer","expires_in":3600}"#,
                )
            }
        }
    })
    .await
    .unwrap();
    let server = Server::new();
    let origin = start(server.clone()).await;
    let credentials = Client::azure_ad_credentials(CLIENT_ID, SecretString::from(SECRET))
        .with_token_url(format!("{}/token", token_server.url()));
    let client =
        Client::with_azure_ad_credentials(&format!("{origin}/v1.0"), credentials, &config())
            .unwrap();
    let header = client.inner().oauth2().unwrap().token().await.unwrap();
    assert_eq!(header.to_str().unwrap(), "Bearer t0k3n-after-a-drop");
    assert_eq!(
        token_server.seen().len(),
        2,
        "the dropped request, then the answered one"
    );
    assert!(token_server.connections() >= 2);
}

/// The token fetch and the API call share one deadline: a slow token endpoint leaves the API
/// call only what is left, so a call never takes (nearly) twice the deadline.
#[tokio::test]
async fn the_token_fetch_and_the_call_share_one_deadline() {
    let server = Server::new();
    server.delay_ms.store(600, Ordering::SeqCst);
    server.api_delay_ms.store(1500, Ordering::SeqCst);
    let origin = start(server.clone()).await;
    let deadline = Duration::from_millis(1000);
    let client = quick_client(&origin, deadline).await;
    let started = Instant::now();
    let e = client.get_me().send().await.unwrap_err();
    let took = started.elapsed();
    // 600 ms for the token, then at most the 400 ms left for the API (which needs 1500); with
    // a budget each, the API would have had its own 1000 ms (1600 ms in all)
    assert!(
        took < deadline + Duration::from_millis(400),
        "one call took {took:?} with a deadline of {deadline:?}"
    );
    assert!(
        matches!(&e, progenitor_client::Error::CommunicationError(r) if r.is_timeout()),
        "the API request was cut to what was left: {e:?}"
    );
    assert_eq!(server.tokens(), 1);
    // with time for both, the same call passes, and the hooks' own header never reaches it
    server.api_delay_ms.store(100, Ordering::SeqCst);
    let client = quick_client(&origin, deadline).await;
    client.get_me().send().await.unwrap();
    no_leaks(&server, &[]);

    // a token endpoint that keeps failing is retried only while the budget lasts
    let server = Server::new();
    server.delay_ms.store(200, Ordering::SeqCst);
    server
        .failures
        .lock()
        .unwrap()
        .extend((0..10).map(|_| (503, Some("0"), serde_json::json!({}))));
    let origin = start(server.clone()).await;
    let client = {
        let credentials = Client::azure_ad_credentials(CLIENT_ID, SecretString::from(SECRET))
            .with_token_url(format!("{origin}/tenant-1/oauth2/v2.0/token"));
        let config = ClientConfig::default().with_retry(RetryPolicy {
            max_attempts: 10,
            deadline: Duration::from_millis(500),
            ..RetryPolicy::default()
        });
        Client::with_azure_ad_credentials(&format!("{origin}/v1.0"), credentials, &config).unwrap()
    };
    let started = Instant::now();
    client.get_me().send().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    assert!(
        server.tokens() <= 3,
        "{} token requests in 500 ms",
        server.tokens()
    );
}
