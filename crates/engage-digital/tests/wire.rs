//! Wire tests: each kept operation against a local HTTP server that checks method, path, query,
//! headers and body, answering with bodies shaped like the real server's (specs/engage-digital/NOTES.md).

use std::collections::HashMap;

use agentstatus_engage_digital::{Client, Error, OpenEnum, base_url, types};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "s3cr3t-engage-token";

fn client(server: &MockServer) -> Client {
    Client::with_token(&server.uri(), TOKEN.into()).unwrap()
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

fn status(agent: &str, custom: Value) -> Value {
    json!({
        "agent_id": agent,
        "channels": [
            {"id": "c1", "name": "Email", "status": "available", "busyness": "ok"},
            {"id": "c2", "name": "Chat", "status": "away", "busyness": "unoccupied"}
        ],
        "custom_status": custom
    })
}

/// The decoded query pairs of the only request the server received.
async fn query_pairs(server: &MockServer) -> Vec<(String, String)> {
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    requests[0]
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn base_url_follows_the_documented_template() {
    assert_eq!(
        base_url("acme", None),
        "https://acme.api.engagement.dimelo.com/1.0"
    );
    assert_eq!(
        base_url("acme", Some("digital.ringcentral.com")),
        "https://acme.api.digital.ringcentral.com/1.0"
    );
}

#[tokio::test]
async fn get_all_agent_status_sends_bearer_and_array_filters() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/1.0/status"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            status("a1", Value::Null),
            status("a2", json!({"id": "5582b1f4776562af9b000008"}))
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let c = Client::with_token(&format!("{}/1.0", server.uri()), TOKEN.into()).unwrap();
    let all = c
        .get_all_agent_status()
        .source_ids(vec!["s1".to_string(), "s2".to_string()])
        .team_ids(vec!["t1".to_string()])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.len(), 2);
    assert!(all[0].custom_status.is_none(), "null custom_status decodes");
    assert_eq!(
        all[1].custom_status.as_ref().and_then(|c| c.id.as_deref()),
        Some("5582b1f4776562af9b000008")
    );
    assert_eq!(
        all[0].channels[0].busyness,
        Some(OpenEnum::Known(types::AgentStatusChannelBusyness::Ok))
    );
    assert_eq!(
        query_pairs(&server).await,
        pairs(&[
            ("source_ids[]", "s1"),
            ("source_ids[]", "s2"),
            ("team_ids[]", "t1")
        ])
    );
}

#[tokio::test]
async fn get_agent_status_404_is_typed() {
    for code in ["not_found", "disconnected"] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/status/a1"))
            .and(header("authorization", bearer().as_str()))
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({
                "error": code, "message": "Agent unavailable", "status": 404
            })))
            .mount(&server)
            .await;
        let err = client(&server)
            .get_agent_status()
            .agent_id("a1")
            .send()
            .await
            .unwrap_err();
        let Error::ErrorResponse(e) = err else {
            panic!("expected typed 404, got {err:?}")
        };
        assert_eq!(e.error.to_string(), code);
        assert_eq!(e.status, Some(404));
    }
}

#[tokio::test]
async fn response_enum_values_added_later_decode_as_unknown() {
    let server = MockServer::start().await;
    let mut body = status("a1", Value::Null);
    body["channels"][0]["busyness"] = json!("overloaded");
    Mock::given(method("GET"))
        .and(path("/status/a1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/status/a2"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": "suspended", "message": "Agent suspended", "status": 404
        })))
        .mount(&server)
        .await;
    let c = client(&server);
    let s = c.get_agent_status().agent_id("a1").send().await.unwrap();
    assert_eq!(
        s.channels[0].busyness,
        Some(OpenEnum::Unknown("overloaded".into()))
    );
    assert_eq!(
        s.channels[1].busyness,
        Some(OpenEnum::Known(
            types::AgentStatusChannelBusyness::Unoccupied
        ))
    );
    let Error::ErrorResponse(e) = c
        .get_agent_status()
        .agent_id("a2")
        .send()
        .await
        .unwrap_err()
    else {
        panic!("expected the typed 404")
    };
    assert_eq!(e.error, OpenEnum::Unknown("suspended".into()));
}

#[test]
fn request_enums_stay_strict() {
    assert!(serde_json::from_value::<types::ChannelAvailability>(json!("busy")).is_err());
}

