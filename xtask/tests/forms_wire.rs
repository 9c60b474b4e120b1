//! The query styles and bodies progenitor cannot send, on the wire: the pass specs of
//! `query-parameter-styles`, `form-bodies`, `json-media-types--bytes` and
//! `colliding-parameters--punctuation` generated into crates by `cargo xtask try`, each
//! crate given a test (`tests/wire.rs`, below) that sends through the generated builder to a
//! wiremock server on 127.0.0.1 and asserts the raw request: method, path, query, headers, body.

use std::path::Path;

mod support;

const QUERY_STYLES: &str = r#"
use std::collections::HashMap;
use try_query_parameter_styles::{Client, Inner, types};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn every_style_is_written_as_the_document_says() {
    let server = MockServer::start().await;
    Mock::given(method("PUT")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    let mut status = HashMap::new();
    status.insert("c2".to_string(), types::Availability::Away);
    status.insert("c1".to_string(), types::Availability::Available);
    client
        .set_status()
        .id("a 1")
        .status(status)
        .ids(vec![1, 2])
        .tags(vec!["x".to_string(), "y".to_string()])
        .expand(vec!["a".to_string(), "b".to_string()])
        .filter(types::SetStatusFilter { team: Some("t&1".into()) })
        .plain("p")
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    assert_eq!(r.method.as_str(), "PUT");
    assert_eq!(r.url.path(), "/agents/a%201");
    // pipeDelimited, JSON text, form unexploded, form, deepObject, spaceDelimited
    assert_eq!(
        r.url.query(),
        Some("expand=a%7Cb&filter=%7B%22team%22%3A%22t%261%22%7D&ids=1%2C2&plain=p&status%5Bc1%5D=available&status%5Bc2%5D=away&tags=x+y")
    );
    assert!(r.body.is_empty());
    // unset optional parameters send nothing
    client.set_status().id("b").filter(types::SetStatusFilter { team: None }).send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[1].url.query(), Some("filter=%7B%7D"));
}
"#;

const FORM_BODY: &str = r#"
use try_form_bodies::{Client, Inner, types};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn a_form_body_follows_its_encoding() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"amount": 5})))
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    let body: types::Charge = serde_json::from_value(serde_json::json!({
        "amount": 5,
        "metadata": {"order": "7", "a b": "x&y"},
        "expand": ["c", "d"],
    }))
    .unwrap();
    let answer = client.create_charge().body(body).send().await.unwrap();
    assert_eq!(answer.amount, 5);
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    assert_eq!(r.method.as_str(), "POST");
    assert_eq!(r.url.path(), "/charges");
    assert_eq!(r.url.query(), None);
    assert_eq!(
        r.headers.get("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(r.headers.get("accept").unwrap(), "application/json");
    // `expand` form unexploded, `metadata` a deepObject (keys in order)
    assert_eq!(
        std::str::from_utf8(&r.body).unwrap(),
        "amount=5&expand=c%2Cd&metadata%5Ba+b%5D=x%26y&metadata%5Border%5D=7"
    );
}
"#;

const MULTIPART: &str = r#"
use agentstatus_runtime::forms::File;
use try_form_bodies_multipart::{Client, Inner, types};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

/// The parts of a multipart body: (headers, content) each, in order.
fn parts(content_type: &str, body: &[u8]) -> Vec<(String, String)> {
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    let body = String::from_utf8_lossy(body).to_string();
    let delimiter = format!("--{boundary}");
    assert!(body.ends_with(&format!("{delimiter}--\r\n")), "{body}");
    body.split(&delimiter)
        .filter(|p| !p.is_empty() && !p.starts_with("--"))
        .map(|p| {
            let p = p.strip_prefix("\r\n").unwrap().strip_suffix("\r\n").unwrap();
            let (head, content) = p.split_once("\r\n\r\n").unwrap();
            (head.to_string(), content.to_string())
        })
        .collect()
}

#[tokio::test]
async fn a_multipart_body_sends_files_and_fields() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "m1"})))
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    let mut body: types::UploadMediaBody = serde_json::from_value(serde_json::json!({
        "file": "",
        "messaging_product": "whatsapp",
        "meta": {"caption": "hi \"there\""},
    }))
    .unwrap();
    body.file = File::from_bytes(&b"\x89PNG"[..]).with_file_name("logo.png");
    let stream = futures_util::stream::iter([
        Ok::<_, std::io::Error>(bytes::Bytes::from("str")),
        Ok(bytes::Bytes::from("eamed")),
    ]);
    body.attachments = vec![
        File::from_stream(stream).with_file_name("a.txt").with_content_type("text/plain"),
        File::from_bytes(b"raw".to_vec()),
    ];
    let answer = client.upload_media().body(body).send().await.unwrap();
    assert_eq!(answer.id.as_deref(), Some("m1"));
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    assert_eq!(r.method.as_str(), "POST");
    assert_eq!(r.url.path(), "/media");
    let content_type = r.headers.get("content-type").unwrap().to_str().unwrap();
    let parts = parts(content_type, &r.body);
    let expected = [
        ("Content-Disposition: form-data; name=\"attachments\"; filename=\"a.txt\"\r\nContent-Type: text/plain", "streamed"),
        ("Content-Disposition: form-data; name=\"attachments\"; filename=\"attachments\"\r\nContent-Type: application/octet-stream", "raw"),
        // the document's encoding gives the file its content type
        ("Content-Disposition: form-data; name=\"file\"; filename=\"logo.png\"\r\nContent-Type: image/png", "\u{fffd}PNG"),
        ("Content-Disposition: form-data; name=\"messaging_product\"", "whatsapp"),
        ("Content-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json", "{\"caption\":\"hi \\\"there\\\"\"}"),
    ];
    let got: Vec<(&str, &str)> = parts.iter().map(|(h, c)| (h.as_str(), c.as_str())).collect();
    assert_eq!(got, expected);
}
"#;

