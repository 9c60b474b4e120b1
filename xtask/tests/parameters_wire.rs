//! Parameters on the wire: the pass specs of `duplicate-parameters`, `colliding-parameters`
//! (a path item's parameters, a path template's) and `secret-strings--parameters` generated
//! into crates by `cargo xtask try`, each given a test that sends through the generated builder
//! to a wiremock server on 127.0.0.1 and asserts the raw request.

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

#[test]
fn parameters_on_the_wire() {
    let failed: Vec<String> = [
        ("duplicate-parameters", DUPLICATES),
        ("colliding-parameters--path-level", PATH_LEVEL),
        ("colliding-parameters--path-template", TEMPLATE),
        ("secret-strings--parameters", SECRETS),
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