#[tokio::test]
async fn get_agent_status_decodes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/status/a%2F1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(status("a/1", Value::Null)))
        .expect(1)
        .mount(&server)
        .await;
    let s = client(&server)
        .get_agent_status()
        .agent_id("a/1")
        .send()
        .await
        .unwrap();
    assert_eq!(s.agent_id.as_deref(), Some("a/1"));
}

/// The channel map as `{id: availability}`.
fn channels(
    list: &[(&str, types::ChannelAvailability)],
) -> HashMap<String, types::ChannelAvailability> {
    list.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[tokio::test]
async fn change_agent_status_sends_the_channel_map_as_status_brackets() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/status/a1"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(status("a1", Value::Null)))
        .expect(1)
        .mount(&server)
        .await;
    let answer = client(&server)
        .change_agent_status()
        .agent_id("a1")
        .status(channels(&[
            ("c2", types::ChannelAvailability::Away),
            ("c1", types::ChannelAvailability::Available),
        ]))
        .custom_status_id("cs9")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.agent_id.as_deref(), Some("a1"));
    assert_eq!(
        query_pairs(&server).await,
        pairs(&[
            ("custom_status_id", "cs9"),
            ("status[c1]", "available"),
            ("status[c2]", "away"),
        ])
    );
    let requests = server.received_requests().await.unwrap();
    // the raw query: the deepObject's brackets percent-encoded, the channels in order
    assert_eq!(
        requests[0].url.query(),
        Some("custom_status_id=cs9&status%5Bc1%5D=available&status%5Bc2%5D=away")
    );
    assert!(requests[0].body.is_empty(), "no body");
    assert!(requests[0].headers.get("api-version").is_none());
}

#[tokio::test]
async fn change_agent_status_needs_an_agent_and_sends_only_what_is_given() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/status/a%2F1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(status("a/1", Value::Null)))
        .mount(&server)
        .await;
    let c = client(&server);
    let e = c
        .change_agent_status()
        .status(channels(&[("c1", types::ChannelAvailability::Away)]))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidRequest(ref m) if m.contains("agent_id")),
        "{e:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
    // only a custom status: no `status` pair at all; a channel id is escaped inside the brackets
    c.change_agent_status()
        .agent_id("a/1")
        .custom_status_id("cs9")
        .send()
        .await
        .unwrap();
    c.change_agent_status()
        .agent_id("a/1")
        .status(channels(&[("c]&x=1", types::ChannelAvailability::Away)]))
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.query(), Some("custom_status_id=cs9"));
    assert_eq!(
        requests[1].url.query(),
        Some("status%5Bc%5D%26x%3D1%5D=away")
    );
}

#[tokio::test]
async fn rate_limit_is_a_typed_error() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/status/a1"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "error": "rate_limit_exceeded", "message": "Rate limit exceeded", "status": 429
        })))
        .mount(&server)
        .await;
    let err = client(&server)
        .change_agent_status()
        .agent_id("a1")
        .status(channels(&[("c1", types::ChannelAvailability::Available)]))
        .send()
        .await
        .unwrap_err();
    let Error::ErrorResponse(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.error, "rate_limit_exceeded");
}

#[tokio::test]
async fn get_all_presence_status_lists_custom_statuses() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/presence_status"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "count": 1,
            "records": [{"id": "cs9", "name": "Lunch", "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let list = client(&server)
        .get_all_presence_status()
        .limit(150)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.records[0].name, "Lunch");
    assert_eq!(query_pairs(&server).await, pairs(&[("limit", "150")]));
}

#[test]
fn secrets_never_show_in_debug() {
    let client =
        Client::with_token("https://acme.api.engagement.dimelo.com/1.0", TOKEN.into()).unwrap();
    let debug = format!("{client:?}");
    assert!(debug.contains("\"authorization\": Sensitive"), "{debug}");
    assert!(!debug.contains(TOKEN), "{debug}");
}

#[tokio::test]
async fn the_generated_constructor_sends_the_bearer_token_marked_sensitive() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/presence_status"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 0, "records": []})))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_bearer_auth(
        &server.uri(),
        TOKEN.into(),
        &agentstatus_engage_digital::ClientConfig::default(),
    )
    .unwrap();
    let debug = format!("{client:?}");
    assert!(debug.contains("\"authorization\": Sensitive"), "{debug}");
    assert!(!debug.contains(TOKEN), "{debug}");
    client.get_all_presence_status().send().await.unwrap();
}