const BYTES: &str = r#"
use try_json_media_types_bytes::{Client, Inner};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn a_body_of_bytes_is_sent_as_it_is_with_its_declared_type() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    let tar: Vec<u8> = vec![0x75, 0x73, 0x74, 0x61, 0x72, 0x00, 0xff];
    client.image_load().quiet(true).body(tar.clone()).send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    assert_eq!(r.url.path(), "/images/load");
    assert_eq!(r.url.query(), Some("quiet=true"));
    assert_eq!(r.headers.get("content-type").unwrap(), "application/x-tar");
    assert_eq!(r.body, tar);
}
"#;

const COLLIDING: &str = r#"
use try_colliding_parameters_punctuation::{Client, Inner};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

#[tokio::test]
async fn parameters_that_share_a_rust_name_are_sent_under_their_real_names() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let client = Client::new(&server.uri(), Inner::new(&agentstatus_runtime::ClientConfig::default()));
    // Twilio's date range: `StartTime<=2020-01-01&StartTime>=2019-12-01` is the parameters
    // `StartTime<` and `StartTime>`
    client
        .list_calls()
        .start_time_lt_2("2020-01-01")
        .start_time("2019-12-15")
        .start_time_gt("2019-12-01")
        .start_dot_time("d")
        .start_dash_time("e")
        .start_time_lt("f")
        .x_page("1")
        .x_dot_page("2")
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let r = &requests[0];
    assert_eq!(r.url.path(), "/calls");
    // in the order of their Rust names (progenitor's), each under its real name
    assert_eq!(
        r.url.query(),
        Some("StartTime=2019-12-15&StartTime%3E=2019-12-01&StartTime%3C=2020-01-01&start-time=e&start.time=d&start_time_lt=f")
    );
    let pairs: Vec<(String, String)> = r.url.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("StartTime<"), Some("2020-01-01"));
    assert_eq!(get("StartTime>"), Some("2019-12-01"));
    assert_eq!(r.headers.get("x-page").unwrap(), "1");
    assert_eq!(r.headers.get("x.page").unwrap(), "2");
    // the ones that share `start_time_lte`'s and `start_time_gte`'s names, and unset ones, alone
    client.list_calls().start_time_lte("a").start_time_gte("b").send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[1].url.query(), Some("StartTime%3E%3D=b&StartTime%3C%3D=a"));
}
"#;

#[test]
fn query_styles_and_form_bodies_on_the_wire() {
    let failed: Vec<String> = [
        ("query-parameter-styles", QUERY_STYLES),
        ("form-bodies", FORM_BODY),
        ("form-bodies--multipart", MULTIPART),
        ("json-media-types--bytes", BYTES),
        ("colliding-parameters--punctuation", COLLIDING),
    ]
    .into_iter()
    .filter_map(|(name, test)| {
        support::wire_test(Path::new(env!("CARGO_BIN_EXE_xtask")), name, test).err()
    })
    .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
