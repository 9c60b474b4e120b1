//! Path and header parameter styles, operations without `responses` and Swagger 2.0's
//! `collectionFormat` on the wire: the pass specs of `path-parameter-styles` (label, matrix,
//! simple arrays and objects, a component parameter, a value that would change the path),
//! `header-parameter-styles` (arrays, objects exploded and not, compositions) and
//! `operations-without-responses` (3.1, and 3.0 read leniently), and `tests/documents/swagger2-collection-formats.yaml`,
//! generated into crates by `cargo xtask try`, each given a test that sends through the generated
//! builder to a wiremock server on 127.0.0.1 and asserts the raw request.

mod support;

const PATH_STYLES: &str = r#"
use try_path_parameter_styles::{Client, Error, Inner, types};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

async fn server() -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    (server, client)
}

async fn last_path(server: &MockServer) -> String {
    let requests = server.received_requests().await.unwrap();
    let r = requests.last().unwrap();
    assert_eq!(r.url.query(), None);
    r.url.path().to_string()
}

#[tokio::test]
async fn label_matrix_and_simple_as_the_specification_writes_them() {
    let (server, client) = server().await;
    // label: a scalar `.v`; the shared `Color` parameter is exploded: `.a.b`
    client.labels().id("5").color(vec!["blue".to_string(), "black".to_string()]).send().await.unwrap();
    assert_eq!(last_path(&server).await, "/label/.5/.blue.black");
    // matrix: `;id=5`, exploded array `;ids=3;ids=4`, unexploded object `;rgb=G,200,R,100`
    client
        .matrices()
        .id(5)
        .ids(vec![3, 4])
        .rgb(types::Rgb { r: Some(100), g: Some(200) })
        .send()
        .await
        .unwrap();
    assert_eq!(last_path(&server).await, "/matrix/;id=5;ids=3;ids=4;rgb=G,200,R,100");
    // simple: an object `k,v,k2,v2`, exploded `k=v,k2=v2`, keys in name order
    client
        .simples()
        .plain("p")
        .object(types::SimplesObject { role: Some("admin".into()), first: Some("Alex".into()) })
        .exploded(types::Rgb { r: Some(1), g: None })
        .send()
        .await
        .unwrap();
    assert_eq!(last_path(&server).await, "/simple/p/first,Alex,role,admin/R=1");
    // a secret after a styled parameter: its own segment, from the secret
    client
        .secrets()
        .ids(vec![1, 2])
        .token(agentstatus_runtime::SecretText::from("s/3"))
        .send()
        .await
        .unwrap();
    assert_eq!(last_path(&server).await, "/secret/.1,2/s%2F3");
}

#[tokio::test]
async fn a_value_never_changes_the_path() {
    let (server, client) = server().await;
    client
        .labels()
        .id("../a/b?c#d;e=f")
        .color(vec!["x,y".to_string(), "z.w".to_string()])
        .send()
        .await
        .unwrap();
    assert_eq!(
        last_path(&server).await,
        "/label/...%2Fa%2Fb%3Fc%23d%3Be%3Df/.x%2Cy.z.w"
    );
    client
        .simples()
        .plain("q")
        .object(types::SimplesObject { role: Some("a/b,c".into()), first: None })
        .exploded(types::Rgb { r: Some(1), g: Some(2) })
        .send()
        .await
        .unwrap();
    assert_eq!(last_path(&server).await, "/simple/q/role,a%2Fb%2Cc/G=2,R=1");
    // what has no path form is refused before anything is sent
    let before = server.received_requests().await.unwrap().len();
    for e in [
        client.labels().id("").color(vec!["a".to_string()]).send().await.unwrap_err(),
        client.labels().id("x").color(Vec::<String>::new()).send().await.unwrap_err(),
    ] {
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
        assert!(e.to_string().contains("path parameter"), "{e}");
    }
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}
"#;

const SIMPLE_ARRAY: &str = r#"
use try_path_parameter_styles_simple_array::{Client, Inner};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn several_ids_in_one_segment() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE")).respond_with(ResponseTemplate::new(204)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    client.delete_message().message_id(vec![1, 2, 3]).send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.path(), "/message-store/1,2,3");
}
"#;

const HEADERS: &str = r#"
use try_header_parameter_styles::{Client, Inner, types};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn header_arrays_and_objects_in_their_simple_form() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(204)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    client
        .create_response()
        .openai_beta(vec![types::CreateResponseOpenaiBetaItem::ResponsesMultiAgentV1; 2])
        .x_trace(types::Trace { id: Some("t,1".into()), sampled: Some(true) })
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    let all = |h: &str| r.headers.get_all(h).iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(all("openai-beta"), ["responses_multi_agent=v1,responses_multi_agent=v1"]);
    // `explode: true`: `name=value` pairs
    assert_eq!(all("x-trace"), ["id=t,1,sampled=true"]);
    // a value that is no header value is refused before anything is sent
    let e = client
        .create_response()
        .x_trace(types::Trace { id: Some("a\r\nX-Injected: 1".into()), sampled: None })
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, try_header_parameter_styles::Error::InvalidRequest(_)), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
"#;

