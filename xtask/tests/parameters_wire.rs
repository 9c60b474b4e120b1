//! Parameters on the wire: the pass specs of `duplicate-parameters`, `colliding-parameters`
//! (a path item's parameters, a path template's) and `secret-strings--parameters` generated
//! into crates by `cargo xtask try`, each given a test that sends through the generated builder
//! to a wiremock server on 127.0.0.1 and asserts the raw request; `secret-strings--url` against
//! servers that drop the connection, time out, answer garbage, an undocumented status or a body
//! cut short: the secrets of the URL were sent, and no error or log line shows them.

mod support;

const DUPLICATES: &str = r#"
use try_duplicate_parameters::{Client, Inner};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn a_parameter_declared_twice_is_sent_once_in_its_first_style() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    client
        .list_tickets()
        .x_id("7")
        .x_tenant("t")
        .include(vec!["a".to_string(), "b".to_string()])
        .id("q")
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    assert_eq!(r.url.path(), "/tickets");
    // `include` as its first declaration says: form, not exploded
    assert_eq!(r.url.query(), Some("id=q&include=a%2Cb"));
    let all = |h: &str| r.headers.get_all(h).iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(all("x-id"), ["7"]);
    assert_eq!(all("x-tenant"), ["t"]);
}
"#;

const PATH_LEVEL: &str = r#"
use try_colliding_parameters_path_level::{Client, Inner};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn a_path_items_parameters_are_kept_beside_the_operations() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    client
        .get_agent()
        .agent("a1")
        .id("header-id")
        .id_2("query-id")
        .x_trace("query-trace")
        .x_dash_trace("header-trace")
        .x_tenant("t")
        .page_size(1)
        .page_dash_size(2)
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    assert_eq!(r.url.path(), "/agents/a1");
    let mut pairs: Vec<(String, String)> = r.url.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
    pairs.sort();
    let want = [("id", "query-id"), ("page-size", "2"), ("page_size", "1"), ("x_trace", "query-trace")];
    assert_eq!(pairs, want.map(|(k, v)| (k.to_string(), v.to_string())));
    assert_eq!(r.headers.get("id").unwrap(), "header-id");
    assert_eq!(r.headers.get("x-trace").unwrap(), "header-trace");
    assert_eq!(r.headers.get("x-tenant").unwrap(), "t");
    // `post`'s own `X-Tenant` (an integer) overrides the path item's: one header
    client.post_agent().agent("a2").x_tenant(7).page_dash_size(3).send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[1];
    assert_eq!(r.url.path(), "/agents/a2");
    assert_eq!(r.url.query(), Some("page-size=3"));
    let tenants: Vec<_> = r.headers.get_all("x-tenant").iter().collect();
    assert_eq!(tenants, ["7"]);
}
"#;

const TEMPLATE: &str = r#"
use try_colliding_parameters_path_template::{Client, Inner};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};

#[tokio::test]
async fn both_path_parameters_go_in_their_places() {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    client.get_alias().user_dash_id("u-1").user_id("u_2").user_id_2("q").send().await.unwrap();
    client.delete_alias().user_dash_id("a").user_id("b").send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.path(), "/users/u-1/aliases/u_2");
    assert_eq!(requests[0].url.query(), Some("userId=q"));
    assert_eq!(requests[1].method.as_str(), "DELETE");
    assert_eq!(requests[1].url.path(), "/users/a/aliases/b");
}
"#;

const SECRETS: &str = r#"
use try_secret_strings_parameters::{Client, Inner};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn secret_parameters_are_sent_and_never_shown() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    let builder = client
        .get_item()
        .vault("v4ult s3cret")
        .item("item-1")
        .x_api_key("k3y-one")
        .x_dot_api_dot_key("k3y-two")
        .x_passphrase("pa55phrase-long")
        .x_request_id("request-1")
        .authorization("Bearer t0ken");
    let shown = format!("{builder:?} {builder:#?}");
    for secret in ["v4ult", "s3cret", "k3y", "pa55phrase", "t0ken"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    // what is no secret is shown
    assert!(shown.contains("item-1") && shown.contains("request-1"), "{shown}");
    builder.send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    assert_eq!(r.url.path(), "/vaults/v4ult%20s3cret/items/item-1");
    let header = |h: &str| r.headers.get(h).map(|v| v.to_str().unwrap().to_string());
    assert_eq!(header("x-api-key").as_deref(), Some("k3y-one"));
    assert_eq!(header("x.api.key").as_deref(), Some("k3y-two"));
    assert_eq!(header("x-passphrase").as_deref(), Some("pa55phrase-long"));
    assert_eq!(header("authorization").as_deref(), Some("Bearer t0ken"));
    assert_eq!(header("x-request-id").as_deref(), Some("request-1"));
    // the optional ones left out send nothing
    client.get_item().vault("v").item("i").x_api_key("k").send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[1];
    assert_eq!(r.url.path(), "/vaults/v/items/i");
    for h in ["x.api.key", "x-passphrase", "authorization"] {
        assert!(r.headers.get(h).is_none(), "{h}");
    }
}
"#;

