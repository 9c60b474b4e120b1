//! Cookie parameters on the wire: the pass specs of `cookie-parameters` (required, optional, a
//! path item's, an array and an object, beside a `Cookie` header parameter and the client's
//! default `Cookie`), `cookie-parameters--secret` and `cookie-parameters--hostile` generated into
//! crates by `cargo xtask try`, each given a test that sends through the generated builder to a
//! wiremock server on 127.0.0.1 and asserts the raw bytes of the request's `Cookie` header.

mod support;

const COOKIES: &str = r#"
use try_cookie_parameters::{Client, Inner, types};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

/// The raw values of the request's `Cookie` headers.
fn cookies(r: &wiremock::Request) -> Vec<Vec<u8>> {
    r.headers.get_all("cookie").iter().map(|v| v.as_bytes().to_vec()).collect()
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    Mock::given(method("PUT")).respond_with(ResponseTemplate::new(204)).mount(&server).await;
    server
}

#[tokio::test]
async fn every_cookie_parameter_goes_in_one_cookie_header() {
    let server = server().await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    client
        .get_agent()
        .id("a1")
        .tenant("acme corp")
        .tenant_2("q")
        .teams(vec!["red".to_string(), "a,b".to_string()])
        .prefs(types::Prefs { theme: Some("dark".into()), size: Some(2) })
        .page(3)
        .lang("fr")
        .cookie("sid=1")
        .send()
        .await
        .unwrap();
    // a required cookie left out: nothing is sent
    let e = client.get_agent().id("a2").send().await.unwrap_err();
    assert!(e.to_string().contains("tenant"), "{e}");
    client.get_agent().id("a3").tenant("t").send().await.unwrap();
    // the path item's cookie is `put`'s too
    client.put_agent().id("a4").lang("de").send().await.unwrap();
    client.put_agent().id("a5").send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 4);
    let r = &requests[0];
    assert_eq!(r.url.path(), "/agents/a1");
    // the query parameter of a cookie's name is a query parameter
    assert_eq!(r.url.query(), Some("tenant=q"));
    // the declared `Cookie` header first, then the parameters in the document's order
    assert_eq!(
        cookies(r),
        [b"sid=1; tenant=acme%20corp; teams=red,a%2Cb; prefs=size,2,theme,dark; page=3; lang=fr".to_vec()]
    );
    assert_eq!(cookies(&requests[1]), [b"tenant=t".to_vec()]);
    assert_eq!(requests[2].method.as_str(), "PUT");
    assert_eq!(cookies(&requests[2]), [b"lang=de".to_vec()]);
    assert!(cookies(&requests[3]).is_empty());
}

#[tokio::test]
async fn a_default_cookie_is_sent_without_cookie_parameters_and_replaced_with_them() {
    let server = server().await;
    let mut defaults = reqwest::header::HeaderMap::new();
    defaults.insert(reqwest::header::COOKIE, "client=1".parse().unwrap());
    let http = agentstatus_runtime::generated_http_client(reqwest::Client::builder().default_headers(defaults));
    let client = Client::new_with_client(&server.uri(), http, Inner::new(&agentstatus_runtime::ClientConfig::default()));
    client.put_agent().id("a").send().await.unwrap();
    client.put_agent().id("b").lang("fr").send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(cookies(&requests[0]), [b"client=1".to_vec()]);
    assert_eq!(cookies(&requests[1]), [b"lang=fr".to_vec()]);
}
"#;

const SECRET: &str = r#"
use try_cookie_parameters_secret::{Client, Inner};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn secret_cookies_are_sent_and_never_shown() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    let builder = client
        .get_session()
        .session_id("s3ss10n-value")
        .pin("12 34;x")
        .theme("dark mode");
    let shown = format!("{builder:?} {builder:#?}");
    for secret in ["s3ss10n", "12 34", "34;x"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("dark mode"), "{shown}");
    builder.send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let cookies: Vec<&[u8]> = requests[0].headers.get_all("cookie").iter().map(|v| v.as_bytes()).collect();
    assert_eq!(cookies, [&b"session_id=s3ss10n-value; pin=12%2034%3Bx; theme=dark%20mode"[..]]);
}
"#;

const HOSTILE: &str = r#"
use try_cookie_parameters_hostile::{Client, Inner};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn a_value_never_splits_or_injects_a_cookie_or_a_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    let hostile = "a; evil=1, b\r\nX-Injected: yes \u{e9}\"\\%";
    client.list_items().host_sid_v1(hostile).q("x").q_2("c v").send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    assert_eq!(r.url.query(), Some("q=x"));
    assert!(r.headers.get("x-injected").is_none());
    let cookies: Vec<&[u8]> = r.headers.get_all("cookie").iter().map(|v| v.as_bytes()).collect();
    assert_eq!(
        cookies,
        [&b"__Host-sid.v1=a%3B%20evil=1%2C%20b%0D%0AX-Injected:%20yes%20%C3%A9%22%5C%25; q=c%20v"[..]]
    );
}
"#;

#[test]
fn cookie_parameters_on_the_wire() {
    let failed: Vec<String> = [
        ("cookie-parameters", COOKIES),
        ("cookie-parameters--secret", SECRET),
        ("cookie-parameters--hostile", HOSTILE),
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