const HEADER_STRUCTURES: &str = r#"
use try_header_parameter_styles_structures::{Client, Inner, types};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn compositions_in_a_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    client
        .list_agents()
        .x_all(types::ListAgentsXAll { a: Some("x".into()), b: Some(2) })
        .x_any(types::ListAgentsXAny { subtype_0: Some(types::Obj { a: Some("y".into()) }), subtype_1: None })
        .x_one(types::ListAgentsXOne::Obj(types::Obj { a: Some("z".into()) }))
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    assert_eq!(r.headers.get("x-all").unwrap(), "a,x,b,2");
    assert_eq!(r.headers.get("x-any").unwrap(), "a,y");
    // `explode: true`
    assert_eq!(r.headers.get("x-one").unwrap(), "a=z");
    client.list_agents().x_one(types::ListAgentsXOne::String("plain".into())).send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[1].headers.get("x-one").unwrap(), "plain");
}
"#;

const NO_RESPONSES: &str = r#"
use try_operations_without_responses::{Client, Inner};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn a_success_is_its_bytes_and_anything_else_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200).set_body_string("{\"id\":\"a1\"}")).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    let answer = client.get_agent().id("a1").send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let mut stream = answer.into_inner().into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(bytes, b"{\"id\":\"a1\"}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.path(), "/agents/a1");
    server.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).mount(&server).await;
    let Err(e) = client.get_agent().id("a1").send().await else {
        panic!("a 500 is no success");
    };
    assert_eq!(e.status().map(|s| s.as_u16()), Some(500), "{e}");
}
"#;

const NO_RESPONSES_3_0: &str = r#"
use try_operations_without_responses_openapi_3_0::{Client, Inner, types};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn a_3_0_operation_without_responses_is_generated_too() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(201)).mount(&server).await;
    Mock::given(method("PUT")).respond_with(ResponseTemplate::new(204)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    let body = types::CreateAgentBody { name: Some("Ada".into()) };
    assert_eq!(client.create_agent().body(body).send().await.unwrap().status(), 201);
    assert_eq!(client.replace_agents().send().await.unwrap().status(), 204);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].body, b"{\"name\":\"Ada\"}");
}
"#;

const SWAGGER2: &str = r#"
use try_swagger2_collection_formats::{Client, Inner, types};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn every_collection_format_as_swagger_2_writes_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    client
        .list_items()
        .ids(vec![1, 2])
        .tags(strings(&["a", "b"]))
        .plain(vec![1, 2])
        .csv(vec![3, 4])
        .ssv(strings(&["a", "b"]))
        .pipes(strings(&["c", "d"]))
        .multi(strings(&["e", "f"]))
        .tsv("g\th")
        .x_ids(vec![1, 2])
        .x_pipes("x|y")
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    // a path array in `csv` (declared or, 2.0's default, not): `1,2`
    assert_eq!(r.url.path(), "/items/1,2/a,b");
    // a query array without `collectionFormat` is `csv` (not exploded), `multi` repeats the name
    assert_eq!(
        r.url.query(),
        Some("csv=3%2C4&multi=e&multi=f&pipes=c%7Cd&plain=1%2C2&ssv=a+b&tsv=g%09h")
    );
    assert_eq!(r.headers.get("x-ids").unwrap(), "1,2");
    assert_eq!(r.headers.get("x-pipes").unwrap(), "x|y");
    // form fields: each by its `collectionFormat`, as the form body's `encoding`
    let body = types::CreateItemsBody {
        plain: vec![1, 2],
        ssv: strings(&["a", "b"]),
        pipes: strings(&["c", "d"]),
        multi: strings(&["e", "f"]),
        note: Some("n".into()),
    };
    client.create_items().body(body).send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[1];
    assert_eq!(r.headers.get("content-type").unwrap(), "application/x-www-form-urlencoded");
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        "multi=e&multi=f&note=n&pipes=c%7Cd&plain=1%2C2&ssv=a+b"
    );
}
"#;

#[test]
fn path_styles_missing_responses_and_collection_formats_on_the_wire() {
    let xtask = std::path::Path::new(env!("CARGO_BIN_EXE_xtask"));
    let mut failed: Vec<String> = [
        ("path-parameter-styles", PATH_STYLES),
        ("path-parameter-styles--simple-array", SIMPLE_ARRAY),
        ("header-parameter-styles", HEADERS),
        ("header-parameter-styles--structures", HEADER_STRUCTURES),
        ("operations-without-responses", NO_RESPONSES),
        (
            "operations-without-responses--openapi-3-0",
            NO_RESPONSES_3_0,
        ),
    ]
    .into_iter()
    .filter_map(|(name, test)| support::wire_test(xtask, name, test).err())
    .collect();
    let swagger2 = support::root().join("xtask/tests/documents/swagger2-collection-formats.yaml");
    if let Err(e) = support::wire_test_document(xtask, &swagger2, SWAGGER2) {
        failed.push(e);
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