const URL_SECRETS: &str = r#"
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use agentstatus_runtime::{ClientConfig, RetryPolicy};
use try_secret_strings_url::{Client, Inner};

const SECRETS: [&str; 4] = ["v4ult-s3cret", "k3y-one", "t0ken-two", "p1n-three"];

/// Every tracing event of the process, at trace level, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        log
    })
    .clone()
}

/// A server on 127.0.0.1 that reads each request's head, hands it back, and does `answer`
/// with the connection.
fn server(answer: fn(TcpStream)) -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
            answer(stream);
        }
    });
    (base, rx)
}

fn write(mut s: TcpStream, text: &[u8]) {
    let _ = s.write_all(text);
}

/// `get_item` with every secret against `answer`: the request as the server read it, and the
/// error's `Display`, alternate `Display`, `Debug` and pretty `Debug` (which begins with
/// `kind`, progenitor's words for the error's variant).
async fn failed_call(answer: fn(TcpStream), kind: &str) -> (String, String) {
    let log = captured();
    let (base, heads) = server(answer);
    let config = ClientConfig::default()
        .with_retry(RetryPolicy::none())
        .with_timeouts(Duration::from_millis(400), Duration::from_secs(2));
    let client = Client::new(&base, Inner::new(&config));
    let e = client
        .get_item()
        .vault("v4ult-s3cret")
        .item("item-1")
        .api_key("k3y-one")
        .access_token("t0ken-two")
        .pin("p1n-three")
        .page_token("page-2")
        .send()
        .await
        .unwrap_err();
    let head = heads.recv_timeout(Duration::from_secs(5)).unwrap();
    let shown = format!("{e}\n{e:#}\n{e:?}\n{e:#?}");
    assert!(shown.starts_with(kind), "not {kind}: {shown}");
    // the secrets were sent: the request line holds every one of them
    for secret in SECRETS {
        assert!(head.contains(secret), "{secret} not sent: {head}");
    }
    // and no error shows one, nor any log line
    let logged = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{secret} in the error: {shown}");
        assert!(!logged.contains(secret), "{secret} in the log: {logged}");
    }
    (shown, head)
}

/// The URL of a transport error or an unexpected answer still says which call failed.
fn names_the_call(shown: &str) {
    assert!(
        shown.contains("/api/v1/vaults/REDACTED/items/item-1?")
            && shown.contains("api_key=REDACTED")
            && shown.contains("access_token=REDACTED")
            && shown.contains("pin=REDACTED")
            && shown.contains("page_token=page-2"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_dropped_connection_shows_no_secret() {
    let (shown, _) = failed_call(drop, "Communication Error").await;
    names_the_call(&shown);
}

#[tokio::test]
async fn a_timeout_shows_no_secret() {
    let (shown, _) = failed_call(|s| {
        std::thread::sleep(Duration::from_secs(3));
        drop(s)
    }, "Communication Error").await;
    assert!(shown.contains("timed out"), "{shown}");
    names_the_call(&shown);
}

#[tokio::test]
async fn a_garbled_answer_shows_no_secret() {
    let (shown, _) = failed_call(|s| write(s, b"garbage v4ult-s3cret\r\n\r\n"), "Communication Error").await;
    names_the_call(&shown);
}

#[tokio::test]
async fn an_undocumented_status_shows_no_secret() {
    let (shown, _) = failed_call(
        |s| write(s, b"HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        "Unexpected Response",
    )
    .await;
    names_the_call(&shown);
}

#[tokio::test]
async fn a_body_cut_short_shows_no_secret() {
    let (shown, _) = failed_call(
        |s| write(s, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\""),
        "Invalid Response Body Bytes",
    )
    .await;
    names_the_call(&shown);
}

#[tokio::test]
async fn a_body_that_does_not_decode_shows_no_secret() {
    failed_call(
        |s| write(s, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{not json"),
        "Invalid Response Payload",
    )
    .await;
}
"#;

#[test]
fn parameters_on_the_wire() {
    let failed: Vec<String> = [
        ("duplicate-parameters", DUPLICATES),
        ("colliding-parameters--path-level", PATH_LEVEL),
        ("colliding-parameters--path-template", TEMPLATE),
        ("secret-strings--parameters", SECRETS),
        ("secret-strings--url", URL_SECRETS),
    ]
    .into_iter()
    .filter_map(|(name, test)| {
        support::wire_test(
            std::path::Path::new(env!("CARGO_BIN_EXE_xtask")),
            name,
            test,
        )
        .err()
    })
    .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
